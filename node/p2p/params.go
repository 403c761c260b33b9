package p2p

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	ma "github.com/multiformats/go-multiaddr"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/tessera-da/tessera/node/config"
	"github.com/tessera-da/tessera/node/header"
	"github.com/tessera-da/tessera/share"
)

// ErrInvalidParams wraps every Params.Validate error.
var ErrInvalidParams = errors.New("p2p: invalid params")

// Defaults and bounds of the host's timers and sizes.
const (
	DefaultAdvertiseInterval = time.Hour        // re-advertise every rendezvous key (records live 48 h)
	DefaultPoolSize          = 8                // full peers a node keeps in its pool
	DefaultPoolRefresh       = 30 * time.Second // pool refresh period when the pool is full
	DefaultBanDuration       = 10 * time.Minute // a peer reported bad is not re-added for this long
	DefaultDialTimeout       = 5 * time.Second  // one dial attempt
	DefaultMaxMessageSize    = 1 << 20          // bytes: largest gossipsub RPC (fits a k=512 bad-encoding proof, ~0.75 MB)
	MinMaxMessageSize        = 4 << 10          // bytes: a compact header (< 300 bytes) plus RPC framing, with room
	MinAdvertiseInterval     = time.Second      // shortest re-advertise period accepted
	MinPoolRefresh           = 100 * time.Millisecond
	MaxNamespaces            = 1024 // pinned namespaces advertised at most
)

// Params configures a Host. Build it from DefaultParams and change what
// differs; Validate reports every invalid value (nothing is clamped).
type Params struct {
	// ChainID names the network: the DHT protocol prefix is /tessera/<ChainID>.
	// It must be printable ASCII without '/' or spaces.
	ChainID string
	// Role decides the DHT mode (server for producer and full, client for
	// light) and whether the node advertises rendezvous keys.
	Role config.Role
	// Archival makes a producer or full node also advertise KeyArchival.
	Archival bool
	// Namespaces a producer or full node pins: each is advertised as
	// NamespaceKey(ns).
	Namespaces []share.Namespace
	// Key is the node's persistent ed25519 key (config.LoadOrCreateNodeKey);
	// its public key is the libp2p peer ID.
	Key ed25519.PrivateKey
	// ListenAddrs are multiaddrs to listen on, e.g. /ip4/0.0.0.0/tcp/2121
	// and /ip4/0.0.0.0/udp/2121/quic-v1. TCP and QUIC v1 are supported.
	ListenAddrs []string
	// Bootstrap peers as multiaddrs ending in /p2p/<peer ID>: connected at
	// start and whenever the connection drops (with backoff), protected in
	// the connection manager, and used to seed the DHT. The node's own
	// address may be listed (it is skipped), so one list serves a network.
	Bootstrap []string

	// Limits are the resource manager and connection manager limits.
	Limits Limits
	// Protocols gives explicit stream and memory limits for the Tessera
	// request/response protocols (the DHT and gossipsub get theirs from
	// Limits). Use DefaultProtocolLimit(role) unless measured otherwise.
	Protocols map[protocol.ID]ProtocolLimit

	AdvertiseInterval time.Duration // re-advertise period of every rendezvous key
	PoolSize          int           // full peers kept in the pool; 0 disables the pool
	PoolRefresh       time.Duration // pool refresh period when full (faster while short of peers)
	BanDuration       time.Duration // how long a peer reported bad stays out of the pool
	DialTimeout       time.Duration // one dial attempt
	MaxMessageSize    int           // bytes: largest gossipsub RPC read from a peer

	// PubSubOptions are appended to the gossipsub options (tracers, peer
	// scoring); they may override the defaults above.
	PubSubOptions []pubsub.Option

	// Registerer receives libp2p's Prometheus metrics; nil disables them.
	Registerer prometheus.Registerer
	// Logger receives the host's logs; nil discards them.
	Logger *slog.Logger
}

// Limits are explicit resource limits. They replace go-libp2p's AutoScale,
// which on a small machine admits only 252 inbound connections: too few for
// a full node serving many light nodes.
type Limits struct {
	Conns, ConnsInbound, ConnsOutbound       int   // connections, whole host
	Streams, StreamsInbound, StreamsOutbound int   // streams, whole host
	Memory                                   int64 // bytes reserved by transports and muxers, whole host
	FD                                       int   // file descriptors (TCP connections; QUIC shares one socket)

	PeerConns   int   // connections to one peer
	PeerStreams int   // streams with one peer, both directions
	PeerMemory  int64 // bytes for one peer

	TransientConns   int   // connections not yet attached to a peer (handshaking)
	TransientStreams int   // streams not yet attached to a protocol (negotiating)
	TransientMemory  int64 // bytes

	DHTStreams     int // DHT streams, whole host, each direction
	DHTPeerStreams int // DHT streams with one peer, each direction

	ConnLow, ConnHigh int           // connection manager: trim to ConnLow when above ConnHigh
	ConnGrace         time.Duration // new connections are not trimmed for this long
}

// ProtocolLimit bounds the streams and memory of one request/response protocol.
type ProtocolLimit struct {
	StreamsInbound, StreamsOutbound         int   // streams, all peers
	PeerStreamsInbound, PeerStreamsOutbound int   // streams, one peer
	Memory                                  int64 // bytes, all peers
	PeerMemory                              int64 // bytes, one peer
}

// DefaultLimits returns the limits for role. A producer or full node admits
// 3,584 inbound connections (light nodes) and 512 outbound, 64 Ki streams,
// 2 GiB of transport memory and 4,096 file descriptors; a light node 128
// inbound and 384 outbound connections, 8 Ki streams and 512 MiB. One peer
// gets at most 8 connections (as many as the swarm dials at once), 1,024
// streams and 64 MiB. The connection manager trims a full node from 3,584
// to 3,072 connections and a light node from 256 to 192, never touching
// protected peers (bootstrap, pool and those passed to Host.Protect).
func DefaultLimits(role config.Role) Limits {
	l := Limits{
		PeerConns: 8, PeerStreams: 1024, PeerMemory: 64 << 20,
		TransientConns: 512, TransientStreams: 1024, TransientMemory: 128 << 20,
		ConnGrace: 30 * time.Second,
	}
	if role == config.RoleLight {
		l.Conns, l.ConnsInbound, l.ConnsOutbound = 512, 128, 384
		l.Streams, l.StreamsInbound, l.StreamsOutbound = 8192, 2048, 6144
		l.Memory, l.FD = 512<<20, 1024
		l.DHTStreams, l.DHTPeerStreams = 256, 16
		l.ConnLow, l.ConnHigh = 192, 256
		return l
	}
	l.Conns, l.ConnsInbound, l.ConnsOutbound = 4096, 3584, 512
	l.Streams, l.StreamsInbound, l.StreamsOutbound = 65536, 57344, 8192
	l.Memory, l.FD = 2<<30, 4096
	l.DHTStreams, l.DHTPeerStreams = 2048, 32
	l.ConnLow, l.ConnHigh = 3072, 3584
	return l
}

// DefaultProtocolLimit returns the default limit of one Tessera
// request/response protocol for role: on a full node 8,192 inbound streams
// (e.g. 3,584 light nodes with two sampling rounds in flight), 64 per peer
// (a 16-sample round in flight four times over), 512 MiB and 32 MiB per peer;
// a light node serves less (1,024 inbound, 32 per peer, 128 MiB) and asks
// more (2,048 outbound, 64 per peer).
func DefaultProtocolLimit(role config.Role) ProtocolLimit {
	if role == config.RoleLight {
		return ProtocolLimit{StreamsInbound: 1024, StreamsOutbound: 2048, PeerStreamsInbound: 32, PeerStreamsOutbound: 64, Memory: 128 << 20, PeerMemory: 16 << 20}
	}
	return ProtocolLimit{StreamsInbound: 8192, StreamsOutbound: 2048, PeerStreamsInbound: 64, PeerStreamsOutbound: 64, Memory: 512 << 20, PeerMemory: 32 << 20}
}

// DefaultParams returns the parameters of a node of role on chainID with
// key, listening on every IPv4 interface on a random TCP and QUIC port.
func DefaultParams(chainID string, role config.Role, key ed25519.PrivateKey) Params {
	return Params{
		ChainID:           chainID,
		Role:              role,
		Key:               key,
		ListenAddrs:       []string{"/ip4/0.0.0.0/tcp/0", "/ip4/0.0.0.0/udp/0/quic-v1"},
		Limits:            DefaultLimits(role),
		Protocols:         map[protocol.ID]ProtocolLimit{},
		AdvertiseInterval: DefaultAdvertiseInterval,
		PoolSize:          DefaultPoolSize,
		PoolRefresh:       DefaultPoolRefresh,
		BanDuration:       DefaultBanDuration,
		DialTimeout:       DefaultDialTimeout,
		MaxMessageSize:    DefaultMaxMessageSize,
	}
}

// server reports whether the role runs the DHT in server mode and advertises.
func (p *Params) server() bool { return p.Role == config.RoleProducer || p.Role == config.RoleFull }

// Validate checks every field.
func (p *Params) Validate() error {
	bad := func(field, format string, args ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrInvalidParams, field, fmt.Sprintf(format, args...))
	}
	if err := header.CheckChainID(p.ChainID); err != nil {
		return bad("chain_id", "%v", err)
	}
	switch p.Role {
	case config.RoleProducer, config.RoleFull, config.RoleLight:
	default:
		return bad("role", "%q is not producer, full or light", p.Role)
	}
	if p.Archival && !p.server() {
		return bad("archival", "only producer and full nodes keep every square")
	}
	if len(p.Namespaces) > 0 && !p.server() {
		return bad("namespaces", "only producer and full nodes advertise pinned namespaces")
	}
	if len(p.Namespaces) > MaxNamespaces {
		return bad("namespaces", "%d, at most %d", len(p.Namespaces), MaxNamespaces)
	}
	if len(p.Key) != ed25519.PrivateKeySize {
		return bad("key", "%d bytes, want an ed25519 private key of %d", len(p.Key), ed25519.PrivateKeySize)
	}
	if len(p.ListenAddrs) == 0 {
		return bad("listen_addrs", "empty")
	}
	for _, s := range p.ListenAddrs {
		if _, err := ma.NewMultiaddr(s); err != nil {
			return bad("listen_addrs", "%q: %v", s, err)
		}
	}
	if _, err := parseBootstrap(p.Bootstrap); err != nil {
		return bad("bootstrap", "%v", err)
	}
	if err := p.Limits.validate(); err != nil {
		return bad("limits", "%v", err)
	}
	for id, l := range p.Protocols {
		if id == "" {
			return bad("protocols", "empty protocol ID")
		}
		if err := l.validate(); err != nil {
			return bad("protocols", "%s: %v", id, err)
		}
	}
	switch {
	case p.AdvertiseInterval < MinAdvertiseInterval:
		return bad("advertise_interval", "%v is below %v", p.AdvertiseInterval, MinAdvertiseInterval)
	case p.PoolSize < 0:
		return bad("pool_size", "%d is negative", p.PoolSize)
	case p.PoolSize > 0 && p.PoolSize > p.Limits.ConnLow:
		return bad("pool_size", "%d exceeds limits.conn_low %d", p.PoolSize, p.Limits.ConnLow)
	case p.PoolRefresh < MinPoolRefresh:
		return bad("pool_refresh", "%v is below %v", p.PoolRefresh, MinPoolRefresh)
	case p.BanDuration <= 0:
		return bad("ban_duration", "%v must be positive", p.BanDuration)
	case p.DialTimeout <= 0:
		return bad("dial_timeout", "%v must be positive", p.DialTimeout)
	case p.MaxMessageSize < MinMaxMessageSize:
		return bad("max_message_size", "%d bytes is below %d", p.MaxMessageSize, MinMaxMessageSize)
	}
	return nil
}

func (l *Limits) validate() error {
	pos := []struct {
		name string
		v    int64
	}{
		{"conns", int64(l.Conns)}, {"conns_inbound", int64(l.ConnsInbound)}, {"conns_outbound", int64(l.ConnsOutbound)},
		{"streams", int64(l.Streams)}, {"streams_inbound", int64(l.StreamsInbound)}, {"streams_outbound", int64(l.StreamsOutbound)},
		{"memory", l.Memory}, {"fd", int64(l.FD)},
		{"peer_conns", int64(l.PeerConns)}, {"peer_streams", int64(l.PeerStreams)}, {"peer_memory", l.PeerMemory},
		{"transient_conns", int64(l.TransientConns)}, {"transient_streams", int64(l.TransientStreams)}, {"transient_memory", l.TransientMemory},
		{"dht_streams", int64(l.DHTStreams)}, {"dht_peer_streams", int64(l.DHTPeerStreams)},
		{"conn_low", int64(l.ConnLow)}, {"conn_high", int64(l.ConnHigh)},
	}
	for _, f := range pos {
		if f.v <= 0 {
			return fmt.Errorf("%s: %d must be positive", f.name, f.v)
		}
	}
	switch {
	case l.ConnsInbound > l.Conns || l.ConnsOutbound > l.Conns:
		return fmt.Errorf("conns_inbound %d or conns_outbound %d exceeds conns %d", l.ConnsInbound, l.ConnsOutbound, l.Conns)
	case l.StreamsInbound > l.Streams || l.StreamsOutbound > l.Streams:
		return fmt.Errorf("streams_inbound %d or streams_outbound %d exceeds streams %d", l.StreamsInbound, l.StreamsOutbound, l.Streams)
	case l.ConnLow >= l.ConnHigh:
		return fmt.Errorf("conn_low %d must be below conn_high %d", l.ConnLow, l.ConnHigh)
	case l.ConnHigh > l.Conns:
		return fmt.Errorf("conn_high %d exceeds conns %d", l.ConnHigh, l.Conns)
	case l.ConnGrace < 0:
		return fmt.Errorf("conn_grace %v is negative", l.ConnGrace)
	case l.PeerMemory > l.Memory || l.TransientMemory > l.Memory:
		return fmt.Errorf("peer_memory %d or transient_memory %d exceeds memory %d", l.PeerMemory, l.TransientMemory, l.Memory)
	}
	return nil
}

func (l *ProtocolLimit) validate() error {
	switch {
	case l.StreamsInbound <= 0 || l.StreamsOutbound <= 0 || l.PeerStreamsInbound <= 0 || l.PeerStreamsOutbound <= 0:
		return errors.New("stream limits must be positive")
	case l.Memory <= 0 || l.PeerMemory <= 0:
		return errors.New("memory limits must be positive")
	case l.PeerStreamsInbound > l.StreamsInbound || l.PeerStreamsOutbound > l.StreamsOutbound || l.PeerMemory > l.Memory:
		return errors.New("a per-peer limit exceeds its protocol-wide limit")
	}
	return nil
}

// parseBootstrap parses multiaddrs ending in /p2p/<id>, merging addresses
// of the same peer.
func parseBootstrap(addrs []string) ([]peer.AddrInfo, error) {
	mas := make([]ma.Multiaddr, 0, len(addrs))
	for _, s := range addrs {
		m, err := ma.NewMultiaddr(s)
		if err != nil {
			return nil, fmt.Errorf("%q: %w", s, err)
		}
		mas = append(mas, m)
	}
	infos, err := peer.AddrInfosFromP2pAddrs(mas...)
	if err != nil {
		return nil, fmt.Errorf("%w (each address must end in /p2p/<peer ID>)", err)
	}
	return infos, nil
}
