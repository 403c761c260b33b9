package nmt

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"testing"
)

const benchShareSize = 512 // bytes

// benchLeaves returns n shares of benchShareSize bytes, each starting with
// its namespace, with sorted namespaces (about 16 shares per namespace), and
// the parallel namespaces.
func benchLeaves(n int) (nss, shares [][]byte) {
	rng := rand.New(rand.NewPCG(uint64(n), 99))
	for i := 0; i < n; i++ {
		ns := make([]byte, NamespaceSize)
		ns[NamespaceSize-2] = byte(i / 16 >> 8)
		ns[NamespaceSize-1] = byte(i / 16)
		share := make([]byte, benchShareSize)
		for j := range share {
			share[j] = byte(rng.Uint32())
		}
		copy(share, ns)
		nss = append(nss, ns)
		shares = append(shares, share)
	}
	return nss, shares
}

var benchSizes = []int{256, 1024}

// BenchmarkNMTRoot is the erasure path: one reused Tree per worker, leaves
// pushed as namespace and share (29 + 512 bytes), root appended into a
// caller buffer. Zero allocations in steady state.
func BenchmarkNMTRoot(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("leaves=%d", n), func(b *testing.B) {
			nss, shares := benchLeaves(n)
			tr := New(SizeHint(n))
			roots := make([]byte, 0, NodeSize)
			b.SetBytes(int64(n * (NamespaceSize + benchShareSize)))
			b.ReportAllocs()
			for b.Loop() {
				tr.Reset()
				for i := range shares {
					if err := tr.PushNamespaced(nss[i], shares[i]); err != nil {
						b.Fatal(err)
					}
				}
				roots = tr.AppendRoot(roots[:0])
			}
		})
	}
}

// BenchmarkNMTComputeRoot is the one-shot path over concatenated leaves.
func BenchmarkNMTComputeRoot(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("leaves=%d", n), func(b *testing.B) {
			nss, shares := benchLeaves(n)
			leaves := make([][]byte, n)
			for i := range leaves {
				leaves[i] = append(bytes.Clone(nss[i]), shares[i]...)
			}
			b.SetBytes(int64(n * (NamespaceSize + benchShareSize)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ComputeRoot(leaves); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkNMTRootNewTree builds a fresh Tree per root (no reuse).
func BenchmarkNMTRootNewTree(b *testing.B) {
	n := 256
	b.Run(fmt.Sprintf("leaves=%d", n), func(b *testing.B) {
		nss, shares := benchLeaves(n)
		b.SetBytes(int64(n * (NamespaceSize + benchShareSize)))
		b.ReportAllocs()
		for b.Loop() {
			tr := New()
			for i := range shares {
				_ = tr.PushNamespaced(nss[i], shares[i])
			}
			_ = tr.Root()
		}
	})
}

func benchTree(b *testing.B, n int) (*Tree, [][]byte, []byte) {
	nss, shares := benchLeaves(n)
	tr := New(SizeHint(n))
	var leaves [][]byte
	for i := range shares {
		_ = tr.PushNamespaced(nss[i], shares[i])
		leaves = append(leaves, append(bytes.Clone(nss[i]), shares[i]...))
	}
	return tr, leaves, tr.Root()
}

// BenchmarkNMTProve is a single-leaf proof on a built tree.
func BenchmarkNMTProve(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("leaves=%d", n), func(b *testing.B) {
			tr, _, _ := benchTree(b, n)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if _, err := tr.Prove(i % n); err != nil {
					b.Fatal(err)
				}
				i += 37
			}
		})
	}
}

// BenchmarkNMTProveNamespace proves a namespace of 16 shares.
func BenchmarkNMTProveNamespace(b *testing.B) {
	tr, leaves, _ := benchTree(b, 256)
	ns := leaves[100][:NamespaceSize]
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tr.ProveNamespace(ns); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNMTVerify verifies a single-leaf proof (one 541-byte leaf).
func BenchmarkNMTVerify(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("leaves=%d", n), func(b *testing.B) {
			tr, leaves, root := benchTree(b, n)
			p, _ := tr.Prove(n / 3)
			leaf := leaves[n/3]
			b.SetBytes(int64(len(leaf)))
			b.ReportAllocs()
			for b.Loop() {
				if err := p.VerifyInclusion(root, leaf); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkNMTVerifyNamespace verifies a 16-leaf namespace proof.
func BenchmarkNMTVerifyNamespace(b *testing.B) {
	tr, leaves, root := benchTree(b, 256)
	ns := leaves[100][:NamespaceSize]
	p, _ := tr.ProveNamespace(ns)
	mine := leaves[p.Start():p.End()]
	b.SetBytes(int64(len(mine) * len(mine[0])))
	b.ReportAllocs()
	for b.Loop() {
		if err := p.VerifyNamespace(root, ns, mine...); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkNMTParseProof(b *testing.B) {
	tr, _, _ := benchTree(b, 256)
	p, _ := tr.Prove(77)
	enc, _ := p.MarshalBinary()
	b.SetBytes(int64(len(enc)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseProof(enc); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNMTRootFloor hashes exactly the messages a root of n leaves
// needs (n of 542 bytes, n−1 of 181 bytes) with sha256.Sum256 from
// prepared buffers: the floor BenchmarkNMTRoot is measured against.
func BenchmarkNMTRootFloor(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("leaves=%d", n), func(b *testing.B) {
			leafMsg := make([]byte, 1+NamespaceSize+benchShareSize)
			innerMsg := make([]byte, innerInputSize)
			b.SetBytes(int64(n * (NamespaceSize + benchShareSize)))
			b.ReportAllocs()
			for b.Loop() {
				for i := 0; i < n; i++ {
					s := sha256.Sum256(leafMsg)
					leafMsg[1] = s[0]
				}
				for i := 0; i < n-1; i++ {
					s := sha256.Sum256(innerMsg)
					innerMsg[1] = s[0]
				}
			}
		})
	}
}
