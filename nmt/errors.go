package nmt

import "errors"

// Sentinel errors. Every error returned by this package wraps one of them
// (use errors.Is). Every verification failure wraps ErrInvalidProof, and
// also the more specific sentinel that names the cause where one applies.
var (
	// ErrInvalidProof is wrapped by every verification failure and by every
	// rejected proof encoding.
	ErrInvalidProof = errors.New("nmt: invalid proof")
	// ErrRootMismatch means a proof is well formed but rebuilds a root other
	// than the one given.
	ErrRootMismatch = errors.New("nmt: computed root does not match")
	// ErrIncompleteProof means a namespace proof does not prove that it
	// covers every leaf of the namespace (the completeness check failed).
	ErrIncompleteProof = errors.New("nmt: namespace proof is not complete")
	// ErrInvalidRange means a leaf range is empty, negative, reversed, larger
	// than the tree, or does not match the number of leaves supplied.
	ErrInvalidRange = errors.New("nmt: invalid range")
	// ErrOutOfOrder means leaves or child nodes are not in non-decreasing
	// namespace order.
	ErrOutOfOrder = errors.New("nmt: namespaces out of order")
	// ErrInvalidNodeSize means a node is not NodeSize bytes long.
	ErrInvalidNodeSize = errors.New("nmt: invalid node size")
	// ErrInvalidNode means a node's minimum namespace exceeds its maximum.
	ErrInvalidNode = errors.New("nmt: invalid node namespace range")
	// ErrInvalidNamespace means a namespace is not NamespaceSize bytes long.
	ErrInvalidNamespace = errors.New("nmt: invalid namespace size")
	// ErrInvalidLeaf means a leaf is shorter than its namespace, or does not
	// carry the namespace it is verified under.
	ErrInvalidLeaf = errors.New("nmt: invalid leaf")
	// ErrTreeFull means a push would exceed MaxLeaves.
	ErrTreeFull = errors.New("nmt: tree is full")
)
