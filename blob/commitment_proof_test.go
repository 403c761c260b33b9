package blob

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/tessera-da/tessera/erasure"
	"github.com/tessera-da/tessera/nmt"
	"github.com/tessera-da/tessera/nmt/merkle"
	"github.com/tessera-da/tessera/share"
)

func TestCommitmentProofVerifies(t *testing.T) {
	for _, f := range fixtures(t) {
		t.Run(f.name, func(t *testing.T) {
			root := f.dah.Hash()
			for i, p := range f.blobs {
				c, err := ComputeCommitment(p.b, share.SubtreeRootThreshold)
				if err != nil {
					t.Fatal(err)
				}
				cp, err := ProveCommitment(f.eds, f.dah, p.start, p.count)
				if err != nil {
					t.Fatalf("blob %d: %v", i, err)
				}
				want, _ := ComputeSubtreeRoots(p.b, share.SubtreeRootThreshold)
				if !equalShares(cp.SubtreeRoots(), want) {
					t.Fatalf("blob %d: subtree roots differ from the commitment's", i)
				}
				if err := cp.Verify(root, p.b.Namespace(), c); err != nil {
					t.Fatalf("blob %d: %v", i, err)
				}
				js, err := json.Marshal(cp)
				if err != nil {
					t.Fatal(err)
				}
				var back CommitmentProof
				if err := json.Unmarshal(js, &back); err != nil {
					t.Fatalf("blob %d: %v\n%s", i, err, js)
				}
				js2, _ := json.Marshal(&back)
				if !bytes.Equal(js, js2) {
					t.Fatalf("blob %d: JSON round trip differs", i)
				}
				if err := back.Verify(root, p.b.Namespace(), c); err != nil {
					t.Fatalf("blob %d: decoded: %v", i, err)
				}
			}
		})
	}
}

// cpParts are the parts of a commitment proof, for mutation.
type cpParts struct {
	roots    [][]byte
	proofs   []nmt.Proof
	ns       share.Namespace
	rowRoots [][]byte
	mproofs  []merkle.Proof
	start    int
	end      int
}

func partsOf(cp *CommitmentProof) cpParts {
	rp := cp.RowProof()
	return cpParts{cp.SubtreeRoots(), cp.SubtreeRootProofs(), cp.Namespace(), rp.RowRoots(), rp.Proofs(), rp.StartRow(), rp.EndRow()}
}

// mustFailCP builds a proof from parts (a construction error counts as a
// rejection) and checks that it does not verify.
func mustFailCP(t *testing.T, what string, x cpParts, verify func(*CommitmentProof) error) {
	t.Helper()
	rp, err := NewRowProof(x.rowRoots, x.mproofs, x.start, x.end)
	var cp *CommitmentProof
	if err == nil {
		cp, err = NewCommitmentProof(x.roots, x.proofs, x.ns, rp)
	}
	if err != nil {
		if !errors.Is(err, ErrInvalidProof) {
			t.Fatalf("%s: construction error does not wrap ErrInvalidProof: %v", what, err)
		}
		return
	}
	if err := verify(cp); err == nil {
		t.Fatalf("%s: mutated commitment proof verifies", what)
	} else if !errors.Is(err, ErrInvalidProof) {
		t.Fatalf("%s: error does not wrap ErrInvalidProof: %v", what, err)
	}
}

func cloneBytes(bs [][]byte) [][]byte {
	out := make([][]byte, len(bs))
	for i, b := range bs {
		out[i] = bytes.Clone(b)
	}
	return out
}

func TestCommitmentProofEveryMutationFails(t *testing.T) {
	f := constructFixture(t, "mixed", 2, 64, [][]int{{3000}, {100, 9000}, {1}, {40000}})
	root := f.dah.Hash()
	for bi, p := range f.blobs {
		c, _ := ComputeCommitment(p.b, share.SubtreeRootThreshold)
		cp, err := ProveCommitment(f.eds, f.dah, p.start, p.count)
		if err != nil {
			t.Fatal(err)
		}
		verify := func(q *CommitmentProof) error { return q.Verify(root, p.b.Namespace(), c) }
		base := partsOf(cp)
		// Sanity: the parts rebuild a proof that verifies.
		rp, _ := NewRowProof(base.rowRoots, base.mproofs, base.start, base.end)
		if q, err := NewCommitmentProof(base.roots, base.proofs, base.ns, rp); err != nil || verify(q) != nil {
			t.Fatalf("blob %d: rebuilt proof fails: %v", bi, err)
		}
		name := func(format string, a ...any) string { return fmt.Sprintf("blob %d: ", bi) + fmt.Sprintf(format, a...) }
		for r := range base.roots {
			for j := range nmt.NodeSize {
				x := partsOf(cp)
				x.roots = cloneBytes(x.roots)
				x.roots[r][j] ^= 1 << (j % 8)
				mustFailCP(t, name("subtree root %d byte %d", r, j), x, verify)
			}
		}
		for r, sp := range base.proofs {
			for n := range sp.NumNodes() {
				for j := range nmt.NodeSize {
					x := partsOf(cp)
					x.proofs[r] = withNode(t, sp, n, func(b []byte) { b[j] ^= 1 << (j % 8) })
					mustFailCP(t, name("row %d node %d byte %d", r, n, j), x, verify)
				}
			}
			for _, d := range [][2]int{{-1, -1}, {1, 1}, {0, 1}, {0, -1}, {1, 0}, {-1, 0}} {
				x := partsOf(cp)
				x.proofs[r] = withRange(t, sp, sp.Start()+d[0], sp.End()+d[1])
				mustFailCP(t, name("row %d range %v", r, d), x, verify)
			}
			for j := range nmt.NodeSize {
				x := partsOf(cp)
				x.rowRoots = cloneBytes(x.rowRoots)
				x.rowRoots[r][j] ^= 1 << (j % 8)
				mustFailCP(t, name("row root %d byte %d", r, j), x, verify)
			}
			mp := base.mproofs[r]
			for a, aunt := range mp.Aunts() {
				for j := range aunt {
					x := partsOf(cp)
					aunts := mp.Aunts()
					aunts[a][j] ^= 1 << (j % 8)
					x.mproofs[r], _ = merkle.NewProof(mp.Total(), mp.Index(), mp.LeafHash(), aunts)
					mustFailCP(t, name("row %d aunt %d byte %d", r, a, j), x, verify)
				}
			}
			for j := range merkle.HashSize {
				x := partsOf(cp)
				lh := mp.LeafHash()
				lh[j] ^= 1 << (j % 8)
				x.mproofs[r], _ = merkle.NewProof(mp.Total(), mp.Index(), lh, mp.Aunts())
				mustFailCP(t, name("row %d leaf hash byte %d", r, j), x, verify)
			}
			for _, d := range []int64{-1, 1} {
				x := partsOf(cp)
				q, err := merkle.NewProof(mp.Total(), mp.Index()+d, mp.LeafHash(), mp.Aunts())
				if err == nil {
					x.mproofs[r] = q
					mustFailCP(t, name("row %d index %+d", r, d), x, verify)
				}
				x = partsOf(cp)
				if q, err = merkle.NewProof(mp.Total()*2, mp.Index(), mp.LeafHash(), append(mp.Aunts(), root)); err == nil {
					x.mproofs[r] = q
					mustFailCP(t, name("row %d total doubled", r), x, verify)
				}
			}
		}
		// Truncations, additions, shifts.
		x := partsOf(cp)
		x.roots = x.roots[:len(x.roots)-1]
		mustFailCP(t, name("last subtree root dropped"), x, verify)
		x = partsOf(cp)
		x.roots = x.roots[1:]
		mustFailCP(t, name("first subtree root dropped"), x, verify)
		x = partsOf(cp)
		x.roots = append(x.roots, x.roots[0])
		mustFailCP(t, name("subtree root added"), x, verify)
		if len(base.proofs) > 1 {
			x = partsOf(cp)
			x.proofs, x.rowRoots, x.mproofs, x.end = x.proofs[:len(x.proofs)-1], x.rowRoots[:len(x.rowRoots)-1], x.mproofs[:len(x.mproofs)-1], x.end-1
			mustFailCP(t, name("last row dropped"), x, verify)
			x = partsOf(cp)
			x.proofs, x.rowRoots, x.mproofs, x.start = x.proofs[1:], x.rowRoots[1:], x.mproofs[1:], x.start+1
			mustFailCP(t, name("first row dropped"), x, verify)
			x = partsOf(cp)
			x.proofs[0], x.proofs[1] = x.proofs[1], x.proofs[0]
			mustFailCP(t, name("row proofs swapped"), x, verify)
		}
		for _, d := range []int{-1, 1} {
			x = partsOf(cp)
			x.start, x.end = x.start+d, x.end+d
			mustFailCP(t, name("rows shifted by %d", d), x, verify)
		}
		// Wrong namespace, commitment, data root.
		other := f.blobs[(bi+1)%len(f.blobs)].b.Namespace()
		if err := cp.Verify(root, other, c); !errors.Is(err, ErrInvalidProof) {
			t.Fatalf("blob %d: other namespace: %v", bi, err)
		}
		x = partsOf(cp)
		x.ns = other
		mustFailCP(t, name("namespace swapped"), x, func(q *CommitmentProof) error { return q.Verify(root, other, c) })
		for j := range c {
			wc := bytes.Clone(c)
			wc[j] ^= 1
			if err := cp.Verify(root, p.b.Namespace(), wc); !errors.Is(err, ErrCommitmentMismatch) {
				t.Fatalf("blob %d: commitment byte %d: %v", bi, j, err)
			}
			wr := bytes.Clone(root)
			wr[j] ^= 1
			if err := cp.Verify(wr, p.b.Namespace(), c); !errors.Is(err, ErrInvalidProof) {
				t.Fatalf("blob %d: data root byte %d: %v", bi, j, err)
			}
		}
		if err := cp.Verify(root[:31], p.b.Namespace(), c); err == nil {
			t.Fatal("short data root verified")
		}
		if err := cp.Verify(root, p.b.Namespace(), c[:31]); err == nil {
			t.Fatal("short commitment verified")
		}
	}
	var nilProof *CommitmentProof
	if err := nilProof.Verify(root, f.blobs[0].b.Namespace(), make([]byte, 32)); !errors.Is(err, ErrInvalidProof) {
		t.Fatalf("nil proof: %v", err)
	}
	if err := (&CommitmentProof{}).Verify(root, share.Namespace{}, make([]byte, 32)); !errors.Is(err, ErrInvalidProof) {
		t.Fatalf("zero proof: %v", err)
	}
}

// TestCommitmentProofOtherBlobsRoots checks that one blob's subtree roots
// cannot be proven at another blob's position of the same namespace and
// size class, nor can another blob's proof be reused.
func TestCommitmentProofCrossBlob(t *testing.T) {
	f := constructFixture(t, "wide", 3, 128, [][]int{{40000}, {500}, {33000, 2}})
	root := f.dah.Hash()
	var cps []*CommitmentProof
	var cs []Commitment
	for _, p := range f.blobs {
		cp, err := ProveCommitment(f.eds, f.dah, p.start, p.count)
		if err != nil {
			t.Fatal(err)
		}
		c, _ := ComputeCommitment(p.b, share.SubtreeRootThreshold)
		cps, cs = append(cps, cp), append(cs, c)
	}
	for i := range cps {
		for j := range cps {
			if i == j {
				continue
			}
			if err := cps[i].Verify(root, f.blobs[j].b.Namespace(), cs[j]); err == nil {
				t.Fatalf("proof of blob %d verifies blob %d", i, j)
			}
			// Blob i's roots with blob j's placement.
			x := partsOf(cps[j])
			x.roots, x.ns = partsOf(cps[i]).roots, f.blobs[i].b.Namespace()
			mustFailCP(t, fmt.Sprintf("roots of %d at %d", i, j), x, func(q *CommitmentProof) error {
				return q.Verify(root, f.blobs[i].b.Namespace(), cs[i])
			})
		}
	}
}

func TestProveCommitmentRejects(t *testing.T) {
	f := constructFixture(t, "mixed", 2, 64, [][]int{{3000}, {100, 9000}, {1}, {40000}})
	g := constructFixture(t, "small", 1, 64, [][]int{{10}, {700, 30}})
	var big placed
	for _, p := range f.blobs {
		if p.count > big.count {
			big = p
		}
	}
	if share.SubTreeWidth(big.count, share.SubtreeRootThreshold) < 2 {
		t.Fatal("fixture has no blob with subtree width > 1")
	}
	for _, c := range []struct {
		name         string
		start, count int
	}{
		{"misaligned", big.start + 1, big.count - 1},
		{"two namespaces", big.start, big.count + 1},
		{"outside", -1, 2},
	} {
		if _, err := ProveCommitment(f.eds, f.dah, c.start, c.count); !errors.Is(err, ErrInvalidRequest) {
			t.Errorf("%s: %v", c.name, err)
		}
	}
	if _, err := ProveCommitment(f.eds, g.dah, big.start, big.count); !errors.Is(err, ErrInvalidRequest) {
		t.Errorf("other DAH: %v", err)
	}
}

func TestCommitmentProofJSONShape(t *testing.T) {
	f := constructFixture(t, "mixed", 2, 64, [][]int{{3000}, {100, 9000}, {1}, {40000}})
	p := f.blobs[1]
	cp, err := ProveCommitment(f.eds, f.dah, p.start, p.count)
	if err != nil {
		t.Fatal(err)
	}
	js, _ := json.Marshal(cp)
	var m map[string]json.RawMessage
	if err := json.Unmarshal(js, &m); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"subtree_roots", "subtree_root_proofs", "namespace_id", "row_proof", "namespace_version"} {
		if m[key] == nil {
			t.Errorf("missing %q: %s", key, js)
		}
	}
	if len(m) != 5 {
		t.Errorf("unexpected keys: %s", js)
	}
	var id []byte
	_ = json.Unmarshal(m["namespace_id"], &id)
	if !bytes.Equal(id, p.b.Namespace().ID()) || string(m["namespace_version"]) != "0" {
		t.Errorf("namespace: %s %s", m["namespace_id"], m["namespace_version"])
	}
	var rp map[string]json.RawMessage
	_ = json.Unmarshal(m["row_proof"], &rp)
	for key := range rp {
		switch key {
		case "row_roots", "proofs", "start_row", "end_row":
		default:
			t.Errorf("unexpected row_proof key %q", key)
		}
	}
	// tmjson writes 64-bit integers as strings.
	if !strings.Contains(string(rp["proofs"]), fmt.Sprintf(`"total":"%d"`, 2*f.dah.Width())) {
		t.Errorf("total not a tmjson string: %s", rp["proofs"])
	}
	// celestia-node's fuzz corpus writes them as numbers: accept that too.
	numeric := strings.ReplaceAll(string(js), fmt.Sprintf(`"total":"%d"`, 2*f.dah.Width()), fmt.Sprintf(`"total":%d`, 2*f.dah.Width()))
	var back CommitmentProof
	if err := json.Unmarshal([]byte(numeric), &back); err != nil {
		t.Fatalf("numeric totals: %v", err)
	}
	c, _ := ComputeCommitment(p.b, share.SubtreeRootThreshold)
	if err := back.Verify(f.dah.Hash(), p.b.Namespace(), c); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{
		``, `null`, `{}`, `{"subtree_roots":[]}`,
		strings.Replace(string(js), `"namespace_version":0`, `"namespace_version":7`, 1),
		strings.Replace(string(js), `"namespace_id":"`, `"namespace_id":"AA`, 1),
		strings.Replace(string(js), `"total":"`, `"total":"x`, 1),
	} {
		var q CommitmentProof
		if err := json.Unmarshal([]byte(bad), &q); err == nil {
			t.Errorf("accepted %.80q", bad)
		}
	}
}

// TestCommitmentProofCelestiaCorpus decodes a commitment proof from
// celestia-node's fuzz corpus (blob/testdata/fuzz-corpus, "blobs that take
// 2 shares") and checks it against its data root with Tessera's verifier.
// The corpus carries no commitment, so it is recomputed from the subtree
// roots; the namespace comes from the proof.
func TestCommitmentProofCelestiaCorpus(t *testing.T) {
	const corpus = `{"subtree_roots":["AAAAAAAAAAAAAAAAAAAAAAAAAIhX1JZfpht3+doAAAAAAAAAAAAAAAAAAAAAAAAAiFfUll+mG3f52oHeuImEc7RFID2hHj265dSFSVufOxiuGSif7xyyy8S8","AAAAAAAAAAAAAAAAAAAAAAAAAIhX1JZfpht3+doAAAAAAAAAAAAAAAAAAAAAAAAAiFfUll+mG3f52ooSzWcKz7xnJHYxwcMfgRUOwToc++AxQP2NZnsChr+A","AAAAAAAAAAAAAAAAAAAAAAAAAIhX1JZfpht3+doAAAAAAAAAAAAAAAAAAAAAAAAAiFfUll+mG3f52g+d0EwnW6jMox0p2njI0Sq/lGhAwZU3db7s4ukdtQ4P"],"subtree_root_proofs":[{"start":2,"end":5,"nodes":["AAAAAAAAAAAAAAAAAAAAAAAAAIKLFSSWry1Gdg8AAAAAAAAAAAAAAAAAAAAAAAAAgosVJJavLUZ2D3zyS+dGya/QiFSASvHRVLPRvC472P5ZjP07i2mrnex5","AAAAAAAAAAAAAAAAAAAAAAAAAMFpRTt7IiUxiOYAAAAAAAAAAAAAAAAAAAAAAAAAwWlFO3siJTGI5vfo3RPSbjeXfY4UtRaGOpxtxcCl9Plvp+vz0VHI33g7","AAAAAAAAAAAAAAAAAAAAAAAAAMFpRTt7IiUxiOYAAAAAAAAAAAAAAAAAAAAAAAAAwWlFO3siJTGI5v2WnF5SNkNcgkCrccW2Kv7b2z5iSqCr64P2eCaKsffn","AAAAAAAAAAAAAAAAAAAAAAAAAMFpRTt7IiUxiOYAAAAAAAAAAAAAAAAAAAAAAAAAwWlFO3siJTGI5iRaSxDzlg6Mtq0+LgIBNasiOTaeQcnqGoHoIw2vyN2c","/////////////////////////////////////////////////////////////////////////////5wcCTpZvE0S4+peb+IZFHDHaPdqDosLK4qwh+wextWG"],"is_max_namespace_ignored":true}],"namespace_id":"AAAAAAAAAAAAAAAAAAAAAAAAiFfUll+mG3f52g==","row_proof":{"row_roots":["AAAAAAAAAAAAAAAAAAAAAAAAAIKLFSSWry1Gdg8AAAAAAAAAAAAAAAAAAAAAAAAAwWlFO3siJTGI5pHVTsd/j4nwBLfYA9TfmtRjGi771Yki9q31nstfVQJu"],"proofs":[{"total":64,"index":4,"leaf_hash":"HaAgi5nSayGw9kdUE/UwmeG1crz/Qrfxwtcja6GN8aY=","aunts":["o2E7+mP19V3dCWZwP+aAWcDS2UpKeJScp4lFQ6UCNJ8=","PtUiCTkgdiu6JTcM0WSicBJwKHZpomjt89jPQW+tOCM=","/ZoRKycV4XmYL/aLxxvMO1Ki8C+FUwBqTfxjC5jVSIU=","tF+rIhGHD+JtCdNRgNk5TVBC0lJF9DLBEsIeBAaT5hM=","M2a5FIM1LEvF8/ztDfQ3FCbsTII4pNzgfeSxdQITNQM=","8iAVEy3dKUoyEP7E2OzWMv728qY/jBM0lo65A9Pv7q0="]}],"start_row":4,"end_row":4},"namespace_version":0}`
	const dataRoot = "cZDElfVCt1Suu4Q6vzPFHveo1htXWs0CXSEeN1/1ki0="
	var cp CommitmentProof
	if err := json.Unmarshal([]byte(corpus), &cp); err != nil {
		t.Fatal(err)
	}
	var root []byte
	if err := json.Unmarshal([]byte(`"`+dataRoot+`"`), &root); err != nil {
		t.Fatal(err)
	}
	c := Commitment(merkle.ComputeRoot(cp.SubtreeRoots()))
	if err := cp.Verify(root, cp.Namespace(), c); err != nil {
		t.Fatalf("celestia-node's proof does not verify: %v", err)
	}
	js, _ := json.Marshal(&cp)
	if !strings.Contains(string(js), `"total":"64","index":"4"`) {
		t.Errorf("re-encoding is not tmjson: %s", js)
	}
}

// A light client holds only a header's data root. Given a namespace and a
// share commitment (from the blob's submitter), a commitment proof from any
// full node shows that the blob is in the block.
func ExampleCommitmentProof_Verify() {
	ns, _ := share.NewV0Namespace([]byte("example"))
	b, _ := share.NewV0Blob(ns, bytes.Repeat([]byte("tessera "), 5000))
	tx, _ := share.MarshalBlobTx([]byte("pay for the blob"), b)
	sq, lay, _ := share.ConstructClassified([]share.ClassifiedTx{{Bytes: tx}}, 64, share.SubtreeRootThreshold)
	ext, _ := erasure.NewExtender(erasure.Params{Workers: 1}, nil)
	eds, _ := ext.ExtendFlat(sq.Bytes())
	dah, _ := ext.ComputeDAH(eds)
	placement := lay.BlobsByTx[0][0]

	// On a full node: the proof, served as JSON.
	cp, _ := ProveCommitment(eds, dah, placement.Start, placement.ShareCount)
	js, _ := json.Marshal(cp)

	// On the light client: the data root from a verified header, the
	// namespace and the commitment.
	dataRoot := dah.Hash()
	commitment, _ := ComputeCommitment(b, share.SubtreeRootThreshold)
	var got CommitmentProof
	if err := json.Unmarshal(js, &got); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(got.Verify(dataRoot, ns, commitment))
	// Output: <nil>
}
