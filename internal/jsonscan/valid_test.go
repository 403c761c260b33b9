package jsonscan

import (
	"encoding/json"
	"strings"
	"testing"
)

var validInputs = []string{
	// valid
	`0`, `-0`, `1.5e+3`, `-12.0E-0`, `true`, `false`, `null`, `""`, `"a\"b\\c\/d\b\f\n\r\t\u00e9\uD83D"`,
	`[]`, `{}`, ` [ 1 , [ ] , { } , "x" ] `, `{"a":{"b":[null,true]},"":0}`, "\"\xff\xfe invalid utf-8 is allowed\"",
	`"` + strings.Repeat("QUJD", 100) + `"`, `["\\"]`, `"\\\\\""`,
	// invalid
	``, ` `, `01`, `-`, `1.`, `.5`, `1e`, `1e+`, `+1`, `0x1`, `tru`, `nul`, `truex`, `"`, `"\"`, `"\x"`, `"\u12"`, `"\u12G4"`,
	"\"a\x01b\"", "\"\x1f\"", "\"" + strings.Repeat("A", 17) + "\n" + "\"", `[1,]`, `[,1]`, `{"a"}`, `{"a":}`, `{"a":1,}`, `{1:2}`,
	`[1 2]`, `{"a":1 "b":2}`, `]`, `[`, `{`, `[1]]`, `1 2`, `"a" "b"`, "[\v]", "\u00a0[]",
}

func TestValidMatchesEncodingJSON(t *testing.T) {
	for _, in := range validInputs {
		if got, want := Valid([]byte(in)), json.Valid([]byte(in)); got != want {
			t.Errorf("Valid(%q) = %v, json.Valid says %v", in, got, want)
		}
	}
}

func TestValidDepth(t *testing.T) {
	for _, tc := range []struct {
		depth int
		want  bool
	}{{1, true}, {MaxDepth, true}, {MaxDepth + 1, false}} {
		for _, pair := range [][2]string{{"[", "]"}, {`{"a":`, "}"}} {
			in := []byte(strings.Repeat(pair[0], tc.depth) + "0" + strings.Repeat(pair[1], tc.depth))
			if got, want := Valid(in), json.Valid(in); got != tc.want || want != tc.want {
				t.Errorf("depth %d of %s: Valid %v, json.Valid %v, want %v", tc.depth, pair[0], got, want, tc.want)
			}
		}
	}
}

func TestHasControl(t *testing.T) {
	for n := 0; n < 20; n++ {
		for pos := 0; pos < n; pos++ {
			for _, c := range []byte{0, 0x1f, 0x20, 0x7f, 0x80, 0xff, '"'} {
				s := []byte(strings.Repeat("\xa0", n))
				s[pos] = c
				want := c < 0x20
				if got := hasControl(s); got != want {
					t.Fatalf("hasControl(%q) = %v", s, got)
				}
			}
		}
	}
}

func FuzzValid(f *testing.F) {
	for _, in := range validInputs {
		f.Add([]byte(in))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := Valid(b), json.Valid(b); got != want {
			t.Fatalf("Valid(%q) = %v, json.Valid says %v", b, got, want)
		}
	})
}

func BenchmarkValid(b *testing.B) {
	doc := []byte(`{"jsonrpc":"2.0","id":1,"method":"blob.Submit","params":[[{"namespace":"AAAA","data":"` + strings.Repeat("QUJD", 1<<18) + `","share_version":0}],null]}`)
	for _, tc := range []struct {
		name  string
		valid func([]byte) bool
	}{{"jsonscan", Valid}, {"encoding-json", json.Valid}} {
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(int64(len(doc)))
			b.ReportAllocs()
			for b.Loop() {
				if !tc.valid(doc) {
					b.Fatal("invalid")
				}
			}
		})
	}
}
