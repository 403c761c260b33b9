package headersync

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/tessera-da/tessera/node/config"
	"github.com/tessera-da/tessera/node/header"
	"github.com/tessera-da/tessera/node/p2p"
)

const testChain = "tessera-test"

func testKey(seed byte) ed25519.PrivateKey {
	s := make([]byte, ed25519.SeedSize)
	s[0], s[1] = seed, 0xa5
	return ed25519.NewKeyFromSeed(s)
}

var (
	producerKey = testKey(1)
	producers   = []ed25519.PublicKey{producerKey.Public().(ed25519.PublicKey)}
)

// makeChain returns n honest headers from genesis.
func makeChain(n int) []*header.Header {
	out := make([]*header.Header, 0, n)
	var prev header.Hash
	for i := 1; i <= n; i++ {
		h := &header.Header{ChainID: testChain, Height: uint64(i), Time: time.Unix(int64(1_700_000_000+i), 0).UTC(), PrevHash: prev, SquareWidth: 4}
		h.DataRoot[0], h.DataRoot[1] = byte(i), byte(i>>8)
		h.Sign(producerKey)
		prev = h.Hash()
		out = append(out, h)
	}
	return out
}

// resign returns a copy of h changed by f and signed by key.
func resign(h *header.Header, key ed25519.PrivateKey, f func(*header.Header)) *header.Header {
	c := *h
	f(&c)
	c.Sign(key)
	return &c
}

// memStore is an in-memory HeaderStore with the chaining rule of
// node/store: each header extends the head; the first may have any height
// (a trusted start).
type memStore struct {
	mu   sync.Mutex
	byH  map[uint64]*header.Header
	head *header.Header
	fail error // returned by PutHeader when set
}

func newMemStore() *memStore { return &memStore{byH: map[uint64]*header.Header{}} }

func (m *memStore) Head() (*header.Header, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.head, nil
}

func (m *memStore) PutHeader(h *header.Header) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return m.fail
	}
	if m.head != nil && (h.Height != m.head.Height+1 || h.PrevHash != m.head.Hash()) {
		return fmt.Errorf("memStore: height %d does not extend head %d", h.Height, m.head.Height)
	}
	m.byH[h.Height] = h
	m.head = h
	return nil
}

func (m *memStore) HeaderByHeight(height uint64) (*header.Header, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	h, ok := m.byH[height]
	if !ok {
		return nil, fmt.Errorf("memStore: no header %d", height)
	}
	return h, nil
}

// fakeFetcher serves ranges of chain up to avail, optionally through forge
// (which may rewrite a response) while forging is on.
type fakeFetcher struct {
	mu      sync.Mutex
	chain   []*header.Header
	avail   uint64
	forge   func(from, to uint64, hs []*header.Header) []*header.Header
	forging int // responses still forged
	calls   int
	err     error // returned when set
}

func (f *fakeFetcher) Headers(ctx context.Context, from, to uint64) ([]*header.Header, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.err != nil {
		return nil, f.err
	}
	if from > to || from == 0 {
		return nil, errors.New("fakeFetcher: bad range")
	}
	var out []*header.Header
	for h := from; h <= to && h <= f.avail && h <= uint64(len(f.chain)); h++ {
		out = append(out, f.chain[h-1])
	}
	if f.forging > 0 && f.forge != nil && len(out) > 0 {
		f.forging--
		out = f.forge(from, to, append([]*header.Header(nil), out...))
	}
	return out, nil
}

func (f *fakeFetcher) setAvail(n uint64) {
	f.mu.Lock()
	f.avail = n
	f.mu.Unlock()
}

// recorder collects OnHeader calls.
type recorder struct {
	mu   sync.Mutex
	got  []*header.Header
	more chan struct{}
}

func newRecorder() *recorder { return &recorder{more: make(chan struct{}, 1)} }

func (r *recorder) OnHeader(h *header.Header) error {
	r.mu.Lock()
	r.got = append(r.got, h)
	r.mu.Unlock()
	select {
	case r.more <- struct{}{}:
	default:
	}
	return nil
}

func (r *recorder) headers() []*header.Header {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*header.Header(nil), r.got...)
}

// waitHeight waits until the recorder has a header at height or fails the test.
func (r *recorder) waitHeight(t *testing.T, height uint64, d time.Duration) {
	t.Helper()
	deadline := time.After(d)
	for {
		got := r.headers()
		if len(got) > 0 && got[len(got)-1].Height >= height {
			return
		}
		select {
		case <-r.more:
		case <-deadline:
			last := uint64(0)
			if len(got) > 0 {
				last = got[len(got)-1].Height
			}
			t.Fatalf("after %v: emitted up to height %d, want %d", d, last, height)
		}
	}
}

// checkChain fails unless got is exactly want[first-1:last] in order.
func checkChain(t *testing.T, got, want []*header.Header, first uint64) {
	t.Helper()
	for i, h := range got {
		w := want[first-1+uint64(i)]
		if h.Height != w.Height || h.Hash() != w.Hash() {
			t.Fatalf("emitted #%d: height %d hash %s, want height %d hash %s", i, h.Height, h.Hash(), w.Height, w.Hash())
		}
	}
}

// runSyncer runs s until the test ends.
func runSyncer(t *testing.T, s *Syncer) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case err = <-done:
			case <-time.After(10 * time.Second):
				err = errors.New("syncer did not stop")
			}
			if errors.Is(err, context.Canceled) {
				err = nil
			}
		})
		return err
	}
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("syncer: %v", err)
		}
	})
	return stop
}

// syncParams returns fast sync parameters over store and fetcher.
func syncParams(store HeaderStore, f RangeFetcher, g *Gossip, rec *recorder) SyncParams {
	p := DefaultSyncParams(testChain, producers)
	p.Store, p.Fetcher, p.Gossip = store, f, g
	if rec != nil {
		p.OnHeader = rec.OnHeader
	}
	p.PollInterval = 200 * time.Millisecond
	p.FetchTimeout = 2 * time.Second
	return p
}

// node is a test host with its gossip.
type node struct {
	h    *p2p.Host
	g    *Gossip
	mesh *meshTracer
}

// startNode starts a loopback host of role and joins the topics.
func startNode(t *testing.T, role config.Role, seed byte, gp *GossipParams, bootstrap ...string) *node {
	t.Helper()
	p := p2p.DefaultParams(testChain, role, testKey(seed))
	p.ListenAddrs = []string{"/ip4/127.0.0.1/tcp/0"}
	p.Bootstrap = bootstrap
	p.PoolRefresh = 300 * time.Millisecond
	p.DialTimeout = 2 * time.Second
	mesh := newMeshTracer()
	p.PubSubOptions = []pubsub.Option{pubsub.WithRawTracer(mesh)}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	h, err := p2p.New(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	params := DefaultGossipParams(testChain, producers)
	if gp != nil {
		params = *gp
	}
	g, err := NewGossip(h.PubSub(), params)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	return &node{h: h, g: g, mesh: mesh}
}

func (n *node) addrs() []string {
	var out []string
	for _, a := range n.h.Addrs() {
		out = append(out, a.String())
	}
	return out
}

// meshTracer records the peers each topic's mesh has grafted.
type meshTracer struct {
	mu     sync.Mutex
	grafts map[string][]peer.ID
}

func newMeshTracer() *meshTracer { return &meshTracer{grafts: map[string][]peer.ID{}} }

func (m *meshTracer) Graft(p peer.ID, topic string) {
	m.mu.Lock()
	m.grafts[topic] = append(m.grafts[topic], p)
	m.mu.Unlock()
}

func (m *meshTracer) grafted(topic string, p peer.ID) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Contains(m.grafts[topic], p)
}

func (*meshTracer) AddPeer(peer.ID, protocol.ID)                         {}
func (*meshTracer) RemovePeer(peer.ID)                                   {}
func (*meshTracer) OnNewOutboundStream(peer.ID, protocol.ID)             {}
func (*meshTracer) OnClosedOutboundStream(peer.ID)                       {}
func (*meshTracer) Join(string)                                          {}
func (*meshTracer) Leave(string)                                         {}
func (*meshTracer) Prune(peer.ID, string)                                {}
func (*meshTracer) ValidateMessage(*pubsub.Message)                      {}
func (*meshTracer) DeliverMessage(*pubsub.Message)                       {}
func (*meshTracer) RejectMessage(*pubsub.Message, string)                {}
func (*meshTracer) DuplicateMessage(*pubsub.Message)                     {}
func (*meshTracer) ThrottlePeer(peer.ID)                                 {}
func (*meshTracer) RecvRPC(*pubsub.RPC)                                  {}
func (*meshTracer) SendRPC(*pubsub.RPC, peer.ID)                         {}
func (*meshTracer) SendRPCCompleted(*pubsub.RPC, peer.ID, time.Duration) {}
func (*meshTracer) DropRPC(*pubsub.RPC, peer.ID)                         {}
func (*meshTracer) UndeliverableMessage(*pubsub.Message)                 {}

// waitMesh waits until n's mesh for topic holds each of peers: gossipsub
// sends a node's publishes to its mesh, which forms at the first heartbeat
// (1 s) after peers join.
func waitMesh(t *testing.T, n *node, topic string, peers ...peer.ID) {
	t.Helper()
	eventually(t, 10*time.Second, "mesh holds every peer", func() bool {
		for _, p := range peers {
			if !n.mesh.grafted(topic, p) {
				return false
			}
		}
		return true
	})
}

func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// startRawNode starts a host that joins the header and fraud topics with
// no validator (a rogue), with a router message limit of maxMsg bytes (0:
// the default).
func startRawNode(t *testing.T, seed byte, maxMsg int, bootstrap ...string) *node {
	t.Helper()
	p := p2p.DefaultParams(testChain, config.RoleFull, testKey(seed))
	mesh := newMeshTracer()
	p.PubSubOptions = []pubsub.Option{pubsub.WithRawTracer(mesh)}
	p.ListenAddrs = []string{"/ip4/127.0.0.1/tcp/0"}
	p.Bootstrap = bootstrap
	p.PoolSize = 0
	if maxMsg > 0 {
		p.MaxMessageSize = maxMsg
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	h, err := p2p.New(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	g := &Gossip{}
	if g.hdr, err = h.PubSub().Join(HeaderTopic(testChain)); err != nil {
		t.Fatal(err)
	}
	if g.fraud, err = h.PubSub().Join(FraudTopic(testChain)); err != nil {
		t.Fatal(err)
	}
	if g.hdrSub, err = g.hdr.Subscribe(); err != nil {
		t.Fatal(err)
	}
	if g.frSub, err = g.fraud.Subscribe(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.hdrSub.Cancel(); g.frSub.Cancel() })
	return &node{h: h, g: g, mesh: mesh}
}
