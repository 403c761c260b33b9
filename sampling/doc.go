// Package sampling is the pure core of data availability sampling:
// identifiers of samples (celestia-node's shwap IDs), the confidence that
// sampling gives, and the choice of coordinates from a caller-supplied
// source of randomness.
//
// Sampling math: an extended square of width 2k is unrecoverable only if
// at least (k+1)² of its 4k² cells are withheld. A uniformly random cell is
// then missing with probability p ≥ (k+1)²/(4k²) > 1/4, so s independent
// samples all succeed with probability at most (1 − p)^s < (3/4)^s.
//
// The package does no I/O, reads no clock and uses no global randomness.
// Every parser accepts untrusted bytes and returns errors wrapping
// ErrInvalidID; none panics.
package sampling
