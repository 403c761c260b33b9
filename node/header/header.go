// Package header defines Tessera's compact signed header and its chain
// rules: a producer signs (chain ID, height, time, previous header hash,
// data root, square width) with ed25519; nodes check signatures and the
// hash chain. A header is a few hundred bytes and never carries the full
// data availability header.
package header

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Limits and sizes.
const (
	HashSize        = sha256.Size // bytes
	MaxChainIDSize  = 64          // bytes
	MaxSquareWidth  = 512         // shares per ODS row (k)
	encodingVersion = 1
	// MaxEncodedSize bounds an encoded header (bytes).
	MaxEncodedSize = 1 + 1 + MaxChainIDSize + 8 + 8 + HashSize + HashSize + 4 + ed25519.PublicKeySize + ed25519.SignatureSize
)

// Sentinel errors.
var (
	ErrInvalidHeader    = errors.New("header: invalid header")
	ErrInvalidSignature = errors.New("header: invalid signature")
	ErrNotChained       = errors.New("header: does not extend the chain")
)

// CheckChainID reports whether id can name a network in protocol IDs and
// topic names: 1 to MaxChainIDSize printable ASCII bytes other than '/'.
func CheckChainID(id string) error {
	if len(id) == 0 || len(id) > MaxChainIDSize {
		return fmt.Errorf("%d bytes, want 1 to %d", len(id), MaxChainIDSize)
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c <= ' ' || c > '~' || c == '/' {
			return fmt.Errorf("byte %d (%q) is not printable ASCII other than '/'", i, c)
		}
	}
	return nil
}

// Hash is a 32-byte header hash or data root, JSON-encoded as hex.
type Hash [HashSize]byte

// String returns lowercase hex.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// MarshalJSON encodes the hash as a hex string.
func (h Hash) MarshalJSON() ([]byte, error) { return json.Marshal(h.String()) }

// UnmarshalJSON decodes a hex string of exactly 32 bytes.
func (h *Hash) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("%w: hash: %w", ErrInvalidHeader, err)
	}
	d, err := hex.DecodeString(s)
	if err != nil || len(d) != HashSize {
		return fmt.Errorf("%w: hash must be %d bytes of hex", ErrInvalidHeader, HashSize)
	}
	copy(h[:], d)
	return nil
}

// ParseHash parses a hex hash.
func ParseHash(s string) (Hash, error) {
	var h Hash
	err := h.UnmarshalJSON([]byte(fmt.Sprintf("%q", s)))
	return h, err
}

// Header is a compact signed block header.
type Header struct {
	ChainID     string            `json:"chain_id"`
	Height      uint64            `json:"height"`
	Time        time.Time         `json:"time"`
	PrevHash    Hash              `json:"prev_hash"`
	DataRoot    Hash              `json:"data_root"`
	SquareWidth uint32            `json:"square_width"` // k: the original square is k×k shares
	Producer    ed25519.PublicKey `json:"producer"`
	Signature   []byte            `json:"signature"`
}

// SignBytes returns the canonical bytes the producer signs: every field but
// the signature, in a fixed binary layout.
func (h *Header) SignBytes() []byte {
	b := make([]byte, 0, MaxEncodedSize)
	b = append(b, encodingVersion, byte(len(h.ChainID)))
	b = append(b, h.ChainID...)
	b = binary.BigEndian.AppendUint64(b, h.Height)
	b = binary.BigEndian.AppendUint64(b, uint64(h.Time.UnixNano()))
	b = append(b, h.PrevHash[:]...)
	b = append(b, h.DataRoot[:]...)
	b = binary.BigEndian.AppendUint32(b, h.SquareWidth)
	b = append(b, h.Producer...)
	return b
}

// Hash returns the header hash: SHA-256 of its sign bytes. (ed25519
// signatures are not malleable, so the signature need not be hashed.)
func (h *Header) Hash() Hash { return sha256.Sum256(h.SignBytes()) }

// Sign fills Producer and Signature with key.
func (h *Header) Sign(key ed25519.PrivateKey) {
	h.Producer = bytes.Clone(key.Public().(ed25519.PublicKey))
	h.Signature = ed25519.Sign(key, h.SignBytes())
}

// ValidateBasic checks the header's fields and its signature.
func (h *Header) ValidateBasic() error {
	switch {
	case len(h.ChainID) == 0 || len(h.ChainID) > MaxChainIDSize:
		return fmt.Errorf("%w: chain ID of %d bytes (1 to %d allowed)", ErrInvalidHeader, len(h.ChainID), MaxChainIDSize)
	case h.Height == 0:
		return fmt.Errorf("%w: height 0", ErrInvalidHeader)
	case h.SquareWidth == 0 || h.SquareWidth > MaxSquareWidth || h.SquareWidth&(h.SquareWidth-1) != 0:
		return fmt.Errorf("%w: square width %d is not a power of two in [1, %d]", ErrInvalidHeader, h.SquareWidth, MaxSquareWidth)
	case len(h.Producer) != ed25519.PublicKeySize:
		return fmt.Errorf("%w: producer key of %d bytes", ErrInvalidHeader, len(h.Producer))
	case len(h.Signature) != ed25519.SignatureSize:
		return fmt.Errorf("%w: signature of %d bytes", ErrInvalidSignature, len(h.Signature))
	}
	if !ed25519.Verify(h.Producer, h.SignBytes(), h.Signature) {
		return fmt.Errorf("%w: height %d", ErrInvalidSignature, h.Height)
	}
	return nil
}

// Verify checks that h is valid, signed by one of producers, and (when
// prev is not nil) directly extends prev on the same chain.
func (h *Header) Verify(chainID string, producers []ed25519.PublicKey, prev *Header) error {
	if err := h.ValidateBasic(); err != nil {
		return err
	}
	if h.ChainID != chainID {
		return fmt.Errorf("%w: chain %q, want %q", ErrInvalidHeader, h.ChainID, chainID)
	}
	known := false
	for _, p := range producers {
		if bytes.Equal(p, h.Producer) {
			known = true
			break
		}
	}
	if !known {
		return fmt.Errorf("%w: producer %x is not in the genesis", ErrInvalidSignature, []byte(h.Producer))
	}
	if prev != nil {
		if h.Height != prev.Height+1 || h.PrevHash != prev.Hash() {
			return fmt.Errorf("%w: height %d (prev hash %s) after height %d (hash %s)", ErrNotChained, h.Height, h.PrevHash, prev.Height, prev.Hash())
		}
		if h.Time.Before(prev.Time) {
			return fmt.Errorf("%w: time goes backwards at height %d", ErrNotChained, h.Height)
		}
	}
	return nil
}

// MarshalBinary encodes the header: sign bytes ‖ signature.
func (h *Header) MarshalBinary() ([]byte, error) {
	return append(h.SignBytes(), h.Signature...), nil
}

// UnmarshalBinary decodes a header encoded by MarshalBinary. It checks the
// layout, not the signature (call ValidateBasic or Verify).
func (h *Header) UnmarshalBinary(b []byte) error {
	if len(b) > MaxEncodedSize {
		return fmt.Errorf("%w: %d bytes, at most %d", ErrInvalidHeader, len(b), MaxEncodedSize)
	}
	if len(b) < 2 || b[0] != encodingVersion {
		return fmt.Errorf("%w: unknown encoding", ErrInvalidHeader)
	}
	n := int(b[1])
	want := 2 + n + 8 + 8 + 2*HashSize + 4 + ed25519.PublicKeySize + ed25519.SignatureSize
	if n > MaxChainIDSize || len(b) != want {
		return fmt.Errorf("%w: %d bytes, want %d", ErrInvalidHeader, len(b), want)
	}
	var out Header
	p := b[2:]
	out.ChainID, p = string(p[:n]), p[n:]
	out.Height, p = binary.BigEndian.Uint64(p), p[8:]
	out.Time, p = time.Unix(0, int64(binary.BigEndian.Uint64(p))).UTC(), p[8:]
	copy(out.PrevHash[:], p)
	p = p[HashSize:]
	copy(out.DataRoot[:], p)
	p = p[HashSize:]
	out.SquareWidth, p = binary.BigEndian.Uint32(p), p[4:]
	out.Producer, p = bytes.Clone(p[:ed25519.PublicKeySize]), p[ed25519.PublicKeySize:]
	out.Signature = bytes.Clone(p)
	*h = out
	return nil
}
