package exchange

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/tessera-da/tessera/erasure"
	"github.com/tessera-da/tessera/node/header"
)

// SampleFromAny fetches and verifies the samples at coords of hdr's block
// from peers, in parallel, within ctx's deadline (or the client's Timeout
// when ctx has none).
//
// The coordinates are split evenly over the peers. A peer that fails (bad
// response, refusal, busy, timeout, stream failure) gets no more requests
// in this call, and its coordinates move to peers that have not been asked
// for them; coordinates a peer does not hold move likewise. A batch still
// unanswered after HedgeAfter is asked of another peer as well, and the
// first verified answer wins. Only verified samples are returned.
//
// The result maps each coordinate that got a verified sample to it. When
// some coordinates got none the error wraps ErrIncomplete (and the last
// peer error). Every peer error (a *PeerError; IsBadPeer tells a lying
// peer from a busy, slow or lagging one) is also reported to
// ClientOptions.OnPeerError, and so is every peer overtaken by hedging.
// All requests have ended when it returns.
func (c *Client) SampleFromAny(ctx context.Context, peers []peer.ID, hdr *header.Header, coords []Coord) (map[Coord]*erasure.Sample, error) {
	k, err := squareWidth(hdr)
	if err != nil {
		return nil, err
	}
	if len(peers) == 0 {
		return nil, fmt.Errorf("%w: no peers", ErrInvalidRequest)
	}
	w := 2 * k
	f := &fanout{c: c, hdr: hdr, out: make(map[Coord]*erasure.Sample, len(coords))}
	for _, p := range peers {
		if !slices.Contains(f.peers, p) {
			f.peers = append(f.peers, p)
		}
	}
	seen := make(map[Coord]bool, len(coords))
	for _, co := range coords {
		if !co.in(w) {
			return nil, fmt.Errorf("%w: coordinate %s outside width %d", ErrInvalidRequest, co, w)
		}
		if !seen[co] {
			seen[co] = true
			f.coords = append(f.coords, co)
		}
	}
	if len(f.coords) == 0 {
		return f.out, nil
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.opts.Timeout)
		defer cancel()
	}
	return f.run(ctx)
}

// fanout is the state of one SampleFromAny call; only run's goroutine
// touches it.
type fanout struct {
	c      *Client
	hdr    *header.Header
	peers  []peer.ID
	coords []Coord
	out    map[Coord]*erasure.Sample

	state    []coordState // per coordinate
	dead     []bool       // per peer: failed, no more requests
	busy     []bool       // per peer: a batch in flight
	inflight []*batch
	lastErr  error
}

type coordState struct {
	asked    []bool // per peer
	inflight int    // batches in flight holding it
	done     bool
}

type batch struct {
	peer    int
	idx     []int // coordinate indices
	start   time.Time
	cancel  context.CancelFunc
	samples []*erasure.Sample
	err     error
}

func (f *fanout) run(ctx context.Context) (map[Coord]*erasure.Sample, error) {
	f.state = make([]coordState, len(f.coords))
	for i := range f.state {
		f.state[i].asked = make([]bool, len(f.peers))
	}
	f.dead = make([]bool, len(f.peers))
	f.busy = make([]bool, len(f.peers))
	results := make(chan *batch, len(f.peers))
	remaining := len(f.coords)

	f.assignFresh(ctx, results)
	timer := time.NewTimer(f.c.opts.HedgeAfter)
	defer timer.Stop()
loop:
	for remaining > 0 {
		if len(f.inflight) == 0 && !f.assignFresh(ctx, results) {
			break // nobody left to ask
		}
		select {
		case b := <-results:
			f.finish(b)
			for i, idx := range b.idx {
				st := &f.state[idx]
				if b.samples != nil && b.samples[i] != nil && !st.done {
					st.done = true
					f.out[f.coords[idx]] = b.samples[i]
					remaining--
				}
			}
			if remaining > 0 {
				f.assignFresh(ctx, results)
			}
		case <-timer.C:
			f.hedge(ctx, results)
			timer.Reset(f.c.opts.HedgeAfter / 2)
		case <-ctx.Done():
			f.lastErr = fmt.Errorf("%w: %w", ErrTimeout, ctx.Err())
			break loop
		}
	}
	// Stop what is still in flight (overtaken, or past the deadline) and
	// wait for it.
	for _, b := range f.inflight {
		b.cancel()
	}
	for len(f.inflight) > 0 {
		b := <-results
		f.finish(b)
		if errors.Is(b.err, context.Canceled) {
			f.report(b.peer, &PeerError{Peer: f.peers[b.peer], Protocol: ProtocolID(f.c.chainID, ProtocolSamples),
				Err: fmt.Errorf("%w: overtaken by other peers", ErrTimeout)})
		}
	}
	if len(f.out) < len(f.coords) {
		err := fmt.Errorf("%w: %d of %d samples", ErrIncomplete, len(f.out), len(f.coords))
		if f.lastErr != nil {
			err = fmt.Errorf("%w: %w", err, f.lastErr)
		}
		return f.out, err
	}
	return f.out, nil
}

// finish removes b from the in-flight batches and records its outcome.
func (f *fanout) finish(b *batch) {
	for i, o := range f.inflight {
		if o == b {
			f.inflight = append(f.inflight[:i], f.inflight[i+1:]...)
			break
		}
	}
	f.busy[b.peer] = false
	for _, idx := range b.idx {
		f.state[idx].inflight--
	}
	b.cancel()
	switch {
	case b.err == nil:
	case errors.Is(b.err, ErrNotFound) && b.samples != nil:
		// A partial answer: the peer may hold other coordinates.
	default:
		f.dead[b.peer] = true
		if !errors.Is(b.err, context.Canceled) { // overtaken: reported by run
			f.lastErr = b.err
			f.report(b.peer, b.err)
		}
	}
}

func (f *fanout) report(p int, err error) {
	if f.c.opts.OnPeerError != nil {
		f.c.opts.OnPeerError(f.peers[p], err)
	}
}

// assignFresh gives the coordinates that are neither done nor in flight to
// idle live peers that have not been asked for them, spreading them
// evenly. It reports whether any batch is in flight afterwards.
func (f *fanout) assignFresh(ctx context.Context, results chan<- *batch) bool {
	var idle []int
	for p := range f.peers {
		if !f.dead[p] && !f.busy[p] {
			idle = append(idle, p)
		}
	}
	if len(idle) > 0 {
		batches := make(map[int][]int)
		turn := 0
		for idx := range f.coords {
			st := &f.state[idx]
			if st.done || st.inflight > 0 {
				continue
			}
			// The next idle peer, round-robin, not yet asked for it.
			for try := range idle {
				p := idle[(turn+try)%len(idle)]
				if !st.asked[p] && len(batches[p]) < MaxSamplesPerRequest {
					batches[p] = append(batches[p], idx)
					turn = (turn + try + 1) % len(idle)
					break
				}
			}
		}
		for _, p := range idle {
			if len(batches[p]) > 0 {
				f.send(ctx, p, batches[p], results)
			}
		}
	}
	return len(f.inflight) > 0
}

// hedge asks idle live peers for the unfinished coordinates of batches in
// flight for longer than HedgeAfter that no other batch holds, each
// coordinate of a peer that has not been asked for it.
func (f *fanout) hedge(ctx context.Context, results chan<- *batch) {
	now := time.Now()
	var todo []int
	for _, b := range f.inflight {
		if now.Sub(b.start) < f.c.opts.HedgeAfter {
			continue
		}
		for _, idx := range b.idx {
			if st := &f.state[idx]; !st.done && st.inflight == 1 {
				todo = append(todo, idx)
			}
		}
	}
	for p := range f.peers {
		if len(todo) == 0 {
			return
		}
		if f.dead[p] || f.busy[p] {
			continue
		}
		var mine, rest []int
		for _, idx := range todo {
			if f.state[idx].asked[p] || len(mine) == MaxSamplesPerRequest {
				rest = append(rest, idx)
			} else {
				mine = append(mine, idx)
			}
		}
		if len(mine) > 0 {
			f.send(ctx, p, mine, results)
		}
		todo = rest
	}
}

// send starts a request to peer p for the coordinates idx.
func (f *fanout) send(ctx context.Context, p int, idx []int, results chan<- *batch) {
	bctx, cancel := context.WithCancel(ctx)
	b := &batch{peer: p, idx: idx, start: time.Now(), cancel: cancel}
	coords := make([]Coord, len(idx))
	for i, j := range idx {
		coords[i] = f.coords[j]
		f.state[j].asked[p] = true
		f.state[j].inflight++
	}
	f.busy[p] = true
	f.inflight = append(f.inflight, b)
	go func() {
		b.samples, b.err = f.c.Samples(bctx, f.peers[p], f.hdr, coords)
		results <- b
	}()
}
