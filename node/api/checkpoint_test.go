package api

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/tessera-da/tessera/blob"
	"github.com/tessera-da/tessera/blob/dataset"
	"github.com/tessera-da/tessera/node/rpc"
	"github.com/tessera-da/tessera/share"
)

// signedCheckpoint returns a signed record of run (no tensors) and its
// encoding.
func signedCheckpoint(t *testing.T, run [32]byte, parent dataset.ID, step uint64) (*dataset.Checkpoint, []byte) {
	t.Helper()
	ns, err := dataset.Namespace(dataset.CheckpointManifest, run[:])
	if err != nil {
		t.Fatal(err)
	}
	c := &dataset.Checkpoint{RunID: run, Step: step, Parent: parent, Format: "binary", TensorRoot: dataset.ComputeTensorRoot(nil),
		Object:    dataset.ObjectRef{ManifestID: dataset.ID{byte(step)}, Height: 1, Namespace: ns, Length: 100},
		DataSteps: []dataset.StepRange{{First: 0, Last: step}}}
	if err := c.Sign(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{4}, 32))); err != nil {
		t.Fatal(err)
	}
	enc, err := c.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return c, enc
}

func recordBlob(t *testing.T, kind dataset.Kind, run [32]byte, data []byte) *blob.Blob {
	t.Helper()
	ns, err := dataset.Namespace(kind, run[:])
	if err != nil {
		t.Fatal(err)
	}
	b, err := blob.New(ns, data, share.ShareVersionZero, nil)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCheckpointLogAndGet(t *testing.T) {
	e := newEnv(t)
	c := e.client(t, rpc.PermWrite)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	run := sha256.Sum256([]byte("api checkpoint run"))
	root, rootEnc := signedCheckpoint(t, run, dataset.ID{}, 5)
	rootID, _ := root.ID()
	_, childEnc := signedCheckpoint(t, run, rootID, 9)
	_, orphanEnc := signedCheckpoint(t, run, dataset.ID{0xee}, 12)
	_, forgedEnc := signedCheckpoint(t, run, rootID, 13)
	forgedEnc[len(forgedEnc)-1] ^= 1
	rb := &dataset.Rollback{RunID: run, To: rootID, Step: 6, Reason: "divergence"}
	if err := rb.Sign(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{4}, 32))); err != nil {
		t.Fatal(err)
	}
	rbEnc, _ := rb.MarshalBinary()

	rootBlob := recordBlob(t, dataset.CheckpointManifest, run, rootEnc)
	h1 := e.submitAndSeal(t, c, rootBlob, recordBlob(t, dataset.CheckpointManifest, run, []byte("TSMF an object manifest")))
	e.submitAndSeal(t, c, recordBlob(t, dataset.CheckpointManifest, run, childEnc), recordBlob(t, dataset.RunControl, run, []byte("TSRN a run")))
	e.submitAndSeal(t, c, recordBlob(t, dataset.CheckpointManifest, run, orphanEnc), recordBlob(t, dataset.CheckpointManifest, run, forgedEnc))
	e.submitAndSeal(t, c, recordBlob(t, dataset.RunControl, run, rbEnc))

	var l CheckpointLogJSON
	if err := c.Call(ctx, "checkpoint.Log", &l, hex.EncodeToString(run[:])); err != nil {
		t.Fatal(err)
	}
	if len(l.Checkpoints) != 3 || l.Checkpoints[0].Ref.ID != rootID || l.Checkpoints[1].Parent != hex.EncodeToString(rootID[:]) {
		t.Fatalf("checkpoints: %+v", l.Checkpoints)
	}
	if l.Checkpoints[1].ParentMissing || !l.Checkpoints[2].ParentMissing {
		t.Fatal("parent lineage not flagged right")
	}
	if len(l.Rollbacks) != 1 || l.Rollbacks[0].To != hex.EncodeToString(rootID[:]) || l.Rollbacks[0].Step != 6 || l.Rollbacks[0].TargetMissing {
		t.Fatalf("rollbacks: %+v", l.Rollbacks)
	}
	if len(l.Rejected) != 1 || !strings.Contains(l.Rejected[0].Reason, "does not verify") {
		t.Fatalf("rejected: %+v", l.Rejected)
	}

	var got CheckpointJSON
	ref := Ref{ID: rootID, Height: h1, Namespace: rootBlob.Namespace(), Commitment: rootBlob.Commitment()}
	if err := c.Call(ctx, "checkpoint.Get", &got, ref); err != nil {
		t.Fatal(err)
	}
	if got.Step != 5 || !bytes.Equal(got.Record, rootEnc) || got.Ref.Height != h1 || got.Ref.ID != rootID {
		t.Fatalf("checkpoint.Get: %+v", got)
	}
	if p, err := dataset.ParseCheckpoint(got.Record); err != nil || p.Verify() != nil {
		t.Fatalf("the returned record does not verify: %v", err)
	}
	for _, tc := range []struct {
		name string
		ref  Ref
		want string
	}{
		{"other ID", Ref{ID: dataset.ID{1}, Height: h1, Namespace: ref.Namespace, Commitment: ref.Commitment}, "the ref names"},
		{"no such blob", Ref{ID: rootID, Height: h1, Namespace: ref.Namespace, Commitment: make([]byte, 32)}, "not found"},
		{"short commitment", Ref{ID: rootID, Height: h1, Namespace: ref.Namespace, Commitment: []byte{1}}, "commitment"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := c.Call(ctx, "checkpoint.Get", &got, tc.ref)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error saying %q", err, tc.want)
			}
		})
	}
	if err := c.Call(ctx, "checkpoint.Log", &l, "nothex"); err == nil || !strings.Contains(err.Error(), "64 hex digits") {
		t.Fatalf("bad run ID: %v", err)
	}
}
