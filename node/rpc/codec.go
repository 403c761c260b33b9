package rpc

import (
	"bytes"
	"encoding/json"
	"strconv"

	"github.com/tessera-da/tessera/internal/jsonscan"
)

// Protocol method names (go-jsonrpc's channel and cancel extensions).
const (
	methodChanValue = "xrpc.ch.val"
	methodChanClose = "xrpc.ch.close"
	methodCancel    = "xrpc.cancel"
)

// request is one well-formed request object.
type request struct {
	id     json.RawMessage // nil for a notification; else a string, number or null
	method string
	params json.RawMessage // nil, null, array or object
}

// envelope is what a request object is first decoded into; each member is
// then checked by hand so that every malformed shape gets its own error.
type envelope struct {
	JSONRPC json.RawMessage `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Method  json.RawMessage `json:"method"`
	Params  json.RawMessage `json:"params"`
}

// splitBody checks that body is JSON and says whether it is a batch. For a
// batch it returns the elements, unchecked. A single request comes back as
// the whole trimmed body.
func splitBody(body []byte, maxBatch int) (single []byte, batch [][]byte, e *Error) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil, nil, errorf(CodeInvalidRequest, "empty request")
	}
	if !jsonscan.Valid(body) { // json.Valid's verdict, a word at a time
		return nil, nil, errorf(CodeParseError, "parse error: request is not valid JSON")
	}
	if body[0] != '[' {
		return body, nil, nil
	}
	batch, err := jsonscan.SplitArray(body)
	if err != nil {
		return nil, nil, errorf(CodeParseError, "parse error: %s", shortErr(err))
	}
	if len(batch) == 0 {
		return nil, nil, errorf(CodeInvalidRequest, "empty batch")
	}
	if len(batch) > maxBatch {
		return nil, nil, errorf(CodeInvalidRequest, "batch of %d requests exceeds the limit of %d", len(batch), maxBatch)
	}
	return nil, batch, nil
}

// parseRequest checks one request object (valid JSON already). On error
// the returned request still carries the id when it could be read, so the
// error response can echo it; a nil id there means "respond with null".
func parseRequest(raw []byte) (request, *Error) {
	var req request
	if len(raw) == 0 || raw[0] != '{' {
		return req, errorf(CodeInvalidRequest, "invalid request: not a JSON object")
	}
	env, ok := splitEnvelope(raw)
	if !ok {
		if err := json.Unmarshal(raw, &env); err != nil {
			return req, errorf(CodeInvalidRequest, "invalid request: %s", shortErr(err))
		}
	}
	if env.ID != nil {
		if !validID(env.ID) {
			return req, errorf(CodeInvalidRequest, "invalid request: id must be a string, number or null")
		}
		req.id = env.ID
	}
	var version string
	if len(env.JSONRPC) == 0 || env.JSONRPC[0] != '"' || json.Unmarshal(env.JSONRPC, &version) != nil || version != "2.0" {
		return req, errorf(CodeInvalidRequest, `invalid request: "jsonrpc" must be "2.0"`)
	}
	if len(env.Method) == 0 || env.Method[0] != '"' {
		return req, errorf(CodeInvalidRequest, `invalid request: "method" must be a string`)
	}
	if err := json.Unmarshal(env.Method, &req.method); err != nil || req.method == "" {
		return req, errorf(CodeInvalidRequest, `invalid request: "method" must be a non-empty string`)
	}
	if p := env.Params; len(p) != 0 && p[0] != '[' && p[0] != '{' && string(p) != "null" {
		return req, errorf(CodeInvalidRequest, `invalid request: "params" must be an array`)
	}
	req.params = env.Params
	return req, nil
}

// envelopeKeys are the envelope's members in field order.
var envelopeKeys = [...]string{"jsonrpc", "id", "method", "params"}

// splitEnvelope fills an envelope from the valid JSON object raw the way
// encoding/json would (keys matched case-insensitively, the last of
// duplicates wins, unknown keys ignored) but skipping values with
// jsonscan instead of scanning them byte by byte. ok is false when a key
// has escapes or non-ASCII bytes, whose matching it leaves to
// encoding/json.
func splitEnvelope(raw []byte) (env envelope, ok bool) {
	members, err := jsonscan.SplitObject(raw)
	if err != nil {
		return envelope{}, false
	}
	fields := [...]*json.RawMessage{&env.JSONRPC, &env.ID, &env.Method, &env.Params}
	for _, m := range members {
		f, known := fieldOf(m.Key, envelopeKeys[:])
		if !known {
			return envelope{}, false
		}
		if f >= 0 {
			*fields[f] = m.Value
		}
	}
	return env, true
}

// fieldOf returns the index in names of the struct field encoding/json
// would decode the raw object key into, or -1 for none. known is false
// when the key has escapes or non-ASCII bytes, whose matching is left to
// encoding/json.
func fieldOf(key []byte, names []string) (field int, known bool) {
	for i, name := range names {
		match, known := jsonscan.KeyIs(key, name)
		if !known {
			return -1, false
		}
		if match {
			return i, true
		}
	}
	return -1, true
}

// validID accepts the id types JSON-RPC 2.0 allows.
func validID(id json.RawMessage) bool {
	switch c := id[0]; {
	case c == '"', c == '-', c >= '0' && c <= '9':
		return true
	default:
		return string(id) == "null"
	}
}

// idKey canonicalises an id so that 1, 1.0 and 1e0 name the same request,
// as go-jsonrpc's float64 normalisation does.
func idKey(id json.RawMessage) (string, bool) {
	if len(id) == 0 {
		return "", false
	}
	if id[0] == '"' {
		var s string
		if json.Unmarshal(id, &s) != nil {
			return "", false
		}
		return "s" + s, true
	}
	f, err := strconv.ParseFloat(string(id), 64)
	if err != nil {
		return "", false
	}
	return "n" + strconv.FormatFloat(f, 'g', -1, 64), true
}

const respPrefix = `{"jsonrpc":"2.0","id":`

// appendResult appends a success response; result must be valid JSON.
func appendResult(dst []byte, id, result json.RawMessage) []byte {
	dst = appendResultPrefix(dst, id)
	dst = append(dst, result...)
	return append(dst, '}')
}

// appendResultPrefix appends a success response up to its result, which
// the caller appends followed by '}'.
func appendResultPrefix(dst []byte, id json.RawMessage) []byte {
	dst = append(dst, respPrefix...)
	dst = appendID(dst, id)
	return append(dst, `,"result":`...)
}

// appendError appends an error response.
func appendError(dst []byte, id json.RawMessage, e *Error) []byte {
	dst = append(dst, respPrefix...)
	dst = appendID(dst, id)
	dst = append(dst, `,"error":{"code":`...)
	dst = strconv.AppendInt(dst, int64(e.Code), 10)
	dst = append(dst, `,"message":`...)
	msg, _ := json.Marshal(e.Message) // a string always encodes
	dst = append(dst, msg...)
	return append(dst, "}}"...)
}

func appendID(dst []byte, id json.RawMessage) []byte {
	if len(id) == 0 {
		return append(dst, "null"...)
	}
	return append(dst, id...)
}

// responseArray returns the JSON array of the responses that are not
// nil, or nil when all are (a batch of notifications gets no answer).
func responseArray(resps [][]byte) []byte {
	var out []byte
	for _, r := range resps {
		if r == nil {
			continue
		}
		if out == nil {
			out = append(out, '[')
		} else {
			out = append(out, ',')
		}
		out = append(out, r...)
	}
	if out == nil {
		return nil
	}
	return append(out, ']')
}

// errorBody is a complete error response with a null id.
func errorBody(e *Error) []byte {
	return appendError(nil, nil, e)
}

// chanValue encodes {"jsonrpc":"2.0","method":"xrpc.ch.val","params":[id,v]}.
func chanValue(chID uint64, value []byte) []byte {
	b := make([]byte, 0, len(value)+64)
	b = append(b, `{"jsonrpc":"2.0","method":"`+methodChanValue+`","params":[`...)
	b = strconv.AppendUint(b, chID, 10)
	b = append(b, ',')
	b = append(b, value...)
	return append(b, "]}"...)
}

// chanClose encodes {"jsonrpc":"2.0","method":"xrpc.ch.close","params":[id]}.
func chanClose(chID uint64) []byte {
	b := []byte(`{"jsonrpc":"2.0","method":"` + methodChanClose + `","params":[`)
	b = strconv.AppendUint(b, chID, 10)
	return append(b, "]}"...)
}
