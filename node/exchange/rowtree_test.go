package exchange

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/tessera-da/tessera/erasure"
)

// TestRowTreeSamplesEqualErasure checks the server's cached-tree prover
// against the reference: erasure's ProveSample along rows, encoded by
// MarshalBinary, byte for byte, for every cell of squares k = 1…16.
func TestRowTreeSamplesEqualErasure(t *testing.T) {
	e, err := erasure.NewExtender(erasure.Params{Workers: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []int{1, 2, 4, 8, 16} {
		t.Run(fmt.Sprintf("k=%d", k), func(t *testing.T) {
			b := makeBlock(t, k, 1, nil)
			c := newTreeCache(1 << 30)
			sq := c.get(1, b.dah)
			var h nodeHasher
			w := 2 * k
			for r := range w {
				rt, err := c.row(sq, b.eds, r)
				if err != nil {
					t.Fatal(err)
				}
				for col := range w {
					want, err := e.ProveSample(b.eds, b.dah, r, col, erasure.Row)
					if err != nil {
						t.Fatal(err)
					}
					wantEnc, err := want.MarshalBinary()
					if err != nil {
						t.Fatal(err)
					}
					got := rt.appendSample(nil, &h, b.eds, r, col)
					if !bytes.Equal(got, wantEnc) {
						t.Fatalf("sample (%d, %d) differs from erasure's", r, col)
					}
				}
			}
		})
	}
}

// TestRowTreeRejectsSquareNotMatchingDAH: a source whose square does not
// match its DAH gets statusInternal, never a proof.
func TestRowTreeRejectsSquareNotMatchingDAH(t *testing.T) {
	b := makeBlock(t, 4, 1, nil)
	other := makeBlock(t, 4, 2, nil)
	c := newTreeCache(1 << 30)
	sq := c.get(1, other.dah)
	if _, err := c.row(sq, b.eds, 3); err == nil {
		t.Fatal("row of a square built against another DAH")
	}
}

// TestTreeCacheBudget: the cache evicts least recently used squares to
// stay within its budget, keeps the square in use, and replaces an entry
// whose height gets another square.
func TestTreeCacheBudget(t *testing.T) {
	blocks := []*block{makeBlock(t, 8, 1, nil), makeBlock(t, 8, 2, nil), makeBlock(t, 8, 3, nil)}
	c := newTreeCache(0)
	build := func(b *block) int64 {
		sq := c.get(b.hdr.Height, b.dah)
		for r := range 16 {
			if _, err := c.row(sq, b.eds, r); err != nil {
				t.Fatal(err)
			}
		}
		return sq.used
	}
	one := build(blocks[0])
	if one == 0 || c.usedBytes() != one {
		t.Fatalf("used %d, square %d", c.usedBytes(), one)
	}
	c.budget = 2 * one
	build(blocks[1])
	c.get(1, blocks[0].dah) // touch height 1: height 2 is now the LRU
	build(blocks[2])
	if len(c.squares) != 2 || c.squares[2] != nil || c.usedBytes() != 2*one {
		t.Fatalf("after eviction: %d squares, height 2 kept %v, used %d", len(c.squares), c.squares[2] != nil, c.usedBytes())
	}
	// Another square at height 1 replaces the entry.
	sq := c.get(1, blocks[2].dah)
	if sq.used != 0 || c.usedBytes() != one {
		t.Fatalf("replaced entry: used %d, cache %d", sq.used, c.usedBytes())
	}
	c.forget(3)
	if c.usedBytes() != 0 || len(c.squares) != 1 {
		t.Fatalf("after forget: %d bytes, %d squares", c.usedBytes(), len(c.squares))
	}
}
