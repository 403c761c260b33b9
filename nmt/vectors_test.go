package nmt

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"testing"

	"github.com/tessera-da/tessera/internal/vectors"
)

func loadNMTVectors(t testing.TB) *vectors.NMTFile {
	t.Helper()
	data, err := os.ReadFile("../testdata/vectors/nmt.json")
	if err != nil {
		t.Fatalf("read vectors: %v", err)
	}
	var v vectors.NMTFile
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("parse vectors: %v", err)
	}
	if len(v.Trees) == 0 || v.EmptyRoot == nil {
		t.Fatal("no trees or no empty_root in nmt.json")
	}
	for _, tr := range v.Trees {
		for _, rp := range tr.RangeProofs {
			if rp.Verified == nil {
				t.Fatalf("tree %s: range proof without verified", tr.Name)
			}
		}
		for _, np := range tr.NamespaceProofs {
			if np.Result == nil {
				t.Fatalf("tree %s: namespace proof without verify_namespace_result", tr.Name)
			}
		}
	}
	return &v
}

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

func decodeVectorProof(t testing.TB, jp vectors.Proof) Proof {
	t.Helper()
	nodes := make([][]byte, len(jp.Nodes))
	for i, n := range jp.Nodes {
		nodes[i] = mustHex(t, n)
	}
	var lh []byte
	if jp.LeafHash != "" {
		lh = mustHex(t, jp.LeafHash)
	}
	p, err := NewProof(jp.Start, jp.End, nodes, lh, jp.IsMaxNamespaceIgnored)
	if err != nil {
		t.Fatalf("NewProof(vector): %v", err)
	}
	return p
}

// vectorLeaves returns the pushed leaves (namespace ‖ share) of a tree.
func vectorLeaves(t testing.TB, v *vectors.NMTFile, i int) [][]byte {
	var out [][]byte
	for _, l := range v.Trees[i].Leaves {
		out = append(out, append(mustHex(t, l.Namespace), mustHex(t, l.ShareHex)...))
	}
	return out
}

func TestVectors(t *testing.T) {
	v := loadNMTVectors(t)
	if !bytes.Equal(EmptyRoot(), mustHex(t, *v.EmptyRoot)) {
		t.Errorf("EmptyRoot = %x, want %s", EmptyRoot(), *v.EmptyRoot)
	}
	if got := New().Root(); !bytes.Equal(got, mustHex(t, *v.EmptyRoot)) {
		t.Errorf("empty Tree root = %x", got)
	}
	if v.Hasher.NamespaceSize != NamespaceSize || v.Hasher.NodeSize != NodeSize || !v.Hasher.IgnoreMaxNamespace {
		t.Fatalf("unexpected hasher %+v", v.Hasher)
	}
	for ti, tv := range v.Trees {
		t.Run(tv.Name, func(t *testing.T) {
			leaves := vectorLeaves(t, v, ti)
			tree := New()
			for i, l := range leaves {
				if err := tree.Push(l); err != nil {
					t.Fatalf("Push(%d): %v", i, err)
				}
			}
			if len(tv.LeafHashes) != len(leaves) {
				t.Fatalf("%d leaf hashes for %d leaves", len(tv.LeafHashes), len(leaves))
			}
			for i, want := range tv.LeafHashes {
				got, _ := tree.LeafNode(i)
				if !bytes.Equal(got, mustHex(t, want)) {
					t.Errorf("leaf %d node = %x, want %s", i, got, want)
				}
				got2, err := ComputeLeafNode(leaves[i])
				if err != nil || !bytes.Equal(got2, got) {
					t.Errorf("ComputeLeafNode(%d) = %x, %v", i, got2, err)
				}
			}
			root := tree.Root()
			if !bytes.Equal(root, mustHex(t, tv.Root)) {
				t.Errorf("root = %x, want %s", root, tv.Root)
			}
			if !bytes.Equal(MinNamespace(root), mustHex(t, tv.RootMin)) || !bytes.Equal(MaxNamespace(root), mustHex(t, tv.RootMax)) {
				t.Errorf("root range = %x..%x, want %s..%s", MinNamespace(root), MaxNamespace(root), tv.RootMin, tv.RootMax)
			}
			if fast, err := ComputeRoot(leaves); err != nil || !bytes.Equal(fast, root) {
				t.Errorf("ComputeRoot = %x, %v", fast, err)
			}
			plain, err := ComputeRoot(leaves, IgnoreMaxNamespace(false))
			if err != nil || !bytes.Equal(plain, mustHex(t, tv.RootIgnoreMaxFalse)) {
				t.Errorf("root without IgnoreMaxNamespace = %x, %v, want %s", plain, err, tv.RootIgnoreMaxFalse)
			}
			plainTree := New(IgnoreMaxNamespace(false))
			for _, l := range leaves {
				_ = plainTree.Push(l)
			}
			if !bytes.Equal(plainTree.Root(), plain) {
				t.Errorf("Tree root without IgnoreMaxNamespace = %x", plainTree.Root())
			}

			for _, rp := range tv.RangeProofs {
				want := decodeVectorProof(t, rp.Proof)
				got, err := tree.ProveRange(rp.Start, rp.End)
				if err != nil {
					t.Fatalf("ProveRange(%d, %d): %v", rp.Start, rp.End, err)
				}
				if !got.Equal(want) {
					t.Errorf("ProveRange(%d, %d) = %+v, want %+v", rp.Start, rp.End, got, want)
				}
				for _, p := range []Proof{got, want} {
					err := p.VerifyInclusion(root, leaves[rp.Start:rp.End]...)
					if (err == nil) != *rp.Verified {
						t.Errorf("VerifyInclusion [%d, %d) = %v, want verified=%v", rp.Start, rp.End, err, *rp.Verified)
					}
				}
				checkRoundTrip(t, got)
			}

			for _, np := range tv.NamespaceProofs {
				ns := mustHex(t, np.Namespace)
				want := decodeVectorProof(t, np.Proof)
				got, err := tree.ProveNamespace(ns)
				if err != nil {
					t.Fatalf("ProveNamespace(%s): %v", np.Kind, err)
				}
				if !got.Equal(want) {
					t.Errorf("ProveNamespace(%s %s) = %+v, want %+v", np.Kind, np.Namespace, got, want)
				}
				var nsLeaves [][]byte
				if !got.IsAbsence() {
					nsLeaves = leaves[got.Start():got.End()]
				}
				for _, p := range []Proof{got, want} {
					err := p.VerifyNamespace(root, ns, nsLeaves...)
					if (err == nil) != *np.Result {
						t.Errorf("VerifyNamespace(%s) = %v, want %v", np.Kind, err, *np.Result)
					}
				}
				checkRoundTrip(t, got)
			}
		})
	}
}

func checkRoundTrip(t *testing.T, p Proof) {
	t.Helper()
	enc, err := p.MarshalBinary()
	if err != nil {
		t.Fatalf("MarshalBinary: %v", err)
	}
	q, err := ParseProof(enc)
	if err != nil {
		t.Fatalf("ParseProof(MarshalBinary): %v", err)
	}
	if !q.Equal(p) {
		t.Fatalf("round trip changed the proof: %+v → %+v", p, q)
	}
}

// TestVectorsEDSSamples checks the single-leaf row and column proofs of
// eds.json: the prover's shape on power-of-two trees with parity leaves, and
// verification with the namespace the wrapper prepends.
func TestVectorsEDSSamples(t *testing.T) {
	data, err := os.ReadFile("../testdata/vectors/eds.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Squares []struct {
			K       int `json:"k"`
			Samples []struct {
				Row, Col       int
				ShareHex       string        `json:"share_hex"`
				ProofNamespace string        `json:"proof_namespace"`
				Proof          vectors.Proof `json:"proof"`
				AxisRoot       string        `json:"axis_root"`
				Verified       bool          `json:"verified"`
				ProofAxis      string        `json:"proof_axis"`
			} `json:"samples"`
		} `json:"squares"`
	}
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, sq := range f.Squares {
		for _, s := range sq.Samples {
			p := decodeVectorProof(t, s.Proof)
			root := mustHex(t, s.AxisRoot)
			share := mustHex(t, s.ShareHex)
			ns := mustHex(t, s.ProofNamespace)
			err := p.VerifyInclusionWithNamespace(root, ns, share)
			if (err == nil) != s.Verified {
				t.Errorf("k=%d sample (%d,%d): %v, want verified=%v", sq.K, s.Row, s.Col, err, s.Verified)
			}
			if err := p.VerifyInclusion(root, append(bytes.Clone(ns), share...)); (err == nil) != s.Verified {
				t.Errorf("k=%d sample (%d,%d) VerifyInclusion: %v", sq.K, s.Row, s.Col, err)
			}
			// The same share under another namespace must fail.
			other := bytes.Clone(ns)
			other[NamespaceSize-1] ^= 1
			if err := p.VerifyInclusionWithNamespace(root, other, share); err == nil {
				t.Errorf("k=%d sample (%d,%d) verified under a wrong namespace", sq.K, s.Row, s.Col)
			} else if !errors.Is(err, ErrInvalidProof) {
				t.Errorf("error %v does not wrap ErrInvalidProof", err)
			}
			n++
		}
	}
	if n == 0 {
		t.Fatal("no samples in eds.json")
	}
}
