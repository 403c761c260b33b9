package erasure

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// benchFixture is a sorted square of ODS width k with its DAH, built with
// the Extender's default parameters.
func benchFixture(b *testing.B, k int) *fixture {
	b.Helper()
	e, ods := benchInput(b, k, true)
	s, err := e.ExtendFlat(ods)
	if err != nil {
		b.Fatal(err)
	}
	d, err := e.ComputeDAH(s)
	if err != nil {
		b.Fatal(err)
	}
	return &fixture{e: e, s: s, d: d, root: d.Hash()}
}

// BenchmarkRepair measures rebuilding a square (with every axis checked
// against the DAH) from the ODS quadrant alone, a minimum recoverable set
// (exactly k cells in each of the top k rows and, once they are decoded,
// in every column), and from a seeded random 75 % of the cells. The
// destination square is reused, as with ExtendInto. Bytes are EDS bytes.
func BenchmarkRepair(b *testing.B) {
	for _, k := range []int{32, 128} {
		fx := benchFixture(b, k)
		w := 2 * k
		rng := rand.New(rand.NewPCG(uint64(k), 75))
		sets := []struct {
			name string
			keep func(r, c int) bool
		}{
			{"ods", func(r, c int) bool { return r < k && c < k }},
			{"75pct", func(r, c int) bool { return rng.IntN(4) != 0 }},
		}
		for _, set := range sets {
			b.Run(fmt.Sprintf("k=%d/%s", k, set.name), func(b *testing.B) {
				cells := keepCells(fx.s, set.keep)
				var dst ExtendedSquare
				b.ReportAllocs()
				b.SetBytes(int64(w * w * ShareSize))
				cpu0 := processCPU()
				for b.Loop() {
					if err := fx.e.RepairInto(&dst, cells, fx.d); err != nil {
						b.Fatal(err)
					}
				}
				reportCPU(b, cpu0)
			})
		}
	}
}

// BenchmarkSampleProof measures one sample proof from a Prover that has
// built its square's row trees (and, after the first use of each column,
// its column trees): the serving cost for a node answering many samples
// from one square. Coordinates and axes vary.
func BenchmarkSampleProof(b *testing.B) {
	for _, k := range []int{32, 128} {
		b.Run(fmt.Sprintf("k=%d", k), func(b *testing.B) {
			fx := benchFixture(b, k)
			p, err := fx.e.NewProver(fx.s, fx.d)
			if err != nil {
				b.Fatal(err)
			}
			w := 2 * k
			for c := range w { // build the column trees outside the timer
				if _, err := p.ProveSample(0, c, Col); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				i++
				if _, err := p.ProveSample(i%w, (i*7)%w, Axis(i%2)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// heapMiB returns the live heap after a collection (MiB).
func heapMiB() float64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return float64(ms.HeapAlloc) / (1 << 20)
}

// BenchmarkNewProver measures building a Prover (all row trees) and, as
// prover-MiB and prover/EDS, the heap it keeps once every column tree has
// been built too.
func BenchmarkNewProver(b *testing.B) {
	for _, k := range []int{32, 128} {
		b.Run(fmt.Sprintf("k=%d", k), func(b *testing.B) {
			fx := benchFixture(b, k)
			w := 2 * k
			before := heapMiB()
			p, err := fx.e.NewProver(fx.s, fx.d)
			if err != nil {
				b.Fatal(err)
			}
			rows := heapMiB() - before
			for c := range w {
				if _, err := p.ProveSample(0, c, Col); err != nil {
					b.Fatal(err)
				}
			}
			all := heapMiB() - before
			runtime.KeepAlive(p)
			eds := float64(w*w*ShareSize) / (1 << 20)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := fx.e.NewProver(fx.s, fx.d); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(rows, "rows-MiB")
			b.ReportMetric(all, "rows+cols-MiB")
			b.ReportMetric(all/eds, "prover/EDS")
		})
	}
}

// BenchmarkVerifyBadEncodingProof measures decoding and verifying the
// bad-encoding proof Repair finds from the ODS quadrant of a square with
// one bad parity cell (k shares), with a long-lived Extender's codec
// (Extender.VerifyBadEncodingProof). Bytes are the encoding's.
func BenchmarkVerifyBadEncodingProof(b *testing.B) {
	for _, k := range []int{32, 128} {
		b.Run(fmt.Sprintf("k=%d", k), func(b *testing.B) {
			ff, enc := validProof(b, k)
			b.ReportAllocs()
			b.SetBytes(int64(len(enc)))
			for b.Loop() {
				p, err := ParseBadEncodingProof(enc)
				if err != nil {
					b.Fatal(err)
				}
				if err := ff.e.VerifyBadEncodingProof(p, ff.d); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRestore measures the storage form's reload: a stored ODS (flat
// bytes) → extended square → DAH → check against the data root, with the
// Extender and the square's buffer reused. Bytes are ODS bytes.
func BenchmarkRestore(b *testing.B) {
	for _, k := range benchWidths {
		b.Run(fmt.Sprintf("k=%d", k), func(b *testing.B) {
			fx := benchFixture(b, k)
			stored := fx.s.ODSBytes()
			var dst ExtendedSquare
			b.ReportAllocs()
			b.SetBytes(int64(len(stored)))
			cpu0 := processCPU()
			for b.Loop() {
				if _, err := fx.e.Restore(&dst, stored, fx.root); err != nil {
					b.Fatal(err)
				}
			}
			reportCPU(b, cpu0)
		})
	}
}

// BenchmarkPeakHeapDataRoot runs BenchmarkDataRoot's loop (the first
// iteration allocates the square and the Extender's buffers, later ones
// reuse them) while sampling runtime.ReadMemStats every millisecond, and
// reports the largest HeapAlloc seen relative to the extended square's
// size (peak/EDS). base-MiB is the live heap before the first block,
// which holds the input ODS (a quarter of the EDS); extra/EDS is the peak
// above it. Garbage counts until the collector runs, so the peak of a long
// run also depends on GOGC.
func BenchmarkPeakHeapDataRoot(b *testing.B) {
	for _, k := range benchWidths {
		b.Run(fmt.Sprintf("k=%d", k), func(b *testing.B) {
			e, ods := benchInput(b, k, true)
			base := heapMiB()
			var peak atomic.Uint64
			stop := make(chan struct{})
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				var ms runtime.MemStats
				tick := time.NewTicker(time.Millisecond)
				defer tick.Stop()
				for {
					runtime.ReadMemStats(&ms)
					if ms.HeapAlloc > peak.Load() {
						peak.Store(ms.HeapAlloc)
					}
					select {
					case <-stop:
						return
					case <-tick.C:
					}
				}
			}()
			var s ExtendedSquare
			b.ReportAllocs()
			for b.Loop() {
				if err := e.ExtendFlatInto(&s, ods); err != nil {
					b.Fatal(err)
				}
				d, err := e.ComputeDAH(&s)
				if err != nil {
					b.Fatal(err)
				}
				_ = d.Hash()
			}
			close(stop)
			wg.Wait()
			eds := float64(4 * k * k * ShareSize)
			p := float64(peak.Load())
			b.ReportMetric(p/(1<<20), "peak-MiB")
			b.ReportMetric(base, "base-MiB")
			b.ReportMetric(p/eds, "peak/EDS")
			b.ReportMetric((p-base*(1<<20))/eds, "extra/EDS")
		})
	}
}

// BenchmarkPerAxisDataRoot is BenchmarkDataRoot with computeDAHPerAxis,
// for an interleaved comparison (-count) with the shared-leaf path.
func BenchmarkPerAxisDataRoot(b *testing.B) {
	benchDataRoot(b, computeDAHPerAxis)
}
