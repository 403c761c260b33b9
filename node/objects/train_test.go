package objects_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tessera-da/tessera/blob/dataset"
	"github.com/tessera-da/tessera/node/api"
	"github.com/tessera-da/tessera/node/objects"
)

// TestTrainEndToEnd runs a training run against a real producer node:
// put a small dataset, declare a run over it, wait for the seed header,
// get an assignment, build a full proof, post it, verify it over RPC, and
// check that tampered proofs are rejected naming the failed check.
func TestTrainEndToEnd(t *testing.T) {
	ctx, c := nodeTest(t, 60*time.Second)

	// A 12-page dataset.
	data := make([]byte, 12*4096-100)
	for i := range data {
		data[i] = byte(i*13 + i>>9)
	}
	publisher := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{9}, 32))
	mref, err := objects.Put(ctx, c, []byte("train/dataset"), bytes.NewReader(data), int64(len(data)),
		objects.Options{PageSize: 4096, Key: publisher, MediaType: "application/octet-stream", Dataset: &dataset.Manifest{Name: "train-test"}})
	if err != nil {
		t.Fatal(err)
	}

	// A run of three workers, 4 pages per step, Δ = 2 blocks.
	var keys []ed25519.PrivateKey
	var pubs []ed25519.PublicKey
	for i := range 3 {
		k := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{byte(0x30 + i)}, 32))
		keys, pubs = append(keys, k), append(pubs, k.Public().(ed25519.PublicKey))
	}
	runRef, run, err := objects.DeclareRun(ctx, c, *mref, objects.RunSpec{Workers: pubs, PagesPerStep: 4, SeedDelay: 2, Replication: 1})
	if err != nil {
		t.Fatal(err)
	}
	if runRef.ID != run.ID || runRef.Height > run.StartHeight {
		t.Fatalf("run ref %+v for run starting at %d", runRef, run.StartHeight)
	}
	got, info, err := objects.GetRun(ctx, c, *runRef)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != run.ID || info.Pages != 12 || info.StepsPerEpoch != 3 || len(info.Workers) != 3 {
		t.Fatalf("train.Run gave %+v", info)
	}

	// Step 4's seed is far ahead: the error names the height needed.
	_, err = objects.Assign(ctx, c, *runRef, 4, "0")
	if err == nil || !strings.Contains(err.Error(), api.ErrSeedPending.Error()) || !strings.Contains(err.Error(), fmt.Sprint(run.StartHeight+10)) {
		t.Fatalf("assignment before its seed header: %v", err)
	}

	// Wait for step 1's seed header (and its epoch's, which is earlier).
	const step = 1
	seedH, _ := run.StepSeedHeight(step)
	var eh api.ExtendedHeader
	if err := c.Call(ctx, "header.WaitForHeight", &eh, seedH); err != nil {
		t.Fatal(err)
	}
	// w is a worker with two pages (4 pages over 3 workers), o another.
	w, o := -1, -1
	for i := range keys {
		a, err := objects.Assign(ctx, c, *runRef, step, fmt.Sprint(i))
		if err != nil {
			t.Fatal(err)
		}
		if len(a.Pages) >= 2 && w < 0 {
			w = i
		} else if o < 0 {
			o = i
		}
	}
	byIndex, err := objects.Assign(ctx, c, *runRef, step, fmt.Sprint(w))
	if err != nil {
		t.Fatal(err)
	}
	byKey, err := objects.Assign(ctx, c, *runRef, step, hex.EncodeToString(pubs[w]))
	if err != nil {
		t.Fatal(err)
	}
	if byIndex.Worker != uint64(w) || len(byIndex.Pages) == 0 || fmt.Sprint(byIndex.Pages) != fmt.Sprint(byKey.Pages) {
		t.Fatalf("assignment by index %+v, by key %+v", byIndex, byKey)
	}
	if hh := eh.Tessera.Hash(); byIndex.SeedHeight != seedH || byIndex.SeedHeaderHash != hex.EncodeToString(hh[:]) {
		t.Fatalf("seed %d %s, header at %d hashes to %s", byIndex.SeedHeight, byIndex.SeedHeaderHash, seedH, eh.Tessera.Hash())
	}

	// Worker w proves step 1 (full) from the network's pages, posts and
	// verifies it.
	p, err := objects.ProveTraining(ctx, c, *runRef, objects.ProveOptions{Step: step, Key: keys[w], Full: true, Losses: []float32{1.5}})
	if err != nil {
		t.Fatal(err)
	}
	if !p.Full() || len(p.Pages) != len(byIndex.Pages) {
		t.Fatalf("proof has %d pages (full %v), assignment %d", len(p.Pages), p.Full(), len(byIndex.Pages))
	}
	for j, pp := range p.Pages {
		if pp.Entry.Index != byIndex.Pages[j].Index {
			t.Fatalf("proof page %d is %d, assignment says %d", j, pp.Entry.Index, byIndex.Pages[j].Index)
		}
	}
	posted, err := objects.PostProof(ctx, c, p)
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := dataset.Namespace(dataset.TrainingProofs, run.ID[:]); posted.Namespace != want {
		t.Fatalf("proof posted in %s, want %s", posted.Namespace, want)
	}
	enc, err := p.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	// The size figures of docs/training.md: the full proof, and each page's
	// commitment proof in binary against the JSON blob.GetCommitmentProof
	// serves.
	var binSize, jsonSize int
	for _, cp := range p.Inclusions {
		b, err := cp.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		j, err := json.Marshal(cp)
		if err != nil {
			t.Fatal(err)
		}
		binSize, jsonSize = binSize+len(b), jsonSize+len(j)
	}
	t.Logf("full proof of %d pages: %d bytes, of which %d are binary commitment proofs (JSON: %d)", len(p.Pages), len(enc), binSize, jsonSize)
	if binSize >= jsonSize {
		t.Errorf("binary commitment proofs (%d bytes) are not smaller than their JSON (%d)", binSize, jsonSize)
	}
	res, err := objects.VerifyProof(ctx, c, enc)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Valid || !res.Full || res.Worker != uint64(w) || res.Step != step || !trainContains(res.Checks, string(dataset.CheckInclusion)) {
		t.Fatalf("honest full proof: %+v", res)
	}

	// A caller holding the run, its opened manifest and the assignment
	// proves the same step without fetching any of them again.
	g := &faulty{Caller: c}
	obj, err := objects.Open(ctx, g, objects.RunManifestRef(got), objects.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	idx := make([]uint64, len(byIndex.Pages))
	for j, ap := range byIndex.Pages {
		idx[j] = ap.Index
	}
	pages, err := obj.ReadPages(ctx, idx)
	if err != nil {
		t.Fatal(err)
	}
	before := map[string]int64{}
	for _, m := range []string{"train.Run", "train.Assign", "blob.Get", "dataset.GetPiece", "header.GetByHeight"} {
		before[m] = g.count(m)
	}
	again, err := obj.ProveStep(ctx, *runRef, got, byIndex, objects.ProveOptions{Step: step, Key: keys[w], Fed: pages, Full: true, Losses: []float32{1.5}})
	if err != nil {
		t.Fatal(err)
	}
	for m, n := range before {
		if g.count(m) != n {
			t.Errorf("ProveStep called %s %d times", m, g.count(m)-n)
		}
	}
	if id, _ := again.ID(); !again.Full() || id != mustID(t, p) {
		t.Fatalf("ProveStep gave proof %x (full %v), ProveTraining %x", id, again.Full(), mustID(t, p))
	}

	// Faults, each rejected naming the check.
	other, err := objects.ProveTraining(ctx, c, *runRef, objects.ProveOptions{Step: step, Key: keys[o]})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		check dataset.Check
		proof func() []byte
	}{
		{"signature flipped", dataset.CheckSignature, func() []byte {
			q := *p
			q.Signature = bytes.Clone(p.Signature)
			q.Signature[0] ^= 1
			b, _ := q.MarshalBinary()
			return b
		}},
		{"another worker's pages", dataset.CheckAssignment, func() []byte {
			q := *other
			q.Worker = pubs[w]
			return resignProof(t, &q, keys[w])
		}},
		{"non-registered key", dataset.CheckWorker, func() []byte {
			stranger := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{0x77}, 32))
			q := *other
			q.Worker = stranger.Public().(ed25519.PublicKey)
			return resignProof(t, &q, stranger)
		}},
		{"wrong run record height", dataset.CheckRunRecord, func() []byte {
			q := *other
			q.RunHeight++
			return resignProof(t, &q, keys[o])
		}},
		{"commitment proof of another page", dataset.CheckInclusion, func() []byte {
			q := *p
			q.Inclusions = append(q.Inclusions[:0:0], p.Inclusions...)
			q.Inclusions[0], q.Inclusions[1] = q.Inclusions[1], q.Inclusions[0]
			b, err := q.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			return b
		}},
		{"garbage", dataset.CheckFormat, func() []byte { return []byte("TSTP\x02 not a proof") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := objects.VerifyProof(ctx, c, tc.proof())
			if err != nil {
				t.Fatal(err)
			}
			if res.Valid || res.FailedCheck != string(tc.check) {
				t.Fatalf("got valid=%v check %q (%s), want check %q", res.Valid, res.FailedCheck, res.Error, tc.check)
			}
		})
	}

	// A worker cannot prove with bytes other than its pages.
	fed := make([][]byte, len(p.Pages))
	for j := range fed {
		fed[j] = make([]byte, p.Pages[j].Entry.Length)
	}
	if _, err := objects.ProveTraining(ctx, c, *runRef, objects.ProveOptions{Step: step, Key: keys[w], Fed: fed}); !errors.Is(err, dataset.ErrInvalidPage) {
		t.Fatalf("proof over wrong bytes: %v", err)
	}
}

// resignProof signs q with key (q.Worker must be key's public key, or
// anything for a forgery) and encodes it.
func resignProof(t *testing.T, q *dataset.TrainingProof, key ed25519.PrivateKey) []byte {
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

func mustID(t *testing.T, p *dataset.TrainingProof) [32]byte {
	t.Helper()
	id, err := p.ID()
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func trainContains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
