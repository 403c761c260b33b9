package node

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tessera-da/tessera/blob"
	"github.com/tessera-da/tessera/erasure"
	"github.com/tessera-da/tessera/node/config"
	"github.com/tessera-da/tessera/node/das"
	"github.com/tessera-da/tessera/share"
)

// TestLocalNetSampling runs a producer, 2 full nodes and 3 light nodes on
// 127.0.0.1 and checks that every light node finds every block available
// with the configured confidence, while full nodes store every square.
func TestLocalNetSampling(t *testing.T) {
	ctx, sn := sampledNetTest(t, 2, 3, nil)
	prod := sn.Nodes[0].Node
	var ids []uint64
	var blobs []*blob.Blob
	for i := range 6 {
		ns, _ := share.NewV0Namespace([]byte{1, byte(i)})
		b, _ := blob.New(ns, make([]byte, 3000*(i+1)), 0, nil)
		id, err := prod.Producer().Submit([]*blob.Blob{b})
		if err != nil {
			t.Fatal(err)
		}
		ids, blobs = append(ids, id), append(blobs, b)
		time.Sleep(100 * time.Millisecond)
	}
	const want = 8
	for {
		sn.mu.Lock()
		done := 0
		for _, l := range sn.Nodes[3:] {
			ok := true
			for h := uint64(1); h <= want; h++ {
				r, seen := sn.verdict[l.Name][h]
				if !seen || !r.Available || r.Confidence < 0.99 {
					ok = false
				}
			}
			if ok {
				done++
			}
		}
		sn.mu.Unlock()
		if done == 3 {
			break
		}
		select {
		case <-ctx.Done():
			sn.mu.Lock()
			got := fmt.Sprint(sn.verdict)
			sn.mu.Unlock() // the nodes' OnSampled needs it while they stop
			t.Fatalf("light nodes did not sample heights 1..%d in time: %s", want, got)
		case err := <-sn.Errors():
			t.Fatal(err)
		case <-time.After(100 * time.Millisecond):
		}
	}
	for _, f := range sn.Nodes[1:3] {
		for h := uint64(1); h <= want; h++ {
			if _, err := f.Node.Store().ODS(h); err != nil {
				t.Fatalf("%s has no square at %d: %v", f.Name, h, err)
			}
		}
	}
	// Every node serves every blob: full nodes from their squares, light
	// nodes from full peers' namespace data verified against the data root.
	for i, id := range ids {
		r, err := prod.Store().Receipt(id)
		if err != nil || r.Height == 0 {
			t.Fatalf("submission %d: %+v %v", id, r, err)
		}
		for _, n := range sn.Nodes[1:] {
			got, err := n.Node.svc.BlobGet(ctx, r.Height, blobs[i].Namespace(), blobs[i].Commitment())
			if err != nil || !got.Equal(blobs[i].Blob) {
				t.Fatalf("%s: blob %d at height %d: %v", n.Name, i, r.Height, err)
			}
		}
	}
}

// sampledNet runs a local network and records light nodes' verdicts.
type sampledNet struct {
	*LocalNet
	mu      sync.Mutex
	verdict map[string]map[uint64]das.Record
}

// sampledNetTest starts a producer, full full nodes and light light nodes
// for a test bounded by 60 s (see netTest), recording light nodes'
// verdicts in sn.verdict.
func sampledNetTest(t *testing.T, full, light int, configure func(string, *Node)) (context.Context, *sampledNet) {
	t.Helper()
	sn := &sampledNet{verdict: map[string]map[uint64]das.Record{}}
	ctx, ln := netTest(t, "libp2p nodes", 60*time.Second, LocalNetParams{
		ChainID: "fault-test", Full: full, Light: light,
		BlockInterval: 300 * time.Millisecond, MaxSquareWidth: 16, Samples: 16,
		OnSampled: func(name string, r das.Record) {
			sn.mu.Lock()
			defer sn.mu.Unlock()
			if sn.verdict[name] == nil {
				sn.verdict[name] = map[uint64]das.Record{}
			}
			sn.verdict[name][r.Height] = r
		},
		configure: configure,
	})
	sn.LocalNet = ln
	return ctx, sn
}

// netTest starts p's local network for a test that runs what (skipped
// with -short), bounded by d; the network stops when the test ends. The
// context carries the bound. p.Base defaults to a temporary directory.
func netTest(t *testing.T, what string, d time.Duration, p LocalNetParams) (context.Context, *LocalNet) {
	t.Helper()
	if testing.Short() {
		t.Skipf("runs %s; skipped with -short", what)
	}
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	if p.Base == "" {
		p.Base = t.TempDir()
	}
	ln, err := StartLocalNet(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); _ = ln.Wait() })
	return ctx, ln
}

// waitFor polls cond every 50 ms until it holds or ctx ends.
func waitFor(t testing.TB, ctx context.Context, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s: %v", what, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// TestWithheldBlockNeverAvailable: a producer that serves nothing of one
// block (far more than a quarter withheld): no light node reports it
// available, and later heights are still sampled and found available.
func TestWithheldBlockNeverAvailable(t *testing.T) {
	const withheld = 4
	ctx, sn := sampledNetTest(t, 1, 2, func(name string, n *Node) {
		if name == "producer" {
			n.withhold = func(h uint64) bool { return h == withheld }
			n.withholdSamples = n.withhold
		}
		n.squareBudget = 2 * time.Second
	})
	waitFor(t, ctx, "light nodes to sample past the withheld block", func() bool {
		sn.mu.Lock()
		defer sn.mu.Unlock()
		for _, l := range []string{"light-1", "light-2"} {
			for h := uint64(withheld + 1); h <= withheld+4; h++ {
				if r, ok := sn.verdict[l][h]; !ok || !r.Available {
					return false
				}
			}
		}
		return true
	})
	sn.mu.Lock()
	defer sn.mu.Unlock()
	for _, l := range []string{"light-1", "light-2"} {
		if r, ok := sn.verdict[l][withheld]; ok && r.Available {
			t.Fatalf("%s reports the withheld block available: %+v", l, r)
		}
	}
	for _, n := range sn.Nodes[3:] {
		if err := n.Node.svc.ShareSharesAvailable(ctx, withheld); err == nil {
			t.Fatalf("%s: share.SharesAvailable says the withheld block is available", n.Name)
		}
	}
}

// TestBadEncodingProven: a producer commits to a badly encoded square; a
// full node proves it and every light node stops treating the block as
// available within seconds, also after a restart.
func TestBadEncodingProven(t *testing.T) {
	var bad atomic.Uint64
	ctx, sn := sampledNetTest(t, 1, 2, func(name string, n *Node) {
		if name == "producer" {
			calls := 0
			n.Producer().SetTamper(func(eds *erasure.ExtendedSquare) {
				calls++
				if calls == 5 && eds.ODSWidth() >= 1 {
					// Corrupt one parity cell of row 0 (Q1).
					c := eds.Cell(0, eds.ODSWidth())
					c[100] ^= 0xff
					bad.Store(uint64(calls))
				}
			})
		}
		n.squareBudget = 10 * time.Second
	})
	waitFor(t, ctx, "a bad block", func() bool { return bad.Load() != 0 })
	badHeight := bad.Load() // blocks are built in height order from 1
	waitFor(t, ctx, "every node to hold the fraud proof", func() bool {
		for _, n := range sn.Nodes {
			if _, err := n.Node.st.GetRecord(fraudBucket, heightKey(badHeight)); err != nil {
				return false
			}
		}
		return true
	})
	for _, n := range sn.Nodes {
		if err := n.Node.svc.ShareSharesAvailable(ctx, badHeight); err == nil {
			t.Fatalf("%s reports the badly encoded block available", n.Name)
		}
	}
	sn.mu.Lock()
	for _, l := range []string{"light-1", "light-2"} {
		if r, ok := sn.verdict[l][badHeight]; ok && r.Available && !r.Fraud {
			// A verdict from before the proof arrived may say available;
			// the fraud mark must have replaced it.
			if err := sn.Nodes[0].Node.svc.ShareSharesAvailable(ctx, badHeight); err == nil {
				t.Fatalf("%s still trusts block %d", l, badHeight)
			}
		}
	}
	sn.mu.Unlock()
}

// TestRebuildFromLightNodes: a producer withholds a block's square from
// everyone but answers samples (so light nodes keep every cell of the small
// square), then stops answering anything about it; a full node that joins
// later rebuilds the square from what the light nodes kept. And a piece put
// on the producer is fetched by a light node over bitswap, its provider
// found through the DHT.
func TestRebuildFromLightNodes(t *testing.T) {
	const withheld = 3
	var silent atomic.Bool
	ctx, sn := sampledNetTest(t, 0, 2, func(name string, n *Node) {
		if name == "producer" {
			n.withhold = func(h uint64) bool { return h == withheld }
			n.withholdSamples = func(h uint64) bool { return h == withheld && silent.Load() }
		}
	})
	waitFor(t, ctx, "light nodes to sample the block", func() bool {
		sn.mu.Lock()
		defer sn.mu.Unlock()
		a, b := sn.verdict["light-1"][withheld], sn.verdict["light-2"][withheld]
		return a.Available && b.Available
	})
	silent.Store(true) // from now on only the light nodes hold its cells
	fn, err := sn.Add(ctx, "full-late", config.RoleFull)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the late full node to rebuild the withheld square", func() bool {
		_, err := fn.Node.Store().ODS(withheld)
		return err == nil
	})
	h, _ := fn.Node.Store().HeaderByHeight(withheld)
	ods, _ := fn.Node.Store().ODS(withheld)
	eds, err := erasure.ExtendFlat(ods, erasure.DefaultParams())
	if err != nil {
		t.Fatal(err)
	}
	dah, _ := erasure.ComputeDAH(eds, erasure.DefaultParams())
	if string(dah.Hash()) != string(h.DataRoot[:]) {
		t.Fatal("the rebuilt square does not match the header")
	}

	piece := bytes.Repeat([]byte("tessera"), 40000)
	c, err := sn.Nodes[0].Node.Bulk().Put(ctx, piece)
	if err != nil {
		t.Fatal(err)
	}
	got, err := sn.Nodes[1].Node.Bulk().Get(ctx, c)
	if err != nil || !bytes.Equal(got, piece) {
		t.Fatalf("light node fetched %d bytes: %v", len(got), err)
	}
}

// TestLightNodeRestartResumes stops a light node after it has sampled some
// heights, lets the chain grow, and restarts it on the same home: it
// resumes from its checkpoint (no height it already judged is sampled
// again) and catches up with the rest.
func TestLightNodeRestartResumes(t *testing.T) {
	var mu sync.Mutex
	judged := map[uint64]int{} // light-1's verdicts per height, across both runs
	ctx, sn := sampledNetTest(t, 1, 1, nil)
	light := sn.Nodes[2]
	waitFor(t, ctx, "light-1 to sample 5 heights", func() bool {
		sn.mu.Lock()
		defer sn.mu.Unlock()
		for h := uint64(1); h <= 5; h++ {
			if !sn.verdict["light-1"][h].Available {
				return false
			}
		}
		return true
	})
	light.Stop()
	sn.mu.Lock()
	for h, r := range sn.verdict["light-1"] {
		if r.Available {
			judged[h]++
		}
	}
	before := len(judged)
	sn.mu.Unlock()
	head := sn.Nodes[0].Node.watch.Head().Height
	waitFor(t, ctx, "the chain to grow while light-1 is down", func() bool {
		return sn.Nodes[0].Node.watch.Head().Height >= head+5
	})
	sn.p.OnSampled = func(name string, r das.Record) {
		mu.Lock()
		defer mu.Unlock()
		if name == "light-1" {
			judged[r.Height]++
		}
	}
	again, err := sn.Add(ctx, "light-1", config.RoleLight)
	if err != nil {
		t.Fatal(err)
	}
	target := sn.Nodes[0].Node.watch.Head().Height
	waitFor(t, ctx, "light-1 to catch up after the restart", func() bool {
		h := again.Node.watch.Head()
		if h == nil || h.Height < target {
			return false
		}
		mu.Lock()
		defer mu.Unlock()
		for x := uint64(1); x <= target; x++ {
			if judged[x] == 0 {
				return false
			}
		}
		return true
	})
	mu.Lock()
	defer mu.Unlock()
	for h, n := range judged {
		if n > 1 {
			t.Fatalf("height %d was sampled again after the restart", h)
		}
	}
	if before < 5 {
		t.Fatalf("only %d heights judged before the stop", before)
	}
}
