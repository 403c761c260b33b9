package erasure

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/klauspost/reedsolomon"

	"github.com/tessera-da/tessera/internal/vectors"
)

// randomODS returns k² deterministic pseudo-random shares.
func randomODS(k int, seed string) [][]byte {
	flat := vectors.Bytes(seed, k*k*ShareSize)
	ods := make([][]byte, k*k)
	for i := range ods {
		ods[i] = flat[i*ShareSize : (i+1)*ShareSize]
	}
	return ods
}

// naiveExtend is a reference extension that copies every axis out, encodes
// it with a fresh encoder and copies the parity back. It computes Q3 from
// the columns of Q1, the other route rsmt2d documents as equivalent.
func naiveExtend(t testing.TB, ods [][]byte, k int) [][]byte {
	t.Helper()
	w := 2 * k
	cells := make([][]byte, w*w)
	for i := range cells {
		cells[i] = make([]byte, ShareSize)
	}
	for r := range k {
		for c := range k {
			copy(cells[r*w+c], ods[r*k+c])
		}
	}
	encode := func(get func(j int) []byte) {
		axis := make([][]byte, w)
		for j := range axis {
			axis[j] = bytes.Clone(get(j))
		}
		if k == 1 {
			copy(axis[1], axis[0])
		} else {
			enc, err := reedsolomon.New(k, k, reedsolomon.WithLeopardGF(true))
			if err != nil {
				t.Fatal(err)
			}
			if err := enc.Encode(axis); err != nil {
				t.Fatal(err)
			}
		}
		for j := k; j < w; j++ {
			copy(get(j), axis[j])
		}
	}
	for r := range k { // Q1
		encode(func(j int) []byte { return cells[r*w+j] })
	}
	for c := range k { // Q2
		encode(func(j int) []byte { return cells[j*w+c] })
	}
	for c := k; c < w; c++ { // Q3 from Q1 columns
		encode(func(j int) []byte { return cells[j*w+c] })
	}
	return cells
}

func TestExtendDifferential(t *testing.T) {
	for _, k := range []int{1, 2, 4, 8, 16, 32, 64} {
		t.Run(fmt.Sprintf("k=%d", k), func(t *testing.T) {
			ods := randomODS(k, fmt.Sprintf("diff/%d", k))
			want := naiveExtend(t, ods, k)
			for _, workers := range []int{1, 2, 3, 8} {
				s, err := Extend(ods, Params{Workers: workers})
				if err != nil {
					t.Fatal(err)
				}
				w := s.Width()
				for i, c := range want {
					if !bytes.Equal(s.Cell(i/w, i%w), c) {
						t.Fatalf("workers=%d: cell (%d,%d) differs from the naive reference", workers, i/w, i%w)
					}
				}
			}
		})
	}
}

func TestExtendParallelEqualsSerial(t *testing.T) {
	ods := randomODS(128, "par/128")
	serial, err := Extend(ods, Params{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, workers := range []int{2, 5, 64} {
		par, err := Extend(ods, Params{Workers: workers})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(serial.buf, par.buf) {
			t.Fatalf("workers=%d: parallel extension differs from serial", workers)
		}
	}
}

func TestExtendFlatEqualsShares(t *testing.T) {
	ods := randomODS(8, "flat/8")
	a, err := Extend(ods, DefaultParams())
	if err != nil {
		t.Fatal(err)
	}
	b, err := ExtendFlat(bytes.Join(ods, nil), DefaultParams())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.buf, b.buf) {
		t.Fatal("ExtendFlat differs from Extend")
	}
}

func TestExtendK1AllCellsEqual(t *testing.T) {
	ods := randomODS(1, "k1")
	s, err := Extend(ods, DefaultParams())
	if err != nil {
		t.Fatal(err)
	}
	for r := range 2 {
		for c := range 2 {
			if !bytes.Equal(s.Cell(r, c), ods[0]) {
				t.Fatalf("cell (%d,%d) differs from the ODS share", r, c)
			}
		}
	}
	// The codec itself agrees with the copy rule.
	enc, err := reedsolomon.New(1, 1, reedsolomon.WithLeopardGF(true))
	if err != nil {
		t.Skipf("reedsolomon rejects 1+1 shards (%v); the copy rule stands alone", err)
	}
	axis := [][]byte{bytes.Clone(ods[0]), make([]byte, ShareSize)}
	if err := enc.Encode(axis); err != nil {
		t.Skipf("reedsolomon cannot encode 1+1 shards (%v)", err)
	}
	if !bytes.Equal(axis[1], ods[0]) {
		t.Fatal("Leopard 1+1 parity is not a copy")
	}
}

func TestExtendRejectsBadInput(t *testing.T) {
	share := make([]byte, ShareSize)
	shares := func(n int) [][]byte {
		s := make([][]byte, n)
		for i := range s {
			s[i] = share
		}
		return s
	}
	cases := []struct {
		name string
		ods  [][]byte
		want error
	}{
		{"nil", nil, ErrInvalidWidth},
		{"empty", [][]byte{}, ErrInvalidWidth},
		{"2 shares", shares(2), ErrInvalidWidth},
		{"3 shares", shares(3), ErrInvalidWidth},
		{"8 shares", shares(8), ErrInvalidWidth},
		{"9 shares (k=3)", shares(9), ErrInvalidWidth},
		{"k=1024", shares(1024 * 1024), ErrInvalidWidth},
		{"short share", [][]byte{share, share, share, share[:511]}, ErrInvalidShare},
		{"long share", [][]byte{share, append(bytes.Clone(share), 0), share, share}, ErrInvalidShare},
		{"nil share", [][]byte{share, nil, share, share}, ErrInvalidShare},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Extend(tc.ods, DefaultParams())
			if !errors.Is(err, tc.want) || s != nil {
				t.Fatalf("Extend = %v, %v; want nil, %v", s, err, tc.want)
			}
		})
	}
	flat := []struct {
		name string
		n    int
		want error
	}{
		{"0 bytes", 0, ErrInvalidWidth},
		{"1 byte", 1, ErrInvalidShare},
		{"511 bytes", 511, ErrInvalidShare},
		{"2 shares", 2 * ShareSize, ErrInvalidWidth},
		{"4 shares + 1", 4*ShareSize + 1, ErrInvalidShare},
	}
	for _, tc := range flat {
		t.Run("flat/"+tc.name, func(t *testing.T) {
			s, err := ExtendFlat(make([]byte, tc.n), DefaultParams())
			if !errors.Is(err, tc.want) || s != nil {
				t.Fatalf("ExtendFlat = %v, %v; want nil, %v", s, err, tc.want)
			}
		})
	}
	for _, w := range []int{0, -1, MaxWorkers + 1} {
		if _, err := Extend(shares(1), Params{Workers: w}); !errors.Is(err, ErrInvalidParams) {
			t.Errorf("Workers=%d: err = %v, want ErrInvalidParams", w, err)
		}
	}
}

func TestAccessors(t *testing.T) {
	ods := randomODS(4, "acc")
	s, err := Extend(ods, DefaultParams())
	if err != nil {
		t.Fatal(err)
	}
	if s.Width() != 8 || s.ODSWidth() != 4 {
		t.Fatalf("Width, ODSWidth = %d, %d", s.Width(), s.ODSWidth())
	}
	for i := range s.Width() {
		row, col := s.Row(i), s.Col(i)
		if len(row) != 8 || len(col) != 8 {
			t.Fatalf("len(Row), len(Col) = %d, %d", len(row), len(col))
		}
		for j := range s.Width() {
			if !bytes.Equal(row[j], s.Cell(i, j)) || !bytes.Equal(col[j], s.Cell(j, i)) {
				t.Fatalf("Row/Col disagree with Cell at %d,%d", i, j)
			}
			if cap(row[j]) != ShareSize || cap(s.Cell(i, j)) != ShareSize {
				t.Fatal("views are not capacity-limited")
			}
		}
		if !bytes.Equal(s.RowBytes(i), bytes.Join(row, nil)) {
			t.Fatal("RowBytes disagrees with Row")
		}
	}
	for r := range 4 {
		for c := range 4 {
			if !bytes.Equal(s.Cell(r, c), ods[r*4+c]) {
				t.Fatal("Q0 differs from the ODS")
			}
		}
	}
	for _, bad := range []int{-1, 8, 1 << 40} {
		if s.Cell(bad, 0) != nil || s.Cell(0, bad) != nil || s.Row(bad) != nil || s.Col(bad) != nil || s.RowBytes(bad) != nil {
			t.Fatalf("out-of-range index %d returned a view", bad)
		}
	}
	var zero ExtendedSquare
	if zero.Width() != 0 || zero.Cell(0, 0) != nil || zero.Row(0) != nil {
		t.Fatal("zero ExtendedSquare is not empty")
	}
	var np *ExtendedSquare
	if np.Width() != 0 || np.ODSWidth() != 0 || np.Cell(0, 0) != nil || np.Col(0) != nil || np.RowBytes(0) != nil {
		t.Fatal("nil ExtendedSquare is not empty")
	}
}

func TestLeopardCodecRejectsBadAxes(t *testing.T) {
	c := NewLeopardCodec()
	sh := func(n int) []byte { return make([]byte, n) }
	for _, tc := range []struct {
		name string
		axis [][]byte
		want error
	}{
		{"empty", nil, ErrInvalidShare},
		{"odd", [][]byte{sh(64), sh(64), sh(64)}, ErrInvalidShare},
		{"size 0", [][]byte{sh(0), sh(0)}, ErrInvalidShare},
		{"size 65", [][]byte{sh(65), sh(65)}, ErrInvalidShare},
		{"mixed sizes", [][]byte{sh(64), sh(64), sh(64), sh(128)}, ErrInvalidShare},
		{"k=3", [][]byte{sh(64), sh(64), sh(64), sh(64), sh(64), sh(64)}, ErrInvalidWidth},
	} {
		if err := c.Encode(tc.axis); !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
		}
	}
}

// failingCodec fails on one call to check error propagation.
type failingCodec struct{ calls chan struct{} }

func (f failingCodec) Encode(axis [][]byte) error {
	select {
	case <-f.calls:
		return nil
	default:
		return errors.New("boom")
	}
}

func (f failingCodec) ReconstructData(axis [][]byte) error { return errors.New("boom") }

func TestExtendCodecErrorPropagates(t *testing.T) {
	for _, workers := range []int{1, 2, 4} {
		calls := make(chan struct{}, 5)
		for range 5 {
			calls <- struct{}{}
		}
		e, err := NewExtender(Params{Workers: workers}, failingCodec{calls})
		if err != nil {
			t.Fatal(err)
		}
		if s, err := e.Extend(randomODS(8, "fail")); err == nil || s != nil {
			t.Fatalf("workers=%d: Extend = %v, %v; want an error", workers, s, err)
		}
	}
}

func FuzzExtendFlat(f *testing.F) {
	f.Add([]byte{}, uint8(1))
	f.Add(make([]byte, ShareSize), uint8(1))
	f.Add(make([]byte, 4*ShareSize), uint8(2))
	f.Add(make([]byte, 4*ShareSize-1), uint8(3))
	f.Add(vectors.Bytes("fuzz", 16*ShareSize), uint8(4))
	f.Fuzz(func(t *testing.T, ods []byte, workers uint8) {
		s, err := ExtendFlat(ods, Params{Workers: int(workers%8) + 1})
		if err != nil {
			if s != nil {
				t.Fatal("non-nil square with an error")
			}
			return
		}
		k := s.ODSWidth()
		if k*k*ShareSize != len(ods) {
			t.Fatalf("k=%d for %d bytes", k, len(ods))
		}
		for r := range k {
			if !bytes.Equal(s.RowBytes(r)[:k*ShareSize], ods[r*k*ShareSize:(r+1)*k*ShareSize]) {
				t.Fatal("Q0 differs from the input")
			}
		}
	})
}
