package objects

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"

	"github.com/tessera-da/tessera/blob"
	"github.com/tessera-da/tessera/blob/dataset"
	"github.com/tessera-da/tessera/node/api"
	"github.com/tessera-da/tessera/share"
)

// ErrCheckpointNotFound: a checkpoint (a parent, a rollback target) that is
// not among the verified checkpoint records of the run.
var ErrCheckpointNotFound = errors.New("objects: checkpoint not found in the run")

// FormatBinary is the format of a checkpoint put without a tensor index.
const FormatBinary = "binary"

// CheckpointOptions configure CheckpointPut.
type CheckpointOptions struct {
	Step      uint64              // training step of the checkpoint
	Parent    dataset.ID          // parent checkpoint ID; zero for none
	Format    string              // "" detects safetensors, else FormatBinary; dataset.FormatSafetensors requires it
	DataSteps []dataset.StepRange // data steps the checkpoint consumed
	Proofs    [][32]byte          // training-proof IDs it builds on, strictly increasing
	Key       ed25519.PrivateKey  // the publisher's key (signs the manifest and the record)
	Object    Options             // page size, parallelism, journal, progress; kinds and key are set by CheckpointPut
}

// CheckpointPut publishes a checkpoint of run runID: when its parent is
// named, it first checks that the parent is a checkpoint of the run at a
// step ≤ o.Step (else ErrCheckpointNotFound); for a safetensors file it
// builds the tensor index (every tensor's range and SHA-256); it publishes
// the file's pages and object manifest with Put (PageKind
// CheckpointChunks, ManifestKind CheckpointManifest, scope = run ID), then
// the signed checkpoint record in the run's CheckpointManifest namespace.
// It returns the record's ref (its ID is the checkpoint ID).
func CheckpointPut(ctx context.Context, c Caller, runID [32]byte, r io.ReaderAt, size int64, o CheckpointOptions) (*Ref, error) {
	if len(o.Key) != ed25519.PrivateKeySize || size <= 0 {
		return nil, fmt.Errorf("%w: a publisher key and a non-empty file are required", ErrInvalid)
	}
	if o.Parent != (dataset.ID{}) {
		l, err := CheckpointLog(ctx, c, runID)
		if err != nil {
			return nil, fmt.Errorf("reading the run's checkpoints: %w", err)
		}
		p, ok := l.Checkpoint(o.Parent)
		if !ok {
			return nil, fmt.Errorf("%w: parent %x is not a checkpoint of run %x", ErrCheckpointNotFound, o.Parent, runID)
		}
		if p.Checkpoint.Step > o.Step {
			return nil, fmt.Errorf("%w: parent %x is at step %d, after step %d", ErrInvalid, o.Parent, p.Checkpoint.Step, o.Step)
		}
	}
	tensors, format, err := tensorIndex(r, uint64(size), o.Format)
	if err != nil {
		return nil, err
	}
	mns, err := dataset.Namespace(dataset.CheckpointManifest, runID[:])
	if err != nil {
		return nil, err
	}
	ck := &dataset.Checkpoint{
		RunID: runID, Step: o.Step, Parent: o.Parent,
		Object:  dataset.ObjectRef{Namespace: mns, Length: uint64(size)},
		Format:  format,
		Tensors: tensors, TensorRoot: dataset.ComputeTensorRoot(tensors),
		DataSteps: o.DataSteps, Proofs: o.Proofs,
		PublisherKey: o.Key.Public().(ed25519.PublicKey),
	}
	// Check the record's fields before uploading anything.
	if err := ck.Validate(); err != nil {
		return nil, err
	}
	po := o.Object
	po.PageKind, po.ManifestKind, po.Key = dataset.CheckpointChunks, dataset.CheckpointManifest, o.Key
	if po.MediaType == "" {
		po.MediaType = "application/octet-stream"
	}
	mref, err := Put(ctx, c, runID[:], r, size, po)
	if err != nil {
		return nil, err
	}
	ck.Object.ManifestID, ck.Object.Height, ck.Object.Namespace = mref.ID, mref.Height, mref.Namespace
	copy(ck.Object.Commitment[:], mref.Commitment)
	if err := ck.Sign(o.Key); err != nil {
		return nil, err
	}
	return PublishCheckpointRecord(ctx, c, ck)
}

// tensorIndex detects or checks the format and, for safetensors, returns
// the tensor index with every tensor's SHA-256.
func tensorIndex(r io.ReaderAt, size uint64, format string) ([]dataset.Tensor, string, error) {
	if format != "" && format != dataset.FormatSafetensors {
		return nil, format, nil
	}
	ts, err := safetensorsIndex(r, size)
	if err != nil {
		if format == "" && errors.Is(err, dataset.ErrInvalidSafetensors) {
			return nil, FormatBinary, nil
		}
		return nil, "", err
	}
	return ts, dataset.FormatSafetensors, nil
}

func safetensorsIndex(r io.ReaderAt, size uint64) ([]dataset.Tensor, error) {
	prefix := make([]byte, dataset.SafetensorsPrefixSize)
	if size < uint64(len(prefix)) {
		return nil, fmt.Errorf("%w: %d-byte file", dataset.ErrInvalidSafetensors, size)
	}
	if _, err := r.ReadAt(prefix, 0); err != nil {
		return nil, fmt.Errorf("reading the safetensors header length: %w", err)
	}
	n, err := dataset.SafetensorsHeaderLen(prefix, size)
	if err != nil {
		return nil, err
	}
	head := make([]byte, dataset.SafetensorsPrefixSize+n)
	if _, err := r.ReadAt(head, 0); err != nil && !(errors.Is(err, io.EOF) && uint64(len(head)) == size) {
		return nil, fmt.Errorf("reading the safetensors header: %w", err)
	}
	h, err := dataset.ParseSafetensorsHeader(head, size)
	if err != nil {
		return nil, err
	}
	for i := range h.Tensors {
		t := &h.Tensors[i]
		hs := sha256.New()
		if _, err := io.Copy(hs, io.NewSectionReader(r, int64(t.Start), int64(t.End-t.Start))); err != nil {
			return nil, fmt.Errorf("reading tensor %q: %w", t.Name, err)
		}
		copy(t.SHA256[:], hs.Sum(nil))
	}
	return h.Tensors, nil
}

// PublishCheckpointRecord verifies a signed checkpoint record and submits
// it in its run's CheckpointManifest namespace; it returns its ref.
// CheckpointPut calls it; tools that build records themselves may too.
func PublishCheckpointRecord(ctx context.Context, c Caller, ck *dataset.Checkpoint) (*Ref, error) {
	if err := ck.Verify(); err != nil {
		return nil, err
	}
	return publishRecord(ctx, c, dataset.CheckpointManifest, ck.RunID, ck)
}

// FetchCheckpoint fetches the checkpoint record ref names and verifies it:
// its blob's commitment proof against its block's data root, its canonical
// encoding, its signature, its ID (ref.ID) and that it sits in its run's
// CheckpointManifest namespace.
func FetchCheckpoint(ctx context.Context, c Caller, ref Ref) (*dataset.Checkpoint, error) {
	return fetchCheckpoint(ctx, newFetcher(c), ref)
}

func fetchCheckpoint(ctx context.Context, f *fetcher, ref Ref) (*dataset.Checkpoint, error) {
	if len(ref.Commitment) != blob.CommitmentSize {
		return nil, fmt.Errorf("%w: ref commitment is %d bytes", ErrInvalid, len(ref.Commitment))
	}
	b, err := f.getBlob(ctx, ref.Height, ref.Namespace, ref.Commitment)
	if err != nil {
		return nil, fmt.Errorf("checkpoint record: %w", err)
	}
	ck, err := dataset.ParseCheckpoint(b.Data())
	if err != nil {
		return nil, err
	}
	if err := ck.Verify(); err != nil {
		return nil, err
	}
	if ns, err := dataset.Namespace(dataset.CheckpointManifest, ck.RunID[:]); err != nil || ns != ref.Namespace {
		return nil, fmt.Errorf("%w: the record of run %x is not in its run's checkpoint-manifest namespace", ErrMismatch, ck.RunID)
	}
	if id, _ := ck.ID(); id != ref.ID {
		return nil, fmt.Errorf("%w: checkpoint ID %x, the ref names %x", ErrMismatch, id, ref.ID)
	}
	return ck, nil
}

// objectRef is the Ref of a checkpoint's object manifest.
func objectRef(ck *dataset.Checkpoint) Ref {
	return Ref{ID: ck.Object.ManifestID, Height: ck.Object.Height, Namespace: ck.Object.Namespace, Commitment: ck.Object.Commitment[:]}
}

// CheckpointGet fetches the verified checkpoint record at ref and its whole
// object (every page verified, see Get), checks the object's length and
// every tensor of the index against its bytes, and returns both.
func CheckpointGet(ctx context.Context, c Caller, ref Ref) ([]byte, *dataset.Checkpoint, error) {
	ck, err := FetchCheckpoint(ctx, c, ref)
	if err != nil {
		return nil, nil, err
	}
	data, m, err := Get(ctx, c, objectRef(ck))
	if err != nil {
		return nil, nil, err
	}
	if m.ObjectLength != ck.Object.Length {
		return nil, nil, fmt.Errorf("%w: the object is %d bytes, the checkpoint says %d", ErrMismatch, m.ObjectLength, ck.Object.Length)
	}
	for _, t := range ck.Tensors {
		if err := dataset.VerifyTensor(t, data[t.Start:t.End]); err != nil {
			return nil, nil, err
		}
	}
	return data, ck, nil
}

// CheckpointTensor fetches one tensor of the checkpoint at ref: the
// verified record, the tensor's entry in its index, the tensor's bytes
// with GetRange (only the pages they overlap, each verified) and then the
// bytes against the entry's SHA-256 (dataset.ErrInvalidTensor).
func CheckpointTensor(ctx context.Context, c Caller, ref Ref, name string) ([]byte, dataset.Tensor, *dataset.Checkpoint, error) {
	ck, err := FetchCheckpoint(ctx, c, ref)
	if err != nil {
		return nil, dataset.Tensor{}, nil, err
	}
	t, err := ck.Tensor(name)
	if err != nil {
		return nil, dataset.Tensor{}, nil, err
	}
	data, m, err := GetRange(ctx, c, objectRef(ck), t.Start, t.End-t.Start)
	if err != nil {
		return nil, dataset.Tensor{}, nil, err
	}
	if m.ObjectLength != ck.Object.Length {
		return nil, dataset.Tensor{}, nil, fmt.Errorf("%w: the object is %d bytes, the checkpoint says %d", ErrMismatch, m.ObjectLength, ck.Object.Length)
	}
	if err := dataset.VerifyTensor(t, data); err != nil {
		return nil, dataset.Tensor{}, nil, err
	}
	return data, t, ck, nil
}

// Limits of CheckpointLog: records and bytes read per namespace.
const (
	maxLogRecords = 1 << 16  // records per namespace
	maxLogBytes   = 64 << 20 // bytes of records per namespace
)

// readRecords reads every blob of ns up to the node's head with
// blob.GetRange. Blobs starting with one of the magics in verify have
// their inclusion proven against their block's data root.
func readRecords(ctx context.Context, f *fetcher, ns share.Namespace, head uint64, verify ...[4]byte) ([]dataset.RecordAt, error) {
	var out []dataset.RecordAt
	size, cursor := 0, ""
	for {
		var page api.RangePage
		if err := f.c.Call(ctx, "blob.GetRange", &page, ns, uint64(1), head, cursor); err != nil {
			return nil, fmt.Errorf("blob.GetRange %s: %w", ns, err)
		}
		for _, b := range page.Blobs {
			if b.Blob == nil || b.Blob.Namespace() != ns {
				return nil, fmt.Errorf("%w: blob.GetRange %s returned a blob of another namespace", ErrMismatch, ns)
			}
			data := b.Blob.Data()
			size += len(data)
			if len(out) == maxLogRecords || size > maxLogBytes {
				return nil, fmt.Errorf("%w: namespace %s holds more than %d records or %d bytes", ErrInvalid, ns, maxLogRecords, maxLogBytes)
			}
			for _, m := range verify {
				if len(data) >= 4 && [4]byte(data[:4]) == m {
					if err := f.verifyIncluded(ctx, b.Height, ns, b.Blob.Commitment()); err != nil {
						return nil, err
					}
				}
			}
			out = append(out, dataset.RecordAt{Height: b.Height, Commitment: b.Blob.Commitment(), Data: data})
		}
		if page.Next == "" {
			return out, nil
		}
		cursor = page.Next
	}
}

var (
	checkpointMagic = [4]byte{'T', 'S', 'C', 'K'}
	rollbackMagic   = [4]byte{'T', 'S', 'R', 'B'}
)

// CheckpointLog reads the run's CheckpointManifest, RunControl and
// TrainingProofs namespaces up to the node's head and returns the run's
// lineage (dataset.ComputeCheckpointLog): checkpoints in height order with
// missing parents flagged, rollbacks, proofs per step and rejected records.
// Every checkpoint and rollback record's blob is proven included under its
// block's data root; the node could still omit records (it is trusted for
// completeness).
func CheckpointLog(ctx context.Context, c Caller, runID [32]byte) (*dataset.CheckpointLog, error) {
	var head api.ExtendedHeader
	if err := c.Call(ctx, "header.LocalHead", &head); err != nil {
		return nil, fmt.Errorf("header.LocalHead: %w", err)
	}
	if head.Tessera == nil {
		return nil, fmt.Errorf("%w: the head has no compact header", ErrMismatch)
	}
	f := newFetcher(c)
	var recs [3][]dataset.RecordAt
	for i, k := range []dataset.Kind{dataset.CheckpointManifest, dataset.RunControl, dataset.TrainingProofs} {
		ns, err := dataset.Namespace(k, runID[:])
		if err != nil {
			return nil, err
		}
		if recs[i], err = readRecords(ctx, f, ns, head.Tessera.Height, checkpointMagic, rollbackMagic); err != nil {
			return nil, err
		}
	}
	return dataset.ComputeCheckpointLog(runID, recs[0], recs[1], recs[2]), nil
}

// RollbackOptions configure CheckpointRollback.
type RollbackOptions struct {
	Step   *uint64            // step training resumes at; nil means the checkpoint's step
	Reason string             // why
	Key    ed25519.PrivateKey // the publisher's key
}

// CheckpointRollback posts a signed rollback record in the run's
// RunControl namespace saying training resumes from checkpoint to. The
// checkpoint must be in the run's log (else ErrCheckpointNotFound). It
// returns the record's ref.
func CheckpointRollback(ctx context.Context, c Caller, runID [32]byte, to dataset.ID, o RollbackOptions) (*Ref, error) {
	if len(o.Key) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("%w: a publisher key is required", ErrInvalid)
	}
	l, err := CheckpointLog(ctx, c, runID)
	if err != nil {
		return nil, fmt.Errorf("reading the run's checkpoints: %w", err)
	}
	ck, ok := l.Checkpoint(to)
	if !ok {
		return nil, fmt.Errorf("%w: %x is not a checkpoint of run %x", ErrCheckpointNotFound, to, runID)
	}
	r := &dataset.Rollback{RunID: runID, To: to, Step: ck.Checkpoint.Step, Reason: o.Reason}
	if o.Step != nil {
		r.Step = *o.Step
	}
	if err := r.Sign(o.Key); err != nil {
		return nil, err
	}
	return publishRecord(ctx, c, dataset.RunControl, runID, r)
}
