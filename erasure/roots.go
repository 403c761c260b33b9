package erasure

import (
	"bytes"
	"fmt"

	"github.com/tessera-da/tessera/nmt"
)

// Axis names the rows or the columns of a square. The values are rsmt2d's
// (Row = 0, Col = 1) and are used in encodings.
type Axis uint8

// The two axes.
const (
	Row Axis = 0
	Col Axis = 1
)

// String returns "row" or "col".
func (a Axis) String() string {
	switch a {
	case Row:
		return "row"
	case Col:
		return "col"
	}
	return fmt.Sprintf("Axis(%d)", uint8(a))
}

// RootSize is the size of a row or column root: an NMT node, minimum
// namespace ‖ maximum namespace ‖ SHA-256 digest (bytes).
const RootSize = nmt.NodeSize

// parityNamespace is 29×0xff, the namespace the Celestia tree wrapper
// prepends to every share outside Q0. Read-only.
const parityNamespace = "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"

// axisTrees is per-worker state for root computation: one NMT reused for
// every axis, and the parity namespace as a slice.
//
// Building several column trees together (reading adjacent cells of each
// row) was measured and is slower than one column at a time.
type axisTrees struct {
	tree   *nmt.Tree
	parity []byte
}

func newAxisTrees(width int) *axisTrees {
	return &axisTrees{
		tree:   nmt.New(nmt.IgnoreMaxNamespace(true), nmt.SizeHint(width)),
		parity: []byte(parityNamespace),
	}
}

// buildAxis resets t.tree and pushes axis index of s along a, prefixing
// each share as Celestia's tree wrapper does: its own first NamespaceSize
// bytes in Q0, the parity namespace elsewhere. Errors (namespaces out of
// order in Q0) wrap ErrInvalidShare.
func (t *axisTrees) buildAxis(s *ExtendedSquare, a Axis, index int) error {
	k, w := s.k, 2*s.k
	t.tree.Reset()
	off, step := index*w*ShareSize, ShareSize
	if a == Col {
		off, step = index*ShareSize, w*ShareSize
	}
	for j := range w {
		cell := s.buf[off : off+ShareSize : off+ShareSize]
		ns := t.parity
		if index < k && j < k {
			ns = cell[:NamespaceSize]
		}
		if err := t.tree.PushNamespaced(ns, cell); err != nil {
			return fmt.Errorf("%w: %s %d, share %d: %w", ErrInvalidShare, a, index, j, err)
		}
		off += step
	}
	return nil
}

// buildShares is buildAxis for an axis given as its 2k shares (ShareSize
// bytes each): index is the axis's row or column index, which with the
// position decides the namespace prefix (the rule is the same for rows and
// columns).
func (t *axisTrees) buildShares(shares [][]byte, index int) error {
	k := len(shares) / 2
	t.tree.Reset()
	for j, cell := range shares {
		ns := t.parity
		if index < k && j < k {
			ns = cell[:NamespaceSize]
		}
		if err := t.tree.PushNamespaced(ns, cell); err != nil {
			return fmt.Errorf("%w: axis %d, share %d: %w", ErrInvalidShare, index, j, err)
		}
	}
	return nil
}

// DAH is a data availability header: the 2k row roots and the 2k column
// roots of an extended square, RootSize bytes each. A DAH that exists is
// well formed (see NewDAH); it is immutable and safe for concurrent use.
// Accessors return copies.
type DAH struct {
	width int    // 2k
	roots []byte // row roots, then column roots; 2·width·RootSize bytes
	cache dahCache
}

// NewDAH validates and copies row and column roots received from
// elsewhere. Both lists must have the same length 2k, for k a power of two
// in [1, MaxODSWidth], and every root must be a RootSize-byte NMT node whose
// minimum namespace does not exceed its maximum. Errors wrap ErrInvalidDAH.
func NewDAH(rowRoots, colRoots [][]byte) (*DAH, error) {
	w := len(rowRoots)
	if len(colRoots) != w {
		return nil, fmt.Errorf("%w: %d row roots and %d column roots", ErrInvalidDAH, w, len(colRoots))
	}
	if w%2 != 0 || !validODSWidth(w/2) {
		return nil, fmt.Errorf("%w: %d roots per axis, want 2k for a power of two k in 1..%d", ErrInvalidDAH, w, MaxODSWidth)
	}
	d := &DAH{width: w, roots: make([]byte, 0, 2*w*RootSize)}
	for a, list := range [2][][]byte{rowRoots, colRoots} {
		for i, r := range list {
			if err := nmt.ValidateNode(r); err != nil {
				return nil, fmt.Errorf("%w: %s root %d: %w", ErrInvalidDAH, Axis(a), i, err)
			}
			d.roots = append(d.roots, r...)
		}
	}
	return d, nil
}

// Width returns the number of roots per axis, the width 2k of the extended
// square; 0 for a nil DAH.
func (d *DAH) Width() int {
	if d == nil {
		return 0
	}
	return d.width
}

// root returns a view of root i of axis a; the caller checks the bounds.
func (d *DAH) root(a Axis, i int) []byte {
	off := (int(a)*d.width + i) * RootSize
	return d.roots[off : off+RootSize : off+RootSize]
}

// Root returns a copy of root i of axis a, or nil when a is not Row or Col
// or i is outside [0, Width()).
func (d *DAH) Root(a Axis, i int) []byte {
	if d == nil || a > Col || uint(i) >= uint(d.width) {
		return nil
	}
	return bytes.Clone(d.root(a, i))
}

// RowRoots returns copies of the row roots.
func (d *DAH) RowRoots() [][]byte { return d.axisRoots(Row) }

// ColRoots returns copies of the column roots.
func (d *DAH) ColRoots() [][]byte { return d.axisRoots(Col) }

func (d *DAH) axisRoots(a Axis) [][]byte {
	if d == nil {
		return nil
	}
	buf := bytes.Clone(d.roots[int(a)*d.width*RootSize : (int(a)+1)*d.width*RootSize])
	out := make([][]byte, d.width)
	for i := range out {
		out[i] = buf[i*RootSize : (i+1)*RootSize : (i+1)*RootSize]
	}
	return out
}

// Equal reports whether d and o hold the same roots.
func (d *DAH) Equal(o *DAH) bool {
	if d == nil || o == nil {
		return d == o
	}
	return d.width == o.width && bytes.Equal(d.roots, o.roots)
}

// ComputeDAH computes the row and column roots of s: every axis is a
// Celestia NMT (IgnoreMaxNamespace) whose leaves are the axis's shares,
// each prefixed with its own namespace in Q0 and with the parity namespace
// elsewhere. It fails, wrapping ErrInvalidShare, if the namespaces of a Q0
// row or column decrease, and with ErrInvalidWidth for an empty square.
//
// The leaf node of cell (r, c) is the same in row tree r and column tree c
// (the namespace prefix depends on the position only), so every cell is
// hashed once: the row trees are built from the shares, and the column
// trees from the row trees' leaf nodes. Between the two phases the leaf
// nodes are kept compactly, column-major: the 32-byte digest of every cell
// and the namespace of every Q0 cell (parity cells' namespace is implied),
// 4k²·32 + k²·29 bytes, about 7.7 % of the square, kept by the Extender for
// the next call. That is about 60·k² SHA-256 blocks instead of 96·k². Rows,
// then columns, are split over the Extender's workers.
func (e *Extender) ComputeDAH(s *ExtendedSquare) (*DAH, error) {
	if s == nil || !validODSWidth(s.k) {
		return nil, fmt.Errorf("%w: empty or invalid square", ErrInvalidWidth)
	}
	k, w := s.k, 2*s.k
	d := &DAH{width: w, roots: make([]byte, 2*w*RootSize)}
	workers := min(e.params.Workers, w)
	trees := e.getTrees(workers, w)
	defer e.putTrees(trees)
	store := e.getLeafStore(w*w*nmt.HashSize + k*k*NamespaceSize)
	defer e.putLeafStore(store)
	digests, namespaces := store[:w*w*nmt.HashSize], store[w*w*nmt.HashSize:]
	const digestOff = 2 * NamespaceSize // of a node
	err := forEach(workers, w, func(wk, r int) error {
		t := trees[wk]
		if err := t.buildAxis(s, Row, r); err != nil {
			return err
		}
		t.tree.AppendRoot(d.roots[r*RootSize : r*RootSize : (r+1)*RootSize])
		var node [nmt.NodeSize]byte
		for c := range w {
			if _, err := t.tree.AppendLeafNode(node[:0], c); err != nil {
				return fmt.Errorf("%w: row %d, share %d: %w", ErrInvalidShare, r, c, err) // unreachable
			}
			copy(digests[(c*w+r)*nmt.HashSize:], node[digestOff:])
			if r < k && c < k {
				copy(namespaces[(c*k+r)*NamespaceSize:], node[:NamespaceSize])
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = forEach(workers, w, func(wk, c int) error {
		t := trees[wk].tree
		t.Reset()
		var node [nmt.NodeSize]byte
		copy(node[:], parityNamespace)
		copy(node[NamespaceSize:], parityNamespace)
		for r := range w {
			if r < k && c < k {
				ns := namespaces[(c*k+r)*NamespaceSize : (c*k+r+1)*NamespaceSize]
				copy(node[:], ns)
				copy(node[NamespaceSize:], ns)
			} else if r == k && c < k {
				copy(node[:], parityNamespace)
				copy(node[NamespaceSize:], parityNamespace)
			}
			copy(node[digestOff:], digests[(c*w+r)*nmt.HashSize:(c*w+r+1)*nmt.HashSize])
			if err := t.PushLeafNode(node[:]); err != nil {
				return fmt.Errorf("%w: %s %d, share %d: %w", ErrInvalidShare, Col, c, r, err)
			}
		}
		i := w + c
		t.AppendRoot(d.roots[i*RootSize : i*RootSize : (i+1)*RootSize])
		return nil
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

// ComputeDAH computes the DAH of s with p's workers; see
// Extender.ComputeDAH.
func ComputeDAH(s *ExtendedSquare, p Params) (*DAH, error) {
	e, err := NewExtender(p, nil)
	if err != nil {
		return nil, err
	}
	return e.ComputeDAH(s)
}

// getTrees returns n per-worker tree sets, reusing ones an earlier call
// returned.
func (e *Extender) getTrees(n, width int) []*axisTrees {
	out := make([]*axisTrees, n)
	e.mu.Lock()
	for i := range out {
		if len(e.trees) == 0 {
			break
		}
		out[i] = e.trees[len(e.trees)-1]
		e.trees[len(e.trees)-1] = nil
		e.trees = e.trees[:len(e.trees)-1]
	}
	e.mu.Unlock()
	for i := range out {
		if out[i] == nil {
			out[i] = newAxisTrees(width)
		}
	}
	return out
}

// getLeafStore returns a buffer of n bytes for ComputeDAH's leaf nodes,
// reusing the one an earlier call returned when it is large enough.
func (e *Extender) getLeafStore(n int) []byte {
	e.mu.Lock()
	b := e.leafStore
	if cap(b) >= n {
		e.leafStore = nil
	}
	e.mu.Unlock()
	if cap(b) < n {
		return make([]byte, n)
	}
	return b[:n]
}

// putLeafStore keeps b for the next ComputeDAH unless a larger buffer is
// already kept.
func (e *Extender) putLeafStore(b []byte) {
	e.mu.Lock()
	if cap(b) > cap(e.leafStore) {
		e.leafStore = b
	}
	e.mu.Unlock()
}

// putTrees keeps tree sets for later calls, at most Workers of them.
func (e *Extender) putTrees(ts []*axisTrees) {
	e.mu.Lock()
	for _, t := range ts {
		if len(e.trees) < e.params.Workers {
			e.trees = append(e.trees, t)
		}
	}
	e.mu.Unlock()
}
