package p2p

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p"
	dht "github.com/libp2p/go-libp2p-kad-dht"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	pb "github.com/libp2p/go-libp2p-pubsub/pb"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/discovery"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/peerstore"
	"github.com/libp2p/go-libp2p/core/protocol"
	drouting "github.com/libp2p/go-libp2p/p2p/discovery/routing"
	"github.com/libp2p/go-libp2p/p2p/net/connmgr"
	"github.com/libp2p/go-libp2p/p2p/net/swarm"
	"github.com/libp2p/go-libp2p/p2p/security/noise"
	quic "github.com/libp2p/go-libp2p/p2p/transport/quic"
	tcp "github.com/libp2p/go-libp2p/p2p/transport/tcp"
	ma "github.com/multiformats/go-multiaddr"
)

// Connection manager protection tags.
const (
	TagBootstrap = "tessera-bootstrap" // bootstrap peers
	TagPool      = "tessera-pool"      // members of the full-peer pool
)

// Retry timing of the background loops.
const (
	retryMin            = 250 * time.Millisecond // first retry after a failed dial or advertisement
	retryMax            = time.Minute            // longest wait between retries
	bootstrapCheckEvery = 2 * time.Second        // how often a connected bootstrap peer is checked
	userAgent           = "tessera"
	validateQueue       = 256 // gossip messages waiting for validation before new ones are dropped
)

// ErrClosed is returned by methods called after Close.
var ErrClosed = errors.New("p2p: host closed")

// Host is a node's libp2p host with its DHT, discovery, gossipsub router
// and full-peer pool. Its methods are safe for concurrent use.
type Host struct {
	p     Params
	log   *slog.Logger
	h     host.Host
	dht   *dht.IpfsDHT
	disc  *drouting.RoutingDiscovery
	ps    *pubsub.PubSub
	cm    *connmgr.BasicConnMgr
	pool  *Pool
	boot  []peer.AddrInfo
	bootM map[peer.ID]bool

	ctx    context.Context // ends at Close
	cancel context.CancelFunc
	wg     sync.WaitGroup

	advMu sync.Mutex
	adv   map[string]context.CancelFunc // rendezvous keys being advertised
	once  sync.Once
}

// DHTProtocolPrefix returns the private DHT's protocol prefix for chainID:
// its protocol ID is the prefix followed by /kad/1.0.0.
func DHTProtocolPrefix(chainID string) protocol.ID { return protocol.ID("/tessera/" + chainID) }

// New starts a host with p. ctx bounds the start only (the first bootstrap
// dials); the host runs until Close. New waits up to p.DialTimeout for a
// first bootstrap connection and then returns even if none succeeded: the
// bootstrap peers are re-dialled in the background with backoff.
func New(ctx context.Context, p Params) (*Host, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	log := p.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	priv, err := crypto.UnmarshalEd25519PrivateKey(p.Key)
	if err != nil {
		return nil, fmt.Errorf("%w: key: %w", ErrInvalidParams, err)
	}
	self, err := peer.IDFromPrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("%w: key: %w", ErrInvalidParams, err)
	}
	boot, _ := parseBootstrap(p.Bootstrap) // checked by Validate
	bootM := map[peer.ID]bool{}
	kept := boot[:0]
	for _, ai := range boot {
		if ai.ID != self {
			kept = append(kept, ai)
			bootM[ai.ID] = true
		}
	}
	boot = kept

	prefix := DHTProtocolPrefix(p.ChainID)
	cm, err := connmgr.NewConnManager(p.Limits.ConnLow, p.Limits.ConnHigh, connmgr.WithGracePeriod(p.Limits.ConnGrace))
	if err != nil {
		return nil, fmt.Errorf("p2p: connection manager: %w", err)
	}
	rm, err := newResourceManager(&p, prefix+"/kad/1.0.0")
	if err != nil {
		cm.Close()
		return nil, fmt.Errorf("p2p: resource manager: %w", err)
	}
	opts := []libp2p.Option{
		libp2p.Identity(priv),
		libp2p.ListenAddrStrings(p.ListenAddrs...),
		libp2p.Security(noise.ID, noise.New),
		libp2p.Transport(tcp.NewTCPTransport),
		libp2p.Transport(quic.NewTransport),
		libp2p.DisableRelay(),
		libp2p.ResourceManager(rm),
		libp2p.ConnectionManager(cm),
		libp2p.UserAgent(userAgent),
	}
	if p.Registerer != nil {
		opts = append(opts, libp2p.PrometheusRegisterer(p.Registerer))
	} else {
		opts = append(opts, libp2p.DisableMetrics())
	}
	lh, err := libp2p.New(opts...)
	if err != nil {
		return nil, fmt.Errorf("p2p: libp2p host: %w", err)
	}
	hctx, cancel := context.WithCancel(context.Background())
	fail := func(err error) (*Host, error) {
		cancel()
		lh.Close()
		return nil, err
	}
	for _, ai := range boot {
		cm.Protect(ai.ID, TagBootstrap)
		lh.Peerstore().AddAddrs(ai.ID, ai.Addrs, peerstore.PermanentAddrTTL)
	}
	mode := dht.ModeClient
	if p.server() {
		mode = dht.ModeServer
	}
	kad, err := dht.New(lh,
		dht.Mode(mode),
		dht.ProtocolPrefix(prefix),
		dht.BootstrapPeers(boot...),
		dht.DisableValues(), // provider records only: no per-block or per-sample values
	)
	if err != nil {
		return fail(fmt.Errorf("p2p: dht: %w", err))
	}
	psOpts := append([]pubsub.Option{
		pubsub.WithNoAuthor(), // headers and fraud proofs are self-authenticating
		pubsub.WithMessageIdFn(contentID),
		pubsub.WithMaxMessageSize(p.MaxMessageSize),
		pubsub.WithPeerExchange(p.server()),
		pubsub.WithValidateQueueSize(validateQueue),
	}, p.PubSubOptions...)
	ps, err := pubsub.NewGossipSub(hctx, lh, psOpts...)
	if err != nil {
		kad.Close()
		return fail(fmt.Errorf("p2p: gossipsub: %w", err))
	}
	h := &Host{
		p: p, log: log, h: lh, dht: kad, disc: drouting.NewRoutingDiscovery(kad), ps: ps, cm: cm,
		boot: boot, bootM: bootM, ctx: hctx, cancel: cancel, adv: map[string]context.CancelFunc{},
	}
	first := make(chan struct{})
	var firstOnce sync.Once
	for _, ai := range boot {
		h.wg.Add(1)
		go func() {
			defer h.wg.Done()
			h.keepConnected(ai, func() { firstOnce.Do(func() { close(first) }) })
		}()
	}
	if len(boot) > 0 {
		t := time.NewTimer(p.DialTimeout)
		select {
		case <-first:
		case <-t.C:
			log.Warn("p2p: no bootstrap peer reachable yet; retrying in the background", "peers", len(boot))
		case <-ctx.Done():
		}
		t.Stop()
	}
	if err := kad.Bootstrap(hctx); err != nil {
		h.Close()
		return nil, fmt.Errorf("p2p: dht bootstrap: %w", err)
	}
	if p.server() {
		for _, key := range advertisedKeys(&p) {
			h.startAdvertising(key)
		}
	}
	if p.PoolSize > 0 {
		h.pool = newPool(h, KeyFull, p.PoolSize)
		h.wg.Add(1)
		go func() {
			defer h.wg.Done()
			h.pool.run(hctx)
		}()
	}
	log.Info("p2p: host started", "id", lh.ID(), "role", p.Role, "addrs", h.Addrs())
	return h, nil
}

// contentID names a gossip message by the SHA-256 of its data, so the same
// header relayed by several peers is delivered once.
func contentID(m *pb.Message) string {
	s := sha256.Sum256(m.GetData())
	return string(s[:20])
}

// keepConnected dials ai until connected, then checks it every
// bootstrapCheckEvery and re-dials with backoff when the connection drops.
func (h *Host) keepConnected(ai peer.AddrInfo, connected func()) {
	var wait, backoff time.Duration
	for {
		t := time.NewTimer(wait)
		select {
		case <-h.ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		if h.h.Network().Connectedness(ai.ID) == network.Connected {
			connected()
			wait, backoff = bootstrapCheckEvery, 0
			continue
		}
		h.clearDialBackoff(ai.ID) // our own backoff paces the retries
		ctx, cancel := context.WithTimeout(h.ctx, h.p.DialTimeout)
		err := h.h.Connect(ctx, ai)
		cancel()
		if err == nil {
			connected()
			h.log.Debug("p2p: bootstrap peer connected", "peer", ai.ID)
			wait, backoff = bootstrapCheckEvery, 0
			continue
		}
		if h.ctx.Err() != nil {
			return
		}
		backoff = nextBackoff(backoff)
		wait = backoff
		h.log.Debug("p2p: bootstrap dial failed", "peer", ai.ID, "retry_in", wait, "err", err)
	}
}

// clearDialBackoff forgets the swarm's dial backoff for p (5 s and growing
// after a failed dial), so a peer that comes back is reached at our next try.
func (h *Host) clearDialBackoff(p peer.ID) {
	if sw, ok := h.h.Network().(*swarm.Swarm); ok {
		sw.Backoff().Clear(p)
	}
}

// nextBackoff doubles d within [retryMin, retryMax].
func nextBackoff(d time.Duration) time.Duration {
	if d < retryMin {
		return retryMin
	}
	return min(2*d, retryMax)
}

// Host returns the libp2p host (for protocol handlers and streams).
func (h *Host) Host() host.Host { return h.h }

// ID returns the node's peer ID.
func (h *Host) ID() peer.ID { return h.h.ID() }

// Addrs returns the node's listen addresses with /p2p/<ID> appended: each
// can be given to other nodes as a bootstrap address.
func (h *Host) Addrs() []ma.Multiaddr {
	out, err := peer.AddrInfoToP2pAddrs(&peer.AddrInfo{ID: h.h.ID(), Addrs: h.h.Addrs()})
	if err != nil {
		return nil
	}
	return out
}

// PubSub returns the gossipsub router. Messages carry no author or
// signature (the payloads sign themselves), are named by their content hash,
// and an RPC larger than Params.MaxMessageSize resets the stream it came on.
func (h *Host) PubSub() *pubsub.PubSub { return h.ps }

// DHT returns the private kad-dht.
func (h *Host) DHT() *dht.IpfsDHT { return h.dht }

// Pool returns the full-peer pool, nil when Params.PoolSize is 0.
func (h *Host) Pool() *Pool { return h.pool }

// Protect keeps the connection manager from trimming the connection to p
// while any tag protects it.
func (h *Host) Protect(p peer.ID, tag string) { h.cm.Protect(p, tag) }

// Unprotect removes tag from p and reports whether other tags still protect it.
func (h *Host) Unprotect(p peer.ID, tag string) bool { return h.cm.Unprotect(p, tag) }

// IsBootstrap reports whether p is one of the bootstrap peers.
func (h *Host) IsBootstrap(p peer.ID) bool { return h.bootM[p] }

// FindPeers returns up to limit peers advertising key (excluding this node),
// searching the DHT until ctx ends or the search is exhausted.
func (h *Host) FindPeers(ctx context.Context, key string, limit int) ([]peer.AddrInfo, error) {
	if h.ctx.Err() != nil {
		return nil, ErrClosed
	}
	ch, err := h.disc.FindPeers(ctx, key, discovery.Limit(limit))
	if err != nil {
		return nil, err
	}
	var out []peer.AddrInfo
	for ai := range ch {
		if ai.ID != h.h.ID() {
			out = append(out, ai)
		}
	}
	return out, nil
}

// Close stops the background loops, the DHT and the host.
func (h *Host) Close() error {
	var err error
	h.once.Do(func() {
		h.cancel()
		h.wg.Wait()
		err = errors.Join(h.dht.Close(), h.h.Close())
	})
	return err
}
