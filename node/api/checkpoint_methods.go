package api

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/tessera-da/tessera/blob"
	"github.com/tessera-da/tessera/blob/dataset"
	"github.com/tessera-da/tessera/node/rpc"
	"github.com/tessera-da/tessera/share"
)

// Limits of checkpoint.Log: records and bytes read per namespace.
const (
	maxLogRecords = 1 << 16  // records per namespace
	maxLogBytes   = 64 << 20 // bytes of records per namespace
)

// ErrCheckpointNotFound is returned by checkpoint.Get when the ref names no
// checkpoint record.
var ErrCheckpointNotFound = errors.New("checkpoint: not found")

// checkpointMethods returns the checkpoint.* methods.
func (s *Service) checkpointMethods() []reg {
	return []reg{
		{"checkpoint.Log", rpc.PermRead, s.CheckpointLog, []string{"run"}},
		{"checkpoint.Get", rpc.PermRead, s.CheckpointGet, []string{"ref"}},
	}
}

// ObjectRefJSON is a checkpoint's object manifest: Ref is the objects.Ref
// of its manifest blob, Length the object's bytes.
type ObjectRefJSON struct {
	Ref    Ref    `json:"ref"`
	Length uint64 `json:"length"`
}

// TensorJSON is one tensor index entry.
type TensorJSON struct {
	Name   string   `json:"name"`
	DType  string   `json:"dtype"`
	Shape  []uint64 `json:"shape"`
	Start  uint64   `json:"start"`
	End    uint64   `json:"end"`
	SHA256 string   `json:"sha256"`
}

// CheckpointJSON is a verified checkpoint record. Record is its canonical
// encoding, so a client can parse and verify it again.
type CheckpointJSON struct {
	ID            string              `json:"id"`  // checkpoint ID, hex
	Ref           Ref                 `json:"ref"` // where the record is (a REF.json)
	RunID         string              `json:"run_id"`
	Step          uint64              `json:"step"`
	Parent        string              `json:"parent,omitempty"`
	ParentMissing bool                `json:"parent_missing,omitempty"`
	Object        ObjectRefJSON       `json:"object"`
	Format        string              `json:"format"`
	TensorRoot    string              `json:"tensor_root"`
	Tensors       []TensorJSON        `json:"tensors,omitempty"`
	DataSteps     []dataset.StepRange `json:"data_steps,omitempty"`
	Proofs        []string            `json:"proofs,omitempty"`
	Publisher     string              `json:"publisher"`
	Record        []byte              `json:"record,omitempty"`
}

// RollbackJSON is a verified rollback record.
type RollbackJSON struct {
	ID            string `json:"id"`
	Height        uint64 `json:"height"`
	Commitment    []byte `json:"commitment"`
	To            string `json:"to"`
	Step          uint64 `json:"step"`
	Reason        string `json:"reason,omitempty"`
	Publisher     string `json:"publisher"`
	TargetMissing bool   `json:"target_missing,omitempty"`
}

// RejectedJSON is a record the log skipped.
type RejectedJSON struct {
	Height uint64 `json:"height"`
	Kind   string `json:"kind"`
	Reason string `json:"reason"`
}

// CheckpointLogJSON is a run's checkpoint lineage (checkpoint.Log and
// `tessera checkpoint log`).
type CheckpointLogJSON struct {
	RunID         string            `json:"run_id"`
	Checkpoints   []CheckpointJSON  `json:"checkpoints"`
	Rollbacks     []RollbackJSON    `json:"rollbacks"`
	ProofsPerStep map[uint64]uint64 `json:"proofs_per_step"`
	Rejected      []RejectedJSON    `json:"rejected,omitempty"`
}

// NewCheckpointJSON converts a valid checkpoint record published at (height,
// commitment); record, if not nil, is its encoding.
func NewCheckpointJSON(c *dataset.Checkpoint, height uint64, commitment, record []byte) (CheckpointJSON, error) {
	id, err := c.ID()
	if err != nil {
		return CheckpointJSON{}, err
	}
	ns, err := dataset.Namespace(dataset.CheckpointManifest, c.RunID[:])
	if err != nil {
		return CheckpointJSON{}, err
	}
	j := CheckpointJSON{
		ID:    hex.EncodeToString(id[:]),
		Ref:   Ref{ID: id, Height: height, Namespace: ns, Commitment: commitment},
		RunID: hex.EncodeToString(c.RunID[:]), Step: c.Step,
		Object: ObjectRefJSON{Ref: Ref{ID: c.Object.ManifestID, Height: c.Object.Height, Namespace: c.Object.Namespace,
			Commitment: c.Object.Commitment[:]}, Length: c.Object.Length},
		Format: c.Format, TensorRoot: hex.EncodeToString(c.TensorRoot[:]),
		DataSteps: c.DataSteps, Publisher: hex.EncodeToString(c.PublisherKey), Record: record,
	}
	if c.HasParent() {
		j.Parent = hex.EncodeToString(c.Parent[:])
	}
	for _, t := range c.Tensors {
		j.Tensors = append(j.Tensors, TensorJSON{Name: t.Name, DType: t.DType, Shape: t.Shape, Start: t.Start, End: t.End, SHA256: hex.EncodeToString(t.SHA256[:])})
	}
	for _, p := range c.Proofs {
		j.Proofs = append(j.Proofs, hex.EncodeToString(p[:]))
	}
	return j, nil
}

// NewCheckpointLogJSON converts a log.
func NewCheckpointLogJSON(l *dataset.CheckpointLog) (*CheckpointLogJSON, error) {
	j := &CheckpointLogJSON{RunID: hex.EncodeToString(l.RunID[:]), Checkpoints: []CheckpointJSON{}, Rollbacks: []RollbackJSON{}, ProofsPerStep: l.ProofsPerStep}
	for _, lc := range l.Checkpoints {
		cj, err := NewCheckpointJSON(lc.Checkpoint, lc.Height, lc.Commitment, nil)
		if err != nil {
			return nil, err
		}
		cj.ParentMissing = lc.ParentMissing
		j.Checkpoints = append(j.Checkpoints, cj)
	}
	for _, lr := range l.Rollbacks {
		r := lr.Rollback
		j.Rollbacks = append(j.Rollbacks, RollbackJSON{ID: hex.EncodeToString(lr.ID[:]), Height: lr.Height, Commitment: lr.Commitment,
			To: hex.EncodeToString(r.To[:]), Step: r.Step, Reason: r.Reason, Publisher: hex.EncodeToString(r.PublisherKey), TargetMissing: lr.TargetMissing})
	}
	for _, r := range l.Rejected {
		j.Rejected = append(j.Rejected, RejectedJSON{Height: r.Height, Kind: r.Kind.String(), Reason: r.Reason})
	}
	return j, nil
}

// ParseRunID reads a 32-byte run ID in hex.
func ParseRunID(s string) ([32]byte, error) {
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 32 {
		return [32]byte{}, fmt.Errorf("run ID %q is not 64 hex digits", s)
	}
	return [32]byte(b), nil
}

// readRecords returns every blob of ns up to the local head, in height
// order, bounded by maxLogRecords and maxLogBytes.
func (s *Service) readRecords(ctx context.Context, ns share.Namespace) ([]dataset.RecordAt, error) {
	head := s.Watcher.Head()
	if head == nil {
		return nil, nil
	}
	var out []dataset.RecordAt
	var size int
	cursor := ""
	for {
		page, err := s.BlobGetRange(ctx, ns, 1, head.Height, cursor)
		if err != nil {
			return nil, err
		}
		for _, b := range page.Blobs {
			size += len(b.Blob.Data())
			if len(out) == maxLogRecords || size > maxLogBytes {
				return nil, fmt.Errorf("namespace %s holds more than %d records or %d bytes", ns, maxLogRecords, maxLogBytes)
			}
			out = append(out, dataset.RecordAt{Height: b.Height, Commitment: b.Blob.Commitment(), Data: b.Blob.Data()})
		}
		if page.Next == "" {
			return out, nil
		}
		cursor = page.Next
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
}

// CheckpointLog returns the lineage of run (64 hex digits) from this node's
// store: every verified checkpoint record of the run in height order with
// parents that are missing flagged, its verified rollbacks, the number of
// training proofs per step, and the records it skipped and why. See
// dataset.ComputeCheckpointLog.
func (s *Service) CheckpointLog(ctx context.Context, run string) (*CheckpointLogJSON, error) {
	runID, err := ParseRunID(run)
	if err != nil {
		return nil, err
	}
	var recs [3][]dataset.RecordAt
	for i, k := range []dataset.Kind{dataset.CheckpointManifest, dataset.RunControl, dataset.TrainingProofs} {
		ns, err := dataset.Namespace(k, runID[:])
		if err != nil {
			return nil, err
		}
		if recs[i], err = s.readRecords(ctx, ns); err != nil {
			return nil, fmt.Errorf("reading the run's %s records: %w", k, err)
		}
	}
	return NewCheckpointLogJSON(dataset.ComputeCheckpointLog(runID, recs[0], recs[1], recs[2]))
}

// CheckpointGet returns the checkpoint record ref names, parsed and
// verified (canonical, valid, signed by its publisher, ID equal to
// ref.ID), from this node's store.
func (s *Service) CheckpointGet(ctx context.Context, ref Ref) (*CheckpointJSON, error) {
	if len(ref.Commitment) != blob.CommitmentSize {
		return nil, fmt.Errorf("ref commitment is %d bytes, want %d", len(ref.Commitment), blob.CommitmentSize)
	}
	b, err := s.BlobGet(ctx, ref.Height, ref.Namespace, ref.Commitment)
	if err != nil {
		if errors.Is(err, ErrBlobNotFound) {
			return nil, fmt.Errorf("%w: no blob %x at height %d: %w", ErrCheckpointNotFound, ref.Commitment, ref.Height, err)
		}
		return nil, err
	}
	c, err := dataset.ParseCheckpoint(b.Data())
	if err != nil {
		return nil, err
	}
	if err := c.Verify(); err != nil {
		return nil, err
	}
	if ns, err := dataset.Namespace(dataset.CheckpointManifest, c.RunID[:]); err != nil || ns != ref.Namespace {
		return nil, fmt.Errorf("%w: the record of run %x is not in its run's checkpoint-manifest namespace", ErrCheckpointNotFound, c.RunID)
	}
	id, _ := c.ID()
	if id != ref.ID {
		return nil, fmt.Errorf("%w: the record at height %d has ID %x, the ref names %x", ErrCheckpointNotFound, ref.Height, id, ref.ID)
	}
	j, err := NewCheckpointJSON(c, ref.Height, ref.Commitment, b.Data())
	if err != nil {
		return nil, err
	}
	return &j, nil
}
