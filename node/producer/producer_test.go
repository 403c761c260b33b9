package producer

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"testing"
	"time"

	"github.com/tessera-da/tessera/blob"
	"github.com/tessera-da/tessera/erasure"
	"github.com/tessera-da/tessera/node/store"
	"github.com/tessera-da/tessera/share"
)

func testProducer(t *testing.T, k int) (*Producer, *store.Store) {
	t.Helper()
	st, err := store.OpenInMemory()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	clock := time.Unix(1_700_000_000, 0)
	p, err := New(st, Params{
		ChainID: "test", MaxSquareWidth: k, BlockInterval: time.Second, QueueMaxBytes: 64 << 20,
		Key: ed25519.NewKeyFromSeed(make([]byte, 32)),
		Now: func() time.Time { clock = clock.Add(time.Second); return clock },
	})
	if err != nil {
		t.Fatal(err)
	}
	return p, st
}

func testBlob(t *testing.T, id byte, size int) *blob.Blob {
	t.Helper()
	ns, err := share.NewV0Namespace([]byte{1, id})
	if err != nil {
		t.Fatal(err)
	}
	data := bytes.Repeat([]byte{id}, size)
	b, err := blob.New(ns, data, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestProduceAndReadBack(t *testing.T) {
	p, st := testProducer(t, 16)
	// An empty block first.
	if _, err := p.ProduceBlock(); err != nil {
		t.Fatal(err)
	}
	b1, b2, b3 := testBlob(t, 3, 1000), testBlob(t, 2, 5000), testBlob(t, 1, 10)
	id1, err := p.Submit([]*blob.Blob{b1, b2})
	if err != nil {
		t.Fatal(err)
	}
	id2, err := p.Submit([]*blob.Blob{b3})
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := st.Receipt(id1); r.State != store.ReceiptPending {
		t.Fatalf("receipt before the block: %v", r.State)
	}
	if _, err := p.ProduceBlock(); err != nil {
		t.Fatal(err)
	}
	head, err := st.Head()
	if err != nil {
		t.Fatal(err)
	}
	if head.Height != 2 {
		t.Fatalf("head height %d, want 2", head.Height)
	}
	prev, _ := st.HeaderByHeight(1)
	if err := head.Verify("test", []ed25519.PublicKey{p.p.Key.Public().(ed25519.PublicKey)}, prev); err != nil {
		t.Fatalf("chain does not verify: %v", err)
	}
	// The stored ODS recomputes to the header's data root.
	ods, err := st.ODS(2)
	if err != nil {
		t.Fatal(err)
	}
	eds, err := erasure.ExtendFlat(ods, erasure.DefaultParams())
	if err != nil {
		t.Fatal(err)
	}
	dah, err := erasure.ComputeDAH(eds, erasure.DefaultParams())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(dah.Hash(), head.DataRoot[:]) {
		t.Fatal("stored square does not match the header's data root")
	}
	// Every blob is where the index says, with its commitment.
	shares, err := share.SharesFromBytes(ods)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []*blob.Blob{b1, b2, b3} {
		var c [32]byte
		copy(c[:], want.Commitment())
		h, e, err := st.FindCommitment(c)
		if err != nil || h != 2 {
			t.Fatalf("commitment not indexed: h=%d err=%v", h, err)
		}
		got, n, err := share.ParseBlob(shares[e.ShareStart:])
		if err != nil || n != int(e.ShareCount) || !got.Equal(want.Blob) {
			t.Fatalf("blob at %d does not match: %v", e.ShareStart, err)
		}
	}
	for _, id := range []uint64{id1, id2} {
		r, err := st.Receipt(id)
		if err != nil || r.State != store.ReceiptIncluded || r.Height != 2 {
			t.Fatalf("receipt %d: %+v %v", id, r, err)
		}
	}
}

func TestSubmitRejects(t *testing.T) {
	p, _ := testProducer(t, 4)
	if _, err := p.Submit(nil); !errors.Is(err, ErrInvalid) {
		t.Fatalf("empty submission: %v", err)
	}
	// 4×4 shares can never hold 20 shares of data.
	if _, err := p.Submit([]*blob.Blob{testBlob(t, 1, 20*482)}); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("oversized submission: %v", err)
	}
}

func TestFullSquareSplitsAcrossBlocksInOrder(t *testing.T) {
	p, st := testProducer(t, 8)
	var ids []uint64
	for i := range 6 {
		id, err := p.Submit([]*blob.Blob{testBlob(t, byte(i+1), 20*482)})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	for range 6 {
		if _, err := p.ProduceBlock(); err != nil {
			t.Fatal(err)
		}
	}
	last := uint64(0)
	for _, id := range ids {
		r, err := st.Receipt(id)
		if err != nil || r.State != store.ReceiptIncluded {
			t.Fatalf("submission %d not included: %+v %v", id, r, err)
		}
		if r.Height < last {
			t.Fatalf("submission %d included at %d before an earlier one at %d", id, r.Height, last)
		}
		last = r.Height
	}
	if last < 2 {
		t.Fatalf("six 20-share blobs fit in one 8×8 square?")
	}
}
