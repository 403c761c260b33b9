package conformance

import (
	"encoding/hex"
	"fmt"

	"github.com/tessera-da/tessera/blob"
	"github.com/tessera-da/tessera/share"
)

// checkCommitment checks the subtree width, the mountain range sizes, each
// subtree root and the commitment of b.
func checkCommitment(r *Report, kase string, b *share.Blob, threshold, width int, sizes []int, roots []string, commitment string) {
	n := b.ShareCount()
	gotWidth := share.SubTreeWidth(n, threshold)
	CheckEq(r, kase, "subtree_width", gotWidth, width)
	gotSizes := blob.MerkleMountainRangeSizes(n, gotWidth)
	for i, s := range sizes {
		if i < len(gotSizes) {
			CheckEq(r, kase, fmt.Sprintf("mmr_tree_sizes[%d]", i), gotSizes[i], s)
		} else {
			r.Fail(kase, fmt.Sprintf("mmr_tree_sizes[%d]", i), "missing")
		}
	}
	gotRoots, err := blob.ComputeSubtreeRoots(b, threshold)
	if !r.CheckErr(kase, "subtree_roots", err) {
		r.Skip(len(roots) + 1)
		return
	}
	for i, want := range roots {
		if i < len(gotRoots) {
			r.CheckHex(kase, fmt.Sprintf("subtree_roots[%d]", i), gotRoots[i], want)
		} else {
			r.Fail(kase, fmt.Sprintf("subtree_roots[%d]", i), "missing")
		}
	}
	c, err := blob.ComputeCommitment(b, threshold)
	if r.CheckErr(kase, "commitment", err) {
		r.CheckHex(kase, "commitment", c, commitment)
	}
}

// commitmentHex is a helper for files that compare commitments as hex.
func commitmentHex(c blob.Commitment) string { return hex.EncodeToString(c) }
