package bulk

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/ipfs/boxo/bitswap"
	bsnet "github.com/ipfs/boxo/bitswap/network/bsnet"
	"github.com/ipfs/boxo/blockstore"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	ds "github.com/ipfs/go-datastore"
	ipld "github.com/ipfs/go-ipld-format"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/core/routing"
	"github.com/multiformats/go-multihash"
)

// Sentinel errors. Every error this package returns for one of these causes
// wraps the sentinel with context; test with errors.Is.
var (
	// ErrInvalidParams: a Params field is out of range.
	ErrInvalidParams = errors.New("bulk: invalid params")
	// ErrInvalidArgument: a nil host, router or datastore.
	ErrInvalidArgument = errors.New("bulk: invalid argument")
	// ErrInvalidCID: the CID is not a piece ID (CIDv1, raw codec, sha2-256).
	ErrInvalidCID = errors.New("bulk: not a piece CID (CIDv1, raw, sha2-256)")
	// ErrTooLarge: the piece is larger than MaxPieceSize.
	ErrTooLarge = errors.New("bulk: piece larger than MaxPieceSize")
	// ErrMismatch: bytes do not hash to the CID they were given for.
	ErrMismatch = errors.New("bulk: bytes do not match the CID")
	// ErrRejected: the caller's verify function refused the piece; the
	// error also wraps what verify returned.
	ErrRejected = errors.New("bulk: piece rejected by verify")
	// ErrNotFound: no peer delivered the piece before the context ended;
	// the error also wraps the context's error.
	ErrNotFound = errors.New("bulk: piece not found")
	// ErrClosed: the Bulk is closed.
	ErrClosed = errors.New("bulk: closed")
)

// ComputeCID returns the piece ID of data: a CIDv1 with the raw codec and
// the sha2-256 multihash of data.
func ComputeCID(data []byte) cid.Cid { return PieceCID(sha256.Sum256(data)) }

// PieceCID returns the piece ID of bytes whose SHA-256 is d (a manifest
// entry's digest, for example): ComputeCID without the bytes.
func PieceCID(d [sha256.Size]byte) cid.Cid {
	mh, err := multihash.Encode(d[:], multihash.SHA2_256)
	if err != nil {
		panic(err) // a 32-byte sha2-256 digest always encodes
	}
	return cid.NewCidV1(cid.Raw, mh)
}

// pieceDigest returns the sha2-256 digest c names, or ErrInvalidCID.
func pieceDigest(c cid.Cid) ([sha256.Size]byte, error) {
	var d [sha256.Size]byte
	if !c.Defined() || c.Version() != 1 || c.Type() != cid.Raw {
		return d, fmt.Errorf("%w: %s", ErrInvalidCID, c)
	}
	dm, err := multihash.Decode(c.Hash())
	if err != nil || dm.Code != multihash.SHA2_256 || len(dm.Digest) != sha256.Size {
		return d, fmt.Errorf("%w: %s", ErrInvalidCID, c)
	}
	copy(d[:], dm.Digest)
	return d, nil
}

// VerifyPiece checks that c is a piece ID, that data is at most
// MaxPieceSize bytes and that data hashes to c.
func VerifyPiece(c cid.Cid, data []byte) error {
	d, err := pieceDigest(c)
	if err != nil {
		return err
	}
	if len(data) > MaxPieceSize {
		return fmt.Errorf("%w: %s is %d bytes, at most %d", ErrTooLarge, c, len(data), MaxPieceSize)
	}
	if sha256.Sum256(data) != d {
		return fmt.Errorf("%w: %d bytes for %s", ErrMismatch, len(data), c)
	}
	return nil
}

// Stats are counters since New.
type Stats struct {
	Provided      uint64 // announcements that succeeded
	ProvideFailed uint64 // announcements given up after Params.ProvideAttempts (the next sweep retries)
	Fetched       uint64 // pieces fetched from peers, verified and stored
	Rejected      uint64 // pieces refused: not matching their CID, too large, or refused by verify
	BlocksSent    uint64 // pieces served to peers
	DataSent      uint64 // bytes served to peers
	Banned        uint64 // peers banned for lying (ErrLied)
	FetchRetries  uint64 // fetch attempts dropped after FetchAttemptTimeout and started again
}

// Bulk stores content-addressed pieces in a blockstore on a go-datastore,
// serves them over bitswap and fetches missing ones from peers found
// through the router. Its methods are safe for concurrent use.
type Bulk struct {
	p      Params
	log    *slog.Logger
	h      host.Host
	router routing.ContentRouting
	bs     blockstore.Blockstore
	bswap  *bitswap.Bitswap
	guard  *guard
	locks  [64]sync.Mutex // by the digest's last byte: orders writes of one piece

	ctx    context.Context // ends at Close
	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once

	fresh    chan cid.Cid  // newly stored pieces to announce
	sweep    chan cid.Cid  // stored pieces enumerated by a sweep
	sweepNow chan struct{} // asks for a sweep (fresh overflowed)

	provided, provideFailed, fetched, rejected, attempts atomic.Uint64
}

// New starts a Bulk on host h, storing pieces in d (under boxo's /blocks
// namespace) and finding providers with router, normally the node's
// kad-dht. ctx bounds the start only; the Bulk runs until Close. Close does
// not close h, router or d.
func New(ctx context.Context, h host.Host, router routing.ContentRouting, d ds.Batching, p Params) (*Bulk, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if h == nil || router == nil || d == nil {
		return nil, fmt.Errorf("%w: host, router and datastore are required", ErrInvalidArgument)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	log := p.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	b := &Bulk{
		p:        p,
		log:      log.With("component", "bulk"),
		h:        h,
		router:   router,
		bs:       blockstore.NewBlockstore(d, blockstore.WriteThrough(true)),
		fresh:    make(chan cid.Cid, freshQueue),
		sweep:    make(chan cid.Cid),
		sweepNow: make(chan struct{}, 1),
	}
	b.ctx, b.cancel = context.WithCancel(context.WithoutCancel(ctx))
	b.guard = newGuard(bsnet.NewFromIpfsHost(h,
		bsnet.Prefix(ProtocolPrefix(p.ChainID)),
		bsnet.SupportedProtocols([]protocol.ID{bitswapVersion})), b)
	b.wg.Add(1)
	go b.guard.pruner()
	b.bswap = bitswap.New(b.ctx, b.guard, router, b.bs,
		bitswap.WithTargetMessageSize(TargetMessageSize),
		bitswap.ProviderSearchDelay(p.ProviderSearchDelay),
		bitswap.WithoutDuplicatedBlockStats(),
	)
	if !p.NoAnnounce {
		b.wg.Add(1 + p.ProvideWorkers)
		go b.sweeper()
		for range p.ProvideWorkers {
			go b.announcer()
		}
	}
	return b, nil
}

// lock returns the mutex that orders writes of the piece with digest d.
func (b *Bulk) lock(d [sha256.Size]byte) *sync.Mutex { return &b.locks[d[len(d)-1]%byte(len(b.locks))] }

func (b *Bulk) closed() error {
	if b.ctx.Err() != nil {
		return ErrClosed
	}
	return nil
}

// Put stores data (at most MaxPieceSize bytes) as a piece and returns its
// CID (ComputeCID). It returns once the piece is durable in the datastore;
// the piece is then served to peers and announced in the background. A
// piece stored already is not written again, unless its stored bytes no
// longer match (then they are replaced). data is copied: the caller may
// reuse it.
func (b *Bulk) Put(ctx context.Context, data []byte) (cid.Cid, error) {
	if err := b.closed(); err != nil {
		return cid.Undef, err
	}
	if len(data) > MaxPieceSize {
		return cid.Undef, fmt.Errorf("%w: %d bytes, at most %d", ErrTooLarge, len(data), MaxPieceSize)
	}
	d := sha256.Sum256(data)
	c := PieceCID(d)
	return c, b.put(ctx, c, d, data)
}

// PutPiece is Put for a caller that knows the piece ID to expect (from a
// manifest entry's digest): it stores data as piece c only if data is a
// piece and hashes to c (VerifyPiece: ErrInvalidCID, ErrTooLarge or
// ErrMismatch otherwise), hashing the bytes once.
func (b *Bulk) PutPiece(ctx context.Context, c cid.Cid, data []byte) error {
	if err := b.closed(); err != nil {
		return err
	}
	if err := VerifyPiece(c, data); err != nil {
		return err
	}
	d, _ := pieceDigest(c) // checked by VerifyPiece
	return b.put(ctx, c, d, data)
}

// put stores a copy of data, whose digest d and CID c are checked.
func (b *Bulk) put(ctx context.Context, c cid.Cid, d [sha256.Size]byte, data []byte) error {
	blk, err := blocks.NewBlockWithCid(bytes.Clone(data), c)
	if err != nil {
		return fmt.Errorf("bulk: put %s: %w", c, err)
	}
	if _, err := b.store(ctx, d, blk); err != nil {
		return fmt.Errorf("bulk: put %s: %w", c, err)
	}
	return nil
}

// store writes blk (whose bytes match its CID) unless a matching copy is
// stored, then hands it to bitswap (peers waiting for it get it) and to the
// announcer. It reports whether it wrote.
func (b *Bulk) store(ctx context.Context, d [sha256.Size]byte, blk blocks.Block) (bool, error) {
	mu := b.lock(d)
	mu.Lock()
	stored, err := b.storedOK(ctx, blk.Cid(), d)
	if err == nil && !stored {
		err = b.bs.Put(ctx, blk)
	}
	mu.Unlock()
	if err != nil || stored {
		return false, err
	}
	if err := b.bswap.NotifyNewBlocks(ctx, blk); err != nil {
		b.log.Debug("notify bitswap", "cid", blk.Cid(), "err", err)
	}
	b.announce(blk.Cid())
	return true, nil
}

// storedOK reports whether a copy of c matching digest d is stored.
func (b *Bulk) storedOK(ctx context.Context, c cid.Cid, d [sha256.Size]byte) (bool, error) {
	has, err := b.bs.Has(ctx, c)
	if err != nil || !has {
		return false, err
	}
	blk, err := b.bs.Get(ctx, c)
	if err != nil {
		return false, nil // unreadable: rewrite it
	}
	return sha256.Sum256(blk.RawData()) == d, nil
}

// Get returns the bytes of piece c: from the datastore, or else from peers
// (those connected, then providers found through the router) until ctx
// ends. The bytes always hash to c and are at most MaxPieceSize; a fetched
// piece is stored, served and announced. A stored copy that no longer
// matches c is deleted and fetched again. The returned slice is the
// caller's.
func (b *Bulk) Get(ctx context.Context, c cid.Cid) ([]byte, error) {
	return b.GetVerified(ctx, c, nil)
}

// GetVerified is Get with a check of the caller's (for example the piece's
// entry in a manifest): verify, if not nil, sees the bytes after they were
// checked against c and before they are stored or returned, and must not
// modify or keep them. A piece verify refuses is neither stored nor
// returned, and the error wraps ErrRejected and verify's error.
func (b *Bulk) GetVerified(ctx context.Context, c cid.Cid, verify func([]byte) error) ([]byte, error) {
	if err := b.closed(); err != nil {
		return nil, err
	}
	d, err := pieceDigest(c)
	if err != nil {
		return nil, err
	}
	data, err := b.local(ctx, c, d)
	if err != nil {
		return nil, err
	}
	if data != nil {
		if err := b.check(c, data, verify); err != nil {
			return nil, err
		}
		return data, nil
	}
	blk, err := b.fetch(ctx, c)
	if err != nil {
		return nil, err
	}
	// The block's bytes may be shared with other sessions waiting for c
	// (which copy them too): check and return a copy that is the caller's
	// alone, and store the block, whose bytes are the same.
	data = bytes.Clone(blk.RawData())
	if err := VerifyPiece(c, data); err != nil {
		b.rejected.Add(1)
		b.log.Warn("refused fetched piece", "cid", c, "err", err)
		return nil, err
	}
	if err := b.check(c, data, verify); err != nil {
		return nil, err
	}
	wrote, err := b.store(ctx, d, blk)
	if err != nil {
		return nil, fmt.Errorf("bulk: store fetched %s: %w", c, err)
	}
	if wrote {
		b.fetched.Add(1)
	}
	return data, nil
}

// fetch gets c from peers in attempts of Params.FetchAttemptTimeout, each
// a new bitswap session, until ctx ends.
func (b *Bulk) fetch(ctx context.Context, c cid.Cid) (blocks.Block, error) {
	for {
		actx, cancel := context.WithTimeout(ctx, b.p.FetchAttemptTimeout)
		blk, err := b.bswap.GetBlock(actx, c)
		cancel()
		switch {
		case err == nil:
			return blk, nil
		case ctx.Err() != nil:
			return nil, fmt.Errorf("%w: %s: %w", ErrNotFound, c, ctx.Err())
		case b.ctx.Err() != nil:
			return nil, ErrClosed
		case actx.Err() != nil:
			b.attempts.Add(1)
			b.log.Debug("fetch attempt timed out; starting another", "cid", c, "after", b.p.FetchAttemptTimeout)
		default:
			return nil, fmt.Errorf("bulk: get %s: %w", c, err)
		}
	}
}

// local returns the stored bytes of c, nil if none. A stored copy that does
// not match c is deleted (under the piece's lock, if it still does not).
func (b *Bulk) local(ctx context.Context, c cid.Cid, d [sha256.Size]byte) ([]byte, error) {
	blk, err := b.bs.Get(ctx, c)
	if ipld.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("bulk: read %s: %w", c, err)
	}
	data := blk.RawData()
	if sha256.Sum256(data) == d && len(data) <= MaxPieceSize {
		return data, nil
	}
	b.log.Warn("stored piece does not match its CID; deleting it", "cid", c, "bytes", len(data))
	mu := b.lock(d)
	mu.Lock()
	defer mu.Unlock()
	if ok, err := b.storedOK(ctx, c, d); err != nil || ok {
		return nil, err // replaced meanwhile: the next Get reads it
	}
	if err := b.bs.DeleteBlock(ctx, c); err != nil {
		return nil, fmt.Errorf("bulk: delete mismatched %s: %w", c, err)
	}
	return nil, nil
}

// check runs verify on data.
func (b *Bulk) check(c cid.Cid, data []byte, verify func([]byte) error) error {
	if verify == nil {
		return nil
	}
	if err := verify(data); err != nil {
		b.rejected.Add(1)
		return fmt.Errorf("%w: %s: %w", ErrRejected, c, err)
	}
	return nil
}

// Has reports whether piece c is stored (without checking its bytes).
func (b *Bulk) Has(ctx context.Context, c cid.Cid) (bool, error) {
	if err := b.closed(); err != nil {
		return false, err
	}
	if _, err := pieceDigest(c); err != nil {
		return false, err
	}
	has, err := b.bs.Has(ctx, c)
	if err != nil {
		return false, fmt.Errorf("bulk: has %s: %w", c, err)
	}
	return has, nil
}

// Stats returns the counters.
func (b *Bulk) Stats() Stats {
	st := Stats{
		Provided:      b.provided.Load(),
		ProvideFailed: b.provideFailed.Load(),
		Fetched:       b.fetched.Load(),
		Rejected:      b.rejected.Load(),
		Banned:        b.guard.bans.Load(),
		FetchRetries:  b.attempts.Load(),
	}
	if bs, err := b.bswap.Stat(); err == nil {
		st.BlocksSent, st.DataSent = bs.BlocksSent, bs.DataSent
	}
	return st
}

// Close stops serving, fetching and announcing, and waits for its
// goroutines. Calls in flight return ErrClosed or their context's error.
// It does not close the host, the router or the datastore. Close is
// idempotent.
func (b *Bulk) Close() error {
	b.once.Do(func() {
		b.cancel()
		b.wg.Wait()
		b.bswap.Close()
		for _, id := range Protocols(b.p.ChainID) {
			b.h.RemoveStreamHandler(id)
		}
	})
	return nil
}
