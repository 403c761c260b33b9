package conformance

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

func TestCheckNMT(t *testing.T) {
	data, err := os.ReadFile("../../testdata/vectors/nmt.json")
	if err != nil {
		t.Fatal(err)
	}
	r := &Report{file: "nmt.json"}
	if err := checkNMT(data, r); err != nil {
		t.Fatal(err)
	}
	if r.Failed != 0 || r.Passed < 100 {
		var b bytes.Buffer
		r.Print(&b)
		t.Fatalf("nmt.json: %s", b.String())
	}
	t.Logf("nmt.json: %d passed, %d skipped", r.Passed, r.Skipped)
}

// TestCheckNMTDetectsCorruption flips expected values in the file and
// checks that the checker reports them rather than passing.
func TestCheckNMTDetectsCorruption(t *testing.T) {
	data, err := os.ReadFile("../../testdata/vectors/nmt.json")
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	for _, tc := range []struct{ name, old, new string }{
		{"root", `"root": "0000000000000000000000000000000000000008fc1f108ef167e6116a0000000000000000000000000000000000000008fc1f108ef167e6116ae7`, `"root": "0000000000000000000000000000000000000008fc1f108ef167e6116a0000000000000000000000000000000000000008fc1f108ef167e6116ae8`},
		{"verified", `"verified": true`, `"verified": false`},
		{"namespace result", `"verify_namespace_result": true`, `"verify_namespace_result": false`},
		{"empty root", `"empty_root": "00`, `"empty_root": "01`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(s, tc.old) {
				t.Skipf("pattern for %s not in this nmt.json", tc.name)
			}
			r := &Report{file: "nmt.json"}
			if err := checkNMT([]byte(strings.Replace(s, tc.old, tc.new, 1)), r); err != nil {
				t.Fatal(err)
			}
			if r.Failed == 0 {
				t.Fatal("corruption not detected")
			}
		})
	}
}

func TestCheckNMTMalformed(t *testing.T) {
	for name, in := range map[string]string{
		"not json":   "{",
		"no trees":   `{"empty_root": "00"}`,
		"bad hex":    `{"empty_root": "00", "trees": [{"name": "x", "leaves": [{"kind": "data", "namespace": "zz", "share_hex": ""}]}]}`,
		"short ns":   `{"empty_root": "00", "trees": [{"name": "x", "leaves": [{"kind": "data", "namespace": "00", "share_hex": ""}]}]}`,
		"wrong type": `{"empty_root": 5, "trees": []}`,
	} {
		t.Run(name, func(t *testing.T) {
			if err := checkNMT([]byte(in), &Report{}); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}
