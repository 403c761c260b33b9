package erasure

import "fmt"

// SquareFromCells assembles an extended square from all of its cells,
// row-major (width² cells of ShareSize bytes, width = 2k a power of two),
// as received from the network, without re-encoding anything: the result
// is exactly the committed square, codeword or not. Use ComputeDAH to
// commit to it and Repair to check its encoding.
func SquareFromCells(cells [][]byte) (*ExtendedSquare, error) {
	w := 1
	for w*w < len(cells) {
		w *= 2
	}
	if w < 2 || w*w != len(cells) || w/2 > MaxODSWidth {
		return nil, fmt.Errorf("%w: %d cells is not a square of even power-of-two width", ErrInvalidWidth, len(cells))
	}
	s := newSquare(w / 2)
	for i, c := range cells {
		if len(c) != ShareSize {
			return nil, fmt.Errorf("%w: cell (%d, %d) has %d bytes, want %d", ErrInvalidShare, i/w, i%w, len(c), ShareSize)
		}
		copy(s.buf[i*ShareSize:], c)
	}
	return s, nil
}
