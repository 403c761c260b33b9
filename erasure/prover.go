package erasure

import (
	"bytes"
	"fmt"
	"sync"

	"github.com/tessera-da/tessera/nmt"
)

// Prover serves sample proofs from one extended square. It keeps every row
// tree (leaf and inner nodes: 0.39× the square's size at k = 128 by
// BenchmarkNewProver) and builds each column tree on first use from the
// row trees' leaf nodes (no share is hashed again; another 0.39× once all
// are built), so a proof costs O(log width) instead of rebuilding a tree.
//
// A Prover reads its square's buffer: the square must not be reused (e.g.
// by ExtendInto) while the Prover is in use. It is safe for concurrent use.
type Prover struct {
	s    *ExtendedSquare
	d    *DAH
	rows []*nmt.Tree
	cols []lazyTree
}

// lazyTree is a column tree built on first use.
type lazyTree struct {
	once sync.Once
	tree *nmt.Tree
	err  error
}

// NewProver builds the row trees of s with the Extender's workers and
// checks each root against d (ErrDAHMismatch otherwise); d must be s's DAH.
// It also computes d's root proofs. The cost is that of the row half of
// ComputeDAH.
func (e *Extender) NewProver(s *ExtendedSquare, d *DAH) (*Prover, error) {
	if s == nil || !validODSWidth(s.k) {
		return nil, fmt.Errorf("%w: empty or invalid square", ErrInvalidWidth)
	}
	w := s.Width()
	if d.Width() != w {
		return nil, fmt.Errorf("%w: DAH of width %d for a square of width %d", ErrDAHMismatch, d.Width(), w)
	}
	p := &Prover{s: s, d: d, rows: make([]*nmt.Tree, w), cols: make([]lazyTree, w)}
	parity := []byte(parityNamespace)
	err := forEach(min(e.params.Workers, w), w, func(_, r int) error {
		t := &axisTrees{tree: nmt.New(nmt.IgnoreMaxNamespace(true), nmt.SizeHint(w)), parity: parity}
		if err := t.buildAxis(s, Row, r); err != nil {
			return err
		}
		var root [RootSize]byte
		if !bytes.Equal(t.tree.AppendRoot(root[:0]), d.root(Row, r)) {
			return fmt.Errorf("%w: row %d", ErrDAHMismatch, r)
		}
		p.rows[r] = t.tree
		return nil
	})
	if err != nil {
		return nil, err
	}
	if _, err := d.ProveRoot(Row, 0); err != nil {
		return nil, err
	}
	return p, nil
}

// col returns column tree c, building it on first use from the row trees'
// leaf nodes and checking its root against the DAH.
func (p *Prover) col(c int) (*nmt.Tree, error) {
	lt := &p.cols[c]
	lt.once.Do(func() {
		w := len(p.rows)
		t := nmt.New(nmt.IgnoreMaxNamespace(true), nmt.SizeHint(w))
		var node [nmt.NodeSize]byte
		for r, row := range p.rows {
			n, err := row.AppendLeafNode(node[:0], c)
			if err == nil {
				err = t.PushLeafNode(n)
			}
			if err != nil {
				lt.err = fmt.Errorf("%w: col %d, share %d: %w", ErrInvalidShare, c, r, err)
				return
			}
		}
		var root [RootSize]byte
		if !bytes.Equal(t.AppendRoot(root[:0]), p.d.root(Col, c)) {
			lt.err = fmt.Errorf("%w: col %d", ErrDAHMismatch, c)
			return
		}
		lt.tree = t
	})
	return lt.tree, lt.err
}

// ProveSample builds the sample of the share at (row, col), proven in its
// row tree (a = Row) or its column tree (a = Col); see Sample. Errors wrap
// ErrWrongCoordinate, or ErrDAHMismatch if a column tree does not match
// the DAH.
func (p *Prover) ProveSample(row, col int, a Axis) (*Sample, error) {
	w := len(p.rows)
	if a > Col || uint(row) >= uint(w) || uint(col) >= uint(w) {
		return nil, fmt.Errorf("%w: (%d, %d) along %s in width %d", ErrWrongCoordinate, row, col, a, w)
	}
	index, pos := axisPos(a, row, col)
	t := p.rows[row]
	if a == Col {
		var err error
		if t, err = p.col(col); err != nil {
			return nil, err
		}
	}
	proof, err := t.Prove(pos)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidProof, err)
	}
	rootProof, err := p.d.ProveRoot(a, index)
	if err != nil {
		return nil, err
	}
	return &Sample{
		row: row, col: col, axis: a, width: w,
		share:     bytes.Clone(p.s.Cell(row, col)),
		proof:     proof,
		axisRoot:  p.d.root(a, index), // immutable, like the Sample
		rootProof: rootProof,
	}, nil
}
