package exchange

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"sync"

	"github.com/tessera-da/tessera/erasure"
	"github.com/tessera-da/tessera/nmt"
)

// The server proves samples from cached row trees. erasure's ProveSample
// rebuilds a whole axis tree per proof (O(width) hashes); here every row
// tree is built once per square, on first use, and its upper levels are
// kept, so a proof costs O(log width) copies plus the few hashes of the
// levels that are not kept.
//
// Tree arithmetic is Celestia's NMT (nmt package documentation) on a
// perfect binary tree of w = 2k leaves: leaf = ns ‖ ns ‖ H(0x00 ‖ ns ‖
// share) with ns the share's namespace in Q0 and 29×0xff elsewhere; inner
// = l.min ‖ max ‖ H(0x01 ‖ l ‖ r) with max = l.max when r.min is the
// parity namespace (IgnoreMaxNamespace), else r.max. Every built row's root
// is compared with the DAH before it is used, and the tests compare roots
// and proofs with the nmt package's.

// keepLevel is the lowest level of a row tree kept in the cache: levels
// below it are recomputed from the shares for each proof (3 leaf hashes
// and 1 inner hash at keepLevel 2). A kept row costs about w/2 nodes of
// nmt.NodeSize bytes: 46 KB at k = 512, 47 MB for a whole square.
const keepLevel = 2

const (
	leafInputSize  = 1 + erasure.NamespaceSize + erasure.ShareSize // bytes
	innerInputSize = 1 + 2*nmt.NodeSize                            // bytes
)

var parityNS = bytes.Repeat([]byte{0xff}, erasure.NamespaceSize)

// nodeHasher hashes NMT nodes without allocating.
type nodeHasher struct {
	leaf  [leafInputSize]byte
	inner [innerInputSize]byte
}

// leafNode writes the node of the cell at (row, col) of a square of ODS
// width k into dst.
func (h *nodeHasher) leafNode(dst *[nmt.NodeSize]byte, k, row, col int, cell []byte) {
	ns := parityNS
	if row < k && col < k {
		ns = cell[:erasure.NamespaceSize]
	}
	h.leaf[0] = 0
	copy(h.leaf[1:], ns)
	copy(h.leaf[1+erasure.NamespaceSize:], cell)
	sum := sha256.Sum256(h.leaf[:])
	copy(dst[:erasure.NamespaceSize], ns)
	copy(dst[erasure.NamespaceSize:], ns)
	copy(dst[2*erasure.NamespaceSize:], sum[:])
}

// innerNode writes the parent of l and r into dst (which may alias
// neither).
func (h *nodeHasher) innerNode(dst []byte, l, r []byte) {
	h.inner[0] = 1
	copy(h.inner[1:], l)
	copy(h.inner[1+nmt.NodeSize:], r)
	sum := sha256.Sum256(h.inner[:])
	const ns = erasure.NamespaceSize
	copy(dst[:ns], l[:ns])
	if bytes.Equal(r[:ns], parityNS) {
		copy(dst[ns:2*ns], l[ns:2*ns])
	} else {
		copy(dst[ns:2*ns], r[ns:2*ns])
	}
	copy(dst[2*ns:nmt.NodeSize], sum[:])
}

// rowTree is the kept part of one row's tree and the row root's proof in
// the data root.
type rowTree struct {
	once  sync.Once
	err   error
	lo    int    // lowest kept level
	nodes []byte // levels lo..height, level l has w>>l nodes, concatenated
	root  []byte // nmt.NodeSize bytes
	aunts []byte // the row root's proof aunts, bottom-up
}

// size is the memory a built rowTree holds (bytes).
func (t *rowTree) size() int { return len(t.nodes) + len(t.aunts) + 64 }

// levelOffset is the offset, in nodes, of level l among the kept levels.
func levelOffset(w, lo, l int) int {
	off := 0
	for j := lo; j < l; j++ {
		off += w >> j
	}
	return off
}

// build computes row r's tree from the square, checks its root against the
// DAH and keeps its levels from keepLevel up.
func (t *rowTree) build(eds *erasure.ExtendedSquare, dah *erasure.DAH, r int) error {
	w, k := eds.Width(), eds.ODSWidth()
	height := log2(w)
	scratch := make([]byte, 2*w*nmt.NodeSize)
	var h nodeHasher
	var leaf [nmt.NodeSize]byte
	for c := range w {
		h.leafNode(&leaf, k, r, c, eds.Cell(r, c))
		copy(scratch[c*nmt.NodeSize:], leaf[:])
	}
	// Levels are laid out one after the other: level l starts at node
	// levelOffset(w, 0, l).
	prevOff, off := 0, w
	for l := 1; l <= height; l++ {
		n := w >> l
		for i := range n {
			left := scratch[(prevOff+2*i)*nmt.NodeSize:]
			right := scratch[(prevOff+2*i+1)*nmt.NodeSize:]
			h.innerNode(scratch[(off+i)*nmt.NodeSize:], left[:nmt.NodeSize], right[:nmt.NodeSize])
		}
		prevOff = off
		off += n
	}
	root := scratch[(off-1)*nmt.NodeSize : off*nmt.NodeSize]
	if !bytes.Equal(root, dah.Root(erasure.Row, r)) {
		return fmt.Errorf("%w: row %d", erasure.ErrDAHMismatch, r)
	}
	proof, err := dah.ProveRoot(erasure.Row, r)
	if err != nil {
		return err
	}
	t.lo = min(keepLevel, height)
	start := levelOffset(w, 0, t.lo)
	t.nodes = bytes.Clone(scratch[start*nmt.NodeSize : off*nmt.NodeSize])
	t.root = t.nodes[len(t.nodes)-nmt.NodeSize:]
	for _, a := range proof.Aunts() {
		t.aunts = append(t.aunts, a...)
	}
	return nil
}

// appendNode appends node i of level l of row r.
func (t *rowTree) appendNode(dst []byte, h *nodeHasher, eds *erasure.ExtendedSquare, r, l, i int) []byte {
	if l >= t.lo {
		off := (levelOffset(eds.Width(), t.lo, l) + i) * nmt.NodeSize
		return append(dst, t.nodes[off:off+nmt.NodeSize]...)
	}
	var n [nmt.NodeSize]byte
	t.computeNode(&n, h, eds, r, l, i)
	return append(dst, n[:]...)
}

// computeNode computes node i of level l < t.lo from the shares.
func (t *rowTree) computeNode(dst *[nmt.NodeSize]byte, h *nodeHasher, eds *erasure.ExtendedSquare, r, l, i int) {
	if l == 0 {
		h.leafNode(dst, eds.ODSWidth(), r, i, eds.Cell(r, i))
		return
	}
	var left, right [nmt.NodeSize]byte
	t.computeNode(&left, h, eds, r, l-1, 2*i)
	t.computeNode(&right, h, eds, r, l-1, 2*i+1)
	h.innerNode(dst[:], left[:], right[:])
}

// appendSample appends the erasure encoding of the sample at (r, c),
// proven in row r (see erasure.Sample.AppendBinary): axis 0 ‖ BE16 row ‖
// BE16 col ‖ share ‖ NMT proof nodes in Celestia's order (left siblings
// from the top down, then right siblings from the bottom up) ‖ row root ‖
// root proof aunts.
func (t *rowTree) appendSample(dst []byte, h *nodeHasher, eds *erasure.ExtendedSquare, r, c int) []byte {
	dst = append(dst, byte(erasure.Row))
	dst = binary.BigEndian.AppendUint16(dst, uint16(r))
	dst = binary.BigEndian.AppendUint16(dst, uint16(c))
	dst = append(dst, eds.Cell(r, c)...)
	height := log2(eds.Width())
	for l := height - 1; l >= 0; l-- {
		if c>>l&1 == 1 {
			dst = t.appendNode(dst, h, eds, r, l, (c>>l)^1)
		}
	}
	for l := range height {
		if c>>l&1 == 0 {
			dst = t.appendNode(dst, h, eds, r, l, (c>>l)^1)
		}
	}
	dst = append(dst, t.root...)
	return append(dst, t.aunts...)
}

// squareTrees holds the row trees of one square, built on demand.
type squareTrees struct {
	height   uint64
	dah      *erasure.DAH
	dataRoot []byte
	rows     []rowTree
	// Guarded by treeCache.mu.
	used    int64
	lastUse uint64
	evicted bool
}

// treeCache keeps the row trees of recently served squares within a byte
// budget, evicting the least recently used square first. The square being
// served is never evicted, so one square may exceed the budget alone.
type treeCache struct {
	mu      sync.Mutex
	budget  int64
	used    int64
	tick    uint64
	squares map[uint64]*squareTrees
}

func newTreeCache(budget int64) *treeCache {
	return &treeCache{budget: budget, squares: make(map[uint64]*squareTrees)}
}

// get returns the trees of the square at height, whose DAH is dah. An
// entry for another square (another data root) at the same height is
// replaced. The entry keeps the DAH it was made with: a DAH with the same
// data root has the same roots and root proofs.
func (c *treeCache) get(height uint64, dah *erasure.DAH) *squareTrees {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.tick++
	sq := c.squares[height]
	if sq != nil && sq.dah != dah && !bytes.Equal(sq.dataRoot, dah.Hash()) {
		c.evictLocked(sq)
		sq = nil
	}
	if sq == nil {
		sq = &squareTrees{height: height, dah: dah, dataRoot: dah.Hash(), rows: make([]rowTree, dah.Width())}
		c.squares[height] = sq
	}
	sq.lastUse = c.tick
	return sq
}

func (c *treeCache) evictLocked(sq *squareTrees) {
	if !sq.evicted {
		sq.evicted = true
		c.used -= sq.used
		if c.squares[sq.height] == sq {
			delete(c.squares, sq.height)
		}
	}
}

// forget drops the trees of the square at height.
func (c *treeCache) forget(height uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if sq := c.squares[height]; sq != nil {
		c.evictLocked(sq)
	}
}

// row returns row r's tree, building it on first use.
func (c *treeCache) row(sq *squareTrees, eds *erasure.ExtendedSquare, r int) (*rowTree, error) {
	t := &sq.rows[r]
	t.once.Do(func() {
		t.err = t.build(eds, sq.dah, r)
		if t.err == nil {
			c.account(sq, int64(t.size()))
		}
	})
	return t, t.err
}

// account adds n bytes to sq and evicts other squares while over budget.
func (c *treeCache) account(sq *squareTrees, n int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if sq.evicted {
		return
	}
	sq.used += n
	c.used += n
	for c.used > c.budget {
		var lru *squareTrees
		for _, o := range c.squares {
			if o != sq && (lru == nil || o.lastUse < lru.lastUse) {
				lru = o
			}
		}
		if lru == nil {
			return
		}
		c.evictLocked(lru)
	}
}

// usedBytes reports the bytes the cache holds.
func (c *treeCache) usedBytes() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.used
}
