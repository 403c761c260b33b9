package conformance

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func TestEDSVectors(t *testing.T) {
	for _, name := range []string{"eds.json", "eds_large.json"} {
		t.Run(name, func(t *testing.T) {
			if testing.Short() && name == "eds_large.json" {
				t.Skip("large squares skipped in -short mode")
			}
			data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "vectors", name))
			if err != nil {
				t.Fatal(err)
			}
			r := &Report{file: name}
			if err := checkers[name](data, r); err != nil {
				t.Fatal(err)
			}
			for _, f := range r.Failures {
				t.Error(f)
			}
			if r.Passed == 0 {
				t.Fatal("nothing checked")
			}
			t.Logf("%s: %d passed, %d failed, %d skipped", name, r.Passed, r.Failed, r.Skipped)
		})
	}
}

func TestEDSCheckerRejectsWrongValues(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "vectors", "eds.json"))
	if err != nil {
		t.Fatal(err)
	}
	// Flip one hex digit of the first data root: exactly one failure.
	const key = `"data_root": "`
	i := bytes.Index(data, []byte(key))
	if i < 0 {
		t.Fatal("no data_root in eds.json")
	}
	bad := append([]byte(nil), data...)
	j := i + len(key)
	if bad[j] == '0' {
		bad[j] = '1'
	} else {
		bad[j] = '0'
	}
	r := &Report{file: "eds.json"}
	if err := checkEDSFile(bad, r); err != nil {
		t.Fatal(err)
	}
	if r.Failed == 0 {
		t.Fatal("a wrong data root was not detected")
	}
}
