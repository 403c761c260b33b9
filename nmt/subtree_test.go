package nmt

import (
	"bytes"
	"errors"
	"math/bits"
	"math/rand/v2"
	"testing"
)

// refToLeafRanges transcribes celestiaorg/nmt's ToLeafRanges/nextLeafRange.
func refToLeafRanges(start, end, width int) ([]LeafRange, bool) {
	if start < 0 || end <= start || width <= 0 {
		return nil, false
	}
	var out []LeafRange
	cur, left := start, end-start
	for left != 0 {
		m := min(end-cur, width)
		size := 1 << (bits.Len(uint(m)) - 1)
		rangeEnd := cur + size
		// nextSubtreeSize(cur, rangeEnd)
		ideal := bits.TrailingZeros64(uint64(cur))
		mx := bits.Len64(uint64(rangeEnd-cur)) - 1
		idealSize := 1 << min(ideal, mx)
		if cur+idealSize != rangeEnd {
			return nil, false
		}
		out = append(out, LeafRange{cur, rangeEnd})
		left -= size
		cur = rangeEnd
	}
	return out, true
}

func TestToLeafRanges(t *testing.T) {
	for start := 0; start < 40; start++ {
		for end := start + 1; end <= 64; end++ {
			for _, w := range []int{1, 2, 4, 8, 16, 3} {
				got, err := ToLeafRanges(start, end, w)
				want, ok := refToLeafRanges(start, end, w)
				if (err == nil) != ok {
					t.Fatalf("[%d,%d) w=%d: err %v, reference ok %v", start, end, w, err, ok)
				}
				if ok && (len(got) != len(want) || (len(got) > 0 && got[len(got)-1] != want[len(want)-1]) || got[0] != want[0]) {
					t.Fatalf("[%d,%d) w=%d: %v, want %v", start, end, w, got, want)
				}
			}
		}
	}
	for _, c := range [][3]int{{-1, 2, 1}, {2, 2, 1}, {0, 4, 0}, {0, MaxLeaves + 1, 1}, {0, MaxLeafRanges + 1, 1}} {
		if _, err := ToLeafRanges(c[0], c[1], c[2]); !errors.Is(err, ErrInvalidRange) {
			t.Errorf("ToLeafRanges%v = %v", c, err)
		}
	}
}

// subtreeRootsOf returns the roots of ranges computed by separate trees over
// the leaves of each range, as a blob commitment computes them.
func subtreeRootsOf(t *testing.T, leaves [][]byte, ranges []LeafRange) [][]byte {
	var out [][]byte
	for _, r := range ranges {
		root, err := ComputeRoot(leaves[r.Start:r.End])
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, root)
	}
	return out
}

func TestVerifySubtreeRoots(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 42))
	checked := 0
	for _, n := range []int{1, 2, 4, 8, 16, 32} {
		leaves := randomLeaves(rng, n, 8, n/2)
		tr := buildTree(t, leaves)
		root := tr.Root()
		for s := 0; s < n; s++ {
			for e := s + 1; e <= n; e++ {
				for _, w := range []int{1, 2, 4, 8} {
					ranges, err := ToLeafRanges(s, e, w)
					if err != nil {
						continue
					}
					p, _ := tr.ProveRange(s, e)
					roots := subtreeRootsOf(t, leaves, ranges)
					if err := p.VerifySubtreeRoots(root, roots, w); err != nil {
						t.Fatalf("n=%d [%d,%d) w=%d: %v", n, s, e, w, err)
					}
					checked++
					// Every byte mutation of every subtree root fails.
					for i := range roots {
						for j := 0; j < NodeSize; j += 7 {
							bad := make([][]byte, len(roots))
							for k := range roots {
								bad[k] = bytes.Clone(roots[k])
							}
							bad[i][j] ^= 1
							if err := p.VerifySubtreeRoots(root, bad, w); !errors.Is(err, ErrInvalidProof) {
								t.Fatalf("mutated subtree root verified: %v", err)
							}
						}
					}
					// Missing, extra or reordered roots fail.
					if err := p.VerifySubtreeRoots(root, roots[1:], w); err == nil {
						t.Fatal("missing root verified")
					}
					if err := p.VerifySubtreeRoots(root, append(roots, roots[0]), w); err == nil {
						t.Fatal("extra root verified")
					}
					if len(roots) > 1 {
						sw := append([][]byte{roots[1], roots[0]}, roots[2:]...)
						if err := p.VerifySubtreeRoots(root, sw, w); err == nil {
							t.Fatal("swapped roots verified")
						}
					}
				}
			}
		}
	}
	if checked == 0 {
		t.Fatal("nothing checked")
	}
	// Bounded work: a huge claimed range with one root is rejected before
	// any hashing.
	p := mustProof(t, 0, MaxLeaves, nil, nil, true)
	if err := p.VerifySubtreeRoots(EmptyRoot(), [][]byte{EmptyRoot()}, 1); !errors.Is(err, ErrInvalidRange) {
		t.Fatalf("huge range: %v", err)
	}
	if err := (Proof{}).VerifySubtreeRoots(EmptyRoot(), nil, 1); !errors.Is(err, ErrInvalidRange) {
		t.Fatalf("empty proof: %v", err)
	}
}

func FuzzVerifySubtreeRoots(f *testing.F) {
	fx := newFuzzFixture(16, 7)
	for _, c := range [][3]int{{0, 16, 4}, {3, 9, 2}, {4, 12, 8}, {5, 6, 1}} {
		p, _ := fx.tree.ProveRange(c[0], c[1])
		f.Add(encode(f, p), uint8(c[2]), uint8(0))
	}
	f.Fuzz(func(t *testing.T, proof []byte, w, drop uint8) {
		p, err := ParseProof(proof)
		if err != nil {
			return
		}
		ranges, err := ToLeafRanges(p.Start(), min(p.End(), len(fx.leaves)), int(w))
		var roots [][]byte
		if err == nil && p.End() <= len(fx.leaves) {
			roots = subtreeRootsOf(t, fx.leaves, ranges)
		}
		if int(drop) < len(roots) && drop%2 == 1 {
			roots = append(roots[:drop], roots[drop+1:]...)
		}
		err = p.VerifySubtreeRoots(fx.root, roots, int(w))
		if err != nil {
			if !errors.Is(err, ErrInvalidProof) {
				t.Fatalf("%v does not wrap ErrInvalidProof", err)
			}
			return
		}
		// Soundness: only the honest range with all its roots verifies in a
		// power-of-two tree. The IgnoreMaxNamespace flag may differ: it
		// cannot change a root that verifies (seed 097bd09dd459eaed: one
		// subtree root that is the root itself, so nothing is hashed).
		honest, _ := fx.tree.ProveRange(p.Start(), p.End())
		if honest.Start() != p.Start() || honest.End() != p.End() || !bytes.Equal(honest.nodes, p.nodes) {
			t.Fatalf("non-honest proof %+v verified", p)
		}
	})
}
