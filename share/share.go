package share

import (
	"encoding/binary"
	"fmt"
)

// Share layout constants (FORMAT.md §2).
const (
	ShareSize          = 512 // bytes
	ShareInfoBytes     = 1   // bytes
	SequenceLenBytes   = 4   // bytes
	SignerSize         = 20  // bytes
	ShareReservedBytes = 4   // bytes, compact shares only
	MaxShareVersion    = 127 // the info byte keeps 7 bits of version

	ShareVersionZero = uint8(0) // plain blob
	ShareVersionOne  = uint8(1) // blob with a 20-byte signer in its first share
	ShareVersionTwo  = uint8(2) // Fibre system blob: signer, BE4 version, 32-byte commitment

	// FirstSparseShareContentSize is the data capacity of the first share of a v0 blob.
	FirstSparseShareContentSize = ShareSize - NamespaceSize - ShareInfoBytes - SequenceLenBytes // 478 bytes
	// ContinuationSparseShareContentSize is the data capacity of every later sparse share.
	ContinuationSparseShareContentSize = ShareSize - NamespaceSize - ShareInfoBytes // 482 bytes
	// FirstCompactShareContentSize is the data capacity of the first compact share.
	FirstCompactShareContentSize = FirstSparseShareContentSize - ShareReservedBytes // 474 bytes
	// ContinuationCompactShareContentSize is the data capacity of every later compact share.
	ContinuationCompactShareContentSize = ContinuationSparseShareContentSize - ShareReservedBytes // 478 bytes

	// FibreBlobDataSize is the data length of every share-version-2 blob:
	// BE4 fibre blob version ‖ 32-byte commitment.
	FibreBlobDataSize = 4 + 32 // bytes
)

// Share is one 512-byte share. A Share that exists has the right length, a
// well-formed namespace and a supported share version (0, 1 or 2). Its bytes
// are not copied on access: treat them as read-only.
type Share struct {
	data []byte
}

// NewShare validates b and wraps it (without copying) as a Share.
func NewShare(b []byte) (Share, error) {
	if len(b) != ShareSize {
		return Share{}, fmt.Errorf("%w: %d bytes, want %d", ErrInvalidShare, len(b), ShareSize)
	}
	if _, err := NewNamespaceFromBytes(b[:NamespaceSize]); err != nil {
		return Share{}, fmt.Errorf("%w: %w", ErrInvalidShare, err)
	}
	if v := b[NamespaceSize] >> 1; v > ShareVersionTwo {
		return Share{}, fmt.Errorf("%w: %w: version %d", ErrInvalidShare, ErrUnsupportedVersion, v)
	}
	return Share{data: b}, nil
}

// SharesFromBytes validates a concatenation of shares.
func SharesFromBytes(b []byte) ([]Share, error) {
	if len(b)%ShareSize != 0 {
		return nil, fmt.Errorf("%w: %d bytes is not a whole number of shares", ErrInvalidShare, len(b))
	}
	out := make([]Share, len(b)/ShareSize)
	for i := range out {
		s, err := NewShare(b[i*ShareSize : (i+1)*ShareSize : (i+1)*ShareSize])
		if err != nil {
			return nil, fmt.Errorf("share %d: %w", i, err)
		}
		out[i] = s
	}
	return out, nil
}

// ToBytes concatenates shares.
func ToBytes(shares []Share) []byte {
	out := make([]byte, 0, len(shares)*ShareSize)
	for _, s := range shares {
		out = append(out, s.data...)
	}
	return out
}

// Bytes returns the share's 512 bytes (not a copy).
func (s Share) Bytes() []byte { return s.data }

// Namespace returns the share's namespace.
func (s Share) Namespace() Namespace {
	var n Namespace
	copy(n.b[:], s.data)
	return n
}

// InfoByte returns the raw info byte: version << 1 | sequence start.
func (s Share) InfoByte() byte { return s.data[NamespaceSize] }

// Version returns the share version.
func (s Share) Version() uint8 { return s.InfoByte() >> 1 }

// IsSequenceStart reports whether s is the first share of a sequence.
func (s Share) IsSequenceStart() bool { return s.InfoByte()&1 == 1 }

// SequenceLen returns the sequence length of a sequence-start share, or 0
// for a continuation share.
func (s Share) SequenceLen() uint32 {
	if !s.IsSequenceStart() {
		return 0
	}
	off := NamespaceSize + ShareInfoBytes
	return binary.BigEndian.Uint32(s.data[off : off+SequenceLenBytes])
}

// IsPadding reports whether s is a padding share: a sequence start with a
// sequence length of 0.
func (s Share) IsPadding() bool { return s.IsSequenceStart() && s.SequenceLen() == 0 }

// IsCompact reports whether s belongs to a compact (transaction) namespace.
func (s Share) IsCompact() bool {
	ns := s.Namespace()
	return ns == TxNamespace || ns == PayForBlobNamespace || ns == PayForFibreNamespace
}

// hasSigner reports whether the first share of a sequence of this version carries a signer.
func hasSigner(version uint8) bool { return version == ShareVersionOne || version == ShareVersionTwo }

// Signer returns the signer carried by a sequence-start share of version 1
// or 2, or nil.
func (s Share) Signer() []byte {
	if !s.IsSequenceStart() || !hasSigner(s.Version()) {
		return nil
	}
	off := NamespaceSize + ShareInfoBytes + SequenceLenBytes
	return s.data[off : off+SignerSize]
}

// RawData returns the share's payload after its header: for sparse shares
// the bytes after namespace, info byte, sequence length and signer; for
// compact shares the bytes after the reserved bytes too.
func (s Share) RawData() []byte { return s.data[s.dataOffset():] }

func (s Share) dataOffset() int {
	off := NamespaceSize + ShareInfoBytes
	if s.IsSequenceStart() {
		off += SequenceLenBytes
		if hasSigner(s.Version()) {
			off += SignerSize
		}
	}
	if s.IsCompact() {
		off += ShareReservedBytes
	}
	return off
}

// newInfoByte builds an info byte.
func newInfoByte(version uint8, start bool) byte {
	b := version << 1
	if start {
		b |= 1
	}
	return b
}
