package node

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tessera-da/tessera/blob"
	"github.com/tessera-da/tessera/blob/dataset"
	"github.com/tessera-da/tessera/node/api"
	"github.com/tessera-da/tessera/node/bulk"
	"github.com/tessera-da/tessera/node/config"
	"github.com/tessera-da/tessera/node/objects"
	"github.com/tessera-da/tessera/node/rpc"
	"github.com/tessera-da/tessera/node/store"
	"github.com/tessera-da/tessera/share"
)

// pinTestConfigure makes pinners retry quickly.
func pinTestConfigure(_ string, n *Node) {
	if n.pins != nil {
		n.pins.retry = 100 * time.Millisecond
	}
}

// pinNetParams are the parameters of a producer and full full nodes for
// pinning tests.
func pinNetParams(chain string, full, maxSquare int) LocalNetParams {
	return LocalNetParams{
		ChainID: chain, Full: full,
		BlockInterval: 100 * time.Millisecond, MaxSquareWidth: maxSquare,
		configure: pinTestConfigure,
	}
}

// startPinNet starts pinNetParams' nodes (for benchmarks).
func startPinNet(t testing.TB, ctx context.Context, chain string, full, maxSquare int) *LocalNet {
	t.Helper()
	p := pinNetParams(chain, full, maxSquare)
	p.Base = t.TempDir()
	ln, err := StartLocalNet(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// pinNetTest starts pinNetParams' nodes for a pinning test that runs what,
// bounded by 90 s (see netTest).
func pinNetTest(t *testing.T, what, chain string, full, maxSquare int) (context.Context, *LocalNet) {
	t.Helper()
	return netTest(t, what, 90*time.Second, pinNetParams(chain, full, maxSquare))
}

// dialNode returns an RPC client of n with perm.
func dialNode(t testing.TB, ctx context.Context, ln *LocalNet, n *Node, perm rpc.Perm) *rpc.Client {
	t.Helper()
	tok, err := rpc.NewToken(ln.Secret, rpc.PermsFor(perm), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := rpc.Dial(ctx, fmt.Sprintf("http://%s", n.RPCAddr()), tok)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// testDataset is a dataset published through the producer.
type testDataset struct {
	ref   api.Ref
	data  []byte
	m     *dataset.Manifest
	pages [][]byte
}

// publish puts size bytes as pages of pageSize under scope through the
// producer and returns the dataset.
func publish(t testing.TB, ctx context.Context, ln *LocalNet, scope string, size, pageSize int) *testDataset {
	t.Helper()
	c := dialNode(t, ctx, ln, ln.Nodes[0].Node, rpc.PermWrite)
	data := make([]byte, size)
	x := uint64(len(scope))*0x9e3779b97f4a7c15 | 1 // xorshift: every page differs
	for i := range data {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		data[i] = byte(x)
	}
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32))
	ref, err := objects.Put(ctx, c, []byte(scope), bytes.NewReader(data), int64(size), objects.Options{
		PageSize: uint64(pageSize), Parallel: 4, Key: key, MediaType: "application/octet-stream", Poll: 20 * time.Millisecond,
		Dataset: &dataset.Manifest{Name: scope, Version: "1", RecordFormat: "bytes"},
	})
	if err != nil {
		t.Fatal(err)
	}
	d := &testDataset{ref: api.Ref{ID: ref.ID, Height: ref.Height, Namespace: ref.Namespace, Commitment: ref.Commitment}, data: data}
	mb, err := ln.Nodes[0].Node.svc.BlobGet(ctx, ref.Height, ref.Namespace, ref.Commitment)
	if err != nil {
		t.Fatal(err)
	}
	if d.m, err = dataset.ParseManifest(mb.Data()); err != nil {
		t.Fatal(err)
	}
	if d.pages, err = dataset.Split(data, uint64(pageSize)); err != nil {
		t.Fatal(err)
	}
	return d
}

// waitHeight waits until n stores the square at height.
func waitHeight(t testing.TB, ctx context.Context, n *Node, height uint64) {
	t.Helper()
	waitFor(t, ctx, fmt.Sprintf("height %d", height), func() bool {
		_, err := n.Store().ODS(height)
		return err == nil
	})
}

// pinOf returns the pin id from pin.Ls, or nil.
func pinOf(t testing.TB, ctx context.Context, c *rpc.Client, id string) *api.PinInfo {
	t.Helper()
	var pins []api.PinInfo
	if err := c.Call(ctx, "pin.Ls", &pins); err != nil {
		t.Fatal(err)
	}
	for _, p := range pins {
		if p.ID == id {
			return &p
		}
	}
	return nil
}

// waitServing waits until pin id is serving every page.
func waitServing(t testing.TB, ctx context.Context, c *rpc.Client, id string, pages int) {
	t.Helper()
	var last *api.PinInfo
	for {
		last = pinOf(t, ctx, c, id)
		if last != nil && last.State == api.PinStateServing && last.PagesHeld == uint64(pages) && last.PagesTotal == uint64(pages) {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("pin %s not serving: %+v", id, last)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// submitBlob submits one blob through the producer and returns its height.
func submitBlob(t testing.TB, ctx context.Context, ln *LocalNet, ns share.Namespace, data []byte) uint64 {
	t.Helper()
	b, err := blob.New(ns, data, share.ShareVersionZero, nil)
	if err != nil {
		t.Fatal(err)
	}
	var h uint64
	if err := dialNode(t, ctx, ln, ln.Nodes[0].Node, rpc.PermWrite).Call(ctx, "blob.Submit", &h, []*blob.Blob{b}, nil); err != nil {
		t.Fatal(err)
	}
	return h
}

// TestPins: pin.Add, pin.Ls and pin.Rm over RPC on a full node; a pinned
// dataset's pages and a pinned namespace survive Prune past every height
// while an unpinned namespace is pruned; manifests survive Prune on a node
// without pins; pins, progress and serving survive a restart, which
// completes an interrupted copy.
func TestPins(t *testing.T) {
	ctx, ln := pinNetTest(t, "two libp2p nodes", "pin-test", 1, 32)
	prod, full := ln.Nodes[0], ln.Nodes[1]

	ds := publish(t, ctx, ln, "pin-test-dataset", 10*32<<10+123, 32<<10)
	keptNS, _ := share.NewV0Namespace([]byte("kept"))
	goneNS, _ := share.NewV0Namespace([]byte("gone"))
	keptH := submitBlob(t, ctx, ln, keptNS, []byte("kept past the window"))
	goneH := submitBlob(t, ctx, ln, goneNS, []byte("pruned with the window"))
	waitHeight(t, ctx, full.Node, goneH)

	w := dialNode(t, ctx, ln, full.Node, rpc.PermWrite)
	r := dialNode(t, ctx, ln, full.Node, rpc.PermRead)
	runID := sha256.Sum256([]byte("a run"))
	var info api.PinInfo
	for _, tc := range []struct {
		name   string
		target api.PinTarget
		id     string
		nss    int
	}{
		{"dataset", api.PinTarget{Dataset: &ds.ref}, DatasetKey(ds.ref.ID), 2},
		{"run", api.PinTarget{Run: hex.EncodeToString(runID[:])}, "run/" + hex.EncodeToString(runID[:]), 4},
		{"namespace", api.PinTarget{Namespace: hex.EncodeToString(keptNS.Bytes())}, namespaceKey(keptNS), 1},
	} {
		if err := w.Call(ctx, "pin.Add", &info, tc.target); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if info.ID != tc.id || len(info.Namespaces) != tc.nss {
			t.Fatalf("%s: pin %+v, want ID %s with %d namespaces", tc.name, info, tc.id, tc.nss)
		}
	}
	if err := r.Call(ctx, "pin.Add", &info, api.PinTarget{Namespace: "0102"}); err == nil {
		t.Fatal("pin.Add with a read token succeeded")
	}
	// Malformed targets and a reference whose ID is not the manifest's.
	wrongID := ds.ref
	wrongID.ID[0] ^= 1
	wrongNS := ds.ref
	wrongNS.Commitment = bytes.Repeat([]byte{1}, 32)
	for _, bad := range []struct {
		name   string
		target api.PinTarget
		want   string
	}{
		{"nothing", api.PinTarget{}, "exactly one"},
		{"two targets", api.PinTarget{Run: hex.EncodeToString(runID[:]), Namespace: "01"}, "exactly one"},
		{"short run", api.PinTarget{Run: "abcd"}, "32 bytes"},
		{"reserved namespace", api.PinTarget{Namespace: strings.Repeat("00", 28) + "01"}, "reserved"},
		{"not hex", api.PinTarget{Namespace: "xyz"}, "not hex"},
		{"wrong manifest ID", api.PinTarget{Dataset: &wrongID}, "has ID"},
	} {
		err := w.Call(ctx, "pin.Add", &info, bad.target)
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%s: err %v, want one saying %q", bad.name, err, bad.want)
		}
	}
	// A reference to a manifest this node does not hold is accepted and
	// waits (it may arrive later), saying why.
	wrongNS.ID[0] ^= 2
	if err := w.Call(ctx, "pin.Add", &info, api.PinTarget{Dataset: &wrongNS}); err != nil {
		t.Fatal(err)
	}
	if info.State != api.PinStateWaiting {
		t.Fatalf("pin of an absent manifest: %+v", info)
	}
	waitFor(t, ctx, "the absent manifest's pin to say why", func() bool {
		p := pinOf(t, ctx, r, info.ID)
		return p != nil && p.State == api.PinStateWaiting && strings.Contains(p.Error, "not held")
	})
	if err := w.Call(ctx, "pin.Rm", nil, info.ID); err != nil {
		t.Fatal(err)
	}
	waitServing(t, ctx, r, DatasetKey(ds.ref.ID), len(ds.pages))
	if err := w.Call(ctx, "pin.Rm", nil, "run/"+hex.EncodeToString(runID[:])); err != nil {
		t.Fatal(err)
	}
	if err := w.Call(ctx, "pin.Rm", nil, "run/00"); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Fatalf("removing a missing pin: %v", err)
	}
	var pins []api.PinInfo
	if err := r.Call(ctx, "pin.Ls", &pins); err != nil || len(pins) != 2 {
		t.Fatalf("pin.Ls = %+v, %v; want the dataset and namespace pins", pins, err)
	}
	for _, sp := range full.Node.Store().Pins() {
		if strings.HasPrefix(sp.ID, "run/") {
			t.Fatalf("store pin %s outlived its pin", sp.ID)
		}
	}

	// Prune every height on both nodes: the full node keeps the pinned
	// dataset's pages, its manifest and the pinned namespace; the producer,
	// which pins nothing, keeps only the manifest.
	head := prod.Node.watch.Head().Height
	waitHeight(t, ctx, full.Node, head)
	for _, n := range []*LocalNode{full, prod} {
		if _, err := n.Node.Store().Prune(head + 1); err != nil {
			t.Fatalf("%s: prune: %v", n.Name, err)
		}
	}
	pageHeights := map[uint64]bool{}
	for _, e := range ds.m.Entries {
		pageHeights[e.Height] = true
		b, err := full.Node.svc.BlobGet(ctx, e.Height, e.Namespace, e.Commitment[:])
		if err != nil || !bytes.Equal(b.Data(), ds.pages[e.Index]) {
			t.Fatalf("pinned page %d at height %d after prune: %v", e.Index, e.Height, err)
		}
		if _, err := prod.Node.svc.BlobGet(ctx, e.Height, e.Namespace, e.Commitment[:]); err == nil && e.Height != ds.ref.Height {
			t.Errorf("unpinned page %d at height %d survived the producer's prune", e.Index, e.Height)
		}
	}
	for _, n := range []*LocalNode{full, prod} {
		if _, err := n.Node.svc.BlobGet(ctx, ds.ref.Height, ds.ref.Namespace, ds.ref.Commitment); err != nil {
			t.Errorf("%s: manifest at height %d after prune: %v", n.Name, ds.ref.Height, err)
		}
	}
	if _, err := full.Node.Store().BlobsByNamespace(keptNS.Array(), keptH); err != nil {
		t.Errorf("pinned namespace at height %d pruned: %v", keptH, err)
	}
	if pageHeights[goneH] || goneH == ds.ref.Height {
		t.Fatalf("test setup: the unpinned blob shares height %d with the dataset", goneH)
	}
	if _, err := full.Node.Store().BlobsByNamespace(goneNS.Array(), goneH); !errors.Is(err, store.ErrPruned) {
		t.Errorf("unpinned namespace at height %d: %v, want pruned", goneH, err)
	}

	// Restart after losing half the pieces (as if stopped mid-copy): the
	// pins are back, re-processed, the missing pages copied again from the
	// node's own (pinned) blobs, and every page served.
	for i, page := range ds.pages {
		if i%2 == 0 {
			if err := full.Node.Bulk().Delete(ctx, bulk.ComputeCID(page)); err != nil {
				t.Fatal(err)
			}
		}
	}
	// A store pin left by an interrupted pin.Rm goes at start; a store pin
	// of another feature stays.
	orphan := store.Pin{Kind: store.PinNamespace, Namespace: goneNS.Array(), ID: storePinID("ns/00", goneNS)}
	foreign := store.Pin{Kind: store.PinNamespace, Namespace: goneNS.Array(), ID: "other" + storePinSep + "x"}
	for _, sp := range []store.Pin{orphan, foreign} {
		if err := full.Node.Store().AddPin(sp); err != nil {
			t.Fatal(err)
		}
	}
	full.Stop()
	full2, err := ln.Add(ctx, full.Name, config.RoleFull)
	if err != nil {
		t.Fatal(err)
	}
	storePins := map[string]bool{}
	for _, sp := range full2.Node.Store().Pins() {
		storePins[sp.ID] = true
	}
	if storePins[orphan.ID] || !storePins[foreign.ID] {
		t.Fatalf("after restart: orphan kept %v, foreign kept %v", storePins[orphan.ID], storePins[foreign.ID])
	}
	r2 := dialNode(t, ctx, ln, full2.Node, rpc.PermRead)
	if p := pinOf(t, ctx, r2, DatasetKey(ds.ref.ID)); p == nil || len(p.Namespaces) != 2 || len(p.Keys) != 3 {
		t.Fatalf("dataset pin after restart: %+v, want its 2 namespaces and 3 keys", p)
	}
	waitServing(t, ctx, r2, DatasetKey(ds.ref.ID), len(ds.pages))
	advertised := map[string]bool{}
	for _, k := range full2.Node.p2pHost().Advertising() {
		advertised[k] = true
	}
	dsPin := pinOf(t, ctx, r2, DatasetKey(ds.ref.ID))
	for _, k := range append(dsPin.Keys, namespaceKey(keptNS)) {
		if !advertised[k] {
			t.Errorf("key %s not advertised after restart (advertising %v)", k, advertised)
		}
	}
	if p := pinOf(t, ctx, r2, namespaceKey(keptNS)); p == nil || p.State != api.PinStateKept {
		t.Fatalf("namespace pin after restart: %+v", p)
	}
	for i, page := range ds.pages {
		got, err := pieces{n: full2.Node}.GetPiece(ctx, sha256.Sum256(page))
		if err != nil || !bytes.Equal(got, page) {
			t.Fatalf("page %d from the restarted node's piece store: %v", i, err)
		}
	}
	// Removing the dataset pin deletes its pieces and store pins.
	if err := dialNode(t, ctx, ln, full2.Node, rpc.PermWrite).Call(ctx, "pin.Rm", nil, DatasetKey(ds.ref.ID)); err != nil {
		t.Fatal(err)
	}
	for _, k := range full2.Node.p2pHost().Advertising() {
		if k == DatasetKey(ds.ref.ID) {
			t.Error("the dataset key is still advertised after pin.Rm")
		}
	}
	for i, page := range ds.pages {
		if has, _ := full2.Node.Bulk().Has(ctx, bulk.ComputeCID(page)); has {
			t.Fatalf("page %d still in the piece store after pin.Rm", i)
		}
	}
	for _, sp := range full2.Node.Store().Pins() {
		if strings.HasPrefix(sp.ID, "dataset/") {
			t.Fatalf("store pin %s outlived its pin", sp.ID)
		}
	}
}

// FuzzPinTarget: newPinEntry (the check of pin.Add's untrusted target)
// never panics; a target it accepts has an ID of its kind, at least one
// namespace, no reserved namespace, and one DHT key per namespace (plus
// the dataset key).
func FuzzPinTarget(f *testing.F) {
	f.Add("", strings.Repeat("ab", 32), "", uint64(0), []byte{})
	f.Add("", "", "0102", uint64(0), []byte{})
	f.Add("", "", strings.Repeat("00", 29), uint64(0), []byte{})
	f.Add("ds", "", "", uint64(5), bytes.Repeat([]byte{1}, 32))
	f.Fuzz(func(t *testing.T, ds, run, ns string, height uint64, commitment []byte) {
		tgt := api.PinTarget{Run: run, Namespace: ns}
		if ds != "" {
			n, err := share.NewV0Namespace([]byte(ds[:min(len(ds), 10)]))
			if err != nil {
				return
			}
			tgt.Dataset = &api.Ref{ID: sha256.Sum256([]byte(ds)), Height: height, Namespace: n, Commitment: commitment}
		}
		e, err := newPinEntry(tgt)
		if err != nil {
			if !errors.Is(err, ErrInvalidPin) {
				t.Fatalf("error %v does not wrap ErrInvalidPin", err)
			}
			return
		}
		if !isPinID(e.id) || !strings.HasPrefix(e.id, map[string]string{"dataset": "dataset/", "run": "run/", "namespace": "ns/"}[e.kind]) {
			t.Fatalf("pin ID %q of kind %s", e.id, e.kind)
		}
		if len(e.nss) == 0 {
			t.Fatal("a pin keeps no namespace")
		}
		for _, n := range e.nss {
			if n.IsReserved() {
				t.Fatalf("pin keeps reserved namespace %s", n)
			}
		}
		want := len(e.nss)
		if e.kind == "dataset" {
			want++
		}
		if len(e.keys) != want {
			t.Fatalf("%d keys for %d namespaces", len(e.keys), len(e.nss))
		}
	})
}
