package blob

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/tessera-da/tessera/share"
)

const testNSB64 = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAQI=" // v0 namespace {1,2}

// unmarshalSlow is Blob.UnmarshalJSON as it was before the fast path:
// encoding/json alone. It is the reference the fast path must match.
func unmarshalSlow(data []byte) (*Blob, error) {
	var j jsonBlob
	if err := decodeJSONBlobSlow(data, &j); err != nil {
		return nil, err
	}
	return fromJSONBlob(&j)
}

// sameOutcome fails unless UnmarshalJSON and the reference agree on data:
// the same error text and sentinels, or equal blobs.
func sameOutcome(t *testing.T, data []byte) {
	t.Helper()
	want, wantErr := unmarshalSlow(data)
	var got Blob
	gotErr := got.UnmarshalJSON(data)
	if (wantErr == nil) != (gotErr == nil) {
		t.Fatalf("%q: fast error %v, reference error %v", data, gotErr, wantErr)
	}
	if wantErr != nil {
		if gotErr.Error() != wantErr.Error() {
			t.Fatalf("%q: fast error %q, reference error %q", data, gotErr, wantErr)
		}
		for _, s := range []error{ErrInvalidBlobJSON, ErrCommitmentMismatch, share.ErrInvalidBlob} {
			if errors.Is(gotErr, s) != errors.Is(wantErr, s) {
				t.Fatalf("%q: errors.Is(%v) differs", data, s)
			}
		}
		return
	}
	if !got.Equal(want.Blob) || !bytes.Equal(got.Commitment(), want.Commitment()) || got.Index() != want.Index() {
		t.Fatalf("%q: fast path decoded another blob", data)
	}
	// The decoded fields themselves, nil versus empty included.
	var jf, js jsonBlob
	if decodeJSONBlobFast(data, &jf) {
		if err := decodeJSONBlobSlow(data, &js); err != nil || !reflect.DeepEqual(jf, js) {
			t.Fatalf("%q: fast fields %+v, encoding/json %+v (%v)", data, jf, js, err)
		}
	}
}

func jsonCases() []string {
	return []string{
		// accepted by both
		`{"namespace":"` + testNSB64 + `","data":"aGk=","share_version":0}`,
		` { "namespace" : "` + testNSB64 + `" , "data":"aGk=" ,"share_version": 0 ,"index":5 } `,
		"{\"namespace\":\"" + testNSB64 + "\",\r\n\t\"data\":\"aGk=\"}",
		`{"namespace":"` + testNSB64 + `","data":"aGk=","share_version":null,"index":null,"commitment":null,"signer":null}`,
		`{"namespace":"` + testNSB64 + `","data":"aGk=","index":-1}`,
		`{"namespace":"` + testNSB64 + `","data":"aGk=","index":-0}`,
		`{"namespace":"` + testNSB64 + `","data":"aGk=","commitment":""}`,
		// fall back: escapes, case, duplicates, unknown keys
		`{"namespace":"` + testNSB64 + `","data":"aG\u0073=","share_version":0}`,
		`{"namespace":"` + testNSB64 + `","data":"aGk\n=","share_version":0}`,
		`{"Namespace":"` + testNSB64 + `","DATA":"aGk="}`,
		`{"namespace":"` + testNSB64 + `","data":"aGk=","data":"aGk="}`,
		`{"namespace":"` + testNSB64 + `","data":"aGk=","data":null}`,
		`{"namespace":"` + testNSB64 + `","data":"aGk=","extra":[1,{"a":"b"}]}`,
		`{"namespace":"` + testNSB64 + `","d\u0061ta":"aGk="}`,
		`{"namespace":"` + testNSB64 + `","data":"aGk=","share_version":1e0}`,
		`{"namespace":"` + testNSB64 + `","data":"aGk=","share_version":0.0}`,
		`{"namespace":"` + testNSB64 + `","data":"aGk=","share_version":"0"}`,
		`{"namespace":"` + testNSB64 + `","data":"aGk=","index":1.5}`,
		`{"namespace":"` + testNSB64 + `","data":"aGk=","index":-}`,
		`{"namespace":"` + testNSB64 + `","data":"aGk=","index":01}`,
		`{"namespace":"` + testNSB64 + `","data":"aGk=","index":99999999999999999999}`,
		`{"namespace":"` + testNSB64 + `","data":"aGk=","share_version":4294967296}`,
		`{"namespace":"` + testNSB64 + `","data":"aGk=","share_version":-1}`,
		`{"namespace":"` + testNSB64 + `","data":true}`,
		`{"namespace":"` + testNSB64 + `","data":[1]}`,
		`{"namespace":"` + testNSB64 + `","data":"aGk"}`,
		`{"namespace":"` + testNSB64 + `","data":"a Gk="}`,
		"{\"namespace\":\"" + testNSB64 + "\",\"data\":\"aGk=\x01\"}",
		"{\"namespace\":\"" + testNSB64 + "\",\"data\":\"aG\rk=\"}",
		// malformed
		``, `{`, `}`, `[]`, `null`, `"x"`, `{}`, `{"data"}`, `{"data":}`, `{"data":"aGk=",}`,
		`{"namespace":"` + testNSB64 + `","data":"aGk="}x`,
		`{"namespace":"` + testNSB64 + `","data":"aGk="}}`,
		`{"namespace":"` + testNSB64 + `","data":"aGk=" "index":1}`,
		`{"namespace":"` + testNSB64 + `","data":"aGk=","index":nul}`,
		`{"namespace":"` + testNSB64 + `","data":"aGk=","index":nullx}`,
		`{"namespace":"` + testNSB64 + `","data":"aGk=","index":1x}`,
		`{"namespace":"` + testNSB64 + `","data":"aGk=`,
		// valid JSON, invalid blob
		`{"namespace":"AAAA","data":"aGk=","share_version":0}`,
		`{"namespace":"` + testNSB64 + `","data":"","share_version":0}`,
		`{"namespace":"` + testNSB64 + `","data":"aGk=","share_version":1}`,
		`{"namespace":"` + testNSB64 + `","data":"aGk=","share_version":300}`,
		`{"namespace":"` + testNSB64 + `","data":"aGk=","commitment":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}`,
		`{"namespace":"` + testNSB64 + `","data":"aGk=","index":-2}`,
	}
}

func TestUnmarshalJSONFastMatchesEncodingJSON(t *testing.T) {
	for _, c := range jsonCases() {
		t.Run(c, func(t *testing.T) { sameOutcome(t, []byte(c)) })
	}
}

// TestUnmarshalJSONFastPathTaken checks the fast parser accepts what
// MarshalJSON writes, so that the common case never reaches encoding/json.
func TestUnmarshalJSONFastPathTaken(t *testing.T) {
	for _, b := range testBlobs(t) {
		js, err := b.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		var j jsonBlob
		if !decodeJSONBlobFast(js, &j) {
			t.Fatalf("fast path refused %s", js)
		}
		sameOutcome(t, js)
	}
}

func testBlobs(t testing.TB) []*Blob {
	t.Helper()
	v0, err := New(testNS(t, 2), []byte("hello"), share.ShareVersionZero, nil)
	if err != nil {
		t.Fatal(err)
	}
	v1, err := New(testNS(t, 3), bytes.Repeat([]byte{0xfb, 0xff, 0x3e}, 700), share.ShareVersionOne, bytes.Repeat([]byte{9}, share.SignerSize))
	if err != nil {
		t.Fatal(err)
	}
	big, err := New(testNS(t, 4), bytes.Repeat([]byte("<&>\"\\"), 10000), share.ShareVersionZero, nil)
	if err != nil {
		t.Fatal(err)
	}
	return []*Blob{v0, v0.WithIndex(0), v1.WithIndex(123456), big.WithIndex(1 << 40)}
}

// TestMarshalJSONMatchesEncodingJSON checks AppendJSON and MarshalJSON
// write the bytes encoding/json writes for jsonBlob, directly and nested
// in a slice (where encoding/json compacts and HTML-escapes).
func TestMarshalJSONMatchesEncodingJSON(t *testing.T) {
	for _, b := range testBlobs(t) {
		want, err := json.Marshal(jsonBlob{
			Namespace:    b.Namespace().Bytes(),
			Data:         b.Data(),
			ShareVersion: uint32(b.ShareVersion()),
			Commitment:   b.Commitment(),
			Signer:       b.Signer(),
			Index:        b.Index(),
		})
		if err != nil {
			t.Fatal(err)
		}
		got, _ := b.MarshalJSON()
		if !bytes.Equal(got, want) {
			t.Fatalf("MarshalJSON:\n got %.200s\nwant %.200s", got, want)
		}
		app, _ := b.AppendJSON([]byte("prefix"))
		if !bytes.Equal(app, append([]byte("prefix"), want...)) {
			t.Fatalf("AppendJSON does not append MarshalJSON's bytes")
		}
		nested, _ := json.Marshal([]*Blob{b})
		if !bytes.Equal(nested, []byte("["+string(want)+"]")) {
			t.Fatalf("encoding/json changed the nested encoding")
		}
	}
	// Nil byte fields encode as null, as encoding/json does.
	j := jsonBlob{Index: -1}
	want, _ := json.Marshal(j)
	if got := appendJSONBlob(nil, j); !bytes.Equal(got, want) {
		t.Fatalf("nil fields: got %s, want %s", got, want)
	}
}

func FuzzBlobUnmarshalJSON(f *testing.F) {
	for _, c := range jsonCases() {
		f.Add([]byte(c))
	}
	for _, b := range testBlobs(f)[:3] {
		js, _ := b.MarshalJSON()
		f.Add(js)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sameOutcome(t, data)
	})
}

func BenchmarkBlobUnmarshalJSON(b *testing.B) {
	bl, err := New(testNS(b, 5), bytes.Repeat([]byte{1, 2, 3, 4, 5, 6, 7}, (1<<20)/7), 0, nil)
	if err != nil {
		b.Fatal(err)
	}
	js, _ := bl.MarshalJSON()
	b.Run("fast", func(b *testing.B) {
		b.SetBytes(int64(len(js)))
		b.ReportAllocs()
		for b.Loop() {
			var x Blob
			if err := x.UnmarshalJSON(js); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.SetBytes(int64(len(js)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := unmarshalSlow(js); err != nil {
				b.Fatal(err)
			}
		}
	})
}
