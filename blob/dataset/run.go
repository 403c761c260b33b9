package dataset

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/tessera-da/tessera/blob"
	"github.com/tessera-da/tessera/share"
)

// ErrInvalidRun: a run-control record that is malformed, exceeds a limit,
// is not canonical, or whose ID does not match its contents.
var ErrInvalidRun = errors.New("dataset: invalid run")

// Limits of a run-control record, checked before anything is allocated.
const (
	RunVersion      = 2                                                      // encoding version (2 adds the manifest's location)
	MaxRunWorkers   = 1 << 16                                                // registered workers in one run
	ManifestRefSize = IDSize + 8 + share.NamespaceSize + blob.CommitmentSize // bytes of an encoded ManifestRef
	runFixedSize    = 4 + 1 + ManifestRefSize + 8 + 8 + 8 + 8 + 4            // bytes before the worker keys
	MaxRunSize      = runFixedSize + MaxRunWorkers*ed25519.PublicKeySize     // bytes of an encoded run
	maxSeedDelay    = 1 << 32                                                // blocks; keeps height arithmetic far from overflow
)

// ManifestRef names a published manifest and says where its blob is, so a
// verifier holding only headers can fetch it and check its commitment
// proof against the data root at Height.
type ManifestRef struct {
	ID         ID                        // the manifest's ID
	Height     uint64                    // block height of the manifest blob, ≥ 1
	Namespace  share.Namespace           // namespace of the manifest blob
	Commitment [blob.CommitmentSize]byte // share commitment of the manifest blob
}

// validate checks the height and the namespace.
func (m ManifestRef) validate() error {
	if m.Height == 0 {
		return fmt.Errorf("%w: manifest height 0", ErrInvalidRun)
	}
	if err := m.Namespace.ValidateForBlob(); err != nil {
		return fmt.Errorf("%w: manifest namespace: %w", ErrInvalidRun, err)
	}
	return nil
}

// appendBinary appends ID ‖ BE64 height ‖ namespace ‖ commitment.
func (m ManifestRef) appendBinary(b []byte) []byte {
	b = append(b, m.ID[:]...)
	b = binary.BigEndian.AppendUint64(b, m.Height)
	b = append(b, m.Namespace.Bytes()...)
	return append(b, m.Commitment[:]...)
}

// readManifestRef reads what appendBinary wrote.
func (d *reader) manifestRef(what string) ManifestRef {
	var m ManifestRef
	var id [32]byte
	d.hash(&id, what+" ID")
	m.ID = id
	m.Height = d.u64(what + " height")
	if nb := d.take(share.NamespaceSize, what+" namespace"); nb != nil {
		ns, err := share.NewNamespaceFromBytes(nb)
		if err != nil {
			d.fail("%s namespace: %v", what, err)
		}
		m.Namespace = ns
	}
	var c [32]byte
	d.hash(&c, what+" commitment")
	m.Commitment = c
	return m
}

// runMagic starts every encoded run-control record.
var runMagic = [4]byte{'T', 'S', 'R', 'N'}

// Run is a run-control record (namespace kind RunControl, scope = its ID):
// it binds a training run to a dataset manifest (by ID and location), a
// fixed ordered set of registered worker keys and the assignment
// parameters. A worker's index is its
// position in Workers.
//
// Steps and seeds: step s opens at height StartHeight + s·SeedDelay (so a
// step lasts SeedDelay blocks), and its seed is the hash of the header
// SeedDelay blocks after it opens, at StepSeedHeight(s) = StartHeight +
// (s+1)·SeedDelay. The epoch seed of s is the step seed of the epoch's
// first step (Params.EpochStart).
type Run struct {
	ID           [32]byte            // SHA-256 of the encoding (MarshalBinary); set by NewRun and ParseRun
	Manifest     ManifestRef         // dataset manifest the run trains on, and where its blob is
	Workers      []ed25519.PublicKey // registered workers, distinct, order fixed
	PagesPerStep uint64              // distinct pages consumed per step
	SeedDelay    uint64              // Δ in blocks, 1..2^32
	Replication  uint64              // workers per page, 1..len(Workers)
	StartHeight  uint64              // height at which step 0 opens
}

// NewRun builds a run, validates it and sets its ID. The worker keys are
// copied. The manifest must be published at or before startHeight.
func NewRun(manifest ManifestRef, workers []ed25519.PublicKey, pagesPerStep, seedDelay, replication, startHeight uint64) (*Run, error) {
	r := &Run{Manifest: manifest, PagesPerStep: pagesPerStep, SeedDelay: seedDelay, Replication: replication, StartHeight: startHeight}
	r.Workers = make([]ed25519.PublicKey, len(workers))
	for i, w := range workers {
		r.Workers[i] = bytes.Clone(w)
	}
	id, err := r.ComputeID()
	if err != nil {
		return nil, err
	}
	r.ID = id
	return r, nil
}

// validateFields checks everything but the ID.
func (r *Run) validateFields() error {
	if err := r.Manifest.validate(); err != nil {
		return err
	}
	switch {
	case r.Manifest.Height > r.StartHeight:
		return fmt.Errorf("%w: manifest at height %d is after the run starts at %d", ErrInvalidRun, r.Manifest.Height, r.StartHeight)
	case len(r.Workers) == 0 || len(r.Workers) > MaxRunWorkers:
		return fmt.Errorf("%w: %d workers not in [1, %d]", ErrInvalidRun, len(r.Workers), MaxRunWorkers)
	case r.PagesPerStep == 0 || r.PagesPerStep > MaxAssignPages:
		return fmt.Errorf("%w: %d pages per step not in [1, %d]", ErrInvalidRun, r.PagesPerStep, uint64(MaxAssignPages))
	case r.SeedDelay == 0 || r.SeedDelay > maxSeedDelay:
		return fmt.Errorf("%w: seed delay %d not in [1, %d] blocks", ErrInvalidRun, r.SeedDelay, uint64(maxSeedDelay))
	case r.Replication == 0 || r.Replication > uint64(len(r.Workers)):
		return fmt.Errorf("%w: replication %d not in [1, %d workers]", ErrInvalidRun, r.Replication, len(r.Workers))
	}
	seen := make(map[[ed25519.PublicKeySize]byte]int, len(r.Workers))
	for i, w := range r.Workers {
		if len(w) != ed25519.PublicKeySize {
			return fmt.Errorf("%w: worker %d key is %d bytes", ErrInvalidRun, i, len(w))
		}
		k := [ed25519.PublicKeySize]byte(w)
		if j, dup := seen[k]; dup {
			return fmt.Errorf("%w: workers %d and %d have the same key", ErrInvalidRun, j, i)
		}
		seen[k] = i
	}
	return nil
}

// Validate checks the fields against the limits (workers distinct and
// 32 bytes, 1 ≤ Replication ≤ workers, PagesPerStep and SeedDelay non-zero)
// and that ID is SHA-256 of the encoding. Parameters that depend on the
// dataset's page count are checked by AssignFor.
func (r *Run) Validate() error {
	id, err := r.ComputeID()
	if err != nil {
		return err
	}
	if id != r.ID {
		return fmt.Errorf("%w: ID %x does not match contents %x", ErrInvalidRun, r.ID, id)
	}
	return nil
}

// appendBinary appends the canonical encoding (r's fields valid):
//
//	"TSRN" ‖ u8 version ‖ manifest ID (32 B) ‖ BE64 manifest height ‖
//	manifest namespace (29 B) ‖ manifest commitment (32 B) ‖ BE64 start height ‖
//	BE64 seed delay ‖ BE64 pages per step ‖ BE64 replication ‖
//	BE32 count ‖ worker keys (32 B each)
func (r *Run) appendBinary(b []byte) []byte {
	b = appendHeader(b, runMagic, RunVersion)
	b = r.Manifest.appendBinary(b)
	b = binary.BigEndian.AppendUint64(b, r.StartHeight)
	b = binary.BigEndian.AppendUint64(b, r.SeedDelay)
	b = binary.BigEndian.AppendUint64(b, r.PagesPerStep)
	b = binary.BigEndian.AppendUint64(b, r.Replication)
	b = binary.BigEndian.AppendUint32(b, uint32(len(r.Workers)))
	for _, w := range r.Workers {
		b = append(b, w...)
	}
	return b
}

// ComputeID returns SHA-256 of the canonical encoding (which does not
// contain the ID). It fails when a field is invalid; it ignores r.ID.
func (r *Run) ComputeID() ([32]byte, error) {
	if err := r.validateFields(); err != nil {
		return [32]byte{}, err
	}
	return sha256.Sum256(r.appendBinary(make([]byte, 0, runFixedSize+len(r.Workers)*ed25519.PublicKeySize))), nil
}

// MarshalBinary returns the canonical encoding (see appendBinary); the ID
// is not in it, being its hash. It fails when the run is invalid.
func (r *Run) MarshalBinary() ([]byte, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	return r.appendBinary(make([]byte, 0, runFixedSize+len(r.Workers)*ed25519.PublicKeySize)), nil
}

// ParseRun decodes a run-control record from untrusted bytes, accepting only
// the canonical encoding of a valid run, and sets its ID. It never panics
// and checks len(b) ≤ MaxRunSize and the worker count before allocating.
func ParseRun(b []byte) (*Run, error) {
	d := openRecord(b, MaxRunSize, ErrInvalidRun, runMagic, RunVersion)
	r := &Run{}
	r.Manifest = d.manifestRef("manifest")
	r.StartHeight = d.u64("start height")
	r.SeedDelay = d.u64("seed delay")
	r.PagesPerStep = d.u64("pages per step")
	r.Replication = d.u64("replication")
	if n := d.count(ed25519.PublicKeySize, MaxRunWorkers, "workers"); n > 0 {
		r.Workers = make([]ed25519.PublicKey, n)
		for i := range r.Workers {
			r.Workers[i] = d.key("worker key")
		}
	}
	if err := d.close(func() (err error) { r.ID, err = r.ComputeID(); return err }); err != nil {
		return nil, err
	}
	return r, nil
}

// StepOpenHeight returns the height at which step opens: StartHeight +
// step·SeedDelay. It fails with ErrInvalidParams on overflow.
func (r *Run) StepOpenHeight(step uint64) (uint64, error) {
	if r.SeedDelay == 0 {
		return 0, fmt.Errorf("%w: seed delay 0", ErrInvalidRun)
	}
	if step > (^uint64(0)-r.StartHeight)/r.SeedDelay {
		return 0, fmt.Errorf("%w: step %d opens beyond the last height", ErrInvalidParams, step)
	}
	return r.StartHeight + step*r.SeedDelay, nil
}

// StepSeedHeight returns the height of the header whose hash seeds step:
// SeedDelay blocks after the step opens, StartHeight + (step+1)·SeedDelay.
// It fails with ErrInvalidParams on overflow.
func (r *Run) StepSeedHeight(step uint64) (uint64, error) {
	open, err := r.StepOpenHeight(step)
	if err != nil {
		return 0, err
	}
	if open > ^uint64(0)-r.SeedDelay {
		return 0, fmt.Errorf("%w: seed height of step %d beyond the last height", ErrInvalidParams, step)
	}
	return open + r.SeedDelay, nil
}

// Params returns the assignment parameters of the run over the dataset
// whose page root (with its holdout) is root, validated.
func (r *Run) Params(root PageRoot) (Params, error) {
	if err := r.validateFields(); err != nil {
		return Params{}, err
	}
	p := Params{Pages: root.Pages, Holdout: root.Holdout, Workers: uint64(len(r.Workers)), PagesPerStep: r.PagesPerStep, Replication: r.Replication}
	if err := p.Validate(); err != nil {
		return Params{}, err
	}
	return p, nil
}

// EpochSeedHeight returns the seed height of the first step of step's
// epoch (the header that orders the pages for the epoch), for the dataset
// whose page root is root.
func (r *Run) EpochSeedHeight(root PageRoot, step uint64) (uint64, error) {
	p, err := r.Params(root)
	if err != nil {
		return 0, err
	}
	return r.StepSeedHeight(p.EpochStart(step))
}

// WorkerIndex returns the index of a registered worker key.
func (r *Run) WorkerIndex(key ed25519.PublicKey) (uint64, error) {
	for i, w := range r.Workers {
		if bytes.Equal(w, key) {
			return uint64(i), nil
		}
	}
	return 0, fmt.Errorf("%w: worker key %x is not registered in the run", ErrInvalidRun, []byte(key))
}

// AssignFor returns the manifest page indexes worker workerIndex trains on
// at step, in feeding order. epochHeaderHash is the hash of the header at
// EpochSeedHeight(root, step) and stepHeaderHash that at
// StepSeedHeight(step) (the same header when step starts its epoch). The
// seeds are ComputeSeed(hash, run.ID, s) with s the epoch's first step and
// step respectively; the pages come from Assign.
func AssignFor(run *Run, root PageRoot, epochHeaderHash, stepHeaderHash [32]byte, step, workerIndex uint64) ([]uint64, error) {
	if err := run.Validate(); err != nil {
		return nil, err
	}
	p, err := run.Params(root)
	if err != nil {
		return nil, err
	}
	if _, err := run.StepSeedHeight(step); err != nil {
		return nil, err
	}
	epochSeed := ComputeSeed(epochHeaderHash, run.ID, p.EpochStart(step))
	stepSeed := ComputeSeed(stepHeaderHash, run.ID, step)
	return Assign(epochSeed, stepSeed, p, step, workerIndex)
}
