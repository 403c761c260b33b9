package store

import (
	"bytes"
	"fmt"

	"github.com/dgraph-io/badger/v4"
)

// Meta values and records are small values of later features (DAS
// checkpoints, fraud proofs, sampling results), stored in their own key
// ranges with the same checksummed envelope as everything else. Each
// Put or Delete is one transaction.

func checkMetaKey(key string) error {
	if len(key) == 0 || len(key) > MaxMetaKeySize {
		return fmt.Errorf("%w: meta key of %d bytes, want 1 to %d", ErrInvalidArgument, len(key), MaxMetaKeySize)
	}
	return nil
}

func checkRecordKey(bucket string, key []byte) error {
	if len(bucket) == 0 || len(bucket) > MaxBucketSize {
		return fmt.Errorf("%w: bucket name of %d bytes, want 1 to %d", ErrInvalidArgument, len(bucket), MaxBucketSize)
	}
	if len(key) > MaxRecordKeySize {
		return fmt.Errorf("%w: record key of %d bytes, at most %d", ErrInvalidArgument, len(key), MaxRecordKeySize)
	}
	return nil
}

// PutMeta sets the value of meta key key (1 to MaxMetaKeySize bytes).
func (s *Store) PutMeta(key string, value []byte) error {
	if err := checkMetaKey(key); err != nil {
		return err
	}
	v := encodeUser(value)
	if err := s.write(func(txn *badger.Txn) error { return txn.Set(metaKey(key), v) }, nil); err != nil {
		return fmt.Errorf("store: meta %q: %w", key, err)
	}
	return nil
}

// GetMeta returns the value of meta key key, or ErrNotFound.
func (s *Store) GetMeta(key string) ([]byte, error) {
	if err := checkMetaKey(key); err != nil {
		return nil, err
	}
	v, err := s.getUser(metaKey(key))
	if err != nil {
		return nil, fmt.Errorf("store: meta %q: %w", key, err)
	}
	return v, nil
}

// DeleteMeta deletes meta key key; deleting a missing key is not an error.
func (s *Store) DeleteMeta(key string) error {
	if err := checkMetaKey(key); err != nil {
		return err
	}
	return s.write(func(txn *badger.Txn) error { return txn.Delete(metaKey(key)) }, nil)
}

// PutRecord sets the value of key (at most MaxRecordKeySize bytes, may be
// empty) in bucket (1 to MaxBucketSize bytes).
func (s *Store) PutRecord(bucket string, key, value []byte) error {
	if err := checkRecordKey(bucket, key); err != nil {
		return err
	}
	v := encodeUser(value)
	if err := s.write(func(txn *badger.Txn) error { return txn.Set(recordKey(bucket, key), v) }, nil); err != nil {
		return fmt.Errorf("store: record %q/%x: %w", bucket, key, err)
	}
	return nil
}

// GetRecord returns the value of key in bucket, or ErrNotFound.
func (s *Store) GetRecord(bucket string, key []byte) ([]byte, error) {
	if err := checkRecordKey(bucket, key); err != nil {
		return nil, err
	}
	v, err := s.getUser(recordKey(bucket, key))
	if err != nil {
		return nil, fmt.Errorf("store: record %q/%x: %w", bucket, key, err)
	}
	return v, nil
}

// DeleteRecord deletes key from bucket; deleting a missing key is not an
// error.
func (s *Store) DeleteRecord(bucket string, key []byte) error {
	if err := checkRecordKey(bucket, key); err != nil {
		return err
	}
	return s.write(func(txn *badger.Txn) error { return txn.Delete(recordKey(bucket, key)) }, nil)
}

// ScanRecords calls fn, in key order, for every record of bucket whose key
// begins with prefix, on one consistent snapshot. fn owns the slices it
// gets. An error from fn stops the scan and is returned as is; fn must not
// write to the store (the scan would not see it) and must not call Close.
func (s *Store) ScanRecords(bucket string, prefix []byte, fn func(key, value []byte) error) error {
	if err := checkRecordKey(bucket, prefix); err != nil {
		return err
	}
	bp := recordPrefix(bucket)
	var fnErr error
	err := s.view(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: append(bytes.Clone(bp), prefix...), PrefetchValues: true, PrefetchSize: 64})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			key := bytes.Clone(it.Item().Key()[len(bp):])
			var v []byte
			if err := it.Item().Value(func(b []byte) (err error) { v, err = decodeUser(b); return }); err != nil {
				return fmt.Errorf("record %q/%x: %w", bucket, key, err)
			}
			if fnErr = fn(key, v); fnErr != nil {
				return fnErr
			}
		}
		return nil
	})
	if fnErr != nil {
		return fnErr
	}
	if err != nil {
		return fmt.Errorf("store: scan %q: %w", bucket, err)
	}
	return nil
}

func (s *Store) getUser(key []byte) (v []byte, err error) {
	err = s.view(func(txn *badger.Txn) error {
		return getValue(txn, key, func(b []byte) (err error) { v, err = decodeUser(b); return })
	})
	return v, err
}
