package share

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/tessera-da/tessera/internal/vectors"
)

func mustBlobTx(t testing.TB, inner []byte, blobs ...*Blob) []byte {
	t.Helper()
	tx, err := MarshalBlobTx(inner, blobs...)
	if err != nil {
		t.Fatal(err)
	}
	return tx
}

// blobOfShares returns a v0 blob that spans exactly n shares.
func blobOfShares(t testing.TB, ns Namespace, n int) *Blob {
	t.Helper()
	size := FirstSparseShareContentSize + (n-1)*ContinuationSparseShareContentSize
	b := testBlob(t, ns, size, ShareVersionZero)
	if b.ShareCount() != n {
		t.Fatalf("blob of %d bytes spans %d shares, want %d", size, b.ShareCount(), n)
	}
	return b
}

func TestConstructErrors(t *testing.T) {
	ns := testNS(t, 1)
	blobTx := mustBlobTx(t, []byte("pfb"), testBlob(t, ns, 10, ShareVersionZero))
	nonCanonical := append(bytes.Clone(blobTx), 0x78, 0x01)
	tests := []struct {
		name      string
		txs       [][]byte
		max, thr  int
		wantErr   error
		wantMatch error
	}{
		{"max 0", nil, 0, 64, ErrInvalidSquare, nil},
		{"max not a power of two", nil, 3, 64, ErrInvalidSquare, nil},
		{"max too large", nil, 2 * SquareSizeUpperBound, 64, ErrInvalidSquare, nil},
		{"threshold 0", nil, 8, 0, ErrInvalidSquare, nil},
		{"empty tx", [][]byte{{}}, 8, 64, ErrInvalidTx, nil},
		{"normal after blob", [][]byte{blobTx, []byte("tx")}, 8, 64, ErrInvalidTx, nil},
		{"malformed blob tx", [][]byte{nonCanonical}, 8, 64, ErrNonCanonicalBlobTx, nil},
		{"order beats size", [][]byte{bytes.Repeat([]byte{1}, 600), blobTx, []byte("tx")}, 1, 64, ErrInvalidTx, nil},
		{"tx too large", [][]byte{bytes.Repeat([]byte{1}, 473)}, 1, 64, ErrSquareTooLarge, nil},
		{"blob too large", [][]byte{mustBlobTx(t, []byte("pfb"), blobOfShares(t, ns, 4))}, 2, 64, ErrSquareTooLarge, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Construct(tc.txs, tc.max, tc.thr)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
		})
	}
}

func TestConstructEmpty(t *testing.T) {
	sq, err := Construct(nil, 64, SubtreeRootThreshold)
	if err != nil {
		t.Fatal(err)
	}
	if !sq.Equal(EmptySquare()) || sq.Size() != 1 || !sq[0].IsPadding() || sq[0].Namespace() != TailPaddingNamespace {
		t.Fatalf("empty square: %x", sq.Bytes())
	}
	assertRoundTrip(t, sq, nil, SubtreeRootThreshold)
}

// TestConstructFitsExactly checks the edge of canFit: a 1×1 square holds one
// compact share of 474 stream bytes.
func TestConstructFitsExactly(t *testing.T) {
	tx := bytes.Repeat([]byte{1}, 472) // 2-byte varint + 472 = 474
	sq, err := Construct([][]byte{tx}, 1, SubtreeRootThreshold)
	if err != nil {
		t.Fatal(err)
	}
	if sq.Size() != 1 {
		t.Fatalf("size %d", sq.Size())
	}
	assertRoundTrip(t, sq, [][]byte{tx}, SubtreeRootThreshold)
	if _, err := Construct([][]byte{append(tx, 1)}, 1, SubtreeRootThreshold); !errors.Is(err, ErrSquareTooLarge) {
		t.Fatalf("475 stream bytes in 1×1: %v", err)
	}
}

// TestBuilderEstimate pins go-square's worst-case estimate: compact shares
// for the txs, the PFBs sized with share index 512² (a 3-byte varint), and
// each blob's shares plus SubTreeWidth−1.
func TestBuilderEstimate(t *testing.T) {
	b, err := NewBuilder(64, SubtreeRootThreshold)
	if err != nil {
		t.Fatal(err)
	}
	if !b.IsEmpty() || b.CurrentSize() != 0 {
		t.Fatal("new builder not empty")
	}
	if !b.AppendTx(bytes.Repeat([]byte{1}, 1000)) { // 1002 stream bytes: 3 shares
		t.Fatal("tx did not fit")
	}
	if b.CurrentSize() != 3 {
		t.Fatalf("after tx: %d, want 3", b.CurrentSize())
	}
	inner := bytes.Repeat([]byte{2}, 100)
	blobs := []*Blob{blobOfShares(t, testNS(t, 1), 65), blobOfShares(t, testNS(t, 2), 1)}
	if !b.AppendBlobTx(&BlobTx{Tx: inner, Blobs: blobs}) {
		t.Fatal("blob tx did not fit")
	}
	// IndexWrapper: 2+100 (tx) + 2+6 (two 3-byte indexes) + 6 (type id) = 116 bytes, 1 share.
	if n := indexWrapperSize(len(inner), []uint32{worstCaseShareIndex, worstCaseShareIndex}); n != 116 {
		t.Fatalf("worst-case IndexWrapper is %d bytes, want 116", n)
	}
	want := 3 + 1 + (65 + 2 - 1) + (1 + 1 - 1)
	if b.CurrentSize() != want {
		t.Fatalf("after blob tx: %d, want %d", b.CurrentSize(), want)
	}
	sq, lay, err := b.ExportLayout()
	if err != nil {
		t.Fatal(err)
	}
	if k := BlobMinSquareSize(want); sq.Size() != k || lay.SquareSize != k {
		t.Fatalf("square size %d, want %d", sq.Size(), k)
	}
	// The 65-share blob starts at an even index; the 1-share blob follows.
	p := lay.BlobsByTx[0]
	if p[0].Start != 4 || p[0].SubtreeWidth != 2 || p[1].Start != 69 {
		t.Fatalf("placements %+v", p)
	}
	// Export does not change the builder.
	again, err := b.Export()
	if err != nil || !again.Equal(sq) {
		t.Fatalf("second export differs: %v", err)
	}
}

func TestBuilderRejectsWithoutChange(t *testing.T) {
	b, err := NewBuilder(2, SubtreeRootThreshold)
	if err != nil {
		t.Fatal(err)
	}
	if !b.AppendTx(bytes.Repeat([]byte{1}, 1400)) { // 3 shares
		t.Fatal("tx did not fit")
	}
	before := b.CurrentSize()
	if b.AppendBlobTx(&BlobTx{Tx: []byte("x"), Blobs: []*Blob{blobOfShares(t, testNS(t, 1), 1)}}) {
		t.Fatal("blob tx fitted in a full square") // 3 + 1 PFB + 1 blob > 4
	}
	if b.AppendTx(bytes.Repeat([]byte{1}, 600)) {
		t.Fatal("tx fitted in a full square")
	}
	if b.CurrentSize() != before {
		t.Fatalf("size changed from %d to %d", before, b.CurrentSize())
	}
	if !b.AppendTx([]byte("small")) {
		t.Fatal("a small tx should still fit in the last share")
	}
	if b.AppendBlobTx(nil) || b.AppendBlobTx(&BlobTx{}) {
		t.Fatal("blob tx without blobs accepted")
	}
}

// TestConstructNamespaceOrder checks the stable sort and the namespace
// padding, which copies the previous blob's namespace and share version.
func TestConstructNamespaceOrder(t *testing.T) {
	nsA, nsB := testNS(t, 1), testNS(t, 2)
	a1 := testBlob(t, nsA, 100, ShareVersionOne)
	b1 := blobOfShares(t, nsB, 70) // width 2
	a2 := testBlob(t, nsA, 50, ShareVersionZero)
	txs := [][]byte{
		[]byte("normal"),
		mustBlobTx(t, []byte("p0"), b1, a1),
		mustBlobTx(t, []byte("p1"), a2),
	}
	sq, lay, err := ConstructClassified(classify(txs), 64, SubtreeRootThreshold)
	if err != nil {
		t.Fatal(err)
	}
	pa1, pb1, pa2 := lay.BlobsByTx[0][1], lay.BlobsByTx[0][0], lay.BlobsByTx[1][0]
	if !(pa1.Start < pa2.Start && pa2.Start < pb1.Start) {
		t.Fatalf("order: a1 %d, a2 %d, b1 %d", pa1.Start, pa2.Start, pb1.Start)
	}
	if pa2.Start != pa1.End() {
		t.Fatalf("a2 at %d, want right after a1 at %d", pa2.Start, pa1.End())
	}
	if pb1.Start%2 != 0 {
		t.Fatalf("b1 at odd index %d", pb1.Start)
	}
	kinds := lay.ShareKinds()
	for i := pa2.End(); i < pb1.Start; i++ {
		s := sq[i]
		if kinds[i] != ShareKindNamespacePadding || !s.IsPadding() || s.Namespace() != nsA || s.Version() != ShareVersionZero {
			t.Fatalf("share %d: kind %s, padding %v, ns %s, version %d", i, kinds[i], s.IsPadding(), s.Namespace(), s.Version())
		}
	}
	assertRoundTrip(t, sq, txs, SubtreeRootThreshold)
}

func TestConstructFibre(t *testing.T) {
	ns := testNS(t, 4)
	sys := testBlob(t, ns, FibreBlobDataSize, ShareVersionTwo)
	blobTx := mustBlobTx(t, []byte("pfb"), testBlob(t, ns, 600, ShareVersionZero))
	ctxs := []ClassifiedTx{
		{Bytes: []byte("normal")},
		{Bytes: blobTx},
		{Bytes: []byte("pay for fibre"), FibreSystemBlob: sys},
	}
	sq, lay, err := ConstructClassified(ctxs, 8, SubtreeRootThreshold)
	if err != nil {
		t.Fatal(err)
	}
	if lay.PFFShares != 1 || sq[2].Namespace() != PayForFibreNamespace {
		t.Fatalf("pay-for-fibre share missing: %+v", lay)
	}
	// The system blob follows the PFB's blob of the same namespace.
	fb := lay.FibreBlobs[0]
	if fb.TxIndex != 2 || fb.BlobIndex != -1 || fb.Start != lay.BlobsByTx[0][0].End() || fb.ShareCount != 1 {
		t.Fatalf("fibre placement %+v", fb)
	}
	got, _, err := ParseBlob(sq[fb.Start:])
	if err != nil || !got.Equal(sys) {
		t.Fatalf("system blob: %v", err)
	}
	p, err := ParseSquare(sq, SubtreeRootThreshold)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Txs) != 3 || !bytes.Equal(p.Txs[2], ctxs[2].Bytes) || len(p.FibreSystemBlobs) != 1 || !p.FibreSystemBlobs[0].Equal(sys) {
		t.Fatalf("parsed %+v", p)
	}

	bad := []struct {
		name string
		txs  []ClassifiedTx
	}{
		{"blob after fibre", []ClassifiedTx{ctxs[2], ctxs[1]}},
		{"normal after fibre", []ClassifiedTx{ctxs[2], ctxs[0]}},
		{"BlobTx classified as fibre", []ClassifiedTx{{Bytes: blobTx, FibreSystemBlob: sys}}},
		{"system blob not v2", []ClassifiedTx{{Bytes: []byte("pff"), FibreSystemBlob: testBlob(t, ns, 36, ShareVersionOne)}}},
	}
	for _, tc := range bad {
		if _, _, err := ConstructClassified(tc.txs, 8, SubtreeRootThreshold); !errors.Is(err, ErrInvalidTx) {
			t.Errorf("%s: err = %v", tc.name, err)
		}
	}
}

// randomTxs returns a valid, ordered tx list.
func randomTxs(t testing.TB, rng *rand.Rand) [][]byte {
	var txs [][]byte
	for range rng.IntN(6) {
		n := 1 + rng.IntN(1200)
		if rng.IntN(5) == 0 {
			n = 1 + rng.IntN(5)
		}
		tx := make([]byte, n)
		for i := range tx {
			tx[i] = byte(rng.Uint32())
		}
		txs = append(txs, tx)
	}
	for range rng.IntN(6) {
		var blobs []*Blob
		for range 1 + rng.IntN(3) {
			ns := testNS(t, byte(1+rng.IntN(4)))
			v := uint8(rng.IntN(3))
			size := 1 + rng.IntN(3000)
			switch rng.IntN(6) {
			case 0:
				size = 30000 + rng.IntN(40000) // 63..146 shares: needs alignment
			case 1:
				size = FirstSparseShareContentSize + rng.IntN(3)*ContinuationSparseShareContentSize
			}
			blobs = append(blobs, testBlob(t, ns, size, v))
		}
		inner := make([]byte, rng.IntN(300))
		for i := range inner {
			inner[i] = byte(rng.Uint32())
		}
		txs = append(txs, mustBlobTx(t, inner, blobs...))
	}
	return txs
}

// TestConstructRoundTrip is the property construct → parse → same txs, and
// checks the layout's invariants on random blocks.
func TestConstructRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	built := 0
	for iter := range 300 {
		txs := randomTxs(t, rng)
		maxSize := []int{4, 16, 64}[rng.IntN(3)]
		sq, lay, err := ConstructClassified(classify(txs), maxSize, SubtreeRootThreshold)
		if errors.Is(err, ErrSquareTooLarge) {
			continue
		}
		if err != nil {
			t.Fatalf("iter %d: %v", iter, err)
		}
		built++
		t.Run(fmt.Sprint(iter), func(t *testing.T) {
			checkLayout(t, sq, lay, txs)
			assertRoundTrip(t, sq, txs, SubtreeRootThreshold)
		})
	}
	if built < 100 {
		t.Fatalf("only %d squares built", built)
	}
}

func checkLayout(t *testing.T, sq Square, lay *Layout, txs [][]byte) {
	t.Helper()
	k := lay.SquareSize
	if len(sq) != k*k || k&(k-1) != 0 {
		t.Fatalf("%d shares for width %d", len(sq), k)
	}
	kinds := lay.ShareKinds()
	prevEnd := lay.BlobsStart
	var prevNS Namespace
	type span struct {
		p    BlobPlacement
		blob *Blob
	}
	var spans []span
	for i, ps := range lay.BlobsByTx {
		btx, _, err := UnmarshalBlobTx(txs[lay.NumTxs+i])
		if err != nil {
			t.Fatal(err)
		}
		for j, p := range ps {
			if p.BlobIndex != j || p.TxIndex != lay.NumTxs+i || lay.PFBShareIndexes[i][j] != uint32(p.Start) {
				t.Fatalf("placement %+v at (%d,%d), share index %d", p, i, j, lay.PFBShareIndexes[i][j])
			}
			spans = append(spans, span{p, btx.Blobs[j]})
		}
	}
	// Blobs in square order: aligned, ascending namespaces, no overlap.
	for range spans {
		best := -1
		for i, s := range spans {
			if s.p.Start >= prevEnd && (best < 0 || s.p.Start < spans[best].p.Start) {
				best = i
			}
		}
		s := spans[best]
		if s.p.Start%s.p.SubtreeWidth != 0 || s.p.SubtreeWidth != SubTreeWidth(s.p.ShareCount, SubtreeRootThreshold) {
			t.Fatalf("blob at %d not aligned to %d", s.p.Start, s.p.SubtreeWidth)
		}
		if s.p.Namespace.Compare(prevNS) < 0 {
			t.Fatal("blobs out of namespace order")
		}
		want := s.blob.ToShares()
		for i, w := range want {
			if !bytes.Equal(sq[s.p.Start+i].Bytes(), w.Bytes()) || kinds[s.p.Start+i] != ShareKindBlob {
				t.Fatalf("share %d of blob at %d differs", i, s.p.Start)
			}
		}
		prevEnd, prevNS = s.p.End(), s.p.Namespace
	}
	if len(spans) > 0 && prevEnd != lay.BlobsEnd {
		t.Fatalf("blobs end at %d, layout says %d", prevEnd, lay.BlobsEnd)
	}
	for i, s := range sq {
		switch kinds[i] {
		case ShareKindTx:
			ok := s.Namespace() == TxNamespace
			if !ok {
				t.Fatalf("share %d: kind %s in %s", i, kinds[i], s.Namespace())
			}
		case ShareKindPFB:
			if s.Namespace() != PayForBlobNamespace {
				t.Fatalf("share %d: kind %s in %s", i, kinds[i], s.Namespace())
			}
		case ShareKindReservedPadding, ShareKindNamespacePadding, ShareKindTailPadding:
			if !s.IsPadding() {
				t.Fatalf("share %d: kind %s is not padding", i, kinds[i])
			}
		case ShareKindBlob:
		default:
			t.Fatalf("share %d: kind %s", i, kinds[i])
		}
	}
}

// TestParseSquareRejectsMutations flips header and padding bytes of a valid
// square. Outside blobs, no such square is what any txs build; inside a
// blob, an accepted square must be what the parsed txs build.
func TestParseSquareRejectsMutations(t *testing.T) {
	var v vectors.SquareFile
	readVector(t, "square.json", &v)
	txs := squareTxs(t, &v)
	sq, lay, err := ConstructClassified(classify(txs), v.MaxSquareSize, v.Threshold)
	if err != nil {
		t.Fatal(err)
	}
	kinds := lay.ShareKinds()
	rng := rand.New(rand.NewPCG(3, 4))
	tried, accepted := 0, 0
	for i, s := range sq {
		var positions []int
		for p := 0; p < NamespaceSize+ShareInfoBytes; p++ {
			positions = append(positions, p)
		}
		if s.IsSequenceStart() {
			positions = append(positions, 30, 31, 32, 33)
		}
		if kinds[i] == ShareKindTx || kinds[i] == ShareKindPFB {
			off := reservedOffset(0)
			if !s.IsSequenceStart() {
				off = reservedOffset(1)
			}
			positions = append(positions, off, off+1, off+2, off+3)
		}
		if s.IsPadding() {
			for range 8 {
				positions = append(positions, 30+rng.IntN(ShareSize-30))
			}
		}
		for _, p := range positions {
			mut := copySquare(sq)
			mut[i].data[p] ^= byte(1 << rng.IntN(8))
			parsed, err := ParseSquare(mut, v.Threshold)
			tried++
			if kinds[i] == ShareKindBlob && err == nil {
				// A blob's header can change into another valid one (a
				// longer length taking in zero fill, a namespace that
				// sorts the same): the square then belongs to other txs.
				if again, err := Construct(parsed.Txs, v.MaxSquareSize, v.Threshold); err != nil || !again.Equal(mut) {
					t.Fatalf("share %d byte %d: accepted square does not rebuild: %v", i, p, err)
				}
				accepted++
				continue
			}
			if !errors.Is(err, ErrInvalidSquare) && !errors.Is(err, ErrInvalidShare) {
				t.Fatalf("share %d (%s) byte %d flipped: err = %v", i, kinds[i], p, err)
			}
		}
	}
	t.Logf("%d mutations: %d accepted as the square of other txs, the rest rejected", tried, accepted)
}

func copySquare(sq Square) Square {
	buf := sq.Bytes()
	out := make(Square, len(sq))
	for i := range out {
		out[i] = Share{data: buf[i*ShareSize : (i+1)*ShareSize : (i+1)*ShareSize]}
	}
	return out
}

func TestDeconstructRejects(t *testing.T) {
	ns := testNS(t, 1)
	blob := testBlob(t, ns, 100, ShareVersionZero)
	sq, lay, err := ConstructClassified(classify([][]byte{mustBlobTx(t, []byte("pfb"), blob)}), 8, SubtreeRootThreshold)
	if err != nil {
		t.Fatal(err)
	}
	// Rebuild the square with a hand-made PFB.
	withPFB := func(idx ...uint32) Square {
		out := copySquare(sq)
		pfb := SplitTxs(PayForBlobNamespace, [][]byte{MarshalIndexWrapper([]byte("pfb"), idx...)})
		out[0] = pfb[0]
		return out
	}
	start := uint32(lay.BlobsByTx[0][0].Start)
	if got, err := Deconstruct(withPFB(start)); err != nil || len(got) != 1 {
		t.Fatalf("control: %v", err)
	}
	tests := []struct {
		name string
		sq   Square
	}{
		{"not square", sq[:3]},
		{"width not a power of two", append(copySquare(sq), TailPaddingShares(5)...)[:9]},
		{"empty", Square{}},
		{"index in compact region", withPFB(0)},
		{"index past the end", withPFB(uint32(len(sq)))},
		{"index at padding", withPFB(start + 1)},
		{"no indexes", withPFB()},
		{"overlapping blobs", withPFB(start, start)},
		{"zero share", append(Square{{}}, sq[1:]...)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Deconstruct(tc.sq); !errors.Is(err, ErrInvalidSquare) && !errors.Is(err, ErrInvalidShare) {
				t.Fatalf("Deconstruct: err = %v", err)
			}
			if _, err := ParseSquare(tc.sq, SubtreeRootThreshold); err == nil {
				t.Fatal("ParseSquare accepted it")
			}
		})
	}
}

func BenchmarkSquareConstruct(b *testing.B) {
	rng := rand.New(rand.NewPCG(5, 6))
	var txs [][]byte
	for i := range 20 {
		tx := make([]byte, 200+rng.IntN(400))
		tx[0] = byte(i)
		txs = append(txs, tx)
	}
	total := 0
	for i := 0; ; i++ {
		ns := testNS(b, byte(1+rng.IntN(30)))
		size := []int{300, 2000, 20000, 40000, 100}[i%5]
		tx := mustBlobTx(b, bytes.Repeat([]byte{byte(i)}, 250), testBlob(b, ns, size, uint8(i%2)))
		next := append(txs, tx)
		if _, err := Construct(next, 64, SubtreeRootThreshold); err != nil {
			break
		}
		txs = next
		total += len(tx)
	}
	sq, err := Construct(txs, 64, SubtreeRootThreshold)
	if err != nil || sq.Size() != 64 {
		b.Fatalf("square of width %d: %v", sq.Size(), err)
	}
	b.SetBytes(int64(len(sq) * ShareSize))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := Construct(txs, 64, SubtreeRootThreshold); err != nil {
			b.Fatal(err)
		}
	}
}

// TestDeconstructIsLenient: Deconstruct reads only the compact shares and
// the blobs they point at, as go-square does; ParseSquare checks the rest.
func TestDeconstructIsLenient(t *testing.T) {
	txs := [][]byte{[]byte("tx"), mustBlobTx(t, []byte("pfb"), testBlob(t, testNS(t, 1), 100, ShareVersionZero))}
	sq, err := Construct(txs, 8, SubtreeRootThreshold)
	if err != nil {
		t.Fatal(err)
	}
	mut := copySquare(sq)
	last := mut[len(mut)-1]
	last.data[ShareSize-1] = 1 // garbage in tail padding
	got, err := Deconstruct(mut)
	if err != nil || len(got) != 2 || !bytes.Equal(got[1], txs[1]) {
		t.Fatalf("Deconstruct: %v", err)
	}
	if _, err := ParseSquare(mut, SubtreeRootThreshold); !errors.Is(err, ErrInvalidSquare) {
		t.Fatalf("ParseSquare: err = %v", err)
	}
	if s := ShareKind(99).String(); s != "ShareKind(99)" {
		t.Fatal(s)
	}
}
