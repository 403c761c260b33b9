package sampling

import "errors"

// Sentinel errors.
var (
	ErrInvalidID     = errors.New("sampling: invalid identifier")
	ErrInvalidParams = errors.New("sampling: invalid parameters")
)
