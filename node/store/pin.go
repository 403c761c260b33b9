package store

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/tessera-da/tessera/blob/dataset"
	"github.com/tessera-da/tessera/share"
)

// PinKind says what a pin is for.
type PinKind uint8

// Pin kinds.
const (
	PinNamespace PinKind = 1 // keep every height holding a blob of Namespace
	PinDataset   PinKind = 2 // keep a dataset (ID); Namespace, if set, is the dataset's namespace and is kept too
)

// String returns the kind's name.
func (k PinKind) String() string {
	switch k {
	case PinNamespace:
		return "namespace"
	case PinDataset:
		return "dataset"
	}
	return fmt.Sprintf("PinKind(%d)", uint8(k))
}

// Pin retains data past pruning. Prune keeps the ODS and blob indexes of
// every height holding a blob whose namespace is the Namespace of some pin,
// of either kind.
type Pin struct {
	Kind      PinKind
	Namespace [NamespaceSize]byte
	ID        string // unique name of the pin, 1 to MaxPinIDSize bytes
	Created   time.Time
}

func (p *Pin) validate() error {
	switch {
	case p.Kind != PinNamespace && p.Kind != PinDataset:
		return fmt.Errorf("pin %q: unknown kind %d", p.ID, p.Kind)
	case len(p.ID) == 0 || len(p.ID) > MaxPinIDSize:
		return fmt.Errorf("pin ID of %d bytes, want 1 to %d", len(p.ID), MaxPinIDSize)
	}
	return nil
}

// AddPin stores p, replacing the pin with the same ID if there is one.
func (s *Store) AddPin(p Pin) error {
	if err := p.validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidArgument, err)
	}
	p.Created = decodeTime(encodeTime(p.Created)) // the stored form
	return s.write(func(txn *badger.Txn) error {
		return txn.Set(pinKey(p.ID), encodePin(&p))
	}, func() {
		s.mu.Lock()
		s.pins[p.ID] = p
		s.mu.Unlock()
	})
}

// RemovePin deletes the pin named id; ErrNotFound if there is none. The
// data it kept is removed by the next Prune.
func (s *Store) RemovePin(id string) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.exit()
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if _, ok := s.pins[id]; !ok {
		return fmt.Errorf("store: pin %q: %w", id, ErrNotFound)
	}
	return s.writeLocked(func(txn *badger.Txn) error {
		return txn.Delete(pinKey(id))
	}, func() {
		s.mu.Lock()
		delete(s.pins, id)
		s.mu.Unlock()
	})
}

// Pins returns the pins sorted by ID.
func (s *Store) Pins() []Pin {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return slices.SortedFunc(maps.Values(s.pins), func(a, b Pin) int { return strings.Compare(a.ID, b.ID) })
}

// pruneBatch is the number of heights Prune examines per hold of the
// writer lock, so that blocks and submissions are not held up for long.
const pruneBatch = 256

// KeptForever reports whether blobs of namespace ns are never pruned: ns is
// a version-0 namespace whose sub-ID starts with the kind byte of dataset
// manifests or checkpoint manifests (dataset.KindOf). Manifests are small
// and name every page of their object, so Prune keeps the heights holding
// them, pinned or not. The cost is the whole height: its ODS and indexes
// stay, since the manifest's commitment proof needs the square.
func KeptForever(ns [NamespaceSize]byte) bool {
	n, err := share.NewNamespaceFromBytes(ns[:])
	if err != nil {
		return false
	}
	k, ok := dataset.KindOf(n)
	return ok && (k == dataset.DatasetManifest || k == dataset.CheckpointManifest)
}

// Prune deletes the ODS, blob list, namespace index and commitment index
// entries of every height below before, except heights holding a blob of a
// pinned namespace (see Pin) or a manifest (KeptForever), and returns how
// many heights it pruned.
// Headers, receipts and the head are kept. Each height goes in one
// transaction with the count of stored heights, so a crash leaves every height either
// whole or pruned; a height with more index entries than a transaction
// holds loses its index entries first and its ODS and blob list last.
// Badger reclaims the value-log space later; see CollectGarbage.
func (s *Store) Prune(before uint64) (pruned int, err error) {
	if err := s.enter(); err != nil {
		return 0, err
	}
	defer s.exit()
	for cursor := uint64(1); cursor < before; {
		n, next, perr := s.pruneFrom(cursor, before)
		pruned += n
		if perr != nil {
			err = fmt.Errorf("store: prune below %d: %w", before, perr)
			break
		}
		if next == 0 {
			break
		}
		cursor = next
	}
	if pruned > 0 { // also after an error: earlier batches are committed
		// Under the writer lock, so that a block stored meanwhile is seen
		// (PutBlock sets the tail of a store without ODS).
		s.wmu.Lock()
		defer s.wmu.Unlock()
		var tail uint64
		if terr := s.db.View(func(txn *badger.Txn) (err error) { tail, err = findTail(txn); return }); terr != nil {
			return pruned, errors.Join(err, fmt.Errorf("store: prune: tail: %w", terr))
		}
		s.mu.Lock()
		s.tail = tail
		s.mu.Unlock()
	}
	return pruned, err
}

// pruneFrom prunes up to pruneBatch stored heights in [cursor, before) and
// returns how many it pruned and the height to continue from (0: done).
func (s *Store) pruneFrom(cursor, before uint64) (pruned int, next uint64, err error) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.failed != nil {
		return 0, 0, fmt.Errorf("%w: %w", ErrFailed, s.failed)
	}

	// List the heights and their ODS chunk keys first: an iterator in the
	// write transaction below would sort all its pending deletions.
	var heights []uint64
	chunks := map[uint64][][]byte{}
	err = s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{prefixODS}})
		defer it.Close()
		for it.Seek(odsKey(cursor, 0)); it.Valid(); it.Next() {
			h, _, err := parseODSKey(it.Item().Key())
			if err != nil {
				return err
			}
			if h >= before {
				break
			}
			if len(heights) == 0 || heights[len(heights)-1] != h {
				if len(heights) == pruneBatch {
					break
				}
				heights = append(heights, h)
			}
			chunks[h] = append(chunks[h], it.Item().KeyCopy(nil))
		}
		return nil
	})
	if err != nil || len(heights) == 0 {
		return 0, 0, err
	}
	if len(heights) == pruneBatch {
		next = heights[len(heights)-1] + 1
	}
	pinned := make(map[[NamespaceSize]byte]bool, len(s.pins))
	for _, p := range s.pins {
		pinned[p.Namespace] = true
	}

	b := s.newBatch()
	defer func() { b.txn.Discard() }()
	for _, h := range heights {
		list, err := getBlobs(b.txn, h)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return b.committed, 0, fmt.Errorf("height %d: blobs: %w", h, err)
		}
		if slices.ContainsFunc(list, func(e BlobIndex) bool { return pinned[e.Namespace] || KeptForever(e.Namespace) }) {
			continue
		}
		var index, final [][]byte
		seen := map[[NamespaceSize]byte]bool{}
		for i, e := range list {
			if !seen[e.Namespace] {
				seen[e.Namespace] = true
				index = append(index, namespaceKey(e.Namespace, h))
			}
			index = append(index, commitmentKey(e.Commitment, h, uint32(i)))
		}
		final = append(chunks[h], blobsKey(h))

		if !b.fits(index, final) {
			if err := b.flush(); err != nil {
				return b.committed, 0, err
			}
		}
		// Only a height with more index entries than a transaction holds
		// overflows an empty batch: commit its index entries in parts.
		for _, k := range index {
			if !b.fits([][]byte{k}, final) {
				if err := b.flush(); err != nil {
					return b.committed, 0, err
				}
			}
			if err := b.delete(k); err != nil {
				return b.committed, 0, err
			}
		}
		for _, k := range final {
			if err := b.delete(k); err != nil {
				return b.committed, 0, err
			}
		}
		if b.st.heights == 0 {
			return b.committed, 0, fmt.Errorf("%w: height counter below a stored height", ErrCorrupt)
		}
		b.st.heights--
		b.pending++
	}
	if err := b.flush(); err != nil {
		return b.committed, 0, err
	}
	return b.committed, next, nil
}

// batch is a sequence of write transactions under the writer lock that
// commits whenever the next height's deletions would not fit.
type batch struct {
	s         *Store
	txn       *badger.Txn
	st        state
	count     int64 // entries in txn, as badger counts them
	size      int64 // bytes in txn, as badger estimates them
	maxCount  int64
	maxSize   int64
	pending   int // heights pruned in txn
	committed int // heights pruned and committed
}

func (s *Store) newBatch() *batch {
	return &batch{
		s:   s,
		txn: s.db.NewTransaction(true),
		st:  s.st,
		// Leave room for the state record badger counts on commit.
		maxCount: s.db.MaxBatchCount() - 8,
		maxSize:  s.db.MaxBatchSize() - 1024,
	}
}

// deleteCost is badger's size estimate of deleting key (txn.checkSize).
func deleteCost(key []byte) int64 { return int64(len(key)) + 2 + 10 }

// fits reports whether the deletions of a and b fit in the current
// transaction.
func (b *batch) fits(a, c [][]byte) bool {
	count, size := b.count, b.size
	for _, keys := range [2][][]byte{a, c} {
		for _, k := range keys {
			count++
			size += deleteCost(k)
		}
	}
	return count < b.maxCount && size < b.maxSize
}

func (b *batch) delete(key []byte) error {
	if err := b.txn.Delete(key); err != nil {
		return txnErr(err)
	}
	b.count++
	b.size += deleteCost(key)
	return nil
}

// flush commits the current transaction with the state record and starts
// another.
func (b *batch) flush() error {
	if b.count == 0 {
		return nil
	}
	if err := setState(b.txn, b.st); err != nil {
		return txnErr(err)
	}
	if err := b.txn.Commit(); err != nil {
		b.s.failed = err
		return fmt.Errorf("store: commit: %w", err)
	}
	b.s.mu.Lock()
	b.s.st = b.st
	b.s.mu.Unlock()
	b.committed += b.pending
	b.pending, b.count, b.size = 0, 0, 0
	b.txn = b.s.db.NewTransaction(true)
	return nil
}
