package blob

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"sync"

	"github.com/tessera-da/tessera/erasure"
	"github.com/tessera-da/tessera/nmt"
	"github.com/tessera-da/tessera/share"
)

// Sentinel errors of the proof code, next to those in errors.go.
var (
	// ErrNamespaceOutsideRange means a namespace lies outside a row root's
	// namespace range, so the row holds no data of it and no non-inclusion
	// proof can be made (celestia-node shwap.ErrNamespaceOutsideRange).
	ErrNamespaceOutsideRange = errors.New("blob: namespace is outside the row's namespace range")
	// ErrInvalidRequest means a prover was asked for something the square
	// cannot prove: coordinates outside it, a DAH of another square, a
	// range that is not one blob, or the parity namespace.
	ErrInvalidRequest = errors.New("blob: invalid proof request")
)

// Limits of the proof containers (untrusted input is rejected beyond them).
const (
	// MaxNamespaceDataRows bounds the rows of a NamespaceData: every row of
	// the largest extended square.
	MaxNamespaceDataRows = 2 * erasure.MaxODSWidth // rows
	// MaxRowNamespaceShares bounds the shares of one RowNamespaceData: the
	// original half of the widest row.
	MaxRowNamespaceShares = erasure.MaxODSWidth // shares
	// MaxEncodedRowNamespaceDataSize bounds the protobuf encoding
	// ParseRowNamespaceData accepts.
	MaxEncodedRowNamespaceDataSize = MaxRowNamespaceShares*(share.ShareSize+8) + nmt.MaxEncodedProofSize + 16 // bytes
)

// parityNamespace is the namespace Celestia's tree wrapper gives every
// share outside the original quadrant.
var parityNamespace = share.ParityNamespace.Array()

// NMTProofJSON is an NMT proof in the JSON shape celestia-node serves:
// celestiaorg/nmt's pb.Proof through encoding/json, so every zero field is
// omitted ({"start":0} is written {}):
//
//	{"start":2,"end":5,"nodes":["<b64 90B>",…],"leaf_hash":"<b64 90B, absence proofs only>","is_max_namespace_ignored":true}
type NMTProofJSON struct {
	Start                 int64    `json:"start,omitempty"`
	End                   int64    `json:"end,omitempty"`
	Nodes                 [][]byte `json:"nodes,omitempty"`
	LeafHash              []byte   `json:"leaf_hash,omitempty"`
	IsMaxNamespaceIgnored bool     `json:"is_max_namespace_ignored,omitempty"`
}

// NewNMTProofJSON returns the JSON form of p.
func NewNMTProofJSON(p nmt.Proof) NMTProofJSON {
	return NMTProofJSON{
		Start:                 int64(p.Start()),
		End:                   int64(p.End()),
		Nodes:                 p.Nodes(),
		LeafHash:              p.LeafHash(),
		IsMaxNamespaceIgnored: p.IsMaxNamespaceIgnored(),
	}
}

// Proof validates j and returns the proof it describes (nmt.NewProof's
// checks). Errors wrap ErrInvalidProof.
func (j NMTProofJSON) Proof() (nmt.Proof, error) {
	if j.Start < 0 || j.End < 0 || j.Start > nmt.MaxLeaves || j.End > nmt.MaxLeaves {
		return nmt.Proof{}, fmt.Errorf("%w: nmt proof range [%d, %d)", ErrInvalidProof, j.Start, j.End)
	}
	p, err := nmt.NewProof(int(j.Start), int(j.End), j.Nodes, j.LeafHash, j.IsMaxNamespaceIgnored)
	if err != nil {
		return nmt.Proof{}, fmt.Errorf("%w: %w", ErrInvalidProof, err)
	}
	return p, nil
}

// RowNamespaceData is the data of one namespace in one row of an extended
// square, with its NMT proof against the row root: celestia-node's
// shwap.RowNamespaceData as RowNamespaceDataFromShares builds it.
//
//   - When the namespace has shares in the row's original half, Shares are
//     exactly those shares (in order) and the proof is a range proof over
//     them in the full row tree (2k leaves, Celestia's wrapper prefixes).
//   - Otherwise there are no shares and the proof is the NMT absence proof
//     of the namespace in that row.
//
// A RowNamespaceData that exists is well formed (NewRowNamespaceData): a
// non-empty proof, shares only with a range proof and exactly as many as
// the range, every share ShareSize bytes of one valid namespace. It is not
// verified: use Verify or NamespaceData.Verify. It is immutable; accessors
// return copies.
type RowNamespaceData struct {
	shares []byte // len(shares)/ShareSize shares, contiguous
	proof  nmt.Proof
}

// NewRowNamespaceData validates and copies the parts of a row's namespace
// data received from elsewhere. Errors wrap ErrInvalidProof.
func NewRowNamespaceData(shares [][]byte, proof nmt.Proof) (RowNamespaceData, error) {
	if proof.IsEmpty() {
		return RowNamespaceData{}, fmt.Errorf("%w: row namespace data with an empty proof", ErrInvalidProof)
	}
	if proof.IsAbsence() {
		if len(shares) != 0 {
			return RowNamespaceData{}, fmt.Errorf("%w: %d shares with an absence proof", ErrInvalidProof, len(shares))
		}
		return RowNamespaceData{proof: proof}, nil
	}
	if len(shares) == 0 || len(shares) > MaxRowNamespaceShares || len(shares) != proof.End()-proof.Start() {
		return RowNamespaceData{}, fmt.Errorf("%w: %d shares for the range [%d, %d)", ErrInvalidProof, len(shares), proof.Start(), proof.End())
	}
	buf := make([]byte, 0, len(shares)*share.ShareSize)
	for i, s := range shares {
		if len(s) != share.ShareSize {
			return RowNamespaceData{}, fmt.Errorf("%w: share %d is %d bytes, want %d", ErrInvalidProof, i, len(s), share.ShareSize)
		}
		if i == 0 {
			if _, err := share.NewNamespaceFromBytes(s[:share.NamespaceSize]); err != nil {
				return RowNamespaceData{}, fmt.Errorf("%w: share 0: %w", ErrInvalidProof, err)
			}
		} else if !bytes.Equal(s[:share.NamespaceSize], buf[:share.NamespaceSize]) {
			return RowNamespaceData{}, fmt.Errorf("%w: share %d has another namespace than share 0", ErrInvalidProof, i)
		}
		buf = append(buf, s...)
	}
	return RowNamespaceData{shares: buf, proof: proof}, nil
}

// Shares returns copies of the row's shares of the namespace; none for an
// absence proof.
func (r RowNamespaceData) Shares() [][]byte {
	n := len(r.shares) / share.ShareSize
	if n == 0 {
		return nil
	}
	buf := bytes.Clone(r.shares)
	out := make([][]byte, n)
	for i := range out {
		out[i] = buf[i*share.ShareSize : (i+1)*share.ShareSize : (i+1)*share.ShareSize]
	}
	return out
}

// NumShares returns the number of shares.
func (r RowNamespaceData) NumShares() int { return len(r.shares) / share.ShareSize }

// Proof returns the row's NMT proof.
func (r RowNamespaceData) Proof() nmt.Proof { return r.proof }

// IsAbsence reports whether r proves that the row holds no share of the
// namespace.
func (r RowNamespaceData) IsAbsence() bool { return r.proof.IsAbsence() }

// Equal reports whether r and o hold the same shares and proof.
func (r RowNamespaceData) Equal(o RowNamespaceData) bool {
	return bytes.Equal(r.shares, o.shares) && r.proof.Equal(o.proof)
}

// Verify checks r as the data of namespace ns in row row of the square
// with the given DAH (celestia-node RowNamespaceData.Verify): ns must lie in
// the row root's namespace range, the proof's range must lie in the row's
// original half, and the proof must verify as a namespace proof
// (nmt VerifyNamespace, so with completeness) over the leaves ns ‖ share,
// or as an absence proof when there are no shares. Errors wrap
// ErrInvalidProof, and ErrNamespaceOutsideRange when ns is outside the row.
func (r RowNamespaceData) Verify(dah *erasure.DAH, ns share.Namespace, row int) error {
	if dah == nil || row < 0 || row >= dah.Width() {
		return fmt.Errorf("%w: row %d of a DAH of width %d", ErrInvalidProof, row, dah.Width())
	}
	return r.verify(dah.Root(erasure.Row, row), ns, dah.Width()/2)
}

// verify checks r against one row root of a square of ODS width k.
func (r RowNamespaceData) verify(root []byte, ns share.Namespace, k int) error {
	if r.proof.IsEmpty() {
		return fmt.Errorf("%w: empty proof", ErrInvalidProof)
	}
	if r.proof.IsAbsence() != (len(r.shares) == 0) {
		return fmt.Errorf("%w: %d shares do not fit the proof (absence: %v)", ErrInvalidProof, r.NumShares(), r.proof.IsAbsence())
	}
	if r.proof.End() > k {
		return fmt.Errorf("%w: proof range [%d, %d) leaves the original half of a row of %d", ErrInvalidProof, r.proof.Start(), r.proof.End(), 2*k)
	}
	nsb := ns.Array()
	if nmt.ValidateNode(root) != nil || !rootCovers(root, nsb[:]) {
		return fmt.Errorf("%w: %w", ErrInvalidProof, ErrNamespaceOutsideRange)
	}
	n := r.NumShares()
	leafSize := share.NamespaceSize + share.ShareSize
	buf := make([]byte, n*leafSize)
	leaves := make([][]byte, n)
	for i := range n {
		l := buf[i*leafSize : (i+1)*leafSize : (i+1)*leafSize]
		copy(l, r.shares[i*share.ShareSize:i*share.ShareSize+share.NamespaceSize])
		copy(l[share.NamespaceSize:], r.shares[i*share.ShareSize:(i+1)*share.ShareSize])
		leaves[i] = l
	}
	if err := r.proof.VerifyNamespace(root, nsb[:], leaves...); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidProof, err)
	}
	return nil
}

// rootCovers reports whether ns lies in [min, max] of an NMT node.
func rootCovers(root, ns []byte) bool {
	return bytes.Compare(ns, nmt.MinNamespace(root)) >= 0 && bytes.Compare(ns, nmt.MaxNamespace(root)) <= 0
}

// rowNamespaceDataJSON is shwap.RowNamespaceData through encoding/json.
type rowNamespaceDataJSON struct {
	Shares [][]byte      `json:"shares"`
	Proof  *NMTProofJSON `json:"proof"`
}

// MarshalJSON encodes r as celestia-node does:
// {"shares":["<b64 512B>",…] (null when absent),"proof":<NMTProofJSON>}.
func (r RowNamespaceData) MarshalJSON() ([]byte, error) {
	p := NewNMTProofJSON(r.proof)
	return json.Marshal(rowNamespaceDataJSON{Shares: r.Shares(), Proof: &p})
}

// UnmarshalJSON decodes and validates r (NewRowNamespaceData). On error r is
// unchanged. Errors wrap ErrInvalidProof.
func (r *RowNamespaceData) UnmarshalJSON(b []byte) error {
	var j rowNamespaceDataJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidProof, err)
	}
	if j.Proof == nil {
		return fmt.Errorf("%w: row namespace data without a proof", ErrInvalidProof)
	}
	p, err := j.Proof.Proof()
	if err != nil {
		return err
	}
	v, err := NewRowNamespaceData(j.Shares, p)
	if err != nil {
		return err
	}
	*r = v
	return nil
}

// Protobuf field numbers of shwap's pb.RowNamespaceData {shares = 1
// (repeated Share{data = 1}), proof = 2 (nmt pb.Proof)}.
const (
	fieldRNDShares = 1
	fieldRNDProof  = 2
	fieldShareData = 1
)

// AppendBinary appends r encoded as shwap's protobuf RowNamespaceData, the
// bytes gogoproto produces (the proof field is always written).
func (r RowNamespaceData) AppendBinary(b []byte) ([]byte, error) {
	for i := 0; i < len(r.shares); i += share.ShareSize {
		s := r.shares[i : i+share.ShareSize]
		b = pbAppendTag(b, fieldRNDShares, pbWireBytes)
		b = pbAppendVarint(b, uint64(pbBytesFieldSize(fieldShareData, len(s))))
		b = pbAppendBytesField(b, fieldShareData, s)
	}
	p, err := r.proof.MarshalBinary()
	if err != nil {
		return nil, err
	}
	return pbAppendBytesField(b, fieldRNDProof, p), nil
}

// MarshalBinary encodes r as shwap's protobuf RowNamespaceData.
func (r RowNamespaceData) MarshalBinary() ([]byte, error) {
	return r.AppendBinary(make([]byte, 0, len(r.shares)+len(r.shares)/share.ShareSize*6+16+r.proof.NumNodes()*(nmt.NodeSize+2)+nmt.NodeSize+2))
}

// UnmarshalBinary replaces *r with ParseRowNamespaceData(b); on error *r is
// unchanged.
func (r *RowNamespaceData) UnmarshalBinary(b []byte) error {
	v, err := ParseRowNamespaceData(b)
	if err != nil {
		return err
	}
	*r = v
	return nil
}

// ParseRowNamespaceData decodes and validates shwap's protobuf
// RowNamespaceData. b is untrusted: its size is capped at
// MaxEncodedRowNamespaceDataSize, every length is checked before use,
// unknown fields are skipped, a repeated proof keeps the last one (as in
// protobuf), and the result is checked as NewRowNamespaceData checks it.
// Errors wrap ErrInvalidProof.
func ParseRowNamespaceData(b []byte) (RowNamespaceData, error) {
	if len(b) > MaxEncodedRowNamespaceDataSize {
		return RowNamespaceData{}, fmt.Errorf("%w: encoding of %d bytes exceeds %d", ErrInvalidProof, len(b), MaxEncodedRowNamespaceDataSize)
	}
	var (
		shares   [][]byte
		proofEnc []byte
		seen     bool
	)
	err := pbForEachField(b, func(num int, wt int, v []byte) error {
		switch num {
		case fieldRNDShares:
			if wt != pbWireBytes {
				return fmt.Errorf("shares field has wire type %d", wt)
			}
			var data []byte
			if err := pbForEachField(v, func(num, wt int, v []byte) error {
				if num == fieldShareData {
					if wt != pbWireBytes {
						return fmt.Errorf("share data has wire type %d", wt)
					}
					data = v
				}
				return nil
			}); err != nil {
				return fmt.Errorf("share %d: %w", len(shares), err)
			}
			if len(shares) == MaxRowNamespaceShares {
				return fmt.Errorf("more than %d shares", MaxRowNamespaceShares)
			}
			shares = append(shares, data)
		case fieldRNDProof:
			if wt != pbWireBytes {
				return fmt.Errorf("proof field has wire type %d", wt)
			}
			proofEnc, seen = v, true
		}
		return nil
	})
	if err != nil {
		return RowNamespaceData{}, fmt.Errorf("%w: %w", ErrInvalidProof, err)
	}
	if !seen {
		return RowNamespaceData{}, fmt.Errorf("%w: row namespace data without a proof", ErrInvalidProof)
	}
	p, err := nmt.ParseProof(proofEnc)
	if err != nil {
		return RowNamespaceData{}, fmt.Errorf("%w: %w", ErrInvalidProof, err)
	}
	return NewRowNamespaceData(shares, p)
}

// NamespaceData is the data of one namespace in a whole square: one
// RowNamespaceData per row whose root's namespace range covers the
// namespace, in row order (celestia-node share.GetNamespaceData). Its JSON
// is the array of its rows.
type NamespaceData []RowNamespaceData

// UnmarshalJSON decodes an array of at most MaxNamespaceDataRows rows.
// Errors wrap ErrInvalidProof.
func (nd *NamespaceData) UnmarshalJSON(b []byte) error {
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidProof, err)
	}
	if len(raw) > MaxNamespaceDataRows {
		return fmt.Errorf("%w: %d rows, at most %d", ErrInvalidProof, len(raw), MaxNamespaceDataRows)
	}
	out := make(NamespaceData, len(raw))
	for i, m := range raw {
		if err := out[i].UnmarshalJSON(m); err != nil {
			return fmt.Errorf("row %d: %w", i, err)
		}
	}
	*nd = out
	return nil
}

// Shares returns copies of all the namespace's shares, in square order.
func (nd NamespaceData) Shares() [][]byte {
	var out [][]byte
	for _, r := range nd {
		out = append(out, r.Shares()...)
	}
	return out
}

// Equal reports whether nd and o hold the same rows.
func (nd NamespaceData) Equal(o NamespaceData) bool {
	if len(nd) != len(o) {
		return false
	}
	for i := range nd {
		if !nd[i].Equal(o[i]) {
			return false
		}
	}
	return true
}

// Verify checks that nd is all the data of namespace ns in the square with
// the given DAH:
//   - completeness across rows: nd has exactly one entry per row whose root
//     covers ns (RowsWithNamespace), in row order;
//   - each entry verifies against its row root as RowNamespaceData.Verify
//     describes (namespace proof with completeness inside the row, absence
//     proof for rows that cover ns without holding it).
//
// A namespace outside every row's range is verified by an empty nd. The
// parity namespace is rejected. Errors wrap ErrInvalidProof.
func (nd NamespaceData) Verify(dah *erasure.DAH, ns share.Namespace) error {
	if dah == nil {
		return fmt.Errorf("%w: nil DAH", ErrInvalidProof)
	}
	if ns.IsParity() {
		return fmt.Errorf("%w: %w: the parity namespace has no namespace data", ErrInvalidProof, ErrInvalidRequest)
	}
	roots := dah.RowRoots()
	nsb := ns.Array()
	k := dah.Width() / 2
	i := 0
	for row, root := range roots {
		if !rootCovers(root, nsb[:]) {
			continue
		}
		if i >= len(nd) {
			return fmt.Errorf("%w: incomplete: no data for row %d", ErrInvalidProof, row)
		}
		if err := nd[i].verify(root, ns, k); err != nil {
			return fmt.Errorf("row %d (entry %d): %w", row, i, err)
		}
		i++
	}
	if i != len(nd) {
		return fmt.Errorf("%w: %d entries for %d rows that cover the namespace", ErrInvalidProof, len(nd), i)
	}
	return nil
}

// RowsWithNamespace returns the rows, in order, whose root's namespace
// range [min, max] covers ns (celestia-node share.RowsWithNamespace). With
// IgnoreMaxNamespace an original row's range ends at its last non-parity
// namespace, so only the parity namespace is covered by parity rows.
func RowsWithNamespace(dah *erasure.DAH, ns share.Namespace) []int {
	nsb := ns.Array()
	var rows []int
	for i, root := range dah.RowRoots() {
		if rootCovers(root, nsb[:]) {
			rows = append(rows, i)
		}
	}
	return rows
}

// ProveNamespaceData returns the data of namespace ns in the square eds
// whose DAH is dah, with a proof per row (RowsWithNamespace), exactly as
// celestia-node's GetNamespaceData serves it. Each row tree is built once.
// A namespace outside every row's range gives an empty result. Errors wrap
// ErrInvalidRequest (mismatched square and DAH, the parity namespace).
func ProveNamespaceData(eds *erasure.ExtendedSquare, dah *erasure.DAH, ns share.Namespace) (NamespaceData, error) {
	if err := checkSquare(eds, dah); err != nil {
		return nil, err
	}
	if ns.IsParity() {
		return nil, fmt.Errorf("%w: the parity namespace has no namespace data", ErrInvalidRequest)
	}
	rows := RowsWithNamespace(dah, ns)
	out := make(NamespaceData, len(rows))
	err := forEachRow(eds.Width(), len(rows), func(rb *rowBuilder, i int) error {
		var err error
		out[i], err = rb.proveNamespace(eds, dah, ns, rows[i])
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ProveRowNamespaceData returns the data of namespace ns in one row of eds
// with its proof (celestia-node RowNamespaceDataFromShares, a shwap
// RowNamespaceData request). It fails with ErrNamespaceOutsideRange when
// the row's root does not cover ns.
func ProveRowNamespaceData(eds *erasure.ExtendedSquare, dah *erasure.DAH, ns share.Namespace, row int) (RowNamespaceData, error) {
	if err := checkSquare(eds, dah); err != nil {
		return RowNamespaceData{}, err
	}
	if row < 0 || row >= eds.Width() {
		return RowNamespaceData{}, fmt.Errorf("%w: row %d of %d", ErrInvalidRequest, row, eds.Width())
	}
	if ns.IsParity() {
		return RowNamespaceData{}, fmt.Errorf("%w: the parity namespace has no namespace data", ErrInvalidRequest)
	}
	return newRowBuilder(eds.Width()).proveNamespace(eds, dah, ns, row)
}

// checkSquare checks that eds and dah describe squares of the same width.
func checkSquare(eds *erasure.ExtendedSquare, dah *erasure.DAH) error {
	if eds == nil || dah == nil || eds.Width() == 0 || eds.Width() != dah.Width() {
		w := 0
		if eds != nil {
			w = eds.Width()
		}
		return fmt.Errorf("%w: square of width %d with a DAH of width %d", ErrInvalidRequest, w, dah.Width())
	}
	return nil
}

// rowBuilder builds row trees with Celestia's wrapper rule; one per
// goroutine.
type rowBuilder struct {
	tree *nmt.Tree
	sub  *nmt.Tree // for subtree roots, made on first use
}

func newRowBuilder(width int) *rowBuilder {
	return &rowBuilder{tree: nmt.New(nmt.IgnoreMaxNamespace(true), nmt.SizeHint(width))}
}

// build resets the tree and pushes row of eds: each original-quadrant share
// prefixed with its own namespace, every other share with the parity
// namespace.
func (rb *rowBuilder) build(eds *erasure.ExtendedSquare, row int) error {
	k, w := eds.ODSWidth(), eds.Width()
	rb.tree.Reset()
	b := eds.RowBytes(row)
	for j := range w {
		cell := b[j*share.ShareSize : (j+1)*share.ShareSize : (j+1)*share.ShareSize]
		ns := parityNamespace[:]
		if row < k && j < k {
			ns = cell[:share.NamespaceSize]
		}
		if err := rb.tree.PushNamespaced(ns, cell); err != nil {
			return fmt.Errorf("%w: row %d: %w", ErrInvalidRequest, row, err)
		}
	}
	return nil
}

// buildChecked builds row and checks its root against dah.
func (rb *rowBuilder) buildChecked(eds *erasure.ExtendedSquare, dah *erasure.DAH, row int) error {
	if err := rb.build(eds, row); err != nil {
		return err
	}
	var root [nmt.NodeSize]byte
	if !bytes.Equal(rb.tree.AppendRoot(root[:0]), dah.Root(erasure.Row, row)) {
		return fmt.Errorf("%w: %w: row %d", ErrInvalidRequest, erasure.ErrDAHMismatch, row)
	}
	return nil
}

// proveNamespace is RowNamespaceDataFromShares for one row.
func (rb *rowBuilder) proveNamespace(eds *erasure.ExtendedSquare, dah *erasure.DAH, ns share.Namespace, row int) (RowNamespaceData, error) {
	if err := rb.buildChecked(eds, dah, row); err != nil {
		return RowNamespaceData{}, err
	}
	nsb := ns.Array()
	if !rootCovers(rb.tree.Root(), nsb[:]) {
		return RowNamespaceData{}, fmt.Errorf("%w: row %d", ErrNamespaceOutsideRange, row)
	}
	k := eds.ODSWidth()
	b := eds.RowBytes(row)
	from, count := 0, 0
	for i := range k {
		if bytes.Equal(b[i*share.ShareSize:i*share.ShareSize+share.NamespaceSize], nsb[:]) {
			if count == 0 {
				from = i
			}
			count++
		} else if count > 0 {
			break
		}
	}
	if count == 0 {
		p, err := rb.tree.ProveNamespace(nsb[:])
		if err != nil {
			return RowNamespaceData{}, fmt.Errorf("%w: row %d: %w", ErrInvalidRequest, row, err)
		}
		if !p.IsAbsence() {
			return RowNamespaceData{}, fmt.Errorf("%w: row %d: namespace only outside the original half", ErrInvalidRequest, row)
		}
		return RowNamespaceData{proof: p}, nil
	}
	p, err := rb.tree.ProveRange(from, from+count)
	if err != nil {
		return RowNamespaceData{}, fmt.Errorf("%w: row %d: %w", ErrInvalidRequest, row, err)
	}
	return RowNamespaceData{
		shares: bytes.Clone(b[from*share.ShareSize : (from+count)*share.ShareSize]),
		proof:  p,
	}, nil
}

// forEachRow runs fn(rb, i) for i in [0, n) on up to GOMAXPROCS goroutines,
// each with its own rowBuilder for rows of the given width, and returns the
// first error. Every goroutine ends before it returns.
func forEachRow(width, n int, fn func(rb *rowBuilder, i int) error) error {
	workers := min(runtime.GOMAXPROCS(0), n)
	if workers <= 1 {
		if n == 0 {
			return nil
		}
		rb := newRowBuilder(width)
		for i := range n {
			if err := fn(rb, i); err != nil {
				return err
			}
		}
		return nil
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		next int
		errs = make([]error, n)
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rb := newRowBuilder(width)
			for {
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				if i >= n {
					return
				}
				errs[i] = fn(rb, i)
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Minimal protobuf wire helpers for shwap's RowNamespaceData.
const (
	pbWireVarint = 0
	pbWireI64    = 1
	pbWireBytes  = 2
	pbWireI32    = 5
)

func pbAppendVarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

func pbAppendTag(b []byte, num, wt int) []byte { return pbAppendVarint(b, uint64(num)<<3|uint64(wt)) }

func pbAppendBytesField(b []byte, num int, v []byte) []byte {
	b = pbAppendTag(b, num, pbWireBytes)
	b = pbAppendVarint(b, uint64(len(v)))
	return append(b, v...)
}

func pbVarintSize(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

func pbBytesFieldSize(num, n int) int {
	return pbVarintSize(uint64(num)<<3) + pbVarintSize(uint64(n)) + n
}

// pbConsumeVarint decodes a varint of at most 10 bytes.
func pbConsumeVarint(b []byte) (uint64, []byte, error) {
	var v uint64
	for i := 0; i < len(b) && i < 10; i++ {
		c := b[i]
		if i == 9 && c > 1 {
			return 0, nil, errors.New("varint overflows 64 bits")
		}
		v |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			return v, b[i+1:], nil
		}
	}
	return 0, nil, errors.New("truncated varint")
}

// pbForEachField calls fn for each field of the message b with its number,
// wire type and, for length-delimited fields, its bytes (aliasing b). It
// rejects groups, field number 0 and truncated input.
func pbForEachField(b []byte, fn func(num, wt int, v []byte) error) error {
	for len(b) > 0 {
		tag, rest, err := pbConsumeVarint(b)
		if err != nil {
			return err
		}
		num, wt := tag>>3, int(tag&7)
		if num == 0 || num > 1<<29-1 {
			return fmt.Errorf("invalid field number %d", num)
		}
		b = rest
		var v []byte
		switch wt {
		case pbWireVarint:
			if _, b, err = pbConsumeVarint(b); err != nil {
				return err
			}
		case pbWireI64, pbWireI32:
			n := 8
			if wt == pbWireI32 {
				n = 4
			}
			if len(b) < n {
				return errors.New("truncated fixed-size field")
			}
			b = b[n:]
		case pbWireBytes:
			n, rest, err := pbConsumeVarint(b)
			if err != nil {
				return err
			}
			if n > uint64(len(rest)) {
				return fmt.Errorf("field %d: length %d exceeds the %d bytes left", num, n, len(rest))
			}
			v, b = rest[:n:n], rest[n:]
		default:
			return fmt.Errorf("field %d: unsupported wire type %d", num, wt)
		}
		if err := fn(int(num), wt, v); err != nil {
			return err
		}
	}
	return nil
}
