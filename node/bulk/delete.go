package bulk

import (
	"context"
	"fmt"

	"github.com/ipfs/go-cid"
)

// Delete removes piece c from the datastore, if it is stored; the node
// stops serving it (its DHT records expire on their own). Pinning calls it
// when a pin that held the piece is removed.
func (b *Bulk) Delete(ctx context.Context, c cid.Cid) error {
	if err := b.closed(); err != nil {
		return err
	}
	d, err := pieceDigest(c)
	if err != nil {
		return err
	}
	mu := b.lock(d)
	mu.Lock()
	defer mu.Unlock()
	if err := b.bs.DeleteBlock(ctx, c); err != nil {
		return fmt.Errorf("bulk: delete %s: %w", c, err)
	}
	return nil
}
