// Package dataset is the pure core of Tessera's large objects, datasets,
// training runs and checkpoints: the namespace scheme for training data,
// the page arithmetic, the signed page manifest with its Merkle proofs, the
// public-randomness shuffle that assigns pages to workers, run-control
// records, training-data proofs, checkpoint records and their lineage.
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
// ProvePage and VerifyPage prove and check one page against that root;
// a PageTree, built once per manifest, proves many pages without
// rehashing every entry for each.
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
// the pages that are not held out (Params.Holdout, from the manifest via
// PageRoot.Holdout), so every such page is covered exactly once per epoch
// and a held-out page never, and the step's
// seed to hand each of the step's pages to Replication distinct workers.
// Anyone with the two header hashes recomputes any assignment; nobody knows
// it before those headers exist (up to a block proposer's grinding).
//
// # Runs
//
// A Run (a RunControl record, magic 'TSRN', version 2, scope = its ID)
// names its dataset manifest by ManifestRef (ID, height, namespace,
// commitment: a verifier holding only headers can fetch the manifest blob
// and check its commitment proof), the ordered worker keys, PagesPerStep,
// SeedDelay Δ, Replication and StartHeight. Its ID is SHA-256 of its
// canonical encoding. Step s opens at StartHeight + s·Δ and is seeded by
// the header at StartHeight + (s+1)·Δ; the epoch's page order by the seed
// of its first step. Readers of a RunControl namespace dispatch on each
// record's 4-byte magic (IsRunRecord) and skip records they do not know.
// The caller checks that the run record was published no later than
// StartHeight (before its first seed exists).
//
// # Training-data proofs
//
// A TrainingProof (magic 'TSTP', version 2) is a worker's signed claim
// that at a step it fed exactly its assigned pages: run ID and where the
// run record is (height, commitment), step, worker key, manifest ID,
// height and page root, both seed heights and header hashes, the assigned
// entries with their Merkle paths to the page root, the SHA-256 of the
// bytes fed, a root over per-sample hashes, optional losses and the parent
// checkpoint. The worker signs "tessera/dataset/training-proof/v1\x00" ‖
// ID, ID being SHA-256 of the body. A full proof adds, outside the
// signature, a versioned section with each page blob's commitment proof
// (AttachInclusions, VerifyInclusions). A compact proof is at most about
// 0.5 KB + (118 + 32·⌈log2 pages⌉) bytes per assigned page.
//
// Verify checks a proof against a trusted run, the manifest's page root
// and the seed header hashes; VerifyFed checks fed bytes; VerifyInclusions
// checks commitment proofs against data roots. Every failure is a
// *CheckError naming the failed Check (format, run, manifest, seed,
// worker, signature, assignment, page-entry, fed-bytes, inclusion) and
// wrapping a sentinel (ErrInvalidTrainingProof, ErrWrongAssignment,
// ErrInvalidProofSignature, ErrInvalidPage, ErrPageNotIncluded,
// ErrInvalidRun). Not checked here: that the headers are the chain's, that
// the run record and manifest are published (node/api's train.Verify does
// both), and what the bytes meant to the model.
//
// # Checkpoints
//
// A Checkpoint record ('TSCK') names a run, step, parent checkpoint, the
// object manifest holding its bytes, a format, a tensor index (with its
// RFC-6962 root) and its lineage (data steps consumed, training-proof
// IDs); its ID is SHA-256 of the encoding without the signature, signed by
// the publisher. A Rollback record ('TSRB', RunControl namespace) says a
// run resumes from a checkpoint. ParseSafetensorsHeader builds the tensor
// index of a safetensors file (header ≤ MaxSafetensorsHeader).
// ComputeCheckpointLog turns a run's records into its lineage, flagging
// missing parents and listing rejected records with the reason.
//
// # Record frame
//
// Manifests, runs, training proofs, checkpoints and rollbacks share one
// frame: a 4-byte magic ‖ u8 version, the fields in a fixed order
// (big-endian integers, BE32-length strings, BE32 counts before their
// items), and for signed records the signer's key inside the body and the
// 64-byte signature after it. A signed record's ID is SHA-256 of its body
// and its signer signs a per-kind context ‖ ID, so no signature can be
// replayed as another kind's. One reader decodes every kind: it checks the
// size limit, magic and version first, every length against the bytes
// left before allocating, rejects trailing bytes, then runs the kind's
// Validate.
//
// # Untrusted input
//
// ParseManifest, ParsePageEntry, Manifest.UnmarshalJSON, Manifest.Verify,
// VerifyPage, ParseRun, ParseTrainingProof, TrainingProof.Verify,
// VerifyFed, VerifyInclusions, ParseCheckpoint, Checkpoint.Verify,
// ParseRollback, Rollback.Verify, ParseSafetensorsHeader, VerifyTensor and
// ComputeCheckpointLog accept untrusted input. They never panic, check every size against
// MaxManifestSize, MaxPages, MaxParents, MaxHoldout and MaxStringLen before
// allocating, and return errors wrapping ErrInvalidManifest,
// ErrInvalidSignature or ErrInvalidPage that say which check failed.
// Parameters of Pages, Split, Shuffle and Assign are checked and fail with
// ErrInvalidParams.
//
// The package does no I/O, reads no clock, keeps no state and uses no global
// randomness.
package dataset
