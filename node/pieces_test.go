package node

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ipfs/boxo/blockstore"
	"github.com/ipfs/boxo/datastore/dshelp"

	"github.com/tessera-da/tessera/node/api"
	"github.com/tessera-da/tessera/node/bulk"
	"github.com/tessera-da/tessera/node/config"
	"github.com/tessera-da/tessera/node/rpc"
)

// TestDatasetFromTwoPinners: two full nodes pin a dataset; a light node
// finds them with dataset.Providers and fetches every page with
// dataset.GetPiece over RPC, and still gets every page when one of the two
// pinning nodes stops mid-download. The second pinner no longer holds the
// pages' heights and fetches them over bitswap while pinning. Pin methods on the light node fail.
// A peer serving other bytes under a piece's CID never gets them returned.
func TestDatasetFromTwoPinners(t *testing.T) {
	ctx, ln := pinNetTest(t, "four libp2p nodes", "pieces-test", 2, 64)
	full1, full2 := ln.Nodes[1], ln.Nodes[2]

	const pages = 24
	ds := publish(t, ctx, ln, "two-pinners", pages*64<<10, 64<<10)
	for _, f := range []*LocalNode{full1, full2} {
		waitHeight(t, ctx, f.Node, ds.ref.Height)
		if f == full2 {
			// full-2 no longer holds the pages' heights (only the manifest's,
			// kept forever): pinning fetches the pages from full-1 over
			// bitswap, each checked against its entry.
			if _, err := f.Node.Store().Prune(ds.ref.Height + 1); err != nil {
				t.Fatal(err)
			}
			e := ds.m.Entries[0]
			if _, err := f.Node.svc.BlobGet(ctx, e.Height, e.Namespace, e.Commitment[:]); err == nil {
				t.Fatal("test setup: full-2 still holds page 0 after pruning")
			}
		}
		c := dialNode(t, ctx, ln, f.Node, rpc.PermWrite)
		var info api.PinInfo
		if err := c.Call(ctx, "pin.Add", &info, api.PinTarget{Dataset: &ds.ref}); err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		waitServing(t, ctx, c, DatasetKey(ds.ref.ID), pages)
	}
	if st := full2.Node.Bulk().Stats(); st.Fetched != pages {
		t.Fatalf("full-2 fetched %d pages over bitswap, want %d", st.Fetched, pages)
	}

	light, err := ln.Add(ctx, "light-1", config.RoleLight)
	if err != nil {
		t.Fatal(err)
	}
	lc := dialNode(t, ctx, ln, light.Node, rpc.PermWrite)
	var info api.PinInfo
	if err := lc.Call(ctx, "pin.Add", &info, api.PinTarget{Dataset: &ds.ref}); err == nil || !strings.Contains(err.Error(), "light nodes do not pin") {
		t.Fatalf("pin.Add on a light node: %v", err)
	}
	// Both pinning nodes advertise the dataset.
	waitFor(t, ctx, "two providers", func() bool {
		var ps []api.Provider
		if err := lc.Call(ctx, "dataset.Providers", &ps, api.Digest(ds.ref.ID)); err != nil {
			t.Logf("providers: %v", err)
			return false
		}
		return len(ps) >= 2
	})

	// Fetch every page, 4 at a time; stop full-2 after the first 6.
	var done atomic.Int32
	var stopOnce sync.Once
	sem := make(chan struct{}, 4)
	var wg sync.WaitGroup
	errs := make(chan string, pages)
	for i, page := range ds.pages {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			var got []byte
			if err := lc.Call(ctx, "dataset.GetPiece", &got, sha256.Sum256(page)); err != nil {
				errs <- err.Error()
				return
			}
			// The entry, not only the hash: length and sha256 as listed.
			e := ds.m.Entries[i]
			if !bytes.Equal(got, page) || uint64(len(got)) != e.Length || sha256.Sum256(got) != e.SHA256 {
				errs <- "page differs from its entry"
				return
			}
			if done.Add(1) == 6 {
				stopOnce.Do(func() { go full2.Stop() })
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	if int(done.Load()) != pages {
		t.Fatalf("fetched %d of %d pages", done.Load(), pages)
	}

	// A lying peer: full-1 holds other bytes under the CID of "truth" and
	// is connected to the light node. The light node never returns them.
	truth, lie := []byte("the truth"), []byte("a lie")
	d := sha256.Sum256(truth)
	key := blockstore.BlockPrefix.Child(dshelp.MultihashToDsKey(bulk.PieceCID(d).Hash()))
	if err := full1.Node.Store().Datastore().Put(ctx, key, lie); err != nil {
		t.Fatal(err)
	}
	lh, fh := light.Node.p2pHost().Host(), full1.Node.p2pHost().Host()
	if err := lh.Connect(ctx, fh.Peerstore().PeerInfo(fh.ID())); err != nil {
		t.Fatal(err)
	}
	lctx, lcancel := context.WithTimeout(ctx, 3*time.Second)
	got, err := pieces{n: light.Node}.GetPiece(lctx, d)
	lcancel()
	if err == nil || got != nil {
		t.Fatalf("a lie was returned: %q, %v", got, err)
	}
	t.Logf("liar's piece refused: %v (light bulk stats %+v)", err, light.Node.Bulk().Stats())
	var raw json.RawMessage
	if err := lc.Call(ctx, "dataset.GetPiece", &raw, make([]byte, 31)); err == nil {
		t.Fatal("a 31-byte digest was accepted")
	}
}
