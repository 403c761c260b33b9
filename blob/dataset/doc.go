// Package dataset is the pure core of Tessera's large objects, datasets and
// training assignments (issue 6): the namespace scheme for training data,
// the page arithmetic, the signed page manifest with its Merkle proofs, and
// the public-randomness shuffle that assigns pages to workers.
//
// # Namespaces
//
// Namespace(kind, scopeID) is the version-0 namespace whose 10-byte sub-ID
// is kind ‖ SHA-256(scopeID)[:9]. The kinds are DatasetPages (0x10),
// DatasetManifest (0x11), RunControl (0x20), TrainingProofs (0x22),
// CheckpointChunks (0x30) and CheckpointManifest (0x31). The scope is a
// dataset, run or checkpoint ID, so one dataset's pages share a namespace a
// node can pin or follow. A namespace is a routing hint, not an identity.
//
// # Manifests
//
// A Manifest lists one PageEntry per page (index, height, namespace, share
// commitment, length, SHA-256 of the bytes) plus the object length, page
// size, media type, dataset fields and the publisher's ed25519 key and
// signature. Its encoding (MarshalBinary) is canonical and versioned; its ID
// is SHA-256 of the encoding without the signature; the publisher signs
// "tessera/dataset/manifest/v1\x00" ‖ ID. Its PageRoot is the RFC-6962
// Merkle root (nmt/merkle) over the entries' encodings, with the page count.
// ProvePage and VerifyPage prove and check one page against that root.
// MarshalJSON and UnmarshalJSON give the same manifest as JSON (hex bytes,
// decimal-string integers); the ID and signature are always over the binary
// encoding.
//
// Guarantees: a manifest that ParseManifest returns is valid (Validate) and
// canonical: re-encoding gives the input back, so its ID is well defined. A
// manifest that Verify accepts was signed by its PublisherKey; whether that
// key is trusted is the caller's decision. VerifyPage accepts page bytes only
// if their length and SHA-256 match an entry that is at its own index under
// the root, in a tree of the root's page count.
//
// Not checked here: that the page blobs exist at the stated heights with the
// stated commitments (blob commitment proofs, in node), that the manifest
// blob itself was published (ditto), and what the bytes mean.
//
// # Assignment
//
// ComputeSeed(headerHash, runID, step) = SHA-256(headerHash ‖ runID ‖
// BE64(step)). Shuffle is a swap-or-not permutation (ShuffleRounds rounds,
// round r keyed by SHA-256(seed ‖ r)). Assign uses the epoch's seed to order
// the pages, so every page is covered exactly once per epoch, and the step's
// seed to hand each of the step's pages to Replication distinct workers.
// Anyone with the two header hashes recomputes any assignment; nobody knows
// it before those headers exist (up to a block proposer's grinding).
//
// # Untrusted input
//
// ParseManifest, ParsePageEntry, Manifest.UnmarshalJSON, Manifest.Verify
// and VerifyPage accept
// untrusted input. They never panic, check every size against
// MaxManifestSize, MaxPages, MaxParents, MaxHoldout and MaxStringLen before
// allocating, and return errors wrapping ErrInvalidManifest,
// ErrInvalidSignature or ErrInvalidPage that say which check failed.
// Parameters of Pages, Split, Shuffle and Assign are checked and fail with
// ErrInvalidParams.
//
// The package does no I/O, reads no clock, keeps no state and uses no global
// randomness.
package dataset
