package erasure

import (
	"bytes"
	"strconv"
	"testing"
)

func TestDAHVectors(t *testing.T) {
	for _, file := range []string{"eds.json", "eds_large.json"} {
		f := loadVectors(t, file)
		for i := range f.Squares {
			v := &f.Squares[i]
			t.Run(file+"/k="+strconv.Itoa(v.K), func(t *testing.T) {
				if testing.Short() && v.K > 64 {
					t.Skip("large square skipped in -short mode")
				}
				e, err := NewExtender(DefaultParams(), nil)
				if err != nil {
					t.Fatal(err)
				}
				s, err := e.Extend(vectorODS(t, v))
				if err != nil {
					t.Fatal(err)
				}
				d, err := e.ComputeDAH(s)
				if err != nil {
					t.Fatal(err)
				}
				for a, want := range [2][][]byte{unhexList(t, v.RowRoots), unhexList(t, v.ColRoots)} {
					got := d.axisRoots(Axis(a))
					if len(got) != len(want) {
						t.Fatalf("%s: %d roots, want %d", Axis(a), len(got), len(want))
					}
					for i := range want {
						if !bytes.Equal(got[i], want[i]) {
							t.Errorf("%s root %d = %x, want %x", Axis(a), i, got[i], want[i])
						}
					}
				}
			})
		}
	}
}
