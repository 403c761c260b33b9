package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tessera-da/tessera/blob"
	"github.com/tessera-da/tessera/node/api"
	"github.com/tessera-da/tessera/node/config"
	"github.com/tessera-da/tessera/node/header"
	"github.com/tessera-da/tessera/node/rpc"
	"github.com/tessera-da/tessera/share"
)

// buildBinary builds the tessera command once per test binary.
var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

func tesseraBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "tessera-e2e-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "tessera")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

type proc struct {
	cmd  *exec.Cmd
	logs *syncBuffer
	done chan struct{} // closed when the process has exited
	err  error         // its exit error, once done is closed
}

// syncBuffer is a bytes.Buffer safe for the process's writes and the test's reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func startNode(t *testing.T, bin, home string) *proc {
	t.Helper()
	logs := &syncBuffer{}
	cmd := exec.Command(bin, "start", "--home", home, "--log.level", "debug")
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, logs: logs, done: make(chan struct{})}
	go func() { p.err = cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.done
	})
	return p
}

func waitReady(t *testing.T, c *rpc.Client, p *proc) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		var ok bool
		err := c.Call(ctx, "node.Ready", &ok)
		cancel()
		if err == nil && ok {
			return
		}
		select {
		case <-p.done:
			t.Fatalf("node exited: %v\n%s", p.err, p.logs)
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatalf("node not ready in time\n%s", p.logs)
}

func initNode(t *testing.T, bin string) (home, url string) {
	t.Helper()
	home = t.TempDir()
	addr := freeAddr(t)
	out, err := exec.Command(bin, "init", "--home", home, "--block-interval", "100ms", "--max-square-width", "32",
		"--rpc.addr", addr, "--metrics.addr", "").CombinedOutput()
	if err != nil {
		t.Fatalf("init: %v\n%s", err, out)
	}
	return home, "http://" + addr
}

func token(t *testing.T, bin, home, level string) string {
	t.Helper()
	out, err := exec.Command(bin, "auth", level, "--home", home).Output()
	if err != nil {
		t.Fatalf("auth: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return lines[len(lines)-1]
}

// TestCrashKeepsAcknowledgedSubmissions kills a producer with SIGKILL while
// clients submit, restarts it, and checks that every acknowledged
// submission is in a stored block or still queued (and then included), and
// that the header chain and indexes are consistent.
func TestCrashKeepsAcknowledgedSubmissions(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real node processes; skipped with -short")
	}
	bin := tesseraBinary(t)
	home, url := initNode(t, bin)
	tok := token(t, bin, home, "write")
	p := startNode(t, bin, home)
	c, err := rpc.Dial(context.Background(), url, tok)
	if err != nil {
		t.Fatal(err)
	}
	waitReady(t, c, p)

	type acked struct {
		id   uint64
		blob *blob.Blob
	}
	var (
		mu  sync.Mutex
		ack []acked
		wg  sync.WaitGroup
	)
	stop := make(chan struct{})
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				ns, _ := share.NewV0Namespace([]byte{1, byte(w)})
				b, err := blob.New(ns, bytes.Repeat([]byte{byte(i), byte(w)}, 500+i%3000), 0, nil)
				if err != nil {
					t.Error(err)
					return
				}
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				var r api.SubmitReceipt
				err = c.Call(ctx, "blob.SubmitAsync", &r, []*blob.Blob{b}, nil)
				cancel()
				if err != nil {
					return // the node died: this one was not acknowledged
				}
				mu.Lock()
				ack = append(ack, acked{r.ID, b})
				mu.Unlock()
			}
		}()
	}
	time.Sleep(1500 * time.Millisecond)
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-p.done
	close(stop)
	wg.Wait()
	if len(ack) < 10 {
		t.Fatalf("only %d submissions acknowledged before the kill", len(ack))
	}

	p2 := startNode(t, bin, home)
	waitReady(t, c, p2)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for _, a := range ack {
		for {
			var r api.ReceiptJSON
			if err := c.Call(ctx, "blob.Receipt", &r, a.id); err != nil {
				t.Fatalf("receipt %d: %v\n%s", a.id, err, p2.logs)
			}
			if r.State == "included" {
				var got blob.Blob
				if err := c.Call(ctx, "blob.Get", &got, r.Height, a.blob.Namespace(), a.blob.Commitment()); err != nil {
					t.Fatalf("included submission %d not readable at %d: %v", a.id, r.Height, err)
				}
				if !got.Equal(a.blob.Blob) {
					t.Fatalf("submission %d: blob differs", a.id)
				}
				break
			}
			if r.State != "pending" {
				t.Fatalf("acknowledged submission %d is %q after the crash", a.id, r.State)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	// The chain is whole: every header links to its parent and every
	// stored square recomputes to its header's data root.
	var head api.ExtendedHeader
	if err := c.Call(ctx, "header.LocalHead", &head); err != nil {
		t.Fatal(err)
	}
	var prev *api.ExtendedHeader
	gen, err := config.LoadGenesis(filepath.Join(home, config.GenesisFile))
	if err != nil {
		t.Fatal(err)
	}
	keys, _ := gen.ProducerKeys()
	for h := uint64(1); h <= head.Tessera.Height; h++ {
		var eh api.ExtendedHeader
		if err := c.Call(ctx, "header.GetByHeight", &eh, h); err != nil {
			t.Fatalf("header %d: %v", h, err)
		}
		var parent *header.Header
		if prev != nil {
			parent = prev.Tessera
		}
		if err := eh.Tessera.Verify(gen.ChainID, []ed25519.PublicKey(keys), parent); err != nil {
			t.Fatalf("header %d does not verify against its parent: %v", h, err)
		}
		if err := c.Call(ctx, "share.SharesAvailable", nil, h); err != nil {
			t.Fatalf("square %d: %v", h, err)
		}
		prev = &eh
	}
	t.Logf("%d acknowledged submissions survived a SIGKILL; chain of %d blocks verified", len(ack), head.Tessera.Height)
}

// TestDevnetSubmitAndRead runs the README's main command (tessera devnet)
// and uses it as a rollup would: a plain JSON-RPC request over HTTP with a
// write token submits a blob, which comes back with proofs that verify
// against the header's data root; a read token may not submit; metrics are
// served.
func TestDevnetSubmitAndRead(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real node process; skipped with -short")
	}
	bin := tesseraBinary(t)
	rpcAddr, metAddr := freeAddr(t), freeAddr(t)
	dn := startDevnet(t, bin, "--demo", "--block-interval", "200ms", "--rpc.addr", rpcAddr, "--metrics.addr", metAddr)
	out, home := dn.out, dn.home
	url := "http://" + rpcAddr
	prodHome := filepath.Join(home, "producer")
	write, read := token(t, bin, prodHome, "write"), token(t, bin, prodHome, "read")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	// A plain JSON-RPC request, as any client would send it.
	body := `{"jsonrpc":"2.0","id":1,"method":"blob.Submit","params":[[{"namespace":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAqrs=","data":"cm9sbHVwIGJsb2NrIDE=","share_version":0}],null]}`
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+write)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		Result uint64 `json:"result"`
		Error  *struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&res); err != nil || res.Error != nil || res.Result == 0 {
		t.Fatalf("blob.Submit: %+v %v", res.Error, err)
	}
	resp.Body.Close()
	height := res.Result

	ns, _ := share.NewV0Namespace([]byte{0xaa, 0xbb})
	b, _ := blob.New(ns, []byte("rollup block 1"), 0, nil)
	cr, _ := rpc.Dial(ctx, url, read)
	var rpcErr *rpc.Error
	if err := cr.Call(ctx, "blob.Submit", nil, []*blob.Blob{b}, nil); !errors.As(err, &rpcErr) || !strings.Contains(err.Error(), "permission") {
		t.Fatalf("read token submitted: %v", err)
	}
	var got blob.Blob
	if err := cr.Call(ctx, "blob.Get", &got, height, ns, b.Commitment()); err != nil {
		t.Fatal(err)
	}
	if !got.Equal(b.Blob) || got.Index() < 0 {
		t.Fatalf("blob read back differs or has no index: %+v", got)
	}
	verifyBlobProof(t, ctx, cr, height, b)

	// The client commands a user runs from the README.
	c := hex.EncodeToString(b.Commitment())
	hs := strconv.FormatUint(height, 10)
	for _, args := range [][]string{
		{"blob", "get", hs, "aabb", c},
		{"blob", "proof", hs, "aabb", c},
		{"blob", "included", hs, "aabb", c},
		{"share", "sample", hs, "0", "1"},
		{"header", "head"},
	} {
		full := append(append([]string{}, args...), "--rpc", url, "--token", read)
		out, err := exec.Command(bin, full...).CombinedOutput()
		if err != nil {
			t.Fatalf("tessera %v: %v\n%s", args, err, out)
		}
		if (args[0] != "header" && args[1] != "get") && !strings.Contains(string(out), "true") {
			t.Fatalf("tessera %v did not report verification:\n%s", args, out)
		}
	}

	// A large object through the dataset commands.
	dir := t.TempDir()
	obj := bytes.Repeat([]byte("0123456789abcdef"), 200000) // 3.2 MB: several pages
	if err := os.WriteFile(filepath.Join(dir, "obj"), obj, 0o644); err != nil {
		t.Fatal(err)
	}
	refJSON, err := exec.Command(bin, "dataset", "put", "e2e/object", filepath.Join(dir, "obj"), "--home", prodHome, "--page-size", "1048576", "--name", "e2e", "--rpc", url, "--token", write).Output()
	if err != nil {
		t.Fatalf("dataset put: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "ref.json"), refJSON, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "dataset", "get", filepath.Join(dir, "ref.json"), "--out", filepath.Join(dir, "back"), "--rpc", url, "--token", read).CombinedOutput(); err != nil {
		t.Fatalf("dataset get: %v\n%s", err, out)
	}
	if back, _ := os.ReadFile(filepath.Join(dir, "back")); !bytes.Equal(back, obj) {
		t.Fatal("the object read back differs")
	}

	mresp, err := http.Get("http://" + metAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	mb, _ := io.ReadAll(mresp.Body)
	mresp.Body.Close()
	for _, m := range []string{"tessera_blocks_produced_total", "tessera_submission_queue_depth", "tessera_store_bytes", "tessera_rpc_duration_seconds", "tessera_square_width"} {
		if !strings.Contains(string(mb), m) {
			t.Errorf("metrics lack %s", m)
		}
	}
	if !strings.Contains(out.String(), "demo: 3 blobs") {
		// The demo posts every block interval; give it a moment.
		time.Sleep(time.Second)
		if !strings.Contains(out.String(), "demo: 3 blobs") {
			t.Errorf("--demo posted nothing\n%s", out)
		}
	}
}
