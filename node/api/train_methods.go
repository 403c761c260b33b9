package api

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/tessera-da/tessera/blob"
	"github.com/tessera-da/tessera/blob/dataset"
	"github.com/tessera-da/tessera/node/header"
	"github.com/tessera-da/tessera/node/rpc"
	"github.com/tessera-da/tessera/share"
)

// ErrSeedPending is returned when a seed header a step needs does not exist
// yet; the error is a *SeedPendingError saying which height and how far the
// head is.
var ErrSeedPending = errors.New("train: seed header does not exist yet")

// SeedPendingError says which seed header is missing.
type SeedPendingError struct {
	Step   uint64 // the step whose seed is missing
	Height uint64 // height of the seed header the step needs
	Head   uint64 // the node's head
}

// Error implements error.
func (e *SeedPendingError) Error() string {
	return fmt.Sprintf("%v: step %d is seeded by the header at height %d; the head is at %d (%d blocks to go)",
		ErrSeedPending, e.Step, e.Height, e.Head, e.Height-e.Head)
}

// Unwrap returns ErrSeedPending.
func (e *SeedPendingError) Unwrap() error { return ErrSeedPending }

// RunInfo is train.Run's result: a run record read from the chain and
// verified (its blob's commitment proof against the data root, its ID).
type RunInfo struct {
	ID            string   `json:"id"`     // hex
	Record        []byte   `json:"record"` // the canonical encoding; SHA-256 of it is the ID
	Height        uint64   `json:"height"` // where the record is published
	Manifest      Ref      `json:"manifest"`
	Pages         uint64   `json:"pages"` // pages in the manifest
	Workers       []string `json:"workers"`
	PagesPerStep  uint64   `json:"pages_per_step"`
	SeedDelay     uint64   `json:"seed_delay"`
	Replication   uint64   `json:"replication"`
	StartHeight   uint64   `json:"start_height"`
	StepsPerEpoch uint64   `json:"steps_per_epoch"`
}

// AssignedPage is one page of an assignment, with its manifest entry.
type AssignedPage struct {
	Index      uint64          `json:"index"`
	Height     uint64          `json:"height"`
	Namespace  share.Namespace `json:"namespace"`
	Commitment []byte          `json:"commitment"`
	Length     uint64          `json:"length"`
	SHA256     string          `json:"sha256"` // hex
}

// Assignment is train.Assign's result: the pages a worker trains on at a
// step, in feeding order, and the seed headers they were computed from.
type Assignment struct {
	Run             string         `json:"run"` // hex run ID
	Step            uint64         `json:"step"`
	Worker          uint64         `json:"worker"`     // index in the run
	WorkerKey       string         `json:"worker_key"` // hex
	EpochSeedHeight uint64         `json:"epoch_seed_height"`
	EpochSeedHash   string         `json:"epoch_seed_hash"` // hex
	SeedHeight      uint64         `json:"seed_height"`
	SeedHeaderHash  string         `json:"seed_header_hash"` // hex
	Pages           []AssignedPage `json:"pages"`
}

// TrainVerifyResult is train.Verify's result. Valid is false when a check
// failed: FailedCheck names it (a dataset.Check) and Error says what is
// wrong.
type TrainVerifyResult struct {
	Valid       bool     `json:"valid"`
	FailedCheck string   `json:"failed_check,omitempty"`
	Error       string   `json:"error,omitempty"`
	ID          string   `json:"id,omitempty"` // hex proof ID
	Run         string   `json:"run,omitempty"`
	Step        uint64   `json:"step"`
	Worker      uint64   `json:"worker"`
	WorkerKey   string   `json:"worker_key,omitempty"`
	Pages       int      `json:"pages"`
	Full        bool     `json:"full"`
	Size        int      `json:"size"`             // bytes of the proof
	Checks      []string `json:"checks,omitempty"` // the checks passed, in order
}

// Limits of train.* calls.
const maxTrainProofBytes = dataset.MaxTrainingProofSize // bytes accepted by train.Verify

// trainMethods returns the train.* methods.
func (s *Service) trainMethods() []reg {
	return []reg{
		{"train.Run", rpc.PermRead, s.TrainRun, []string{"ref"}},
		{"train.Assign", rpc.PermRead, s.TrainAssign, []string{"ref", "step", "worker"}},
		{"train.Verify", rpc.PermRead, s.TrainVerify, []string{"proof"}},
	}
}

// verifiedBlob returns the blob with commitment c in ns at height. On
// nodes holding squares its commitment proof is checked against the data
// root of the node's header at height; light nodes read blobs from
// namespace data already verified against that root.
func (s *Service) verifiedBlob(ctx context.Context, height uint64, ns share.Namespace, c []byte) (*blob.Blob, error) {
	b, err := s.BlobGet(ctx, height, ns, c)
	if err != nil {
		return nil, err
	}
	if s.Remote != nil {
		return b, nil
	}
	h, err := s.storedHeader(height)
	if err != nil {
		return nil, err
	}
	// The proof is built from b itself: BlobGetCommitmentProof would read
	// the blob and recompute its commitment a second time.
	sq, err := s.square(height)
	if err != nil {
		return nil, err
	}
	cp, err := blob.ProveCommitment(sq.EDS, sq.DAH, odsStart(b.Index(), sq.EDS.ODSWidth()), b.ShareCount())
	if err != nil {
		return nil, err
	}
	if err := cp.Verify(h.DataRoot[:], ns, c); err != nil {
		return nil, fmt.Errorf("blob at height %d in %s: %w", height, ns, err)
	}
	return b, nil
}

// headerHash returns the hash of the node's header at height, or a
// *SeedPendingError when the chain has not reached it.
func (s *Service) headerHash(step, height uint64) ([32]byte, error) {
	if hh := s.headHeight(); hh == 0 || height > hh {
		return [32]byte{}, &SeedPendingError{Step: step, Height: height, Head: hh}
	}
	h, err := s.storedHeader(height)
	if err != nil {
		return [32]byte{}, err
	}
	return h.Hash(), nil
}

// loadRun reads the run record at (height, its namespace, commitment),
// verified, and checks that it is a run declaration with ID id published
// no later than the height at which its step 0 opens.
func (s *Service) loadRun(ctx context.Context, id [32]byte, height uint64, commitment []byte) (*dataset.Run, error) {
	ns, err := dataset.Namespace(dataset.RunControl, id[:])
	if err != nil {
		return nil, err
	}
	b, err := s.verifiedBlob(ctx, height, ns, commitment)
	if err != nil {
		return nil, fmt.Errorf("run record at height %d: %w", height, err)
	}
	if !dataset.IsRunRecord(b.Data()) {
		return nil, fmt.Errorf("%w: the record at height %d is not a run declaration", dataset.ErrInvalidRun, height)
	}
	run, err := dataset.ParseRun(b.Data())
	if err != nil {
		return nil, err
	}
	if run.ID != id {
		return nil, fmt.Errorf("%w: record at height %d is run %x, want %x", dataset.ErrInvalidRun, height, run.ID, id)
	}
	if height > run.StartHeight {
		return nil, fmt.Errorf("%w: declared at height %d, after its step 0 opened at %d", dataset.ErrInvalidRun, height, run.StartHeight)
	}
	return run, nil
}

// manifestAt reads the manifest blob ref locates, checks its commitment
// proof against its block's data root, parses it, checks its signature and
// that its ID is ref's, and returns it with its page root.
func (s *Service) manifestAt(ctx context.Context, ref dataset.ManifestRef) (*dataset.Manifest, dataset.PageRoot, error) {
	b, err := s.verifiedBlob(ctx, ref.Height, ref.Namespace, ref.Commitment[:])
	if err != nil {
		return nil, dataset.PageRoot{}, fmt.Errorf("manifest at height %d: %w", ref.Height, err)
	}
	m, err := dataset.ParseManifest(b.Data())
	if err != nil {
		return nil, dataset.PageRoot{}, err
	}
	if err := m.Verify(); err != nil {
		return nil, dataset.PageRoot{}, err
	}
	id, err := m.ID()
	if err != nil {
		return nil, dataset.PageRoot{}, err
	}
	if id != ref.ID {
		return nil, dataset.PageRoot{}, fmt.Errorf("%w: manifest at height %d has ID %x, not %x", dataset.ErrInvalidManifest, ref.Height, id, ref.ID)
	}
	root, err := m.ComputePageRoot()
	if err != nil {
		return nil, dataset.PageRoot{}, err
	}
	return m, root, nil
}

// manifestRoots remembers the page root of each run manifest the node has
// verified, so repeated train.Verify calls for one run do not re-read and
// re-hash a large manifest. An entry is a fact of the node's chain (a blob
// with that commitment is included at that height and is a valid signed
// manifest with that ID), which a chain of signed headers never rewrites.
// Bounded: at maxManifestRoots entries it is cleared.
type manifestRoots struct {
	sync.Mutex
	m map[dataset.ManifestRef]dataset.PageRoot
}

const maxManifestRoots = 256 // entries

// manifestRoot is the page root of the run's manifest (manifestAt), cached.
func (s *Service) manifestRoot(ctx context.Context, run *dataset.Run) (dataset.PageRoot, error) {
	c := &s.manifestRoots
	c.Lock()
	root, ok := c.m[run.Manifest]
	c.Unlock()
	if ok {
		return root, nil
	}
	_, root, err := s.manifestAt(ctx, run.Manifest)
	if err != nil {
		return dataset.PageRoot{}, err
	}
	c.Lock()
	defer c.Unlock()
	if c.m == nil || len(c.m) >= maxManifestRoots {
		c.m = make(map[dataset.ManifestRef]dataset.PageRoot)
	}
	c.m[run.Manifest] = root
	return root, nil
}

// seedHashes returns the hashes of the epoch seed header and the step seed
// header of step, with their heights.
func (s *Service) seedHashes(run *dataset.Run, root dataset.PageRoot, step uint64) (epochH, seedH uint64, epoch, seed [32]byte, err error) {
	if seedH, err = run.StepSeedHeight(step); err != nil {
		return
	}
	if epochH, err = run.EpochSeedHeight(root, step); err != nil {
		return
	}
	if seed, err = s.headerHash(step, seedH); err != nil {
		return
	}
	epoch, err = s.headerHash(step, epochH)
	return
}

// TrainRun returns the run record ref points at, verified: its blob's
// commitment proof against the data root, its ID, and its manifest (which
// must exist where the run says, signed, with the run's manifest ID).
func (s *Service) TrainRun(ctx context.Context, ref Ref) (*RunInfo, error) {
	run, err := s.loadRun(ctx, ref.ID, ref.Height, ref.Commitment)
	if err != nil {
		return nil, err
	}
	_, root, err := s.manifestAt(ctx, run.Manifest)
	if err != nil {
		return nil, err
	}
	p, err := run.Params(root)
	if err != nil {
		return nil, err
	}
	rec, err := run.MarshalBinary()
	if err != nil {
		return nil, err
	}
	info := &RunInfo{
		ID: hex.EncodeToString(run.ID[:]), Record: rec, Height: ref.Height, Manifest: refOf(run.Manifest), Pages: root.Pages,
		PagesPerStep: run.PagesPerStep, SeedDelay: run.SeedDelay, Replication: run.Replication,
		StartHeight: run.StartHeight, StepsPerEpoch: p.StepsPerEpoch(),
	}
	for _, w := range run.Workers {
		info.Workers = append(info.Workers, hex.EncodeToString(w))
	}
	return info, nil
}

// parseWorker reads a worker as its index in the run or its hex public key.
func parseWorker(run *dataset.Run, w string) (uint64, error) {
	w = strings.TrimSpace(w)
	if len(w) == 2*len(run.Workers[0]) {
		key, err := hex.DecodeString(strings.TrimPrefix(w, "0x"))
		if err == nil {
			return run.WorkerIndex(key)
		}
	}
	i, err := strconv.ParseUint(w, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("worker %q is neither an index nor a %d-byte hex public key", w, len(run.Workers[0]))
	}
	if i >= uint64(len(run.Workers)) {
		return 0, fmt.Errorf("worker %d: the run has %d workers", i, len(run.Workers))
	}
	return i, nil
}

// TrainAssign returns the pages worker (its index in the run or its hex
// public key) trains on at step, with their manifest entries, computed
// from the node's headers at the run's seed heights. If a seed header does
// not exist yet it fails with a *SeedPendingError naming the height.
func (s *Service) TrainAssign(ctx context.Context, ref Ref, step uint64, worker string) (*Assignment, error) {
	run, err := s.loadRun(ctx, ref.ID, ref.Height, ref.Commitment)
	if err != nil {
		return nil, err
	}
	m, root, err := s.manifestAt(ctx, run.Manifest)
	if err != nil {
		return nil, err
	}
	wi, err := parseWorker(run, worker)
	if err != nil {
		return nil, err
	}
	epochH, seedH, epoch, seed, err := s.seedHashes(run, root, step)
	if err != nil {
		return nil, err
	}
	idx, err := dataset.AssignFor(run, root, epoch, seed, step, wi)
	if err != nil {
		return nil, err
	}
	a := &Assignment{
		Run: hex.EncodeToString(run.ID[:]), Step: step, Worker: wi, WorkerKey: hex.EncodeToString(run.Workers[wi]),
		EpochSeedHeight: epochH, EpochSeedHash: hex.EncodeToString(epoch[:]),
		SeedHeight: seedH, SeedHeaderHash: hex.EncodeToString(seed[:]), Pages: []AssignedPage{},
	}
	for _, i := range idx {
		e := m.Entries[i]
		a.Pages = append(a.Pages, AssignedPage{Index: e.Index, Height: e.Height, Namespace: e.Namespace,
			Commitment: append([]byte(nil), e.Commitment[:]...), Length: e.Length, SHA256: hex.EncodeToString(e.SHA256[:])})
	}
	return a, nil
}

// TrainVerify checks an encoded training proof against the node's
// verified chain: the run record where the proof says it is (CheckRunRecord),
// the run's manifest (CheckManifest), the seed headers (CheckHeaders), then
// dataset.TrainingProof.Verify (format, run, manifest, seed, worker,
// signature, assignment recomputed, page entries) and, for a full proof,
// every page blob's commitment proof against its block's data root
// (CheckInclusion). A failed check gives Valid false with the check's
// name; the call itself fails only for an oversized input.
func (s *Service) TrainVerify(ctx context.Context, proof []byte) (*TrainVerifyResult, error) {
	if len(proof) > maxTrainProofBytes {
		return nil, fmt.Errorf("proof of %d bytes, at most %d", len(proof), maxTrainProofBytes)
	}
	res := &TrainVerifyResult{Size: len(proof)}
	fail := func(c dataset.Check, err error) (*TrainVerifyResult, error) {
		if fc := dataset.FailedCheck(err); fc != "" {
			c = fc
		}
		res.FailedCheck, res.Error = string(c), err.Error()
		return res, nil
	}
	p, err := dataset.ParseTrainingProof(proof)
	if err != nil {
		return fail(dataset.CheckFormat, err)
	}
	id, _ := p.ID()
	res.ID, res.Run, res.Step, res.Pages, res.Full = hex.EncodeToString(id[:]), hex.EncodeToString(p.RunID[:]), p.Step, len(p.Pages), p.Full()
	res.WorkerKey = hex.EncodeToString(p.Worker)
	res.Checks = append(res.Checks, string(dataset.CheckFormat))
	run, err := s.loadRun(ctx, p.RunID, p.RunHeight, p.RunCommitment[:])
	if err != nil {
		return fail(dataset.CheckRunRecord, err)
	}
	res.Checks = append(res.Checks, string(dataset.CheckRunRecord))
	root, err := s.manifestRoot(ctx, run)
	if err != nil {
		return fail(dataset.CheckManifest, err)
	}
	_, _, epoch, seed, err := s.seedHashes(run, root, p.Step)
	if err != nil {
		return fail(dataset.CheckHeaders, err)
	}
	res.Checks = append(res.Checks, string(dataset.CheckHeaders))
	if err := p.Verify(run, root, epoch, seed); err != nil {
		return fail(dataset.CheckFormat, err)
	}
	res.Worker, _ = run.WorkerIndex(p.Worker)
	res.Checks = append(res.Checks, string(dataset.CheckRun), string(dataset.CheckManifest), string(dataset.CheckSeed),
		string(dataset.CheckWorker), string(dataset.CheckSignature), string(dataset.CheckAssignment), string(dataset.CheckPageEntry))
	if p.Full() {
		roots := make(map[uint64][32]byte)
		for _, h := range p.PageHeights() {
			hd, err := s.trainHeader(h)
			if err != nil {
				return fail(dataset.CheckHeaders, err)
			}
			roots[h] = hd.DataRoot
		}
		if err := p.VerifyInclusions(roots); err != nil {
			return fail(dataset.CheckInclusion, err)
		}
		res.Checks = append(res.Checks, string(dataset.CheckInclusion))
	}
	res.Valid = true
	return res, nil
}

// trainHeader returns the node's header at height.
func (s *Service) trainHeader(height uint64) (*header.Header, error) {
	if err := s.checkHeight(height); err != nil {
		return nil, err
	}
	return s.storedHeader(height)
}
