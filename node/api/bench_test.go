package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/tessera-da/tessera/blob"
	"github.com/tessera-da/tessera/node/rpc"
	"github.com/tessera-da/tessera/share"
)

// BenchmarkBlobGet1MiB measures blob.Get of a 1 MiB blob by (height,
// namespace, commitment) over HTTP on loopback, reporting p50 and p99.
func BenchmarkBlobGet1MiB(b *testing.B) {
	e := newEnv(b)
	c := e.client(b, rpc.PermWrite)
	ns, _ := share.NewV0Namespace([]byte{5, 5})
	data := make([]byte, 1<<20)
	for i := range data {
		data[i] = byte(i * 13)
	}
	bl, err := blob.New(ns, data, 0, nil)
	if err != nil {
		b.Fatal(err)
	}
	var r SubmitReceipt
	if err := c.Call(context.Background(), "blob.SubmitAsync", &r, []*blob.Blob{bl}, nil); err != nil {
		b.Fatal(err)
	}
	if _, err := e.prod.ProduceBlock(); err != nil {
		b.Fatal(err)
	}
	var rec ReceiptJSON
	if err := c.Call(context.Background(), "blob.Receipt", &rec, r.ID); err != nil || rec.State != "included" {
		b.Fatalf("not included: %+v %v", rec, err)
	}
	// Measure what any client receives (the whole response read off the
	// wire), and separately a Go client that decodes and re-verifies the blob.
	body, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": 1, "method": "blob.Get", "params": []any{rec.Height, ns, bl.Commitment()}})
	tok, _ := rpc.NewToken(e.secret, rpc.PermsFor(rpc.PermRead), time.Time{})
	b.Run("raw", func(b *testing.B) {
		lat := make([]time.Duration, 0, b.N)
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			start := time.Now()
			req, _ := http.NewRequest(http.MethodPost, e.url, bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+tok)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			n, _ := io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || n < int64(len(data)) {
				b.Fatalf("HTTP %d, %d bytes", resp.StatusCode, n)
			}
			lat = append(lat, time.Since(start))
		}
		reportPercentiles(b, lat)
	})
	b.Run("decoded", func(b *testing.B) {
		lat := make([]time.Duration, 0, b.N)
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			start := time.Now()
			var got blob.Blob
			if err := c.Call(context.Background(), "blob.Get", &got, rec.Height, ns, bl.Commitment()); err != nil {
				b.Fatal(err)
			}
			lat = append(lat, time.Since(start))
		}
		reportPercentiles(b, lat)
	})
}

func reportPercentiles(b *testing.B, lat []time.Duration) {
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}
