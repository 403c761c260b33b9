package blob

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/tessera-da/tessera/erasure"
	"github.com/tessera-da/tessera/nmt"
	"github.com/tessera-da/tessera/nmt/merkle"
	"github.com/tessera-da/tessera/share"
)

// MaxSubtreeRoots bounds the subtree roots of a CommitmentProof. A blob of
// n shares has at most about n/w + log2(w) of them for its subtree width
// w ≥ ⌈n/64⌉ capped at ⌈√n⌉, so a few hundred in the largest square.
const MaxSubtreeRoots = 4096 // roots

// RowProof proves consecutive row roots of an extended square against its
// data root, in the shape of celestia-app's proof.RowProof: the row roots
// of rows StartRow … EndRow (inclusive) and, for each, the RFC-6962 proof
// of that root as leaf StartRow+i of the 4k leaves row roots ‖ column roots.
//
// A RowProof that exists is well formed (NewRowProof); it is not verified.
// It is immutable; accessors return copies.
type RowProof struct {
	rowRoots [][]byte
	proofs   []merkle.Proof
	startRow int
	endRow   int
}

// NewRowProof validates and copies a row proof received from elsewhere: 1
// to erasure.MaxODSWidth rows, EndRow − StartRow + 1 of them, one valid NMT
// node and one merkle proof each. Errors wrap ErrInvalidProof.
func NewRowProof(rowRoots [][]byte, proofs []merkle.Proof, startRow, endRow int) (RowProof, error) {
	n := len(rowRoots)
	if n == 0 || n > erasure.MaxODSWidth || len(proofs) != n || startRow < 0 || endRow < startRow || endRow-startRow+1 != n {
		return RowProof{}, fmt.Errorf("%w: row proof of rows %d…%d with %d roots and %d proofs", ErrInvalidProof, startRow, endRow, n, len(proofs))
	}
	rp := RowProof{rowRoots: make([][]byte, n), proofs: append([]merkle.Proof(nil), proofs...), startRow: startRow, endRow: endRow}
	buf := make([]byte, 0, n*nmt.NodeSize)
	for i, r := range rowRoots {
		if err := nmt.ValidateNode(r); err != nil {
			return RowProof{}, fmt.Errorf("%w: row root %d: %w", ErrInvalidProof, i, err)
		}
		buf = append(buf, r...)
		rp.rowRoots[i] = buf[i*nmt.NodeSize : (i+1)*nmt.NodeSize : (i+1)*nmt.NodeSize]
	}
	return rp, nil
}

// RowRoots returns copies of the row roots.
func (rp RowProof) RowRoots() [][]byte {
	out := make([][]byte, len(rp.rowRoots))
	for i, r := range rp.rowRoots {
		out[i] = bytes.Clone(r)
	}
	return out
}

// Proofs returns the roots' inclusion proofs in the data root.
func (rp RowProof) Proofs() []merkle.Proof { return append([]merkle.Proof(nil), rp.proofs...) }

// StartRow returns the first proven row.
func (rp RowProof) StartRow() int { return rp.startRow }

// EndRow returns the last proven row (inclusive).
func (rp RowProof) EndRow() int { return rp.endRow }

// Verify checks that the row roots are the roots of rows StartRow … EndRow
// of an original square (rows < k) whose data root is dataRoot: every proof
// states the same total 4k (k a power of two up to erasure.MaxODSWidth),
// proof i is for leaf StartRow+i, and each verifies (erasure.VerifyRoot).
// It returns k. celestia-app's RowProof.Validate checks neither the totals
// nor the indexes. Errors wrap ErrInvalidProof.
func (rp RowProof) Verify(dataRoot []byte) (k int, err error) {
	n := len(rp.rowRoots)
	if n == 0 || len(rp.proofs) != n || rp.endRow-rp.startRow+1 != n {
		return 0, fmt.Errorf("%w: malformed row proof", ErrInvalidProof)
	}
	total := rp.proofs[0].Total()
	if total < 4 || total%4 != 0 || total/4 > erasure.MaxODSWidth || total/4&(total/4-1) != 0 {
		return 0, fmt.Errorf("%w: row proof total %d is not 4k for a power of two k ≤ %d", ErrInvalidProof, total, erasure.MaxODSWidth)
	}
	k = int(total / 4)
	if rp.endRow >= k {
		return 0, fmt.Errorf("%w: rows %d…%d are not all original rows of a square of width %d", ErrInvalidProof, rp.startRow, rp.endRow, k)
	}
	for i, p := range rp.proofs {
		if err := erasure.VerifyRoot(dataRoot, 2*k, erasure.Row, rp.startRow+i, rp.rowRoots[i], p); err != nil {
			return 0, fmt.Errorf("%w: row %d: %w", ErrInvalidProof, rp.startRow+i, err)
		}
	}
	return k, nil
}

// CommitmentProof proves a blob's share commitment against a data root
// alone, in the shape of celestia-node's blob.CommitmentProof: the blob's
// subtree roots (whose RFC-6962 root is the commitment), one NMT range
// proof per row the blob spans that ties that row's subtree roots to the
// row root, the blob's namespace, and a RowProof of those row roots to the
// data root.
//
// A CommitmentProof that exists is well formed (NewCommitmentProof) but
// not verified: use Verify. It is immutable; accessors return copies.
type CommitmentProof struct {
	subtreeRoots      [][]byte
	subtreeRootProofs []nmt.Proof
	ns                share.Namespace
	rowProof          RowProof
}

// NewCommitmentProof validates and copies the parts of a commitment proof
// received from elsewhere: 1 to MaxSubtreeRoots subtree roots (valid NMT
// nodes), at most as many subtree-root proofs as roots, each a non-empty
// range proof, and exactly one per row of the row proof. Errors wrap
// ErrInvalidProof.
func NewCommitmentProof(subtreeRoots [][]byte, subtreeRootProofs []nmt.Proof, ns share.Namespace, rp RowProof) (*CommitmentProof, error) {
	if len(subtreeRoots) == 0 || len(subtreeRoots) > MaxSubtreeRoots {
		return nil, fmt.Errorf("%w: %d subtree roots, want 1 to %d", ErrInvalidProof, len(subtreeRoots), MaxSubtreeRoots)
	}
	if len(subtreeRootProofs) == 0 || len(subtreeRootProofs) > len(subtreeRoots) || len(subtreeRootProofs) != len(rp.rowRoots) {
		return nil, fmt.Errorf("%w: %d subtree root proofs for %d subtree roots and %d rows", ErrInvalidProof, len(subtreeRootProofs), len(subtreeRoots), len(rp.rowRoots))
	}
	for i, p := range subtreeRootProofs {
		if p.IsEmpty() || p.IsAbsence() {
			return nil, fmt.Errorf("%w: subtree root proof %d is not a range proof", ErrInvalidProof, i)
		}
	}
	cp := &CommitmentProof{
		subtreeRoots:      make([][]byte, len(subtreeRoots)),
		subtreeRootProofs: append([]nmt.Proof(nil), subtreeRootProofs...),
		ns:                ns,
		rowProof:          rp,
	}
	buf := make([]byte, 0, len(subtreeRoots)*nmt.NodeSize)
	for i, r := range subtreeRoots {
		if err := nmt.ValidateNode(r); err != nil {
			return nil, fmt.Errorf("%w: subtree root %d: %w", ErrInvalidProof, i, err)
		}
		buf = append(buf, r...)
		cp.subtreeRoots[i] = buf[i*nmt.NodeSize : (i+1)*nmt.NodeSize : (i+1)*nmt.NodeSize]
	}
	return cp, nil
}

// SubtreeRoots returns copies of the blob's subtree roots.
func (cp *CommitmentProof) SubtreeRoots() [][]byte {
	out := make([][]byte, len(cp.subtreeRoots))
	for i, r := range cp.subtreeRoots {
		out[i] = bytes.Clone(r)
	}
	return out
}

// SubtreeRootProofs returns the per-row NMT proofs of the subtree roots.
func (cp *CommitmentProof) SubtreeRootProofs() []nmt.Proof {
	return append([]nmt.Proof(nil), cp.subtreeRootProofs...)
}

// Namespace returns the namespace the proof is for.
func (cp *CommitmentProof) Namespace() share.Namespace { return cp.ns }

// RowProof returns the proof of the row roots to the data root.
func (cp *CommitmentProof) RowProof() RowProof { return cp.rowProof }

// ProveCommitment returns the commitment proof of the blob whose
// shareCount shares start at original-square index start of eds, whose DAH
// is dah: its subtree roots (read off the row trees, as aligned subtrees
// of width SubTreeWidth(shareCount, 64)), a range proof per row it spans,
// and the row roots' proofs to dah.Hash(). The shares must carry one
// namespace and start at a multiple of their subtree width (Celestia's
// non-interactive default rules). Errors wrap ErrInvalidRequest.
func ProveCommitment(eds *erasure.ExtendedSquare, dah *erasure.DAH, start, shareCount int) (*CommitmentProof, error) {
	if err := checkSquare(eds, dah); err != nil {
		return nil, err
	}
	k := eds.ODSWidth()
	first, last, err := blobSpan(start, shareCount, k)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidRequest, err)
	}
	ns, err := checkOneNamespace(eds, start, shareCount)
	if err != nil {
		return nil, err
	}
	width := share.SubTreeWidth(shareCount, share.SubtreeRootThreshold)
	n := last - first + 1
	proofs := make([]nmt.Proof, n)
	rowRoots := make([][][]byte, n)
	err = forEachRow(eds.Width(), n, func(rb *rowBuilder, i int) error {
		row := first + i
		if err := rb.buildChecked(eds, dah, row); err != nil {
			return err
		}
		from, to := rowCols(start, shareCount, k, row)
		ranges, err := nmt.ToLeafRanges(from, to, width)
		if err != nil {
			return fmt.Errorf("%w: row %d: blob not aligned to its subtree width %d: %w", ErrInvalidRequest, row, width, err)
		}
		if proofs[i], err = rb.tree.ProveRange(from, to); err != nil {
			return fmt.Errorf("%w: row %d: %w", ErrInvalidRequest, row, err)
		}
		for _, lr := range ranges {
			r, err := rb.subtreeRoot(eds, row, lr)
			if err != nil {
				return fmt.Errorf("%w: row %d: %w", ErrInvalidRequest, row, err)
			}
			rowRoots[i] = append(rowRoots[i], r)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var roots [][]byte
	for _, rs := range rowRoots {
		roots = append(roots, rs...)
	}
	rootsOfRows := make([][]byte, n)
	mproofs := make([]merkle.Proof, n)
	for i := range n {
		rootsOfRows[i] = dah.Root(erasure.Row, first+i)
		if mproofs[i], err = dah.ProveRoot(erasure.Row, first+i); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalidRequest, err)
		}
	}
	rp, err := NewRowProof(rootsOfRows, mproofs, first, last)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidRequest, err)
	}
	cp, err := NewCommitmentProof(roots, proofs, ns, rp)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidRequest, err)
	}
	return cp, nil
}

// subtreeRoot returns the root of the NMT over the shares of the aligned
// range lr of row of eds, each prefixed with its own namespace (the
// commitment's subtree roots). It rehashes the leaves in a tree kept by rb:
// nmt.Tree does not expose the inner node it already holds for lr.
func (rb *rowBuilder) subtreeRoot(eds *erasure.ExtendedSquare, row int, lr nmt.LeafRange) ([]byte, error) {
	if rb.sub == nil {
		rb.sub = nmt.New(nmt.IgnoreMaxNamespace(true), nmt.SizeHint(lr.End-lr.Start))
	}
	rb.sub.Reset()
	b := eds.RowBytes(row)
	for i := lr.Start; i < lr.End; i++ {
		cell := b[i*share.ShareSize : (i+1)*share.ShareSize : (i+1)*share.ShareSize]
		if err := rb.sub.PushNamespaced(cell[:share.NamespaceSize], cell); err != nil {
			return nil, err
		}
	}
	return rb.sub.Root(), nil
}

// Verify checks that the blob with share commitment commitment, in
// namespace ns, is in the square whose data root is dataRoot. It needs
// nothing else; this is what Tessera's light clients use. It checks:
//
//  1. the proof is for ns (namespace_id and namespace_version);
//  2. the RFC-6962 root of the subtree roots is commitment;
//  3. every subtree root is a node of namespace ns alone (min = max = ns);
//  4. the row proof verifies against dataRoot (RowProof.Verify): its rows
//     are consecutive original rows of a square of width k, at the
//     indexes it states;
//  5. there is one subtree-root proof per row; the proven ranges lie in the
//     rows' original halves and are contiguous in row-major order (the
//     first may start anywhere, the others start at column 0, all but the
//     last end at column k);
//  6. with w = SubTreeWidth(total proven shares, 64), each row's range is
//     cut into aligned subtrees as nmt.ToLeafRanges does, its subtree
//     roots are consumed in order and rebuild the row root
//     (nmt VerifySubtreeRoots), and every subtree root is consumed.
//
// celestia-node's CommitmentProof.Verify checks 2, 4 (without the totals
// and indexes) and 6 (without requiring every root to be consumed), but
// not 1, 3 or 5. Errors wrap ErrInvalidProof, and ErrCommitmentMismatch
// when step 2 fails.
func (cp *CommitmentProof) Verify(dataRoot []byte, ns share.Namespace, commitment Commitment) error {
	if cp == nil {
		return fmt.Errorf("%w: nil commitment proof", ErrInvalidProof)
	}
	if len(dataRoot) != erasure.DataRootSize {
		return fmt.Errorf("%w: data root is %d bytes", ErrInvalidProof, len(dataRoot))
	}
	if len(commitment) != CommitmentSize {
		return fmt.Errorf("%w: commitment is %d bytes", ErrInvalidProof, len(commitment))
	}
	if cp.ns != ns {
		return fmt.Errorf("%w: proof is for namespace %s, want %s", ErrInvalidProof, cp.ns, ns)
	}
	n := len(cp.subtreeRootProofs)
	if n == 0 || n != len(cp.rowProof.rowRoots) || len(cp.subtreeRoots) == 0 {
		return fmt.Errorf("%w: malformed commitment proof", ErrInvalidProof)
	}
	if got := merkle.ComputeRoot(cp.subtreeRoots); !bytes.Equal(got, commitment) {
		return fmt.Errorf("%w: %w: subtree roots commit to %x, want %x", ErrInvalidProof, ErrCommitmentMismatch, got, []byte(commitment))
	}
	nsb := ns.Array()
	for i, r := range cp.subtreeRoots {
		if !bytes.Equal(nmt.MinNamespace(r), nsb[:]) || !bytes.Equal(nmt.MaxNamespace(r), nsb[:]) {
			return fmt.Errorf("%w: subtree root %d is not a node of namespace %s alone", ErrInvalidProof, i, ns)
		}
	}
	k, err := cp.rowProof.Verify(dataRoot)
	if err != nil {
		return err
	}
	total := 0
	for i, p := range cp.subtreeRootProofs {
		if p.IsEmpty() || p.IsAbsence() || p.End() > k ||
			(i > 0 && p.Start() != 0) || (i < n-1 && p.End() != k) {
			return fmt.Errorf("%w: subtree root proof %d covers [%d, %d) of row %d: not the contiguous span of one blob in rows of %d original shares",
				ErrInvalidProof, i, p.Start(), p.End(), cp.rowProof.startRow+i, k)
		}
		total += p.End() - p.Start()
	}
	width := share.SubTreeWidth(total, share.SubtreeRootThreshold)
	cursor := 0
	for i, p := range cp.subtreeRootProofs {
		ranges, err := nmt.ToLeafRanges(p.Start(), p.End(), width)
		if err != nil {
			return fmt.Errorf("%w: row %d: %w", ErrInvalidProof, cp.rowProof.startRow+i, err)
		}
		if len(ranges) > len(cp.subtreeRoots)-cursor {
			return fmt.Errorf("%w: row %d needs %d subtree roots, %d left", ErrInvalidProof, cp.rowProof.startRow+i, len(ranges), len(cp.subtreeRoots)-cursor)
		}
		if err := p.VerifySubtreeRoots(cp.rowProof.rowRoots[i], cp.subtreeRoots[cursor:cursor+len(ranges)], width); err != nil {
			return fmt.Errorf("%w: row %d: %w", ErrInvalidProof, cp.rowProof.startRow+i, err)
		}
		cursor += len(ranges)
	}
	if cursor != len(cp.subtreeRoots) {
		return fmt.Errorf("%w: %d of %d subtree roots are not proven in any row", ErrInvalidProof, len(cp.subtreeRoots)-cursor, len(cp.subtreeRoots))
	}
	return nil
}

// tmInt64 is a 64-bit integer as cometbft's tmjson writes it: a JSON
// string. It also reads a bare JSON number.
type tmInt64 int64

func (v tmInt64) MarshalJSON() ([]byte, error) {
	return []byte(`"` + strconv.FormatInt(int64(v), 10) + `"`), nil
}

func (v *tmInt64) UnmarshalJSON(b []byte) error {
	s := string(b)
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		s = s[1 : len(s)-1]
	}
	x, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("invalid 64-bit integer %q", b)
	}
	*v = tmInt64(x)
	return nil
}

// merkleProofJSON is celestia-app's proof.Proof (cometbft merkle.Proof)
// through tmjson.
type merkleProofJSON struct {
	Total    tmInt64  `json:"total,omitempty"`
	Index    tmInt64  `json:"index,omitempty"`
	LeafHash []byte   `json:"leaf_hash,omitempty"`
	Aunts    [][]byte `json:"aunts,omitempty"`
}

// rowProofJSON is celestia-app's proof.RowProof through tmjson. Root is
// read and ignored, as celestia-app ignores it.
type rowProofJSON struct {
	RowRoots [][]byte          `json:"row_roots,omitempty"`
	Proofs   []merkleProofJSON `json:"proofs,omitempty"`
	Root     []byte            `json:"root,omitempty"`
	StartRow uint32            `json:"start_row,omitempty"`
	EndRow   uint32            `json:"end_row,omitempty"`
}

// commitmentProofJSON is celestia-node's CommitmentProof through tmjson.
type commitmentProofJSON struct {
	SubtreeRoots      [][]byte       `json:"subtree_roots"`
	SubtreeRootProofs []NMTProofJSON `json:"subtree_root_proofs"`
	NamespaceID       []byte         `json:"namespace_id"`
	RowProof          rowProofJSON   `json:"row_proof"`
	NamespaceVersion  uint8          `json:"namespace_version"`
}

// MarshalJSON encodes rp as celestia-app's RowProof through tmjson:
// {"row_roots":["<b64 90B>"],"proofs":[{"total":"64","index":"4",
// "leaf_hash":"<b64>","aunts":["<b64>"]}],"start_row":4,"end_row":4}, zero
// fields omitted and 64-bit integers as strings.
func (rp RowProof) MarshalJSON() ([]byte, error) { return json.Marshal(rp.toJSON()) }

func (rp RowProof) toJSON() rowProofJSON {
	j := rowProofJSON{RowRoots: rp.RowRoots(), StartRow: uint32(rp.startRow), EndRow: uint32(rp.endRow)}
	for _, p := range rp.proofs {
		j.Proofs = append(j.Proofs, merkleProofJSON{Total: tmInt64(p.Total()), Index: tmInt64(p.Index()), LeafHash: p.LeafHash(), Aunts: p.Aunts()})
	}
	return j
}

// UnmarshalJSON decodes and validates rp (NewRowProof); 64-bit integers may
// be strings or numbers. On error rp is unchanged. Errors wrap
// ErrInvalidProof.
func (rp *RowProof) UnmarshalJSON(b []byte) error {
	var j rowProofJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidProof, err)
	}
	v, err := j.rowProof()
	if err != nil {
		return err
	}
	*rp = v
	return nil
}

func (j rowProofJSON) rowProof() (RowProof, error) {
	if len(j.Proofs) > erasure.MaxODSWidth {
		return RowProof{}, fmt.Errorf("%w: %d row proofs", ErrInvalidProof, len(j.Proofs))
	}
	proofs := make([]merkle.Proof, len(j.Proofs))
	for i, mp := range j.Proofs {
		var err error
		if proofs[i], err = merkle.NewProof(int64(mp.Total), int64(mp.Index), mp.LeafHash, mp.Aunts); err != nil {
			return RowProof{}, fmt.Errorf("%w: row proof %d: %w", ErrInvalidProof, i, err)
		}
	}
	return NewRowProof(j.RowRoots, proofs, int(j.StartRow), int(j.EndRow))
}

// MarshalJSON encodes cp as celestia-node does (tmjson):
//
//	{"subtree_roots":["<b64 90B>"],"subtree_root_proofs":[<NMTProofJSON>],
//	 "namespace_id":"<b64 28B>","row_proof":<RowProof>,"namespace_version":0}
func (cp *CommitmentProof) MarshalJSON() ([]byte, error) {
	if cp == nil {
		return []byte("null"), nil
	}
	j := commitmentProofJSON{
		SubtreeRoots:     cp.SubtreeRoots(),
		NamespaceID:      cp.ns.ID(),
		RowProof:         cp.rowProof.toJSON(),
		NamespaceVersion: cp.ns.Version(),
	}
	for _, p := range cp.subtreeRootProofs {
		j.SubtreeRootProofs = append(j.SubtreeRootProofs, NewNMTProofJSON(p))
	}
	return json.Marshal(j)
}

// UnmarshalJSON decodes and validates cp (NewCommitmentProof). On error cp
// is unchanged. Errors wrap ErrInvalidProof.
func (cp *CommitmentProof) UnmarshalJSON(b []byte) error {
	var j commitmentProofJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidProof, err)
	}
	ns, err := share.NewNamespace(j.NamespaceVersion, j.NamespaceID)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidProof, err)
	}
	if len(j.SubtreeRootProofs) > erasure.MaxODSWidth {
		return fmt.Errorf("%w: %d subtree root proofs", ErrInvalidProof, len(j.SubtreeRootProofs))
	}
	proofs := make([]nmt.Proof, len(j.SubtreeRootProofs))
	for i, pj := range j.SubtreeRootProofs {
		if proofs[i], err = pj.Proof(); err != nil {
			return fmt.Errorf("subtree root proof %d: %w", i, err)
		}
	}
	rp, err := j.RowProof.rowProof()
	if err != nil {
		return err
	}
	v, err := NewCommitmentProof(j.SubtreeRoots, proofs, ns, rp)
	if err != nil {
		return err
	}
	*cp = *v
	return nil
}
