package nmt

import (
	"bytes"
	"crypto/subtle"
	"fmt"
	"math/bits"
)

// VerifyInclusion checks that leaves are exactly the leaves [Start(), End())
// of the tree with the given root. Each leaf is a pushed leaf: its first
// NamespaceSize bytes are its namespace. It checks inclusion only, not that
// the leaves are all the leaves of their namespace (see VerifyNamespace).
// A leaf hash carried by the proof is ignored. Proving an empty range is an
// error.
func (p Proof) VerifyInclusion(root []byte, leaves ...[]byte) error {
	if err := p.checkRangeFor(len(leaves)); err != nil {
		return err
	}
	nodes, err := computeLeafNodes(leaves, nil)
	if err != nil {
		return err
	}
	return p.verify(root, nodes, nil)
}

// VerifyInclusionWithNamespace is VerifyInclusion for the leaves ns ‖ data[i]
// without building those concatenations. It matches Celestia's
// Proof.VerifyInclusion(hasher, ns, leavesWithoutNamespace, root): for an EDS
// share, ns is the namespace the tree wrapper prepended (the share's own in
// the original quadrant, the parity namespace elsewhere) and data is the
// whole share.
func (p Proof) VerifyInclusionWithNamespace(root, ns []byte, data ...[]byte) error {
	if len(ns) != NamespaceSize {
		return fmt.Errorf("%w: %w: %d bytes", ErrInvalidProof, ErrInvalidNamespace, len(ns))
	}
	if err := p.checkRangeFor(len(data)); err != nil {
		return err
	}
	nodes, err := computeLeafNodes(data, ns)
	if err != nil {
		return err
	}
	return p.verify(root, nodes, nil)
}

// VerifyLeafHashes is VerifyInclusion for leaf nodes (NodeSize bytes each,
// as ComputeLeafNode returns) instead of leaves.
func (p Proof) VerifyLeafHashes(root []byte, leafNodes ...[]byte) error {
	if err := p.checkRangeFor(len(leafNodes)); err != nil {
		return err
	}
	nodes := make([]byte, 0, len(leafNodes)*NodeSize)
	for i, n := range leafNodes {
		if err := ValidateNode(n); err != nil {
			return fmt.Errorf("%w: leaf node %d: %w", ErrInvalidProof, i, err)
		}
		nodes = append(nodes, n...)
	}
	return p.verify(root, nodes, nil)
}

// VerifyNamespace checks that leaves are all the leaves of namespace ns in
// the tree with the given root, and that there are none elsewhere:
//   - empty proof: accepted only with no leaves, and only if ns lies outside
//     the root's [min, max] or root is EmptyRoot();
//   - absence proof: accepted only with no leaves, if the carried leaf's
//     namespace is above ns and the range proof and completeness hold;
//   - otherwise every leaf must carry namespace ns, there must be End() −
//     Start() of them, the range proof must hold, every node left of the
//     range must have max < ns and every node right of it min > ns.
//
// Each leaf is a pushed leaf (ns ‖ data).
func (p Proof) VerifyNamespace(root, ns []byte, leaves ...[]byte) error {
	if len(ns) != NamespaceSize {
		return fmt.Errorf("%w: %w: %d bytes", ErrInvalidProof, ErrInvalidNamespace, len(ns))
	}
	if err := ValidateNode(root); err != nil {
		return fmt.Errorf("%w: root: %w", ErrInvalidProof, err)
	}
	if p.IsEmpty() {
		if len(leaves) != 0 {
			return fmt.Errorf("%w: %w: empty proof with %d leaves", ErrInvalidProof, ErrInvalidRange, len(leaves))
		}
		if bytes.Compare(ns, root[:NamespaceSize]) < 0 || bytes.Compare(ns, root[NamespaceSize:digestOff]) > 0 || isEmptyRoot(root) {
			return nil
		}
		return fmt.Errorf("%w: %w: empty proof for namespace %s inside the root's range", ErrInvalidProof, ErrIncompleteProof, nsHex(ns))
	}
	if p.IsAbsence() {
		if len(leaves) != 0 {
			return fmt.Errorf("%w: absence proof with %d leaves", ErrInvalidProof, len(leaves))
		}
		if bytes.Compare(ns, p.leafHash[:NamespaceSize]) >= 0 {
			return fmt.Errorf("%w: %w: absence proof leaf namespace %s is not above %s", ErrInvalidProof, ErrIncompleteProof, nsHex(p.leafHash[:NamespaceSize]), nsHex(ns))
		}
		return p.verify(root, p.leafHash, ns)
	}
	if err := p.checkRangeFor(len(leaves)); err != nil {
		return err
	}
	for i, l := range leaves {
		if len(l) < NamespaceSize {
			return fmt.Errorf("%w: %w: leaf %d is %d bytes", ErrInvalidProof, ErrInvalidLeaf, i, len(l))
		}
		if !bytes.Equal(l[:NamespaceSize], ns) {
			return fmt.Errorf("%w: %w: leaf %d has namespace %s, want %s", ErrInvalidProof, ErrInvalidLeaf, i, nsHex(l[:NamespaceSize]), nsHex(ns))
		}
	}
	nodes, err := computeLeafNodes(leaves, nil)
	if err != nil {
		return err
	}
	return p.verify(root, nodes, ns)
}

// checkRangeFor checks that the proof covers a non-empty range of exactly n
// leaves. This bounds all verification work by the caller's input.
func (p Proof) checkRangeFor(n int) error {
	if p.start >= p.end {
		return fmt.Errorf("%w: %w: empty range [%d, %d)", ErrInvalidProof, ErrInvalidRange, p.start, p.end)
	}
	if p.end-p.start != n {
		return fmt.Errorf("%w: %w: range [%d, %d) for %d leaves", ErrInvalidProof, ErrInvalidRange, p.start, p.end, n)
	}
	return nil
}

// computeLeafNodes returns the nodes of leaves, contiguously. With a nil ns
// each leaf starts with its namespace; otherwise each leaf is ns ‖ data.
func computeLeafNodes(leaves [][]byte, ns []byte) ([]byte, error) {
	out := make([]byte, len(leaves)*NodeSize)
	h := new(leafHasher)
	for i, l := range leaves {
		lns, data := ns, l
		if ns == nil {
			if len(l) < NamespaceSize {
				return nil, fmt.Errorf("%w: %w: leaf %d is %d bytes", ErrInvalidProof, ErrInvalidLeaf, i, len(l))
			}
			lns, data = l[:NamespaceSize], l[NamespaceSize:]
		}
		if i > 0 && bytes.Compare(lns, out[(i-1)*NodeSize:(i-1)*NodeSize+NamespaceSize]) < 0 {
			return nil, fmt.Errorf("%w: %w: leaf %d", ErrInvalidProof, ErrOutOfOrder, i)
		}
		h.hash(out[i*NodeSize:], lns, data)
	}
	return out, nil
}

// verify rebuilds the root from the proof and leafNodes (the nodes of leaves
// [start, end), contiguously; the range is non-empty and matches) and
// compares it with root. With a non-nil ns it first runs the completeness
// check for namespace ns.
func (p Proof) verify(root, leafNodes, ns []byte) error {
	if err := ValidateNode(root); err != nil {
		return fmt.Errorf("%w: root: %w", ErrInvalidProof, err)
	}
	if ns != nil {
		// The nodes left of the range are the binary decomposition of
		// [0, start): one per set bit of start.
		left := min(bits.OnesCount(uint(p.start)), p.NumNodes())
		for i := 0; i < p.NumNodes(); i++ {
			n := p.nodes[i*NodeSize : (i+1)*NodeSize]
			if i < left {
				if bytes.Compare(n[NamespaceSize:digestOff], ns) >= 0 {
					return fmt.Errorf("%w: %w: node %d left of the range has max namespace %s ≥ %s", ErrInvalidProof, ErrIncompleteProof, i, nsHex(n[NamespaceSize:digestOff]), nsHex(ns))
				}
			} else if bytes.Compare(n[:NamespaceSize], ns) <= 0 {
				return fmt.Errorf("%w: %w: node %d right of the range has min namespace %s ≤ %s", ErrInvalidProof, ErrIncompleteProof, i, nsHex(n[:NamespaceSize]), nsHex(ns))
			}
		}
	}
	v := rangeVerifier{
		start:     uint(p.start),
		end:       uint(p.end),
		nodes:     p.nodes,
		leaves:    leafNodes,
		ignoreMax: p.ignoreMax,
	}
	// P is the smallest power of two ≥ end.
	size := uint(1) << bits.Len(uint(p.end-1))
	got, ok, err := v.subtree(0, size)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: range [%d, %d) rebuilt no root", ErrInvalidProof, p.start, p.end)
	}
	for len(v.nodes) > 0 {
		var next [NodeSize]byte
		copy(next[:], v.nodes[:NodeSize])
		v.nodes = v.nodes[NodeSize:]
		if got, err = v.parent(&got, &next); err != nil {
			return err
		}
	}
	if subtle.ConstantTimeCompare(got[:], root) != 1 {
		return fmt.Errorf("%w: %w", ErrInvalidProof, ErrRootMismatch)
	}
	return nil
}

// rangeVerifier rebuilds the subtree [0, P) of a range proof, taking leaf
// nodes for leaves in range and proof nodes for subtrees outside it.
type rangeVerifier struct {
	start, end uint
	nodes      []byte // proof nodes not consumed yet
	leaves     []byte // leaf nodes not consumed yet
	ignoreMax  bool
	buf        [innerInputSize]byte
}

// pop consumes the next proof node; ok is false when none is left (the
// subtree lies beyond the end of the tree).
func (v *rangeVerifier) pop() (n [NodeSize]byte, ok bool) {
	if len(v.nodes) < NodeSize {
		return n, false
	}
	copy(n[:], v.nodes[:NodeSize])
	v.nodes = v.nodes[NodeSize:]
	return n, true
}

// subtree returns the node of the aligned subtree [lo, hi). Recursion only
// enters subtrees that overlap the range, so the work is O(end − start +
// log P), and the depth is at most 32.
func (v *rangeVerifier) subtree(lo, hi uint) (n [NodeSize]byte, ok bool, err error) {
	if hi <= v.start || lo >= v.end {
		n, ok = v.pop()
		return n, ok, nil
	}
	if hi-lo == 1 {
		// lo is in range; the caller supplied exactly end − start nodes.
		if len(v.leaves) < NodeSize {
			return n, false, fmt.Errorf("%w: too few leaves", ErrInvalidProof)
		}
		copy(n[:], v.leaves[:NodeSize])
		v.leaves = v.leaves[NodeSize:]
		return n, true, nil
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
		// Only a right child may be missing: the proof ran out of nodes
		// before a subtree left of the range.
		return n, false, fmt.Errorf("%w: missing node for leaves [%d, %d)", ErrInvalidProof, lo, mid)
	}
	if !okR {
		return left, true, nil
	}
	n, err = v.parent(&left, &right)
	return n, err == nil, err
}

// parent hashes two nodes, checking their order.
func (v *rangeVerifier) parent(l, r *[NodeSize]byte) (n [NodeSize]byte, err error) {
	if err := checkChildOrder(l[:], r[:]); err != nil {
		return n, fmt.Errorf("%w: %w", ErrInvalidProof, err)
	}
	hashInner(n[:], &v.buf, l[:], r[:], v.ignoreMax)
	return n, nil
}
