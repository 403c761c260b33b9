package client

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/tessera-da/tessera/blob/dataset"
	"github.com/tessera-da/tessera/node/api"
	"github.com/tessera-da/tessera/node/objects"
)

// ErrNotWorker is returned when the loader's key is not registered in the
// run.
var ErrNotWorker = errors.New("client: the key is not a registered worker of the run")

// Loader feeds one worker of a training run. For each step it waits for
// the step's seed header, asks for the worker's assignment, streams the
// assigned pages verified and in assignment order, keeps what was fed, and
// builds the signed training-data proof of exactly that.
//
// A step's pages stay in memory until its proof is built (PagesPerStep ×
// page size bytes). A Loader is safe for concurrent use; a Step is not.
type Loader struct {
	c   *Client
	ref objects.Ref
	run *dataset.Run
	key ed25519.PrivateKey
	obj *objects.Object
}

// Loader opens the run at ref (verified: the run record and its
// manifest's commitment proofs against their blocks' data roots) for the
// worker holding key.
func (c *Client) Loader(ctx context.Context, ref objects.Ref, key ed25519.PrivateKey, o objects.ReadOptions) (*Loader, error) {
	if len(key) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("%w: worker key of %d bytes", objects.ErrInvalid, len(key))
	}
	run, _, err := objects.GetRun(ctx, c, ref)
	if err != nil {
		return nil, fmt.Errorf("run: %w", err)
	}
	pub := key.Public().(ed25519.PublicKey)
	if _, err := run.WorkerIndex(pub); err != nil {
		return nil, fmt.Errorf("%w: %x", ErrNotWorker, []byte(pub))
	}
	obj, err := objects.Open(ctx, c, objects.RunManifestRef(run), o)
	if err != nil {
		return nil, fmt.Errorf("run manifest: %w", err)
	}
	return &Loader{c: c, ref: ref, run: run, key: key, obj: obj}, nil
}

// Run returns the verified run. The caller must not modify it.
func (l *Loader) Run() *dataset.Run { return l.run }

// Manifest returns the run's verified dataset manifest. The caller must
// not modify it.
func (l *Loader) Manifest() *dataset.Manifest { return l.obj.Manifest() }

// Step waits until the seed header of step exists, then returns the
// worker's assignment for it.
func (l *Loader) Step(ctx context.Context, step uint64) (*Step, error) {
	seedHeight, err := l.run.StepSeedHeight(step)
	if err != nil {
		return nil, err
	}
	var eh api.ExtendedHeader
	if err := l.c.Call(ctx, "header.WaitForHeight", &eh, seedHeight); err != nil {
		return nil, fmt.Errorf("waiting for the seed header %d of step %d: %w", seedHeight, step, err)
	}
	a, err := objects.Assign(ctx, l.c, l.ref, step, hex.EncodeToString(l.key.Public().(ed25519.PublicKey)))
	if err != nil {
		return nil, err
	}
	idx := make([]uint64, len(a.Pages))
	for i, p := range a.Pages {
		idx[i] = p.Index
	}
	return &Step{l: l, step: step, assignment: a, pages: idx}, nil
}

// Step is one step of one worker: its assigned pages and what was fed.
type Step struct {
	l          *Loader
	step       uint64
	assignment *api.Assignment
	pages      []uint64
	fed        [][]byte
	samples    [][32]byte
	losses     []float32
}

// Pages returns the assigned page indexes in feeding order.
func (s *Step) Pages() []uint64 { return s.pages }

// Assignment returns the node's answer for the step (seed heights and
// hashes, page entries).
func (s *Step) Assignment() *api.Assignment { return s.assignment }

// Each fetches the assigned pages, verified, a window of them at a time,
// and calls fn with each in assignment order. Every page handed to fn is
// kept as fed. fn must not modify or keep data beyond the step. Each may
// be called once per step.
func (s *Step) Each(ctx context.Context, fn func(i uint64, data []byte) error) error {
	if s.fed != nil {
		return fmt.Errorf("%w: the pages of step %d were already fed", objects.ErrInvalid, s.step)
	}
	s.fed = make([][]byte, 0, len(s.pages))
	const window = 8 // pages fetched ahead
	for lo := 0; lo < len(s.pages); lo += window {
		hi := min(lo+window, len(s.pages))
		got, err := s.l.obj.ReadPages(ctx, s.pages[lo:hi])
		if err != nil {
			return err
		}
		for k, i := range s.pages[lo:hi] {
			data := got[k]
			if err := fn(i, data); err != nil {
				return err
			}
			s.fed = append(s.fed, data)
		}
	}
	return nil
}

// Sample records one training sample's hash and, optionally, its loss, in
// feeding order. Without samples the proof counts one sample per page.
func (s *Step) Sample(hash [32]byte, loss *float32) {
	s.samples = append(s.samples, hash)
	if loss != nil {
		s.losses = append(s.losses, *loss)
	}
}

// ProveOptions configure Step.Prove.
type ProveOptions struct {
	Full   bool       // attach each page blob's commitment proof
	Parent dataset.ID // the checkpoint training started from; zero if none
}

// Prove builds the worker's signed training-data proof of the step: the
// pages Each fed, the samples recorded (losses only when every sample has
// one). It reuses the loader's run and manifest and the step's assignment.
func (s *Step) Prove(ctx context.Context, o ProveOptions) (*dataset.TrainingProof, error) {
	if len(s.fed) != len(s.pages) {
		return nil, fmt.Errorf("%w: %d of the step's %d pages were fed", objects.ErrInvalid, len(s.fed), len(s.pages))
	}
	samples := s.samples
	if samples == nil {
		for _, b := range s.fed {
			samples = append(samples, sha256.Sum256(b))
		}
	}
	var losses []float32
	if len(s.losses) == len(samples) {
		losses = s.losses
	}
	return s.l.obj.ProveStep(ctx, s.l.ref, s.l.run, s.assignment, objects.ProveOptions{
		Step: s.step, Key: s.l.key, Fed: s.fed, SampleHashes: samples, Losses: losses, Parent: o.Parent, Full: o.Full,
	})
}

// Post publishes a proof in its run's training-proof namespace.
func (l *Loader) Post(ctx context.Context, p *dataset.TrainingProof) (*objects.Ref, error) {
	return objects.PostProof(ctx, l.c, p)
}

// Verify asks the node to check an encoded proof against its verified
// chain (train.Verify).
func (c *Client) Verify(ctx context.Context, proof []byte) (*api.TrainVerifyResult, error) {
	return objects.VerifyProof(ctx, c, proof)
}
