package objects_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/tessera-da/tessera/blob/dataset"
	"github.com/tessera-da/tessera/node"
	"github.com/tessera-da/tessera/node/objects"
	"github.com/tessera-da/tessera/node/rpc"
)

// TestPutGet stores a 3.5 MiB object as 1 MiB pages through a producer's
// RPC (the pages land in several blocks) and reads it back verified.
func TestPutGet(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a node; skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ln, err := node.StartLocalNet(ctx, node.LocalNetParams{Base: t.TempDir(), ChainID: "objects-test", BlockInterval: 100 * time.Millisecond, MaxSquareWidth: 64})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); _ = ln.Wait() }()
	tok, _ := rpc.NewToken(ln.Secret, rpc.PermsFor(rpc.PermWrite), time.Time{})
	c, err := rpc.Dial(ctx, fmt.Sprintf("http://%s", ln.Nodes[0].Node.RPCAddr()), tok)
	if err != nil {
		t.Fatal(err)
	}
	data := make([]byte, 3<<20+512<<10)
	for i := range data {
		data[i] = byte(i * 7)
	}
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{3}, 32))
	ref, err := objects.Put(ctx, c, []byte("dataset/test"), bytes.NewReader(data), int64(len(data)), objects.Options{PageSize: 1 << 20, Key: key, MediaType: "application/octet-stream",
		Dataset: &dataset.Manifest{Name: "test", Version: "1", License: "CC0-1.0", RecordFormat: "bytes"}})
	if err != nil {
		t.Fatal(err)
	}
	got, m, err := objects.Get(ctx, c, *ref)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) || len(m.Entries) != 4 || m.Name != "test" {
		t.Fatalf("got %d bytes in %d pages", len(got), len(m.Entries))
	}
	bad := *ref
	bad.ID[0] ^= 1
	if _, _, err := objects.Get(ctx, c, bad); !errors.Is(err, objects.ErrMismatch) {
		t.Fatalf("a manifest with another ID was accepted: %v", err)
	}
}
