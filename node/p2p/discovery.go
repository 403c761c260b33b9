package p2p

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/discovery"

	"github.com/tessera-da/tessera/share"
)

// Rendezvous keys advertised in the private DHT (as provider records of
// the key's SHA-256). The DHT is private to one chain, so keys carry no
// chain ID.
const (
	KeyFull     = "full"     // producer and full nodes: hold and serve whole squares in the sampling window
	KeyArchival = "archival" // nodes that keep every square
)

// NamespaceKey returns the rendezvous key of nodes pinning ns: "ns/<hex>".
func NamespaceKey(ns share.Namespace) string { return "ns/" + hex.EncodeToString(ns.Bytes()) }

// ErrNotServer is returned when a light node is asked to advertise.
var ErrNotServer = errors.New("p2p: only producer and full nodes advertise")

// advertisedKeys lists the keys a server advertises from the start.
func advertisedKeys(p *Params) []string {
	keys := []string{KeyFull}
	if p.Archival {
		keys = append(keys, KeyArchival)
	}
	for _, ns := range p.Namespaces {
		keys = append(keys, NamespaceKey(ns))
	}
	return keys
}

// Advertise starts advertising key (e.g. a namespace pinned at run time)
// and re-advertising it every Params.AdvertiseInterval until
// StopAdvertising or Close. Advertising a key twice is a no-op.
func (h *Host) Advertise(key string) error {
	if !h.p.server() {
		return ErrNotServer
	}
	if key == "" {
		return fmt.Errorf("%w: empty rendezvous key", ErrInvalidParams)
	}
	if h.ctx.Err() != nil {
		return ErrClosed
	}
	h.startAdvertising(key)
	return nil
}

// StopAdvertising stops re-advertising key. Records already stored in the
// DHT expire on their own (48 h); the pool drops peers it cannot reach.
func (h *Host) StopAdvertising(key string) {
	h.advMu.Lock()
	defer h.advMu.Unlock()
	if cancel, ok := h.adv[key]; ok {
		cancel()
		delete(h.adv, key)
	}
}

// Advertising returns the keys being advertised.
func (h *Host) Advertising() []string {
	h.advMu.Lock()
	defer h.advMu.Unlock()
	out := make([]string, 0, len(h.adv))
	for k := range h.adv {
		out = append(out, k)
	}
	return out
}

func (h *Host) startAdvertising(key string) {
	h.advMu.Lock()
	defer h.advMu.Unlock()
	if _, ok := h.adv[key]; ok || h.ctx.Err() != nil {
		return
	}
	ctx, cancel := context.WithCancel(h.ctx)
	h.adv[key] = cancel
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		h.advertiseLoop(ctx, key)
	}()
}

// advertiseLoop provides key, retrying with backoff while it fails (a
// fresh node's routing table is empty until identify completes with its
// first DHT servers: "failed to find any peer in table"), then re-provides
// it every AdvertiseInterval (or sooner if the DHT asks), since nothing is
// re-provided automatically.
func (h *Host) advertiseLoop(ctx context.Context, key string) {
	var wait, backoff time.Duration
	for {
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		ttl, err := h.disc.Advertise(ctx, key, discovery.TTL(h.p.AdvertiseInterval))
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			backoff = nextBackoff(backoff)
			wait = backoff
			h.log.Debug("p2p: advertise failed; retrying", "key", key, "in", wait, "err", err)
			continue
		}
		backoff = 0
		wait = h.p.AdvertiseInterval
		if ttl > 0 && ttl < wait {
			wait = ttl
		}
		h.log.Debug("p2p: advertised", "key", key, "next", wait)
	}
}
