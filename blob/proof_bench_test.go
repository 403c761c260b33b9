package blob

import (
	"testing"

	"github.com/tessera-da/tessera/share"
)

// benchFixture is a k = 128 square holding a 1 MiB blob (the first blob)
// among 6 MiB of others.
func benchFixture(b *testing.B) (*fixture, placed) {
	b.Helper()
	f := constructFixture(b, "bench", 42, 128, [][]int{{1 << 20}, {1 << 20, 1 << 20}, {1 << 20}, {1 << 20, 1 << 20}, {1 << 20}})
	if k := f.eds.ODSWidth(); k != 128 {
		b.Fatalf("square width %d, want 128", k)
	}
	return f, f.blobs[0]
}

func BenchmarkProveBlob(b *testing.B) {
	b.Run("1MiB", func(b *testing.B) {
		f, p := benchFixture(b)
		b.SetBytes(int64(len(p.b.Data())))
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			if _, err := ProveBlob(f.eds, p.start, p.count); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkVerifyBlobProof(b *testing.B) {
	b.Run("1MiB", func(b *testing.B) {
		f, p := benchFixture(b)
		proof, err := ProveBlob(f.eds, p.start, p.count)
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(len(p.b.Data())))
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			if err := proof.Verify(f.dah, p.b, p.start); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkCommitmentProof(b *testing.B) {
	b.Run("1MiB", func(b *testing.B) {
		f, p := benchFixture(b)
		b.SetBytes(int64(len(p.b.Data())))
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			if _, err := ProveCommitment(f.eds, f.dah, p.start, p.count); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkVerifyCommitmentProof(b *testing.B) {
	f, p := benchFixture(b)
	cp, err := ProveCommitment(f.eds, f.dah, p.start, p.count)
	if err != nil {
		b.Fatal(err)
	}
	c, err := ComputeCommitment(p.b, share.SubtreeRootThreshold)
	if err != nil {
		b.Fatal(err)
	}
	root := f.dah.Hash()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := cp.Verify(root, p.b.Namespace(), c); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkNamespaceData(b *testing.B) {
	b.Run("k=128", func(b *testing.B) {
		f, p := benchFixture(b)
		ns := p.b.Namespace()
		nd, err := ProveNamespaceData(f.eds, f.dah, ns)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(len(nd)), "rows")
		b.SetBytes(int64(len(nd.Shares()) * share.ShareSize))
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			if _, err := ProveNamespaceData(f.eds, f.dah, ns); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("k=128/verify", func(b *testing.B) {
		f, p := benchFixture(b)
		ns := p.b.Namespace()
		nd, err := ProveNamespaceData(f.eds, f.dah, ns)
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(len(nd.Shares()) * share.ShareSize))
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			if err := nd.Verify(f.dah, ns); err != nil {
				b.Fatal(err)
			}
		}
	})
}
