package rpc

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// WebSocket close codes the server sends.
const (
	closeGoingAway       = websocket.CloseGoingAway       // 1001: server shutting down
	closePolicyViolation = websocket.ClosePolicyViolation // 1008: write queue overflow
)

// wsCloseGrace bounds the wait for the client's reply to our close frame.
const wsCloseGrace = 2 * time.Second

func isUpgrade(r *http.Request) bool {
	return websocket.IsWebSocketUpgrade(r)
}

// serveWS upgrades r and serves the connection until it ends.
func (s *Server) serveWS(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		writeHTTPError(w, http.StatusMethodNotAllowed, errorf(CodeInvalidRequest, "WebSocket upgrade must use GET"))
		return
	}
	perms, status, e := s.admit(r)
	if e != nil {
		writeHTTPError(w, status, e)
		return
	}
	ctx, cancel := context.WithCancel(withPerms(context.WithoutCancel(r.Context()), perms))
	defer cancel()
	c := &wsConn{
		srv:        s,
		ctx:        ctx,
		cancel:     cancel,
		perms:      perms,
		slots:      make(chan struct{}, s.opts.MaxConcurrentPerConn),
		wake:       make(chan struct{}, 1),
		readerDone: make(chan struct{}),
		inflight:   make(map[string][]*inflightCall),
	}
	s.mu.Lock()
	if len(s.conns) >= s.opts.MaxWSConns {
		s.mu.Unlock()
		writeHTTPError(w, http.StatusServiceUnavailable, errorf(CodeServerBusy, "too many WebSocket connections (limit %d)", s.opts.MaxWSConns))
		return
	}
	s.conns[c] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
	}()

	var hdr http.Header
	if protos := websocket.Subprotocols(r); len(protos) > 0 {
		// go-jsonrpc echoes the client's subprotocol; browsers insist.
		hdr = http.Header{"Sec-Websocket-Protocol": {protos[0]}}
	}
	up := websocket.Upgrader{
		HandshakeTimeout: 10 * time.Second,
		CheckOrigin:      func(*http.Request) bool { return true }, // admit checked it
		Error: func(w http.ResponseWriter, r *http.Request, status int, reason error) {
			writeHTTPError(w, status, errorf(CodeInvalidRequest, "WebSocket handshake: %s", reason))
		},
	}
	conn, err := up.Upgrade(w, r, hdr)
	if err != nil {
		return // Upgrade wrote the HTTP error
	}
	c.conn = conn
	c.serve()
}

// wsConn is one server-side WebSocket connection. One goroutine reads
// (readLoop), one writes (writeLoop); calls run in their own goroutines
// and hand their responses to the writer through a bounded queue.
type wsConn struct {
	srv    *Server
	conn   *websocket.Conn
	perms  []Perm
	ctx    context.Context // cancelled when the connection ends
	cancel context.CancelFunc

	slots chan struct{} // MaxConcurrentPerConn tokens
	calls sync.WaitGroup

	mu          sync.Mutex
	queue       [][]byte // messages waiting for the writer
	queued      int64    // bytes in queue
	closing     bool
	closeCode   int // 0: close without a close frame
	closeReason string
	wake        chan struct{} // cap 1: the writer has work
	readerDone  chan struct{}
	inflight    map[string][]*inflightCall // by idKey, for xrpc.cancel
	nextChanID  uint64
	subs        int
}

type inflightCall struct{ cancel context.CancelFunc }

func (c *wsConn) serve() {
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		c.writeLoop()
	}()
	c.readLoop()
	<-writerDone
	c.calls.Wait()
}

// readLoop reads messages until the connection fails or closes.
func (c *wsConn) readLoop() {
	defer close(c.readerDone)
	defer c.shutdown(0, "")
	pongWait := 2 * c.srv.opts.WSPingInterval
	c.conn.SetReadLimit(c.srv.opts.MaxWSMessageBytes)
	_ = c.conn.SetReadDeadline(time.Now().Add(pongWait))
	c.conn.SetPongHandler(func(string) error {
		return c.conn.SetReadDeadline(time.Now().Add(pongWait))
	})
	for {
		_, data, err := c.conn.ReadMessage()
		if err != nil {
			// Peer gone, protocol error, or a message over the read limit
			// (gorilla has then sent close code 1009).
			return
		}
		_ = c.conn.SetReadDeadline(time.Now().Add(pongWait))
		if c.ctx.Err() != nil {
			continue // closing: wait for the peer's close frame
		}
		c.handleMessage(data)
	}
}

// handleMessage dispatches one client message without blocking the reader.
func (c *wsConn) handleMessage(data []byte) {
	single, batch, e := splitBody(data, c.srv.opts.MaxBatch)
	if e != nil {
		c.send(errorBody(e))
		return
	}
	var req request
	if batch == nil {
		req, e = parseRequest(single)
		if e != nil {
			c.send(appendError(nil, req.id, e))
			return
		}
		if req.method == methodCancel {
			if out := c.srv.exec(c.ctx, c.perms, req, c, false); out.resp != nil {
				c.send(out.resp)
			}
			return
		}
	}
	select {
	case c.slots <- struct{}{}:
	default:
		busy := errorf(CodeServerBusy, "too many concurrent requests on this connection (limit %d)", c.srv.opts.MaxConcurrentPerConn)
		if batch == nil {
			if req.id != nil {
				c.send(appendError(nil, req.id, busy))
			}
			return
		}
		c.send(batchError(batch, busy))
		return
	}
	c.calls.Add(1)
	go func() {
		defer c.calls.Done()
		defer func() { <-c.slots }()
		if batch != nil {
			if resp := c.srv.execBatch(c.ctx, c.perms, batch, c); resp != nil {
				c.send(resp)
			}
			return
		}
		c.call(req)
	}()
}

// call executes one request; a subscription outlives it in forward.
func (c *wsConn) call(req request) {
	ctx, cancel := context.WithCancel(c.ctx)
	untrack := c.track(req.id, cancel)
	out := c.srv.exec(ctx, c.perms, req, c, false)
	if !out.ch.IsValid() {
		untrack()
		cancel()
		if out.resp != nil {
			c.send(out.resp)
		}
		return
	}
	c.mu.Lock()
	c.nextChanID++
	chID := c.nextChanID
	c.mu.Unlock()
	// The response goes into the queue before any value can.
	c.send(appendResult(nil, req.id, json.RawMessage(fmt.Sprint(chID))))
	c.calls.Add(1)
	go func() {
		defer c.calls.Done()
		defer c.releaseSub()
		defer cancel()
		defer untrack()
		c.forward(ctx, cancel, out.m, chID, out.ch)
	}()
}

// forward sends the values of a subscription channel until the handler
// closes it, then xrpc.ch.close. After ctx is cancelled it drains and
// drops values, waiting at most subCloseGrace for the close.
func (c *wsConn) forward(ctx context.Context, cancel context.CancelFunc, m *method, chID uint64, ch reflect.Value) {
	cases := []reflect.SelectCase{
		{Dir: reflect.SelectRecv, Chan: ch},
		{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(ctx.Done())},
	}
	cancelled := false
	for {
		i, v, ok := reflect.Select(cases)
		if i == 1 {
			if cancelled { // grace timer fired
				c.srv.log.Warn("rpc: subscription handler did not close its channel after cancellation", "method", m.name)
				c.send(chanClose(chID))
				return
			}
			cancelled = true
			cases[1].Chan = reflect.ValueOf(time.After(subCloseGrace))
			continue
		}
		if !ok {
			c.send(chanClose(chID))
			return
		}
		if cancelled {
			continue
		}
		b, err := encodeValue(v)
		if err != nil {
			c.srv.log.Error("rpc: encoding subscription value", "method", m.name, "err", err)
			cancel()
			continue
		}
		c.send(chanValue(chID, b))
	}
}

// encodeValue marshals v, turning a panicking MarshalJSON into an error.
func encodeValue(v reflect.Value) (b []byte, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic encoding value: %v", p)
		}
	}()
	return appendJSON(nil, v.Interface())
}

// cancelRequest handles xrpc.cancel: params [id] cancels the context of the
// unfinished call or open subscription that id names on this connection.
func (c *wsConn) cancelRequest(params json.RawMessage) *Error {
	var ps []json.RawMessage
	if err := json.Unmarshal(params, &ps); err != nil || len(ps) != 1 {
		return errorf(CodeInvalidParams, "%s takes one param: the id of the request to cancel", methodCancel)
	}
	key, ok := idKey(ps[0])
	if !ok {
		return errorf(CodeInvalidParams, "%s: param 1 is not a request id", methodCancel)
	}
	c.mu.Lock()
	calls := c.inflight[key]
	c.mu.Unlock()
	for _, ic := range calls {
		ic.cancel()
	}
	return nil
}

// track records cancel under the request's id for xrpc.cancel and returns
// the function that forgets it.
func (c *wsConn) track(id json.RawMessage, cancel context.CancelFunc) func() {
	key, ok := idKey(id)
	if !ok {
		return func() {}
	}
	ic := &inflightCall{cancel: cancel}
	c.mu.Lock()
	c.inflight[key] = append(c.inflight[key], ic)
	c.mu.Unlock()
	return func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		list := c.inflight[key]
		for i, x := range list {
			if x == ic {
				list = append(list[:i], list[i+1:]...)
				break
			}
		}
		if len(list) == 0 {
			delete(c.inflight, key)
		} else {
			c.inflight[key] = list
		}
	}
}

func (c *wsConn) reserveSub() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.subs >= c.srv.opts.MaxSubscriptionsPerConn {
		return false
	}
	c.subs++
	return true
}

func (c *wsConn) releaseSub() {
	c.mu.Lock()
	c.subs--
	c.mu.Unlock()
}

// send queues msg for the writer. A queue over its limits closes the
// connection (close code 1008): the client reads too slowly.
func (c *wsConn) send(msg []byte) {
	if msg == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing {
		return
	}
	o := &c.srv.opts
	if len(c.queue) > 0 && (len(c.queue) >= o.WSWriteQueueMessages || c.queued+int64(len(msg)) > o.WSWriteQueueBytes) {
		c.closeLocked(closePolicyViolation, fmt.Sprintf("rpc: write queue overflow (over %d messages or %d bytes): client reads too slowly", o.WSWriteQueueMessages, o.WSWriteQueueBytes))
		return
	}
	c.queue = append(c.queue, msg)
	c.queued += int64(len(msg))
	c.notify()
}

func (c *wsConn) notify() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// shutdown starts closing the connection: handlers are cancelled, queued
// messages dropped, and the writer sends a close frame with code and
// reason (none if code is 0) before closing the socket.
func (c *wsConn) shutdown(code int, reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closeLocked(code, reason)
}

func (c *wsConn) closeLocked(code int, reason string) {
	if c.closing {
		return
	}
	c.closing = true
	c.closeCode, c.closeReason = code, reason
	c.queue, c.queued = nil, 0
	c.cancel()
	c.notify()
}

// writeLoop writes queued messages and pings until the connection closes.
func (c *wsConn) writeLoop() {
	o := &c.srv.opts
	ping := time.NewTicker(o.WSPingInterval)
	defer ping.Stop()
	for {
		c.mu.Lock()
		closing, code, reason := c.closing, c.closeCode, c.closeReason
		var msg []byte
		if !closing && len(c.queue) > 0 {
			msg = c.queue[0]
			c.queue[0] = nil
			c.queue = c.queue[1:]
			c.queued -= int64(len(msg))
		}
		c.mu.Unlock()
		if closing {
			c.finish(code, reason)
			return
		}
		if msg != nil {
			_ = c.conn.SetWriteDeadline(time.Now().Add(o.WSWriteTimeout))
			if err := c.conn.WriteMessage(websocket.TextMessage, msg); err != nil {
				c.shutdown(0, "")
			}
			continue
		}
		select {
		case <-c.wake:
		case <-ping.C:
			if err := c.conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(o.WSWriteTimeout)); err != nil {
				c.shutdown(0, "")
			}
		}
	}
}

// finish sends the close frame, if any, waits briefly for the client's
// reply (which ends readLoop), and closes the socket.
func (c *wsConn) finish(code int, reason string) {
	if code != 0 {
		if len(reason) > 123 { // control frame payload limit minus the code
			reason = strings.ToValidUTF8(reason[:123], "")
		}
		deadline := time.Now().Add(min(c.srv.opts.WSWriteTimeout, wsCloseGrace))
		if c.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), deadline) == nil {
			select {
			case <-c.readerDone:
			case <-time.After(wsCloseGrace):
			}
		}
	}
	_ = c.conn.Close()
}

// batchError answers every request of a batch with the same error.
func batchError(batch [][]byte, e *Error) []byte {
	resps := make([][]byte, len(batch))
	for i, raw := range batch {
		if req, _ := parseRequest(raw); req.id != nil || req.method == "" { // not a notification
			resps[i] = appendError(nil, req.id, e)
		}
	}
	return responseArray(resps)
}
