package store

import (
	"bytes"
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/tessera-da/tessera/node/header"
)

func TestBlockRoundTrip(t *testing.T) {
	s := openTest(t, t.TempDir(), Options{})
	if _, err := s.Head(); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Head on empty store: %v", err)
	}
	if s.Tail() != 0 {
		t.Fatalf("Tail on empty store: %d", s.Tail())
	}
	// k=1 (no blobs), k=4, k=32 (1024 shares: two chunks), k=64 (8 chunks).
	b1 := testBlock(t, nil, 1, nil, nil)
	b2 := testBlock(t, b1.Header, 4, []blobSpec{{ns: 7, shares: 3, tx: 1}, {ns: 9, shares: 2, tx: 2, commit: 0xcc}}, nil)
	b3 := testBlock(t, b2.Header, 32, []blobSpec{{ns: 7, shares: 700, tx: 0}, {ns: 8, shares: 1, tx: 0, idx: 1}, {ns: 9, shares: 1, tx: 3, commit: 0xcc}}, nil)
	b4 := testBlock(t, b3.Header, 64, []blobSpec{{ns: 9, shares: 3000}}, nil)
	blocks := []*Block{b1, b2, b3, b4}
	// Blob entries given out of order are stored sorted by ShareStart.
	b3.Blobs[0], b3.Blobs[2] = b3.Blobs[2], b3.Blobs[0]
	for _, b := range blocks {
		mustPut(t, s, b)
	}

	for _, b := range blocks {
		h := b.Header.Height
		got, err := s.HeaderByHeight(h)
		if err != nil || got.Hash() != b.Header.Hash() || !bytes.Equal(got.Signature, b.Header.Signature) || !got.Time.Equal(b.Header.Time) {
			t.Fatalf("HeaderByHeight(%d) = %+v, %v", h, got, err)
		}
		if err := got.Verify(testChainID, []ed25519.PublicKey{testKey.Public().(ed25519.PublicKey)}, nil); err != nil {
			t.Fatalf("stored header %d does not verify: %v", h, err)
		}
		byHash, err := s.HeaderByHash(b.Header.Hash())
		if err != nil || byHash.Height != h {
			t.Fatalf("HeaderByHash(%d) = %+v, %v", h, byHash, err)
		}
		ods, err := s.ODS(h)
		if err != nil || !bytes.Equal(ods, b.ODS) {
			t.Fatalf("ODS(%d): %v (equal %v)", h, err, bytes.Equal(ods, b.ODS))
		}
		want := slices.SortedFunc(slices.Values(b.Blobs), func(x, y BlobIndex) int { return int(x.ShareStart) - int(y.ShareStart) })
		list, err := s.Blobs(h)
		if err != nil || !slices.Equal(list, want) {
			t.Fatalf("Blobs(%d) = %v, %v; want %v", h, list, err, want)
		}
	}

	head, err := s.Head()
	if err != nil || head.Hash() != b4.Header.Hash() {
		t.Fatalf("Head = %v, %v", head, err)
	}
	head.Signature[0] ^= 1 // a caller's change must not reach the store
	if again, _ := s.Head(); !bytes.Equal(again.Signature, b4.Header.Signature) {
		t.Fatal("Head returned the cached header itself")
	}
	if s.Tail() != 1 {
		t.Fatalf("Tail = %d", s.Tail())
	}

	t.Run("ODSShares", func(t *testing.T) {
		k := 32
		for _, r := range [][2]int{{0, 1}, {510, 4}, {0, k * k}, {511, 1}, {512, 1}, {1023, 1}, {100, 800}} {
			got, err := s.ODSShares(3, r[0], r[1])
			if err != nil || !bytes.Equal(got, b3.ODS[r[0]*ShareSize:(r[0]+r[1])*ShareSize]) {
				t.Fatalf("ODSShares(3, %d, %d): %v", r[0], r[1], err)
			}
		}
		for _, r := range [][2]int{{-1, 1}, {0, 0}, {1024, 1}, {1000, 25}} {
			_, err := s.ODSShares(3, r[0], r[1])
			wantErr(t, err, ErrInvalidArgument)
		}
		_, err := s.ODSShares(9, 0, 1)
		wantErr(t, err, ErrNotFound)
	})

	t.Run("HeaderRange", func(t *testing.T) {
		hs, err := s.HeaderRange(2, 4)
		if err != nil || len(hs) != 2 || hs[0].Height != 2 || hs[1].Height != 3 {
			t.Fatalf("HeaderRange(2, 4) = %v, %v", hs, err)
		}
		hs, err = s.HeaderRange(3, 100)
		if err != nil || len(hs) != 2 || hs[1].Hash() != b4.Header.Hash() {
			t.Fatalf("HeaderRange(3, 100) = %v, %v", hs, err)
		}
		_, err = s.HeaderRange(5, 6)
		wantErr(t, err, ErrNotFound)
		for _, r := range [][2]uint64{{0, 1}, {2, 2}, {3, 2}, {1, 2 + MaxHeaderRange}} {
			_, err = s.HeaderRange(r[0], r[1])
			wantErr(t, err, ErrInvalidArgument)
		}
	})

	t.Run("indexes", func(t *testing.T) {
		for _, tc := range []struct {
			ns   byte
			from uint64
			want []uint64
		}{{7, 1, []uint64{2, 3}}, {7, 3, []uint64{3}}, {9, 1, []uint64{2, 3, 4}}, {9, 5, nil}, {8, 0, []uint64{3}}, {42, 1, nil}} {
			got, err := s.NamespaceHeights(ns(tc.ns), tc.from, 10)
			if err != nil || !slices.Equal(got, tc.want) {
				t.Fatalf("NamespaceHeights(%d, %d) = %v, %v; want %v", tc.ns, tc.from, got, err, tc.want)
			}
		}
		// Paging.
		var pages []uint64
		for from := uint64(1); ; {
			page, err := s.NamespaceHeights(ns(9), from, 1)
			if err != nil {
				t.Fatal(err)
			}
			if len(page) == 0 {
				break
			}
			pages = append(pages, page...)
			from = page[len(page)-1] + 1
		}
		if !slices.Equal(pages, []uint64{2, 3, 4}) {
			t.Fatalf("paged heights %v", pages)
		}
		for _, limit := range []int{0, -1, MaxNamespaceHeights + 1} {
			_, err := s.NamespaceHeights(ns(9), 1, limit)
			wantErr(t, err, ErrInvalidArgument)
		}

		got, err := s.BlobsByNamespace(ns(7), 3)
		if err != nil || len(got) != 1 || got[0].ShareCount != 700 {
			t.Fatalf("BlobsByNamespace(7, 3) = %v, %v", got, err)
		}
		got, err = s.BlobsByNamespace(ns(42), 3)
		if err != nil || len(got) != 0 {
			t.Fatalf("BlobsByNamespace(42, 3) = %v, %v", got, err)
		}
		if _, err := s.BlobsByNamespace(ns(7), 5); !errors.Is(err, ErrNotFound) || errors.Is(err, ErrPruned) {
			t.Fatalf("BlobsByNamespace above head: %v", err)
		}

		// Commitment 0xcc… is in blocks 2 and 3: the lowest height wins.
		var c [CommitmentSize]byte
		for i := range c {
			c[i] = 0xcc
		}
		h, e, err := s.FindCommitment(c)
		if err != nil || h != 2 || e.Namespace != ns(9) || e.ShareStart != 4 || e.EDSIndex != 1*8+0 || e.TxIndex != 2 {
			t.Fatalf("FindCommitment = %d, %+v, %v", h, e, err)
		}
		for _, b := range blocks {
			for _, want := range b.Blobs {
				if want.Commitment == c {
					continue
				}
				h, e, err := s.FindCommitment(want.Commitment)
				if err != nil || h != b.Header.Height || e != want {
					t.Fatalf("FindCommitment(%x) = %d, %+v, %v; want %d, %+v", want.Commitment[:4], h, e, err, b.Header.Height, want)
				}
			}
		}
		_, _, err = s.FindCommitment([CommitmentSize]byte{1})
		wantErr(t, err, ErrNotFound)
	})

	t.Run("missing", func(t *testing.T) {
		for name, f := range map[string]func() error{
			"HeaderByHeight": func() error { _, err := s.HeaderByHeight(5); return err },
			"HeaderByHash":   func() error { _, err := s.HeaderByHash(header.Hash{1}); return err },
			"ODS":            func() error { _, err := s.ODS(5); return err },
			"ODS(0)":         func() error { _, err := s.ODS(0); return err },
			"Blobs":          func() error { _, err := s.Blobs(5); return err },
		} {
			if err := f(); !errors.Is(err, ErrNotFound) || errors.Is(err, ErrPruned) {
				t.Errorf("%s: %v, want ErrNotFound", name, err)
			}
		}
	})

	st, err := s.Stats()
	if err != nil || st.Head != 4 || st.Tail != 1 || st.Heights != 4 || st.LSMBytes == 0 {
		t.Fatalf("Stats = %+v, %v", st, err)
	}
}

func TestODSIsCompact(t *testing.T) {
	s := openTest(t, t.TempDir(), Options{})
	// A k=64 square with one 10-share blob is almost all tail padding.
	b := testBlock(t, nil, 64, []blobSpec{{ns: 7, shares: 10}}, nil)
	mustPut(t, s, b)
	stored := 0
	for k, v := range dump(t, s) {
		if k[0] == prefixODS {
			stored += len(v)
		}
	}
	if stored > 20*ShareSize {
		t.Fatalf("ODS of %d bytes stored in %d bytes", len(b.ODS), stored)
	}
}

func TestPutBlockRefusesAndWritesNothing(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir, Options{})
	b1 := testBlock(t, nil, 4, []blobSpec{{ns: 7, shares: 2, tx: 1}}, nil)
	mustPut(t, s, b1)
	queued := mustEnqueue(t, s, 10)
	otherChain := testBlock(t, b1.Header, 4, nil, nil)
	otherChain.Header.ChainID = "other"
	otherChain.Header.Sign(testKey)

	resign := func(b *Block) *Block { b.Header.Sign(testKey); return b }
	next := func(specs []blobSpec, done []Included) *Block { return testBlock(t, b1.Header, 4, specs, done) }
	cases := []struct {
		name  string
		block func() *Block
		want  error
	}{
		{"nil", func() *Block { return nil }, ErrInvalidBlock},
		{"no header", func() *Block { return &Block{ODS: make([]byte, ShareSize)} }, ErrInvalidBlock},
		{"bad signature", func() *Block { b := next(nil, nil); b.Header.Signature[0] ^= 1; return b }, ErrInvalidBlock},
		{"height 1 again", func() *Block { return testBlock(t, nil, 4, nil, nil) }, ErrNotChained},
		{"height gap", func() *Block { b := next(nil, nil); b.Header.Height = 3; return resign(b) }, ErrNotChained},
		{"wrong previous hash", func() *Block { b := next(nil, nil); b.Header.PrevHash[0] ^= 1; return resign(b) }, ErrNotChained},
		{"other chain", func() *Block { return otherChain }, ErrNotChained},
		{"time backwards", func() *Block { b := next(nil, nil); b.Header.Time = b1.Header.Time.Add(-time.Second); return resign(b) }, ErrNotChained},
		{"short ODS", func() *Block { b := next(nil, nil); b.ODS = b.ODS[:len(b.ODS)-1]; return b }, ErrInvalidBlock},
		{"ODS for another width", func() *Block { b := next(nil, nil); b.ODS = make([]byte, 4*ShareSize); return b }, ErrInvalidBlock},
		{"blob past the square", func() *Block {
			b := next([]blobSpec{{ns: 7, shares: 2}}, nil)
			b.Blobs[0].ShareCount = 16
			return b
		}, ErrInvalidBlock},
		{"zero-share blob", func() *Block {
			b := next([]blobSpec{{ns: 7, shares: 2}}, nil)
			b.Blobs[0].ShareCount = 0
			return b
		}, ErrInvalidBlock},
		{"overlapping blobs", func() *Block {
			b := next([]blobSpec{{ns: 7, shares: 2}, {ns: 7, shares: 2, idx: 1}}, nil)
			b.Blobs[1].ShareStart, b.Blobs[1].EDSIndex = 2, 2
			return b
		}, ErrInvalidBlock},
		{"wrong EDS index", func() *Block {
			b := next([]blobSpec{{ns: 7, shares: 2}, {ns: 8, shares: 2, idx: 1}}, nil)
			b.Blobs[1].EDSIndex = 3 // share 3 is row 0 col 3; correct, so use share 4: row 1 col 0 → 8
			b.Blobs[1].ShareStart = 4
			b.Blobs[1].EDSIndex = 4
			return b
		}, ErrInvalidBlock},
		{"namespace differs from the share's", func() *Block {
			b := next([]blobSpec{{ns: 7, shares: 2}}, nil)
			b.Blobs[0].Namespace = ns(8)
			return b
		}, ErrInvalidBlock},
		{"two blobs at one tx index", func() *Block {
			return next([]blobSpec{{ns: 7, shares: 2, tx: 1}, {ns: 7, shares: 2, tx: 1}}, nil)
		}, ErrInvalidBlock},
		{"more blobs than shares", func() *Block {
			b := next(nil, nil)
			b.Blobs = make([]BlobIndex, 17)
			return b
		}, ErrInvalidBlock},
		{"done twice", func() *Block {
			return next([]blobSpec{{ns: 7, shares: 2, tx: 1}}, []Included{{ID: queued, TxIndex: 1}, {ID: queued, TxIndex: 1}})
		}, ErrInvalidBlock},
		{"done without blobs", func() *Block {
			return next([]blobSpec{{ns: 7, shares: 2, tx: 1}}, []Included{{ID: queued, TxIndex: 2}})
		}, ErrInvalidBlock},
		// The queued submission is removed and its receipt written in the
		// transaction before the unknown one is found: all must be undone.
		{"done not queued", func() *Block {
			return next([]blobSpec{{ns: 7, shares: 2, tx: 1}, {ns: 8, shares: 1, tx: 2}}, []Included{{ID: queued, TxIndex: 1}, {ID: queued + 1, TxIndex: 2}})
		}, ErrInvalidBlock},
	}
	before := dump(t, s)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := s.PutBlock(tc.block())
			wantErr(t, err, tc.want)
			if after := dump(t, s); !mapsEqual(before, after) {
				t.Fatalf("a refused block changed the store")
			}
			if h, _ := s.Head(); h.Height != 1 || s.QueueLen() != 1 || s.QueueBytes() != 10 {
				t.Fatalf("in-memory view changed: head %d, queue %d/%d", h.Height, s.QueueLen(), s.QueueBytes())
			}
		})
	}
	// The store still takes the right block.
	mustPut(t, s, next([]blobSpec{{ns: 7, shares: 2, tx: 1}}, []Included{{ID: queued, TxIndex: 1}}))
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// TestPutBlockTransactionLimit checks the documented capacity: with the
// default memtable a k=128 square of 16,384 one-share blobs, each its own
// submission, goes in one transaction; with a smaller memtable it is
// refused with ErrTooLarge and nothing is written.
func TestPutBlockTransactionLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 16,384 submissions and a k=128 square; skipped in -short mode")
	}
	const k = 128
	specs := make([]blobSpec, k*k-1)
	done := make([]Included, len(specs))
	for i := range specs {
		specs[i] = blobSpec{ns: byte(i%250 + 2), shares: 1, tx: uint32(i)}
		done[i] = Included{ID: uint64(i + 1), TxIndex: uint32(i)}
	}
	b1 := testBlock(t, nil, 1, nil, nil)
	big := testBlock(t, b1.Header, k, specs, done)
	for _, tc := range []struct {
		mem  int64
		want error
	}{{minMemTableSize, ErrTooLarge}, {0, nil}} {
		t.Run(fmt.Sprintf("memtable=%d", tc.mem), func(t *testing.T) {
			s := openTest(t, t.TempDir(), Options{MemTableSize: tc.mem, NoSync: true})
			mustPut(t, s, b1)
			for range specs {
				mustEnqueue(t, s, 100)
			}
			before := dump(t, s)
			err := s.PutBlock(big)
			if tc.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				if s.QueueLen() != 0 {
					t.Fatalf("queue %d after including everything", s.QueueLen())
				}
				r, err := s.Receipt(uint64(len(specs)))
				if err != nil || r.State != ReceiptIncluded || r.Height != 2 || len(r.Blobs) != 1 {
					t.Fatalf("receipt %+v, %v", r, err)
				}
				return
			}
			wantErr(t, err, tc.want)
			if !mapsEqual(before, dump(t, s)) || s.QueueLen() != len(specs) {
				t.Fatal("a refused block changed the store")
			}
		})
	}
}

func TestQueue(t *testing.T) {
	dir := t.TempDir()
	clock := time.Unix(1_700_000_000, 0).UTC()
	opts := Options{Clock: func() time.Time { return clock }}
	s := openTest(t, dir, opts)

	sizes := []int{100, 200, 300, 400, 5000}
	for i, size := range sizes {
		id, err := s.Enqueue(Submission{Blobs: bytes.Repeat([]byte{byte(i)}, size), Size: size, Signer: []byte{byte(i)}})
		if err != nil || id != uint64(i+1) {
			t.Fatalf("Enqueue #%d = %d, %v", i, id, err)
		}
	}
	if s.QueueLen() != 5 || s.QueueBytes() != 6000 {
		t.Fatalf("queue %d/%d", s.QueueLen(), s.QueueBytes())
	}

	ids := func(qs []QueuedSubmission) (out []uint64) {
		for _, q := range qs {
			out = append(out, q.ID)
		}
		return out
	}
	for _, tc := range []struct {
		limit, maxBytes int
		want            []uint64
	}{
		{10, 1 << 20, []uint64{1, 2, 3, 4, 5}},
		{2, 1 << 20, []uint64{1, 2}},
		{10, 600, []uint64{1, 2, 3}},
		{10, 599, []uint64{1, 2}},
		{10, 1, []uint64{1}}, // the oldest always comes back
		{10, 1000, []uint64{1, 2, 3, 4}},
	} {
		got, err := s.Pending(tc.limit, tc.maxBytes)
		if err != nil || !slices.Equal(ids(got), tc.want) {
			t.Fatalf("Pending(%d, %d) = %v, %v; want %v", tc.limit, tc.maxBytes, ids(got), err, tc.want)
		}
	}
	got, _ := s.Pending(1, 1000)
	if q := got[0]; q.Size != 100 || !bytes.Equal(q.Blobs, bytes.Repeat([]byte{0}, 100)) || !bytes.Equal(q.Signer, []byte{0}) || !q.Enqueued.Equal(clock) {
		t.Fatalf("queued submission %+v", q)
	}
	for _, bad := range [][2]int{{0, 1}, {1, 0}, {-1, 5}} {
		_, err := s.Pending(bad[0], bad[1])
		wantErr(t, err, ErrInvalidArgument)
	}
	for _, bad := range []Submission{{}, {Blobs: []byte{1}}, {Blobs: []byte{1}, Size: -1}, {Blobs: []byte{1}, Size: 1, Signer: make([]byte, MaxSignerSize+1)}} {
		_, err := s.Enqueue(bad)
		wantErr(t, err, ErrInvalidArgument)
	}

	// Drop.
	if err := s.Drop(2, "fee too low"); err != nil {
		t.Fatal(err)
	}
	wantErr(t, s.Drop(2, "again"), ErrNotFound)
	wantErr(t, s.Drop(99, "never"), ErrNotFound)
	wantErr(t, s.Drop(3, ""), ErrInvalidArgument)
	if r, err := s.Receipt(2); err != nil || r.State != ReceiptFailed || r.Reason != "fee too low" || r.ID != 2 {
		t.Fatalf("Receipt(2) = %+v, %v", r, err)
	}
	if r, err := s.Receipt(3); err != nil || r.State != ReceiptPending {
		t.Fatalf("Receipt(3) = %+v, %v", r, err)
	}
	if r, err := s.Receipt(99); err != nil || r.State != ReceiptUnknown {
		t.Fatalf("Receipt(99) = %+v, %v", r, err)
	}
	if s.QueueLen() != 4 || s.QueueBytes() != 5800 {
		t.Fatalf("queue %d/%d after Drop", s.QueueLen(), s.QueueBytes())
	}

	// Include 1 and 4 in a block: 1 with two blobs given out of order.
	b1 := testBlock(t, nil, 8, []blobSpec{
		{ns: 5, shares: 1, tx: 0, idx: 1, commit: 0x11},
		{ns: 6, shares: 3, tx: 0, idx: 0, commit: 0x10},
		{ns: 6, shares: 2, tx: 1, idx: 0, commit: 0x40},
		{ns: 7, shares: 2, tx: 2, idx: 0, commit: 0x77}, // not from the queue
	}, []Included{{ID: 1, TxIndex: 0}, {ID: 4, TxIndex: 1}})
	mustPut(t, s, b1)
	r, err := s.Receipt(1)
	if err != nil || r.State != ReceiptIncluded || r.Height != 1 || len(r.Blobs) != 2 ||
		r.Blobs[0].Commitment[0] != 0x10 || r.Blobs[0].EDSIndex != 2 || r.Blobs[0].Namespace != ns(6) ||
		r.Blobs[1].Commitment[0] != 0x11 || r.Blobs[1].EDSIndex != 1 {
		t.Fatalf("Receipt(1) = %+v, %v", r, err)
	}
	if r, err := s.Receipt(4); err != nil || r.State != ReceiptIncluded || len(r.Blobs) != 1 || r.Blobs[0].Commitment[0] != 0x40 {
		t.Fatalf("Receipt(4) = %+v, %v", r, err)
	}
	got, _ = s.Pending(10, 1<<20)
	if !slices.Equal(ids(got), []uint64{3, 5}) || s.QueueLen() != 2 || s.QueueBytes() != 5300 {
		t.Fatalf("after block: pending %v, queue %d/%d", ids(got), s.QueueLen(), s.QueueBytes())
	}

	// Drop everything, reopen: IDs continue, nothing is reused.
	for _, id := range []uint64{3, 5} {
		if err := s.Drop(id, "test"); err != nil {
			t.Fatal(err)
		}
	}
	if s.QueueLen() != 0 || s.QueueBytes() != 0 {
		t.Fatalf("queue %d/%d when empty", s.QueueLen(), s.QueueBytes())
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openTest(t, dir, opts)
	if id := mustEnqueue(t, s, 7); id != 6 {
		t.Fatalf("first ID after reopen %d, want 6", id)
	}
	if r, err := s.Receipt(1); err != nil || r.State != ReceiptIncluded || len(r.Blobs) != 2 {
		t.Fatalf("Receipt(1) after reopen = %+v, %v", r, err)
	}
	if r, _ := s.Receipt(2); r.State != ReceiptFailed {
		t.Fatalf("Receipt(2) after reopen = %+v", r)
	}
	if s.QueueLen() != 1 || s.QueueBytes() != 7 {
		t.Fatalf("queue %d/%d after reopen", s.QueueLen(), s.QueueBytes())
	}
}

func TestQueueFIFOAcrossReopen(t *testing.T) {
	dir := t.TempDir()
	var want []uint64
	last := uint64(0)
	for round := 0; round < 3; round++ {
		s := openTest(t, dir, Options{})
		for i := 0; i < 20; i++ {
			id := mustEnqueue(t, s, 1+i)
			if id <= last {
				t.Fatalf("round %d: ID %d after %d", round, id, last)
			}
			last = id
			want = append(want, id)
		}
		// Drop the oldest two each round.
		for _, id := range want[:2] {
			if err := s.Drop(id, "round"); err != nil {
				t.Fatal(err)
			}
		}
		want = want[2:]
		got, err := s.Pending(1000, 1<<30)
		if err != nil {
			t.Fatal(err)
		}
		var gotIDs []uint64
		for _, q := range got {
			gotIDs = append(gotIDs, q.ID)
		}
		if !slices.Equal(gotIDs, want) {
			t.Fatalf("round %d: pending %v, want %v", round, gotIDs, want)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestPrune(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir, Options{})
	// Heights 1..10; namespace 7 at heights 3 and 7, namespace 8 at 5,
	// namespace 9 everywhere, height 6 has no blobs.
	var blocks []*Block
	var prev *header.Header
	for h := uint64(1); h <= 10; h++ {
		specs := []blobSpec{{ns: 9, shares: 2}}
		switch h {
		case 3, 7:
			specs = append(specs, blobSpec{ns: 7, shares: 1, idx: 1})
		case 5:
			specs = append(specs, blobSpec{ns: 8, shares: 1, idx: 1})
		case 6:
			specs = nil
		}
		b := testBlock(t, prev, 4, specs, nil)
		mustPut(t, s, b)
		blocks = append(blocks, b)
		prev = b.Header
	}
	if err := s.AddPin(Pin{Kind: PinNamespace, Namespace: ns(7), ID: "ns-7"}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddPin(Pin{Kind: PinDataset, Namespace: ns(8), ID: "dataset-a"}); err != nil {
		t.Fatal(err)
	}

	check := func(kept ...uint64) {
		t.Helper()
		for _, b := range blocks {
			h := b.Header.Height
			if _, err := s.HeaderByHeight(h); err != nil {
				t.Fatalf("header %d: %v", h, err)
			}
			ods, err := s.ODS(h)
			_, blobsErr := s.Blobs(h)
			var cheight uint64
			var cerr error
			if b.Blobs != nil {
				cheight, _, cerr = s.FindCommitment(b.Blobs[0].Commitment)
			}
			if slices.Contains(kept, h) {
				if err != nil || !bytes.Equal(ods, b.ODS) || blobsErr != nil || cerr != nil || (b.Blobs != nil && cheight != h) {
					t.Fatalf("kept height %d: ODS %v, blobs %v, commitment %v", h, err, blobsErr, cerr)
				}
			} else {
				if !errors.Is(err, ErrPruned) || !errors.Is(blobsErr, ErrPruned) {
					t.Fatalf("pruned height %d: ODS %v, blobs %v", h, err, blobsErr)
				}
				if b.Blobs != nil && !errors.Is(cerr, ErrNotFound) {
					t.Fatalf("pruned height %d: commitment %v", h, cerr)
				}
			}
		}
		heights, err := s.NamespaceHeights(ns(9), 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		want := slices.DeleteFunc(slices.Clone(kept), func(h uint64) bool { return h == 6 })
		if !slices.Equal(heights, want) {
			t.Fatalf("namespace 9 heights %v, want %v", heights, want)
		}
		if st, _ := s.Stats(); st.Heights != uint64(len(kept)) || st.Tail != kept[0] || s.Tail() != kept[0] {
			t.Fatalf("stats %+v, want %d heights from %d", st, len(kept), kept[0])
		}
	}

	if n, err := s.Prune(1); n != 0 || err != nil {
		t.Fatalf("Prune(1) = %d, %v", n, err)
	}
	n, err := s.Prune(8)
	if err != nil || n != 4 {
		t.Fatalf("Prune(8) = %d, %v; want 4", n, err)
	}
	check(3, 5, 7, 8, 9, 10)
	if n, err := s.Prune(8); n != 0 || err != nil {
		t.Fatalf("Prune(8) again = %d, %v", n, err)
	}

	// Reopen: pins and tail survive.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openTest(t, dir, Options{})
	check(3, 5, 7, 8, 9, 10)
	if pins := s.Pins(); len(pins) != 2 || pins[0].ID != "dataset-a" || pins[1].ID != "ns-7" {
		t.Fatalf("pins after reopen %+v", pins)
	}

	// Unpinning releases the kept heights to the next Prune.
	if err := s.RemovePin("ns-7"); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Prune(9); err != nil || n != 3 {
		t.Fatalf("Prune(9) after unpin = %d, %v; want 3", n, err)
	}
	check(5, 9, 10)
	if err := s.RemovePin("dataset-a"); err != nil {
		t.Fatal(err)
	}
	// Pruning above the head prunes everything.
	if n, err := s.Prune(100); err != nil || n != 3 {
		t.Fatalf("Prune(100) = %d, %v", n, err)
	}
	if s.Tail() != 0 {
		t.Fatalf("Tail %d with no ODS left", s.Tail())
	}
	if h, err := s.Head(); err != nil || h.Height != 10 {
		t.Fatalf("Head after pruning everything: %v, %v", h, err)
	}
	// The chain goes on.
	mustPut(t, s, testBlock(t, prev, 2, nil, nil))
	if s.Tail() != 11 {
		t.Fatalf("Tail %d, want 11", s.Tail())
	}
	if err := s.CollectGarbage(); err != nil {
		t.Fatal(err)
	}
}

// TestPruneHugeHeight prunes a height with more index entries than one
// transaction holds: reopened with a small memtable, Prune must split it.
func TestPruneHugeHeight(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a k=128 square of 16,383 blobs; skipped in -short mode")
	}
	dir := t.TempDir()
	s := openTest(t, dir, Options{NoSync: true})
	const k = 128
	specs := make([]blobSpec, k*k-1)
	for i := range specs {
		specs[i] = blobSpec{ns: byte(i%250 + 2), shares: 1, tx: uint32(i)}
	}
	b1 := testBlock(t, nil, k, specs, nil)
	b2 := testBlock(t, b1.Header, 1, nil, nil)
	mustPut(t, s, b1)
	mustPut(t, s, b2)
	s.Close()
	// Reopen with a memtable below what Options allow, so that one
	// transaction holds only a few thousand deletions.
	s, err := open(badger.DefaultOptions(dir).WithValueThreshold(valueThreshold), dir, Options{MemTableSize: 2 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if int64(len(specs)) < 2*s.db.MaxBatchCount() {
		t.Fatalf("the test needs more index entries than a transaction holds (%d)", s.db.MaxBatchCount())
	}
	if n, err := s.Prune(2); err != nil || n != 1 {
		t.Fatalf("Prune(2) = %d, %v", n, err)
	}
	_, err = s.ODS(1)
	wantErr(t, err, ErrPruned)
	for key := range dump(t, s) {
		var height []byte
		switch key[0] {
		case prefixODS, prefixBlobs:
			height = []byte(key[1:9])
		case prefixNamespace:
			height = []byte(key[1+NamespaceSize:])
		case prefixCommitment:
			height = []byte(key[1+CommitmentSize : 1+CommitmentSize+8])
		default:
			continue
		}
		if binary.BigEndian.Uint64(height) != 2 {
			t.Fatalf("key %x of a pruned height left", key)
		}
	}
	if st, _ := s.Stats(); st.Heights != 1 || st.Tail != 2 {
		t.Fatalf("stats %+v", st)
	}
}

// TestPruneManyHeights prunes more heights than one batch examines, with
// pinned heights spread among them.
func TestPruneManyHeights(t *testing.T) {
	s := openTest(t, t.TempDir(), Options{NoSync: true})
	const n = 3*pruneBatch + 17
	var prev *header.Header
	for h := 1; h <= n; h++ {
		specs := []blobSpec{{ns: 9, shares: 1}}
		if h%100 == 0 {
			specs = append(specs, blobSpec{ns: 7, shares: 1, idx: 1})
		}
		b := testBlock(t, prev, 2, specs, nil)
		mustPut(t, s, b)
		prev = b.Header
	}
	if err := s.AddPin(Pin{Kind: PinNamespace, Namespace: ns(7), ID: "seven"}); err != nil {
		t.Fatal(err)
	}
	pinned := n / 100
	if got, err := s.Prune(n); err != nil || got != n-1-pinned {
		t.Fatalf("Prune(%d) = %d, %v; want %d", n, got, err, n-1-pinned)
	}
	heights, err := s.NamespaceHeights(ns(9), 0, 100)
	if err != nil || len(heights) != pinned+1 || heights[0] != 100 || heights[pinned] != n {
		t.Fatalf("namespace 9 heights %v, %v", heights, err)
	}
	if st, _ := s.Stats(); st.Tail != 100 || st.Heights != uint64(pinned+1) {
		t.Fatalf("stats %+v", st)
	}
}

func TestPins(t *testing.T) {
	s := openTest(t, t.TempDir(), Options{})
	created := time.Date(2025, 1, 2, 3, 4, 5, 6, time.UTC)
	for _, p := range []Pin{
		{Kind: PinNamespace, Namespace: ns(3), ID: "b", Created: created},
		{Kind: PinDataset, ID: "a"},
		{Kind: PinNamespace, Namespace: ns(4), ID: "b", Created: created}, // replaces
	} {
		if err := s.AddPin(p); err != nil {
			t.Fatal(err)
		}
	}
	pins := s.Pins()
	if len(pins) != 2 || pins[0].ID != "a" || pins[1].Namespace != ns(4) || !pins[1].Created.Equal(created) || !pins[0].Created.IsZero() {
		t.Fatalf("Pins = %+v", pins)
	}
	for _, bad := range []Pin{{Kind: 0, ID: "x"}, {Kind: 3, ID: "x"}, {Kind: PinNamespace}, {Kind: PinDataset, ID: string(make([]byte, MaxPinIDSize+1))}} {
		wantErr(t, s.AddPin(bad), ErrInvalidArgument)
	}
	wantErr(t, s.RemovePin("zzz"), ErrNotFound)
	if err := s.RemovePin("a"); err != nil {
		t.Fatal(err)
	}
	if pins := s.Pins(); len(pins) != 1 || pins[0].ID != "b" {
		t.Fatalf("Pins = %+v", pins)
	}
}

func TestMetaAndRecords(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir, Options{})
	if _, err := s.GetMeta("das"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("GetMeta on empty: %v", err)
	}
	if err := s.PutMeta("das", []byte("checkpoint")); err != nil {
		t.Fatal(err)
	}
	if err := s.PutMeta("empty", nil); err != nil {
		t.Fatal(err)
	}
	// Buckets do not bleed into each other: ("a", "bc") and ("ab", "c").
	for _, r := range [][3]string{{"a", "bc", "1"}, {"ab", "c", "2"}, {"a", "b", "3"}, {"a", "ba", "4"}, {"a", "c", "5"}, {"a", "", "6"}} {
		if err := s.PutRecord(r[0], []byte(r[1]), []byte(r[2])); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openTest(t, dir, Options{})
	if v, err := s.GetMeta("das"); err != nil || string(v) != "checkpoint" {
		t.Fatalf("GetMeta = %q, %v", v, err)
	}
	if v, err := s.GetMeta("empty"); err != nil || len(v) != 0 {
		t.Fatalf("GetMeta(empty) = %q, %v", v, err)
	}
	if v, err := s.GetRecord("ab", []byte("c")); err != nil || string(v) != "2" {
		t.Fatalf("GetRecord = %q, %v", v, err)
	}
	scan := func(bucket, prefix string) (out []string) {
		t.Helper()
		err := s.ScanRecords(bucket, []byte(prefix), func(k, v []byte) error {
			out = append(out, string(k)+"="+string(v))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	if got := scan("a", "b"); !slices.Equal(got, []string{"b=3", "ba=4", "bc=1"}) {
		t.Fatalf("scan a/b = %v", got)
	}
	if got := scan("a", ""); !slices.Equal(got, []string{"=6", "b=3", "ba=4", "bc=1", "c=5"}) {
		t.Fatalf("scan a = %v", got)
	}
	if got := scan("ab", ""); !slices.Equal(got, []string{"c=2"}) {
		t.Fatalf("scan ab = %v", got)
	}
	stop := errors.New("stop")
	n := 0
	err := s.ScanRecords("a", nil, func(k, v []byte) error { n++; return stop })
	if err != stop || n != 1 {
		t.Fatalf("ScanRecords stop: %v after %d", err, n)
	}
	if err := s.DeleteRecord("a", []byte("b")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetRecord("a", []byte("b")); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted record: %v", err)
	}
	if err := s.DeleteMeta("das"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetMeta("das"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted meta: %v", err)
	}
	wantErr(t, s.PutMeta("", nil), ErrInvalidArgument)
	wantErr(t, s.PutRecord("", nil, nil), ErrInvalidArgument)
	wantErr(t, s.PutRecord(string(make([]byte, 256)), nil, nil), ErrInvalidArgument)
	wantErr(t, s.PutRecord("a", make([]byte, MaxRecordKeySize+1), nil), ErrInvalidArgument)
}

func TestReopenAndClose(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir, Options{})
	b1 := testBlock(t, nil, 2, []blobSpec{{ns: 7, shares: 1}}, nil)
	b2 := testBlock(t, b1.Header, 2, nil, nil)
	mustPut(t, s, b1)
	mustPut(t, s, b2)
	mustEnqueue(t, s, 10)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	for name, f := range map[string]func() error{
		"Head":     func() error { _, err := s.Head(); return err },
		"ODS":      func() error { _, err := s.ODS(1); return err },
		"PutBlock": func() error { return s.PutBlock(testBlock(t, b2.Header, 1, nil, nil)) },
		"Enqueue":  func() error { _, err := s.Enqueue(Submission{Blobs: []byte{1}, Size: 1}); return err },
		"Prune":    func() error { _, err := s.Prune(2); return err },
		"Scan":     func() error { return s.ScanRecords("a", nil, func(k, v []byte) error { return nil }) },
		"Stats":    func() error { _, err := s.Stats(); return err },
	} {
		if err := f(); !errors.Is(err, ErrClosed) {
			t.Errorf("%s after Close: %v", name, err)
		}
	}

	s = openTest(t, dir, Options{})
	if h, err := s.Head(); err != nil || h.Hash() != b2.Header.Hash() {
		t.Fatalf("Head after reopen = %v, %v", h, err)
	}
	if st, _ := s.Stats(); st.Head != 2 || st.Tail != 1 || st.Heights != 2 || st.QueueLen != 1 || st.QueueBytes != 10 {
		t.Fatalf("Stats after reopen %+v", st)
	}
	// The chain continues from the stored head.
	wantErr(t, s.PutBlock(testBlock(t, b1.Header, 2, nil, nil)), ErrNotChained)
	mustPut(t, s, testBlock(t, b2.Header, 2, nil, nil))

	// A second Open of the same directory fails while the first holds it.
	if _, err := Open(dir, Options{}); err == nil {
		t.Fatal("second Open of a directory in use succeeded")
	}
	wantErr(t, Options{MemTableSize: 1}.Validate(), ErrInvalidArgument)
	if _, err := Open("", Options{}); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("Open(\"\"): %v", err)
	}
}

func TestInMemory(t *testing.T) {
	s, err := OpenInMemory()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// k=64 ODS (2 MiB) is larger than badger's in-memory value limit; the
	// chunks are not.
	b := testBlock(t, nil, 64, []blobSpec{{ns: 7, shares: 4000}}, nil)
	mustPut(t, s, b)
	if ods, err := s.ODS(1); err != nil || !bytes.Equal(ods, b.ODS) {
		t.Fatalf("ODS: %v", err)
	}
	if st, err := s.Stats(); err != nil || st.LSMBytes != 0 || st.Heights != 1 {
		t.Fatalf("Stats %+v, %v", st, err)
	}
	if err := s.CollectGarbage(); err != nil {
		t.Fatal(err)
	}
}

// TestConcurrent runs writers and readers together (meaningful under -race).
func TestConcurrent(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir, Options{NoSync: true})
	const blocks, enqueuers, perEnqueuer = 20, 4, 50
	var wg sync.WaitGroup
	ids := make(chan uint64, enqueuers*perEnqueuer)
	for range enqueuers {
		wg.Go(func() {
			for range perEnqueuer {
				id, err := s.Enqueue(Submission{Blobs: []byte{1, 2, 3}, Size: 3})
				if err != nil {
					t.Error(err)
					return
				}
				ids <- id
			}
		})
	}
	wg.Go(func() {
		var prev *header.Header
		for range blocks {
			b := testBlock(t, prev, 4, []blobSpec{{ns: 7, shares: 2}}, nil)
			if err := s.PutBlock(b); err != nil {
				t.Error(err)
				return
			}
			prev = b.Header
		}
	})
	stop := make(chan struct{})
	var readers sync.WaitGroup
	readers.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			if h, err := s.Head(); err == nil {
				if _, err := s.ODS(h.Height); err != nil {
					t.Error(err)
				}
				if _, err := s.NamespaceHeights(ns(7), 1, 100); err != nil {
					t.Error(err)
				}
			}
			if _, err := s.Pending(10, 1<<20); err != nil {
				t.Error(err)
			}
			s.Stats()
		}
	})
	wg.Wait()
	close(stop)
	readers.Wait()
	close(ids)
	seen := map[uint64]bool{}
	for id := range ids {
		if seen[id] || id == 0 || id > enqueuers*perEnqueuer {
			t.Fatalf("ID %d duplicated or out of range", id)
		}
		seen[id] = true
	}
	if s.QueueLen() != enqueuers*perEnqueuer || s.QueueBytes() != 3*enqueuers*perEnqueuer {
		t.Fatalf("queue %d/%d", s.QueueLen(), s.QueueBytes())
	}
	if h, _ := s.Head(); h.Height != blocks {
		t.Fatalf("head %d", h.Height)
	}
	// The counters are recounted from disk on reopen.
	s.Close()
	s = openTest(t, dir, Options{})
	if s.QueueLen() != enqueuers*perEnqueuer || s.QueueBytes() != 3*enqueuers*perEnqueuer {
		t.Fatalf("queue %d/%d after reopen", s.QueueLen(), s.QueueBytes())
	}
	if id := mustEnqueue(t, s, 1); id != enqueuers*perEnqueuer+1 {
		t.Fatalf("next ID %d after reopen", id)
	}
}
