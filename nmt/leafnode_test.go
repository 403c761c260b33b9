package nmt

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"
)

// TestPushLeafNodeDifferential builds every tree up to 70 leaves twice, once
// from its leaves and once from the leaf nodes read back with
// AppendLeafNode, and compares roots, every leaf node and every proof.
func TestPushLeafNodeDifferential(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	byNode := New()
	for n := 1; n <= 70; n++ {
		leaves := randomLeaves(rng, n, 1+rng.IntN(40), rng.IntN(n/2+1))
		byLeaf := buildTree(t, leaves)
		byNode.Reset()
		var nodes []byte
		for i := range n {
			var err error
			if nodes, err = byLeaf.AppendLeafNode(nodes, i); err != nil {
				t.Fatal(err)
			}
			if err := byNode.PushLeafNode(nodes[i*NodeSize : (i+1)*NodeSize]); err != nil {
				t.Fatalf("n=%d: PushLeafNode(%d): %v", n, i, err)
			}
		}
		if got, want := byNode.Root(), refRoot(leaves, true); !bytes.Equal(got, want) || !bytes.Equal(byLeaf.Root(), want) {
			t.Fatalf("n=%d: root from leaf nodes %x, want %x", n, got, want)
		}
		for i := range n {
			want, _ := ComputeLeafNode(leaves[i])
			got, err := byNode.LeafNode(i)
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("n=%d: leaf node %d = %x, %v", n, i, got, err)
			}
			p1, _ := byLeaf.Prove(i)
			p2, _ := byNode.Prove(i)
			if !p1.Equal(p2) {
				t.Fatalf("n=%d: proofs of leaf %d differ", n, i)
			}
		}
	}
}

func TestPushLeafNodeErrors(t *testing.T) {
	leaf := func(b byte) []byte {
		l := make([]byte, NamespaceSize+3)
		l[NamespaceSize-1] = b
		n, err := ComputeLeafNode(l)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	tr := New()
	if err := tr.PushLeafNode(leaf(5)); err != nil {
		t.Fatal(err)
	}
	mixed := leaf(6)
	mixed[2*NamespaceSize-1] = 7 // max 7, min 6: an inner node's shape
	cases := []struct {
		name string
		node []byte
		want error
	}{
		{"short", leaf(6)[:NodeSize-1], ErrInvalidNodeSize},
		{"long", append(leaf(6), 0), ErrInvalidNodeSize},
		{"nil", nil, ErrInvalidNodeSize},
		{"min != max", mixed, ErrInvalidNode},
		{"out of order", leaf(4), ErrOutOfOrder},
	}
	for _, c := range cases {
		if err := tr.PushLeafNode(c.node); !errors.Is(err, c.want) {
			t.Errorf("%s: err = %v, want %v", c.name, err, c.want)
		}
	}
	if tr.Size() != 1 {
		t.Fatalf("failed pushes changed the size to %d", tr.Size())
	}
	if err := tr.PushLeafNode(leaf(5)); err != nil {
		t.Fatalf("equal namespace rejected: %v", err)
	}
}

func TestAppendLeafNode(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	leaves := randomLeaves(rng, 9, 20, 3)
	tr := buildTree(t, leaves)
	for _, i := range []int{-1, 9, 100} {
		if _, err := tr.AppendLeafNode(nil, i); !errors.Is(err, ErrInvalidRange) {
			t.Errorf("AppendLeafNode(%d) err = %v", i, err)
		}
	}
	got, err := tr.AppendLeafNode([]byte{1, 2}, 4)
	want, _ := ComputeLeafNode(leaves[4])
	if err != nil || !bytes.Equal(got[:2], []byte{1, 2}) || !bytes.Equal(got[2:], want) {
		t.Fatalf("AppendLeafNode = %x, %v", got, err)
	}
	buf := make([]byte, 0, NodeSize)
	if a := testing.AllocsPerRun(100, func() { buf, _ = tr.AppendLeafNode(buf[:0], 3) }); a != 0 {
		t.Fatalf("AppendLeafNode allocates %v times", a)
	}
	fresh := New(SizeHint(9))
	nodes := make([]byte, 0, 9*NodeSize)
	for i := range 9 {
		nodes, _ = tr.AppendLeafNode(nodes, i)
	}
	if a := testing.AllocsPerRun(20, func() {
		fresh.Reset()
		for i := range 9 {
			if err := fresh.PushLeafNode(nodes[i*NodeSize : (i+1)*NodeSize]); err != nil {
				t.Fatal(err)
			}
		}
	}); a != 0 {
		t.Fatalf("PushLeafNode into a reused tree allocates %v times", a)
	}
}

// TestSubtreeRoot compares every aligned subtree root of trees up to 40
// leaves with a separately computed root over the same leaves.
func TestSubtreeRoot(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for n := 1; n <= 40; n++ {
		leaves := randomLeaves(rng, n, 8, rng.IntN(n/2+1))
		tr := buildTree(t, leaves)
		for size := 1; size <= n; size *= 2 {
			for start := 0; start+size <= n; start += size {
				got, err := tr.SubtreeRoot(start, start+size)
				want := refRoot(leaves[start:start+size], true)
				if err != nil || !bytes.Equal(got, want) {
					t.Fatalf("n=%d: SubtreeRoot(%d, %d) = %x, %v; want %x", n, start, start+size, got, err, want)
				}
			}
		}
		for _, r := range [][2]int{{0, 0}, {-1, 1}, {1, 3}, {0, 3}, {2, 4 + n}, {n, n + 1}, {3, 2}} {
			if r[1]-r[0] == 2 && r[0] == 2 && r[1] <= n {
				continue // aligned and inside: valid
			}
			if _, err := tr.SubtreeRoot(r[0], r[1]); !errors.Is(err, ErrInvalidRange) {
				t.Fatalf("n=%d: SubtreeRoot(%d, %d) err = %v", n, r[0], r[1], err)
			}
		}
	}
	if _, err := New().SubtreeRoot(0, 1); !errors.Is(err, ErrInvalidRange) {
		t.Fatalf("empty tree: err = %v", err)
	}
}
