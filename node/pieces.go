package node

import (
	"context"
	"fmt"

	"github.com/tessera-da/tessera/blob/dataset"
	"github.com/tessera-da/tessera/node/api"
	"github.com/tessera-da/tessera/node/bulk"
	"github.com/tessera-da/tessera/node/p2p"
)

// p2pHost returns the node's libp2p host, nil without networking.
func (n *Node) p2pHost() *p2p.Host {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.net == nil {
		return nil
	}
	return n.net.host
}

// pieces implements api.Pieces on every role.
type pieces struct{ n *Node }

var _ api.Pieces = pieces{}

// GetPiece returns the piece whose SHA-256 is d: from the piece store, or
// fetched over bitswap from peers (connected ones, then DHT providers)
// within pieceTimeout. Bulk hash-checks every piece, stored or fetched.
func (p pieces) GetPiece(ctx context.Context, d [32]byte) ([]byte, error) {
	b := p.n.Bulk()
	if b == nil {
		return nil, api.ErrNoPieces
	}
	ctx, cancel := context.WithTimeout(ctx, pieceTimeout)
	defer cancel()
	data, err := b.Get(ctx, bulk.PieceCID(d))
	if err != nil {
		return nil, fmt.Errorf("dataset: piece %x: %w", d, err)
	}
	return data, nil
}

// Providers returns up to maxProviders peers advertising the dataset id
// (DatasetKey), searching the DHT for at most providersTimeout.
func (p pieces) Providers(ctx context.Context, id dataset.ID) ([]api.Provider, error) {
	h := p.n.p2pHost()
	if h == nil {
		return nil, api.ErrNoPieces
	}
	ctx, cancel := context.WithTimeout(ctx, providersTimeout)
	defer cancel()
	ais, err := h.FindPeers(ctx, DatasetKey(id), maxProviders)
	if err != nil {
		return nil, fmt.Errorf("dataset: providers of %x: %w", id, err)
	}
	out := make([]api.Provider, 0, len(ais))
	for _, ai := range ais {
		pr := api.Provider{ID: ai.ID.String(), Addrs: []string{}}
		for _, a := range ai.Addrs {
			pr.Addrs = append(pr.Addrs, a.String())
		}
		out = append(out, pr)
	}
	return out, nil
}
