package api

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"testing"

	"github.com/tessera-da/tessera/blob"
	"github.com/tessera-da/tessera/blob/dataset"
	"github.com/tessera-da/tessera/node/rpc"
	"github.com/tessera-da/tessera/share"
)

// trainEnv is a chain holding a 10-page dataset, its manifest and a run of
// three workers over it (4 pages per step, Δ = 2), with blocks produced by
// hand.
type trainEnv struct {
	*env
	m      *dataset.Manifest
	pages  [][]byte
	run    *dataset.Run
	runRef Ref
	keys   []ed25519.PrivateKey
}

func (te *trainEnv) seal(t testing.TB, blobs ...*blob.Blob) uint64 {
	t.Helper()
	return te.submitAndSeal(t, te.client(t, rpc.PermWrite), blobs...)
}

// produceTo produces empty blocks until the head is at height h.
func (te *trainEnv) produceTo(t testing.TB, h uint64) {
	t.Helper()
	for te.svc.Watcher.Head().Height < h {
		if _, err := te.prod.ProduceBlock(); err != nil {
			t.Fatal(err)
		}
	}
}

func newTrainEnv(t testing.TB) *trainEnv {
	t.Helper()
	te := &trainEnv{env: newEnv(t)}
	ns, err := dataset.Namespace(dataset.DatasetPages, []byte("api train"))
	if err != nil {
		t.Fatal(err)
	}
	data := make([]byte, 10*64-9)
	for i := range data {
		data[i] = byte(i * 31)
	}
	if te.pages, err = dataset.Split(data, 64); err != nil {
		t.Fatal(err)
	}
	var blobs []*blob.Blob
	for _, p := range te.pages {
		b, err := blob.New(ns, p, share.ShareVersionZero, nil)
		if err != nil {
			t.Fatal(err)
		}
		blobs = append(blobs, b)
	}
	h := te.seal(t, blobs...)
	te.m = &dataset.Manifest{ObjectLength: uint64(len(data)), PageSize: 64, MediaType: "application/octet-stream"}
	for i, p := range te.pages {
		e := dataset.PageEntry{Index: uint64(i), Height: h, Namespace: ns, Length: uint64(len(p)), SHA256: sha256.Sum256(p)}
		copy(e.Commitment[:], blobs[i].Commitment())
		te.m.Entries = append(te.m.Entries, e)
	}
	if err := te.m.Sign(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, 32))); err != nil {
		t.Fatal(err)
	}
	menc, _ := te.m.MarshalBinary()
	mid, _ := te.m.ID()
	mns, _ := dataset.Namespace(dataset.DatasetManifest, []byte("api train"))
	mb, err := blob.New(mns, menc, share.ShareVersionZero, nil)
	if err != nil {
		t.Fatal(err)
	}
	mh := te.seal(t, mb)
	mref := dataset.ManifestRef{ID: mid, Height: mh, Namespace: mns}
	copy(mref.Commitment[:], mb.Commitment())
	var pubs []ed25519.PublicKey
	for i := range 3 {
		k := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{byte(0x50 + i)}, 32))
		te.keys, pubs = append(te.keys, k), append(pubs, k.Public().(ed25519.PublicKey))
	}
	te.run, te.runRef = te.declare(t, mref, pubs, mh+3)
	return te
}

// declare posts a run starting at start and returns it with its ref.
func (te *trainEnv) declare(t testing.TB, mref dataset.ManifestRef, pubs []ed25519.PublicKey, start uint64) (*dataset.Run, Ref) {
	t.Helper()
	run, err := dataset.NewRun(mref, pubs, 4, 2, 1, start)
	if err != nil {
		t.Fatal(err)
	}
	enc, _ := run.MarshalBinary()
	rns, _ := dataset.Namespace(dataset.RunControl, run.ID[:])
	rb, err := blob.New(rns, enc, share.ShareVersionZero, nil)
	if err != nil {
		t.Fatal(err)
	}
	return run, Ref{ID: run.ID, Height: te.seal(t, rb), Namespace: rns, Commitment: rb.Commitment()}
}

// prove builds worker w's proof of step from the node's assignment.
func (te *trainEnv) prove(t testing.TB, w int, step uint64, full bool) *dataset.TrainingProof {
	t.Helper()
	ctx := context.Background()
	a, err := te.svc.TrainAssign(ctx, te.runRef, step, fmt.Sprint(w))
	if err != nil {
		t.Fatal(err)
	}
	var epoch, seed [32]byte
	eb, _ := hex.DecodeString(a.EpochSeedHash)
	sb, _ := hex.DecodeString(a.SeedHeaderHash)
	copy(epoch[:], eb)
	copy(seed[:], sb)
	var fed [][]byte
	for _, p := range a.Pages {
		fed = append(fed, te.pages[p.Index])
	}
	p, err := dataset.Prove(te.run, te.m, dataset.ProveInput{RunHeight: te.runRef.Height, RunCommitment: [32]byte(te.runRef.Commitment),
		Step: step, EpochSeedHash: epoch, SeedHeaderHash: seed, PageBytes: fed, SamplesCount: 1, Key: te.keys[w]})
	if err != nil {
		t.Fatal(err)
	}
	if full && len(p.Pages) > 0 {
		var cps []*blob.CommitmentProof
		roots := map[uint64][32]byte{}
		for _, pp := range p.Pages {
			cp, err := te.svc.BlobGetCommitmentProof(ctx, pp.Entry.Height, pp.Entry.Namespace, pp.Entry.Commitment[:])
			if err != nil {
				t.Fatal(err)
			}
			cps = append(cps, cp)
			h, _ := te.svc.Store.HeaderByHeight(pp.Entry.Height)
			roots[pp.Entry.Height] = h.DataRoot
		}
		if err := p.AttachInclusions(cps, roots); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

func TestTrainRunAndAssign(t *testing.T) {
	te := newTrainEnv(t)
	ctx := context.Background()
	info, err := te.svc.TrainRun(ctx, te.runRef)
	if err != nil {
		t.Fatal(err)
	}
	if info.Pages != 10 || info.StepsPerEpoch != 3 || len(info.Workers) != 3 || sha256.Sum256(info.Record) != te.run.ID {
		t.Fatalf("run info %+v", info)
	}

	// Before the seed header exists, the error says which height and how far.
	_, err = te.svc.TrainAssign(ctx, te.runRef, 0, "0")
	var sp *SeedPendingError
	if !errors.As(err, &sp) || !errors.Is(err, ErrSeedPending) || sp.Height != te.run.StartHeight+2 || sp.Head != te.svc.Watcher.Head().Height {
		t.Fatalf("assignment before the seed: %v", err)
	}

	te.produceTo(t, te.run.StartHeight+2*3)
	seen := map[uint64]int{}
	for w := range te.keys {
		byIndex, err := te.svc.TrainAssign(ctx, te.runRef, 2, fmt.Sprint(w))
		if err != nil {
			t.Fatal(err)
		}
		byKey, err := te.svc.TrainAssign(ctx, te.runRef, 2, hex.EncodeToString(te.keys[w].Public().(ed25519.PublicKey)))
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(byIndex) != fmt.Sprint(byKey) {
			t.Fatalf("worker %d: by index %+v, by key %+v", w, byIndex, byKey)
		}
		for _, p := range byIndex.Pages {
			seen[p.Index]++
			if e := te.m.Entries[p.Index]; p.SHA256 != hex.EncodeToString(e.SHA256[:]) || p.Height != e.Height {
				t.Fatalf("page %d entry %+v", p.Index, p)
			}
		}
	}
	// Step 2 is the last of the epoch: pages 8 and 9's slots, each once.
	if len(seen) != 2 {
		t.Fatalf("step 2 covers %v", seen)
	}

	for _, tc := range []struct {
		name string
		ref  func() Ref
	}{
		{"wrong ID", func() Ref { r := te.runRef; r.ID[0] ^= 1; return r }},
		{"wrong height", func() Ref { r := te.runRef; r.Height--; return r }},
		{"wrong commitment", func() Ref { r := te.runRef; r.Commitment = bytes.Repeat([]byte{1}, 32); return r }},
		{"declared after its start", func() Ref {
			pubs := te.run.Workers
			_, r := te.declare(t, te.run.Manifest, pubs, te.svc.Watcher.Head().Height)
			return r
		}},
		{"manifest not where the run says", func() Ref {
			m := te.run.Manifest
			m.Height++
			_, r := te.declare(t, m, te.run.Workers, te.svc.Watcher.Head().Height+5)
			return r
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := te.svc.TrainRun(ctx, tc.ref()); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

func TestParseWorker(t *testing.T) {
	te := newTrainEnv(t)
	key := hex.EncodeToString(te.keys[1].Public().(ed25519.PublicKey))
	for _, tc := range []struct {
		in   string
		want uint64
		ok   bool
	}{
		{"0", 0, true}, {"2", 2, true}, {"3", 0, false}, {"-1", 0, false}, {"x", 0, false},
		{key, 1, true}, {"0x" + key, 0, false}, {key[:62] + "00", 0, false},
	} {
		got, err := parseWorker(te.run, tc.in)
		if (err == nil) != tc.ok || (tc.ok && got != tc.want) {
			t.Fatalf("parseWorker(%q) = %d, %v", tc.in, got, err)
		}
	}
}

func TestTrainVerify(t *testing.T) {
	te := newTrainEnv(t)
	ctx := context.Background()
	te.produceTo(t, te.run.StartHeight+2*2)
	for _, full := range []bool{false, true} {
		for w := range te.keys {
			p := te.prove(t, w, 1, full)
			enc, err := p.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			res, err := te.svc.TrainVerify(ctx, enc)
			if err != nil {
				t.Fatal(err)
			}
			if !res.Valid || res.Full != (full && len(p.Pages) > 0) || res.Worker != uint64(w) {
				t.Fatalf("worker %d full %v: %+v", w, full, res)
			}
		}
	}
	p := te.prove(t, 0, 1, true)
	for _, tc := range []struct {
		name  string
		check dataset.Check
		mut   func(q *dataset.TrainingProof) []byte
	}{
		{"truncated", dataset.CheckFormat, func(q *dataset.TrainingProof) []byte {
			b, _ := q.MarshalBinary()
			return b[:len(b)-1]
		}},
		{"step not yet seeded", dataset.CheckHeaders, func(q *dataset.TrainingProof) []byte {
			q.Step = 50
			return resign(t, q, te.keys[0])
		}},
		{"run record elsewhere", dataset.CheckRunRecord, func(q *dataset.TrainingProof) []byte {
			q.RunHeight = te.runRef.Height - 1
			return resign(t, q, te.keys[0])
		}},
		{"wrong seed claimed", dataset.CheckSeed, func(q *dataset.TrainingProof) []byte {
			q.SeedHeaderHash[0] ^= 1
			return resign(t, q, te.keys[0])
		}},
		{"other worker's key", dataset.CheckAssignment, func(q *dataset.TrainingProof) []byte {
			q.Worker = te.keys[1].Public().(ed25519.PublicKey)
			return resign(t, q, te.keys[1])
		}},
		{"unregistered key", dataset.CheckWorker, func(q *dataset.TrainingProof) []byte {
			k := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{0x66}, 32))
			q.Worker = k.Public().(ed25519.PublicKey)
			return resign(t, q, k)
		}},
		{"commitment proof of another page", dataset.CheckInclusion, func(q *dataset.TrainingProof) []byte {
			e := te.m.Entries[(q.Pages[0].Entry.Index+1)%uint64(len(te.m.Entries))]
			cp, err := te.svc.BlobGetCommitmentProof(ctx, e.Height, e.Namespace, e.Commitment[:])
			if err != nil {
				t.Fatal(err)
			}
			q.Inclusions = append([]*blob.CommitmentProof(nil), q.Inclusions...)
			q.Inclusions[0] = cp
			b, err := q.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			return b
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := *p
			enc := tc.mut(&q)
			res, err := te.svc.TrainVerify(ctx, enc)
			if err != nil {
				t.Fatal(err)
			}
			want := tc.check
			if res.Valid || res.FailedCheck != string(want) || res.Error == "" {
				t.Fatalf("got %+v, want failed check %q", res, want)
			}
		})
	}
	if _, err := te.svc.TrainVerify(ctx, make([]byte, maxTrainProofBytes+1)); err == nil {
		t.Fatal("oversized proof accepted")
	}
}

// resign signs q with key after a change and encodes it.
func resign(t testing.TB, q *dataset.TrainingProof, key ed25519.PrivateKey) []byte {
	t.Helper()
	if err := q.Sign(key); err != nil {
		t.Fatal(err)
	}
	b, err := q.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// BenchmarkTrainVerify measures train.Verify inside the node (no RPC) for
// a compact proof: the run record and the manifest read and checked
// against their blocks' data roots, the seed headers, then every check of
// the proof including the recomputed assignment.
func BenchmarkTrainVerify(b *testing.B) {
	te := newTrainEnv(b)
	te.produceTo(b, te.run.StartHeight+2*2)
	p := te.prove(b, 0, 1, false)
	enc, err := p.MarshalBinary()
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		res, err := te.svc.TrainVerify(ctx, enc)
		if err != nil || !res.Valid {
			b.Fatalf("%+v %v", res, err)
		}
	}
}

// TestDatasetManifest: dataset.Manifest returns the run's manifest,
// verified, with its page root; a ref with another ID, height or
// commitment is refused.
func TestDatasetManifest(t *testing.T) {
	te := newTrainEnv(t)
	c := te.client(t, rpc.PermRead)
	mr := te.run.Manifest
	ref := Ref{ID: mr.ID, Height: mr.Height, Namespace: mr.Namespace, Commitment: mr.Commitment[:]}
	var info ManifestInfo
	if err := c.Call(context.Background(), "dataset.Manifest", &info, ref); err != nil {
		t.Fatal(err)
	}
	var m dataset.Manifest
	if err := m.UnmarshalJSON(info.Manifest); err != nil {
		t.Fatal(err)
	}
	root, _ := te.m.ComputePageRoot()
	if id, _ := m.ID(); id != mr.ID || info.Pages != root.Pages || info.PageRoot != hex.EncodeToString(root.Hash[:]) {
		t.Fatalf("got manifest %x, %d pages, root %s", id, info.Pages, info.PageRoot)
	}
	for name, bad := range map[string]func(r Ref) Ref{
		"other ID":         func(r Ref) Ref { r.ID[0] ^= 1; return r },
		"other height":     func(r Ref) Ref { r.Height++; return r },
		"other commitment": func(r Ref) Ref { r.Commitment = bytes.Repeat([]byte{7}, 32); return r },
		"short commitment": func(r Ref) Ref { r.Commitment = r.Commitment[:5]; return r },
	} {
		if err := c.Call(context.Background(), "dataset.Manifest", &info, bad(ref)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
