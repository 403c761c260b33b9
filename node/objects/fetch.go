package objects

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tessera-da/tessera/blob"
	"github.com/tessera-da/tessera/blob/dataset"
	"github.com/tessera-da/tessera/nmt/merkle"
	"github.com/tessera-da/tessera/node/api"
	"github.com/tessera-da/tessera/node/header"
	"github.com/tessera-da/tessera/node/rpc"
	"github.com/tessera-da/tessera/share"
)

// DefaultFetchParallel is how many pages a read fetches at once when
// ReadOptions.Parallel is zero.
const DefaultFetchParallel = 12

// maxFetchParallel bounds ReadOptions.Parallel (pages in memory at once).
const maxFetchParallel = 256

// ReadOptions configure reads (GetRangeWith, Download, Verify).
type ReadOptions struct {
	// Parallel is how many pages are fetched at once, and so at most how
	// many pages are in memory besides the result; 0 means
	// DefaultFetchParallel.
	Parallel int
	// Progress, if set, is called after each verified page with the bytes
	// done and the bytes in total. Calls are serialized.
	Progress func(done, total uint64)
	// PieceTimeout bounds each dataset.GetPiece call before the page is
	// fetched as a blob instead; 0 means DefaultPieceTimeout, negative
	// means never ask for pieces. After maxPieceMisses pieces in a row
	// fail, a read stops asking.
	PieceTimeout time.Duration
}

// DefaultPieceTimeout bounds one dataset.GetPiece call of a read.
const DefaultPieceTimeout = time.Second

// maxPieceMisses is how many dataset.GetPiece calls in a row may fail
// before a read fetches the rest of its pages as blobs.
const maxPieceMisses = 2

func (o ReadOptions) parallel() (int, error) {
	switch {
	case o.Parallel == 0:
		return DefaultFetchParallel, nil
	case o.Parallel < 0 || o.Parallel > maxFetchParallel:
		return 0, fmt.Errorf("%w: parallel %d not in [1, %d]", ErrInvalid, o.Parallel, maxFetchParallel)
	}
	return o.Parallel, nil
}

// inclusionKey names one blob in one block.
type inclusionKey struct {
	height     uint64
	ns         share.Namespace
	commitment [blob.CommitmentSize]byte
}

// once is a value computed at most once by whoever asks first.
type once[T any] struct {
	done chan struct{}
	v    T
	err  error
}

// fetcher fetches and verifies blobs and pages through one Caller. It
// caches each height's data root and each blob inclusion it has verified,
// so a height's header and a blob's commitment proof are fetched once.
type fetcher struct {
	c            Caller
	pieceTimeout time.Duration // ≤ 0: no pieces
	pieceMisses  atomic.Int32  // dataset.GetPiece failures in a row

	mu        sync.Mutex
	roots     map[uint64]*once[[32]byte]
	inclusion map[inclusionKey]*once[struct{}]
}

func newFetcher(c Caller) *fetcher {
	return &fetcher{c: c, pieceTimeout: DefaultPieceTimeout, roots: map[uint64]*once[[32]byte]{}, inclusion: map[inclusionKey]*once[struct{}]{}}
}

// newReadFetcher is newFetcher with o's piece timeout.
func newReadFetcher(c Caller, o ReadOptions) *fetcher {
	f := newFetcher(c)
	if o.PieceTimeout != 0 {
		f.pieceTimeout = o.PieceTimeout
	}
	return f
}

// memo runs f once per key of m and returns its result to every caller.
// A result that failed because ctx ended is forgotten, so a later call
// retries.
func memo[K comparable, T any](ctx context.Context, mu *sync.Mutex, m map[K]*once[T], k K, f func() (T, error)) (T, error) {
	mu.Lock()
	o, ok := m[k]
	if !ok {
		o = &once[T]{done: make(chan struct{})}
		m[k] = o
	}
	mu.Unlock()
	if !ok {
		o.v, o.err = f()
		if o.err != nil {
			mu.Lock()
			delete(m, k)
			mu.Unlock()
		}
		close(o.done)
	}
	select {
	case <-o.done:
		return o.v, o.err
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
}

// HeaderSource gives headers its owner has verified. A Caller that is
// also a HeaderSource (node/client's Client, which checks headers against
// the producer's key) supplies every data root a read checks against;
// from any other Caller headers are taken from the node as served.
type HeaderSource interface {
	Header(ctx context.Context, height uint64) (*header.Header, error)
}

// dataRoot returns the data root of the header at height (fetched once).
func (f *fetcher) dataRoot(ctx context.Context, height uint64) ([32]byte, error) {
	return memo(ctx, &f.mu, f.roots, height, func() ([32]byte, error) {
		if hs, ok := f.c.(HeaderSource); ok {
			h, err := hs.Header(ctx, height)
			if err != nil {
				return [32]byte{}, fmt.Errorf("header %d: %w", height, err)
			}
			return [32]byte(h.DataRoot), nil
		}
		var eh api.ExtendedHeader
		if err := f.c.Call(ctx, "header.GetByHeight", &eh, height); err != nil {
			return [32]byte{}, fmt.Errorf("header %d: %w", height, err)
		}
		if eh.Tessera == nil {
			return [32]byte{}, fmt.Errorf("%w: header %d has no compact header", ErrMismatch, height)
		}
		if eh.Tessera.Height != height {
			return [32]byte{}, fmt.Errorf("%w: asked for header %d, got %d", ErrMismatch, height, eh.Tessera.Height)
		}
		var r [32]byte
		copy(r[:], eh.Tessera.DataRoot[:])
		return r, nil
	})
}

// verifyIncluded checks, once per (height, namespace, commitment), the
// blob's commitment proof against the data root of its block.
func (f *fetcher) verifyIncluded(ctx context.Context, height uint64, ns share.Namespace, commitment []byte) error {
	if len(commitment) != blob.CommitmentSize {
		return fmt.Errorf("%w: commitment is %d bytes", ErrMismatch, len(commitment))
	}
	k := inclusionKey{height: height, ns: ns}
	copy(k.commitment[:], commitment)
	_, err := memo(ctx, &f.mu, f.inclusion, k, func() (struct{}, error) {
		root, err := f.dataRoot(ctx, height)
		if err != nil {
			return struct{}{}, err
		}
		var cp blob.CommitmentProof
		if err := f.c.Call(ctx, "blob.GetCommitmentProof", &cp, height, ns, blob.Commitment(commitment)); err != nil {
			return struct{}{}, fmt.Errorf("commitment proof at height %d: %w", height, err)
		}
		if err := cp.Verify(root[:], ns, commitment); err != nil {
			return struct{}{}, fmt.Errorf("%w: commitment proof at height %d: %w", ErrMismatch, height, err)
		}
		return struct{}{}, nil
	})
	return err
}

// getBlob fetches the blob (height, ns, commitment) and checks that it is
// that blob and that its commitment is proven under its block's data root.
func (f *fetcher) getBlob(ctx context.Context, height uint64, ns share.Namespace, commitment []byte) (*blob.Blob, error) {
	var b blob.Blob
	if err := f.c.Call(ctx, "blob.Get", &b, height, ns, blob.Commitment(commitment)); err != nil {
		return nil, fmt.Errorf("blob.Get at height %d: %w", height, err)
	}
	// The JSON decoder recomputed the commitment from the content.
	if !bytes.Equal(b.Commitment(), commitment) || b.Namespace() != ns {
		return nil, fmt.Errorf("%w: the node returned another blob (namespace %s, commitment %x) for %x at height %d",
			ErrMismatch, b.Namespace(), []byte(b.Commitment()), commitment, height)
	}
	if err := f.verifyIncluded(ctx, height, ns, commitment); err != nil {
		return nil, err
	}
	return &b, nil
}

// manifest fetches, parses and verifies the manifest ref names: its blob
// is proven under its block's data root, it is canonical and signed by its
// publisher key, and its ID is ref.ID.
func (f *fetcher) manifest(ctx context.Context, ref Ref) (*dataset.Manifest, error) {
	if len(ref.Commitment) != blob.CommitmentSize {
		return nil, fmt.Errorf("%w: ref commitment is %d bytes", ErrInvalid, len(ref.Commitment))
	}
	mb, err := f.getBlob(ctx, ref.Height, ref.Namespace, ref.Commitment)
	if err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	m, err := dataset.ParseManifest(mb.Data())
	if err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	if err := m.Verify(); err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	id, err := m.ID()
	if err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	if id != ref.ID {
		return nil, fmt.Errorf("%w: manifest ID %x, the ref names %x", ErrMismatch, id, ref.ID)
	}
	return m, nil
}

// isMethodNotFound reports whether err is the node saying it has no such
// method.
func isMethodNotFound(err error) bool {
	var re *rpc.Error
	return errors.As(err, &re) && re.Code == rpc.CodeMethodNotFound
}

// page fetches page e and verifies it: first from the node's piece store
// (dataset.GetPiece by SHA-256), then, if that fails or gives wrong bytes,
// as its blob (blob.Get). Bytes are returned only when their length and
// SHA-256 match the entry, the entry is proven under root, the blob
// commitment recomputed from (entry namespace, bytes) is the entry's, and
// that commitment is proven under the data root of the entry's block.
func (f *fetcher) page(ctx context.Context, root dataset.PageRoot, e dataset.PageEntry, proof merkle.Proof) ([]byte, error) {
	var pieceErr error
	if f.pieceTimeout > 0 && f.pieceMisses.Load() < maxPieceMisses {
		var data []byte
		pctx, cancel := context.WithTimeout(ctx, f.pieceTimeout)
		err := f.c.Call(pctx, "dataset.GetPiece", &data, e.SHA256[:])
		cancel()
		switch {
		case err == nil:
			if pieceErr = f.checkPage(ctx, root, e, proof, data, nil); pieceErr == nil {
				f.pieceMisses.Store(0)
				return data, nil
			}
		case ctx.Err() != nil:
			return nil, ctx.Err()
		case isMethodNotFound(err) || strings.Contains(err.Error(), api.ErrNoPieces.Error()):
			f.pieceMisses.Store(maxPieceMisses) // the node has no pieces at all
		default:
			f.pieceMisses.Add(1)
			pieceErr = err
		}
	}
	b, err := f.getBlob(ctx, e.Height, e.Namespace, e.Commitment[:])
	if err == nil {
		err = f.checkPage(ctx, root, e, proof, b.Data(), b)
	}
	if err != nil {
		if pieceErr != nil {
			return nil, fmt.Errorf("page %d: %w (dataset.GetPiece: %v)", e.Index, err, pieceErr)
		}
		return nil, fmt.Errorf("page %d: %w", e.Index, err)
	}
	return b.Data(), nil
}

// checkPage verifies page bytes against their entry (see page). b is the
// blob they came in, already checked against the entry's commitment and
// block, or nil for bytes from elsewhere.
func (f *fetcher) checkPage(ctx context.Context, root dataset.PageRoot, e dataset.PageEntry, proof merkle.Proof, data []byte, b *blob.Blob) error {
	if err := dataset.VerifyPage(root, e, proof, data); err != nil {
		return fmt.Errorf("%w: %w", ErrMismatch, err)
	}
	if b != nil {
		return nil
	}
	nb, err := blob.New(e.Namespace, data, share.ShareVersionZero, nil)
	if err != nil {
		return fmt.Errorf("%w: page %d as a blob: %w", ErrMismatch, e.Index, err)
	}
	if !bytes.Equal(nb.Commitment(), e.Commitment[:]) {
		return fmt.Errorf("%w: page %d bytes commit to %x, the entry says %x", ErrMismatch, e.Index, []byte(nb.Commitment()), e.Commitment)
	}
	return f.verifyIncluded(ctx, e.Height, e.Namespace, e.Commitment[:])
}

// fetchPages fetches and verifies the pages idx of tree's manifest, at
// most parallel at once, and hands each to fn (called concurrently, in any order). It stops
// at the first error, which it returns.
func (f *fetcher) fetchPages(ctx context.Context, tree *dataset.PageTree, idx []uint64, parallel int, fn func(i uint64, data []byte) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		next    atomic.Int64
		errOnce sync.Once
		first   error
		wg      sync.WaitGroup
	)
	fail := func(err error) {
		errOnce.Do(func() { first = err; cancel() })
	}
	for range min(parallel, len(idx)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				k := next.Add(1) - 1
				if k >= int64(len(idx)) || ctx.Err() != nil {
					return
				}
				i := idx[k]
				e, proof, err := tree.Prove(i)
				if err != nil {
					fail(err)
					return
				}
				data, err := f.page(ctx, tree.Root(), e, proof)
				if err == nil {
					err = fn(i, data)
				}
				if err != nil {
					fail(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	return first
}

// progress serializes progress reports.
type progress struct {
	mu          sync.Mutex
	done, total uint64
	fn          func(done, total uint64)
}

func (p *progress) add(n uint64) {
	if p == nil || p.fn == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done += n
	p.fn(p.done, p.total)
}
