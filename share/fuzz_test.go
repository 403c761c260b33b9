package share

import (
	"bytes"
	"errors"
	"testing"
)

func FuzzUnmarshalBlobTx(f *testing.F) {
	ns := testNS(f, 3)
	for _, blobs := range [][]*Blob{
		{testBlob(f, ns, 1, ShareVersionZero)},
		{testBlob(f, ns, 600, ShareVersionOne), testBlob(f, testNS(f, 4), 36, ShareVersionTwo)},
	} {
		tx := mustBlobTx(f, []byte("inner"), blobs...)
		f.Add(tx)
		f.Add(append(bytes.Clone(tx), 0x78, 0x01))
		f.Add(mustBlobTx(f, tx, blobs...))
	}
	f.Add([]byte{})
	f.Add([]byte{0x1a, 0x04, 'B', 'L', 'O', 'B'})
	f.Add([]byte{0x0b, 0x0b, 0x0c, 0x0c, 0x1a, 0x04, 'B', 'L', 'O', 'B'})
	f.Fuzz(func(t *testing.T, tx []byte) {
		btx, isBlob, err := UnmarshalBlobTx(tx)
		if err != nil {
			if btx != nil || !errors.Is(err, ErrInvalidTx) {
				t.Fatalf("error %v with tx %v", err, btx)
			}
			if !isBlob && !errors.Is(err, ErrNotBlobTx) {
				t.Fatalf("not a blob tx but err %v", err)
			}
			return
		}
		if !isBlob || len(btx.Blobs) == 0 || IsBlobTx(btx.Tx) {
			t.Fatalf("accepted: isBlob %v, %d blobs", isBlob, len(btx.Blobs))
		}
		// A decoded BlobTx re-encodes canonically, and that decodes to the same.
		again, err := MarshalBlobTx(btx.Tx, btx.Blobs...)
		if err != nil {
			t.Fatal(err)
		}
		btx2, isBlob2, err := UnmarshalBlobTx(again)
		if err != nil || !isBlob2 || !bytes.Equal(btx2.Tx, btx.Tx) || len(btx2.Blobs) != len(btx.Blobs) {
			t.Fatalf("re-decode: %v", err)
		}
		for i := range btx.Blobs {
			if !btx2.Blobs[i].Equal(btx.Blobs[i]) {
				t.Fatalf("blob %d differs after re-encoding", i)
			}
		}
	})
}

func FuzzUnmarshalIndexWrapper(f *testing.F) {
	f.Add(MarshalIndexWrapper([]byte("pfb"), 1, 2, worstCaseShareIndex))
	f.Add(MarshalIndexWrapper(nil))
	f.Add([]byte{0x10, 0x05, 0x1a, 0x04, 'I', 'N', 'D', 'X'})
	f.Add([]byte{0x12, 0x01, 0x80, 0x1a, 0x04, 'I', 'N', 'D', 'X'})
	f.Fuzz(func(t *testing.T, p []byte) {
		w, err := UnmarshalIndexWrapper(p)
		if err != nil {
			if w != nil || !errors.Is(err, ErrInvalidTx) {
				t.Fatalf("error %v with wrapper %v", err, w)
			}
			return
		}
		again := w.Marshal()
		w2, err := UnmarshalIndexWrapper(again)
		if err != nil || !bytes.Equal(w2.Tx, w.Tx) || len(w2.ShareIndexes) != len(w.ShareIndexes) {
			t.Fatalf("re-decode: %v", err)
		}
		for i := range w.ShareIndexes {
			if w2.ShareIndexes[i] != w.ShareIndexes[i] {
				t.Fatalf("index %d differs", i)
			}
		}
		if !bytes.Equal(w2.Marshal(), again) {
			t.Fatal("encoding is not stable")
		}
	})
}

// fuzzSquare cuts data into the largest k×k square of shares (k a power of
// two) it holds, repairing each namespace and info byte just enough to be a
// valid share so that the fuzzer explores the square parser, not NewShare.
func fuzzSquare(data []byte) Square {
	n := len(data) / ShareSize
	k := 1
	for (2*k)*(2*k) <= n {
		k *= 2
	}
	if k*k > n {
		return nil
	}
	buf := bytes.Clone(data[:k*k*ShareSize])
	sq := make(Square, k*k)
	for i := range sq {
		s := buf[i*ShareSize : (i+1)*ShareSize : (i+1)*ShareSize]
		switch s[0] {
		case NamespaceVersionZero, NamespaceVersionMax:
		default:
			s[0] = NamespaceVersionZero
		}
		if s[0] == NamespaceVersionZero {
			clear(s[1 : 1+V0PrefixSize])
		}
		if s[NamespaceSize]>>1 > ShareVersionTwo {
			s[NamespaceSize] &= 0x05
		}
		sh, err := NewShare(s)
		if err != nil {
			panic(err)
		}
		sq[i] = sh
	}
	return sq
}

func FuzzParseSquare(f *testing.F) {
	ns1, ns2 := testNS(f, 1), testNS(f, 2)
	seeds := [][][]byte{
		nil,
		{[]byte("one tx")},
		{bytes.Repeat([]byte{7}, 900), mustBlobTx(f, []byte("pfb"), testBlob(f, ns1, 700, ShareVersionOne))},
		{mustBlobTx(f, []byte("p"), testBlob(f, ns2, 10, ShareVersionZero), testBlob(f, ns1, 1000, ShareVersionZero)),
			mustBlobTx(f, []byte("q"), testBlob(f, ns1, 30, ShareVersionTwo))},
	}
	for _, txs := range seeds {
		sq, err := Construct(txs, 8, SubtreeRootThreshold)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(sq.Bytes())
	}
	f.Add(make([]byte, 4*ShareSize))
	f.Fuzz(func(t *testing.T, data []byte) {
		sq := fuzzSquare(data)
		if sq == nil {
			return
		}
		txs, err := Deconstruct(sq)
		if err != nil {
			if !errors.Is(err, ErrInvalidSquare) && !errors.Is(err, ErrInvalidShare) {
				t.Fatalf("Deconstruct: unexpected error %v", err)
			}
		}
		p, err := ParseSquare(sq, SubtreeRootThreshold)
		if err != nil {
			if !errors.Is(err, ErrInvalidSquare) && !errors.Is(err, ErrInvalidShare) {
				t.Fatalf("ParseSquare: unexpected error %v", err)
			}
			return
		}
		if len(p.Txs) != len(txs) {
			t.Fatalf("ParseSquare found %d txs, Deconstruct %d", len(p.Txs), len(txs))
		}
		for i := range txs {
			if !bytes.Equal(p.Txs[i], txs[i]) {
				t.Fatalf("tx %d differs", i)
			}
		}
		again, err := Construct(p.Txs, max(sq.Size(), 1), SubtreeRootThreshold)
		if p.FibreSystemBlobs == nil && (err != nil || !again.Equal(sq)) {
			t.Fatalf("accepted square does not rebuild: %v", err)
		}
	})
}
