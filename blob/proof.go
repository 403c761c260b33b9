package blob

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/tessera-da/tessera/erasure"
	"github.com/tessera-da/tessera/nmt"
	"github.com/tessera-da/tessera/share"
)

// MaxProofRows bounds the rows of a blob Proof: a blob lies in the
// original rows of a square of at most erasure.MaxODSWidth rows.
const MaxProofRows = erasure.MaxODSWidth // rows

// Proof is a blob inclusion proof in the shape of celestia-node's
// blob.Proof: a list of NMT range proofs, one per original row the blob's
// shares span, in row order. A blob of n shares starting at original-square
// index s spans rows s/k … (s+n−1)/k; the proof for each row covers exactly
// the blob's shares in that row (columns s%k … k−1 in the first row, 0 …
// k−1 in the middle rows, 0 … (s+n−1)%k in the last), each in the full
// row tree of 2k leaves with Celestia's wrapper prefixes.
//
// celestia-node's GetProof instead returns, for those rows, its
// RowNamespaceData proofs, which cover every share of the namespace in
// the row (other blobs and namespace padding included); see
// NamespaceData. The JSON shape is the same.
//
// A Proof that exists is well formed (NewProof): 1 to MaxProofRows
// non-empty range proofs, none an absence proof. It is not verified: use
// Verify, VerifyBlob or VerifyIncluded. It is immutable.
type Proof struct {
	rows []nmt.Proof
}

// NewProof validates and copies the row proofs of a blob proof received
// from elsewhere. Errors wrap ErrInvalidProof.
func NewProof(rows []nmt.Proof) (Proof, error) {
	if len(rows) == 0 || len(rows) > MaxProofRows {
		return Proof{}, fmt.Errorf("%w: %d row proofs, want 1 to %d", ErrInvalidProof, len(rows), MaxProofRows)
	}
	for i, p := range rows {
		if p.IsEmpty() || p.IsAbsence() {
			return Proof{}, fmt.Errorf("%w: row proof %d is not a range proof", ErrInvalidProof, i)
		}
	}
	return Proof{rows: append([]nmt.Proof(nil), rows...)}, nil
}

// RowProofs returns the row proofs, in row order (a fresh slice).
func (p Proof) RowProofs() []nmt.Proof { return append([]nmt.Proof(nil), p.rows...) }

// Len returns the number of row proofs.
func (p Proof) Len() int { return len(p.rows) }

// Equal reports whether p and q are the same proof, element by element
// (celestia-node's Proof.equal, which blob.Included uses).
func (p Proof) Equal(q Proof) bool {
	if len(p.rows) != len(q.rows) {
		return false
	}
	for i := range p.rows {
		if !p.rows[i].Equal(q.rows[i]) {
			return false
		}
	}
	return true
}

// MarshalJSON encodes p as celestia-node does: an array of NMT proofs in
// NMTProofJSON's shape.
func (p Proof) MarshalJSON() ([]byte, error) {
	out := make([]NMTProofJSON, len(p.rows))
	for i, r := range p.rows {
		out[i] = NewNMTProofJSON(r)
	}
	return json.Marshal(out)
}

// UnmarshalJSON decodes and validates a proof (NewProof). On error p is
// unchanged. Errors wrap ErrInvalidProof.
func (p *Proof) UnmarshalJSON(b []byte) error {
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidProof, err)
	}
	if len(raw) == 0 || len(raw) > MaxProofRows {
		return fmt.Errorf("%w: %d row proofs, want 1 to %d", ErrInvalidProof, len(raw), MaxProofRows)
	}
	rows := make([]nmt.Proof, len(raw))
	for i, m := range raw {
		var j NMTProofJSON
		if err := json.Unmarshal(m, &j); err != nil {
			return fmt.Errorf("%w: row proof %d: %w", ErrInvalidProof, i, err)
		}
		var err error
		if rows[i], err = j.Proof(); err != nil {
			return fmt.Errorf("row proof %d: %w", i, err)
		}
	}
	q, err := NewProof(rows)
	if err != nil {
		return err
	}
	*p = q
	return nil
}

// blobSpan checks that n shares starting at original-square index start
// fit a square of ODS width k and returns the rows they span.
func blobSpan(start, n, k int) (first, last int, err error) {
	if k <= 0 || n <= 0 || start < 0 || start > k*k || n > k*k-start {
		return 0, 0, fmt.Errorf("%d shares at index %d in a %d×%d square", n, start, k, k)
	}
	return start / k, (start + n - 1) / k, nil
}

// rowCols returns the columns [from, to) that the blob occupies in row.
func rowCols(start, n, k, row int) (from, to int) {
	from, to = 0, k
	if row == start/k {
		from = start % k
	}
	if row == (start+n-1)/k {
		to = (start+n-1)%k + 1
	}
	return from, to
}

// checkOneNamespace checks that the n original-square shares at start all
// carry the namespace of the first one, and returns it.
func checkOneNamespace(eds *erasure.ExtendedSquare, start, n int) (share.Namespace, error) {
	k := eds.ODSWidth()
	first := eds.Cell(start/k, start%k)[:share.NamespaceSize]
	ns, err := share.NewNamespaceFromBytes(first)
	if err != nil {
		return share.Namespace{}, fmt.Errorf("%w: share %d: %w", ErrInvalidRequest, start, err)
	}
	for i := start + 1; i < start+n; i++ {
		if !bytes.Equal(eds.Cell(i/k, i%k)[:share.NamespaceSize], first) {
			return share.Namespace{}, fmt.Errorf("%w: share %d is in another namespace than share %d", ErrInvalidRequest, i, start)
		}
	}
	return ns, nil
}

// ProveBlob returns the inclusion proof of the shareCount shares that
// start at original-square index start (row-major, row·k + column) of eds:
// one range proof per row they span, built from that row's tree. The shares
// must all carry one namespace. Errors wrap ErrInvalidRequest.
func ProveBlob(eds *erasure.ExtendedSquare, start, shareCount int) (Proof, error) {
	if eds == nil || eds.Width() == 0 {
		return Proof{}, fmt.Errorf("%w: empty square", ErrInvalidRequest)
	}
	k := eds.ODSWidth()
	first, last, err := blobSpan(start, shareCount, k)
	if err != nil {
		return Proof{}, fmt.Errorf("%w: %w", ErrInvalidRequest, err)
	}
	if _, err := checkOneNamespace(eds, start, shareCount); err != nil {
		return Proof{}, err
	}
	rows := make([]nmt.Proof, last-first+1)
	err = forEachRow(eds.Width(), len(rows), func(rb *rowBuilder, i int) error {
		row := first + i
		if err := rb.build(eds, row); err != nil {
			return err
		}
		from, to := rowCols(start, shareCount, k, row)
		p, err := rb.tree.ProveRange(from, to)
		if err != nil {
			return fmt.Errorf("%w: row %d: %w", ErrInvalidRequest, row, err)
		}
		rows[i] = p
		return nil
	})
	if err != nil {
		return Proof{}, err
	}
	return Proof{rows: rows}, nil
}

// Verify checks that the shares of b sit at original-square index start
// (row-major, row·k + column) of the square with the given DAH. It checks,
// without trusting anything in p:
//   - the blob's n shares fit the square at start, so they span rows
//     start/k … (start+n−1)/k, and p has exactly one proof per such row;
//   - each proof covers exactly the blob's columns in its row (start and
//     end are compared with the expected ones, so a proof cannot stand in
//     for another position or row);
//   - each proof is a range proof, and the blob's shares of that row,
//     prefixed with the blob's namespace as Celestia's wrapper does in the
//     original quadrant, rebuild that row's root from the DAH
//     (nmt VerifyInclusion).
//
// It does not check that the shares are the only data of the namespace
// (that is NamespaceData.Verify's job). Errors wrap ErrInvalidProof.
func (p Proof) Verify(dah *erasure.DAH, b *share.Blob, start int) error {
	if b == nil {
		return fmt.Errorf("%w: nil blob", ErrInvalidProof)
	}
	shares := b.ToShares()
	data := make([][]byte, len(shares))
	for i, s := range shares {
		data[i] = s.Bytes()
	}
	return p.verifyShares(dah, b.Namespace(), data, start)
}

// VerifyBlob is Verify for a blob that knows its position: b.Index() is
// its first share's index in the extended square (row·2k + column), as
// celestia-node's Blob JSON carries it.
func (p Proof) VerifyBlob(dah *erasure.DAH, b *Blob) error {
	if b == nil || b.Blob == nil {
		return fmt.Errorf("%w: nil blob", ErrInvalidProof)
	}
	w := dah.Width()
	idx := b.Index()
	if w == 0 || idx < 0 || idx%w >= w/2 || idx/w >= w/2 {
		return fmt.Errorf("%w: blob index %d is not in the original quadrant of a square of width %d", ErrInvalidProof, idx, w)
	}
	k := w / 2
	return p.Verify(dah, b.Blob, idx/w*k+idx%w)
}

// VerifyIncluded is celestia-node's blob.Included(height, namespace,
// proof, commitment) as a check a client can run itself, given the blob it
// claims: b must be in namespace ns, its share commitment (recomputed from
// its content with Celestia's threshold) must equal commitment, and p must
// verify its shares at start against the DAH (Verify). The proof alone
// cannot tie a commitment to the square; for that without the blob's data
// use CommitmentProof. Errors wrap ErrInvalidProof, and
// ErrCommitmentMismatch for a blob with another commitment.
func (p Proof) VerifyIncluded(dah *erasure.DAH, ns share.Namespace, commitment Commitment, b *share.Blob, start int) error {
	if b == nil {
		return fmt.Errorf("%w: nil blob", ErrInvalidProof)
	}
	if b.Namespace() != ns {
		return fmt.Errorf("%w: blob namespace %s, want %s", ErrInvalidProof, b.Namespace(), ns)
	}
	c, err := ComputeCommitment(b, share.SubtreeRootThreshold)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidProof, err)
	}
	if !bytes.Equal(c, commitment) {
		return fmt.Errorf("%w: %w: blob commits to %s, want %x", ErrInvalidProof, ErrCommitmentMismatch, c, []byte(commitment))
	}
	return p.Verify(dah, b, start)
}

// verifyShares checks p for the given shares of namespace ns at start.
func (p Proof) verifyShares(dah *erasure.DAH, ns share.Namespace, shares [][]byte, start int) error {
	if dah == nil {
		return fmt.Errorf("%w: nil DAH", ErrInvalidProof)
	}
	k := dah.Width() / 2
	first, last, err := blobSpan(start, len(shares), k)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidProof, err)
	}
	if len(p.rows) != last-first+1 {
		return fmt.Errorf("%w: %d row proofs for a blob spanning rows %d…%d", ErrInvalidProof, len(p.rows), first, last)
	}
	nsb := ns.Array()
	off := 0
	for i, rp := range p.rows {
		row := first + i
		from, to := rowCols(start, len(shares), k, row)
		if rp.IsAbsence() || rp.Start() != from || rp.End() != to {
			return fmt.Errorf("%w: row %d: proof covers [%d, %d), want the blob's columns [%d, %d)", ErrInvalidProof, row, rp.Start(), rp.End(), from, to)
		}
		if err := rp.VerifyInclusionWithNamespace(dah.Root(erasure.Row, row), nsb[:], shares[off:off+to-from]...); err != nil {
			return fmt.Errorf("%w: row %d: %w", ErrInvalidProof, row, err)
		}
		off += to - from
	}
	return nil
}
