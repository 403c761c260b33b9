package jsonscan

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestSplitArray(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want []string
	}{
		{"empty", `[]`, []string{}},
		{"spaces", " [ ] ", []string{}},
		{"numbers", `[1,-2.5e3, 0]`, []string{"1", "-2.5e3", "0"}},
		{"nested", `[[1,[2]],{"a":[3,"]"]},"x"]`, []string{`[1,[2]]`, `{"a":[3,"]"]}`, `"x"`}},
		{"escaped quote", `["a\"b","c\\","d\\\"e"]`, []string{`"a\"b"`, `"c\\"`, `"d\\\"e"`}},
		{"literals", "[true,\tfalse\n,null\r]", []string{"true", "false", "null"}},
		{"brackets in strings", `["{[","]}"]`, []string{`"{["`, `"]}"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := SplitArray([]byte(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if got == nil || len(got) != len(tc.want) {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
			for i := range got {
				if string(got[i]) != tc.want[i] {
					t.Fatalf("element %d: got %q, want %q", i, got[i], tc.want[i])
				}
			}
		})
	}
}

func TestSplitObject(t *testing.T) {
	in := ` { "a" : 1 , "b":{"c":"}"},"a":"x\"y" , "":[ ] } `
	got, err := SplitObject([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []Member{{[]byte(`"a"`), []byte(`1`)}, {[]byte(`"b"`), []byte(`{"c":"}"}`)}, {[]byte(`"a"`), []byte(`"x\"y"`)}, {[]byte(`""`), []byte(`[ ]`)}}
	if len(got) != len(want) {
		t.Fatalf("got %d members, want %d", len(got), len(want))
	}
	for i := range got {
		if !bytes.Equal(got[i].Key, want[i].Key) || !bytes.Equal(got[i].Value, want[i].Value) {
			t.Fatalf("member %d: got %q:%q, want %q:%q", i, got[i].Key, got[i].Value, want[i].Key, want[i].Value)
		}
	}
	if m, err := SplitObject([]byte(`{}`)); err != nil || m == nil || len(m) != 0 {
		t.Fatalf("empty object: %v %v", m, err)
	}
}

// TestMalformed checks that invalid input is refused with ErrSyntax (these
// inputs are all detected; others may not be).
func TestMalformed(t *testing.T) {
	for _, in := range []string{``, ` `, `1`, `"x"`, `{`, `[`, `[1`, `[1,`, `[1 2]`, `["a]`, `[}`, `{"a"}`, `{"a":}`, `{a:1}`, `{"a":1,}`, `[1]x`, `{"a":1}]`, `[{]`, `["\"]`} {
		_, errA := SplitArray([]byte(in))
		_, errO := SplitObject([]byte(in))
		if !errors.Is(errA, ErrSyntax) && !errors.Is(errO, ErrSyntax) {
			t.Errorf("%q: no ErrSyntax (array %v, object %v)", in, errA, errO)
		}
		if errA == nil && errO == nil {
			t.Errorf("%q accepted as both", in)
		}
	}
}

func TestPlainString(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string
		ok   bool
	}{
		{`"abc"`, "abc", true},
		{`""`, "", true},
		{`"a\nb"`, "", false},
		{`"a\"`, "", false},
		{`abc`, "", false},
		{`"`, "", false},
		{`1`, "", false},
	} {
		got, ok := PlainString([]byte(tc.in))
		if ok != tc.ok || string(got) != tc.want {
			t.Errorf("PlainString(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestKeyIs(t *testing.T) {
	for _, tc := range []struct {
		key, field   string
		match, known bool
	}{
		{`"id"`, "id", true, true},
		{`"ID"`, "id", true, true},
		{`"Share_Version"`, "share_version", true, true},
		{`"idx"`, "id", false, true},
		{`"i"`, "id", false, true},
		{`"i\u0064"`, "id", false, false},
		{`"ſ"`, "s", false, false},
		{`"Kid"`, "kid", true, true},
		{`"_"`, "\x7f", false, true},
	} {
		m, k := KeyIs([]byte(tc.key), tc.field)
		if m != tc.match || k != tc.known {
			t.Errorf("KeyIs(%s, %q) = %v, %v; want %v, %v", tc.key, tc.field, m, k, tc.match, tc.known)
		}
	}
}

// agreeWithStdlib checks, for valid JSON b, that both splitters agree with
// encoding/json; for invalid b it only requires no panic.
func agreeWithStdlib(t *testing.T, b []byte) {
	t.Helper()
	els, errA := SplitArray(b)
	mems, errO := SplitObject(b)
	if !json.Valid(b) {
		return
	}
	var arr []json.RawMessage
	if json.Unmarshal(b, &arr) == nil && arr != nil {
		if errA != nil {
			t.Fatalf("SplitArray(%q): %v", b, errA)
		}
		if len(arr) != len(els) {
			t.Fatalf("SplitArray(%q): %d elements, encoding/json has %d", b, len(els), len(arr))
		}
		for i := range arr {
			if !bytes.Equal(arr[i], els[i]) {
				t.Fatalf("SplitArray(%q)[%d] = %q, encoding/json has %q", b, i, els[i], arr[i])
			}
		}
	} else if errA == nil {
		t.Fatalf("SplitArray(%q) accepted a non-array", b)
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(b, &obj) == nil && obj != nil {
		if errO != nil {
			t.Fatalf("SplitObject(%q): %v", b, errO)
		}
		// Last duplicate wins in encoding/json.
		seen := map[string]json.RawMessage{}
		for _, m := range mems {
			var k string
			if err := json.Unmarshal(m.Key, &k); err != nil {
				t.Fatalf("SplitObject(%q): key %q: %v", b, m.Key, err)
			}
			seen[k] = m.Value
		}
		if len(seen) != len(obj) {
			t.Fatalf("SplitObject(%q): %d keys, encoding/json has %d", b, len(seen), len(obj))
		}
		for k, v := range obj {
			if !bytes.Equal(seen[k], v) {
				t.Fatalf("SplitObject(%q)[%q] = %q, encoding/json has %q", b, k, seen[k], v)
			}
		}
	} else if errO == nil {
		t.Fatalf("SplitObject(%q) accepted a non-object", b)
	}
}

func TestAgreesWithStdlib(t *testing.T) {
	for _, s := range fuzzSeeds {
		agreeWithStdlib(t, []byte(s))
	}
	long := `["` + strings.Repeat(`\\`, 1000) + `",` + `"` + strings.Repeat(`\"`, 1000) + `"]`
	agreeWithStdlib(t, []byte(long))
}

var fuzzSeeds = []string{
	`[]`, `{}`, `[1,"a",{"b":[null]}]`, `{"a":1,"a":2}`, ` {"x" : "\"]}" } `,
	`["\\"]`, `["\\\""]`, `{"\u0061":true}`, `[[[]],[{}]]`, `"str"`, `12`, `null`, ` [ null , "" ] `, `[1 2]`, `{"a"`, `["\`,
}

func FuzzSplit(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		agreeWithStdlib(t, b)
		for i := range b {
			_, _ = ValueEnd(b, i)
		}
	})
}

func BenchmarkSplitObjectLargeString(b *testing.B) {
	payload := []byte(`{"namespace":"AAAA","data":"` + strings.Repeat("QUJD", 1<<18) + `","share_version":0}`)
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := SplitObject(payload); err != nil {
			b.Fatal(err)
		}
	}
}
