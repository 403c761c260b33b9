package bulk

import (
	"errors"
	"testing"

	"github.com/ipfs/go-cid"
)

// TestDelete: a deleted piece is no longer stored; deleting it again or a
// piece never stored is not an error; a CID that is not a piece ID is
// refused.
func TestDelete(t *testing.T) {
	p := testParams()
	p.NoAnnounce = true
	n := newNode(t, p)
	data := randBytes(t, 1000)
	c, err := n.b.Put(t.Context(), data)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if err := n.b.Delete(t.Context(), c); err != nil {
			t.Fatalf("delete %d: %v", i, err)
		}
		if has, err := n.b.Has(t.Context(), c); err != nil || has {
			t.Fatalf("Has after delete = %v, %v", has, err)
		}
	}
	if err := n.b.Delete(t.Context(), ComputeCID([]byte("never stored"))); err != nil {
		t.Fatalf("deleting a piece never stored: %v", err)
	}
	if err := n.b.Delete(t.Context(), cid.NewCidV0(c.Hash())); !errors.Is(err, ErrInvalidCID) {
		t.Fatalf("deleting a CIDv0: %v, want ErrInvalidCID", err)
	}
	if _, err := n.b.Put(t.Context(), data); err != nil {
		t.Fatalf("put again after delete: %v", err)
	}
	if has, _ := n.b.Has(t.Context(), c); !has {
		t.Fatal("piece put again is not stored")
	}
}
