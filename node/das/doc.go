// Package das runs data availability sampling on a light node: it drives
// the pure sampling.Machine with headers, verified samples and clock
// ticks, and answers das.SamplingStats, das.WaitCatchUp and
// share.SharesAvailable from its verdicts.
//
// # What the DASer does
//
//   - Learns the network head from Headers.Head at Start and from OnHeader
//     afterwards, and samples every height of the window: the head first,
//     older heights by up to Config.CatchUpWorkers catch-up workers beside it.
//   - Looks up each catch-up height's header with Headers.GetByHeight (again
//     after the request timeout when the store does not have it yet).
//   - Fetches each height's coordinates with one Fetcher.SampleFromAny call
//     bounded by Config.RequestTimeout, and verifies every returned sample
//     with erasure.VerifySample against the header's data root, width and
//     the requested coordinate. Nothing the fetcher returns is trusted: a
//     bad or missing sample is a failed coordinate, asked for again up to
//     Config.Retries times, after which the height is unavailable.
//   - Hands every verified sample to the SampleSink, so the light node can
//     serve it later.
//   - Stores each height's verdict (available, confidence, samples
//     verified) and then the machine's checkpoint through Checkpoints (one
//     PutBatch when it is a BatchPutter). A restart resumes from the
//     checkpoint without sampling a finished height again.
//   - MarkFraud makes a height and every later one unavailable, now and
//     after restarts (the fraud height is in the checkpoint).
//
// # The caller's duties
//
//  1. Give New a valid Config (Validate; WindowHeights turns the genesis
//     sampling window into heights) and the required Deps: a Fetcher over
//     the full peers, a Headers over the verified header store, and a
//     Checkpoints over durable storage whose Get returns (nil, nil) for a
//     missing key (an adapter over store records maps store.ErrNotFound
//     to (nil, nil)).
//
//  2. Pass OnHeader only headers that were verified (signature, chain
//     continuity): the DASer checks samples against them, not them.
//     Headers.GetByHeight must likewise return only verified headers.
//
//  3. Call MarkFraud only for a verified fraud proof.
//
//  4. Call Start once the header store is open, and Stop before closing the
//     store; Stop writes the final checkpoint. A DASer may be started again
//     after Stop.
//
//  5. Keep Deps.Rand unpredictable to peers (the default, crypto/rand):
//     a peer that could predict the coordinates could serve exactly them.
//
//  6. Keep Progress and SampleSink.Keep quick: Progress runs on the
//     DASer's goroutine, Keep on the fetch goroutines.
//
// # Guarantees
//
//   - A height is reported available (SharesAvailable returns nil) only when
//     s distinct random coordinates of it were each verified against its
//     data root, and no fraud proof covers it.
//   - Verdicts are stored before the checkpoint that covers them, so after
//     a crash a height is at worst sampled again, never skipped.
//   - A stored checkpoint that does not parse stops Start (ErrCorrupt)
//     rather than start afresh and forget a fraud verdict.
//   - Memory does not grow with the heights sampled: verdicts live in the
//     store; the machine holds the heights in flight.
//
// # What it does not do
//
// It does not choose or score peers (the Fetcher does), verify headers,
// or prune stored verdicts of heights that left the window.
package das
