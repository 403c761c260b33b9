package store

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/tessera-da/tessera/node/header"
)

const testChainID = "tessera-test"

var testKey = ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))

// ns returns the version-0 namespace whose last byte is id.
func ns(id byte) [NamespaceSize]byte {
	var n [NamespaceSize]byte
	n[NamespaceSize-1] = id
	return n
}

// tailPadding is the secondary reserved tail-padding namespace.
var tailPadding = func() (n [NamespaceSize]byte) {
	for i := range n {
		n[i] = 0xff
	}
	n[NamespaceSize-1] = 0xfe
	return n
}()

// blobSpec describes one blob of a test block.
type blobSpec struct {
	ns     byte   // last byte of a version-0 namespace
	shares uint32 // shares it occupies
	tx     uint32 // blob transaction index
	idx    uint32 // index within the transaction
	commit byte   // 0: derived from height and position; else commitment filled with this byte
}

// testBlock builds a signed block extending prev (nil: height 1) with a
// k×k ODS: share 0 a transaction share, then the blobs in order, then tail
// padding. Share contents depend on height and position, so ODSes differ.
func testBlock(t testing.TB, prev *header.Header, k uint32, specs []blobSpec, done []Included) *Block {
	t.Helper()
	h := &header.Header{ChainID: testChainID, Height: 1, Time: time.Unix(1_700_000_000, 0).UTC(), SquareWidth: k}
	if prev != nil {
		h.Height, h.PrevHash, h.Time = prev.Height+1, prev.Hash(), prev.Time.Add(time.Second)
	}
	shares := k * k
	ods := make([]byte, int(shares)*ShareSize)
	fill := func(i uint32, n [NamespaceSize]byte, pattern uint64) {
		s := ods[int(i)*ShareSize : int(i+1)*ShareSize]
		copy(s, n[:])
		for j := NamespaceSize; j+8 <= ShareSize; j += 8 {
			binary.BigEndian.PutUint64(s[j:], pattern)
		}
	}
	fill(0, ns(1), h.Height<<32)
	next := uint32(1)
	var blobs []BlobIndex
	for i, sp := range specs {
		if next+sp.shares > shares {
			t.Fatalf("blobs do not fit in k=%d", k)
		}
		e := BlobIndex{Namespace: ns(sp.ns), ShareStart: next, ShareCount: sp.shares, TxIndex: sp.tx, IndexInTx: sp.idx}
		e.EDSIndex = (next/k)*2*k + next%k
		if sp.commit != 0 {
			for j := range e.Commitment {
				e.Commitment[j] = sp.commit
			}
		} else {
			e.Commitment = sha256.Sum256(binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(nil, h.Height), uint64(i)))
		}
		for j := uint32(0); j < sp.shares; j++ {
			fill(next+j, e.Namespace, h.Height<<32|uint64(next+j))
		}
		blobs = append(blobs, e)
		next += sp.shares
	}
	for ; next < shares; next++ {
		fill(next, tailPadding, 0)
	}
	h.DataRoot = sha256.Sum256(ods)
	h.Sign(testKey)
	return &Block{Header: h, ODS: ods, Blobs: blobs, Done: done}
}

func openTest(t testing.TB, dir string, opts Options) *Store {
	t.Helper()
	s, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func mustPut(t testing.TB, s *Store, b *Block) {
	t.Helper()
	if err := s.PutBlock(b); err != nil {
		t.Fatalf("PutBlock(%d): %v", b.Header.Height, err)
	}
}

func mustEnqueue(t testing.TB, s *Store, size int) uint64 {
	t.Helper()
	id, err := s.Enqueue(Submission{Blobs: make([]byte, size), Size: size})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// dump returns every key and value in the store, to compare states.
func dump(t testing.TB, s *Store) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.DefaultIteratorOptions)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			v, err := it.Item().ValueCopy(nil)
			if err != nil {
				return err
			}
			out[string(it.Item().KeyCopy(nil))] = string(v)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func wantErr(t testing.TB, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("error %v, want %v", err, target)
	}
}
