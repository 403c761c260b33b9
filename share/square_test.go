package share

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/tessera-da/tessera/internal/vectors"
)

func readVector(t testing.TB, name string, v any) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "testdata", "vectors", name))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatal(err)
	}
}

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustNS(t testing.TB, s string) Namespace {
	t.Helper()
	ns, err := NewNamespaceFromBytes(mustHex(t, s))
	if err != nil {
		t.Fatal(err)
	}
	return ns
}

// squareTxs rebuilds square.json's transactions from their seeds and
// checks their digests.
func squareTxs(t testing.TB, v *vectors.SquareFile) [][]byte {
	t.Helper()
	txs := make([][]byte, len(v.Txs))
	for i, vt := range v.Txs {
		raw := vectors.Bytes(vt.TxSeed, vt.TxLen)
		if vt.Kind == "blob_tx" {
			var blobs []*Blob
			for _, vb := range vt.Blobs {
				var signer []byte
				if vb.SignerSeed != "" {
					signer = vectors.Bytes(vb.SignerSeed, SignerSize)
				}
				b, err := NewBlob(mustNS(t, vb.Namespace), vectors.Bytes(vb.DataSeed, vb.DataLen), vb.ShareVersion, signer)
				if err != nil {
					t.Fatal(err)
				}
				blobs = append(blobs, b)
			}
			var err error
			if raw, err = MarshalBlobTx(raw, blobs...); err != nil {
				t.Fatal(err)
			}
		}
		if got := sha256.Sum256(raw); hex.EncodeToString(got[:]) != vt.RawTxSHA256 {
			t.Fatalf("tx %d: sha256 %x, want %s", i, got, vt.RawTxSHA256)
		}
		txs[i] = raw
	}
	return txs
}

func checkGoldenShares(t *testing.T, sq Square, want []vectors.Share, kinds []ShareKind) {
	t.Helper()
	if len(sq) != len(want) {
		t.Fatalf("square has %d shares, want %d", len(sq), len(want))
	}
	for i, w := range want {
		s := sq[i]
		if got := s.Namespace().String(); got != w.Namespace {
			t.Errorf("share %d: namespace %s, want %s", i, got, w.Namespace)
		}
		if int(s.InfoByte()) != w.InfoByte {
			t.Errorf("share %d: info byte %d, want %d", i, s.InfoByte(), w.InfoByte)
		}
		if w.SequenceLen != nil && s.SequenceLen() != *w.SequenceLen {
			t.Errorf("share %d: sequence len %d, want %d", i, s.SequenceLen(), *w.SequenceLen)
		}
		if w.Kind != "" && kinds[i].String() != w.Kind {
			t.Errorf("share %d: kind %s, want %s", i, kinds[i], w.Kind)
		}
		if w.Hex != nil && hex.EncodeToString(s.Bytes()) != *w.Hex {
			t.Errorf("share %d: bytes differ\n got %x\nwant %s", i, s.Bytes(), *w.Hex)
		}
		if sum := sha256.Sum256(s.Bytes()); hex.EncodeToString(sum[:]) != w.SHA256 {
			t.Errorf("share %d: sha256 %x, want %s", i, sum, w.SHA256)
		}
	}
}

func classify(txs [][]byte) []ClassifiedTx {
	out := make([]ClassifiedTx, len(txs))
	for i, tx := range txs {
		out[i] = ClassifiedTx{Bytes: tx}
	}
	return out
}

func TestSquareGolden(t *testing.T) {
	var v vectors.SquareFile
	readVector(t, "square.json", &v)
	txs := squareTxs(t, &v)
	sq, lay, err := ConstructClassified(classify(txs), v.MaxSquareSize, v.Threshold)
	if err != nil {
		t.Fatal(err)
	}
	if sq.Size() != v.SquareSize || lay.SquareSize != v.SquareSize {
		t.Fatalf("square size %d (layout %d), want %d", sq.Size(), lay.SquareSize, v.SquareSize)
	}
	checkGoldenShares(t, sq, v.Shares, lay.ShareKinds())
	if sum := sha256.Sum256(sq.Bytes()); hex.EncodeToString(sum[:]) != v.SquareSHA256 {
		t.Errorf("square sha256 %x, want %s", sum, v.SquareSHA256)
	}
	if got, want := fmt.Sprint(lay.PFBShareIndexes), fmt.Sprint(v.PFBShareIndexes); got != want {
		t.Errorf("pfb share indexes %s, want %s", got, want)
	}
	for _, wb := range v.Blobs {
		p := lay.BlobsByTx[wb.TxIndex-lay.NumTxs][wb.BlobIndex]
		if p.Namespace.String() != wb.Namespace || p.Start != wb.ShareStart || p.End() != wb.ShareEnd ||
			p.ShareCount != wb.ShareCount || p.SubtreeWidth != wb.SubtreeWidth || p.TxIndex != wb.TxIndex {
			t.Errorf("blob (%d,%d): placement %+v, want %+v", wb.TxIndex, wb.BlobIndex, p, wb)
		}
	}
	if plain, err := Construct(txs, v.MaxSquareSize, v.Threshold); err != nil || !plain.Equal(sq) {
		t.Errorf("Construct differs from ConstructClassified (err %v)", err)
	}
	assertRoundTrip(t, sq, txs, v.Threshold)
}

func TestRealBlockGolden(t *testing.T) {
	var v vectors.RealBlockFile
	readVector(t, "real_block.json", &v)
	txs := make([][]byte, len(v.TxsBase64))
	for i, s := range v.TxsBase64 {
		tx, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		_, isBlob, err := UnmarshalBlobTx(tx)
		if (isBlob && err == nil) != v.TxIsBlobTx[i] {
			t.Errorf("tx %d: blob tx %v (err %v), want %v", i, isBlob, err, v.TxIsBlobTx[i])
		}
		txs[i] = tx
	}
	sq, lay, err := ConstructClassified(classify(txs), v.MaxSquareSize, SubtreeRootThreshold)
	if err != nil {
		t.Fatal(err)
	}
	if sq.Size() != v.SquareSize {
		t.Fatalf("square size %d, want %d", sq.Size(), v.SquareSize)
	}
	checkGoldenShares(t, sq, v.Shares, lay.ShareKinds())
	if got, want := fmt.Sprint(lay.PFBShareIndexes), fmt.Sprint(v.PFBShareIndexes); got != want {
		t.Errorf("pfb share indexes %s, want %s", got, want)
	}
	assertRoundTrip(t, sq, txs, SubtreeRootThreshold)
}

// assertRoundTrip checks that sq parses back into txs.
func assertRoundTrip(t *testing.T, sq Square, txs [][]byte, threshold int) {
	t.Helper()
	back, err := Deconstruct(sq)
	if err != nil {
		t.Fatalf("Deconstruct: %v", err)
	}
	if len(back) != len(txs) {
		t.Fatalf("Deconstruct: %d txs, want %d", len(back), len(txs))
	}
	for i := range txs {
		if !bytes.Equal(back[i], txs[i]) {
			t.Fatalf("Deconstruct: tx %d differs", i)
		}
	}
	p, err := ParseSquare(sq, threshold)
	if err != nil {
		t.Fatalf("ParseSquare: %v", err)
	}
	if len(p.Txs) != len(txs) {
		t.Fatalf("ParseSquare: %d txs, want %d", len(p.Txs), len(txs))
	}
	for i := range txs {
		if !bytes.Equal(p.Txs[i], txs[i]) {
			t.Fatalf("ParseSquare: tx %d differs", i)
		}
	}
}

func ExampleConstruct() {
	ns, _ := NewV0Namespace([]byte("example"))
	b, _ := NewBlob(ns, []byte("hello, blob"), ShareVersionZero, nil)
	blobTx, _ := MarshalBlobTx([]byte("signed MsgPayForBlobs tx"), b)
	sq, _ := Construct([][]byte{[]byte("an ordinary tx"), blobTx}, 64, SubtreeRootThreshold)
	fmt.Println("width:", sq.Size())

	p, _ := ParseSquare(sq, SubtreeRootThreshold)
	fmt.Println("txs:", len(p.Txs), bytes.Equal(p.Txs[1], blobTx))
	fmt.Println("blob starts at share", p.Layout.BlobsByTx[0][0].Start)
	// Output:
	// width: 2
	// txs: 2 true
	// blob starts at share 2
}
