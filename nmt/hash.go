package nmt

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
)

// Sizes and limits.
const (
	// NamespaceSize is the size of a namespace (Celestia: version byte
	// followed by a 28-byte ID).
	NamespaceSize = 29 // bytes
	// HashSize is the size of the SHA-256 digest in a node.
	HashSize = sha256.Size // 32 bytes
	// NodeSize is the size of a node: minNs ‖ maxNs ‖ digest.
	NodeSize = 2*NamespaceSize + HashSize // 90 bytes
	// MaxLeaves bounds the number of leaves in a tree and the start and end
	// of a proof. It keeps every index representable in 32 bits.
	MaxLeaves = 1<<31 - 1 // leaves
	// MaxProofNodes bounds the nodes in a proof. A proof for a tree of at
	// most MaxLeaves leaves needs at most 62.
	MaxProofNodes = 128 // nodes
)

const (
	leafPrefix = 0x00
	nodePrefix = 0x01
	// digestOff is the offset of the digest inside a node.
	digestOff = 2 * NamespaceSize
	// innerInputSize is the size of the message hashed for an inner node.
	innerInputSize = 1 + 2*NodeSize // 181 bytes
)

// parityNamespace is 29×0xff, the namespace Celestia gives erasure-coded
// (parity) shares. A constant string, so it cannot be mutated.
const parityNamespace = "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"

// emptyDigest is SHA-256("").
const emptyDigest = "\xe3\xb0\xc4\x42\x98\xfc\x1c\x14\x9a\xfb\xf4\xc8\x99\x6f\xb9\x24\x27\xae\x41\xe4\x64\x9b\x93\x4c\xa4\x95\x99\x1b\x78\x52\xb8\x55"

// EmptyRoot returns the root of a tree with no leaves: 58 zero bytes followed
// by SHA-256(""). The result is a fresh slice.
func EmptyRoot() []byte {
	r := make([]byte, NodeSize)
	copy(r[digestOff:], emptyDigest)
	return r
}

func isEmptyRoot(node []byte) bool {
	if len(node) != NodeSize {
		return false
	}
	for _, c := range node[:digestOff] {
		if c != 0 {
			return false
		}
	}
	return string(node[digestOff:]) == emptyDigest
}

// MinNamespace returns the minimum namespace of node, aliasing node, or nil
// if node is not NodeSize bytes long.
func MinNamespace(node []byte) []byte {
	if len(node) != NodeSize {
		return nil
	}
	return node[:NamespaceSize:NamespaceSize]
}

// MaxNamespace returns the maximum namespace of node, aliasing node, or nil
// if node is not NodeSize bytes long.
func MaxNamespace(node []byte) []byte {
	if len(node) != NodeSize {
		return nil
	}
	return node[NamespaceSize:digestOff:digestOff]
}

// ValidateNode checks that node is NodeSize bytes long and that its minimum
// namespace does not exceed its maximum. It does not (and cannot) check the
// digest.
func ValidateNode(node []byte) error {
	if len(node) != NodeSize {
		return fmt.Errorf("%w: %d bytes, want %d", ErrInvalidNodeSize, len(node), NodeSize)
	}
	if bytes.Compare(node[:NamespaceSize], node[NamespaceSize:digestOff]) > 0 {
		return fmt.Errorf("%w: min namespace %s > max namespace %s", ErrInvalidNode, nsHex(node[:NamespaceSize]), nsHex(node[NamespaceSize:digestOff]))
	}
	return nil
}

// ComputeLeafNode returns the node of a pushed leaf: ns ‖ ns ‖
// SHA-256(0x00 ‖ leaf), where ns is the first NamespaceSize bytes of leaf.
func ComputeLeafNode(leaf []byte) ([]byte, error) {
	if len(leaf) < NamespaceSize {
		return nil, fmt.Errorf("%w: %d bytes, shorter than a namespace", ErrInvalidLeaf, len(leaf))
	}
	node := make([]byte, NodeSize)
	var h leafHasher
	h.hash(node, leaf[:NamespaceSize], leaf[NamespaceSize:])
	return node, nil
}

// ComputeNamespacedLeafNode returns the node of the leaf ns ‖ data without
// building that concatenation.
func ComputeNamespacedLeafNode(ns, data []byte) ([]byte, error) {
	if len(ns) != NamespaceSize {
		return nil, fmt.Errorf("%w: %d bytes", ErrInvalidNamespace, len(ns))
	}
	node := make([]byte, NodeSize)
	var h leafHasher
	h.hash(node, ns, data)
	return node, nil
}

// ComputeInnerNode returns the parent of two nodes. With ignoreMaxNamespace
// (Celestia's setting) a right child whose minimum namespace is the parity
// namespace does not raise the parent's maximum. It fails if either child is
// not a valid node or if right's minimum namespace is below left's maximum.
func ComputeInnerNode(left, right []byte, ignoreMaxNamespace bool) ([]byte, error) {
	if err := ValidateNode(left); err != nil {
		return nil, fmt.Errorf("left child: %w", err)
	}
	if err := ValidateNode(right); err != nil {
		return nil, fmt.Errorf("right child: %w", err)
	}
	if err := checkChildOrder(left, right); err != nil {
		return nil, err
	}
	node := make([]byte, NodeSize)
	var buf [innerInputSize]byte
	hashInner(node, &buf, left, right, ignoreMaxNamespace)
	return node, nil
}

// nsHex formats a namespace for an error message without letting the slice
// escape, so that hot paths can keep their nodes on the stack.
func nsHex(ns []byte) string { return hex.EncodeToString(ns) }

func checkChildOrder(left, right []byte) error {
	if bytes.Compare(right[:NamespaceSize], left[NamespaceSize:digestOff]) < 0 {
		return fmt.Errorf("%w: right child min %s < left child max %s", ErrOutOfOrder, nsHex(right[:NamespaceSize]), nsHex(left[NamespaceSize:digestOff]))
	}
	return nil
}

// hashInner writes the parent of l and r (NodeSize bytes each, already
// checked) into dst[:NodeSize]. buf is scratch space for the hash input.
func hashInner(dst []byte, buf *[innerInputSize]byte, l, r []byte, ignoreMax bool) {
	buf[0] = nodePrefix
	copy(buf[1:1+NodeSize], l)
	copy(buf[1+NodeSize:], r)
	sum := sha256.Sum256(buf[:])
	dst = dst[:NodeSize]
	copy(dst[:NamespaceSize], l[:NamespaceSize])
	if ignoreMax && string(r[:NamespaceSize]) == parityNamespace {
		copy(dst[NamespaceSize:digestOff], l[NamespaceSize:digestOff])
	} else {
		copy(dst[NamespaceSize:digestOff], r[NamespaceSize:digestOff])
	}
	copy(dst[digestOff:], sum[:])
}

// leafHasher hashes leaves given as namespace and data without concatenating
// them. Its zero value is ready; it allocates its digest once.
type leafHasher struct {
	d      hash.Hash
	prefix [1]byte
	sum    [HashSize]byte
}

// hash writes ns ‖ ns ‖ SHA-256(0x00 ‖ ns ‖ data) into dst[:NodeSize].
func (h *leafHasher) hash(dst, ns, data []byte) {
	if h.d == nil {
		h.d = sha256.New()
	}
	h.d.Reset()
	h.prefix[0] = leafPrefix
	h.d.Write(h.prefix[:])
	h.d.Write(ns)
	h.d.Write(data)
	h.d.Sum(h.sum[:0])
	dst = dst[:NodeSize]
	copy(dst[:NamespaceSize], ns)
	copy(dst[NamespaceSize:digestOff], ns)
	copy(dst[digestOff:], h.sum[:])
}
