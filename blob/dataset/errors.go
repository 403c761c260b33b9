package dataset

import "errors"

// Sentinel errors. Every error this package returns wraps one of them (a
// page-proof failure may also wrap merkle.ErrInvalidProof).
var (
	// ErrInvalidNamespace: a kind or scope that gives no usable namespace.
	ErrInvalidNamespace = errors.New("dataset: invalid namespace")
	// ErrInvalidManifest: a manifest that is malformed, exceeds a limit or
	// whose encoding is not canonical.
	ErrInvalidManifest = errors.New("dataset: invalid manifest")
	// ErrInvalidSignature: a manifest whose publisher signature is missing or
	// does not verify.
	ErrInvalidSignature = errors.New("dataset: invalid manifest signature")
	// ErrInvalidPage: page bytes, a page entry or its proof that do not match
	// the manifest root.
	ErrInvalidPage = errors.New("dataset: invalid page")
	// ErrInvalidParams: split or assignment parameters out of range.
	ErrInvalidParams = errors.New("dataset: invalid parameters")
)
