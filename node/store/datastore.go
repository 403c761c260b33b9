package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path"
	"sync"

	"github.com/dgraph-io/badger/v4"
	ds "github.com/ipfs/go-datastore"
	dsq "github.com/ipfs/go-datastore/query"
)

// prefixDatastore is the key range of the go-datastore adapter:
//
//	D | datastore key (its String form, e.g. "/blocks/CIQ…") → caller's value
//
// It is declared here rather than in keys.go so that the adapter stays one
// file; keys.go's prefixes and this one must stay distinct.
const prefixDatastore = 'D'

// Datastore limits, checked before badger sees a write (badger's own
// errors for them carry a hex dump of the value).
const (
	// MaxDatastoreKeySize is the longest datastore key (its String form).
	MaxDatastoreKeySize = 65000 - 1 // bytes: badger's key limit less the prefix byte
	// maxInMemoryValue is the largest value (envelope included) a store
	// opened with OpenInMemory holds: badger keeps every value in its LSM
	// tree then, and only values below its value threshold (1 MiB) fit;
	// badger v4.9.6 accepts a value of exactly the threshold and then
	// panics writing it, so the limit is checked here.
	maxInMemoryValue = 1<<20 - 1 // bytes
)

// Query paging: a query reads at most this many entries, or this many bytes
// of values, in one badger snapshot before it hands them out.
const (
	queryPageEntries = 256     // entries
	queryPageBytes   = 4 << 20 // bytes of values
)

// Datastore is a go-datastore (github.com/ipfs/go-datastore) Batching
// datastore over the store's badger instance, in its own key range ("D"),
// for libraries that persist through go-datastore: boxo's blockstore (see
// node/bulk), and the DHT where persistence helps. Its values share the
// store's envelope (record kind and CRC-32C), so a value damaged on disk
// is reported as an error wrapping ErrCorrupt, never returned.
//
// Guarantees:
//   - Durable: Put, Delete and Batch.Commit return once their transaction
//     is committed and, unless the store was opened with Options.NoSync,
//     fsynced; concurrent calls share fsyncs (group commit). Sync flushes
//     only when Options.NoSync is set.
//   - Atomic: a Put or Delete is one transaction. A batch (the last write
//     of each key wins) is applied in as few transactions as badger's
//     transaction limit allows (about 15% of Options.MemTableSize each);
//     go-datastore does not promise that a batch is atomic, and a batch
//     larger than one transaction is not: a crash may leave part of it.
//   - Queries page through the key range in key order: each page (256
//     entries or 4 MiB of values) is read from one snapshot, so a query
//     sees each key at most once but may see writes made while it runs. A
//     query holds no badger resources between pages, so an unclosed query
//     never blocks Store.Close; its next page then fails with ErrClosed.
//   - Close does nothing: the Datastore is a view of the store, which the
//     store's owner closes. After Store.Close every read and write fails
//     with an error wrapping ErrClosed.
//
// Its methods are safe for concurrent use. Keys are at most
// MaxDatastoreKeySize bytes (else ErrInvalidArgument). A value must fit in
// one badger transaction and, in a store opened with OpenInMemory, be
// below 1 MiB; a larger one is refused with ErrTooLarge. On disk, values of
// 64 KiB and more go to badger's value log.
type Datastore struct {
	s *Store
}

var _ ds.Batching = (*Datastore)(nil)

// Datastore returns the go-datastore adapter over s. Every call returns a
// view of the same key range.
func (s *Store) Datastore() *Datastore { return &Datastore{s: s} }

func dsKey(k ds.Key) []byte {
	ks := k.String()
	b := make([]byte, 0, 1+len(ks))
	return append(append(b, prefixDatastore), ks...)
}

// shortKey returns key for error messages, cut to 80 bytes.
func shortKey(key ds.Key) string {
	if k := key.String(); len(k) > 80 {
		return k[:80] + "…"
	}
	return key.String()
}

// dsNotFound maps a missing key to go-datastore's ErrNotFound.
func dsNotFound(err error) error {
	if errors.Is(err, badger.ErrKeyNotFound) {
		return ds.ErrNotFound
	}
	return err
}

// payloadSize returns the size of the caller's value inside envelope v
// without checking its CRC (Has and size queries do not read values).
func payloadSize(v []byte) (int, error) {
	if len(v) < envelopeOverhead || v[0] != kindUser {
		return 0, fmt.Errorf("%w: datastore value of %d bytes", ErrCorrupt, len(v))
	}
	return len(v) - envelopeOverhead, nil
}

// Get returns the value of key, or an error wrapping ds.ErrNotFound.
func (d *Datastore) Get(ctx context.Context, key ds.Key) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var v []byte
	err := d.s.view(func(txn *badger.Txn) error {
		item, err := txn.Get(dsKey(key))
		if err != nil {
			return dsNotFound(err)
		}
		return item.Value(func(b []byte) (err error) { v, err = decodeUser(b); return })
	})
	if err != nil {
		if errors.Is(err, ds.ErrNotFound) {
			return nil, ds.ErrNotFound
		}
		return nil, fmt.Errorf("store: datastore get %s: %w", shortKey(key), err)
	}
	return v, nil
}

// Has reports whether key has a value.
func (d *Datastore) Has(ctx context.Context, key ds.Key) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	err := d.s.view(func(txn *badger.Txn) error {
		_, err := txn.Get(dsKey(key))
		return dsNotFound(err)
	})
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, ds.ErrNotFound):
		return false, nil
	default:
		return false, fmt.Errorf("store: datastore has %s: %w", shortKey(key), err)
	}
}

// GetSize returns the size in bytes of key's value, or -1 and an error
// wrapping ds.ErrNotFound.
func (d *Datastore) GetSize(ctx context.Context, key ds.Key) (int, error) {
	if err := ctx.Err(); err != nil {
		return -1, err
	}
	n := -1
	err := d.s.view(func(txn *badger.Txn) error {
		item, err := txn.Get(dsKey(key))
		if err != nil {
			return dsNotFound(err)
		}
		return item.Value(func(b []byte) (err error) { n, err = payloadSize(b); return })
	})
	if err != nil {
		if errors.Is(err, ds.ErrNotFound) {
			return -1, ds.ErrNotFound
		}
		return -1, fmt.Errorf("store: datastore size %s: %w", shortKey(key), err)
	}
	return n, nil
}

// dsOp is one write of a batch: a value to set, or a deletion (del).
type dsOp struct {
	key []byte
	val []byte // envelope
	del bool
}

// newOp checks key and value against the limits and encodes the write.
func (s *Store) newOp(key ds.Key, value []byte, del bool) (dsOp, error) {
	k := dsKey(key)
	if len(k)-1 > MaxDatastoreKeySize {
		return dsOp{}, fmt.Errorf("%w: datastore key of %d bytes, at most %d", ErrInvalidArgument, len(k)-1, MaxDatastoreKeySize)
	}
	if del {
		return dsOp{key: k, del: true}, nil
	}
	limit := s.db.Opts().ValueLogFileSize
	if s.dir == "" {
		limit = maxInMemoryValue
	}
	if int64(len(value))+envelopeOverhead > limit {
		return dsOp{}, fmt.Errorf("%w: datastore value of %d bytes, at most %d", ErrTooLarge, len(value), limit-envelopeOverhead)
	}
	return dsOp{key: k, val: encodeUser(value)}, nil
}

// Put sets the value of key.
func (d *Datastore) Put(ctx context.Context, key ds.Key, value []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	op, err := d.s.newOp(key, value, false)
	if err == nil {
		err = d.s.commitBlind([]dsOp{op})
	}
	if err != nil {
		return fmt.Errorf("store: datastore put %s: %w", shortKey(key), err)
	}
	return nil
}

// Delete removes key; removing a missing key is not an error.
func (d *Datastore) Delete(ctx context.Context, key ds.Key) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	op, err := d.s.newOp(key, nil, true)
	if err == nil {
		err = d.s.commitBlind([]dsOp{op})
	}
	if err != nil {
		return fmt.Errorf("store: datastore delete %s: %w", shortKey(key), err)
	}
	return nil
}

// Sync makes every Put and Delete that returned before it durable. Each of
// them already is unless the store was opened with Options.NoSync; then
// Sync flushes badger's logs.
func (d *Datastore) Sync(ctx context.Context, _ ds.Key) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := d.s.enter(); err != nil {
		return err
	}
	defer d.s.exit()
	if d.s.dir == "" || d.s.db.Opts().SyncWrites {
		return nil
	}
	if err := d.s.db.Sync(); err != nil {
		return fmt.Errorf("store: datastore sync: %w", err)
	}
	return nil
}

// Close does nothing: the store's owner closes the store.
func (d *Datastore) Close() error { return nil }

// Batch returns a batch of writes applied by its Commit. A batch is safe
// for concurrent use; the last write of a key wins.
func (d *Datastore) Batch(ctx context.Context) (ds.Batch, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return &dsBatch{s: d.s, ops: map[string]dsOp{}}, nil
}

type dsBatch struct {
	s   *Store
	mu  sync.Mutex
	ops map[string]dsOp // by badger key
}

func (b *dsBatch) Put(ctx context.Context, key ds.Key, value []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	op, err := b.s.newOp(key, value, false) // encoded now: the caller may reuse value
	if err != nil {
		return fmt.Errorf("store: datastore batch put %s: %w", shortKey(key), err)
	}
	b.mu.Lock()
	b.ops[string(op.key)] = op
	b.mu.Unlock()
	return nil
}

func (b *dsBatch) Delete(ctx context.Context, key ds.Key) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	op, err := b.s.newOp(key, nil, true)
	if err != nil {
		return fmt.Errorf("store: datastore batch delete %s: %w", shortKey(key), err)
	}
	b.mu.Lock()
	b.ops[string(op.key)] = op
	b.mu.Unlock()
	return nil
}

// Commit applies the batch's writes and empties it.
func (b *dsBatch) Commit(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b.mu.Lock()
	ops := make([]dsOp, 0, len(b.ops))
	for _, op := range b.ops {
		ops = append(ops, op)
	}
	b.ops = map[string]dsOp{}
	b.mu.Unlock()
	if len(ops) == 0 {
		return nil
	}
	if err := b.s.commitBlind(ops); err != nil {
		return fmt.Errorf("store: datastore batch of %d writes: %w", len(ops), err)
	}
	return nil
}

// commitBlind writes ops, which read nothing, in as few transactions as
// badger's transaction limit allows, and returns once all are committed.
// The transactions are filled before the writer lock is taken and handed
// to badger in order under it; the wait for their fsync happens outside
// it, so concurrent writers share fsyncs (as Enqueue does).
func (s *Store) commitBlind(ops []dsOp) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.exit()
	var txns []*badger.Txn
	defer func() {
		for _, t := range txns {
			t.Discard()
		}
	}()
	txn := s.db.NewTransaction(true)
	txns = append(txns, txn)
	inTxn := 0 // ops in txn
	for i := 0; i < len(ops); {
		op := ops[i]
		var err error
		if op.del {
			err = txn.Delete(op.key)
		} else {
			err = txn.Set(op.key, op.val)
		}
		switch {
		case err == nil:
			i++
			inTxn++
		case errors.Is(err, badger.ErrTxnTooBig) && inTxn > 0:
			txn = s.db.NewTransaction(true) // op i goes into the next one
			txns = append(txns, txn)
			inTxn = 0
		default:
			return txnErr(err)
		}
	}

	s.wmu.Lock()
	if s.failed != nil {
		s.wmu.Unlock()
		return fmt.Errorf("%w: %w", ErrFailed, s.failed)
	}
	done := make(chan error, len(txns))
	for _, t := range txns {
		t.CommitWith(func(err error) { done <- err })
	}
	s.wmu.Unlock()
	var first error
	for range txns {
		if err := <-done; err != nil && first == nil {
			first = err
		}
	}
	txns = txns[:0] // committed: nothing to discard
	if first != nil {
		s.wmu.Lock()
		if s.failed == nil {
			s.failed = first
		}
		s.wmu.Unlock()
		return fmt.Errorf("store: commit: %w", first)
	}
	return nil
}

// Query returns the entries the query selects. Prefix, key order and
// offset and limit under key order are applied while paging through badger;
// filters are applied to each entry; other orders collect the selected
// entries and sort them (go-datastore's NaiveQueryApply). With KeysOnly,
// Size is set only if ReturnsSizes is (otherwise -1). There are no TTLs:
// Expiration is always the zero time.
func (d *Datastore) Query(ctx context.Context, q dsq.Query) (dsq.Results, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	prefix := []byte{prefixDatastore}
	if q.Prefix != "" {
		// As NaiveQueryApply: "/foo" selects the strict children "/foo/…".
		p := q.Prefix
		if p[0] != '/' {
			p = "/" + p
		}
		if p = path.Clean(p); p != "/" {
			prefix = append(append(prefix, p...), '/')
		}
	}
	native := len(q.Orders) == 0 || (len(q.Orders) == 1 && isOrderByKey(q.Orders[0]))
	it := &dsIter{
		s:        d.s,
		ctx:      ctx,
		prefix:   prefix,
		next:     prefix,
		keysOnly: q.KeysOnly,
		sizes:    q.ReturnsSizes || !q.KeysOnly,
		filters:  q.Filters,
	}
	if native {
		it.offset, it.limit = q.Offset, q.Limit
		return dsq.ResultsFromIterator(q, dsq.Iterator{Next: it.Next, Close: it.Close}), nil
	}
	// Sort the filtered entries, then apply offset and limit.
	rest := dsq.Query{Orders: q.Orders, Offset: q.Offset, Limit: q.Limit, KeysOnly: q.KeysOnly}
	inner := dsq.ResultsFromIterator(rest, dsq.Iterator{Next: it.Next, Close: it.Close})
	return dsq.ResultsReplaceQuery(dsq.NaiveQueryApply(rest, inner), q), nil
}

func isOrderByKey(o dsq.Order) bool {
	switch o.(type) {
	case dsq.OrderByKey, *dsq.OrderByKey:
		return true
	}
	return false
}

// dsIter pages through a key range. Not safe for concurrent use (nor are
// go-datastore's Results).
type dsIter struct {
	s        *Store
	ctx      context.Context
	prefix   []byte // badger key prefix of the range
	next     []byte // first badger key of the next page
	keysOnly bool
	sizes    bool // fill Entry.Size
	filters  []dsq.Filter
	offset   int // entries still to skip
	limit    int // entries still to return; 0: no limit
	limited  bool

	page   []dsq.Entry
	ended  bool // no more pages
	failed bool // an error was returned; nothing follows it
}

// Next returns the next entry, an error result (after which nothing
// follows), or false at the end.
func (it *dsIter) Next() (dsq.Result, bool) {
	for {
		if it.failed || (it.limited && it.limit == 0) {
			return dsq.Result{}, false
		}
		if len(it.page) == 0 {
			if it.ended {
				return dsq.Result{}, false
			}
			if err := it.fill(); err != nil {
				it.failed = true
				return dsq.Result{Error: err}, true
			}
			continue
		}
		e := it.page[0]
		it.page[0] = dsq.Entry{}
		it.page = it.page[1:]
		if !it.pass(e) {
			continue
		}
		if it.offset > 0 {
			it.offset--
			continue
		}
		if it.limit > 0 {
			it.limited = true
			it.limit--
		}
		return dsq.Result{Entry: e}, true
	}
}

func (it *dsIter) pass(e dsq.Entry) bool {
	for _, f := range it.filters {
		if !f.Filter(e) {
			return false
		}
	}
	return true
}

// Close ends the iteration; it holds nothing to release.
func (it *dsIter) Close() error {
	it.ended, it.page = true, nil
	return nil
}

// fill reads the next page from one snapshot.
func (it *dsIter) fill() error {
	if err := it.ctx.Err(); err != nil {
		return err
	}
	var bytesRead int
	it.ended = true
	err := it.s.view(func(txn *badger.Txn) error {
		iter := txn.NewIterator(badger.IteratorOptions{
			Prefix:         it.prefix,
			PrefetchValues: !it.keysOnly,
			PrefetchSize:   16,
		})
		defer iter.Close()
		for iter.Seek(it.next); iter.Valid(); iter.Next() {
			item := iter.Item()
			if len(it.page) >= queryPageEntries || bytesRead >= queryPageBytes {
				// Resume at this key: the smallest key after the last one read.
				it.ended = false
				return nil
			}
			k := item.Key()
			e := dsq.Entry{Key: string(k[1:]), Size: -1}
			var err error
			switch {
			case !it.keysOnly:
				err = item.Value(func(b []byte) (err error) { e.Value, err = decodeUser(b); return })
				e.Size = len(e.Value)
			case it.sizes:
				err = item.Value(func(b []byte) (err error) { e.Size, err = payloadSize(b); return })
			}
			if err != nil {
				return fmt.Errorf("key %q: %w", e.Key, err)
			}
			bytesRead += len(e.Value)
			it.page = append(it.page, e)
			it.next = append(bytes.Clone(k), 0)
		}
		return nil
	})
	if err != nil {
		it.ended = true
		return fmt.Errorf("store: datastore query: %w", err)
	}
	return nil
}
