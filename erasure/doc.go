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
//     ErrInvalidProof, ErrWrongCoordinate, ErrDAHMismatch, ErrCodec,
//     ErrUnrepairable, ErrByzantineData). Accessors given out-of-range
//     coordinates return nil.
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
//   - It does no I/O: the storage form is bytes (ODSBytes), and fraud
//     proofs are values with an encoding; storing and gossiping them is
//     the caller's.
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
// Extender.ProveSample rebuilds the axis tree for every proof (O(width)
// hashes: about 180 µs at k = 128). A node serving many samples from one
// square builds a Prover once (Extender.NewProver: all row trees, about
// 20 ms and 12.4 MiB at k = 128, 0.39× the square; column trees are built on
// first use from the row trees' leaf nodes, without hashing a share again,
// another 0.39×) and then proves a sample in O(log width): 0.8 µs at
// k = 128 (BenchmarkSampleProof).
//
// # Repair
//
// Extender.Repair (and RepairInto) rebuilds the whole square from any
// subset of its cells and the DAH, as rsmt2d's Repair does: it alternates
// row and column phases, decoding every axis with at least k cells (the
// Codec's ReconstructData, then re-encoding the parity half) and checking
// the rebuilt axis against its root; an axis completed by the other
// orientation's decodes, or given whole, is checked against its root and
// for being a codeword in the next phase. A square is returned only when
// all 4k axes are complete, match their roots and are codewords, so it has
// exactly the DAH it was repaired against. The outcome does not depend on
// Params.Workers. Given cells are untrusted: a wrong cell never reaches
// the result.
//
// Failures: ErrUnrepairable when too few cells are present (also wrapping
// ErrDAHMismatch when some axis had enough cells but contradicted its root
// and the contradiction could not be proven with the cells given), or a
// *ByzantineError when bad encoding is proven.
//
// # Bad-encoding fraud proofs
//
// When an axis (Axis, Index) does not rebuild to its root, Repair looks for
// k of its cells that lie on orthogonal axes it knows completely and whose
// roots match the DAH (so each cell can be proven against the orthogonal
// root, as in celestia-node), such that decoding exactly those k cells,
// re-encoding and rebuilding the axis's NMT gives a root other than the
// DAH's (first the first k such cells; failing that, k−1 of them with one
// that disagrees with the committed axis). It returns them, with their NMT
// proofs, as a *ByzantineError; NewBadEncodingProof turns it into a
// BadEncodingProof. If no such k cells exist yet, the axis waits for more
// cells; from some minimal subsets (e.g. exactly the parity quadrant that
// holds the bad cells, or the ODS quadrant when bad cells sit in both Q1
// and Q2) fraud cannot be proven and Repair reports ErrUnrepairable with
// ErrDAHMismatch: more cells settle it.
//
// BadEncodingProof.Verify(dah) confirms fraud only when it is real: the
// data root and width match, every share's proof verifies against the
// DAH's orthogonal root at position Index (own namespace in Q0, parity
// namespace elsewhere), and the at least k shares decode (Leopard),
// re-encode and rebuild with the Celestia wrapper rule to a root other than
// the DAH's for (Axis, Index), or to an axis no NMT can commit to (Q0
// namespaces decreasing). If the DAH commits to a valid square, the proven
// shares are cells of it and decode to its axis, so Verify fails.
// Differences from celestia-node's BadEncoding (FORMAT.md §11): a compact
// versioned binary encoding instead of protobuf (see AppendBinary: header,
// data root, presence bitmap, then each share with its log2(2k) proof
// nodes; canonical); the data root names the block, so there is no height
// or header hash to forge; Repair's proofs carry exactly k shares (about
// 158 KB at k = 128, 723 KB at k = 512; MaxBadEncodingProofSize(k) bounds
// any proof with all 2k, 1.4 MB at k = 512); and a decoding failure is an
// error, not fraud (it cannot happen with k shares and Leopard).
// Every single-byte change of a valid encoded proof is rejected
// (TestBEFPEveryMutation: all 255 values of every byte at k = 1, every bit
// flip at k = 4; none still verifies, not even as the same fraud). Verify
// costs 0.12 ms at k = 32 and 0.56 ms at k = 128 with a long-lived
// Extender's codec (Extender.VerifyBadEncodingProof); Verify alone also
// allocates the Leopard decoder's work space (2k·32 KiB while k ≤ 128).
//
// # Storage form
//
// A square is stored as its ODS alone (ODSBytes, k²·ShareSize bytes, a
// quarter of the EDS) and reloaded with Extender.Restore, which extends
// it, recomputes the DAH and checks it against the data root from a
// verified header (so bytes read back from disk are trusted only if they
// are the ones committed to). Storing the EDS would cost 4× the space and
// still need that check to be trusted; storing inner NMT nodes would cost
// more space again for a saving only sample-serving needs (see Prover). The
// recomputation (BenchmarkRestore, 2 cores, reused Extender and square;
// wall time on a shared machine, CPU time per block in brackets):
//
//	k = 32:    2.3 ms (4.0 ms CPU)  for   512 KiB of ODS
//	k = 128:    33 ms (64 ms CPU)   for     8 MiB
//	k = 512:   536 ms (1.06 s CPU)  for   128 MiB
//
// That is about 4 MB/ms of ODS per core, the cost of producing the block in
// the first place; a node restores a square only to serve it.
//
// # Untrusted inputs
//
// The ODS given to Extend/ExtendFlat/Restore, the roots given to NewDAH,
// the cells given to Repair, every Sample, encoding, root and proof given
// to ParseSample, NewSample, VerifySample and VerifyRoot, and every
// BadEncodingProof and encoding given to ParseBadEncodingProof and Verify
// may come from the network or disk; the data root, DAH, width and
// coordinates given to the Verify functions and Repair are the caller's
// trusted expectations. A bad-encoding proof's length is checked against
// MaxBadEncodingProofSize before anything is read and against the exact
// size its header implies before anything is allocated. Sizes and shapes are checked before any work
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
// allocates nothing per leaf. The leaf node of cell (r, c) is the same in
// row tree r and column tree c, so each cell is hashed once: row trees are
// built from the shares, column trees from the row trees' leaf nodes
// (nmt.Tree.PushLeafNode), kept in between as 32-byte digests plus the Q0
// namespaces (7.7 % of the square, kept by the Extender). That is about
// 60·k² SHA-256 blocks per square instead of 96·k², about 1.3× faster
// (BenchmarkPerAxisDataRoot keeps the per-axis path for comparison;
// TestComputeDAHSharedLeavesDifferential checks both agree).
//
// Peak heap while computing a k = 512 data root (BenchmarkPeakHeapDataRoot,
// runtime.ReadMemStats sampled every millisecond): 757 MiB, 1.48× the
// 512 MiB square, of which the input ODS is 0.25× and reedsolomon's
// process-wide GF(2^16) tables 0.15×; the square itself, the leaf digests
// and scratch make the rest. Leopard's per-call slices leave about 7 MB of
// garbage per block at k = 512.
package erasure
