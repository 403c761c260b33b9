package rpc

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"testing"

	"github.com/tessera-da/tessera/blob"
	"github.com/tessera-da/tessera/share"
)

// benchBlob is a 1 MiB share-version-0 blob, the size of a dataset page.
func benchBlob(b testing.TB) *blob.Blob {
	b.Helper()
	ns, err := share.NewV0Namespace([]byte{7, 7})
	if err != nil {
		b.Fatal(err)
	}
	data := make([]byte, 1<<20)
	for i := range data {
		data[i] = byte(i*7 + i>>8)
	}
	bl, err := blob.New(ns, data, share.ShareVersionZero, nil)
	if err != nil {
		b.Fatal(err)
	}
	return bl
}

// blobServer serves blob.Submit (taking []*blob.Blob and options, as the
// node does, and returning at once) and blob.Get (returning bl).
func blobServer(b testing.TB, bl *blob.Blob) *Server {
	b.Helper()
	s, err := NewServer(Options{NoAuth: true, MaxBodyBytes: 8 << 20})
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Register("blob.Submit", PermWrite, func(_ context.Context, bs []*blob.Blob, _ json.RawMessage) (uint64, error) {
		return uint64(len(bs)), nil
	}); err != nil {
		b.Fatal(err)
	}
	if err := s.Register("blob.Get", PermRead, func(_ context.Context, _ uint64, _ share.Namespace, _ blob.Commitment) (*blob.Blob, error) {
		return bl, nil
	}); err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkServeBlobSubmit is the server's cost of a blob.Submit request
// carrying one 1 MiB blob: parsing, decoding and validating the blob
// (commitment included), and answering. No network.
func BenchmarkServeBlobSubmit(b *testing.B) {
	bl := benchBlob(b)
	s := blobServer(b, bl)
	body, err := encodeRequest(1, "blob.Submit", []any{[]*blob.Blob{bl}, nil})
	if err != nil {
		b.Fatal(err)
	}
	perms := PermsFor(PermAdmin)
	ctx := context.Background()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		resp, status := s.handleBody(ctx, perms, body)
		if status != http.StatusOK || !bytes.HasSuffix(resp, []byte(`"result":1}`)) {
			b.Fatalf("%d %.200s", status, resp)
		}
	}
}

// BenchmarkServeBlobGet is the server's cost of answering blob.Get with a
// 1 MiB blob: parsing the request and encoding the response.
func BenchmarkServeBlobGet(b *testing.B) {
	bl := benchBlob(b)
	s := blobServer(b, bl)
	body, err := encodeRequest(1, "blob.Get", []any{uint64(1), bl.Namespace(), bl.Commitment()})
	if err != nil {
		b.Fatal(err)
	}
	perms := PermsFor(PermAdmin)
	ctx := context.Background()
	resp, _ := s.handleBody(ctx, perms, body)
	b.SetBytes(int64(len(resp)))
	b.ReportAllocs()
	for b.Loop() {
		resp, status := s.handleBody(ctx, perms, body)
		if status != http.StatusOK || len(resp) < 1<<20 {
			b.Fatalf("%d %.200s", status, resp)
		}
	}
}

// BenchmarkClientBlobGetDecode is the client's cost of a blob.Get
// response carrying a 1 MiB blob: decoding the response and the blob
// (commitment recomputed). No network.
func BenchmarkClientBlobGetDecode(b *testing.B) {
	bl := benchBlob(b)
	js, err := json.Marshal(bl)
	if err != nil {
		b.Fatal(err)
	}
	resp := []byte(`{"jsonrpc":"2.0","id":` + strconv.Itoa(1) + `,"result":` + string(js) + `}`)
	b.SetBytes(int64(len(resp)))
	b.ReportAllocs()
	for b.Loop() {
		var got blob.Blob
		if err := benchDecodeResponse(resp, &got); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkClientBlobSubmitEncode is the client's cost of encoding a
// blob.Submit request carrying one 1 MiB blob.
func BenchmarkClientBlobSubmitEncode(b *testing.B) {
	bl := benchBlob(b)
	body, _ := encodeRequest(1, "blob.Submit", []any{[]*blob.Blob{bl}, nil})
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := encodeRequest(1, "blob.Submit", []any{[]*blob.Blob{bl}, nil}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCallBlobHTTP is a full client–server round trip over loopback
// HTTP: blob.Submit of one 1 MiB blob, then blob.Get of it.
func BenchmarkCallBlobHTTP(b *testing.B) {
	bl := benchBlob(b)
	c := benchClient(b, blobServer(b, bl), Dial)
	ctx := context.Background()
	b.SetBytes(2 << 20)
	b.ReportAllocs()
	for b.Loop() {
		var n uint64
		if err := c.Call(ctx, "blob.Submit", &n, []*blob.Blob{bl}, nil); err != nil || n != 1 {
			b.Fatal(n, err)
		}
		var got blob.Blob
		if err := c.Call(ctx, "blob.Get", &got, uint64(1), bl.Namespace(), bl.Commitment()); err != nil {
			b.Fatal(err)
		}
	}
}
