package share

import "errors"

// Sentinel errors. Every error this package returns wraps one of them.
var (
	ErrInvalidNamespace     = errors.New("share: invalid namespace")
	ErrInvalidBlobNamespace = errors.New("share: namespace not allowed for blobs")
	ErrInvalidShare         = errors.New("share: invalid share")
	ErrUnsupportedVersion   = errors.New("share: unsupported share version")
	ErrInvalidBlob          = errors.New("share: invalid blob")
	ErrInvalidSequence      = errors.New("share: invalid share sequence")
	ErrInvalidTx            = errors.New("share: invalid transaction encoding")
	ErrSquareTooLarge       = errors.New("share: data does not fit in the square")
	ErrInvalidSquare        = errors.New("share: invalid square")
)
