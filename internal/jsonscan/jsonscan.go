// Package jsonscan splits JSON that is already known to be valid into its
// parts without a byte-at-a-time state machine: string contents are skipped
// with bytes.IndexByte, so a megabyte-long base64 string costs about as
// much as a memchr over it.
//
// Valid gives json.Valid's verdict on a whole document, checking string
// contents a word at a time; run it (or json.Valid) once on a document.
// The splitting functions (SplitArray, SplitObject, ValueEnd) then trust
// their input to be valid JSON. On invalid input they never panic and
// never loop, and they return either an error wrapping ErrSyntax or some
// split of the input; which one is unspecified. For valid input,
// SplitArray and SplitObject agree with encoding/json's decoding into
// []json.RawMessage and into key/value pairs. The fuzz targets check both
// claims against encoding/json.
//
// The package is pure: no I/O, no allocation beyond the returned slices.
package jsonscan

import (
	"bytes"
	"errors"
	"fmt"
)

// ErrSyntax is wrapped by every error of this package: the input is not
// the JSON value the function expects.
var ErrSyntax = errors.New("jsonscan: malformed JSON")

// Member is one key/value pair of a JSON object. Key is the raw key token
// including its quotes (escapes not decoded); Value is the raw value
// without surrounding whitespace.
type Member struct {
	Key   []byte
	Value []byte
}

// isSpace reports JSON whitespace.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r'
}

// skipSpace returns the index of the first non-whitespace byte of b at or
// after i (len(b) if none).
func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// stringEnd returns the index just past the closing quote of the string
// whose opening quote is b[i].
func stringEnd(b []byte, i int) (int, error) {
	start := i + 1
	j := start
	for {
		k := bytes.IndexByte(b[j:], '"')
		if k < 0 {
			return 0, fmt.Errorf("%w: string at offset %d is not terminated", ErrSyntax, i)
		}
		q := j + k
		// A quote preceded by an odd run of backslashes is escaped. Runs
		// counted here lie between consecutive quotes, so the total work
		// is linear.
		n := 0
		for p := q - 1; p >= start && b[p] == '\\'; p-- {
			n++
		}
		if n%2 == 0 {
			return q + 1, nil
		}
		j = q + 1
	}
}

// ValueEnd returns the index just past the JSON value that starts at b[i]
// (b[i] must not be whitespace).
func ValueEnd(b []byte, i int) (int, error) {
	if i < 0 || i >= len(b) {
		return 0, fmt.Errorf("%w: value expected at offset %d", ErrSyntax, i)
	}
	switch c := b[i]; c {
	case '"':
		return stringEnd(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); {
			switch b[j] {
			case '"':
				e, err := stringEnd(b, j)
				if err != nil {
					return 0, err
				}
				j = e
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1, nil
				}
			}
			j++
		}
		return 0, fmt.Errorf("%w: %c at offset %d is not closed", ErrSyntax, c, i)
	default:
		// A number or a literal: runs to the next delimiter.
		j := i
		for j < len(b) {
			c := b[j]
			if c == ',' || c == ']' || c == '}' || c == ':' || isSpace(c) {
				break
			}
			if c == '"' || c == '{' || c == '[' {
				return 0, fmt.Errorf("%w: unexpected %q at offset %d", ErrSyntax, c, j)
			}
			j++
		}
		if j == i {
			return 0, fmt.Errorf("%w: unexpected %q at offset %d", ErrSyntax, c, i)
		}
		return j, nil
	}
}

// SplitArray returns the raw elements of the JSON array b (surrounding
// whitespace allowed), each without surrounding whitespace. The elements
// alias b. An empty array gives an empty, non-nil slice.
func SplitArray(b []byte) ([][]byte, error) {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '[' {
		return nil, fmt.Errorf("%w: not an array", ErrSyntax)
	}
	out := [][]byte{}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		return out, checkTail(b, i+1)
	}
	for {
		e, err := ValueEnd(b, i)
		if err != nil {
			return nil, err
		}
		out = append(out, b[i:e])
		var done bool
		if i, done, err = nextMember(b, e, ']', "array"); err != nil {
			return nil, err
		}
		if done {
			return out, nil
		}
	}
}

// SplitObject returns the members of the JSON object b (surrounding
// whitespace allowed) in the order they appear, duplicates included. Keys
// and values alias b.
func SplitObject(b []byte) ([]Member, error) {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return nil, fmt.Errorf("%w: not an object", ErrSyntax)
	}
	out := []Member{}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return out, checkTail(b, i+1)
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return nil, fmt.Errorf("%w: object key expected at offset %d", ErrSyntax, i)
		}
		ke, err := stringEnd(b, i)
		if err != nil {
			return nil, err
		}
		key := b[i:ke]
		i = skipSpace(b, ke)
		if i >= len(b) || b[i] != ':' {
			return nil, fmt.Errorf("%w: colon expected at offset %d", ErrSyntax, i)
		}
		i = skipSpace(b, i+1)
		ve, err := ValueEnd(b, i)
		if err != nil {
			return nil, err
		}
		out = append(out, Member{Key: key, Value: b[i:ve]})
		var done bool
		if i, done, err = nextMember(b, ve, '}', "object"); err != nil {
			return nil, err
		}
		if done {
			return out, nil
		}
	}
}

// nextMember reads what follows a member, ending at e, of the top-level
// array or object (kind) that end closes: after a comma, the index of the
// next member; after end, done (and an error unless only whitespace
// follows).
func nextMember(b []byte, e int, end byte, kind string) (next int, done bool, err error) {
	i := skipSpace(b, e)
	if i >= len(b) {
		return 0, false, fmt.Errorf("%w: %s is not closed", ErrSyntax, kind)
	}
	switch b[i] {
	case ',':
		return skipSpace(b, i+1), false, nil
	case end:
		return 0, true, checkTail(b, i+1)
	}
	return 0, false, fmt.Errorf("%w: unexpected %q at offset %d in an %s", ErrSyntax, b[i], i, kind)
}

// checkTail accepts only whitespace after a top-level value.
func checkTail(b []byte, i int) error {
	if j := skipSpace(b, i); j != len(b) {
		return fmt.Errorf("%w: unexpected %q after the value at offset %d", ErrSyntax, b[j], j)
	}
	return nil
}

// PlainString returns the contents of the JSON string token s (with its
// quotes) when they contain no escape sequence, so that they equal the
// decoded string. ok is false for anything else, including a token that
// is not a string.
func PlainString(s []byte) (contents []byte, ok bool) {
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		return nil, false
	}
	c := s[1 : len(s)-1]
	if bytes.IndexByte(c, '\\') >= 0 {
		return nil, false
	}
	return c, true
}

// KeyIs reports whether the raw key token key names field the way
// encoding/json matches object keys to struct fields, for the keys it can
// decide cheaply: known is false when key has escapes or non-ASCII bytes,
// and the caller must then decode the object the slow way. field must be
// ASCII.
func KeyIs(key []byte, field string) (match, known bool) {
	k, ok := PlainString(key)
	if !ok {
		return false, false
	}
	for _, c := range k {
		if c >= 0x80 {
			return false, false
		}
	}
	if len(k) != len(field) {
		return false, true
	}
	for i := range k {
		a, b := k[i], field[i]
		if 'a' <= a && a <= 'z' {
			a -= 'a' - 'A'
		}
		if 'a' <= b && b <= 'z' {
			b -= 'a' - 'A'
		}
		if a != b {
			return false, true
		}
	}
	return true, true
}
