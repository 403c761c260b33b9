package tessera_test

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/tessera-da/tessera"

// layering states which module packages and outside modules each core
// package may depend on (directly or not). Standard library packages are
// always allowed as dependencies, but no core package may import the ones
// in forbiddenStd itself.
var layering = map[string][]string{
	"share":        {},
	"nmt":          {},
	"nmt/merkle":   {},
	"erasure":      {"share", "nmt", "nmt/merkle", "github.com/klauspost/reedsolomon", "github.com/klauspost/cpuid/v2", "golang.org/x/sys/cpu"},
	"blob":         {"share", "nmt", "nmt/merkle", "erasure", "github.com/klauspost/reedsolomon", "github.com/klauspost/cpuid/v2", "golang.org/x/sys/cpu"},
	"sampling":     {"share", "nmt", "nmt/merkle", "erasure", "github.com/klauspost/reedsolomon", "github.com/klauspost/cpuid/v2", "golang.org/x/sys/cpu"},
	"blob/dataset": {"share", "nmt", "nmt/merkle", "erasure", "blob", "github.com/klauspost/reedsolomon", "github.com/klauspost/cpuid/v2", "golang.org/x/sys/cpu"},
}

// forbiddenStd lists I/O, clock, logging and global-randomness packages the
// pure core must not import directly.
var forbiddenStd = []string{"os", "os/exec", "os/signal", "net", "net/http", "log", "log/slog", "math/rand", "math/rand/v2", "io/ioutil", "syscall", "time", "unsafe", "plugin"}

type listed struct {
	ImportPath string
	Imports    []string
	Deps       []string
	Standard   bool
}

func goList(t *testing.T, pkg string) listed {
	t.Helper()
	out, err := exec.Command("go", "list", "-json", "-deps=false", pkg).Output()
	if err != nil {
		t.Fatalf("go list %s: %v", pkg, err)
	}
	var l listed
	if err := json.Unmarshal(out, &l); err != nil {
		t.Fatalf("go list %s: %v", pkg, err)
	}
	return l
}

func TestLayering(t *testing.T) {
	for pkg, allowed := range layering {
		t.Run(pkg, func(t *testing.T) {
			path := module + "/" + pkg
			if _, err := exec.Command("go", "list", path).Output(); err != nil {
				t.Skipf("package %s does not exist yet", pkg)
			}
			l := goList(t, path)
			ok := map[string]bool{}
			for _, a := range allowed {
				if strings.Contains(strings.SplitN(a, "/", 2)[0], ".") {
					ok[a] = true
				} else {
					ok[module+"/"+a] = true
				}
			}
			for _, dep := range l.Deps {
				if !strings.Contains(strings.SplitN(dep, "/", 2)[0], ".") {
					continue // standard library
				}
				allowedDep := ok[dep] || isInternalOf(dep, path, ok)
				for a := range ok {
					if strings.HasPrefix(dep, a+"/") && !strings.HasPrefix(a, module) {
						allowedDep = true // a package inside an allowed outside module
					}
				}
				if !allowedDep {
					t.Errorf("%s depends on %s, which the layering forbids", pkg, dep)
				}
			}
			for _, imp := range l.Imports {
				for _, f := range forbiddenStd {
					if imp == f {
						t.Errorf("%s imports %s: the pure core does no I/O, clocks, logging or global randomness", pkg, imp)
					}
				}
			}
		})
	}
}

// isInternalOf reports whether dep is an internal package of pkg or of an
// allowed module package (Go's own rules keep it private to that tree).
func isInternalOf(dep, pkg string, ok map[string]bool) bool {
	i := strings.Index(dep, "/internal/")
	if i < 0 || !strings.HasPrefix(dep, module+"/") {
		return false
	}
	owner := dep[:i]
	return owner == pkg || ok[owner] || strings.HasPrefix(pkg, owner+"/")
}
