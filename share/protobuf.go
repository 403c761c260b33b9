package share

import (
	"errors"
	"fmt"
	"math"
	"unicode/utf8"
)

// This file holds the minimal protobuf wire-format code the BlobTx,
// BlobProto and IndexWrapper messages need. It follows the decoding rules of
// google.golang.org/protobuf (which go-square uses), because which bytes
// count as a BlobTx decides how a square is built:
//
//   - A tag's field number must be in [1, 2^29-1] (up to 2^31-1 inside a
//     skipped group); wire types 6 and 7 are
//     invalid; a stray end-group tag is an error.
//   - A varint is at most 10 bytes and its 10th byte at most 1.
//     Non-minimal varints are accepted.
//   - A known field that arrives with the wrong wire type is kept as an
//     unknown field, not rejected.
//   - Unknown fields are skipped whole (groups included, up to a nesting
//     depth of protoRecursionLimit+1).
//   - A proto3 string must be valid UTF-8.
//   - For a singular field the last occurrence wins; a uint32 field keeps
//     the low 32 bits of its varint.
//
// No length read from the input is used to allocate before it has been
// checked against the bytes that remain.

// Wire types.
const (
	wireVarint     = 0
	wireFixed64    = 1
	wireBytes      = 2
	wireStartGroup = 3
	wireEndGroup   = 4
	wireFixed32    = 5
)

const (
	maxVarintLen        = 10        // bytes
	maxFieldNumber      = 1<<29 - 1 // largest valid protobuf field number
	protoRecursionLimit = 10000     // protowire.DefaultRecursionLimit
)

// errProto is the cause wrapped by every wire-format error; callers wrap it
// again in their own sentinel.
var errProto = errors.New("malformed protobuf")

// protoField is one decoded field. For wireVarint, val holds the value; for
// wireBytes, data holds the payload (a sub-slice of the input); for the
// other wire types only the position is known.
type protoField struct {
	num  int
	typ  int
	val  uint64
	data []byte
}

// consumeVarint decodes an unsigned varint from the front of b and returns
// it with the number of bytes read.
func consumeVarint(b []byte) (uint64, int, error) {
	var v uint64
	for i := 0; i < maxVarintLen; i++ {
		if i >= len(b) {
			return 0, 0, fmt.Errorf("%w: truncated varint", errProto)
		}
		c := b[i]
		if i == maxVarintLen-1 && c > 1 {
			return 0, 0, fmt.Errorf("%w: varint overflows 64 bits", errProto)
		}
		v |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			return v, i + 1, nil
		}
	}
	return 0, 0, fmt.Errorf("%w: varint longer than %d bytes", errProto, maxVarintLen)
}

// consumeTag decodes a field tag whose field number may be at most maxNum.
// protobuf-go allows maxFieldNumber for a message's own fields but up to
// 2^31-1 inside a skipped group (protowire.ConsumeTag).
func consumeTag(b []byte, maxNum uint64) (num, typ, n int, err error) {
	v, n, err := consumeVarint(b)
	if err != nil {
		return 0, 0, 0, err
	}
	f := v >> 3
	if f < 1 || f > maxNum {
		return 0, 0, 0, fmt.Errorf("%w: invalid field number %d", errProto, f)
	}
	return int(f), int(v & 7), n, nil
}

// consumeLengthPrefixed decodes a length-prefixed payload. The payload is a
// sub-slice of b, bounded by what remains.
func consumeLengthPrefixed(b []byte) ([]byte, int, error) {
	l, n, err := consumeVarint(b)
	if err != nil {
		return nil, 0, err
	}
	if l > uint64(len(b)-n) {
		return nil, 0, fmt.Errorf("%w: length %d overruns the %d bytes left", errProto, l, len(b)-n)
	}
	end := n + int(l)
	return b[n:end:end], end, nil
}

// consumeFieldValue returns how many bytes the value of a field with tag
// (num, typ) occupies at the front of b. Groups are skipped iteratively,
// nested at most protoRecursionLimit+1 deep.
func consumeFieldValue(num, typ int, b []byte) (int, error) {
	switch typ {
	case wireVarint:
		_, n, err := consumeVarint(b)
		return n, err
	case wireFixed64:
		if len(b) < 8 {
			return 0, fmt.Errorf("%w: truncated fixed64", errProto)
		}
		return 8, nil
	case wireFixed32:
		if len(b) < 4 {
			return 0, fmt.Errorf("%w: truncated fixed32", errProto)
		}
		return 4, nil
	case wireBytes:
		_, n, err := consumeLengthPrefixed(b)
		return n, err
	case wireStartGroup:
		return skipGroup(num, b)
	case wireEndGroup:
		return 0, fmt.Errorf("%w: unexpected end group for field %d", errProto, num)
	default:
		return 0, fmt.Errorf("%w: reserved wire type %d", errProto, typ)
	}
}

// skipGroup skips the body of group num (its start tag already consumed)
// through the matching end tag.
func skipGroup(num int, b []byte) (int, error) {
	open := []int{num}
	pos := 0
	for len(open) > 0 {
		n2, t2, k, err := consumeTag(b[pos:], math.MaxInt32)
		if err != nil {
			return 0, err
		}
		pos += k
		switch t2 {
		case wireEndGroup:
			if n2 != open[len(open)-1] {
				return 0, fmt.Errorf("%w: end group %d does not close group %d", errProto, n2, open[len(open)-1])
			}
			open = open[:len(open)-1]
		case wireStartGroup:
			if len(open) > protoRecursionLimit {
				return 0, fmt.Errorf("%w: groups nested deeper than %d", errProto, protoRecursionLimit+1)
			}
			open = append(open, n2)
		default:
			k, err := consumeFieldValue(n2, t2, b[pos:])
			if err != nil {
				return 0, err
			}
			pos += k
		}
	}
	return pos, nil
}

// nextField decodes the field at the front of b.
func nextField(b []byte) (protoField, int, error) {
	num, typ, n, err := consumeTag(b, maxFieldNumber)
	if err != nil {
		return protoField{}, 0, err
	}
	f := protoField{num: num, typ: typ}
	rest := b[n:]
	switch typ {
	case wireVarint:
		v, k, err := consumeVarint(rest)
		if err != nil {
			return protoField{}, 0, err
		}
		f.val = v
		return f, n + k, nil
	case wireBytes:
		d, k, err := consumeLengthPrefixed(rest)
		if err != nil {
			return protoField{}, 0, err
		}
		f.data = d
		return f, n + k, nil
	default:
		k, err := consumeFieldValue(num, typ, rest)
		if err != nil {
			return protoField{}, 0, err
		}
		return f, n + k, nil
	}
}

// forEachField calls fn for every field of the message in b, in order.
func forEachField(b []byte, fn func(f protoField) error) error {
	for len(b) > 0 {
		f, n, err := nextField(b)
		if err != nil {
			return err
		}
		if err := fn(f); err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}

// protoString checks a proto3 string field.
func protoString(f protoField) (string, error) {
	if !utf8.Valid(f.data) {
		return "", fmt.Errorf("%w: field %d is not valid UTF-8", errProto, f.num)
	}
	return string(f.data), nil
}

// protoBytes returns the value of a proto3 bytes field as go-square's
// decoder stores it: nil when empty. The result aliases the input; copy it
// before keeping it.
func protoBytes(f protoField) []byte {
	if len(f.data) == 0 {
		return nil
	}
	return f.data
}

// cloneBytes copies b, keeping nil for empty.
func cloneBytes(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return append([]byte(nil), b...)
}

// varintSize returns the encoded length of v.
func varintSize(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

// appendVarint appends v as an unsigned varint.
func appendVarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

// appendTag appends the tag of field num with wire type typ.
func appendTag(b []byte, num, typ int) []byte {
	return appendVarint(b, uint64(num)<<3|uint64(typ))
}

// appendBytesField appends a proto3 bytes (or string, or message) field,
// omitting it when empty as proto3 does for implicit presence.
func appendBytesField(b []byte, num int, v []byte) []byte {
	if len(v) == 0 {
		return b
	}
	b = appendTag(b, num, wireBytes)
	b = appendVarint(b, uint64(len(v)))
	return append(b, v...)
}

// appendVarintField appends a proto3 varint field, omitting it when zero.
func appendVarintField(b []byte, num int, v uint64) []byte {
	if v == 0 {
		return b
	}
	b = appendTag(b, num, wireVarint)
	return appendVarint(b, v)
}

// bytesFieldSize returns the encoded size of a proto3 bytes field of n bytes
// (0 when n is 0, since the field is omitted).
func bytesFieldSize(num, n int) int {
	if n == 0 {
		return 0
	}
	return varintSize(uint64(num)<<3) + varintSize(uint64(n)) + n
}
