package erasure

import (
	"fmt"
	"testing"
	"time"

	"github.com/tessera-da/tessera/internal/vectors"
)

var benchWidths = []int{32, 128, 512}

// reportCPU reports the process CPU time per operation since cpu0 as
// "cpu-ms/op". On a shared machine it is steadier than wall time: divide
// by the number of cores for the wall time an idle machine would show.
func reportCPU(b *testing.B, cpu0 time.Duration) {
	if cpu0 == 0 || b.N == 0 {
		return
	}
	b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N)/float64(time.Millisecond), "cpu-ms/op")
}

// BenchmarkExtend measures ODS (flat, in memory) → extended square in the
// steady state of a node: the Extender and the square's buffer are reused
// across blocks. Bytes are ODS bytes.
func BenchmarkExtend(b *testing.B) {
	for _, k := range benchWidths {
		b.Run(fmt.Sprintf("k=%d", k), func(b *testing.B) {
			e, ods := benchInput(b, k, false)
			var s ExtendedSquare
			b.ReportAllocs()
			b.SetBytes(int64(len(ods)))
			cpu0 := processCPU()
			for b.Loop() {
				if err := e.ExtendFlatInto(&s, ods); err != nil {
					b.Fatal(err)
				}
			}
			reportCPU(b, cpu0)
		})
	}
}

// BenchmarkExtendFresh is BenchmarkExtend with a newly allocated square per
// block, so it includes allocating and faulting in 2k·2k·ShareSize bytes.
func BenchmarkExtendFresh(b *testing.B) {
	for _, k := range benchWidths {
		b.Run(fmt.Sprintf("k=%d", k), func(b *testing.B) {
			e, ods := benchInput(b, k, false)
			b.ReportAllocs()
			b.SetBytes(int64(len(ods)))
			for b.Loop() {
				if _, err := e.ExtendFlat(ods); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDataRoot measures a block's whole commitment path: ODS (flat, in
// memory) → extended square → all 4k row and column roots → data root. The
// Extender and the square's buffer are reused, as in a running node. Bytes
// are ODS bytes.
func BenchmarkDataRoot(b *testing.B) {
	benchDataRoot(b, (*Extender).ComputeDAH)
}

// benchDataRoot runs BenchmarkDataRoot's loop with dah computing the DAH.
func benchDataRoot(b *testing.B, dah func(*Extender, *ExtendedSquare) (*DAH, error)) {
	for _, k := range benchWidths {
		b.Run(fmt.Sprintf("k=%d", k), func(b *testing.B) {
			e, ods := benchInput(b, k, true)
			var s ExtendedSquare
			b.ReportAllocs()
			b.SetBytes(int64(len(ods)))
			cpu0 := processCPU()
			for b.Loop() {
				if err := e.ExtendFlatInto(&s, ods); err != nil {
					b.Fatal(err)
				}
				d, err := dah(e, &s)
				if err != nil {
					b.Fatal(err)
				}
				if len(d.Hash()) != DataRootSize {
					b.Fatal("bad data root")
				}
			}
			reportCPU(b, cpu0)
		})
	}
}

// benchInput returns a default Extender and the benchmarks' flat ODS of
// width k, with sortedNamespaces applied if sorted.
func benchInput(b *testing.B, k int, sorted bool) (*Extender, []byte) {
	b.Helper()
	ods := vectors.Bytes(fmt.Sprintf("bench/%d", k), k*k*ShareSize)
	if sorted {
		sortedNamespaces(ods, k)
	}
	e, err := NewExtender(DefaultParams(), nil)
	if err != nil {
		b.Fatal(err)
	}
	return e, ods
}

// sortedNamespaces overwrites the namespace of every share of a flat ODS
// with a version-0 namespace that grows in row-major order, as in a real
// square.
func sortedNamespaces(ods []byte, k int) {
	for i := range k * k {
		ns := ods[i*ShareSize : i*ShareSize+NamespaceSize]
		clear(ns)
		ns[NamespaceSize-3] = byte(i >> 16)
		ns[NamespaceSize-2] = byte(i >> 8)
		ns[NamespaceSize-1] = byte(i)
	}
}

// BenchmarkProveSample measures one sample proof from a square in memory:
// rebuilding its axis tree dominates.
func BenchmarkProveSample(b *testing.B) {
	for _, k := range []int{32, 128} {
		b.Run(fmt.Sprintf("k=%d", k), func(b *testing.B) {
			fx := newFixture(b, sortedODS(k, "bench"))
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				i++
				if _, err := fx.e.ProveSample(fx.s, fx.d, i%(2*k), (i*7)%(2*k), Axis(i%2)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkVerifySample measures decoding and verifying one sample.
func BenchmarkVerifySample(b *testing.B) {
	for _, k := range []int{32, 128} {
		b.Run(fmt.Sprintf("k=%d", k), func(b *testing.B) {
			fx := newFixture(b, sortedODS(k, "bench"))
			smp, err := fx.e.ProveSample(fx.s, fx.d, 3, 2*k-1, Col)
			if err != nil {
				b.Fatal(err)
			}
			enc, _ := smp.MarshalBinary()
			b.ReportAllocs()
			b.SetBytes(int64(len(enc)))
			for b.Loop() {
				s, err := ParseSample(enc, 2*k)
				if err != nil {
					b.Fatal(err)
				}
				if err := VerifySample(fx.root, 2*k, 3, 2*k-1, s); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
