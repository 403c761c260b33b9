package dataset

import (
	"fmt"
	"slices"

	"github.com/tessera-da/tessera/nmt/merkle"
)

// PageTree holds every node of a manifest's page Merkle tree, built once
// (O(pages) hashes), so that each page's proof then costs O(log pages)
// where ProvePage rehashes every entry. Its root is the manifest's
// ComputePageRoot. A PageTree is read-only and safe for concurrent use.
type PageTree struct {
	root    PageRoot
	entries []PageEntry
	levels  [][][merkle.HashSize]byte // levels[0] are the leaf hashes; an odd node is carried up
}

// PageTree builds the page tree of a valid manifest. The tree keeps m's
// entries: m must not be modified while the tree is in use.
func (m *Manifest) PageTree() (*PageTree, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	t := &PageTree{
		root:    PageRoot{Pages: uint64(len(m.Entries)), Holdout: slices.Clone(m.Holdout)},
		entries: m.Entries,
	}
	if len(m.Entries) == 0 {
		copy(t.root.Hash[:], merkle.EmptyHash())
		return t, nil
	}
	buf := make([]byte, 0, PageEntrySize)
	cur := make([][merkle.HashSize]byte, len(m.Entries))
	for i, e := range m.Entries {
		buf = e.AppendBinary(buf[:0])
		copy(cur[i][:], merkle.ComputeLeafHash(buf))
	}
	t.levels = [][][merkle.HashSize]byte{cur}
	for len(cur) > 1 {
		next := make([][merkle.HashSize]byte, (len(cur)+1)/2)
		for i := 0; i+1 < len(cur); i += 2 {
			copy(next[i/2][:], merkle.ComputeInnerHash(cur[i][:], cur[i+1][:]))
		}
		if len(cur)%2 == 1 {
			next[len(next)-1] = cur[len(cur)-1]
		}
		t.levels = append(t.levels, next)
		cur = next
	}
	t.root.Hash = cur[0]
	return t, nil
}

// Root returns the page root (the caller must not modify its Holdout).
func (t *PageTree) Root() PageRoot { return t.root }

// Prove returns page i's entry and its Merkle proof to the page root.
func (t *PageTree) Prove(i uint64) (PageEntry, merkle.Proof, error) {
	if i >= t.root.Pages {
		return PageEntry{}, merkle.Proof{}, fmt.Errorf("%w: page %d of %d", ErrInvalidParams, i, t.root.Pages)
	}
	var aunts [][]byte
	for h, j := 0, int(i); h < len(t.levels)-1; h, j = h+1, j/2 {
		if sib := j ^ 1; sib < len(t.levels[h]) {
			aunts = append(aunts, t.levels[h][sib][:])
		}
	}
	proof, err := merkle.NewProof(int64(t.root.Pages), int64(i), t.levels[0][i][:], aunts)
	if err != nil {
		return PageEntry{}, merkle.Proof{}, fmt.Errorf("%w: %w", ErrInvalidManifest, err)
	}
	return t.entries[i], proof, nil
}
