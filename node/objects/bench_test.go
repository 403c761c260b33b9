package objects_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tessera-da/tessera/node"
	"github.com/tessera-da/tessera/node/objects"
)

// benchNet runs a producer with k=256 squares (about 31 MB of blob data a
// block) and a 50 ms block interval, and returns a client of its RPC.
func benchNet(b *testing.B) (context.Context, objects.Caller) {
	ctx := context.Background()
	return ctx, startNetWith(b, ctx, node.LocalNetParams{ChainID: "objects-bench", BlockInterval: 50 * time.Millisecond, MaxSquareWidth: 256})
}

// BenchmarkPublish publishes a 64 MiB object in 1 MiB pages through a
// producer's RPC, end to end: pages read, committed to and submitted,
// every page waited for until included, then the manifest submitted and
// included. MB/s is object bytes per second.
func BenchmarkPublish(b *testing.B) {
	ctx, c := benchNet(b)
	data := testData(64<<20, 5)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		data[0] = byte(i) // a new object each time
		if _, err := objects.Put(ctx, c, []byte("bench/publish"), bytes.NewReader(data), int64(len(data)), objects.Options{PageSize: 1 << 20, Parallel: 8, Key: testKey}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDownload downloads a verified 64 MiB object (1 MiB pages, as
// blobs: every page hashed, its commitment recomputed and its commitment
// proof checked) from the producer's RPC into a file.
func BenchmarkDownload(b *testing.B) {
	ctx, c := benchNet(b)
	data := testData(64<<20, 6)
	ref, err := objects.Put(ctx, c, []byte("bench/download"), bytes.NewReader(data), int64(len(data)), objects.Options{PageSize: 1 << 20, Parallel: 8, Key: testKey})
	if err != nil {
		b.Fatal(err)
	}
	out := filepath.Join(b.TempDir(), "out")
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := objects.Download(ctx, c, *ref, out, objects.DownloadOptions{ReadOptions: objects.ReadOptions{PieceTimeout: -1}}); err != nil {
			b.Fatal(err)
		}
		if err := os.Remove(out); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGetRange reads 3 MiB from the middle of a 16 MiB object: the
// four pages it overlaps, verified.
func BenchmarkGetRange(b *testing.B) {
	ctx, c := benchNet(b)
	data := testData(16<<20, 7)
	ref, err := objects.Put(ctx, c, []byte("bench/range"), bytes.NewReader(data), int64(len(data)), objects.Options{PageSize: 1 << 20, Parallel: 8, Key: testKey})
	if err != nil {
		b.Fatal(err)
	}
	const off, n = 5<<20 + 12345, 3 << 20
	b.SetBytes(n)
	b.ReportAllocs()
	for b.Loop() {
		got, _, err := objects.GetRangeWith(ctx, c, *ref, off, n, objects.ReadOptions{PieceTimeout: -1})
		if err != nil || !bytes.Equal(got, data[off:off+n]) {
			b.Fatal(err)
		}
	}
}
