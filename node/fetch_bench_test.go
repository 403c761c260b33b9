package node

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tessera-da/tessera/blob/dataset"
	"github.com/tessera-da/tessera/node/api"
	"github.com/tessera-da/tessera/node/bulk"
	"github.com/tessera-da/tessera/node/config"
	"github.com/tessera-da/tessera/node/rpc"
)

// BenchmarkDatasetFetch: two full nodes pin a 64 MiB dataset of 1 MiB
// pages on loopback; a light node fetches every page over bitswap and
// verifies it (length and SHA-256 against its entry, the entry against the
// manifest's page root), 16 pages in flight. The SHA-256 check is bulk's
// (the piece CID is the entry's SHA-256). Between iterations the light
// node's copies are deleted (not timed), so every iteration fetches all
// 64 MiB from the two pinners.
func BenchmarkDatasetFetch(b *testing.B) {
	const (
		pageSize = 1 << 20 // bytes
		pages    = 64
		inFlight = 16
	)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	ln := startPinNet(b, ctx, "fetch-bench", 2, 128)
	defer func() { cancel(); _ = ln.Wait() }()
	ds := publish(b, ctx, ln, "fetch-bench", pages*pageSize, pageSize)
	for _, f := range ln.Nodes[1:3] {
		waitHeight(b, ctx, f.Node, ds.ref.Height)
		c := dialNode(b, ctx, ln, f.Node, rpc.PermWrite)
		var info api.PinInfo
		if err := c.Call(ctx, "pin.Add", &info, api.PinTarget{Dataset: &ds.ref}); err != nil {
			b.Fatal(err)
		}
		waitServing(b, ctx, c, DatasetKey(ds.ref.ID), pages)
	}
	light, err := ln.Add(ctx, "light-1", config.RoleLight)
	if err != nil {
		b.Fatal(err)
	}
	lh := light.Node.p2pHost().Host()
	for _, f := range ln.Nodes[1:3] {
		fh := f.Node.p2pHost().Host()
		if err := lh.Connect(ctx, fh.Peerstore().PeerInfo(fh.ID())); err != nil {
			b.Fatal(err)
		}
	}
	// Let the light node finish sampling the dataset's heights first (its
	// samples make the full nodes extend those squares again).
	if err := light.Node.svc.Sampler.WaitCatchUp(ctx); err != nil {
		b.Fatal(err)
	}
	lb := light.Node.Bulk()
	root, err := ds.m.ComputePageRoot()
	if err != nil {
		b.Fatal(err)
	}

	b.SetBytes(pages * pageSize)
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		for _, e := range ds.m.Entries {
			if err := lb.Delete(ctx, bulk.PieceCID(e.SHA256)); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		if err := fetchVerified(ctx, lb, ds.m, root, inFlight); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(lb.Stats().FetchRetries)/float64(b.N), "retries/op")
}

// fetchVerified fetches every page of m from peers, parallel at a time,
// checking each against its entry and the entry against root.
func fetchVerified(ctx context.Context, b *bulk.Bulk, m *dataset.Manifest, root dataset.PageRoot, parallel int) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	// Each entry against the page root, then each page's bytes against
	// its entry: bulk checks that they hash to the piece CID, which is the
	// entry's SHA-256, so the callback checks the length alone (hashing
	// again would be a third SHA-256 pass over every page).
	checks := make([]func([]byte) error, len(m.Entries))
	for i := range m.Entries {
		e, proof, err := m.ProvePage(uint64(i))
		if err != nil {
			return err
		}
		if proof.Index() != int64(i) || proof.Total() < 0 || uint64(proof.Total()) != root.Pages {
			return fmt.Errorf("page %d: proof for page %d of %d", i, proof.Index(), proof.Total())
		}
		if err := proof.Verify(root.Hash[:], e.AppendBinary(nil)); err != nil {
			return fmt.Errorf("page %d: entry not under the page root: %w", i, err)
		}
		checks[i] = func(page []byte) error {
			if uint64(len(page)) != e.Length {
				return fmt.Errorf("page %d is %d bytes, the entry says %d", i, len(page), e.Length)
			}
			return nil
		}
	}
	sem := make(chan struct{}, parallel)
	errs := make([]error, len(m.Entries))
	var wg sync.WaitGroup
	for i, e := range m.Entries {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if _, err := b.GetVerified(ctx, bulk.PieceCID(e.SHA256), checks[i]); err != nil {
				errs[i] = fmt.Errorf("page %d: %w", i, err)
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
