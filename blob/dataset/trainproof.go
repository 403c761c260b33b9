package dataset

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math"

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
)

// Limits of a training-data proof, checked before anything is allocated.
const (
	TrainingProofVersion = 1        // encoding version
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
	Step            uint64            // training step
	Worker          ed25519.PublicKey // the worker's registered key
	ManifestID      ID                // dataset manifest (Run.Manifest)
	ManifestHeight  uint64            // height of the manifest blob
	EpochSeedHeight uint64            // Run.EpochSeedHeight(PageRoot.Pages, Step)
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
}

// ProveInput is what Prove needs besides the run and the manifest.
type ProveInput struct {
	ManifestHeight uint64             // height of the manifest blob
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
	if mid != run.Manifest {
		return nil, fmt.Errorf("%w: manifest %x is not the run's %x", ErrInvalidRun, mid, run.Manifest)
	}
	root, err := m.ComputePageRoot()
	if err != nil {
		return nil, err
	}
	assigned, err := AssignFor(run, len(m.Entries), in.EpochSeedHash, in.SeedHeaderHash, in.Step, wi)
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
	epochH, err := run.EpochSeedHeight(root.Pages, in.Step)
	if err != nil {
		return nil, err
	}
	p := &TrainingProof{
		RunID: run.ID, Step: in.Step, Worker: worker, ManifestID: mid, ManifestHeight: in.ManifestHeight,
		EpochSeedHeight: epochH, EpochSeedHash: in.EpochSeedHash, SeedHeight: seedH, SeedHeaderHash: in.SeedHeaderHash,
		PageRoot: root, SamplesCount: in.SamplesCount, SamplesRoot: in.SamplesRoot,
		Losses: append([]float32(nil), in.Losses...), Parent: in.Parent,
	}
	leaves := m.leaves()
	fed := sha256.New()
	for j, idx := range assigned {
		_, proof, err := merkle.Prove(leaves, int(idx))
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalidManifest, err)
		}
		e := m.Entries[idx]
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
	case len(p.Worker) != ed25519.PublicKeySize:
		return fmt.Errorf("%w: worker key is %d bytes", ErrInvalidTrainingProof, len(p.Worker))
	case len(p.Pages) > MaxProofPages:
		return fmt.Errorf("%w: %d pages, max %d", ErrInvalidTrainingProof, len(p.Pages), MaxProofPages)
	case len(p.Losses) > MaxProofLosses:
		return fmt.Errorf("%w: %d losses, max %d", ErrInvalidTrainingProof, len(p.Losses), MaxProofLosses)
	case uint64(len(p.Losses)) > p.SamplesCount:
		return fmt.Errorf("%w: %d losses for %d samples", ErrInvalidTrainingProof, len(p.Losses), p.SamplesCount)
	case p.PageRoot.Pages == 0 || p.PageRoot.Pages > MaxPages:
		return fmt.Errorf("%w: page root of %d pages not in [1, %d]", ErrInvalidTrainingProof, p.PageRoot.Pages, MaxPages)
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
	if p.Signature != nil && len(p.Signature) != ed25519.SignatureSize {
		return fmt.Errorf("%w: signature is %d bytes", ErrInvalidTrainingProof, len(p.Signature))
	}
	return nil
}

// appendBody appends the signed part of the canonical encoding (p valid):
//
//	"TSTP" ‖ u8 version ‖ run ID ‖ BE64 step ‖ worker key ‖ manifest ID ‖
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
	b = append(b, trainingProofMagic[:]...)
	b = append(b, TrainingProofVersion)
	b = append(b, p.RunID[:]...)
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
func (p *TrainingProof) ID() ([32]byte, error) {
	if err := p.validate(); err != nil {
		return [32]byte{}, err
	}
	return sha256.Sum256(p.appendBody(nil)), nil
}

// signingMessage is trainingProofContext ‖ ID (p valid).
func (p *TrainingProof) signingMessage() []byte {
	id := sha256.Sum256(p.appendBody(nil))
	return append([]byte(trainingProofContext), id[:]...)
}

// MarshalBinary returns the canonical encoding: the body (see appendBody)
// followed by the 64-byte signature. It fails when the proof is malformed
// or unsigned.
func (p *TrainingProof) MarshalBinary() ([]byte, error) {
	if err := p.validate(); err != nil {
		return nil, err
	}
	if p.Signature == nil {
		return nil, fmt.Errorf("%w: unsigned", ErrInvalidTrainingProof)
	}
	return append(p.appendBody(nil), p.Signature...), nil
}

// ParseTrainingProof decodes a training proof from untrusted bytes. It
// accepts only the canonical encoding (MarshalBinary gives b back) of a
// well-formed proof and does not check the signature or the run (call
// Verify). It never panics and checks len(b) ≤ MaxTrainingProofSize and
// every count before allocating.
func ParseTrainingProof(b []byte) (*TrainingProof, error) {
	if len(b) > MaxTrainingProofSize {
		return nil, fmt.Errorf("%w: %d bytes, max %d", ErrInvalidTrainingProof, len(b), MaxTrainingProofSize)
	}
	d := &reader{b: b, sentinel: ErrInvalidTrainingProof}
	d.header(trainingProofMagic, TrainingProofVersion)
	p := &TrainingProof{}
	d.hash(&p.RunID, "run ID")
	p.Step = d.u64("step")
	if k := d.take(ed25519.PublicKeySize, "worker key"); k != nil {
		p.Worker = ed25519.PublicKey(bytes.Clone(k))
	}
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
	if s := d.take(ed25519.SignatureSize, "signature"); s != nil {
		p.Signature = bytes.Clone(s)
	}
	d.end()
	if d.err != nil {
		return nil, d.err
	}
	if err := p.validate(); err != nil {
		return nil, err
	}
	return p, nil
}

// Verify checks an untrusted proof against a run the caller trusts, the
// page root of the run's manifest (from a manifest the caller verified and
// whose ID is run.Manifest) and the hashes of the verified headers at the
// proof's epoch seed height and seed height. In order: the proof's shape;
// run ID, manifest ID and page root; the seed heights against the run's
// rule and the header hashes against the caller's; the worker is
// registered; the signature; the pages are exactly the worker's
// assignment, in order; every page entry is under the page root. Each
// failure names the check. It does not check the page bytes (VerifyFed),
// the manifest's own publication, or the header chain.
func (p *TrainingProof) Verify(run *Run, pageRoot PageRoot, epochHeaderHash, seedHeaderHash [32]byte) error {
	if err := p.validate(); err != nil {
		return err
	}
	if p.Signature == nil {
		return fmt.Errorf("%w: unsigned", ErrInvalidProofSignature)
	}
	if err := run.Validate(); err != nil {
		return err
	}
	if p.RunID != run.ID {
		return fmt.Errorf("%w: proof is for run %x, not %x", ErrInvalidTrainingProof, p.RunID, run.ID)
	}
	if p.ManifestID != run.Manifest {
		return fmt.Errorf("%w: proof names manifest %x, run trains on %x", ErrInvalidTrainingProof, p.ManifestID, run.Manifest)
	}
	if p.PageRoot != pageRoot {
		return fmt.Errorf("%w: proof's page root (%x, %d pages) is not the manifest's (%x, %d pages)",
			ErrInvalidTrainingProof, p.PageRoot.Hash, p.PageRoot.Pages, pageRoot.Hash, pageRoot.Pages)
	}
	seedH, err := run.StepSeedHeight(p.Step)
	if err != nil {
		return fmt.Errorf("%w: step %d: %w", ErrInvalidTrainingProof, p.Step, err)
	}
	if p.SeedHeight != seedH {
		return fmt.Errorf("%w: seed height %d, step %d is seeded at %d", ErrInvalidTrainingProof, p.SeedHeight, p.Step, seedH)
	}
	epochH, err := run.EpochSeedHeight(pageRoot.Pages, p.Step)
	if err != nil {
		return fmt.Errorf("%w: step %d: %w", ErrInvalidTrainingProof, p.Step, err)
	}
	if p.EpochSeedHeight != epochH {
		return fmt.Errorf("%w: epoch seed height %d, step %d's epoch is seeded at %d", ErrInvalidTrainingProof, p.EpochSeedHeight, p.Step, epochH)
	}
	if p.SeedHeaderHash != seedHeaderHash {
		return fmt.Errorf("%w: seed header hash %x is not the header's %x at height %d", ErrInvalidTrainingProof, p.SeedHeaderHash, seedHeaderHash, seedH)
	}
	if p.EpochSeedHash != epochHeaderHash {
		return fmt.Errorf("%w: epoch seed hash %x is not the header's %x at height %d", ErrInvalidTrainingProof, p.EpochSeedHash, epochHeaderHash, epochH)
	}
	wi, err := run.WorkerIndex(p.Worker)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidTrainingProof, err)
	}
	if !ed25519.Verify(p.Worker, p.signingMessage(), p.Signature) {
		return fmt.Errorf("%w: does not verify under worker %d's key %x", ErrInvalidProofSignature, wi, []byte(p.Worker))
	}
	assigned, err := AssignFor(run, int(pageRoot.Pages), epochHeaderHash, seedHeaderHash, p.Step, wi)
	if err != nil {
		return fmt.Errorf("%w: recomputing the assignment: %w", ErrWrongAssignment, err)
	}
	if len(assigned) != len(p.Pages) {
		return fmt.Errorf("%w: worker %d has %d pages at step %d, proof has %d", ErrWrongAssignment, wi, len(assigned), p.Step, len(p.Pages))
	}
	for j, idx := range assigned {
		if p.Pages[j].Entry.Index != idx {
			return fmt.Errorf("%w: worker %d's page %d at step %d is %d, proof has %d", ErrWrongAssignment, wi, j, p.Step, idx, p.Pages[j].Entry.Index)
		}
	}
	for j, pp := range p.Pages {
		if err := pp.Proof.Verify(pageRoot.Hash[:], pp.Entry.AppendBinary(nil)); err != nil {
			return fmt.Errorf("%w: proof page %d (entry %d) not under the manifest root: %w", ErrInvalidPage, j, pp.Entry.Index, err)
		}
	}
	return nil
}

// VerifyFed checks the bytes a worker fed, one slice per proven page in
// order: each page's length and SHA-256 against its entry, and the SHA-256
// of their concatenation against FedSHA256. Call it after Verify, which
// checks the entries themselves. Failures wrap ErrInvalidPage.
func (p *TrainingProof) VerifyFed(pages [][]byte) error {
	if len(pages) != len(p.Pages) {
		return fmt.Errorf("%w: %d pages fed, proof has %d", ErrInvalidPage, len(pages), len(p.Pages))
	}
	fed := sha256.New()
	for j, b := range pages {
		e := p.Pages[j].Entry
		if uint64(len(b)) != e.Length {
			return fmt.Errorf("%w: fed page %d (entry %d) is %d bytes, entry says %d", ErrInvalidPage, j, e.Index, len(b), e.Length)
		}
		if sha256.Sum256(b) != e.SHA256 {
			return fmt.Errorf("%w: fed page %d (entry %d) bytes do not match the entry's sha256", ErrInvalidPage, j, e.Index)
		}
		fed.Write(b)
	}
	var sum [32]byte
	fed.Sum(sum[:0])
	if sum != p.FedSHA256 {
		return fmt.Errorf("%w: fed bytes hash to %x, proof says %x", ErrInvalidPage, sum, p.FedSHA256)
	}
	return nil
}
