package nmt

import (
	"bytes"
	"fmt"
	"math/bits"
)

// ComputeRoot returns the root of the tree with the given leaves, in order,
// without keeping any inner node: it merges subtrees as leaves arrive and
// uses O(log n) memory. Each leaf starts with its namespace; namespaces must
// be non-decreasing. For repeated roots without allocation, or leaves given
// as namespace and data, reuse a Tree (see the package documentation).
func ComputeRoot(leaves [][]byte, opts ...Option) ([]byte, error) {
	c := defaultConfig()
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	if len(leaves) == 0 {
		return EmptyRoot(), nil
	}
	if len(leaves) > MaxLeaves {
		return nil, fmt.Errorf("%w: %d leaves", ErrTreeFull, len(leaves))
	}
	var (
		// stack[i] is the root of a complete subtree; sizes strictly
		// decrease towards the top, following the bits of the count.
		stack [maxLevels + 1][NodeSize]byte
		sp    int
		lh    = new(leafHasher)
		buf   [innerInputSize]byte
	)
	for i, l := range leaves {
		if len(l) < NamespaceSize {
			return nil, fmt.Errorf("%w: leaf %d is %d bytes", ErrInvalidLeaf, i, len(l))
		}
		if i > 0 && bytes.Compare(l[:NamespaceSize], leaves[i-1][:NamespaceSize]) < 0 {
			return nil, fmt.Errorf("%w: leaf %d namespace %s after %s", ErrOutOfOrder, i, nsHex(l[:NamespaceSize]), nsHex(leaves[i-1][:NamespaceSize]))
		}
		lh.hash(stack[sp][:], l[:NamespaceSize], l[NamespaceSize:])
		sp++
		// Leaf i completes one subtree per trailing one bit of i.
		for m := bits.TrailingZeros(uint(i + 1)); m > 0; m-- {
			hashInner(stack[sp-2][:], &buf, stack[sp-2][:], stack[sp-1][:], c.ignoreMax)
			sp--
		}
	}
	// Fold the incomplete right spine, smallest subtree first.
	for ; sp > 1; sp-- {
		hashInner(stack[sp-2][:], &buf, stack[sp-2][:], stack[sp-1][:], c.ignoreMax)
	}
	return bytes.Clone(stack[0][:]), nil
}
