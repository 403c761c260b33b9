package conformance

import (
	"strings"
	"testing"
)

// TestVectors runs every known vector file in testdata/vectors. Only the
// checks that need code not yet written may be skipped.
func TestVectors(t *testing.T) {
	r, err := RunDir("../../testdata/vectors")
	var sb strings.Builder
	r.Print(&sb)
	t.Log(sb.String())
	if err != nil {
		t.Fatal(err)
	}
	if r.Failed != 0 {
		t.Fatalf("%d vector values failed", r.Failed)
	}
	if r.Passed == 0 {
		t.Fatal("no vector value was checked")
	}
}
