// Package blob holds blobs with their share commitments, the blob JSON that
// celestia-node serves, and Tessera's pay-for-blobs record.
//
// Guarantees: a Blob that exists is valid and carries the commitment of its
// own content; commitments are byte-identical to go-square v4's
// inclusion.CreateCommitment with threshold 64 (checked against
// testdata/vectors/blob_shares.json). ComputeCommitment may use several
// goroutines; all of them end before it returns.
//
// Untrusted input: Blob.UnmarshalJSON and UnmarshalPayForBlobs accept any
// bytes and return errors wrapping this package's sentinels (or share's);
// they never panic and allocate at most in proportion to their input.
//
// Proofs (celestia-node's shapes, built from an erasure.ExtendedSquare and
// its DAH): NamespaceData/RowNamespaceData (share.GetNamespaceData, shwap
// RowNamespaceData, verified against the DAH with completeness across
// rows), Proof (blob.Proof: one NMT range proof per row a blob spans,
// verified with the blob's shares) and CommitmentProof
// (blob.GetCommitmentProof, verified against the data root alone). Their
// decoders (UnmarshalJSON, ParseRowNamespaceData) and Verify methods take
// untrusted input with the same guarantees; every verification failure
// wraps ErrInvalidProof. Provers that take a DAH check the rows they use
// against it; provers may use several goroutines, all ended before they
// return.
//
// The package does no I/O and keeps no state.
package blob
