package objects

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/tessera-da/tessera/blob"
	"github.com/tessera-da/tessera/blob/dataset"
	"github.com/tessera-da/tessera/node/api"
)

// DefaultStartMargin is how many blocks after the head a run starts by
// default (DeclareRun with start 0): room for the record to be included
// before step 0 opens.
const DefaultStartMargin = 20 // blocks

// ManifestRefOf converts a published manifest's Ref into the run's
// dataset.ManifestRef.
func ManifestRefOf(ref Ref) (dataset.ManifestRef, error) {
	if len(ref.Commitment) != blob.CommitmentSize {
		return dataset.ManifestRef{}, fmt.Errorf("%w: manifest ref commitment is %d bytes, want %d", ErrInvalid, len(ref.Commitment), blob.CommitmentSize)
	}
	m := dataset.ManifestRef{ID: ref.ID, Height: ref.Height, Namespace: ref.Namespace}
	copy(m.Commitment[:], ref.Commitment)
	return m, nil
}

// RunSpec is what a run declaration says besides its manifest.
type RunSpec struct {
	Workers      []ed25519.PublicKey // registered workers, in index order
	PagesPerStep uint64              // distinct pages per step
	SeedDelay    uint64              // Δ in blocks
	Replication  uint64              // workers per page
	StartHeight  uint64              // step 0 opens here; 0 means head + DefaultStartMargin
}

// DeclareRun checks that the manifest at dataset exists (verified, signed)
// and that the run's parameters fit it, then posts the run declaration in
// the run's RunControl namespace and returns its Ref (ID = the run ID). It
// fails if the record lands after the run's start height, since a run
// must be bound before its step 0 opens (declare again with a later
// start).
func DeclareRun(ctx context.Context, c Caller, manifest Ref, spec RunSpec) (*Ref, *dataset.Run, error) {
	mref, err := ManifestRefOf(manifest)
	if err != nil {
		return nil, nil, err
	}
	m, err := FetchManifest(ctx, c, manifest)
	if err != nil {
		return nil, nil, fmt.Errorf("dataset manifest: %w", err)
	}
	if spec.StartHeight == 0 {
		var head api.ExtendedHeader
		if err := c.Call(ctx, "header.LocalHead", &head); err != nil {
			return nil, nil, fmt.Errorf("reading the head: %w", err)
		}
		if head.Tessera == nil {
			return nil, nil, fmt.Errorf("%w: the head has no compact header", ErrMismatch)
		}
		spec.StartHeight = max(head.Tessera.Height+DefaultStartMargin, mref.Height)
	}
	run, err := dataset.NewRun(mref, spec.Workers, spec.PagesPerStep, spec.SeedDelay, spec.Replication, spec.StartHeight)
	if err != nil {
		return nil, nil, err
	}
	root, err := m.ComputePageRoot()
	if err != nil {
		return nil, nil, err
	}
	if _, err := run.Params(root); err != nil {
		return nil, nil, fmt.Errorf("run over %d pages: %w", len(m.Entries), err)
	}
	enc, err := run.MarshalBinary()
	if err != nil {
		return nil, nil, err
	}
	ref, err := postRecord(ctx, c, dataset.RunControl, run.ID, run.ID, enc)
	if err != nil {
		return nil, nil, err
	}
	if ref.Height > run.StartHeight {
		return nil, nil, fmt.Errorf("%w: the run record landed at height %d, after the run's start %d; declare again with a later start",
			ErrInvalid, ref.Height, run.StartHeight)
	}
	return ref, run, nil
}

// GetRun reads the run record at ref through the node's train.Run, which
// verifies the record's blob against its block's data root and the run's
// manifest, and checks here that the record's SHA-256 is ref.ID.
func GetRun(ctx context.Context, c Caller, ref Ref) (*dataset.Run, *api.RunInfo, error) {
	var info api.RunInfo
	if err := c.Call(ctx, "train.Run", &info, ref); err != nil {
		return nil, nil, err
	}
	run, err := dataset.ParseRun(info.Record)
	if err != nil {
		return nil, nil, err
	}
	if run.ID != ref.ID {
		return nil, nil, fmt.Errorf("%w: the node returned run %x for %x", ErrMismatch, run.ID, ref.ID)
	}
	return run, &info, nil
}

// Assign returns the pages worker (index or hex public key) trains on at
// step of the run at ref (train.Assign).
func Assign(ctx context.Context, c Caller, ref Ref, step uint64, worker string) (*api.Assignment, error) {
	var a api.Assignment
	if err := c.Call(ctx, "train.Assign", &a, ref, step, worker); err != nil {
		return nil, err
	}
	return &a, nil
}

// ProveOptions configure ProveTraining.
type ProveOptions struct {
	Step uint64             // training step
	Key  ed25519.PrivateKey // the worker's key, registered in the run
	// Fed holds the bytes the worker fed, one slice per assigned page in
	// assignment order; nil fetches the assigned pages, verified.
	Fed [][]byte
	// SampleHashes are the per-sample hashes in feeding order; nil means
	// one sample per page, hashed with SHA-256.
	SampleHashes [][32]byte
	Losses       []float32  // optional per-sample losses
	Parent       dataset.ID // parent checkpoint ID, zero if none
	Full         bool       // attach every page blob's commitment proof
}

// ProveTraining builds the signed training proof of the worker holding
// o.Key at o.Step of the run at ref: the run and its manifest verified,
// the seeds from the node's headers, the pages checked against the
// manifest; with o.Full each page's commitment proof, verified against its
// block's data root, is attached. A caller proving many steps of one run
// opens the run once and calls Object.ProveStep instead.
func ProveTraining(ctx context.Context, c Caller, ref Ref, o ProveOptions) (*dataset.TrainingProof, error) {
	if err := checkProveArgs(ref, o); err != nil {
		return nil, err
	}
	run, _, err := GetRun(ctx, c, ref)
	if err != nil {
		return nil, fmt.Errorf("run: %w", err)
	}
	obj, err := Open(ctx, c, RunManifestRef(run), ReadOptions{})
	if err != nil {
		return nil, fmt.Errorf("run manifest: %w", err)
	}
	a, err := Assign(ctx, c, ref, o.Step, hex.EncodeToString(o.Key.Public().(ed25519.PublicKey)))
	if err != nil {
		return nil, err
	}
	return obj.ProveStep(ctx, ref, run, a, o)
}

// RunManifestRef returns the Ref of the run's dataset manifest.
func RunManifestRef(run *dataset.Run) Ref {
	m := run.Manifest
	return Ref{ID: m.ID, Height: m.Height, Namespace: m.Namespace, Commitment: m.Commitment[:]}
}

func checkProveArgs(ref Ref, o ProveOptions) error {
	if len(o.Key) != ed25519.PrivateKeySize {
		return fmt.Errorf("%w: a worker key is required", ErrInvalid)
	}
	if len(ref.Commitment) != blob.CommitmentSize {
		return fmt.Errorf("%w: run ref commitment is %d bytes", ErrInvalid, len(ref.Commitment))
	}
	return nil
}

// ProveStep is ProveTraining for a caller that already holds the run at
// ref (GetRun), its manifest opened as obj (Open of RunManifestRef) and
// the worker's assignment a for o.Step (Assign): none of them is fetched
// again. Pages the proof needs (o.Fed nil) are read through obj.
func (obj *Object) ProveStep(ctx context.Context, ref Ref, run *dataset.Run, a *api.Assignment, o ProveOptions) (*dataset.TrainingProof, error) {
	if err := checkProveArgs(ref, o); err != nil {
		return nil, err
	}
	var epoch, seed [32]byte
	if err := decodeHash(&epoch, a.EpochSeedHash); err != nil {
		return nil, err
	}
	if err := decodeHash(&seed, a.SeedHeaderHash); err != nil {
		return nil, err
	}
	m := obj.m
	fed := o.Fed
	if fed == nil {
		idx := make([]uint64, len(a.Pages))
		for j, ap := range a.Pages {
			if ap.Index >= uint64(len(m.Entries)) {
				return nil, fmt.Errorf("%w: assigned page %d of a %d-page manifest", ErrMismatch, ap.Index, len(m.Entries))
			}
			idx[j] = ap.Index
		}
		var err error
		if fed, err = obj.ReadPages(ctx, idx); err != nil {
			return nil, err
		}
	}
	hashes := o.SampleHashes
	if hashes == nil {
		for _, b := range fed {
			hashes = append(hashes, sha256.Sum256(b))
		}
	}
	p, err := dataset.Prove(run, m, dataset.ProveInput{
		RunHeight: ref.Height, RunCommitment: [32]byte(ref.Commitment), Step: o.Step,
		EpochSeedHash: epoch, SeedHeaderHash: seed, PageBytes: fed,
		SamplesCount: uint64(len(hashes)), SamplesRoot: dataset.ComputeSamplesRoot(hashes),
		Losses: o.Losses, Parent: o.Parent, Key: o.Key,
	})
	if err != nil {
		return nil, err
	}
	if o.Full && len(p.Pages) > 0 {
		f := obj.f
		cps := make([]*blob.CommitmentProof, len(p.Pages))
		roots := map[uint64][32]byte{}
		for j, pp := range p.Pages {
			e := pp.Entry
			var cp blob.CommitmentProof
			if err := f.c.Call(ctx, "blob.GetCommitmentProof", &cp, e.Height, e.Namespace, blob.Commitment(e.Commitment[:])); err != nil {
				return nil, fmt.Errorf("page %d commitment proof at height %d: %w", e.Index, e.Height, err)
			}
			cps[j] = &cp
			if roots[e.Height], err = f.dataRoot(ctx, e.Height); err != nil {
				return nil, err
			}
		}
		if err := p.AttachInclusions(cps, roots); err != nil {
			return nil, err
		}
	}
	return p, nil
}

func decodeHash(dst *[32]byte, s string) error {
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != len(dst) {
		return fmt.Errorf("%w: %q is not a 32-byte hex hash", ErrMismatch, s)
	}
	copy(dst[:], b)
	return nil
}

// PostProof posts an encoded training proof in its run's TrainingProofs
// namespace and returns its Ref (ID = the proof's ID).
func PostProof(ctx context.Context, c Caller, p *dataset.TrainingProof) (*Ref, error) {
	return publishRecord(ctx, c, dataset.TrainingProofs, p.RunID, p)
}

// VerifyProof asks the node to verify an encoded training proof against
// its verified chain (train.Verify).
func VerifyProof(ctx context.Context, c Caller, proof []byte) (*api.TrainVerifyResult, error) {
	var r api.TrainVerifyResult
	if err := c.Call(ctx, "train.Verify", &r, proof); err != nil {
		return nil, err
	}
	return &r, nil
}
