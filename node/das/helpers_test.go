package das

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tessera-da/tessera/erasure"
	"github.com/tessera-da/tessera/node/header"
	"github.com/tessera-da/tessera/sampling"
)

// detReader is a deterministic stand-in for crypto/rand.
type detReader struct {
	mu sync.Mutex
	n  uint64
}

func (r *detReader) Read(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := 0; i < len(p); {
		r.n++
		h := sha256.Sum256(binary.BigEndian.AppendUint64(nil, r.n))
		i += copy(p[i:], h[:])
	}
	return len(p), nil
}

// block is one height's extended square.
type block struct {
	hdr *header.Header
	eds *erasure.ExtendedSquare
	dah *erasure.DAH

	mu      sync.Mutex
	samples map[sampling.Coord]*erasure.Sample
}

func (b *block) sample(t testing.TB, c sampling.Coord) *erasure.Sample {
	b.mu.Lock()
	defer b.mu.Unlock()
	if s := b.samples[c]; s != nil {
		return s
	}
	e, _ := erasure.NewExtender(erasure.Params{Workers: 1}, nil)
	s, err := e.ProveSample(b.eds, b.dah, c.Row, c.Col, erasure.Row)
	if err != nil {
		t.Errorf("prove %v: %v", c, err)
		return nil
	}
	b.samples[c] = s
	return s
}

// makeBlock extends a k×k square of one namespace whose data depends on
// seed.
func makeBlock(t testing.TB, height uint64, k int, seed string) *block {
	t.Helper()
	ods := make([][]byte, k*k)
	for i := range ods {
		sh := make([]byte, erasure.ShareSize)
		sh[erasure.NamespaceSize-1] = 1
		x := sha256.Sum256(fmt.Appendf(nil, "%s/%d/%d", seed, height, i))
		copy(sh[erasure.NamespaceSize:], x[:])
		ods[i] = sh
	}
	e, err := erasure.NewExtender(erasure.DefaultParams(), nil)
	if err != nil {
		t.Fatal(err)
	}
	eds, err := e.Extend(ods)
	if err != nil {
		t.Fatal(err)
	}
	dah, err := e.ComputeDAH(eds)
	if err != nil {
		t.Fatal(err)
	}
	h := &header.Header{ChainID: "test", Height: height, Time: time.Unix(int64(height), 0).UTC(), SquareWidth: uint32(k)}
	copy(h.DataRoot[:], dah.Hash())
	return &block{hdr: h, eds: eds, dah: dah, samples: map[sampling.Coord]*erasure.Sample{}}
}

// chain is a fake header store over a set of blocks.
type chain struct {
	mu      sync.Mutex
	blocks  map[uint64]*block
	head    uint64
	hidden  map[uint64]int // height → look-ups to fail before answering
	lookups map[uint64]int
}

func newChain(t testing.TB, n int, k func(h uint64) int) *chain {
	c := &chain{blocks: map[uint64]*block{}, hidden: map[uint64]int{}, lookups: map[uint64]int{}}
	for h := uint64(1); h <= uint64(n); h++ {
		c.add(makeBlock(t, h, k(h), "chain"))
	}
	return c
}

func (c *chain) add(b *block) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.blocks[b.hdr.Height] = b
	c.head = max(c.head, b.hdr.Height)
}

func (c *chain) block(h uint64) *block {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.blocks[h]
}

func (c *chain) Head(context.Context) (*header.Header, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.head == 0 {
		return nil, errors.New("empty")
	}
	return c.blocks[c.head].hdr, nil
}

func (c *chain) GetByHeight(_ context.Context, h uint64) (*header.Header, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lookups[h]++
	if c.hidden[h] > 0 {
		c.hidden[h]--
		return nil, errors.New("not synced yet")
	}
	b := c.blocks[h]
	if b == nil {
		return nil, errors.New("no such height")
	}
	return b.hdr, nil
}

// fetcher serves samples of a chain; serve decides per call and
// coordinate what to return (nil: honest).
type fetcher struct {
	t     testing.TB
	c     *chain
	mu    sync.Mutex
	calls map[uint64]int // SampleFromAny calls by height
	serve func(ctx context.Context, h uint64, call int, c sampling.Coord) (*erasure.Sample, bool)
}

func newFetcher(t testing.TB, c *chain) *fetcher {
	return &fetcher{t: t, c: c, calls: map[uint64]int{}}
}

func (f *fetcher) SampleFromAny(ctx context.Context, hdr *header.Header, coords []sampling.Coord) (map[sampling.Coord]*erasure.Sample, error) {
	f.mu.Lock()
	f.calls[hdr.Height]++
	call := f.calls[hdr.Height]
	serve := f.serve
	f.mu.Unlock()
	b := f.c.block(hdr.Height)
	out := map[sampling.Coord]*erasure.Sample{}
	for _, c := range coords {
		if serve != nil {
			if s, handled := serve(ctx, hdr.Height, call, c); handled {
				if s != nil {
					out[c] = s
				}
				continue
			}
		}
		out[c] = b.sample(f.t, c)
	}
	if err := ctx.Err(); err != nil {
		return out, err
	}
	return out, nil
}

func (f *fetcher) callsFor(h uint64) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[h]
}

func (f *fetcher) heights() []uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Sorted(maps.Keys(f.calls))
}

// memStore is an in-memory Checkpoints.
type memStore struct {
	mu   sync.Mutex
	kv   map[string][]byte
	puts int
}

func newMemStore() *memStore { return &memStore{kv: map[string][]byte{}} }

func (s *memStore) Get(key []byte) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.kv[string(key)]), nil
}

func (s *memStore) Put(key, value []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.puts++
	s.kv[string(key)] = slices.Clone(value)
	return nil
}

// batchStore also implements BatchPutter.
type batchStore struct {
	*memStore
	batches int
}

func (s *batchStore) PutBatch(keys, values [][]byte) error {
	s.mu.Lock()
	s.batches++
	s.mu.Unlock()
	for i := range keys {
		_ = s.memStore.Put(keys[i], values[i])
	}
	return nil
}

// sink records kept samples.
type sink struct {
	mu   sync.Mutex
	kept map[uint64][]*erasure.Sample
}

func (s *sink) Keep(h uint64, smp *erasure.Sample) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.kept == nil {
		s.kept = map[uint64][]*erasure.Sample{}
	}
	s.kept[h] = append(s.kept[h], smp)
}

func testConfig() Config {
	c := DefaultConfig()
	c.Tick = 5 * time.Millisecond
	c.RequestTimeout = 200 * time.Millisecond
	c.RetryBackoff = 50 * time.Millisecond
	c.MaxAttempts = 1
	c.MaxInFlight = 6
	c.CatchUpWorkers = 4
	return c
}

func startDASer(t *testing.T, cfg Config, deps Deps) *DASer {
	t.Helper()
	if deps.Rand == nil {
		deps.Rand = &detReader{}
	}
	d, err := New(cfg, deps)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := d.Stop(ctx); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
	return d
}

func waitCatchUp(t *testing.T, d *DASer) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := d.WaitCatchUp(ctx); err != nil {
		s, _ := d.SamplingStats(context.Background())
		t.Fatalf("WaitCatchUp: %v; stats %+v", err, s)
	}
}

// eventually polls cond for up to 10 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}
