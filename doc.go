// Package tessera is a data-availability node: a blob store built on 2D
// Reed-Solomon extended squares with namespaced Merkle trees, byte-compatible
// with Celestia, and a light node that checks by sampling that every block's
// data is published.
//
// The pure core lives in share, nmt, erasure, blob and sampling; everything
// with I/O lives in node; the tessera command is in cmd/tessera. See
// docs/ARCHITECTURE.md.
package tessera
