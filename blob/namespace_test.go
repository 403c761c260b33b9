package blob

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"testing"

	"github.com/tessera-da/tessera/internal/vectors"
	"github.com/tessera-da/tessera/nmt"
	"github.com/tessera-da/tessera/share"
)

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// naiveNamespaceRows is the reference: scan every row root and every
// original share.
func naiveNamespaceRows(f *fixture, ns share.Namespace) (rows []int, shares [][][]byte) {
	k := f.eds.ODSWidth()
	nsb := ns.Array()
	for r, root := range f.dah.RowRoots() {
		if bytes.Compare(nsb[:], root[:29]) < 0 || bytes.Compare(nsb[:], root[29:58]) > 0 {
			continue
		}
		rows = append(rows, r)
		var in [][]byte
		for c := range k {
			if cell := f.eds.Cell(r, c); bytes.Equal(cell[:29], nsb[:]) {
				in = append(in, cell)
			}
		}
		shares = append(shares, in)
	}
	return rows, shares
}

// probeNamespaces returns every blob namespace, the namespaces just above
// each (absent, inside some row's range), and the zero namespace (below
// every row).
func probeNamespaces(t testing.TB, f *fixture) []share.Namespace {
	t.Helper()
	var out []share.Namespace
	for _, p := range f.blobs {
		ns := p.b.Namespace()
		out = append(out, ns)
		b := ns.Array()
		b[len(b)-1]++
		if up, err := share.NewNamespaceFromBytes(b[:]); err == nil && b[len(b)-1] != 0 {
			out = append(out, up)
		}
	}
	return append(out, share.Namespace{}, share.TxNamespace, share.PayForBlobNamespace, share.TailPaddingNamespace)
}

func TestNamespaceDataVerifies(t *testing.T) {
	for _, f := range fixtures(t) {
		t.Run(f.name, func(t *testing.T) {
			var absent, outside bool
			for _, ns := range probeNamespaces(t, f) {
				nd, err := ProveNamespaceData(f.eds, f.dah, ns)
				if err != nil {
					t.Fatalf("%s: %v", ns, err)
				}
				rows, shares := naiveNamespaceRows(f, ns)
				if got := RowsWithNamespace(f.dah, ns); fmt.Sprint(got) != fmt.Sprint(rows) {
					t.Fatalf("%s: rows %v, want %v", ns, got, rows)
				}
				if len(nd) != len(rows) {
					t.Fatalf("%s: %d rows, want %d", ns, len(nd), len(rows))
				}
				outside = outside || len(rows) == 0
				for i := range nd {
					if !equalShares(nd[i].Shares(), shares[i]) {
						t.Fatalf("%s: row %d shares differ from the reference", ns, rows[i])
					}
					absent = absent || nd[i].IsAbsence()
					if err := nd[i].Verify(f.dah, ns, rows[i]); err != nil {
						t.Fatalf("%s: row %d: %v", ns, rows[i], err)
					}
					one, err := ProveRowNamespaceData(f.eds, f.dah, ns, rows[i])
					if err != nil || !one.Equal(nd[i]) {
						t.Fatalf("%s: row %d alone differs: %v", ns, rows[i], err)
					}
					enc, err := nd[i].MarshalBinary()
					if err != nil {
						t.Fatal(err)
					}
					back, err := ParseRowNamespaceData(enc)
					if err != nil || !back.Equal(nd[i]) {
						t.Fatalf("%s: row %d: binary round trip: %v", ns, rows[i], err)
					}
				}
				if err := nd.Verify(f.dah, ns); err != nil {
					t.Fatalf("%s: %v", ns, err)
				}
				js, err := json.Marshal(nd)
				if err != nil {
					t.Fatal(err)
				}
				var back NamespaceData
				if err := json.Unmarshal(js, &back); err != nil || !back.Equal(nd) {
					t.Fatalf("%s: JSON round trip: %v", ns, err)
				}
				if err := back.Verify(f.dah, ns); err != nil {
					t.Fatalf("%s: decoded: %v", ns, err)
				}
			}
			if !outside {
				t.Error("no namespace outside every row was probed")
			}
			if !absent && f.eds.ODSWidth() > 1 {
				t.Error("no absence proof was probed")
			}
		})
	}
}

func equalShares(a, b [][]byte) bool {
	return len(a) == len(b) && bytes.Equal(bytes.Join(a, nil), bytes.Join(b, nil))
}

// mustFailND checks that nd does not verify for ns.
func mustFailND(t *testing.T, what string, f *fixture, nd NamespaceData, ns share.Namespace) {
	t.Helper()
	if err := nd.Verify(f.dah, ns); err == nil {
		t.Fatalf("%s: mutated namespace data verifies", what)
	} else if !errors.Is(err, ErrInvalidProof) {
		t.Fatalf("%s: error does not wrap ErrInvalidProof: %v", what, err)
	}
}

func rebuildRow(t *testing.T, r RowNamespaceData, shares [][]byte, p nmt.Proof) (RowNamespaceData, bool) {
	t.Helper()
	v, err := NewRowNamespaceData(shares, p)
	if err != nil {
		if !errors.Is(err, ErrInvalidProof) {
			t.Fatalf("NewRowNamespaceData error does not wrap ErrInvalidProof: %v", err)
		}
		return RowNamespaceData{}, false
	}
	return v, true
}

func TestNamespaceDataEveryMutationFails(t *testing.T) {
	f := constructFixture(t, "small", 1, 64, [][]int{{10}, {700, 30}})
	for _, ns := range probeNamespaces(t, f) {
		nd, err := ProveNamespaceData(f.eds, f.dah, ns)
		if err != nil {
			t.Fatal(err)
		}
		clone := func() NamespaceData { return append(NamespaceData(nil), nd...) }
		for i, row := range nd {
			shares, p := row.Shares(), row.Proof()
			for s := range shares {
				for j := range share.ShareSize {
					m := row.Shares()
					m[s][j] ^= 1 << (j % 8)
					v, ok := rebuildRow(t, row, m, p)
					if !ok {
						continue
					}
					c := clone()
					c[i] = v
					mustFailND(t, fmt.Sprintf("%s row %d share %d byte %d", ns, i, s, j), f, c, ns)
				}
			}
			for n := range p.NumNodes() {
				for j := range nmt.NodeSize {
					q := withNode(t, p, n, func(b []byte) { b[j] ^= 1 << (j % 8) })
					v, ok := rebuildRow(t, row, shares, q)
					if !ok {
						continue
					}
					c := clone()
					c[i] = v
					mustFailND(t, fmt.Sprintf("%s row %d node %d byte %d", ns, i, n, j), f, c, ns)
				}
			}
			if lh := p.LeafHash(); lh != nil {
				for j := range lh {
					m := bytes.Clone(lh)
					m[j] ^= 1 << (j % 8)
					q, err := nmt.NewProof(p.Start(), p.End(), p.Nodes(), m, true)
					if err != nil {
						continue
					}
					c := clone()
					c[i] = RowNamespaceData{proof: q}
					mustFailND(t, fmt.Sprintf("%s row %d leaf hash byte %d", ns, i, j), f, c, ns)
				}
			}
			for _, d := range [][2]int{{-1, -1}, {1, 1}, {0, 1}, {-1, 0}} {
				q := withRange(t, p, p.Start()+d[0], p.End()+d[1])
				v, ok := rebuildRow(t, row, shares, q)
				if !ok {
					continue
				}
				c := clone()
				c[i] = v
				mustFailND(t, fmt.Sprintf("%s row %d range %v", ns, i, d), f, c, ns)
			}
			// A share dropped (with a matching proof range) is incomplete.
			if len(shares) > 1 {
				q := withRange(t, p, p.Start(), p.End()-1)
				if v, ok := rebuildRow(t, row, shares[:len(shares)-1], q); ok {
					c := clone()
					c[i] = v
					mustFailND(t, fmt.Sprintf("%s row %d dropped share", ns, i), f, c, ns)
				}
			}
			c := clone()
			c = append(c[:i], c[i+1:]...)
			mustFailND(t, fmt.Sprintf("%s row %d dropped", ns, i), f, c, ns)
			c = clone()
			c = append(c[:i+1], c[i:]...)
			mustFailND(t, fmt.Sprintf("%s row %d duplicated", ns, i), f, c, ns)
			c = clone()
			c[i] = RowNamespaceData{}
			mustFailND(t, fmt.Sprintf("%s row %d zero", ns, i), f, c, ns)
		}
		if len(nd) > 1 {
			c := clone()
			c[0], c[1] = c[1], c[0]
			mustFailND(t, fmt.Sprintf("%s swapped", ns), f, c, ns)
		}
		// The data of one namespace never verifies for another that has
		// rows.
		for _, other := range probeNamespaces(t, f) {
			if other != ns && len(nd)+len(RowsWithNamespace(f.dah, other)) > 0 {
				if err := nd.Verify(f.dah, other); err == nil {
					t.Fatalf("data of %s verifies for %s", ns, other)
				}
			}
		}
	}
}

func TestNamespaceDataRejects(t *testing.T) {
	f := constructFixture(t, "small", 1, 64, [][]int{{10}, {700, 30}})
	g := constructFixture(t, "mixed", 2, 64, [][]int{{3000}, {100, 9000}, {1}, {40000}})
	ns := f.blobs[0].b.Namespace()
	if _, err := ProveNamespaceData(f.eds, g.dah, ns); !errors.Is(err, ErrInvalidRequest) {
		t.Errorf("DAH of another square: %v", err)
	}
	if _, err := ProveNamespaceData(f.eds, nil, ns); !errors.Is(err, ErrInvalidRequest) {
		t.Errorf("nil DAH: %v", err)
	}
	if _, err := ProveNamespaceData(f.eds, f.dah, share.ParityNamespace); !errors.Is(err, ErrInvalidRequest) {
		t.Errorf("parity: %v", err)
	}
	if err := (NamespaceData{}).Verify(f.dah, share.ParityNamespace); err == nil {
		t.Error("parity namespace verified")
	}
	if err := (NamespaceData{}).Verify(nil, ns); err == nil {
		t.Error("nil DAH verified")
	}
	rows := RowsWithNamespace(f.dah, ns)
	if _, err := ProveRowNamespaceData(f.eds, f.dah, share.Namespace{}, 0); !errors.Is(err, ErrNamespaceOutsideRange) {
		t.Errorf("outside: %v", err)
	}
	for _, row := range []int{-1, f.eds.Width()} {
		if _, err := ProveRowNamespaceData(f.eds, f.dah, ns, row); !errors.Is(err, ErrInvalidRequest) {
			t.Errorf("row %d: %v", row, err)
		}
	}
	nd, _ := ProveNamespaceData(f.eds, f.dah, ns)
	if err := nd[0].Verify(f.dah, ns, f.eds.Width()); err == nil {
		t.Error("row out of range verified")
	}
	if err := nd[0].Verify(nil, ns, 0); err == nil {
		t.Error("nil DAH verified")
	}
	// Valid data presented for a row whose root does not cover ns.
	for row := range f.eds.Width() {
		if row != rows[0] {
			if err := nd[0].Verify(f.dah, ns, row); err == nil {
				t.Errorf("row %d's data verifies as row %d", rows[0], row)
			}
		}
	}
	// Constructor shapes.
	p := nd[0].Proof()
	sh := nd[0].Shares()
	for name, c := range map[string]func() error{
		"empty proof":    func() error { _, err := NewRowNamespaceData(nil, nmt.Proof{}); return err },
		"too few shares": func() error { _, err := NewRowNamespaceData(sh[:len(sh)-1], p); return err },
		"no shares":      func() error { _, err := NewRowNamespaceData(nil, p); return err },
		"short share":    func() error { _, err := NewRowNamespaceData(append([][]byte{sh[0][:100]}, sh[1:]...), p); return err },
		"mixed namespaces": func() error {
			two, _ := nmt.NewProof(0, 2, nil, nil, true)
			_, err := NewRowNamespaceData([][]byte{sh[0], make([]byte, share.ShareSize)}, two)
			return err
		},
	} {
		if err := c(); !errors.Is(err, ErrInvalidProof) {
			t.Errorf("%s: %v", name, err)
		}
	}
	for _, bad := range []string{
		``, `{}`, `{"shares":null}`, `{"shares":[],"proof":{}}`, `{"shares":["AA=="],"proof":{"end":1}}`,
		`{"shares":null,"proof":{"end":1}}`, `{"proof":{"start":1,"end":2,"leaf_hash":"AA=="}}`,
	} {
		var r RowNamespaceData
		if err := json.Unmarshal([]byte(bad), &r); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
	var many NamespaceData
	if err := json.Unmarshal([]byte("["+string(bytes.Repeat([]byte("{},"), MaxNamespaceDataRows))+"{}]"), &many); err == nil {
		t.Error("accepted too many rows")
	}
}

func TestRowNamespaceDataJSONShape(t *testing.T) {
	f := constructFixture(t, "small", 1, 64, [][]int{{10}, {700, 30}})
	ns := f.blobs[0].b.Namespace()
	nd, _ := ProveNamespaceData(f.eds, f.dah, ns)
	js, _ := json.Marshal(nd[0])
	var m map[string]json.RawMessage
	if err := json.Unmarshal(js, &m); err != nil || len(m) != 2 || m["shares"] == nil || m["proof"] == nil {
		t.Fatalf("shape: %s", js)
	}
	b := ns.Array()
	b[len(b)-1]++
	up, _ := share.NewNamespaceFromBytes(b[:])
	absent, _ := ProveNamespaceData(f.eds, f.dah, up)
	js, _ = json.Marshal(absent[0])
	if !bytes.HasPrefix(js, []byte(`{"shares":null,"proof":{"start":`)) || !bytes.Contains(js, []byte(`"leaf_hash":"`)) {
		t.Fatalf("absence shape: %s", js)
	}
}

// unhex decodes a hex value of a vector file.
func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("vector hex %q: %v", s, err)
	}
	return b
}

// vectorNamespace decodes a namespace of a vector file.
func vectorNamespace(t testing.TB, s string) share.Namespace {
	t.Helper()
	ns, err := share.NewNamespaceFromBytes(unhex(t, s))
	if err != nil {
		t.Fatal(err)
	}
	return ns
}

// squareVectorFixture rebuilds square.json's square from its inputs.
func squareVectorFixture(t testing.TB) (*vectors.SquareFile, *fixture) {
	t.Helper()
	data, err := os.ReadFile("../testdata/vectors/square.json")
	if err != nil {
		t.Fatal(err)
	}
	var v vectors.SquareFile
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	var txs []share.ClassifiedTx
	for i, tx := range v.Txs {
		raw := vectors.Bytes(tx.TxSeed, tx.TxLen)
		if tx.Kind == "blob_tx" {
			var blobs []*share.Blob
			for _, vb := range tx.Blobs {
				ns := vectorNamespace(t, vb.Namespace)
				var signer []byte
				if vb.SignerSeed != "" {
					signer = vectors.Bytes(vb.SignerSeed, share.SignerSize)
				}
				b, err := share.NewBlob(ns, vectors.Bytes(vb.DataSeed, vb.DataLen), vb.ShareVersion, signer)
				if err != nil {
					t.Fatalf("tx %d: %v", i, err)
				}
				blobs = append(blobs, b)
			}
			if raw, err = share.MarshalBlobTx(raw, blobs...); err != nil {
				t.Fatal(err)
			}
		}
		txs = append(txs, share.ClassifiedTx{Bytes: raw})
	}
	sq, _, err := share.ConstructClassified(txs, v.MaxSquareSize, v.Threshold)
	if err != nil {
		t.Fatal(err)
	}
	f := extendFixture(t, &fixture{name: "square.json", sq: sq})
	if !bytes.Equal(f.dah.Hash(), unhex(t, v.DataRoot)) {
		t.Fatalf("data root %x, want %s", f.dah.Hash(), v.DataRoot)
	}
	for _, vb := range v.Blobs {
		b, _, err := share.ParseBlob(sq[vb.ShareStart:])
		if err != nil {
			t.Fatal(err)
		}
		f.blobs = append(f.blobs, placed{b: b, start: vb.ShareStart, count: vb.ShareCount})
	}
	return &v, f
}

// TestNamespaceDataVectors checks square.json's namespace_data: the rows,
// where the namespace sits in each, every proof byte for byte, and that the
// vector's proofs verify.
func TestNamespaceDataVectors(t *testing.T) {
	v, f := squareVectorFixture(t)
	if len(v.NamespaceData) == 0 {
		t.Fatal("no namespace_data in square.json")
	}
	for _, vn := range v.NamespaceData {
		ns := vectorNamespace(t, vn.Namespace)
		nd, err := ProveNamespaceData(f.eds, f.dah, ns)
		if err != nil {
			t.Fatal(err)
		}
		rows := RowsWithNamespace(f.dah, ns)
		if len(nd) != len(vn.Rows) || len(rows) != len(vn.Rows) {
			t.Fatalf("%s: %d rows, want %d", ns, len(nd), len(vn.Rows))
		}
		var fromVectors NamespaceData
		for i, vr := range vn.Rows {
			got := nd[i]
			p := got.Proof()
			if rows[i] != vr.Row || got.NumShares() != vr.Count || (vr.Count > 0 && p.Start() != vr.From) {
				t.Fatalf("%s row %d: row %d, from %d, count %d; want row %d, from %d, count %d",
					ns, i, rows[i], p.Start(), got.NumShares(), vr.Row, vr.From, vr.Count)
			}
			var nodes [][]byte
			for _, n := range vr.Proof.Nodes {
				nodes = append(nodes, unhex(t, n))
			}
			want, err := nmt.NewProof(vr.Proof.Start, vr.Proof.End, nodes, unhex(t, vr.Proof.LeafHash), vr.Proof.IsMaxNamespaceIgnored)
			if err != nil {
				t.Fatal(err)
			}
			if !p.Equal(want) {
				t.Fatalf("%s row %d: proof differs from the vector", ns, vr.Row)
			}
			rnd, err := NewRowNamespaceData(got.Shares(), want)
			if err != nil {
				t.Fatal(err)
			}
			if err := rnd.Verify(f.dah, ns, vr.Row); (err == nil) != vr.Verified {
				t.Fatalf("%s row %d: verify %v, vector says verified=%v", ns, vr.Row, err, vr.Verified)
			}
			fromVectors = append(fromVectors, rnd)
		}
		if err := fromVectors.Verify(f.dah, ns); err != nil {
			t.Fatalf("%s: %v", ns, err)
		}
	}
}

func TestCommitmentProofVectors(t *testing.T) {
	v, f := squareVectorFixture(t)
	dataRoot := unhex(t, v.DataRoot)
	for i, vb := range v.Blobs {
		ns := vectorNamespace(t, vb.Namespace)
		commitment := Commitment(unhex(t, vb.Commitment))
		cp, err := ProveCommitment(f.eds, f.dah, vb.ShareStart, vb.ShareCount)
		if err != nil {
			t.Fatalf("blob %d: %v", i, err)
		}
		if err := cp.Verify(dataRoot, ns, commitment); err != nil {
			t.Fatalf("blob %d: %v", i, err)
		}
		proof, err := ProveBlob(f.eds, vb.ShareStart, vb.ShareCount)
		if err != nil {
			t.Fatal(err)
		}
		if err := proof.VerifyIncluded(f.dah, ns, commitment, f.blobs[i].b, vb.ShareStart); err != nil {
			t.Fatalf("blob %d: %v", i, err)
		}
	}
}
