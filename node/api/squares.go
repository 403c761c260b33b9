package api

import (
	"fmt"
	"sync"

	"github.com/tessera-da/tessera/erasure"
	"github.com/tessera-da/tessera/node/header"
	"github.com/tessera-da/tessera/node/store"
)

// squareCacheSize is how many extended squares stay in memory for serving
// samples, rows and proofs (most recent use first out last).
const squareCacheSize = 8 // squares

// Square is a stored block's extended square with its roots, recomputed
// from the stored ODS and checked against the header's data root.
type Square struct {
	Header *header.Header
	EDS    *erasure.ExtendedSquare
	DAH    *erasure.DAH
}

// squareCache recomputes extended squares from stored ODS and keeps the
// most recently used ones.
type squareCache struct {
	st  *store.Store
	ext *erasure.Extender

	mu    sync.Mutex
	order []uint64 // most recent last
	byH   map[uint64]*Square
	build sync.Mutex // one recomputation at a time: each uses both cores
}

func newSquareCache(st *store.Store) (*squareCache, error) {
	ext, err := erasure.NewExtender(erasure.DefaultParams(), erasure.NewLeopardCodec())
	if err != nil {
		return nil, err
	}
	return &squareCache{st: st, ext: ext, byH: map[uint64]*Square{}}, nil
}

func (c *squareCache) lookup(height uint64) *Square {
	c.mu.Lock()
	defer c.mu.Unlock()
	sq := c.byH[height]
	if sq != nil {
		for i, h := range c.order {
			if h == height {
				c.order = append(append(c.order[:i:i], c.order[i+1:]...), height)
				break
			}
		}
	}
	return sq
}

// Get returns the square at height.
func (c *squareCache) Get(height uint64) (*Square, error) {
	if sq := c.lookup(height); sq != nil {
		return sq, nil
	}
	c.build.Lock()
	defer c.build.Unlock()
	if sq := c.lookup(height); sq != nil {
		return sq, nil
	}
	h, err := c.st.HeaderByHeight(height)
	if err != nil {
		return nil, err
	}
	ods, err := c.st.ODS(height)
	if err != nil {
		return nil, err
	}
	eds, err := c.ext.ExtendFlat(ods)
	if err != nil {
		return nil, err
	}
	dah, err := c.ext.ComputeDAH(eds)
	if err != nil {
		return nil, err
	}
	if string(dah.Hash()) != string(h.DataRoot[:]) {
		return nil, fmt.Errorf("stored square at height %d does not match its header's data root: the store is corrupt", height)
	}
	sq := &Square{Header: h, EDS: eds, DAH: dah}
	c.insert(sq)
	return sq, nil
}

// insert adds sq unless its height is cached, evicting the least recently used.
func (c *squareCache) insert(sq *Square) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.byH[sq.Header.Height]; ok {
		return
	}
	c.byH[sq.Header.Height] = sq
	c.order = append(c.order, sq.Header.Height)
	if len(c.order) > squareCacheSize {
		delete(c.byH, c.order[0])
		c.order = c.order[1:]
	}
}

// Prime puts a square the node just built into the cache, so that serving
// the newest block costs no recomputation.
func (s *Service) Prime(h *header.Header, eds *erasure.ExtendedSquare, dah *erasure.DAH) {
	s.squares.insert(&Square{Header: h, EDS: eds, DAH: dah})
}

// Square returns the extended square at height, recomputed from the store
// when it is not cached.
func (s *Service) Square(height uint64) (*Square, error) { return s.squares.Get(height) }
