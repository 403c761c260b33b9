// Package share holds Celestia's namespaces, 512-byte shares, the splitting
// of blobs (sparse shares) and transactions (compact shares) into shares and
// their parsing back, padding shares, the blob layout rules, and square
// construction compatible with go-square v4.
//
// Guarantees: a Namespace, Share or Blob value that exists is well formed
// (validating constructors; unexported fields). Splitting is byte-identical
// to go-square v4 (checked against the reference vectors in
// testdata/vectors by node/conformance).
//
// Untrusted input: NewShare, SharesFromBytes, ParseBlobs, ParseBlob,
// ParseTxs and the square and blob-transaction parsers accept arbitrary
// bytes and return an error wrapping one of this package's sentinels; they
// never panic and never allocate more than a bounded multiple of their input.
//
// The package does no I/O and keeps no mutable state.
package share
