package store

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Key prefixes. Every key begins with one of these bytes; integers in keys
// are big-endian so that badger's byte order is numeric order. doc.go lists
// the full layout.
const (
	prefixVersion    = 'V' // "V" → schema version
	prefixState      = 'S' // "S" → head height, next submission ID, heights stored
	prefixHeader     = 'h' // h | height(8) → header
	prefixHash       = 'x' // x | header hash(32) → height
	prefixODS        = 'o' // o | height(8) | chunk(4) → compact ODS chunk
	prefixBlobs      = 'b' // b | height(8) → blob list
	prefixNamespace  = 'n' // n | namespace(29) | height(8) → (empty)
	prefixCommitment = 'c' // c | commitment(32) | height(8) | position(4) → blob entry
	prefixQueue      = 'q' // q | submission ID(8) | size(8) → queued submission
	prefixReceipt    = 'r' // r | submission ID(8) → receipt (included or failed)
	prefixPin        = 'p' // p | pin ID → pin
	prefixMeta       = 'M' // M | key → caller's value
	prefixRecord     = 'R' // R | len(bucket)(1) | bucket | key → caller's value
)

var (
	keyVersion = []byte{prefixVersion}
	keyState   = []byte{prefixState}
)

func heightKey(prefix byte, h uint64) []byte {
	k := make([]byte, 9)
	k[0] = prefix
	binary.BigEndian.PutUint64(k[1:], h)
	return k
}

func headerKey(h uint64) []byte { return heightKey(prefixHeader, h) }
func blobsKey(h uint64) []byte  { return heightKey(prefixBlobs, h) }
func odsPrefix(h uint64) []byte { return heightKey(prefixODS, h) }

func hashKey(hash [HashSize]byte) []byte {
	return append([]byte{prefixHash}, hash[:]...)
}

func odsKey(h uint64, chunk uint32) []byte {
	k := make([]byte, 13)
	k[0] = prefixODS
	binary.BigEndian.PutUint64(k[1:], h)
	binary.BigEndian.PutUint32(k[9:], chunk)
	return k
}

// parseODSKey returns the height and chunk of an ODS key.
func parseODSKey(k []byte) (height uint64, chunk uint32, err error) {
	if len(k) != 13 || k[0] != prefixODS {
		return 0, 0, fmt.Errorf("%w: ODS key %x", ErrCorrupt, k)
	}
	return binary.BigEndian.Uint64(k[1:]), binary.BigEndian.Uint32(k[9:]), nil
}

func namespacePrefix(ns [NamespaceSize]byte) []byte {
	return append([]byte{prefixNamespace}, ns[:]...)
}

func namespaceKey(ns [NamespaceSize]byte, h uint64) []byte {
	return binary.BigEndian.AppendUint64(namespacePrefix(ns), h)
}

func commitmentPrefix(c [CommitmentSize]byte) []byte {
	return append([]byte{prefixCommitment}, c[:]...)
}

func commitmentKey(c [CommitmentSize]byte, h uint64, pos uint32) []byte {
	return binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint64(commitmentPrefix(c), h), pos)
}

func receiptKey(id uint64) []byte { return heightKey(prefixReceipt, id) }

// Queue keys carry the submission's Size, so the queue's length and bytes
// are counted from keys alone when the store opens.
func queueIDPrefix(id uint64) []byte { return heightKey(prefixQueue, id) }

func queueKey(id uint64, size uint64) []byte {
	return binary.BigEndian.AppendUint64(queueIDPrefix(id), size)
}

// parseQueueKey returns the ID and Size of a queue key.
func parseQueueKey(k []byte) (id, size uint64, err error) {
	if len(k) != 17 || k[0] != prefixQueue {
		return 0, 0, fmt.Errorf("%w: queue key %x", ErrCorrupt, k)
	}
	id, size = binary.BigEndian.Uint64(k[1:]), binary.BigEndian.Uint64(k[9:])
	if id == 0 || size == 0 || size > math.MaxInt64 || size > math.MaxInt {
		return 0, 0, fmt.Errorf("%w: queue key %x", ErrCorrupt, k)
	}
	return id, size, nil
}

func pinKey(id string) []byte { return append([]byte{prefixPin}, id...) }

func metaKey(key string) []byte { return append([]byte{prefixMeta}, key...) }

func recordPrefix(bucket string) []byte {
	p := make([]byte, 0, 2+len(bucket))
	p = append(p, prefixRecord, byte(len(bucket)))
	return append(p, bucket...)
}

func recordKey(bucket string, key []byte) []byte {
	return append(recordPrefix(bucket), key...)
}

// uint64FromKey returns the big-endian integer after a 1-byte prefix.
func uint64FromKey(k []byte) uint64 { return binary.BigEndian.Uint64(k[1:]) }
