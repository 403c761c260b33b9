package conformance

import (
	"strings"
	"testing"
)

// TestVectors runs every known vector file in testdata/vectors: every
// value must be recomputed and match, none skipped.
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
	if r.Skipped != 0 {
		t.Fatalf("%d vector values skipped", r.Skipped)
	}
	if r.Passed < 6000 {
		t.Fatalf("only %d vector values checked", r.Passed)
	}
}
