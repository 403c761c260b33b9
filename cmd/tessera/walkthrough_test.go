package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// devnet is a running `tessera devnet` process.
type devnet struct {
	out   *syncBuffer
	home  string            // the nodes' base directory
	admin string            // the admin token it printed
	rpc   map[string]string // node name → RPC URL
}

// startDevnet runs `tessera devnet args...` until the test ends and waits
// for it to print its nodes and admin token.
func startDevnet(t *testing.T, bin string, args ...string) *devnet {
	t.Helper()
	out := &syncBuffer{}
	cmd := exec.Command(bin, append([]string{"devnet"}, args...)...)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, logs: out, done: make(chan struct{})}
	go func() { p.err = cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-p.done
		}
	})
	dn := &devnet{out: out, rpc: map[string]string{}}
	for deadline := time.Now().Add(60 * time.Second); dn.admin == "" && time.Now().Before(deadline); {
		lines := strings.Split(out.String(), "\n")
		for i, l := range lines {
			f := strings.Fields(l)
			switch {
			case strings.HasPrefix(l, "admin token") && i+1 < len(lines) && strings.Count(lines[i+1], ".") == 2:
				dn.admin = strings.TrimSpace(lines[i+1])
			case strings.HasPrefix(l, "home:") && len(f) == 2:
				dn.home = f[1]
			case len(f) >= 3 && f[1] == "rpc":
				dn.rpc[f[0]] = f[2]
			}
		}
		select {
		case <-p.done:
			t.Fatalf("devnet exited: %v\n%s", p.err, out)
		case <-time.After(50 * time.Millisecond):
		}
	}
	if dn.admin == "" || dn.home == "" {
		t.Fatalf("devnet printed no admin token or home\n%s", out)
	}
	return dn
}

// walkthrough returns the shell block of README.md between the
// walkthrough markers.
func walkthrough(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "<!-- walkthrough -->")
	block, _, ok2 := strings.Cut(rest, "<!-- /walkthrough -->")
	if !ok || !ok2 {
		t.Fatal("README.md has no walkthrough block")
	}
	var lines []string
	for _, l := range strings.Split(block, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "```") {
			lines = append(lines, l)
		}
	}
	return lines
}

// TestReadmeWalkthrough runs README.md's walkthrough, as written, against
// `tessera devnet`: a dataset put, listed, verified and pinned; a run
// declared, an assignment, a full proof posted and verified; checkpoints
// published, rolled back, logged and read back; the dataset read back
// from the pinning full node. Only the three set-up lines (token, full
// node URL, build) are replaced by their values here.
func TestReadmeWalkthrough(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real devnet; skipped with -short")
	}
	bin := tesseraBinary(t)
	rpcAddr := freeAddr(t)
	dn := startDevnet(t, bin, "--block-interval", "200ms", "--light", "1", "--rpc.addr", rpcAddr, "--metrics.addr", "")
	full := dn.rpc["full-1"]
	if full == "" {
		t.Fatalf("devnet printed no full-1 RPC URL\n%s", dn.out)
	}
	dir := t.TempDir()
	if err := os.Symlink(bin, filepath.Join(dir, "tessera")); err != nil {
		t.Fatal(err)
	}
	var script strings.Builder
	script.WriteString("set -euo pipefail\n")
	for _, l := range walkthrough(t) {
		switch {
		case strings.HasPrefix(l, "export TESSERA_AUTH_TOKEN="), strings.HasPrefix(l, "FULL="), strings.HasPrefix(l, "go build "):
			continue // set up by the test
		case strings.HasPrefix(l, "#"):
			script.WriteString("echo '>>> " + strings.ReplaceAll(l, "'", "") + "'\n")
			continue
		}
		script.WriteString(l + "\n")
	}
	cmd := exec.Command("bash", "-c", script.String())
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"TESSERA_AUTH_TOKEN="+dn.admin, "FULL="+full, "TESSERA_RPC=http://"+rpcAddr)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("the walkthrough failed: %v\n%s", err, out.String())
		}
	case <-time.After(3 * time.Minute):
		_ = cmd.Process.Kill()
		t.Fatalf("the walkthrough did not finish in 3 minutes\n%s", out.String())
	}
	for _, want := range []string{`"valid": true`, `"state": "`, `"checkpoints"`, `"rollbacks"`, `"verified": true`} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the walkthrough's output lacks %s\n%s", want, out.String())
		}
	}
}
