package erasure

import (
	"fmt"
	"sync"

	"github.com/tessera-da/tessera/nmt"
	"github.com/tessera-da/tessera/nmt/merkle"
)

// DataRootSize is the size of a data root (bytes).
const DataRootSize = merkle.HashSize

// dahCache holds what a DAH derives from its roots on first use.
type dahCache struct {
	rootOnce  sync.Once
	root      []byte
	proofOnce sync.Once
	proofs    []merkle.Proof // one per root: row roots, then column roots
}

// items returns views of the 2·Width() roots, row roots first: the leaves
// of the data root tree.
func (d *DAH) items() [][]byte {
	items := make([][]byte, 2*d.width)
	for i := range items {
		items[i] = d.roots[i*RootSize : (i+1)*RootSize : (i+1)*RootSize]
	}
	return items
}

// Hash returns the data root: the RFC-6962 root over the row roots followed
// by the column roots (celestia-app DataAvailabilityHeader.Hash). A nil DAH
// hashes to SHA-256(""), as in Celestia. The result is a fresh slice; the
// root is computed once per DAH.
func (d *DAH) Hash() []byte {
	if d == nil {
		return merkle.EmptyHash()
	}
	d.cache.rootOnce.Do(func() { d.cache.root = merkle.ComputeRoot(d.items()) })
	return append([]byte(nil), d.cache.root...)
}

// ProveRoot returns the RFC-6962 inclusion proof of root i of axis a in the
// data root: leaf index i for a row and Width()+i for a column, of
// 2·Width() leaves. The first call computes every root's proof at once (one
// hash per tree node) and keeps them.
func (d *DAH) ProveRoot(a Axis, i int) (merkle.Proof, error) {
	if d == nil || a > Col || uint(i) >= uint(d.width) {
		return merkle.Proof{}, fmt.Errorf("%w: %s root %d of a DAH of width %d", ErrWrongCoordinate, a, i, d.Width())
	}
	d.cache.proofOnce.Do(func() { _, d.cache.proofs = merkle.ProveAll(d.items()) })
	return d.cache.proofs[int(a)*d.width+i], nil
}

// VerifyRoot checks that root is root i of axis a of a square of the given
// width (2k) whose data root is dataRoot, using the inclusion proof p.
// Everything but dataRoot is untrusted. Errors wrap ErrWrongCoordinate or
// ErrInvalidProof.
func VerifyRoot(dataRoot []byte, width int, a Axis, i int, root []byte, p merkle.Proof) error {
	if width%2 != 0 || !validODSWidth(width/2) {
		return fmt.Errorf("%w: width %d", ErrWrongCoordinate, width)
	}
	if a > Col || uint(i) >= uint(width) {
		return fmt.Errorf("%w: %s root %d of width %d", ErrWrongCoordinate, a, i, width)
	}
	if len(dataRoot) != DataRootSize {
		return fmt.Errorf("%w: data root is %d bytes", ErrInvalidProof, len(dataRoot))
	}
	if err := nmt.ValidateNode(root); err != nil {
		return fmt.Errorf("%w: axis root: %w", ErrInvalidProof, err)
	}
	if p.Total() != int64(2*width) || p.Index() != int64(int(a)*width+i) {
		return fmt.Errorf("%w: proof for leaf %d of %d, want %d of %d", ErrInvalidProof, p.Index(), p.Total(), int(a)*width+i, 2*width)
	}
	if err := p.Verify(dataRoot, root); err != nil {
		return fmt.Errorf("%w: %s root %d: %w", ErrInvalidProof, a, i, err)
	}
	return nil
}

// TailPaddingShare returns go-square's tail padding share (FORMAT.md §2):
// the tail padding namespace (0xff, 27×0xff, 0xfe), info byte 0x01 (share
// version 0, sequence start), sequence length BE32(0), then zeros. It is a
// fresh slice.
func TailPaddingShare() []byte {
	s := make([]byte, ShareSize)
	for i := range NamespaceSize - 1 {
		s[i] = 0xff
	}
	s[NamespaceSize-1] = 0xfe
	s[NamespaceSize] = 0x01
	return s
}

// MinDAH returns the DAH of every empty block (celestia-app
// MinDataAvailabilityHeader): that of a 1×1 ODS holding one tail padding
// share. Its Hash is 3d96b7d238e7e0456f6af8e7cdf0a67bd6cf9c2089ecb559c659dcaa1f880353.
func MinDAH() *DAH {
	e, err := NewExtender(Params{Workers: 1}, nil)
	if err == nil {
		var s *ExtendedSquare
		if s, err = e.Extend([][]byte{TailPaddingShare()}); err == nil {
			var d *DAH
			if d, err = e.ComputeDAH(s); err == nil {
				return d
			}
		}
	}
	panic("erasure: MinDAH: " + err.Error()) // unreachable: fixed, valid input
}
