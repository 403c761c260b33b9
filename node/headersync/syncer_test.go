package headersync

import (
	"context"
	"crypto/ed25519"
	"errors"
	"testing"
	"time"

	"github.com/tessera-da/tessera/node/header"
)

func TestSyncParamsValidate(t *testing.T) {
	base := func() SyncParams { return syncParams(newMemStore(), &fakeFetcher{}, nil, nil) }
	tests := []struct {
		name   string
		change func(*SyncParams)
	}{
		{"no chain", func(p *SyncParams) { p.ChainID = "" }},
		{"no producers", func(p *SyncParams) { p.Producers = nil }},
		{"short producer", func(p *SyncParams) { p.Producers = append(p.Producers[:0:0], p.Producers[0][:5]) }},
		{"height without hash", func(p *SyncParams) { p.TrustedHeight = 5 }},
		{"hash without height", func(p *SyncParams) { p.TrustedHash[0] = 1 }},
		{"no store", func(p *SyncParams) { p.Store = nil }},
		{"no fetcher", func(p *SyncParams) { p.Fetcher = nil }},
		{"zero batch", func(p *SyncParams) { p.BatchSize = 0 }},
		{"huge batch", func(p *SyncParams) { p.BatchSize = MaxBatchSize + 1 }},
		{"fetch timeout", func(p *SyncParams) { p.FetchTimeout = 0 }},
		{"poll", func(p *SyncParams) { p.PollInterval = 0 }},
	}
	p := base()
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := base()
			tc.change(&p)
			if _, err := NewSyncer(p); !errors.Is(err, ErrInvalidParams) {
				t.Fatalf("got %v, want ErrInvalidParams", err)
			}
		})
	}
}

// TestSyncFromGenesisByRanges syncs 700 headers by ranges alone (no
// gossip) in bounded batches, in order, then picks up new ones by polling.
func TestSyncFromGenesisByRanges(t *testing.T) {
	chain := makeChain(800)
	f := &fakeFetcher{chain: chain, avail: 700}
	rec := newRecorder()
	s, err := NewSyncer(syncParams(newMemStore(), f, nil, rec))
	if err != nil {
		t.Fatal(err)
	}
	runSyncer(t, s)
	rec.waitHeight(t, 700, 10*time.Second)
	f.setAvail(800)
	rec.waitHeight(t, 800, 10*time.Second)
	got := rec.headers()
	if len(got) != 800 {
		t.Fatalf("emitted %d headers, want 800", len(got))
	}
	checkChain(t, got, chain, 1)
	if st := s.State(); st.Head != 800 || !st.Synced() {
		t.Fatalf("state %+v", st)
	}
	if s.Head().Hash() != chain[799].Hash() {
		t.Fatal("Head differs from the last header")
	}
}

// TestForgedRangesRejected: a fetcher that forges one header of a range
// (bad signature, wrong chain, unknown producer, gap, fork, wrong genesis,
// extra headers) gets only the verified prefix accepted; the forged header
// is never stored or emitted and sync completes once honest ranges arrive.
func TestForgedRangesRejected(t *testing.T) {
	chain := makeChain(40)
	other := testKey(9)
	tests := []struct {
		name  string
		forge func(from, to uint64, hs []*header.Header) []*header.Header
	}{
		{"bad signature", func(_, _ uint64, hs []*header.Header) []*header.Header {
			c := *hs[len(hs)/2]
			c.DataRoot[0] ^= 0xff
			hs[len(hs)/2] = &c
			return hs
		}},
		{"wrong chain", func(_, _ uint64, hs []*header.Header) []*header.Header {
			hs[len(hs)/2] = resign(hs[len(hs)/2], producerKey, func(h *header.Header) { h.ChainID = "other" })
			return hs
		}},
		{"unknown producer", func(_, _ uint64, hs []*header.Header) []*header.Header {
			hs[len(hs)/2] = resign(hs[len(hs)/2], other, func(*header.Header) {})
			return hs
		}},
		{"gap", func(_, _ uint64, hs []*header.Header) []*header.Header {
			i := len(hs) / 2
			return append(hs[:i], hs[i+1:]...)
		}},
		{"fork", func(_, _ uint64, hs []*header.Header) []*header.Header {
			hs[len(hs)/2] = resign(hs[len(hs)/2], producerKey, func(h *header.Header) { h.PrevHash[5] ^= 1 })
			return hs
		}},
		{"time backwards", func(_, _ uint64, hs []*header.Header) []*header.Header {
			i := len(hs) / 2
			hs[i] = resign(hs[i], producerKey, func(h *header.Header) { h.Time = h.Time.Add(-time.Hour) })
			return hs
		}},
		{"genesis with previous hash", func(from, _ uint64, hs []*header.Header) []*header.Header {
			if from == 1 {
				hs[0] = resign(hs[0], producerKey, func(h *header.Header) { h.PrevHash[0] = 1 })
			}
			return hs
		}},
		{"too many", func(from, to uint64, hs []*header.Header) []*header.Header {
			return append(hs, hs[len(hs)-1])
		}},
		{"nil header", func(_, _ uint64, hs []*header.Header) []*header.Header {
			hs[len(hs)/2] = nil
			return hs
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeFetcher{chain: chain, avail: 40, forge: tc.forge, forging: 3}
			rec := newRecorder()
			store := newMemStore()
			p := syncParams(store, f, nil, rec)
			p.BatchSize = 16
			s, err := NewSyncer(p)
			if err != nil {
				t.Fatal(err)
			}
			runSyncer(t, s)
			rec.waitHeight(t, 40, 15*time.Second)
			got := rec.headers()
			if len(got) != 40 {
				t.Fatalf("emitted %d headers, want 40", len(got))
			}
			checkChain(t, got, chain, 1) // every emitted header is the honest one
			for ht := uint64(1); ht <= 40; ht++ {
				h, err := store.HeaderByHeight(ht)
				if err != nil || h.Hash() != chain[ht-1].Hash() {
					t.Fatalf("stored header %d is not the honest one (%v)", ht, err)
				}
			}
			f.mu.Lock()
			forged := f.forging
			f.mu.Unlock()
			if forged == 3 {
				t.Fatal("the forger was never asked")
			}
		})
	}
}

// TestRestartResumes stops a syncer, then starts a new one on the same
// store: it resumes after the stored head with no gap and no repeat.
func TestRestartResumes(t *testing.T) {
	chain := makeChain(120)
	store := newMemStore()
	f := &fakeFetcher{chain: chain, avail: 50}
	rec1 := newRecorder()
	s1, err := NewSyncer(syncParams(store, f, nil, rec1))
	if err != nil {
		t.Fatal(err)
	}
	stop := runSyncer(t, s1)
	rec1.waitHeight(t, 50, 10*time.Second)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	f.setAvail(120)
	rec2 := newRecorder()
	s2, err := NewSyncer(syncParams(store, f, nil, rec2))
	if err != nil {
		t.Fatal(err)
	}
	if h := s2.Head(); h != nil {
		t.Fatalf("head before Run: %d", h.Height)
	}
	runSyncer(t, s2)
	rec2.waitHeight(t, 120, 10*time.Second)
	got := rec2.headers()
	if len(got) != 70 || got[0].Height != 51 {
		t.Fatalf("second run emitted %d headers from %d, want 70 from 51", len(got), got[0].Height)
	}
	checkChain(t, got, chain, 51)
	checkChain(t, rec1.headers(), chain, 1)
}

// TestRestartChecksStore: a stored chain that contradicts the trusted hash
// or the genesis keys stops Run with an error.
func TestRestartChecksStore(t *testing.T) {
	chain := makeChain(10)
	store := newMemStore()
	for _, h := range chain {
		if err := store.PutHeader(h); err != nil {
			t.Fatal(err)
		}
	}
	p := syncParams(store, &fakeFetcher{chain: chain, avail: 10}, nil, nil)
	p.TrustedHeight, p.TrustedHash = 5, chain[5].Hash() // the hash of height 6
	s, err := NewSyncer(p)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Run(ctx); !errors.Is(err, ErrUntrusted) {
		t.Fatalf("Run with a contradicting trusted hash: %v", err)
	}
	p = syncParams(store, &fakeFetcher{}, nil, nil)
	p.Producers = []ed25519.PublicKey{testKey(9).Public().(ed25519.PublicKey)}
	s, err = NewSyncer(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Run(ctx); !errors.Is(err, header.ErrInvalidSignature) {
		t.Fatalf("Run over a store from other producers: %v", err)
	}
}

// TestTrustedStart starts an empty store from a trusted header hash: the
// chain begins there; a fetcher offering a different header at that height
// gets nothing accepted.
func TestTrustedStart(t *testing.T) {
	chain := makeChain(300)
	f := &fakeFetcher{chain: chain, avail: 300}
	rec := newRecorder()
	p := syncParams(newMemStore(), f, nil, rec)
	p.TrustedHeight, p.TrustedHash = 200, chain[199].Hash()
	s, err := NewSyncer(p)
	if err != nil {
		t.Fatal(err)
	}
	runSyncer(t, s)
	rec.waitHeight(t, 300, 10*time.Second)
	got := rec.headers()
	if len(got) != 101 {
		t.Fatalf("emitted %d headers, want 101 (200..300)", len(got))
	}
	checkChain(t, got, chain, 200)

	// A network whose header 200 is not the trusted one.
	rec2 := newRecorder()
	p = syncParams(newMemStore(), f, nil, rec2)
	p.TrustedHeight, p.TrustedHash = 200, chain[198].Hash()
	s2, err := NewSyncer(p)
	if err != nil {
		t.Fatal(err)
	}
	runSyncer(t, s2)
	time.Sleep(500 * time.Millisecond)
	if n := len(rec2.headers()); n != 0 || s2.Head() != nil {
		t.Fatalf("emitted %d headers from an untrusted start", n)
	}
}

// TestOnHeaderRetries: a failing OnHeader is called again with the same
// header; nothing after it is emitted until it succeeds.
func TestOnHeaderRetries(t *testing.T) {
	chain := makeChain(5)
	fails := 2
	var seen []uint64
	p := syncParams(newMemStore(), &fakeFetcher{chain: chain, avail: 5}, nil, nil)
	done := make(chan struct{})
	p.OnHeader = func(h *header.Header) error {
		seen = append(seen, h.Height)
		if h.Height == 3 && fails > 0 {
			fails--
			return errors.New("busy")
		}
		if h.Height == 5 {
			close(done)
		}
		return nil
	}
	s, err := NewSyncer(p)
	if err != nil {
		t.Fatal(err)
	}
	stop := runSyncer(t, s)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("not all headers emitted")
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	want := []uint64{1, 2, 3, 3, 3, 4, 5}
	if len(seen) != len(want) {
		t.Fatalf("OnHeader saw %v, want %v", seen, want)
	}
	for i := range want {
		if seen[i] != want[i] {
			t.Fatalf("OnHeader saw %v, want %v", seen, want)
		}
	}
}

// TestStoreFailureStops: a store write failure ends Run with the error.
func TestStoreFailureStops(t *testing.T) {
	store := newMemStore()
	store.fail = errors.New("disk full")
	s, err := NewSyncer(syncParams(store, &fakeFetcher{chain: makeChain(3), avail: 3}, nil, nil))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Run(ctx); err == nil || ctx.Err() != nil {
		t.Fatalf("Run: %v", err)
	}
}

// BenchmarkSyncRange measures catch-up: ranges of 256 headers verified,
// stored in memory and emitted.
func BenchmarkSyncRange(b *testing.B) {
	chain := makeChain(4096)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		rec := newRecorder()
		f := &fakeFetcher{chain: chain, avail: uint64(len(chain))}
		p := syncParams(newMemStore(), f, nil, rec)
		s, err := NewSyncer(p)
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- s.Run(ctx) }()
		for s.State().Head < uint64(len(chain)) {
			time.Sleep(time.Millisecond)
		}
		cancel()
		<-done
	}
	b.ReportMetric(float64(len(chain)*b.N)/b.Elapsed().Seconds(), "headers/s")
}
