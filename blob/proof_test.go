package blob

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/tessera-da/tessera/erasure"
	"github.com/tessera-da/tessera/nmt"
	"github.com/tessera-da/tessera/share"
)

// placed is a blob and where it sits in the original square.
type placed struct {
	b            *share.Blob
	start, count int
}

// fixture is an extended square with its DAH and the blobs in it.
type fixture struct {
	name  string
	sq    share.Square
	eds   *erasure.ExtendedSquare
	dah   *erasure.DAH
	blobs []placed
}

func randBytes(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

func randNamespace(t testing.TB, rng *rand.Rand) share.Namespace {
	t.Helper()
	sub := randBytes(rng, share.V0SubIDSize)
	sub[0] |= 0x01 // never primary reserved
	ns, err := share.NewV0Namespace(sub)
	if err != nil {
		t.Fatal(err)
	}
	return ns
}

// extendFixture extends sq and computes its DAH.
func extendFixture(t testing.TB, f *fixture) *fixture {
	t.Helper()
	ext, err := erasure.NewExtender(erasure.Params{Workers: 2}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if f.eds, err = ext.ExtendFlat(f.sq.Bytes()); err != nil {
		t.Fatal(err)
	}
	if f.dah, err = ext.ComputeDAH(f.eds); err != nil {
		t.Fatal(err)
	}
	return f
}

// constructFixture builds a square with share.ConstructClassified from one
// ordinary tx and one blob tx per entry of sizes (data lengths of its
// blobs), then extends it.
func constructFixture(t testing.TB, name string, seed uint64, maxSize int, sizes [][]int) *fixture {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	txs := []share.ClassifiedTx{{Bytes: randBytes(rng, 120)}}
	var blobs [][]*share.Blob
	for _, tx := range sizes {
		var bs []*share.Blob
		for _, n := range tx {
			var signer []byte
			version := share.ShareVersionZero
			if rng.IntN(3) == 0 {
				version, signer = share.ShareVersionOne, randBytes(rng, share.SignerSize)
			}
			b, err := share.NewBlob(randNamespace(t, rng), randBytes(rng, n), version, signer)
			if err != nil {
				t.Fatal(err)
			}
			bs = append(bs, b)
		}
		raw, err := share.MarshalBlobTx(randBytes(rng, 60), bs...)
		if err != nil {
			t.Fatal(err)
		}
		txs = append(txs, share.ClassifiedTx{Bytes: raw})
		blobs = append(blobs, bs)
	}
	sq, lay, err := share.ConstructClassified(txs, maxSize, share.SubtreeRootThreshold)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{name: name, sq: sq}
	for i, bs := range blobs {
		for j, b := range bs {
			p := lay.BlobsByTx[i][j]
			f.blobs = append(f.blobs, placed{b: b, start: p.Start, count: p.ShareCount})
		}
	}
	return extendFixture(t, f)
}

// manualFixture lays blobs out by hand in a k×k square, in namespace
// order, so that the first starts at share 0 and the last ends at share
// k²−1: blobs in the very first and very last rows.
func manualFixture(t testing.TB, k int, seed uint64) *fixture {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 7))
	total := k * k
	var (
		shares []share.Share
		f      = &fixture{name: fmt.Sprintf("manual-k%d", k)}
	)
	base := []byte{0x10}
	for len(shares) < total {
		left := total - len(shares)
		n := 1 + rng.IntN(min(left, 3*k))
		// Data lengths that need exactly n v0 shares.
		dataLen := share.FirstSparseShareContentSize + (n-1)*share.ContinuationSparseShareContentSize
		ns, err := share.NewV0Namespace(append(append([]byte(nil), base...), byte(2*len(f.blobs))))
		if err != nil {
			t.Fatal(err)
		}
		b, err := share.NewV0Blob(ns, randBytes(rng, dataLen))
		if err != nil {
			t.Fatal(err)
		}
		if b.ShareCount() != n {
			t.Fatalf("blob of %d bytes takes %d shares, want %d", dataLen, b.ShareCount(), n)
		}
		f.blobs = append(f.blobs, placed{b: b, start: len(shares), count: n})
		shares = append(shares, b.ToShares()...)
	}
	f.sq = share.Square(shares)
	return extendFixture(t, f)
}

// fixtures returns squares of several sizes: built by the square builder
// (blobs of 1 share, of 2 rows and of many rows) and by hand (blobs in the
// first and last rows).
func fixtures(t testing.TB) []*fixture {
	t.Helper()
	return []*fixture{
		constructFixture(t, "small", 1, 64, [][]int{{10}, {700, 30}}),
		constructFixture(t, "mixed", 2, 64, [][]int{{3000}, {100, 9000}, {1}, {40000}}),
		constructFixture(t, "wide", 3, 128, [][]int{{40000}, {500}, {33000, 2}}),
		manualFixture(t, 4, 4),
		manualFixture(t, 8, 5),
		manualFixture(t, 1, 6),
	}
}

func spanRows(p placed, k int) int { return (p.start+p.count-1)/k - p.start/k + 1 }

func TestFixturesCoverTheCases(t *testing.T) {
	var one, two, many, first, last bool
	for _, f := range fixtures(t) {
		k := f.eds.ODSWidth()
		for _, p := range f.blobs {
			switch rows := spanRows(p, k); {
			case rows == 1:
				one = true
			case rows == 2:
				two = true
			case rows > 3:
				many = true
			}
			first = first || p.start < k
			last = last || (p.start+p.count-1)/k == k-1
		}
	}
	if !one || !two || !many || !first || !last {
		t.Fatalf("fixtures miss a case: 1 row %v, 2 rows %v, many rows %v, first row %v, last row %v", one, two, many, first, last)
	}
}

func TestProveBlobVerifies(t *testing.T) {
	for _, f := range fixtures(t) {
		t.Run(f.name, func(t *testing.T) {
			k := f.eds.ODSWidth()
			for i, p := range f.blobs {
				proof, err := ProveBlob(f.eds, p.start, p.count)
				if err != nil {
					t.Fatalf("blob %d: %v", i, err)
				}
				if proof.Len() != spanRows(p, k) {
					t.Fatalf("blob %d: %d row proofs, want %d", i, proof.Len(), spanRows(p, k))
				}
				if err := proof.Verify(f.dah, p.b, p.start); err != nil {
					t.Fatalf("blob %d: %v", i, err)
				}
				c, err := ComputeCommitment(p.b, share.SubtreeRootThreshold)
				if err != nil {
					t.Fatal(err)
				}
				if err := proof.VerifyIncluded(f.dah, p.b.Namespace(), c, p.b, p.start); err != nil {
					t.Fatalf("blob %d: VerifyIncluded: %v", i, err)
				}
				wb, err := FromShareBlob(p.b)
				if err != nil {
					t.Fatal(err)
				}
				if err := proof.VerifyBlob(f.dah, wb.WithIndex(p.start/k*2*k+p.start%k)); err != nil {
					t.Fatalf("blob %d: VerifyBlob: %v", i, err)
				}
				js, err := json.Marshal(proof)
				if err != nil {
					t.Fatal(err)
				}
				var back Proof
				if err := json.Unmarshal(js, &back); err != nil {
					t.Fatalf("blob %d: %v\n%s", i, err, js)
				}
				if !back.Equal(proof) {
					t.Fatalf("blob %d: JSON round trip changed the proof", i)
				}
			}
		})
	}
}

// withNode returns p with node i replaced by fn(node).
func withNode(t testing.TB, p nmt.Proof, i int, fn func([]byte)) nmt.Proof {
	t.Helper()
	nodes := p.Nodes()
	fn(nodes[i])
	q, err := nmt.NewProof(p.Start(), p.End(), nodes, p.LeafHash(), p.IsMaxNamespaceIgnored())
	if err != nil {
		return nmt.Proof{} // the mutation made the node invalid: that fails too
	}
	return q
}

func withRange(t testing.TB, p nmt.Proof, start, end int) nmt.Proof {
	t.Helper()
	q, err := nmt.NewProof(start, end, p.Nodes(), p.LeafHash(), p.IsMaxNamespaceIgnored())
	if err != nil {
		return nmt.Proof{}
	}
	return q
}

// mustFail checks that a mutated blob proof (or one that cannot be built)
// does not verify.
func mustFailBlob(t *testing.T, what string, rows []nmt.Proof, verify func(Proof) error) {
	t.Helper()
	p, err := NewProof(rows)
	if err != nil {
		if !errors.Is(err, ErrInvalidProof) {
			t.Fatalf("%s: NewProof error does not wrap ErrInvalidProof: %v", what, err)
		}
		return
	}
	if err := verify(p); err == nil {
		t.Fatalf("%s: mutated proof verifies", what)
	} else if !errors.Is(err, ErrInvalidProof) {
		t.Fatalf("%s: error does not wrap ErrInvalidProof: %v", what, err)
	}
}

func TestBlobProofEveryMutationFails(t *testing.T) {
	f := constructFixture(t, "mixed", 2, 64, [][]int{{3000}, {100, 9000}, {1}, {40000}})
	k := f.eds.ODSWidth()
	for bi, p := range f.blobs {
		proof, err := ProveBlob(f.eds, p.start, p.count)
		if err != nil {
			t.Fatal(err)
		}
		verify := func(q Proof) error { return q.Verify(f.dah, p.b, p.start) }
		rows := proof.RowProofs()
		clone := func() []nmt.Proof { return append([]nmt.Proof(nil), rows...) }
		for r := range rows {
			for n := range rows[r].NumNodes() {
				for j := range nmt.NodeSize {
					m := clone()
					m[r] = withNode(t, m[r], n, func(b []byte) { b[j] ^= 1 << (j % 8) })
					mustFailBlob(t, fmt.Sprintf("blob %d row %d node %d byte %d", bi, r, n, j), m, verify)
				}
			}
			for _, d := range [][2]int{{-1, 0}, {1, 0}, {0, -1}, {0, 1}, {1, 1}, {-1, -1}} {
				m := clone()
				m[r] = withRange(t, m[r], m[r].Start()+d[0], m[r].End()+d[1])
				mustFailBlob(t, fmt.Sprintf("blob %d row %d range %+v", bi, r, d), m, verify)
			}
			// Drop a node, add one.
			nodes := rows[r].Nodes()
			if len(nodes) > 0 {
				m := clone()
				m[r], _ = nmt.NewProof(rows[r].Start(), rows[r].End(), nodes[:len(nodes)-1], nil, true)
				mustFailBlob(t, fmt.Sprintf("blob %d row %d dropped node", bi, r), m, verify)
				m = clone()
				m[r], _ = nmt.NewProof(rows[r].Start(), rows[r].End(), append(nodes, nodes[0]), nil, true)
				mustFailBlob(t, fmt.Sprintf("blob %d row %d extra node", bi, r), m, verify)
			}
		}
		mustFailBlob(t, "truncated (last)", rows[:len(rows)-1], verify)
		mustFailBlob(t, "truncated (first)", rows[1:], verify)
		mustFailBlob(t, "extra row", append(clone(), rows[len(rows)-1]), verify)
		if len(rows) > 1 {
			m := clone()
			m[0], m[1] = m[1], m[0]
			mustFailBlob(t, "swapped rows", m, verify)
		}
		// Wrong position, wrong blob, wrong namespace, wrong commitment.
		for _, s := range []int{p.start - 1, p.start + 1, p.start + k, p.start - k, -1, k * k} {
			if err := proof.Verify(f.dah, p.b, s); err == nil {
				t.Fatalf("blob %d verifies at %d (really at %d)", bi, s, p.start)
			}
		}
		data := bytes.Clone(p.b.Data())
		for _, j := range []int{0, len(data) / 2, len(data) - 1} {
			d := bytes.Clone(data)
			d[j] ^= 0x01
			other, err := share.NewBlob(p.b.Namespace(), d, p.b.ShareVersion(), p.b.Signer())
			if err != nil {
				t.Fatal(err)
			}
			if err := proof.Verify(f.dah, other, p.start); err == nil {
				t.Fatalf("blob %d: data byte %d flipped still verifies", bi, j)
			}
		}
		c, _ := ComputeCommitment(p.b, share.SubtreeRootThreshold)
		otherNS := f.blobs[(bi+1)%len(f.blobs)].b.Namespace()
		if err := proof.VerifyIncluded(f.dah, otherNS, c, p.b, p.start); err == nil {
			t.Fatalf("blob %d: verifies under namespace %s", bi, otherNS)
		}
		wrong := bytes.Clone(c)
		wrong[0] ^= 1
		if err := proof.VerifyIncluded(f.dah, p.b.Namespace(), wrong, p.b, p.start); !errors.Is(err, ErrCommitmentMismatch) {
			t.Fatalf("blob %d: wrong commitment: %v", bi, err)
		}
		// Every byte of every row root the proof depends on.
		for r := p.start / k; r <= (p.start+p.count-1)/k; r++ {
			for j := range nmt.NodeSize {
				rr, cr := f.dah.RowRoots(), f.dah.ColRoots()
				rr[r][j] ^= 0x80
				d, err := erasure.NewDAH(rr, cr)
				if err != nil {
					continue // no longer a valid node: cannot even be a DAH
				}
				if err := proof.Verify(d, p.b, p.start); err == nil {
					t.Fatalf("blob %d verifies against row root %d with byte %d flipped", bi, r, j)
				}
			}
		}
	}
}

func TestProveBlobRejects(t *testing.T) {
	f := constructFixture(t, "small", 1, 64, [][]int{{10}, {700, 30}})
	k := f.eds.ODSWidth()
	p := f.blobs[1]
	for _, c := range []struct {
		name         string
		start, count int
	}{
		{"negative start", -1, 1},
		{"zero shares", 0, 0},
		{"past the square", k*k - 1, 2},
		{"start at the end", k * k, 1},
		{"two namespaces", p.start, p.count + 1},
		{"tx and blob", p.start - 1, 2},
	} {
		if _, err := ProveBlob(f.eds, c.start, c.count); !errors.Is(err, ErrInvalidRequest) {
			t.Errorf("%s: got %v", c.name, err)
		}
	}
	if _, err := ProveBlob(nil, 0, 1); !errors.Is(err, ErrInvalidRequest) {
		t.Errorf("nil square: %v", err)
	}
	var zero Proof
	if err := zero.Verify(f.dah, p.b, p.start); !errors.Is(err, ErrInvalidProof) {
		t.Errorf("zero proof: %v", err)
	}
	proof, _ := ProveBlob(f.eds, p.start, p.count)
	if err := proof.Verify(nil, p.b, p.start); !errors.Is(err, ErrInvalidProof) {
		t.Errorf("nil DAH: %v", err)
	}
	if err := proof.Verify(f.dah, nil, p.start); !errors.Is(err, ErrInvalidProof) {
		t.Errorf("nil blob: %v", err)
	}
	wb, _ := FromShareBlob(p.b)
	if err := proof.VerifyBlob(f.dah, wb); !errors.Is(err, ErrInvalidProof) {
		t.Errorf("blob without index: %v", err)
	}
	if err := proof.VerifyBlob(f.dah, wb.WithIndex(p.start/k*2*k+p.start%k+k)); !errors.Is(err, ErrInvalidProof) {
		t.Errorf("blob index in the parity half: %v", err)
	}
}

func TestProofJSONShape(t *testing.T) {
	f := constructFixture(t, "small", 1, 64, [][]int{{10}, {700, 30}})
	p := f.blobs[0]
	proof, err := ProveBlob(f.eds, p.start, p.count)
	if err != nil {
		t.Fatal(err)
	}
	js, _ := json.Marshal(proof)
	var raw []map[string]json.RawMessage
	if err := json.Unmarshal(js, &raw); err != nil || len(raw) != proof.Len() {
		t.Fatalf("not an array of %d objects: %s", proof.Len(), js)
	}
	for i, m := range raw {
		rp := proof.RowProofs()[i]
		for key := range m {
			switch key {
			case "start", "end", "nodes", "is_max_namespace_ignored":
			default:
				t.Errorf("unexpected key %q in %s", key, js)
			}
		}
		if _, ok := m["start"]; ok == (rp.Start() == 0) {
			t.Errorf("start %d: present %v (omitempty as in nmt's pb.Proof): %s", rp.Start(), ok, js)
		}
		if string(m["is_max_namespace_ignored"]) != "true" {
			t.Errorf("is_max_namespace_ignored missing: %s", js)
		}
	}
	for _, bad := range []string{
		``, `{}`, `[]`, `null`, `[{}]`, `[{"end":1,"nodes":null,"start":"0"}]`, `[{"start":-1,"end":1,"nodes":[]}]`,
		`[{"start":0,"end":1,"leaf_hash":"` + b64(make([]byte, nmt.NodeSize)) + `"}]`,
		`[{"start":4294967296,"end":4294967297}]`, `[{"end":2,"nodes":["AAAA"]}]`,
	} {
		var q Proof
		if err := json.Unmarshal([]byte(bad), &q); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}
