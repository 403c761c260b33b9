package exchange

import (
	"errors"
	"fmt"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
)

// Sentinel errors. Every error the package returns wraps one of them; an
// error caused by a remote peer is also a *PeerError naming the peer.
var (
	// ErrBadResponse means a peer sent a response that is malformed,
	// oversized, truncated, of the wrong shape, or that fails verification
	// against the header. The peer misbehaved: drop it and score it down.
	ErrBadResponse = errors.New("exchange: bad response")
	// ErrNotFound means the peer does not hold what was asked for (a
	// height, a square, or some of the coordinates of a samples request).
	// A Source returns an error wrapping it for data it does not hold.
	ErrNotFound = errors.New("exchange: not found")
	// ErrBusy means the peer refused the request because it is serving as
	// many requests as its limits allow; ask another peer or retry later.
	ErrBusy = errors.New("exchange: peer busy")
	// ErrRejected means the peer judged the request invalid or failed to
	// answer it (an internal error on its side).
	ErrRejected = errors.New("exchange: request rejected by peer")
	// ErrTimeout means a stream deadline passed (the peer stalled or was
	// too slow) or, in SampleFromAny, that a peer was overtaken by others.
	ErrTimeout = errors.New("exchange: timeout")
	// ErrStream means the stream could not be opened or failed (reset,
	// connection lost) for a reason not attributable to the response.
	ErrStream = errors.New("exchange: stream failed")
	// ErrInvalidRequest means the caller's own arguments are invalid (nil
	// header, bad square width, coordinates outside the square, too many
	// coordinates or headers); nothing was sent.
	ErrInvalidRequest = errors.New("exchange: invalid request")
	// ErrIncomplete means SampleFromAny ended without a verified sample for
	// every coordinate.
	ErrIncomplete = errors.New("exchange: incomplete")
	// ErrInvalidOptions reports ServerOptions or ClientOptions that fail
	// Validate, or an invalid chain ID.
	ErrInvalidOptions = errors.New("exchange: invalid options")
)

// PeerError is an error caused by one peer in one protocol. Err wraps one
// of the package's sentinels (ErrBadResponse, ErrNotFound, ErrBusy,
// ErrRejected, ErrTimeout, ErrStream) and may wrap context errors.
type PeerError struct {
	Peer     peer.ID
	Protocol protocol.ID
	Err      error
}

// Error implements error.
func (e *PeerError) Error() string {
	return fmt.Sprintf("%s from peer %s: %v", e.Protocol, e.Peer, e.Err)
}

// Unwrap returns the cause.
func (e *PeerError) Unwrap() error { return e.Err }

// IsBadPeer reports whether err says that a peer misbehaved (sent a bad,
// malformed or unverifiable response), as opposed to being busy, slow,
// unreachable or not holding the data.
func IsBadPeer(err error) bool { return errors.Is(err, ErrBadResponse) }
