package node

import (
	"bytes"
	"crypto/ed25519"
	"testing"
	"time"

	"github.com/tessera-da/tessera/blob"
	"github.com/tessera-da/tessera/node/producer"
	"github.com/tessera-da/tessera/node/store"
	"github.com/tessera-da/tessera/share"
)

// TestBlockFromSquareMatchesProducer checks that a full node indexing a
// received square finds the same blobs, places and commitments as the
// producer that built it, and that a tampered square is refused.
func TestBlockFromSquareMatchesProducer(t *testing.T) {
	st, err := store.Open(t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	p, err := producer.New(st, producer.Params{ChainID: "imp", MaxSquareWidth: 32, BlockInterval: time.Hour, QueueMaxBytes: 1 << 26, Key: ed25519.NewKeyFromSeed(make([]byte, 32))})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		ns, _ := share.NewV0Namespace([]byte{1, byte(5 - i)})
		b1, _ := blob.New(ns, bytes.Repeat([]byte{byte(i)}, 700*(i+1)), 0, nil)
		b2, _ := blob.New(ns, bytes.Repeat([]byte{byte(i), 1}, 40000), share.ShareVersionOne, bytes.Repeat([]byte{9}, 20))
		if _, err := p.Submit([]*blob.Blob{b1}); err != nil {
			t.Fatal(err)
		}
		if _, err := p.Submit([]*blob.Blob{b2}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := p.ProduceBlock(); err != nil {
		t.Fatal(err)
	}
	h, _ := st.Head()
	ods, _ := st.ODS(h.Height)
	want, _ := st.Blobs(h.Height)
	blk, err := blockFromSquare(h, ods)
	if err != nil {
		t.Fatal(err)
	}
	if len(blk.Blobs) != len(want) || len(want) != 10 {
		t.Fatalf("%d blobs indexed, producer stored %d", len(blk.Blobs), len(want))
	}
	got := map[[32]byte]store.BlobIndex{}
	for _, e := range blk.Blobs {
		got[e.Commitment] = e
	}
	for _, w := range want {
		g, ok := got[w.Commitment]
		if !ok || g.ShareStart != w.ShareStart || g.ShareCount != w.ShareCount || g.EDSIndex != w.EDSIndex || g.Namespace != w.Namespace {
			t.Fatalf("blob %x: got %+v, want %+v", w.Commitment[:4], g, w)
		}
	}
	bad := bytes.Clone(ods)
	bad[len(bad)-1] ^= 1 // tail padding must be zeros
	if _, err := blockFromSquare(h, bad); err == nil {
		t.Fatal("a square that go-square would not build was accepted")
	}
}
