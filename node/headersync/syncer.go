package headersync

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/tessera-da/tessera/node/header"
)

// Sync limits and defaults.
const (
	DefaultBatchSize    = 256              // headers per range request
	MaxBatchSize        = 1024             // headers per range request, at most
	DefaultFetchTimeout = 10 * time.Second // one range request
	DefaultPollInterval = 5 * time.Second  // with no new header for this long, ask peers for one anyway
	retryMin            = 100 * time.Millisecond
	retryMax            = 5 * time.Second
	maxPendingFactor    = 2 // gossiped headers kept ahead of the head: maxPendingFactor × batch size
)

// More sentinel errors.
var (
	// ErrBadRange wraps every reason a fetched range was refused: wrong
	// heights, a gap, a fork, a bad signature, an unknown producer, a
	// wrong chain.
	ErrBadRange = errors.New("headersync: bad header range")
	// ErrUntrusted: a header at the trusted height whose hash differs from
	// the trusted hash.
	ErrUntrusted = errors.New("headersync: header does not match the trusted hash")
	// ErrRunning: Run called twice.
	ErrRunning = errors.New("headersync: syncer already running")
)

// RangeFetcher fetches headers [from, to] (inclusive) from peers, in height
// order. It may return fewer than asked (a prefix), or none when peers have
// none yet. Nothing it returns is trusted: the Syncer verifies every header.
type RangeFetcher interface {
	Headers(ctx context.Context, from, to uint64) ([]*header.Header, error)
}

// HeaderStore persists verified headers.
type HeaderStore interface {
	// Head returns the highest stored header, or (nil, nil) when the
	// store holds none.
	Head() (*header.Header, error)
	// PutHeader stores h, the header after the head (or the first header:
	// height 1 from genesis, or the trusted height), durably.
	PutHeader(h *header.Header) error
	// HeaderByHeight returns the stored header at height.
	HeaderByHeight(height uint64) (*header.Header, error)
}

// SyncParams configures a Syncer.
type SyncParams struct {
	ChainID   string
	Producers []ed25519.PublicKey // the genesis producer keys
	// TrustedHeight and TrustedHash start an empty store at a trusted
	// header instead of genesis: the header at TrustedHeight must hash to
	// TrustedHash. Both are needed because range requests address heights.
	// TrustedHeight 0 starts from genesis (height 1, no previous hash).
	TrustedHeight uint64
	TrustedHash   header.Hash

	Store   HeaderStore  // required
	Fetcher RangeFetcher // required
	// Gossip, if set, feeds the Syncer new headers and the network's
	// height; without it the Syncer only polls ranges.
	Gossip *Gossip
	// OnHeader, if set, is called with each verified header after it is
	// stored, strictly in height order, one at a time. An error makes the
	// Syncer call it again with the same header after a backoff (up to 5
	// s) until it succeeds; syncing waits meanwhile.
	OnHeader func(*header.Header) error

	BatchSize    int           // headers per range request
	FetchTimeout time.Duration // one range request
	PollInterval time.Duration // ask for new headers after this long without any
	Logger       *slog.Logger  // nil discards
}

// DefaultSyncParams returns defaults for chainID and producers; set Store,
// Fetcher, and usually Gossip and OnHeader.
func DefaultSyncParams(chainID string, producers []ed25519.PublicKey) SyncParams {
	return SyncParams{
		ChainID: chainID, Producers: producers,
		BatchSize: DefaultBatchSize, FetchTimeout: DefaultFetchTimeout, PollInterval: DefaultPollInterval,
	}
}

// Validate checks the parameters.
func (p *SyncParams) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidParams, fmt.Sprintf(format, args...))
	}
	switch {
	case p.ChainID == "" || len(p.ChainID) > header.MaxChainIDSize:
		return bad("chain ID of %d bytes", len(p.ChainID))
	case len(p.Producers) == 0:
		return bad("no producer keys")
	case p.TrustedHeight > 0 && p.TrustedHash == (header.Hash{}):
		return bad("trusted height %d without a trusted hash", p.TrustedHeight)
	case p.TrustedHeight == 0 && p.TrustedHash != (header.Hash{}):
		return bad("trusted hash without a trusted height")
	case p.Store == nil:
		return bad("no store")
	case p.Fetcher == nil:
		return bad("no range fetcher")
	case p.Gossip != nil && p.Gossip.p.ChainID != p.ChainID:
		return bad("gossip is for chain %q, syncer for %q", p.Gossip.p.ChainID, p.ChainID)
	case p.BatchSize < 1 || p.BatchSize > MaxBatchSize:
		return bad("batch size %d not in [1, %d]", p.BatchSize, MaxBatchSize)
	case p.FetchTimeout <= 0:
		return bad("fetch timeout %v must be positive", p.FetchTimeout)
	case p.PollInterval <= 0:
		return bad("poll interval %v must be positive", p.PollInterval)
	}
	for i, k := range p.Producers {
		if len(k) != ed25519.PublicKeySize {
			return bad("producer key %d has %d bytes", i, len(k))
		}
	}
	return nil
}

// SyncState says how far the Syncer is.
type SyncState struct {
	Head   uint64 // height of the verified, stored head (0: none yet)
	Target uint64 // highest height known to exist (at least Head)
}

// Synced reports whether the head has reached the target.
func (s SyncState) Synced() bool { return s.Head >= s.Target && s.Head > 0 }

// Syncer keeps a verified header chain: it starts from the store's head,
// or from genesis or a trusted header, follows gossip, and catches up by
// range requests when behind. Every header is verified (signature, genesis
// producer, chain ID, height and previous hash, time order) against the
// one before it before it is stored and emitted, so the emitted headers
// form one unbroken chain from the start.
type Syncer struct {
	p       SyncParams
	log     *slog.Logger
	start   uint64 // height of the first header when the store is empty
	head    atomic.Pointer[header.Header]
	target  atomic.Uint64
	running atomic.Bool

	pending map[uint64]*header.Header // gossiped headers above the head; Run's goroutine only
}

// NewSyncer checks p and returns a Syncer; call Run.
func NewSyncer(p SyncParams) (*Syncer, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	log := p.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	start := uint64(1)
	if p.TrustedHeight > 0 {
		start = p.TrustedHeight
	}
	return &Syncer{p: p, log: log, start: start, pending: map[uint64]*header.Header{}}, nil
}

// Head returns the verified head, nil before the first header.
func (s *Syncer) Head() *header.Header { return s.head.Load() }

// State returns the head and target heights.
func (s *Syncer) State() SyncState {
	st := SyncState{Target: s.target.Load()}
	if h := s.head.Load(); h != nil {
		st.Head = h.Height
	}
	if s.p.Gossip != nil {
		st.Target = max(st.Target, s.p.Gossip.Target())
	}
	st.Target = max(st.Target, st.Head)
	return st
}

// Run syncs until ctx ends (returning ctx.Err()) or the store fails. It
// loads the store's head first; a stored chain that does not verify
// against the genesis keys or the trusted hash is an error.
func (s *Syncer) Run(ctx context.Context) error {
	if !s.running.CompareAndSwap(false, true) {
		return ErrRunning
	}
	defer s.running.Store(false)
	if err := s.load(); err != nil {
		return err
	}
	var gossip <-chan *header.Header
	var wake <-chan struct{}
	if g := s.p.Gossip; g != nil {
		gossip, wake = g.headers, g.wake
	}
	var backoff time.Duration
	var retryAt time.Time
	var lastNew time.Time // zero: ask for headers at once
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		s.drain(gossip)
		n, err := s.applyPending(ctx)
		if err != nil {
			return err
		}
		if n > 0 {
			lastNew = time.Now()
		}
		next := s.next()
		behind := s.State().Target >= next
		poll := !behind && time.Since(lastNew) >= s.p.PollInterval
		if (behind || poll) && !time.Now().Before(retryAt) {
			to := next + uint64(s.p.BatchSize) - 1
			if behind {
				to = min(to, s.State().Target)
			}
			got, err := s.fetch(ctx, next, to)
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if errors.Is(err, errStore) {
				return err
			}
			switch {
			case got > 0:
				lastNew, backoff, retryAt = time.Now(), 0, time.Time{}
				if uint64(got) == to-next+1 && err == nil {
					lastNew = time.Time{} // a full batch: there may be more, ask again at once
				}
				if err != nil {
					s.log.Warn("headersync: refused part of a header range", "from", next, "to", to, "err", err)
				}
				continue
			case poll:
				lastNew = time.Now() // nothing new; ask again after another PollInterval
				if err != nil {
					s.log.Debug("headersync: poll for new headers failed", "from", next, "err", err)
				}
			default:
				backoff = min(max(2*backoff, retryMin), retryMax)
				retryAt = time.Now().Add(backoff)
				if err == nil {
					err = errors.New("no headers returned")
				}
				s.log.Debug("headersync: header range failed; retrying", "from", next, "to", to, "in", backoff, "err", err)
			}
		}
		// Wait for gossip, a higher target, the retry time or the poll time.
		wait := time.Until(lastNew.Add(s.p.PollInterval))
		if behind {
			wait = time.Until(retryAt)
		}
		t := time.NewTimer(max(wait, time.Millisecond))
		select {
		case <-ctx.Done():
		case h := <-gossip:
			s.add(h)
		case <-wake:
		case <-t.C:
		}
		t.Stop()
	}
}

// load reads the store's head and checks it.
func (s *Syncer) load() error {
	head, err := s.p.Store.Head()
	if err != nil {
		return fmt.Errorf("headersync: store head: %w", err)
	}
	if head == nil {
		return nil
	}
	if err := head.Verify(s.p.ChainID, s.p.Producers, nil); err != nil {
		return fmt.Errorf("headersync: stored head %d: %w", head.Height, err)
	}
	if t := s.p.TrustedHeight; t > 0 && t <= head.Height {
		h, err := s.p.Store.HeaderByHeight(t)
		if err != nil {
			return fmt.Errorf("headersync: stored header at trusted height %d: %w", t, err)
		}
		if h.Hash() != s.p.TrustedHash {
			return fmt.Errorf("%w: stored header %d has hash %s, trusted %s", ErrUntrusted, t, h.Hash(), s.p.TrustedHash)
		}
	}
	s.setHead(head)
	return nil
}

func (s *Syncer) setHead(h *header.Header) {
	s.head.Store(h)
	raise(&s.target, h.Height)
	if s.p.Gossip != nil {
		s.p.Gossip.SetHead(h)
	}
}

// next returns the height the chain needs next.
func (s *Syncer) next() uint64 {
	if h := s.head.Load(); h != nil {
		return h.Height + 1
	}
	return s.start
}

// drain takes every gossiped header waiting, without blocking.
func (s *Syncer) drain(ch <-chan *header.Header) {
	for {
		select {
		case h := <-ch:
			s.add(h)
		default:
			return
		}
	}
}

// add keeps a gossiped header until the chain reaches its height.
func (s *Syncer) add(h *header.Header) {
	if h == nil {
		return
	}
	raise(&s.target, h.Height)
	next := s.next()
	if h.Height < next || h.Height >= next+uint64(maxPendingFactor*s.p.BatchSize) {
		return
	}
	if _, ok := s.pending[h.Height]; !ok {
		s.pending[h.Height] = h
	}
}

// applyPending applies gossiped headers that extend the head.
func (s *Syncer) applyPending(ctx context.Context) (int, error) {
	n := 0
	for {
		next := s.next()
		for ht := range s.pending {
			if ht < next {
				delete(s.pending, ht)
			}
		}
		h, ok := s.pending[next]
		if !ok {
			return n, nil
		}
		delete(s.pending, next)
		if err := s.verifyNext(h); err != nil {
			s.log.Warn("headersync: gossiped header does not extend the chain; dropped", "height", h.Height, "err", err)
			continue
		}
		if err := s.apply(ctx, h); err != nil {
			return n, err
		}
		n++
	}
}

// verifyNext checks that h is the next header of the verified chain.
func (s *Syncer) verifyNext(h *header.Header) error {
	prev := s.head.Load()
	if prev == nil {
		if h.Height != s.start {
			return fmt.Errorf("%w: height %d, want the first header %d", header.ErrNotChained, h.Height, s.start)
		}
		if s.p.TrustedHeight == 0 && h.PrevHash != (header.Hash{}) {
			return fmt.Errorf("%w: genesis header has a previous hash", header.ErrNotChained)
		}
	}
	if err := h.Verify(s.p.ChainID, s.p.Producers, prev); err != nil {
		return err
	}
	if s.p.TrustedHeight > 0 && h.Height == s.p.TrustedHeight && h.Hash() != s.p.TrustedHash {
		return fmt.Errorf("%w: height %d hashes to %s, trusted %s", ErrUntrusted, h.Height, h.Hash(), s.p.TrustedHash)
	}
	return nil
}

// errStore marks store failures, which stop Run.
var errStore = errors.New("headersync: store")

// apply stores h, makes it the head and emits it.
func (s *Syncer) apply(ctx context.Context, h *header.Header) error {
	if err := s.p.Store.PutHeader(h); err != nil {
		return fmt.Errorf("%w: put header %d: %w", errStore, h.Height, err)
	}
	s.setHead(h)
	if s.p.OnHeader == nil {
		return nil
	}
	var backoff time.Duration
	for {
		err := s.p.OnHeader(h)
		if err == nil {
			return nil
		}
		backoff = min(max(2*backoff, retryMin), retryMax)
		s.log.Warn("headersync: header handler failed; retrying", "height", h.Height, "in", backoff, "err", err)
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// fetch requests [from, to], verifies the headers in order and applies the
// verified prefix. It returns how many were applied and why the rest (if
// any) was refused.
func (s *Syncer) fetch(ctx context.Context, from, to uint64) (int, error) {
	fctx, cancel := context.WithTimeout(ctx, s.p.FetchTimeout)
	hs, err := s.p.Fetcher.Headers(fctx, from, to)
	cancel()
	if err != nil {
		return 0, err
	}
	if uint64(len(hs)) > to-from+1 {
		return 0, fmt.Errorf("%w: %d headers for [%d, %d]", ErrBadRange, len(hs), from, to)
	}
	n := 0
	for i, h := range hs {
		if h == nil {
			return n, fmt.Errorf("%w: nil header at index %d", ErrBadRange, i)
		}
		if want := from + uint64(i); h.Height != want {
			return n, fmt.Errorf("%w: height %d at index %d, want %d", ErrBadRange, h.Height, i, want)
		}
		if err := s.verifyNext(h); err != nil {
			return n, fmt.Errorf("%w: %w", ErrBadRange, err)
		}
		if err := s.apply(ctx, h); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
