package erasure

import (
	"fmt"
	"math/bits"
	"sync"
)

// ExtendedSquare is a 2k×2k extended data square of ShareSize-byte shares,
// held in one contiguous row-major buffer. Quadrant Q0 (rows and columns
// < k) is the original data square (ODS); Q1, Q2 and Q3 are parity.
//
// Accessors return views into the square's buffer, never copies: callers
// must not modify them. A square is immutable by contract, and safe for
// concurrent reads, until it is passed to Extender.ExtendInto for reuse.
type ExtendedSquare struct {
	buf []byte // width·width·ShareSize bytes, row-major
	k   int    // ODS width (shares)
}

// Width returns the width 2k of the extended square (shares); 0 for a nil
// or empty square.
func (s *ExtendedSquare) Width() int { return 2 * s.ODSWidth() }

// ODSWidth returns the width k of the original data square (shares); 0 for
// a nil or empty square.
func (s *ExtendedSquare) ODSWidth() int {
	if s == nil {
		return 0
	}
	return s.k
}

// Cell returns a read-only view of the share at (row, col), or nil when
// either coordinate is outside [0, Width()). The view's capacity is
// ShareSize, so appending to it cannot overwrite the next share.
func (s *ExtendedSquare) Cell(row, col int) []byte {
	w := s.Width()
	if uint(row) >= uint(w) || uint(col) >= uint(w) {
		return nil
	}
	off := (row*w + col) * ShareSize
	return s.buf[off : off+ShareSize : off+ShareSize]
}

// Row returns read-only views of the 2k shares of row i, or nil when i is
// outside [0, Width()). The outer slice is freshly allocated.
func (s *ExtendedSquare) Row(i int) [][]byte {
	w := s.Width()
	if uint(i) >= uint(w) {
		return nil
	}
	out := make([][]byte, w)
	s.rowInto(out, i)
	return out
}

// Col returns read-only views of the 2k shares of column i, or nil when i
// is outside [0, Width()). The outer slice is freshly allocated.
func (s *ExtendedSquare) Col(i int) [][]byte {
	w := s.Width()
	if uint(i) >= uint(w) {
		return nil
	}
	out := make([][]byte, w)
	s.colInto(out, i)
	return out
}

// RowBytes returns a read-only view of row i as 2k·ShareSize contiguous
// bytes, or nil when i is outside [0, Width()).
func (s *ExtendedSquare) RowBytes(i int) []byte {
	w := s.Width()
	if uint(i) >= uint(w) {
		return nil
	}
	n := w * ShareSize
	return s.buf[i*n : (i+1)*n : (i+1)*n]
}

// rowInto fills dst[0:2k] with views of row i's shares.
func (s *ExtendedSquare) rowInto(dst [][]byte, i int) {
	w := 2 * s.k
	off := i * w * ShareSize
	for j := range w {
		dst[j] = s.buf[off : off+ShareSize : off+ShareSize]
		off += ShareSize
	}
}

// colInto fills dst[0:2k] with views of column i's shares.
func (s *ExtendedSquare) colInto(dst [][]byte, i int) {
	w := 2 * s.k
	stride := w * ShareSize
	off := i * ShareSize
	for j := range w {
		dst[j] = s.buf[off : off+ShareSize : off+ShareSize]
		off += stride
	}
}

// Extender extends original data squares (Extend), computes their roots
// (ComputeDAH) and proves samples (ProveSample) with Params.Workers
// goroutines per call. It keeps the codec's per-k state and per-worker NMT
// buffers between calls, so a long-lived Extender allocates almost nothing
// per square. It is safe for concurrent use.
type Extender struct {
	params Params
	codec  Codec

	mu        sync.Mutex
	trees     []*axisTrees // idle per-worker NMT state, at most params.Workers
	leafStore []byte       // ComputeDAH's leaf-node buffer, kept between calls
}

// NewExtender returns an Extender using codec, or a new LeopardCodec (the
// Celestia-compatible code) when codec is nil. It wraps ErrInvalidParams
// when p does not validate.
func NewExtender(p Params, codec Codec) (*Extender, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if codec == nil {
		codec = NewLeopardCodec()
	}
	return &Extender{params: p, codec: codec}, nil
}

// Params returns the Extender's parameters.
func (e *Extender) Params() Params { return e.params }

// Extend extends a k×k original data square given as k² shares in
// row-major order, where k is a power of two in [1, MaxODSWidth] and every
// share is ShareSize bytes. The shares are copied; ods is not retained.
// Errors wrap ErrInvalidShare or ErrInvalidWidth for bad input and ErrCodec
// for codec failures.
func (e *Extender) Extend(ods [][]byte) (*ExtendedSquare, error) {
	s := new(ExtendedSquare)
	if err := e.ExtendInto(s, ods); err != nil {
		return nil, err
	}
	return s, nil
}

// ExtendFlat is Extend with the original data square given as k²·ShareSize
// contiguous bytes in row-major order. The bytes are copied.
func (e *Extender) ExtendFlat(ods []byte) (*ExtendedSquare, error) {
	s := new(ExtendedSquare)
	if err := e.ExtendFlatInto(s, ods); err != nil {
		return nil, err
	}
	return s, nil
}

// ExtendInto is Extend writing into dst, which may be a zero
// ExtendedSquare or one from an earlier call. dst's buffer is reused when
// it is large enough, which avoids allocating (and page-faulting) a fresh
// 2k·2k·ShareSize buffer per square. Every view previously taken from dst
// is invalidated, and ods must not alias dst. On error dst is left empty
// (Width 0).
func (e *Extender) ExtendInto(dst *ExtendedSquare, ods [][]byte) error {
	dst.k = 0
	k, err := odsWidth(len(ods))
	if err != nil {
		return err
	}
	for i, sh := range ods {
		if len(sh) != ShareSize {
			return fmt.Errorf("%w: ODS share %d has %d bytes, want %d", ErrInvalidShare, i, len(sh), ShareSize)
		}
	}
	dst.reset(k)
	w := 2 * k
	return e.extend(dst, func(r int) {
		row := dst.buf[r*w*ShareSize:]
		for c := range k {
			copy(row[c*ShareSize:(c+1)*ShareSize], ods[r*k+c])
		}
	})
}

// ExtendFlatInto is ExtendInto with a flat original data square, as in
// ExtendFlat.
func (e *Extender) ExtendFlatInto(dst *ExtendedSquare, ods []byte) error {
	dst.k = 0
	if len(ods)%ShareSize != 0 {
		return fmt.Errorf("%w: ODS of %d bytes is not a whole number of %d-byte shares", ErrInvalidShare, len(ods), ShareSize)
	}
	k, err := odsWidth(len(ods) / ShareSize)
	if err != nil {
		return err
	}
	dst.reset(k)
	rowLen := k * ShareSize
	return e.extend(dst, func(r int) {
		copy(dst.buf[2*r*rowLen:], ods[r*rowLen:(r+1)*rowLen])
	})
}

// Extend extends ods with a fresh LeopardCodec; see Extender.Extend. Use an
// Extender to reuse codec state across squares.
func Extend(ods [][]byte, p Params) (*ExtendedSquare, error) {
	e, err := NewExtender(p, nil)
	if err != nil {
		return nil, err
	}
	return e.Extend(ods)
}

// ExtendFlat extends a flat ods with a fresh LeopardCodec; see
// Extender.ExtendFlat.
func ExtendFlat(ods []byte, p Params) (*ExtendedSquare, error) {
	e, err := NewExtender(p, nil)
	if err != nil {
		return nil, err
	}
	return e.ExtendFlat(ods)
}

// odsWidth returns k for an ODS of n shares, checking n = k² with k a
// power of two in [1, MaxODSWidth].
func odsWidth(n int) (int, error) {
	if n < 1 || n > MaxODSWidth*MaxODSWidth || n&(n-1) != 0 || bits.TrailingZeros(uint(n))%2 != 0 {
		return 0, fmt.Errorf("%w: %d shares is not k² for a power of two k in 1..%d", ErrInvalidWidth, n, MaxODSWidth)
	}
	return 1 << (bits.TrailingZeros(uint(n)) / 2), nil
}

func newSquare(k int) *ExtendedSquare {
	s := new(ExtendedSquare)
	s.reset(k)
	return s
}

// reset sizes s for ODS width k, reusing its buffer when large enough. The
// contents are unspecified; extension overwrites every byte.
func (s *ExtendedSquare) reset(k int) {
	w := 2 * k
	n := w * w * ShareSize
	if cap(s.buf) < n {
		s.buf = nil // let the old buffer go before allocating the new one
		s.buf = make([]byte, n)
	}
	s.buf = s.buf[:n]
	s.k = k
}

// extend copies the ODS into Q0 (fill(r) writes ODS row r) and fills Q1,
// Q2 and Q3 from it, in place; it empties s on error. Phase zero copies the
// k ODS rows in parallel. Phase one encodes the k original rows (Q1) and the
// k original columns (Q2), which only read Q0; phase two encodes the k
// parity rows (Q3) from Q2.
func (e *Extender) extend(s *ExtendedSquare, fill func(r int)) error {
	k, w := s.k, 2*s.k
	workers := min(e.params.Workers, w)
	_ = forEach(workers, k, func(_, r int) error {
		fill(r)
		return nil
	})
	scratch := make([][]byte, workers*w)
	axis := func(wk int) [][]byte { return scratch[wk*w : (wk+1)*w : (wk+1)*w] }
	err := forEach(workers, w, func(wk, i int) error {
		a := axis(wk)
		if i < k {
			s.rowInto(a, i)
		} else {
			s.colInto(a, i-k)
		}
		return e.codec.Encode(a)
	})
	if err == nil {
		err = forEach(workers, k, func(wk, i int) error {
			a := axis(wk)
			s.rowInto(a, k+i)
			return e.codec.Encode(a)
		})
	}
	if err != nil {
		s.k = 0
	}
	return err
}
