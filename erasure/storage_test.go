package erasure

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"testing"
)

func TestODSBytesAndRestore(t *testing.T) {
	e, _ := NewExtender(DefaultParams(), nil)
	for _, k := range []int{1, 2, 8, 32} {
		ods := sortedODS(k, fmt.Sprintf("store/%d", k))
		fx := newFixture(t, ods)
		stored := fx.s.ODSBytes()
		if !bytes.Equal(stored, bytes.Join(ods, nil)) {
			t.Fatalf("k=%d: ODSBytes differs from the ODS", k)
		}
		if got := fx.s.AppendODS([]byte{9}); got[0] != 9 || !bytes.Equal(got[1:], stored) {
			t.Fatalf("k=%d: AppendODS", k)
		}
		var dst ExtendedSquare
		d, err := e.Restore(&dst, stored, fx.root)
		if err != nil {
			t.Fatal(err)
		}
		if !d.Equal(fx.d) || !bytes.Equal(dst.buf, fx.s.buf) {
			t.Fatalf("k=%d: restored square differs", k)
		}
		bad := bytes.Clone(fx.root)
		bad[3] ^= 1
		if d, err := e.Restore(&dst, stored, bad); !errors.Is(err, ErrDAHMismatch) || d != nil || dst.Width() != 0 {
			t.Fatalf("k=%d: wrong data root: %v", k, err)
		}
		flipped := bytes.Clone(stored)
		flipped[len(flipped)-1] ^= 1
		if _, err := e.Restore(&dst, flipped, fx.root); !errors.Is(err, ErrDAHMismatch) {
			t.Fatalf("k=%d: corrupted ODS: %v", k, err)
		}
	}
	if _, err := e.Restore(&ExtendedSquare{}, make([]byte, 3*ShareSize), make([]byte, DataRootSize)); !errors.Is(err, ErrInvalidWidth) {
		t.Fatalf("3 shares: %v", err)
	}
	if _, err := e.Restore(&ExtendedSquare{}, make([]byte, ShareSize), nil); !errors.Is(err, ErrDAHMismatch) {
		t.Fatalf("nil data root: %v", err)
	}
	var empty *ExtendedSquare
	if empty.ODSBytes() != nil {
		t.Fatal("nil square has ODS bytes")
	}
}

// TestProverMatchesProveSample compares every sample of small squares from
// a Prover with Extender.ProveSample's, byte for byte.
func TestProverMatchesProveSample(t *testing.T) {
	for _, k := range []int{1, 2, 4, 8} {
		fx := newFixture(t, sortedODS(k, "prover"))
		p, err := fx.e.NewProver(fx.s, fx.d)
		if err != nil {
			t.Fatal(err)
		}
		w := 2 * k
		for r := range w {
			for c := range w {
				for _, a := range []Axis{Row, Col} {
					got, err := p.ProveSample(r, c, a)
					if err != nil {
						t.Fatal(err)
					}
					want, err := fx.e.ProveSample(fx.s, fx.d, r, c, a)
					if err != nil {
						t.Fatal(err)
					}
					g, _ := got.MarshalBinary()
					wb, _ := want.MarshalBinary()
					if !bytes.Equal(g, wb) {
						t.Fatalf("k=%d (%d, %d) %s: Prover's sample differs", k, r, c, a)
					}
					if err := VerifySample(fx.root, w, r, c, got); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
		for _, rc := range [][3]int{{-1, 0, 0}, {0, w, 0}, {w, 0, 1}, {0, 0, 2}} {
			if _, err := p.ProveSample(rc[0], rc[1], Axis(rc[2])); !errors.Is(err, ErrWrongCoordinate) {
				t.Errorf("ProveSample%v: %v", rc, err)
			}
		}
	}
}

func TestProverConcurrentColumns(t *testing.T) {
	fx := newFixture(t, sortedODS(8, "prover-conc"))
	p, err := fx.e.NewProver(fx.s, fx.d)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 64 {
				r, c := (i*5+g)%16, (i*3+g)%16
				smp, err := p.ProveSample(r, c, Axis(i%2))
				if err == nil {
					err = VerifySample(fx.root, 16, r, c, smp)
				}
				if err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestProverRejectsWrongDAH(t *testing.T) {
	fx := newFixture(t, sortedODS(4, "prover-dah"))
	other := newFixture(t, sortedODS(4, "prover-other"))
	if _, err := fx.e.NewProver(fx.s, other.d); !errors.Is(err, ErrDAHMismatch) {
		t.Fatalf("other DAH: %v", err)
	}
	small := newFixture(t, sortedODS(2, "prover-dah"))
	if _, err := fx.e.NewProver(fx.s, small.d); !errors.Is(err, ErrDAHMismatch) {
		t.Fatalf("other width: %v", err)
	}
	if _, err := fx.e.NewProver(nil, fx.d); !errors.Is(err, ErrInvalidWidth) {
		t.Fatalf("nil square: %v", err)
	}
	// Right rows, one wrong column root: found when that column is used.
	cols := fx.d.ColRoots()
	cols[3] = other.d.Root(Col, 3)
	d, err := NewDAH(fx.d.RowRoots(), cols)
	if err != nil {
		t.Fatal(err)
	}
	p, err := fx.e.NewProver(fx.s, d)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.ProveSample(0, 3, Row); err != nil {
		t.Fatal(err)
	}
	if _, err := p.ProveSample(0, 3, Col); !errors.Is(err, ErrDAHMismatch) {
		t.Fatalf("wrong column root: %v", err)
	}
}

// computeDAHPerAxis is ComputeDAH as it was before leaf sharing: every
// row and column tree hashes its own shares, axes split over the workers.
// It is the reference of TestComputeDAHSharedLeavesDifferential and the
// baseline of BenchmarkPerAxisDataRoot.
func computeDAHPerAxis(e *Extender, s *ExtendedSquare) (*DAH, error) {
	w := 2 * s.k
	d := &DAH{width: w, roots: make([]byte, 2*w*RootSize)}
	workers := min(e.params.Workers, 2*w)
	trees := e.getTrees(workers, w)
	defer e.putTrees(trees)
	err := forEach(workers, 2*w, func(wk, i int) error {
		a, idx := Row, i
		if i >= w {
			a, idx = Col, i-w
		}
		t := trees[wk]
		if err := t.buildAxis(s, a, idx); err != nil {
			return err
		}
		t.tree.AppendRoot(d.roots[i*RootSize : i*RootSize : (i+1)*RootSize])
		return nil
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

// perAxisDAH is computeDAHPerAxis on one worker.
func perAxisDAH(t testing.TB, s *ExtendedSquare) *DAH {
	t.Helper()
	e, err := NewExtender(Params{Workers: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	d, err := computeDAHPerAxis(e, s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestComputeDAHSharedLeavesDifferential compares ComputeDAH (leaf nodes
// shared between row and column trees, parallel) with the per-axis serial
// computation, including squares whose namespaces repeat and mix.
func TestComputeDAHSharedLeavesDifferential(t *testing.T) {
	for _, k := range []int{1, 2, 4, 16, 64} {
		for _, seed := range []string{"a", "b"} {
			ods := sortedODS(k, "shared/"+seed)
			if seed == "b" { // runs of equal namespaces
				for i := range ods {
					copy(ods[i][:NamespaceSize], ods[(i/3)*3][:NamespaceSize])
				}
			}
			for _, workers := range []int{1, 3} {
				e, _ := NewExtender(Params{Workers: workers}, nil)
				s, err := e.Extend(ods)
				if err != nil {
					t.Fatal(err)
				}
				d, err := e.ComputeDAH(s)
				if err != nil {
					t.Fatal(err)
				}
				if want := perAxisDAH(t, s); !d.Equal(want) {
					t.Fatalf("k=%d seed %s workers=%d: shared-leaf DAH differs from per-axis DAH", k, seed, workers)
				}
			}
		}
	}
	// A column whose namespaces decrease (rows are fine) is still caught.
	ods := sortedODS(4, "shared/col")
	for r := range 4 {
		for c := range 4 {
			clear(ods[r*4+c][:NamespaceSize])
			ods[r*4+c][NamespaceSize-1] = byte(10*c + (3 - r)) // rows ascend, columns descend
		}
	}
	fx, _ := NewExtender(DefaultParams(), nil)
	s, err := fx.Extend(ods)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fx.ComputeDAH(s); !errors.Is(err, ErrInvalidShare) {
		t.Fatalf("decreasing column: %v", err)
	}
}
