package blob

import "errors"

// Sentinel errors. Every error this package returns wraps one of them or a
// share sentinel.
var (
	ErrInvalidBlobJSON    = errors.New("blob: invalid blob JSON")
	ErrCommitmentMismatch = errors.New("blob: commitment mismatch")
	ErrInvalidProof       = errors.New("blob: invalid proof")
	ErrInvalidPFB         = errors.New("blob: invalid pay-for-blobs record")
)
