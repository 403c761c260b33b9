// Package chain tells the node's parts about new headers: it keeps the
// latest one, lets callers wait for a height, and fans headers out to
// subscribers without ever blocking the publisher.
package chain

import (
	"context"
	"sync"

	"github.com/tessera-da/tessera/node/header"
)

// subscriberBuffer is how many headers a slow subscriber may lag before it
// is dropped (its channel closed).
const subscriberBuffer = 256 // headers

// Watcher tracks the chain head. The zero value is not usable; call NewWatcher.
type Watcher struct {
	mu      sync.Mutex
	head    *header.Header
	changed chan struct{} // closed and replaced on every Publish
	subs    map[chan *header.Header]struct{}
}

// NewWatcher returns a watcher whose head is head (nil for an empty chain).
func NewWatcher(head *header.Header) *Watcher {
	return &Watcher{head: head, changed: make(chan struct{}), subs: map[chan *header.Header]struct{}{}}
}

// Head returns the latest header, or nil.
func (w *Watcher) Head() *header.Header {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.head
}

// Publish records h as the new head and tells waiters and subscribers.
// Headers must be published in height order.
func (w *Watcher) Publish(h *header.Header) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.head = h
	close(w.changed)
	w.changed = make(chan struct{})
	for ch := range w.subs {
		select {
		case ch <- h:
		default: // too slow: drop it rather than stall the chain
			delete(w.subs, ch)
			close(ch)
		}
	}
}

// WaitForHeight blocks until the head reaches height or ctx ends.
func (w *Watcher) WaitForHeight(ctx context.Context, height uint64) (*header.Header, error) {
	for {
		w.mu.Lock()
		head, changed := w.head, w.changed
		w.mu.Unlock()
		if head != nil && head.Height >= height {
			return head, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-changed:
		}
	}
}

// Changed returns a channel closed at the next Publish.
func (w *Watcher) Changed() <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.changed
}

// Subscribe returns a channel of every header published from now until ctx
// ends (then the channel is closed). A subscriber that falls more than
// subscriberBuffer headers behind has its channel closed early.
func (w *Watcher) Subscribe(ctx context.Context) <-chan *header.Header {
	ch := make(chan *header.Header, subscriberBuffer)
	w.mu.Lock()
	w.subs[ch] = struct{}{}
	w.mu.Unlock()
	go func() {
		<-ctx.Done()
		w.mu.Lock()
		defer w.mu.Unlock()
		if _, ok := w.subs[ch]; ok {
			delete(w.subs, ch)
			close(ch)
		}
	}()
	return ch
}
