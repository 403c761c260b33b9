// Package erasure builds Celestia-compatible extended data squares and
// commits to them.
//
// # What it computes
//
// A block's original data square (ODS) is k×k shares of ShareSize bytes,
// k a power of two up to MaxODSWidth. Extend turns it into the 2k×2k
// extended data square (EDS) exactly as rsmt2d v0.15.2 does with
// celestia-app's codec (docs FORMAT.md §7):
//
//   - Q0 (rows and columns < k) is the ODS;
//   - Q1: each Q0 row is encoded; Q2: each Q0 column is encoded;
//     Q3: each Q2 row is encoded (which equals encoding each Q1 column);
//   - the code is klauspost/reedsolomon New(k, k, WithLeopardGF(true)):
//     Leopard over GF(2^8) while 2k ≤ 256 and GF(2^16) above. For k = 1
//     the parity is a copy, so all four cells are equal.
//
// ComputeDAH computes the 2k row roots and 2k column roots (the data
// availability header): each axis is a Celestia NMT with IgnoreMaxNamespace
// whose leaves are the axis's shares, each prefixed with its own namespace
// (first NamespaceSize bytes) in Q0 and with the parity namespace (29×0xff)
// elsewhere. DAH.Hash is the data root, the RFC-6962 root over the row roots
// followed by the column roots (FORMAT.md §8).
//
// # Guarantees
//
//   - Byte compatibility: the squares, roots and data roots equal those of
//     Celestia's reference code on testdata/vectors/eds.json and
//     eds_large.json (k = 1…256, both Leopard fields).
//   - Determinism: results do not depend on Params.Workers; the parallel
//     paths are tested against a serial run and a naive reference.
//   - No panics on input: every exported function validates its arguments
//     and returns an error wrapping one of the package's sentinels
//     (ErrInvalidParams, ErrInvalidWidth, ErrInvalidShare, ErrInvalidDAH,
//     ErrCodec). Accessors given out-of-range coordinates return nil.
//   - Purity: no I/O, logging, clock, randomness or package-level mutable
//     state. Goroutines started by a call (at most Params.Workers) end
//     before it returns. Codec state and scratch buffers live in the
//     Extender and LeopardCodec values.
//
// # What it does not do
//
//   - It does not validate share contents: namespaces need not be valid
//     Celestia namespaces and share versions are not checked. Only the
//     order matters: ComputeDAH fails if Q0 namespaces decrease along a
//     row or a column, as the NMT rejects such pushes.
//   - Extension is not verification. A square received from elsewhere is
//     trusted only after its DAH has been recomputed and compared with a
//     header.
//   - Repair from a partial square, bad-encoding fraud proofs and a storage
//     form are not implemented yet. The Codec interface and the typed
//     errors are the intended extension points.
//
// # Samples and root proofs
//
// A Sample proves one share of the EDS to a light node that knows only the
// data root: the share, its single-leaf NMT proof in its row (or column)
// tree, that axis root, and the RFC-6962 proof of the axis root in the
// data root. Extender.ProveSample builds one, MarshalBinary and
// ParseSample give it a fixed-size encoding (SampleSize), and VerifySample
// checks it against (data root, width, row, col). DAH.ProveRoot and
// VerifyRoot do the same for a single row or column root.
//
// # Untrusted inputs
//
// The ODS given to Extend/ExtendFlat, the roots given to NewDAH, and
// every Sample, encoding, root and proof given to ParseSample, NewSample,
// VerifySample and VerifyRoot may come from the network; the data root,
// width and coordinates given to the Verify functions are the caller's
// trusted expectations. Sizes and shapes are checked before any work
// proportional to them: an encoding must have exactly SampleSize(width)
// bytes, an NMT proof exactly log2(width) nodes, a root proof exactly
// log2(2·width) aunts, and a square allocates 4× its ODS. Verification
// never panics and reports every failure as an error wrapping
// ErrInvalidProof or ErrWrongCoordinate. Within a sample every encoded byte
// is either hashed into the data root or checked against the expected
// coordinates, so a single-byte change fails verification. The only
// exception is the axis byte of a diagonal sample of a square equal to its
// own transpose (every k = 1 square is): there row i and column i are the
// same tree with the same data-root path, so the sample verifies along
// either axis, still proving the same share at the same coordinates.
//
// # Memory and speed
//
// An ExtendedSquare is one contiguous row-major buffer of
// 2k·2k·ShareSize bytes (512 MiB at k = 512); the codec writes parity
// straight into it. Extender.ExtendInto reuses a square's buffer for the
// next block, which avoids faulting in fresh memory for every block.
// ComputeDAH keeps one NMT per worker and reuses it for every axis, so it
// allocates nothing per leaf.
package erasure
