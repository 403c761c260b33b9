package dataset

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/tessera-da/tessera/blob"
	"github.com/tessera-da/tessera/erasure"
	"github.com/tessera-da/tessera/nmt/merkle"
	"github.com/tessera-da/tessera/share"
)

// proofFixture is a 40-page manifest, a 4-worker run over it and the header
// hashes of a step.
type proofFixture struct {
	m      *Manifest
	pages  [][]byte
	root   PageRoot
	run    *Run
	privs  []ed25519.PrivateKey
	step   uint64
	epochH [32]byte
	seedH  [32]byte
}

func newProofFixture(t testing.TB, step uint64) *proofFixture {
	t.Helper()
	m, pages := buildManifest(t, testObject(40*16-3), 16)
	mid, err := m.ID()
	if err != nil {
		t.Fatal(err)
	}
	root, err := m.ComputePageRoot()
	if err != nil {
		t.Fatal(err)
	}
	run, privs := testRun(t, mid)
	fx := &proofFixture{m: m, pages: pages, root: root, run: run, privs: privs}
	fx.setStep(t, step)
	return fx
}

func (fx *proofFixture) setStep(t testing.TB, step uint64) {
	t.Helper()
	eh, err := fx.run.EpochSeedHeight(fx.root, step)
	if err != nil {
		t.Fatal(err)
	}
	sh, err := fx.run.StepSeedHeight(step)
	if err != nil {
		t.Fatal(err)
	}
	fx.step, fx.epochH, fx.seedH = step, testHeader(eh), testHeader(sh)
}

// prove builds worker w's honest proof and returns it with its fed pages.
func (fx *proofFixture) prove(t testing.TB, w int) (*TrainingProof, [][]byte) {
	t.Helper()
	idx, err := AssignFor(fx.run, fx.root, fx.epochH, fx.seedH, fx.step, uint64(w))
	if err != nil {
		t.Fatal(err)
	}
	var fed [][]byte
	var sampleHashes [][32]byte
	for _, i := range idx {
		fed = append(fed, fx.pages[i])
		sampleHashes = append(sampleHashes, sha256.Sum256(fx.pages[i]))
	}
	p, err := Prove(fx.run, fx.m, ProveInput{
		RunHeight: 995, RunCommitment: [32]byte{0xee}, Step: fx.step, EpochSeedHash: fx.epochH, SeedHeaderHash: fx.seedH,
		PageBytes: fed, SamplesCount: uint64(len(fed)), SamplesRoot: ComputeSamplesRoot(sampleHashes),
		Losses: []float32{2.5, 1.25}, Parent: ID{0xcc}, Key: fx.privs[w],
	})
	if err != nil {
		t.Fatal(err)
	}
	return p, fed
}

func (fx *proofFixture) verify(p *TrainingProof) error {
	return p.Verify(fx.run, fx.root, fx.epochH, fx.seedH)
}

// resign re-signs p with key after the test changed it.
func resign(p *TrainingProof, key ed25519.PrivateKey) {
	p.Worker = key.Public().(ed25519.PublicKey)
	p.Signature = ed25519.Sign(key, p.signingMessage())
}

func TestTrainingProofHonest(t *testing.T) {
	for _, step := range []uint64{0, 3, 9} {
		fx := newProofFixture(t, step)
		for w := range fx.privs {
			p, fed := fx.prove(t, w)
			enc, err := p.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			got, err := ParseTrainingProof(enc)
			if err != nil {
				t.Fatalf("step %d worker %d: %v", step, w, err)
			}
			if err := fx.verify(got); err != nil {
				t.Fatalf("step %d worker %d: honest proof fails: %v", step, w, err)
			}
			if err := got.VerifyFed(fed); err != nil {
				t.Fatalf("step %d worker %d: honest fed bytes fail: %v", step, w, err)
			}
			if len(enc) > 2048+1024*len(got.Pages) {
				t.Fatalf("proof of %d pages is %d bytes", len(got.Pages), len(enc))
			}
		}
	}
}

func TestTrainingProofEveryByteMutation(t *testing.T) {
	fx := newProofFixture(t, 2)
	p, _ := fx.prove(t, 1)
	enc, err := p.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	checkEveryMutation(t, enc, ErrInvalidTrainingProof, ParseTrainingProof, fx.verify)
}

func TestTrainingProofForgeries(t *testing.T) {
	fx := newProofFixture(t, 4)
	for _, tc := range []struct {
		name  string
		want  error
		forge func(t *testing.T) (*TrainingProof, func(*TrainingProof) error)
	}{
		{"another worker's pages", ErrWrongAssignment, func(t *testing.T) (*TrainingProof, func(*TrainingProof) error) {
			// Worker 0 claims the pages of a worker whose assignment differs
			// (with R dividing W, replica partners share an assignment).
			mine, _ := fx.prove(t, 0)
			for w := 1; w < len(fx.privs); w++ {
				p, _ := fx.prove(t, w)
				if p.Pages[0].Entry.Index != mine.Pages[0].Entry.Index {
					resign(p, fx.privs[0])
					return p, fx.verify
				}
			}
			t.Fatal("every worker has worker 0's pages")
			return nil, nil
		}},
		{"another step", ErrWrongAssignment, func(t *testing.T) (*TrainingProof, func(*TrainingProof) error) {
			p, _ := fx.prove(t, 1)
			other := newProofFixture(t, 5)
			p.Step = 5 // step 4's pages relabelled as step 5's, seeds fixed up
			p.SeedHeight, _ = fx.run.StepSeedHeight(5)
			p.SeedHeaderHash, p.EpochSeedHash = other.seedH, other.epochH
			resign(p, fx.privs[1])
			return p, other.verify
		}},
		{"step relabelled, seeds not", ErrInvalidTrainingProof, func(t *testing.T) (*TrainingProof, func(*TrainingProof) error) {
			p, _ := fx.prove(t, 1)
			p.Step = 5
			resign(p, fx.privs[1])
			return p, fx.verify
		}},
		{"wrong seed header", ErrInvalidTrainingProof, func(t *testing.T) (*TrainingProof, func(*TrainingProof) error) {
			p, _ := fx.prove(t, 1)
			return p, func(q *TrainingProof) error { return q.Verify(fx.run, fx.root, fx.epochH, testHeader(1)) }
		}},
		{"wrong epoch header", ErrInvalidTrainingProof, func(t *testing.T) (*TrainingProof, func(*TrainingProof) error) {
			p, _ := fx.prove(t, 1)
			return p, func(q *TrainingProof) error { return q.Verify(fx.run, fx.root, testHeader(1), fx.seedH) }
		}},
		{"proof built on a grinded seed", ErrWrongAssignment, func(t *testing.T) (*TrainingProof, func(*TrainingProof) error) {
			honest, _ := fx.prove(t, 1)
			other := *fx
			var p *TrainingProof
			for g := uint64(12345); ; g++ {
				other.seedH = testHeader(g) // the worker picks its own seed, one that gives it other pages
				if p, _ = other.prove(t, 1); p.Pages[0].Entry.Index != honest.Pages[0].Entry.Index {
					break
				}
			}
			p.SeedHeaderHash = fx.seedH // and claims the real one
			resign(p, fx.privs[1])
			return p, fx.verify
		}},
		{"page swapped for another of the dataset", ErrWrongAssignment, func(t *testing.T) (*TrainingProof, func(*TrainingProof) error) {
			p, _ := fx.prove(t, 3)
			idx := (p.Pages[0].Entry.Index + 1) % fx.root.Pages
			e, proof, err := fx.m.ProvePage(idx)
			if err != nil {
				t.Fatal(err)
			}
			p.Pages[0] = ProvenPage{Entry: e, Proof: proof}
			resign(p, fx.privs[3])
			return p, fx.verify
		}},
		{"unregistered worker", ErrInvalidTrainingProof, func(t *testing.T) (*TrainingProof, func(*TrainingProof) error) {
			p, _ := fx.prove(t, 0)
			resign(p, testKey(0x99))
			return p, fx.verify
		}},
		{"signature by another worker", ErrInvalidProofSignature, func(t *testing.T) (*TrainingProof, func(*TrainingProof) error) {
			p, _ := fx.prove(t, 0)
			p.Signature = ed25519.Sign(fx.privs[1], p.signingMessage())
			return p, fx.verify
		}},
		{"other run", ErrInvalidTrainingProof, func(t *testing.T) (*TrainingProof, func(*TrainingProof) error) {
			p, _ := fx.prove(t, 0)
			run, err := NewRun(fx.run.Manifest, fx.run.Workers, 6, 5, 1, 1000)
			if err != nil {
				t.Fatal(err)
			}
			return p, func(q *TrainingProof) error { return q.Verify(run, fx.root, fx.epochH, fx.seedH) }
		}},
		{"other page root", ErrInvalidTrainingProof, func(t *testing.T) (*TrainingProof, func(*TrainingProof) error) {
			p, _ := fx.prove(t, 0)
			root := fx.root
			root.Hash[0] ^= 1
			return p, func(q *TrainingProof) error { return q.Verify(fx.run, root, fx.epochH, fx.seedH) }
		}},
		{"entry not under the root", ErrInvalidPage, func(t *testing.T) (*TrainingProof, func(*TrainingProof) error) {
			p, _ := fx.prove(t, 0)
			e := p.Pages[0].Entry
			e.Height++ // a forged entry with a proof rebuilt for it
			other := *fx.m
			other.Entries = append([]PageEntry(nil), fx.m.Entries...)
			other.Entries[e.Index] = e
			_, proof, err := other.ProvePage(e.Index)
			if err != nil {
				t.Fatal(err)
			}
			p.Pages[0] = ProvenPage{Entry: e, Proof: proof}
			resign(p, fx.privs[0])
			return p, fx.verify
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, check := tc.forge(t)
			if err := check(p); !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			// The forgery encodes, and fails the same way after a round trip.
			q, err := ParseTrainingProof(mustMarshal(t, p))
			if err != nil {
				t.Fatal(err)
			}
			if err := check(q); !errors.Is(err, tc.want) {
				t.Fatalf("after a round trip: got %v, want %v", err, tc.want)
			}
		})
	}
}

func mustMarshal(t testing.TB, p *TrainingProof) []byte {
	t.Helper()
	b, err := p.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestVerifyFed(t *testing.T) {
	fx := newProofFixture(t, 1)
	p, fed := fx.prove(t, 2)
	if len(fed) < 2 {
		t.Fatalf("fixture gives worker 2 only %d pages", len(fed))
	}
	for _, tc := range []struct {
		name string
		fed  [][]byte
	}{
		{"missing page", fed[1:]},
		{"pages swapped", append([][]byte{fed[1], fed[0]}, fed[2:]...)},
		{"byte flipped", func() [][]byte {
			c := append([][]byte(nil), fed...)
			c[0] = bytes.Clone(c[0])
			c[0][0] ^= 1
			return c
		}()},
		{"page truncated", func() [][]byte {
			c := append([][]byte(nil), fed...)
			c[0] = c[0][:len(c[0])-1]
			return c
		}()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := p.VerifyFed(tc.fed); !errors.Is(err, ErrInvalidPage) {
				t.Fatalf("got %v, want ErrInvalidPage", err)
			}
		})
	}
	p.FedSHA256[0] ^= 1
	if err := p.VerifyFed(fed); !errors.Is(err, ErrInvalidPage) {
		t.Fatalf("wrong fed sha256: %v", err)
	}
}

func TestProveRejects(t *testing.T) {
	fx := newProofFixture(t, 0)
	idx, _ := AssignFor(fx.run, fx.root, fx.epochH, fx.seedH, 0, 0)
	var fed [][]byte
	for _, i := range idx {
		fed = append(fed, fx.pages[(i+1)%uint64(len(fx.pages))])
	}
	in := ProveInput{RunHeight: 1, Step: 0, EpochSeedHash: fx.epochH, SeedHeaderHash: fx.seedH, PageBytes: fed, Key: fx.privs[0]}
	if _, err := Prove(fx.run, fx.m, in); !errors.Is(err, ErrInvalidPage) {
		t.Fatalf("wrong page bytes: %v", err)
	}
	in.Key = testKey(0x99)
	if _, err := Prove(fx.run, fx.m, in); !errors.Is(err, ErrInvalidRun) {
		t.Fatalf("unregistered key: %v", err)
	}
	other, _ := buildManifest(t, testObject(100), 16)
	in.Key = fx.privs[0]
	if _, err := Prove(fx.run, other, in); !errors.Is(err, ErrInvalidRun) {
		t.Fatalf("wrong manifest: %v", err)
	}
	in.Losses = make([]float32, 1)
	in.SamplesCount = 0
	in.PageBytes = nil
	for _, i := range idx {
		in.PageBytes = append(in.PageBytes, fx.pages[i])
	}
	if _, err := Prove(fx.run, fx.m, in); !errors.Is(err, ErrInvalidTrainingProof) {
		t.Fatalf("more losses than samples: %v", err)
	}
}

func TestParseTrainingProofLimits(t *testing.T) {
	if _, err := ParseTrainingProof(make([]byte, MaxTrainingProofSize+1)); !errors.Is(err, ErrInvalidTrainingProof) {
		t.Fatalf("oversized: %v", err)
	}
	fx := newProofFixture(t, 0)
	p, _ := fx.prove(t, 0)
	enc := mustMarshal(t, p)
	// The page count sits right after the fixed header; claim 2^31 pages.
	off := 4 + 1 + 32 + 8 + 32 + 8 + 32 + 32 + 8 + 8 + 32 + 8 + 32 + 32 + 8
	mut := bytes.Clone(enc)
	copy(mut[off:], []byte{0x80, 0, 0, 0})
	if _, err := ParseTrainingProof(mut); !errors.Is(err, ErrInvalidTrainingProof) {
		t.Fatalf("huge page count: %v", err)
	}
}

func FuzzParseTrainingProof(f *testing.F) {
	fx := newProofFixture(f, 3)
	for w := range fx.privs {
		p, _ := fx.prove(f, w)
		f.Add(mustMarshal(f, p))
	}
	f.Add([]byte("TSTP\x02"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, ok := parseCanonical(t, b, ParseTrainingProof, ErrInvalidTrainingProof)
		if !ok {
			return
		}
		if fx.verify(p) == nil {
			// Only an honest proof verifies: it must be one of the seeds.
			w, _ := fx.run.WorkerIndex(p.Worker)
			honest, _ := fx.prove(t, int(w))
			if !bytes.Equal(mustMarshal(t, honest), b) {
				t.Fatal("a non-honest proof verifies")
			}
		}
	})
}

func BenchmarkVerifyTrainingProof(b *testing.B) {
	fx := newProofFixture(b, 3)
	p, _ := fx.prove(b, 1)
	b.ReportAllocs()
	for b.Loop() {
		if err := fx.verify(p); err != nil {
			b.Fatal(err)
		}
	}
}

// ExampleProve declares a run over a published manifest, computes a
// worker's pages for a step from the seed headers, proves that the worker
// fed them, and verifies the proof as anyone with the headers can.
func ExampleProve() {
	// A signed 8-page manifest (see Example for publishing).
	data := bytes.Repeat([]byte("0123456789abcdef"), 8)
	pages, _ := Split(data, 16)
	scope := sha256.Sum256([]byte("example dataset"))
	ns, _ := Namespace(DatasetPages, scope[:])
	m := &Manifest{ObjectLength: uint64(len(data)), PageSize: 16, MediaType: "application/octet-stream"}
	for i, p := range pages {
		m.Entries = append(m.Entries, PageEntry{Index: uint64(i), Height: 10, Namespace: ns,
			Commitment: sha256.Sum256(p), Length: uint64(len(p)), SHA256: sha256.Sum256(p)})
	}
	_ = m.Sign(ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize)))
	mid, _ := m.ID()
	root, _ := m.ComputePageRoot()

	// A run: 2 workers, 4 pages per step, seed delay 3 blocks, no replication.
	worker := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, ed25519.SeedSize))
	other := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{2}, ed25519.SeedSize))
	mref := ManifestRef{ID: mid, Height: 10, Namespace: ns, Commitment: sha256.Sum256(mid[:])} // where the manifest blob is
	run, _ := NewRun(mref, []ed25519.PublicKey{worker.Public().(ed25519.PublicKey), other.Public().(ed25519.PublicKey)}, 4, 3, 1, 100)

	// Step 1 is seeded by the header at 106, its epoch by the one at 103.
	step := uint64(1)
	seedHeight, _ := run.StepSeedHeight(step)
	epochHeight, _ := run.EpochSeedHeight(root, step)
	header := func(h uint64) [32]byte { return sha256.Sum256([]byte{byte(h)}) } // verified headers in real use
	mine, _ := AssignFor(run, root, header(epochHeight), header(seedHeight), step, 0)
	var fed [][]byte
	for _, i := range mine {
		fed = append(fed, pages[i])
	}
	proof, err := Prove(run, m, ProveInput{RunHeight: 50, Step: step, EpochSeedHash: header(epochHeight), SeedHeaderHash: header(seedHeight),
		PageBytes: fed, SamplesCount: 1, SamplesRoot: ComputeSamplesRoot([][32]byte{sha256.Sum256(data)}), Key: worker})
	if err != nil {
		panic(err)
	}
	enc, _ := proof.MarshalBinary()

	got, _ := ParseTrainingProof(enc)
	fmt.Println("seed heights:", epochHeight, seedHeight)
	fmt.Println("pages:", len(got.Pages))
	fmt.Println("verifies:", got.Verify(run, root, header(epochHeight), header(seedHeight)) == nil)
	fmt.Println("fed bytes match:", got.VerifyFed(fed) == nil)
	fmt.Println("wrong seed verifies:", got.Verify(run, root, header(epochHeight), header(0)) == nil)
	// Output:
	// seed heights: 103 106
	// pages: 2
	// verifies: true
	// fed bytes match: true
	// wrong seed verifies: false
}

// fullFixture is a 40-page manifest whose page blobs really are in one
// block (height fullHeight) of a square with a data root, so that a
// proof's pages can carry commitment proofs.
type fullFixture struct {
	*proofFixture
	dataRoot [32]byte
	cps      map[uint64]*blob.CommitmentProof // by page index
}

const fullHeight = 7

func newFullFixture(t testing.TB, step uint64) *fullFixture {
	t.Helper()
	data := testObject(40*16 - 3)
	pages, err := Split(data, 16)
	if err != nil {
		t.Fatal(err)
	}
	ns, err := Namespace(DatasetPages, []byte("full proofs"))
	if err != nil {
		t.Fatal(err)
	}
	var sbs []*share.Blob
	m := &Manifest{ObjectLength: uint64(len(data)), PageSize: 16, MediaType: "application/octet-stream"}
	for i, p := range pages {
		sb, err := share.NewBlob(ns, p, share.ShareVersionZero, nil)
		if err != nil {
			t.Fatal(err)
		}
		sbs = append(sbs, sb)
		b, err := blob.New(ns, p, share.ShareVersionZero, nil)
		if err != nil {
			t.Fatal(err)
		}
		e := PageEntry{Index: uint64(i), Height: fullHeight, Namespace: ns, Length: uint64(len(p)), SHA256: sha256.Sum256(p)}
		copy(e.Commitment[:], b.Commitment())
		m.Entries = append(m.Entries, e)
	}
	if err := m.Sign(testKey(1)); err != nil {
		t.Fatal(err)
	}
	raw, err := share.MarshalBlobTx([]byte("pay for pages"), sbs...)
	if err != nil {
		t.Fatal(err)
	}
	sq, lay, err := share.ConstructClassified([]share.ClassifiedTx{{Bytes: raw}}, 64, share.SubtreeRootThreshold)
	if err != nil {
		t.Fatal(err)
	}
	ext, err := erasure.NewExtender(erasure.Params{Workers: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	eds, err := ext.ExtendFlat(sq.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	dah, err := ext.ComputeDAH(eds)
	if err != nil {
		t.Fatal(err)
	}
	ff := &fullFixture{dataRoot: [32]byte(dah.Hash()), cps: map[uint64]*blob.CommitmentProof{}}
	for i, pl := range lay.BlobsByTx[0] {
		cp, err := blob.ProveCommitment(eds, dah, pl.Start, pl.ShareCount)
		if err != nil {
			t.Fatal(err)
		}
		ff.cps[uint64(i)] = cp
	}
	mid, _ := m.ID()
	root, err := m.ComputePageRoot()
	if err != nil {
		t.Fatal(err)
	}
	run, privs := testRun(t, mid)
	ff.proofFixture = &proofFixture{m: m, pages: pages, root: root, run: run, privs: privs}
	ff.setStep(t, step)
	return ff
}

// proveFull builds worker w's honest full proof.
func (ff *fullFixture) proveFull(t testing.TB, w int) (*TrainingProof, [][]byte) {
	t.Helper()
	p, fed := ff.prove(t, w)
	var cps []*blob.CommitmentProof
	for _, pp := range p.Pages {
		cps = append(cps, ff.cps[pp.Entry.Index])
	}
	if err := p.AttachInclusions(cps, map[uint64][32]byte{fullHeight: ff.dataRoot}); err != nil {
		t.Fatal(err)
	}
	return p, fed
}

func (ff *fullFixture) verifyFull(p *TrainingProof) error {
	if err := ff.verify(p); err != nil {
		return err
	}
	return p.VerifyInclusions(map[uint64][32]byte{fullHeight: ff.dataRoot})
}

func TestFullTrainingProof(t *testing.T) {
	ff := newFullFixture(t, 2)
	for w := range ff.privs {
		p, fed := ff.proveFull(t, w)
		compactID, err := p.ID()
		if err != nil {
			t.Fatal(err)
		}
		enc := mustMarshal(t, p)
		got, err := ParseTrainingProof(enc)
		if err != nil {
			t.Fatalf("worker %d: %v", w, err)
		}
		if !got.Full() || len(got.Inclusions) != len(got.Pages) {
			t.Fatalf("worker %d: parsed proof is not full", w)
		}
		if err := ff.verifyFull(got); err != nil {
			t.Fatalf("worker %d: honest full proof fails: %v", w, err)
		}
		if err := got.VerifyFed(fed); err != nil {
			t.Fatal(err)
		}
		if id, _ := got.ID(); id != compactID {
			t.Fatal("the inclusions changed the proof's ID")
		}
		if hs := got.PageHeights(); len(hs) != 1 || hs[0] != fullHeight {
			t.Fatalf("page heights %v", hs)
		}
	}
	// A compact proof is not a full one.
	p, _ := ff.prove(t, 0)
	if err := p.VerifyInclusions(map[uint64][32]byte{fullHeight: ff.dataRoot}); !errors.Is(err, ErrPageNotIncluded) || FailedCheck(err) != CheckInclusion {
		t.Fatalf("compact proof passes the inclusion check: %v", err)
	}
}

func TestFullTrainingProofForgeries(t *testing.T) {
	ff := newFullFixture(t, 1)
	roots := map[uint64][32]byte{fullHeight: ff.dataRoot}
	for _, tc := range []struct {
		name  string
		forge func(p *TrainingProof) map[uint64][32]byte
	}{
		{"commitment proof of another page", func(p *TrainingProof) map[uint64][32]byte {
			other := (p.Pages[0].Entry.Index + 1) % ff.root.Pages
			p.Inclusions[0] = ff.cps[other]
			return roots
		}},
		{"commitment proof's subtree root changed", func(p *TrainingProof) map[uint64][32]byte {
			cp := p.Inclusions[0]
			sr := cp.SubtreeRoots()
			sr[0][len(sr[0])-1] ^= 1
			mut, err := blob.NewCommitmentProof(sr, cp.SubtreeRootProofs(), cp.Namespace(), cp.RowProof())
			if err != nil {
				t.Fatal(err)
			}
			p.Inclusions[0] = mut
			return roots
		}},
		{"another block's data root", func(p *TrainingProof) map[uint64][32]byte {
			r := ff.dataRoot
			r[3] ^= 1
			return map[uint64][32]byte{fullHeight: r}
		}},
		{"no header for the page's height", func(p *TrainingProof) map[uint64][32]byte {
			return map[uint64][32]byte{fullHeight + 1: ff.dataRoot}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, _ := ff.proveFull(t, 3)
			dr := tc.forge(p)
			err := p.VerifyInclusions(dr)
			if !errors.Is(err, ErrPageNotIncluded) || FailedCheck(err) != CheckInclusion {
				t.Fatalf("got %v, want a failed inclusion check", err)
			}
			q, perr := ParseTrainingProof(mustMarshal(t, p))
			if perr != nil {
				t.Fatal(perr)
			}
			if err := q.VerifyInclusions(dr); FailedCheck(err) != CheckInclusion {
				t.Fatalf("after a round trip: %v", err)
			}
			if err := (&TrainingProof{Pages: p.Pages}).AttachInclusions(p.Inclusions, dr); err == nil {
				t.Fatal("AttachInclusions accepts a bad commitment proof")
			}
		})
	}
}

// TestFullTrainingProofEveryByteMutation flips each byte of the first two
// pages' commitment proofs and of the section header: parsing or the
// inclusion check fails (the compact part is covered above).
func TestFullTrainingProofEveryByteMutation(t *testing.T) {
	ff := newFullFixture(t, 0)
	p, _ := ff.proveFull(t, 2)
	enc := mustMarshal(t, p)
	compact := *p
	compact.Inclusions = nil
	start := len(mustMarshal(t, &compact))
	end := len(enc)
	if len(p.Pages) > 2 {
		// Bytes of the section up to the end of the second proof.
		end = start + 1
		for _, cp := range p.Inclusions[:2] {
			j, _ := cp.MarshalBinary()
			end += 4 + len(j)
		}
	}
	for i := start; i < end; i++ {
		mut := bytes.Clone(enc)
		mut[i] ^= 0x01
		got, err := ParseTrainingProof(mut)
		if err != nil {
			if !errors.Is(err, ErrInvalidTrainingProof) {
				t.Fatalf("byte %d: parse error %v does not wrap ErrInvalidTrainingProof", i, err)
			}
			continue
		}
		if err := ff.verifyFull(got); err == nil {
			t.Fatalf("byte %d: mutated full proof parses and verifies", i)
		}
	}
	for _, n := range []int{start + 1, start + 3, end - 1, len(enc) - 1} {
		if _, err := ParseTrainingProof(enc[:n]); err == nil {
			t.Fatalf("truncation to %d bytes parses", n)
		}
	}
}

// TestTrainingProofChecksNamed: every verification failure names its check.
func TestTrainingProofChecksNamed(t *testing.T) {
	fx := newProofFixture(t, 4)
	for _, tc := range []struct {
		name  string
		check Check
		run   func() error
	}{
		{"wrong worker", CheckAssignment, func() error {
			mine, _ := fx.prove(t, 0)
			for w := 1; w < len(fx.privs); w++ {
				p, _ := fx.prove(t, w)
				if p.Pages[0].Entry.Index != mine.Pages[0].Entry.Index {
					resign(p, fx.privs[0])
					return fx.verify(p)
				}
			}
			return nil
		}},
		{"wrong step", CheckSeed, func() error {
			p, _ := fx.prove(t, 1)
			p.Step++
			resign(p, fx.privs[1])
			return fx.verify(p)
		}},
		{"wrong seed header", CheckSeed, func() error {
			p, _ := fx.prove(t, 1)
			return p.Verify(fx.run, fx.root, fx.epochH, testHeader(3))
		}},
		{"non-registered key", CheckWorker, func() error {
			p, _ := fx.prove(t, 1)
			resign(p, testKey(0x77))
			return fx.verify(p)
		}},
		{"bad signature", CheckSignature, func() error {
			p, _ := fx.prove(t, 1)
			p.Signature[5] ^= 1
			return fx.verify(p)
		}},
		{"wrong manifest height", CheckManifest, func() error {
			p, _ := fx.prove(t, 1)
			p.ManifestHeight++
			resign(p, fx.privs[1])
			return fx.verify(p)
		}},
		{"page swapped", CheckAssignment, func() error {
			p, _ := fx.prove(t, 2)
			e, proof, _ := fx.m.ProvePage((p.Pages[0].Entry.Index + 7) % fx.root.Pages)
			p.Pages[0] = ProvenPage{Entry: e, Proof: proof}
			resign(p, fx.privs[2])
			return fx.verify(p)
		}},
		{"fed bytes", CheckFedBytes, func() error {
			p, fed := fx.prove(t, 2)
			fed[0] = bytes.Clone(fed[0])
			fed[0][0] ^= 1
			return p.VerifyFed(fed)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run()
			if got := FailedCheck(err); got != tc.check {
				t.Fatalf("failed check %q (%v), want %q", got, err, tc.check)
			}
			if !strings.Contains(err.Error(), string(tc.check)+" check failed") {
				t.Fatalf("message %q does not name the check", err)
			}
		})
	}
}

// syntheticProof returns a signed proof of pages pages (indexes spread
// over a dataset of total pages) with Merkle paths of the right length,
// to measure the encoding; its paths are not real.
func syntheticProof(t testing.TB, total uint64, pages int) *TrainingProof {
	t.Helper()
	ns, _ := Namespace(DatasetPages, []byte("size"))
	p := &TrainingProof{RunID: [32]byte{1}, RunHeight: 9, Step: 3, Worker: testKey(5).Public().(ed25519.PublicKey),
		PageRoot: PageRoot{Pages: total}, SamplesCount: 1024, Losses: make([]float32, 16), Parent: ID{2}}
	for j := range pages {
		e := PageEntry{Index: uint64(j) * (total / uint64(pages)), Height: 1 << 30, Namespace: ns, Length: 8 << 20}
		leaf := merkle.ComputeLeafHash(e.AppendBinary(nil))
		var proof merkle.Proof
		for n := 0; n <= MaxPageAunts; n++ {
			var err error
			aunts := make([][]byte, n)
			for i := range aunts {
				aunts[i] = make([]byte, merkle.HashSize)
			}
			if proof, err = merkle.NewProof(int64(total), int64(e.Index), leaf, aunts); err == nil {
				break
			}
		}
		p.Pages = append(p.Pages, ProvenPage{Entry: e, Proof: proof})
	}
	p.Signature = ed25519.Sign(testKey(5), append([]byte(trainingProofContext), make([]byte, 32)...))
	return p
}

// TestCompactProofSize checks the issue's bound, ≤ 2 KB + ≤ 1 KB per
// assigned page, for 16 pages of datasets from 1,000 to 1,000,000 pages
// (the last beyond MaxPages, so measured on the body encoding without
// the shape check), and that per page it grows only by one 32-byte
// Merkle sibling per doubling of the dataset.
func TestCompactProofSize(t *testing.T) {
	const pages = 16
	for _, total := range []uint64{1000, MaxPages, 1_000_000} {
		p := syntheticProof(t, total, pages)
		size := len(p.appendBody(nil)) + ed25519.SignatureSize
		if total <= MaxPages {
			size = len(mustMarshal(t, p))
		}
		t.Logf("16 pages of a %d-page dataset: %d bytes (%d per page)", total, size, size/pages)
		if size > 2048+1024*pages {
			t.Fatalf("%d-page dataset: %d bytes, bound %d", total, size, 2048+1024*pages)
		}
		aunts := len(p.Pages[0].Proof.Aunts())
		if perPage := PageEntrySize + 1 + aunts*merkle.HashSize; perPage > 1024 {
			t.Fatalf("%d-page dataset: %d bytes per page", total, perPage)
		}
	}
}

// bigFixture is a 1,000-page dataset with 16 workers and 256 pages per
// step: 16 pages per worker per step.
func bigFixture(b testing.TB) (*proofFixture, *TrainingProof) {
	m, pages := buildManifest(b, testObject(1000*16), 16)
	mid, _ := m.ID()
	root, _ := m.ComputePageRoot()
	privs, pubs := testWorkers(16)
	run, err := NewRun(testManifestRef(b, mid), pubs, 256, 5, 1, 1000)
	if err != nil {
		b.Fatal(err)
	}
	fx := &proofFixture{m: m, pages: pages, root: root, run: run, privs: privs}
	fx.setStep(b, 5)
	p, _ := fx.prove(b, 3)
	return fx, p
}

// BenchmarkVerifyTrainingProofBytes measures what train.Verify does per
// compact proof once the run, manifest root and headers are at hand:
// parse 16 pages of a 1,000-page dataset, check everything including the
// assignment recomputed from the seeds.
func BenchmarkVerifyTrainingProofBytes(b *testing.B) {
	fx, p := bigFixture(b)
	enc := mustMarshal(b, p)
	b.SetBytes(int64(len(enc)))
	b.ReportAllocs()
	for b.Loop() {
		q, err := ParseTrainingProof(enc)
		if err != nil {
			b.Fatal(err)
		}
		if err := fx.verify(q); err != nil {
			b.Fatal(err)
		}
	}
}

// TestTrainingProofHoldout: the fixture's manifest holds out its first and
// last pages; no worker is ever assigned them, and a verifier that forgot
// the holdout (a page root without it) rejects honest proofs.
func TestTrainingProofHoldout(t *testing.T) {
	fx := newProofFixture(t, 0)
	if len(fx.root.Holdout) != 2 {
		t.Fatalf("fixture holdout %v", fx.root.Holdout)
	}
	p, err := fx.run.Params(fx.root)
	if err != nil {
		t.Fatal(err)
	}
	for step := range p.StepsPerEpoch() {
		fx.setStep(t, step)
		for w := range fx.privs {
			idx, err := AssignFor(fx.run, fx.root, fx.epochH, fx.seedH, step, uint64(w))
			if err != nil {
				t.Fatal(err)
			}
			for _, i := range idx {
				if slices.Contains(fx.root.Holdout, i) {
					t.Fatalf("step %d worker %d assigned held-out page %d", step, w, i)
				}
			}
		}
	}
	fx.setStep(t, 1)
	proof, _ := fx.prove(t, 0)
	if err := fx.verify(proof); err != nil {
		t.Fatal(err)
	}
	noHoldout := fx.root
	noHoldout.Holdout = nil
	if err := proof.Verify(fx.run, noHoldout, fx.epochH, fx.seedH); err == nil {
		t.Fatal("a proof verified against a page root without the manifest's holdout")
	}
}

// TestTrainingProofSign: Sign with the worker's key gives a proof that
// verifies; another key's signature does not; a bad key is refused.
func TestTrainingProofSign(t *testing.T) {
	fx := newProofFixture(t, 1)
	p, _ := fx.prove(t, 0)
	p.Signature = nil
	if err := p.Sign(fx.privs[0]); err != nil {
		t.Fatal(err)
	}
	if err := fx.verify(p); err != nil {
		t.Fatal(err)
	}
	if err := p.Sign(fx.privs[1]); err != nil {
		t.Fatal(err)
	}
	if err := fx.verify(p); FailedCheck(err) != CheckSignature {
		t.Fatalf("signed by another worker: %v", err)
	}
	if err := p.Sign(fx.privs[0][:10]); !errors.Is(err, ErrInvalidTrainingProof) {
		t.Fatalf("short key: %v", err)
	}
}
