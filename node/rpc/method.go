package rpc

import (
	"context"
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	"github.com/tessera-da/tessera/internal/jsonscan"
)

var (
	ctxType             = reflect.TypeFor[context.Context]()
	errType             = reflect.TypeFor[error]()
	unmarshalerType     = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// maxMethodName bounds registered method names (bytes).
const maxMethodName = 128

// method is one registered handler, checked once at registration.
type method struct {
	name   string
	perm   Perm
	fn     reflect.Value
	params []reflect.Type
	decs   []paramDecoder // one per param
	names  []string       // parameter names for error messages; may be nil
	value  bool           // the handler returns a value before its error
	sub    bool           // that value is a receive-only channel
}

// newMethod checks a handler's signature: func(context.Context, P1, …, Pn)
// returning error, (T, error) or (<-chan T, error).
func newMethod(name string, perm Perm, fn any, names []string) (*method, error) {
	if err := checkMethodName(name); err != nil {
		return nil, err
	}
	if !perm.valid() {
		return nil, fmt.Errorf("rpc: register %s: unknown permission %q", name, perm)
	}
	v := reflect.ValueOf(fn)
	if !v.IsValid() || v.Kind() != reflect.Func || v.IsNil() {
		return nil, fmt.Errorf("rpc: register %s: handler is %T, not a func", name, fn)
	}
	t := v.Type()
	if t.IsVariadic() {
		return nil, fmt.Errorf("rpc: register %s: variadic handlers are not supported", name)
	}
	if t.NumIn() == 0 || t.In(0) != ctxType {
		return nil, fmt.Errorf("rpc: register %s: first parameter must be context.Context", name)
	}
	m := &method{name: name, perm: perm, fn: v}
	for i := 1; i < t.NumIn(); i++ {
		pt := t.In(i)
		if !decodable(pt) {
			return nil, fmt.Errorf("rpc: register %s: parameter %d has type %v, which JSON cannot decode into", name, i, pt)
		}
		m.params = append(m.params, pt)
		m.decs = append(m.decs, newParamDecoder(pt))
	}
	if len(names) != 0 && len(names) != len(m.params) {
		return nil, fmt.Errorf("rpc: register %s: %d parameter names for %d parameters", name, len(names), len(m.params))
	}
	m.names = append([]string(nil), names...)
	switch t.NumOut() {
	case 1:
		if t.Out(0) != errType {
			return nil, fmt.Errorf("rpc: register %s: a single result must be error", name)
		}
	case 2:
		if t.Out(1) != errType {
			return nil, fmt.Errorf("rpc: register %s: second result must be error", name)
		}
		rt := t.Out(0)
		m.value = true
		if rt.Kind() == reflect.Chan {
			if rt.ChanDir() != reflect.RecvDir {
				return nil, fmt.Errorf("rpc: register %s: a subscription must return a receive-only channel (<-chan T), not %v", name, rt)
			}
			if !encodable(rt.Elem()) {
				return nil, fmt.Errorf("rpc: register %s: channel element type %v cannot be JSON-encoded", name, rt.Elem())
			}
			m.sub = true
		} else if !encodable(rt) {
			return nil, fmt.Errorf("rpc: register %s: result type %v cannot be JSON-encoded", name, rt)
		}
	default:
		return nil, fmt.Errorf("rpc: register %s: handler must return error, (T, error) or (<-chan T, error)", name)
	}
	return m, nil
}

// checkMethodName accepts "module.Method" names made of printable ASCII
// without spaces; the "xrpc." prefix is reserved for the protocol.
func checkMethodName(name string) error {
	if name == "" || len(name) > maxMethodName {
		return fmt.Errorf("rpc: method name %.40q: empty or longer than %d bytes", name, maxMethodName)
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c <= ' ' || c >= 0x7f {
			return fmt.Errorf("rpc: method name %q: only printable ASCII without spaces", name)
		}
	}
	mod, meth, ok := strings.Cut(name, ".")
	if !ok || mod == "" || meth == "" {
		return fmt.Errorf("rpc: method name %q is not \"module.Method\"", name)
	}
	if mod == "xrpc" {
		return fmt.Errorf("rpc: method name %q: the xrpc module is reserved", name)
	}
	return nil
}

// decodable rejects types encoding/json can never decode into.
func decodable(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Func, reflect.Chan, reflect.UnsafePointer, reflect.Complex64, reflect.Complex128:
		return false
	case reflect.Interface:
		return t.NumMethod() == 0
	}
	return true
}

// encodable rejects types encoding/json can never encode.
func encodable(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Func, reflect.Chan, reflect.UnsafePointer, reflect.Complex64, reflect.Complex128:
		return false
	}
	return true
}

// paramLabel names parameter i (0-based) in error messages.
func (m *method) paramLabel(i int) string {
	if m.names != nil {
		return fmt.Sprintf("%d (%s %v)", i+1, m.names[i], m.params[i])
	}
	return fmt.Sprintf("%d (%v)", i+1, m.params[i])
}

// decodeParams decodes positional params into the handler's argument
// types. raw is nil, "null" or a JSON array or object (already checked to
// be valid JSON); each element is decoded as encoding/json would decode
// it (see paramDecoder), so types with UnmarshalJSON validate themselves.
func (m *method) decodeParams(raw json.RawMessage) ([]reflect.Value, *Error) {
	var ps [][]byte
	switch {
	case len(raw) == 0 || string(raw) == "null":
	case raw[0] == '[':
		var err error
		if ps, err = jsonscan.SplitArray(raw); err != nil {
			return nil, errorf(CodeInvalidParams, "params of '%s' are not a JSON array: %s", m.name, shortErr(err))
		}
	default:
		return nil, errorf(CodeInvalidParams, "params of '%s' must be a positional array", m.name)
	}
	if len(ps) != len(m.params) {
		return nil, errorf(CodeInvalidParams, "wrong param count (method '%s'): got %d, want %d%s", m.name, len(ps), len(m.params), m.signature())
	}
	args := make([]reflect.Value, len(ps))
	for i, p := range ps {
		v, err := m.decs[i].decode(p)
		if err != nil {
			return nil, errorf(CodeInvalidParams, "invalid param %s of '%s': %s", m.paramLabel(i), m.name, shortErr(err))
		}
		args[i] = v
	}
	return args, nil
}

// signature lists the parameters for the wrong-count message.
func (m *method) signature() string {
	if len(m.params) == 0 {
		return ""
	}
	parts := make([]string, len(m.params))
	for i, t := range m.params {
		if m.names != nil {
			parts[i] = m.names[i] + " " + t.String()
		} else {
			parts[i] = t.String()
		}
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

// paramDecoder decodes one positional param of a fixed type. For the
// types encoding/json would hand straight to an UnmarshalJSON method, it
// calls that method itself on the raw param: the request was validated
// once as a whole, and encoding/json would scan the param again (and, for
// a slice, twice) before reaching the method. Every other type goes
// through json.Unmarshal. Results and errors are those of json.Unmarshal.
type paramDecoder struct {
	t    reflect.Type
	how  unmarshalVia
	elem unmarshalVia // for viaSlice: how each element is decoded
}

// unmarshalVia says how a value of some type is decoded.
type unmarshalVia uint8

const (
	viaJSON    unmarshalVia = iota // json.Unmarshal
	viaAddr                        // named non-pointer T with (*T).UnmarshalJSON: called even for null
	viaPointer                     // pointer *E implementing json.Unmarshaler: null gives nil
	viaSlice                       // slice whose elements are viaAddr or viaPointer
)

// unmarshalerVia finds whether encoding/json decodes a value of type t by
// calling its UnmarshalJSON directly, and how it reaches the method.
func unmarshalerVia(t reflect.Type) unmarshalVia {
	switch {
	case t.Kind() == reflect.Pointer && t.Implements(unmarshalerType):
		return viaPointer
	case t.Kind() != reflect.Pointer && t.Kind() != reflect.Interface && t.Name() != "" && reflect.PointerTo(t).Implements(unmarshalerType):
		return viaAddr
	}
	return viaJSON
}

func newParamDecoder(t reflect.Type) paramDecoder {
	if how := unmarshalerVia(t); how != viaJSON {
		return paramDecoder{t: t, how: how}
	}
	if t.Kind() == reflect.Slice && !reflect.PointerTo(t).Implements(textUnmarshalerType) {
		if el := unmarshalerVia(t.Elem()); el != viaJSON {
			return paramDecoder{t: t, how: viaSlice, elem: el}
		}
	}
	return paramDecoder{t: t}
}

// decode decodes raw, a valid JSON value, into a new value of d.t.
func (d paramDecoder) decode(raw []byte) (reflect.Value, error) {
	v := reflect.New(d.t).Elem()
	switch d.how {
	case viaAddr, viaPointer:
		return v, setUnmarshaled(v, d.how, raw)
	case viaSlice:
		if string(raw) == "null" {
			return v, nil
		}
		if raw[0] != '[' {
			break // json.Unmarshal words the type error
		}
		els, err := jsonscan.SplitArray(raw)
		if err != nil {
			return v, err
		}
		v.Set(reflect.MakeSlice(d.t, len(els), len(els)))
		for i, el := range els {
			if err := setUnmarshaled(v.Index(i), d.elem, el); err != nil {
				return v, err
			}
		}
		return v, nil
	}
	err := json.Unmarshal(raw, v.Addr().Interface())
	return v, err
}

// setUnmarshaled decodes raw into the settable v as encoding/json does for
// a type reached via how: a pointer stays nil on null, and is otherwise
// allocated and its UnmarshalJSON called; a named value has its pointer's
// UnmarshalJSON called, null included.
func setUnmarshaled(v reflect.Value, how unmarshalVia, raw []byte) error {
	if how == viaPointer {
		if string(raw) == "null" {
			return nil
		}
		v.Set(reflect.New(v.Type().Elem()))
		return v.Interface().(json.Unmarshaler).UnmarshalJSON(raw)
	}
	return v.Addr().Interface().(json.Unmarshaler).UnmarshalJSON(raw)
}
