package store

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"github.com/dgraph-io/badger/v4"

	"github.com/tessera-da/tessera/node/header"
	"github.com/tessera-da/tessera/share"
)

// BlobIndex locates one blob in a block's square.
type BlobIndex struct {
	Namespace  [NamespaceSize]byte
	Commitment [CommitmentSize]byte
	ShareStart uint32 // index of the blob's first share in the ODS, row-major
	ShareCount uint32 // shares the blob occupies, at least 1
	EDSIndex   uint32 // index of the first share in the extended square: row·2k + col
	TxIndex    uint32 // index of the blob transaction that carries the blob
	IndexInTx  uint32 // index of the blob within that transaction
}

// NewBlobIndex returns the entry, all but its commitment, of the blob
// placed at pl in a square of ODS width k: blob indexInTx of blob
// transaction txIndex.
func NewBlobIndex(pl share.BlobPlacement, k, txIndex, indexInTx int) BlobIndex {
	return BlobIndex{
		Namespace:  pl.Namespace.Array(),
		ShareStart: uint32(pl.Start),
		ShareCount: uint32(pl.ShareCount),
		EDSIndex:   uint32(edsIndex(uint64(pl.Start), uint64(k))),
		TxIndex:    uint32(txIndex),
		IndexInTx:  uint32(indexInTx),
	}
}

// edsIndex is the index in the extended square (row·2k + col) of ODS share
// i of a square of ODS width k.
func edsIndex(i, k uint64) uint64 { return i/k*2*k + i%k }

// Included names a queued submission that a block includes.
type Included struct {
	ID      uint64 // submission ID from Enqueue
	TxIndex uint32 // its blob transaction; its blobs are the Blobs entries with this TxIndex
}

// Block is one height as PutBlock stores it.
type Block struct {
	Header *header.Header
	// ODS is the original data square, k×k shares of ShareSize bytes,
	// row-major, k = Header.SquareWidth. The rest of the extended square and
	// every root are recomputed from it.
	ODS []byte
	// Blobs lists the square's blobs, in any order; they are stored sorted
	// by ShareStart.
	Blobs []BlobIndex
	// Done lists the queued submissions the block includes; PutBlock removes
	// them from the queue and records their receipts. Empty on nodes that
	// do not produce blocks.
	Done []Included
}

// preparedBlock is a validated block with its values encoded, built
// outside the writer lock.
type preparedBlock struct {
	h        *header.Header
	hash     header.Hash
	headerV  []byte
	odsV     [][]byte // one value per chunk
	blobs    []BlobIndex
	blobsV   []byte
	nsKeys   [][]byte
	receipts []Receipt // one per Done entry, ID and blobs filled
}

// prepareBlock checks everything about b that does not depend on the
// stored chain and encodes its values.
func prepareBlock(b *Block) (*preparedBlock, error) {
	if b == nil || b.Header == nil {
		return nil, fmt.Errorf("%w: no header", ErrInvalidBlock)
	}
	h := b.Header
	if err := h.ValidateBasic(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidBlock, err)
	}
	k := uint64(h.SquareWidth)
	shares := k * k
	if uint64(len(b.ODS)) != shares*ShareSize {
		return nil, fmt.Errorf("%w: height %d: ODS of %d bytes, want k²·%d = %d for k=%d", ErrInvalidBlock, h.Height, len(b.ODS), ShareSize, shares*ShareSize, k)
	}
	if uint64(len(b.Blobs)) > shares {
		return nil, fmt.Errorf("%w: height %d: %d blobs in %d shares", ErrInvalidBlock, h.Height, len(b.Blobs), shares)
	}
	blobs := slices.Clone(b.Blobs)
	slices.SortFunc(blobs, func(x, y BlobIndex) int { return cmp.Compare(x.ShareStart, y.ShareStart) })
	type txBlob struct{ tx, i uint32 }
	seen := make(map[txBlob]struct{}, len(blobs))
	byTx := make(map[uint32][]int)
	next := uint64(0) // first share not yet covered by a blob
	for i := range blobs {
		e := &blobs[i]
		start, end := uint64(e.ShareStart), uint64(e.ShareStart)+uint64(e.ShareCount)
		switch {
		case e.ShareCount == 0 || end > shares:
			return nil, fmt.Errorf("%w: height %d: blob covers shares [%d, %d) of %d", ErrInvalidBlock, h.Height, start, end, shares)
		case start < next:
			return nil, fmt.Errorf("%w: height %d: blobs overlap at share %d", ErrInvalidBlock, h.Height, start)
		case uint64(e.EDSIndex) != edsIndex(start, k):
			return nil, fmt.Errorf("%w: height %d: blob at ODS share %d has EDS index %d, want %d", ErrInvalidBlock, h.Height, start, e.EDSIndex, edsIndex(start, k))
		case !bytes.Equal(b.ODS[start*ShareSize:start*ShareSize+NamespaceSize], e.Namespace[:]):
			return nil, fmt.Errorf("%w: height %d: blob at share %d is not in the share's namespace", ErrInvalidBlock, h.Height, start)
		}
		if _, dup := seen[txBlob{e.TxIndex, e.IndexInTx}]; dup {
			return nil, fmt.Errorf("%w: height %d: two blobs at tx %d index %d", ErrInvalidBlock, h.Height, e.TxIndex, e.IndexInTx)
		}
		seen[txBlob{e.TxIndex, e.IndexInTx}] = struct{}{}
		byTx[e.TxIndex] = append(byTx[e.TxIndex], i)
		next = end
	}

	p := &preparedBlock{h: h, hash: h.Hash(), headerV: encodeHeader(h), blobs: blobs, blobsV: encodeBlobList(blobs)}

	ids := make(map[uint64]struct{}, len(b.Done))
	for _, inc := range b.Done {
		if _, dup := ids[inc.ID]; dup || inc.ID == 0 {
			return nil, fmt.Errorf("%w: height %d: submission %d listed twice or zero", ErrInvalidBlock, h.Height, inc.ID)
		}
		ids[inc.ID] = struct{}{}
		pos := byTx[inc.TxIndex]
		if len(pos) == 0 {
			return nil, fmt.Errorf("%w: height %d: submission %d at tx %d, which has no blobs", ErrInvalidBlock, h.Height, inc.ID, inc.TxIndex)
		}
		slices.SortFunc(pos, func(x, y int) int { return cmp.Compare(blobs[x].IndexInTx, blobs[y].IndexInTx) })
		r := Receipt{ID: inc.ID, State: ReceiptIncluded, Height: h.Height, Blobs: make([]BlobReceipt, len(pos))}
		for j, i := range pos {
			r.Blobs[j] = BlobReceipt{Namespace: blobs[i].Namespace, Commitment: blobs[i].Commitment, EDSIndex: blobs[i].EDSIndex}
		}
		p.receipts = append(p.receipts, r)
	}

	nss := make(map[[NamespaceSize]byte]struct{})
	for i := range blobs {
		if _, ok := nss[blobs[i].Namespace]; !ok {
			nss[blobs[i].Namespace] = struct{}{}
			p.nsKeys = append(p.nsKeys, namespaceKey(blobs[i].Namespace, h.Height))
		}
	}

	// All chunks share one buffer sized for the worst case, so appending
	// never moves the chunks already encoded.
	chunks := (shares + ChunkShares - 1) / ChunkShares
	buf := make([]byte, 0, int(chunks)*maxODSChunkSize(ChunkShares))
	for c := uint64(0); c < chunks; c++ {
		lo, hi := c*ChunkShares, min((c+1)*ChunkShares, shares)
		start := len(buf)
		buf = appendODSChunk(buf, b.ODS[lo*ShareSize:hi*ShareSize])
		p.odsV = append(p.odsV, buf[start:len(buf):len(buf)])
	}
	return p, nil
}

// PutBlock stores a block at head+1 (at 1 on an empty store) in one
// transaction: its header (by height and by hash), its ODS, its blob list,
// namespace and commitment indexes, the new head, and the queue removals
// and receipts of b.Done. On any error nothing is written.
//
// PutBlock checks that the header is well formed and signed by the key it
// names (Header.ValidateBasic) and that it extends the head (height, previous
// hash, chain ID, time); checking the producer against the genesis is the
// caller's duty (Header.Verify). It checks that the ODS is k²·ShareSize
// bytes, that blob entries lie inside the square without overlapping, that
// each EDSIndex matches its ShareStart and each Namespace the namespace of
// the blob's first share, and that every Done submission is queued and has
// blobs. Errors wrap ErrInvalidBlock, ErrNotChained or ErrTooLarge.
func (s *Store) PutBlock(b *Block) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.exit()
	p, err := prepareBlock(b)
	if err != nil {
		return err
	}
	h := p.h

	s.wmu.Lock()
	defer s.wmu.Unlock()
	if err := extendsHead(s.head, h); err != nil {
		return err
	}
	newHead, err := decodeHeader(p.headerV) // the stored form, detached from the caller's header
	if err != nil {
		return fmt.Errorf("store: re-reading the header: %w", err)
	}

	st := s.st
	return s.writeLocked(func(txn *badger.Txn) error {
		// Find the queue keys before writing anything: an iterator in a
		// transaction with pending writes sorts all of them.
		keys := make([][]byte, len(p.receipts))
		for i, r := range p.receipts {
			key, size, err := findQueued(txn, r.ID)
			if errors.Is(err, ErrNotFound) {
				return fmt.Errorf("%w: height %d: submission %d is not queued", ErrInvalidBlock, h.Height, r.ID)
			} else if err != nil {
				return fmt.Errorf("store: submission %d: %w", r.ID, err)
			}
			if err := st.dequeue(size); err != nil {
				return err
			}
			keys[i] = key
		}
		for i, r := range p.receipts {
			if err := txn.Delete(keys[i]); err != nil {
				return err
			}
			if err := txn.Set(receiptKey(r.ID), encodeReceipt(&r)); err != nil {
				return err
			}
		}
		if err := txn.Set(headerKey(h.Height), p.headerV); err != nil {
			return err
		}
		if err := txn.Set(hashKey(p.hash), encodeHeight(h.Height)); err != nil {
			return err
		}
		for c, v := range p.odsV {
			if err := txn.Set(odsKey(h.Height, uint32(c)), v); err != nil {
				return err
			}
		}
		if err := txn.Set(blobsKey(h.Height), p.blobsV); err != nil {
			return err
		}
		for _, k := range p.nsKeys {
			if err := txn.Set(k, nil); err != nil {
				return err
			}
		}
		for i := range p.blobs {
			e := &p.blobs[i]
			if err := txn.Set(commitmentKey(e.Commitment, h.Height, uint32(i)), encodeCommitmentEntry(e)); err != nil {
				return err
			}
		}
		st.head = h.Height
		st.heights++
		return setState(txn, st)
	}, func() {
		s.mu.Lock()
		s.st, s.head = st, newHead
		if s.tail == 0 {
			s.tail = h.Height
		}
		s.mu.Unlock()
	})
}

// Head returns the highest stored header, or ErrNotFound on an empty store.
func (s *Store) Head() (*header.Header, error) {
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.exit()
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.head == nil {
		return nil, fmt.Errorf("%w: empty store has no head", ErrNotFound)
	}
	return cloneHeader(s.head), nil
}

func cloneHeader(h *header.Header) *header.Header {
	c := *h
	c.Producer = bytes.Clone(h.Producer)
	c.Signature = bytes.Clone(h.Signature)
	return &c
}

// Tail returns the lowest height still holding its ODS, 0 when none does.
// Heights above it may have been pruned too (Prune keeps pinned heights).
func (s *Store) Tail() uint64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.tail
}

func getHeader(txn *badger.Txn, height uint64) (h *header.Header, err error) {
	err = getValue(txn, headerKey(height), func(v []byte) error {
		h, err = decodeHeader(v)
		return err
	})
	if err == nil && h.Height != height {
		return nil, fmt.Errorf("%w: header for height %d under height %d", ErrCorrupt, h.Height, height)
	}
	return h, err
}

// HeaderByHeight returns the header at height (headers are never pruned).
func (s *Store) HeaderByHeight(height uint64) (h *header.Header, err error) {
	err = s.view(func(txn *badger.Txn) error {
		h, err = getHeader(txn, height)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: header %d: %w", height, err)
	}
	return h, nil
}

// HeaderByHash returns the header whose Hash is hash.
func (s *Store) HeaderByHash(hash header.Hash) (h *header.Header, err error) {
	err = s.view(func(txn *badger.Txn) error {
		var height uint64
		if err := getValue(txn, hashKey(hash), func(v []byte) (err error) { height, err = decodeHeight(v); return }); err != nil {
			return err
		}
		if h, err = getHeader(txn, height); err != nil {
			return err
		}
		if h.Hash() != hash {
			return fmt.Errorf("%w: hash index points to height %d, whose hash differs", ErrCorrupt, height)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: header %s: %w", hash, err)
	}
	return h, nil
}

// HeaderRange returns the headers of heights from ≤ h < to that are
// stored, in order: fewer than to-from when to is above head+1, ErrNotFound
// when from is above the head. to-from must be in [1, MaxHeaderRange].
func (s *Store) HeaderRange(from, to uint64) ([]*header.Header, error) {
	if from == 0 || to <= from || to-from > MaxHeaderRange {
		return nil, fmt.Errorf("%w: header range [%d, %d): want 1 ≤ from < to ≤ from+%d", ErrInvalidArgument, from, to, MaxHeaderRange)
	}
	head := s.snapshot().head
	if from > head {
		return nil, fmt.Errorf("%w: header range from %d above head %d", ErrNotFound, from, head)
	}
	to = min(to, head+1)
	out := make([]*header.Header, 0, to-from)
	err := s.view(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{prefixHeader}, PrefetchValues: true, PrefetchSize: int(min(to-from, 100))})
		defer it.Close()
		want := from
		for it.Seek(headerKey(from)); it.Valid() && want < to; it.Next() {
			key := it.Item().Key()
			if len(key) != 9 || binary.BigEndian.Uint64(key[1:]) != want {
				return fmt.Errorf("%w: header key %x where height %d was expected", ErrCorrupt, key, want)
			}
			var h *header.Header
			if err := it.Item().Value(func(v []byte) (err error) { h, err = decodeHeader(v); return }); err != nil {
				return err
			}
			if h.Height != want {
				return fmt.Errorf("%w: header for height %d under height %d", ErrCorrupt, h.Height, want)
			}
			out = append(out, h)
			want++
		}
		if want != to {
			return fmt.Errorf("%w: header %d missing below head %d", ErrCorrupt, want, head)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: header range [%d, %d): %w", from, to, err)
	}
	return out, nil
}

// absent explains a height's missing data: pruned when height was at or
// below head, else not found. head must be read before the transaction
// that found the data missing.
func absent(what string, height, head uint64) error {
	if height >= 1 && height <= head {
		return fmt.Errorf("%w: %s at height %d", ErrPruned, what, height)
	}
	return fmt.Errorf("%w: %s at height %d (head %d)", ErrNotFound, what, height, head)
}

// ODS returns the original data square at height: k²·ShareSize bytes,
// row-major. ErrPruned when the height was pruned.
func (s *Store) ODS(height uint64) ([]byte, error) {
	head := s.snapshot().head
	var ods []byte
	err := s.view(func(txn *badger.Txn) error {
		k, err := odsWidth(txn, height, head)
		if err != nil {
			return err
		}
		shares := uint64(k) * uint64(k)
		ods = make([]byte, shares*ShareSize)
		chunks := uint32((shares + ChunkShares - 1) / ChunkShares)
		it := txn.NewIterator(badger.IteratorOptions{Prefix: odsPrefix(height), PrefetchValues: true, PrefetchSize: 4})
		defer it.Close()
		want := uint32(0)
		for it.Rewind(); it.Valid(); it.Next() {
			_, c, err := parseODSKey(it.Item().Key())
			if err != nil {
				return err
			}
			if c != want || c >= chunks {
				return fmt.Errorf("%w: ODS chunk %d where %d of %d was expected", ErrCorrupt, c, want, chunks)
			}
			lo, hi := uint64(c)*ChunkShares, min(uint64(c+1)*ChunkShares, shares)
			if err := it.Item().Value(func(v []byte) error { return decodeODSChunk(v, ods[lo*ShareSize:hi*ShareSize]) }); err != nil {
				return fmt.Errorf("chunk %d: %w", c, err)
			}
			want++
		}
		if want == 0 {
			return absent("ODS", height, head)
		}
		if want != chunks {
			return fmt.Errorf("%w: %d of %d ODS chunks", ErrCorrupt, want, chunks)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: ODS %d: %w", height, err)
	}
	return ods, nil
}

// odsWidth returns the square width at height, checking that its ODS is
// still stored.
func odsWidth(txn *badger.Txn, height, head uint64) (uint32, error) {
	h, err := getHeader(txn, height)
	if errors.Is(err, ErrNotFound) {
		return 0, absent("header", height, head)
	} else if err != nil {
		return 0, err
	}
	if _, err := txn.Get(odsKey(height, 0)); errors.Is(err, badger.ErrKeyNotFound) {
		return 0, absent("ODS", height, head)
	} else if err != nil {
		return 0, err
	}
	return h.SquareWidth, nil
}

// ODSShares returns count shares of the ODS at height starting at share
// index start (row-major), reading only the chunks that hold them.
func (s *Store) ODSShares(height uint64, start, count int) ([]byte, error) {
	head := s.snapshot().head
	var out []byte
	err := s.view(func(txn *badger.Txn) error {
		k, err := odsWidth(txn, height, head)
		if err != nil {
			return err
		}
		shares := int(k) * int(k)
		if start < 0 || count < 1 || count > shares || start > shares-count {
			return fmt.Errorf("%w: shares [%d, +%d) of %d", ErrInvalidArgument, start, count, shares)
		}
		out = make([]byte, count*ShareSize)
		var scratch []byte
		for c := start / ChunkShares; c <= (start+count-1)/ChunkShares; c++ {
			lo, hi := c*ChunkShares, min((c+1)*ChunkShares, shares)
			if cap(scratch) < (hi-lo)*ShareSize {
				scratch = make([]byte, ChunkShares*ShareSize)
			}
			chunk := scratch[:(hi-lo)*ShareSize]
			err := getValue(txn, odsKey(height, uint32(c)), func(v []byte) error { return decodeODSChunk(v, chunk) })
			if errors.Is(err, ErrNotFound) {
				return fmt.Errorf("%w: ODS chunk %d missing", ErrCorrupt, c)
			} else if err != nil {
				return fmt.Errorf("chunk %d: %w", c, err)
			}
			from, to := max(lo, start), min(hi, start+count)
			copy(out[(from-start)*ShareSize:], chunk[(from-lo)*ShareSize:(to-lo)*ShareSize])
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: ODS %d shares [%d, +%d): %w", height, start, count, err)
	}
	return out, nil
}

// Blobs returns the blob entries at height sorted by ShareStart (empty for
// a block without blobs). ErrPruned when the height was pruned.
func (s *Store) Blobs(height uint64) ([]BlobIndex, error) {
	head := s.snapshot().head
	var list []BlobIndex
	err := s.view(func(txn *badger.Txn) (err error) {
		list, err = getBlobs(txn, height)
		if errors.Is(err, ErrNotFound) {
			return absent("blobs", height, head)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: blobs %d: %w", height, err)
	}
	return list, nil
}

func getBlobs(txn *badger.Txn, height uint64) (list []BlobIndex, err error) {
	err = getValue(txn, blobsKey(height), func(v []byte) (err error) {
		list, err = decodeBlobList(v)
		return err
	})
	return list, err
}

// BlobsByNamespace returns the blob entries of namespace ns at height in
// share order (empty when the height holds none).
func (s *Store) BlobsByNamespace(ns [NamespaceSize]byte, height uint64) ([]BlobIndex, error) {
	list, err := s.Blobs(height)
	if err != nil {
		return nil, err
	}
	out := list[:0]
	for _, e := range list {
		if e.Namespace == ns {
			out = append(out, e)
		}
	}
	return slices.Clip(out), nil
}

// FindCommitment returns the lowest stored height holding a blob with
// commitment c, and that blob's entry.
func (s *Store) FindCommitment(c [CommitmentSize]byte) (height uint64, e BlobIndex, err error) {
	err = s.view(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: commitmentPrefix(c), PrefetchSize: 1})
		defer it.Close()
		it.Rewind()
		if !it.Valid() {
			return ErrNotFound
		}
		key := it.Item().Key()
		if len(key) != 1+CommitmentSize+8+4 {
			return fmt.Errorf("%w: commitment key %x", ErrCorrupt, key)
		}
		height = binary.BigEndian.Uint64(key[1+CommitmentSize:])
		if err := it.Item().Value(func(v []byte) (err error) { e, err = decodeCommitmentEntry(v); return }); err != nil {
			return err
		}
		if e.Commitment != c || height == 0 {
			return fmt.Errorf("%w: commitment entry for %x at height %d", ErrCorrupt, e.Commitment, height)
		}
		return nil
	})
	if err != nil {
		return 0, BlobIndex{}, fmt.Errorf("store: commitment %x: %w", c, err)
	}
	return height, e, nil
}

// NamespaceHeights returns, ascending, up to limit stored heights at or
// above from that hold a blob of namespace ns. To page, call again from the
// last height + 1. limit must be in [1, MaxNamespaceHeights].
func (s *Store) NamespaceHeights(ns [NamespaceSize]byte, from uint64, limit int) ([]uint64, error) {
	if limit < 1 || limit > MaxNamespaceHeights {
		return nil, fmt.Errorf("%w: limit %d, want 1 to %d", ErrInvalidArgument, limit, MaxNamespaceHeights)
	}
	var out []uint64
	err := s.view(func(txn *badger.Txn) error {
		prefix := namespacePrefix(ns)
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix})
		defer it.Close()
		for it.Seek(namespaceKey(ns, from)); it.Valid() && len(out) < limit; it.Next() {
			key := it.Item().Key()
			if len(key) != len(prefix)+8 {
				return fmt.Errorf("%w: namespace key %x", ErrCorrupt, key)
			}
			out = append(out, binary.BigEndian.Uint64(key[len(prefix):]))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: namespace %x heights: %w", ns, err)
	}
	return out, nil
}

// extendsHead checks that h is the next header after head (nil: an empty store).
func extendsHead(head, h *header.Header) error {
	switch {
	case head == nil && h.Height != 1:
		return fmt.Errorf("%w: height %d on an empty store (want 1)", ErrNotChained, h.Height)
	case head != nil && h.Height != head.Height+1:
		return fmt.Errorf("%w: height %d after head %d", ErrNotChained, h.Height, head.Height)
	case head != nil && h.PrevHash != head.Hash():
		return fmt.Errorf("%w: height %d: previous hash %s, head hash %s", ErrNotChained, h.Height, h.PrevHash, head.Hash())
	case head != nil && h.ChainID != head.ChainID:
		return fmt.Errorf("%w: height %d: chain %q, head's chain %q", ErrNotChained, h.Height, h.ChainID, head.ChainID)
	case head != nil && h.Time.Before(head.Time):
		return fmt.Errorf("%w: height %d: time goes backwards", ErrNotChained, h.Height)
	}
	return nil
}

// PutHeader stores a header without its square, for nodes that keep only
// headers (light nodes): the header must extend the head exactly as for
// PutBlock. ODS, Blobs and the blob indexes then report ErrNotFound for that
// height. Errors wrap ErrInvalidBlock or ErrNotChained.
func (s *Store) PutHeader(h *header.Header) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.exit()
	if h == nil {
		return fmt.Errorf("%w: no header", ErrInvalidBlock)
	}
	if err := h.ValidateBasic(); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidBlock, err)
	}
	headerV := encodeHeader(h)
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if err := extendsHead(s.head, h); err != nil {
		return err
	}
	newHead, err := decodeHeader(headerV)
	if err != nil {
		return fmt.Errorf("store: re-reading the header: %w", err)
	}
	st := s.st
	return s.writeLocked(func(txn *badger.Txn) error {
		if err := txn.Set(headerKey(h.Height), headerV); err != nil {
			return err
		}
		if err := txn.Set(hashKey(h.Hash()), encodeHeight(h.Height)); err != nil {
			return err
		}
		st.head = h.Height
		return setState(txn, st)
	}, func() {
		s.mu.Lock()
		s.st, s.head = st, newHead
		s.mu.Unlock()
	})
}
