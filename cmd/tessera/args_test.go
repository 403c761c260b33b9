package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tessera-da/tessera/blob/dataset"
	"github.com/tessera-da/tessera/node/objects"
)

// TestParseArgs: the command-line parsers accept what the help says and
// refuse the rest with a message naming the argument.
func TestParseArgs(t *testing.T) {
	t.Run("range", func(t *testing.T) {
		for _, tc := range []struct {
			in         string
			off, n     uint64
			wantErrSub string
		}{
			{"", 0, 0, ""},
			{"10:20", 10, 20, ""},
			{"10:", 10, 0, ""},
			{"0:0", 0, 0, ""},
			{"10", 0, 0, "want OFF:LEN"},
			{"-1:5", 0, 0, "offset"},
			{"1:x", 0, 0, "length"},
			{"1:99999999999999999999", 0, 0, "length"},
		} {
			off, n, err := parseRange(tc.in)
			if tc.wantErrSub != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErrSub) {
					t.Errorf("parseRange(%q) = %v, want an error with %q", tc.in, err, tc.wantErrSub)
				}
				continue
			}
			if err != nil || off != tc.off || n != tc.n {
				t.Errorf("parseRange(%q) = %d, %d, %v", tc.in, off, n, err)
			}
		}
	})
	t.Run("step ranges", func(t *testing.T) {
		got, err := parseStepRanges("0-9, 12,15-15")
		if err != nil || len(got) != 3 || got[0] != (dataset.StepRange{First: 0, Last: 9}) || got[1] != (dataset.StepRange{First: 12, Last: 12}) || got[2] != (dataset.StepRange{First: 15, Last: 15}) {
			t.Fatalf("got %v, %v", got, err)
		}
		for _, bad := range []string{"a", "1-b", "1,,2", "-3"} {
			if _, err := parseStepRanges(bad); err == nil {
				t.Errorf("parseStepRanges(%q) accepted", bad)
			}
		}
	})
	t.Run("IDs", func(t *testing.T) {
		hexID := strings.Repeat("ab", 32)
		if id, err := parseRunID(hexID); err != nil || id[0] != 0xab {
			t.Fatalf("hex run ID: %x, %v", id, err)
		}
		dir := t.TempDir()
		ref := objects.Ref{ID: dataset.ID{7}, Height: 3, Commitment: make([]byte, 32)}
		b, _ := json.Marshal(ref)
		path := filepath.Join(dir, "run.json")
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		if id, err := parseRunID(path); err != nil || id != [32]byte(ref.ID) {
			t.Fatalf("run ID from REF.json: %x, %v", id, err)
		}
		for _, bad := range []string{"abcd", strings.Repeat("ab", 33), filepath.Join(dir, "missing.json")} {
			if _, err := parseRunID(bad); err == nil || !strings.Contains(err.Error(), "run") {
				t.Errorf("parseRunID(%q) = %v", bad, err)
			}
		}
		if _, err := parseCheckpointID("zz"); err == nil || !strings.Contains(err.Error(), "checkpoint") {
			t.Errorf("parseCheckpointID: %v", err)
		}
	})
	t.Run("hex32", func(t *testing.T) {
		h := strings.Repeat("cd", 32)
		for _, ok := range []string{h, "0x" + h, " " + h + "\n"} {
			if got, err := parseHex32("hash", ok); err != nil || got[0] != 0xcd || got[31] != 0xcd {
				t.Errorf("parseHex32(%q) = %x, %v", ok, got, err)
			}
		}
		for _, bad := range []string{"", "cd", h + "cd", "zz" + h[2:]} {
			if _, err := parseHex32("proof ID", bad); err == nil || !strings.Contains(err.Error(), "proof ID") {
				t.Errorf("parseHex32(%q) = %v", bad, err)
			}
		}
		if ids, err := parseProofIDs([]string{strings.Repeat("02", 32), strings.Repeat("01", 32)}); err != nil || len(ids) != 2 || ids[0][0] != 1 {
			t.Errorf("parseProofIDs: %x, %v", ids, err)
		}
	})
	t.Run("pin targets", func(t *testing.T) {
		dir := t.TempDir()
		ref := objects.Ref{ID: dataset.ID{1}, Height: 5, Commitment: make([]byte, 32)}
		b, _ := json.Marshal(ref)
		path := filepath.Join(dir, "ds.json")
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		if tg, err := pinTarget("dataset", path); err != nil || tg.Dataset == nil || tg.Dataset.ID != ref.ID {
			t.Fatalf("dataset target: %+v, %v", tg, err)
		}
		if tg, err := pinTarget("run", path); err != nil || tg.Run != "01"+strings.Repeat("00", 31) {
			t.Fatalf("run target from REF.json: %+v, %v", tg, err)
		}
		if tg, err := pinTarget("ns", "0102"); err != nil || tg.Namespace != "0102" {
			t.Fatalf("namespace target: %+v, %v", tg, err)
		}
		for _, bad := range [][2]string{{"dataset", filepath.Join(dir, "none.json")}, {"run", "xyz"}, {"bogus", "1"}} {
			if _, err := pinTarget(bad[0], bad[1]); err == nil {
				t.Errorf("pinTarget(%q, %q) accepted", bad[0], bad[1])
			}
		}
	})
}
