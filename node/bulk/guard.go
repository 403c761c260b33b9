package bulk

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	bsmsg "github.com/ipfs/boxo/bitswap/message"
	iface "github.com/ipfs/boxo/bitswap/network"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
)

// The guard sits between bitswap and the network and keeps peers that lie
// out of bitswap.
//
// Bitswap's client computes a received block's CID from its bytes, so a
// block whose bytes do not match the CID asked for is never taken for it.
// But it is silently dropped, and the peer keeps its place: once a peer has
// answered HAVE, boxo's block presence manager never lets a later DONT_HAVE
// (or timeout) override it, so a session that picked the liar keeps
// waiting on it and never asks the peer that has the block.
//
// An honest bitswap server only sends blocks it was asked for (by
// want-block, or by want-have for small blocks), and the CID the client
// computes is then the CID it asked for. So the guard records, per peer,
// every CID sent to it in a want, and a message carrying a block whose CID
// was never asked of its sender is proof that the sender lied. The guard
// drops that message, tells bitswap the peer disconnected (its sessions
// move to other peers), and hides the peer from bitswap for
// Params.BanDuration: its messages are dropped, nothing is sent to it, and
// its connection events are not passed on. Other protocols on the
// connection are left alone; Params.OnBadPeer lets the node score or ban
// the peer there too.

const (
	askedTTL        = 5 * time.Minute // how long a want sent to a peer explains a block from it
	maxAskedPerPeer = 1 << 16         // wants remembered per peer; above it the peer is not judged until the next prune
	guardPrune      = time.Minute     // prune period
)

// ErrLied is the error Params.OnBadPeer receives for a peer that sent a
// block it was not asked for (bytes that do not match any CID asked of it).
var ErrLied = errors.New("bulk: peer sent a block it was not asked for")

type asked struct {
	at       map[string]time.Time // CID (as a string) → when last asked
	overflow bool                 // too many to track: do not judge until the next prune
}

type guard struct {
	iface.BitSwapNetwork
	b *Bulk

	mu     sync.Mutex
	asked  map[peer.ID]*asked
	banned map[peer.ID]time.Time // until

	inner []iface.Receiver // bitswap
	bans  atomic.Uint64
}

func newGuard(net iface.BitSwapNetwork, b *Bulk) *guard {
	return &guard{BitSwapNetwork: net, b: b, asked: map[peer.ID]*asked{}, banned: map[peer.ID]time.Time{}}
}

// isBanned reports whether p is banned now.
func (g *guard) isBanned(p peer.ID) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	until, ok := g.banned[p]
	return ok && time.Now().Before(until)
}

// recordWants remembers the CIDs msg asks p for.
func (g *guard) recordWants(p peer.ID, msg bsmsg.BitSwapMessage) {
	wl := msg.Wantlist()
	if len(wl) == 0 {
		return
	}
	now := time.Now()
	g.mu.Lock()
	defer g.mu.Unlock()
	a := g.asked[p]
	if a == nil {
		a = &asked{at: map[string]time.Time{}}
		g.asked[p] = a
	}
	for _, e := range wl {
		if e.Cancel {
			continue // a block may still be on its way
		}
		if len(a.at) >= maxAskedPerPeer {
			a.at, a.overflow = map[string]time.Time{}, true
		}
		a.at[e.Cid.KeyString()] = now
	}
}

// unasked returns the first block of msg never asked of p, "" if none (or
// if p is not judged now).
func (g *guard) unasked(p peer.ID, msg bsmsg.BitSwapMessage) string {
	blks := msg.Blocks()
	if len(blks) == 0 {
		return ""
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	a := g.asked[p]
	if a != nil && a.overflow {
		return ""
	}
	for _, blk := range blks {
		if a == nil {
			return blk.Cid().String()
		}
		if _, ok := a.at[blk.Cid().KeyString()]; !ok {
			return blk.Cid().String()
		}
	}
	return ""
}

// ban hides p from bitswap for Params.BanDuration.
func (g *guard) ban(p peer.ID, why error) {
	g.mu.Lock()
	_, already := g.banned[p]
	g.banned[p] = time.Now().Add(g.b.p.BanDuration)
	delete(g.asked, p)
	g.mu.Unlock()
	if already {
		return
	}
	g.bans.Add(1)
	g.b.log.Warn("peer banned from bitswap", "peer", p, "for", g.b.p.BanDuration, "err", why)
	for _, r := range g.inner {
		r.PeerDisconnected(p)
	}
	if f := g.b.p.OnBadPeer; f != nil {
		f(p, why)
	}
}

// prune forgets wants older than askedTTL and lifts expired bans: a peer
// still connected is shown to bitswap again.
func (g *guard) prune(now time.Time) {
	var lifted []peer.ID
	defer func() {
		for _, p := range lifted {
			if g.b.h.Network().Connectedness(p) == network.Connected {
				for _, r := range g.inner {
					r.PeerConnected(p)
				}
			}
		}
	}()
	g.mu.Lock()
	defer g.mu.Unlock()
	for p, a := range g.asked {
		if a.overflow {
			a.overflow = false
			continue // judged again once a full TTL of wants is known
		}
		for c, at := range a.at {
			if now.Sub(at) > askedTTL {
				delete(a.at, c)
			}
		}
		if len(a.at) == 0 {
			delete(g.asked, p)
		}
	}
	for p, until := range g.banned {
		if !now.Before(until) {
			delete(g.banned, p)
			lifted = append(lifted, p)
		}
	}
}

func (g *guard) pruner() {
	defer g.b.wg.Done()
	t := time.NewTicker(guardPrune)
	defer t.Stop()
	for {
		select {
		case <-g.b.ctx.Done():
			return
		case now := <-t.C:
			g.prune(now)
		}
	}
}

// --- the network, as bitswap sees it ---

func (g *guard) Start(rs ...iface.Receiver) {
	g.inner = rs
	g.BitSwapNetwork.Start(guardReceiver{g})
}

func (g *guard) SendMessage(ctx context.Context, p peer.ID, msg bsmsg.BitSwapMessage) error {
	if g.isBanned(p) {
		return fmt.Errorf("bulk: peer %s is banned", p)
	}
	g.recordWants(p, msg)
	return g.BitSwapNetwork.SendMessage(ctx, p, msg)
}

func (g *guard) NewMessageSender(ctx context.Context, p peer.ID, opts *iface.MessageSenderOpts) (iface.MessageSender, error) {
	if g.isBanned(p) {
		return nil, fmt.Errorf("bulk: peer %s is banned", p)
	}
	s, err := g.BitSwapNetwork.NewMessageSender(ctx, p, opts)
	if err != nil {
		return nil, err
	}
	return guardSender{MessageSender: s, g: g, p: p}, nil
}

func (g *guard) Connect(ctx context.Context, ai peer.AddrInfo) error {
	if g.isBanned(ai.ID) {
		return fmt.Errorf("bulk: peer %s is banned", ai.ID)
	}
	return g.BitSwapNetwork.Connect(ctx, ai)
}

type guardSender struct {
	iface.MessageSender
	g *guard
	p peer.ID
}

func (s guardSender) SendMsg(ctx context.Context, msg bsmsg.BitSwapMessage) error {
	if s.g.isBanned(s.p) {
		return fmt.Errorf("bulk: peer %s is banned", s.p)
	}
	s.g.recordWants(s.p, msg) // before sending: the answer may come back at once
	return s.MessageSender.SendMsg(ctx, msg)
}

type guardReceiver struct{ g *guard }

func (r guardReceiver) ReceiveMessage(ctx context.Context, p peer.ID, msg bsmsg.BitSwapMessage) {
	if r.g.isBanned(p) {
		return
	}
	if c := r.g.unasked(p, msg); c != "" {
		r.g.ban(p, fmt.Errorf("%w: block %s", ErrLied, c))
		return
	}
	for _, in := range r.g.inner {
		in.ReceiveMessage(ctx, p, msg)
	}
}

func (r guardReceiver) ReceiveError(err error) {
	for _, in := range r.g.inner {
		in.ReceiveError(err)
	}
}

func (r guardReceiver) PeerConnected(p peer.ID) {
	if r.g.isBanned(p) {
		return
	}
	for _, in := range r.g.inner {
		in.PeerConnected(p)
	}
}

// PeerDisconnected keeps p's wants: a message read before the connection
// closed may still be on its way to ReceiveMessage. They expire with
// askedTTL.
func (r guardReceiver) PeerDisconnected(p peer.ID) {
	for _, in := range r.g.inner {
		in.PeerDisconnected(p)
	}
}
