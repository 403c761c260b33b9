package dataset

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"testing"
)

// testHeader is the hash of the (fake) header at height h.
func testHeader(h uint64) [32]byte {
	return sha256.Sum256(binary.BigEndian.AppendUint64([]byte("header"), h))
}

// testWorkers returns n fixed worker keys.
func testWorkers(n int) ([]ed25519.PrivateKey, []ed25519.PublicKey) {
	var privs []ed25519.PrivateKey
	var pubs []ed25519.PublicKey
	for i := range n {
		k := testKey(byte(0x40 + i))
		privs = append(privs, k)
		pubs = append(pubs, k.Public().(ed25519.PublicKey))
	}
	return privs, pubs
}

// testManifestRef locates manifest id at height 90.
func testManifestRef(t testing.TB, id ID) ManifestRef {
	t.Helper()
	ns, err := Namespace(DatasetManifest, []byte("test scope"))
	if err != nil {
		t.Fatal(err)
	}
	return ManifestRef{ID: id, Height: 90, Namespace: ns, Commitment: sha256.Sum256(id[:])}
}

func testRun(t testing.TB, manifest ID) (*Run, []ed25519.PrivateKey) {
	t.Helper()
	privs, pubs := testWorkers(4)
	r, err := NewRun(testManifestRef(t, manifest), pubs, 6, 5, 2, 1000)
	if err != nil {
		t.Fatal(err)
	}
	return r, privs
}

func TestRunRoundTrip(t *testing.T) {
	r, _ := testRun(t, sha256.Sum256([]byte("manifest")))
	enc, err := r.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if r.ID != sha256.Sum256(enc) {
		t.Fatal("ID is not SHA-256 of the encoding")
	}
	got, err := ParseRun(enc)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != r.ID || got.Manifest != r.Manifest || !IsRunRecord(enc) || len(got.Workers) != 4 || got.SeedDelay != 5 {
		t.Fatalf("round trip changed the run: %+v", got)
	}
	if err := got.Validate(); err != nil {
		t.Fatal(err)
	}
	got.StartHeight++
	if err := got.Validate(); !errors.Is(err, ErrInvalidRun) {
		t.Fatalf("changed run with stale ID validates: %v", err)
	}
}

func TestRunValidate(t *testing.T) {
	_, pubs := testWorkers(3)
	good := testManifestRef(t, ID{1})
	noHeight, badNS, late := good, good, good
	noHeight.Height = 0
	badNS.Namespace = reservedNS()
	late.Height = 1001
	for _, tc := range []struct {
		name     string
		manifest ManifestRef
		workers  []ed25519.PublicKey
		pps      uint64
		delay    uint64
		repl     uint64
	}{
		{"no workers", good, nil, 1, 1, 1},
		{"zero pages per step", good, pubs, 0, 1, 1},
		{"zero delay", good, pubs, 1, 0, 1},
		{"huge delay", good, pubs, 1, 1<<32 + 1, 1},
		{"zero replication", good, pubs, 1, 1, 0},
		{"replication above workers", good, pubs, 1, 1, 4},
		{"duplicate worker", good, []ed25519.PublicKey{pubs[0], pubs[1], pubs[0]}, 1, 1, 1},
		{"short key", good, []ed25519.PublicKey{pubs[0][:31]}, 1, 1, 1},
		{"manifest height 0", noHeight, pubs, 1, 1, 1},
		{"manifest namespace reserved", badNS, pubs, 1, 1, 1},
		{"manifest published after the start", late, pubs, 1, 1, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := NewRun(tc.manifest, tc.workers, tc.pps, tc.delay, tc.repl, 1000); !errors.Is(err, ErrInvalidRun) {
				t.Fatalf("got %v, want ErrInvalidRun", err)
			}
		})
	}
}

func TestParseRunMutationsAndLimits(t *testing.T) {
	r, _ := testRun(t, ID{7})
	enc, _ := r.MarshalBinary()
	checkEveryMutation(t, enc, ErrInvalidRun, ParseRun, func(got *Run) error {
		if got.ID == r.ID {
			return nil // the same run: the mutation went unnoticed
		}
		return errors.New("another run ID")
	})
	huge := bytes.Clone(enc[:runFixedSize])
	binary.BigEndian.PutUint32(huge[runFixedSize-4:], 1<<31)
	if _, err := ParseRun(huge); !errors.Is(err, ErrInvalidRun) {
		t.Fatalf("huge worker count: %v", err)
	}
	if _, err := ParseRun(make([]byte, MaxRunSize+1)); !errors.Is(err, ErrInvalidRun) {
		t.Fatalf("oversized run: %v", err)
	}
}

func TestStepSeedHeight(t *testing.T) {
	r, _ := testRun(t, ID{})
	for _, tc := range []struct{ step, open, seed uint64 }{{0, 1000, 1005}, {1, 1005, 1010}, {9, 1045, 1050}} {
		open, err := r.StepOpenHeight(tc.step)
		if err != nil || open != tc.open {
			t.Fatalf("step %d opens at %d (%v), want %d", tc.step, open, err, tc.open)
		}
		seed, err := r.StepSeedHeight(tc.step)
		if err != nil || seed != tc.seed {
			t.Fatalf("step %d seeded at %d (%v), want %d", tc.step, seed, err, tc.seed)
		}
	}
	if _, err := r.StepSeedHeight(^uint64(0) / 5); !errors.Is(err, ErrInvalidParams) {
		t.Fatalf("overflowing step: %v", err)
	}
	// 40 pages, 6 per step: 7 steps an epoch; step 9's epoch starts at 7.
	if h, err := r.EpochSeedHeight(PageRoot{Pages: 40}, 9); err != nil || h != 1040 {
		t.Fatalf("epoch seed height %d (%v), want 1040", h, err)
	}
}

// TestAssignForCoverage: over one epoch every page goes to exactly
// Replication distinct workers.
func TestAssignForCoverage(t *testing.T) {
	r, _ := testRun(t, ID{3})
	const pages = 40
	p, err := r.Params(PageRoot{Pages: pages})
	if err != nil {
		t.Fatal(err)
	}
	count := make(map[uint64]map[uint64]bool)
	for step := uint64(7); step < 7+p.StepsPerEpoch(); step++ {
		eh, _ := r.EpochSeedHeight(PageRoot{Pages: pages}, step)
		sh, _ := r.StepSeedHeight(step)
		for w := range uint64(len(r.Workers)) {
			got, err := AssignFor(r, PageRoot{Pages: pages}, testHeader(eh), testHeader(sh), step, w)
			if err != nil {
				t.Fatal(err)
			}
			for _, pg := range got {
				if count[pg] == nil {
					count[pg] = map[uint64]bool{}
				}
				if count[pg][w] {
					t.Fatalf("page %d twice to worker %d", pg, w)
				}
				count[pg][w] = true
			}
		}
	}
	if len(count) != pages {
		t.Fatalf("%d pages covered, want %d", len(count), pages)
	}
	for pg, ws := range count {
		if len(ws) != int(r.Replication) {
			t.Fatalf("page %d to %d workers, want %d", pg, len(ws), r.Replication)
		}
	}
	if _, err := AssignFor(r, PageRoot{Pages: pages}, [32]byte{}, [32]byte{}, 0, 4); !errors.Is(err, ErrInvalidParams) {
		t.Fatalf("worker out of range: %v", err)
	}
	if _, err := AssignFor(r, PageRoot{Pages: 5}, [32]byte{}, [32]byte{}, 0, 0); !errors.Is(err, ErrInvalidParams) {
		t.Fatalf("fewer pages than pages per step: %v", err)
	}
}

func FuzzParseRun(f *testing.F) {
	r, _ := testRun(f, ID{9})
	enc, _ := r.MarshalBinary()
	f.Add(enc)
	f.Add([]byte("TSRN\x01"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, ok := parseCanonical(t, b, ParseRun, ErrInvalidRun)
		if !ok {
			return
		}
		for s := range uint64(3) {
			_, _ = r.StepSeedHeight(s)
		}
	})
}
