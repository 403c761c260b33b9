package share

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"
)

func randBytes(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func TestCompactRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, sizes := range [][]int{{1}, {0}, {473}, {472}, {474}, {475}, {100, 200, 300, 5000}, {127, 128, 16383, 16384}} {
		var txs [][]byte
		for _, n := range sizes {
			txs = append(txs, randBytes(r, n))
		}
		shares := SplitTxs(TxNamespace, txs)
		stream := 0
		for _, tx := range txs {
			stream += DelimitedLen(len(tx))
		}
		if len(shares) != CompactSharesNeeded(stream) {
			t.Fatalf("sizes %v: %d shares, want %d", sizes, len(shares), CompactSharesNeeded(stream))
		}
		for i, s := range shares {
			if _, err := NewShare(s.Bytes()); err != nil {
				t.Fatalf("share %d invalid: %v", i, err)
			}
		}
		got, err := ParseTxs(shares)
		if err != nil {
			t.Fatalf("sizes %v: %v", sizes, err)
		}
		if len(got) != len(txs) {
			t.Fatalf("sizes %v: %d txs back, want %d", sizes, len(got), len(txs))
		}
		for i := range txs {
			if !bytes.Equal(got[i], txs[i]) {
				t.Fatalf("sizes %v: tx %d differs", sizes, i)
			}
		}
	}
}

func TestCompactReservedBytes(t *testing.T) {
	// One unit starting right after the first share's header gives offset 38.
	shares := SplitTxs(TxNamespace, [][]byte{bytes.Repeat([]byte{1}, 1000), {2}})
	if got := shares[0].Bytes()[34:38]; !bytes.Equal(got, []byte{0, 0, 0, 38}) {
		t.Fatalf("first share reserved bytes = %x, want 00000026", got)
	}
	// The 1000-byte unit (2-byte varint) ends at stream byte 1002, in share 2
	// (stream bytes 952..1429), at share offset 34 + (1002 - 952) = 84.
	if got := shares[2].Bytes()[30:34]; !bytes.Equal(got, []byte{0, 0, 0, 84}) {
		t.Fatalf("third share reserved bytes = %x, want 00000054", got)
	}
	if got := shares[1].Bytes()[30:34]; !bytes.Equal(got, []byte{0, 0, 0, 0}) {
		t.Fatalf("second share reserved bytes = %x, want 0", got)
	}
}

func TestSparseRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	ns := mustV0(t, []byte{9, 9})
	signer := randBytes(r, SignerSize)
	for _, n := range []int{1, 457, 458, 459, 477, 478, 479, 960, 961, 10000} {
		for _, v := range []uint8{0, 1} {
			var sg []byte
			if v == 1 {
				sg = signer
			}
			b, err := NewBlob(ns, randBytes(r, n), v, sg)
			if err != nil {
				t.Fatal(err)
			}
			shares := b.ToShares()
			if len(shares) != SparseSharesNeeded(n, v == 1) {
				t.Fatalf("n=%d v=%d: %d shares, want %d", n, v, len(shares), SparseSharesNeeded(n, v == 1))
			}
			withPad := append(append(ReservedPaddingShares(1), shares...), NamespacePaddingShares(ns, v, 2)...)
			got, err := ParseBlobs(withPad)
			if err != nil {
				t.Fatalf("n=%d v=%d: %v", n, v, err)
			}
			if len(got) != 1 || !got[0].Equal(b) {
				t.Fatalf("n=%d v=%d: blob did not round-trip", n, v)
			}
		}
	}
}

func TestParseRejects(t *testing.T) {
	ns := mustV0(t, []byte{1, 5})
	b, _ := NewV0Blob(ns, bytes.Repeat([]byte{1}, 1000))
	shares := b.ToShares()
	tests := []struct {
		name   string
		mutate func([]Share) []Share
	}{
		{"truncated", func(s []Share) []Share { return s[:2] }},
		{"continuation first", func(s []Share) []Share { return s[1:] }},
		{"bytes after end", func(s []Share) []Share {
			c := cloneShares(s)
			c[2].data[ShareSize-1] = 1
			return c
		}},
		{"namespace change", func(s []Share) []Share {
			c := cloneShares(s)
			c[1].data[NamespaceSize-1]++
			return c
		}},
		{"huge sequence length", func(s []Share) []Share {
			c := cloneShares(s)
			copy(c[0].data[30:34], []byte{0xff, 0xff, 0xff, 0xff})
			return c
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ParseBlobs(tt.mutate(shares)); !errors.Is(err, ErrInvalidSequence) {
				t.Fatalf("err = %v, want ErrInvalidSequence", err)
			}
		})
	}
	if _, err := NewBlob(ns, nil, 0, nil); !errors.Is(err, ErrInvalidBlob) {
		t.Errorf("empty blob accepted: %v", err)
	}
	if _, err := NewBlob(ns, []byte{1}, 1, []byte{1}); !errors.Is(err, ErrInvalidBlob) {
		t.Errorf("short signer accepted: %v", err)
	}
	if _, err := NewBlob(ns, []byte{1}, 3, nil); !errors.Is(err, ErrInvalidBlob) {
		t.Errorf("share version 3 accepted: %v", err)
	}
	if _, err := NewBlob(TxNamespace, []byte{1}, 0, nil); !errors.Is(err, ErrInvalidBlob) {
		t.Errorf("reserved namespace accepted: %v", err)
	}
}

func cloneShares(s []Share) []Share {
	out := make([]Share, len(s))
	for i := range s {
		out[i] = Share{data: bytes.Clone(s[i].data)}
	}
	return out
}

func FuzzParseShares(f *testing.F) {
	ns, _ := NewV0Namespace([]byte{1, 2, 3})
	b, _ := NewV1Blob(ns, bytes.Repeat([]byte{7}, 700), bytes.Repeat([]byte{1}, 20))
	f.Add(ToBytes(b.ToShares()))
	f.Add(ToBytes(SplitTxs(TxNamespace, [][]byte{{1, 2, 3}, bytes.Repeat([]byte{4}, 600)})))
	f.Add(ToBytes(TailPaddingShares(2)))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 64*ShareSize {
			return
		}
		shares, err := SharesFromBytes(data)
		if err != nil {
			if !errors.Is(err, ErrInvalidShare) {
				t.Fatalf("error does not wrap ErrInvalidShare: %v", err)
			}
			return
		}
		for _, s := range shares {
			_ = s.RawData()
			_ = s.Signer()
			_ = s.SequenceLen()
		}
		if blobs, err := ParseBlobs(shares); err == nil {
			// Whatever parses must split back into the same non-padding shares.
			var nonPad []Share
			for _, s := range shares {
				if !s.IsPadding() {
					nonPad = append(nonPad, s)
				}
			}
			if !bytes.Equal(ToBytes(SplitBlobs(blobs...)), ToBytes(nonPad)) {
				t.Fatalf("parsed blobs do not split back into the same shares")
			}
		}
		if txs, err := ParseTxs(shares); err == nil && len(shares) > 0 {
			// Compact sequences are canonical up to their reserved bytes.
			again := SplitTxs(shares[0].Namespace(), txs)
			if len(again) != len(shares) {
				t.Fatalf("parsed txs split into %d shares, not %d", len(again), len(shares))
			}
		}
	})
}
