// Package headersync gossips compact signed headers and fraud proofs and
// keeps a node's verified header chain: a Gossip joins the chain's topics
// and validates every message; a Syncer follows the gossip, catches up by
// header ranges when behind, verifies every header against the one before
// it, stores it and hands it on in height order.
//
// # Topics (gossipsub, see p2p.Host.PubSub)
//
//   - /tessera/<chain-id>/headers/v1 (HeaderTopic): one compact header per
//     message, encoded by header.Header.MarshalBinary (at most
//     header.MaxEncodedSize bytes). The validator rejects (the relaying
//     peer is penalised, and blacklisted after GossipParams.MaxInvalid
//     rejections) a message that is larger than a header, does not decode,
//     names another chain, names a producer not in the genesis, carries a
//     bad signature, or sits at the next height without extending the
//     verified head (a fork). It ignores (drops without penalty, does not
//     relay) a header at or below the verified head (checked before the
//     signature, so replays cost no signature check) and one more than
//     GossipParams.MaxAhead (1,024) heights above it (a node that far
//     behind catches up by ranges; the header's height, once its
//     signature checks, still becomes the sync target). It accepts and
//     relays the rest. A header from a genesis producer is trusted for
//     its content; continuity is checked by the Syncer.
//   - /tessera/<chain-id>/fraud/v1 (FraudTopic): fraud proofs in whatever
//     encoding the FraudValidator understands, at most
//     GossipParams.MaxFraudSize (1 MiB) bytes, checked by that validator
//     (no validator: every fraud message is ignored). Valid ones go to
//     SubscribeFraud handlers and are relayed.
//
// Messages are named by the hash of their content, so a header relayed
// by many peers is validated and delivered once. Validation costs one
// ed25519 verification per new header (about 50 µs: BenchmarkHeaderValidate).
//
// # Syncer guarantees
//
//   - Verified: a header is stored and emitted only after header.Verify
//     against the genesis producer keys, the chain ID and the previous
//     verified header (height + 1, previous hash, time not going back).
//     The first header is either height 1 with no previous hash (genesis)
//     or the header at SyncParams.TrustedHeight whose hash is
//     TrustedHash. Forged, forked, gapped or out-of-order headers, from
//     gossip or from a RangeFetcher, are refused and never emitted
//     (TestForgedRangesRejected, TestForgedGossipRejected).
//   - In order, once: OnHeader sees every height from the start (or from
//     the stored head + 1 after a restart) exactly once, strictly
//     increasing, one call at a time, after the header is stored. If it
//     fails it is called again with the same header after a backoff (100
//     ms doubling to 5 s) until it succeeds. A crash after storing a
//     header but before OnHeader returns does not replay it: consumers
//     that must not miss one keep their own checkpoint and read older
//     headers from the store.
//   - Catching up: when the network's height (from gossip) is above the
//     head, ranges of at most SyncParams.BatchSize (256; at most 1,024)
//     headers are requested from the RangeFetcher, each checked and the
//     verified prefix applied; a failed or refused range is retried with
//     backoff (the fetcher should move to another peer). With no gossip
//     for SyncParams.PollInterval (5 s) the Syncer asks for the next
//     range anyway, so a missed tip header is repaired. Gossiped headers
//     within 2 × BatchSize above the head wait in memory until their turn.
//     Catch-up runs at about 13,000 headers/s from memory
//     (BenchmarkSyncRange).
//   - Restart: Run resumes from the store's head, after checking it
//     against the genesis keys and, if the trusted height is stored,
//     the trusted hash (a mismatch stops Run with ErrUntrusted).
//   - A store failure stops Run with the error; nothing else does before
//     its context ends.
//
// # Untrusted inputs
//
// Every gossip message and every header a RangeFetcher returns. The
// store's contents are trusted (written only after verification) but its
// head is checked at start. Parameters are checked by Validate.
//
// # Caller's duties
//
// Create the Gossip once per router and Close it before the host; give a
// Syncer a HeaderStore that persists each PutHeader durably (for a trusted
// start it must accept a first header above height 1) and a RangeFetcher
// that spreads requests over peers and reports bad ones to the pool;
// producers call Gossip.Publish after storing each block, and the full
// node that finds bad encoding calls PublishFraud with a proof its own
// FraudValidator accepts.
package headersync
