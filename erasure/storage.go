package erasure

import (
	"bytes"
	"fmt"
)

// ODSBytes returns a copy of the square's original data square (quadrant
// Q0) as k²·ShareSize contiguous bytes in row-major order, or nil for an
// empty square. It is the storage form of a square: ExtendFlat, or Restore
// to also check the result against a data root, rebuilds the rest (see the
// package documentation for the cost).
func (s *ExtendedSquare) ODSBytes() []byte {
	k := s.ODSWidth()
	if k == 0 {
		return nil
	}
	return s.AppendODS(make([]byte, 0, k*k*ShareSize))
}

// AppendODS appends the original data square as ODSBytes returns it to dst
// and returns the extended slice.
func (s *ExtendedSquare) AppendODS(dst []byte) []byte {
	k := s.ODSWidth()
	for r := range k {
		dst = append(dst, s.RowBytes(r)[:k*ShareSize]...)
	}
	return dst
}

// Restore rebuilds a stored square into dst: it extends ods (k²·ShareSize
// bytes, row-major, as ODSBytes returns it) as ExtendFlatInto does,
// computes the square's DAH, and checks that the DAH hashes to dataRoot
// (from a verified header), so that a square read back from disk is
// trusted only if it is the one committed to. It returns the DAH. Errors
// wrap ErrInvalidShare or ErrInvalidWidth for a malformed ODS,
// ErrDAHMismatch when the data root differs, and ErrCodec; on error dst is
// left empty.
func (e *Extender) Restore(dst *ExtendedSquare, ods, dataRoot []byte) (*DAH, error) {
	if len(dataRoot) != DataRootSize {
		dst.k = 0
		return nil, fmt.Errorf("%w: data root of %d bytes", ErrDAHMismatch, len(dataRoot))
	}
	if err := e.ExtendFlatInto(dst, ods); err != nil {
		return nil, err
	}
	d, err := e.ComputeDAH(dst)
	if err == nil && !bytes.Equal(d.Hash(), dataRoot) {
		err = fmt.Errorf("%w: stored square hashes to %x, want %x", ErrDAHMismatch, d.Hash(), dataRoot)
	}
	if err != nil {
		dst.k = 0
		return nil, err
	}
	return d, nil
}
