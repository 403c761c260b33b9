// Package p2p is a Tessera node's libp2p host: transports, identity,
// resource limits, the private DHT, rendezvous discovery, the gossipsub
// router and the pool of full peers that light nodes (and full nodes)
// fetch from. Protocols on top of it (header gossip in node/headersync,
// request/response exchange in node/exchange) use Host.Host and
// Host.PubSub.
//
// # What it sets up
//
//   - Transports: TCP and QUIC v1 on Params.ListenAddrs, Noise security,
//     yamux; the relay client is off (libp2p.DisableRelay). The peer ID is
//     the node's persistent ed25519 key (Params.Key).
//   - Resource manager with explicit limits (Params.Limits, DefaultLimits):
//     never AutoScale, which gives 252 inbound connections on this machine
//     size. Defaults for producer and full nodes: 4,096 connections (3,584
//     inbound, 512 outbound), 65,536 streams, 2 GiB of transport memory,
//     4,096 file descriptors (only TCP connections use one; QUIC shares a
//     socket: keep ulimit -n above it); per peer 8 connections, 1,024
//     streams, 64 MiB. Light nodes: 512 connections (128 inbound, 384
//     outbound), 8,192 streams, 512 MiB, 1,024 descriptors. Unnamed scopes
//     (identify, ping, one connection, one stream) take go-libp2p's
//     defaults scaled to Limits.Memory and Limits.FD, never to the machine,
//     so a node behaves the same wherever it runs. Per-IP limits of
//     go-libp2p stay on (8 connections per IPv4 address, a connection rate
//     limit per subnet), except for 127.0.0.0/8 and ::1.
//   - Per-protocol limits: every Tessera request/response protocol named
//     in Params.Protocols gets its own stream and memory caps, total and
//     per peer (DefaultProtocolLimit: on a full node 8,192 inbound streams,
//     64 per peer, 512 MiB, 32 MiB per peer). The DHT protocol gets
//     Limits.DHTStreams (2,048 on a full node) and DHTPeerStreams (32);
//     each gossipsub protocol Limits.Conns streams per direction and 4 per
//     peer. A stream past a limit is refused (reset) before its handler
//     runs.
//   - Connection manager: trims to Limits.ConnLow when above ConnHigh
//     (3,072/3,584 on a full node, 192/256 on a light node) after a 30 s
//     grace period, never touching protected peers: bootstrap peers
//     (TagBootstrap), pool members (TagPool) and whatever the caller marks
//     with Host.Protect (e.g. sampling peers).
//   - Bootstrap: Params.Bootstrap (multiaddrs ending in /p2p/<ID>; the
//     node's own entry is skipped) are dialled at start, New waiting up to
//     Params.DialTimeout for the first, and re-dialled in the background
//     with backoff (250 ms doubling to 1 min) whenever disconnected.
//   - DHT: a private kad-dht with protocol /tessera/<chain-id>/kad/1.0.0
//     (DHTProtocolPrefix), in server mode on producer and full nodes (the
//     default auto mode never becomes a server on loopback or behind NAT,
//     and then routing tables stay empty) and client mode on light nodes.
//     In memory only (it needs no persistent datastore); provider records
//     only (values are disabled).
//   - Discovery: producer and full nodes advertise the rendezvous keys
//     KeyFull, KeyArchival (Params.Archival) and NamespaceKey(ns) for each
//     pinned namespace (and keys added with Advertise) as DHT provider
//     records, retrying with backoff while the routing table is still
//     empty, and re-advertise every Params.AdvertiseInterval (1 h; records
//     live 48 h and nothing is re-provided automatically). There are no
//     per-block or per-sample DHT records.
//   - Pool (Host.Pool): keeps Params.PoolSize (8) connected peers that
//     advertise KeyFull, found with FindPeers: refreshed every
//     Params.PoolRefresh (30 s) when full and with backoff from 250 ms while
//     short. Members that disconnect and cannot be re-dialled are dropped.
//     Pool.Report scores peers: a good exchange earns a point, a bad one
//     (wrong proof, malformed or oversized response, stall) costs
//     BadPenalty, removes the peer, closes its connections (unless it is a
//     bootstrap peer) and bans it for Params.BanDuration (10 min).
//     Pool.Peers lists connected members best first.
//   - Gossipsub (Host.PubSub): messages carry no author, sequence number or
//     signature (StrictNoSign: headers and fraud proofs authenticate
//     themselves) and are named by the SHA-256 of their data, so a message
//     relayed by many peers is delivered once. An RPC larger than
//     Params.MaxMessageSize (1 MiB, the largest bad-encoding fraud proof at
//     k = 512 being about 0.75 MB) resets the stream it came on and is
//     never decoded; headers are further capped by their topic validator.
//     256 messages may wait for validation before new ones are dropped.
//     A node's publish reaches its mesh peers, which gossipsub forms at
//     the heartbeat (1 s) after peers join: a message published in that
//     first second may miss a new peer (header sync repairs it by ranges).
//
// # Untrusted inputs
//
// Everything from peers: connections and streams (bounded by the resource
// manager), DHT responses (peer addresses from provider records are only
// dialled, never trusted: a peer proves its worth in exchanges reported to
// Pool.Report), gossip (bounded by MaxMessageSize and judged by the topic
// validators of node/headersync). Params come from the operator and are
// checked by Validate: an invalid value is an error, never clamped.
//
// # Caller's duties
//
// Build Params from DefaultParams and validate them once at start; list
// every Tessera request/response protocol in Params.Protocols; report
// every exchange's outcome to Pool.Report; Close the host last (after the
// protocols using it).
package p2p
