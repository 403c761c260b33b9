package p2p

import (
	"github.com/libp2p/go-libp2p"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/protocol"
	rcmgr "github.com/libp2p/go-libp2p/p2p/host/resource-manager"
)

// gossipProtocols are the pubsub protocol IDs whose streams get explicit
// limits: one long-lived stream per direction per peer.
var gossipProtocols = []protocol.ID{pubsub.GossipSubID_v13, pubsub.GossipSubID_v12, pubsub.GossipSubID_v11, pubsub.GossipSubID_v10, pubsub.FloodSubID}

// gossipPeerStreams is how many streams of one pubsub protocol one peer may
// hold per direction (one is used; a replacement may overlap the old one).
const gossipPeerStreams = 4

// limitConfig builds the resource manager's concrete limits from p. The
// scopes Params does not name (services such as identify and ping, one
// connection, one stream) come from go-libp2p's defaults scaled to
// Limits.Memory and Limits.FD, never to the machine, so the result is the
// same wherever the node runs.
func limitConfig(p *Params, dhtProtocol protocol.ID) rcmgr.ConcreteLimitConfig {
	scaling := rcmgr.DefaultLimits // a copy; its maps are nil, so nothing shared is changed
	libp2p.SetDefaultServiceLimits(&scaling)
	base := scaling.Scale(p.Limits.Memory, p.Limits.FD)

	l := p.Limits
	v := func(n int) rcmgr.LimitVal { return rcmgr.LimitVal(n) }
	v64 := func(n int64) rcmgr.LimitVal64 { return rcmgr.LimitVal64(n) }
	system := rcmgr.ResourceLimits{
		Conns: v(l.Conns), ConnsInbound: v(l.ConnsInbound), ConnsOutbound: v(l.ConnsOutbound),
		Streams: v(l.Streams), StreamsInbound: v(l.StreamsInbound), StreamsOutbound: v(l.StreamsOutbound),
		Memory: v64(l.Memory), FD: v(l.FD),
	}
	transient := rcmgr.ResourceLimits{
		Conns: v(l.TransientConns), ConnsInbound: v(l.TransientConns), ConnsOutbound: v(l.TransientConns),
		Streams: v(l.TransientStreams), StreamsInbound: v(l.TransientStreams), StreamsOutbound: v(l.TransientStreams),
		Memory: v64(l.TransientMemory), FD: v(min(l.TransientConns, l.FD)),
	}
	partial := rcmgr.PartialLimitConfig{
		System:               system,
		Transient:            transient,
		AllowlistedSystem:    system,
		AllowlistedTransient: transient,
		PeerDefault: rcmgr.ResourceLimits{
			Conns: v(l.PeerConns), ConnsInbound: v(l.PeerConns), ConnsOutbound: v(l.PeerConns),
			Streams: v(l.PeerStreams), StreamsInbound: v(l.PeerStreams), StreamsOutbound: v(l.PeerStreams),
			Memory: v64(l.PeerMemory), FD: v(l.PeerConns),
		},
		Protocol:     map[protocol.ID]rcmgr.ResourceLimits{},
		ProtocolPeer: map[protocol.ID]rcmgr.ResourceLimits{},
	}
	set := func(id protocol.ID, pl ProtocolLimit) {
		partial.Protocol[id] = rcmgr.ResourceLimits{
			Streams: v(pl.StreamsInbound + pl.StreamsOutbound), StreamsInbound: v(pl.StreamsInbound), StreamsOutbound: v(pl.StreamsOutbound),
			Memory: v64(pl.Memory),
		}
		partial.ProtocolPeer[id] = rcmgr.ResourceLimits{
			Streams: v(pl.PeerStreamsInbound + pl.PeerStreamsOutbound), StreamsInbound: v(pl.PeerStreamsInbound), StreamsOutbound: v(pl.PeerStreamsOutbound),
			Memory: v64(pl.PeerMemory),
		}
	}
	set(dhtProtocol, ProtocolLimit{
		StreamsInbound: l.DHTStreams, StreamsOutbound: l.DHTStreams,
		PeerStreamsInbound: l.DHTPeerStreams, PeerStreamsOutbound: l.DHTPeerStreams,
		Memory: min(l.Memory, 256<<20), PeerMemory: min(l.PeerMemory, 16<<20),
	})
	for _, id := range gossipProtocols {
		set(id, ProtocolLimit{
			StreamsInbound: l.Conns, StreamsOutbound: l.Conns,
			PeerStreamsInbound: gossipPeerStreams, PeerStreamsOutbound: gossipPeerStreams,
			Memory: min(l.Memory, 256<<20), PeerMemory: min(l.PeerMemory, 16<<20),
		})
	}
	for id, pl := range p.Protocols {
		set(id, pl)
	}
	return partial.Build(base)
}

// newResourceManager returns a resource manager enforcing limitConfig.
func newResourceManager(p *Params, dhtProtocol protocol.ID) (network.ResourceManager, error) {
	return rcmgr.NewResourceManager(rcmgr.NewFixedLimiter(limitConfig(p, dhtProtocol)))
}
