package p2p

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/discovery"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Pool scoring.
const (
	MaxScore        = 16  // a peer's score never rises above this
	MinScore        = -64 // nor falls below this
	BadPenalty      = 8   // points a bad report costs (a good one earns 1)
	findTimeout     = 10 * time.Second
	maxScoreRecords = 4096 // scores kept for peers outside the pool, at most
	findFactor      = 4    // ask the DHT for findFactor × the pool size
)

// Pool keeps up to a target number of connected peers that advertise a
// rendezvous key (KeyFull): it finds them in the DHT, connects to them,
// protects their connections, drops those that disconnect or are reported
// bad, and refills itself. Its methods are safe for concurrent use.
type Pool struct {
	h    *Host
	key  string
	size int

	mu      sync.Mutex
	members map[peer.ID]uint64 // peer → join sequence number
	seq     uint64
	scores  map[peer.ID]*score
	changed chan struct{} // closed and replaced when membership changes
	kick    chan struct{} // asks run for an early refresh
}

type score struct {
	points      int
	bannedUntil time.Time
}

func newPool(h *Host, key string, size int) *Pool {
	return &Pool{
		h: h, key: key, size: size,
		members: map[peer.ID]uint64{}, scores: map[peer.ID]*score{},
		changed: make(chan struct{}), kick: make(chan struct{}, 1),
	}
}

// Peers returns the connected members, best score first (ties: longest in
// the pool first). A member found disconnected is left out and the pool
// refreshes early.
func (p *Pool) Peers() []peer.ID {
	p.mu.Lock()
	type entry struct {
		id     peer.ID
		points int
		seq    uint64
	}
	var list []entry
	stale := false
	for id, seq := range p.members {
		if p.h.h.Network().Connectedness(id) != network.Connected {
			stale = true
			continue
		}
		pts := 0
		if s := p.scores[id]; s != nil {
			pts = s.points
		}
		list = append(list, entry{id, pts, seq})
	}
	p.mu.Unlock()
	if stale {
		p.refreshSoon()
	}
	slices.SortFunc(list, func(a, b entry) int {
		if c := cmp.Compare(b.points, a.points); c != 0 {
			return c
		}
		return cmp.Compare(a.seq, b.seq)
	})
	out := make([]peer.ID, len(list))
	for i, e := range list {
		out[i] = e.id
	}
	return out
}

// Len returns the number of members, connected or not.
func (p *Pool) Len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.members)
}

// Score returns a peer's score (0 for one never reported).
func (p *Pool) Score(id peer.ID) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if s := p.scores[id]; s != nil {
		return s.points
	}
	return 0
}

// Report scores a peer after an exchange: good adds a point; bad (a wrong
// proof, a malformed or oversized response, a stall past its deadline)
// costs BadPenalty points, removes the peer from the pool, keeps it out
// for Params.BanDuration and closes its connections unless it is a
// bootstrap peer. The pool then refills itself.
func (p *Pool) Report(id peer.ID, good bool) {
	p.mu.Lock()
	s := p.scores[id]
	if s == nil {
		p.pruneScores()
		s = &score{}
		p.scores[id] = s
	}
	if good {
		s.points = min(s.points+1, MaxScore)
		p.mu.Unlock()
		return
	}
	s.points = max(s.points-BadPenalty, MinScore)
	s.bannedUntil = time.Now().Add(p.h.p.BanDuration)
	_, member := p.members[id]
	if member {
		p.removeLocked(id)
	}
	p.mu.Unlock()
	p.h.log.Debug("p2p: peer reported bad", "peer", id, "score", s.points)
	if !p.h.IsBootstrap(id) {
		_ = p.h.h.Network().ClosePeer(id)
	}
	p.refreshSoon()
}

// WaitPeers waits until the pool holds at least n members or ctx ends.
func (p *Pool) WaitPeers(ctx context.Context, n int) error {
	for {
		p.mu.Lock()
		have, changed := len(p.members), p.changed
		p.mu.Unlock()
		if have >= n {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-changed:
		}
	}
}

func (p *Pool) refreshSoon() {
	select {
	case p.kick <- struct{}{}:
	default:
	}
}

// pruneScores bounds the score records: when full, records of non-members
// that are not banned are forgotten. Called with mu held.
func (p *Pool) pruneScores() {
	if len(p.scores) < maxScoreRecords {
		return
	}
	now := time.Now()
	for id, s := range p.scores {
		if _, ok := p.members[id]; !ok && now.After(s.bannedUntil) {
			delete(p.scores, id)
		}
	}
}

func (p *Pool) notifyLocked() {
	close(p.changed)
	p.changed = make(chan struct{})
}

func (p *Pool) removeLocked(id peer.ID) {
	delete(p.members, id)
	p.h.cm.Unprotect(id, TagPool)
	p.notifyLocked()
}

// run refreshes the pool until ctx ends: every PoolRefresh when full, and
// with backoff from retryMin up to PoolRefresh while short of peers.
func (p *Pool) run(ctx context.Context) {
	var backoff time.Duration
	for {
		p.refresh(ctx)
		wait := p.h.p.PoolRefresh
		if p.Len() < p.size {
			backoff = min(nextBackoff(backoff), p.h.p.PoolRefresh)
			wait = backoff
		} else {
			backoff = 0
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		case <-p.kick:
			t.Stop()
		}
	}
}

// refresh drops members that are no longer connected and cannot be
// re-dialled, then fills the pool from the DHT.
func (p *Pool) refresh(ctx context.Context) {
	p.mu.Lock()
	var gone []peer.ID
	for id := range p.members {
		if p.h.h.Network().Connectedness(id) != network.Connected {
			gone = append(gone, id)
		}
	}
	p.mu.Unlock()
	for _, id := range gone {
		if p.dial(ctx, peer.AddrInfo{ID: id}) == nil {
			continue
		}
		p.mu.Lock()
		if _, ok := p.members[id]; ok {
			p.removeLocked(id)
		}
		p.mu.Unlock()
		p.h.log.Debug("p2p: pool peer unreachable; dropped", "peer", id)
	}
	if p.Len() >= p.size || ctx.Err() != nil {
		return
	}
	fctx, cancel := context.WithTimeout(ctx, findTimeout)
	defer cancel()
	found, err := p.h.disc.FindPeers(fctx, p.key, discovery.Limit(findFactor*p.size))
	if err != nil {
		p.h.log.Debug("p2p: pool search failed", "key", p.key, "err", err)
		return
	}
	for ai := range found {
		if p.Len() >= p.size {
			break
		}
		if !p.candidate(ai.ID) {
			continue
		}
		if err := p.dial(fctx, ai); err != nil {
			p.h.log.Debug("p2p: pool candidate unreachable", "peer", ai.ID, "err", err)
			continue
		}
		p.mu.Lock()
		if _, ok := p.members[ai.ID]; !ok && len(p.members) < p.size && p.candidateLocked(ai.ID) {
			p.seq++
			p.members[ai.ID] = p.seq
			p.h.cm.Protect(ai.ID, TagPool)
			p.notifyLocked()
			p.h.log.Debug("p2p: pool peer added", "peer", ai.ID)
		}
		p.mu.Unlock()
	}
}

func (p *Pool) dial(ctx context.Context, ai peer.AddrInfo) error {
	dctx, cancel := context.WithTimeout(ctx, p.h.p.DialTimeout)
	defer cancel()
	return p.h.h.Connect(dctx, ai)
}

func (p *Pool) candidate(id peer.ID) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.candidateLocked(id)
}

// candidateLocked reports whether id may join: not this node, not a
// member, not banned.
func (p *Pool) candidateLocked(id peer.ID) bool {
	if id == p.h.h.ID() {
		return false
	}
	if _, ok := p.members[id]; ok {
		return false
	}
	if s := p.scores[id]; s != nil && time.Now().Before(s.bannedUntil) {
		return false
	}
	return true
}
