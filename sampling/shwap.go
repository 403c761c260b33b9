package sampling

import (
	"encoding/binary"
	"fmt"
)

// Shwap identifier sizes (celestia-node share/shwap, CIP-19).
const (
	EdsIDSize    = 8             // bytes: BE64 height
	RowIDSize    = EdsIDSize + 2 // bytes: EdsID ‖ BE16 row
	SampleIDSize = RowIDSize + 2 // bytes: RowID ‖ BE16 column
	maxAxisIndex = 1<<16 - 1     // largest row or column a shwap ID can name
)

// SampleID names one cell of the extended square at a height; Row and Col
// are extended-square coordinates.
type SampleID struct {
	Height   uint64
	Row, Col uint16
}

// NewSampleID validates and builds a sample ID.
func NewSampleID(height uint64, row, col int) (SampleID, error) {
	if height == 0 {
		return SampleID{}, fmt.Errorf("%w: height 0", ErrInvalidID)
	}
	if row < 0 || col < 0 || row > maxAxisIndex || col > maxAxisIndex {
		return SampleID{}, fmt.Errorf("%w: coordinate (%d, %d)", ErrInvalidID, row, col)
	}
	return SampleID{Height: height, Row: uint16(row), Col: uint16(col)}, nil
}

// MarshalBinary encodes EdsID ‖ BE16 row ‖ BE16 col (12 bytes).
func (id SampleID) MarshalBinary() ([]byte, error) {
	b := make([]byte, 0, SampleIDSize)
	b = binary.BigEndian.AppendUint64(b, id.Height)
	b = binary.BigEndian.AppendUint16(b, id.Row)
	return binary.BigEndian.AppendUint16(b, id.Col), nil
}

// RowID returns the encoded ID of the sample's row (10 bytes).
func (id SampleID) RowID() []byte {
	b, _ := id.MarshalBinary()
	return b[:RowIDSize]
}

// ParseSampleID decodes a 12-byte sample ID.
func ParseSampleID(b []byte) (SampleID, error) {
	if len(b) != SampleIDSize {
		return SampleID{}, fmt.Errorf("%w: sample ID of %d bytes, want %d", ErrInvalidID, len(b), SampleIDSize)
	}
	id := SampleID{Height: binary.BigEndian.Uint64(b), Row: binary.BigEndian.Uint16(b[8:]), Col: binary.BigEndian.Uint16(b[10:])}
	if id.Height == 0 {
		return SampleID{}, fmt.Errorf("%w: height 0", ErrInvalidID)
	}
	return id, nil
}
