package bulk

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
)

// BenchmarkBulkFetch measures fetching 64 pieces of 256 KiB from a peer
// over loopback TCP, all requested at once (one Get each), into an
// on-disk store (NoSync). The pieces are new in every iteration; storing
// them on the serving side is not timed. Announcing is off: the peers are
// connected, so no provider lookup is needed.
func BenchmarkBulkFetch(b *testing.B) {
	const (
		pieces    = 64
		pieceSize = 256 << 10
	)
	p := testParams()
	p.NoAnnounce = true
	src, dst := newNode(b, p), newNode(b, p)
	connect(b, src, dst)
	b.SetBytes(pieces * pieceSize)
	b.ReportAllocs()
	ids := make([]cid.Cid, pieces)
	for b.Loop() {
		b.StopTimer()
		for i := range ids {
			id, err := src.b.Put(context.Background(), randBytes(b, pieceSize))
			if err != nil {
				b.Fatal(err)
			}
			ids[i] = id
		}
		b.StartTimer()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		var wg sync.WaitGroup
		for _, id := range ids {
			wg.Go(func() {
				if _, err := dst.b.Get(ctx, id); err != nil {
					b.Error(err)
				}
			})
		}
		wg.Wait()
		cancel()
	}
}
