package nmt

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"
)

// fuzzFixture is a tree the Verify fuzz targets attack: distinct leaf data,
// repeated namespaces and a parity tail, so that a proof that verifies
// proves something checkable.
type fuzzFixture struct {
	leaves [][]byte
	nodes  [][]byte
	root   []byte
	tree   *Tree
}

func newFuzzFixture(n int, seed uint64) *fuzzFixture {
	rng := rand.New(rand.NewPCG(seed, seed+1))
	leaves := randomLeaves(rng, n, 5, n/4)
	tr := New()
	for _, l := range leaves {
		if err := tr.Push(l); err != nil {
			panic(err)
		}
	}
	f := &fuzzFixture{leaves: leaves, root: tr.Root(), tree: tr}
	for _, l := range leaves {
		f.nodes = append(f.nodes, refLeaf(l))
	}
	return f
}

func encode(t testing.TB, p Proof) []byte {
	b, err := p.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// seedProofs adds the encodings of honest proofs of the fixtures.
func seedProofs(f *testing.F, fixtures []*fuzzFixture, add func(fix uint8, proof []byte, a, b uint8)) {
	for fi, fx := range fixtures {
		n := len(fx.leaves)
		for s := 0; s < n; s += 3 {
			p, _ := fx.tree.ProveRange(s, min(n, s+2))
			add(uint8(fi), encode(f, p), uint8(s), uint8(min(n, s+2)))
		}
		for _, l := range fx.leaves {
			for _, ns := range [][]byte{l[:NamespaceSize], addNs(l[:NamespaceSize], 1)} {
				p, _ := fx.tree.ProveNamespace(ns)
				add(uint8(fi), encode(f, p), uint8(p.Start()), uint8(p.End()))
			}
		}
	}
}

func FuzzParseProof(f *testing.F) {
	v := loadNMTVectors(f)
	for _, tv := range v.Trees {
		for _, rp := range tv.RangeProofs {
			f.Add(encode(f, decodeVectorProof(f, rp.Proof)))
		}
		for _, np := range tv.NamespaceProofs {
			f.Add(encode(f, decodeVectorProof(f, np.Proof)))
		}
	}
	f.Add([]byte{})
	f.Add([]byte{0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Add([]byte{0x1a, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParseProof(b)
		if err != nil {
			if !errors.Is(err, ErrInvalidProof) {
				t.Fatalf("error %v does not wrap ErrInvalidProof", err)
			}
			return
		}
		// A parsed proof satisfies NewProof's invariants and round-trips.
		q, err := NewProof(p.Start(), p.End(), p.Nodes(), p.LeafHash(), p.IsMaxNamespaceIgnored())
		if err != nil || !q.Equal(p) {
			t.Fatalf("parsed proof %+v fails NewProof: %v", p, err)
		}
		enc, err := p.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		r, err := ParseProof(enc)
		if err != nil || !r.Equal(p) {
			t.Fatalf("round trip: %+v, %v", r, err)
		}
		enc2, _ := r.MarshalBinary()
		if !bytes.Equal(enc, enc2) {
			t.Fatal("encoding is not canonical")
		}
	})
}

// FuzzVerifyInclusion checks VerifyInclusion, VerifyLeafHashes and
// VerifyInclusionWithNamespace against the reference verifier on arbitrary
// proofs over the leaves [a, b) of a fixture (or arbitrary leaves).
func FuzzVerifyInclusion(f *testing.F) {
	fixtures := []*fuzzFixture{newFuzzFixture(16, 1), newFuzzFixture(11, 2), newFuzzFixture(1, 3)}
	seedProofs(f, fixtures, func(fix uint8, proof []byte, a, b uint8) { f.Add(fix, proof, a, b, []byte(nil)) })
	f.Add(uint8(0), []byte{0x10, 0x01}, uint8(0), uint8(1), []byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, fix uint8, proof []byte, a, b uint8, extra []byte) {
		fx := fixtures[int(fix)%len(fixtures)]
		p, err := ParseProof(proof)
		if err != nil {
			return
		}
		var leaves, nodes [][]byte
		if int(a) < int(b) && int(b) <= len(fx.leaves) {
			leaves, nodes = fx.leaves[a:b], fx.nodes[a:b]
		}
		if len(extra) > 0 {
			leaves = append(append([][]byte{}, leaves...), extra)
			if n, err := ComputeLeafNode(extra); err == nil {
				nodes = append(append([][]byte{}, nodes...), n)
			}
		}
		root := fx.root
		errIncl := p.VerifyInclusion(root, leaves...)
		errHash := p.VerifyLeafHashes(root, nodes...)
		if len(nodes) == len(leaves) && (errIncl == nil) != (errHash == nil) {
			t.Fatalf("VerifyInclusion %v but VerifyLeafHashes %v", errIncl, errHash)
		}
		for _, err := range []error{errIncl, errHash} {
			if err != nil && !errors.Is(err, ErrInvalidProof) {
				t.Fatalf("error %v does not wrap ErrInvalidProof", err)
			}
		}
		if len(nodes) == len(leaves) && p.Start() < p.End() && len(nodes) == p.End()-p.Start() {
			want := refVerify(root, p.Start(), p.End(), p.Nodes(), nodes, p.IsMaxNamespaceIgnored())
			if (errHash == nil) != want {
				t.Fatalf("%+v: ours %v, reference %v", p, errHash, want)
			}
		}
		if errIncl == nil && len(leaves) > 0 {
			// Same namespace for all leaves: the namespaced variant agrees.
			ns := leaves[0][:NamespaceSize]
			same := true
			data := make([][]byte, len(leaves))
			for i, l := range leaves {
				same = same && bytes.Equal(l[:NamespaceSize], ns)
				data[i] = l[NamespaceSize:]
			}
			if same {
				if err := p.VerifyInclusionWithNamespace(root, ns, data...); err != nil {
					t.Fatalf("namespaced variant disagrees: %v", err)
				}
			}
		}
	})
}

// FuzzVerifyNamespace checks soundness: whenever a proof verifies for a
// namespace against a fixture's root, the leaves given are exactly the
// fixture's leaves of that namespace (parity excepted: with
// IgnoreMaxNamespace a mixed tree's root hides them, by design).
func FuzzVerifyNamespace(f *testing.F) {
	fixtures := []*fuzzFixture{newFuzzFixture(16, 4), newFuzzFixture(13, 5), newFuzzFixture(2, 6)}
	seedProofs(f, fixtures, func(fix uint8, proof []byte, a, b uint8) {
		fx := fixtures[fix]
		ns := fx.leaves[min(int(a), len(fx.leaves)-1)][:NamespaceSize]
		f.Add(fix, proof, ns, a, b)
	})
	f.Fuzz(func(t *testing.T, fix uint8, proof, ns []byte, a, b uint8) {
		fx := fixtures[int(fix)%len(fixtures)]
		p, err := ParseProof(proof)
		if err != nil {
			return
		}
		var leaves [][]byte
		if int(a) < int(b) && int(b) <= len(fx.leaves) {
			leaves = fx.leaves[a:b]
		}
		err = p.VerifyNamespace(fx.root, ns, leaves...)
		if err != nil {
			if !errors.Is(err, ErrInvalidProof) {
				t.Fatalf("error %v does not wrap ErrInvalidProof", err)
			}
			return
		}
		if bytes.Equal(ns, bytes.Repeat([]byte{0xff}, NamespaceSize)) {
			return
		}
		var want [][]byte
		for _, l := range fx.leaves {
			if bytes.Equal(l[:NamespaceSize], ns) {
				want = append(want, l)
			}
		}
		if len(want) != len(leaves) {
			t.Fatalf("proof %+v verified %d leaves of ns %x, tree has %d", p, len(leaves), ns, len(want))
		}
		for i := range want {
			if !bytes.Equal(want[i], leaves[i]) {
				t.Fatalf("proof %+v verified the wrong leaves", p)
			}
		}
	})
}

// FuzzRoot checks Tree.Root and ComputeRoot against the reference on
// arbitrary leaves: namespaces taken from the input, sorted.
func FuzzRoot(f *testing.F) {
	f.Add([]byte{}, uint8(0))
	f.Add(bytes.Repeat([]byte{0xff}, 100), uint8(3))
	f.Add([]byte("0123456789abcdefghijklmnopqrstuvwxyz"), uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, step uint8) {
		if len(data) > 4096 {
			return
		}
		// Leaves: one per input byte b, namespace 28 zeros ‖ b (or parity
		// for 0xff), data = step+i bytes of the input.
		var leaves [][]byte
		for i, c := range data {
			ns := make([]byte, NamespaceSize)
			ns[NamespaceSize-1] = c
			if c == 0xff {
				ns = bytes.Repeat([]byte{0xff}, NamespaceSize)
			}
			leaves = append(leaves, append(ns, data[:min(len(data), int(step)+i)]...))
		}
		// Sort stably by namespace.
		for i := 1; i < len(leaves); i++ {
			for j := i; j > 0 && bytes.Compare(leaves[j][:NamespaceSize], leaves[j-1][:NamespaceSize]) < 0; j-- {
				leaves[j], leaves[j-1] = leaves[j-1], leaves[j]
			}
		}
		for _, ignore := range []bool{true, false} {
			want := refRoot(leaves, ignore)
			got, err := ComputeRoot(leaves, IgnoreMaxNamespace(ignore))
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("ComputeRoot: %x %v, want %x", got, err, want)
			}
			tr := New(IgnoreMaxNamespace(ignore))
			for _, l := range leaves {
				if err := tr.Push(l); err != nil {
					t.Fatal(err)
				}
			}
			if !bytes.Equal(tr.Root(), want) {
				t.Fatal("Tree.Root differs")
			}
			if len(leaves) > 0 {
				i := int(step) % len(leaves)
				p, err := tr.Prove(i)
				if err != nil {
					t.Fatal(err)
				}
				if err := p.VerifyInclusion(want, leaves[i]); err != nil {
					t.Fatal(err)
				}
			}
		}
	})
}
