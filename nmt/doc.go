// Package nmt implements Celestia's namespaced Merkle tree (NMT), byte for
// byte as celestiaorg/nmt v0.24 with celestia-app's settings: SHA-256,
// 29-byte namespaces and IgnoreMaxNamespace on. It uses only the standard
// library, does no I/O and keeps no mutable global state.
//
// # Tree
//
// A node is NodeSize (90) bytes: minNs ‖ maxNs ‖ SHA-256 digest.
//
//   - Leaf: a pushed leaf L starts with its namespace ns; its node is
//     ns ‖ ns ‖ H(0x00 ‖ L). Celestia pushes ns ‖ share, so a share's own
//     namespace is hashed twice.
//   - Inner: minNs ‖ maxNs ‖ H(0x01 ‖ left ‖ right) with min = left.min and
//     max = right.max, except that a right child whose min is the parity
//     namespace (29×0xff) leaves max = left.max (IgnoreMaxNamespace).
//     Children whose ranges overlap the wrong way (right.min < left.max) are
//     an error.
//   - Shape: n leaves split at the largest power of two below n. The empty
//     tree's root is 58 zero bytes ‖ H("") (EmptyRoot).
//
// # Computing roots fast (the erasure package)
//
// Give every worker one Tree and reuse it; in steady state it allocates
// nothing:
//
//	t := nmt.New(nmt.SizeHint(2 * k))          // once per worker
//	roots := make([]byte, 0, 4*k*nmt.NodeSize) // all 4k roots, contiguous
//	for each row or column a:
//		t.Reset()
//		for i, share := range axis(a) {        // 2k shares of 512 bytes
//			ns := parity                        // 29×0xff
//			if a < k && i < k {
//				ns = share[:nmt.NamespaceSize]  // Q0: the share's own namespace
//			}
//			if err := t.PushNamespaced(ns, share); err != nil { ... }
//		}
//		roots = t.AppendRoot(roots)
//
// PushNamespaced hashes 0x00 ‖ ns ‖ share without building the
// concatenation, AppendRoot writes into the caller's buffer, and the tree's
// node buffers are kept across Reset. The cost is the hashing itself: one
// 542-byte and one 181-byte SHA-256 message per leaf. A Tree kept per row
// (instead of Reset) also serves proofs for that row in O(log n).
// ComputeRoot is a one-shot alternative for leaves already concatenated; it
// keeps no nodes and uses O(log n) memory.
//
// A leaf hashed once can feed several trees: AppendLeafNode copies leaf i's
// node out of a tree without allocating, and PushLeafNode adds a leaf by
// its node (checked to be NodeSize bytes with min = max namespace, and in
// order; its digest is the caller's word). In an extended data square the
// leaf of cell (r, c) is the same in row tree r and column tree c, so the
// erasure package builds the column trees from the row trees' leaf nodes:
// about 60·k² SHA-256 blocks per square instead of 96·k².
//
// # Proofs
//
// A Proof is {start, end, nodes, leaf_hash, is_max_namespace_ignored}, with
// the nodes of the maximal subtrees outside [start, end) in left-to-right
// order, encoded as nmt's protobuf pb.Proof (MarshalBinary, ParseProof).
// Tree.ProveRange and Tree.Prove give range proofs; Tree.ProveNamespace
// gives the presence, absence or empty proof of a namespace. All take
// O(log n) once the tree's root is computed. Tree.SubtreeRoot returns the
// kept root of an aligned power-of-two range in O(1): the subtree roots of
// a blob's share commitment (see ToLeafRanges).
//
// The verifier does not know the tree's size: it rebuilds the subtree
// [0, P) with P the smallest power of two ≥ end, taking a proof node for each
// subtree outside the range and using a left child alone when the nodes run
// out, then folds the remaining nodes in as right siblings.
//
// # Untrusted input
//
// Everything a Verify method or ParseProof receives is untrusted: proofs,
// roots, namespaces and leaves. They never panic, their work and memory are
// bounded by the size of their input (the leaves given must number exactly
// End() − Start(); a proof holds at most MaxProofNodes nodes; indices are at
// most MaxLeaves; an encoding is at most MaxEncodedProofSize bytes), and
// every failure is an error wrapping ErrInvalidProof plus, where one
// applies, ErrRootMismatch, ErrIncompleteProof, ErrInvalidRange,
// ErrOutOfOrder, ErrInvalidNodeSize, ErrInvalidNode, ErrInvalidNamespace or
// ErrInvalidLeaf. A Proof is valid by construction (NewProof, ParseProof).
//
// # What a verified proof does and does not mean
//
//   - VerifyInclusion: the given leaves are in the tree, in this order and
//     adjacent. It says nothing about other leaves of their namespace.
//   - VerifyNamespace: the given leaves are all the leaves of the namespace
//     (completeness: every node left of the range has max < ns, every node
//     right of it has min > ns), or, for absence and empty proofs, that there
//     are none. One exception follows from IgnoreMaxNamespace: in a tree that
//     mixes other leaves with parity leaves, the root's max excludes the
//     parity namespace, so an empty proof "proves" the parity namespace
//     absent. Celestia behaves the same way.
//   - A proof does not bind the tree's size. In a tree whose size is not a
//     power of two a subtree node can stand in for a leaf position, so the
//     same leaves can verify at a different Start(). Celestia's EDS axes are
//     powers of two; callers that know the width should also check Start()
//     and End() against it (a sampler asking for cell i checks Start() == i).
//   - The proof's IgnoreMaxNamespace flag is used for hashing, as in
//     Celestia. Flipping it gains an attacker nothing: a proof that verifies
//     has rebuilt exactly the nodes under the root either way.
//   - Tree.ProveRange and Proof.VerifySubtreeRoots with ToLeafRanges also
//     cover Celestia's blob commitment proofs (subtree roots of a blob
//     proven against a row root).
//
// VerifyInclusion rejects an empty range rather than accepting it, unlike
// Celestia's VerifyInclusion, which accepts an empty proof with no leaves
// against any root; VerifyNamespace accepts empty proofs exactly where
// Celestia does.
package nmt
