package rpc

import (
	"bytes"
	"encoding"
	"encoding/base64"
	"encoding/json"
	"reflect"

	"github.com/tessera-da/tessera/internal/jsonscan"
)

// jsonAppender is implemented by values that write their own JSON
// encoding (blob.Blob). AppendJSON must append exactly the bytes
// json.Marshal would produce for the value: compact, HTML-safe, valid.
// The server and the client call it instead of going through
// encoding/json, which would copy a large encoding again and re-scan it
// byte by byte to compact it.
type jsonAppender interface {
	AppendJSON(dst []byte) ([]byte, error)
}

var (
	appenderType      = reflect.TypeFor[jsonAppender]()
	marshalerType     = reflect.TypeFor[json.Marshaler]()
	textMarshalerType = reflect.TypeFor[encoding.TextMarshaler]()
)

// appendFast appends v's JSON encoding to dst when v is a non-nil
// jsonAppender or a slice of pointers that are jsonAppenders; ok is false
// (and dst untouched) for any other v, which the caller encodes with
// encoding/json. The bytes equal json.Marshal(v)'s.
func appendFast(dst []byte, v any) (out []byte, ok bool, err error) {
	if v == nil {
		return dst, false, nil
	}
	if a, isA := v.(jsonAppender); isA {
		if isNilPointer(v) {
			return dst, false, nil
		}
		out, err = a.AppendJSON(dst)
		return out, true, err
	}
	rv := reflect.ValueOf(v)
	t := rv.Type()
	if t.Kind() != reflect.Slice || t.Elem().Kind() != reflect.Pointer || !t.Elem().Implements(appenderType) ||
		t.Implements(marshalerType) || t.Implements(textMarshalerType) {
		return dst, false, nil
	}
	if rv.IsNil() {
		return append(dst, "null"...), true, nil
	}
	dst = append(dst, '[')
	for i := 0; i < rv.Len(); i++ {
		if i > 0 {
			dst = append(dst, ',')
		}
		el := rv.Index(i)
		if el.IsNil() {
			dst = append(dst, "null"...)
			continue
		}
		if dst, err = el.Interface().(jsonAppender).AppendJSON(dst); err != nil {
			return nil, true, err
		}
	}
	return append(dst, ']'), true, nil
}

// appendJSON appends json.Marshal(v)'s bytes to dst, letting a
// jsonAppender (or a slice of them) write itself.
func appendJSON(dst []byte, v any) ([]byte, error) {
	if out, ok, err := appendFast(dst, v); ok {
		return out, err
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append(dst, b...), nil
}

// isNilPointer reports whether v is a nil pointer of some type.
func isNilPointer(v any) bool {
	rv := reflect.ValueOf(v)
	return rv.Kind() == reflect.Pointer && rv.IsNil()
}

// responseKeys are the members of response in field order.
var responseKeys = [...]string{"id", "result", "error", "method", "params"}

// decodeResponse decodes a response or notification as
// json.Unmarshal(data, &r) would, with one validating scan of data
// (jsonscan.Valid, which agrees with json.Valid): the members of the
// common shape are split out with jsonscan. Objects whose decoding needs
// more care (escaped or non-ASCII keys, duplicate keys,
// members of the wrong type) and invalid JSON go through encoding/json.
func decodeResponse(data []byte) (r response, err error) {
	if jsonscan.Valid(data) {
		if r, ok := splitResponse(data); ok {
			return r, nil
		}
	}
	r = response{}
	err = json.Unmarshal(data, &r)
	return r, err
}

func splitResponse(data []byte) (r response, ok bool) {
	members, err := jsonscan.SplitObject(data)
	if err != nil {
		return response{}, false
	}
	seen := 0
	for _, m := range members {
		field, known := fieldOf(m.Key, responseKeys[:])
		if !known {
			return response{}, false
		}
		if field < 0 {
			continue
		}
		if seen&(1<<field) != 0 {
			return response{}, false
		}
		seen |= 1 << field
		switch field {
		case 0:
			r.ID = m.Value
		case 1:
			r.Result = m.Value
		case 2:
			if string(m.Value) == "null" {
				break
			}
			r.Error = new(Error)
			if json.Unmarshal(m.Value, r.Error) != nil {
				return response{}, false
			}
		case 3:
			if json.Unmarshal(m.Value, &r.Method) != nil {
				return response{}, false
			}
		case 4:
			r.Params = m.Value
		}
	}
	return r, true
}

// decodeResult decodes the raw result of a validated response into result
// as json.Unmarshal(res, result) would. A result that is a json.Unmarshaler
// gets res directly (encoding/json would first scan it again), and a
// *[]byte is filled by decoding a base64 string without escapes straight
// from res.
func decodeResult(res []byte, result any) error {
	switch r := result.(type) {
	case *[]byte:
		if r == nil {
			break
		}
		if string(res) == "null" {
			*r = nil
			return nil
		}
		if b, ok := decodePlainBase64(res); ok {
			*r = b
			return nil
		}
	case json.Unmarshaler:
		if rv := reflect.ValueOf(result); rv.Kind() == reflect.Pointer && !rv.IsNil() {
			return r.UnmarshalJSON(res)
		}
	}
	return json.Unmarshal(res, result)
}

// decodePlainBase64 decodes the JSON string token s as encoding/json
// decodes a string into []byte, when s has no escapes and no raw line
// breaks (which the base64 decoder would skip but JSON forbids).
func decodePlainBase64(s []byte) ([]byte, bool) {
	c, ok := jsonscan.PlainString(s)
	if !ok {
		return nil, false
	}
	if bytes.IndexByte(c, '\n') >= 0 || bytes.IndexByte(c, '\r') >= 0 {
		return nil, false
	}
	out := make([]byte, base64.StdEncoding.DecodedLen(len(c)))
	n, err := base64.StdEncoding.Decode(out, c)
	if err != nil {
		return nil, false
	}
	return out[:n], true
}
