package erasure

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"testing"

	"github.com/tessera-da/tessera/nmt"
	"github.com/tessera-da/tessera/nmt/merkle"
)

// fixture is an extended square with its DAH and data root.
type fixture struct {
	e    *Extender
	s    *ExtendedSquare
	d    *DAH
	root []byte
}

func newFixture(t testing.TB, ods [][]byte) *fixture {
	t.Helper()
	e, err := NewExtender(DefaultParams(), nil)
	if err != nil {
		t.Fatal(err)
	}
	s, err := e.Extend(ods)
	if err != nil {
		t.Fatal(err)
	}
	d, err := e.ComputeDAH(s)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{e: e, s: s, d: d, root: d.Hash()}
}

func TestDataRootVectors(t *testing.T) {
	for _, file := range []string{"eds.json", "eds_large.json"} {
		f := loadVectors(t, file)
		for i := range f.Squares {
			v := &f.Squares[i]
			t.Run(file+"/k="+strconv.Itoa(v.K), func(t *testing.T) {
				if testing.Short() && v.K > 64 {
					t.Skip("large square skipped in -short mode")
				}
				fx := newFixture(t, vectorODS(t, v))
				if !bytes.Equal(fx.root, unhex(t, v.DataRoot)) {
					t.Fatalf("data root = %x, want %s", fx.root, v.DataRoot)
				}
			})
		}
	}
}

func TestMinDAH(t *testing.T) {
	f := loadVectors(t, "eds.json")
	d := MinDAH()
	const want = "3d96b7d238e7e0456f6af8e7cdf0a67bd6cf9c2089ecb559c659dcaa1f880353"
	if got := hex.EncodeToString(d.Hash()); got != want || !bytes.Equal(d.Hash(), unhex(t, f.MinDAH.Hash)) {
		t.Fatalf("MinDAH().Hash() = %s, want %s", got, want)
	}
	if !bytes.Equal(TailPaddingShare(), unhex(t, f.MinDAH.ODSShares[0])) {
		t.Fatal("TailPaddingShare differs from the vector")
	}
	for a, want := range [2][][]byte{unhexList(t, f.MinDAH.RowRoots), unhexList(t, f.MinDAH.ColRoots)} {
		got := d.axisRoots(Axis(a))
		if len(got) != len(want) {
			t.Fatalf("%d %s roots, want %d", len(got), Axis(a), len(want))
		}
		for i := range want {
			if !bytes.Equal(got[i], want[i]) {
				t.Errorf("%s root %d differs", Axis(a), i)
			}
		}
	}
}

func TestNilDAHHash(t *testing.T) {
	f := loadVectors(t, "eds.json")
	var d *DAH
	if !bytes.Equal(d.Hash(), unhex(t, f.NilDAHHash)) {
		t.Fatalf("nil DAH hash = %x, want %s", d.Hash(), f.NilDAHHash)
	}
	if d.Width() != 0 || d.RowRoots() != nil || d.Root(Row, 0) != nil {
		t.Fatal("nil DAH is not empty")
	}
}

func TestSampleVectors(t *testing.T) {
	f := loadVectors(t, "eds.json")
	n := 0
	for i := range f.Squares {
		v := &f.Squares[i]
		if len(v.Samples) == 0 {
			continue
		}
		fx := newFixture(t, vectorODS(t, v))
		w := fx.s.Width()
		dataRoot := unhex(t, v.DataRoot)
		for _, vs := range v.Samples {
			name := fmt.Sprintf("k=%d/(%d,%d)/%s", v.K, vs.Row, vs.Col, vs.ProofAxis)
			share, axisRoot := unhex(t, vs.ShareHex), unhex(t, vs.AxisRoot)
			proofNodes := unhexList(t, vs.Proof.Nodes)
			a := Row
			if vs.ProofAxis == "col" {
				a = Col
			}
			smp, err := fx.e.ProveSample(fx.s, fx.d, vs.Row, vs.Col, a)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if !bytes.Equal(smp.Share(), share) {
				t.Errorf("%s: share differs", name)
			}
			if !bytes.Equal(smp.AxisRoot(), axisRoot) {
				t.Errorf("%s: axis root differs", name)
			}
			p := smp.Proof()
			if p.Start() != vs.Proof.Start || p.End() != vs.Proof.End || p.IsMaxNamespaceIgnored() != vs.Proof.IsMaxNamespaceIgnored {
				t.Errorf("%s: proof range [%d,%d) differs", name, p.Start(), p.End())
			}
			nodes := p.Nodes()
			if len(nodes) != len(vs.Proof.Nodes) {
				t.Fatalf("%s: %d proof nodes, want %d", name, len(nodes), len(vs.Proof.Nodes))
			}
			for j := range nodes {
				if !bytes.Equal(nodes[j], proofNodes[j]) {
					t.Errorf("%s: proof node %d differs", name, j)
				}
			}
			if err := VerifySample(dataRoot, w, vs.Row, vs.Col, smp); (err == nil) != vs.Verified {
				t.Errorf("%s: VerifySample = %v, vector says verified=%v", name, err, vs.Verified)
			}
			// The vector's own proof, assembled with our root proof, verifies.
			vp, err := nmt.NewProof(vs.Proof.Start, vs.Proof.End, proofNodes, unhex(t, vs.Proof.LeafHash), vs.Proof.IsMaxNamespaceIgnored)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			vsmp, err := NewSample(w, vs.Row, vs.Col, a, share, vp, axisRoot, smp.RootProof())
			if err != nil {
				t.Fatalf("%s: NewSample: %v", name, err)
			}
			if err := VerifySample(dataRoot, w, vs.Row, vs.Col, vsmp); err != nil {
				t.Errorf("%s: the vector's proof does not verify: %v", name, err)
			}
			n++
		}
	}
	if n == 0 {
		t.Fatal("no samples in eds.json")
	}
}

func TestRootProofVectors(t *testing.T) {
	f := loadVectors(t, "eds.json")
	n := 0
	for i := range f.Squares {
		v := &f.Squares[i]
		if len(v.RootProofs) == 0 {
			continue
		}
		fx := newFixture(t, vectorODS(t, v))
		w := fx.d.Width()
		dataRoot := unhex(t, v.DataRoot)
		for _, rp := range v.RootProofs {
			leaf, wantAunts := unhex(t, rp.Leaf), unhexList(t, rp.Aunts)
			a, idx := Row, rp.LeafIndex
			if idx >= w {
				a, idx = Col, idx-w
			}
			p, err := fx.d.ProveRoot(a, idx)
			if err != nil {
				t.Fatal(err)
			}
			if p.Total() != int64(rp.Total) || p.Index() != int64(rp.LeafIndex) {
				t.Errorf("k=%d %s: index %d of %d", v.K, rp.What, p.Index(), p.Total())
			}
			if !bytes.Equal(fx.d.Root(a, idx), leaf) || !bytes.Equal(p.LeafHash(), unhex(t, rp.LeafHash)) {
				t.Errorf("k=%d %s: leaf or leaf hash differs", v.K, rp.What)
			}
			aunts := p.Aunts()
			if len(aunts) != len(rp.Aunts) {
				t.Fatalf("k=%d %s: %d aunts, want %d", v.K, rp.What, len(aunts), len(rp.Aunts))
			}
			for j := range aunts {
				if !bytes.Equal(aunts[j], wantAunts[j]) {
					t.Errorf("k=%d %s: aunt %d differs", v.K, rp.What, j)
				}
			}
			if err := VerifyRoot(dataRoot, w, a, idx, leaf, p); (err == nil) != rp.Verified {
				t.Errorf("k=%d %s: VerifyRoot = %v", v.K, rp.What, err)
			}
			n++
		}
	}
	if n == 0 {
		t.Fatal("no root proofs in eds.json")
	}
}

// sampleCoords lists coordinates covering every quadrant and the corners.
func sampleCoords(w int) [][2]int {
	k := w / 2
	c := [][2]int{{0, 0}, {0, w - 1}, {w - 1, 0}, {w - 1, w - 1}, {k - 1, k - 1}, {k - 1, k}, {k, k - 1}, {k, k}}
	if w > 2 {
		c = append(c, [2]int{1, w - 2}, [2]int{w - 2, 1})
	}
	return c
}

func TestSampleRoundTripAndEveryMutationFails(t *testing.T) {
	for _, k := range []int{1, 2, 4, 8} {
		t.Run(fmt.Sprintf("k=%d", k), func(t *testing.T) {
			fx := newFixture(t, sortedODS(k, "mut"))
			w := fx.s.Width()
			for _, rc := range sampleCoords(w) {
				for _, a := range []Axis{Row, Col} {
					smp, err := fx.e.ProveSample(fx.s, fx.d, rc[0], rc[1], a)
					if err != nil {
						t.Fatal(err)
					}
					if err := VerifySample(fx.root, w, rc[0], rc[1], smp); err != nil {
						t.Fatalf("honest sample %v/%s: %v", rc, a, err)
					}
					enc, err := smp.MarshalBinary()
					if err != nil {
						t.Fatal(err)
					}
					if len(enc) != SampleSize(w) {
						t.Fatalf("encoding is %d bytes, SampleSize says %d", len(enc), SampleSize(w))
					}
					back, err := ParseSample(enc, w)
					if err != nil {
						t.Fatalf("ParseSample(honest): %v", err)
					}
					if err := VerifySample(fx.root, w, rc[0], rc[1], back); err != nil {
						t.Fatalf("decoded honest sample: %v", err)
					}
					again, _ := back.MarshalBinary()
					if !bytes.Equal(again, enc) {
						t.Fatal("re-encoding differs")
					}
					mut := bytes.Clone(enc)
					for i := range mut {
						for _, x := range []byte{0x01, 0x80, 0xff} {
							mut[i] ^= x
							if m, err := ParseSample(mut, w); err == nil && VerifySample(fx.root, w, rc[0], rc[1], m) == nil {
								// The one exception: for k = 1 all cells are
								// equal, so row i and column i are the same
								// tree and their data-root paths coincide;
								// flipping the axis byte of a diagonal sample
								// gives the other, equally true, proof of the
								// same share at the same coordinates.
								if !(k == 1 && i == 0 && rc[0] == rc[1] && bytes.Equal(m.Share(), smp.Share())) {
									t.Fatalf("%v/%s: byte %d ^ %#x still verifies", rc, a, i, x)
								}
							}
							mut[i] ^= x
						}
					}
					if _, err := ParseSample(enc[:len(enc)-1], w); err == nil {
						t.Fatal("truncated encoding parses")
					}
					if _, err := ParseSample(append(bytes.Clone(enc), 0), w); err == nil {
						t.Fatal("extended encoding parses")
					}
					// A wrong data root, width or coordinate fails.
					bad := bytes.Clone(fx.root)
					bad[0] ^= 1
					if VerifySample(bad, w, rc[0], rc[1], smp) == nil {
						t.Fatal("verifies under another data root")
					}
					if VerifySample(fx.root, 2*w, rc[0], rc[1], smp) == nil {
						t.Fatal("verifies for another width")
					}
					if VerifySample(fx.root, w, (rc[0]+1)%w, rc[1], smp) == nil {
						t.Fatal("verifies for another row")
					}
				}
			}
		})
	}
}

// sortedODS returns k² pseudo-random shares whose namespaces do not
// decrease in row-major order.
func sortedODS(k int, seed string) [][]byte {
	ods := randomODS(k, seed)
	flat := bytes.Join(ods, nil)
	sortedNamespaces(flat, k)
	for i := range ods {
		ods[i] = flat[i*ShareSize : (i+1)*ShareSize]
	}
	return ods
}

func TestProveSampleErrors(t *testing.T) {
	fx := newFixture(t, sortedODS(2, "err"))
	for _, tc := range []struct {
		row, col int
		a        Axis
	}{{-1, 0, Row}, {0, 4, Row}, {4, 0, Col}, {0, 0, 2}} {
		if _, err := fx.e.ProveSample(fx.s, fx.d, tc.row, tc.col, tc.a); !errors.Is(err, ErrWrongCoordinate) {
			t.Errorf("%v: err = %v, want ErrWrongCoordinate", tc, err)
		}
	}
	other := newFixture(t, sortedODS(2, "other"))
	if _, err := fx.e.ProveSample(fx.s, other.d, 0, 0, Row); !errors.Is(err, ErrDAHMismatch) {
		t.Errorf("foreign DAH: err = %v, want ErrDAHMismatch", err)
	}
	if _, err := fx.e.ProveSample(fx.s, MinDAH(), 0, 0, Row); !errors.Is(err, ErrDAHMismatch) {
		t.Errorf("DAH of another width: err = %v, want ErrDAHMismatch", err)
	}
	if _, err := fx.e.ProveSample(nil, fx.d, 0, 0, Row); !errors.Is(err, ErrInvalidWidth) {
		t.Errorf("nil square: err = %v", err)
	}
	if err := VerifySample(fx.root, 4, 0, 0, nil); !errors.Is(err, ErrInvalidProof) {
		t.Errorf("nil sample: err = %v", err)
	}
	if err := VerifySample(fx.root, 4, 0, 0, &Sample{width: 4}); !errors.Is(err, ErrInvalidProof) {
		t.Errorf("zero sample: err = %v", err)
	}
	for _, w := range []int{0, 3, 6, 2048} {
		if _, err := ParseSample(nil, w); !errors.Is(err, ErrWrongCoordinate) {
			t.Errorf("ParseSample width %d: err = %v", w, err)
		}
	}
}

func TestComputeDAHRejectsUnsortedNamespaces(t *testing.T) {
	ods := randomODS(4, "unsorted")
	ods[0][0] = 0xff // first share above the second
	ods[1][0] = 0x00
	e, _ := NewExtender(DefaultParams(), nil)
	s, err := e.Extend(ods)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.ComputeDAH(s); !errors.Is(err, ErrInvalidShare) || !errors.Is(err, nmt.ErrOutOfOrder) {
		t.Fatalf("err = %v, want ErrInvalidShare wrapping nmt.ErrOutOfOrder", err)
	}
	if _, err := e.ComputeDAH(nil); !errors.Is(err, ErrInvalidWidth) {
		t.Fatalf("nil square: err = %v", err)
	}
	if _, err := e.ComputeDAH(&ExtendedSquare{}); !errors.Is(err, ErrInvalidWidth) {
		t.Fatalf("zero square: err = %v", err)
	}
}

func TestComputeDAHParallelEqualsSerial(t *testing.T) {
	ods := sortedODS(32, "dahpar")
	var ref *DAH
	for _, workers := range []int{1, 2, 3, 16} {
		e, _ := NewExtender(Params{Workers: workers}, nil)
		s, err := e.Extend(ods)
		if err != nil {
			t.Fatal(err)
		}
		d, err := e.ComputeDAH(s)
		if err != nil {
			t.Fatal(err)
		}
		// Twice, to exercise the reused trees.
		d2, err := e.ComputeDAH(s)
		if err != nil || !d.Equal(d2) {
			t.Fatalf("workers=%d: second ComputeDAH differs (%v)", workers, err)
		}
		if ref == nil {
			ref = d
		} else if !ref.Equal(d) {
			t.Fatalf("workers=%d: DAH differs from serial", workers)
		}
	}
}

func TestNewDAH(t *testing.T) {
	fx := newFixture(t, sortedODS(4, "newdah"))
	d, err := NewDAH(fx.d.RowRoots(), fx.d.ColRoots())
	if err != nil {
		t.Fatal(err)
	}
	if !d.Equal(fx.d) || !bytes.Equal(d.Hash(), fx.root) {
		t.Fatal("NewDAH(RowRoots, ColRoots) differs")
	}
	rows, cols := fx.d.RowRoots(), fx.d.ColRoots()
	badNode := bytes.Clone(rows[0])
	badNode[0] = 0xff // min > max
	for name, tc := range map[string][2][][]byte{
		"empty":      {nil, nil},
		"unequal":    {rows, cols[:4]},
		"odd":        {rows[:3], cols[:3]},
		"not 2^n":    {rows[:6], cols[:6]},
		"short root": {append([][]byte{rows[0][:89]}, rows[1:]...), cols},
		"bad range":  {append([][]byte{badNode}, rows[1:]...), cols},
	} {
		if _, err := NewDAH(tc[0], tc[1]); !errors.Is(err, ErrInvalidDAH) {
			t.Errorf("%s: err = %v, want ErrInvalidDAH", name, err)
		}
	}
	if d.Root(2, 0) != nil || d.Root(Row, 8) != nil || d.Root(Col, -1) != nil {
		t.Error("out-of-range Root is not nil")
	}
	if _, err := d.ProveRoot(Col, 8); !errors.Is(err, ErrWrongCoordinate) {
		t.Errorf("ProveRoot out of range: %v", err)
	}
}

func TestVerifyRootRejects(t *testing.T) {
	fx := newFixture(t, sortedODS(2, "vr"))
	p, _ := fx.d.ProveRoot(Col, 1)
	root := fx.d.Root(Col, 1)
	if err := VerifyRoot(fx.root, 4, Col, 1, root, p); err != nil {
		t.Fatal(err)
	}
	for name, err := range map[string]error{
		"row instead of col": VerifyRoot(fx.root, 4, Row, 1, root, p),
		"other index":        VerifyRoot(fx.root, 4, Col, 0, root, p),
		"other width":        VerifyRoot(fx.root, 8, Col, 1, root, p),
		"bad width":          VerifyRoot(fx.root, 5, Col, 1, root, p),
		"other root":         VerifyRoot(fx.root, 4, Col, 1, fx.d.Root(Col, 0), p),
		"short data root":    VerifyRoot(fx.root[:31], 4, Col, 1, root, p),
		"zero proof":         VerifyRoot(fx.root, 4, Col, 1, root, merkle.Proof{}),
		"axis 2":             VerifyRoot(fx.root, 4, 2, 1, root, p),
	} {
		if err == nil {
			t.Errorf("%s: verified", name)
		}
	}
}
