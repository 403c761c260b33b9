package nmt

import (
	"fmt"
	"math/bits"
)

// MaxLeafRanges bounds the ranges ToLeafRanges returns.
const MaxLeafRanges = 1 << 16 // ranges

// LeafRange is the leaf range [Start, End) under one subtree root.
type LeafRange struct {
	Start, End int
}

// leafRangeIter yields the ranges of ToLeafRanges one by one.
type leafRangeIter struct {
	cur, end, width int
}

// next returns the next range: from the cursor, the largest power of two
// that fits both the rest of the range and the width, which must also be an
// aligned subtree of the tree (ADR-013 subtree roots).
func (it *leafRangeIter) next() (LeafRange, error) {
	m := min(it.end-it.cur, it.width)
	size := 1 << (bits.Len(uint(m)) - 1)
	if it.cur != 0 && it.cur&(size-1) != 0 {
		return LeafRange{}, fmt.Errorf("%w: subtree width %d gives [%d, %d), not a subtree", ErrInvalidRange, it.width, it.cur, it.cur+size)
	}
	r := LeafRange{Start: it.cur, End: it.cur + size}
	it.cur += size
	return r, nil
}

// ToLeafRanges returns the leaf ranges of the subtree roots that cover the
// leaves [start, end) of a row, for blobs laid out by Celestia's
// non-interactive default rules (ADR-013) with the given subtree width (a
// power of two; see the share package's SubTreeWidth): from start, the
// largest power of two ≤ min(remaining, width) each time, which must be an
// aligned subtree. It matches celestiaorg/nmt's ToLeafRanges and fails
// unless 0 ≤ start < end ≤ MaxLeaves, width > 0, and at most MaxLeafRanges
// ranges result.
func ToLeafRanges(start, end, subtreeWidth int) ([]LeafRange, error) {
	if start < 0 || end <= start || end > MaxLeaves || subtreeWidth <= 0 {
		return nil, fmt.Errorf("%w: [%d, %d) with subtree width %d", ErrInvalidRange, start, end, subtreeWidth)
	}
	it := leafRangeIter{cur: start, end: end, width: subtreeWidth}
	var out []LeafRange
	for it.cur < it.end {
		if len(out) == MaxLeafRanges {
			return nil, fmt.Errorf("%w: more than %d ranges", ErrInvalidRange, MaxLeafRanges)
		}
		r, err := it.next()
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// VerifySubtreeRoots checks that subtreeRoots are the roots of the subtrees
// that ToLeafRanges(Start(), End(), subtreeWidth) gives, in the tree with the
// given root: Celestia's Proof.VerifySubtreeRootInclusion, which
// celestia-node's blob CommitmentProof uses to tie a blob's commitment
// subtree roots to a row root. As in Celestia, it assumes the tree's size is
// a power of two. The work is bounded by len(subtreeRoots): any range that
// would need more roots than given is rejected before it is hashed.
func (p Proof) VerifySubtreeRoots(root []byte, subtreeRoots [][]byte, subtreeWidth int) error {
	if p.start >= p.end {
		return fmt.Errorf("%w: %w: empty range [%d, %d)", ErrInvalidProof, ErrInvalidRange, p.start, p.end)
	}
	if subtreeWidth <= 0 {
		return fmt.Errorf("%w: %w: subtree width %d", ErrInvalidProof, ErrInvalidRange, subtreeWidth)
	}
	if err := ValidateNode(root); err != nil {
		return fmt.Errorf("%w: root: %w", ErrInvalidProof, err)
	}
	roots := make([]byte, 0, len(subtreeRoots)*NodeSize)
	for i, r := range subtreeRoots {
		if err := ValidateNode(r); err != nil {
			return fmt.Errorf("%w: subtree root %d: %w", ErrInvalidProof, i, err)
		}
		roots = append(roots, r...)
	}
	ranges := make([]LeafRange, 0, len(subtreeRoots))
	it := leafRangeIter{cur: p.start, end: p.end, width: subtreeWidth}
	for it.cur < it.end {
		if len(ranges) == len(subtreeRoots) {
			return fmt.Errorf("%w: %w: more leaf ranges than the %d subtree roots", ErrInvalidProof, ErrInvalidRange, len(subtreeRoots))
		}
		r, err := it.next()
		if err != nil {
			return fmt.Errorf("%w: %w", ErrInvalidProof, err)
		}
		ranges = append(ranges, r)
	}
	if len(ranges) != len(subtreeRoots) {
		return fmt.Errorf("%w: %w: %d leaf ranges for %d subtree roots", ErrInvalidProof, ErrInvalidRange, len(ranges), len(subtreeRoots))
	}
	v := subtreeVerifier{
		rangeVerifier: rangeVerifier{start: uint(p.start), end: uint(p.end), nodes: p.nodes, leaves: roots, ignoreMax: p.ignoreMax},
		ranges:        ranges,
	}
	got, ok, err := v.subtree(0, uint(1)<<bits.Len(uint(p.end-1)))
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: range [%d, %d) rebuilt no root", ErrInvalidProof, p.start, p.end)
	}
	for len(v.nodes) > 0 {
		next, _ := v.pop()
		if got, err = v.parent(&got, &next); err != nil {
			return err
		}
	}
	if string(got[:]) != string(root) {
		return fmt.Errorf("%w: %w", ErrInvalidProof, ErrRootMismatch)
	}
	return nil
}

// subtreeVerifier is a rangeVerifier that takes a subtree root (from
// leaves) for each range in ranges instead of a leaf node per leaf.
type subtreeVerifier struct {
	rangeVerifier
	ranges []LeafRange
}

func (v *subtreeVerifier) subtree(lo, hi uint) (n [NodeSize]byte, ok bool, err error) {
	if hi <= v.start || lo >= v.end {
		n, ok = v.pop()
		return n, ok, nil
	}
	if len(v.ranges) == 0 {
		return n, false, fmt.Errorf("%w: no subtree root for [%d, %d)", ErrInvalidProof, lo, hi)
	}
	if r := v.ranges[0]; uint(r.Start) == lo && uint(r.End) == hi {
		v.ranges = v.ranges[1:]
		copy(n[:], v.leaves[:NodeSize])
		v.leaves = v.leaves[NodeSize:]
		return n, true, nil
	}
	if hi-lo == 1 {
		return n, false, fmt.Errorf("%w: [%d, %d) is not a subtree of the proof's tree", ErrInvalidProof, v.ranges[0].Start, v.ranges[0].End)
	}
	mid := lo + (hi-lo)/2
	left, okL, err := v.subtree(lo, mid)
	if err != nil {
		return n, false, err
	}
	right, okR, err := v.subtree(mid, hi)
	if err != nil {
		return n, false, err
	}
	if !okL {
		return n, false, fmt.Errorf("%w: missing node for leaves [%d, %d)", ErrInvalidProof, lo, mid)
	}
	if !okR {
		return left, true, nil
	}
	n, err = v.parent(&left, &right)
	return n, err == nil, err
}
