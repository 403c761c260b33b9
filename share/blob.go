package share

import (
	"bytes"
	"fmt"
)

// Blob is data a user writes under a namespace. A Blob that exists is valid:
// non-empty data, a namespace allowed for blobs, share version 0 (no signer),
// 1 (20-byte signer) or 2 (20-byte signer and exactly 36 bytes of data).
// Its byte slices are copies owned by the Blob.
type Blob struct {
	ns           Namespace
	data         []byte
	shareVersion uint8
	signer       []byte
}

// NewBlob validates and builds a blob. data and signer are copied.
func NewBlob(ns Namespace, data []byte, shareVersion uint8, signer []byte) (*Blob, error) {
	if len(data) == 0 {
		return nil, fmt.Errorf("%w: data can not be empty", ErrInvalidBlob)
	}
	if err := ns.ValidateForBlob(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidBlob, err)
	}
	switch shareVersion {
	case ShareVersionZero:
		if len(signer) != 0 {
			return nil, fmt.Errorf("%w: share version 0 blobs carry no signer", ErrInvalidBlob)
		}
	case ShareVersionOne, ShareVersionTwo:
		if len(signer) != SignerSize {
			return nil, fmt.Errorf("%w: signer is %d bytes, want %d", ErrInvalidBlob, len(signer), SignerSize)
		}
		if shareVersion == ShareVersionTwo && len(data) != FibreBlobDataSize {
			return nil, fmt.Errorf("%w: share version 2 data is %d bytes, want %d", ErrInvalidBlob, len(data), FibreBlobDataSize)
		}
	default:
		return nil, fmt.Errorf("%w: %w: %d", ErrInvalidBlob, ErrUnsupportedVersion, shareVersion)
	}
	return &Blob{ns: ns, data: bytes.Clone(data), shareVersion: shareVersion, signer: bytes.Clone(signer)}, nil
}

// NewV0Blob builds a share-version-0 blob.
func NewV0Blob(ns Namespace, data []byte) (*Blob, error) {
	return NewBlob(ns, data, ShareVersionZero, nil)
}

// NewV1Blob builds a share-version-1 blob authored by signer.
func NewV1Blob(ns Namespace, data, signer []byte) (*Blob, error) {
	return NewBlob(ns, data, ShareVersionOne, signer)
}

// Namespace returns the blob's namespace.
func (b *Blob) Namespace() Namespace { return b.ns }

// Data returns the blob's data (not a copy; do not modify).
func (b *Blob) Data() []byte { return b.data }

// ShareVersion returns the blob's share version.
func (b *Blob) ShareVersion() uint8 { return b.shareVersion }

// Signer returns the blob's signer, or nil for version 0 (not a copy).
func (b *Blob) Signer() []byte { return b.signer }

// ShareCount returns the number of shares the blob occupies.
func (b *Blob) ShareCount() int { return SparseSharesNeeded(len(b.data), hasSigner(b.shareVersion)) }

// Equal reports whether two blobs hold the same fields.
func (b *Blob) Equal(o *Blob) bool {
	return b.ns == o.ns && b.shareVersion == o.shareVersion && bytes.Equal(b.data, o.data) && bytes.Equal(b.signer, o.signer)
}
