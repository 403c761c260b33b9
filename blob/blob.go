package blob

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/tessera-da/tessera/share"
)

// Blob is a share.Blob with its share commitment and, once it is known,
// the index of its first share in the extended square (row·2k + col), or
// -1. A Blob that exists has a commitment computed from its content.
type Blob struct {
	*share.Blob
	commitment Commitment
	index      int
}

// New builds a blob and computes its commitment with Celestia's subtree
// root threshold.
func New(ns share.Namespace, data []byte, shareVersion uint8, signer []byte) (*Blob, error) {
	sb, err := share.NewBlob(ns, data, shareVersion, signer)
	if err != nil {
		return nil, err
	}
	return FromShareBlob(sb)
}

// FromShareBlob wraps a share.Blob and computes its commitment.
func FromShareBlob(sb *share.Blob) (*Blob, error) {
	c, err := ComputeCommitment(sb, share.SubtreeRootThreshold)
	if err != nil {
		return nil, err
	}
	return &Blob{Blob: sb, commitment: c, index: -1}, nil
}

// Commitment returns the blob's share commitment.
func (b *Blob) Commitment() Commitment { return b.commitment }

// Index returns the EDS index of the blob's first share, or -1 if unknown.
func (b *Blob) Index() int { return b.index }

// WithIndex returns a copy of b that records the EDS index of its first share.
func (b *Blob) WithIndex(index int) *Blob {
	c := *b
	c.index = index
	return &c
}

// jsonBlob is the shape celestia-node serves (blob/blob.go).
type jsonBlob struct {
	Namespace    []byte `json:"namespace"`
	Data         []byte `json:"data"`
	ShareVersion uint32 `json:"share_version"`
	Commitment   []byte `json:"commitment"`
	Signer       []byte `json:"signer,omitempty"`
	Index        int    `json:"index"`
}

// MarshalJSON encodes the blob as celestia-node does: base64 byte fields,
// signer omitted when empty, index -1 when unknown. The output is the
// same, byte for byte, as encoding/json's encoding of that shape.
func (b *Blob) MarshalJSON() ([]byte, error) {
	return b.AppendJSON(nil)
}

// AppendJSON appends the blob's JSON encoding (MarshalJSON's bytes) to dst.
// Encoders that know this method (the JSON-RPC server and client) call it
// instead of MarshalJSON so that a large blob is neither copied again nor
// re-scanned.
func (b *Blob) AppendJSON(dst []byte) ([]byte, error) {
	return appendJSONBlob(slices.Grow(dst, b.jsonSize()), jsonBlob{
		Namespace:    b.Namespace().Bytes(),
		Data:         b.Data(),
		ShareVersion: uint32(b.ShareVersion()),
		Commitment:   b.commitment,
		Signer:       b.Signer(),
		Index:        b.index,
	}), nil
}

// UnmarshalJSON decodes and validates a blob. The commitment is recomputed
// from the content; a commitment given in the JSON must equal it.
//
// The common shape (each known key once, spelled as MarshalJSON spells
// it, base64 strings without escapes) is decoded by a strict parser that
// reads the base64 straight from data; anything else goes through
// encoding/json. Both accept and refuse exactly the same inputs.
func (b *Blob) UnmarshalJSON(data []byte) error {
	var j jsonBlob
	if !decodeJSONBlobFast(data, &j) {
		if err := decodeJSONBlobSlow(data, &j); err != nil {
			return err
		}
	}
	nb, err := fromJSONBlob(&j)
	if err != nil {
		return err
	}
	*b = *nb
	return nil
}

// decodeJSONBlobSlow decodes data with encoding/json.
func decodeJSONBlobSlow(data []byte, j *jsonBlob) error {
	*j = jsonBlob{Index: -1}
	if err := json.Unmarshal(data, j); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidBlobJSON, err)
	}
	return nil
}

// fromJSONBlob validates a decoded blob and recomputes its commitment.
func fromJSONBlob(j *jsonBlob) (*Blob, error) {
	ns, err := share.NewNamespaceFromBytes(j.Namespace)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidBlobJSON, err)
	}
	if j.ShareVersion > share.MaxShareVersion {
		return nil, fmt.Errorf("%w: share version %d", ErrInvalidBlobJSON, j.ShareVersion)
	}
	nb, err := New(ns, j.Data, uint8(j.ShareVersion), j.Signer)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidBlobJSON, err)
	}
	if len(j.Commitment) > 0 && !bytes.Equal(j.Commitment, nb.commitment) {
		return nil, fmt.Errorf("%w: commitment %x does not match the blob's content (%x)", ErrCommitmentMismatch, j.Commitment, nb.commitment)
	}
	if j.Index < -1 {
		return nil, fmt.Errorf("%w: index %d", ErrInvalidBlobJSON, j.Index)
	}
	nb.index = j.Index
	return nb, nil
}
