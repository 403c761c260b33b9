package erasure

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/klauspost/reedsolomon"

	"github.com/tessera-da/tessera/internal/vectors"
)

// keepCells returns the cells of s for which keep(row, col) holds, nil
// elsewhere, as views into s.
func keepCells(s *ExtendedSquare, keep func(r, c int) bool) [][]byte {
	w := s.Width()
	cells := make([][]byte, w*w)
	for r := range w {
		for c := range w {
			if keep(r, c) {
				cells[r*w+c] = s.Cell(r, c)
			}
		}
	}
	return cells
}

// subsets are named cell patterns for a square of ODS width k.
func subsets(k int, seed uint64) []struct {
	name string
	keep func(r, c int) bool
} {
	w := 2 * k
	rng := rand.New(rand.NewPCG(seed, 1))
	random := make([]bool, w*w)
	for i := range random {
		random[i] = rng.IntN(4) != 0 // about 75 %
	}
	// Exactly k random cells in every row.
	perRow := make([]bool, w*w)
	for r := range w {
		for _, c := range rng.Perm(w)[:k] {
			perRow[r*w+c] = true
		}
	}
	return []struct {
		name string
		keep func(r, c int) bool
	}{
		{"all", func(r, c int) bool { return true }},
		{"Q0", func(r, c int) bool { return r < k && c < k }},
		{"Q3", func(r, c int) bool { return r >= k && c >= k }},
		{"Q1", func(r, c int) bool { return r < k && c >= k }},
		{"top rows", func(r, c int) bool { return r < k }},
		{"bottom rows", func(r, c int) bool { return r >= k }},
		{"right columns", func(r, c int) bool { return c >= k }},
		{"k per row", func(r, c int) bool { return perRow[r*w+c] }},
		{"75%", func(r, c int) bool { return random[r*w+c] }},
	}
}

func TestRepairFromSubsets(t *testing.T) {
	for _, k := range []int{1, 2, 4, 8, 16} {
		fx := newFixture(t, sortedODS(k, fmt.Sprintf("repair/%d", k)))
		for _, sub := range subsets(k, uint64(k)) {
			t.Run(fmt.Sprintf("k=%d/%s", k, sub.name), func(t *testing.T) {
				cells := keepCells(fx.s, sub.keep)
				for _, workers := range []int{1, 3} {
					e, _ := NewExtender(Params{Workers: workers}, nil)
					got, err := e.Repair(cells, fx.d)
					if err != nil {
						t.Fatalf("workers=%d: %v", workers, err)
					}
					if !bytes.Equal(got.buf, fx.s.buf) {
						t.Fatalf("workers=%d: repaired square differs", workers)
					}
				}
			})
		}
	}
}

func TestRepairIntoReuses(t *testing.T) {
	fx := newFixture(t, sortedODS(8, "reuse"))
	e, _ := NewExtender(DefaultParams(), nil)
	var dst ExtendedSquare
	for i := range 3 {
		cells := keepCells(fx.s, func(r, c int) bool { return (r+c+i)%3 != 0 })
		if err := e.RepairInto(&dst, cells, fx.d); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(dst.buf, fx.s.buf) {
			t.Fatalf("round %d differs", i)
		}
	}
	// A failure leaves dst empty.
	if err := e.RepairInto(&dst, make([][]byte, 16*16), fx.d); !errors.Is(err, ErrUnrepairable) || dst.Width() != 0 {
		t.Fatalf("err = %v, width %d", err, dst.Width())
	}
}

func TestRepairUnrepairable(t *testing.T) {
	for _, k := range []int{1, 2, 4, 8} {
		fx := newFixture(t, sortedODS(k, "unrep"))
		w := 2 * k
		cases := map[string]func(r, c int) bool{
			"none": func(r, c int) bool { return false },
			// A (k+1)×(k+1) hole leaves k−1 cells in each of its rows
			// and columns: the classic stopping set.
			"hole":       func(r, c int) bool { return r > k || c > k },
			"Q0 but one": func(r, c int) bool { return r < k && c < k && r+c > 0 },
			"k−1 rows":   func(r, c int) bool { return r < k-1 },
		}
		for name, keep := range cases {
			if k == 1 && name == "hole" {
				continue // a 2×2 hole is the whole square: "none"
			}
			_, err := Repair(keepCells(fx.s, keep), fx.d, DefaultParams())
			if !errors.Is(err, ErrUnrepairable) || errors.Is(err, ErrDAHMismatch) || errors.Is(err, ErrByzantineData) {
				t.Errorf("k=%d %s: err = %v, want ErrUnrepairable alone", k, name, err)
			}
		}
		_ = w
	}
}

func TestRepairRejectsBadInput(t *testing.T) {
	fx := newFixture(t, sortedODS(2, "badin"))
	w := 4
	full := keepCells(fx.s, func(r, c int) bool { return true })
	short := slices.Clone(full)
	short[3] = short[3][:ShareSize-1]
	other := newFixture(t, sortedODS(4, "badin"))
	cases := []struct {
		name  string
		cells [][]byte
		d     *DAH
		want  error
	}{
		{"nil DAH", full, nil, ErrInvalidDAH},
		{"zero DAH", full, &DAH{}, ErrInvalidDAH},
		{"too few cells", full[:w*w-1], fx.d, ErrInvalidWidth},
		{"too many cells", append(slices.Clone(full), nil), fx.d, ErrInvalidWidth},
		{"nil cells", nil, fx.d, ErrInvalidWidth},
		{"DAH of another width", full, other.d, ErrInvalidWidth},
		{"short cell", short, fx.d, ErrInvalidShare},
		{"long cell", append(slices.Clone(full[:w*w-1]), make([]byte, ShareSize+1)), fx.d, ErrInvalidShare},
	}
	for _, c := range cases {
		s, err := Repair(c.cells, c.d, DefaultParams())
		if !errors.Is(err, c.want) || s != nil {
			t.Errorf("%s: err = %v, want %v", c.name, err, c.want)
		}
	}
	// Empty slices count as missing.
	cells := keepCells(fx.s, func(r, c int) bool { return r < 2 })
	for i := range cells {
		if cells[i] == nil {
			cells[i] = []byte{}
		}
	}
	if s, err := Repair(cells, fx.d, DefaultParams()); err != nil || !bytes.Equal(s.buf, fx.s.buf) {
		t.Fatalf("empty cells as missing: %v", err)
	}
}

// TestRepairWrongCellsNeverAccepted feeds an honest DAH with subsets that
// contain a wrong cell: Repair must never return a square (the wrong cell
// would be in it) and never claim bad encoding, which an honest square
// cannot have.
func TestRepairWrongCellsNeverAccepted(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, k := range []int{1, 2, 4, 8} {
		fx := newFixture(t, sortedODS(k, "wrong"))
		w := 2 * k
		for trial := range 40 {
			subs := subsets(k, uint64(100*k+trial))
			sub := subs[trial%len(subs)]
			cells := keepCells(fx.s, sub.keep)
			var present []int
			for i, c := range cells {
				if c != nil {
					present = append(present, i)
				}
			}
			if len(present) == 0 {
				continue
			}
			bad := present[rng.IntN(len(present))]
			cells[bad] = bytes.Clone(cells[bad])
			cells[bad][NamespaceSize+rng.IntN(ShareSize-NamespaceSize)] ^= byte(1 + rng.IntN(255))
			s, err := Repair(cells, fx.d, Params{Workers: 1 + trial%3})
			if err == nil || s != nil {
				t.Fatalf("k=%d %s: wrong cell (%d, %d) accepted", k, sub.name, bad/w, bad%w)
			}
			if errors.Is(err, ErrByzantineData) {
				t.Fatalf("k=%d %s: honest square reported as byzantine: %v", k, sub.name, err)
			}
			if !errors.Is(err, ErrDAHMismatch) && !errors.Is(err, ErrUnrepairable) {
				t.Fatalf("k=%d %s: err = %v", k, sub.name, err)
			}
		}
	}
}

// fraudFixture is a square whose producer corrupted some parity cells and
// then committed honestly to the corrupted square: every root is the true
// root of its axis, but some axes are not codewords.
type fraudFixture struct {
	*fixture
	honest *fixture
	bad    map[[2]int]bool // (axis, index) of every axis that is not a codeword
}

func newFraudFixture(t testing.TB, k int, seed string, corrupt [][2]int) *fraudFixture {
	t.Helper()
	honest := newFixture(t, sortedODS(k, seed))
	s := &ExtendedSquare{buf: bytes.Clone(honest.s.buf), k: k}
	for i, rc := range corrupt {
		cell := s.Cell(rc[0], rc[1])
		copy(cell, vectors.Bytes(fmt.Sprintf("%s/corrupt/%d", seed, i), ShareSize))
	}
	d, err := honest.e.ComputeDAH(s)
	if err != nil {
		t.Fatal(err)
	}
	ff := &fraudFixture{fixture: &fixture{e: honest.e, s: s, d: d, root: d.Hash()}, honest: honest, bad: map[[2]int]bool{}}
	w := 2 * k
	for a := range 2 {
		for i := range w {
			axis := s.Row(i)
			if a == 1 {
				axis = s.Col(i)
			}
			if !isCodewordNaive(t, axis) {
				ff.bad[[2]int{a, i}] = true
			}
		}
	}
	if len(ff.bad) == 0 {
		t.Fatal("corruption left every axis a codeword")
	}
	return ff
}

// isCodewordNaive re-encodes an axis with a fresh encoder.
func isCodewordNaive(t testing.TB, axis [][]byte) bool {
	k := len(axis) / 2
	enc := make([][]byte, len(axis))
	for i := range enc {
		enc[i] = bytes.Clone(axis[i])
	}
	if k == 1 {
		return bytes.Equal(axis[0], axis[1])
	}
	rs, err := reedsolomon.New(k, k, reedsolomon.WithLeopardGF(true))
	if err != nil {
		t.Fatal(err)
	}
	if err := rs.Encode(enc); err != nil {
		t.Fatal(err)
	}
	for i := k; i < len(axis); i++ {
		if !bytes.Equal(enc[i], axis[i]) {
			return false
		}
	}
	return true
}

// corruptions are sets of cells a producer garbles, by quadrant.
func corruptions(k int) map[string][][2]int {
	w := 2 * k
	return map[string][][2]int{
		"Q1 cell":   {{0, k}},
		"Q2 cell":   {{w - 1, k - 1}},
		"Q3 cell":   {{k, w - 1}},
		"Q3 block":  {{k, k}, {k + k/2, k + k/2}, {w - 1, w - 1}},
		"Q1 column": {{0, w - 1}, {k - 1, w - 1}},
		"Q1 and Q2": {{0, w - 1}, {w - 1, 0}},
	}
}

// TestRepairCatchesBadEncoding: Repair from several subsets of a square
// with bad parity returns a ByzantineError naming an axis that is really
// not a codeword, whose BadEncodingProof verifies against the fraudulent
// DAH (also after an encoding round trip) and not against the honest one.
func TestRepairCatchesBadEncoding(t *testing.T) {
	for _, k := range []int{1, 2, 4, 8} {
		for name, corrupt := range corruptions(k) {
			ff := newFraudFixture(t, k, "fraud/"+name, corrupt)
			for _, sub := range subsets(k, 7) {
				t.Run(fmt.Sprintf("k=%d/%s/%s", k, name, sub.name), func(t *testing.T) {
					cells := keepCells(ff.s, sub.keep)
					var first *ByzantineError
					for _, workers := range []int{1, 2, 4} {
						s, err := Repair(cells, ff.d, Params{Workers: workers})
						if s != nil {
							t.Fatal("a square was returned")
						}
						var be *ByzantineError
						if !errors.As(err, &be) {
							// A single parity quadrant holding the bad
							// cells is repairable from an honest square,
							// but here too few of a bad axis's cells lie
							// on complete orthogonal axes to prove it:
							// Repair refuses the square and asks for more.
							// With bad cells in both Q1 and Q2, the
							// ODS quadrant alone proves neither: row 0
							// and column 0 each need the other complete.
							if sub.name != "Q1" && sub.name != "Q3" && !(name == "Q1 and Q2" && sub.name == "Q0") {
								t.Fatalf("workers=%d: fraud not caught: %v", workers, err)
							}
							if !errors.Is(err, ErrUnrepairable) || !errors.Is(err, ErrDAHMismatch) {
								t.Fatalf("workers=%d: err = %v", workers, err)
							}
							return
						}
						if !errors.Is(err, ErrByzantineData) {
							t.Fatal("ByzantineError does not wrap ErrByzantineData")
						}
						if first == nil {
							first = be
							checkEvidence(t, ff, be)
						} else if be.Axis != first.Axis || be.Index != first.Index || fmt.Sprint(be.Shares) != fmt.Sprint(first.Shares) {
							t.Fatalf("workers=%d: evidence %s %d differs from %s %d", workers, be.Axis, be.Index, first.Axis, first.Index)
						}
					}
				})
			}
		}
	}
}

// checkEvidence checks a ByzantineError from Repair and its proof.
func checkEvidence(t *testing.T, ff *fraudFixture, be *ByzantineError) {
	t.Helper()
	k := ff.s.ODSWidth()
	if !ff.bad[[2]int{int(be.Axis), be.Index}] {
		t.Fatalf("%s %d is a codeword", be.Axis, be.Index)
	}
	n := 0
	for j, s := range be.Shares {
		if s == nil {
			continue
		}
		n++
		r, c := be.Index, j
		if be.Axis == Col {
			r, c = j, be.Index
		}
		if !bytes.Equal(s, ff.s.Cell(r, c)) {
			t.Fatalf("share %d is not cell (%d, %d)", j, r, c)
		}
	}
	if n != k {
		t.Fatalf("%d shares, want k = %d", n, k)
	}
	p, err := NewBadEncodingProof(ff.d, be)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Verify(ff.d); err != nil {
		t.Fatalf("proof of %s %d does not verify: %v", be.Axis, be.Index, err)
	}
	if err := p.Verify(ff.honest.d); err == nil {
		t.Fatal("proof verifies against the honest DAH")
	}
	enc, err := p.MarshalBinary()
	if err != nil || len(enc) != p.Size() || len(enc) > MaxBadEncodingProofSize(k) {
		t.Fatalf("encoding: %d bytes, Size %d, max %d, %v", len(enc), p.Size(), MaxBadEncodingProofSize(k), err)
	}
	back, err := ParseBadEncodingProof(enc)
	if err != nil {
		t.Fatal(err)
	}
	if err := back.Verify(ff.d); err != nil {
		t.Fatalf("decoded proof: %v", err)
	}
	again, _ := back.MarshalBinary()
	if !bytes.Equal(again, enc) {
		t.Fatal("re-encoding differs")
	}
}

// TestLeopardWorkPoolReusedByDecoder is a regression test: Leopard's
// decoder shortens the work slices it is given before putting them back,
// which made the pool unable to reuse them and grow by one buffer set per
// decode.
func TestLeopardWorkPoolReusedByDecoder(t *testing.T) {
	c := NewLeopardCodec()
	k := 16
	axis := make([][]byte, 2*k)
	for range 50 {
		for j := range axis {
			axis[j] = make([]byte, ShareSize)
		}
		if err := c.Encode(axis); err != nil {
			t.Fatal(err)
		}
		axis[0], axis[3] = axis[0][:0], nil
		if err := c.ReconstructData(axis); err != nil {
			t.Fatal(err)
		}
	}
	c.work.mu.Lock()
	n := len(c.work.free)
	c.work.mu.Unlock()
	if n > 2 {
		t.Fatalf("work pool holds %d buffer sets after serial use", n)
	}
}

func TestLeopardReconstructData(t *testing.T) {
	c := NewLeopardCodec()
	for _, k := range []int{1, 2, 8, 128} {
		full := make([][]byte, 2*k)
		for j := range full {
			full[j] = make([]byte, ShareSize)
			if j < k {
				copy(full[j], vectors.Bytes(fmt.Sprintf("rd/%d/%d", k, j), ShareSize))
			}
		}
		if err := c.Encode(full); err != nil {
			t.Fatal(err)
		}
		// Keep only the parity half; missing data shards have room.
		axis := make([][]byte, 2*k)
		for j := range axis {
			if j >= k {
				axis[j] = bytes.Clone(full[j])
			} else {
				axis[j] = make([]byte, 0, ShareSize)
			}
		}
		if err := c.ReconstructData(axis); err != nil {
			t.Fatal(err)
		}
		for j := range k {
			if !bytes.Equal(axis[j], full[j]) {
				t.Fatalf("k=%d: data shard %d not recovered", k, j)
			}
		}
		// Too few shards.
		axis[k] = nil
		for j := range k {
			axis[j] = nil
		}
		if err := c.ReconstructData(axis); !errors.Is(err, ErrInvalidShare) {
			t.Fatalf("k=%d: %d shards: %v", k, k-1, err)
		}
	}
	for _, axis := range [][][]byte{nil, {make([]byte, 64)}, {make([]byte, 64), make([]byte, 32)}, {make([]byte, 100), nil}} {
		if err := c.ReconstructData(axis); err == nil {
			t.Errorf("%d shards accepted", len(axis))
		}
	}
}

var (
	repairFuzzOnce sync.Once
	repairFuzzFx   []*fixture      // honest squares, k = 2 and 4
	repairFuzzFF   []*fraudFixture // bad encodings, k = 2 and 4
)

// FuzzRepair gives Repair any subset of an honest or a badly encoded
// square, with any cells garbled. It never panics; with the honest DAH it
// returns the honest square or an error, never a ByzantineError; with the
// bad DAH it never returns a square, and every ByzantineError it returns
// yields a proof that verifies, about an axis that really is bad.
func FuzzRepair(f *testing.F) {
	repairFuzzOnce.Do(func() {
		for _, k := range []int{2, 4} {
			repairFuzzFx = append(repairFuzzFx, newFixture(f, sortedODS(k, "fuzz-repair")))
			repairFuzzFF = append(repairFuzzFF, newFraudFixture(f, k, "fuzz-repair", [][2]int{{0, 2*k - 1}, {2*k - 1, 2*k - 1}}))
		}
	})
	f.Add(uint8(0), []byte{0xff, 0xff}, []byte{})
	f.Add(uint8(1), bytes.Repeat([]byte{0xf0, 0xf0, 0xf0, 0xf0, 0, 0, 0, 0}, 1), []byte{})
	f.Add(uint8(2), bytes.Repeat([]byte{0xff}, 32), []byte{3, 7})
	f.Add(uint8(3), bytes.Repeat([]byte{0xee}, 32), []byte{})
	f.Add(uint8(3), bytes.Repeat([]byte{0xf0}, 32), []byte{})
	f.Fuzz(func(t *testing.T, sel uint8, mask, garble []byte) {
		i := int(sel) % 4
		var s *ExtendedSquare
		var d *DAH
		var ff *fraudFixture
		if i < 2 {
			s, d = repairFuzzFx[i].s, repairFuzzFx[i].d
		} else {
			ff = repairFuzzFF[i-2]
			s, d = ff.s, ff.d
		}
		w := s.Width()
		cells := keepCells(s, func(r, c int) bool {
			n := r*w + c
			return n/8 < len(mask) && mask[n/8]&(0x80>>(n%8)) != 0
		})
		for g := 0; g+1 < len(garble) && g < 8; g += 2 {
			n := int(garble[g]) % (w * w)
			if cells[n] != nil && garble[g+1] != 0 {
				cells[n] = bytes.Clone(cells[n])
				cells[n][int(garble[g])%ShareSize] ^= garble[g+1]
			}
		}
		got, err := Repair(cells, d, Params{Workers: 1 + int(sel)%3})
		var be *ByzantineError
		switch {
		case err == nil && ff != nil:
			t.Fatal("a badly encoded square was returned")
		case err == nil && !bytes.Equal(got.buf, s.buf):
			t.Fatal("returned square differs from the committed one")
		case errors.As(err, &be) && ff == nil:
			t.Fatalf("honest square reported as byzantine: %v", err)
		case be != nil:
			if !ff.bad[[2]int{int(be.Axis), be.Index}] {
				t.Fatalf("%s %d is a codeword", be.Axis, be.Index)
			}
			p, err := NewBadEncodingProof(d, be)
			if err != nil {
				t.Fatal(err)
			}
			if err := p.Verify(d); err != nil {
				t.Fatalf("proof does not verify: %v", err)
			}
		case err != nil && !errors.Is(err, ErrUnrepairable):
			t.Fatalf("unexpected error: %v", err)
		}
	})
}
