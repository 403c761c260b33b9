package bulk

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/tessera-da/tessera/node/header"
)

// Sizes and bitswap settings.
const (
	// MaxPieceSize is the largest piece Put stores and Get returns. Bitswap
	// carries one block per message above TargetMessageSize, and libp2p
	// caps a message at 4 MiB; 1 MiB is the block size IPFS tools agree on.
	// A store opened with store.OpenInMemory holds pieces only below
	// 1 MiB − 5 bytes (badger keeps every value in memory there).
	MaxPieceSize = 1 << 20 // bytes

	// TargetMessageSize is the bitswap server's target message size. With
	// boxo's default (16 KiB) fetches were measured to stall now and then
	// until the 30 s rebroadcast; 64 KiB removed the stalls.
	TargetMessageSize = 64 << 10 // bytes

	bitswapVersion    = protocol.ID("/ipfs/bitswap/1.2.0")
	freshQueue        = 4096 // pieces waiting for their first announcement before a sweep takes over
	maxProvideWorkers = 1024 // announcements at once
)

// Params configure a Bulk. Start from DefaultParams.
type Params struct {
	// ChainID names the network: the bitswap protocol is
	// /tessera/<ChainID>/ipfs/bitswap/1.2.0 (see Protocols). Printable
	// ASCII without '/' or spaces, 1 to 64 bytes.
	ChainID string

	// NoAnnounce turns announcing off: no piece is provided to the router
	// (for light nodes, which fetch but are not meant to serve).
	NoAnnounce bool
	// ProvideWorkers is how many announcements run at once.
	ProvideWorkers int
	// ProvideTimeout bounds one announcement (a DHT walk and the record
	// puts).
	ProvideTimeout time.Duration
	// ProvideAttempts is how many times an announcement is tried before it
	// is left to the next sweep. Failures because the routing table is
	// empty do not count: those retry until the table fills.
	ProvideAttempts int
	// RetryMin and RetryMax bound the exponential backoff between
	// attempts.
	RetryMin, RetryMax time.Duration
	// ReprovideInterval is the period of the sweep that announces every
	// stored piece again (one also runs at start). DHT provider records
	// expire after 48 h and nothing else renews them.
	ReprovideInterval time.Duration

	// ProviderSearchDelay is how long a fetch asks only the connected peers
	// before it also looks providers up through the router (boxo: 1 s).
	ProviderSearchDelay time.Duration
	// FetchAttemptTimeout bounds one attempt of a fetch: when no peer has
	// delivered the piece by then, the attempt is dropped and a new one
	// starts afresh (a peer that answered HAVE and then stalls would
	// otherwise hold the fetch until its context ends).
	FetchAttemptTimeout time.Duration
	// BanDuration is how long a peer that lied (sent a block it was not
	// asked for) is hidden from bitswap.
	BanDuration time.Duration
	// OnBadPeer, if not nil, is called (from a bitswap goroutine; it must
	// not block) with each peer banned and the reason, an error wrapping
	// ErrLied, so the node can score or ban it for other protocols too.
	OnBadPeer func(peer.ID, error)

	// Logger receives the announcer's logs; nil discards them.
	Logger *slog.Logger
}

// DefaultParams returns the defaults for chainID.
func DefaultParams(chainID string) Params {
	return Params{
		ChainID:             chainID,
		ProvideWorkers:      8,
		ProvideTimeout:      time.Minute,
		ProvideAttempts:     5,
		RetryMin:            250 * time.Millisecond,
		RetryMax:            time.Minute,
		ReprovideInterval:   12 * time.Hour,
		ProviderSearchDelay: 250 * time.Millisecond,
		FetchAttemptTimeout: 10 * time.Second,
		BanDuration:         10 * time.Minute,
	}
}

// Validate reports a parameter out of range.
func (p Params) Validate() error {
	bad := func(name, format string, args ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrInvalidParams, name, fmt.Sprintf(format, args...))
	}
	if err := header.CheckChainID(p.ChainID); err != nil {
		return bad("chain_id", "%v", err)
	}
	switch {
	case p.ProvideWorkers < 1 || p.ProvideWorkers > maxProvideWorkers:
		return bad("provide_workers", "%d, want 1 to %d", p.ProvideWorkers, maxProvideWorkers)
	case p.ProvideTimeout <= 0:
		return bad("provide_timeout", "%v must be positive", p.ProvideTimeout)
	case p.ProvideAttempts < 1:
		return bad("provide_attempts", "%d must be at least 1", p.ProvideAttempts)
	case p.RetryMin <= 0 || p.RetryMax < p.RetryMin:
		return bad("retry", "min %v, max %v: want 0 < min ≤ max", p.RetryMin, p.RetryMax)
	case p.ReprovideInterval <= 0:
		return bad("reprovide_interval", "%v must be positive", p.ReprovideInterval)
	case p.ProviderSearchDelay <= 0:
		return bad("provider_search_delay", "%v must be positive", p.ProviderSearchDelay)
	case p.FetchAttemptTimeout <= 0:
		return bad("fetch_attempt_timeout", "%v must be positive", p.FetchAttemptTimeout)
	case p.BanDuration <= 0:
		return bad("ban_duration", "%v must be positive", p.BanDuration)
	}
	return nil
}

// ProtocolPrefix returns the protocol prefix of chainID's network,
// /tessera/<chainID> (the DHT's too).
func ProtocolPrefix(chainID string) protocol.ID { return protocol.ID("/tessera/" + chainID) }

// Protocols returns the protocol IDs a Bulk of chainID speaks, for the
// host's resource manager limits.
func Protocols(chainID string) []protocol.ID {
	return []protocol.ID{ProtocolPrefix(chainID) + bitswapVersion}
}
