package client_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/tessera-da/tessera/blob"
	"github.com/tessera-da/tessera/blob/dataset"
	"github.com/tessera-da/tessera/node"
	"github.com/tessera-da/tessera/node/client"
	"github.com/tessera-da/tessera/node/objects"
	"github.com/tessera-da/tessera/node/rpc"
	"github.com/tessera-da/tessera/share"
)

// TestLoader plays a training worker against a real producer: publish a
// dataset, declare a run, then for two steps wait for the seed, stream the
// verified assigned pages in order, prove and post; the node verifies
// both proofs. A key that is not registered cannot open a loader, and a
// client that expects another producer refuses the node's headers.
func TestLoader(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a node; skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	const chainID = "client-test"
	ln, err := node.StartLocalNet(ctx, node.LocalNetParams{Base: t.TempDir(), ChainID: chainID, BlockInterval: 100 * time.Millisecond, MaxSquareWidth: 64})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); _ = ln.Wait() }()
	tok, _ := rpc.NewToken(ln.Secret, rpc.PermsFor(rpc.PermWrite), time.Time{})
	url := fmt.Sprintf("http://%s", ln.Nodes[0].Node.RPCAddr())

	// The producer's key, as genesis.json would give it.
	raw, err := client.Dial(ctx, url, client.Options{Token: tok})
	if err != nil {
		t.Fatal(err)
	}
	head, err := raw.Header(ctx, 1)
	for ; err != nil && ctx.Err() == nil; head, err = raw.Header(ctx, 1) {
		time.Sleep(50 * time.Millisecond) // the first block
	}
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.Dial(ctx, url, client.Options{Token: tok, Producer: head.Producer, ChainID: chainID})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	// Blobs round-trip verified.
	ns, _ := share.NewV0Namespace([]byte("client"))
	b, _ := blob.New(ns, []byte("hello"), share.ShareVersionZero, nil)
	h, err := c.Submit(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Blob(ctx, h, ns, b.Commitment())
	if err != nil || !bytes.Equal(got.Data(), []byte("hello")) {
		t.Fatalf("Blob: %v", err)
	}

	// A client trusting another producer refuses every header.
	other := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32)).Public().(ed25519.PublicKey)
	wrong, err := client.Dial(ctx, url, client.Options{Token: tok, Producer: other, ChainID: chainID})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wrong.Blob(ctx, h, ns, b.Commitment()); !errors.Is(err, client.ErrUnverified) {
		t.Fatalf("blob under a header of an unknown producer: %v", err)
	}
	if _, _, err := objects.Get(ctx, wrong, *mrefFor(t, ctx, c)); !errors.Is(err, client.ErrUnverified) {
		t.Fatalf("object read under headers of an unknown producer: %v", err)
	}
	if _, err := client.Dial(ctx, url, client.Options{Producer: other}); err == nil {
		t.Fatal("a producer key without a chain ID was accepted")
	}

	// A 16-page dataset and a run of two workers, 4 pages per step.
	data := make([]byte, 16*2048)
	for i := range data {
		data[i] = byte(i*7 + i>>11)
	}
	publisher := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, 32))
	mref, err := objects.Put(ctx, c, []byte("client/dataset"), bytes.NewReader(data), int64(len(data)),
		objects.Options{PageSize: 2048, Key: publisher, Dataset: &dataset.Manifest{Name: "client-test"}})
	if err != nil {
		t.Fatal(err)
	}
	w0 := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{2}, 32))
	w1 := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{3}, 32))
	runRef, _, err := objects.DeclareRun(ctx, c, *mref, objects.RunSpec{
		Workers: []ed25519.PublicKey{w0.Public().(ed25519.PublicKey), w1.Public().(ed25519.PublicKey)}, PagesPerStep: 4, SeedDelay: 2, Replication: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	stranger := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{4}, 32))
	if _, err := c.Loader(ctx, *runRef, stranger, objects.ReadOptions{}); !errors.Is(err, client.ErrNotWorker) {
		t.Fatalf("loader for an unregistered key: %v", err)
	}
	l, err := c.Loader(ctx, *runRef, w0, objects.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for step := range uint64(2) {
		st, err := l.Step(ctx, step)
		if err != nil {
			t.Fatal(err)
		}
		if len(st.Pages()) != 2 { // 4 pages per step over 2 workers, R = 1
			t.Fatalf("step %d: %d pages", step, len(st.Pages()))
		}
		var order []uint64
		err = st.Each(ctx, func(i uint64, page []byte) error {
			if want := data[i*2048 : (i+1)*2048]; !bytes.Equal(page, want) {
				return fmt.Errorf("page %d differs", i)
			}
			order = append(order, i)
			loss := float32(step) + 0.5
			st.Sample([32]byte{byte(i)}, &loss)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(order) != fmt.Sprint(st.Pages()) {
			t.Fatalf("fed %v, assigned %v", order, st.Pages())
		}
		if err := st.Each(ctx, func(uint64, []byte) error { return nil }); err == nil {
			t.Fatal("a step's pages were fed twice")
		}
		p, err := st.Prove(ctx, client.ProveOptions{Full: step == 1})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := l.Post(ctx, p); err != nil {
			t.Fatal(err)
		}
		enc, err := p.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		res, err := c.Verify(ctx, enc)
		if err != nil || !res.Valid {
			t.Fatalf("step %d: verify: %+v, %v", step, res, err)
		}
	}
}

// mrefFor publishes a small object and returns its manifest reference.
func mrefFor(t *testing.T, ctx context.Context, c *client.Client) *objects.Ref {
	t.Helper()
	data := bytes.Repeat([]byte("object"), 1000)
	ref, err := objects.Put(ctx, c, []byte("client/object"), bytes.NewReader(data), int64(len(data)),
		objects.Options{PageSize: 2048, Key: ed25519.NewKeyFromSeed(bytes.Repeat([]byte{5}, 32))})
	if err != nil {
		t.Fatal(err)
	}
	return ref
}
