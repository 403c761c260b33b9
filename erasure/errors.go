package erasure

import "errors"

// Sentinel errors. Every error returned by this package wraps one of them
// with %w and adds context; test with errors.Is.
var (
	// ErrInvalidParams reports a Params value that fails Validate.
	ErrInvalidParams = errors.New("erasure: invalid params")
	// ErrInvalidWidth reports a square width that is not a power of two in
	// the supported range.
	ErrInvalidWidth = errors.New("erasure: invalid square width")
	// ErrInvalidShare reports a share of the wrong size or a malformed
	// share list.
	ErrInvalidShare = errors.New("erasure: invalid share")
	// ErrInvalidDAH reports a malformed data availability header.
	ErrInvalidDAH = errors.New("erasure: invalid data availability header")
	// ErrInvalidProof reports a sample or root proof that is malformed or
	// does not verify. The underlying nmt or merkle error is wrapped too.
	ErrInvalidProof = errors.New("erasure: invalid proof")
	// ErrWrongCoordinate reports a row, column, axis or index outside the
	// square, or a proof for other coordinates than the ones asked for.
	ErrWrongCoordinate = errors.New("erasure: wrong coordinate")
	// ErrDAHMismatch reports a square whose roots differ from the DAH it
	// was given with.
	ErrDAHMismatch = errors.New("erasure: square does not match the DAH")
	// ErrCodec reports a failure inside the erasure codec.
	ErrCodec = errors.New("erasure: codec failure")
	// ErrUnrepairable reports that Repair was given too few cells to rebuild
	// the square (or to prove why it cannot be rebuilt).
	ErrUnrepairable = errors.New("erasure: not enough cells to repair the square")
	// ErrByzantineData is wrapped by every *ByzantineError: the square
	// committed to by the DAH is not a valid erasure coding, with evidence.
	ErrByzantineData = errors.New("erasure: byzantine data")
)
