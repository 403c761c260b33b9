// Package sampling is the pure core of data availability sampling:
// identifiers of samples (celestia-node's shwap IDs), the confidence that
// sampling gives, the choice of coordinates from a caller-supplied source
// of randomness, and Machine, the per-height sampling state machine of a
// light node.
//
// Sampling math: an extended square of width 2k is unrecoverable only if
// at least (k+1)² of its 4k² cells are withheld. A uniformly random cell is
// then missing with probability p ≥ (k+1)²/(4k²) > 1/4, so s independent
// samples all succeed with probability at most (1 − p)^s < (3/4)^s.
//
// # The state machine
//
// Machine follows etcd raft's shape: inputs go in (AddHeader, Sampled,
// Tick, MarkFraud), outputs come out in Ready batches (header look-ups,
// sample requests, per-height verdicts, a checkpoint), and Advance
// acknowledges a batch. The caller (node/das) does all I/O: it looks up
// headers, fetches samples, verifies each one with erasure.VerifySample
// against the request's data root, persists verdicts and then the
// checkpoint, and maps wall-clock time to Tick calls. Its rules:
//
//   - Every height of the window (Params.Window heights ending at the
//     network head) is sampled once: s = Params.Samples distinct cells drawn
//     uniformly from the caller's randomness (all cells when the square
//     has fewer). A new head is requested as soon as its header arrives;
//     older heights are caught up in ascending order, at most
//     Params.MaxCatchUp at once, and always at least one of
//     Params.MaxInFlight slots is left for a head.
//   - A height is available only when each of its s coordinates was
//     reported verified; its confidence is Confidence(k, s) (1 for a square
//     sampled whole).
//   - A coordinate reported failed (not served, bad sample) or unanswered
//     for Params.Deadline ticks is asked for again — the same coordinate,
//     never a replacement — up to Params.Retries times; then the height is
//     unavailable (withholding suspected). A late verified answer still
//     counts; a late failure of a superseded request does not.
//   - An unavailable height gets up to Params.MaxAttempts rounds, each with
//     fresh coordinates, Params.RetryBackoff·rounds ticks apart. A height
//     available after r rounds reports the union bound
//     1 − r·(1 − Confidence(k, s)).
//   - MarkFraud(h) makes h and every later height unavailable for good
//     (a light node cannot trust the chain after a bad block): their
//     sampling stops, pending available verdicts at or after h are
//     withdrawn, and the checkpoint carries the fraud height.
//   - A header the machine asked for and did not get is asked for again
//     every Deadline ticks; the height keeps its slot and gets no verdict
//     until it is sampled.
//   - The Checkpoint (highest contiguous finished height, available heights
//     above it, failed heights with their rounds, in-progress heights, the
//     fraud height) lets NewMachine resume without sampling a finished
//     height again; in-progress heights are sampled first.
//
// The machine's memory is bounded by the heights in flight (about 1.4 KB
// each at s = 16), the failed heights of the window and the available
// heights above the contiguous sampled head.
//
// The package does no I/O, reads no clock and uses no global randomness.
// Every parser accepts untrusted bytes and returns errors wrapping its
// sentinel (ErrInvalidID, ErrInvalidCheckpoint); none panics.
package sampling
