package producer

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tessera-da/tessera/blob"
	"github.com/tessera-da/tessera/node/store"
	"github.com/tessera-da/tessera/share"
)

// BenchmarkProduce measures ingest as a node runs it: clients' blobs are
// decoded and committed to (as the RPC does), submitted concurrently to the
// persisted queue, and the running producer lays them out, extends, commits
// to, signs and stores (sync writes, on disk) blocks until every submission
// is in a block. MB/s is blob data per second. One op is four full squares
// of data.
func BenchmarkProduce(b *testing.B) {
	for _, k := range []int{128, 512} {
		b.Run(fmt.Sprintf("k=%d", k), func(b *testing.B) {
			st, err := store.Open(b.TempDir(), store.Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			p, err := New(st, Params{
				ChainID: "bench", MaxSquareWidth: k, BlockInterval: 5 * time.Millisecond, QueueMaxBytes: 8 << 30,
				Key: ed25519.NewKeyFromSeed(make([]byte, 32)),
			})
			if err != nil {
				b.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { _ = p.Run(ctx); close(done) }()
			defer func() { cancel(); <-done }()

			const blobSize = 512 << 10 // bytes: a typical rollup batch
			const squares = 4
			n := squares * k * k * share.ContinuationSparseShareContentSize / blobSize
			ns, _ := share.NewV0Namespace([]byte{1, 2, 3})
			b.SetBytes(int64(n * blobSize))
			b.ReportAllocs()
			for b.Loop() {
				var wg sync.WaitGroup
				for w := range 4 {
					wg.Add(1)
					go func() {
						defer wg.Done()
						data := make([]byte, blobSize)
						for i := w; i < n; i += 4 {
							data[0], data[1] = byte(i), byte(i>>8)
							bl, err := blob.New(ns, data, 0, nil)
							if err != nil {
								b.Error(err)
								return
							}
							if _, err := p.Submit([]*blob.Blob{bl}); err != nil {
								b.Error(err)
								return
							}
						}
					}()
				}
				wg.Wait()
				p.Wake()
				for st.QueueLen() > 0 {
					time.Sleep(time.Millisecond)
				}
			}
		})
	}
}
