package dataset

import (
	"encoding/binary"
	"errors"
	"strings"
	"testing"
)

// stTensor describes one tensor of a test safetensors file.
type stTensor struct {
	name  string
	dtype string
	shape []uint64
}

// buildSafetensors writes a safetensors file: the tensors are laid out in
// order, their bytes a deterministic pattern. It returns the file.
func buildSafetensors(t testing.TB, ts []stTensor) []byte {
	t.Helper()
	var js strings.Builder
	js.WriteString(`{"__metadata__":{"format":"pt"}`)
	var off uint64
	for _, x := range ts {
		n, err := tensorBytes(x.dtype, x.shape)
		if err != nil {
			t.Fatal(err)
		}
		js.WriteString(`,"` + x.name + `":{"dtype":"` + x.dtype + `","shape":[`)
		for i, d := range x.shape {
			if i > 0 {
				js.WriteString(",")
			}
			js.WriteString(uitoa(d))
		}
		js.WriteString(`],"data_offsets":[` + uitoa(off) + `,` + uitoa(off+n) + `]}`)
		off += n
	}
	js.WriteString("}")
	return safetensorsFile([]byte(js.String()), testObject(int(off)))
}

func safetensorsFile(header, data []byte) []byte {
	f := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	f = append(f, header...)
	return append(f, data...)
}

func uitoa(v uint64) string {
	if v == 0 {
		return "0"
	}
	var b []byte
	for ; v > 0; v /= 10 {
		b = append([]byte{byte('0' + v%10)}, b...)
	}
	return string(b)
}

var testTensors = []stTensor{
	{"embed.weight", "BF16", []uint64{8, 4}},
	{"layer0.bias", "F32", []uint64{4}},
	{"scale", "F64", []uint64{}},
	{"empty", "I8", []uint64{0, 3}},
	{"mask", "BOOL", []uint64{5}},
}

func TestParseSafetensorsHeader(t *testing.T) {
	f := buildSafetensors(t, testTensors)
	h, err := ParseSafetensorsHeader(f, uint64(len(f)))
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Tensors) != len(testTensors) || h.Metadata["format"] != "pt" {
		t.Fatalf("got %d tensors, metadata %v", len(h.Tensors), h.Metadata)
	}
	for i := 1; i < len(h.Tensors); i++ {
		if !tensorLess(h.Tensors[i-1], h.Tensors[i]) {
			t.Fatal("tensors not in canonical order")
		}
	}
	emb := h.Tensors[0]
	if emb.Name != "embed.weight" || emb.Start != h.DataStart || emb.End-emb.Start != 64 {
		t.Fatalf("embed.weight at [%d, %d), data starts at %d", emb.Start, emb.End, h.DataStart)
	}
	last := h.Tensors[len(h.Tensors)-1]
	if last.End != uint64(len(f)) {
		t.Fatalf("last tensor ends at %d of %d", last.End, len(f))
	}
}

func TestParseSafetensorsHeaderRejects(t *testing.T) {
	good := `"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}`
	data := make([]byte, 16)
	for _, tc := range []struct {
		name, header string
		data         []byte
		want         string
	}{
		{"not an object", `[]`, data, "not a JSON object"},
		{"duplicate name", `{` + good + `,` + good + `}`, data, "twice"},
		{"unknown dtype", `{"a":{"dtype":"F4","shape":[2],"data_offsets":[0,1]}}`, data, "unknown dtype"},
		{"size mismatch", `{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}`, data, "needs 12"},
		{"outside the file", `{"a":{"dtype":"F32","shape":[8],"data_offsets":[0,32]}}`, data, "outside"},
		{"reversed offsets", `{"a":{"dtype":"U8","shape":[0],"data_offsets":[8,4]}}`, data, "outside"},
		{"overlap", `{` + good + `,"b":{"dtype":"U8","shape":[4],"data_offsets":[4,8]}}`, data, "overlap"},
		{"three offsets", `{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1,2]}}`, data, "two data offsets"},
		{"missing shape", `{"a":{"dtype":"U8","data_offsets":[0,1]}}`, data, "two data offsets"},
		{"negative dim", `{"a":{"dtype":"U8","shape":[-1],"data_offsets":[0,1]}}`, data, "tensor \"a\""},
		{"unknown field", `{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1],"x":1}}`, data, "unknown field"},
		{"overflowing shape", `{"a":{"dtype":"F64","shape":[4294967296,4294967296],"data_offsets":[0,1]}}`, data, "overflows"},
		{"metadata not strings", `{"__metadata__":{"a":1}}`, data, "__metadata__"},
		{"trailing data", `{} {}`, data, "after the header"},
		{"truncated JSON", `{"a":`, data, "header JSON"},
		{"empty name", `{"":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}`, data, "tensor name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := safetensorsFile([]byte(tc.header), tc.data)
			_, err := ParseSafetensorsHeader(f, uint64(len(f)))
			if !errors.Is(err, ErrInvalidSafetensors) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an ErrInvalidSafetensors saying %q", err, tc.want)
			}
		})
	}
}

func TestSafetensorsHeaderLen(t *testing.T) {
	for _, tc := range []struct {
		name   string
		prefix []byte
		size   uint64
	}{
		{"short prefix", []byte{1, 2, 3}, 100},
		{"short file", binary.LittleEndian.AppendUint64(nil, 0), 7},
		{"beyond the cap", binary.LittleEndian.AppendUint64(nil, MaxSafetensorsHeader+1), 1 << 40},
		{"beyond the file", binary.LittleEndian.AppendUint64(nil, 100), 107},
		{"huge", binary.LittleEndian.AppendUint64(nil, ^uint64(0)), 1 << 40},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := SafetensorsHeaderLen(tc.prefix, tc.size); !errors.Is(err, ErrInvalidSafetensors) {
				t.Fatalf("got %v", err)
			}
		})
	}
	f := buildSafetensors(t, testTensors)
	if _, err := ParseSafetensorsHeader(f[:20], uint64(len(f))); !errors.Is(err, ErrInvalidSafetensors) {
		t.Fatalf("a cut header gave %v", err)
	}
}
