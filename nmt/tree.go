package nmt

import (
	"bytes"
	"fmt"
	"math/bits"
	"slices"
	"sort"
)

// maxLevels bounds the height of a tree of at most MaxLeaves leaves.
const maxLevels = 32

// An Option configures a Tree or ComputeRoot.
type Option func(*config)

type config struct {
	ignoreMax bool
	sizeHint  int
}

func defaultConfig() config { return config{ignoreMax: true} }

// IgnoreMaxNamespace sets whether an inner node ignores the maximum namespace
// of a right child whose minimum namespace is the parity namespace (29×0xff).
// Celestia sets it, and so does the default.
func IgnoreMaxNamespace(ignore bool) Option {
	return func(c *config) { c.ignoreMax = ignore }
}

// SizeHint preallocates room for n leaves. Values ≤ 0 are ignored; a hint
// never limits how many leaves can be pushed.
func SizeHint(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.sizeHint = min(n, MaxLeaves)
		}
	}
}

// Tree is a namespaced Merkle tree. Leaves are pushed in non-decreasing
// namespace order; the root and every inner node are computed on the first
// call to Root, AppendRoot or a Prove method after a push, and kept, so that
// later proofs cost O(log n) whatever their range.
//
// A Tree keeps the 90-byte node of every leaf and inner node (about
// 2·n·NodeSize bytes) but not the leaves themselves. Reset empties it and
// keeps its buffers, so one Tree per worker computes any number of roots
// without allocating.
//
// Use New: the zero Tree works but has IgnoreMaxNamespace off.
//
// A Tree is not safe for concurrent use. Once its root has been computed and
// until the next push or Reset, its Prove methods, Root, AppendRoot,
// LeafNode, AppendLeafNode and SubtreeRoot only read it and may be called
// concurrently.
type Tree struct {
	ignoreMax bool
	n         int
	// leaves holds the n leaf nodes, contiguously.
	leaves []byte
	// inner holds levels 1..height contiguously: level h has
	// ceil(n/2^h) nodes, and node i of level h is the root of leaves
	// [i·2^h, min((i+1)·2^h, n)).
	inner []byte
	// levelOff[h] is the offset, in nodes, of level h in inner (h ≥ 1).
	levelOff [maxLevels + 1]int
	height   int
	built    bool
	lh       leafHasher
	buf      [innerInputSize]byte
}

// New returns an empty Tree with Celestia's settings unless opts say
// otherwise.
func New(opts ...Option) *Tree {
	c := defaultConfig()
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	t := &Tree{ignoreMax: c.ignoreMax}
	if c.sizeHint > 0 {
		t.leaves = make([]byte, 0, c.sizeHint*NodeSize)
		t.inner = make([]byte, 0, c.sizeHint*NodeSize)
	}
	return t
}

// Size returns the number of leaves pushed.
func (t *Tree) Size() int { return t.n }

// IgnoresMaxNamespace reports the tree's IgnoreMaxNamespace setting.
func (t *Tree) IgnoresMaxNamespace() bool { return t.ignoreMax }

// Reset removes every leaf and keeps the tree's buffers and settings.
func (t *Tree) Reset() {
	t.n = 0
	t.leaves = t.leaves[:0]
	t.built = false
}

// Push adds a leaf whose first NamespaceSize bytes are its namespace. The
// whole leaf, namespace included, is hashed. The namespace must not be below
// the previous leaf's. Push does not retain leaf.
func (t *Tree) Push(leaf []byte) error {
	if len(leaf) < NamespaceSize {
		return fmt.Errorf("%w: %d bytes, shorter than a namespace", ErrInvalidLeaf, len(leaf))
	}
	return t.PushNamespaced(leaf[:NamespaceSize], leaf[NamespaceSize:])
}

// PushNamespaced adds the leaf ns ‖ data without building that
// concatenation: its node is ns ‖ ns ‖ SHA-256(0x00 ‖ ns ‖ data). This is how
// Celestia's EDS trees are fed: ns is the share's own namespace in the
// original quadrant and the parity namespace elsewhere, and data is the
// whole 512-byte share. PushNamespaced does not retain ns or data.
func (t *Tree) PushNamespaced(ns, data []byte) error {
	if len(ns) != NamespaceSize {
		return fmt.Errorf("%w: %d bytes", ErrInvalidNamespace, len(ns))
	}
	if err := t.canAppend(ns); err != nil {
		return err
	}
	off := t.n * NodeSize
	t.leaves = slices.Grow(t.leaves, NodeSize)[:off+NodeSize]
	t.lh.hash(t.leaves[off:], ns, data)
	t.n++
	t.built = false
	return nil
}

// canAppend checks that t has room for another leaf and that namespace ns
// is not below the last leaf's.
func (t *Tree) canAppend(ns []byte) error {
	if t.n >= MaxLeaves {
		return fmt.Errorf("%w: %d leaves", ErrTreeFull, t.n)
	}
	if t.n > 0 {
		last := t.leaves[(t.n-1)*NodeSize:]
		if bytes.Compare(ns, last[:NamespaceSize]) < 0 {
			return fmt.Errorf("%w: leaf %d namespace %s after %s", ErrOutOfOrder, t.n, nsHex(ns), nsHex(last[:NamespaceSize]))
		}
	}
	return nil
}

// PushLeafNode adds a leaf given by its node (as LeafNode, AppendLeafNode or
// ComputeNamespacedLeafNode return it) instead of its data, so that a leaf
// hashed once can be pushed into several trees: in an extended data square
// the leaf of cell (r, c) is the same in row tree r and column tree c. The
// node must be NodeSize bytes with equal minimum and maximum namespaces (a
// leaf node's), and its namespace must not be below the previous leaf's.
// The digest cannot be checked: the caller vouches for it. Errors wrap
// ErrInvalidNodeSize, ErrInvalidNode, ErrOutOfOrder or ErrTreeFull.
// PushLeafNode does not retain node.
func (t *Tree) PushLeafNode(node []byte) error {
	if len(node) != NodeSize {
		return fmt.Errorf("%w: %d bytes, want %d", ErrInvalidNodeSize, len(node), NodeSize)
	}
	ns := node[:NamespaceSize]
	if !bytes.Equal(ns, node[NamespaceSize:digestOff]) {
		return fmt.Errorf("%w: leaf node with min namespace %s and max namespace %s", ErrInvalidNode, nsHex(ns), nsHex(node[NamespaceSize:digestOff]))
	}
	if err := t.canAppend(ns); err != nil {
		return err
	}
	t.leaves = append(t.leaves, node...)
	t.n++
	t.built = false
	return nil
}

// treeHeight is the number of levels above the leaves: ceil(log2 n).
func treeHeight(n int) int {
	if n <= 1 {
		return 0
	}
	return bits.Len(uint(n - 1))
}

// levelCount is the number of nodes at level h of a tree of n leaves.
func levelCount(n, h int) int {
	return (n + 1<<h - 1) >> h
}

// build computes every inner node, level by level. A level with an odd
// number of nodes carries its last node up unchanged, which gives exactly
// the shape that splits at the largest power of two below n.
func (t *Tree) build() {
	if t.built {
		return
	}
	t.height = treeHeight(t.n)
	total := 0
	for h := 1; h <= t.height; h++ {
		t.levelOff[h] = total
		total += levelCount(t.n, h)
	}
	t.inner = slices.Grow(t.inner[:0], total*NodeSize)[:total*NodeSize]
	prev := t.leaves[:t.n*NodeSize]
	prevCount := t.n
	for h := 1; h <= t.height; h++ {
		count := levelCount(t.n, h)
		cur := t.inner[t.levelOff[h]*NodeSize : (t.levelOff[h]+count)*NodeSize]
		for i := 0; i < prevCount/2; i++ {
			l := prev[2*i*NodeSize : (2*i+1)*NodeSize]
			r := prev[(2*i+1)*NodeSize : (2*i+2)*NodeSize]
			hashInner(cur[i*NodeSize:], &t.buf, l, r, t.ignoreMax)
		}
		if prevCount%2 == 1 {
			copy(cur[(count-1)*NodeSize:], prev[(prevCount-1)*NodeSize:prevCount*NodeSize])
		}
		prev, prevCount = cur, count
	}
	t.built = true
}

// node returns node i of level h, aliasing the tree's buffers.
func (t *Tree) node(h, i int) []byte {
	if h == 0 {
		return t.leaves[i*NodeSize : (i+1)*NodeSize]
	}
	off := (t.levelOff[h] + i) * NodeSize
	return t.inner[off : off+NodeSize]
}

// rootNode returns the root, aliasing the tree's buffers; nil for an empty
// tree. The tree must be built.
func (t *Tree) rootNode() []byte {
	if t.n == 0 {
		return nil
	}
	return t.node(t.height, 0)
}

// Root returns the tree's 90-byte root as a fresh slice. The root of an
// empty tree is EmptyRoot().
func (t *Tree) Root() []byte {
	return t.AppendRoot(make([]byte, 0, NodeSize))
}

// AppendRoot appends the tree's 90-byte root to dst and returns the extended
// slice. It does not allocate when dst has room.
func (t *Tree) AppendRoot(dst []byte) []byte {
	if t.n == 0 {
		dst = append(dst, make([]byte, digestOff)...)
		return append(dst, emptyDigest...)
	}
	t.build()
	return append(dst, t.rootNode()...)
}

// LeafNode returns a copy of the node of leaf i.
func (t *Tree) LeafNode(i int) ([]byte, error) {
	if i < 0 || i >= t.n {
		return nil, fmt.Errorf("%w: leaf %d of %d", ErrInvalidRange, i, t.n)
	}
	return bytes.Clone(t.node(0, i)), nil
}

// AppendLeafNode appends the node of leaf i to dst and returns the extended
// slice; it does not allocate when dst has room for NodeSize more bytes.
// Like Root it only reads the tree.
func (t *Tree) AppendLeafNode(dst []byte, i int) ([]byte, error) {
	if i < 0 || i >= t.n {
		return dst, fmt.Errorf("%w: leaf %d of %d", ErrInvalidRange, i, t.n)
	}
	return append(dst, t.node(0, i)...), nil
}

// SubtreeRoot returns a copy of the kept root of the aligned subtree over
// the leaves [start, end): end − start must be a power of two that divides
// start, and end ≤ Size(). These are the subtree roots of Celestia's blob
// share commitments (see ToLeafRanges). A single leaf gives its leaf node.
// It costs O(1) once the tree is built; errors wrap ErrInvalidRange.
func (t *Tree) SubtreeRoot(start, end int) ([]byte, error) {
	size := end - start
	if start < 0 || end > t.n || size <= 0 || size&(size-1) != 0 || start&(size-1) != 0 {
		return nil, fmt.Errorf("%w: [%d, %d) is not an aligned power-of-two subtree of %d leaves", ErrInvalidRange, start, end, t.n)
	}
	t.build()
	h := bits.TrailingZeros(uint(size))
	return bytes.Clone(t.node(h, start>>h)), nil
}

// Prove returns the proof of the single leaf i; see ProveRange.
func (t *Tree) Prove(i int) (Proof, error) {
	if i < 0 || i >= t.n {
		return Proof{}, fmt.Errorf("%w: leaf %d of %d", ErrInvalidRange, i, t.n)
	}
	return t.ProveRange(i, i+1)
}

// ProveRange returns the proof of the leaves [start, end): the roots of the
// maximal subtrees outside the range, in left-to-right order, exactly as
// Celestia's nmt builds them. It fails unless 0 ≤ start < end ≤ Size(). Its
// cost is O(log n) regardless of the range once the tree is built.
func (t *Tree) ProveRange(start, end int) (Proof, error) {
	if start < 0 || end > t.n || start >= end {
		return Proof{}, fmt.Errorf("%w: [%d, %d) in a tree of %d leaves", ErrInvalidRange, start, end, t.n)
	}
	t.build()
	return Proof{
		start:     start,
		end:       end,
		nodes:     t.rangeNodes(start, end),
		ignoreMax: t.ignoreMax,
	}, nil
}

// rangeNodes lists the maximal aligned subtrees of [0, P) outside
// [start, end) that hold at least one leaf, in order, where P is the
// smallest power of two ≥ n. These are the nodes Celestia's recursive prover
// emits.
func (t *Tree) rangeNodes(start, end int) []byte {
	nodes := make([]byte, 0, 2*(t.height+1)*NodeSize)
	// Left of the range: the binary decomposition of [0, start), largest
	// block first.
	pos := 0
	for h := bits.Len(uint(start)) - 1; h >= 0; h-- {
		if start>>h&1 == 1 {
			nodes = append(nodes, t.node(h, pos>>h)...)
			pos += 1 << h
		}
	}
	// Right of the range: from end, the largest aligned block starting at
	// the cursor, until the cursor passes the last leaf. P is a power of
	// two above the cursor, so such a block always fits inside [0, P).
	for pos = end; pos < t.n; {
		h := bits.TrailingZeros(uint(pos))
		nodes = append(nodes, t.node(h, pos>>h)...)
		pos += 1 << h
	}
	return nodes
}

// ProveNamespace returns the namespace proof for ns:
//   - the empty proof (start = end = 0, no nodes) if the tree is empty or ns
//     lies outside [min, max] of the root. With IgnoreMaxNamespace this
//     includes the parity namespace in a tree that also has other leaves;
//   - a range proof over exactly the leaves of ns if there are any;
//   - otherwise an absence proof: the range [i, i+1) of the first leaf whose
//     namespace is greater than ns, carrying that leaf's node.
func (t *Tree) ProveNamespace(ns []byte) (Proof, error) {
	if len(ns) != NamespaceSize {
		return Proof{}, fmt.Errorf("%w: %d bytes", ErrInvalidNamespace, len(ns))
	}
	if t.n == 0 {
		return Proof{ignoreMax: t.ignoreMax}, nil
	}
	t.build()
	root := t.rootNode()
	if bytes.Compare(ns, root[:NamespaceSize]) < 0 || bytes.Compare(ns, root[NamespaceSize:digestOff]) > 0 {
		return Proof{ignoreMax: t.ignoreMax}, nil
	}
	lo, hi := t.namespaceRange(ns)
	if lo < hi {
		return t.ProveRange(lo, hi)
	}
	if lo >= t.n {
		// Unreachable: the root's max is some leaf's namespace and is > ns.
		return Proof{}, fmt.Errorf("%w: no leaf after namespace %s", ErrInvalidRange, nsHex(ns))
	}
	p, err := t.ProveRange(lo, lo+1)
	if err != nil {
		return Proof{}, err
	}
	p.leafHash = bytes.Clone(t.node(0, lo))
	return p, nil
}

// namespaceRange returns [lo, hi), the leaves whose namespace is ns; lo is
// the first leaf with a namespace ≥ ns.
func (t *Tree) namespaceRange(ns []byte) (lo, hi int) {
	leafNs := func(i int) []byte { return t.leaves[i*NodeSize : i*NodeSize+NamespaceSize] }
	lo = sort.Search(t.n, func(i int) bool { return bytes.Compare(leafNs(i), ns) >= 0 })
	hi = lo + sort.Search(t.n-lo, func(i int) bool { return bytes.Compare(leafNs(lo+i), ns) > 0 })
	return lo, hi
}
