package store

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/tessera-da/tessera/node/header"
	"github.com/tessera-da/tessera/share"
)

// Sizes and limits.
const (
	ShareSize      = share.ShareSize     // bytes
	NamespaceSize  = share.NamespaceSize // bytes
	CommitmentSize = 32                  // bytes
	HashSize       = header.HashSize     // bytes

	// ChunkShares is the number of ODS shares stored under one key; ODS
	// reads of a share range touch only the chunks that hold it.
	ChunkShares = 512 // shares (256 KiB)

	MaxHeaderRange      = 1024   // headers per HeaderRange call
	MaxNamespaceHeights = 10_000 // heights per NamespaceHeights call
	MaxSignerSize       = 255    // bytes
	MaxReasonSize       = 4096   // bytes of a Drop reason
	MaxPinIDSize        = 255    // bytes
	MaxMetaKeySize      = 1024   // bytes
	MaxBucketSize       = 255    // bytes of a record bucket name
	MaxRecordKeySize    = 1024   // bytes

	// DefaultMemTableSize is badger's memtable size (bytes). A single
	// transaction may hold about 15% of it (badger's limit), so it bounds the
	// largest block PutBlock accepts: the default admits a k=128 square of
	// 16,384 one-share blobs, each its own submission.
	DefaultMemTableSize = 64 << 20

	maxODSShares = header.MaxSquareWidth * header.MaxSquareWidth // shares
	// valueThreshold is the value size (bytes) from which badger keeps a
	// value in its value log instead of the LSM tree: ODS chunks and large
	// submissions go there, so compaction never rewrites them.
	valueThreshold  = 64 << 10
	minMemTableSize = 16 << 20 // bytes
)

// Sentinel errors. Every error this package returns for one of these causes
// wraps the sentinel with context; test with errors.Is.
var (
	// ErrNotFound: no such height, hash, commitment, submission, pin or key.
	ErrNotFound = errors.New("store: not found")
	// ErrPruned wraps ErrNotFound: the height is at or below the head but
	// its ODS and blob indexes were pruned (its header is kept).
	ErrPruned = fmt.Errorf("%w: pruned", ErrNotFound)
	// ErrCorrupt: a value read from disk failed its checksum or its layout.
	ErrCorrupt = errors.New("store: corrupt value")
	// ErrNotChained: the block does not extend the stored head.
	ErrNotChained = errors.New("store: block does not extend the head")
	// ErrInvalidBlock: the block is inconsistent (sizes, blob entries,
	// submissions it claims to include).
	ErrInvalidBlock = errors.New("store: invalid block")
	// ErrInvalidArgument: an argument is out of its documented range.
	ErrInvalidArgument = errors.New("store: invalid argument")
	// ErrTooLarge: a write does not fit in one badger transaction (see
	// Options.MemTableSize).
	ErrTooLarge = errors.New("store: write too large for one transaction")
	// ErrClosed: the store is closed.
	ErrClosed = errors.New("store: closed")
	// ErrFailed: an earlier commit failed, so the in-memory view may differ
	// from disk; the store refuses further writes until it is reopened.
	ErrFailed = errors.New("store: an earlier write failed; reopen the store")
	// ErrIncompatible: the directory holds a store of another schema.
	ErrIncompatible = errors.New("store: incompatible schema version")
)

// Options configure a Store. The zero value is the safe default.
type Options struct {
	// Logger receives badger's log lines (its info lines at Debug level).
	// Nil: badger logs nothing.
	Logger *slog.Logger
	// NoSync turns off the fsync of every commit. Then a write survives the
	// process being killed (it is in the page cache) but not a power loss
	// or an OS crash. For tests and benchmarks only.
	NoSync bool
	// MemTableSize is badger's memtable size in bytes; 0 means
	// DefaultMemTableSize. Badger keeps up to 5 memtables in memory.
	MemTableSize int64
	// Clock stamps enqueued submissions; nil means time.Now.
	Clock func() time.Time
}

// DefaultOptions returns the default options: badger silent, every commit
// fsynced.
func DefaultOptions() Options { return Options{} }

// Validate reports an option out of range.
func (o Options) Validate() error {
	if o.MemTableSize != 0 && o.MemTableSize < minMemTableSize {
		return fmt.Errorf("%w: MemTableSize %d bytes, at least %d", ErrInvalidArgument, o.MemTableSize, minMemTableSize)
	}
	return nil
}

// Store is Tessera's typed store over one badger instance. Its methods are
// safe for concurrent use. Writes are serialised; reads run concurrently
// with them and see each write entirely or not at all.
type Store struct {
	db    *badger.DB
	dir   string // "" in memory
	clock func() time.Time

	// life guards Close against operations in flight.
	life     sync.Mutex
	lifeCond *sync.Cond
	inFlight int
	closed   bool

	// wmu serialises writers: every write transaction is built and handed
	// to badger under it (and, except for Enqueue's group commit, committed
	// under it), so writes never conflict and the in-memory view below is
	// updated in commit order.
	wmu    sync.Mutex
	failed error // set under wmu when a commit failed

	// mu guards the in-memory view of committed state.
	mu   sync.RWMutex
	st   state
	head *header.Header // nil when empty
	tail uint64
	pins map[string]Pin
}

// Open opens (creating if needed) the store in dir.
func Open(dir string, opts Options) (*Store, error) {
	if dir == "" {
		return nil, fmt.Errorf("%w: empty directory", ErrInvalidArgument)
	}
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	bo := badger.DefaultOptions(dir).
		WithSyncWrites(!opts.NoSync).
		WithValueThreshold(valueThreshold)
	return open(bo, dir, opts)
}

// OpenInMemory opens an empty store held in memory, for tests. Nothing
// survives Close.
func OpenInMemory() (*Store, error) {
	bo := badger.DefaultOptions("").WithInMemory(true).WithBlockCacheSize(8 << 20)
	return open(bo, "", Options{MemTableSize: minMemTableSize})
}

func open(bo badger.Options, dir string, opts Options) (*Store, error) {
	mt := opts.MemTableSize
	if mt == 0 {
		mt = DefaultMemTableSize
	}
	bo = bo.WithMemTableSize(mt).WithLogger(nil)
	if opts.Logger != nil {
		bo = bo.WithLogger(slogAdapter{opts.Logger})
	}
	db, err := badger.Open(bo)
	if err != nil {
		return nil, fmt.Errorf("store: open %q: %w", dir, err)
	}
	s := &Store{db: db, dir: dir, clock: opts.Clock, pins: map[string]Pin{}}
	if s.clock == nil {
		s.clock = time.Now
	}
	s.lifeCond = sync.NewCond(&s.life)
	if err := s.load(); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// load initialises a new store or reads the in-memory view of an existing one.
func (s *Store) load() error {
	err := s.db.Update(func(txn *badger.Txn) error {
		item, err := txn.Get(keyVersion)
		if errors.Is(err, badger.ErrKeyNotFound) {
			if err := txn.Set(keyVersion, encodeVersion(schemaVersion)); err != nil {
				return err
			}
			return txn.Set(keyState, encodeState(state{nextID: 1}))
		}
		if err != nil {
			return err
		}
		var v uint32
		if err := item.Value(func(b []byte) (err error) { v, err = decodeVersion(b); return }); err != nil {
			return fmt.Errorf("schema version: %w", err)
		}
		if v != schemaVersion {
			return fmt.Errorf("%w: %d, this build reads %d", ErrIncompatible, v, schemaVersion)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	return s.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(keyState)
		if err != nil {
			return fmt.Errorf("store: state: %w", notFound(err))
		}
		if err := item.Value(func(b []byte) (err error) { s.st, err = decodeState(b); return }); err != nil {
			return fmt.Errorf("store: %w", err)
		}
		if s.st.head > 0 {
			if s.head, err = getHeader(txn, s.st.head); err != nil {
				return fmt.Errorf("store: head: %w", err)
			}
		}
		if s.tail, err = findTail(txn); err != nil {
			return err
		}
		if err := countQueue(txn, &s.st); err != nil {
			return fmt.Errorf("store: queue: %w", err)
		}
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{prefixPin}, PrefetchValues: true, PrefetchSize: 100})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			id := string(it.Item().Key()[1:])
			var p Pin
			if err := it.Item().Value(func(b []byte) (err error) { p, err = decodePin(id, b); return }); err != nil {
				return fmt.Errorf("store: pin %q: %w", id, err)
			}
			s.pins[id] = p
		}
		return nil
	})
}

// countQueue counts the queue's length and bytes from its keys.
func countQueue(txn *badger.Txn, st *state) error {
	it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{prefixQueue}})
	defer it.Close()
	for it.Rewind(); it.Valid(); it.Next() {
		id, size, err := parseQueueKey(it.Item().Key())
		if err != nil {
			return err
		}
		if id >= st.nextID || st.queueBytes > math.MaxInt64-size {
			return fmt.Errorf("%w: queued submission %d of %d bytes (next ID %d, %d bytes before it)", ErrCorrupt, id, size, st.nextID, st.queueBytes)
		}
		st.queueLen++
		st.queueBytes += size
	}
	return nil
}

// Close closes the store after the operations in flight finish. Calls
// after Close return ErrClosed. Close is idempotent.
func (s *Store) Close() error {
	s.life.Lock()
	if s.closed {
		s.life.Unlock()
		return nil
	}
	s.closed = true
	for s.inFlight > 0 {
		s.lifeCond.Wait()
	}
	s.life.Unlock()
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("store: close: %w", err)
	}
	return nil
}

// enter registers an operation; it fails once Close has begun, so an
// operation started from inside another (a ScanRecords callback) never
// blocks Close.
func (s *Store) enter() error {
	s.life.Lock()
	defer s.life.Unlock()
	if s.closed {
		return ErrClosed
	}
	s.inFlight++
	return nil
}

func (s *Store) exit() {
	s.life.Lock()
	s.inFlight--
	if s.inFlight == 0 {
		s.lifeCond.Broadcast()
	}
	s.life.Unlock()
}

// view runs fn in a read-only transaction.
func (s *Store) view(fn func(txn *badger.Txn) error) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.exit()
	return s.db.View(fn)
}

// write runs fn in a read-write transaction under the writer lock and
// commits it; after a successful commit it runs done (still under the
// writer lock) to update the in-memory view. Nothing is written when fn
// fails.
func (s *Store) write(fn func(txn *badger.Txn) error, done func()) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.exit()
	s.wmu.Lock()
	defer s.wmu.Unlock()
	return s.writeLocked(fn, done)
}

func (s *Store) writeLocked(fn func(txn *badger.Txn) error, done func()) error {
	if s.failed != nil {
		return fmt.Errorf("%w: %w", ErrFailed, s.failed)
	}
	txn := s.db.NewTransaction(true)
	defer txn.Discard()
	if err := fn(txn); err != nil {
		return txnErr(err)
	}
	if err := txn.Commit(); err != nil {
		s.failed = err
		return fmt.Errorf("store: commit: %w", err)
	}
	if done != nil {
		done()
	}
	return nil
}

// txnErr maps badger's transaction-size error to ErrTooLarge.
func txnErr(err error) error {
	if errors.Is(err, badger.ErrTxnTooBig) {
		return fmt.Errorf("%w: %w", ErrTooLarge, err)
	}
	return err
}

// notFound maps badger's missing key to ErrNotFound.
func notFound(err error) error {
	if errors.Is(err, badger.ErrKeyNotFound) {
		return ErrNotFound
	}
	return err
}

// setState writes st under the state key in txn.
func setState(txn *badger.Txn, st state) error { return txn.Set(keyState, encodeState(st)) }

// snapshot returns the committed state.
func (s *Store) snapshot() state {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.st
}

// getValue reads key in txn and decodes it with dec.
func getValue(txn *badger.Txn, key []byte, dec func([]byte) error) error {
	item, err := txn.Get(key)
	if err != nil {
		return notFound(err)
	}
	return item.Value(dec)
}

// findTail returns the lowest height holding an ODS, 0 if none.
func findTail(txn *badger.Txn) (uint64, error) {
	it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{prefixODS}})
	defer it.Close()
	it.Rewind()
	if !it.Valid() {
		return 0, nil
	}
	h, _, err := parseODSKey(it.Item().Key())
	return h, err
}

// Stats describe the store.
type Stats struct {
	LSMBytes   int64  // bytes allocated on disk outside the value log (SSTs, memtable logs, manifest); 0 in memory
	VlogBytes  int64  // bytes allocated on disk by value-log files; 0 in memory
	Head       uint64 // head height, 0 when empty
	Tail       uint64 // lowest height holding its ODS, 0 when none
	Heights    uint64 // heights holding their ODS
	QueueLen   int    // queued submissions
	QueueBytes int64  // sum of their Size
}

// Stats returns sizes and counters. Disk sizes are the space allocated to
// the directory's files now, read from the file system.
func (s *Store) Stats() (Stats, error) {
	if err := s.enter(); err != nil {
		return Stats{}, err
	}
	defer s.exit()
	s.mu.RLock()
	st := Stats{Head: s.st.head, Tail: s.tail, Heights: s.st.heights, QueueLen: int(s.st.queueLen), QueueBytes: int64(s.st.queueBytes)}
	s.mu.RUnlock()
	if s.dir == "" {
		return st, nil
	}
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return st, fmt.Errorf("store: stats: %w", err)
	}
	for _, e := range entries {
		info, err := e.Info()
		if err != nil || !info.Mode().IsRegular() {
			continue // removed by a compaction meanwhile, or not a file
		}
		if strings.HasSuffix(e.Name(), ".vlog") {
			st.VlogBytes += diskUsage(info)
		} else {
			st.LSMBytes += diskUsage(info)
		}
	}
	return st, nil
}

// CollectGarbage rewrites value-log files of which at least half is
// garbage (values deleted by Prune, Drop or PutBlock's queue removals),
// until none is left; badger reclaims value-log space no other way. Call it
// periodically, e.g. after Prune; it runs concurrently with other calls.
func (s *Store) CollectGarbage() error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.exit()
	if s.dir == "" {
		return nil
	}
	for {
		err := s.db.RunValueLogGC(0.5)
		switch {
		case err == nil:
			continue
		case errors.Is(err, badger.ErrNoRewrite), errors.Is(err, badger.ErrRejected):
			return nil
		default:
			return fmt.Errorf("store: value-log GC: %w", err)
		}
	}
}
