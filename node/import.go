package node

import (
	"fmt"

	"github.com/tessera-da/tessera/blob"
	"github.com/tessera-da/tessera/node/header"
	"github.com/tessera-da/tessera/node/store"
	"github.com/tessera-da/tessera/share"
)

// blockFromSquare indexes a square received from the network (its data
// root already checked against h) into a store.Block: the square must be
// exactly what go-square builds from its own transactions, and every blob's
// commitment is computed from its content, not taken from the producer.
func blockFromSquare(h *header.Header, ods []byte) (*store.Block, error) {
	shares, err := share.SharesFromBytes(ods)
	if err != nil {
		return nil, err
	}
	k := int(h.SquareWidth)
	if len(shares) != k*k {
		return nil, fmt.Errorf("square of %d shares for width %d", len(shares), k)
	}
	parsed, err := share.ParseSquare(share.Square(shares), share.SubtreeRootThreshold)
	if err != nil {
		return nil, fmt.Errorf("height %d: %w", h.Height, err)
	}
	blk := &store.Block{Header: h, ODS: ods}
	l := parsed.Layout
	add := func(pl share.BlobPlacement, txIndex, indexInTx int) error {
		b, n, err := share.ParseBlob(shares[pl.Start : pl.Start+pl.ShareCount])
		if err != nil || n != pl.ShareCount {
			return fmt.Errorf("height %d: blob at share %d: %v", h.Height, pl.Start, err)
		}
		c, err := blob.ComputeCommitment(b, share.SubtreeRootThreshold)
		if err != nil {
			return err
		}
		e := store.NewBlobIndex(pl, k, txIndex, indexInTx)
		copy(e.Commitment[:], c)
		blk.Blobs = append(blk.Blobs, e)
		return nil
	}
	for txi, pls := range l.BlobsByTx {
		for bi, pl := range pls {
			if err := add(pl, l.NumTxs+txi, bi); err != nil {
				return nil, err
			}
		}
	}
	for i, pl := range l.FibreBlobs {
		if err := add(pl, l.NumTxs+l.NumBlobTxs+i, 0); err != nil {
			return nil, err
		}
	}
	return blk, nil
}
