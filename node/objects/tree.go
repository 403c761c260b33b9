package objects

import (
	"bytes"
	"fmt"

	"github.com/tessera-da/tessera/blob/dataset"
	"github.com/tessera-da/tessera/nmt/merkle"
)

// pageTree holds every node of a manifest's page tree so that a page's
// proof costs O(log pages) instead of rehashing every entry
// (Manifest.ProvePage). Its root is checked against ComputePageRoot.
type pageTree struct {
	root   dataset.PageRoot
	levels [][][]byte // levels[0] are the leaf hashes; an odd node is carried up
}

func newPageTree(m *dataset.Manifest) (*pageTree, error) {
	root, err := m.ComputePageRoot()
	if err != nil {
		return nil, err
	}
	n := len(m.Entries)
	if n == 0 {
		return &pageTree{root: root}, nil
	}
	buf := make([]byte, 0, dataset.PageEntrySize)
	cur := make([][]byte, n)
	for i, e := range m.Entries {
		buf = e.AppendBinary(buf[:0])
		cur[i] = merkle.ComputeLeafHash(buf)
	}
	t := &pageTree{root: root, levels: [][][]byte{cur}}
	for len(cur) > 1 {
		next := make([][]byte, (len(cur)+1)/2)
		for i := 0; i+1 < len(cur); i += 2 {
			next[i/2] = merkle.ComputeInnerHash(cur[i], cur[i+1])
		}
		if len(cur)%2 == 1 {
			next[len(next)-1] = cur[len(cur)-1]
		}
		t.levels = append(t.levels, next)
		cur = next
	}
	if !bytes.Equal(cur[0], root.Hash[:]) {
		return nil, fmt.Errorf("%w: page tree root %x differs from the manifest's %x", ErrMismatch, cur[0], root.Hash)
	}
	return t, nil
}

// prove returns the proof of page i.
func (t *pageTree) prove(i uint64) (merkle.Proof, error) {
	if i >= t.root.Pages {
		return merkle.Proof{}, fmt.Errorf("%w: page %d of %d", ErrInvalid, i, t.root.Pages)
	}
	var aunts [][]byte
	for h, j := 0, int(i); h < len(t.levels)-1; h, j = h+1, j/2 {
		if sib := j ^ 1; sib < len(t.levels[h]) {
			aunts = append(aunts, t.levels[h][sib])
		}
	}
	return merkle.NewProof(int64(t.root.Pages), int64(i), t.levels[0][i], aunts)
}
