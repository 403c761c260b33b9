package erasure

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"

	"github.com/tessera-da/tessera/internal/vectors"
	"github.com/tessera-da/tessera/nmt"
)

// handEvidence builds a ByzantineError for axis i of s along a from the
// cells at positions, each proven in its orthogonal axis's tree.
func handEvidence(t testing.TB, s *ExtendedSquare, a Axis, i int, positions []int) *ByzantineError {
	t.Helper()
	w := s.Width()
	be := &ByzantineError{Axis: a, Index: i, Shares: make([][]byte, w), Proofs: make([]nmt.Proof, w)}
	tr := newAxisTrees(w)
	for _, j := range positions {
		if err := tr.buildAxis(s, 1-a, j); err != nil {
			t.Fatal(err)
		}
		p, err := tr.tree.Prove(i)
		if err != nil {
			t.Fatal(err)
		}
		r, c := i, j
		if a == Col {
			r, c = j, i
		}
		be.Shares[j] = bytes.Clone(s.Cell(r, c))
		be.Proofs[j] = p
	}
	return be
}

func span(lo, hi int) []int {
	var out []int
	for j := lo; j < hi; j++ {
		out = append(out, j)
	}
	return out
}

// TestBEFPHonestSquareRejected: proofs built from an honest square, from
// any k shares or all 2k, along rows and columns, never verify.
func TestBEFPHonestSquareRejected(t *testing.T) {
	for _, k := range []int{1, 2, 4, 8} {
		fx := newFixture(t, sortedODS(k, "honest-befp"))
		w := 2 * k
		for _, a := range []Axis{Row, Col} {
			for _, i := range []int{0, k - 1, k, w - 1} {
				for _, pos := range [][]int{span(0, k), span(k, w), span(0, w), span(k/2, k/2+k)} {
					p, err := NewBadEncodingProof(fx.d, handEvidence(t, fx.s, a, i, pos))
					if err != nil {
						t.Fatal(err)
					}
					err = p.Verify(fx.d)
					if !errors.Is(err, ErrInvalidProof) {
						t.Fatalf("k=%d %s %d from %v: Verify = %v, want ErrInvalidProof", k, a, i, pos, err)
					}
				}
			}
		}
	}
}

// TestBEFPFromAnyKSharesOfABadAxis: every k-subset of proven shares of a
// bad axis that has exactly one bad cell verifies when it includes that
// cell or when it rebuilds the axis away from the committed cells.
func TestBEFPProofsOfBadAxes(t *testing.T) {
	k := 4
	ff := newFraudFixture(t, k, "anyk", [][2]int{{0, k}})
	w := 2 * k
	// Row 0 is bad in cell (0, k); any k shares that include it rebuild
	// a codeword through the bad cell, which differs from row 0 elsewhere.
	for _, pos := range [][]int{span(0, w), span(k, w), {0, 1, 2, k}, {k, k + 1, w - 2, w - 1}} {
		p, err := NewBadEncodingProof(ff.d, handEvidence(t, ff.s, Row, 0, pos))
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Verify(ff.d); err != nil {
			t.Errorf("shares %v: %v", pos, err)
		}
	}
	// k shares that are all honest cells of row 0 rebuild the honest row,
	// whose root also differs from the committed one (which covers the
	// bad cell): fraud too.
	p, err := NewBadEncodingProof(ff.d, handEvidence(t, ff.s, Row, 0, span(0, k)))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Verify(ff.d); err != nil {
		t.Errorf("honest half of a bad row: %v", err)
	}
	// A good row of the same square does not verify.
	p, err = NewBadEncodingProof(ff.d, handEvidence(t, ff.s, Row, 1, span(0, k)))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Verify(ff.d); err == nil {
		t.Fatal("a proof about a good row verifies")
	}
}

// TestBEFPUncommittableAxis: a producer puts into row 0's parity the
// encoding of data whose namespaces decrease. Decoding row 0 from its
// parity gives an axis no NMT can commit to: that is fraud too.
func TestBEFPUncommittableAxis(t *testing.T) {
	k := 4
	honest := newFixture(t, sortedODS(k, "uncommittable"))
	w := 2 * k
	s := &ExtendedSquare{buf: bytes.Clone(honest.s.buf), k: k}
	fake := make([][]byte, w)
	for j := range w {
		fake[j] = make([]byte, ShareSize)
		if j < k {
			copy(fake[j], vectors.Bytes(fmt.Sprintf("fake/%d", j), ShareSize))
			fake[j][0] = byte(0xf0 - j) // decreasing namespaces
		}
	}
	if err := NewLeopardCodec().Encode(fake); err != nil {
		t.Fatal(err)
	}
	for j := k; j < w; j++ {
		copy(s.Cell(0, j), fake[j])
	}
	d, err := honest.e.ComputeDAH(s)
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewBadEncodingProof(d, handEvidence(t, s, Row, 0, span(k, w)))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Verify(d); err != nil {
		t.Fatalf("uncommittable row: %v", err)
	}
	if _, err := Repair(keepCells(s, func(r, c int) bool { return true }), d, DefaultParams()); !errors.Is(err, ErrByzantineData) {
		t.Fatalf("Repair: %v", err)
	}
}

// validProof returns a fraud fixture and the encoding of the proof Repair
// produces for it from the ODS quadrant (from the whole square for k = 1,
// where the ODS quadrant is a single cell on no complete axis).
func validProof(t testing.TB, k int) (*fraudFixture, []byte) {
	t.Helper()
	ff := newFraudFixture(t, k, "valid", [][2]int{{0, 2*k - 1}})
	_, err := Repair(keepCells(ff.s, func(r, c int) bool { return k == 1 || r < k && c < k }), ff.d, DefaultParams())
	var be *ByzantineError
	if !errors.As(err, &be) {
		t.Fatalf("k=%d: Repair = %v", k, err)
	}
	p, err := NewBadEncodingProof(ff.d, be)
	if err != nil {
		t.Fatal(err)
	}
	enc, err := p.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return ff, enc
}

// TestBEFPEveryMutation changes every byte of valid encoded proofs: at
// k = 1 to every other value, at k = 4 by every single-bit flip and by
// 0xff (and, in the header and bitmap, to every other value). Each mutant
// must fail to parse or to verify, or else prove the same fraud (same data
// root, axis and index, verified); none does in practice, because every
// byte is either checked against the DAH or hashed into a root it must
// match. The test fails if a mutant proves anything else.
func TestBEFPEveryMutation(t *testing.T) {
	for _, k := range []int{1, 4} {
		ff, enc := validProof(t, k)
		orig, err := ParseBadEncodingProof(enc)
		if err != nil {
			t.Fatal(err)
		}
		same := 0
		tried := 0
		mut := bytes.Clone(enc)
		headerEnd := befpHeaderSize + befpBitmapSize(k)
		for i := range mut {
			var values []byte
			if k == 1 || i < headerEnd {
				for v := range 256 {
					if byte(v) != enc[i] {
						values = append(values, byte(v))
					}
				}
			} else {
				for b := range 8 {
					values = append(values, enc[i]^1<<b)
				}
				values = append(values, enc[i]^0xff)
			}
			for _, v := range values {
				mut[i] = v
				tried++
				p, err := ParseBadEncodingProof(mut)
				if err == nil && p.Verify(ff.d) == nil {
					if p.Axis() != orig.Axis() || p.Index() != orig.Index() || !bytes.Equal(p.DataRoot(), orig.DataRoot()) {
						t.Fatalf("k=%d: byte %d = %#x proves other fraud: %s %d", k, i, v, p.Axis(), p.Index())
					}
					same++
				}
			}
			mut[i] = enc[i]
		}
		t.Logf("k=%d: %d mutants of a %d-byte proof, %d still verify (same fraud)", k, tried, len(enc), same)
		if same != 0 {
			t.Errorf("k=%d: %d mutants still verify; update the documentation", k, same)
		}
		for _, n := range []int{0, 1, befpHeaderSize - 1, befpHeaderSize, len(enc) - 1} {
			if _, err := ParseBadEncodingProof(enc[:n]); err == nil {
				t.Errorf("k=%d: truncation to %d bytes parses", k, n)
			}
		}
		if _, err := ParseBadEncodingProof(append(bytes.Clone(enc), 0)); err == nil {
			t.Errorf("k=%d: extended encoding parses", k)
		}
	}
}

// TestParseBadEncodingProofBounds: absurd or inconsistent headers fail
// before anything sized by them is allocated.
func TestParseBadEncodingProofBounds(t *testing.T) {
	header := func(version, axis byte, k, index uint16) []byte {
		b := []byte{version, axis}
		b = binary.BigEndian.AppendUint16(b, k)
		b = binary.BigEndian.AppendUint16(b, index)
		return append(b, make([]byte, DataRootSize)...)
	}
	full := func(k int) []byte { // a header and a bitmap with every share
		b := header(1, 0, uint16(k), 0)
		for range befpBitmapSize(k) {
			b = append(b, 0xff)
		}
		return b
	}
	cases := map[string][]byte{
		"k=0xffff":              append(header(1, 0, 0xffff, 0), make([]byte, 4096)...),
		"k=1024":                append(header(1, 0, 1024, 0), make([]byte, 4096)...),
		"k=3":                   append(header(1, 0, 3, 0), make([]byte, 4096)...),
		"k=0":                   header(1, 0, 0, 0),
		"index=2k":              append(header(1, 0, 4, 8), 0xff),
		"axis=2":                header(1, 2, 4, 0),
		"version=0":             header(0, 0, 4, 0),
		"version=2":             header(2, 0, 4, 0),
		"k=512, no body":        full(512),
		"k=512, short body":     append(full(512), make([]byte, 100000)...),
		"too few shares":        append(header(1, 0, 4, 0), 0x07),
		"padding bit (k=1)":     append(header(1, 0, 1, 0), 0xe0),
		"oversized":             make([]byte, MaxBadEncodingProofSize(MaxODSWidth)+1),
		"k=512, all bits, long": append(full(512), make([]byte, 2*512*befpShareSize(512)+1)...),
	}
	for name, b := range cases {
		var err error
		var ms0, ms1 runtime.MemStats
		runtime.ReadMemStats(&ms0)
		for range 10 {
			_, err = ParseBadEncodingProof(b)
		}
		runtime.ReadMemStats(&ms1)
		if !errors.Is(err, ErrInvalidProof) {
			t.Errorf("%s: err = %v", name, err)
		}
		if per := (ms1.TotalAlloc - ms0.TotalAlloc) / 10; per > 1024 {
			t.Errorf("%s: %d bytes allocated per failed parse", name, per)
		}
	}
	if MaxBadEncodingProofSize(512) != 1446054 || MaxBadEncodingProofSize(3) != 0 || MaxBadEncodingProofSize(1024) != 0 {
		t.Fatalf("MaxBadEncodingProofSize(512) = %d", MaxBadEncodingProofSize(512))
	}
}

func TestNewBadEncodingProofRejects(t *testing.T) {
	ff := newFraudFixture(t, 2, "newbefp", [][2]int{{0, 3}})
	good := handEvidence(t, ff.s, Row, 0, span(0, 2))
	if _, err := NewBadEncodingProof(ff.d, good); err != nil {
		t.Fatal(err)
	}
	other := newFixture(t, sortedODS(4, "newbefp"))
	edit := func(f func(e *ByzantineError)) *ByzantineError {
		e := handEvidence(t, ff.s, Row, 0, span(0, 2))
		f(e)
		return e
	}
	wrongPos := handEvidence(t, ff.s, Row, 1, span(0, 2))
	cases := map[string]struct {
		d *DAH
		e *ByzantineError
	}{
		"nil evidence":      {ff.d, nil},
		"nil DAH":           {nil, good},
		"other width":       {other.d, good},
		"axis 2":            {ff.d, edit(func(e *ByzantineError) { e.Axis = 2 })},
		"index -1":          {ff.d, edit(func(e *ByzantineError) { e.Index = -1 })},
		"index 2k":          {ff.d, edit(func(e *ByzantineError) { e.Index = 4 })},
		"too few shares":    {ff.d, edit(func(e *ByzantineError) { e.Shares[1] = nil })},
		"short share":       {ff.d, edit(func(e *ByzantineError) { e.Shares[1] = e.Shares[1][:10] })},
		"missing proof":     {ff.d, edit(func(e *ByzantineError) { e.Proofs[1] = nmt.Proof{} })},
		"proof for index 1": {ff.d, edit(func(e *ByzantineError) { e.Proofs[1] = wrongPos.Proofs[1] })},
		"short lists":       {ff.d, edit(func(e *ByzantineError) { e.Shares = e.Shares[:3] })},
	}
	for name, c := range cases {
		if p, err := NewBadEncodingProof(c.d, c.e); err == nil || p != nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestBEFPVerifyRejects(t *testing.T) {
	ff, enc := validProof(t, 2)
	p, err := ParseBadEncodingProof(enc)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Verify(ff.d); err != nil {
		t.Fatal(err)
	}
	other := newFraudFixture(t, 4, "verify-rejects", [][2]int{{0, 7}})
	for name, d := range map[string]*DAH{"nil DAH": nil, "other width": other.d, "honest DAH": ff.honest.d} {
		if err := p.Verify(d); !errors.Is(err, ErrInvalidProof) {
			t.Errorf("%s: %v", name, err)
		}
	}
	var zero BadEncodingProof
	if err := zero.Verify(ff.d); !errors.Is(err, ErrInvalidProof) {
		t.Errorf("zero proof: %v", err)
	}
	var nilProof *BadEncodingProof
	if err := nilProof.Verify(ff.d); !errors.Is(err, ErrInvalidProof) {
		t.Errorf("nil proof: %v", err)
	}
	if _, err := zero.MarshalBinary(); err == nil {
		t.Error("zero proof encodes")
	}
	// Shares moved to other positions do not verify.
	ev := p.Evidence()
	for j := range ev.Shares {
		if ev.Shares[j] != nil {
			n := (j + 1) % len(ev.Shares)
			ev.Shares[j], ev.Shares[n] = ev.Shares[n], ev.Shares[j]
			ev.Proofs[j], ev.Proofs[n] = ev.Proofs[n], ev.Proofs[j]
			break
		}
	}
	if q, err := NewBadEncodingProof(ff.d, ev); err == nil && q.Verify(ff.d) == nil {
		t.Error("proof with a share moved verifies")
	}
}

var (
	befpFuzzOnce sync.Once
	befpFuzzFF   []*fraudFixture
	befpFuzzEnc  [][]byte
)

func befpFuzzFixtures(t testing.TB) ([]*fraudFixture, [][]byte) {
	befpFuzzOnce.Do(func() {
		for _, k := range []int{1, 2, 4} {
			ff, enc := validProof(t, k)
			befpFuzzFF = append(befpFuzzFF, ff)
			befpFuzzEnc = append(befpFuzzEnc, enc)
			// Proofs with every share, and for the other axis.
			for a := range 2 {
				for key := range ff.bad {
					if key[0] != a {
						continue
					}
					p, err := NewBadEncodingProof(ff.d, handEvidence(t, ff.s, Axis(a), key[1], span(0, 2*k)))
					if err != nil {
						t.Fatal(err)
					}
					e, _ := p.MarshalBinary()
					befpFuzzEnc = append(befpFuzzEnc, e)
					break
				}
			}
		}
	})
	return befpFuzzFF, befpFuzzEnc
}

// FuzzParseBadEncodingProof: decoding never panics, and whatever decodes
// re-encodes to the same bytes (the encoding is canonical).
func FuzzParseBadEncodingProof(f *testing.F) {
	_, encs := befpFuzzFixtures(f)
	for _, e := range encs {
		f.Add(e)
	}
	f.Add([]byte{})
	f.Add([]byte{1, 0, 0xff, 0xff, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParseBadEncodingProof(b)
		if err != nil {
			if p != nil {
				t.Fatal("non-nil proof with an error")
			}
			return
		}
		enc, err := p.MarshalBinary()
		if err != nil || !bytes.Equal(enc, b) {
			t.Fatalf("re-encoding differs (%v)", err)
		}
	})
}

// FuzzVerifyBadEncodingProof: verification never panics, never accepts a
// proof against an honest DAH, and accepts one against a fraudulent DAH
// only for an axis that really is not a codeword.
func FuzzVerifyBadEncodingProof(f *testing.F) {
	ffs, encs := befpFuzzFixtures(f)
	for _, e := range encs {
		f.Add(e)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParseBadEncodingProof(b)
		if err != nil {
			return
		}
		for _, ff := range ffs {
			if ff.d.Width() != 2*p.ODSWidth() {
				continue
			}
			if ff.e.VerifyBadEncodingProof(p, ff.honest.d) == nil {
				t.Fatal("verifies against an honest DAH")
			}
			if ff.e.VerifyBadEncodingProof(p, ff.d) == nil && !ff.bad[[2]int{int(p.Axis()), p.Index()}] {
				t.Fatalf("verifies for %s %d, which is a codeword", p.Axis(), p.Index())
			}
		}
	})
}
