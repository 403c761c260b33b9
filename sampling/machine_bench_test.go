package sampling

import (
	"fmt"
	"runtime"
	"testing"
)

// catchUp drives m through n headers of width k, answering every request
// verified at once, and returns the results seen.
func catchUp(tb testing.TB, m *Machine, n uint64, k int) int {
	if err := m.AddHeader(Header{Height: n, K: k}); err != nil {
		tb.Fatal(err)
	}
	done := 0
	for !m.CatchUpDone() || m.HasReady() {
		rd := m.Ready()
		m.Advance()
		for _, h := range rd.Headers {
			_ = m.AddHeader(Header{Height: h, K: k})
		}
		for _, r := range rd.Requests {
			for _, c := range r.Coords {
				m.Sampled(r, c, true, nil)
			}
		}
		done += len(rd.Done)
	}
	return done
}

// BenchmarkMachineCatchUp is the machine alone (no fetching, no
// verification) catching up 1,000 heights: one op is 1,000 heights.
func BenchmarkMachineCatchUp(b *testing.B) {
	for _, s := range []int{16, 32} {
		b.Run(fmt.Sprintf("s=%d", s), func(b *testing.B) {
			p := DefaultParams()
			p.Samples = s
			b.ReportAllocs()
			for b.Loop() {
				m, _ := NewMachine(p, &counterReader{}, nil)
				if got := catchUp(b, m, 1000, 128); got != 1000 {
					b.Fatalf("%d results", got)
				}
			}
			b.ReportMetric(1000*float64(b.N)/b.Elapsed().Seconds(), "heights/s")
		})
	}
}

// BenchmarkMachineMemory reports the heap a height costs while it is
// being sampled (k = 128, s = 16; 1,000 heights in flight at once), and
// what a machine with the default limits keeps per height once it has
// finished 1,000 (its state is bounded by the heights in flight, not by
// the heights sampled).
func BenchmarkMachineMemory(b *testing.B) {
	const n = 1000
	p := DefaultParams()
	p.MaxInFlight, p.MaxCatchUp = n+1, n
	for b.Loop() {
		var m0, m1, m2 runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m0)
		m, _ := NewMachine(p, &counterReader{}, nil)
		_ = m.AddHeader(Header{Height: n, K: 128})
		rd := m.Ready()
		m.Advance()
		reqs := rd.Requests
		for _, h := range rd.Headers {
			_ = m.AddHeader(Header{Height: h, K: 128})
		}
		rd = m.Ready() // every height in flight, its request handed out
		m.Advance()
		reqs = append(reqs, rd.Requests...)
		runtime.GC()
		runtime.ReadMemStats(&m1)
		if s := m.Stats(); s.Concurrency != n {
			b.Fatalf("%d in flight", s.Concurrency)
		}
		inFlight := int64(m1.HeapAlloc) - int64(m0.HeapAlloc)
		runtime.KeepAlive(reqs)
		reqs, rd = nil, Ready{}
		m = nil
		// A machine with the default limits that finished n heights.
		runtime.GC()
		runtime.ReadMemStats(&m0)
		m, _ = NewMachine(DefaultParams(), &counterReader{}, nil)
		catchUp(b, m, n, 128)
		runtime.GC()
		runtime.ReadMemStats(&m2)
		b.ReportMetric(float64(inFlight)/n, "B/height-in-flight")
		b.ReportMetric(float64(int64(m2.HeapAlloc)-int64(m0.HeapAlloc))/n, "B/height-finished")
		runtime.KeepAlive(m)
	}
	b.ReportMetric(0, "ns/op")
}
