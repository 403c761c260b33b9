package rpc

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"
)

func TestClientHTTP(t *testing.T) {
	e := newEnv(t, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	c, err := Dial(ctx, e.http.URL, e.token(t, PermRead))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var sum uint64
	if err := c.Call(ctx, "test.Add", &sum, 40, 2); err != nil || sum != 42 {
		t.Fatalf("test.Add = %d, %v", sum, err)
	}
	if err := c.Call(ctx, "test.Write", nil); err == nil {
		t.Fatal("write call with a read token succeeded")
	} else if err.Error() != "missing permission to invoke 'test.Write' (need 'write')" {
		t.Fatalf("permission error reads %q", err)
	}
	// A method's error reads the same on the client as on the server.
	err = c.Call(ctx, "test.Fail", nil)
	var re *Error
	if !errors.As(err, &re) || re.Code != CodeDefault || err.Error() != "blob: not found" {
		t.Fatalf("test.Fail: %v", err)
	}
	err = c.Call(ctx, "nope.Nope", nil)
	if !errors.As(err, &re) || re.Code != CodeMethodNotFound {
		t.Fatalf("unknown method: %v", err)
	}
	if _, err := c.Subscribe(ctx, "test.Count", 3); !errors.Is(err, ErrNeedWebSocket) {
		t.Fatalf("Subscribe over HTTP: %v", err)
	}
	// A forged token surfaces as CodeUnauthorized.
	other, _ := NewSecret()
	forged, _ := NewToken(other, PermsFor(PermAdmin), time.Time{})
	bad, _ := Dial(ctx, e.http.URL, forged)
	if err := bad.Call(ctx, "test.Echo", nil, "x"); !errors.As(err, &re) || re.Code != CodeUnauthorized {
		t.Fatalf("forged token: %v", err)
	}
	if _, err := Dial(ctx, "ftp://x", ""); err == nil {
		t.Fatal("Dial accepted ftp://")
	}
}

func TestClientWS(t *testing.T) {
	e := newEnv(t, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	c, err := DialWS(ctx, e.http.URL, e.token(t, PermRead)) // http:// becomes ws://
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var sum uint64
	if err := c.Call(ctx, "test.Add", &sum, 1, 2); err != nil || sum != 3 {
		t.Fatalf("test.Add = %d, %v", sum, err)
	}
	ch, err := c.Subscribe(ctx, "test.Count", 5)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for v := range ch {
		got = append(got, string(v))
	}
	if !slices.Equal(got, []string{"1", "2", "3", "4", "5"}) {
		t.Fatalf("values %v", got)
	}
	if _, err := c.Subscribe(ctx, "test.Count", -1); err == nil || err.Error() != "negative count" {
		t.Fatalf("failing subscription: %v", err)
	}
}

func TestClientSubscribeCancel(t *testing.T) {
	e := newEnv(t, Options{NoAuth: true})
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	c, err := DialWS(ctx, e.wsURL(), "")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	sctx, scancel := context.WithCancel(ctx)
	ch, err := c.Subscribe(sctx, "test.Forever")
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, e.probe.started, "test.Forever")
	<-ch
	<-ch
	scancel()
	waitFor(t, e.probe.cancelled, "test.Forever") // xrpc.cancel reached the handler
	for range ch {                                // and the channel closes
	}
	// Cancelling a plain call sends xrpc.cancel too.
	cctx, ccancel := context.WithCancel(ctx)
	errc := make(chan error, 1)
	go func() { errc <- c.Call(cctx, "test.Block", nil) }()
	waitFor(t, e.probe.started, "test.Block")
	ccancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled call: %v", err)
	}
	waitFor(t, e.probe.cancelled, "test.Block")
	// The connection is still usable.
	var s string
	if err := c.Call(ctx, "test.Echo", &s, "ok"); err != nil || s != "ok" {
		t.Fatalf("after cancel: %q %v", s, err)
	}
}

func TestClientWSClose(t *testing.T) {
	e := newEnv(t, Options{NoAuth: true})
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	c, err := DialWS(ctx, e.wsURL(), "")
	if err != nil {
		t.Fatal(err)
	}
	ch, err := c.Subscribe(ctx, "test.Forever")
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, e.probe.started, "test.Forever")
	errc := make(chan error, 1)
	go func() { errc <- c.Call(ctx, "test.Block", nil) }()
	waitFor(t, e.probe.started, "test.Block")
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; !errors.Is(err, ErrClosed) {
		t.Fatalf("call in progress at Close: %v", err)
	}
	for range ch {
	}
	if err := c.Call(ctx, "test.Echo", nil, "x"); !errors.Is(err, ErrClosed) {
		t.Fatalf("call after Close: %v", err)
	}
	// Server side, both handlers were cancelled.
	got := map[string]bool{}
	for i := 0; i < 2; i++ {
		select {
		case s := <-e.probe.cancelled:
			got[s] = true
		case <-time.After(testTimeout):
			t.Fatalf("handlers cancelled: %v", got)
		}
	}
}

// TestClientWSLargeIDs is a regression test: the WebSocket client keyed
// its pending calls by the decimal id while responses were matched by
// idKey, which writes 1000000 as "1e+06", so from the millionth call on
// no response found its caller.
func TestClientWSLargeIDs(t *testing.T) {
	e := newEnv(t, Options{NoAuth: true})
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	c, err := DialWS(ctx, e.http.URL, "")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, next := range []int64{999_999, 1_234_567, 1 << 40} {
		c.ids.Store(next - 1)
		var sum uint64
		if err := c.Call(ctx, "test.Add", &sum, 1, 2); err != nil || sum != 3 {
			t.Fatalf("call with id %d: %d, %v", next, sum, err)
		}
	}
}
