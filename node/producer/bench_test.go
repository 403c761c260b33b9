package producer

import (
	"crypto/ed25519"
	"fmt"
	"testing"
	"time"

	"github.com/tessera-da/tessera/blob"
	"github.com/tessera-da/tessera/node/store"
	"github.com/tessera-da/tessera/share"
)

// BenchmarkProduce measures ingest: blobs decoded and committed (as the RPC
// does), submitted to the persisted queue, laid out, extended, committed to,
// signed and stored (sync writes, on disk) until every submission is in a
// block. MB/s is blob data per second.
func BenchmarkProduce(b *testing.B) {
	for _, k := range []int{128, 512} {
		b.Run(fmt.Sprintf("k=%d", k), func(b *testing.B) {
			st, err := store.Open(b.TempDir(), store.Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			p, err := New(st, Params{
				ChainID: "bench", MaxSquareWidth: k, BlockInterval: time.Hour, QueueMaxBytes: 4 << 30,
				Key: ed25519.NewKeyFromSeed(make([]byte, 32)),
			})
			if err != nil {
				b.Fatal(err)
			}
			const blobSize = 512 << 10 // bytes: a typical rollup batch
			perBlock := k * k * share.ContinuationSparseShareContentSize / blobSize
			data := make([]byte, blobSize)
			for i := range data {
				data[i] = byte(i * 31)
			}
			ns, _ := share.NewV0Namespace([]byte{1, 2, 3})
			b.SetBytes(int64(perBlock * blobSize))
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				for i := range perBlock {
					data[0] = byte(i)
					bl, err := blob.New(ns, data, 0, nil)
					if err != nil {
						b.Fatal(err)
					}
					if _, err := p.Submit([]*blob.Blob{bl}); err != nil {
						b.Fatal(err)
					}
				}
				for st.QueueLen() > 0 {
					if _, err := p.ProduceBlock(); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}
