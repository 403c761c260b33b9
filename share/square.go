package share

import (
	"bytes"
	"fmt"
)

// Square is an original data square: k×k shares in row-major order, k a
// power of two.
type Square []Share

// EmptySquare returns the square of a block without transactions: one tail
// padding share.
func EmptySquare() Square { return Square(TailPaddingShares(1)) }

// Size returns the width k of the square (0 for an empty slice).
func (s Square) Size() int { return ceilSqrt(len(s)) }

// Bytes returns the shares concatenated.
func (s Square) Bytes() []byte { return ToBytes(s) }

// Equal reports whether two squares hold the same shares.
func (s Square) Equal(o Square) bool {
	if len(s) != len(o) {
		return false
	}
	for i := range s {
		if !bytes.Equal(s[i].data, o[i].data) {
			return false
		}
	}
	return true
}

// ClassifiedTx is a block transaction together with the caller's decision
// on whether it pays for Fibre (go-square v4.0.0 square.ClassifiedTx). That
// decision needs the Cosmos SDK schema, so this package never makes it;
// blob transactions it recognises itself.
type ClassifiedTx struct {
	// Bytes is the transaction exactly as it appears in the block.
	Bytes []byte
	// FibreSystemBlob is non-nil if and only if Bytes is a MsgPayForFibre
	// transaction: it is the share-version-2 system blob the caller derived
	// from it.
	FibreSystemBlob *Blob
}

// BlobPlacement says where one blob sits in the square.
type BlobPlacement struct {
	TxIndex      int // index of the transaction that carries or pays for it
	BlobIndex    int // index of the blob within its BlobTx; -1 for a Fibre system blob
	Namespace    Namespace
	Start        int // index of its first share in the square
	ShareCount   int
	SubtreeWidth int // its start is a multiple of this
}

// End returns the index just past the blob's last share.
func (p BlobPlacement) End() int { return p.Start + p.ShareCount }

// Layout describes how a square was laid out, in share indexes:
// [0, TxShares) ordinary txs, then PFBShares PFB shares, then PFFShares
// pay-for-fibre shares, primary reserved padding up to BlobsStart, blobs and
// namespace padding in [BlobsStart, BlobsEnd), tail padding to the end.
type Layout struct {
	SquareSize                     int
	TxShares, PFBShares, PFFShares int
	BlobsStart, BlobsEnd           int
	NumTxs, NumBlobTxs, NumPFFTxs  int // ordinary, blob and pay-for-fibre transactions, in that order
	// PFBShareIndexes holds, per blob tx, the share indexes written into
	// its IndexWrapper.
	PFBShareIndexes [][]uint32
	// BlobsByTx holds, per blob tx, its blobs' placements by blob index.
	BlobsByTx [][]BlobPlacement
	// FibreBlobs holds, per pay-for-fibre tx, its system blob's placement.
	FibreBlobs []BlobPlacement
}

// ShareKind names what a share of a square holds.
type ShareKind uint8

// Share kinds, in square order.
const (
	ShareKindTx               ShareKind = iota + 1 // compact share of ordinary txs
	ShareKindPFB                                   // compact share of PFB IndexWrappers
	ShareKindPFF                                   // compact share of pay-for-fibre txs
	ShareKindReservedPadding                       // primary reserved padding
	ShareKindBlob                                  // blob data
	ShareKindNamespacePadding                      // padding between blobs
	ShareKindTailPadding                           // padding after the last blob
)

// String returns the kind's name as the reference vectors spell it.
func (k ShareKind) String() string {
	switch k {
	case ShareKindTx:
		return "compact:tx"
	case ShareKindPFB:
		return "compact:pfb"
	case ShareKindPFF:
		return "compact:pay-for-fibre"
	case ShareKindReservedPadding:
		return "primary-reserved-padding"
	case ShareKindBlob:
		return "blob"
	case ShareKindNamespacePadding:
		return "namespace-padding"
	case ShareKindTailPadding:
		return "tail-padding"
	}
	return fmt.Sprintf("ShareKind(%d)", uint8(k))
}

// ShareKinds returns the kind of every share of the square, in order.
func (l *Layout) ShareKinds() []ShareKind {
	kinds := make([]ShareKind, l.SquareSize*l.SquareSize)
	set := func(from, to int, k ShareKind) {
		for i := max(from, 0); i < to && i < len(kinds); i++ {
			kinds[i] = k
		}
	}
	c := l.TxShares + l.PFBShares + l.PFFShares
	set(0, l.TxShares, ShareKindTx)
	set(l.TxShares, l.TxShares+l.PFBShares, ShareKindPFB)
	set(l.TxShares+l.PFBShares, c, ShareKindPFF)
	set(c, l.BlobsStart, ShareKindReservedPadding)
	set(l.BlobsStart, l.BlobsEnd, ShareKindNamespacePadding)
	for _, ps := range l.BlobsByTx {
		for _, p := range ps {
			set(p.Start, p.End(), ShareKindBlob)
		}
	}
	for _, p := range l.FibreBlobs {
		set(p.Start, p.End(), ShareKindBlob)
	}
	set(l.BlobsEnd, len(kinds), ShareKindTailPadding)
	return kinds
}

// Construct builds the original data square of a block's transactions,
// byte-identical to go-square v4.0.0 square.Construct with every
// transaction classified as not paying for Fibre. Transactions must be
// ordered ordinary txs first, then blob txs. maxSquareSize is the largest
// allowed width (a power of two, at most SquareSizeUpperBound);
// subtreeRootThreshold is normally SubtreeRootThreshold.
//
// Errors wrap ErrInvalidTx (empty or malformed transactions, bad order),
// ErrSquareTooLarge (the transactions do not fit) or ErrInvalidSquare
// (bad parameters).
func Construct(txs [][]byte, maxSquareSize, subtreeRootThreshold int) (Square, error) {
	ctxs := make([]ClassifiedTx, len(txs))
	for i, tx := range txs {
		ctxs[i] = ClassifiedTx{Bytes: tx}
	}
	sq, _, err := ConstructClassified(ctxs, maxSquareSize, subtreeRootThreshold)
	return sq, err
}

// ConstructClassified is Construct for classified transactions, ordered
// ordinary txs, blob txs, pay-for-fibre txs. It also returns the layout.
func ConstructClassified(txs []ClassifiedTx, maxSquareSize, subtreeRootThreshold int) (Square, *Layout, error) {
	b, err := NewBuilder(maxSquareSize, subtreeRootThreshold)
	if err != nil {
		return nil, nil, err
	}
	// Decode and check the order of every tx before adding any, so that
	// an ordering error wins over a size error as in go-square.
	blobTxs := make([]*BlobTx, len(txs))
	seenBlob, seenFibre := false, false
	for i, c := range txs {
		if len(c.Bytes) == 0 {
			return nil, nil, fmt.Errorf("%w: tx %d is empty", ErrInvalidTx, i)
		}
		if c.FibreSystemBlob != nil {
			if c.FibreSystemBlob.ShareVersion() != ShareVersionTwo {
				return nil, nil, fmt.Errorf("%w: tx %d: Fibre system blob has share version %d, want %d", ErrInvalidTx, i, c.FibreSystemBlob.ShareVersion(), ShareVersionTwo)
			}
			if IsBlobTx(c.Bytes) {
				return nil, nil, fmt.Errorf("%w: tx %d is a BlobTx classified as pay-for-fibre", ErrInvalidTx, i)
			}
			seenFibre = true
			continue
		}
		btx, isBlob, err := UnmarshalBlobTx(c.Bytes)
		switch {
		case isBlob && err != nil:
			return nil, nil, fmt.Errorf("tx %d: %w", i, err)
		case isBlob:
			if seenFibre {
				return nil, nil, fmt.Errorf("%w: blob tx %d follows a pay-for-fibre tx", ErrInvalidTx, i)
			}
			seenBlob = true
			blobTxs[i] = btx
		case seenBlob || seenFibre:
			return nil, nil, fmt.Errorf("%w: ordinary tx %d follows a blob or pay-for-fibre tx", ErrInvalidTx, i)
		}
	}
	for i, c := range txs {
		var fits bool
		switch {
		case c.FibreSystemBlob != nil:
			if fits, err = b.AppendFibreTx(c.Bytes, c.FibreSystemBlob); err != nil {
				return nil, nil, fmt.Errorf("tx %d: %w", i, err)
			}
		case blobTxs[i] != nil:
			fits = b.AppendBlobTx(blobTxs[i])
		default:
			fits = b.AppendTx(c.Bytes)
		}
		if !fits {
			return nil, nil, fmt.Errorf("%w: tx %d does not fit in a %d×%d square", ErrSquareTooLarge, i, maxSquareSize, maxSquareSize)
		}
	}
	return b.export()
}

// squareWidth checks that n shares form a k×k square with k a power of two.
func squareWidth(n int) (int, error) {
	k := ceilSqrt(n)
	if n == 0 || k*k != n || k&(k-1) != 0 {
		return 0, fmt.Errorf("%w: %d shares do not form a square with a power-of-two width", ErrInvalidSquare, n)
	}
	return k, nil
}

// namespaceRun returns the end of the run of shares in namespace ns that
// starts at from.
func namespaceRun(sq Square, from int, ns Namespace) int {
	i := from
	for i < len(sq) && bytes.Equal(sq[i].data[:NamespaceSize], ns.b[:]) {
		i++
	}
	return i
}

// deconstructed is what the compact part of a square says.
type deconstructed struct {
	txs     [][]byte // ordinary txs
	blobTxs [][]byte // re-marshaled BlobTxs
	pffTxs  [][]byte
	pffEnd  int          // index just past the compact shares
	used    map[int]bool // first shares of blobs the PFBs point at
}

func deconstruct(sq Square) (*deconstructed, error) {
	if _, err := squareWidth(len(sq)); err != nil {
		return nil, err
	}
	for i, s := range sq {
		if len(s.data) != ShareSize {
			return nil, fmt.Errorf("%w: share %d is %d bytes", ErrInvalidShare, i, len(s.data))
		}
	}
	d := &deconstructed{used: map[int]bool{}}
	txEnd := namespaceRun(sq, 0, TxNamespace)
	pfbEnd := namespaceRun(sq, txEnd, PayForBlobNamespace)
	d.pffEnd = namespaceRun(sq, pfbEnd, PayForFibreNamespace)
	var err error
	if d.txs, err = ParseTxs(sq[:txEnd]); err != nil {
		return nil, fmt.Errorf("%w: tx shares: %w", ErrInvalidSquare, err)
	}
	wrappers, err := ParseTxs(sq[txEnd:pfbEnd])
	if err != nil {
		return nil, fmt.Errorf("%w: PFB shares: %w", ErrInvalidSquare, err)
	}
	if d.pffTxs, err = ParseTxs(sq[pfbEnd:d.pffEnd]); err != nil {
		return nil, fmt.Errorf("%w: pay-for-fibre shares: %w", ErrInvalidSquare, err)
	}
	// Every blob a PFB points at is parsed once, and no two may overlap:
	// that bounds the output by the square's size.
	covered := make([]bool, len(sq))
	for i, wb := range wrappers {
		w, err := UnmarshalIndexWrapper(wb)
		if err != nil {
			return nil, fmt.Errorf("%w: PFB %d: %w", ErrInvalidSquare, i, err)
		}
		if len(w.ShareIndexes) == 0 {
			return nil, fmt.Errorf("%w: PFB %d has no share indexes", ErrInvalidSquare, i)
		}
		blobs := make([]*Blob, len(w.ShareIndexes))
		for j, idx := range w.ShareIndexes {
			start := int(idx)
			if start < d.pffEnd || start >= len(sq) {
				return nil, fmt.Errorf("%w: PFB %d blob %d: share index %d outside the blob region [%d, %d)", ErrInvalidSquare, i, j, idx, d.pffEnd, len(sq))
			}
			b, n, err := ParseBlob(sq[start:])
			if err != nil {
				return nil, fmt.Errorf("%w: PFB %d blob %d at share %d: %w", ErrInvalidSquare, i, j, idx, err)
			}
			for k := start; k < start+n; k++ {
				if covered[k] {
					return nil, fmt.Errorf("%w: PFB %d blob %d at share %d overlaps another blob", ErrInvalidSquare, i, j, idx)
				}
				covered[k] = true
			}
			d.used[start] = true
			blobs[j] = b
		}
		tx, err := MarshalBlobTx(w.Tx, blobs...)
		if err != nil {
			return nil, fmt.Errorf("%w: PFB %d: %w", ErrInvalidSquare, i, err)
		}
		d.blobTxs = append(d.blobTxs, tx)
	}
	return d, nil
}

// Deconstruct recovers a block's transactions from its square, in block
// order: ordinary txs, blob txs, pay-for-fibre txs. Each blob tx is rebuilt
// from its PFB's IndexWrapper and the blobs at its share indexes, and
// re-marshaled as MarshalBlobTx does, so it equals the original when that
// was canonically encoded. Like go-square, Deconstruct reads only the
// compact shares and the blobs the PFBs point at; use ParseSquare to also
// check the rest of the square. Any byte content is safe to pass: errors
// wrap ErrInvalidSquare or ErrInvalidShare.
func Deconstruct(sq Square) ([][]byte, error) {
	d, err := deconstruct(sq)
	if err != nil {
		return nil, err
	}
	out := make([][]byte, 0, len(d.txs)+len(d.blobTxs)+len(d.pffTxs))
	out = append(out, d.txs...)
	out = append(out, d.blobTxs...)
	return append(out, d.pffTxs...), nil
}

// ParsedSquare is a square read back into its transactions.
type ParsedSquare struct {
	// Txs are the block's transactions in order (see Deconstruct).
	Txs [][]byte
	// FibreSystemBlobs are the system blobs of the pay-for-fibre txs,
	// paired with them in square order (the pairing between several system
	// blobs of one namespace cannot be recovered without decoding the txs).
	FibreSystemBlobs []*Blob
	// Layout is where everything sits.
	Layout *Layout
}

// ParseSquare reads a square back into its transactions and checks that it
// is exactly the square Construct builds from them with
// subtreeRootThreshold: every share, padding included, must match. Errors
// wrap ErrInvalidSquare or ErrInvalidShare.
func ParseSquare(sq Square, subtreeRootThreshold int) (*ParsedSquare, error) {
	d, err := deconstruct(sq)
	if err != nil {
		return nil, err
	}
	// System blobs: share-version-2 sequences no PFB points at.
	var system []*Blob
	if len(d.pffTxs) > 0 {
		for i := d.pffEnd; i < len(sq); {
			if sq[i].IsPadding() {
				i++
				continue
			}
			b, n, err := ParseBlob(sq[i:])
			if err != nil {
				return nil, fmt.Errorf("%w: share %d: %w", ErrInvalidSquare, i, err)
			}
			if b.ShareVersion() == ShareVersionTwo && !d.used[i] {
				system = append(system, b)
			}
			i += n
		}
		if len(system) != len(d.pffTxs) {
			return nil, fmt.Errorf("%w: %d pay-for-fibre txs but %d system blobs", ErrInvalidSquare, len(d.pffTxs), len(system))
		}
	}
	ctxs := make([]ClassifiedTx, 0, len(d.txs)+len(d.blobTxs)+len(d.pffTxs))
	for _, tx := range d.txs {
		ctxs = append(ctxs, ClassifiedTx{Bytes: tx})
	}
	for _, tx := range d.blobTxs {
		ctxs = append(ctxs, ClassifiedTx{Bytes: tx})
	}
	for i, tx := range d.pffTxs {
		ctxs = append(ctxs, ClassifiedTx{Bytes: tx, FibreSystemBlob: system[i]})
	}
	k, _ := squareWidth(len(sq))
	if len(ctxs) == 0 {
		if !sq.Equal(EmptySquare()) {
			return nil, fmt.Errorf("%w: a square without transactions must be the empty square", ErrInvalidSquare)
		}
		return &ParsedSquare{Layout: &Layout{SquareSize: 1}}, nil
	}
	if k > SquareSizeUpperBound {
		return nil, fmt.Errorf("%w: width %d exceeds %d", ErrInvalidSquare, k, SquareSizeUpperBound)
	}
	again, lay, err := ConstructClassified(ctxs, k, subtreeRootThreshold)
	if err != nil {
		return nil, fmt.Errorf("%w: rebuilding from its txs: %w", ErrInvalidSquare, err)
	}
	if !again.Equal(sq) {
		for i := range sq {
			if i >= len(again) || !bytes.Equal(sq[i].data, again[i].data) {
				return nil, fmt.Errorf("%w: share %d differs from the square its txs build", ErrInvalidSquare, i)
			}
		}
		return nil, fmt.Errorf("%w: its txs build a %d×%d square, not %d×%d", ErrInvalidSquare, again.Size(), again.Size(), k, k)
	}
	txs := make([][]byte, len(ctxs))
	for i, c := range ctxs {
		txs[i] = c.Bytes
	}
	return &ParsedSquare{Txs: txs, FibreSystemBlobs: system, Layout: lay}, nil
}
