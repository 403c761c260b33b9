package share

import (
	"fmt"
	"math"
)

// Type IDs that mark the two wrapper messages (go-square tx/blob_tx.go,
// tx/index_wrapper.go).
const (
	BlobTxTypeID       = "BLOB" // BlobTx.type_id
	IndexWrapperTypeID = "INDX" // IndexWrapper.type_id
)

// Field numbers of go-square proto/blob/v4/blob.proto.
const (
	blobProtoNamespaceID      = 1 // bytes
	blobProtoData             = 2 // bytes
	blobProtoShareVersion     = 3 // uint32
	blobProtoNamespaceVersion = 4 // uint32
	blobProtoSigner           = 5 // bytes

	blobTxTx     = 1 // bytes
	blobTxBlobs  = 2 // repeated BlobProto
	blobTxTypeID = 3 // string

	indexWrapperTx           = 1 // bytes
	indexWrapperShareIndexes = 2 // repeated uint32, packed
	indexWrapperTypeID       = 3 // string
)

// Errors of the BlobTx decoder, both wrapping ErrInvalidTx.
var (
	// ErrNonCanonicalBlobTx: a BlobTx or one of its blobs holds a field the
	// schema does not know (or a known field with the wrong wire type).
	ErrNonCanonicalBlobTx = fmt.Errorf("%w: non-canonical BlobTx encoding", ErrInvalidTx)
	// ErrNestedBlobTx: a BlobTx's inner tx is itself a BlobTx.
	ErrNestedBlobTx = fmt.Errorf("%w: nested BlobTx wrapper", ErrInvalidTx)
)

// ErrNotBlobTx is returned by UnmarshalBlobTx, with isBlobTx false, for
// bytes that are not a BlobTx; such a tx is an ordinary transaction.
var ErrNotBlobTx = fmt.Errorf("%w: not a BlobTx", ErrInvalidTx)

// BlobTx is a transaction that carries blobs: an inner signed transaction
// (a MsgPayForBlobs, opaque here) and the blobs it pays for.
type BlobTx struct {
	Tx    []byte
	Blobs []*Blob
}

// IndexWrapper is the form a PFB transaction takes inside the square: the
// inner transaction of a BlobTx and, for each of its blobs, the index of the
// blob's first share in the original data square.
type IndexWrapper struct {
	Tx           []byte
	ShareIndexes []uint32
}

// blobProto is a decoded BlobProto message. Its slices alias the input.
type blobProto struct {
	namespaceID      []byte
	data             []byte
	shareVersion     uint32
	namespaceVersion uint32
	signer           []byte
	unknown          bool // a field the schema does not know was present
}

// blobTxProto is a decoded BlobTx message, without its blobs: those are
// decoded (and checked) as they are met and passed to a callback, so that
// decoding takes memory independent of how many blob fields the input
// holds.
type blobTxProto struct {
	tx      []byte
	nBlobs  int
	typeID  string
	unknown bool
}

// MarshalBlob returns b's BlobProto encoding, byte-identical to go-square's
// Blob.Marshal.
func MarshalBlob(b *Blob) []byte {
	return appendBlobProto(make([]byte, 0, blobProtoSize(b)), b)
}

func blobProtoSize(b *Blob) int {
	return bytesFieldSize(blobProtoNamespaceID, NamespaceIDSize) +
		bytesFieldSize(blobProtoData, len(b.data)) +
		varintFieldSize(blobProtoShareVersion, uint64(b.shareVersion)) +
		varintFieldSize(blobProtoNamespaceVersion, uint64(b.ns.Version())) +
		bytesFieldSize(blobProtoSigner, len(b.signer))
}

func varintFieldSize(num int, v uint64) int {
	if v == 0 {
		return 0
	}
	return varintSize(uint64(num)<<3) + varintSize(v)
}

func appendBlobProto(dst []byte, b *Blob) []byte {
	dst = appendBytesField(dst, blobProtoNamespaceID, b.ns.b[1:])
	dst = appendBytesField(dst, blobProtoData, b.data)
	dst = appendVarintField(dst, blobProtoShareVersion, uint64(b.shareVersion))
	dst = appendVarintField(dst, blobProtoNamespaceVersion, uint64(b.ns.Version()))
	return appendBytesField(dst, blobProtoSigner, b.signer)
}

// UnmarshalBlob decodes a BlobProto into a validated Blob. Unknown fields
// are ignored, as go-square's UnmarshalBlob ignores them.
func UnmarshalBlob(p []byte) (*Blob, error) {
	bp, err := decodeBlobProto(p)
	if err != nil {
		return nil, fmt.Errorf("%w: BlobProto: %w", ErrInvalidBlob, err)
	}
	return bp.toBlob()
}

func decodeBlobProto(p []byte) (blobProto, error) {
	var bp blobProto
	err := forEachField(p, func(f protoField) error {
		switch {
		case f.num == blobProtoNamespaceID && f.typ == wireBytes:
			bp.namespaceID = protoBytes(f)
		case f.num == blobProtoData && f.typ == wireBytes:
			bp.data = protoBytes(f)
		case f.num == blobProtoShareVersion && f.typ == wireVarint:
			bp.shareVersion = uint32(f.val)
		case f.num == blobProtoNamespaceVersion && f.typ == wireVarint:
			bp.namespaceVersion = uint32(f.val)
		case f.num == blobProtoSigner && f.typ == wireBytes:
			bp.signer = protoBytes(f)
		default:
			bp.unknown = true
		}
		return nil
	})
	return bp, err
}

// toBlob applies go-square's NewBlobFromProto checks, then NewBlob's
// (which copies the data and signer).
func (bp blobProto) toBlob() (*Blob, error) {
	if bp.namespaceVersion > math.MaxUint8 {
		return nil, fmt.Errorf("%w: namespace version %d exceeds %d", ErrInvalidBlob, bp.namespaceVersion, math.MaxUint8)
	}
	if bp.shareVersion > MaxShareVersion {
		return nil, fmt.Errorf("%w: share version %d exceeds %d", ErrInvalidBlob, bp.shareVersion, MaxShareVersion)
	}
	ns, err := NewNamespace(uint8(bp.namespaceVersion), bp.namespaceID)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidBlob, err)
	}
	return NewBlob(ns, bp.data, uint8(bp.shareVersion), bp.signer)
}

// MarshalBlobTx wraps tx and its blobs in a BlobTx, byte-identical to
// go-square's tx.MarshalBlobTx. It needs at least one blob.
func MarshalBlobTx(tx []byte, blobs ...*Blob) ([]byte, error) {
	if len(blobs) == 0 {
		return nil, fmt.Errorf("%w: a BlobTx needs at least one blob", ErrInvalidTx)
	}
	size := bytesFieldSize(blobTxTx, len(tx)) + bytesFieldSize(blobTxTypeID, len(BlobTxTypeID))
	for i, b := range blobs {
		if b == nil || len(b.data) == 0 {
			return nil, fmt.Errorf("%w: blob %d is nil", ErrInvalidTx, i)
		}
		n := blobProtoSize(b)
		size += varintSize(uint64(blobTxBlobs)<<3) + varintSize(uint64(n)) + n
	}
	out := make([]byte, 0, size)
	out = appendBytesField(out, blobTxTx, tx)
	for _, b := range blobs {
		out = appendTag(out, blobTxBlobs, wireBytes)
		out = appendVarint(out, uint64(blobProtoSize(b)))
		out = appendBlobProto(out, b)
	}
	return appendBytesField(out, blobTxTypeID, []byte(BlobTxTypeID)), nil
}

// decodeBlobTxProto decodes a BlobTx message, calling onBlob (if not nil)
// for each blob in order.
func decodeBlobTxProto(p []byte, onBlob func(i int, bp blobProto) error) (blobTxProto, error) {
	var bt blobTxProto
	err := forEachField(p, func(f protoField) error {
		switch {
		case f.num == blobTxTx && f.typ == wireBytes:
			bt.tx = f.data
		case f.num == blobTxBlobs && f.typ == wireBytes:
			bp, err := decodeBlobProto(f.data)
			if err != nil {
				return err
			}
			if onBlob != nil {
				if err := onBlob(bt.nBlobs, bp); err != nil {
					return err
				}
			}
			bt.nBlobs++
		case f.num == blobTxTypeID && f.typ == wireBytes:
			s, err := protoString(f)
			if err != nil {
				return err
			}
			bt.typeID = s
		default:
			bt.unknown = true
		}
		return nil
	})
	return bt, err
}

// UnmarshalBlobTx decodes tx as a BlobTx with go-square v4.0.0's rules.
// isBlobTx reports whether tx claims to be a BlobTx (it decodes as the
// BlobTx message and its type_id is "BLOB"); a tx that does not is an
// ordinary transaction and err says why. When isBlobTx is true and err is
// not nil, the tx is a malformed BlobTx: unknown fields
// (ErrNonCanonicalBlobTx), no blobs, an inner tx that is itself a BlobTx
// (ErrNestedBlobTx), or an invalid blob.
//
// One rule is stricter than go-square: a blob in a reserved namespace is
// rejected here (NewBlob enforces ValidateForBlob), while go-square leaves
// that check to celestia-app, which rejects such txs before they reach a
// block.
func UnmarshalBlobTx(tx []byte) (btx *BlobTx, isBlobTx bool, err error) {
	bt, err := decodeBlobTxProto(tx, nil)
	if err != nil {
		return nil, false, fmt.Errorf("%w: %w", ErrNotBlobTx, err)
	}
	if bt.typeID != BlobTxTypeID {
		return nil, false, fmt.Errorf("%w: type_id %q", ErrNotBlobTx, bt.typeID)
	}
	if bt.unknown {
		return nil, true, ErrNonCanonicalBlobTx
	}
	if bt.nBlobs == 0 {
		return nil, true, fmt.Errorf("%w: BlobTx has no blobs", ErrInvalidTx)
	}
	if hasBlobTxTypeID(bt.tx) {
		return nil, true, ErrNestedBlobTx
	}
	// Second pass: the message is known to be well formed; build the blobs,
	// stopping at the first invalid one.
	out := &BlobTx{Tx: cloneBytes(bt.tx)}
	_, err = decodeBlobTxProto(tx, func(i int, bp blobProto) error {
		if bp.unknown {
			return fmt.Errorf("%w: blob %d", ErrNonCanonicalBlobTx, i)
		}
		b, err := bp.toBlob()
		if err != nil {
			return fmt.Errorf("%w: blob %d: %w", ErrInvalidTx, i, err)
		}
		out.Blobs = append(out.Blobs, b)
		return nil
	})
	if err != nil {
		return nil, true, err
	}
	return out, true, nil
}

// hasBlobTxTypeID reports whether p decodes as a BlobTx message with type_id
// "BLOB" (go-square's nested-wrapper test).
func hasBlobTxTypeID(p []byte) bool {
	bt, err := decodeBlobTxProto(p, nil)
	return err == nil && bt.typeID == BlobTxTypeID
}

// IsBlobTx reports whether tx claims to be a BlobTx (see UnmarshalBlobTx).
func IsBlobTx(tx []byte) bool { return hasBlobTxTypeID(tx) }

// MarshalIndexWrapper encodes an IndexWrapper, byte-identical to go-square's
// tx.MarshalIndexWrapper (share_indexes packed).
func MarshalIndexWrapper(tx []byte, shareIndexes ...uint32) []byte {
	return appendIndexWrapper(make([]byte, 0, indexWrapperSize(len(tx), shareIndexes)), tx, shareIndexes)
}

// Marshal encodes w (see MarshalIndexWrapper).
func (w *IndexWrapper) Marshal() []byte { return MarshalIndexWrapper(w.Tx, w.ShareIndexes...) }

func packedLen(idx []uint32) int {
	n := 0
	for _, v := range idx {
		n += varintSize(uint64(v))
	}
	return n
}

// indexWrapperSize is the encoded size of an IndexWrapper (proto.Size).
func indexWrapperSize(txLen int, idx []uint32) int {
	return bytesFieldSize(indexWrapperTx, txLen) +
		bytesFieldSize(indexWrapperShareIndexes, packedLen(idx)) +
		bytesFieldSize(indexWrapperTypeID, len(IndexWrapperTypeID))
}

func appendIndexWrapper(dst, tx []byte, idx []uint32) []byte {
	dst = appendBytesField(dst, indexWrapperTx, tx)
	if len(idx) > 0 {
		dst = appendTag(dst, indexWrapperShareIndexes, wireBytes)
		dst = appendVarint(dst, uint64(packedLen(idx)))
		for _, v := range idx {
			dst = appendVarint(dst, uint64(v))
		}
	}
	return appendBytesField(dst, indexWrapperTypeID, []byte(IndexWrapperTypeID))
}

// UnmarshalIndexWrapper decodes p as an IndexWrapper. It fails, wrapping
// ErrInvalidTx, when p is not valid protobuf for the message or its type_id
// is not "INDX" (go-square's UnmarshalIndexWrapper then reports false).
// Unknown fields are ignored, as in go-square; share_indexes is accepted
// packed or unpacked.
func UnmarshalIndexWrapper(p []byte) (*IndexWrapper, error) {
	var (
		w      IndexWrapper
		typeID string
	)
	err := forEachField(p, func(f protoField) error {
		switch {
		case f.num == indexWrapperTx && f.typ == wireBytes:
			w.Tx = cloneBytes(f.data)
		case f.num == indexWrapperShareIndexes && f.typ == wireVarint:
			w.ShareIndexes = append(w.ShareIndexes, uint32(f.val))
		case f.num == indexWrapperShareIndexes && f.typ == wireBytes:
			for d := f.data; len(d) > 0; {
				v, n, err := consumeVarint(d)
				if err != nil {
					return err
				}
				w.ShareIndexes = append(w.ShareIndexes, uint32(v))
				d = d[n:]
			}
		case f.num == indexWrapperTypeID && f.typ == wireBytes:
			s, err := protoString(f)
			if err != nil {
				return err
			}
			typeID = s
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%w: IndexWrapper: %w", ErrInvalidTx, err)
	}
	if typeID != IndexWrapperTypeID {
		return nil, fmt.Errorf("%w: IndexWrapper type_id %q, want %q", ErrInvalidTx, typeID, IndexWrapperTypeID)
	}
	return &w, nil
}
