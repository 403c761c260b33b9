package dataset

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"testing"
)

func testSeed(s string) Seed { return sha256.Sum256([]byte(s)) }

// permutation returns Shuffle over all of [0, n).
func permutation(t testing.TB, seed Seed, n uint64) []uint64 {
	t.Helper()
	out := make([]uint64, n)
	for x := range n {
		y, err := Shuffle(seed, x, n)
		if err != nil {
			t.Fatal(err)
		}
		out[x] = y
	}
	return out
}

func TestShuffleIsPermutation(t *testing.T) {
	for _, n := range []uint64{1, 2, 3, 7, 64, 255, 256, 257, 1000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			seed := testSeed(fmt.Sprint("perm", n))
			perm := permutation(t, seed, n)
			seen := make([]bool, n)
			for x, y := range perm {
				if y >= n || seen[y] {
					t.Fatalf("π(%d) = %d repeats or is out of range", x, y)
				}
				seen[y] = true
				back, err := Unshuffle(seed, y, n)
				if err != nil || back != uint64(x) {
					t.Fatalf("Unshuffle(π(%d)) = %d, %v", x, back, err)
				}
			}
			if !slices.Equal(perm, permutation(t, seed, n)) {
				t.Fatal("not deterministic")
			}
		})
	}
	// Huge domains neither overflow nor leave the domain.
	for _, n := range []uint64{1 << 63, 1<<63 + 1, ^uint64(0)} {
		for _, x := range []uint64{0, 1, n / 2, n - 1} {
			y, err := Shuffle(testSeed("huge"), x, n)
			if err != nil || y >= n {
				t.Fatalf("Shuffle(%d, %d) = %d, %v", x, n, y, err)
			}
			if back, _ := Unshuffle(testSeed("huge"), y, n); back != x {
				t.Fatalf("Unshuffle(Shuffle(%d)) = %d for n = %d", x, back, n)
			}
		}
	}
	if _, err := Shuffle(Seed{}, 5, 5); !errors.Is(err, ErrInvalidParams) {
		t.Fatalf("index out of range: %v", err)
	}
	if _, err := Unshuffle(Seed{}, 0, 0); !errors.Is(err, ErrInvalidParams) {
		t.Fatalf("empty domain: %v", err)
	}
}

func TestShuffleSeedsDiffer(t *testing.T) {
	const n = 1000
	a := permutation(t, testSeed("a"), n)
	b := permutation(t, testSeed("b"), n)
	same, fixed := 0, 0
	for i := range a {
		if a[i] == b[i] {
			same++
		}
		if a[i] == uint64(i) {
			fixed++
		}
	}
	// A random pair agrees in about 1 place, and a random permutation has
	// about 1 fixed point; 20 would be a broken shuffle.
	if same > 20 || fixed > 20 {
		t.Fatalf("seeds agree on %d of %d positions, %d fixed points", same, n, fixed)
	}
}

// TestShuffleGolden pins the construction, so that a change to it (which
// would change every run's assignments) is noticed.
func TestShuffleGolden(t *testing.T) {
	seed := ComputeSeed(sha256.Sum256([]byte("header")), sha256.Sum256([]byte("run")), 7)
	got := permutation(t, seed, 10)
	want := []uint64{6, 1, 2, 7, 8, 9, 4, 3, 5, 0}
	if !slices.Equal(got, want) {
		t.Fatalf("permutation = %v, want %v", got, want)
	}
}

func TestComputeSeed(t *testing.T) {
	h, r := sha256.Sum256([]byte("h")), sha256.Sum256([]byte("r"))
	s := ComputeSeed(h, r, 1)
	var b []byte
	b = append(b, h[:]...)
	b = append(b, r[:]...)
	b = append(b, 0, 0, 0, 0, 0, 0, 0, 1)
	if s != sha256.Sum256(b) {
		t.Fatal("seed is not SHA-256(header ‖ run ‖ BE64(step))")
	}
	if s == ComputeSeed(h, r, 2) || s == ComputeSeed(r, h, 1) {
		t.Fatal("seeds collide")
	}
}

func TestAssignCoverage(t *testing.T) {
	for _, p := range []Params{
		{Pages: 1, Workers: 1, PagesPerStep: 1, Replication: 1},
		{Pages: 10, Workers: 3, PagesPerStep: 4, Replication: 1},
		{Pages: 100, Workers: 7, PagesPerStep: 13, Replication: 2},
		{Pages: 100, Workers: 5, PagesPerStep: 100, Replication: 5},
		{Pages: 37, Workers: 10, PagesPerStep: 3, Replication: 3},
		{Pages: 50, Workers: 64, PagesPerStep: 5, Replication: 2},
	} {
		t.Run(fmt.Sprintf("%+v", p), func(t *testing.T) {
			E := p.StepsPerEpoch()
			for epoch := range uint64(2) {
				epochSeed := testSeed(fmt.Sprint("epoch", epoch))
				count := make([]uint64, p.Pages)
				for k := range E {
					step := epoch*E + k
					if p.EpochStart(step) != epoch*E {
						t.Fatalf("EpochStart(%d) = %d", step, p.EpochStart(step))
					}
					stepSeed := testSeed(fmt.Sprint("step", step))
					holders := map[uint64][]uint64{}
					total := uint64(0)
					var loads []int
					for w := range p.Workers {
						pages, err := Assign(epochSeed, stepSeed, p, step, w)
						if err != nil {
							t.Fatal(err)
						}
						loads = append(loads, len(pages))
						for _, pg := range pages {
							if pg >= p.Pages {
								t.Fatalf("page %d out of range", pg)
							}
							if slices.Contains(holders[pg], w) {
								t.Fatalf("worker %d holds page %d twice", w, pg)
							}
							holders[pg] = append(holders[pg], w)
							count[pg]++
							total++
						}
						again, _ := Assign(epochSeed, stepSeed, p, step, w)
						if !slices.Equal(pages, again) {
							t.Fatal("not deterministic")
						}
					}
					lo, hi := p.stepSlots(step)
					if uint64(len(holders)) != hi-lo || total != (hi-lo)*p.Replication {
						t.Fatalf("step %d: %d pages, %d assignments", step, len(holders), total)
					}
					if slices.Max(loads)-slices.Min(loads) > 1 {
						t.Fatalf("step %d: unbalanced loads %v", step, loads)
					}
				}
				for pg, c := range count {
					if c != p.Replication {
						t.Fatalf("epoch %d: page %d covered %d times, want %d", epoch, pg, c, p.Replication)
					}
				}
			}
		})
	}
}

func TestAssignSeedsDiffer(t *testing.T) {
	p := Params{Pages: 1000, Workers: 4, PagesPerStep: 100, Replication: 1}
	all := func(e, s string) [][]uint64 {
		var out [][]uint64
		for w := range p.Workers {
			pages, err := Assign(testSeed(e), testSeed(s), p, 0, w)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, pages)
		}
		return out
	}
	eq := func(a, b [][]uint64) bool { return slices.EqualFunc(a, b, slices.Equal) }
	a := all("e1", "s1")
	if !eq(a, all("e1", "s1")) {
		t.Fatal("not deterministic")
	}
	if eq(a, all("e2", "s1")) || eq(a, all("e1", "s2")) {
		t.Fatal("different seeds give the same assignment")
	}
}

func TestAssignParams(t *testing.T) {
	ok := Params{Pages: 10, Workers: 3, PagesPerStep: 4, Replication: 2}
	for _, tc := range []struct {
		name   string
		p      Params
		worker uint64
	}{
		{"no pages", Params{Workers: 1, PagesPerStep: 1, Replication: 1}, 0},
		{"no workers", Params{Pages: 1, PagesPerStep: 1, Replication: 1}, 0},
		{"no pages per step", Params{Pages: 1, Workers: 1, Replication: 1}, 0},
		{"step bigger than dataset", Params{Pages: 1, Workers: 1, PagesPerStep: 2, Replication: 1}, 0},
		{"no replication", Params{Pages: 1, Workers: 1, PagesPerStep: 1}, 0},
		{"replication above workers", Params{Pages: 1, Workers: 1, PagesPerStep: 1, Replication: 2}, 0},
		{"too many pages", Params{Pages: MaxAssignPages + 1, Workers: 1, PagesPerStep: 1, Replication: 1}, 0},
		{"worker out of range", ok, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Assign(Seed{}, Seed{}, tc.p, 0, tc.worker); !errors.Is(err, ErrInvalidParams) {
				t.Fatalf("err = %v, want ErrInvalidParams", err)
			}
		})
	}
}

func BenchmarkShuffle(b *testing.B) {
	b.ReportAllocs()
	seed := testSeed("bench")
	for i := range b.N {
		_, _ = Shuffle(seed, uint64(i)%1_000_000, 1_000_000)
	}
}

func BenchmarkAssign1000Pages(b *testing.B) {
	b.ReportAllocs()
	p := Params{Pages: 1_000_000, Workers: 1, PagesPerStep: 1000, Replication: 1}
	for range b.N {
		if _, err := Assign(testSeed("e"), testSeed("s"), p, 3, 0); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAssign measures assignment over a 1,000,000-page dataset: one
// worker's pages of a step (what a worker or a verifier computes), and a
// whole step's assignment for every worker (what a coordinator computes).
func BenchmarkAssign(b *testing.B) {
	for _, tc := range []struct {
		name      string
		p         Params
		allWorker bool
	}{
		{"1M-pages/one-worker-16-pages", Params{Pages: 1_000_000, Workers: 64, PagesPerStep: 1024, Replication: 1}, false},
		{"1M-pages/one-worker-1024-pages", Params{Pages: 1_000_000, Workers: 1, PagesPerStep: 1024, Replication: 1}, false},
		{"1M-pages/step-of-1024-pages-64-workers-R2", Params{Pages: 1_000_000, Workers: 64, PagesPerStep: 1024, Replication: 2}, true},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			workers := uint64(1)
			if tc.allWorker {
				workers = tc.p.Workers
			}
			for b.Loop() {
				for w := range workers {
					if _, err := Assign(testSeed("e"), testSeed("s"), tc.p, 3, w); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

// TestAssignHoldout: held-out pages are never assigned; every other page
// is covered Replication times per epoch; the index mapping matches a
// brute-force count; invalid holdouts are refused.
func TestAssignHoldout(t *testing.T) {
	for _, tc := range []struct {
		pages   uint64
		holdout []uint64
	}{
		{10, nil},
		{10, []uint64{0}},
		{10, []uint64{9}},
		{10, []uint64{0, 1, 2}},
		{37, []uint64{3, 4, 10, 20, 36}},
		{100, []uint64{0, 2, 4, 6, 8, 50, 51, 52, 99}},
	} {
		p := Params{Pages: tc.pages, Holdout: tc.holdout, Workers: 3, PagesPerStep: 4, Replication: 2}
		if err := p.Validate(); err != nil {
			t.Fatal(err)
		}
		held := map[uint64]bool{}
		for _, h := range tc.holdout {
			held[h] = true
		}
		var want []uint64
		for i := range tc.pages {
			if !held[i] {
				want = append(want, i)
			}
		}
		for j, x := range want {
			if got := p.page(uint64(j)); got != x {
				t.Fatalf("pages %d holdout %v: training page %d is %d, want %d", tc.pages, tc.holdout, j, got, x)
			}
		}
		seen := map[uint64]int{}
		for step := range p.StepsPerEpoch() {
			seed := testSeed(fmt.Sprint("holdout", step))
			for w := range p.Workers {
				got, err := Assign(testSeed("epoch"), seed, p, step, w)
				if err != nil {
					t.Fatal(err)
				}
				for _, x := range got {
					if held[x] || x >= tc.pages {
						t.Fatalf("pages %d holdout %v: assigned page %d", tc.pages, tc.holdout, x)
					}
					seen[x]++
				}
			}
		}
		for _, x := range want {
			if seen[x] != int(p.Replication) {
				t.Fatalf("pages %d holdout %v: page %d assigned %d times in an epoch, want %d", tc.pages, tc.holdout, x, seen[x], p.Replication)
			}
		}
	}
	for _, bad := range [][]uint64{{3, 3}, {5, 4}, {10}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}} {
		p := Params{Pages: 10, Holdout: bad, Workers: 2, PagesPerStep: 1, Replication: 1}
		if err := p.Validate(); !errors.Is(err, ErrInvalidParams) {
			t.Errorf("holdout %v accepted: %v", bad, err)
		}
	}
	if err := (Params{Pages: 10, Holdout: []uint64{0, 1, 2}, Workers: 2, PagesPerStep: 8, Replication: 1}).Validate(); !errors.Is(err, ErrInvalidParams) {
		t.Error("more pages per step than training pages accepted")
	}
}
