package dataset

import (
	"crypto/ed25519"
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
)

// rollbackSigner signs rollback records; their signature failures share the
// checkpoint sentinel.
var rollbackSigner = signer{record: "rollback", context: "tessera/dataset/rollback/v1\x00", sentinel: ErrInvalidCheckpointSignature}

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
	return checkSigner(ErrInvalidRollback, "publisher key", r.PublisherKey, r.Signature)
}

// appendBody appends the signed part of the encoding:
//
//	"TSRB" ‖ u8 version ‖ run ID (32 B) ‖ checkpoint ID (32 B) ‖ BE64 step ‖
//	BE32 len ‖ reason ‖ publisher key (32 B)
func (r *Rollback) appendBody(b []byte) []byte {
	b = appendHeader(b, rollbackMagic, RollbackVersion)
	b = append(b, r.RunID[:]...)
	b = append(b, r.To[:]...)
	b = binary.BigEndian.AppendUint64(b, r.Step)
	b = appendStr(b, r.Reason)
	return append(b, r.PublisherKey...)
}

// ID returns SHA-256 of the encoding without the signature.
func (r *Rollback) ID() ([32]byte, error) { return recordID(r.Validate, r.appendBody) }

// MarshalBinary returns the canonical encoding: the body (see appendBody)
// followed by the 64-byte signature. It fails when the record is invalid or
// unsigned.
func (r *Rollback) MarshalBinary() ([]byte, error) {
	return rollbackSigner.marshal(r.Validate, r.appendBody, r.Signature)
}

// Sign sets the publisher key to priv's public key and signs the record's
// ID with a domain-separation prefix.
func (r *Rollback) Sign(priv ed25519.PrivateKey) error {
	return rollbackSigner.sign(priv, &r.PublisherKey, &r.Signature, r.ID)
}

// Verify checks that the record is valid and signed by PublisherKey.
func (r *Rollback) Verify() error {
	return rollbackSigner.verify(r.PublisherKey, r.Signature, r.ID)
}

// ParseRollback decodes a rollback record from untrusted bytes, accepting
// only the canonical encoding of a valid, signed record; it does not check
// the signature (call Verify). It never panics.
func ParseRollback(b []byte) (*Rollback, error) {
	d := openRecord(b, MaxRollbackSize, ErrInvalidRollback, rollbackMagic, RollbackVersion)
	r := &Rollback{}
	d.hash(&r.RunID, "run ID")
	d.hash((*[32]byte)(&r.To), "checkpoint ID")
	r.Step = d.u64("step")
	r.Reason = d.boundedStr(MaxRollbackReasonLen, "reason")
	r.PublisherKey = d.key("publisher key")
	r.Signature = d.signature()
	if err := d.close(r.Validate); err != nil {
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
	checkpoints, control, proofs = sortRecords(checkpoints), sortRecords(control), sortRecords(proofs)
	seen := map[ID]bool{}
	for _, v := range verifiedRecords(l, runID, checkpoints, CheckpointManifest, checkpointMagic, ParseCheckpoint, checkpointSigner.record,
		func(c *Checkpoint) (ID, [32]byte) { id, _ := c.ID(); return id, c.RunID }) {
		c := v.record
		l.Checkpoints = append(l.Checkpoints, LoggedCheckpoint{ID: v.id, Height: v.at.Height, Commitment: v.at.Commitment, Checkpoint: c, ParentMissing: c.HasParent() && !seen[c.Parent]})
		seen[v.id] = true
	}
	for _, v := range verifiedRecords(l, runID, control, RunControl, rollbackMagic, ParseRollback, rollbackSigner.record,
		func(r *Rollback) ([32]byte, [32]byte) { id, _ := r.ID(); return id, r.RunID }) {
		l.Rollbacks = append(l.Rollbacks, LoggedRollback{ID: v.id, Height: v.at.Height, Commitment: v.at.Commitment, Rollback: v.record, TargetMissing: !seen[v.record.To]})
	}
	for _, rec := range proofs {
		if !hasMagic(rec.Data, trainingProofMagic) {
			continue // a verdict or a record this version does not know
		}
		p, err := ParseTrainingProof(rec.Data)
		if err != nil {
			l.reject(rec.Height, TrainingProofs, "%v", err)
			continue
		}
		if p.RunID != runID {
			l.reject(rec.Height, TrainingProofs, "training proof for run %x", p.RunID)
			continue
		}
		l.ProofsPerStep[p.Step]++
	}
	return l
}

func (l *CheckpointLog) reject(h uint64, k Kind, format string, args ...any) {
	l.Rejected = append(l.Rejected, Rejected{Height: h, Kind: k, Reason: fmt.Sprintf(format, args...)})
}

// verified is a record of a run's namespace that parsed, verified, belongs
// to the run and repeats no earlier one.
type verified[R any, I ~[32]byte] struct {
	id     I
	at     RecordAt
	record R
}

// verifiedRecords returns, in order, the records of rs (in height order)
// that start with magic, parse, verify, belong to run runID and repeat no
// earlier record (ident gives a record's ID and run); the others with
// magic are rejected in l under kind, naming the record as what. Records
// with another magic are skipped: another kind or one this version does
// not know.
func verifiedRecords[R interface{ Verify() error }, I ~[32]byte](l *CheckpointLog, runID [32]byte, rs []RecordAt, kind Kind, magic [4]byte,
	parse func([]byte) (R, error), what string, ident func(R) (I, [32]byte)) []verified[R, I] {
	var out []verified[R, I]
	seen := map[I]bool{}
	for _, rec := range rs {
		if !hasMagic(rec.Data, magic) {
			continue
		}
		r, err := parse(rec.Data)
		if err == nil {
			err = r.Verify()
		}
		if err != nil {
			l.reject(rec.Height, kind, "%v", err)
			continue
		}
		id, run := ident(r)
		switch {
		case run != runID:
			l.reject(rec.Height, kind, "%s %x belongs to run %x", what, id, run)
			continue
		case seen[id]:
			l.reject(rec.Height, kind, "%s %x repeated", what, id)
			continue
		}
		seen[id] = true
		out = append(out, verified[R, I]{id: id, at: rec, record: r})
	}
	return out
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
