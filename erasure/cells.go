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

// RecoverODS rebuilds the original square from a partial set of cells of
// the extended square (row-major, width² entries, nil or empty when
// missing), gathered from untrusted peers, by alternately decoding every
// row and column that has at least k cells and re-encoding it, until the
// original quadrant is complete. It checks nothing against roots: the
// caller must extend the result and compare the data root with the
// header's (a wrong cell yields a square with another data root). Errors
// wrap ErrUnrepairable when the cells are too few, ErrInvalidShare or
// ErrInvalidWidth for malformed input.
func (e *Extender) RecoverODS(cells [][]byte) ([]byte, error) {
	w := 1
	for w*w < len(cells) {
		w *= 2
	}
	if w < 2 || w*w != len(cells) || w/2 > MaxODSWidth {
		return nil, fmt.Errorf("%w: %d cells is not a square of even power-of-two width", ErrInvalidWidth, len(cells))
	}
	k := w / 2
	grid := make([][]byte, len(cells))
	for i, c := range cells {
		switch len(c) {
		case 0:
		case ShareSize:
			grid[i] = append([]byte(nil), c...)
		default:
			return nil, fmt.Errorf("%w: cell (%d, %d) has %d bytes, want %d", ErrInvalidShare, i/w, i%w, len(c), ShareSize)
		}
	}
	odsDone := func() bool {
		for r := range k {
			for c := range k {
				if grid[r*w+c] == nil {
					return false
				}
			}
		}
		return true
	}
	axis := make([][]byte, w)
	// solve decodes axis i of kind a if it has ≥ k cells and misses some.
	solve := func(a Axis, i int) (bool, error) {
		idx := func(j int) int {
			if a == Row {
				return i*w + j
			}
			return j*w + i
		}
		have := 0
		for j := range w {
			axis[j] = grid[idx(j)]
			if axis[j] != nil {
				have++
			}
		}
		if have < k || have == w {
			return false, nil
		}
		if err := e.codec.ReconstructData(axis); err != nil {
			return false, err
		}
		for j := k; j < w; j++ {
			if len(axis[j]) == 0 {
				axis[j] = make([]byte, ShareSize)
			}
		}
		if err := e.codec.Encode(axis); err != nil {
			return false, err
		}
		for j := range w {
			grid[idx(j)] = axis[j]
		}
		return true, nil
	}
	for !odsDone() {
		progress := false
		for _, a := range []Axis{Row, Col} {
			for i := range w {
				ok, err := solve(a, i)
				if err != nil {
					return nil, err
				}
				progress = progress || ok
			}
		}
		if !progress {
			return nil, fmt.Errorf("%w: the cells given do not determine the original square", ErrUnrepairable)
		}
	}
	ods := make([]byte, 0, k*k*ShareSize)
	for r := range k {
		for c := range k {
			ods = append(ods, grid[r*w+c]...)
		}
	}
	return ods, nil
}
