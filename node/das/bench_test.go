package das

import (
	"context"
	"encoding/binary"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/tessera-da/tessera/erasure"
	"github.com/tessera-da/tessera/node/header"
	"github.com/tessera-da/tessera/sampling"
)

// benchRows is how many rows of the k = 128 square the benchmark samples
// from: proving all 65,536 cells up front would take minutes, and every
// cell costs the same to verify (same proof depths).
const benchRows = 2

// rowsReader yields coordinates in the first benchRows rows of a
// 256-wide square: ChooseCoordinates masks 8 little-endian bytes.
type rowsReader struct{ x uint64 }

func (r *rowsReader) Read(p []byte) (int, error) {
	for i := 0; i+8 <= len(p); i += 8 {
		r.x = r.x*6364136223846793005 + 1442695040888963407
		binary.LittleEndian.PutUint64(p[i:], (r.x>>33)%(benchRows*256))
	}
	return len(p), nil
}

// benchFixture is one real k = 128 square and its samples in the first rows.
type benchFixture struct {
	root    [32]byte
	samples map[sampling.Coord]*erasure.Sample
}

var (
	benchOnce sync.Once
	benchFx   *benchFixture
)

func fixture128(b *testing.B) *benchFixture {
	benchOnce.Do(func() {
		blk := makeBlock(b, 1, 128, "bench")
		fx := &benchFixture{root: blk.hdr.DataRoot, samples: map[sampling.Coord]*erasure.Sample{}}
		e, _ := erasure.NewExtender(erasure.DefaultParams(), nil)
		for r := range benchRows {
			for c := range 256 {
				s, err := e.ProveSample(blk.eds, blk.dah, r, c, erasure.Row)
				if err != nil {
					b.Fatal(err)
				}
				fx.samples[sampling.Coord{Row: r, Col: c}] = s
			}
		}
		benchFx = fx
	})
	return benchFx
}

// instant serves the fixture's samples for any height at once.
type instant struct{ fx *benchFixture }

func (f instant) SampleFromAny(_ context.Context, _ *header.Header, coords []sampling.Coord) (map[sampling.Coord]*erasure.Sample, error) {
	out := make(map[sampling.Coord]*erasure.Sample, len(coords))
	for _, c := range coords {
		out[c] = f.fx.samples[c]
	}
	return out, nil
}

// flatChain has n headers that all commit to the fixture's square.
type flatChain struct {
	root [32]byte
	n    uint64
}

func (c flatChain) hdr(h uint64) *header.Header {
	return &header.Header{ChainID: "bench", Height: h, DataRoot: c.root, SquareWidth: 128}
}
func (c flatChain) Head(context.Context) (*header.Header, error) { return c.hdr(c.n), nil }
func (c flatChain) GetByHeight(_ context.Context, h uint64) (*header.Header, error) {
	return c.hdr(h), nil
}

// BenchmarkCatchUp measures the whole driver catching up 1,000 headers of
// a k = 128 square with an instant fetcher: coordinates, requests, real
// erasure.VerifySample on every sample, results and checkpoints written
// (to memory). One op is 1,000 headers.
func BenchmarkCatchUp(b *testing.B) {
	fx := fixture128(b)
	const n = 1000
	for _, s := range []int{16, 32} {
		for _, batched := range []bool{false, true} {
			b.Run(fmt.Sprintf("k=128/s=%d/batch=%v", s, batched), func(b *testing.B) {
				cfg := DefaultConfig()
				cfg.Samples = s
				b.ReportAllocs()
				var elapsed time.Duration
				for b.Loop() {
					var st Checkpoints = newMemStore()
					if batched {
						st = &batchStore{memStore: newMemStore()}
					}
					d, err := New(cfg, Deps{Fetcher: instant{fx}, Headers: flatChain{fx.root, n}, Checkpoints: st, Rand: &rowsReader{}})
					if err != nil {
						b.Fatal(err)
					}
					start := time.Now()
					if err := d.Start(context.Background()); err != nil {
						b.Fatal(err)
					}
					if err := d.WaitCatchUp(context.Background()); err != nil {
						b.Fatal(err)
					}
					elapsed += time.Since(start)
					if m := d.Metrics(); m.SamplesVerified != uint64(n*s) {
						b.Fatalf("verified %d samples", m.SamplesVerified)
					}
					_ = d.Stop(context.Background())
				}
				b.ReportMetric(float64(n*b.N)/elapsed.Seconds(), "headers/s")
				b.ReportMetric(0, "ns/op")
			})
		}
	}
}

// BenchmarkVerifySample is the per-sample cost the driver pays at k = 128.
func BenchmarkVerifySample(b *testing.B) {
	fx := fixture128(b)
	c := sampling.Coord{Row: 1, Col: 77}
	s := fx.samples[c]
	b.ReportAllocs()
	for b.Loop() {
		if err := erasure.VerifySample(fx.root[:], 256, c.Row, c.Col, s); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMemoryPerHeight reports the heap a DASer keeps per header
// after catching up 1,000 of them (results are on the store, not in
// memory) and the bytes allocated per header on the way.
func BenchmarkMemoryPerHeight(b *testing.B) {
	fx := fixture128(b)
	const n = 1000
	for b.Loop() {
		var before, after, done runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		d, _ := New(DefaultConfig(), Deps{Fetcher: instant{fx}, Headers: flatChain{fx.root, n}, Checkpoints: newMemStore(), Rand: &rowsReader{}})
		_ = d.Start(context.Background())
		_ = d.WaitCatchUp(context.Background())
		runtime.ReadMemStats(&done)
		_ = d.Stop(context.Background())
		runtime.GC()
		runtime.ReadMemStats(&after)
		runtime.KeepAlive(d)
		// The memStore holds n results of ~30 bytes of key and value.
		b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/n, "retained-B/header")
		b.ReportMetric(float64(done.TotalAlloc-before.TotalAlloc)/n, "alloc-B/header")
	}
	b.ReportMetric(0, "ns/op")
}
