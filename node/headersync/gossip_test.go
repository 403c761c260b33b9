package headersync

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/tessera-da/tessera/node/config"
	"github.com/tessera-da/tessera/node/header"
)

// TestGossipReachesAll: a producer publishes headers; four nodes (two full,
// two light, knowing only the producer as bootstrap) receive every one by
// gossip alone (their range fetcher always fails) and emit them in order.
func TestGossipReachesAll(t *testing.T) {
	chain := makeChain(10)
	prod := startNode(t, config.RoleProducer, 1, nil)
	ba := prod.addrs()
	var nodes []*node
	var recs []*recorder
	for i, role := range []config.Role{config.RoleFull, config.RoleFull, config.RoleLight, config.RoleLight} {
		n := startNode(t, role, byte(10+i), nil, ba...)
		rec := newRecorder()
		s, err := NewSyncer(syncParams(newMemStore(), &fakeFetcher{err: errors.New("no peers")}, n.g, rec))
		if err != nil {
			t.Fatal(err)
		}
		runSyncer(t, s)
		nodes, recs = append(nodes, n), append(recs, rec)
	}
	var ids []peer.ID
	for _, n := range nodes {
		ids = append(ids, n.h.ID())
	}
	waitMesh(t, prod, HeaderTopic(testChain), ids...)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, h := range chain {
		if err := prod.g.Publish(ctx, h); err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	for i, rec := range recs {
		rec.waitHeight(t, 10, 15*time.Second)
		got := rec.headers()
		if len(got) != 10 {
			t.Fatalf("node %d emitted %d headers, want 10", i, len(got))
		}
		checkChain(t, got, chain, 1)
		if st := nodes[i].g.Stats(); st.Accepted < 10 || st.Rejected != 0 {
			t.Fatalf("node %d stats %+v", i, st)
		}
	}
	// The producer's own publish refuses a header it did not sign.
	forged := resign(chain[0], testKey(9), func(h *header.Header) { h.Height = 11 })
	if err := prod.g.Publish(ctx, forged); err == nil {
		t.Fatal("Publish accepted a header from an unknown producer")
	}
}

// rogue is a host that publishes raw bytes on the header and fraud topics
// without validating them.
type rogue struct {
	n *node
}

func startRogue(t *testing.T, seed byte, maxMsg int, bootstrap ...string) *rogue {
	t.Helper()
	n := startRawNode(t, seed, maxMsg, bootstrap...)
	return &rogue{n: n}
}

// TestForgedGossipRejected: forged headers gossiped by a rogue peer (bad
// signature, wrong chain, unknown producer, fork) are rejected by the
// validator, never emitted, and the rogue is blacklisted; honest headers
// keep flowing.
func TestForgedGossipRejected(t *testing.T) {
	chain := makeChain(3)
	prod := startNode(t, config.RoleProducer, 1, nil)
	var invalidMu sync.Mutex
	var invalidFrom []peer.ID
	gp := DefaultGossipParams(testChain, producers)
	gp.MaxInvalid = 4
	gp.OnInvalid = func(p peer.ID) {
		invalidMu.Lock()
		invalidFrom = append(invalidFrom, p)
		invalidMu.Unlock()
	}
	victim := startNode(t, config.RoleFull, 2, &gp, prod.addrs()...)
	rec := newRecorder()
	s, err := NewSyncer(syncParams(newMemStore(), &fakeFetcher{err: errors.New("no peers")}, victim.g, rec))
	if err != nil {
		t.Fatal(err)
	}
	runSyncer(t, s)
	waitMesh(t, prod, HeaderTopic(testChain), victim.h.ID())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := prod.g.Publish(ctx, chain[0]); err != nil {
		t.Fatal(err)
	}
	rec.waitHeight(t, 1, 10*time.Second)

	r := startRogue(t, 3, 0, victim.addrs()...)
	waitMesh(t, r.n, HeaderTopic(testChain), victim.h.ID())
	badSig := *chain[1]
	badSig.DataRoot[0] ^= 1
	forged := []*header.Header{
		&badSig,
		resign(chain[1], producerKey, func(h *header.Header) { h.ChainID = "other" }),
		resign(chain[1], testKey(9), func(*header.Header) {}),
		resign(chain[1], producerKey, func(h *header.Header) { h.PrevHash[0] ^= 1 }), // fork at the next height
	}
	for i, h := range forged {
		if err := r.n.g.hdr.Publish(ctx, encode(t, h)); err != nil {
			t.Fatal(err)
		}
		eventually(t, 10*time.Second, "forged header rejected", func() bool { return victim.g.Stats().Rejected == uint64(i+1) })
	}
	invalidMu.Lock()
	for _, p := range invalidFrom {
		if p != r.n.h.ID() {
			t.Fatalf("OnInvalid blamed %s, not the rogue", p)
		}
	}
	if len(invalidFrom) != len(forged) {
		t.Fatalf("OnInvalid called %d times, want %d", len(invalidFrom), len(forged))
	}
	invalidMu.Unlock()
	// Blacklisted after MaxInvalid: a fifth message is not even validated.
	if err := r.n.g.hdr.Publish(ctx, encode(t, resign(chain[1], testKey(9), func(h *header.Header) { h.Height = 7 }))); err != nil {
		t.Fatal(err)
	}
	// Honest headers still arrive; no forged one was ever emitted.
	if err := prod.g.Publish(ctx, chain[1]); err != nil {
		t.Fatal(err)
	}
	if err := prod.g.Publish(ctx, chain[2]); err != nil {
		t.Fatal(err)
	}
	rec.waitHeight(t, 3, 10*time.Second)
	checkChain(t, rec.headers(), chain, 1)
	time.Sleep(200 * time.Millisecond)
	if st := victim.g.Stats(); st.Rejected != uint64(len(forged)) {
		t.Fatalf("stats %+v: the blacklisted rogue's message was validated", st)
	}
}

// TestLateStartCatchesUp: a node starting when the chain is at height 500
// catches up by ranges from a fake fetcher, then follows gossip, emitting
// every header once and in order.
func TestLateStartCatchesUp(t *testing.T) {
	chain := makeChain(600)
	prod := startNode(t, config.RoleProducer, 1, nil)
	f := &fakeFetcher{chain: chain, avail: 500}
	late := startNode(t, config.RoleLight, 2, nil, prod.addrs()...)
	rec := newRecorder()
	s, err := NewSyncer(syncParams(newMemStore(), f, late.g, rec))
	if err != nil {
		t.Fatal(err)
	}
	runSyncer(t, s)
	waitMesh(t, prod, HeaderTopic(testChain), late.h.ID())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	// The producer goes on producing while the node catches up.
	for _, h := range chain[500:] {
		f.setAvail(h.Height)
		if err := prod.g.Publish(ctx, h); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	rec.waitHeight(t, 600, 15*time.Second)
	got := rec.headers()
	if len(got) != 600 {
		t.Fatalf("emitted %d headers, want 600", len(got))
	}
	checkChain(t, got, chain, 1)
	f.mu.Lock()
	calls := f.calls
	f.mu.Unlock()
	if calls < 2 {
		t.Fatalf("%d range requests: catch-up did not use ranges", calls)
	}
	if st := late.g.Stats(); st.Accepted == 0 {
		t.Fatalf("stats %+v: no header came by gossip", st)
	}
	// Following gossip alone from here on.
	f.mu.Lock()
	f.err = errors.New("fetcher gone")
	f.mu.Unlock()
	more := makeChain(603)[600:]
	for _, h := range more {
		if err := prod.g.Publish(ctx, h); err != nil {
			t.Fatal(err)
		}
	}
	rec.waitHeight(t, 603, 10*time.Second)
	checkChain(t, rec.headers(), makeChain(603), 1)
}

// TestOversizedDropped: an RPC above the router's message size limit is
// dropped unread (the stream is reset and the validator never runs); a
// message under that limit but over a header's size is rejected.
func TestOversizedDropped(t *testing.T) {
	chain := makeChain(2)
	prod := startNode(t, config.RoleProducer, 1, nil)
	victim := startNode(t, config.RoleFull, 2, nil, prod.addrs()...)
	rec := newRecorder()
	s, err := NewSyncer(syncParams(newMemStore(), &fakeFetcher{err: errors.New("no peers")}, victim.g, rec))
	if err != nil {
		t.Fatal(err)
	}
	runSyncer(t, s)
	r := startRogue(t, 3, 8<<20, victim.addrs()...)
	waitMesh(t, r.n, HeaderTopic(testChain), victim.h.ID())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	// Over a header's size, under the router's limit: rejected.
	if err := r.n.g.hdr.Publish(ctx, bytes.Repeat([]byte{1}, 4096)); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "small oversized header rejected", func() bool { return victim.g.Stats().Rejected == 1 })
	// Over the router's 1 MiB limit: never read.
	if err := r.n.g.hdr.Publish(ctx, bytes.Repeat([]byte{2}, 2<<20)); err != nil {
		t.Fatal(err)
	}
	if err := r.n.g.fraud.Publish(ctx, bytes.Repeat([]byte{3}, 2<<20)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	st := victim.g.Stats()
	if st.Rejected != 1 || st.Accepted != 0 || st.Ignored != 0 || st.FraudRejected != 0 || st.FraudIgnored != 0 {
		t.Fatalf("stats %+v: an oversized message reached a validator", st)
	}
	// The victim still takes honest headers.
	waitMesh(t, prod, HeaderTopic(testChain), victim.h.ID())
	for _, h := range chain {
		if err := prod.g.Publish(ctx, h); err != nil {
			t.Fatal(err)
		}
	}
	rec.waitHeight(t, 2, 10*time.Second)
	checkChain(t, rec.headers(), chain, 1)
}

// TestFraudTopic: fraud proofs pass through the pluggable validator: valid
// ones reach every subscriber, invalid ones are rejected and go nowhere,
// oversized ones are rejected before the validator runs.
func TestFraudTopic(t *testing.T) {
	var calls sync.Map
	validator := func(_ context.Context, data []byte) error {
		calls.Store(string(data[:min(len(data), 8)]), true)
		switch {
		case bytes.HasPrefix(data, []byte("proof")):
			return nil
		case bytes.HasPrefix(data, []byte("wait")):
			return errors.Join(ErrIgnore, errors.New("header not yet synced"))
		}
		return errors.New("bad fraud proof")
	}
	gp := DefaultGossipParams(testChain, producers)
	gp.Fraud = validator
	gp.MaxFraudSize = 1024
	a := startNode(t, config.RoleFull, 1, &gp)
	b := startNode(t, config.RoleLight, 2, &gp, a.addrs()...)
	got := make(chan []byte, 4)
	cancelSub := b.g.SubscribeFraud(func(d []byte) { got <- d })
	defer cancelSub()
	waitMesh(t, a, FraudTopic(testChain), b.h.ID())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := a.g.PublishFraud(ctx, []byte("bad")); err == nil {
		t.Fatal("PublishFraud published an invalid proof")
	}
	if err := a.g.PublishFraud(ctx, []byte("proof-1")); err != nil {
		t.Fatal(err)
	}
	select {
	case d := <-got:
		if string(d) != "proof-1" {
			t.Fatalf("handler got %q", d)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("fraud proof not delivered")
	}
	r := startRogue(t, 3, 0, b.addrs()...)
	waitMesh(t, r.n, FraudTopic(testChain), b.h.ID())
	for _, m := range [][]byte{[]byte("garbage"), []byte("wait-1"), bytes.Repeat([]byte("p"), 2048)} {
		if err := r.n.g.fraud.Publish(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 10*time.Second, "rogue fraud messages judged", func() bool {
		st := b.g.Stats()
		return st.FraudRejected == 2 && st.FraudIgnored == 1
	})
	if _, ok := calls.Load("pppppppp"); ok {
		t.Fatal("the validator ran on an oversized fraud proof")
	}
	select {
	case d := <-got:
		t.Fatalf("handler got %q from the rogue", d)
	case <-time.After(200 * time.Millisecond):
	}
}

// TestGossipCloseRejoin: Close leaves both topics cleanly, so the same
// router can join them again.
func TestGossipCloseRejoin(t *testing.T) {
	n := startNode(t, config.RoleFull, 1, nil)
	for i := 0; i < 3; i++ {
		if err := n.g.Close(); err != nil {
			t.Fatal(err)
		}
		g, err := NewGossip(n.h.PubSub(), DefaultGossipParams(testChain, producers))
		if err != nil {
			t.Fatalf("rejoin %d: %v", i, err)
		}
		n.g = g
	}
	n.g.Close()
	if err := n.g.Publish(context.Background(), makeChain(1)[0]); !errors.Is(err, ErrClosed) {
		t.Fatalf("Publish after Close: %v", err)
	}
	if _, err := NewGossip(n.h.PubSub(), GossipParams{ChainID: testChain}); !errors.Is(err, ErrInvalidParams) {
		t.Fatalf("NewGossip without producers: %v", err)
	}
}
