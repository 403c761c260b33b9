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
// The package does no I/O and keeps no state.
package blob
