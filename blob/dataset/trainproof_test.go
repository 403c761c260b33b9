package dataset

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"fmt"
	"testing"
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
	eh, err := fx.run.EpochSeedHeight(fx.root.Pages, step)
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
	idx, err := AssignFor(fx.run, len(fx.pages), fx.epochH, fx.seedH, fx.step, uint64(w))
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
		ManifestHeight: 90, Step: fx.step, EpochSeedHash: fx.epochH, SeedHeaderHash: fx.seedH,
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
	for i := range enc {
		for _, delta := range []byte{1, 0x80, 0xff} {
			mut := bytes.Clone(enc)
			mut[i] += delta
			got, err := ParseTrainingProof(mut)
			if err != nil {
				if !errors.Is(err, ErrInvalidTrainingProof) {
					t.Fatalf("byte %d +%d: parse error %v does not wrap ErrInvalidTrainingProof", i, delta, err)
				}
				continue
			}
			if err := fx.verify(got); err == nil {
				t.Fatalf("byte %d +%d: mutated proof parses and verifies", i, delta)
			}
		}
	}
	for n := range enc {
		if _, err := ParseTrainingProof(enc[:n]); err == nil {
			t.Fatalf("truncation to %d bytes parses", n)
		}
	}
	if _, err := ParseTrainingProof(append(bytes.Clone(enc), 0)); err == nil {
		t.Fatal("trailing byte parses")
	}
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
			other := *fx
			other.seedH = testHeader(12345) // the worker picks its own seed
			p, _ := other.prove(t, 1)
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
	idx, _ := AssignFor(fx.run, len(fx.pages), fx.epochH, fx.seedH, 0, 0)
	var fed [][]byte
	for _, i := range idx {
		fed = append(fed, fx.pages[(i+1)%uint64(len(fx.pages))])
	}
	in := ProveInput{Step: 0, EpochSeedHash: fx.epochH, SeedHeaderHash: fx.seedH, PageBytes: fed, Key: fx.privs[0]}
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
	off := 4 + 1 + 32 + 8 + 32 + 32 + 8 + 8 + 32 + 8 + 32 + 32 + 8
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
	f.Add([]byte("TSTP\x01"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParseTrainingProof(b)
		if err != nil {
			if !errors.Is(err, ErrInvalidTrainingProof) {
				t.Fatalf("error %v does not wrap ErrInvalidTrainingProof", err)
			}
			return
		}
		enc, err := p.MarshalBinary()
		if err != nil {
			t.Fatalf("parsed proof does not encode: %v", err)
		}
		if !bytes.Equal(enc, b) {
			t.Fatal("accepted a non-canonical encoding")
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
	run, _ := NewRun(mid, []ed25519.PublicKey{worker.Public().(ed25519.PublicKey), other.Public().(ed25519.PublicKey)}, 4, 3, 1, 100)

	// Step 1 is seeded by the header at 106, its epoch by the one at 103.
	step := uint64(1)
	seedHeight, _ := run.StepSeedHeight(step)
	epochHeight, _ := run.EpochSeedHeight(root.Pages, step)
	header := func(h uint64) [32]byte { return sha256.Sum256([]byte{byte(h)}) } // verified headers in real use
	mine, _ := AssignFor(run, len(m.Entries), header(epochHeight), header(seedHeight), step, 0)
	var fed [][]byte
	for _, i := range mine {
		fed = append(fed, pages[i])
	}
	proof, err := Prove(run, m, ProveInput{Step: step, EpochSeedHash: header(epochHeight), SeedHeaderHash: header(seedHeight),
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
