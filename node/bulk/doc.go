// Package bulk moves large objects as content-addressed pieces over boxo
// bitswap: dataset pages and checkpoint chunks, which blob/dataset splits,
// describes in manifests and verifies.
//
// A piece is at most MaxPieceSize (1 MiB) bytes and is named by its CID:
// CIDv1, raw codec, sha2-256 of the bytes (ComputeCID). Pieces live in a
// boxo blockstore on a go-datastore (the node passes store.Datastore, so
// they sit in the node's badger under the "D" key range, /blocks/…).
// Providers are found, and pieces announced, through a routing.ContentRouting:
// the node's private kad-dht.
//
// # Guarantees
//
//   - Get and GetVerified return only bytes that hash to the CID asked for
//     and are at most MaxPieceSize, whether they come from the datastore or
//     from a peer (bitswap derives a received block's CID from its bytes;
//     Get checks again, with VerifyPiece). A stored copy that no longer
//     matches is deleted and fetched again.
//   - GetVerified's check runs before a fetched piece is stored or
//     returned: a piece the caller refuses is neither (ErrRejected).
//   - Put returns once the piece is durable in the datastore (as durable as
//     the datastore is: store.Datastore fsyncs unless the store was opened
//     with NoSync). Pieces survive restarts with the datastore. PutPiece
//     does the same for a caller that knows the CID to expect (a manifest
//     entry's digest, PieceCID) and stores nothing that does not hash to it.
//   - Every stored piece (put, or fetched) is served over bitswap and
//     announced: at once, then by a sweep of the whole blockstore at start
//     and every ReprovideInterval, since DHT provider records expire after
//     48 h and nothing else renews them. Announcements retry with backoff,
//     for as long as the routing table is empty (kad-dht's "failed to find
//     any peer in table"), otherwise ProvideAttempts times.
//   - A peer that lies is kept out of bitswap: see "Untrusted inputs".
//   - A fetch that makes no progress for FetchAttemptTimeout starts again
//     with a new session, so a peer that claims a piece and stalls delays
//     a fetch by at most that much per attempt in which it is chosen.
//   - Close stops serving, fetching and announcing and waits for its
//     goroutines; it does not close the host, the router or the datastore.
//
// # Bitswap parameters
//
//   - Protocol /tessera/<chain-id>/ipfs/bitswap/1.2.0 only (Protocols): a
//     private network of Tessera nodes needs no older bitswap versions,
//     and one protocol is one set of resource-manager limits.
//   - WithTargetMessageSize(TargetMessageSize = 64 KiB): with boxo's
//     default (16 KiB), fetches were measured to stall now and then until
//     the 30 s rebroadcast; 64 KiB removed the stalls.
//   - ProviderSearchDelay 250 ms (boxo: 1 s): pieces usually sit on pinning
//     nodes that are not among the connected peers, so the provider lookup
//     starts soon.
//   - WithoutDuplicatedBlockStats: saves a datastore Has per received block.
//   - MaxOutstandingBytesPerPeer left at boxo's 1 MiB: 1, 4 and 16 MiB
//     measured the same on loopback (BenchmarkBulkFetch).
//   - Broadcast control left off. Enabling BroadcastControlLocalPeers
//     without BroadcastControlPeeredPeers panics in boxo v0.43.
//   - No custom multihash hasher: a hasher that returns an error makes
//     bitswap drop the whole message.
//   - Bitswap keeps a hard-coded 20 ms minimum between messages to one
//     peer, so one piece costs at least a 20–40 ms round; throughput comes
//     from many pieces in flight (BenchmarkBulkFetch: 64 concurrent Gets).
//
// # Untrusted inputs
//
// Everything a peer sends: want lists, block presences and blocks, read by
// bsnet with libp2p's 4 MiB message cap. A peer can only make a fetch
// slower, never return wrong bytes:
//
//   - Bytes that do not match the CID asked for are never taken for it.
//     Boxo drops them silently but keeps the sender as a candidate (its
//     earlier HAVE outlives any DONT_HAVE), so one lying peer could hold a
//     fetch until its context ends. Bulk's guard wraps the bitswap network,
//     records every CID asked of each peer, and treats a block whose CID was
//     never asked of its sender as proof of a lie (an honest server only
//     sends what it was asked for). The liar's message is dropped, bitswap
//     is told the peer disconnected (its sessions move on), and the peer is
//     hidden from bitswap for BanDuration; Params.OnBadPeer is told, so the
//     node can score or ban it for other protocols. Wants are remembered for
//     5 minutes and at most 65,536 per peer (beyond that a peer is not
//     judged until the next prune).
//   - An oversized piece whose bytes do match its CID is refused with
//     ErrTooLarge and not stored; the sender is not banned.
//   - The CIDs a caller passes: Get, GetVerified and Has accept only piece
//     CIDs (ErrInvalidCID otherwise).
//
// The datastore is trusted to return what was written, and is still
// checked: store.Datastore detects damage with a CRC, and Get re-hashes.
//
// # Caller's duties
//
//   - Pass the node's kad-dht (server mode on full nodes) as the router,
//     with the same chain ID as Params.ChainID. Light nodes may set
//     NoAnnounce.
//   - Give Protocols(chainID) explicit limits in the host's resource
//     manager: bitswap keeps one long-lived stream per peer for its wants
//     and opens a short stream for each message it answers with.
//   - Bound what you fetch at once: a serving peer sends at most 1 MiB at
//     a time to one peer and queues the rest, and a Get still queued after
//     FetchAttemptTimeout starts over. Keep (pieces in flight × piece
//     size) / bandwidth well below FetchAttemptTimeout.
//   - Give every Get a context with a deadline: without one, a piece nobody
//     has is waited for until Close.
//   - A verify function must not modify or keep the slice it is given.
//
// # What it does not do
//
//   - It does not collect garbage: pieces stay until Delete (pinning in
//     node deletes a dataset's pieces when its pin is removed).
//   - It does not verify a piece against a manifest or a data root: that
//     is GetVerified's verify function.
//   - The sweep announces every stored piece, one DHT walk each
//     (ProvideWorkers at a time): fine for tens of thousands of pieces, not
//     for tens of millions (a sweeping provider would batch by key region).
//   - A store opened with store.OpenInMemory holds pieces only below
//     1 MiB − 5 bytes (badger keeps every value in memory there).
//
// # Known boxo behaviour
//
// Fetching a CID again right after a fetch of it was received and refused
// (verify, or too large) can wait for FetchAttemptTimeout: when the new
// session registers its want before the old session has processed the
// block, boxo still counts the old want-block as outstanding at the peer
// (which has already answered it) and sends nothing until the attempt is
// dropped (or its 30 s rebroadcast). The bytes of a content-addressed piece
// cannot change, so asking again is rarely useful.
package bulk
