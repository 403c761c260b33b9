package store

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// Submission is a caller's request to publish blobs, held in the queue until
// a block includes it or it is dropped.
type Submission struct {
	Blobs  []byte // the blobs, encoded by the caller; opaque here, at least 1 byte
	Size   int    // bytes of blob data it adds to a block, at least 1; Pending budgets with it
	Signer []byte // optional, at most MaxSignerSize bytes
}

// QueuedSubmission is a submission in the queue.
type QueuedSubmission struct {
	ID       uint64    // from Enqueue
	Enqueued time.Time // when Enqueue was called (Options.Clock)
	Submission
}

// ReceiptState is where a submission stands.
type ReceiptState uint8

// Receipt states.
const (
	ReceiptUnknown  ReceiptState = iota // never issued, or not known to this store
	ReceiptPending                      // queued
	ReceiptIncluded                     // included in a block
	ReceiptFailed                       // dropped with a reason
)

// String returns the state's name.
func (r ReceiptState) String() string {
	switch r {
	case ReceiptUnknown:
		return "unknown"
	case ReceiptPending:
		return "pending"
	case ReceiptIncluded:
		return "included"
	case ReceiptFailed:
		return "failed"
	}
	return fmt.Sprintf("ReceiptState(%d)", uint8(r))
}

// BlobReceipt locates one included blob.
type BlobReceipt struct {
	Namespace  [NamespaceSize]byte
	Commitment [CommitmentSize]byte
	EDSIndex   uint32 // index of the blob's first share in the extended square
}

// Receipt tells what became of a submission. Receipts of included and
// dropped submissions are kept forever.
type Receipt struct {
	ID     uint64
	State  ReceiptState
	Height uint64        // ReceiptIncluded: the block's height
	Blobs  []BlobReceipt // ReceiptIncluded: the submission's blobs in transaction order
	Reason string        // ReceiptFailed: why it was dropped
}

// Enqueue appends s to the queue and returns its ID once it is durable.
// IDs start at 1 and strictly increase, across restarts too; an ID is never
// reused. Concurrent calls share fsyncs (group commit).
func (s *Store) Enqueue(sub Submission) (uint64, error) {
	switch {
	case len(sub.Blobs) == 0:
		return 0, fmt.Errorf("%w: submission without blobs", ErrInvalidArgument)
	case sub.Size < 1:
		return 0, fmt.Errorf("%w: submission size %d", ErrInvalidArgument, sub.Size)
	case len(sub.Signer) > MaxSignerSize:
		return 0, fmt.Errorf("%w: signer of %d bytes, at most %d", ErrInvalidArgument, len(sub.Signer), MaxSignerSize)
	}
	if err := s.enter(); err != nil {
		return 0, err
	}
	defer s.exit()
	// Encode before taking the writer lock: the value does not hold the ID.
	v := encodeQueued(&QueuedSubmission{Enqueued: s.clock(), Submission: sub})
	size := uint64(sub.Size)
	// Start the transaction before taking the writer lock: badger makes a
	// new transaction wait until every commit already handed to it is
	// written, which under the lock would undo the group commit. The
	// transaction only writes, so its read timestamp does not matter.
	txn := s.db.NewTransaction(true)
	defer txn.Discard()

	s.wmu.Lock()
	if s.failed != nil {
		s.wmu.Unlock()
		return 0, fmt.Errorf("store: enqueue: %w: %w", ErrFailed, s.failed)
	}
	st := s.st
	id := st.nextID
	if st.queueBytes > math.MaxInt64-size || id == math.MaxUint64 {
		s.wmu.Unlock()
		return 0, fmt.Errorf("%w: queue counters would overflow", ErrTooLarge)
	}
	st.nextID++
	st.queueLen++
	st.queueBytes += size
	err := txn.Set(queueKey(id, size), v)
	if err == nil {
		err = setState(txn, st)
	}
	if err != nil {
		s.wmu.Unlock()
		return 0, fmt.Errorf("store: enqueue: %w", txnErr(err))
	}
	// Group commit: hand the transaction to badger's write queue, release
	// the writer lock, and wait for the fsync outside it, so that concurrent
	// Enqueues share fsyncs. Badger writes in the order of CommitWith calls,
	// and every later transaction reads only after this one is applied. The
	// in-memory view moves on now; if the commit fails, the store refuses
	// further writes and recounts the queue from disk when reopened.
	done := make(chan error, 1)
	txn.CommitWith(func(err error) { done <- err })
	s.mu.Lock()
	s.st = st
	s.mu.Unlock()
	s.wmu.Unlock()
	if err := <-done; err != nil {
		s.wmu.Lock()
		if s.failed == nil {
			s.failed = err
		}
		s.wmu.Unlock()
		return 0, fmt.Errorf("store: enqueue: commit: %w", err)
	}
	return id, nil
}

// findQueued returns the key and Size of queued submission id.
func findQueued(txn *badger.Txn, id uint64) (key []byte, size uint64, err error) {
	it := txn.NewIterator(badger.IteratorOptions{Prefix: queueIDPrefix(id)})
	defer it.Close()
	it.Rewind()
	if !it.Valid() {
		return nil, 0, ErrNotFound
	}
	key = it.Item().KeyCopy(nil)
	if _, size, err = parseQueueKey(key); err != nil {
		return nil, 0, err
	}
	return key, size, nil
}

// Pending returns, oldest first and without removing them, the queued
// submissions that fit in limit entries and maxBytes of Size. It stops at
// the first submission that does not fit, except that the oldest is always
// returned (even when larger than maxBytes) so that an oversized submission
// can be seen and dropped instead of blocking the queue. limit and maxBytes
// must be at least 1.
func (s *Store) Pending(limit int, maxBytes int) ([]QueuedSubmission, error) {
	if limit < 1 || maxBytes < 1 {
		return nil, fmt.Errorf("%w: pending limit %d, max bytes %d", ErrInvalidArgument, limit, maxBytes)
	}
	var out []QueuedSubmission
	err := s.view(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{prefixQueue}})
		defer it.Close()
		total := 0
		for it.Rewind(); it.Valid() && len(out) < limit; it.Next() {
			id, size, err := parseQueueKey(it.Item().Key())
			if err != nil {
				return err
			}
			if len(out) > 0 && uint64(total)+size > uint64(maxBytes) {
				break
			}
			var q QueuedSubmission
			if err := it.Item().Value(func(v []byte) (err error) { q, err = decodeQueued(id, size, v); return }); err != nil {
				return fmt.Errorf("submission %d: %w", id, err)
			}
			total += q.Size
			out = append(out, q)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: pending: %w", err)
	}
	return out, nil
}

// QueueLen returns the number of queued submissions.
func (s *Store) QueueLen() int { return int(s.snapshot().queueLen) }

// QueueBytes returns the sum of the queued submissions' Size.
func (s *Store) QueueBytes() int64 { return int64(s.snapshot().queueBytes) }

// Receipt returns what became of submission id: pending, included (with
// height and blobs), failed (with the reason), or unknown.
func (s *Store) Receipt(id uint64) (Receipt, error) {
	r := Receipt{ID: id}
	err := s.view(func(txn *badger.Txn) error {
		err := getValue(txn, receiptKey(id), func(v []byte) (err error) { r, err = decodeReceipt(id, v); return })
		if !errors.Is(err, ErrNotFound) {
			return err
		}
		if _, _, err := findQueued(txn, id); err == nil {
			r.State = ReceiptPending
		} else if !errors.Is(err, ErrNotFound) {
			return err
		}
		return nil
	})
	if err != nil {
		return Receipt{}, fmt.Errorf("store: receipt %d: %w", id, err)
	}
	return r, nil
}

// Drop removes queued submission id and records a failed receipt with
// reason (1 to MaxReasonSize bytes). ErrNotFound when id is not queued.
func (s *Store) Drop(id uint64, reason string) error {
	if len(reason) == 0 || len(reason) > MaxReasonSize {
		return fmt.Errorf("%w: reason of %d bytes, want 1 to %d", ErrInvalidArgument, len(reason), MaxReasonSize)
	}
	if err := s.enter(); err != nil {
		return err
	}
	defer s.exit()
	s.wmu.Lock()
	defer s.wmu.Unlock()
	st := s.st
	err := s.writeLocked(func(txn *badger.Txn) error {
		key, size, err := findQueued(txn, id)
		if err != nil {
			return err
		}
		if err := txn.Delete(key); err != nil {
			return err
		}
		r := Receipt{ID: id, State: ReceiptFailed, Reason: reason}
		if err := txn.Set(receiptKey(id), encodeReceipt(&r)); err != nil {
			return err
		}
		if err := st.dequeue(size); err != nil {
			return err
		}
		return setState(txn, st)
	}, func() {
		s.mu.Lock()
		s.st = st
		s.mu.Unlock()
	})
	if err != nil {
		return fmt.Errorf("store: drop submission %d: %w", id, err)
	}
	return nil
}
