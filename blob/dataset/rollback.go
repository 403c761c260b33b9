package dataset

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"unicode/utf8"
)

// ErrInvalidRollback: a rollback record that is malformed, exceeds a limit
// or is not canonical.
var ErrInvalidRollback = errors.New("dataset: invalid rollback record")

// Limits of a rollback record.
const (
	RollbackVersion      = 1                                     // encoding version
	MaxRollbackReasonLen = MaxStringLen                          // bytes of the reason
	rollbackFixedSize    = 4 + 1 + 32 + IDSize + 8 + 4 + 32      // bytes before the signature, empty reason
	MaxRollbackSize      = rollbackFixedSize + MaxStringLen + 64 // bytes of an encoded record
	rollbackSigningIntro = "tessera/dataset/rollback/v1\x00"
)

// rollbackMagic starts every rollback record. Records of the RunControl
// namespace start with a 4-byte magic ('TSRN' a run declaration, 'TSRB' a
// rollback); readers dispatch on it and skip magics they do not know.
var rollbackMagic = [4]byte{'T', 'S', 'R', 'B'}

// Rollback is a run-control record (namespace kind RunControl, scope = the
// run ID) saying that training of RunID resumes from checkpoint To at Step,
// for Reason. It is signed by its publisher; whether that key may roll the
// run back is the reader's policy.
type Rollback struct {
	RunID  [32]byte // Run.ID
	To     ID       // checkpoint ID training resumes from
	Step   uint64   // step training resumes at
	Reason string   // free text, UTF-8, at most MaxRollbackReasonLen bytes

	PublisherKey ed25519.PublicKey // set by Sign
	Signature    []byte            // set by Sign
}

// Validate checks the fields: a non-zero checkpoint ID, the reason, the key
// and signature sizes. It does not check the signature.
func (r *Rollback) Validate() error {
	if r.To == (ID{}) {
		return fmt.Errorf("%w: no checkpoint to resume from", ErrInvalidRollback)
	}
	if len(r.Reason) > MaxRollbackReasonLen || !utf8.ValidString(r.Reason) {
		return fmt.Errorf("%w: reason is not UTF-8 of at most %d bytes", ErrInvalidRollback, MaxRollbackReasonLen)
	}
	if len(r.PublisherKey) != ed25519.PublicKeySize {
		return fmt.Errorf("%w: publisher key is %d bytes", ErrInvalidRollback, len(r.PublisherKey))
	}
	if r.Signature != nil && len(r.Signature) != ed25519.SignatureSize {
		return fmt.Errorf("%w: signature is %d bytes", ErrInvalidRollback, len(r.Signature))
	}
	return nil
}

// appendBody appends the signed part of the encoding:
//
//	"TSRB" ‖ u8 version ‖ run ID (32 B) ‖ checkpoint ID (32 B) ‖ BE64 step ‖
//	BE32 len ‖ reason ‖ publisher key (32 B)
func (r *Rollback) appendBody(b []byte) []byte {
	b = append(b, rollbackMagic[:]...)
	b = append(b, RollbackVersion)
	b = append(b, r.RunID[:]...)
	b = append(b, r.To[:]...)
	b = binary.BigEndian.AppendUint64(b, r.Step)
	b = appendStr(b, r.Reason)
	return append(b, r.PublisherKey...)
}

// ID returns SHA-256 of the encoding without the signature.
func (r *Rollback) ID() ([32]byte, error) {
	if err := r.Validate(); err != nil {
		return [32]byte{}, err
	}
	return sha256.Sum256(r.appendBody(nil)), nil
}

// MarshalBinary returns the canonical encoding: the body (see appendBody)
// followed by the 64-byte signature. It fails when the record is invalid or
// unsigned.
func (r *Rollback) MarshalBinary() ([]byte, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	if r.Signature == nil {
		return nil, fmt.Errorf("%w: rollback unsigned", ErrInvalidCheckpointSignature)
	}
	return append(r.appendBody(nil), r.Signature...), nil
}

// Sign sets the publisher key to priv's public key and signs the record's
// ID with a domain-separation prefix.
func (r *Rollback) Sign(priv ed25519.PrivateKey) error {
	if len(priv) != ed25519.PrivateKeySize {
		return fmt.Errorf("%w: private key is %d bytes", ErrInvalidCheckpointSignature, len(priv))
	}
	r.PublisherKey = priv.Public().(ed25519.PublicKey)
	r.Signature = nil
	id, err := r.ID()
	if err != nil {
		return err
	}
	r.Signature = ed25519.Sign(priv, append([]byte(rollbackSigningIntro), id[:]...))
	return nil
}

// Verify checks that the record is valid and signed by PublisherKey.
func (r *Rollback) Verify() error {
	id, err := r.ID()
	if err != nil {
		return err
	}
	if r.Signature == nil {
		return fmt.Errorf("%w: rollback unsigned", ErrInvalidCheckpointSignature)
	}
	if !ed25519.Verify(r.PublisherKey, append([]byte(rollbackSigningIntro), id[:]...), r.Signature) {
		return fmt.Errorf("%w: rollback %x does not verify under publisher key %x", ErrInvalidCheckpointSignature, id, []byte(r.PublisherKey))
	}
	return nil
}

// ParseRollback decodes a rollback record from untrusted bytes, accepting
// only the canonical encoding of a valid, signed record; it does not check
// the signature (call Verify). It never panics.
func ParseRollback(b []byte) (*Rollback, error) {
	if len(b) > MaxRollbackSize {
		return nil, fmt.Errorf("%w: %d bytes, max %d", ErrInvalidRollback, len(b), MaxRollbackSize)
	}
	d := &reader{b: b, sentinel: ErrInvalidRollback}
	d.header(rollbackMagic, RollbackVersion)
	r := &Rollback{}
	d.hash(&r.RunID, "run ID")
	d.hash((*[32]byte)(&r.To), "checkpoint ID")
	r.Step = d.u64("step")
	r.Reason = d.boundedStr(MaxRollbackReasonLen, "reason")
	if k := d.take(ed25519.PublicKeySize, "publisher key"); k != nil {
		r.PublisherKey = ed25519.PublicKey(bytes.Clone(k))
	}
	if s := d.take(ed25519.SignatureSize, "signature"); s != nil {
		r.Signature = bytes.Clone(s)
	}
	d.end()
	if d.err != nil {
		return nil, d.err
	}
	if err := r.Validate(); err != nil {
		return nil, err
	}
	return r, nil
}

// RecordAt is a record read from a namespace: its bytes and the height of
// its blob. Records of one height keep their order in the block.
type RecordAt struct {
	Height     uint64
	Commitment []byte // the record blob's share commitment, carried into the log
	Data       []byte
}

// LoggedCheckpoint is one verified checkpoint of a run's log.
type LoggedCheckpoint struct {
	ID            ID
	Height        uint64 // of the record blob
	Commitment    []byte // of the record blob
	Checkpoint    *Checkpoint
	ParentMissing bool // it names a parent that no earlier record of the run is
}

// LoggedRollback is one verified rollback of a run's log.
type LoggedRollback struct {
	ID            [32]byte
	Height        uint64 // of the record blob
	Commitment    []byte // of the record blob
	Rollback      *Rollback
	TargetMissing bool // its checkpoint is not in the run's log
}

// Rejected is a record of a run's namespaces that the log skipped, with why.
type Rejected struct {
	Height uint64
	Kind   Kind
	Reason string
}

// CheckpointLog is the lineage of a run: its checkpoints and rollbacks in
// height order, the number of training proofs per step, and the records
// that were skipped.
type CheckpointLog struct {
	RunID         [32]byte
	Checkpoints   []LoggedCheckpoint
	Rollbacks     []LoggedRollback
	ProofsPerStep map[uint64]uint64
	Rejected      []Rejected
}

// Checkpoint returns the logged checkpoint with the given ID.
func (l *CheckpointLog) Checkpoint(id ID) (*LoggedCheckpoint, bool) {
	for i := range l.Checkpoints {
		if l.Checkpoints[i].ID == id {
			return &l.Checkpoints[i], true
		}
	}
	return nil, false
}

// ComputeCheckpointLog builds the log of run runID from the records of its
// three namespaces (the caller reads them; they are put in height order):
// the CheckpointManifest namespace (checkpoint records, 'TSCK'), the
// RunControl namespace (rollbacks, 'TSRB') and the TrainingProofs
// namespace (proofs, 'TSTP', parsed and counted per step but not verified:
// that needs the run's headers). Records with another magic (object
// manifests, run declarations, kinds this version does not know) are
// skipped silently.
// Records that do not parse, fail Verify, belong to another run or repeat
// an earlier record are listed in Rejected. A checkpoint whose parent is
// not an earlier checkpoint of the run is flagged ParentMissing; a rollback
// to a checkpoint not in the log is flagged TargetMissing.
func ComputeCheckpointLog(runID [32]byte, checkpoints, control, proofs []RecordAt) *CheckpointLog {
	l := &CheckpointLog{RunID: runID, Checkpoints: []LoggedCheckpoint{}, Rollbacks: []LoggedRollback{}, ProofsPerStep: map[uint64]uint64{}}
	reject := func(h uint64, k Kind, format string, args ...any) {
		l.Rejected = append(l.Rejected, Rejected{Height: h, Kind: k, Reason: fmt.Sprintf(format, args...)})
	}
	checkpoints, control, proofs = sortRecords(checkpoints), sortRecords(control), sortRecords(proofs)
	seen := map[ID]bool{}
	for _, rec := range checkpoints {
		if !hasMagic(rec.Data, checkpointMagic) {
			continue // an object manifest or a record this version does not know
		}
		c, err := ParseCheckpoint(rec.Data)
		if err == nil {
			err = c.Verify()
		}
		if err != nil {
			reject(rec.Height, CheckpointManifest, "%v", err)
			continue
		}
		id, _ := c.ID()
		switch {
		case c.RunID != runID:
			reject(rec.Height, CheckpointManifest, "checkpoint %x belongs to run %x", id, c.RunID)
			continue
		case seen[id]:
			reject(rec.Height, CheckpointManifest, "checkpoint %x repeated", id)
			continue
		}
		seen[id] = true
		l.Checkpoints = append(l.Checkpoints, LoggedCheckpoint{ID: id, Height: rec.Height, Commitment: rec.Commitment, Checkpoint: c, ParentMissing: c.HasParent() && !seen[c.Parent]})
	}
	seenRB := map[[32]byte]bool{}
	for _, rec := range control {
		if !hasMagic(rec.Data, rollbackMagic) {
			continue // a run declaration or a record this version does not know
		}
		r, err := ParseRollback(rec.Data)
		if err == nil {
			err = r.Verify()
		}
		if err != nil {
			reject(rec.Height, RunControl, "%v", err)
			continue
		}
		id, _ := r.ID()
		switch {
		case r.RunID != runID:
			reject(rec.Height, RunControl, "rollback %x belongs to run %x", id, r.RunID)
			continue
		case seenRB[id]:
			reject(rec.Height, RunControl, "rollback %x repeated", id)
			continue
		}
		seenRB[id] = true
		l.Rollbacks = append(l.Rollbacks, LoggedRollback{ID: id, Height: rec.Height, Commitment: rec.Commitment, Rollback: r, TargetMissing: !seen[r.To]})
	}
	for _, rec := range proofs {
		if !hasMagic(rec.Data, trainingProofMagic) {
			continue // a verdict or a record this version does not know
		}
		p, err := ParseTrainingProof(rec.Data)
		if err != nil {
			reject(rec.Height, TrainingProofs, "%v", err)
			continue
		}
		if p.RunID != runID {
			reject(rec.Height, TrainingProofs, "training proof for run %x", p.RunID)
			continue
		}
		l.ProofsPerStep[p.Step]++
	}
	return l
}

func hasMagic(b []byte, magic [4]byte) bool {
	return len(b) >= len(magic) && [4]byte(b[:4]) == magic
}

// sortRecords returns a copy of rs in height order, keeping the order of
// records of one height.
func sortRecords(rs []RecordAt) []RecordAt {
	rs = append([]RecordAt(nil), rs...)
	sort.SliceStable(rs, func(i, j int) bool { return rs[i].Height < rs[j].Height })
	return rs
}
