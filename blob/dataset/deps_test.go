package dataset

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestImports keeps this package pure: standard library (minus I/O, clocks,
// logging and global randomness) plus share, blob and nmt/merkle only. It
// reads the non-test sources' import lists, so it needs no go command.
func TestImports(t *testing.T) {
	forbidden := map[string]bool{
		"os": true, "os/exec": true, "os/signal": true, "net": true, "net/http": true,
		"log": true, "log/slog": true, "math/rand": true, "math/rand/v2": true,
		"io/ioutil": true, "syscall": true, "time": true, "unsafe": true, "plugin": true,
	}
	allowedModule := map[string]bool{
		"github.com/tessera-da/tessera/share":      true,
		"github.com/tessera-da/tessera/blob":       true,
		"github.com/tessera-da/tessera/nmt/merkle": true,
	}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range file.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			first := strings.SplitN(path, "/", 2)[0]
			switch {
			case forbidden[path]:
				t.Errorf("%s imports %s, forbidden in the pure core", f, path)
			case strings.Contains(first, ".") && !allowedModule[path]:
				t.Errorf("%s imports %s, outside the allowed packages", f, path)
			}
		}
	}
}
