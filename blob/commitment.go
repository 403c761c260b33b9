package blob

import (
	"encoding/hex"
	"fmt"
	"runtime"
	"sync"

	"github.com/tessera-da/tessera/nmt"
	"github.com/tessera-da/tessera/nmt/merkle"
	"github.com/tessera-da/tessera/share"
)

// CommitmentSize is the size of a share commitment.
const CommitmentSize = 32 // bytes

// Commitment is a blob's share commitment: the RFC-6962 root over the NMT
// roots of the blob's subtrees. It JSON-encodes as base64 like any []byte.
type Commitment []byte

// String returns the commitment as hex.
func (c Commitment) String() string { return hex.EncodeToString(c) }

// MerkleMountainRangeSizes returns the sizes of the subtrees a blob of
// total shares is committed by: greedily maxTreeSize while at least that
// many shares remain, then the largest power of two that fits.
func MerkleMountainRangeSizes(total, maxTreeSize int) []int {
	var sizes []int
	for total > 0 {
		s := maxTreeSize
		if total < maxTreeSize {
			s = share.RoundDownPowerOfTwo(total)
		}
		sizes = append(sizes, s)
		total -= s
	}
	return sizes
}

// parallelMinShares is the blob size (shares) below which the commitment is
// computed on one goroutine: below it, starting workers costs more than it saves.
const parallelMinShares = 256 // shares

// ComputeSubtreeRoots splits b into shares and returns the NMT roots of its
// subtrees (each leaf is namespace ‖ share), with the subtree width for
// threshold.
func ComputeSubtreeRoots(b *share.Blob, threshold int) ([][]byte, error) {
	if threshold <= 0 {
		return nil, fmt.Errorf("%w: subtree root threshold %d", share.ErrInvalidBlob, threshold)
	}
	shares := b.ToShares()
	sizes := MerkleMountainRangeSizes(len(shares), share.SubTreeWidth(len(shares), threshold))
	starts := make([]int, len(sizes))
	for i := 1; i < len(sizes); i++ {
		starts[i] = starts[i-1] + sizes[i-1]
	}
	ns := b.Namespace().Array()
	roots := make([][]byte, len(sizes))
	flat := make([]byte, len(sizes)*nmt.NodeSize)
	work := func(tree *nmt.Tree, from, to int) error {
		for i := from; i < to; i++ {
			tree.Reset()
			for _, s := range shares[starts[i] : starts[i]+sizes[i]] {
				if err := tree.PushNamespaced(ns[:], s.Bytes()); err != nil {
					return err
				}
			}
			roots[i] = tree.AppendRoot(flat[i*nmt.NodeSize : i*nmt.NodeSize : (i+1)*nmt.NodeSize])
		}
		return nil
	}
	workers := min(runtime.GOMAXPROCS(0), len(sizes))
	if len(shares) < parallelMinShares || workers < 2 {
		return roots, work(nmt.New(nmt.SizeHint(sizes[0])), 0, len(sizes))
	}
	var (
		wg   sync.WaitGroup
		errs = make([]error, workers)
	)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[w] = work(nmt.New(nmt.SizeHint(sizes[0])), w*len(sizes)/workers, (w+1)*len(sizes)/workers)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return roots, nil
}

// ComputeCommitment returns the share commitment of b with the given
// subtree root threshold (share.SubtreeRootThreshold on Celestia).
func ComputeCommitment(b *share.Blob, threshold int) (Commitment, error) {
	roots, err := ComputeSubtreeRoots(b, threshold)
	if err != nil {
		return nil, err
	}
	return Commitment(merkle.ComputeRoot(roots)), nil
}
