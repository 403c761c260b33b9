// Package conformance checks Tessera's core formats against reference
// vectors computed by Celestia's own code (see testdata/vectors/README.md).
//
// Every expected value in a vector file is only ever compared against a
// value Tessera recomputes from the file's inputs; nothing expected is
// copied into a result. Each checked value counts once in the report.
package conformance

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
)

// Report counts checked values and records failures.
type Report struct {
	Passed, Failed, Skipped int
	Failures                []string
	file                    string
}

// Pass records one checked value that matched.
func (r *Report) Pass() { r.Passed++ }

// Fail records one checked value that did not match.
func (r *Report) Fail(kase, field string, format string, args ...any) {
	r.Failed++
	r.Failures = append(r.Failures, fmt.Sprintf("%s: %s: %s: %s", r.file, kase, field, fmt.Sprintf(format, args...)))
}

// Skip records n values that were not checked.
func (r *Report) Skip(n int) { r.Skipped += n }

// Check compares a recomputed value with the expected one and records the result.
func (r *Report) Check(kase, field string, got, want []byte) bool {
	if bytes.Equal(got, want) {
		r.Pass()
		return true
	}
	r.Fail(kase, field, "got %s, want %s", short(got), short(want))
	return false
}

// CheckHex is Check with the expected value given as lowercase hex.
func (r *Report) CheckHex(kase, field string, got []byte, wantHex string) bool {
	want, err := hex.DecodeString(wantHex)
	if err != nil {
		r.Fail(kase, field, "bad hex in vector: %v", err)
		return false
	}
	return r.Check(kase, field, got, want)
}

// CheckEq compares two comparable values.
func CheckEq[T comparable](r *Report, kase, field string, got, want T) bool {
	if got == want {
		r.Pass()
		return true
	}
	r.Fail(kase, field, "got %v, want %v", got, want)
	return false
}

// CheckErr records a failure for an unexpected error and reports whether err was nil.
func (r *Report) CheckErr(kase, field string, err error) bool {
	if err == nil {
		return true
	}
	r.Fail(kase, field, "unexpected error: %v", err)
	return false
}

func short(b []byte) string {
	s := hex.EncodeToString(b)
	if len(s) > 72 {
		s = s[:64] + "…" + fmt.Sprintf("(%d bytes)", len(b))
	}
	return s
}

// A checker reads one vector file's bytes and checks it into r.
type checker func(data []byte, r *Report) error

// checkers maps each vector file name whose schema is known to its checker.
// Each file registers itself from its own source file.
var checkers = map[string]checker{}

// Files lists the vector file names the conformance suite knows.
func Files() []string {
	names := make([]string, 0, len(checkers))
	for n := range checkers {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// RunDir checks every known vector file present in dir. A known file that is
// missing or unreadable is an error and counts as a failure.
func RunDir(dir string) (*Report, error) {
	r := &Report{}
	var firstErr error
	for _, name := range Files() {
		r.file = name
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err == nil {
			err = checkers[name](data, r)
		}
		if err != nil {
			r.Fail("-", "file", "%v", err)
			if firstErr == nil {
				firstErr = fmt.Errorf("%s: %w", name, err)
			}
		}
	}
	return r, firstErr
}

// Print writes one line per failure and the summary line.
func (r *Report) Print(w io.Writer) {
	for _, f := range r.Failures {
		fmt.Fprintln(w, "FAIL", f)
	}
	fmt.Fprintf(w, "%d passed, %d failed, %d skipped\n", r.Passed, r.Failed, r.Skipped)
}
