package store

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"time"

	"github.com/tessera-da/tessera/node/header"
)

// Every value this package writes is an envelope:
//
//	kind (1 byte) ‖ payload ‖ CRC-32C of kind ‖ payload (4 bytes, big-endian)
//
// The kind names the record type and its format version, so a value read
// under the wrong key or written by an unknown version is refused instead of
// misread. Decoders check the envelope, then every length and enum in the
// payload, and return an error wrapping ErrCorrupt; none of them panics or
// allocates more than the value's own size on any input. Encoders and
// decoders are exact inverses: decode(encode(x)) == x and, for every record
// but ODS chunks, encode(decode(v)) == v.
const (
	kindVersion    byte = 0x01
	kindState      byte = 0x02
	kindHeader     byte = 0x03
	kindHashIndex  byte = 0x04
	kindODSChunk   byte = 0x05
	kindBlobList   byte = 0x06
	kindCommitment byte = 0x07
	kindQueued     byte = 0x08
	kindReceipt    byte = 0x09
	kindPin        byte = 0x0a
	kindUser       byte = 0x0b

	envelopeOverhead = 1 + 4 // bytes: kind and CRC
	schemaVersion    = 1
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// newValue starts an envelope of kind with room for n payload bytes.
func newValue(kind byte, n int) []byte {
	b := make([]byte, 1, n+envelopeOverhead)
	b[0] = kind
	return b
}

// seal appends the CRC to an envelope started by newValue.
func seal(b []byte) []byte {
	return binary.BigEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

// unseal checks the envelope of v and returns its payload (aliasing v).
func unseal(v []byte, kind byte) ([]byte, error) {
	if len(v) < envelopeOverhead {
		return nil, fmt.Errorf("%w: value of %d bytes", ErrCorrupt, len(v))
	}
	body, sum := v[:len(v)-4], binary.BigEndian.Uint32(v[len(v)-4:])
	if crc32.Checksum(body, castagnoli) != sum {
		return nil, fmt.Errorf("%w: checksum mismatch", ErrCorrupt)
	}
	if body[0] != kind {
		return nil, fmt.Errorf("%w: record kind %#x, want %#x", ErrCorrupt, body[0], kind)
	}
	return body[1:], nil
}

// --- schema version and state ---

func encodeVersion(v uint32) []byte {
	return seal(binary.BigEndian.AppendUint32(newValue(kindVersion, 4), v))
}

func decodeVersion(v []byte) (uint32, error) {
	p, err := unseal(v, kindVersion)
	if err != nil {
		return 0, err
	}
	if len(p) != 4 {
		return 0, fmt.Errorf("%w: version of %d bytes", ErrCorrupt, len(p))
	}
	return binary.BigEndian.Uint32(p), nil
}

// state is the store's small mutable summary. head, nextID and heights
// are stored and rewritten in every transaction that changes one of them;
// the queue counters are counted from the queue's keys when the store
// opens.
type state struct {
	head       uint64 // height of the head block, 0 when empty
	nextID     uint64 // next submission ID to hand out (IDs start at 1)
	heights    uint64 // heights whose ODS is stored
	queueLen   uint64 // submissions in the queue (not stored)
	queueBytes uint64 // sum of their Size (not stored)
}

const stateSize = 3 * 8 // bytes

// dequeue accounts for the removal of a queued submission of size bytes.
func (s *state) dequeue(size uint64) error {
	if s.queueLen == 0 || s.queueBytes < size {
		return fmt.Errorf("%w: queue counters (%d submissions, %d bytes) below a queued submission of %d bytes", ErrCorrupt, s.queueLen, s.queueBytes, size)
	}
	s.queueLen--
	s.queueBytes -= size
	return nil
}

func encodeState(s state) []byte {
	b := newValue(kindState, stateSize)
	for _, x := range [...]uint64{s.head, s.nextID, s.heights} {
		b = binary.BigEndian.AppendUint64(b, x)
	}
	return seal(b)
}

func decodeState(v []byte) (state, error) {
	p, err := unseal(v, kindState)
	if err != nil {
		return state{}, err
	}
	if len(p) != stateSize {
		return state{}, fmt.Errorf("%w: state of %d bytes", ErrCorrupt, len(p))
	}
	s := state{
		head:    binary.BigEndian.Uint64(p[0:]),
		nextID:  binary.BigEndian.Uint64(p[8:]),
		heights: binary.BigEndian.Uint64(p[16:]),
	}
	switch {
	case s.nextID == 0:
		return state{}, fmt.Errorf("%w: state: next submission ID 0", ErrCorrupt)
	case s.heights > s.head:
		return state{}, fmt.Errorf("%w: state: %d heights stored below head %d", ErrCorrupt, s.heights, s.head)
	}
	return s, nil
}

// --- headers ---

func encodeHeader(h *header.Header) []byte {
	sb := h.SignBytes()
	b := newValue(kindHeader, len(sb)+len(h.Signature))
	b = append(b, sb...)
	return seal(append(b, h.Signature...))
}

func decodeHeader(v []byte) (*header.Header, error) {
	p, err := unseal(v, kindHeader)
	if err != nil {
		return nil, err
	}
	h := new(header.Header)
	if err := h.UnmarshalBinary(p); err != nil {
		return nil, fmt.Errorf("%w: header: %w", ErrCorrupt, err)
	}
	if err := checkSquareWidth(h.SquareWidth); err != nil {
		return nil, fmt.Errorf("%w: header: %w", ErrCorrupt, err)
	}
	if h.Height == 0 {
		return nil, fmt.Errorf("%w: header at height 0", ErrCorrupt)
	}
	return h, nil
}

func checkSquareWidth(k uint32) error {
	if k == 0 || k > header.MaxSquareWidth || k&(k-1) != 0 {
		return fmt.Errorf("square width %d is not a power of two in [1, %d]", k, header.MaxSquareWidth)
	}
	return nil
}

func encodeHeight(h uint64) []byte {
	return seal(binary.BigEndian.AppendUint64(newValue(kindHashIndex, 8), h))
}

func decodeHeight(v []byte) (uint64, error) {
	p, err := unseal(v, kindHashIndex)
	if err != nil {
		return 0, err
	}
	if len(p) != 8 || binary.BigEndian.Uint64(p) == 0 {
		return 0, fmt.Errorf("%w: height index of %d bytes", ErrCorrupt, len(p))
	}
	return binary.BigEndian.Uint64(p), nil
}

// --- ODS chunks ---
//
// An ODS is split into chunks of ChunkShares shares (the last may be
// shorter). A chunk's payload is a sequence of segments, each a uvarint tag
// t followed by data: for t&1 == 0, t>>1 distinct shares verbatim; for
// t&1 == 1, one share that repeats t>>1 times. Runs of identical shares
// (namespace padding, tail padding) thus cost one share.

// appendODSChunk appends the envelope of the chunk holding raw (whole
// shares) to dst.
func appendODSChunk(dst, raw []byte) []byte {
	start := len(dst)
	dst = append(dst, kindODSChunk)
	n := len(raw) / ShareSize
	share := func(i int) []byte { return raw[i*ShareSize : (i+1)*ShareSize] }
	lit := 0 // first share of the pending literal run
	flush := func(end int) {
		if end > lit {
			dst = binary.AppendUvarint(dst, uint64(end-lit)<<1)
			dst = append(dst, raw[lit*ShareSize:end*ShareSize]...)
		}
	}
	for i := 0; i < n; {
		j := i + 1
		for j < n && bytes.Equal(share(j), share(i)) {
			j++
		}
		if j-i >= 2 {
			flush(i)
			dst = binary.AppendUvarint(dst, uint64(j-i)<<1|1)
			dst = append(dst, share(i)...)
			lit = j
		}
		i = j
	}
	flush(n)
	return binary.BigEndian.AppendUint32(dst, crc32.Checksum(dst[start:], castagnoli))
}

// maxODSChunkSize bounds the encoded size of a chunk of n shares (bytes).
func maxODSChunkSize(n int) int {
	// At worst every segment is a 2-share repeat costing a tag (≤ 3 bytes
	// for n ≤ ChunkShares) plus one share, or a literal of 1 share; either
	// way at most one tag per share beyond the raw bytes.
	return envelopeOverhead + n*(ShareSize+3)
}

// decodeODSChunk decodes a chunk into dst, which must be exactly as long as
// the chunk's shares.
func decodeODSChunk(v, dst []byte) error {
	p, err := unseal(v, kindODSChunk)
	if err != nil {
		return err
	}
	return decodeODSSegments(p, dst)
}

func decodeODSSegments(p, dst []byte) error {
	want := len(dst) / ShareSize
	got := 0
	for len(p) > 0 {
		t, n := binary.Uvarint(p)
		if n <= 0 {
			return fmt.Errorf("%w: ODS chunk: bad segment tag", ErrCorrupt)
		}
		p = p[n:]
		count := t >> 1
		if count == 0 || count > uint64(want-got) {
			return fmt.Errorf("%w: ODS chunk: segment of %d shares with %d left", ErrCorrupt, count, want-got)
		}
		c := int(count)
		out := dst[got*ShareSize : (got+c)*ShareSize]
		if t&1 == 0 {
			if len(p) < c*ShareSize {
				return fmt.Errorf("%w: ODS chunk: truncated literal", ErrCorrupt)
			}
			copy(out, p[:c*ShareSize])
			p = p[c*ShareSize:]
		} else {
			if len(p) < ShareSize {
				return fmt.Errorf("%w: ODS chunk: truncated repeat", ErrCorrupt)
			}
			for i := 0; i < c; i++ {
				copy(out[i*ShareSize:], p[:ShareSize])
			}
			p = p[ShareSize:]
		}
		got += c
	}
	if got != want {
		return fmt.Errorf("%w: ODS chunk holds %d shares, want %d", ErrCorrupt, got, want)
	}
	return nil
}

// --- blob entries ---

const blobEntrySize = NamespaceSize + CommitmentSize + 5*4 // bytes

func appendBlobEntry(b []byte, e *BlobIndex) []byte {
	b = append(b, e.Namespace[:]...)
	b = append(b, e.Commitment[:]...)
	for _, x := range [...]uint32{e.ShareStart, e.ShareCount, e.EDSIndex, e.TxIndex, e.IndexInTx} {
		b = binary.BigEndian.AppendUint32(b, x)
	}
	return b
}

func parseBlobEntry(p []byte) (BlobIndex, error) {
	var e BlobIndex
	copy(e.Namespace[:], p)
	p = p[NamespaceSize:]
	copy(e.Commitment[:], p)
	p = p[CommitmentSize:]
	e.ShareStart = binary.BigEndian.Uint32(p[0:])
	e.ShareCount = binary.BigEndian.Uint32(p[4:])
	e.EDSIndex = binary.BigEndian.Uint32(p[8:])
	e.TxIndex = binary.BigEndian.Uint32(p[12:])
	e.IndexInTx = binary.BigEndian.Uint32(p[16:])
	if e.ShareCount == 0 || uint64(e.ShareStart)+uint64(e.ShareCount) > maxODSShares {
		return BlobIndex{}, fmt.Errorf("%w: blob entry covers shares [%d, +%d)", ErrCorrupt, e.ShareStart, e.ShareCount)
	}
	return e, nil
}

func encodeBlobList(list []BlobIndex) []byte {
	b := newValue(kindBlobList, 4+len(list)*blobEntrySize)
	b = binary.BigEndian.AppendUint32(b, uint32(len(list)))
	for i := range list {
		b = appendBlobEntry(b, &list[i])
	}
	return seal(b)
}

func decodeBlobList(v []byte) ([]BlobIndex, error) {
	p, err := unseal(v, kindBlobList)
	if err != nil {
		return nil, err
	}
	if len(p) < 4 {
		return nil, fmt.Errorf("%w: blob list of %d bytes", ErrCorrupt, len(p))
	}
	n := uint64(binary.BigEndian.Uint32(p))
	p = p[4:]
	if uint64(len(p)) != n*blobEntrySize {
		return nil, fmt.Errorf("%w: blob list of %d entries in %d bytes", ErrCorrupt, n, len(p))
	}
	list := make([]BlobIndex, n)
	for i := range list {
		if list[i], err = parseBlobEntry(p[i*blobEntrySize:]); err != nil {
			return nil, err
		}
	}
	return list, nil
}

func encodeCommitmentEntry(e *BlobIndex) []byte {
	return seal(appendBlobEntry(newValue(kindCommitment, blobEntrySize), e))
}

func decodeCommitmentEntry(v []byte) (BlobIndex, error) {
	p, err := unseal(v, kindCommitment)
	if err != nil {
		return BlobIndex{}, err
	}
	if len(p) != blobEntrySize {
		return BlobIndex{}, fmt.Errorf("%w: commitment entry of %d bytes", ErrCorrupt, len(p))
	}
	return parseBlobEntry(p)
}

// --- queue and receipts ---

const queuedFixed = 8 + 1 // bytes: enqueue time, signer length

// encodeQueued encodes a queued submission; its ID and Size are in the key.
func encodeQueued(q *QueuedSubmission) []byte {
	b := newValue(kindQueued, queuedFixed+len(q.Signer)+len(q.Blobs))
	b = binary.BigEndian.AppendUint64(b, uint64(encodeTime(q.Enqueued)))
	b = append(b, byte(len(q.Signer)))
	b = append(b, q.Signer...)
	return seal(append(b, q.Blobs...))
}

// decodeQueued decodes the value of queued submission id of size bytes
// (both from its key). The result does not alias v.
func decodeQueued(id, size uint64, v []byte) (QueuedSubmission, error) {
	p, err := unseal(v, kindQueued)
	if err != nil {
		return QueuedSubmission{}, err
	}
	if len(p) < queuedFixed {
		return QueuedSubmission{}, fmt.Errorf("%w: queued submission of %d bytes", ErrCorrupt, len(p))
	}
	n := int(p[8])
	if n > MaxSignerSize || len(p)-queuedFixed <= n {
		return QueuedSubmission{}, fmt.Errorf("%w: queued submission: signer of %d bytes in %d", ErrCorrupt, n, len(p))
	}
	q := QueuedSubmission{ID: id, Enqueued: decodeTime(int64(binary.BigEndian.Uint64(p)))}
	q.Size = int(size)
	p = p[queuedFixed:]
	if n > 0 {
		q.Signer = bytes.Clone(p[:n])
	}
	q.Blobs = bytes.Clone(p[n:])
	return q, nil
}

const blobReceiptSize = NamespaceSize + CommitmentSize + 4 // bytes

func encodeReceipt(r *Receipt) []byte {
	b := newValue(kindReceipt, 1+8+4+len(r.Blobs)*blobReceiptSize+4+len(r.Reason))
	b = append(b, byte(r.State))
	b = binary.BigEndian.AppendUint64(b, r.Height)
	b = binary.BigEndian.AppendUint32(b, uint32(len(r.Blobs)))
	for _, br := range r.Blobs {
		b = append(b, br.Namespace[:]...)
		b = append(b, br.Commitment[:]...)
		b = binary.BigEndian.AppendUint32(b, br.EDSIndex)
	}
	b = binary.BigEndian.AppendUint32(b, uint32(len(r.Reason)))
	return seal(append(b, r.Reason...))
}

func decodeReceipt(id uint64, v []byte) (Receipt, error) {
	p, err := unseal(v, kindReceipt)
	if err != nil {
		return Receipt{}, err
	}
	if len(p) < 1+8+4 {
		return Receipt{}, fmt.Errorf("%w: receipt of %d bytes", ErrCorrupt, len(p))
	}
	r := Receipt{ID: id, State: ReceiptState(p[0]), Height: binary.BigEndian.Uint64(p[1:])}
	n := uint64(binary.BigEndian.Uint32(p[9:]))
	p = p[13:]
	if uint64(len(p)) < n*blobReceiptSize+4 {
		return Receipt{}, fmt.Errorf("%w: receipt with %d blobs in %d bytes", ErrCorrupt, n, len(p))
	}
	if n > 0 {
		r.Blobs = make([]BlobReceipt, n)
		for i := range r.Blobs {
			copy(r.Blobs[i].Namespace[:], p)
			copy(r.Blobs[i].Commitment[:], p[NamespaceSize:])
			r.Blobs[i].EDSIndex = binary.BigEndian.Uint32(p[NamespaceSize+CommitmentSize:])
			p = p[blobReceiptSize:]
		}
	}
	m := uint64(binary.BigEndian.Uint32(p))
	p = p[4:]
	if uint64(len(p)) != m || m > MaxReasonSize {
		return Receipt{}, fmt.Errorf("%w: receipt reason of %d bytes in %d", ErrCorrupt, m, len(p))
	}
	r.Reason = string(p)
	switch {
	case r.State == ReceiptIncluded && r.Height > 0 && n > 0 && m == 0:
	case r.State == ReceiptFailed && r.Height == 0 && n == 0:
	default:
		return Receipt{}, fmt.Errorf("%w: receipt in state %d at height %d with %d blobs", ErrCorrupt, r.State, r.Height, n)
	}
	return r, nil
}

// --- pins ---

const pinSize = 1 + NamespaceSize + 8 // bytes

func encodePin(p *Pin) []byte {
	b := newValue(kindPin, pinSize)
	b = append(b, byte(p.Kind))
	b = append(b, p.Namespace[:]...)
	return seal(binary.BigEndian.AppendUint64(b, uint64(encodeTime(p.Created))))
}

func decodePin(id string, v []byte) (Pin, error) {
	p, err := unseal(v, kindPin)
	if err != nil {
		return Pin{}, err
	}
	if len(p) != pinSize {
		return Pin{}, fmt.Errorf("%w: pin of %d bytes", ErrCorrupt, len(p))
	}
	pin := Pin{Kind: PinKind(p[0]), ID: id}
	copy(pin.Namespace[:], p[1:])
	pin.Created = decodeTime(int64(binary.BigEndian.Uint64(p[1+NamespaceSize:])))
	if err := pin.validate(); err != nil {
		return Pin{}, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	return pin, nil
}

// --- caller values ---

func encodeUser(value []byte) []byte {
	return seal(append(newValue(kindUser, len(value)), value...))
}

// decodeUser returns a copy of the caller's value.
func decodeUser(v []byte) ([]byte, error) {
	p, err := unseal(v, kindUser)
	if err != nil {
		return nil, err
	}
	return append([]byte{}, p...), nil
}

// Times are stored as Unix nanoseconds; the zero time as 0.
func encodeTime(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func decodeTime(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}
