package rpc

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/tessera-da/tessera/internal/jsonscan"
)

// SubscriptionBuffer is how many values a Subscribe channel holds before
// the client gives up on its reader: it then cancels the subscription and
// closes the channel (values).
const SubscriptionBuffer = 1024

// dialTimeout bounds the WebSocket handshake of DialWS.
const dialTimeout = 10 * time.Second

// Client calls a JSON-RPC server speaking this package's (and
// celestia-node's) protocol. A Client made by Dial uses one HTTP POST per
// call; one made by DialWS shares one WebSocket connection and also
// supports Subscribe. A Client is safe for concurrent use. The client
// trusts the server: responses are not size-limited.
type Client struct {
	url   string
	token string
	ids   atomic.Int64

	hc *http.Client // HTTP mode
	ws *wsClient    // WebSocket mode
}

// Dial returns a client that calls the server at an http:// or https://
// URL with one POST per call, sending token (if not empty) as a bearer
// token. It does not contact the server; ctx is unused and kept for
// symmetry with DialWS.
func Dial(ctx context.Context, rawURL, token string) (*Client, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("rpc: dial: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("rpc: dial %s: scheme must be http or https (use DialWS for ws)", rawURL)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	return &Client{url: rawURL, token: token, hc: &http.Client{Transport: tr}}, nil
}

// DialWS opens a WebSocket connection to a ws://, wss://, http:// or
// https:// URL (http becomes ws), sending token (if not empty) as a bearer
// token in the handshake. ctx bounds the handshake only. A handshake the
// server refuses returns its *Error (e.g. CodeUnauthorized). The client
// does not reconnect: after the connection ends every call fails with
// ErrClosed.
func DialWS(ctx context.Context, rawURL, token string) (*Client, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("rpc: dial: %w", err)
	}
	switch u.Scheme {
	case "ws", "wss":
	case "http":
		u.Scheme = "ws"
	case "https":
		u.Scheme = "wss"
	default:
		return nil, fmt.Errorf("rpc: dial %s: scheme must be ws, wss, http or https", rawURL)
	}
	hdr := http.Header{}
	if token != "" {
		hdr.Set("Authorization", "Bearer "+token)
	}
	d := websocket.Dialer{HandshakeTimeout: dialTimeout, Proxy: http.ProxyFromEnvironment}
	conn, resp, err := d.DialContext(ctx, u.String(), hdr)
	if err != nil {
		if resp != nil {
			defer resp.Body.Close()
			if e := decodeErrorBody(resp.Body); e != nil {
				return nil, e
			}
			return nil, fmt.Errorf("rpc: dial %s: HTTP %s: %w", u, resp.Status, err)
		}
		return nil, fmt.Errorf("rpc: dial %s: %w", u, err)
	}
	wc := &wsClient{
		conn:    conn,
		pending: make(map[string]*pendingCall),
		subs:    make(map[uint64]*clientSub),
		done:    make(chan struct{}),
	}
	go wc.readLoop()
	return &Client{url: u.String(), token: token, ws: wc}, nil
}

// Close releases the client's connections. Calls in progress on a
// WebSocket client fail with ErrClosed and its subscription channels close.
func (c *Client) Close() error {
	if c.ws != nil {
		return c.ws.close()
	}
	c.hc.CloseIdleConnections()
	return nil
}

// Call invokes method with positional params and decodes the result into
// result (a pointer; nil to discard it). A JSON-RPC error response is
// returned as *Error; transport failures are returned as other errors. On
// a WebSocket client, a ctx that ends first sends xrpc.cancel for the call.
// Use Subscribe, not Call, for subscription methods.
func (c *Client) Call(ctx context.Context, method string, result any, params ...any) error {
	id := c.ids.Add(1)
	body, err := encodeRequest(id, method, params)
	if err != nil {
		return err
	}
	var res json.RawMessage
	if c.ws != nil {
		res, _, err = c.ws.call(ctx, id, body, false)
	} else {
		res, err = c.httpCall(ctx, id, body)
	}
	if err != nil {
		return err
	}
	if result == nil || len(res) == 0 {
		return nil
	}
	if err := decodeResult(res, result); err != nil {
		return fmt.Errorf("rpc: decoding result of %s: %w", method, err)
	}
	return nil
}

// Subscribe invokes a subscription method over WebSocket and returns the
// channel of its raw JSON values. The channel closes when the server
// closes the subscription, when the connection ends, or when ctx ends (the
// client then sends xrpc.cancel). A reader that falls SubscriptionBuffer
// values behind loses the subscription the same way. A Client made by Dial
// returns ErrNeedWebSocket.
func (c *Client) Subscribe(ctx context.Context, method string, params ...any) (<-chan json.RawMessage, error) {
	if c.ws == nil {
		return nil, ErrNeedWebSocket
	}
	id := c.ids.Add(1)
	body, err := encodeRequest(id, method, params)
	if err != nil {
		return nil, err
	}
	res, sub, err := c.ws.call(ctx, id, body, true)
	if err != nil {
		return nil, err
	}
	if sub == nil {
		return nil, fmt.Errorf("rpc: %s: result %.40s is not a channel id", method, res)
	}
	go func() {
		select {
		case <-ctx.Done():
			c.ws.sendCancel(id)
			c.ws.dropSub(sub.chID)
		case <-sub.closed:
		}
	}()
	return sub.ch, nil
}

func encodeRequest(id int64, method string, params []any) ([]byte, error) {
	if params == nil {
		params = []any{}
	}
	ps, err := encodeParams(params)
	if err != nil {
		return nil, fmt.Errorf("rpc: encoding params of %s: %w", method, err)
	}
	m, _ := json.Marshal(method)
	b := make([]byte, 0, len(ps)+len(m)+64)
	b = append(b, `{"jsonrpc":"2.0","id":`...)
	b = strconv.AppendInt(b, id, 10)
	b = append(b, `,"method":`...)
	b = append(b, m...)
	b = append(b, `,"params":`...)
	b = append(b, ps...)
	return append(b, '}'), nil
}

// encodeParams encodes params as json.Marshal(params) does, letting
// jsonAppender params (and slices of them) write themselves.
func encodeParams(params []any) ([]byte, error) {
	b := []byte{'['}
	for i, p := range params {
		if i > 0 {
			b = append(b, ',')
		}
		var err error
		if b, err = appendJSON(b, p); err != nil {
			return nil, err
		}
	}
	return append(b, ']'), nil
}

// response is a decoded response object.
type response struct {
	ID     json.RawMessage `json:"id"`
	Result json.RawMessage `json:"result"`
	Error  *Error          `json:"error"`
	Method string          `json:"method"` // set on notifications
	Params json.RawMessage `json:"params"`
}

func (c *Client) httpCall(ctx context.Context, id int64, body []byte) (json.RawMessage, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("rpc: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("rpc: %w", err)
	}
	defer resp.Body.Close()
	data, err := readResponseBody(resp)
	if err != nil {
		return nil, fmt.Errorf("rpc: reading response: %w", err)
	}
	r, err := decodeResponse(data)
	if err != nil {
		return nil, fmt.Errorf("rpc: HTTP %s: response is not JSON-RPC: %w", resp.Status, err)
	}
	if r.Error != nil {
		return nil, r.Error
	}
	if want := strconv.FormatInt(id, 10); string(r.ID) != want {
		return nil, fmt.Errorf("rpc: response id %s does not match request id %s", r.ID, want)
	}
	return r.Result, nil
}

// maxPreallocResponse bounds the buffer allocated up front from a
// response's Content-Length (bytes); longer bodies grow as they arrive.
const maxPreallocResponse = 64 << 20

// readResponseBody reads a response body into one buffer of the declared
// length when there is one (net/http then guarantees exactly that many
// bytes or an error), instead of growing and copying it repeatedly.
func readResponseBody(resp *http.Response) ([]byte, error) {
	if n := resp.ContentLength; n > 0 && n <= maxPreallocResponse {
		buf := make([]byte, n)
		if _, err := io.ReadFull(resp.Body, buf); err != nil {
			return nil, err
		}
		return buf, nil
	}
	return io.ReadAll(resp.Body)
}

// decodeErrorBody reads the JSON-RPC error of a refused request, if any.
func decodeErrorBody(r io.Reader) *Error {
	var resp response
	if json.NewDecoder(io.LimitReader(r, 1<<20)).Decode(&resp) != nil {
		return nil
	}
	return resp.Error
}

// wsClient is the WebSocket side of a Client.
type wsClient struct {
	conn    *websocket.Conn
	writeMu sync.Mutex

	mu      sync.Mutex
	pending map[string]*pendingCall // by idKey
	subs    map[uint64]*clientSub
	err     error         // why the connection ended
	done    chan struct{} // closed when readLoop exits
	closing bool
}

type pendingCall struct {
	id   int64
	sub  bool
	resp chan pendingResult // cap 1
}

type pendingResult struct {
	r   response
	sub *clientSub // set for a successful subscription
}

type clientSub struct {
	chID   uint64
	reqID  int64 // the request id xrpc.cancel names
	ch     chan json.RawMessage
	closed chan struct{}
}

func (w *wsClient) write(msg []byte) error {
	w.writeMu.Lock()
	defer w.writeMu.Unlock()
	_ = w.conn.SetWriteDeadline(time.Now().Add(DefaultWSWriteTimeout))
	return w.conn.WriteMessage(websocket.TextMessage, msg)
}

func (w *wsClient) call(ctx context.Context, id int64, body []byte, sub bool) (json.RawMessage, *clientSub, error) {
	key, _ := idKey(strconv.AppendInt(nil, id, 10)) // as handleResponse will look it up
	pc := &pendingCall{id: id, sub: sub, resp: make(chan pendingResult, 1)}
	w.mu.Lock()
	if w.err != nil {
		w.mu.Unlock()
		return nil, nil, ErrClosed
	}
	w.pending[key] = pc
	w.mu.Unlock()
	forget := func() {
		w.mu.Lock()
		delete(w.pending, key)
		w.mu.Unlock()
	}
	if err := w.write(body); err != nil {
		forget()
		return nil, nil, fmt.Errorf("rpc: sending request: %w", err)
	}
	select {
	case pr := <-pc.resp:
		if pr.r.Error != nil {
			return nil, nil, pr.r.Error
		}
		return pr.r.Result, pr.sub, nil
	case <-ctx.Done():
		forget()
		w.sendCancel(id)
		select {
		case pr := <-pc.resp: // the answer raced the cancellation
			if pr.sub != nil {
				w.dropSub(pr.sub.chID)
			}
		default:
		}
		return nil, nil, ctx.Err()
	case <-w.done:
		forget()
		return nil, nil, ErrClosed
	}
}

func (w *wsClient) sendCancel(id int64) {
	msg := `{"jsonrpc":"2.0","method":"` + methodCancel + `","params":[` + strconv.FormatInt(id, 10) + `]}`
	_ = w.write([]byte(msg))
}

// dropSub closes a subscription's channel and forgets it.
func (w *wsClient) dropSub(chID uint64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.dropSubLocked(chID)
}

func (w *wsClient) dropSubLocked(chID uint64) {
	if s, ok := w.subs[chID]; ok {
		delete(w.subs, chID)
		close(s.ch)
		close(s.closed)
	}
}

func (w *wsClient) readLoop() {
	var err error
	for {
		var data []byte
		_, data, err = w.conn.ReadMessage()
		if err != nil {
			break
		}
		w.handle(data)
	}
	w.mu.Lock()
	if w.closing {
		err = ErrClosed
	}
	w.err = err
	for id := range w.subs {
		w.dropSubLocked(id)
	}
	w.mu.Unlock()
	close(w.done)
	_ = w.conn.Close()
}

func (w *wsClient) handle(data []byte) {
	r, err := decodeResponse(data)
	if err != nil {
		return // not an object (we never send batches); ignore
	}
	switch r.Method {
	case "":
		w.handleResponse(r)
	case methodChanValue, methodChanClose:
		ps, err := jsonscan.SplitArray(r.Params)
		if err != nil || len(ps) == 0 {
			return
		}
		var chID uint64
		if json.Unmarshal(ps[0], &chID) != nil {
			return
		}
		w.mu.Lock()
		defer w.mu.Unlock()
		if r.Method == methodChanClose {
			w.dropSubLocked(chID)
			return
		}
		s, ok := w.subs[chID]
		if !ok || len(ps) != 2 {
			return
		}
		select {
		case s.ch <- ps[1]:
		default: // the reader fell behind: give the subscription up
			w.dropSubLocked(chID)
			go w.sendCancel(s.reqID)
		}
	}
}

func (w *wsClient) handleResponse(r response) {
	key, ok := idKey(r.ID)
	if !ok {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	pc, ok := w.pending[key]
	if !ok {
		return
	}
	delete(w.pending, key)
	pr := pendingResult{r: r}
	if pc.sub && r.Error == nil {
		var chID uint64
		if json.Unmarshal(r.Result, &chID) == nil {
			// Registered before the next message is read, so no value
			// of this channel can arrive unrouted.
			pr.sub = &clientSub{chID: chID, reqID: pc.id, ch: make(chan json.RawMessage, SubscriptionBuffer), closed: make(chan struct{})}
			w.subs[chID] = pr.sub
		}
	}
	pc.resp <- pr
}

func (w *wsClient) close() error {
	w.mu.Lock()
	w.closing = true
	w.mu.Unlock()
	w.writeMu.Lock()
	_ = w.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
	w.writeMu.Unlock()
	select {
	case <-w.done:
	case <-time.After(wsCloseGrace):
		_ = w.conn.Close()
		<-w.done
	}
	return nil
}
