package erasure

import (
	"bytes"
	"fmt"

	"github.com/tessera-da/tessera/nmt"
)

// axisDecoder rebuilds one axis from a subset of its shares the way a
// bad-encoding proof is checked: decode the data half from the shares
// present, re-encode the parity half, and build the axis's NMT with the
// Celestia wrapper rule. Repair and BadEncodingProof.Verify share it, so a
// fraud Repair finds is exactly the fraud Verify confirms.
type axisDecoder struct {
	codec Codec
	trees *axisTrees
	buf   []byte   // width·ShareSize bytes of scratch
	axis  [][]byte // the rebuilt axis after rebuild, width shares
	root  [RootSize]byte
}

func newAxisDecoder(codec Codec, trees *axisTrees, width int) *axisDecoder {
	return &axisDecoder{
		codec: codec,
		trees: trees,
		buf:   make([]byte, width*ShareSize),
		axis:  make([][]byte, width),
	}
}

// rebuild rebuilds axis index of a square of width len(dc.axis) from
// share(j) for every j where it is non-empty (ShareSize bytes; at least
// k of them). Afterwards dc.axis holds the rebuilt axis: the decoded data
// half followed by its re-encoded parity. committed is false when that axis
// cannot be the leaves of any NMT (its Q0 namespaces decrease); otherwise
// root is its root, a view of dc.root. Codec failures are returned as
// errors wrapping ErrCodec.
func (dc *axisDecoder) rebuild(index int, share func(j int) []byte) (root []byte, committed bool, err error) {
	w := len(dc.axis)
	k := w / 2
	for j := range w {
		v := dc.buf[j*ShareSize : (j+1)*ShareSize : (j+1)*ShareSize]
		if c := share(j); len(c) != 0 {
			copy(v, c)
		} else {
			v = v[:0]
		}
		dc.axis[j] = v
	}
	if err := dc.codec.ReconstructData(dc.axis); err != nil {
		return nil, false, fmt.Errorf("%w: decoding axis %d: %w", ErrCodec, index, err)
	}
	for j := range w {
		if len(dc.axis[j]) != ShareSize {
			if j < k {
				return nil, false, fmt.Errorf("%w: decoding axis %d left share %d with %d bytes", ErrCodec, index, j, len(dc.axis[j]))
			}
			dc.axis[j] = dc.buf[j*ShareSize : (j+1)*ShareSize : (j+1)*ShareSize]
		}
	}
	if err := dc.codec.Encode(dc.axis); err != nil {
		return nil, false, fmt.Errorf("%w: re-encoding axis %d: %w", ErrCodec, index, err)
	}
	if dc.trees.buildShares(dc.axis, index) != nil {
		return nil, false, nil
	}
	return dc.trees.tree.AppendRoot(dc.root[:0]), true, nil
}

// Axis states during repair. They only move forward.
const (
	axisPending  = iota // not complete, or complete but not checked yet
	axisKnown           // complete and its root matches: its cells are provable
	axisVerified        // known and a codeword: done
)

// axisState is Repair's bookkeeping for one row or column.
type axisState struct {
	status uint8
	// failed is set when the last attempt could neither complete the axis
	// nor prove fraud; present and provable are the counts it saw, so the
	// axis is not retried until one of them grows.
	failed            bool
	present, provable int
}

// axisResult is what one attempt on an axis found.
type axisResult struct {
	changed bool  // cells written or status advanced
	fraud   []int // positions of exactly k provable shares proving fraud
	err     error // codec failure
}

// repairer holds the state of one Repair call.
type repairer struct {
	e     *Extender
	s     *ExtendedSquare
	d     *DAH
	k, w  int
	have  []bool // width², row-major: the cell is present in s
	state [2][]axisState
	dec   []*axisDecoder // per worker
	res   []axisResult   // per axis of the current phase
}

// Repair rebuilds the whole 2k×2k square committed to by d from a subset
// of its cells; see Extender.RepairInto.
func (e *Extender) Repair(cells [][]byte, d *DAH) (*ExtendedSquare, error) {
	s := new(ExtendedSquare)
	if err := e.RepairInto(s, cells, d); err != nil {
		return nil, err
	}
	return s, nil
}

// Repair repairs with a fresh LeopardCodec and p's workers; see
// Extender.RepairInto.
func Repair(cells [][]byte, d *DAH, p Params) (*ExtendedSquare, error) {
	e, err := NewExtender(p, nil)
	if err != nil {
		return nil, err
	}
	return e.Repair(cells, d)
}

// RepairInto rebuilds into dst the whole extended square committed to by d
// from the cells given: cells holds Width()² entries in row-major order,
// each a ShareSize-byte share or nil (or empty) when missing. Cells are
// copied; dst's buffer is reused as in ExtendInto, so cells must not alias
// dst. On error dst is left empty (Width 0).
//
// It alternates between rows and columns, decoding every axis that has at
// least k cells and checking the rebuilt axis against its root in d, and
// checks every axis that becomes complete (given whole, or completed by
// the other axis's decodes) against its root and for being a codeword. It
// returns a square only when all 4k axes are complete, match their roots
// and are codewords, so a square it returns has exactly the DAH d.
//
// Errors:
//   - *ByzantineError (wrapping ErrByzantineData) when an axis of the
//     committed square is provably not a codeword: k of its cells, each
//     proven against d's orthogonal roots, decode to an axis whose root
//     differs from d's (see ByzantineError and NewBadEncodingProof).
//   - ErrUnrepairable when the cells are too few to complete the square.
//     If it also wraps ErrDAHMismatch, some cells contradict d and the
//     contradiction cannot be proven with the cells available: either a
//     given cell is wrong, or d commits to an invalid square and more
//     cells are needed to prove it.
//   - ErrInvalidDAH, ErrInvalidWidth or ErrInvalidShare for malformed
//     arguments, and ErrCodec for codec failures.
//
// The given cells are untrusted: a wrong cell is never written into the
// result, and it never yields a ByzantineError, whose shares are all
// proven against d.
func (e *Extender) RepairInto(dst *ExtendedSquare, cells [][]byte, d *DAH) error {
	dst.k = 0
	w := d.Width()
	if w == 0 {
		return fmt.Errorf("%w: nil or empty DAH", ErrInvalidDAH)
	}
	if len(cells) != w*w {
		return fmt.Errorf("%w: %d cells for a DAH of width %d, want %d", ErrInvalidWidth, len(cells), w, w*w)
	}
	for i, c := range cells {
		if len(c) != 0 && len(c) != ShareSize {
			return fmt.Errorf("%w: cell (%d, %d) has %d bytes, want %d", ErrInvalidShare, i/w, i%w, len(c), ShareSize)
		}
	}
	dst.reset(w / 2)
	r := &repairer{e: e, s: dst, d: d, k: w / 2, w: w, have: make([]bool, w*w)}
	workers := min(e.params.Workers, w)
	_ = forEach(workers, w, func(_, row int) error {
		for c := range w {
			i := row*w + c
			if len(cells[i]) != 0 {
				copy(dst.buf[i*ShareSize:(i+1)*ShareSize], cells[i])
				r.have[i] = true
			}
		}
		return nil
	})
	trees := e.getTrees(workers, w)
	defer e.putTrees(trees)
	r.dec = make([]*axisDecoder, workers)
	for i := range r.dec {
		r.dec[i] = newAxisDecoder(e.codec, trees[i], w)
	}
	r.state = [2][]axisState{make([]axisState, w), make([]axisState, w)}
	r.res = make([]axisResult, w)
	err := r.solve(workers)
	if err != nil {
		dst.k = 0
	}
	return err
}

// solve runs row and column phases until one round changes nothing.
func (r *repairer) solve(workers int) error {
	for {
		changed := false
		for _, a := range [2]Axis{Row, Col} {
			c, err := r.phase(workers, a)
			if err != nil {
				return err
			}
			changed = changed || c
		}
		if !changed {
			break
		}
	}
	missing, conflicts := 0, 0
	ca, ci := Row, 0
	for a := range r.state {
		for i, st := range r.state[a] {
			if st.status == axisVerified {
				continue
			}
			missing++
			if st.failed {
				if conflicts == 0 {
					ca, ci = Axis(a), i
				}
				conflicts++
			}
		}
	}
	if missing == 0 {
		return nil
	}
	if conflicts > 0 {
		return fmt.Errorf("%w: %w: %d rows and columns unresolved; %s %d and %d other axes have enough cells but contradict their roots, and too few of their cells can be proven against the orthogonal roots to show a bad encoding",
			ErrUnrepairable, ErrDAHMismatch, missing, ca, ci, conflicts-1)
	}
	return fmt.Errorf("%w: %d of %d rows and columns cannot be completed", ErrUnrepairable, missing, 2*r.w)
}

// phase attempts every unfinished axis of orientation a in parallel. Each
// attempt reads and writes only its own axis's cells and reads the
// orthogonal axes' states, which do not change during the phase. The
// outcome is therefore independent of the number of workers; of several
// frauds found in one phase the lowest index is reported.
func (r *repairer) phase(workers int, a Axis) (bool, error) {
	clear(r.res)
	_ = forEach(workers, r.w, func(wk, i int) error {
		r.res[i] = r.attempt(r.dec[wk], a, i)
		return nil
	})
	changed := false
	for i := range r.res {
		res := &r.res[i]
		if res.err != nil {
			return false, res.err
		}
		if res.fraud != nil {
			return false, r.evidence(workers, a, i, res.fraud)
		}
		changed = changed || res.changed
	}
	return changed, nil
}

// cellIndex returns the row-major index of position j of axis i along a.
func (r *repairer) cellIndex(a Axis, i, j int) int {
	if a == Row {
		return i*r.w + j
	}
	return j*r.w + i
}

// cell returns a view of position j of axis i along a.
func (r *repairer) cell(a Axis, i, j int) []byte {
	off := r.cellIndex(a, i, j) * ShareSize
	return r.s.buf[off : off+ShareSize : off+ShareSize]
}

// attempt tries to complete and verify axis i of orientation a.
func (r *repairer) attempt(dc *axisDecoder, a Axis, i int) axisResult {
	st := &r.state[a][i]
	if st.status == axisVerified {
		return axisResult{}
	}
	w, k := r.w, r.k
	present, provable := 0, 0
	orth := r.state[1-a]
	for j := range w {
		if r.have[r.cellIndex(a, i, j)] {
			present++
			if orth[j].status >= axisKnown {
				provable++
			}
		}
	}
	if present < k || st.failed && st.present == present && st.provable == provable {
		return axisResult{}
	}
	want := r.d.root(a, i)
	var res axisResult
	if present == w {
		if st.status == axisPending {
			if dc.trees.buildAxis(r.s, a, i) == nil {
				var buf [RootSize]byte
				if bytes.Equal(dc.trees.tree.AppendRoot(buf[:0]), want) {
					st.status = axisKnown
					res.changed = true
				}
			}
		}
		if st.status == axisKnown {
			ok, err := r.isCodeword(dc, a, i)
			if err != nil {
				return axisResult{err: err}
			}
			if ok {
				st.status = axisVerified
				st.failed = false
				return axisResult{changed: true}
			}
		}
	} else {
		root, committed, err := dc.rebuild(i, func(j int) []byte {
			if r.have[r.cellIndex(a, i, j)] {
				return r.cell(a, i, j)
			}
			return nil
		})
		if err != nil {
			return axisResult{err: err}
		}
		if committed && bytes.Equal(root, want) && r.agrees(dc, a, i) {
			for j := range w {
				if ci := r.cellIndex(a, i, j); !r.have[ci] {
					copy(r.cell(a, i, j), dc.axis[j])
					r.have[ci] = true
				}
			}
			st.status = axisVerified
			st.failed = false
			return axisResult{changed: true}
		}
	}
	// The axis contradicts its root or is not a codeword. Try to prove it
	// with cells on known orthogonal axes; otherwise wait for more.
	if provable >= k {
		fraud, err := r.fraudSubset(dc, a, i)
		if err != nil {
			return axisResult{err: err}
		}
		if fraud != nil {
			return axisResult{fraud: fraud}
		}
	}
	st.failed, st.present, st.provable = true, present, provable
	return res
}

// agrees reports whether every present cell of axis i equals the rebuilt
// axis in dc.
func (r *repairer) agrees(dc *axisDecoder, a Axis, i int) bool {
	for j := range r.w {
		if r.have[r.cellIndex(a, i, j)] && !bytes.Equal(r.cell(a, i, j), dc.axis[j]) {
			return false
		}
	}
	return true
}

// isCodeword reports whether the complete axis i is a codeword: its parity
// half equals the encoding of its data half.
func (r *repairer) isCodeword(dc *axisDecoder, a Axis, i int) (bool, error) {
	w, k := r.w, r.k
	for j := range w {
		if j < k {
			dc.axis[j] = r.cell(a, i, j)
		} else {
			dc.axis[j] = dc.buf[j*ShareSize : (j+1)*ShareSize : (j+1)*ShareSize]
		}
	}
	if err := r.e.codec.Encode(dc.axis); err != nil {
		return false, fmt.Errorf("%w: encoding %s %d: %w", ErrCodec, a, i, err)
	}
	for j := k; j < w; j++ {
		if !bytes.Equal(dc.axis[j], r.cell(a, i, j)) {
			return false, nil
		}
	}
	return true, nil
}

// fraudSubset looks for exactly k provable cells of axis i (cells on known
// orthogonal axes) that rebuild to an axis whose root differs from d's, and
// returns their positions, or nil. First the first k provable cells. If
// they rebuild to the committed axis, a provable cell that differs from it
// (if any) replaces the last of them: the rebuilt axis then differs from
// the committed one in that cell, so its root differs too.
func (r *repairer) fraudSubset(dc *axisDecoder, a Axis, i int) ([]int, error) {
	w, k := r.w, r.k
	orth := r.state[1-a]
	var provable []int
	for j := range w {
		if r.have[r.cellIndex(a, i, j)] && orth[j].status >= axisKnown {
			provable = append(provable, j)
		}
	}
	want := r.d.root(a, i)
	try := func(set []int) (bool, error) {
		n := 0
		root, committed, err := dc.rebuild(i, func(j int) []byte {
			if n < len(set) && set[n] == j {
				n++
				return r.cell(a, i, j)
			}
			return nil
		})
		if err != nil {
			return false, err
		}
		return !committed || !bytes.Equal(root, want), nil
	}
	first := provable[:k:k]
	if bad, err := try(first); err != nil || bad {
		if bad {
			return first, nil
		}
		return nil, err
	}
	for _, p := range provable[k:] {
		if !bytes.Equal(r.cell(a, i, p), dc.axis[p]) {
			set := append(provable[:k-1:k-1], p)
			bad, err := try(set)
			if err != nil || !bad {
				return nil, err // !bad: a hash collision
			}
			return set, nil
		}
	}
	return nil, nil
}

// evidence builds the ByzantineError for axis i of orientation a from the
// provable cells at positions set: each is proven in its orthogonal axis's
// tree, which is complete and matches its root in d.
func (r *repairer) evidence(workers int, a Axis, i int, set []int) error {
	w := r.w
	be := &ByzantineError{Axis: a, Index: i, Shares: make([][]byte, w), Proofs: make([]nmt.Proof, w)}
	err := forEach(min(workers, len(set)), len(set), func(wk, n int) error {
		j := set[n]
		t := r.dec[wk].trees
		if err := t.buildAxis(r.s, 1-a, j); err != nil {
			return err
		}
		p, err := t.tree.Prove(i)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrInvalidProof, err)
		}
		be.Shares[j] = bytes.Clone(r.cell(a, i, j))
		be.Proofs[j] = p
		return nil
	})
	if err != nil {
		return err
	}
	return be
}
