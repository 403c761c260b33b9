package erasure

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDeps fails when the core package erasure imports something a core
// package must not use (STYLE.md: no network, disk, os, logging, clock or
// global randomness), or depends on a module other than this one and
// klauspost/reedsolomon (with its own dependencies).
func TestDeps(t *testing.T) {
	list := func(format string) []string {
		out, err := exec.Command("go", "list", "-f", format, ".").Output()
		if err != nil {
			t.Skipf("go list unavailable: %v", err)
		}
		return strings.Fields(string(out))
	}
	forbidden := map[string]bool{
		"net": true, "net/http": true, "os": true, "os/exec": true, "io/fs": true,
		"log": true, "log/slog": true, "math/rand": true, "math/rand/v2": true, "time": true,
		"unsafe": true, "reflect": true,
	}
	for _, d := range list(`{{join .Imports " "}}`) {
		if forbidden[d] {
			t.Errorf("erasure imports %s", d)
		}
	}
	allowed := []string{"github.com/tessera-da/tessera/", "github.com/klauspost/", "golang.org/x/sys/"}
	for _, d := range list(`{{join .Deps " "}}`) {
		first, _, _ := strings.Cut(d, "/")
		if !strings.Contains(first, ".") {
			continue // standard library
		}
		ok := false
		for _, p := range allowed {
			ok = ok || strings.HasPrefix(d, p)
		}
		if !ok {
			t.Errorf("unexpected third-party dependency %s", d)
		}
	}
}
