package exchange

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/metrics"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/tessera-da/tessera/erasure"
)

var (
	benchMu     sync.Mutex
	benchBlocks = make(map[int]*block)
)

// benchBlock returns the block of ODS width k shared by the benchmarks
// (built once: a k = 512 square is 512 MiB).
func benchBlock(b *testing.B, k int) *block {
	benchMu.Lock()
	defer benchMu.Unlock()
	if blk := benchBlocks[k]; blk != nil {
		return blk
	}
	blk := makeBlock(b, k, 1, nil)
	blk.ods = nil
	benchBlocks[k] = blk
	return blk
}

// BenchmarkServeSamples measures the server side of the samples protocol
// on one goroutine from a cached square whose row trees are built: decode
// a 16-coordinate request, prove and encode the samples. Reports
// samples/s.
func BenchmarkServeSamples(b *testing.B) {
	for _, k := range []int{128, 512} {
		b.Run(fmt.Sprintf("k=%d", k), func(b *testing.B) {
			blk := benchBlock(b, k)
			s := &Server{src: newMemSource(blk), opts: testServerOptions(), trees: newTreeCache(1 << 30)}
			if err := s.Prepare(1); err != nil {
				b.Fatal(err)
			}
			rng := newTestRand(3)
			const batch = 16
			reqs := make([][]byte, 256)
			for i := range reqs {
				reqs[i] = samplesRequest{height: 1, coords: randomCoords(rng, 2*k, batch)}.appendTo(nil)
			}
			buf := make([]byte, 0, 64<<10)
			b.ReportAllocs()
			b.SetBytes(int64(batch * erasure.SampleSize(2*k)))
			i := 0
			start := time.Now()
			for b.Loop() {
				m, err := decodeSamplesRequest(reqs[i%len(reqs)])
				if err != nil {
					b.Fatal(err)
				}
				buf = s.samplesFrame(buf[:0], m)
				i++
			}
			b.ReportMetric(float64(i*batch)/time.Since(start).Seconds(), "samples/s")
		})
	}
}

// BenchmarkRowTreeBuild measures building one row's cached tree (the cost
// of the first proof from a row, or of Prepare per row).
func BenchmarkRowTreeBuild(b *testing.B) {
	for _, k := range []int{128, 512} {
		b.Run(fmt.Sprintf("k=%d", k), func(b *testing.B) {
			blk := benchBlock(b, k)
			b.ReportAllocs()
			r := 0
			for b.Loop() {
				var t rowTree
				if err := t.build(blk.eds, blk.dah, r%(2*k)); err != nil {
					b.Fatal(err)
				}
				r++
			}
		})
	}
}

// BenchmarkSampleRound measures a light node's sampling round for one
// header: s random distinct samples fetched with SampleFromAny from 3 full
// peers (separate libp2p hosts on 127.0.0.1, TCP + noise + yamux) and
// verified against the data root. Reports p50/p99/p99.9 latency per round
// and the bytes the client received per round: B/header counts response
// frames (Client.BytesReceived), stream-B/header everything libp2p's
// bandwidth reporter counts on the client's streams (protocol negotiation
// included; noise and yamux framing, about 1 %, not).
func BenchmarkSampleRound(b *testing.B) {
	for _, k := range []int{128, 512} {
		for _, s := range []int{16, 32} {
			b.Run(fmt.Sprintf("k=%d/s=%d", k, s), func(b *testing.B) {
				blk := benchBlock(b, k)
				bw := metrics.NewBandwidthCounter()
				ch := newHost(b, bw)
				c, err := NewClient(ch, testChain, DefaultClientOptions())
				if err != nil {
					b.Fatal(err)
				}
				src := newMemSource(blk)
				var peers []peer.ID
				for range 3 {
					h := newHost(b, nil)
					srv, err := NewServer(h, testChain, src, DefaultServerOptions())
					if err != nil {
						b.Fatal(err)
					}
					if err := srv.Prepare(1); err != nil {
						b.Fatal(err)
					}
					connect(b, ch, h)
					peers = append(peers, h.ID())
				}
				rng := newTestRand(uint64(k*s + 1))
				round := func() time.Duration {
					coords := randomCoords(rng, 2*k, s)
					ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
					defer cancel()
					start := time.Now()
					got, err := c.SampleFromAny(ctx, peers, blk.hdr, coords)
					d := time.Since(start)
					if err != nil || len(got) != s {
						b.Fatalf("%d samples: %v", len(got), err)
					}
					return d
				}
				for range 20 { // connections, protocol negotiation
					round()
				}
				time.Sleep(1500 * time.Millisecond) // let the bandwidth meters' totals catch up
				in0, rx0 := bw.GetBandwidthTotals().TotalIn, c.BytesReceived()
				var lat []time.Duration
				b.ReportAllocs()
				for b.Loop() {
					lat = append(lat, round())
				}
				rx := c.BytesReceived() - rx0
				time.Sleep(1500 * time.Millisecond)
				in := bw.GetBandwidthTotals().TotalIn - in0
				slices.Sort(lat)
				q := func(f float64) float64 {
					return float64(lat[min(len(lat)-1, int(f*float64(len(lat))))]) / float64(time.Millisecond)
				}
				b.ReportMetric(q(0.5), "p50-ms")
				b.ReportMetric(q(0.99), "p99-ms")
				b.ReportMetric(q(0.999), "p999-ms")
				b.ReportMetric(float64(rx)/float64(len(lat)), "B/header")
				b.ReportMetric(float64(in)/float64(len(lat)), "stream-B/header")
			})
		}
	}
}
