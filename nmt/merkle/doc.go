// Package merkle implements the RFC-6962 binary Merkle tree that cometbft's
// crypto/merkle uses and Celestia builds on: the data root over a square's
// row and column roots, and blob share commitments over subtree roots.
//
//   - Leaf hash: SHA-256(0x00 ‖ item).
//   - Inner hash: SHA-256(0x01 ‖ left ‖ right).
//   - Empty tree: SHA-256("").
//   - Shape: n items split at the largest power of two below n; nothing is
//     duplicated or padded.
//
// ComputeRoot equals cometbft's merkle.HashFromByteSlices. It streams the
// items, merging complete subtrees as they arrive, so it uses O(log n)
// memory on the stack and allocates only the 32-byte result.
//
// An inclusion Proof {total, index, leaf_hash, aunts} matches cometbft's
// merkle.Proof, aunts bottom-up, and encodes as its protobuf
// tendermint.crypto.Proof {total = 1, index = 2, leaf_hash = 3, aunts = 4}.
//
// # Untrusted input
//
// Proof.Verify and ParseProof take untrusted bytes. They never panic; a
// Proof is valid by construction (index < total, a 32-byte leaf hash, and
// exactly the number of 32-byte aunts the path from index to the root of a
// tree of total leaves needs, at most MaxAunts); an encoding is at most
// MaxEncodedProofSize bytes; verification costs one hash per aunt. Every
// failure wraps ErrInvalidProof, and a root mismatch also wraps
// ErrRootMismatch.
//
// A verified proof means: item is at Index() of a tree of Total() items with
// that root, for the total and index the proof states. The format does not
// bind the total on its own (an aunt that is a leaf hash can stand in for an
// inner node: the proof of item 1 of 2 also verifies as item 2 of 3, in
// cometbft too), so a caller must check Total() and Index() against the
// values it expects, e.g. 4k and the row or column position for a DAH root.
package merkle
