package dataset

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"sort"
)

// ShuffleRounds is the number of swap-or-not rounds. 64 rounds of a
// swap-or-not shuffle are far beyond the rounds needed to make the
// permutation indistinguishable from random for the domain sizes used here.
const ShuffleRounds = 64

// Seed is the public randomness of one assignment.
type Seed [sha256.Size]byte

// ComputeSeed returns the seed of step s of a run:
// SHA-256(headerHash ‖ runID ‖ BE64(s)), where headerHash is the hash of the
// header Δ blocks after the step opens and runID the run's ID. Both are
// fixed 32-byte values, so the concatenation is unambiguous.
func ComputeSeed(headerHash, runID [32]byte, step uint64) Seed {
	var b [32 + 32 + 8]byte
	copy(b[:], headerHash[:])
	copy(b[32:], runID[:])
	binary.BigEndian.PutUint64(b[64:], step)
	return sha256.Sum256(b[:])
}

// roundKey is SHA-256(seed ‖ round) for one shuffle round.
func roundKey(seed Seed, round int) [sha256.Size]byte {
	var b [sha256.Size + 1]byte
	copy(b[:], seed[:])
	b[sha256.Size] = byte(round)
	return sha256.Sum256(b[:])
}

// swapRound applies one swap-or-not round (an involution): x is paired with
// (pivot − x) mod n, and the pair swaps when the bit for the larger of the
// two, SHA-256(key ‖ BE64(pos/256)) bit pos%256, is set.
func swapRound(key [sha256.Size]byte, x, n uint64) uint64 {
	pivot := binary.BigEndian.Uint64(key[:8]) % n // bias < n/2^64, negligible for n ≤ MaxAssignPages
	flip := pivot - x                             // (pivot − x) mod n without overflowing for any n
	if pivot < x {
		flip = pivot + (n - x)
	}
	pos := max(x, flip)
	var b [sha256.Size + 8]byte
	copy(b[:], key[:])
	binary.BigEndian.PutUint64(b[sha256.Size:], pos/256)
	h := sha256.Sum256(b[:])
	if h[(pos%256)/8]>>(pos%8)&1 == 1 {
		return flip
	}
	return x
}

// Shuffle returns the position of index x under the swap-or-not permutation
// of [0, n) keyed by seed (Hoang–Morris–Rogaway; the construction Ethereum
// and Psyche use): ShuffleRounds rounds, round r keyed by
// SHA-256(seed ‖ byte(r)). It costs 2·ShuffleRounds SHA-256 compressions.
func Shuffle(seed Seed, x, n uint64) (uint64, error) {
	if x >= n {
		return 0, fmt.Errorf("%w: index %d not below %d", ErrInvalidParams, x, n)
	}
	keys := newRoundKeys(seed)
	return keys.shuffle(x, n), nil
}

// roundKeys are the ShuffleRounds round keys of one seed, computed once
// when many indexes are shuffled with it.
type roundKeys [ShuffleRounds][sha256.Size]byte

func newRoundKeys(seed Seed) (k roundKeys) {
	for r := range k {
		k[r] = roundKey(seed, r)
	}
	return k
}

// shuffle is Shuffle with precomputed keys (x < n).
func (k *roundKeys) shuffle(x, n uint64) uint64 {
	for r := range k {
		x = swapRound(k[r], x, n)
	}
	return x
}

// Unshuffle inverts Shuffle: Shuffle(seed, Unshuffle(seed, y, n), n) == y.
func Unshuffle(seed Seed, y, n uint64) (uint64, error) {
	if y >= n {
		return 0, fmt.Errorf("%w: index %d not below %d", ErrInvalidParams, y, n)
	}
	for r := ShuffleRounds - 1; r >= 0; r-- {
		y = swapRound(roundKey(seed, r), y, n)
	}
	return y, nil
}

// Params are a run's assignment parameters.
type Params struct {
	Pages        uint64   // pages in the dataset
	Holdout      []uint64 // strictly increasing page indexes below Pages that are never assigned
	Workers      uint64   // registered workers
	PagesPerStep uint64   // distinct pages the run consumes per step
	Replication  uint64   // workers per page, 1..Workers
}

// MaxAssignPages bounds Params.Pages and PagesPerStep·Replication so that
// index arithmetic never overflows.
const MaxAssignPages = 1 << 40 // pages

// Validate checks the parameters.
func (p Params) Validate() error {
	switch {
	case p.Pages == 0 || p.Pages > MaxAssignPages:
		return fmt.Errorf("%w: %d pages not in [1, %d]", ErrInvalidParams, p.Pages, uint64(MaxAssignPages))
	case uint64(len(p.Holdout)) >= p.Pages:
		return fmt.Errorf("%w: %d of %d pages held out leaves none to train on", ErrInvalidParams, len(p.Holdout), p.Pages)
	case !holdoutValid(p.Holdout, p.Pages):
		return fmt.Errorf("%w: holdout pages not strictly increasing below %d", ErrInvalidParams, p.Pages)
	case p.Workers == 0 || p.Workers > MaxAssignPages:
		return fmt.Errorf("%w: %d workers", ErrInvalidParams, p.Workers)
	case p.PagesPerStep == 0 || p.PagesPerStep > p.training():
		return fmt.Errorf("%w: %d pages per step not in [1, %d training pages]", ErrInvalidParams, p.PagesPerStep, p.training())
	case p.Replication == 0 || p.Replication > p.Workers:
		return fmt.Errorf("%w: replication %d not in [1, %d workers]", ErrInvalidParams, p.Replication, p.Workers)
	case p.PagesPerStep > MaxAssignPages/p.Replication:
		return fmt.Errorf("%w: %d pages per step × replication %d too large", ErrInvalidParams, p.PagesPerStep, p.Replication)
	}
	return nil
}

// training returns the number of pages that are assigned: Pages less the
// holdout.
func (p Params) training() uint64 { return p.Pages - uint64(len(p.Holdout)) }

// holdoutValid reports whether h is strictly increasing and below pages.
func holdoutValid(h []uint64, pages uint64) bool {
	for i, x := range h {
		if x >= pages || (i > 0 && x <= h[i-1]) {
			return false
		}
	}
	return true
}

// page returns the page index of the j-th training page (j < training()):
// the j-th index, counting from 0, that is not held out.
func (p Params) page(j uint64) uint64 {
	if len(p.Holdout) == 0 {
		return j
	}
	// The answer x is the least x ≥ j with x+1 − |{h ≤ x}| = j+1
	// training pages in [0, x]; it lies in [j, j+len(Holdout)].
	lo, hi := j, j+uint64(len(p.Holdout))
	for lo < hi {
		mid := lo + (hi-lo)/2
		held := uint64(sort.Search(len(p.Holdout), func(i int) bool { return p.Holdout[i] > mid }))
		if mid+1-held >= j+1 {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo
}

// StepsPerEpoch returns ceil(training pages / PagesPerStep): an epoch
// covers every page not held out once (Replication times over all
// workers); its last step may be short.
func (p Params) StepsPerEpoch() uint64 {
	return (p.training() + p.PagesPerStep - 1) / p.PagesPerStep
}

// EpochStart returns the first step of the epoch that step belongs to; the
// epoch seed is the seed of that step.
func (p Params) EpochStart(step uint64) uint64 {
	return step - step%p.StepsPerEpoch()
}

// stepSlots returns the permutation slots [lo, hi) step uses.
func (p Params) stepSlots(step uint64) (lo, hi uint64) {
	lo = (step % p.StepsPerEpoch()) * p.PagesPerStep
	return lo, min(lo+p.PagesPerStep, p.training())
}

// Assign returns the pages worker (0 ≤ worker < Workers) trains on at
// step, in the order it must feed them.
//
// The epoch seed (ComputeSeed at EpochStart(step)) fixes a swap-or-not
// permutation π of the pages; step takes slots [k·B, k·B+B) of it, k = its
// position in the epoch and B = PagesPerStep, so each page comes up exactly
// once per epoch. The step seed (ComputeSeed at step) fixes a permutation σ
// of the workers; replica r of the step's j-th page goes to worker
// σ(((j·R + r) mod W)), so each page goes to R distinct workers and every
// worker gets ⌊B·R/W⌋ or ⌈B·R/W⌉ pages. Pass the same seed twice for a run
// that has one seed per epoch.
func Assign(epochSeed, stepSeed Seed, p Params, step, worker uint64) ([]uint64, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if worker >= p.Workers {
		return nil, fmt.Errorf("%w: worker %d of %d", ErrInvalidParams, worker, p.Workers)
	}
	q, err := Unshuffle(stepSeed, worker, p.Workers)
	if err != nil {
		return nil, err
	}
	lo, hi := p.stepSlots(step)
	units := (hi - lo) * p.Replication
	pages := make([]uint64, 0, (units+p.Workers-1)/p.Workers)
	keys := newRoundKeys(epochSeed)
	for u := q; u < units; u += p.Workers {
		pages = append(pages, p.page(keys.shuffle(lo+u/p.Replication, p.training()))) // lo+u/R < hi ≤ training pages
	}
	return pages, nil
}
