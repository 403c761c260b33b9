package rpc

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// testTimeout bounds every wait in these tests.
const testTimeout = 10 * time.Second

// ns4 is a parameter type that validates itself: base64 of exactly 4 bytes.
type ns4 [4]byte

func (n *ns4) UnmarshalJSON(b []byte) error {
	var raw []byte
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	if len(raw) != 4 {
		return fmt.Errorf("namespace must be 4 bytes, got %d", len(raw))
	}
	copy(n[:], raw)
	return nil
}

// badJSON fails to encode.
type badJSON struct{}

func (badJSON) MarshalJSON() ([]byte, error) { return nil, errors.New("cannot encode") }

// panicJSON panics while encoding.
type panicJSON struct{}

func (panicJSON) MarshalJSON() ([]byte, error) { panic("boom in MarshalJSON") }

// probe lets tests watch handlers: when they start, how many run at once,
// and when their context ends.
type probe struct {
	started   chan string   // handler names, as they start
	cancelled chan string   // handler names, when their ctx ends
	gate      chan struct{} // closed to release test.Gate handlers
	active    atomic.Int64
	maxActive atomic.Int64
	closeGate sync.Once
}

func newProbe() *probe {
	return &probe{
		started:   make(chan string, 1024),
		cancelled: make(chan string, 1024),
		gate:      make(chan struct{}),
	}
}

func (p *probe) release() { p.closeGate.Do(func() { close(p.gate) }) }

func (p *probe) enter() {
	n := p.active.Add(1)
	for {
		m := p.maxActive.Load()
		if n <= m || p.maxActive.CompareAndSwap(m, n) {
			return
		}
	}
}

// register installs the test methods on s. Blocking methods (test.Block,
// test.Gate, test.Forever, test.Flood) are skipped when blocking is false.
func register(t testing.TB, s *Server, p *probe, blocking bool) {
	t.Helper()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.Register("test.Echo", PermPublic, func(_ context.Context, v string) (string, error) { return v, nil }, "value"))
	must(s.Register("test.Add", PermRead, func(_ context.Context, a, b uint64) (uint64, error) { return a + b, nil }, "a", "b"))
	must(s.Register("test.Write", PermWrite, func(context.Context) error { return nil }))
	must(s.Register("test.Admin", PermAdmin, func(context.Context) (bool, error) { return true, nil }))
	must(s.Register("test.Fail", PermPublic, func(context.Context) (*struct{}, error) { return nil, errors.New("blob: not found") }))
	must(s.Register("test.Coded", PermPublic, func(context.Context) (int, error) {
		return 0, fmt.Errorf("wrapped: %w", &Error{Code: 42, Message: "custom"})
	}))
	must(s.Register("test.Panic", PermPublic, func(context.Context) (int, error) { panic("handler exploded") }))
	must(s.Register("test.BadResult", PermPublic, func(context.Context) (badJSON, error) { return badJSON{}, nil }))
	must(s.Register("test.PanicResult", PermPublic, func(context.Context) (panicJSON, error) { return panicJSON{}, nil }))
	must(s.Register("test.Ns", PermPublic, func(_ context.Context, h uint64, n ns4) (string, error) {
		return fmt.Sprintf("%d:%x", h, n[:]), nil
	}, "height", "namespace"))
	must(s.Register("test.Perms", PermPublic, func(ctx context.Context) ([]Perm, error) { return PermsFromContext(ctx), nil }))
	must(s.Register("test.Count", PermRead, func(ctx context.Context, n int) (<-chan int, error) {
		if n < 0 {
			return nil, errors.New("negative count")
		}
		ch := make(chan int)
		go func() {
			defer close(ch)
			for i := 1; i <= n; i++ {
				select {
				case ch <- i:
				case <-ctx.Done():
					return
				}
			}
		}()
		return ch, nil
	}, "n"))
	if !blocking {
		return
	}
	must(s.Register("test.Block", PermPublic, func(ctx context.Context) error {
		p.started <- "test.Block"
		<-ctx.Done()
		p.cancelled <- "test.Block"
		return ctx.Err()
	}))
	must(s.Register("test.Gate", PermPublic, func(ctx context.Context) (int64, error) {
		p.enter()
		defer p.active.Add(-1)
		p.started <- "test.Gate"
		select {
		case <-p.gate:
			return p.maxActive.Load(), nil
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}))
	must(s.Register("test.Forever", PermRead, func(ctx context.Context) (<-chan int, error) {
		ch := make(chan int)
		p.started <- "test.Forever"
		go func() {
			defer close(ch)
			for i := 0; ; i++ {
				select {
				case ch <- i:
					time.Sleep(time.Millisecond)
				case <-ctx.Done():
					p.cancelled <- "test.Forever"
					return
				}
			}
		}()
		return ch, nil
	}))
	must(s.Register("test.Flood", PermPublic, func(ctx context.Context, size int) (<-chan string, error) {
		ch := make(chan string)
		v := strings.Repeat("x", size)
		go func() {
			defer close(ch)
			for {
				select {
				case ch <- v:
				case <-ctx.Done():
					p.cancelled <- "test.Flood"
					return
				}
			}
		}()
		return ch, nil
	}))
}

// testEnv is a served Server with its secret and probe.
type testEnv struct {
	srv    *Server
	http   *httptest.Server
	secret []byte
	probe  *probe
}

func newEnv(t *testing.T, opts Options) *testEnv {
	t.Helper()
	if opts.Secret == nil && !opts.NoAuth {
		secret, err := NewSecret()
		if err != nil {
			t.Fatal(err)
		}
		opts.Secret = secret
	}
	s, err := NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	p := newProbe()
	register(t, s, p, true)
	hs := httptest.NewServer(s) // listens on 127.0.0.1
	t.Cleanup(func() {
		p.release()
		_ = s.Close()
		hs.Close()
	})
	return &testEnv{srv: s, http: hs, secret: opts.Secret, probe: p}
}

func (e *testEnv) token(t testing.TB, level Perm) string {
	t.Helper()
	if level == "" {
		return ""
	}
	tok, err := NewToken(e.secret, PermsFor(level), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func (e *testEnv) wsURL() string { return "ws" + strings.TrimPrefix(e.http.URL, "http") }

// post sends body with an optional Authorization header value.
func post(t testing.TB, url, auth string, body []byte) (int, []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

func bearer(tok string) string {
	if tok == "" {
		return ""
	}
	return "Bearer " + tok
}

// wireResp is a response or notification as received.
type wireResp struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Result  json.RawMessage `json:"result"`
	Error   *Error          `json:"error"`
	Method  string          `json:"method"`
	Params  json.RawMessage `json:"params"`
}

func decodeResp(t testing.TB, b []byte) wireResp {
	t.Helper()
	var r wireResp
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("response %q: %v", b, err)
	}
	if r.JSONRPC != "2.0" {
		t.Fatalf("response %q: jsonrpc is not 2.0", b)
	}
	return r
}

// dialRaw opens a raw WebSocket to the env with an optional token.
func dialRaw(t *testing.T, e *testEnv, tok string) *websocket.Conn {
	t.Helper()
	hdr := http.Header{}
	if tok != "" {
		hdr.Set("Authorization", "Bearer "+tok)
	}
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	c, resp, err := websocket.DefaultDialer.DialContext(ctx, e.wsURL(), hdr)
	if err != nil {
		t.Fatalf("dial ws: %v (resp %v)", err, resp)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func wsSend(t testing.TB, c *websocket.Conn, msg string) {
	t.Helper()
	_ = c.SetWriteDeadline(time.Now().Add(testTimeout))
	if err := c.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
		t.Fatal(err)
	}
}

func wsRead(t testing.TB, c *websocket.Conn) wireResp {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(testTimeout))
	_, b, err := c.ReadMessage()
	if err != nil {
		t.Fatalf("ws read: %v", err)
	}
	return decodeResp(t, b)
}

// waitFor receives want from ch within testTimeout.
func waitFor(t testing.TB, ch <-chan string, want string) {
	t.Helper()
	select {
	case got := <-ch:
		if got != want {
			t.Fatalf("got signal %q, want %q", got, want)
		}
	case <-time.After(testTimeout):
		t.Fatalf("timed out waiting for %q", want)
	}
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func asError(err error, target **Error) bool { return errors.As(err, target) }

// waitAll receives every name in want from ch, in any order.
func waitAll(t testing.TB, ch <-chan string, want ...string) {
	t.Helper()
	left := map[string]int{}
	for _, w := range want {
		left[w]++
	}
	for n := len(want); n > 0; n-- {
		select {
		case got := <-ch:
			if left[got] == 0 {
				t.Fatalf("unexpected signal %q (waiting for %v)", got, left)
			}
			left[got]--
		case <-time.After(testTimeout):
			t.Fatalf("timed out waiting for %v", left)
		}
	}
}
