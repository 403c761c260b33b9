package blob

import (
	"bytes"
	"encoding/base64"
	"strconv"
)

// The names of jsonBlob's keys, as MarshalJSON writes them.
const (
	keyNamespace    = "namespace"
	keyData         = "data"
	keyShareVersion = "share_version"
	keyCommitment   = "commitment"
	keySigner       = "signer"
	keyIndex        = "index"
)

// jsonSize bounds the length of the blob's JSON encoding (bytes).
func (b *Blob) jsonSize() int {
	n := 0
	for _, f := range [][]byte{b.Namespace().Bytes(), b.Data(), b.commitment, b.Signer()} {
		n += base64.StdEncoding.EncodedLen(len(f)) + 2
	}
	return n + 128
}

// appendJSONBlob appends j as encoding/json would encode it (compact, keys
// in field order, nil byte slices as null, signer omitted when empty).
func appendJSONBlob(dst []byte, j jsonBlob) []byte {
	dst = append(dst, `{"`+keyNamespace+`":`...)
	dst = appendBase64(dst, j.Namespace)
	dst = append(dst, `,"`+keyData+`":`...)
	dst = appendBase64(dst, j.Data)
	dst = append(dst, `,"`+keyShareVersion+`":`...)
	dst = strconv.AppendUint(dst, uint64(j.ShareVersion), 10)
	dst = append(dst, `,"`+keyCommitment+`":`...)
	dst = appendBase64(dst, j.Commitment)
	if len(j.Signer) != 0 {
		dst = append(dst, `,"`+keySigner+`":`...)
		dst = appendBase64(dst, j.Signer)
	}
	dst = append(dst, `,"`+keyIndex+`":`...)
	dst = strconv.AppendInt(dst, int64(j.Index), 10)
	return append(dst, '}')
}

// appendBase64 appends b as a JSON base64 string, or null for nil.
func appendBase64(dst, b []byte) []byte {
	if b == nil {
		return append(dst, "null"...)
	}
	dst = append(dst, '"')
	dst = base64.StdEncoding.AppendEncode(dst, b)
	return append(dst, '"')
}

// Bits of the keys seen by decodeJSONBlobFast.
const (
	seenNamespace = 1 << iota
	seenData
	seenShareVersion
	seenCommitment
	seenSigner
	seenIndex
)

// decodeJSONBlobFast decodes the common shape of a blob object into j. It
// is a strict parser for a subset of JSON: every key known and spelled
// exactly as MarshalJSON writes it, no key twice, byte fields as base64
// strings without escapes (or null), numbers as plain integers (or null).
// It reports false for anything else, valid JSON or not, and the caller
// must then decode with encoding/json; when it reports true, j is what
// encoding/json would have produced from data. It allocates only the
// decoded byte fields.
func decodeJSONBlobFast(data []byte, j *jsonBlob) bool {
	*j = jsonBlob{Index: -1}
	i := skipWS(data, 0)
	if i >= len(data) || data[i] != '{' {
		return false
	}
	i = skipWS(data, i+1)
	if i < len(data) && data[i] == '}' {
		return skipWS(data, i+1) == len(data)
	}
	seen := 0
	for {
		// Key: a string of letters and '_' only, so no escapes to decode.
		if i >= len(data) || data[i] != '"' {
			return false
		}
		k := bytes.IndexByte(data[i+1:], '"')
		if k < 0 {
			return false
		}
		key := data[i+1 : i+1+k]
		i = skipWS(data, i+k+2)
		if i >= len(data) || data[i] != ':' {
			return false
		}
		i = skipWS(data, i+1)
		var bit int
		var ok bool
		switch string(key) {
		case keyNamespace:
			bit = seenNamespace
			j.Namespace, i, ok = fastBytes(data, i)
		case keyData:
			bit = seenData
			j.Data, i, ok = fastBytes(data, i)
		case keyShareVersion:
			bit = seenShareVersion
			var v uint64
			v, i, ok = fastUint(data, i, 32, 0)
			j.ShareVersion = uint32(v)
		case keyCommitment:
			bit = seenCommitment
			j.Commitment, i, ok = fastBytes(data, i)
		case keySigner:
			bit = seenSigner
			j.Signer, i, ok = fastBytes(data, i)
		case keyIndex:
			bit = seenIndex
			var v int64
			v, i, ok = fastInt(data, i, -1)
			j.Index = int(v)
		default:
			return false // unknown, differently cased or escaped key
		}
		if !ok || seen&bit != 0 {
			return false
		}
		seen |= bit
		i = skipWS(data, i)
		if i >= len(data) {
			return false
		}
		switch data[i] {
		case ',':
			i = skipWS(data, i+1)
		case '}':
			return skipWS(data, i+1) == len(data)
		default:
			return false
		}
	}
}

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// isNull reports whether the literal null starts at b[i], and where it
// ends.
func isNull(b []byte, i int) (int, bool) {
	if len(b)-i >= 4 && string(b[i:i+4]) == "null" {
		return i + 4, true
	}
	return 0, false
}

// fastBytes decodes a base64 string without escapes, or null (nil), that
// starts at b[i]; it returns the index after it.
func fastBytes(b []byte, i int) ([]byte, int, bool) {
	if e, ok := isNull(b, i); ok {
		return nil, e, true
	}
	if i >= len(b) || b[i] != '"' {
		return nil, 0, false
	}
	k := bytes.IndexByte(b[i+1:], '"')
	if k < 0 {
		return nil, 0, false
	}
	s := b[i+1 : i+1+k]
	// The base64 decoder skips raw CR and LF, which JSON forbids in a
	// string; a backslash would need unescaping first. Every other byte
	// outside the alphabet makes Decode fail.
	if bytes.IndexByte(s, '\\') >= 0 || bytes.IndexByte(s, '\n') >= 0 || bytes.IndexByte(s, '\r') >= 0 {
		return nil, 0, false
	}
	out := make([]byte, base64.StdEncoding.DecodedLen(len(s)))
	n, err := base64.StdEncoding.Decode(out, s)
	if err != nil {
		return nil, 0, false
	}
	return out[:n], i + k + 2, true
}

// digitsEnd returns the end of a JSON integer without sign (0 or a
// non-zero digit followed by digits) starting at b[i], provided it is not
// followed by a fraction or an exponent.
func digitsEnd(b []byte, i int) (int, bool) {
	if i >= len(b) || b[i] < '0' || b[i] > '9' {
		return 0, false
	}
	j := i + 1
	if b[i] != '0' {
		for j < len(b) && b[j] >= '0' && b[j] <= '9' {
			j++
		}
	}
	if j < len(b) && (b[j] == '.' || b[j] == 'e' || b[j] == 'E' || (b[j] >= '0' && b[j] <= '9')) {
		return 0, false
	}
	return j, true
}

// fastUint parses a non-negative integer of at most bits bits, or null,
// which gives ifNull: the field's value before decoding, which
// encoding/json leaves unchanged on null (no key repeats on this path).
func fastUint(b []byte, i, bits int, ifNull uint64) (v uint64, end int, ok bool) {
	if e, ok := isNull(b, i); ok {
		return ifNull, e, true
	}
	e, ok := digitsEnd(b, i)
	if !ok {
		return 0, 0, false
	}
	v, err := strconv.ParseUint(string(b[i:e]), 10, bits)
	if err != nil {
		return 0, 0, false
	}
	return v, e, true
}

// fastInt parses an integer that fits an int, or null, which gives ifNull
// (as for fastUint).
func fastInt(b []byte, i int, ifNull int64) (v int64, end int, ok bool) {
	if e, ok := isNull(b, i); ok {
		return ifNull, e, true
	}
	start := i
	if i < len(b) && b[i] == '-' {
		i++
	}
	e, ok := digitsEnd(b, i)
	if !ok {
		return 0, 0, false
	}
	v, err := strconv.ParseInt(string(b[start:e]), 10, strconv.IntSize)
	if err != nil {
		return 0, 0, false
	}
	return v, e, true
}
