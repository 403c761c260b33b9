package dataset

import (
	"errors"
	"testing"

	"github.com/tessera-da/tessera/nmt/merkle"
)

// TestPageTreeMatchesMerkle is a differential test of PageTree against the
// naive reference (ComputePageRoot, and merkle.Prove over every entry) for
// every page of trees of 0..40 pages.
func TestPageTreeMatchesMerkle(t *testing.T) {
	for n := 0; n <= 40; n++ {
		m, _ := buildManifest(t, testObject(n*3), 3)
		tree, err := m.PageTree()
		if err != nil {
			t.Fatal(err)
		}
		want, err := m.ComputePageRoot()
		if err != nil {
			t.Fatal(err)
		}
		got := tree.Root()
		if got.Hash != want.Hash || got.Pages != want.Pages || len(got.Holdout) != len(want.Holdout) {
			t.Fatalf("%d pages: tree root %x (%d pages), ComputePageRoot %x (%d pages)", n, got.Hash, got.Pages, want.Hash, want.Pages)
		}
		leaves := m.leaves()
		for i := range uint64(n) {
			_, wantProof, err := merkle.Prove(leaves, int(i))
			if err != nil {
				t.Fatal(err)
			}
			e, proof, err := tree.Prove(i)
			if err != nil {
				t.Fatal(err)
			}
			if !proof.Equal(wantProof) || e != m.Entries[i] {
				t.Fatalf("%d pages: proof of page %d differs from merkle.Prove", n, i)
			}
			if err := VerifyPage(got, e, proof, testObject(n * 3)[i*3:i*3+3]); err != nil {
				t.Fatalf("%d pages: page %d: %v", n, i, err)
			}
		}
		if _, _, err := tree.Prove(uint64(n)); !errors.Is(err, ErrInvalidParams) {
			t.Fatalf("%d pages: proof of a page past the end: %v", n, err)
		}
	}
	bad := &Manifest{PageSize: 0}
	if _, err := bad.PageTree(); !errors.Is(err, ErrInvalidManifest) {
		t.Fatalf("invalid manifest: %v", err)
	}
}
