package das

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tessera-da/tessera/erasure"
	"github.com/tessera-da/tessera/node/header"
	"github.com/tessera-da/tessera/sampling"
)

// Errors. Every error the DASer returns wraps one of them (or a
// dependency's error, or a context error).
var (
	ErrInvalidConfig = errors.New("das: invalid config")
	// ErrNotAvailable: sampling found the height's data unavailable, or a
	// fraud proof covers it.
	ErrNotAvailable = errors.New("das: data not available")
	// ErrFraud is wrapped, beside ErrNotAvailable, for heights at or after
	// a height with a verified fraud proof.
	ErrFraud = errors.New("das: fraud proven")
	// ErrNotSampled: the height has no verdict (being sampled, above the
	// head, or outside the sampling window).
	ErrNotSampled = errors.New("das: height not sampled")
	// ErrNotRunning reports a call that needs a started DASer.
	ErrNotRunning = errors.New("das: not running")
	// ErrCorrupt reports a stored checkpoint or result that fails to parse.
	ErrCorrupt = errors.New("das: corrupt stored state")
	// ErrNotServed is the failure recorded for a coordinate the fetcher
	// returned no sample for, without an error of its own.
	ErrNotServed = errors.New("das: sample not served")
)

// Fetcher fetches samples from full peers (the node adapts
// exchange.Client.SampleFromAny and its peer pool to it). It returns what
// it got, keyed by coordinate; missing coordinates are failures. The
// DASer verifies every sample itself, so the fetcher need not be trusted.
type Fetcher interface {
	SampleFromAny(ctx context.Context, hdr *header.Header, coords []sampling.Coord) (map[sampling.Coord]*erasure.Sample, error)
}

// Headers looks up verified headers (the node's header store). Head may
// fail on an empty store; GetByHeight fails for a height not synced yet,
// and is asked again later.
type Headers interface {
	Head(ctx context.Context) (*header.Header, error)
	GetByHeight(ctx context.Context, height uint64) (*header.Header, error)
}

// Checkpoints persists the DASer's checkpoint and per-height results as
// small key/value records (the node adapts store.PutRecord/GetRecord with
// a bucket of its choice). Get returns (nil, nil) for a missing key. Each
// Put must be durable when it returns.
type Checkpoints interface {
	Get(key []byte) ([]byte, error)
	Put(key, value []byte) error
}

// BatchPutter may be implemented by a Checkpoints to write several
// records in one transaction (one fsync): the DASer then writes each
// batch of results and the checkpoint that covers them with one call.
type BatchPutter interface {
	PutBatch(keys, values [][]byte) error
}

// SampleSink keeps samples the DASer verified, so that the light node can
// serve them to others (a network can rebuild a block from its light
// nodes). Keep is called from several goroutines at once and must not
// block for long.
type SampleSink interface {
	Keep(height uint64, s *erasure.Sample)
}

// Deps are the DASer's collaborators. Fetcher, Headers and Checkpoints are
// required.
type Deps struct {
	Fetcher     Fetcher
	Headers     Headers
	Checkpoints Checkpoints
	// Sink, if set, receives every verified sample.
	Sink SampleSink
	// Rand is the source of sampling coordinates; nil means
	// crypto/rand.Reader. It must be unpredictable to peers.
	Rand io.Reader
	// Progress, if set, is called with each height's verdict once it is
	// stored, from the DASer's goroutine; it must not block for long.
	Progress func(Record)
	// Log, if set, receives warnings (storage failures) and debug lines.
	Log *slog.Logger
}

// Metrics are running totals since Start.
type Metrics struct {
	SamplesVerified uint64 // samples that passed erasure.VerifySample
	SamplesRejected uint64 // samples that failed it
	SamplesMissing  uint64 // coordinates the fetcher returned nothing for
	Requests        uint64 // SampleFromAny calls
}

// DASer samples every header of the sampling window on a light node: it
// drives a sampling.Machine with headers, fetched and verified samples and
// clock ticks, stores its verdicts and checkpoint, and answers the das.*
// and share.SharesAvailable API. Its methods are safe for concurrent use.
type DASer struct {
	cfg    Config
	params sampling.Params
	deps   Deps
	log    *slog.Logger

	mu        sync.Mutex
	m         *sampling.Machine
	hdrs      map[uint64]*header.Header // headers of heights being sampled
	running   bool
	fraud     uint64            // lowest fraudulent height reported before Start
	unsaved   map[uint64]Record // verdicts not stored yet
	pendingCP *sampling.Checkpoint
	waiters   []chan struct{}
	errLogged bool // the machine's Err was logged
	cancel    context.CancelFunc
	loopDone  chan struct{}

	lifecycle sync.Mutex // serialises Start and Stop
	persistMu sync.Mutex // serialises writes; taken before mu
	kick      chan struct{}
	wg        sync.WaitGroup // fetch and header goroutines

	verified, rejected, missing, requests atomic.Uint64
}

// New checks cfg and deps and returns a DASer that is not running yet.
func New(cfg Config, deps Deps) (*DASer, error) {
	p, err := cfg.params()
	if err != nil {
		return nil, err
	}
	if deps.Fetcher == nil || deps.Headers == nil || deps.Checkpoints == nil {
		return nil, fmt.Errorf("%w: Fetcher, Headers and Checkpoints are required", ErrInvalidConfig)
	}
	if deps.Rand == nil {
		deps.Rand = rand.Reader
	}
	log := deps.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &DASer{
		cfg: cfg, params: p, deps: deps, log: log,
		hdrs:    map[uint64]*header.Header{},
		unsaved: map[uint64]Record{},
		kick:    make(chan struct{}, 1),
	}, nil
}

// Start loads the checkpoint, learns the head from Headers.Head (when the
// store has one) and starts sampling in the background. ctx bounds only
// the start-up. A stored checkpoint that does not parse is an error
// (wrapping ErrCorrupt): starting afresh could forget a fraud verdict.
func (d *DASer) Start(ctx context.Context) error {
	d.lifecycle.Lock()
	defer d.lifecycle.Unlock()
	d.mu.Lock()
	if d.running {
		d.mu.Unlock()
		return fmt.Errorf("das: already running")
	}
	d.mu.Unlock()
	var cp *sampling.Checkpoint
	b, err := d.deps.Checkpoints.Get(checkpointKey)
	if err != nil {
		return fmt.Errorf("das: loading the checkpoint: %w", err)
	}
	if b != nil {
		if cp, err = sampling.ParseCheckpoint(b); err != nil {
			return fmt.Errorf("%w: %w", ErrCorrupt, err)
		}
	}
	m, err := sampling.NewMachine(d.params, d.deps.Rand, cp)
	if err != nil {
		return err
	}
	hctx, cancelHead := context.WithTimeout(ctx, d.cfg.RequestTimeout)
	head, headErr := d.deps.Headers.Head(hctx)
	cancelHead()

	runCtx, cancel := context.WithCancel(context.Background())
	d.mu.Lock()
	d.m, d.running, d.cancel, d.loopDone = m, true, cancel, make(chan struct{})
	d.hdrs = map[uint64]*header.Header{}
	if d.fraud != 0 {
		m.MarkFraud(d.fraud)
	}
	if headErr == nil && head != nil {
		d.addHeaderLocked(head)
	} else if headErr != nil {
		d.log.Debug("das: no head yet", "err", headErr)
	}
	done := d.loopDone
	d.mu.Unlock()
	d.verified.Store(0)
	d.rejected.Store(0)
	d.missing.Store(0)
	d.requests.Store(0)
	go d.loop(runCtx, done)
	return nil
}

// Stop stops sampling, waits for outstanding fetches (bounded by ctx) and
// stores the verdicts and a final checkpoint. Heights being sampled are
// sampled again after the next Start.
func (d *DASer) Stop(ctx context.Context) error {
	d.lifecycle.Lock()
	defer d.lifecycle.Unlock()
	d.mu.Lock()
	if !d.running {
		d.mu.Unlock()
		return nil
	}
	d.running = false
	cancel, done := d.cancel, d.loopDone
	d.mu.Unlock()
	cancel()
	waited := make(chan struct{})
	go func() {
		<-done
		d.wg.Wait()
		close(waited)
	}()
	select {
	case <-waited:
	case <-ctx.Done():
		return ctx.Err()
	}
	d.mu.Lock()
	rd := d.m.Ready()
	d.m.Advance()
	for _, r := range rd.Done {
		d.unsaved[r.Height] = recordOf(r)
	}
	d.pendingCP = d.m.Checkpoint()
	d.mu.Unlock()
	return d.persist()
}

// OnHeader gives the DASer a new verified header (from header sync or
// gossip). It never blocks on I/O. Headers must have been verified
// (signature, chain) by the caller.
func (d *DASer) OnHeader(h *header.Header) {
	if h == nil {
		return
	}
	d.mu.Lock()
	if d.running {
		d.addHeaderLocked(h)
	}
	d.mu.Unlock()
	d.wake()
}

// MarkFraud records a verified fraud proof for height: it and every later
// height are reported unavailable from now on, and after restarts.
func (d *DASer) MarkFraud(height uint64) {
	if height == 0 {
		return
	}
	d.mu.Lock()
	if d.fraud == 0 || height < d.fraud {
		d.fraud = height
	}
	if d.m != nil {
		d.m.MarkFraud(height)
	}
	d.mu.Unlock()
	d.wake()
}

// addHeaderLocked passes h to the machine; d.mu is held.
func (d *DASer) addHeaderLocked(h *header.Header) {
	sh := sampling.Header{Height: h.Height, DataRoot: h.DataRoot, K: int(h.SquareWidth)}
	if err := d.m.AddHeader(sh); err != nil {
		d.log.Warn("das: header refused", "height", h.Height, "err", err)
		return
	}
	if d.m.InFlight(h.Height) || h.Height == d.m.NetworkHead() {
		d.hdrs[h.Height] = h
	}
	if len(d.hdrs) > 2*d.params.MaxInFlight+8 {
		for ht := range d.hdrs {
			if !d.m.InFlight(ht) && ht != d.m.NetworkHead() {
				delete(d.hdrs, ht)
			}
		}
	}
}

func (d *DASer) wake() {
	select {
	case d.kick <- struct{}{}:
	default:
	}
}

// loop turns clock ticks into machine ticks and handles Ready batches.
func (d *DASer) loop(ctx context.Context, done chan struct{}) {
	defer close(done)
	t := time.NewTicker(d.cfg.Tick)
	defer t.Stop()
	for {
		d.process(ctx)
		select {
		case <-ctx.Done():
			return
		case <-d.kick:
		case <-t.C:
			d.mu.Lock()
			d.m.Tick()
			d.mu.Unlock()
		}
	}
}

// process handles one Ready: it starts the fetches and header look-ups it
// asks for, stores its verdicts and then its checkpoint, reports progress
// and wakes WaitCatchUp callers.
func (d *DASer) process(ctx context.Context) {
	d.mu.Lock()
	if !d.m.HasReady() {
		d.mu.Unlock()
		d.notify()
		return
	}
	rd := d.m.Ready()
	d.m.Advance()
	hdrs := make([]*header.Header, len(rd.Requests))
	for i, r := range rd.Requests {
		hdrs[i] = d.hdrs[r.Height]
	}
	for _, r := range rd.Done {
		d.unsaved[r.Height] = recordOf(r)
		delete(d.hdrs, r.Height)
	}
	if rd.Checkpoint != nil {
		d.pendingCP = rd.Checkpoint
	}
	if err := d.m.Err(); err != nil && !d.errLogged {
		d.errLogged = true
		d.log.Error("das: sampling stopped", "err", err)
	}
	d.mu.Unlock()

	for i, r := range rd.Requests {
		d.wg.Add(1)
		go d.fetch(ctx, r, hdrs[i])
	}
	for _, h := range rd.Headers {
		d.wg.Add(1)
		go d.loadHeader(ctx, h)
	}
	if err := d.persist(); err != nil {
		d.log.Warn("das: storing results", "err", err)
	}
	if d.deps.Progress != nil {
		for _, r := range rd.Done {
			d.deps.Progress(recordOf(r))
		}
	}
	d.notify()
}

// persist writes the unsaved verdicts, then the pending checkpoint.
func (d *DASer) persist() error {
	d.persistMu.Lock()
	defer d.persistMu.Unlock()
	d.mu.Lock()
	recs := make([]Record, 0, len(d.unsaved))
	for _, r := range d.unsaved {
		recs = append(recs, r)
	}
	cp := d.pendingCP
	d.mu.Unlock()
	if len(recs) == 0 && cp == nil {
		return nil
	}
	slices.SortFunc(recs, func(a, b Record) int { return cmpUint(a.Height, b.Height) })
	keys := make([][]byte, 0, len(recs)+1)
	vals := make([][]byte, 0, len(recs)+1)
	for _, r := range recs {
		keys = append(keys, resultKey(r.Height))
		vals = append(vals, r.marshal())
	}
	if cp != nil {
		b, err := cp.MarshalBinary()
		if err != nil {
			return err
		}
		keys = append(keys, checkpointKey)
		vals = append(vals, b)
	}
	if bp, ok := d.deps.Checkpoints.(BatchPutter); ok {
		if err := bp.PutBatch(keys, vals); err != nil {
			return err
		}
	} else {
		for i := range keys {
			if err := d.deps.Checkpoints.Put(keys[i], vals[i]); err != nil {
				return err // the checkpoint is never written before its results
			}
		}
	}
	d.mu.Lock()
	for _, r := range recs {
		if d.unsaved[r.Height] == r {
			delete(d.unsaved, r.Height)
		}
	}
	if d.pendingCP == cp {
		d.pendingCP = nil
	}
	d.mu.Unlock()
	return nil
}

func cmpUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// notify wakes WaitCatchUp callers once catch-up is done and stored.
func (d *DASer) notify() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.waiters) == 0 || !d.caughtUpLocked() {
		return
	}
	for _, w := range d.waiters {
		close(w)
	}
	d.waiters = nil
}

func (d *DASer) caughtUpLocked() bool {
	return d.m.CatchUpDone() && !d.m.HasReady() && len(d.unsaved) == 0 && d.pendingCP == nil
}

// fetch asks the fetcher for r's samples, verifies each against the data
// root and reports every coordinate to the machine.
func (d *DASer) fetch(ctx context.Context, r sampling.Request, hdr *header.Header) {
	defer d.wg.Done()
	var got map[sampling.Coord]*erasure.Sample
	var err error
	if hdr == nil { // not kept: look it up again
		hctx, cancel := context.WithTimeout(ctx, d.cfg.RequestTimeout)
		hdr, err = d.deps.Headers.GetByHeight(hctx, r.Height)
		cancel()
	}
	switch {
	case err != nil:
	case hdr == nil || hdr.Height != r.Height || hdr.DataRoot != r.DataRoot || 2*int(hdr.SquareWidth) != r.Width:
		err = fmt.Errorf("das: no matching header for height %d", r.Height)
	default:
		fctx, cancel := context.WithTimeout(ctx, d.cfg.RequestTimeout)
		d.requests.Add(1)
		got, err = d.deps.Fetcher.SampleFromAny(fctx, hdr, slices.Clone(r.Coords))
		cancel()
	}
	if ctx.Err() != nil {
		return
	}
	type outcome struct {
		c   sampling.Coord
		ok  bool
		err error
	}
	outs := make([]outcome, len(r.Coords))
	for i, c := range r.Coords {
		outs[i].c = c
		smp := got[c]
		if smp == nil {
			d.missing.Add(1)
			outs[i].err = err
			if err == nil {
				outs[i].err = ErrNotServed
			}
			continue
		}
		if verr := erasure.VerifySample(r.DataRoot[:], r.Width, c.Row, c.Col, smp); verr != nil {
			d.rejected.Add(1)
			outs[i].err = verr
			continue
		}
		d.verified.Add(1)
		outs[i].ok = true
		if d.deps.Sink != nil {
			d.deps.Sink.Keep(r.Height, smp)
		}
	}
	d.mu.Lock()
	for _, o := range outs {
		d.m.Sampled(r, o.c, o.ok, o.err)
	}
	d.mu.Unlock()
	d.wake()
}

// loadHeader looks up a header the machine asked for. A failure is only
// logged: the machine asks again after its deadline.
func (d *DASer) loadHeader(ctx context.Context, height uint64) {
	defer d.wg.Done()
	hctx, cancel := context.WithTimeout(ctx, d.cfg.RequestTimeout)
	h, err := d.deps.Headers.GetByHeight(hctx, height)
	cancel()
	if err != nil || h == nil || h.Height != height {
		d.log.Debug("das: header look-up failed", "height", height, "err", err)
		return
	}
	d.mu.Lock()
	if ctx.Err() == nil {
		d.addHeaderLocked(h)
	}
	d.mu.Unlock()
	d.wake()
}

// WaitCatchUp blocks until every height of the window up to the network
// head has a stored verdict (available or not), or ctx ends.
func (d *DASer) WaitCatchUp(ctx context.Context) error {
	d.mu.Lock()
	if !d.running {
		d.mu.Unlock()
		return ErrNotRunning
	}
	if d.caughtUpLocked() {
		d.mu.Unlock()
		return nil
	}
	ch := make(chan struct{})
	d.waiters = append(d.waiters, ch)
	stopped := d.loopDone
	d.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-stopped:
		return ErrNotRunning
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Result returns the stored verdict on height. It fails with ErrNotSampled
// when there is none and wraps ErrFraud for heights at or after a
// fraudulent one.
func (d *DASer) Result(ctx context.Context, height uint64) (Record, error) {
	d.mu.Lock()
	fraud := d.fraud
	if d.m != nil && d.m.FraudHeight() != 0 && (fraud == 0 || d.m.FraudHeight() < fraud) {
		fraud = d.m.FraudHeight()
	}
	rec, ok := d.unsaved[height]
	d.mu.Unlock()
	if fraud != 0 && height >= fraud {
		return Record{Height: height, Fraud: true}, fmt.Errorf("%w: height %d is at or after height %d: %w", ErrNotAvailable, height, fraud, ErrFraud)
	}
	if err := ctx.Err(); err != nil {
		return Record{}, err
	}
	if !ok {
		b, err := d.deps.Checkpoints.Get(resultKey(height))
		if err != nil {
			return Record{}, fmt.Errorf("das: reading the result of height %d: %w", height, err)
		}
		if b == nil {
			return Record{}, fmt.Errorf("%w: height %d", ErrNotSampled, height)
		}
		if rec, err = parseRecord(height, b); err != nil {
			return Record{}, err
		}
	}
	return rec, nil
}

// SharesAvailable answers share.SharesAvailable from sampling: nil when
// the height was sampled and found available; an error wrapping
// ErrNotAvailable when it was found unavailable or a fraud proof covers
// it; ErrNotSampled when there is no verdict yet.
func (d *DASer) SharesAvailable(ctx context.Context, height uint64) error {
	rec, err := d.Result(ctx, height)
	if err != nil {
		return err
	}
	if !rec.Available {
		return fmt.Errorf("%w: height %d (%d samples verified)", ErrNotAvailable, height, rec.Sampled)
	}
	return nil
}

// Metrics returns running totals since Start.
func (d *DASer) Metrics() Metrics {
	return Metrics{
		SamplesVerified: d.verified.Load(),
		SamplesRejected: d.rejected.Load(),
		SamplesMissing:  d.missing.Load(),
		Requests:        d.requests.Load(),
	}
}
