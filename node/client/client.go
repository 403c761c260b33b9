// Package client is the Go client of a Tessera node's JSON-RPC API for
// programs such as rollups and training loops: typed calls for blobs and
// headers, and the large-object, dataset, training and checkpoint
// operations of node/objects behind one handle.
//
// Everything a Client returns that a node could forge is verified before
// it is returned: a blob against its commitment proof and its block's data
// root, a page against its manifest, and, when Options.Producer is set,
// every header against the producer's signature and chain ID, so the
// client need not trust the node it talks to beyond availability.
package client

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/tessera-da/tessera/blob"
	"github.com/tessera-da/tessera/node/api"
	"github.com/tessera-da/tessera/node/header"
	"github.com/tessera-da/tessera/node/rpc"
	"github.com/tessera-da/tessera/share"
)

// ErrUnverified is returned when a node's answer fails verification.
var ErrUnverified = errors.New("client: the node's answer failed verification")

// Options configure a Client.
type Options struct {
	// Token is the node's JWT (tessera auth); empty for none.
	Token string
	// Producer, when set, is the chain's producer key (from genesis.json):
	// every header is checked against its signature and ChainID.
	Producer ed25519.PublicKey
	ChainID  string
}

// Client calls one node. It is safe for concurrent use.
type Client struct {
	rpc  *rpc.Client
	opts Options

	mu      sync.Mutex
	headers map[uint64]*header.Header // verified headers by height
}

// Dial returns a client of the node at url (http://, https://, ws:// or
// wss://; WebSocket is needed only for subscriptions).
func Dial(ctx context.Context, url string, o Options) (*Client, error) {
	if o.Producer != nil && (len(o.Producer) != ed25519.PublicKeySize || o.ChainID == "") {
		return nil, fmt.Errorf("client: a producer key needs %d bytes and a chain ID", ed25519.PublicKeySize)
	}
	var (
		c   *rpc.Client
		err error
	)
	if strings.HasPrefix(url, "ws://") || strings.HasPrefix(url, "wss://") {
		c, err = rpc.DialWS(ctx, url, o.Token)
	} else {
		c, err = rpc.Dial(ctx, url, o.Token)
	}
	if err != nil {
		return nil, err
	}
	return &Client{rpc: c, opts: o, headers: map[uint64]*header.Header{}}, nil
}

// Close releases the connection.
func (c *Client) Close() error { return c.rpc.Close() }

// Call makes a raw JSON-RPC call (any method of docs/api.md). It makes a
// Client an objects.Caller.
func (c *Client) Call(ctx context.Context, method string, result any, params ...any) error {
	return c.rpc.Call(ctx, method, result, params...)
}

// Header returns the header at height, checked against the producer's
// key when Options.Producer is set. Checked headers are cached.
func (c *Client) Header(ctx context.Context, height uint64) (*header.Header, error) {
	c.mu.Lock()
	h, ok := c.headers[height]
	c.mu.Unlock()
	if ok {
		return h, nil
	}
	var eh api.ExtendedHeader
	if err := c.rpc.Call(ctx, "header.GetByHeight", &eh, height); err != nil {
		return nil, err
	}
	h = eh.Tessera
	if h == nil || h.Height != height {
		return nil, fmt.Errorf("%w: header %d missing or at another height", ErrUnverified, height)
	}
	if c.opts.Producer != nil {
		if err := h.Verify(c.opts.ChainID, []ed25519.PublicKey{c.opts.Producer}, nil); err != nil {
			return nil, fmt.Errorf("%w: header %d: %w", ErrUnverified, height, err)
		}
	}
	c.mu.Lock()
	if len(c.headers) >= maxCachedHeaders {
		clear(c.headers)
	}
	c.headers[height] = h
	c.mu.Unlock()
	return h, nil
}

// maxCachedHeaders bounds the header cache.
const maxCachedHeaders = 4096

// Head returns the node's newest header (checked like Header).
func (c *Client) Head(ctx context.Context) (*header.Header, error) {
	var eh api.ExtendedHeader
	if err := c.rpc.Call(ctx, "header.LocalHead", &eh); err != nil {
		return nil, err
	}
	if eh.Tessera == nil {
		return nil, fmt.Errorf("%w: the head has no header", ErrUnverified)
	}
	return c.Header(ctx, eh.Tessera.Height)
}

// Submit posts blobs and waits for their block; it returns the height.
func (c *Client) Submit(ctx context.Context, blobs ...*blob.Blob) (uint64, error) {
	var height uint64
	err := c.rpc.Call(ctx, "blob.Submit", &height, blobs, nil)
	return height, err
}

// Blob returns the blob of namespace ns with commitment com at height,
// verified: its commitment is recomputed from its bytes and its
// commitment proof is checked against the block's data root.
func (c *Client) Blob(ctx context.Context, height uint64, ns share.Namespace, com []byte) (*blob.Blob, error) {
	var b blob.Blob
	if err := c.rpc.Call(ctx, "blob.Get", &b, height, ns, com); err != nil {
		return nil, err
	}
	if string(b.Commitment()) != string(com) || b.Namespace() != ns {
		return nil, fmt.Errorf("%w: blob at %d: the node returned another blob", ErrUnverified, height)
	}
	if err := c.VerifyIncluded(ctx, height, ns, com); err != nil {
		return nil, err
	}
	return &b, nil
}

// VerifyIncluded checks, with a commitment proof, that a blob of
// namespace ns with commitment com is in the block at height.
func (c *Client) VerifyIncluded(ctx context.Context, height uint64, ns share.Namespace, com []byte) error {
	h, err := c.Header(ctx, height)
	if err != nil {
		return err
	}
	var cp blob.CommitmentProof
	if err := c.rpc.Call(ctx, "blob.GetCommitmentProof", &cp, height, ns, com); err != nil {
		return err
	}
	if err := cp.Verify(h.DataRoot[:], ns, com); err != nil {
		return fmt.Errorf("%w: commitment proof at %d: %w", ErrUnverified, height, err)
	}
	return nil
}
