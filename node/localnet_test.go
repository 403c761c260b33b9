package node

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/tessera-da/tessera/blob"
	"github.com/tessera-da/tessera/node/das"
	"github.com/tessera-da/tessera/share"
)

// TestLocalNetSampling runs a producer, 2 full nodes and 3 light nodes on
// 127.0.0.1 and checks that every light node finds every block available
// with the configured confidence, while full nodes store every square.
func TestLocalNetSampling(t *testing.T) {
	if testing.Short() {
		t.Skip("runs six libp2p nodes; skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var mu sync.Mutex
	avail := map[string]map[uint64]das.Record{}
	ln, err := StartLocalNet(ctx, LocalNetParams{
		Base: t.TempDir(), ChainID: "localnet-test", Full: 2, Light: 3,
		BlockInterval: 300 * time.Millisecond, MaxSquareWidth: 16, Samples: 16,
		OnSampled: func(name string, r das.Record) {
			mu.Lock()
			defer mu.Unlock()
			if avail[name] == nil {
				avail[name] = map[uint64]das.Record{}
			}
			avail[name][r.Height] = r
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); _ = ln.Wait() }()
	prod := ln.Nodes[0].Node
	for i := range 6 {
		ns, _ := share.NewV0Namespace([]byte{1, byte(i)})
		b, _ := blob.New(ns, make([]byte, 3000*(i+1)), 0, nil)
		if _, err := prod.Producer().Submit([]*blob.Blob{b}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	const want = 8
	for {
		mu.Lock()
		done := 0
		for _, l := range ln.Nodes[3:] {
			ok := true
			for h := uint64(1); h <= want; h++ {
				r, seen := avail[l.Name][h]
				if !seen || !r.Available || r.Confidence < 0.99 {
					ok = false
				}
			}
			if ok {
				done++
			}
		}
		mu.Unlock()
		if done == 3 {
			break
		}
		select {
		case <-ctx.Done():
			mu.Lock()
			t.Fatalf("light nodes did not sample heights 1..%d in time: %v", want, avail)
		case err := <-ln.Errors():
			t.Fatal(err)
		case <-time.After(100 * time.Millisecond):
		}
	}
	for _, f := range ln.Nodes[1:3] {
		for h := uint64(1); h <= want; h++ {
			if _, err := f.Node.Store().ODS(h); err != nil {
				t.Fatalf("%s has no square at %d: %v", f.Name, h, err)
			}
		}
	}
}
