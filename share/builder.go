package share

import (
	"fmt"
	"slices"
)

// SquareSizeUpperBound is the largest original data square width go-square
// builds (shares per row).
const SquareSizeUpperBound = 512

// worstCaseShareIndex is the share index the builder assumes for every blob
// when it sizes a PFB before the blobs are placed: the varint of the largest
// index of the largest square (SquareSizeUpperBound², 3 bytes).
const worstCaseShareIndex = SquareSizeUpperBound * SquareSizeUpperBound

// Builder collects transactions into an original data square the way
// go-square v4.0.0's square.Builder does. It keeps go-square's running
// worst-case estimate of the shares used, refuses a transaction that would
// take the estimate past maxSquareSize², and derives the square size from
// the estimate. A Builder is not safe for concurrent use.
type Builder struct {
	maxSquareSize int
	threshold     int
	currentSize   int // worst-case shares used so far

	txs    [][]byte
	pfbs   []IndexWrapper // share indexes are filled in by Export
	pffTxs [][]byte
	blobs  []element

	txCounter, pfbCounter, pffCounter compactCounter
}

// element is one blob waiting for a place in the square.
type element struct {
	blob       *Blob
	pfbIndex   int // index into Builder.pfbs, or -1 for a Fibre system blob
	blobIndex  int // index within its BlobTx, or -1
	pffIndex   int // index into Builder.pffTxs for a system blob, else -1
	numShares  int
	maxPadding int // SubTreeWidth - 1: the most alignment padding it can need
}

// compactCounter tracks how many compact shares a growing stream of
// varint-delimited units needs.
type compactCounter struct{ streamLen int }

// add accounts for a unit of n bytes and returns the growth in shares.
func (c *compactCounter) add(n int) int {
	before := c.size()
	c.streamLen += DelimitedLen(n)
	return c.size() - before
}

func (c *compactCounter) size() int { return CompactSharesNeeded(c.streamLen) }

// NewBuilder returns an empty Builder. maxSquareSize must be a power of two
// in [1, SquareSizeUpperBound] and subtreeRootThreshold positive (Celestia
// uses SubtreeRootThreshold).
func NewBuilder(maxSquareSize, subtreeRootThreshold int) (*Builder, error) {
	if maxSquareSize <= 0 || maxSquareSize > SquareSizeUpperBound || maxSquareSize&(maxSquareSize-1) != 0 {
		return nil, fmt.Errorf("%w: max square size %d must be a power of two in [1, %d]", ErrInvalidSquare, maxSquareSize, SquareSizeUpperBound)
	}
	if subtreeRootThreshold <= 0 {
		return nil, fmt.Errorf("%w: subtree root threshold %d must be positive", ErrInvalidSquare, subtreeRootThreshold)
	}
	return &Builder{maxSquareSize: maxSquareSize, threshold: subtreeRootThreshold}, nil
}

func (b *Builder) canFit(shares int) bool {
	return b.currentSize+shares <= b.maxSquareSize*b.maxSquareSize
}

func (b *Builder) newElement(blob *Blob, pfbIndex, blobIndex, pffIndex int) element {
	n := blob.ShareCount()
	return element{
		blob:       blob,
		pfbIndex:   pfbIndex,
		blobIndex:  blobIndex,
		pffIndex:   pffIndex,
		numShares:  n,
		maxPadding: SubTreeWidth(n, b.threshold) - 1,
	}
}

// AppendTx adds an ordinary transaction. It reports false, and changes
// nothing, when the transaction does not fit.
func (b *Builder) AppendTx(tx []byte) bool {
	c := b.txCounter
	diff := c.add(len(tx))
	if !b.canFit(diff) {
		return false
	}
	b.txCounter = c
	b.txs = append(b.txs, tx)
	b.currentSize += diff
	return true
}

// AppendBlobTx adds a blob transaction: its inner transaction becomes a PFB
// in the PFB namespace and its blobs are placed among the other blobs. The
// estimate counts the PFB with worst-case share indexes and each blob with
// its shares plus SubTreeWidth−1 padding. It reports false, and changes
// nothing, when the transaction does not fit (or has no blobs).
func (b *Builder) AppendBlobTx(btx *BlobTx) bool {
	if btx == nil || len(btx.Blobs) == 0 || slices.Contains(btx.Blobs, nil) {
		return false
	}
	c := b.pfbCounter
	worst := make([]uint32, len(btx.Blobs))
	for i := range worst {
		worst[i] = worstCaseShareIndex
	}
	diff := c.add(indexWrapperSize(len(btx.Tx), worst))
	elems := make([]element, len(btx.Blobs))
	for i, blob := range btx.Blobs {
		elems[i] = b.newElement(blob, len(b.pfbs), i, -1)
		diff += elems[i].numShares + elems[i].maxPadding
	}
	if !b.canFit(diff) {
		return false
	}
	b.pfbCounter = c
	b.pfbs = append(b.pfbs, IndexWrapper{Tx: btx.Tx, ShareIndexes: make([]uint32, len(btx.Blobs))})
	b.blobs = append(b.blobs, elems...)
	b.currentSize += diff
	return true
}

// AppendFibreTx adds a pay-for-fibre transaction, classified as such by the
// caller, with the system blob the caller derived from it: the raw tx goes
// to the pay-for-fibre namespace and the blob, which must be share version
// 2, is placed among the other blobs. It reports false, and changes nothing,
// when the transaction does not fit.
func (b *Builder) AppendFibreTx(tx []byte, systemBlob *Blob) (bool, error) {
	if systemBlob == nil || systemBlob.ShareVersion() != ShareVersionTwo {
		return false, fmt.Errorf("%w: a Fibre system blob must be share version %d", ErrInvalidTx, ShareVersionTwo)
	}
	c := b.pffCounter
	e := b.newElement(systemBlob, -1, -1, len(b.pffTxs))
	diff := c.add(len(tx)) + e.numShares + e.maxPadding
	if !b.canFit(diff) {
		return false, nil
	}
	b.pffCounter = c
	b.pffTxs = append(b.pffTxs, tx)
	b.blobs = append(b.blobs, e)
	b.currentSize += diff
	return true, nil
}

// CurrentSize returns the builder's worst-case estimate of the shares used.
func (b *Builder) CurrentSize() int { return b.currentSize }

// IsEmpty reports whether nothing has been added.
func (b *Builder) IsEmpty() bool {
	return b.txCounter.size() == 0 && b.pfbCounter.size() == 0 && b.pffCounter.size() == 0
}

// Export builds the square. It does not change the builder.
func (b *Builder) Export() (Square, error) {
	sq, _, err := b.export()
	return sq, err
}

// ExportLayout builds the square and reports where everything went.
func (b *Builder) ExportLayout() (Square, *Layout, error) { return b.export() }

func (b *Builder) export() (Square, *Layout, error) {
	if b.IsEmpty() {
		return EmptySquare(), &Layout{SquareSize: 1}, nil
	}
	k := BlobMinSquareSize(b.currentSize)

	// Blobs in namespace order; blobs of one namespace keep the order in
	// which their transactions were added.
	elems := slices.Clone(b.blobs)
	slices.SortStableFunc(elems, func(x, y element) int { return x.blob.ns.Compare(y.blob.ns) })

	pfbs := make([]IndexWrapper, len(b.pfbs))
	for i, w := range b.pfbs {
		pfbs[i] = IndexWrapper{Tx: w.Tx, ShareIndexes: make([]uint32, len(w.ShareIndexes))}
	}

	lay := &Layout{
		SquareSize:      k,
		NumTxs:          len(b.txs),
		NumBlobTxs:      len(b.pfbs),
		NumPFFTxs:       len(b.pffTxs),
		PFBShareIndexes: make([][]uint32, len(pfbs)),
		BlobsByTx:       make([][]BlobPlacement, len(b.pfbs)),
		FibreBlobs:      make([]BlobPlacement, len(b.pffTxs)),
	}

	// Place the blobs after the compact shares as the counters size them
	// (the PFB counter used worst-case share indexes, so the real PFB
	// shares may end earlier; the gap becomes primary reserved padding).
	nonReservedStart := b.txCounter.size() + b.pfbCounter.size() + b.pffCounter.size()
	cursor, endOfLast := nonReservedStart, nonReservedStart
	var blobShares []Share
	for i, e := range elems {
		cursor = NextShareIndex(cursor, e.numShares, b.threshold)
		if i == 0 {
			nonReservedStart = cursor
		}
		padding := cursor - endOfLast
		if padding > e.maxPadding {
			return nil, nil, fmt.Errorf("%w: blob needs %d padding shares, at most %d were reserved", ErrInvalidSquare, padding, e.maxPadding)
		}
		if i > 0 && padding > 0 {
			prev := elems[i-1].blob
			blobShares = append(blobShares, NamespacePaddingShares(prev.ns, prev.shareVersion, padding)...)
		}
		blobShares = append(blobShares, e.blob.ToShares()...)
		p := BlobPlacement{
			TxIndex:      len(b.txs) + e.pfbIndex,
			BlobIndex:    e.blobIndex,
			Namespace:    e.blob.ns,
			Start:        cursor,
			ShareCount:   e.numShares,
			SubtreeWidth: e.maxPadding + 1,
		}
		if e.pfbIndex >= 0 {
			pfbs[e.pfbIndex].ShareIndexes[e.blobIndex] = uint32(cursor)
			lay.BlobsByTx[e.pfbIndex] = append(lay.BlobsByTx[e.pfbIndex], p)
		} else {
			p.TxIndex = len(b.txs) + len(b.pfbs) + e.pffIndex
			lay.FibreBlobs[e.pffIndex] = p
		}
		cursor += e.numShares
		endOfLast = cursor
	}

	units := make([][]byte, len(pfbs))
	for i := range pfbs {
		units[i] = pfbs[i].Marshal()
	}
	txShares := SplitTxs(TxNamespace, b.txs)
	pfbShares := SplitTxs(PayForBlobNamespace, units)
	pffShares := SplitTxs(PayForFibreNamespace, b.pffTxs)
	if len(pfbShares) > b.pfbCounter.size() {
		return nil, nil, fmt.Errorf("%w: PFBs use %d shares, more than the %d estimated", ErrInvalidSquare, len(pfbShares), b.pfbCounter.size())
	}

	total := k * k
	pfbStart := len(txShares)
	pffStart := pfbStart + len(pfbShares)
	paddingStart := pffStart + len(pffShares)
	if nonReservedStart < paddingStart {
		return nil, nil, fmt.Errorf("%w: blobs start at %d, before the compact shares end at %d", ErrInvalidSquare, nonReservedStart, paddingStart)
	}
	if endOfLast > total {
		return nil, nil, fmt.Errorf("%w: %d shares do not fit a %d×%d square", ErrSquareTooLarge, endOfLast, k, k)
	}
	sq := make(Square, 0, total)
	sq = append(sq, txShares...)
	sq = append(sq, pfbShares...)
	sq = append(sq, pffShares...)
	if len(blobShares) > 0 {
		sq = append(sq, ReservedPaddingShares(nonReservedStart-paddingStart)...)
		sq = append(sq, blobShares...)
	}
	sq = append(sq, TailPaddingShares(total-len(sq))...)

	// Placement went in namespace order; list each tx's blobs by index.
	for i := range lay.BlobsByTx {
		slices.SortFunc(lay.BlobsByTx[i], func(x, y BlobPlacement) int { return x.BlobIndex - y.BlobIndex })
		lay.PFBShareIndexes[i] = pfbs[i].ShareIndexes
	}
	lay.TxShares, lay.PFBShares, lay.PFFShares = len(txShares), len(pfbShares), len(pffShares)
	lay.BlobsStart = paddingStart
	if len(blobShares) > 0 {
		lay.BlobsStart = nonReservedStart
	}
	lay.BlobsEnd = lay.BlobsStart + len(blobShares)
	return sq, lay, nil
}
