package node

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tessera-da/tessera/blob"
	"github.com/tessera-da/tessera/blob/dataset"
	"github.com/tessera-da/tessera/node/objects"
	"github.com/tessera-da/tessera/node/rpc"
)

// swapProof is an objects.Caller that answers blob.GetCommitmentProof for
// a page with the proof of another page, as a lying node would; the
// manifest's proof passes through.
type swapProof struct {
	c        *rpc.Client
	manifest blob.Commitment
	a, b     dataset.PageEntry // a's proof is answered with b's, any other with a's
}

func (s *swapProof) Call(ctx context.Context, method string, result any, params ...any) error {
	if method == "blob.GetCommitmentProof" && len(params) == 3 {
		if c, ok := params[2].(blob.Commitment); ok && !bytes.Equal(c, s.manifest) {
			e := s.a
			if bytes.Equal(c, s.a.Commitment[:]) {
				e = s.b
			}
			return s.c.Call(ctx, method, result, e.Height, e.Namespace, blob.Commitment(e.Commitment[:]))
		}
	}
	return s.c.Call(ctx, method, result, params...)
}

// TestLightNodeObjects: a dataset published through the producer reads
// back whole, exactly, through a light node's RPC (objects.Get and
// objects.Download), whose blob.GetCommitmentProof asks full peers over
// the commitment proof protocol and verifies their answer; a proof of the
// wrong blob is still refused by the objects package.
func TestLightNodeObjects(t *testing.T) {
	p := pinNetParams("light-objects", 1, 32)
	p.Light = 1
	ctx, ln := netTest(t, "three libp2p nodes", 90*time.Second, p)
	full, light := ln.Nodes[1].Node, ln.Nodes[2].Node
	if light.svc.Remote == nil {
		t.Fatal("the light node has no remote: it would read its own squares")
	}

	ds := publish(t, ctx, ln, "light-objects-dataset", 5*16<<10+77, 16<<10)
	waitHeight(t, ctx, full, ds.ref.Height)
	waitFor(t, ctx, "light node head", func() bool {
		h := light.watch.Head()
		return h != nil && h.Height >= ds.ref.Height
	})
	if _, err := light.Store().ODS(ds.ref.Height); err == nil {
		t.Fatal("the light node stores the square: the test would not exercise peers")
	}
	lc := dialNode(t, ctx, ln, light, rpc.PermRead)

	// The RPC method itself, for the manifest blob.
	var cp blob.CommitmentProof
	if err := lc.Call(ctx, "blob.GetCommitmentProof", &cp, ds.ref.Height, ds.ref.Namespace, blob.Commitment(ds.ref.Commitment)); err != nil {
		t.Fatal(err)
	}
	hdr, err := light.Store().HeaderByHeight(ds.ref.Height)
	if err != nil {
		t.Fatal(err)
	}
	if err := cp.Verify(hdr.DataRoot[:], ds.ref.Namespace, ds.ref.Commitment); err != nil {
		t.Fatal(err)
	}
	other := bytes.Repeat([]byte{9}, blob.CommitmentSize)
	if err := lc.Call(ctx, "blob.GetCommitmentProof", &cp, ds.ref.Height, ds.ref.Namespace, blob.Commitment(other)); err == nil {
		t.Fatal("a proof for a commitment no block holds")
	}

	got, m, err := objects.Get(ctx, lc, ds.ref)
	if err != nil {
		t.Fatal(err)
	}
	gotID, err1 := m.ID()
	wantID, err2 := ds.m.ID()
	if err1 != nil || err2 != nil || gotID != wantID || !bytes.Equal(got, ds.data) {
		t.Fatalf("objects.Get through the light node: %d bytes, want %d (equal %v)", len(got), len(ds.data), bytes.Equal(got, ds.data))
	}
	out := filepath.Join(t.TempDir(), "dataset.bin")
	res, err := objects.Download(ctx, lc, ds.ref, out, objects.DownloadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	onDisk, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(onDisk, ds.data) || res.Bytes != uint64(len(ds.data)) {
		t.Fatalf("objects.Download through the light node: %d bytes, want %d", len(onDisk), len(ds.data))
	}

	// A node answering with another page's proof is caught.
	liar := &swapProof{c: lc, manifest: ds.ref.Commitment, a: ds.m.Entries[0], b: ds.m.Entries[1]}
	if _, _, err := objects.Get(ctx, liar, ds.ref); !errors.Is(err, objects.ErrMismatch) {
		t.Fatalf("objects.Get with swapped proofs: %v, want ErrMismatch", err)
	}
}
