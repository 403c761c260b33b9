package nmt

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"
)

func buildTree(t testing.TB, leaves [][]byte, opts ...Option) *Tree {
	t.Helper()
	tr := New(opts...)
	for i, l := range leaves {
		if err := tr.Push(l); err != nil {
			t.Fatalf("Push(%d): %v", i, err)
		}
	}
	return tr
}

// TestDifferentialRoot compares Tree.Root, Tree.AppendRoot and ComputeRoot
// with the naive recursive reference for every size up to 130, both
// IgnoreMaxNamespace settings, with and without parity tails.
func TestDifferentialRoot(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	reused := New()
	for n := 0; n <= 130; n++ {
		for _, ignore := range []bool{true, false} {
			parity := 0
			if n > 1 {
				parity = rng.IntN(n/2 + 1)
			}
			leaves := randomLeaves(rng, n, 1+rng.IntN(40), parity)
			want := refRoot(leaves, ignore)
			tr := buildTree(t, leaves, IgnoreMaxNamespace(ignore))
			if got := tr.Root(); !bytes.Equal(got, want) {
				t.Fatalf("n=%d ignore=%v: Tree.Root = %x, want %x", n, ignore, got, want)
			}
			got, err := ComputeRoot(leaves, IgnoreMaxNamespace(ignore))
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("n=%d ignore=%v: ComputeRoot = %x, %v", n, ignore, got, err)
			}
			if !ignore {
				continue
			}
			reused.Reset()
			for _, l := range leaves {
				if err := reused.PushNamespaced(l[:NamespaceSize], l[NamespaceSize:]); err != nil {
					t.Fatal(err)
				}
			}
			if got := reused.AppendRoot([]byte{7}); got[0] != 7 || !bytes.Equal(got[1:], want) {
				t.Fatalf("n=%d: reused AppendRoot = %x", n, got)
			}
		}
	}
}

// TestDifferentialProofs compares every range proof of every tree up to 40
// leaves with the reference prover, and checks that the reference verifier
// and ours agree on it.
func TestDifferentialProofs(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for n := 1; n <= 40; n++ {
		leaves := randomLeaves(rng, n, 8, rng.IntN(n/2+1))
		tr := buildTree(t, leaves)
		root := tr.Root()
		var leafNodes [][]byte
		for _, l := range leaves {
			leafNodes = append(leafNodes, refLeaf(l))
		}
		for s := 0; s < n; s++ {
			for e := s + 1; e <= n; e++ {
				p, err := tr.ProveRange(s, e)
				if err != nil {
					t.Fatal(err)
				}
				want := refProveRange(leafNodes, s, e, true)
				if got := p.Nodes(); len(got) != len(want) {
					t.Fatalf("n=%d [%d,%d): %d nodes, want %d", n, s, e, len(got), len(want))
				} else {
					for i := range got {
						if !bytes.Equal(got[i], want[i]) {
							t.Fatalf("n=%d [%d,%d): node %d differs", n, s, e, i)
						}
					}
				}
				if !refVerify(root, s, e, want, leafNodes[s:e], true) {
					t.Fatalf("n=%d [%d,%d): reference rejects", n, s, e)
				}
				if err := p.VerifyInclusion(root, leaves[s:e]...); err != nil {
					t.Fatalf("n=%d [%d,%d): %v", n, s, e, err)
				}
				if err := p.VerifyLeafHashes(root, leafNodes[s:e]...); err != nil {
					t.Fatalf("n=%d [%d,%d): VerifyLeafHashes: %v", n, s, e, err)
				}
			}
		}
	}
}

// TestDifferentialVerifyRandomProofs feeds both verifiers proofs with random
// (mostly wrong) shapes and checks that they agree.
func TestDifferentialVerifyRandomProofs(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for iter := 0; iter < 3000; iter++ {
		n := 1 + rng.IntN(20)
		leaves := randomLeaves(rng, n, 4, rng.IntN(n/2+1))
		tr := buildTree(t, leaves)
		root := tr.Root()
		s := rng.IntN(n)
		e := s + 1 + rng.IntN(n-s)
		honest, _ := tr.ProveRange(s, e)
		nodes := honest.Nodes()
		// Perturb the shape: drop, duplicate or swap nodes, shift the range.
		switch rng.IntN(5) {
		case 0:
			if len(nodes) > 0 {
				i := rng.IntN(len(nodes))
				nodes = append(nodes[:i], nodes[i+1:]...)
			}
		case 1:
			if len(nodes) > 0 {
				nodes = append(nodes, nodes[rng.IntN(len(nodes))])
			}
		case 2:
			if len(nodes) > 1 {
				i, j := rng.IntN(len(nodes)), rng.IntN(len(nodes))
				nodes[i], nodes[j] = nodes[j], nodes[i]
			}
		case 3:
			d := rng.IntN(5) - 2
			if s+d >= 0 {
				s, e = s+d, e+d
			}
		}
		p, err := NewProof(s, e, nodes, nil, true)
		if err != nil {
			continue
		}
		var lhs [][]byte
		for _, l := range leaves[honest.Start():honest.End()] {
			lhs = append(lhs, refLeaf(l))
		}
		want := refVerify(root, s, e, nodes, lhs, true)
		got := p.VerifyLeafHashes(root, lhs...)
		if (got == nil) != want {
			t.Fatalf("n=%d [%d,%d) %d nodes: ours %v, reference %v", n, s, e, len(nodes), got, want)
		}
	}
}

func TestPushErrors(t *testing.T) {
	ns := func(b byte) []byte { x := make([]byte, NamespaceSize); x[NamespaceSize-1] = b; return x }
	tests := []struct {
		name string
		push func(*Tree) error
		want error
	}{
		{"short leaf", func(tr *Tree) error { return tr.Push(make([]byte, NamespaceSize-1)) }, ErrInvalidLeaf},
		{"nil leaf", func(tr *Tree) error { return tr.Push(nil) }, ErrInvalidLeaf},
		{"short namespace", func(tr *Tree) error { return tr.PushNamespaced(make([]byte, 28), nil) }, ErrInvalidNamespace},
		{"long namespace", func(tr *Tree) error { return tr.PushNamespaced(make([]byte, 30), nil) }, ErrInvalidNamespace},
		{"out of order", func(tr *Tree) error {
			if err := tr.PushNamespaced(ns(2), nil); err != nil {
				return err
			}
			return tr.PushNamespaced(ns(1), nil)
		}, ErrOutOfOrder},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := New()
			if err := tc.push(tr); !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
	// A namespace-only leaf is valid and equal leaves are in order.
	tr := New()
	for i := 0; i < 3; i++ {
		if err := tr.Push(ns(5)); err != nil {
			t.Fatal(err)
		}
	}
	// A rejected push leaves the tree unchanged.
	before := tr.Root()
	if err := tr.Push(ns(4)); !errors.Is(err, ErrOutOfOrder) {
		t.Fatal(err)
	}
	if tr.Size() != 3 || !bytes.Equal(tr.Root(), before) {
		t.Fatal("rejected push changed the tree")
	}
}

func TestProveRangeErrors(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	tr := buildTree(t, randomLeaves(rng, 5, 4, 0))
	for _, r := range [][2]int{{-1, 1}, {0, 0}, {3, 2}, {0, 6}, {5, 6}, {2, 2}, {-5, -4}} {
		if _, err := tr.ProveRange(r[0], r[1]); !errors.Is(err, ErrInvalidRange) {
			t.Errorf("ProveRange(%d, %d) = %v", r[0], r[1], err)
		}
	}
	for _, i := range []int{-1, 5, 1 << 40} {
		if _, err := tr.Prove(i); !errors.Is(err, ErrInvalidRange) {
			t.Errorf("Prove(%d) = %v", i, err)
		}
	}
	if _, err := New().ProveRange(0, 1); !errors.Is(err, ErrInvalidRange) {
		t.Errorf("ProveRange on an empty tree = %v", err)
	}
	if _, err := tr.ProveNamespace(make([]byte, 3)); !errors.Is(err, ErrInvalidNamespace) {
		t.Errorf("ProveNamespace(short) = %v", err)
	}
	if _, err := tr.LeafNode(5); !errors.Is(err, ErrInvalidRange) {
		t.Errorf("LeafNode(5) = %v", err)
	}
}

// TestTreeReuseAndInterleaving checks that pushing after proving rebuilds
// the inner nodes, and that Reset really empties the tree.
func TestTreeReuseAndInterleaving(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	leaves := randomLeaves(rng, 37, 16, 5)
	tr := New(SizeHint(4))
	for i, l := range leaves {
		if err := tr.Push(l); err != nil {
			t.Fatal(err)
		}
		if got, want := tr.Root(), refRoot(leaves[:i+1], true); !bytes.Equal(got, want) {
			t.Fatalf("after %d pushes root = %x, want %x", i+1, got, want)
		}
		p, err := tr.Prove(i)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.VerifyInclusion(tr.Root(), l); err != nil {
			t.Fatalf("after %d pushes: %v", i+1, err)
		}
	}
	tr.Reset()
	if tr.Size() != 0 || !bytes.Equal(tr.Root(), EmptyRoot()) {
		t.Fatal("Reset did not empty the tree")
	}
}

func TestComputeRootErrors(t *testing.T) {
	a := make([]byte, NamespaceSize)
	b := bytes.Clone(a)
	b[0] = 1
	if _, err := ComputeRoot([][]byte{b, a}); !errors.Is(err, ErrOutOfOrder) {
		t.Errorf("out of order: %v", err)
	}
	if _, err := ComputeRoot([][]byte{a, {1}}); !errors.Is(err, ErrInvalidLeaf) {
		t.Errorf("short leaf: %v", err)
	}
	if r, err := ComputeRoot(nil); err != nil || !bytes.Equal(r, EmptyRoot()) {
		t.Errorf("empty: %x %v", r, err)
	}
}

func TestComputeInnerNode(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	leaves := randomLeaves(rng, 2, 4, 1)
	l, _ := ComputeLeafNode(leaves[0])
	r, _ := ComputeLeafNode(leaves[1])
	for _, ignore := range []bool{true, false} {
		got, err := ComputeInnerNode(l, r, ignore)
		want, _ := refNode(l, r, ignore)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("ignore=%v: %x %v", ignore, got, err)
		}
	}
	if _, err := ComputeInnerNode(r, l, true); !errors.Is(err, ErrOutOfOrder) {
		t.Errorf("swapped children: %v", err)
	}
	if _, err := ComputeInnerNode(l[:89], r, true); !errors.Is(err, ErrInvalidNodeSize) {
		t.Errorf("short child: %v", err)
	}
	bad := bytes.Clone(l)
	bad[0] = 0xff
	if _, err := ComputeInnerNode(bad, r, true); !errors.Is(err, ErrInvalidNode) {
		t.Errorf("min > max child: %v", err)
	}
	if _, err := ComputeNamespacedLeafNode(make([]byte, 30), nil); !errors.Is(err, ErrInvalidNamespace) {
		t.Errorf("ComputeNamespacedLeafNode: %v", err)
	}
	if MinNamespace(l[:3]) != nil || MaxNamespace(nil) != nil {
		t.Error("Min/MaxNamespace of a short node")
	}
}

// TestConcurrentProofs backs the documented guarantee that a built tree
// serves proofs from many goroutines (run with -race).
func TestConcurrentProofs(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	leaves := randomLeaves(rng, 64, 8, 16)
	tr := buildTree(t, leaves)
	root := tr.Root()
	done := make(chan error, 4)
	for g := 0; g < 4; g++ {
		go func(g int) {
			for i := g; i < len(leaves); i += 4 {
				p, err := tr.Prove(i)
				if err == nil {
					err = p.VerifyInclusion(root, leaves[i])
				}
				if err == nil {
					_, err = tr.ProveNamespace(leaves[i][:NamespaceSize])
				}
				if err != nil {
					done <- err
					return
				}
				_ = tr.Root()
			}
			done <- nil
		}(g)
	}
	for g := 0; g < 4; g++ {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}
