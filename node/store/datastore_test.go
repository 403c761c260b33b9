package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	ds "github.com/ipfs/go-datastore"
	dsq "github.com/ipfs/go-datastore/query"
	dstest "github.com/ipfs/go-datastore/test"
)

// TestDatastoreSuite runs go-datastore's conformance suite on the adapter,
// in memory and on disk.
func TestDatastoreSuite(t *testing.T) {
	t.Run("memory", func(t *testing.T) {
		s, err := OpenInMemory()
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		dstest.SubtestAll(t, s.Datastore())
	})
	t.Run("disk", func(t *testing.T) {
		s := openTest(t, t.TempDir(), Options{NoSync: true})
		dstest.SubtestAll(t, s.Datastore())
	})
	t.Run("batch", func(t *testing.T) {
		s := openTest(t, t.TempDir(), Options{})
		dstest.RunBatchTest(t, s.Datastore())
		dstest.RunBatchDeleteTest(t, s.Datastore())
		dstest.RunBatchPutAndDeleteTest(t, s.Datastore())
	})
}

// TestDatastoreBatchSplits commits a batch larger than one badger
// transaction: every write lands.
func TestDatastoreBatchSplits(t *testing.T) {
	s, err := OpenInMemory()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	d := s.Datastore()
	ctx := t.Context()
	// 16 MiB memtable: a transaction holds about 2.4 MiB, so 40,000 entries
	// of 100 bytes need several.
	const n = 40_000
	val := bytes.Repeat([]byte{7}, 100)
	tooBig := s.db.NewTransaction(true)
	fits := 0
	for ; fits < n; fits++ {
		if err := tooBig.Set(dsKey(ds.NewKey(fmt.Sprintf("/k/%06d", fits))), encodeUser(val)); err != nil {
			if !errors.Is(err, badger.ErrTxnTooBig) {
				t.Fatal(err)
			}
			break
		}
	}
	tooBig.Discard()
	if fits == n {
		t.Fatalf("%d entries fit in one transaction; the test needs more", n)
	}
	b, err := d.Batch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if err := b.Put(ctx, ds.NewKey(fmt.Sprintf("/k/%06d", i)), val); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	res, err := d.Query(ctx, dsq.Query{Prefix: "/k", KeysOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	all, err := res.Rest()
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != n {
		t.Fatalf("%d keys after commit, want %d (one transaction holds %d)", len(all), n, fits)
	}
	for i, e := range all {
		if want := fmt.Sprintf("/k/%06d", i); e.Key != want {
			t.Fatalf("key %d is %q, want %q", i, e.Key, want)
		}
	}
}

// TestDatastoreTooLarge: a single value larger than one transaction is
// refused with ErrTooLarge and writes nothing.
func TestDatastoreTooLarge(t *testing.T) {
	s, err := OpenInMemory()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	d := s.Datastore()
	k := ds.NewKey("/huge")
	err = d.Put(t.Context(), k, make([]byte, 8<<20))
	wantErr(t, err, ErrTooLarge)
	if has, err := d.Has(t.Context(), k); err != nil || has {
		t.Fatalf("Has after refused Put = %v, %v", has, err)
	}
	long := ds.RawKey("/" + string(bytes.Repeat([]byte("k"), MaxDatastoreKeySize)))
	wantErr(t, d.Put(t.Context(), long, []byte("v")), ErrInvalidArgument)
	b, err := d.Batch(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	// A value of exactly badger's threshold (1 MiB with the envelope) is
	// refused here: badger would accept it and panic writing it.
	wantErr(t, b.Put(t.Context(), k, make([]byte, 1<<20-envelopeOverhead)), ErrTooLarge)
	if err := b.Put(t.Context(), k, make([]byte, maxInMemoryValue-envelopeOverhead)); err != nil {
		t.Fatalf("largest in-memory value refused: %v", err)
	}
	if err := b.Commit(t.Context()); err != nil {
		t.Fatal(err)
	}
}

// TestDatastoreReopen: values survive Close and Open.
func TestDatastoreReopen(t *testing.T) {
	dir := t.TempDir()
	ctx := t.Context()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat([]byte("piece"), 100_000) // in the value log
	if err := s.Datastore().Put(ctx, ds.NewKey("/a"), []byte("small")); err != nil {
		t.Fatal(err)
	}
	if err := s.Datastore().Put(ctx, ds.NewKey("/b"), big); err != nil {
		t.Fatal(err)
	}
	if err := s.Datastore().Delete(ctx, ds.NewKey("/a")); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Datastore().Get(ctx, ds.NewKey("/b")); !errors.Is(err, ErrClosed) {
		t.Fatalf("Get after Close: %v, want ErrClosed", err)
	}
	s = openTest(t, dir, Options{})
	d := s.Datastore()
	if _, err := d.Get(ctx, ds.NewKey("/a")); !errors.Is(err, ds.ErrNotFound) {
		t.Fatalf("deleted key after reopen: %v", err)
	}
	got, err := d.Get(ctx, ds.NewKey("/b"))
	if err != nil || !bytes.Equal(got, big) {
		t.Fatalf("Get after reopen: %d bytes, %v", len(got), err)
	}
	if n, err := d.GetSize(ctx, ds.NewKey("/b")); err != nil || n != len(big) {
		t.Fatalf("GetSize after reopen = %d, %v; want %d", n, err, len(big))
	}
}

// TestDatastoreKeyRange: the adapter sees only its own key range, and the
// store's own records do not see it.
func TestDatastoreKeyRange(t *testing.T) {
	s, err := OpenInMemory()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := t.Context()
	d := s.Datastore()
	if err := s.PutMeta("/x", []byte("meta")); err != nil {
		t.Fatal(err)
	}
	if err := s.PutRecord("b", []byte("/x"), []byte("record")); err != nil {
		t.Fatal(err)
	}
	if err := d.Put(ctx, ds.NewKey("/x"), []byte("ds")); err != nil {
		t.Fatal(err)
	}
	res, err := d.Query(ctx, dsq.Query{})
	if err != nil {
		t.Fatal(err)
	}
	all, err := res.Rest()
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 1 || all[0].Key != "/x" || string(all[0].Value) != "ds" {
		t.Fatalf("query saw %+v, want only /x=ds", all)
	}
	if v, err := s.GetMeta("/x"); err != nil || string(v) != "meta" {
		t.Fatalf("GetMeta = %q, %v", v, err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Get(ctx, ds.NewKey("/x")); err != nil {
		t.Fatalf("Get after Datastore.Close: %v (it must not close the store)", err)
	}
}

// TestDatastoreCorrupt: a value damaged on disk is an error wrapping
// ErrCorrupt, never returned.
func TestDatastoreCorrupt(t *testing.T) {
	s, err := OpenInMemory()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := t.Context()
	d := s.Datastore()
	if err := d.Put(ctx, ds.NewKey("/good"), []byte("fine")); err != nil {
		t.Fatal(err)
	}
	flipped := encodeUser([]byte("value"))
	flipped[2] ^= 1
	for key, raw := range map[string][]byte{"/flipped": flipped, "/short": {kindUser, 1}, "/kind": encodeVersion(1)} {
		if err := s.db.Update(func(txn *badger.Txn) error { return txn.Set(dsKey(ds.NewKey(key)), raw) }); err != nil {
			t.Fatal(err)
		}
	}
	for _, key := range []string{"/flipped", "/short", "/kind"} {
		if v, err := d.Get(ctx, ds.NewKey(key)); !errors.Is(err, ErrCorrupt) {
			t.Errorf("Get(%s) = %q, %v; want ErrCorrupt", key, v, err)
		}
	}
	for _, key := range []string{"/short", "/kind"} {
		if _, err := d.GetSize(ctx, ds.NewKey(key)); !errors.Is(err, ErrCorrupt) {
			t.Errorf("GetSize(%s): %v, want ErrCorrupt", key, err)
		}
	}
	res, err := d.Query(ctx, dsq.Query{})
	if err != nil {
		t.Fatal(err)
	}
	if all, err := res.Rest(); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("query = %d entries, %v; want ErrCorrupt", len(all), err)
	}
}

// TestDatastoreQueryPages: a query longer than a page sees every key once,
// in order, with writes between pages; an unclosed query does not block
// Store.Close, and its next page fails with ErrClosed.
func TestDatastoreQueryPages(t *testing.T) {
	s := openTest(t, t.TempDir(), Options{NoSync: true})
	ctx := t.Context()
	d := s.Datastore()
	const n = 3*queryPageEntries + 7
	for i := range n {
		if err := d.Put(ctx, ds.NewKey(fmt.Sprintf("/p/%04d", i)), []byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
	}
	res, err := d.Query(ctx, dsq.Query{Prefix: "/p", Offset: 3, Limit: n - 10})
	if err != nil {
		t.Fatal(err)
	}
	for i := 3; i < n-7; i++ {
		r, ok := res.NextSync()
		if !ok || r.Error != nil {
			t.Fatalf("entry %d: %v, %v", i, ok, r.Error)
		}
		if want := fmt.Sprintf("/p/%04d", i); r.Key != want || r.Value[0] != byte(i) || r.Size != 1 {
			t.Fatalf("entry %d = %+v, want %s", i, r.Entry, want)
		}
		if i == 300 { // a write behind the cursor is not seen again
			if err := d.Put(ctx, ds.NewKey("/p/0000"), []byte{9}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if r, ok := res.NextSync(); ok {
		t.Fatalf("entry past the limit: %+v", r)
	}

	res, err = d.Query(ctx, dsq.Query{Prefix: "/p", KeysOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if r, ok := res.NextSync(); !ok || r.Error != nil || r.Value != nil || r.Size != -1 {
		t.Fatalf("keys-only entry %+v, %v", r, ok)
	}
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Store.Close blocked by an open query")
	}
	var last dsq.Result
	for {
		r, ok := res.NextSync()
		if !ok {
			break
		}
		last = r
	}
	if !errors.Is(last.Error, ErrClosed) {
		t.Fatalf("query after Close ended with %v, want ErrClosed", last.Error)
	}
	res.Close()
}

// TestDatastoreConcurrent: concurrent puts, batches, reads and queries
// (run with -race); concurrent writers share fsyncs.
func TestDatastoreConcurrent(t *testing.T) {
	s := openTest(t, t.TempDir(), Options{})
	d := s.Datastore()
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for w := range 8 {
		wg.Go(func() {
			for i := range 25 {
				k := ds.NewKey(fmt.Sprintf("/w%d/%d", w, i))
				if err := d.Put(ctx, k, []byte(k.String())); err != nil {
					errs <- err
					return
				}
				if v, err := d.Get(ctx, k); err != nil || string(v) != k.String() {
					errs <- fmt.Errorf("Get(%s) = %q, %v", k, v, err)
					return
				}
			}
			b, _ := d.Batch(ctx)
			for i := range 25 {
				b.Put(ctx, ds.NewKey(fmt.Sprintf("/b%d/%d", w, i)), []byte{byte(i)})
			}
			if err := b.Commit(ctx); err != nil {
				errs <- err
			}
			res, err := d.Query(ctx, dsq.Query{KeysOnly: true})
			if err != nil {
				errs <- err
				return
			}
			if _, err := res.Rest(); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	res, err := d.Query(ctx, dsq.Query{KeysOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	all, err := res.Rest()
	if err != nil || len(all) != 8*50 {
		t.Fatalf("%d keys, %v; want %d", len(all), err, 8*50)
	}
}
