package rpc

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"reflect"
	"strconv"
	"testing"

	"github.com/tessera-da/tessera/blob"
)

// rec is a param type with a pointer-receiver UnmarshalJSON that records
// the bytes it was given and refuses any containing "bad".
type rec struct{ Raw string }

func (r *rec) UnmarshalJSON(b []byte) error {
	if bytes.Contains(b, []byte("bad")) {
		return fmt.Errorf("rec: refused %s", b)
	}
	r.Raw = string(b)
	return nil
}

// recs is a named slice with its own UnmarshalJSON: decoded as a whole.
type recs []*rec

func (r *recs) UnmarshalJSON(b []byte) error {
	*r = recs{{Raw: "whole:" + string(b)}}
	return nil
}

// textSlice is a slice that encoding/json decodes as text.
type textSlice []*rec

func (t *textSlice) UnmarshalText(b []byte) error {
	*t = textSlice{{Raw: "text:" + string(b)}}
	return nil
}

// app writes its own JSON, both ways.
type app struct{ N int }

func (a *app) AppendJSON(dst []byte) ([]byte, error) {
	dst = append(dst, `{"n":`...)
	dst = strconv.AppendInt(dst, int64(a.N), 10)
	return append(dst, '}'), nil
}

func (a *app) MarshalJSON() ([]byte, error) { return a.AppendJSON(nil) }

// apps is a named slice with its own MarshalJSON: never appended element
// by element.
type apps []*app

func (apps) MarshalJSON() ([]byte, error) { return []byte(`"apps"`), nil }

var paramTypes = []reflect.Type{
	reflect.TypeFor[rec](),
	reflect.TypeFor[*rec](),
	reflect.TypeFor[[]*rec](),
	reflect.TypeFor[[]rec](),
	reflect.TypeFor[recs](),
	reflect.TypeFor[textSlice](),
	reflect.TypeFor[ns4](),
	reflect.TypeFor[[]ns4](),
	reflect.TypeFor[*ns4](),
	reflect.TypeFor[uint64](),
	reflect.TypeFor[[]uint64](),
	reflect.TypeFor[json.RawMessage](),
	reflect.TypeFor[[]*blob.Blob](),
	reflect.TypeFor[any](),
}

var paramInputs = []string{
	`null`, `{"a":1}`, `"bad"`, `"x"`, `[]`, `[null]`, `[1,"bad",2]`, `[{"a":[1,"]"]},null,"s"]`,
	`[[1]]`, `"AAECAw=="`, `["AAECAw==",null]`, `["AAECAw==","AAEC"]`, `5`, `true`, `[ 1 , 2 ]`, `[null,null]`,
	`{"namespace":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAQI=","data":"aGk="}`,
	`[{"namespace":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAQI=","data":"aGk="},null]`,
	`[{"namespace":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAQI=","data":""}]`,
}

// sameErr reports whether a and b are both nil or have the same text.
func sameErr(a, b error) bool {
	return (a == nil) == (b == nil) && (a == nil || a.Error() == b.Error())
}

// sameDecode fails unless the param decoder and json.Unmarshal agree on
// raw (valid JSON) for type t.
func sameDecode(t *testing.T, typ reflect.Type, raw []byte) {
	t.Helper()
	got, gotErr := newParamDecoder(typ).decode(raw)
	want := reflect.New(typ)
	wantErr := json.Unmarshal(raw, want.Interface())
	if !sameErr(gotErr, wantErr) {
		t.Fatalf("%v from %s: error %v, encoding/json %v", typ, raw, gotErr, wantErr)
	}
	if gotErr == nil && !reflect.DeepEqual(got.Interface(), want.Elem().Interface()) {
		t.Fatalf("%v from %s: got %#v, encoding/json %#v", typ, raw, got.Interface(), want.Elem().Interface())
	}
}

func TestParamDecoderMatchesEncodingJSON(t *testing.T) {
	wantVia := map[reflect.Type]unmarshalVia{
		reflect.TypeFor[rec]():          viaAddr,
		reflect.TypeFor[*rec]():         viaPointer,
		reflect.TypeFor[[]*rec]():       viaSlice,
		reflect.TypeFor[[]rec]():        viaSlice,
		reflect.TypeFor[recs]():         viaAddr,
		reflect.TypeFor[textSlice]():    viaJSON,
		reflect.TypeFor[uint64]():       viaJSON,
		reflect.TypeFor[[]*blob.Blob](): viaSlice,
		reflect.TypeFor[any]():          viaJSON,
	}
	for typ, want := range wantVia {
		if got := newParamDecoder(typ).how; got != want {
			t.Errorf("%v decoded via %d, want %d", typ, got, want)
		}
	}
	for _, typ := range paramTypes {
		for _, in := range paramInputs {
			t.Run(typ.String()+"/"+in, func(t *testing.T) { sameDecode(t, typ, []byte(in)) })
		}
	}
}

func FuzzParamDecoder(f *testing.F) {
	for _, in := range paramInputs {
		f.Add([]byte(in))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		raw = bytes.TrimSpace(raw)
		if !json.Valid(raw) {
			return
		}
		for _, typ := range paramTypes {
			sameDecode(t, typ, raw)
		}
	})
}

var envelopeInputs = []string{
	`{"jsonrpc":"2.0","id":1,"method":"a.B","params":[1,"x",{"y":[]}]}`,
	`{"JSONRPC":"2.0","Id":"q","METHOD":"a.B","Params":null}`,
	`{"id":1,"id":2,"method":"a.B","method":"c.D","extra":{"id":3}}`,
	`{"jsonrpc":"2.0","\u0069d":7,"method":"a.B"}`,
	`{"jsonrpc":"2.0","ıd":7,"method":"a.B"}`,
	`{"jsonrpc":null,"id":null,"method":null,"params":null}`,
	`{}`, `[]`, `"x"`, `null`, ` { "id" : [ 1 , 2 ] , "params" : "\"" } `,
}

func sameEnvelope(t *testing.T, raw []byte) {
	t.Helper()
	got, ok := splitEnvelope(raw)
	if !ok {
		return
	}
	var want envelope
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatalf("%s: split, but encoding/json says %v", raw, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s: split %+v, encoding/json %+v", raw, got, want)
	}
}

func TestSplitEnvelopeMatchesEncodingJSON(t *testing.T) {
	for _, in := range envelopeInputs {
		sameEnvelope(t, []byte(in))
	}
	if _, ok := splitEnvelope([]byte(envelopeInputs[0])); !ok {
		t.Fatal("the common shape was not split")
	}
	if _, ok := splitEnvelope([]byte(envelopeInputs[3])); ok {
		t.Fatal("an escaped key was split")
	}
}

func FuzzSplitEnvelope(f *testing.F) {
	for _, in := range envelopeInputs {
		f.Add([]byte(in))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		raw = bytes.TrimSpace(raw)
		if json.Valid(raw) {
			sameEnvelope(t, raw)
		}
	})
}

var responseInputs = []string{
	`{"jsonrpc":"2.0","id":1,"result":{"a":"b"}}`,
	`{"jsonrpc":"2.0","id":1,"error":{"code":1,"message":"m"}}`,
	`{"jsonrpc":"2.0","id":1,"error":null,"result":null}`,
	`{"jsonrpc":"2.0","method":"xrpc.ch.val","params":[1,"v"]}`,
	`{"jsonrpc":"2.0","method":5,"params":[1,"v"]}`,
	`{"jsonrpc":"2.0","id":1,"error":{"code":1},"error":{"message":"m"}}`,
	`{"jsonrpc":"2.0","id":1,"error":[1]}`,
	`{"jsonrpc":"2.0","ID":1,"Result":"x","r\u0065sult":"y"}`,
	`{"id":1,"result":"AAEC","id":2}`,
	`[]`, `null`, `"x"`, `{`, ``, `{"id":1}x`, "{\"id\":\"\x01\"}",
}

func sameResponse(t *testing.T, data []byte) {
	t.Helper()
	got, gotErr := decodeResponse(data)
	var want response
	wantErr := json.Unmarshal(data, &want)
	if !sameErr(gotErr, wantErr) {
		t.Fatalf("%q: error %v, encoding/json %v", data, gotErr, wantErr)
	}
	if gotErr == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("%q: decoded %+v, encoding/json %+v", data, got, want)
	}
}

func TestDecodeResponseMatchesEncodingJSON(t *testing.T) {
	for _, in := range responseInputs {
		sameResponse(t, []byte(in))
	}
}

func FuzzDecodeResponse(f *testing.F) {
	for _, in := range responseInputs {
		f.Add([]byte(in))
	}
	f.Fuzz(func(t *testing.T, data []byte) { sameResponse(t, data) })
}

var resultTypes = []reflect.Type{
	reflect.TypeFor[[]byte](),
	reflect.TypeFor[rec](),
	reflect.TypeFor[json.RawMessage](),
	reflect.TypeFor[uint64](),
	reflect.TypeFor[*rec](),
	reflect.TypeFor[blob.Commitment](),
}

func sameResult(t *testing.T, typ reflect.Type, raw []byte) {
	t.Helper()
	got, want := reflect.New(typ), reflect.New(typ)
	gotErr := decodeResult(raw, got.Interface())
	wantErr := json.Unmarshal(raw, want.Interface())
	if !sameErr(gotErr, wantErr) {
		t.Fatalf("%v from %s: error %v, encoding/json %v", typ, raw, gotErr, wantErr)
	}
	if gotErr == nil && !reflect.DeepEqual(got.Interface(), want.Interface()) {
		t.Fatalf("%v from %s: got %#v, encoding/json %#v", typ, raw, got.Elem().Interface(), want.Elem().Interface())
	}
}

func TestDecodeResultMatchesEncodingJSON(t *testing.T) {
	for _, typ := range resultTypes {
		for _, in := range append(paramInputs, `""`, `"AA=="`, `"AA="`, `"A\u0041=="`, `"AA==\n"`) {
			sameResult(t, typ, []byte(in))
		}
	}
	// Targets that are not pointers fail as with encoding/json.
	var b any = []byte(nil)
	if err, want := decodeResult([]byte(`"AA=="`), b), json.Unmarshal([]byte(`"AA=="`), b); err == nil || err.Error() != want.Error() {
		t.Fatalf("non-pointer target: %v, want %v", err, want)
	}
	if err := decodeResult([]byte(`"AA=="`), (*[]byte)(nil)); err == nil {
		t.Fatal("nil *[]byte target accepted")
	}
}

func FuzzDecodeResult(f *testing.F) {
	for _, in := range paramInputs {
		f.Add([]byte(in))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		raw = bytes.TrimSpace(raw)
		if !json.Valid(raw) {
			return
		}
		for _, typ := range resultTypes {
			sameResult(t, typ, raw)
		}
	})
}

func TestAppendFastMatchesMarshal(t *testing.T) {
	for _, tc := range []struct {
		name string
		v    any
		fast bool
	}{
		{"appender", &app{N: 1}, true},
		{"nil appender", (*app)(nil), false},
		{"appender value", app{N: 2}, false},
		{"slice", []*app{{N: 1}, nil, {N: 3}}, true},
		{"nil slice", []*app(nil), true},
		{"empty slice", []*app{}, true},
		{"named slice with MarshalJSON", apps{{N: 1}}, false},
		{"slice of values", []app{{N: 1}}, false},
		{"number", 5, false},
		{"nil", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok, err := appendFast([]byte("pre"), tc.v)
			if err != nil || ok != tc.fast {
				t.Fatalf("ok %v err %v, want ok %v", ok, err, tc.fast)
			}
			if !ok {
				if string(got) != "pre" {
					t.Fatalf("dst changed to %q", got)
				}
				return
			}
			want, err := json.Marshal(tc.v)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, append([]byte("pre"), want...)) {
				t.Fatalf("got %s, json.Marshal %s", got, want)
			}
			res, err := appendResultValue(nil, tc.v)
			if err != nil || !bytes.Equal(res, want) {
				t.Fatalf("appendResultValue %s %v, want %s", res, err, want)
			}
		})
	}
	params := []any{[]*app{{N: 1}, nil}, &app{N: 2}, nil, "x<&>", apps{}, 1.5, (*app)(nil)}
	got, err := encodeParams(params)
	want, _ := json.Marshal(params)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("encodeParams %s %v, json.Marshal %s", got, err, want)
	}
}

// TestBlobWireBytesUnchanged checks that a blob.Submit request and a
// blob.Get response are, byte for byte, what encoding/json produced
// before the fast paths.
func TestBlobWireBytesUnchanged(t *testing.T) {
	bl := benchBlob(t)
	blobs := []*blob.Blob{bl, nil, bl.WithIndex(3)}
	body, err := encodeRequest(9, "blob.Submit", []any{blobs, nil})
	if err != nil {
		t.Fatal(err)
	}
	ps, _ := json.Marshal([]any{blobs, nil})
	if want := `{"jsonrpc":"2.0","id":9,"method":"blob.Submit","params":` + string(ps) + `}`; string(body) != want {
		t.Fatal("blob.Submit request bytes changed")
	}
	s := blobServer(t, bl.WithIndex(5))
	req, _ := encodeRequest(1, "blob.Get", []any{uint64(1), bl.Namespace(), bl.Commitment()})
	resp, status := s.handleBody(context.Background(), PermsFor(PermAdmin), req)
	js, _ := json.Marshal(bl.WithIndex(5))
	if want := appendResult(nil, json.RawMessage("1"), js); status != 200 || !bytes.Equal(resp, want) {
		t.Fatalf("blob.Get response bytes changed (status %d)", status)
	}
	for _, v := range []any{blobs, []*blob.Blob(nil), []*blob.Blob{}} {
		got, err := appendResultValue(nil, v)
		want, _ := json.Marshal(v)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("appendResultValue(%T of %d) differs from json.Marshal", v, len(v.([]*blob.Blob)))
		}
	}
}

// TestBlobRoundTrip submits and reads a 1 MiB blob through the client and
// server, over HTTP and WebSocket on loopback.
func TestBlobRoundTrip(t *testing.T) {
	bl := benchBlob(t).WithIndex(11)
	hs := httptest.NewServer(blobServer(t, bl))
	defer hs.Close()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	for _, ws := range []bool{false, true} {
		t.Run(fmt.Sprintf("ws=%v", ws), func(t *testing.T) {
			dial := Dial
			if ws {
				dial = DialWS
			}
			c, err := dial(ctx, hs.URL, "")
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			var n uint64
			if err := c.Call(ctx, "blob.Submit", &n, []*blob.Blob{bl, bl}, nil); err != nil || n != 2 {
				t.Fatalf("blob.Submit: %d, %v", n, err)
			}
			var got blob.Blob
			if err := c.Call(ctx, "blob.Get", &got, uint64(1), bl.Namespace(), bl.Commitment()); err != nil {
				t.Fatal(err)
			}
			var ptr *blob.Blob // decoded by encoding/json, which calls the same UnmarshalJSON
			if err := c.Call(ctx, "blob.Get", &ptr, uint64(1), bl.Namespace(), bl.Commitment()); err != nil {
				t.Fatal(err)
			}
			for _, g := range []*blob.Blob{&got, ptr} {
				if !g.Equal(bl.Blob) || !bytes.Equal(g.Commitment(), bl.Commitment()) || g.Index() != 11 {
					t.Fatal("blob.Get returned another blob")
				}
			}
			// A tampered blob is refused by the server with the blob's error.
			bad := []byte(`{"namespace":"` + b64(bl.Namespace().Bytes()) + `","data":"aGk=","share_version":0,"commitment":"` + b64(bl.Commitment()) + `"}`)
			err = c.Call(ctx, "blob.Submit", &n, []json.RawMessage{bad}, nil)
			var e *Error
			if !asError(err, &e) || e.Code != CodeInvalidParams || !bytes.Contains([]byte(e.Message), []byte("commitment")) {
				t.Fatalf("tampered blob: %v", err)
			}
		})
	}
}
