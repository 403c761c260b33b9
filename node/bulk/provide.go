package bulk

import (
	"context"
	"errors"
	"time"

	"github.com/ipfs/go-cid"
	kb "github.com/libp2p/go-libp2p-kbucket"
)

// Announcing. The router (kad-dht) does not re-provide anything by itself
// and its records expire after 48 h, so Bulk announces every piece it
// stores (Put, and fetched pieces) as soon as it is stored, and sweeps the
// whole blockstore at start and every Params.ReprovideInterval.
// Params.ProvideWorkers announcements run at once; each is retried with
// exponential backoff, forever while the routing table is empty (kad-dht
// fails with kb.ErrLookupFailure until it has peers), otherwise up to
// Params.ProvideAttempts times.

// announce queues c for announcement. When the queue is full the next
// sweep, requested now, covers c.
func (b *Bulk) announce(c cid.Cid) {
	if b.p.NoAnnounce {
		return
	}
	select {
	case b.fresh <- c:
	default:
		select {
		case b.sweepNow <- struct{}{}:
		default:
		}
	}
}

// sweeper enumerates the blockstore into b.sweep at start, every
// ReprovideInterval, and when asked.
func (b *Bulk) sweeper() {
	defer b.wg.Done()
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-b.ctx.Done():
			return
		case <-t.C:
		case <-b.sweepNow:
		}
		start := time.Now()
		n, err := b.sweepOnce()
		if b.ctx.Err() != nil {
			return
		}
		if err != nil {
			b.log.Warn("reprovide sweep ended early", "pieces", n, "err", err)
		} else {
			b.log.Debug("reprovide sweep", "pieces", n, "took", time.Since(start))
		}
		t.Reset(b.p.ReprovideInterval)
	}
}

// sweepOnce hands every stored piece to the announcers and returns how
// many it handed.
func (b *Bulk) sweepOnce() (int, error) {
	keys, err := b.bs.AllKeysChan(b.ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for c := range keys {
		select {
		case b.sweep <- c:
			n++
		case <-b.ctx.Done():
			for range keys { // let the enumeration end
			}
			return n, b.ctx.Err()
		}
	}
	return n, nil
}

// announcer announces the pieces it takes from b.fresh and b.sweep.
func (b *Bulk) announcer() {
	defer b.wg.Done()
	for {
		var c cid.Cid
		select {
		case <-b.ctx.Done():
			return
		case c = <-b.fresh:
		case c = <-b.sweep:
		}
		b.provide(c)
	}
}

// provide announces c, retrying as the package comment says.
func (b *Bulk) provide(c cid.Cid) {
	delay := b.p.RetryMin
	for attempt := 1; ; {
		ctx, cancel := context.WithTimeout(b.ctx, b.p.ProvideTimeout)
		err := b.router.Provide(ctx, c, true)
		cancel()
		if err == nil {
			b.provided.Add(1)
			return
		}
		if b.ctx.Err() != nil {
			return
		}
		if !errors.Is(err, kb.ErrLookupFailure) {
			if attempt >= b.p.ProvideAttempts {
				b.provideFailed.Add(1)
				b.log.Warn("announce failed; the next sweep retries", "cid", c, "attempts", attempt, "err", err)
				return
			}
			attempt++
		}
		b.log.Debug("announce failed; retrying", "cid", c, "in", delay, "err", err)
		t := time.NewTimer(delay)
		select {
		case <-b.ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		delay = min(2*delay, b.p.RetryMax)
	}
}
