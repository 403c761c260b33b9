// Package producer turns queued submissions into signed blocks: it takes
// submissions from the store's persisted FIFO queue, lays them out in a
// square with share.Builder (blob transactions whose inner transaction is a
// blob.PayForBlobs record), extends the square, computes the data root,
// signs a compact header and stores block and header in one transaction.
//
// A block is sealed every block interval, or at once when the queue holds
// at least a full square of data, so throughput is bounded by the machine.
// Submissions that do not fit wait for the next block; submissions of one
// signer are included in the order they were queued. A submission that could
// never fit, even alone in an empty square of the maximum width, is refused
// when it is submitted.
package producer

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/tessera-da/tessera/blob"
	"github.com/tessera-da/tessera/erasure"
	"github.com/tessera-da/tessera/node/header"
	"github.com/tessera-da/tessera/node/store"
	"github.com/tessera-da/tessera/share"
)

// Errors.
var (
	ErrTooLarge  = errors.New("producer: submission can never fit in a block")
	ErrQueueFull = errors.New("producer: submission queue is full")
	ErrInvalid   = errors.New("producer: invalid submission")
)

// Params configure a Producer.
type Params struct {
	ChainID        string
	MaxSquareWidth int           // k, a power of two ≤ share.SquareSizeUpperBound
	BlockInterval  time.Duration // time between blocks when the queue is not full
	QueueMaxBytes  int64         // blob data bytes the queue may hold
	Key            ed25519.PrivateKey
	Now            func() time.Time // clock; nil means time.Now
	Logger         *slog.Logger     // nil discards
	// OnBlock, if set, is called after each block is stored, with the
	// block's extended square and roots (which it must not modify).
	OnBlock func(h *header.Header, eds *erasure.ExtendedSquare, dah *erasure.DAH, stats BlockStats)
}

// BlockStats describes one produced block.
type BlockStats struct {
	Submissions int
	Blobs       int
	DataBytes   int
	SquareWidth int
	Build       time.Duration // layout, extension, roots, signing and storing
}

// Producer builds blocks. Create it with New, run it with Run.
type Producer struct {
	p        Params
	st       *store.Store
	ext      *erasure.Extender
	wake     chan struct{}
	mu       sync.Mutex // serialises block writes
	capacity int        // bytes of blob data in a full square, roughly
	tamper   func(*erasure.ExtendedSquare)
}

// SetTamper installs a function that alters each extended square after
// extension and before its roots are computed, so that the producer commits
// to a badly encoded square. It exists for fault-injection tests of fraud
// proofs; nothing in a real node calls it. Call it before Run.
func (pr *Producer) SetTamper(fn func(*erasure.ExtendedSquare)) { pr.tamper = fn }

// New returns a producer over st.
func New(st *store.Store, p Params) (*Producer, error) {
	if p.ChainID == "" || len(p.Key) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("%w: chain ID and producer key are required", ErrInvalid)
	}
	if k := p.MaxSquareWidth; k < 1 || k > share.SquareSizeUpperBound || k&(k-1) != 0 {
		return nil, fmt.Errorf("%w: max square width %d", ErrInvalid, k)
	}
	if p.BlockInterval <= 0 || p.QueueMaxBytes <= 0 {
		return nil, fmt.Errorf("%w: block interval and queue size must be positive", ErrInvalid)
	}
	if p.Now == nil {
		p.Now = time.Now
	}
	if p.Logger == nil {
		p.Logger = slog.New(slog.DiscardHandler)
	}
	ext, err := erasure.NewExtender(erasure.DefaultParams(), erasure.NewLeopardCodec())
	if err != nil {
		return nil, err
	}
	return &Producer{
		p: p, st: st, ext: ext,
		wake:     make(chan struct{}, 1),
		capacity: p.MaxSquareWidth * p.MaxSquareWidth * share.ContinuationSparseShareContentSize,
	}, nil
}

// Submit validates blobs (one submission: all in one blob transaction, all
// with the same signer) and queues them. It returns the submission ID, whose
// receipt the store keeps.
func (pr *Producer) Submit(blobs []*blob.Blob) (uint64, error) {
	if len(blobs) == 0 {
		return 0, fmt.Errorf("%w: no blobs", ErrInvalid)
	}
	pfb, err := blob.NewPayForBlobs(blobs)
	if err != nil {
		return 0, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	sbs := make([]*share.Blob, len(blobs))
	size := 0
	for i, b := range blobs {
		sbs[i] = b.Blob
		size += len(b.Data())
	}
	btxBytes, err := share.MarshalBlobTx(pfb.Marshal(), sbs...)
	if err != nil {
		return 0, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	btx, _, err := share.UnmarshalBlobTx(btxBytes)
	if err != nil {
		return 0, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	b, err := share.NewBuilder(pr.p.MaxSquareWidth, share.SubtreeRootThreshold)
	if err != nil {
		return 0, err
	}
	if !b.AppendBlobTx(btx) {
		return 0, fmt.Errorf("%w: %d blobs with %d bytes of data need more than a %d×%d square (max square width %d); split the data into smaller submissions",
			ErrTooLarge, len(blobs), size, pr.p.MaxSquareWidth, pr.p.MaxSquareWidth, pr.p.MaxSquareWidth)
	}
	if q := pr.st.QueueBytes(); q+int64(size) > pr.p.QueueMaxBytes {
		return 0, fmt.Errorf("%w: %d bytes queued, limit %d; retry after the next blocks", ErrQueueFull, q, pr.p.QueueMaxBytes)
	}
	id, err := pr.st.Enqueue(store.Submission{Blobs: btxBytes, Size: size, Signer: pfb.Signer})
	if err != nil {
		return 0, err
	}
	if pr.st.QueueBytes() >= int64(pr.capacity) {
		pr.Wake()
	}
	return id, nil
}

// Wake asks the producer to seal a block now.
func (pr *Producer) Wake() {
	select {
	case pr.wake <- struct{}{}:
	default:
	}
}

// Run produces blocks until ctx ends. It pipelines: while one block is
// being written to the store, the next is laid out, extended and signed, so
// hashing and disk writes overlap. A block whose write fails is logged, the
// block built on top of it is discarded, and production resumes from the
// stored head at the next interval; nothing is stored half-way.
func (pr *Producer) Run(ctx context.Context) error {
	t := time.NewTicker(pr.p.BlockInterval)
	defer t.Stop()
	var (
		inflight chan error     // result of the previous block's write
		parent   *header.Header // the newest block built (stored or in flight)
		taken    map[uint64]bool
	)
	wait := func() error {
		if inflight == nil {
			return nil
		}
		err := <-inflight
		inflight = nil
		return err
	}
	defer wait()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-pr.wake:
		}
		for ctx.Err() == nil {
			if parent == nil {
				head, err := pr.st.Head()
				if err != nil && !errors.Is(err, store.ErrNotFound) {
					pr.p.Logger.Error("reading the head", "err", err)
					break
				}
				parent = head
			}
			b, err := pr.build(parent, taken)
			if werr := wait(); werr != nil {
				pr.p.Logger.Error("storing a block failed; rebuilding from the stored head", "err", werr)
				parent, taken = nil, nil
				continue
			}
			if err != nil {
				pr.p.Logger.Error("building a block failed", "err", err)
				parent, taken = nil, nil
				break
			}
			inflight = make(chan error, 1)
			go func(b *builtBlock, done chan<- error) { done <- pr.commit(b) }(b, inflight)
			parent, taken = b.blk.Header, b.ids
			// Keep going at once while a full square is waiting beyond
			// what was just taken; otherwise wait for the next tick.
			if pr.st.QueueBytes()-int64(b.stats.DataBytes) < int64(pr.capacity) {
				break
			}
			t.Reset(pr.p.BlockInterval)
		}
	}
}

// builtBlock is a signed block ready to be stored.
type builtBlock struct {
	blk   *store.Block
	eds   *erasure.ExtendedSquare
	dah   *erasure.DAH
	ids   map[uint64]bool // the submissions it includes
	stats BlockStats
	start time.Time
}

// ProduceBlock builds, signs and stores one block on top of the stored
// head. It reports whether the queue still holds at least a full square of
// data.
func (pr *Producer) ProduceBlock() (queueFull bool, err error) {
	head, err := pr.st.Head()
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return false, err
	}
	b, err := pr.build(head, nil)
	if err != nil {
		return false, err
	}
	if err := pr.commit(b); err != nil {
		return false, err
	}
	return pr.st.QueueBytes() >= int64(pr.capacity), nil
}

// build lays out the oldest queued submissions that fit (skipping those in
// exclude, which a block being stored already includes), extends the square,
// computes the data root and signs a header on top of parent (nil for the
// first block).
func (pr *Producer) build(parent *header.Header, exclude map[uint64]bool) (*builtBlock, error) {
	start := time.Now()
	pending, err := pr.st.Pending(pr.p.MaxSquareWidth*pr.p.MaxSquareWidth, 2*pr.capacity+pr.capacity)
	if err != nil {
		return nil, err
	}
	b, err := share.NewBuilder(pr.p.MaxSquareWidth, share.SubtreeRootThreshold)
	if err != nil {
		return nil, err
	}
	type taken struct {
		id   uint64
		pfb  *blob.PayForBlobs
		size int
	}
	var included []taken
	blocked := map[string]bool{} // signers with a queued submission that did not fit
	for _, q := range pending {
		if exclude[q.ID] || blocked[string(q.Signer)] {
			continue
		}
		btx, ok, err := share.UnmarshalBlobTx(q.Blobs)
		var pfb *blob.PayForBlobs
		if err == nil && ok {
			pfb, err = blob.UnmarshalPayForBlobs(btx.Tx)
		}
		if err != nil || !ok {
			// Only a damaged queue entry gets here: Submit validated it.
			_ = pr.st.Drop(q.ID, fmt.Sprintf("unreadable queued submission: %v", err))
			continue
		}
		if !b.AppendBlobTx(btx) {
			blocked[string(q.Signer)] = true
			continue
		}
		included = append(included, taken{q.ID, pfb, q.Size})
	}
	sq, layout, err := b.ExportLayout()
	if err != nil {
		return nil, err
	}
	k := layout.SquareSize
	ods := sq.Bytes()
	eds, err := pr.ext.ExtendFlat(ods)
	if err != nil {
		return nil, err
	}
	if pr.tamper != nil {
		pr.tamper(eds)
	}
	dah, err := pr.ext.ComputeDAH(eds)
	if err != nil {
		return nil, err
	}
	h := &header.Header{
		ChainID:     pr.p.ChainID,
		Height:      1,
		Time:        pr.p.Now().UTC(),
		SquareWidth: uint32(k),
	}
	copy(h.DataRoot[:], dah.Hash())
	if parent != nil {
		h.Height = parent.Height + 1
		h.PrevHash = parent.Hash()
		if h.Time.Before(parent.Time) {
			h.Time = parent.Time
		}
	}
	h.Sign(pr.p.Key)
	out := &builtBlock{blk: &store.Block{Header: h, ODS: ods}, eds: eds, dah: dah, ids: map[uint64]bool{}, start: start}
	out.stats = BlockStats{Submissions: len(included), SquareWidth: k}
	for txi, t := range included {
		out.ids[t.id] = true
		out.blk.Done = append(out.blk.Done, store.Included{ID: t.id, TxIndex: uint32(txi)})
		out.stats.DataBytes += t.size
		for bi, pl := range layout.BlobsByTx[txi] {
			e := store.NewBlobIndex(pl, k, txi, bi)
			e.Commitment = t.pfb.Blobs[bi].Commitment
			out.blk.Blobs = append(out.blk.Blobs, e)
			out.stats.Blobs++
		}
	}
	return out, nil
}

// commit stores a built block and announces it.
func (pr *Producer) commit(b *builtBlock) error {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	if err := pr.st.PutBlock(b.blk); err != nil {
		return err
	}
	b.stats.Build = time.Since(b.start)
	if pr.p.OnBlock != nil {
		pr.p.OnBlock(b.blk.Header, b.eds, b.dah, b.stats)
	}
	return nil
}
