// Package store is the node's one badger v4 instance: a typed store of
// headers, original data squares (ODS), blob indexes, the submission queue
// and its receipts, pins, and small records of later features.
//
// # Guarantees
//
//   - Durable: every commit is fsynced (badger SyncWrites) unless
//     Options.NoSync is set, so a write acknowledged by a nil error survives
//     kill -9, an OS crash and a power loss.
//   - Atomic: each writing method is one badger transaction, handed to
//     badger under one writer lock, so readers see it entirely or not at
//     all and a crash leaves it entirely or not at all: PutBlock (header by
//     height and by hash, ODS chunks, blob list, namespace and commitment
//     index entries, removal of the included submissions from the queue and
//     their receipts, the new head); Enqueue (entry and next ID); Drop
//     (removal and failed receipt); AddPin, RemovePin, PutMeta, DeleteMeta,
//     PutRecord, DeleteRecord. Prune commits groups of heights, each height
//     whole in one transaction with the count of stored heights; only a
//     height with more index entries than a transaction holds loses its
//     namespace and commitment entries in earlier transactions and its ODS
//     and blob list in the last.
//   - Nothing half-written: a PutBlock that fails validation, chaining or
//     the transaction limit writes nothing, and neither does any method
//     that returns an error before its commit.
//   - Ordered: submission IDs start at 1, strictly increase and are never
//     reused, across restarts too (the next ID is written in each entry's transaction).
//     Pending returns the queue oldest first.
//   - Group commit: concurrent Enqueues share fsyncs. Each is handed to
//     badger's write queue under the writer lock and acknowledged only once
//     written and synced; later transactions see it before they read. If a
//     commit fails, the store refuses all further writes (ErrFailed) until
//     reopened; the queue's length and bytes are recounted from its keys on
//     every Open, so they never drift.
//   - Checked on read: every value carries its record kind and a CRC-32C.
//     Decoders check them and every length and enum, and return an error
//     wrapping ErrCorrupt; no bytes read from disk can cause a panic, and
//     no allocation exceeds the value's size or, for an ODS, the largest
//     square (FuzzDecode* and TestCorruptValues check this).
//   - Concurrent: all methods are safe for concurrent use. Reads run in
//     badger snapshots alongside writes; writes are serialised in one
//     order, which is also the order badger applies them in.
//
// # What is kept
//
// Kept forever: headers (by height and by hash), receipts of included and
// dropped submissions, pins, meta values and records, the next submission
// ID. Kept until Prune: the ODS, blob list, namespace index and commitment
// index entries of each height. Prune(before) removes those of every height
// below before except heights holding a blob in the namespace of a pin or
// in a dataset- or checkpoint-manifest namespace (KeptForever); Tail is
// then the lowest height still holding its ODS. Removing a pin
// releases its heights to the next Prune. Badger reclaims value-log space
// only when asked: call CollectGarbage periodically (after Prune).
//
// # Caller's duties
//
//   - Verify headers against the genesis (header.Header.Verify) before
//     PutBlock. PutBlock checks what it can alone: the header is well formed
//     and signed by the key it names, extends the head (height, previous
//     hash, chain ID, time), the ODS is k²·512 bytes, the blob entries lie in
//     the square without overlapping and match its namespaces and EDS
//     indexes, and every included submission is queued.
//   - Store blocks in height order from 1. (Starting above 1 from a trusted
//     header is not supported yet.)
//   - Keep blocks within one transaction: about 15% of Options.MemTableSize.
//     The default admits a k=128 square of 16,384 one-share blobs, each its
//     own submission (TestPutBlockTransactionLimit); larger blocks need a
//     larger memtable and are otherwise refused with ErrTooLarge.
//   - Close the store on shutdown; a ScanRecords callback must not call
//     Close.
//
// # Key layout
//
// One prefix byte, then fixed-width big-endian fields, so badger's key order
// is numeric order. ns is a 29-byte namespace, c a 32-byte commitment.
//
//	"V"                         → schema version (1)
//	"S"                         → state: head height, next submission ID, heights stored
//	"h" height(8)               → header (header.MarshalBinary)
//	"x" hash(32)                → height
//	"o" height(8) chunk(4)      → ODS chunk: shares [chunk·512, chunk·512+512) in compact form
//	"b" height(8)               → blob list: every BlobIndex of the height, sorted by ShareStart
//	"n" ns(29) height(8)        → (empty): the height holds a blob of ns
//	"c" c(32) height(8) pos(4)  → the BlobIndex at position pos of the height's blob list
//	"q" id(8) size(8)           → queued submission: enqueue time, signer, blobs
//	"r" id(8)                   → receipt: included (height, blobs) or failed (reason)
//	"p" pin ID                  → pin: kind, namespace, creation time
//	"M" key                     → caller's meta value
//	"R" len(bucket)(1) bucket key → caller's record (the length byte keeps buckets apart)
//	"D" datastore key           → go-datastore value (Store.Datastore, e.g. boxo blocks; key in String form)
//
// Every value is kind(1) ‖ payload ‖ CRC-32C(kind ‖ payload)(4). An ODS
// chunk's payload is a sequence of segments, each a uvarint tag t then
// either t>>1 shares verbatim (t&1 == 0) or one share repeated t>>1 times
// (t&1 == 1), so padding costs one share per run. Values of 64 KiB and more
// (ODS chunks, large submissions and blob lists) go to badger's value log,
// where compaction does not rewrite them. The rest of the extended square
// and every root are recomputed from the ODS; this package stores neither.
package store
