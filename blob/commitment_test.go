package blob

import (
	"github.com/tessera-da/tessera/nmt"
	"github.com/tessera-da/tessera/share"
)

// naiveRoot computes a subtree root through nmt.ComputeRoot, the streaming
// path that keeps no tree, over explicitly built ns ‖ share leaves.
func naiveRoot(ns share.Namespace, shares []share.Share) ([]byte, error) {
	leaves := make([][]byte, len(shares))
	for i, s := range shares {
		leaves[i] = append(ns.Bytes(), s.Bytes()...)
	}
	return nmt.ComputeRoot(leaves)
}
