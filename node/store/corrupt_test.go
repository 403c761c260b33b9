package store

import (
	"errors"
	"testing"

	"github.com/dgraph-io/badger/v4"
)

// TestCorruptValues overwrites each kind of value with garbage through a raw
// badger transaction and reads it back through the API: every read must
// fail with ErrCorrupt, none may panic, and the store must work again once
// the value is restored.
func TestCorruptValues(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir, Options{})
	b1 := testBlock(t, nil, 32, []blobSpec{{ns: 7, shares: 600, tx: 0}}, nil)
	id1 := mustEnqueue(t, s, 10)
	id2 := mustEnqueue(t, s, 20)
	id3 := mustEnqueue(t, s, 30)
	b2 := testBlock(t, b1.Header, 32, []blobSpec{{ns: 7, shares: 2, tx: 0}, {ns: 8, shares: 1, tx: 1}}, []Included{{ID: id1, TxIndex: 0}})
	mustPut(t, s, b1)
	mustPut(t, s, b2)
	if err := s.Drop(id2, "bad"); err != nil {
		t.Fatal(err)
	}
	if err := s.AddPin(Pin{Kind: PinNamespace, Namespace: ns(9), ID: "p"}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutMeta("m", []byte("meta")); err != nil {
		t.Fatal(err)
	}
	if err := s.PutRecord("bucket", []byte("k"), []byte("record")); err != nil {
		t.Fatal(err)
	}
	hash2 := b2.Header.Hash()
	c := b2.Blobs[1].Commitment

	// reopen closes the store and reports what Open says; the caller
	// restores the value and reopens with restoreAndReopen.
	t.Cleanup(func() {
		if s != nil {
			s.Close()
		}
	})
	reopen := func() error {
		s.Close()
		s = nil
		s2, err := Open(dir, Options{})
		if err == nil {
			s2.Close()
		}
		return err
	}
	targets := []struct {
		name string
		key  []byte
		kind byte
		// openEnded: the payload ends with caller bytes of any length, so
		// a payload with a byte more is still valid.
		openEnded bool
		reads     map[string]func() error
	}{
		{"header", headerKey(2), kindHeader, false, map[string]func() error{
			"HeaderByHeight": func() error { _, err := s.HeaderByHeight(2); return err },
			"HeaderByHash":   func() error { _, err := s.HeaderByHash(hash2); return err },
			"HeaderRange":    func() error { _, err := s.HeaderRange(1, 3); return err },
			"ODS":            func() error { _, err := s.ODS(2); return err },
			"Open":           reopen,
		}},
		{"hash index", hashKey(hash2), kindHashIndex, false, map[string]func() error{
			"HeaderByHash": func() error { _, err := s.HeaderByHash(hash2); return err },
		}},
		{"ODS chunk", odsKey(2, 1), kindODSChunk, false, map[string]func() error{
			"ODS":       func() error { _, err := s.ODS(2); return err },
			"ODSShares": func() error { _, err := s.ODSShares(2, 1000, 2); return err },
		}},
		{"blob list", blobsKey(2), kindBlobList, false, map[string]func() error{
			"Blobs":            func() error { _, err := s.Blobs(2); return err },
			"BlobsByNamespace": func() error { _, err := s.BlobsByNamespace(ns(8), 2); return err },
		}},
		{"commitment entry", commitmentKey(c, 2, 1), kindCommitment, false, map[string]func() error{
			"FindCommitment": func() error { _, _, err := s.FindCommitment(c); return err },
		}},
		{"queued submission", queueKey(id3, 30), kindQueued, true, map[string]func() error{
			// Drop and PutBlock need only the key.
			"Pending": func() error { _, err := s.Pending(10, 1000); return err },
		}},
		{"included receipt", receiptKey(id1), kindReceipt, false, map[string]func() error{
			"Receipt": func() error { _, err := s.Receipt(id1); return err },
		}},
		{"failed receipt", receiptKey(id2), kindReceipt, false, map[string]func() error{
			"Receipt": func() error { _, err := s.Receipt(id2); return err },
		}},
		{"meta", metaKey("m"), kindUser, true, map[string]func() error{
			"GetMeta": func() error { _, err := s.GetMeta("m"); return err },
		}},
		{"record", recordKey("bucket", []byte("k")), kindUser, true, map[string]func() error{
			"GetRecord":   func() error { _, err := s.GetRecord("bucket", []byte("k")); return err },
			"ScanRecords": func() error { return s.ScanRecords("bucket", nil, func(k, v []byte) error { return nil }) },
		}},
		{"pin", pinKey("p"), kindPin, false, map[string]func() error{"Open": reopen}},
		{"state", keyState, kindState, false, map[string]func() error{"Open": reopen}},
		{"schema version", keyVersion, kindVersion, false, map[string]func() error{"Open": reopen}},
	}

	raw := func(t *testing.T, key []byte) []byte {
		var v []byte
		if err := s.db.View(func(txn *badger.Txn) error {
			item, err := txn.Get(key)
			if err != nil {
				return err
			}
			v, err = item.ValueCopy(nil)
			return err
		}); err != nil {
			t.Fatalf("raw read %x: %v", key, err)
		}
		return v
	}
	// set writes key=v through the store's badger handle, bypassing the API.
	set := func(t *testing.T, key, v []byte) {
		if err := s.db.Update(func(txn *badger.Txn) error { return txn.Set(key, v) }); err != nil {
			t.Fatalf("raw write %x: %v", key, err)
		}
	}
	envelope := func(kind byte, payload []byte) []byte {
		return seal(append(newValue(kind, len(payload)), payload...))
	}

	for _, tg := range targets {
		t.Run(tg.name, func(t *testing.T) {
			good := raw(t, tg.key)
			payload, err := unseal(good, tg.kind)
			if err != nil {
				t.Fatalf("stored value does not open: %v", err)
			}
			flipped := append([]byte{}, good...)
			flipped[len(flipped)/2] ^= 0x10
			otherKind := kindUser
			if tg.kind == kindUser {
				otherKind = kindPin
			}
			variants := map[string][]byte{
				"empty":      {},
				"short":      {tg.kind, 0, 0},
				"bit flip":   flipped,
				"wrong kind": envelope(otherKind, payload),
				"random":     []byte("\x93\x11garbage that is not a store value at all"),
			}
			if tg.kind != kindUser { // any payload is a valid caller value
				variants["truncated payload"] = envelope(tg.kind, payload[:min(3, len(payload)-1)])
			}
			if !tg.openEnded {
				variants["payload with a byte more"] = envelope(tg.kind, append(append([]byte{}, payload...), 0))
			}
			if tg.kind == kindODSChunk {
				variants["chunk with a share more"] = envelope(tg.kind, append(append([]byte{}, payload...), append([]byte{1 << 1}, make([]byte, ShareSize)...)...))
			}
			for vname, v := range variants {
				for rname, read := range tg.reads {
					set(t, tg.key, v)
					err := read()
					if rname == "Open" {
						if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrIncompatible) {
							t.Errorf("%s / %s: %v, want ErrCorrupt", vname, rname, err)
						}
						restoreAndReopen(t, dir, tg.key, good, &s)
						continue
					}
					if !errors.Is(err, ErrCorrupt) {
						t.Errorf("%s / %s: %v, want ErrCorrupt", vname, rname, err)
					}
					set(t, tg.key, good)
					if err := read(); err != nil {
						t.Fatalf("%s after restoring: %v", rname, err)
					}
				}
			}
		})
	}

	// Prune stops at a corrupt blob list (it cannot enumerate the height's
	// index entries) and commits nothing of the batch.
	set(t, blobsKey(2), []byte("garbage"))
	if n, err := s.Prune(3); n != 0 || !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Prune over a corrupt blob list = %d, %v", n, err)
	}
	if _, err := s.ODS(1); err != nil {
		t.Fatalf("height 1 after a failed Prune: %v", err)
	}

	// A queue key without its size is corrupt: reads and Open refuse it.
	var err error
	set(t, queueIDPrefix(99), nil)
	if _, err := s.Pending(10, 1000); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Pending over a bad queue key: %v", err)
	}
	s.Close()
	if _, err := Open(dir, Options{}); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Open over a bad queue key: %v", err)
	}
	s = nil
	rawUpdate(t, dir, func(txn *badger.Txn) error { return txn.Delete(queueIDPrefix(99)) })
	if s, err = Open(dir, Options{}); err != nil {
		t.Fatal(err)
	}

	// A missing chunk is corruption too.
	if err := s.db.Update(func(txn *badger.Txn) error { return txn.Delete(odsKey(2, 1)) }); err != nil {
		t.Fatal(err)
	}
	_, err = s.ODS(2)
	wantErr(t, err, ErrCorrupt)
	_, err = s.ODSShares(2, 600, 1)
	wantErr(t, err, ErrCorrupt)
}

// restoreAndReopen writes key=good with a bare badger handle (the corrupt
// value keeps the store from opening) and reopens the store into *s.
func restoreAndReopen(t *testing.T, dir string, key, good []byte, s **Store) {
	t.Helper()
	if *s != nil {
		(*s).Close()
	}
	rawUpdate(t, dir, func(txn *badger.Txn) error { return txn.Set(key, good) })
	var err error
	if *s, err = Open(dir, Options{}); err != nil {
		t.Fatalf("reopen after restoring: %v", err)
	}
}

// rawUpdate runs fn in a transaction of a bare badger handle on dir.
func rawUpdate(t *testing.T, dir string, fn func(txn *badger.Txn) error) {
	t.Helper()
	db, err := badger.Open(badger.DefaultOptions(dir).WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(fn); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}
