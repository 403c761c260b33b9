package blob

import (
	"bytes"
	"encoding/json"
	"fmt"

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
// signer omitted when empty, index -1 when unknown.
func (b *Blob) MarshalJSON() ([]byte, error) {
	return json.Marshal(jsonBlob{
		Namespace:    b.Namespace().Bytes(),
		Data:         b.Data(),
		ShareVersion: uint32(b.ShareVersion()),
		Commitment:   b.commitment,
		Signer:       b.Signer(),
		Index:        b.index,
	})
}

// UnmarshalJSON decodes and validates a blob. The commitment is recomputed
// from the content; a commitment given in the JSON must equal it.
func (b *Blob) UnmarshalJSON(data []byte) error {
	var j jsonBlob
	j.Index = -1
	if err := json.Unmarshal(data, &j); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidBlobJSON, err)
	}
	ns, err := share.NewNamespaceFromBytes(j.Namespace)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidBlobJSON, err)
	}
	if j.ShareVersion > share.MaxShareVersion {
		return fmt.Errorf("%w: share version %d", ErrInvalidBlobJSON, j.ShareVersion)
	}
	nb, err := New(ns, j.Data, uint8(j.ShareVersion), j.Signer)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidBlobJSON, err)
	}
	if len(j.Commitment) > 0 && !bytes.Equal(j.Commitment, nb.commitment) {
		return fmt.Errorf("%w: commitment %x does not match the blob's content (%x)", ErrCommitmentMismatch, j.Commitment, nb.commitment)
	}
	if j.Index < -1 {
		return fmt.Errorf("%w: index %d", ErrInvalidBlobJSON, j.Index)
	}
	nb.index = j.Index
	*b = *nb
	return nil
}
