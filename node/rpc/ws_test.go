package rpc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

func TestWSCallsAndErrors(t *testing.T) {
	e := newEnv(t, Options{})
	c := dialRaw(t, e, e.token(t, PermRead))
	for _, tc := range []struct {
		msg  string
		id   string
		code int
	}{
		{`{"jsonrpc":"2.0","id":1,"method":"test.Add","params":[20,22]}`, "1", 0},
		{`{"jsonrpc":"2.0","id":2,"method":"test.Write"}`, "2", CodeDefault},
		{`{"jsonrpc":"2.0","id":3,"method":"nope.Nope"}`, "3", CodeMethodNotFound},
		{`{"jsonrpc":"2.0","id":4,"method":"test.Add","params":["x",1]}`, "4", CodeInvalidParams},
		{`{"jsonrpc":"2.0","id":5,"method":"test.Panic"}`, "5", CodeInternalError},
		{`{"jsonrpc":"2.0","id":6,"method":`, "null", CodeParseError},
		{`{"jsonrpc":"2.0","id":7}`, "7", CodeInvalidRequest},
	} {
		wsSend(t, c, tc.msg)
		r := wsRead(t, c)
		if string(r.ID) != tc.id {
			t.Errorf("%s: id %s, want %s", tc.msg, r.ID, tc.id)
		}
		if tc.code == 0 {
			if r.Error != nil || string(r.Result) != "42" {
				t.Errorf("%s: %+v", tc.msg, r)
			}
			continue
		}
		if r.Error == nil || r.Error.Code != tc.code {
			t.Errorf("%s: error %+v, want code %d", tc.msg, r.Error, tc.code)
		}
	}
}

func TestWSBatch(t *testing.T) {
	e := newEnv(t, Options{NoAuth: true})
	c := dialRaw(t, e, "")
	wsSend(t, c, `[{"jsonrpc":"2.0","id":1,"method":"test.Echo","params":["a"]},{"jsonrpc":"2.0","id":2,"method":"test.Count","params":[1]}]`)
	_ = c.SetReadDeadline(time.Now().Add(testTimeout))
	_, b, err := c.ReadMessage()
	if err != nil {
		t.Fatal(err)
	}
	var rs []wireResp
	if err := json.Unmarshal(b, &rs); err != nil || len(rs) != 2 {
		t.Fatalf("batch answer %s: %v", b, err)
	}
	if string(rs[0].Result) != `"a"` || rs[1].Error == nil || rs[1].Error.Code != CodeInvalidRequest {
		t.Fatalf("batch answer %s", b)
	}
}

// readSub reads the subscription answer to request id and returns the
// channel id.
func readSub(t *testing.T, c *websocket.Conn, id string) uint64 {
	t.Helper()
	r := wsRead(t, c)
	if string(r.ID) != id || r.Error != nil {
		t.Fatalf("subscription answer: %+v", r)
	}
	var chID uint64
	if err := json.Unmarshal(r.Result, &chID); err != nil {
		t.Fatalf("result %s is not a channel id", r.Result)
	}
	return chID
}

func chanParams(t *testing.T, r wireResp) (uint64, json.RawMessage) {
	t.Helper()
	var ps []json.RawMessage
	if err := json.Unmarshal(r.Params, &ps); err != nil || len(ps) == 0 {
		t.Fatalf("notification params %s", r.Params)
	}
	var chID uint64
	if err := json.Unmarshal(ps[0], &chID); err != nil {
		t.Fatalf("channel id %s", ps[0])
	}
	if len(ps) == 2 {
		return chID, ps[1]
	}
	return chID, nil
}

func TestWSSubscriptionValuesThenClose(t *testing.T) {
	e := newEnv(t, Options{})
	c := dialRaw(t, e, e.token(t, PermRead))
	for want := uint64(1); want <= 3; want++ { // channel ids count from 1 per connection
		id := fmt.Sprint(10 + want)
		wsSend(t, c, `{"jsonrpc":"2.0","id":`+id+`,"method":"test.Count","params":[3]}`)
		chID := readSub(t, c, id)
		if chID != want {
			t.Fatalf("channel id %d, want %d", chID, want)
		}
		for i := 1; i <= 3; i++ {
			r := wsRead(t, c)
			if r.Method != "xrpc.ch.val" || r.ID != nil {
				t.Fatalf("got %+v, want an xrpc.ch.val notification", r)
			}
			got, v := chanParams(t, r)
			if got != chID || string(v) != fmt.Sprint(i) {
				t.Fatalf("value notification [%d,%s], want [%d,%d]", got, v, chID, i)
			}
		}
		r := wsRead(t, c)
		if got, v := chanParams(t, r); r.Method != "xrpc.ch.close" || got != chID || v != nil {
			t.Fatalf("got %+v, want xrpc.ch.close [%d]", r, chID)
		}
	}
	// A handler error is an ordinary error response, and needs read.
	wsSend(t, c, `{"jsonrpc":"2.0","id":99,"method":"test.Count","params":[-1]}`)
	if r := wsRead(t, c); r.Error == nil || r.Error.Message != "negative count" {
		t.Fatalf("failing subscription: %+v", r)
	}
	pub := dialRaw(t, e, "")
	wsSend(t, pub, `{"jsonrpc":"2.0","id":1,"method":"test.Count","params":[1]}`)
	if r := wsRead(t, pub); r.Error == nil || r.Error.Message != "missing permission to invoke 'test.Count' (need 'read')" {
		t.Fatalf("public caller subscribing: %+v", r)
	}
}

func TestWSCancelSubscription(t *testing.T) {
	e := newEnv(t, Options{NoAuth: true})
	c := dialRaw(t, e, "")
	wsSend(t, c, `{"jsonrpc":"2.0","id":"sub-1","method":"test.Forever"}`)
	chID := readSub(t, c, `"sub-1"`)
	waitFor(t, e.probe.started, "test.Forever")
	for i := 0; i < 3; i++ {
		if r := wsRead(t, c); r.Method != "xrpc.ch.val" {
			t.Fatalf("got %+v", r)
		}
	}
	wsSend(t, c, `{"jsonrpc":"2.0","method":"xrpc.cancel","params":["sub-1"]}`)
	waitFor(t, e.probe.cancelled, "test.Forever")
	for {
		r := wsRead(t, c)
		if r.Method == "xrpc.ch.val" {
			continue // values sent before the cancel arrived
		}
		if got, _ := chanParams(t, r); r.Method != "xrpc.ch.close" || got != chID {
			t.Fatalf("got %+v, want xrpc.ch.close", r)
		}
		break
	}
	// The connection still works.
	wsSend(t, c, `{"jsonrpc":"2.0","id":2,"method":"test.Echo","params":["ok"]}`)
	if r := wsRead(t, c); string(r.Result) != `"ok"` {
		t.Fatalf("after cancel: %+v", r)
	}
}

func TestWSCancelCall(t *testing.T) {
	e := newEnv(t, Options{NoAuth: true})
	c := dialRaw(t, e, "")
	wsSend(t, c, `{"jsonrpc":"2.0","id":9,"method":"test.Block"}`)
	waitFor(t, e.probe.started, "test.Block")
	wsSend(t, c, `{"jsonrpc":"2.0","id":10,"method":"xrpc.cancel","params":[9.0]}`) // 9.0 names id 9
	waitFor(t, e.probe.cancelled, "test.Block")
	got := map[string]wireResp{}
	for i := 0; i < 2; i++ {
		r := wsRead(t, c)
		got[string(r.ID)] = r
	}
	if r := got["10"]; r.Error != nil || string(r.Result) != "null" {
		t.Fatalf("xrpc.cancel with id: %+v", r)
	}
	if r := got["9"]; r.Error == nil || r.Error.Code != CodeDefault || r.Error.Message != "context canceled" {
		t.Fatalf("cancelled call: %+v", r)
	}
}

func TestWSDisconnectCancelsHandlers(t *testing.T) {
	e := newEnv(t, Options{NoAuth: true})
	c := dialRaw(t, e, "")
	wsSend(t, c, `{"jsonrpc":"2.0","id":1,"method":"test.Block"}`)
	wsSend(t, c, `{"jsonrpc":"2.0","id":2,"method":"test.Forever"}`)
	got := map[string]bool{}
	for i := 0; i < 2; i++ {
		select {
		case s := <-e.probe.started:
			got[s] = true
		case <-time.After(testTimeout):
			t.Fatal("handlers did not start")
		}
	}
	c.Close()
	for i := 0; i < 2; i++ {
		select {
		case s := <-e.probe.cancelled:
			delete(got, s)
		case <-time.After(testTimeout):
			t.Fatalf("handlers %v not cancelled after disconnect", got)
		}
	}
}

func TestWSFloodBounded(t *testing.T) {
	const limit, n = 4, 50
	e := newEnv(t, Options{NoAuth: true, MaxConcurrentPerConn: limit})
	c := dialRaw(t, e, "")
	for i := 1; i <= n; i++ {
		wsSend(t, c, fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"test.Gate"}`, i))
	}
	busy := 0
	for busy < n-limit {
		r := wsRead(t, c)
		if r.Error == nil || r.Error.Code != CodeServerBusy {
			t.Fatalf("got %+v while the gate is shut, want busy errors", r)
		}
		busy++
	}
	for i := 0; i < limit; i++ {
		waitFor(t, e.probe.started, "test.Gate")
	}
	if a := e.probe.active.Load(); a != limit {
		t.Fatalf("%d handlers running, want %d", a, limit)
	}
	e.probe.release()
	for i := 0; i < limit; i++ {
		if r := wsRead(t, c); r.Error != nil {
			t.Fatalf("admitted call failed: %+v", r)
		}
	}
	if m := e.probe.maxActive.Load(); m != limit {
		t.Fatalf("max concurrent %d, want %d", m, limit)
	}
}

func TestWSSubscriptionLimit(t *testing.T) {
	e := newEnv(t, Options{NoAuth: true, MaxSubscriptionsPerConn: 2})
	c := dialRaw(t, e, "")
	for i := 1; i <= 3; i++ {
		wsSend(t, c, fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"test.Forever"}`, i))
	}
	// The three run concurrently: exactly one of them must be refused.
	answers, busy := 0, 0
	for answers < 3 {
		r := wsRead(t, c)
		if r.Method != "" {
			continue
		}
		answers++
		if r.Error != nil {
			if r.Error.Code != CodeServerBusy {
				t.Fatalf("unexpected error %+v", r)
			}
			busy++
		}
	}
	if busy != 1 {
		t.Fatalf("%d subscriptions refused, want 1 over the limit of 2", busy)
	}
}

func TestWSSlowConsumerDisconnected(t *testing.T) {
	e := newEnv(t, Options{NoAuth: true, WSWriteQueueMessages: 8, WSWriteTimeout: 5 * time.Second})
	c := dialRaw(t, e, "")
	wsSend(t, c, `{"jsonrpc":"2.0","id":1,"method":"test.Flood","params":[65536]}`)
	// Do not read: the socket buffers fill, the writer stalls, the queue
	// overflows and the subscription is cancelled.
	waitFor(t, e.probe.cancelled, "test.Flood")
	var closeErr *websocket.CloseError
	deadline := time.Now().Add(testTimeout)
	for {
		_ = c.SetReadDeadline(deadline)
		_, _, err := c.ReadMessage()
		if err == nil {
			continue
		}
		if !errors.As(err, &closeErr) {
			t.Fatalf("read: %v, want a close frame", err)
		}
		break
	}
	if closeErr.Code != websocket.ClosePolicyViolation || !strings.Contains(closeErr.Text, "write queue overflow") {
		t.Fatalf("close %d %q, want 1008 naming the overflow", closeErr.Code, closeErr.Text)
	}
}

func TestWSMessageTooBig(t *testing.T) {
	e := newEnv(t, Options{NoAuth: true, MaxWSMessageBytes: 1024})
	c := dialRaw(t, e, "")
	wsSend(t, c, `{"jsonrpc":"2.0","id":1,"method":"test.Echo","params":["`+strings.Repeat("x", 2048)+`"]}`)
	_ = c.SetReadDeadline(time.Now().Add(testTimeout))
	_, _, err := c.ReadMessage()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.CloseMessageTooBig {
		t.Fatalf("read: %v, want close 1009", err)
	}
}

func TestWSServerClose(t *testing.T) {
	e := newEnv(t, Options{NoAuth: true})
	c := dialRaw(t, e, "")
	wsSend(t, c, `{"jsonrpc":"2.0","id":1,"method":"test.Forever"}`)
	readSub(t, c, "1")
	_ = e.srv.Close()
	waitFor(t, e.probe.cancelled, "test.Forever")
	var ce *websocket.CloseError
	for {
		_ = c.SetReadDeadline(time.Now().Add(testTimeout))
		_, _, err := c.ReadMessage()
		if err == nil {
			continue
		}
		if !errors.As(err, &ce) || ce.Code != websocket.CloseGoingAway {
			t.Fatalf("read: %v, want close 1001", err)
		}
		break
	}
	// New requests are refused.
	status, _ := post(t, e.http.URL, "", []byte(`{"jsonrpc":"2.0","id":1,"method":"test.Echo","params":["x"]}`))
	if status != 503 {
		t.Fatalf("after Close: status %d, want 503", status)
	}
}

func TestWSConnLimit(t *testing.T) {
	e := newEnv(t, Options{NoAuth: true, MaxWSConns: 1})
	dialRaw(t, e, "")
	_, err := DialWS(context.Background(), e.wsURL(), "")
	var re *Error
	if !errors.As(err, &re) || re.Code != CodeServerBusy {
		t.Fatalf("second connection: %v, want busy *Error", err)
	}
}

func TestWSOrigin(t *testing.T) {
	e := newEnv(t, Options{NoAuth: true})
	hdr := map[string][]string{"Origin": {"https://evil.example"}}
	_, resp, err := websocket.DefaultDialer.Dial(e.wsURL(), hdr)
	if err == nil || resp == nil || resp.StatusCode != 403 {
		t.Fatalf("cross-origin upgrade: %v %v, want 403", err, resp)
	}
}

func TestWSNoGoroutineLeak(t *testing.T) {
	e := newEnv(t, Options{NoAuth: true})
	settle := func(max int) int {
		deadline := time.Now().Add(testTimeout)
		n := runtime.NumGoroutine()
		for n > max && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
			n = runtime.NumGoroutine()
		}
		return n
	}
	time.Sleep(50 * time.Millisecond)
	base := runtime.NumGoroutine()
	for i := 0; i < 5; i++ {
		c := dialRaw(t, e, "")
		wsSend(t, c, `{"jsonrpc":"2.0","id":1,"method":"test.Forever"}`)
		readSub(t, c, "1")
		waitFor(t, e.probe.started, "test.Forever")
		wsSend(t, c, `{"jsonrpc":"2.0","id":2,"method":"test.Block"}`)
		waitFor(t, e.probe.started, "test.Block")
		c.Close()
		waitAll(t, e.probe.cancelled, "test.Forever", "test.Block")
	}
	if n := settle(base); n > base {
		t.Fatalf("%d goroutines after closing every connection, %d before", n, base)
	}
}

func TestObservePanicContained(t *testing.T) {
	e := newEnv(t, Options{NoAuth: true, Observe: func(string, time.Duration, error) { panic("metrics bug") }})
	c := dialRaw(t, e, "")
	wsSend(t, c, `{"jsonrpc":"2.0","id":1,"method":"test.Echo","params":["x"]}`)
	if r := wsRead(t, c); string(r.Result) != `"x"` {
		t.Fatalf("%+v", r)
	}
}
