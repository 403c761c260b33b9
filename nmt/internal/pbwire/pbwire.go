// Package pbwire is the minimal subset of the protobuf wire format that the
// nmt and merkle proof encodings need: varints, length-delimited fields and
// skipping unknown fields. It never allocates while decoding; every returned
// slice aliases its input.
package pbwire

import (
	"errors"
	"fmt"
)

// Wire types used by the proof messages.
const (
	WireVarint  = 0
	WireFixed64 = 1
	WireBytes   = 2
	WireFixed32 = 5
)

// maxVarintLen is the longest valid encoding of a 64-bit varint.
const maxVarintLen = 10 // bytes

// maxField is the largest valid protobuf field number.
const maxField = 1<<29 - 1

// ErrMalformed is wrapped by every decoding error.
var ErrMalformed = errors.New("malformed protobuf")

// AppendVarint appends v as an unsigned LEB128 varint.
func AppendVarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

// SizeVarint is the encoded length of v.
func SizeVarint(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

// AppendTag appends the key of field num with wire type wt.
func AppendTag(b []byte, num, wt int) []byte {
	return AppendVarint(b, uint64(num)<<3|uint64(wt))
}

// AppendVarintField appends field num as a varint. Zero values are written
// too; callers omit proto3 defaults themselves.
func AppendVarintField(b []byte, num int, v uint64) []byte {
	return AppendVarint(AppendTag(b, num, WireVarint), v)
}

// AppendBytesField appends field num as a length-delimited value.
func AppendBytesField(b []byte, num int, v []byte) []byte {
	b = AppendVarint(AppendTag(b, num, WireBytes), uint64(len(v)))
	return append(b, v...)
}

// ConsumeVarint reads one varint from b and returns it with the rest of b.
// Encodings longer than ten bytes or overflowing 64 bits are rejected.
func ConsumeVarint(b []byte) (uint64, []byte, error) {
	var v uint64
	for i := 0; i < maxVarintLen; i++ {
		if i >= len(b) {
			return 0, nil, fmt.Errorf("%w: truncated varint", ErrMalformed)
		}
		c := b[i]
		if i == maxVarintLen-1 && c > 1 {
			return 0, nil, fmt.Errorf("%w: varint overflows 64 bits", ErrMalformed)
		}
		v |= uint64(c&0x7f) << (7 * uint(i))
		if c < 0x80 {
			return v, b[i+1:], nil
		}
	}
	return 0, nil, fmt.Errorf("%w: varint longer than %d bytes", ErrMalformed, maxVarintLen)
}

// ConsumeTag reads a field key and returns its number and wire type.
func ConsumeTag(b []byte) (num, wt int, rest []byte, err error) {
	v, rest, err := ConsumeVarint(b)
	if err != nil {
		return 0, 0, nil, err
	}
	n := v >> 3
	if n == 0 || n > maxField {
		return 0, 0, nil, fmt.Errorf("%w: invalid field number %d", ErrMalformed, n)
	}
	return int(n), int(v & 7), rest, nil
}

// ConsumeBytes reads a length-delimited value. The length is checked against
// the bytes actually present before it is used.
func ConsumeBytes(b []byte) ([]byte, []byte, error) {
	n, rest, err := ConsumeVarint(b)
	if err != nil {
		return nil, nil, err
	}
	if n > uint64(len(rest)) {
		return nil, nil, fmt.Errorf("%w: length %d exceeds the %d bytes left", ErrMalformed, n, len(rest))
	}
	return rest[:n], rest[n:], nil
}

// SkipField skips the value of a field with wire type wt. Groups (wire
// types 3 and 4) and undefined wire types are rejected.
func SkipField(b []byte, wt int) ([]byte, error) {
	switch wt {
	case WireVarint:
		_, rest, err := ConsumeVarint(b)
		return rest, err
	case WireFixed64:
		if len(b) < 8 {
			return nil, fmt.Errorf("%w: truncated fixed64", ErrMalformed)
		}
		return b[8:], nil
	case WireBytes:
		_, rest, err := ConsumeBytes(b)
		return rest, err
	case WireFixed32:
		if len(b) < 4 {
			return nil, fmt.Errorf("%w: truncated fixed32", ErrMalformed)
		}
		return b[4:], nil
	default:
		return nil, fmt.Errorf("%w: unsupported wire type %d", ErrMalformed, wt)
	}
}
