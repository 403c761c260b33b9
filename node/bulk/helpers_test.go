package bulk

import (
	"context"
	"crypto/rand"
	"sync"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p"
	dht "github.com/libp2p/go-libp2p-kad-dht"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/routing"
	tcp "github.com/libp2p/go-libp2p/p2p/transport/tcp"

	"github.com/tessera-da/tessera/node/store"
)

const testChain = "test" // bitswap and DHT prefix /tessera/test

// testParams are DefaultParams with retries fast enough for tests.
func testParams() Params {
	p := DefaultParams(testChain)
	p.RetryMin = 20 * time.Millisecond
	p.RetryMax = 200 * time.Millisecond
	p.ProviderSearchDelay = 100 * time.Millisecond
	return p
}

// newHost starts a libp2p host on 127.0.0.1 (TCP only).
func newHost(t testing.TB) host.Host {
	t.Helper()
	h, err := libp2p.New(
		libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"),
		libp2p.Transport(tcp.NewTCPTransport),
		libp2p.DisableRelay(),
	)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

// newDHT starts a kad-dht server on h. Auto-refresh is off so that the
// DHT dials no one on its own: tests decide who is connected.
func newDHT(t testing.TB, h host.Host) *dht.IpfsDHT {
	t.Helper()
	d, err := dht.New(h, dht.Mode(dht.ModeServer), dht.ProtocolPrefix(ProtocolPrefix(testChain)), dht.DisableAutoRefresh())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// openStore opens a store in dir (a fresh temporary one if dir is "").
func openStore(t testing.TB, dir string) *store.Store {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	s, err := store.Open(dir, store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// watchRouter records the providers its FindProvidersAsync returns.
type watchRouter struct {
	routing.ContentRouting
	mu    sync.Mutex
	found map[peer.ID]int
}

func (w *watchRouter) FindProvidersAsync(ctx context.Context, c cid.Cid, n int) <-chan peer.AddrInfo {
	in := w.ContentRouting.FindProvidersAsync(ctx, c, n)
	out := make(chan peer.AddrInfo)
	go func() {
		defer close(out)
		for ai := range in {
			w.mu.Lock()
			if w.found == nil {
				w.found = map[peer.ID]int{}
			}
			w.found[ai.ID]++
			w.mu.Unlock()
			select {
			case out <- ai:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out
}

func (w *watchRouter) foundCount(p peer.ID) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.found[p]
}

// node is a host with a DHT server, a store and a Bulk.
type node struct {
	h      host.Host
	dht    *dht.IpfsDHT
	router *watchRouter
	st     *store.Store
	b      *Bulk
}

func newNode(t testing.TB, p Params) *node {
	t.Helper()
	n := &node{h: newHost(t), st: openStore(t, "")}
	n.dht = newDHT(t, n.h)
	n.router = &watchRouter{ContentRouting: n.dht}
	n.b = newBulk(t, n.h, n.router, n.st, p)
	return n
}

func newBulk(t testing.TB, h host.Host, r routing.ContentRouting, st *store.Store, p Params) *Bulk {
	t.Helper()
	b, err := New(t.Context(), h, r, st.Datastore(), p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// connect connects a to b and waits until each is in the other's DHT
// routing table (if they have DHTs).
func connect(t testing.TB, a, b *node) {
	t.Helper()
	if err := a.h.Connect(t.Context(), peer.AddrInfo{ID: b.h.ID(), Addrs: b.h.Addrs()}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "routing tables", func() bool {
		return a.dht.RoutingTable().Find(b.h.ID()) != "" && b.dht.RoutingTable().Find(a.h.ID()) != ""
	})
}

// disconnect closes every connection between a and b.
func disconnect(t testing.TB, a, b host.Host) {
	t.Helper()
	a.Network().ClosePeer(b.ID())
	b.Network().ClosePeer(a.ID())
	waitFor(t, 5*time.Second, "disconnection", func() bool {
		return a.Network().Connectedness(b.ID()) != network.Connected && b.Network().Connectedness(a.ID()) != network.Connected
	})
}

// waitFor polls cond until it holds or d passes.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func randBytes(t testing.TB, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}
