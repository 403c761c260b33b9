package p2p

import (
	"context"
	"errors"
	"io"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	dht "github.com/libp2p/go-libp2p-kad-dht"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/tessera-da/tessera/node/config"
	"github.com/tessera-da/tessera/share"
)

func TestParamsValidate(t *testing.T) {
	ns, err := share.NewV0Namespace([]byte{1, 2, 3})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		change func(p *Params)
		field  string
	}{
		{"empty chain", func(p *Params) { p.ChainID = "" }, "chain_id"},
		{"slash in chain", func(p *Params) { p.ChainID = "a/b" }, "chain_id"},
		{"space in chain", func(p *Params) { p.ChainID = "a b" }, "chain_id"},
		{"role", func(p *Params) { p.Role = "bridge" }, "role"},
		{"light archival", func(p *Params) {
			p.Role = config.RoleLight
			p.Limits = DefaultLimits(config.RoleLight)
			p.Archival = true
		}, "archival"},
		{"light namespaces", func(p *Params) {
			p.Role = config.RoleLight
			p.Limits = DefaultLimits(config.RoleLight)
			p.Namespaces = []share.Namespace{ns}
		}, "namespaces"},
		{"short key", func(p *Params) { p.Key = p.Key[:32] }, "key"},
		{"no listen", func(p *Params) { p.ListenAddrs = nil }, "listen_addrs"},
		{"bad listen", func(p *Params) { p.ListenAddrs = []string{"tcp://1.2.3.4"} }, "listen_addrs"},
		{"bootstrap without id", func(p *Params) { p.Bootstrap = []string{"/ip4/127.0.0.1/tcp/1"} }, "bootstrap"},
		{"zero conns", func(p *Params) { p.Limits.Conns = 0 }, "limits"},
		{"inbound above total", func(p *Params) { p.Limits.ConnsInbound = p.Limits.Conns + 1 }, "limits"},
		{"conn high above conns", func(p *Params) { p.Limits.ConnHigh = p.Limits.Conns + 1 }, "limits"},
		{"low above high", func(p *Params) { p.Limits.ConnLow = p.Limits.ConnHigh }, "limits"},
		{"zero protocol limit", func(p *Params) { p.Protocols["/x/1"] = ProtocolLimit{} }, "protocols"},
		{"peer above protocol", func(p *Params) {
			l := DefaultProtocolLimit(config.RoleFull)
			l.PeerStreamsInbound = l.StreamsInbound + 1
			p.Protocols["/x/1"] = l
		}, "protocols"},
		{"advertise interval", func(p *Params) { p.AdvertiseInterval = time.Millisecond }, "advertise_interval"},
		{"negative pool", func(p *Params) { p.PoolSize = -1 }, "pool_size"},
		{"pool refresh", func(p *Params) { p.PoolRefresh = 0 }, "pool_refresh"},
		{"ban", func(p *Params) { p.BanDuration = 0 }, "ban_duration"},
		{"dial timeout", func(p *Params) { p.DialTimeout = 0 }, "dial_timeout"},
		{"tiny messages", func(p *Params) { p.MaxMessageSize = 512 }, "max_message_size"},
	}
	good := testParams(config.RoleFull, 1)
	if err := good.Validate(); err != nil {
		t.Fatalf("default params: %v", err)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := testParams(config.RoleFull, 1)
			tc.change(&p)
			err := p.Validate()
			if !errors.Is(err, ErrInvalidParams) || !strings.Contains(err.Error(), tc.field) {
				t.Fatalf("got %v, want an ErrInvalidParams naming %s", err, tc.field)
			}
		})
	}
}

// TestLimitsExplicit checks that the resource manager gets the configured
// numbers, not AutoScale's machine-dependent ones.
func TestLimitsExplicit(t *testing.T) {
	p := testParams(config.RoleFull, 1)
	p.Protocols["/tessera/test/sample/1"] = ProtocolLimit{StreamsInbound: 1000, StreamsOutbound: 100, PeerStreamsInbound: 10, PeerStreamsOutbound: 5, Memory: 1 << 20, PeerMemory: 1 << 10}
	cfg := limitConfig(&p, "/tessera/test/kad/1.0.0").ToPartialLimitConfig()
	if got := int(cfg.System.ConnsInbound); got != 3584 {
		t.Errorf("system inbound conns %d, want 3584", got)
	}
	if got := int(cfg.System.Conns); got != 4096 {
		t.Errorf("system conns %d, want 4096", got)
	}
	if got := int64(cfg.System.Memory); got != 2<<30 {
		t.Errorf("system memory %d", got)
	}
	if got := int(cfg.PeerDefault.StreamsInbound); got != 1024 {
		t.Errorf("peer inbound streams %d, want 1024", got)
	}
	pl := cfg.Protocol["/tessera/test/sample/1"]
	if int(pl.StreamsInbound) != 1000 || int(pl.StreamsOutbound) != 100 || int64(pl.Memory) != 1<<20 {
		t.Errorf("protocol limit %+v", pl)
	}
	pp := cfg.ProtocolPeer["/tessera/test/sample/1"]
	if int(pp.StreamsInbound) != 10 || int(pp.StreamsOutbound) != 5 || int64(pp.Memory) != 1<<10 {
		t.Errorf("protocol peer limit %+v", pp)
	}
	if d := cfg.Protocol["/tessera/test/kad/1.0.0"]; int(d.StreamsInbound) != 2048 {
		t.Errorf("dht limit %+v", d)
	}
	if g := cfg.ProtocolPeer["/meshsub/1.2.0"]; int(g.StreamsInbound) != gossipPeerStreams {
		t.Errorf("gossipsub peer limit %+v", g)
	}
	light := testParams(config.RoleLight, 2)
	lc := limitConfig(&light, "/x/kad/1.0.0").ToPartialLimitConfig()
	if int(lc.System.ConnsInbound) != 128 || int(lc.System.ConnsOutbound) != 384 {
		t.Errorf("light system limits %+v", lc.System)
	}
}

// TestProtocolLimitEnforced opens more streams of a Tessera protocol to
// one peer than its per-peer inbound limit: the extra stream is refused.
func TestProtocolLimitEnforced(t *testing.T) {
	const proto = protocol.ID("/tessera/test/limited/1")
	sp := testParams(config.RoleFull, 1)
	sp.Protocols[proto] = ProtocolLimit{StreamsInbound: 10, StreamsOutbound: 10, PeerStreamsInbound: 2, PeerStreamsOutbound: 2, Memory: 1 << 20, PeerMemory: 1 << 20}
	srv := startHost(t, sp)
	release := make(chan struct{})
	srv.Host().SetStreamHandler(proto, func(s network.Stream) {
		defer s.Close()
		s.Write([]byte{1})
		<-release
	})
	defer close(release)
	cli := startHost(t, testParams(config.RoleLight, 2, addrStrings(srv)...))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	open := func() error {
		s, err := cli.Host().NewStream(ctx, srv.ID(), proto)
		if err != nil {
			return err
		}
		s.SetReadDeadline(time.Now().Add(3 * time.Second))
		_, err = io.ReadFull(s, make([]byte, 1))
		return err
	}
	for i := 0; i < 2; i++ {
		if err := open(); err != nil {
			t.Fatalf("stream %d within the limit: %v", i, err)
		}
	}
	if err := open(); err == nil {
		t.Fatal("a third concurrent stream was admitted past a per-peer limit of 2")
	}
}

// TestDiscoveryAndPool starts a bootstrap full node, two full nodes and a
// light node that know only the bootstrap: the full nodes advertise "full"
// in the DHT and the light node's pool finds all three.
func TestDiscoveryAndPool(t *testing.T) {
	start := time.Now()
	boot := startHost(t, testParams(config.RoleFull, 1))
	ba := addrStrings(boot)
	f1 := startHost(t, testParams(config.RoleFull, 2, ba...))
	f2 := startHost(t, testParams(config.RoleProducer, 3, ba...))
	light := startHost(t, testParams(config.RoleLight, 4, ba...))

	if m := f1.DHT().Mode(); m != dht.ModeServer {
		t.Fatalf("full node DHT mode %v, want server", m)
	}
	if m := light.DHT().Mode(); m != dht.ModeClient {
		t.Fatalf("light node DHT mode %v, want client", m)
	}
	if err := light.Advertise("x"); !errors.Is(err, ErrNotServer) {
		t.Fatalf("light Advertise: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := light.Pool().WaitPeers(ctx, 3); err != nil {
		t.Fatalf("light pool: %d peers %v: %v", light.Pool().Len(), light.Pool().Peers(), err)
	}
	t.Logf("light pool full after %v", time.Since(start).Round(time.Millisecond))
	want := []peer.ID{boot.ID(), f1.ID(), f2.ID()}
	got := light.Pool().Peers()
	for _, id := range want {
		if !slices.Contains(got, id) {
			t.Fatalf("pool %v lacks %s", got, id)
		}
	}
	if slices.Contains(got, light.ID()) {
		t.Fatal("pool holds the node itself")
	}
	// Pool members are protected from trimming.
	if !light.Host().ConnManager().IsProtected(f1.ID(), TagPool) {
		t.Fatal("pool member not protected")
	}
	if !f1.Host().ConnManager().IsProtected(boot.ID(), TagBootstrap) {
		t.Fatal("bootstrap peer not protected")
	}
	// Full nodes' pools find each other too, never themselves.
	if err := f1.Pool().WaitPeers(ctx, 2); err != nil {
		t.Fatalf("full pool: %v", err)
	}
	if slices.Contains(f1.Pool().Peers(), f1.ID()) {
		t.Fatal("full pool holds the node itself")
	}
	found, err := light.FindPeers(ctx, KeyFull, 10)
	if err != nil || len(found) < 3 {
		t.Fatalf("FindPeers: %v %v", found, err)
	}
}

// TestPoolReportAndDrop: a peer reported bad leaves the pool, loses score,
// is disconnected and not re-added while banned; a peer that goes away is
// dropped and the pool refills from the DHT.
func TestPoolReportAndDrop(t *testing.T) {
	boot := startHost(t, testParams(config.RoleFull, 1))
	ba := addrStrings(boot)
	f1 := startHost(t, testParams(config.RoleFull, 2, ba...))
	f2 := startHost(t, testParams(config.RoleFull, 3, ba...))
	lp := testParams(config.RoleLight, 4, ba...)
	lp.PoolSize = 2
	lp.BanDuration = 2 * time.Second
	light := startHost(t, lp)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := light.Pool().WaitPeers(ctx, 2); err != nil {
		t.Fatal(err)
	}
	pool := light.Pool()
	victim := pool.Peers()[0]
	if victim == boot.ID() {
		victim = pool.Peers()[1]
	}
	pool.Report(victim, true)
	if pool.Score(victim) != 1 {
		t.Fatalf("score after a good report: %d", pool.Score(victim))
	}
	pool.Report(victim, false)
	if s := pool.Score(victim); s != 1-BadPenalty {
		t.Fatalf("score after a bad report: %d", s)
	}
	if slices.Contains(pool.Peers(), victim) {
		t.Fatal("bad peer still in the pool")
	}
	eventually(t, 5*time.Second, "bad peer disconnected", func() bool {
		return light.Host().Network().Connectedness(victim) != network.Connected
	})
	// The pool refills with the third full node, not the banned one.
	if err := pool.WaitPeers(ctx, 2); err != nil {
		t.Fatal(err)
	}
	if slices.Contains(pool.Peers(), victim) {
		t.Fatal("banned peer re-added during its ban")
	}
	// The ban ends: the peer may come back once a member goes away.
	var other *Host
	for _, h := range []*Host{f1, f2} {
		if h.ID() != victim && slices.Contains(pool.Peers(), h.ID()) {
			other = h
		}
	}
	if other == nil {
		t.Fatalf("pool %v holds neither full node", pool.Peers())
	}
	time.Sleep(lp.BanDuration)
	other.Close()
	eventually(t, 10*time.Second, "closed peer dropped and banned peer back", func() bool {
		ps := pool.Peers()
		return !slices.Contains(ps, other.ID()) && slices.Contains(ps, victim)
	})
}

// TestBootstrapRetry starts a node whose bootstrap peer is not up yet:
// New returns after DialTimeout and the node connects once the peer starts.
func TestBootstrapRetry(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	bp := testParams(config.RoleFull, 1)
	bp.ListenAddrs = []string{"/ip4/127.0.0.1/tcp/" + itoa(port)}
	bootID, err := peer.IDFromPublicKey(mustPub(t, bp))
	if err != nil {
		t.Fatal(err)
	}
	np := testParams(config.RoleLight, 2, bp.ListenAddrs[0]+"/p2p/"+bootID.String())
	np.DialTimeout = 300 * time.Millisecond
	begin := time.Now()
	node := startHost(t, np)
	if d := time.Since(begin); d > 5*time.Second {
		t.Fatalf("New blocked %v on an unreachable bootstrap peer", d)
	}
	boot := startHost(t, bp)
	eventually(t, 10*time.Second, "bootstrap connection after the peer started", func() bool {
		return node.Host().Network().Connectedness(boot.ID()) == network.Connected
	})
}

func TestAddrsArePrintable(t *testing.T) {
	h := startHost(t, testParams(config.RoleFull, 1))
	addrs := addrStrings(h)
	if len(addrs) < 2 {
		t.Fatalf("addrs %v: want TCP and QUIC", addrs)
	}
	var tcp, quic bool
	for _, a := range addrs {
		if !strings.HasSuffix(a, "/p2p/"+h.ID().String()) || !strings.HasPrefix(a, "/ip4/127.0.0.1/") {
			t.Fatalf("address %q", a)
		}
		tcp = tcp || strings.Contains(a, "/tcp/")
		quic = quic || strings.Contains(a, "/quic-v1/")
	}
	if !tcp || !quic {
		t.Fatalf("addrs %v: want TCP and QUIC", addrs)
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	if err := h.Advertise("full"); !errors.Is(err, ErrClosed) {
		t.Fatalf("Advertise after Close: %v", err)
	}
}
