package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/tessera-da/tessera/blob/dataset"
	"github.com/tessera-da/tessera/node/rpc"
	"github.com/tessera-da/tessera/share"
)

// fakePinner records what the methods pass it.
type fakePinner struct {
	mu      sync.Mutex
	added   []PinTarget
	removed []string
}

func (f *fakePinner) AddPin(_ context.Context, t PinTarget) (*PinInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if t.Namespace == "bad" {
		return nil, errors.New("pin: invalid target: namespace \"bad\" is not hex")
	}
	f.added = append(f.added, t)
	return &PinInfo{ID: "x", Kind: "namespace", Target: t, State: PinStateKept}, nil
}

func (f *fakePinner) Pins(context.Context) ([]PinInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := []PinInfo{}
	for _, t := range f.added {
		out = append(out, PinInfo{ID: "x", Target: t, PagesHeld: 1, PagesTotal: 2, State: PinStateFetching})
	}
	return out, nil
}

func (f *fakePinner) RemovePin(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.removed = append(f.removed, id)
	return nil
}

// fakePieces serves one piece.
type fakePieces struct{ data []byte }

func (f fakePieces) GetPiece(_ context.Context, d [32]byte) ([]byte, error) {
	if d != sha256.Sum256(f.data) {
		return nil, errors.New("bulk: piece not found")
	}
	return f.data, nil
}

func (f fakePieces) Providers(_ context.Context, id dataset.ID) ([]Provider, error) {
	return []Provider{{ID: "peer-" + string(rune('a'+id[0]%26)), Addrs: []string{}}}, nil
}

// TestPinMethodsLight: without a Pinner (light nodes) every pin.* call
// fails saying light nodes do not pin; without Pieces, dataset.* fail too.
func TestPinMethodsLight(t *testing.T) {
	e := newEnv(t)
	c := e.client(t, rpc.PermAdmin)
	ctx := t.Context()
	calls := []struct {
		method string
		params []any
		want   string
	}{
		{"pin.Add", []any{PinTarget{Namespace: "0102"}}, "light nodes do not pin"},
		{"pin.Ls", nil, "light nodes do not pin"},
		{"pin.Rm", []any{"ns/01"}, "light nodes do not pin"},
		{"dataset.GetPiece", []any{make([]byte, 32)}, "no piece store"},
		{"dataset.Providers", []any{dataset.ID{}}, "no piece store"},
	}
	for _, tc := range calls {
		t.Run(tc.method, func(t *testing.T) {
			var out json.RawMessage
			err := c.Call(ctx, tc.method, &out, tc.params...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("%s: err %v, want one saying %q", tc.method, err, tc.want)
			}
		})
	}
}

// TestPinMethods: pin.Add, pin.Ls and pin.Rm reach the Pinner with their
// arguments (a dataset reference in objects.Ref's JSON), and the write
// methods need write permission.
func TestPinMethods(t *testing.T) {
	e := newEnv(t)
	fp := &fakePinner{}
	e.svc.Pinner = fp
	ctx := t.Context()
	w, r := e.client(t, rpc.PermWrite), e.client(t, rpc.PermRead)

	ns, _ := share.NewV0Namespace([]byte{0x11, 1, 2})
	// The JSON objects.Ref writes: id as dataset.ID's JSON (32 numbers).
	ref := Ref{ID: dataset.ID{1, 2, 3}, Height: 7, Namespace: ns, Commitment: bytes.Repeat([]byte{9}, 32)}
	refJSON, _ := json.Marshal(ref)
	var info PinInfo
	if err := w.Call(ctx, "pin.Add", &info, json.RawMessage(`{"dataset":`+string(refJSON)+`}`)); err != nil {
		t.Fatal(err)
	}
	if len(fp.added) != 1 || fp.added[0].Dataset == nil || fp.added[0].Dataset.ID != ref.ID || fp.added[0].Dataset.Height != 7 ||
		fp.added[0].Dataset.Namespace != ns || !bytes.Equal(fp.added[0].Dataset.Commitment, ref.Commitment) {
		t.Fatalf("pinner got %+v", fp.added)
	}
	if err := w.Call(ctx, "pin.Add", &info, PinTarget{Namespace: "bad"}); err == nil || !strings.Contains(err.Error(), "not hex") {
		t.Fatalf("a bad target: %v", err)
	}
	if err := r.Call(ctx, "pin.Add", &info, PinTarget{Run: strings.Repeat("ab", 32)}); err == nil {
		t.Fatal("pin.Add with a read token succeeded")
	}
	var pins []PinInfo
	if err := r.Call(ctx, "pin.Ls", &pins); err != nil {
		t.Fatal(err)
	}
	if len(pins) != 1 || pins[0].PagesHeld != 1 || pins[0].PagesTotal != 2 || pins[0].Target.Dataset == nil {
		t.Fatalf("pin.Ls = %+v", pins)
	}
	if err := r.Call(ctx, "pin.Rm", nil, "dataset/01"); err == nil {
		t.Fatal("pin.Rm with a read token succeeded")
	}
	if err := w.Call(ctx, "pin.Rm", nil, "dataset/01"); err != nil {
		t.Fatal(err)
	}
	if len(fp.removed) != 1 || fp.removed[0] != "dataset/01" {
		t.Fatalf("pinner removed %q", fp.removed)
	}
}

// TestDatasetMethods: dataset.GetPiece takes the SHA-256 as Go's []byte
// (base64), hex or 32 numbers and returns the piece's bytes;
// dataset.Providers takes a manifest ID in the same forms.
func TestDatasetMethods(t *testing.T) {
	e := newEnv(t)
	data := []byte("a page of a dataset")
	e.svc.Pieces = fakePieces{data: data}
	c := e.client(t, rpc.PermRead)
	sum := sha256.Sum256(data)
	for _, p := range []any{sum[:], json.RawMessage(`"` + strings.ToUpper(hexOf(sum[:])) + `"`), sum} {
		var got []byte
		if err := c.Call(t.Context(), "dataset.GetPiece", &got, p); err != nil {
			t.Fatalf("%T: %v", p, err)
		}
		if !bytes.Equal(got, data) {
			t.Fatalf("got %q", got)
		}
	}
	var ps []Provider
	if err := c.Call(t.Context(), "dataset.Providers", &ps, dataset.ID{2}); err != nil || len(ps) != 1 || ps[0].ID != "peer-c" {
		t.Fatalf("providers %+v, %v", ps, err)
	}
	if err := c.Call(t.Context(), "dataset.GetPiece", new([]byte), make([]byte, 31)); err == nil || !strings.Contains(err.Error(), "31 bytes") {
		t.Fatalf("a 31-byte digest: %v", err)
	}
}

func hexOf(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}

// TestDigestJSON covers Digest's accepted and refused forms.
func TestDigestJSON(t *testing.T) {
	var want Digest
	for i := range want {
		want[i] = byte(i)
	}
	arr, _ := json.Marshal([32]byte(want))
	b64, _ := json.Marshal(want[:])
	cases := []struct {
		name, in string
		ok       bool
	}{
		{"hex", `"` + hexOf(want[:]) + `"`, true},
		{"0x hex", `"0x` + hexOf(want[:]) + `"`, true},
		{"base64", string(b64), true},
		{"array", string(arr), true},
		{"short hex", `"` + hexOf(want[:31]) + `"`, false},
		{"long array", `[` + strings.Repeat("1,", 32) + `1]`, false},
		{"array of big numbers", `[` + strings.Repeat("1,", 31) + `256]`, false},
		{"not hex or base64", `"zz!"`, false},
		{"number", `7`, false},
		{"null-free object", `{}`, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var d Digest
			err := json.Unmarshal([]byte(c.in), &d)
			if c.ok != (err == nil) {
				t.Fatalf("err %v, want ok=%v", err, c.ok)
			}
			if c.ok && d != want {
				t.Fatalf("got %x", d)
			}
		})
	}
	out, _ := json.Marshal(want)
	var back Digest
	if err := json.Unmarshal(out, &back); err != nil || back != want {
		t.Fatalf("round trip: %s, %v", out, err)
	}
}

// FuzzDigestJSON: Digest.UnmarshalJSON never panics, and whatever it
// accepts re-encodes to a value it reads back the same.
func FuzzDigestJSON(f *testing.F) {
	f.Add([]byte(`"` + strings.Repeat("ab", 32) + `"`))
	f.Add([]byte(`[1,2,3]`))
	f.Add([]byte(`"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="`))
	f.Fuzz(func(t *testing.T, in []byte) {
		var d Digest
		if err := d.UnmarshalJSON(in); err != nil {
			return
		}
		out, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		var back Digest
		if err := json.Unmarshal(out, &back); err != nil || back != d {
			t.Fatalf("%s → %s → %x, %v", in, out, back, err)
		}
	})
}
