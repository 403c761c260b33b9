package dataset

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sort"

	"github.com/tessera-da/tessera/blob"
	"github.com/tessera-da/tessera/nmt/merkle"
)

// Sentinels of training-data proofs. Page-entry proof failures wrap
// ErrInvalidPage; run mismatches may also wrap ErrInvalidRun.
var (
	// ErrInvalidTrainingProof: a proof that is malformed, exceeds a limit,
	// is not canonical, or names another run, manifest, page root or seed.
	ErrInvalidTrainingProof = errors.New("dataset: invalid training proof")
	// ErrWrongAssignment: the proven pages are not exactly the worker's
	// assignment for the step.
	ErrWrongAssignment = errors.New("dataset: pages differ from the assignment")
	// ErrInvalidProofSignature: the proof's signature does not verify under
	// its worker key.
	ErrInvalidProofSignature = errors.New("dataset: invalid training proof signature")
	// ErrPageNotIncluded: a full proof's page commitment proof is missing or
	// does not prove the page blob against its block's data root.
	ErrPageNotIncluded = errors.New("dataset: page blob not proven included")
)

// Check names one check of a training proof's verification.
type Check string

// The checks, in the order Verify, VerifyFed and VerifyInclusions run
// them.
const (
	CheckFormat     Check = "format"     // shape, limits, canonical encoding
	CheckRun        Check = "run"        // the proof names the run it is verified against
	CheckManifest   Check = "manifest"   // manifest ID, height and page root are the run's
	CheckSeed       Check = "seed"       // seed heights follow the run's rule, hashes are the headers'
	CheckWorker     Check = "worker"     // the worker key is registered in the run
	CheckSignature  Check = "signature"  // ed25519 by the worker over the proof's ID
	CheckAssignment Check = "assignment" // the pages are exactly the recomputed assignment
	CheckPageEntry  Check = "page-entry" // every page entry is under the manifest's page root
	CheckFedBytes   Check = "fed-bytes"  // the fed bytes match the entries and FedSHA256
	CheckInclusion  Check = "inclusion"  // (full proofs) every page blob is in its block
	CheckRunRecord  Check = "run-record" // (callers) the run record is published where the proof says
	CheckHeaders    Check = "headers"    // (callers) the headers the checks need are known
)

// CheckError is a failed verification check: Check names it, Err (which
// wraps one of the package's sentinels) says what is wrong.
type CheckError struct {
	Check Check
	Err   error
}

// Error implements error.
func (e *CheckError) Error() string { return fmt.Sprintf("%s check failed: %v", e.Check, e.Err) }

// Unwrap returns Err, so errors.Is finds the sentinel.
func (e *CheckError) Unwrap() error { return e.Err }

// failed wraps err as the failure of check c (nil stays nil).
func failed(c Check, err error) error {
	if err == nil {
		return nil
	}
	return &CheckError{Check: c, Err: err}
}

// FailedCheck returns the check err names, or "" if it names none.
func FailedCheck(err error) Check {
	var ce *CheckError
	if errors.As(err, &ce) {
		return ce.Check
	}
	return ""
}

// Limits of a training-data proof, checked before anything is allocated.
const (
	TrainingProofVersion = 2        // encoding version (2 adds the run record's location)
	InclusionsVersion    = 2        // version of a full proof's commitment-proof section (2: binary proofs)
	MaxInclusionSize     = 1 << 20  // bytes of one page's encoded commitment proof
	MaxProofPages        = 1 << 14  // page entries in one proof
	MaxProofLosses       = 1 << 16  // per-sample losses in one proof
	MaxPageAunts         = 63       // Merkle siblings per page entry (trees of < 2^63 leaves)
	MaxTrainingProofSize = 16 << 20 // bytes of an encoded proof
)

// trainingProofMagic starts every encoded training proof.
var trainingProofMagic = [4]byte{'T', 'S', 'T', 'P'}

// trainingProofContext separates training-proof signatures from every other
// Tessera signature.
const trainingProofContext = "tessera/dataset/training-proof/v1\x00"

// trainingProofSigner is how workers sign training proofs.
var trainingProofSigner = signer{record: "training proof", context: trainingProofContext, sentinel: ErrInvalidProofSignature}

// ProvenPage is one assigned page's entry with its Merkle proof to the
// manifest's page root.
type ProvenPage struct {
	Entry PageEntry
	Proof merkle.Proof
}

// ComputeSamplesRoot returns the RFC-6962 Merkle root (nmt/merkle) whose
// leaves are the 32-byte per-sample hashes, in feeding order.
func ComputeSamplesRoot(sampleHashes [][32]byte) [32]byte {
	leaves := make([][]byte, len(sampleHashes))
	for i := range sampleHashes {
		leaves[i] = sampleHashes[i][:]
	}
	return [32]byte(merkle.ComputeRoot(leaves))
}

// TrainingProof is a worker's signed claim that at Step of run RunID it
// fed exactly its assigned pages of manifest ManifestID. Build it with
// Prove, decode it with ParseTrainingProof, check it with Verify and
// VerifyFed. The fields are exported for reading; any change invalidates
// the signature.
type TrainingProof struct {
	RunID           [32]byte          // Run.ID
	RunHeight       uint64            // height of the run record's blob (namespace Namespace(RunControl, RunID))
	RunCommitment   [32]byte          // share commitment of the run record's blob
	Step            uint64            // training step
	Worker          ed25519.PublicKey // the worker's registered key
	ManifestID      ID                // dataset manifest (Run.Manifest)
	ManifestHeight  uint64            // height of the manifest blob
	EpochSeedHeight uint64            // Run.EpochSeedHeight(PageRoot, Step)
	EpochSeedHash   [32]byte          // hash of the header at EpochSeedHeight
	SeedHeight      uint64            // Run.StepSeedHeight(Step)
	SeedHeaderHash  [32]byte          // hash of the header at SeedHeight
	PageRoot        PageRoot          // the manifest's page root and count
	Pages           []ProvenPage      // the assigned pages, in feeding order
	FedSHA256       [32]byte          // SHA-256 of the concatenated page bytes fed, in order
	SamplesCount    uint64            // samples fed
	SamplesRoot     [32]byte          // ComputeSamplesRoot of the per-sample hashes
	Losses          []float32         // optional per-sample losses, len ≤ SamplesCount
	Parent          ID                // parent checkpoint ID (zero if none)
	Signature       []byte            // ed25519 by Worker over the proof's ID

	// Inclusions, in a full proof, holds one commitment proof per page (in
	// Pages order) of the page blob against the data root of the block at
	// its entry's height; nil in a compact proof. They are public facts,
	// not claims, so they are outside the signature and the ID: anyone can
	// turn a compact proof into a full one (AttachInclusions).
	Inclusions []*blob.CommitmentProof
}

// ProveInput is what Prove needs besides the run and the manifest.
type ProveInput struct {
	RunHeight      uint64             // height of the run record's blob
	RunCommitment  [32]byte           // share commitment of the run record's blob
	Step           uint64             // training step
	EpochSeedHash  [32]byte           // header hash at Run.EpochSeedHeight
	SeedHeaderHash [32]byte           // header hash at Run.StepSeedHeight
	PageBytes      [][]byte           // the assigned pages' bytes, in assignment order
	SamplesCount   uint64             // samples fed
	SamplesRoot    [32]byte           // ComputeSamplesRoot of the per-sample hashes
	Losses         []float32          // optional per-sample losses
	Parent         ID                 // parent checkpoint ID
	Key            ed25519.PrivateKey // the worker's key, registered in the run
}

// Prove builds and signs the training proof of the worker holding in.Key at
// in.Step: it recomputes the worker's assignment from the header hashes,
// checks every page's bytes against the manifest, proves each entry to the
// page root and hashes the fed bytes. m must be the run's manifest.
func Prove(run *Run, m *Manifest, in ProveInput) (*TrainingProof, error) {
	if err := run.Validate(); err != nil {
		return nil, err
	}
	if len(in.Key) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("%w: private key is %d bytes", ErrInvalidParams, len(in.Key))
	}
	worker := in.Key.Public().(ed25519.PublicKey)
	wi, err := run.WorkerIndex(worker)
	if err != nil {
		return nil, err
	}
	mid, err := m.ID()
	if err != nil {
		return nil, err
	}
	if mid != run.Manifest.ID {
		return nil, fmt.Errorf("%w: manifest %x is not the run's %x", ErrInvalidRun, mid, run.Manifest.ID)
	}
	tree, err := m.PageTree()
	if err != nil {
		return nil, err
	}
	root := tree.Root()
	assigned, err := AssignFor(run, root, in.EpochSeedHash, in.SeedHeaderHash, in.Step, wi)
	if err != nil {
		return nil, err
	}
	if len(assigned) > MaxProofPages {
		return nil, fmt.Errorf("%w: %d assigned pages, max %d per proof", ErrInvalidParams, len(assigned), MaxProofPages)
	}
	if len(in.PageBytes) != len(assigned) {
		return nil, fmt.Errorf("%w: %d pages of bytes for %d assigned pages", ErrInvalidPage, len(in.PageBytes), len(assigned))
	}
	seedH, err := run.StepSeedHeight(in.Step)
	if err != nil {
		return nil, err
	}
	epochH, err := run.EpochSeedHeight(root, in.Step)
	if err != nil {
		return nil, err
	}
	p := &TrainingProof{
		RunID: run.ID, RunHeight: in.RunHeight, RunCommitment: in.RunCommitment,
		Step: in.Step, Worker: worker, ManifestID: mid, ManifestHeight: run.Manifest.Height,
		EpochSeedHeight: epochH, EpochSeedHash: in.EpochSeedHash, SeedHeight: seedH, SeedHeaderHash: in.SeedHeaderHash,
		PageRoot: root, SamplesCount: in.SamplesCount, SamplesRoot: in.SamplesRoot,
		Losses: append([]float32(nil), in.Losses...), Parent: in.Parent,
	}
	fed := sha256.New()
	for j, idx := range assigned {
		e, proof, err := tree.Prove(idx)
		if err != nil {
			return nil, err
		}
		if err := VerifyPage(root, e, proof, in.PageBytes[j]); err != nil {
			return nil, fmt.Errorf("assigned page %d: %w", j, err)
		}
		fed.Write(in.PageBytes[j])
		p.Pages = append(p.Pages, ProvenPage{Entry: e, Proof: proof})
	}
	fed.Sum(p.FedSHA256[:0])
	if err := p.validate(); err != nil {
		return nil, err
	}
	p.Signature = ed25519.Sign(in.Key, p.signingMessage())
	return p, nil
}

// validate checks the proof's shape and limits (not the signature and
// nothing that needs the run).
func (p *TrainingProof) validate() error {
	switch {
	case len(p.Pages) > MaxProofPages:
		return fmt.Errorf("%w: %d pages, max %d", ErrInvalidTrainingProof, len(p.Pages), MaxProofPages)
	case len(p.Losses) > MaxProofLosses:
		return fmt.Errorf("%w: %d losses, max %d", ErrInvalidTrainingProof, len(p.Losses), MaxProofLosses)
	case uint64(len(p.Losses)) > p.SamplesCount:
		return fmt.Errorf("%w: %d losses for %d samples", ErrInvalidTrainingProof, len(p.Losses), p.SamplesCount)
	case p.PageRoot.Pages == 0 || p.PageRoot.Pages > MaxPages:
		return fmt.Errorf("%w: page root of %d pages not in [1, %d]", ErrInvalidTrainingProof, p.PageRoot.Pages, MaxPages)
	case p.RunHeight == 0:
		return fmt.Errorf("%w: run record height 0", ErrInvalidTrainingProof)
	case len(p.Inclusions) != 0 && len(p.Inclusions) != len(p.Pages):
		return fmt.Errorf("%w: %d commitment proofs for %d pages", ErrInvalidTrainingProof, len(p.Inclusions), len(p.Pages))
	}
	for j, cp := range p.Inclusions {
		if cp == nil {
			return fmt.Errorf("%w: page %d: no commitment proof", ErrInvalidTrainingProof, j)
		}
		if cp.Namespace() != p.Pages[j].Entry.Namespace {
			return fmt.Errorf("%w: page %d: commitment proof for namespace %s, entry's is %s", ErrInvalidTrainingProof, j, cp.Namespace(), p.Pages[j].Entry.Namespace)
		}
	}
	for j, pp := range p.Pages {
		if err := pp.Entry.Namespace.ValidateForBlob(); err != nil {
			return fmt.Errorf("%w: page %d: %w", ErrInvalidTrainingProof, j, err)
		}
		if uint64(pp.Proof.Total()) != p.PageRoot.Pages || pp.Proof.Total() < 1 || uint64(pp.Proof.Index()) != pp.Entry.Index {
			return fmt.Errorf("%w: page %d: proof for leaf %d of %d, entry is page %d of %d",
				ErrInvalidTrainingProof, j, pp.Proof.Index(), pp.Proof.Total(), pp.Entry.Index, p.PageRoot.Pages)
		}
		if len(pp.Proof.Aunts()) > MaxPageAunts {
			return fmt.Errorf("%w: page %d: %d aunts", ErrInvalidTrainingProof, j, len(pp.Proof.Aunts()))
		}
		if !bytes.Equal(pp.Proof.LeafHash(), merkle.ComputeLeafHash(pp.Entry.AppendBinary(nil))) {
			return fmt.Errorf("%w: page %d: proof leaf is not the entry", ErrInvalidTrainingProof, j)
		}
	}
	return checkSigner(ErrInvalidTrainingProof, "worker key", p.Worker, p.Signature)
}

// appendBody appends the signed part of the canonical encoding (p valid):
//
//	"TSTP" ‖ u8 version ‖ run ID ‖ BE64 run height ‖ run commitment ‖
//	BE64 step ‖ worker key ‖ manifest ID ‖
//	BE64 manifest height ‖ BE64 epoch seed height ‖ epoch seed hash ‖
//	BE64 seed height ‖ seed header hash ‖ page root hash ‖ BE64 page count ‖
//	BE32 count ‖ pages ‖ fed sha256 ‖ BE64 samples ‖ samples root ‖
//	BE32 count ‖ losses (BE32 IEEE-754 bits each) ‖ parent checkpoint ID
//
// where a page is its entry (PageEntrySize bytes) ‖ u8 aunt count ‖ aunts
// (32 B each, bottom-up). The proof's leaf index, total and leaf hash are
// not encoded: they are the entry's index, the page count and the entry's
// leaf hash. Hashes and keys are 32 bytes.
func (p *TrainingProof) appendBody(b []byte) []byte {
	b = appendHeader(b, trainingProofMagic, TrainingProofVersion)
	b = append(b, p.RunID[:]...)
	b = binary.BigEndian.AppendUint64(b, p.RunHeight)
	b = append(b, p.RunCommitment[:]...)
	b = binary.BigEndian.AppendUint64(b, p.Step)
	b = append(b, p.Worker...)
	b = append(b, p.ManifestID[:]...)
	b = binary.BigEndian.AppendUint64(b, p.ManifestHeight)
	b = binary.BigEndian.AppendUint64(b, p.EpochSeedHeight)
	b = append(b, p.EpochSeedHash[:]...)
	b = binary.BigEndian.AppendUint64(b, p.SeedHeight)
	b = append(b, p.SeedHeaderHash[:]...)
	b = append(b, p.PageRoot.Hash[:]...)
	b = binary.BigEndian.AppendUint64(b, p.PageRoot.Pages)
	b = binary.BigEndian.AppendUint32(b, uint32(len(p.Pages)))
	for _, pp := range p.Pages {
		b = pp.Entry.AppendBinary(b)
		aunts := pp.Proof.Aunts()
		b = append(b, byte(len(aunts)))
		for _, a := range aunts {
			b = append(b, a...)
		}
	}
	b = append(b, p.FedSHA256[:]...)
	b = binary.BigEndian.AppendUint64(b, p.SamplesCount)
	b = append(b, p.SamplesRoot[:]...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(p.Losses)))
	for _, l := range p.Losses {
		b = binary.BigEndian.AppendUint32(b, math.Float32bits(l))
	}
	return append(b, p.Parent[:]...)
}

// ID returns SHA-256 of the encoding without the signature; the worker
// signs trainingProofContext ‖ ID.
func (p *TrainingProof) ID() ([32]byte, error) { return recordID(p.validate, p.appendBody) }

// Sign signs the proof's ID (with its domain-separation prefix) with key,
// which must be the key of p.Worker for the proof to verify. It fails when
// the proof is malformed.
func (p *TrainingProof) Sign(key ed25519.PrivateKey) error {
	if len(key) != ed25519.PrivateKeySize {
		return fmt.Errorf("%w: signing key of %d bytes", ErrInvalidTrainingProof, len(key))
	}
	if err := p.validate(); err != nil {
		return err
	}
	p.Signature = ed25519.Sign(key, p.signingMessage())
	return nil
}

// signingMessage is trainingProofContext ‖ ID (p valid).
func (p *TrainingProof) signingMessage() []byte {
	return trainingProofSigner.message(sha256.Sum256(p.appendBody(nil)))
}

// MarshalBinary returns the canonical encoding: the body (see appendBody)
// followed by the 64-byte signature, and for a full proof the inclusions
// section (see appendInclusions). It fails when the proof is malformed,
// unsigned, or encodes to more than MaxTrainingProofSize bytes.
func (p *TrainingProof) MarshalBinary() ([]byte, error) {
	if err := p.validate(); err != nil {
		return nil, err
	}
	if p.Signature == nil {
		return nil, fmt.Errorf("%w: unsigned", ErrInvalidTrainingProof)
	}
	b := append(p.appendBody(nil), p.Signature...)
	if len(p.Inclusions) > 0 {
		var err error
		if b, err = p.appendInclusions(b); err != nil {
			return nil, err
		}
	}
	if len(b) > MaxTrainingProofSize {
		return nil, fmt.Errorf("%w: encodes to %d bytes, max %d", ErrInvalidTrainingProof, len(b), MaxTrainingProofSize)
	}
	return b, nil
}

// Full reports whether p carries a commitment proof for every page.
func (p *TrainingProof) Full() bool { return len(p.Pages) > 0 && len(p.Inclusions) == len(p.Pages) }

// PageHeights returns the distinct heights of the proof's page blobs,
// ascending: the headers whose data roots VerifyInclusions needs.
func (p *TrainingProof) PageHeights() []uint64 {
	seen := make(map[uint64]bool, len(p.Pages))
	var hs []uint64
	for _, pp := range p.Pages {
		if !seen[pp.Entry.Height] {
			seen[pp.Entry.Height] = true
			hs = append(hs, pp.Entry.Height)
		}
	}
	sort.Slice(hs, func(i, j int) bool { return hs[i] < hs[j] })
	return hs
}

// AttachInclusions makes p a full proof: cps holds one commitment proof per
// page, in Pages order, and dataRoots the data root of every height in
// PageHeights. Each proof is verified before it is attached; on error p is
// unchanged.
func (p *TrainingProof) AttachInclusions(cps []*blob.CommitmentProof, dataRoots map[uint64][32]byte) error {
	if len(cps) != len(p.Pages) || len(cps) == 0 {
		return failed(CheckInclusion, fmt.Errorf("%w: %d commitment proofs for %d pages", ErrPageNotIncluded, len(cps), len(p.Pages)))
	}
	q := *p
	q.Inclusions = append([]*blob.CommitmentProof(nil), cps...)
	if err := q.validate(); err != nil {
		return failed(CheckFormat, err)
	}
	if err := q.VerifyInclusions(dataRoots); err != nil {
		return err
	}
	p.Inclusions = q.Inclusions
	return nil
}

// VerifyInclusions checks a full proof's commitment proofs: page j's blob
// (namespace and commitment of its entry) against dataRoots[its height],
// which the caller takes from verified headers. It fails, with check
// CheckInclusion and ErrPageNotIncluded, for a compact proof, a missing
// data root or a proof that does not verify. Call it after Verify.
func (p *TrainingProof) VerifyInclusions(dataRoots map[uint64][32]byte) error {
	if !p.Full() {
		return failed(CheckInclusion, fmt.Errorf("%w: a compact proof carries no commitment proofs", ErrPageNotIncluded))
	}
	for j, pp := range p.Pages {
		root, ok := dataRoots[pp.Entry.Height]
		if !ok {
			return failed(CheckInclusion, fmt.Errorf("%w: page %d (entry %d): no data root for height %d", ErrPageNotIncluded, j, pp.Entry.Index, pp.Entry.Height))
		}
		if err := p.Inclusions[j].Verify(root[:], pp.Entry.Namespace, pp.Entry.Commitment[:]); err != nil {
			return failed(CheckInclusion, fmt.Errorf("%w: page %d (entry %d) at height %d: %w", ErrPageNotIncluded, j, pp.Entry.Index, pp.Entry.Height, err))
		}
	}
	return nil
}

// appendInclusions appends the full proof's section (p valid and full):
//
//	u8 InclusionsVersion ‖ per page: BE32 len ‖ commitment proof
//
// where each commitment proof is blob.CommitmentProof's binary encoding
// (MarshalBinary; smaller than the JSON blob.GetCommitmentProof serves),
// at most MaxInclusionSize bytes.
func (p *TrainingProof) appendInclusions(b []byte) ([]byte, error) {
	b = append(b, InclusionsVersion)
	for j, cp := range p.Inclusions {
		cb, err := cp.MarshalBinary()
		if err != nil {
			return nil, fmt.Errorf("%w: page %d commitment proof: %w", ErrInvalidTrainingProof, j, err)
		}
		if len(cb) > MaxInclusionSize {
			return nil, fmt.Errorf("%w: page %d commitment proof is %d bytes, max %d", ErrInvalidTrainingProof, j, len(cb), MaxInclusionSize)
		}
		b = binary.BigEndian.AppendUint32(b, uint32(len(cb)))
		b = append(b, cb...)
	}
	return b, nil
}

// inclusion reads page j's commitment proof (see appendInclusions),
// accepting only the canonical encoding of a well-formed proof for the
// entry's namespace.
func (d *reader) inclusion(j int, pp ProvenPage) *blob.CommitmentProof {
	n := uint64(d.u32("commitment proof length"))
	if d.err == nil && n > MaxInclusionSize {
		d.fail("page %d: commitment proof of %d bytes, max %d", j, n, MaxInclusionSize)
	}
	cb := d.take(n, "commitment proof")
	if d.err != nil {
		return nil
	}
	cp := &blob.CommitmentProof{}
	if err := cp.UnmarshalBinary(cb); err != nil { // canonical encodings only
		d.fail("page %d commitment proof: %v", j, err)
		return nil
	}
	if cp.Namespace() != pp.Entry.Namespace {
		d.fail("page %d: commitment proof for namespace %s, entry's is %s", j, cp.Namespace(), pp.Entry.Namespace)
		return nil
	}
	return cp
}

// ParseTrainingProof decodes a training proof from untrusted bytes. It
// accepts only the canonical encoding (MarshalBinary gives b back) of a
// well-formed proof and does not check the signature or the run (call
// Verify). It never panics and checks len(b) ≤ MaxTrainingProofSize and
// every count before allocating.
func ParseTrainingProof(b []byte) (*TrainingProof, error) {
	d := openRecord(b, MaxTrainingProofSize, ErrInvalidTrainingProof, trainingProofMagic, TrainingProofVersion)
	p := &TrainingProof{}
	d.hash(&p.RunID, "run ID")
	p.RunHeight = d.u64("run height")
	d.hash(&p.RunCommitment, "run commitment")
	p.Step = d.u64("step")
	p.Worker = d.key("worker key")
	var mid [32]byte
	d.hash(&mid, "manifest ID")
	p.ManifestID = mid
	p.ManifestHeight = d.u64("manifest height")
	p.EpochSeedHeight = d.u64("epoch seed height")
	d.hash(&p.EpochSeedHash, "epoch seed hash")
	p.SeedHeight = d.u64("seed height")
	d.hash(&p.SeedHeaderHash, "seed header hash")
	d.hash(&p.PageRoot.Hash, "page root")
	p.PageRoot.Pages = d.u64("page count")
	if n := d.count(PageEntrySize+1, MaxProofPages, "pages"); n > 0 {
		p.Pages = make([]ProvenPage, 0, n)
		for j := uint64(0); j < n && d.err == nil; j++ {
			eb := d.take(PageEntrySize, "page entry")
			na := uint64(d.u8("aunt count"))
			if d.err == nil && na > MaxPageAunts {
				d.fail("page %d: %d aunts, max %d", j, na, MaxPageAunts)
			}
			ab := d.take(na*merkle.HashSize, "aunts")
			if d.err != nil {
				break
			}
			e, err := ParsePageEntry(eb)
			if err != nil {
				d.fail("page %d: %v", j, err)
				break
			}
			if e.Index > math.MaxInt64 || p.PageRoot.Pages > math.MaxInt64 {
				d.fail("page %d: index %d of %d out of range", j, e.Index, p.PageRoot.Pages)
				break
			}
			aunts := make([][]byte, na)
			for i := range aunts {
				aunts[i] = ab[i*merkle.HashSize : (i+1)*merkle.HashSize]
			}
			proof, err := merkle.NewProof(int64(p.PageRoot.Pages), int64(e.Index), merkle.ComputeLeafHash(e.AppendBinary(nil)), aunts)
			if err != nil {
				d.fail("page %d: %v", j, err)
				break
			}
			p.Pages = append(p.Pages, ProvenPage{Entry: e, Proof: proof})
		}
	}
	d.hash(&p.FedSHA256, "fed sha256")
	p.SamplesCount = d.u64("sample count")
	d.hash(&p.SamplesRoot, "samples root")
	if n := d.count(4, MaxProofLosses, "losses"); n > 0 {
		p.Losses = make([]float32, n)
		for i := range p.Losses {
			p.Losses[i] = math.Float32frombits(d.u32("loss"))
		}
	}
	var parent [32]byte
	d.hash(&parent, "parent checkpoint")
	p.Parent = parent
	p.Signature = d.signature()
	if d.err == nil && len(d.b) > 0 && len(p.Pages) > 0 {
		if v := d.u8("inclusions version"); d.err == nil && v != InclusionsVersion {
			d.fail("inclusions version %d, want %d", v, InclusionsVersion)
		}
		for j := 0; j < len(p.Pages) && d.err == nil; j++ {
			p.Inclusions = append(p.Inclusions, d.inclusion(j, p.Pages[j]))
		}
	}
	if err := d.close(p.validate); err != nil {
		return nil, err
	}
	return p, nil
}

// Verify checks an untrusted proof against a run the caller trusts, the
// page root of the run's manifest (from a manifest the caller verified and
// whose ID is run.Manifest.ID) and the hashes of the verified headers at
// the run's epoch seed height and seed height for the proof's step. In
// order: the proof's shape (CheckFormat); run ID (CheckRun); manifest ID,
// height and page root (CheckManifest); the seed heights against the run's
// rule and the header hashes against the caller's (CheckSeed); the worker
// is registered (CheckWorker); the signature (CheckSignature); the pages
// are exactly the worker's assignment recomputed from the seeds, in order
// (CheckAssignment); every page entry is under the page root
// (CheckPageEntry). Each failure is a *CheckError naming the check and
// wrapping a sentinel. It does not check the page bytes (VerifyFed), the
// page blobs' inclusion (VerifyInclusions), the manifest's and the run
// record's publication, or the header chain: those are the caller's.
func (p *TrainingProof) Verify(run *Run, pageRoot PageRoot, epochHeaderHash, seedHeaderHash [32]byte) error {
	if err := p.validate(); err != nil {
		return failed(CheckFormat, err)
	}
	if p.Signature == nil {
		return failed(CheckSignature, trainingProofSigner.unsigned())
	}
	if err := run.Validate(); err != nil {
		return failed(CheckRun, err)
	}
	if p.RunID != run.ID {
		return failed(CheckRun, fmt.Errorf("%w: proof is for run %x, not %x", ErrInvalidTrainingProof, p.RunID, run.ID))
	}
	if p.ManifestID != run.Manifest.ID {
		return failed(CheckManifest, fmt.Errorf("%w: proof names manifest %x, run trains on %x", ErrInvalidTrainingProof, p.ManifestID, run.Manifest.ID))
	}
	if p.ManifestHeight != run.Manifest.Height {
		return failed(CheckManifest, fmt.Errorf("%w: proof puts the manifest at height %d, the run at %d", ErrInvalidTrainingProof, p.ManifestHeight, run.Manifest.Height))
	}
	if p.PageRoot.Hash != pageRoot.Hash || p.PageRoot.Pages != pageRoot.Pages {
		return failed(CheckManifest, fmt.Errorf("%w: proof's page root (%x, %d pages) is not the manifest's (%x, %d pages)",
			ErrInvalidTrainingProof, p.PageRoot.Hash, p.PageRoot.Pages, pageRoot.Hash, pageRoot.Pages))
	}
	seedH, err := run.StepSeedHeight(p.Step)
	if err != nil {
		return failed(CheckSeed, fmt.Errorf("%w: step %d: %w", ErrInvalidTrainingProof, p.Step, err))
	}
	if p.SeedHeight != seedH {
		return failed(CheckSeed, fmt.Errorf("%w: seed height %d, step %d is seeded at %d", ErrInvalidTrainingProof, p.SeedHeight, p.Step, seedH))
	}
	epochH, err := run.EpochSeedHeight(pageRoot, p.Step)
	if err != nil {
		return failed(CheckSeed, fmt.Errorf("%w: step %d: %w", ErrInvalidTrainingProof, p.Step, err))
	}
	if p.EpochSeedHeight != epochH {
		return failed(CheckSeed, fmt.Errorf("%w: epoch seed height %d, step %d's epoch is seeded at %d", ErrInvalidTrainingProof, p.EpochSeedHeight, p.Step, epochH))
	}
	if p.SeedHeaderHash != seedHeaderHash {
		return failed(CheckSeed, fmt.Errorf("%w: seed header hash %x is not the header's %x at height %d", ErrInvalidTrainingProof, p.SeedHeaderHash, seedHeaderHash, seedH))
	}
	if p.EpochSeedHash != epochHeaderHash {
		return failed(CheckSeed, fmt.Errorf("%w: epoch seed hash %x is not the header's %x at height %d", ErrInvalidTrainingProof, p.EpochSeedHash, epochHeaderHash, epochH))
	}
	wi, err := run.WorkerIndex(p.Worker)
	if err != nil {
		return failed(CheckWorker, fmt.Errorf("%w: %w", ErrInvalidTrainingProof, err))
	}
	if !ed25519.Verify(p.Worker, p.signingMessage(), p.Signature) {
		return failed(CheckSignature, fmt.Errorf("%w: does not verify under worker %d's key %x", ErrInvalidProofSignature, wi, []byte(p.Worker)))
	}
	assigned, err := AssignFor(run, pageRoot, epochHeaderHash, seedHeaderHash, p.Step, wi)
	if err != nil {
		return failed(CheckAssignment, fmt.Errorf("%w: recomputing the assignment: %w", ErrWrongAssignment, err))
	}
	if len(assigned) != len(p.Pages) {
		return failed(CheckAssignment, fmt.Errorf("%w: worker %d has %d pages at step %d, proof has %d", ErrWrongAssignment, wi, len(assigned), p.Step, len(p.Pages)))
	}
	for j, idx := range assigned {
		if p.Pages[j].Entry.Index != idx {
			return failed(CheckAssignment, fmt.Errorf("%w: worker %d's page %d at step %d is %d, proof has %d", ErrWrongAssignment, wi, j, p.Step, idx, p.Pages[j].Entry.Index))
		}
	}
	for j, pp := range p.Pages {
		if err := pp.Proof.Verify(pageRoot.Hash[:], pp.Entry.AppendBinary(nil)); err != nil {
			return failed(CheckPageEntry, fmt.Errorf("%w: proof page %d (entry %d) not under the manifest root: %w", ErrInvalidPage, j, pp.Entry.Index, err))
		}
	}
	return nil
}

// VerifyFed checks the bytes a worker fed, one slice per proven page in
// order: each page's length and SHA-256 against its entry, and the SHA-256
// of their concatenation against FedSHA256. Call it after Verify, which
// checks the entries themselves. Failures are *CheckError (CheckFedBytes)
// wrapping ErrInvalidPage.
func (p *TrainingProof) VerifyFed(pages [][]byte) error {
	if len(pages) != len(p.Pages) {
		return failed(CheckFedBytes, fmt.Errorf("%w: %d pages fed, proof has %d", ErrInvalidPage, len(pages), len(p.Pages)))
	}
	fed := sha256.New()
	for j, b := range pages {
		e := p.Pages[j].Entry
		if uint64(len(b)) != e.Length {
			return failed(CheckFedBytes, fmt.Errorf("%w: fed page %d (entry %d) is %d bytes, entry says %d", ErrInvalidPage, j, e.Index, len(b), e.Length))
		}
		if sha256.Sum256(b) != e.SHA256 {
			return failed(CheckFedBytes, fmt.Errorf("%w: fed page %d (entry %d) bytes do not match the entry's sha256", ErrInvalidPage, j, e.Index))
		}
		fed.Write(b)
	}
	var sum [32]byte
	fed.Sum(sum[:0])
	if sum != p.FedSHA256 {
		return failed(CheckFedBytes, fmt.Errorf("%w: fed bytes hash to %x, proof says %x", ErrInvalidPage, sum, p.FedSHA256))
	}
	return nil
}
