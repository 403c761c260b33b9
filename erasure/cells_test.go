package erasure

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"
)

func TestRecoverODS(t *testing.T) {
	e, err := NewExtender(DefaultParams(), NewLeopardCodec())
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(7, 8))
	for _, k := range []int{1, 2, 8, 32} {
		ods := make([]byte, k*k*ShareSize)
		for i := range ods {
			ods[i] = byte(r.Uint32())
		}
		eds, err := e.ExtendFlat(ods)
		if err != nil {
			t.Fatal(err)
		}
		w := 2 * k
		all := make([][]byte, w*w)
		for i := range all {
			all[i] = eds.Cell(i/w, i%w)
		}
		subsets := map[string]func(row, col int) bool{
			"parity quadrant Q3 only": func(row, col int) bool { return row >= k && col >= k },
			"75 percent":              func(row, col int) bool { return r.IntN(4) != 0 },
			"k rows of Q2 and Q3":     func(row, col int) bool { return row >= k },
		}
		for name, keep := range subsets {
			cells := make([][]byte, w*w)
			for i := range cells {
				if keep(i/w, i%w) {
					cells[i] = all[i]
				}
			}
			got, err := e.RecoverODS(cells)
			if err != nil {
				t.Fatalf("k=%d %s: %v", k, name, err)
			}
			if !bytes.Equal(got, ods) {
				t.Fatalf("k=%d %s: recovered another square", k, name)
			}
		}
		// Fewer than k cells in every row and column: not determined.
		if k > 1 {
			cells := make([][]byte, w*w)
			for i := range k - 1 {
				cells[i*w+i] = all[i*w+i]
			}
			if _, err := e.RecoverODS(cells); !errors.Is(err, ErrUnrepairable) {
				t.Fatalf("k=%d: too few cells gave %v", k, err)
			}
		}
	}
	if _, err := e.RecoverODS(make([][]byte, 3)); !errors.Is(err, ErrInvalidWidth) {
		t.Fatal("3 cells accepted")
	}
}
