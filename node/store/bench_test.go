package store

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/tessera-da/tessera/node/header"
)

// benchBlock returns a block whose k×k ODS is like a busy block's: 90% of the shares blob data
// (incompressible), the rest tail padding, with blobs of 16 shares in
// namespaces 2…
func benchBlock(b *testing.B, k uint32) *Block {
	shares := k * k
	used := shares * 9 / 10
	specs := make([]blobSpec, 0, used/16)
	for i := uint32(0); i+16 < used; i += 16 {
		specs = append(specs, blobSpec{ns: byte(i/16%250 + 2), shares: 16, tx: i / 16})
	}
	blk := testBlock(b, nil, k, specs, nil)
	rng := rand.New(rand.NewPCG(1, 2))
	for _, e := range blk.Blobs {
		for s := e.ShareStart; s < e.ShareStart+e.ShareCount; s++ {
			share := blk.ODS[int(s)*ShareSize : int(s+1)*ShareSize]
			for j := NamespaceSize; j < ShareSize; j++ {
				share[j] = byte(rng.Uint32())
			}
		}
	}
	return blk
}

// nextBlock re-signs blk as the block after prev.
func nextBlock(blk *Block, prev *header.Header) {
	h := blk.Header
	h.Height, h.PrevHash = 1, header.Hash{}
	if prev != nil {
		h.Height, h.PrevHash = prev.Height+1, prev.Hash()
	}
	h.Sign(testKey)
}

// BenchmarkPutBlock stores consecutive blocks with fsync on: one
// transaction per block with header, ODS chunks, blob list and indexes.
func BenchmarkPutBlock(b *testing.B) {
	for _, k := range []uint32{32, 128} {
		b.Run(fmt.Sprintf("k=%d", k), func(b *testing.B) {
			s := openTest(b, b.TempDir(), Options{})
			blk := benchBlock(b, k)
			b.SetBytes(int64(len(blk.ODS)))
			b.ReportAllocs()
			var prev *header.Header
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				nextBlock(blk, prev)
				b.StartTimer()
				if err := s.PutBlock(blk); err != nil {
					b.Fatal(err)
				}
				prev = blk.Header
				blk.Header = new(header.Header)
				*blk.Header = *prev
			}
			b.ReportMetric(float64(len(blk.Blobs)), "blobs/block")
		})
	}
}

// BenchmarkEnqueue appends 1 KiB submissions with fsync on, from one
// goroutine: each Enqueue is one fsynced commit.
func BenchmarkEnqueue(b *testing.B) {
	s := openTest(b, b.TempDir(), Options{})
	sub := Submission{Blobs: make([]byte, 1024), Size: 1024}
	b.SetBytes(1024)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Enqueue(sub); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkODS reads a whole k=128 ODS (8 MiB): chunks, checksums, decoding.
func BenchmarkODS(b *testing.B) {
	for _, k := range []uint32{128} {
		b.Run(fmt.Sprintf("k=%d", k), func(b *testing.B) {
			s := openTest(b, b.TempDir(), Options{})
			blk := benchBlock(b, k)
			nextBlock(blk, nil)
			mustPut(b, s, blk)
			b.SetBytes(int64(len(blk.ODS)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.ODS(1); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkEnqueueParallel appends from 8 goroutines per CPU. Commits are
// serialised under the writer lock, each with its own fsync, so this shows
// the cost of having no group commit.
func BenchmarkEnqueueParallel(b *testing.B) {
	s := openTest(b, b.TempDir(), Options{})
	sub := Submission{Blobs: make([]byte, 1024), Size: 1024}
	b.SetBytes(1024)
	b.ReportAllocs()
	b.SetParallelism(8)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.Enqueue(sub); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
