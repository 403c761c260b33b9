package objects_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tessera-da/tessera/blob"
	"github.com/tessera-da/tessera/blob/dataset"
	"github.com/tessera-da/tessera/node/objects"
	"github.com/tessera-da/tessera/share"
)

// safetensorsFile writes a small safetensors file: a JSON header naming
// three tensors and their bytes (a deterministic pattern).
func safetensorsFile(t *testing.T) []byte {
	t.Helper()
	header := `{"__metadata__":{"format":"pt"},` +
		`"embed":{"dtype":"F32","shape":[32,16],"data_offsets":[0,2048]},` +
		`"norm":{"dtype":"BF16","shape":[16],"data_offsets":[2048,2080]},` +
		`"head":{"dtype":"F16","shape":[16,40],"data_offsets":[2080,3360]}}`
	f := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	f = append(f, header...)
	for i := range 3360 {
		f = append(f, byte(i*13+i>>7))
	}
	return f
}

func TestCheckpointPutGetLogRollback(t *testing.T) {
	ctx, c := nodeTest(t, 60*time.Second)
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{8}, 32))
	run := sha256.Sum256([]byte("checkpoint run"))
	file := safetensorsFile(t)
	opts := objects.CheckpointOptions{Step: 10, Key: key, DataSteps: []dataset.StepRange{{First: 0, Last: 10}}, Object: objects.Options{PageSize: 1024}}

	// The root checkpoint: pages, manifest, record; fetched whole and one
	// tensor alone.
	ref, err := objects.CheckpointPut(ctx, c, run, bytes.NewReader(file), int64(len(file)), opts)
	if err != nil {
		t.Fatal(err)
	}
	got, ck, err := objects.CheckpointGet(ctx, c, *ref)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, file) || ck.Format != dataset.FormatSafetensors || len(ck.Tensors) != 3 || ck.Step != 10 {
		t.Fatalf("got %d bytes, format %q, %d tensors", len(got), ck.Format, len(ck.Tensors))
	}
	norm, tn, _, err := objects.CheckpointTensor(ctx, c, *ref, "norm")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(norm, file[tn.Start:tn.End]) || len(norm) != 32 || tn.DType != "BF16" {
		t.Fatalf("tensor norm: %d bytes at [%d, %d)", len(norm), tn.Start, tn.End)
	}
	if _, _, _, err := objects.CheckpointTensor(ctx, c, *ref, "missing"); !errors.Is(err, dataset.ErrInvalidParams) {
		t.Fatalf("a tensor not in the index: %v", err)
	}

	// A child names the root; a parent that does not exist is refused.
	opts.Step, opts.Parent, opts.DataSteps = 20, ref.ID, []dataset.StepRange{{First: 11, Last: 20}}
	child, err := objects.CheckpointPut(ctx, c, run, bytes.NewReader(file), int64(len(file)), opts)
	if err != nil {
		t.Fatal(err)
	}
	opts.Parent = dataset.ID{0xde, 0xad}
	if _, err := objects.CheckpointPut(ctx, c, run, bytes.NewReader(file), int64(len(file)), opts); !errors.Is(err, objects.ErrCheckpointNotFound) || !strings.Contains(err.Error(), "parent dead") {
		t.Fatalf("a missing parent: %v", err)
	}

	// Lineage that contradicts the step is refused before anything is uploaded.
	bad0 := opts
	bad0.Parent, bad0.Step = dataset.ID{}, 5
	if _, err := objects.CheckpointPut(ctx, c, run, bytes.NewReader(file), int64(len(file)), bad0); !errors.Is(err, dataset.ErrInvalidCheckpoint) {
		t.Fatalf("data steps after the checkpoint's step: %v", err)
	}

	// A publisher whose tensor index does not match the bytes: the record
	// is well signed, the tensor fetch fails naming the tensor.
	bad, err := objects.FetchCheckpoint(ctx, c, *ref)
	if err != nil {
		t.Fatal(err)
	}
	bad.Step, bad.Parent = 21, child.ID
	bad.Tensors[2].SHA256[0] ^= 1
	bad.TensorRoot = dataset.ComputeTensorRoot(bad.Tensors)
	if err := bad.Sign(key); err != nil {
		t.Fatal(err)
	}
	badRef, err := objects.PublishCheckpointRecord(ctx, c, bad)
	if err != nil {
		t.Fatal(err)
	}
	name := bad.Tensors[2].Name
	if _, _, _, err := objects.CheckpointTensor(ctx, c, *badRef, name); !errors.Is(err, dataset.ErrInvalidTensor) || !strings.Contains(err.Error(), name) {
		t.Fatalf("a tensor that does not match its index: %v", err)
	}
	if _, _, err := objects.CheckpointGet(ctx, c, *badRef); !errors.Is(err, dataset.ErrInvalidTensor) {
		t.Fatalf("a whole checkpoint with a bad tensor: %v", err)
	}

	// A record whose signature is wrong: refused on fetch, rejected by the log.
	forged, err := objects.FetchCheckpoint(ctx, c, *ref)
	if err != nil {
		t.Fatal(err)
	}
	forged.Step = 30
	if err := forged.Sign(key); err != nil {
		t.Fatal(err)
	}
	forged.Signature[5] ^= 1
	enc, err := forged.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	fb, err := blob.New(ref.Namespace, enc, share.ShareVersionZero, nil)
	if err != nil {
		t.Fatal(err)
	}
	var fh uint64
	if err := c.Call(ctx, "blob.Submit", &fh, []*blob.Blob{fb}, nil); err != nil {
		t.Fatal(err)
	}
	forgedID, _ := forged.ID()
	fref := objects.Ref{ID: forgedID, Height: fh, Namespace: fb.Namespace(), Commitment: fb.Commitment()}
	if _, err := objects.FetchCheckpoint(ctx, c, fref); !errors.Is(err, dataset.ErrInvalidCheckpointSignature) || !strings.Contains(err.Error(), "does not verify") {
		t.Fatalf("a wrong signature: %v", err)
	}

	// Rollback to the root; a rollback to an unknown checkpoint is refused.
	rbRef, err := objects.CheckpointRollback(ctx, c, run, ref.ID, objects.RollbackOptions{Reason: "loss spike", Key: key})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := objects.CheckpointRollback(ctx, c, run, dataset.ID{9}, objects.RollbackOptions{Key: key}); !errors.Is(err, objects.ErrCheckpointNotFound) {
		t.Fatalf("a rollback to nothing: %v", err)
	}

	l, err := objects.CheckpointLog(ctx, c, run)
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Checkpoints) != 3 {
		t.Fatalf("%d checkpoints in the log, want 3 (rejected: %+v)", len(l.Checkpoints), l.Rejected)
	}
	if l.Checkpoints[0].ID != ref.ID || l.Checkpoints[1].ID != child.ID || l.Checkpoints[1].Checkpoint.Parent != ref.ID || l.Checkpoints[1].ParentMissing {
		t.Fatal("the log does not show root → child")
	}
	if l.Checkpoints[2].ID != badRef.ID || l.Checkpoints[2].Checkpoint.Parent != child.ID {
		t.Fatal("the log does not show child → third")
	}
	if len(l.Rollbacks) != 1 || l.Rollbacks[0].ID != rbRef.ID || l.Rollbacks[0].Rollback.To != ref.ID || l.Rollbacks[0].Rollback.Step != 10 {
		t.Fatalf("rollbacks: %+v", l.Rollbacks)
	}
	if len(l.Rejected) != 1 || !strings.Contains(l.Rejected[0].Reason, "does not verify") {
		t.Fatalf("rejected: %+v", l.Rejected)
	}
}
