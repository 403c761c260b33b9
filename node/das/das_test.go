package das

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/tessera-da/tessera/erasure"
	"github.com/tessera-da/tessera/sampling"
)

func wantConfidence(k, s int) float64 {
	if w := 2 * k; s >= w*w {
		return 1
	}
	return sampling.Confidence(k, s)
}

// Honest peers: every height becomes available with Confidence(k, s),
// verdicts are stored and reported, new heads are sampled as they come.
func TestHonestCatchUp(t *testing.T) {
	widths := []int{1, 2, 4, 8, 16}
	kOf := func(h uint64) int { return widths[h%uint64(len(widths))] }
	c := newChain(t, 40, kOf)
	f := newFetcher(t, c)
	st := newMemStore()
	var sk sink
	var mu sync.Mutex
	var progress []Record
	cfg := testConfig()
	d := startDASer(t, cfg, Deps{Fetcher: f, Headers: c, Checkpoints: st, Sink: &sk, Progress: func(r Record) {
		mu.Lock()
		progress = append(progress, r)
		mu.Unlock()
	}})
	waitCatchUp(t, d)
	check := func(upTo uint64) {
		t.Helper()
		for h := uint64(1); h <= upTo; h++ {
			if err := d.SharesAvailable(context.Background(), h); err != nil {
				t.Fatalf("height %d: %v", h, err)
			}
			r, err := d.Result(context.Background(), h)
			if err != nil || !r.Available || r.Confidence != wantConfidence(kOf(h), cfg.Samples) {
				t.Fatalf("height %d: %+v %v, want confidence %v", h, r, err, wantConfidence(kOf(h), cfg.Samples))
			}
		}
	}
	check(40)
	s, _ := d.SamplingStats(context.Background())
	if s.SampledChainHead != 40 || s.NetworkHead != 40 || !s.CatchUpDone || !s.IsRunning || len(s.Failed) != 0 {
		t.Fatalf("stats %+v", s)
	}
	// New heads arrive through OnHeader.
	for h := uint64(41); h <= 45; h++ {
		b := makeBlock(t, h, kOf(h), "chain")
		c.add(b)
		d.OnHeader(b.hdr)
	}
	eventually(t, "height 45 sampled", func() bool { return d.SharesAvailable(context.Background(), 45) == nil })
	waitCatchUp(t, d)
	check(45)
	if err := d.SharesAvailable(context.Background(), 46); !errors.Is(err, ErrNotSampled) {
		t.Fatalf("height above the head: %v", err)
	}
	for h := uint64(1); h <= 45; h++ {
		if n := f.callsFor(h); n != 1 {
			t.Errorf("height %d fetched %d times", h, n)
		}
		sk.mu.Lock()
		kept := sk.kept[h]
		sk.mu.Unlock()
		if w := 2 * kOf(h); len(kept) != min(cfg.Samples, w*w) {
			t.Errorf("height %d: %d samples kept", h, len(kept))
		}
	}
	mu.Lock()
	if len(progress) != 45 {
		t.Errorf("%d progress reports", len(progress))
	}
	mu.Unlock()
	if m := d.Metrics(); m.SamplesRejected != 0 || m.SamplesMissing != 0 || m.SamplesVerified == 0 {
		t.Errorf("metrics %+v", m)
	}
}

// withhold returns a serve function that never serves the (k+1)×(k+1)
// top-left cells of height h — more than a quarter of the square, so the
// block cannot be rebuilt.
func withhold(heights ...uint64) func(context.Context, uint64, int, sampling.Coord) (*erasure.Sample, bool) {
	return func(_ context.Context, h uint64, _ int, c sampling.Coord) (*erasure.Sample, bool) {
		if !slices.Contains(heights, h) {
			return nil, false
		}
		return nil, c.Row <= 8 && c.Col <= 8 // k = 8 in these tests
	}
}

// A producer that withholds more than a quarter of a block: it is never
// reported available, later heights still progress.
func TestWithholding(t *testing.T) {
	c := newChain(t, 20, func(uint64) int { return 8 })
	f := newFetcher(t, c)
	f.serve = withhold(7, 13)
	cfg := testConfig()
	cfg.MaxAttempts = 2 // one more round with fresh coordinates: still unavailable
	d := startDASer(t, cfg, Deps{Fetcher: f, Headers: c, Checkpoints: newMemStore()})
	waitCatchUp(t, d)
	eventually(t, "second rounds", func() bool {
		s, _ := d.SamplingStats(context.Background())
		return s.Failed[7] == 2 && s.Failed[13] == 2 && s.Concurrency == 0
	})
	for h := uint64(1); h <= 20; h++ {
		err := d.SharesAvailable(context.Background(), h)
		if h == 7 || h == 13 {
			if !errors.Is(err, ErrNotAvailable) {
				t.Fatalf("withheld height %d: %v", h, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("height %d: %v", h, err)
		}
	}
	s, _ := d.SamplingStats(context.Background())
	if s.SampledChainHead != 20 || !s.CatchUpDone {
		t.Fatalf("stats %+v", s)
	}
	if f.callsFor(7) < 2 {
		t.Fatalf("withheld height fetched %d times: coordinates are not retried", f.callsFor(7))
	}
	if m := d.Metrics(); m.SamplesMissing == 0 {
		t.Fatalf("metrics %+v", m)
	}
}

// A fetcher that returns bad samples: they are rejected (never kept,
// never counted); a coordinate served badly once and well on the retry
// still verifies; a height always served badly is unavailable.
func TestBadSamples(t *testing.T) {
	c := newChain(t, 12, func(uint64) int { return 4 })
	other := makeBlock(t, 1, 4, "another chain")
	f := newFetcher(t, c)
	f.serve = func(_ context.Context, h uint64, call int, co sampling.Coord) (*erasure.Sample, bool) {
		switch {
		case h == 5: // always the right cell of another square
			return other.sample(t, co), true
		case h == 9 && call == 1 && co.Row%2 == 0: // another cell, once
			return c.block(h).sample(t, sampling.Coord{Row: (co.Row + 1) % 8, Col: co.Col}), true
		case call == 1 && co.Col%2 == 0: // another square's cell, once
			return other.sample(t, co), true
		}
		return nil, false
	}
	var sk sink
	d := startDASer(t, testConfig(), Deps{Fetcher: f, Headers: c, Checkpoints: newMemStore(), Sink: &sk})
	waitCatchUp(t, d)
	for h := uint64(1); h <= 12; h++ {
		err := d.SharesAvailable(context.Background(), h)
		if h == 5 {
			if !errors.Is(err, ErrNotAvailable) {
				t.Fatalf("height 5: %v", err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("height %d: %v", h, err)
		}
	}
	if m := d.Metrics(); m.SamplesRejected == 0 {
		t.Fatalf("metrics %+v", m)
	}
	sk.mu.Lock()
	defer sk.mu.Unlock()
	if len(sk.kept[5]) != 0 {
		t.Fatalf("%d bad samples kept", len(sk.kept[5]))
	}
	for h, smps := range sk.kept {
		b := c.block(h)
		for _, s := range smps {
			if err := erasure.VerifySample(b.hdr.DataRoot[:], 8, s.Row(), s.Col(), s); err != nil {
				t.Fatalf("height %d: kept a sample that does not verify: %v", h, err)
			}
		}
	}
}

// A fetcher that stalls on the first request of every height (a peer
// that hangs) still lets sampling finish, after the request timeout.
func TestStallingFetcher(t *testing.T) {
	c := newChain(t, 6, func(uint64) int { return 4 })
	f := newFetcher(t, c)
	f.serve = func(ctx context.Context, _ uint64, call int, _ sampling.Coord) (*erasure.Sample, bool) {
		if call == 1 {
			<-ctx.Done()
			return nil, true
		}
		return nil, false
	}
	cfg := testConfig()
	cfg.RequestTimeout = 50 * time.Millisecond
	start := time.Now()
	d := startDASer(t, cfg, Deps{Fetcher: f, Headers: c, Checkpoints: newMemStore()})
	waitCatchUp(t, d)
	for h := uint64(1); h <= 6; h++ {
		if err := d.SharesAvailable(context.Background(), h); err != nil {
			t.Fatalf("height %d: %v", h, err)
		}
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Fatalf("took %v", el)
	}
}

// Headers the store does not have yet are looked up again later.
func TestLateHeaders(t *testing.T) {
	c := newChain(t, 8, func(uint64) int { return 2 })
	c.hidden[3] = 2
	c.hidden[5] = 1
	cfg := testConfig()
	cfg.Retries = 3
	d := startDASer(t, cfg, Deps{Fetcher: newFetcher(t, c), Headers: c, Checkpoints: newMemStore()})
	waitCatchUp(t, d)
	for h := uint64(1); h <= 8; h++ {
		if err := d.SharesAvailable(context.Background(), h); err != nil {
			t.Fatalf("height %d: %v", h, err)
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.lookups[3] < 3 {
		t.Fatalf("height 3 looked up %d times", c.lookups[3])
	}
}

// Kill and restart mid-catch-up: the restarted DASer resumes from its
// checkpoint and does not sample a finished height again.
func TestRestartResumes(t *testing.T) {
	c := newChain(t, 60, func(uint64) int { return 4 })
	st := newMemStore()
	f1 := newFetcher(t, c)
	var mu sync.Mutex
	served, stalled := 0, map[uint64]bool{}
	f1.serve = func(ctx context.Context, h uint64, call int, _ sampling.Coord) (*erasure.Sample, bool) {
		mu.Lock()
		served++
		stall := served > 20*16 // after 20 heights' samples, hang
		if stall {
			stalled[h] = true
		}
		mu.Unlock()
		if stall {
			<-ctx.Done()
			return nil, true
		}
		return nil, false
	}
	cfg := testConfig()
	cfg.RequestTimeout = time.Minute // nothing times out: the stall lasts until Stop
	d1, err := New(cfg, Deps{Fetcher: f1, Headers: c, Checkpoints: st, Rand: &detReader{}})
	if err != nil {
		t.Fatal(err)
	}
	if err := d1.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	eventually(t, "every catch-up worker stalled", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(stalled) == cfg.CatchUpWorkers
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := d1.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if err := d1.WaitCatchUp(ctx); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("WaitCatchUp after Stop: %v", err)
	}
	var doneBefore []uint64
	for h := uint64(1); h <= 60; h++ {
		if d1.SharesAvailable(context.Background(), h) == nil {
			doneBefore = append(doneBefore, h)
		}
	}
	if len(doneBefore) < 15 || len(doneBefore) > 30 {
		t.Fatalf("%d heights done before the restart: %v", len(doneBefore), doneBefore)
	}

	f2 := newFetcher(t, c)
	d2 := startDASer(t, cfg, Deps{Fetcher: f2, Headers: c, Checkpoints: st, Rand: &detReader{n: 1 << 30}})
	waitCatchUp(t, d2)
	for _, h := range doneBefore {
		if n := f2.callsFor(h); n != 0 {
			t.Errorf("height %d sampled again after the restart (%d calls)", h, n)
		}
	}
	for h := uint64(1); h <= 60; h++ {
		if err := d2.SharesAvailable(context.Background(), h); err != nil {
			t.Fatalf("height %d: %v", h, err)
		}
	}
	if got := len(f2.heights()); got != 60-len(doneBefore) {
		t.Errorf("%d heights sampled after the restart, want %d", got, 60-len(doneBefore))
	}
}

// A verified fraud proof: the height and every later one are unavailable,
// later heads are not sampled, and the verdict survives a restart.
func TestFraud(t *testing.T) {
	c := newChain(t, 12, func(uint64) int { return 2 })
	st := newMemStore()
	f := newFetcher(t, c)
	cfg := testConfig()
	d, err := New(cfg, Deps{Fetcher: f, Headers: c, Checkpoints: st, Rand: &detReader{}})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitCatchUp(t, d)
	d.MarkFraud(10)
	for _, h := range []uint64{10, 11, 12, 13} {
		if err := d.SharesAvailable(context.Background(), h); !errors.Is(err, ErrNotAvailable) || !errors.Is(err, ErrFraud) {
			t.Fatalf("height %d after fraud: %v", h, err)
		}
	}
	if err := d.SharesAvailable(context.Background(), 9); err != nil {
		t.Fatalf("height 9: %v", err)
	}
	b := makeBlock(t, 13, 2, "chain")
	c.add(b)
	d.OnHeader(b.hdr)
	time.Sleep(50 * time.Millisecond)
	if f.callsFor(13) != 0 {
		t.Fatal("a head after the fraudulent height was sampled")
	}
	if err := d.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	d2 := startDASer(t, cfg, Deps{Fetcher: f, Headers: c, Checkpoints: st})
	for _, h := range []uint64{10, 12} {
		if err := d2.SharesAvailable(context.Background(), h); !errors.Is(err, ErrFraud) {
			t.Fatalf("height %d after restart: %v", h, err)
		}
	}
	s, _ := d2.SamplingStats(context.Background())
	if s.SampledChainHead != 12 || s.Concurrency != 0 || !s.CatchUpDone {
		t.Fatalf("stats after restart %+v", s)
	}
}

// A fraud proof reported before Start is applied at Start.
func TestFraudBeforeStart(t *testing.T) {
	c := newChain(t, 5, func(uint64) int { return 2 })
	d, err := New(testConfig(), Deps{Fetcher: newFetcher(t, c), Headers: c, Checkpoints: newMemStore(), Rand: &detReader{}})
	if err != nil {
		t.Fatal(err)
	}
	d.MarkFraud(3)
	if err := d.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer d.Stop(context.Background())
	waitCatchUp(t, d)
	if err := d.SharesAvailable(context.Background(), 2); err != nil {
		t.Fatal(err)
	}
	if err := d.SharesAvailable(context.Background(), 4); !errors.Is(err, ErrFraud) {
		t.Fatal(err)
	}
}

// With a BatchPutter, each Ready's results and checkpoint are one write.
func TestBatchedPersistence(t *testing.T) {
	c := newChain(t, 30, func(uint64) int { return 2 })
	st := &batchStore{memStore: newMemStore()}
	d := startDASer(t, testConfig(), Deps{Fetcher: newFetcher(t, c), Headers: c, Checkpoints: st})
	waitCatchUp(t, d)
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.batches == 0 || st.batches > 30+5 {
		t.Fatalf("%d batches", st.batches)
	}
	b := st.kv[string(checkpointKey)]
	cp, err := sampling.ParseCheckpoint(b)
	if err != nil || cp.SampledHead != 30 {
		t.Fatalf("stored checkpoint %+v %v", cp, err)
	}
}

func TestCorruptCheckpoint(t *testing.T) {
	st := newMemStore()
	_ = st.Put(checkpointKey, []byte{9, 9, 9})
	c := newChain(t, 1, func(uint64) int { return 1 })
	d, _ := New(testConfig(), Deps{Fetcher: newFetcher(t, c), Headers: c, Checkpoints: st})
	if err := d.Start(context.Background()); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("started from a corrupt checkpoint: %v", err)
	}
	_ = st.Put(resultKey(4), []byte{1, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	if _, err := d.Result(context.Background(), 4); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("corrupt result read: %v", err)
	}
}

func TestSamplingStatsJSON(t *testing.T) {
	c := newChain(t, 3, func(uint64) int { return 8 })
	f := newFetcher(t, c)
	f.serve = withhold(2)
	d := startDASer(t, testConfig(), Deps{Fetcher: f, Headers: c, Checkpoints: newMemStore()})
	waitCatchUp(t, d)
	s, _ := d.SamplingStats(context.Background())
	b, _ := json.Marshal(s)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	want := []string{"catch_up_done", "concurrency", "failed", "head_of_catchup", "head_of_sampled_chain", "is_running", "network_head_height"}
	if !slices.Equal(keys, want) {
		t.Fatalf("keys %v, want %v (%s)", keys, want, b)
	}
	if f, _ := m["failed"].(map[string]any); f["2"] != float64(1) {
		t.Fatalf("failed %s", b)
	}
	w, _ := json.Marshal(WorkerStats{JobType: "catchup", Curr: 5, From: 5, To: 5})
	if string(w) != `{"job_type":"catchup","current":5,"from":5,"to":5}` {
		t.Fatalf("worker %s", w)
	}
}

func TestConfig(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatal(err)
	}
	c := DefaultConfig()
	c.Samples, c.Confidence = 0, 0.9999
	p, err := c.params()
	if err != nil || p.Samples != 33 {
		t.Fatalf("from confidence: %+v %v", p, err)
	}
	for name, mod := range map[string]func(*Config){
		"no tick":            func(c *Config) { c.Tick = 0 },
		"timeout < tick":     func(c *Config) { c.RequestTimeout = c.Tick / 2 },
		"negative backoff":   func(c *Config) { c.RetryBackoff = -1 },
		"no confidence":      func(c *Config) { c.Samples = 0 },
		"confidence 1":       func(c *Config) { c.Samples, c.Confidence = 0, 1 },
		"catch-up = all":     func(c *Config) { c.CatchUpWorkers = c.MaxInFlight },
		"no window":          func(c *Config) { c.Window = 0 },
		"huge timeout":       func(c *Config) { c.Tick, c.RequestTimeout = time.Nanosecond, time.Hour },
		"negative samples":   func(c *Config) { c.Samples = -1 },
		"retry no backoff":   func(c *Config) { c.MaxAttempts, c.RetryBackoff = 2, 0 },
		"negative retries":   func(c *Config) { c.Retries = -1 },
		"too many in flight": func(c *Config) { c.MaxInFlight = sampling.MaxInFlight + 1 },
	} {
		c := DefaultConfig()
		mod(&c)
		if err := c.Validate(); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%s: accepted (%v)", name, err)
		}
		if _, err := New(c, Deps{}); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%s: New accepted", name)
		}
	}
	if _, err := New(DefaultConfig(), Deps{}); !errors.Is(err, ErrInvalidConfig) {
		t.Error("missing deps accepted")
	}
	if got := WindowHeights(30*24*time.Hour, time.Second); got != DefaultWindow {
		t.Errorf("WindowHeights = %d", got)
	}
	if got := WindowHeights(time.Hour, 7*time.Second); got != 515 {
		t.Errorf("WindowHeights rounds: %d", got)
	}
}

func TestRecordEncoding(t *testing.T) {
	for _, r := range []Record{
		{Height: 1, Available: true, Confidence: 0.99, Sampled: 16},
		{Height: 2, Sampled: 3},
		{Height: 3, Fraud: true},
		{Height: 4, Available: true, Confidence: 1, Sampled: 4},
	} {
		back, err := parseRecord(r.Height, r.marshal())
		if err != nil || back != r {
			t.Errorf("%+v: %+v %v", r, back, err)
		}
	}
	for _, b := range [][]byte{
		nil, {2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1},
		Record{Available: true, Fraud: true, Confidence: 0.5, Sampled: 1}.marshal(),
		Record{Confidence: 0.5}.marshal(),
		Record{Available: true, Confidence: math.NaN(), Sampled: 1}.marshal(),
		Record{Available: true, Confidence: 2, Sampled: 1}.marshal(),
	} {
		if _, err := parseRecord(1, b); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%x accepted", b)
		}
	}
}

func FuzzParseRecord(f *testing.F) {
	f.Add(Record{Available: true, Confidence: 0.99, Sampled: 16}.marshal())
	f.Add(Record{Sampled: 3}.marshal())
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := parseRecord(7, b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v", err)
			}
			return
		}
		if r.Available && (r.Sampled == 0 || r.Fraud) || !r.Available && r.Confidence != 0 {
			t.Fatalf("inconsistent record accepted: %+v", r)
		}
		if again, _ := parseRecord(7, r.marshal()); again != r {
			t.Fatalf("round trip %+v → %+v", r, again)
		}
	})
}
