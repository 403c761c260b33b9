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
func BenchmarkCallHTTP(b *testing.B) {
	hs := httptest.NewServer(benchServer(b))
	defer hs.Close()
	ctx := context.Background()
	c, err := Dial(ctx, hs.URL, "")
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
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

// BenchmarkCallWS is the same call over one WebSocket connection.
func BenchmarkCallWS(b *testing.B) {
	hs := httptest.NewServer(benchServer(b))
	defer hs.Close()
	ctx := context.Background()
	c, err := DialWS(ctx, hs.URL, "")
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
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
