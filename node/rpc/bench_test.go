package rpc

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
)

func benchServer(b *testing.B) *Server {
	b.Helper()
	s, err := NewServer(Options{NoAuth: true})
	if err != nil {
		b.Fatal(err)
	}
	register(b, s, newProbe(), false)
	return s
}

// BenchmarkCallHTTP is one trivial call (test.Add) through the Client over
// loopback HTTP with keep-alive.
func BenchmarkCallHTTP(b *testing.B) { benchCall(b, Dial) }

// BenchmarkCallWS is the same call over one WebSocket connection.
func BenchmarkCallWS(b *testing.B) { benchCall(b, DialWS) }

// dialFunc is Dial or DialWS.
type dialFunc func(ctx context.Context, url, token string) (*Client, error)

// benchClient serves h on loopback and returns a client that dial
// connects to it; both are closed when the benchmark ends.
func benchClient(b *testing.B, h http.Handler, dial dialFunc) *Client {
	b.Helper()
	hs := httptest.NewServer(h)
	b.Cleanup(hs.Close)
	c, err := dial(context.Background(), hs.URL, "")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	return c
}

// benchCall times test.Add through a client that dial connects to a
// loopback server.
func benchCall(b *testing.B, dial dialFunc) {
	c := benchClient(b, benchServer(b), dial)
	ctx := context.Background()
	body, _ := encodeRequest(1, "test.Add", []any{1, 2})
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	var sum uint64
	for b.Loop() {
		if err := c.Call(ctx, "test.Add", &sum, 1, 2); err != nil || sum != 3 {
			b.Fatal(sum, err)
		}
	}
}

// BenchmarkServeHTTP is the server's own cost for the call, without
// network or client.
func BenchmarkServeHTTP(b *testing.B) {
	s := benchServer(b)
	body := []byte(`{"jsonrpc":"2.0","id":1,"method":"test.Add","params":[1,2]}`)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body)))
		if rec.Code != http.StatusOK {
			b.Fatal(rec.Code)
		}
	}
}
