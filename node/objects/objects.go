package objects

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tessera-da/tessera/blob"
	"github.com/tessera-da/tessera/blob/dataset"
	"github.com/tessera-da/tessera/node/api"
	"github.com/tessera-da/tessera/share"
)

// Caller is a JSON-RPC client (rpc.Client satisfies it).
type Caller interface {
	Call(ctx context.Context, method string, result any, params ...any) error
}

// Errors. Every error of this package that is not the node's or the
// context's wraps one of them (or a dataset sentinel).
var (
	// ErrInvalid: an argument or option out of range.
	ErrInvalid = errors.New("objects: invalid argument")
	// ErrMismatch: bytes, a blob, a proof or a manifest that do not match
	// what the manifest or the ref says.
	ErrMismatch = errors.New("objects: data does not match its manifest")
	// ErrJournal: an upload journal or download state file that is not
	// one, or belongs to another transfer.
	ErrJournal = errors.New("objects: bad transfer state file")
)

// Options configure Put.
type Options struct {
	PageSize  uint64             // bytes per page blob; 0 means DefaultPageSize
	Parallel  int                // pages read and submitted at once (pages in memory); 0 means 8
	MediaType string             // e.g. application/octet-stream
	Key       ed25519.PrivateKey // the publisher's key
	Dataset   *dataset.Manifest  // optional dataset fields (name, version, source, …); its page fields are ignored
	Poll      time.Duration      // receipt polling period; 0 means 50 ms

	// PageKind and ManifestKind choose the namespaces (dataset.Namespace
	// with the scope); zero means DatasetPages and DatasetManifest.
	// Checkpoints use CheckpointChunks and CheckpointManifest.
	PageKind, ManifestKind dataset.Kind

	// Journal, if set, is the path of an upload journal: every included
	// page's entry (and finally the manifest's ref) is appended to it and
	// synced. Rerunning Put with the same journal, scope, size and page
	// size resubmits only the pages whose entry is missing, whose bytes
	// changed, or whose blob can no longer be proven included, and returns
	// the journaled ref when the manifest was already published.
	Journal string

	// Progress, if set, is called after each included page with the bytes
	// done and the object size. Calls are serialized.
	Progress func(done, total uint64)
}

// DefaultPageSize is the default page: 1 MiB (bytes).
const DefaultPageSize = 1 << 20

// MaxGetBytes bounds what Get and GetRange return in memory: 8 GiB
// (bytes). Download writes larger objects to a file.
const MaxGetBytes = 8 << 30

// Ref locates a published record (manifest, run, checkpoint, proof): the
// REF.json the CLI prints. It is the API's Ref.
type Ref = api.Ref

// Put reads an object of size bytes from r page by page, submits the
// pages in parallel (each may land in a different block; at most
// Parallel pages are in memory at once), then publishes the signed
// manifest naming every page's block, namespace and commitment. scope
// names the object (its namespaces derive from it). A read error or a
// short read fails with an error naming the page, and no manifest is
// published; pages already submitted are still waited for (and
// journaled), so a rerun with the journal skips them.
func Put(ctx context.Context, c Caller, scope []byte, r io.ReaderAt, size int64, o Options) (*Ref, error) {
	if o.PageSize == 0 {
		o.PageSize = DefaultPageSize
	}
	if o.Parallel == 0 {
		o.Parallel = 8
	}
	if o.Poll <= 0 {
		o.Poll = 50 * time.Millisecond
	}
	if o.PageKind == 0 {
		o.PageKind = dataset.DatasetPages
	}
	if o.ManifestKind == 0 {
		o.ManifestKind = dataset.DatasetManifest
	}
	if len(o.Key) != ed25519.PrivateKeySize || size <= 0 {
		return nil, fmt.Errorf("%w: a publisher key and non-empty data are required", ErrInvalid)
	}
	if o.Parallel < 0 || o.Parallel > maxFetchParallel {
		return nil, fmt.Errorf("%w: parallel %d not in [1, %d]", ErrInvalid, o.Parallel, maxFetchParallel)
	}
	if o.PageSize > dataset.MaxPageSize {
		return nil, fmt.Errorf("%w: page size %d, max %d", ErrInvalid, o.PageSize, dataset.MaxPageSize)
	}
	n, err := dataset.Pages(uint64(size), o.PageSize)
	if err != nil {
		return nil, err
	}
	if n > dataset.MaxPages {
		return nil, fmt.Errorf("%w: %d pages, max %d", ErrInvalid, n, dataset.MaxPages)
	}
	pageNS, err := dataset.Namespace(o.PageKind, scope)
	if err != nil {
		return nil, err
	}
	mns, err := dataset.Namespace(o.ManifestKind, scope)
	if err != nil {
		return nil, err
	}
	f := newFetcher(c)
	var (
		jn   *journal
		prev = &journalState{pages: map[uint64]dataset.PageEntry{}}
	)
	if o.Journal != "" {
		jn, prev, err = openJournal(o.Journal, journalHeader{Size: uint64(size), PageSize: o.PageSize, PageNS: pageNS, ManifestNS: mns})
		if err != nil {
			return nil, err
		}
		defer jn.close()
	}

	// After a page fails no new page starts, but the pages already
	// submitted are waited for and journaled, so a rerun skips them.
	var stopped atomic.Bool
	prog := &progress{total: uint64(size), fn: o.Progress}
	entries := make([]dataset.PageEntry, n)
	errs := make([]error, n)
	mem := make(chan struct{}, o.Parallel)      // pages whose bytes are held
	flight := make(chan struct{}, 2*o.Parallel) // pages not yet included
	var wg sync.WaitGroup
	up := &uploader{c: c, f: f, ns: pageNS, poll: o.Poll, r: r, size: uint64(size), pageSize: o.PageSize, j: jn}
	for i := range n {
		select {
		case flight <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil || stopped.Load() {
			break
		}
		mem <- struct{}{}
		if stopped.Load() {
			<-mem
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-flight }()
			old, had := prev.pages[i]
			e, err := up.page(ctx, i, old, had, mem)
			if err != nil {
				errs[i] = err
				stopped.Store(true)
				return
			}
			entries[i] = e
			prog.add(e.Length)
		}()
	}
	wg.Wait()
	if err := firstError(errs); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	m := &dataset.Manifest{}
	if o.Dataset != nil {
		*m = *o.Dataset
	}
	m.ObjectLength, m.PageSize, m.MediaType, m.Entries = uint64(size), o.PageSize, o.MediaType, entries
	if err := m.Sign(o.Key); err != nil {
		return nil, err
	}
	enc, id, err := encodeRecord(m)
	if err != nil {
		return nil, err
	}
	mb, err := blob.New(mns, enc, share.ShareVersionZero, nil)
	if err != nil {
		return nil, fmt.Errorf("manifest blob: %w", err)
	}
	if p := prev.manifest; p != nil && p.ID == id && string(p.Commitment) == string(mb.Commitment()) {
		if err := f.verifyIncluded(ctx, p.Height, mns, p.Commitment); err == nil {
			return p, nil
		}
	}
	ref, err := submitBlob(ctx, c, mns, mb, id, "manifest")
	if err != nil {
		return nil, err
	}
	if jn != nil {
		if err := jn.appendManifest(ref); err != nil {
			return nil, err
		}
	}
	return ref, nil
}

// firstError returns the error of the lowest page that failed for a reason
// other than the context ending, or else the first error.
func firstError(errs []error) error {
	var any error
	for _, err := range errs {
		if err == nil {
			continue
		}
		if !errors.Is(err, context.Canceled) {
			return err
		}
		if any == nil {
			any = err
		}
	}
	return any
}

// uploader submits pages and waits for their inclusion.
type uploader struct {
	c        Caller
	f        *fetcher
	ns       share.Namespace
	poll     time.Duration
	r        io.ReaderAt
	size     uint64
	pageSize uint64
	j        *journal
}

// page reads page i, reuses its journaled entry old when the bytes are the
// same and its blob is still proven included, or else submits it and
// waits until it is included. It releases one slot of mem once it no
// longer holds the page's bytes.
func (u *uploader) page(ctx context.Context, i uint64, old dataset.PageEntry, had bool, mem chan struct{}) (dataset.PageEntry, error) {
	released := false
	release := func() {
		if !released {
			released = true
			<-mem
		}
	}
	defer release()
	start, end, err := dataset.PageRange(u.size, u.pageSize, i)
	if err != nil {
		return dataset.PageEntry{}, err
	}
	page := make([]byte, end-start)
	k, err := u.r.ReadAt(page, int64(start))
	if k < len(page) {
		if err == nil || errors.Is(err, io.EOF) {
			err = fmt.Errorf("the input ended after %d of the page's %d bytes (object size %d)", k, len(page), u.size)
		}
		return dataset.PageEntry{}, fmt.Errorf("page %d (bytes %d–%d): reading: %w", i, start, end, err)
	}
	sum := sha256.Sum256(page)
	if had && old.SHA256 == sum && old.Length == uint64(len(page)) && old.Namespace == u.ns {
		release()
		if err := u.f.verifyIncluded(ctx, old.Height, old.Namespace, old.Commitment[:]); err == nil {
			return old, nil
		} else if ctx.Err() != nil {
			return dataset.PageEntry{}, ctx.Err()
		}
		// Not provably included any more: submit again.
	}
	b, err := blob.New(u.ns, page, share.ShareVersionZero, nil)
	if err != nil {
		return dataset.PageEntry{}, fmt.Errorf("page %d: %w", i, err)
	}
	e := dataset.PageEntry{Index: i, Namespace: u.ns, Length: uint64(len(page)), SHA256: sum}
	copy(e.Commitment[:], b.Commitment())
	var rc api.SubmitReceipt
	if err := u.c.Call(ctx, "blob.SubmitAsync", &rc, []*blob.Blob{b}, nil); err != nil {
		return dataset.PageEntry{}, fmt.Errorf("page %d: submitting: %w", i, err)
	}
	b, page = nil, nil
	release()
	if e.Height, err = u.wait(ctx, rc.ID); err != nil {
		return dataset.PageEntry{}, fmt.Errorf("page %d: %w", i, err)
	}
	if u.j != nil {
		if err := u.j.appendPage(e); err != nil {
			return dataset.PageEntry{}, fmt.Errorf("page %d: %w", i, err)
		}
	}
	return e, nil
}

// wait polls a submission's receipt until it is included.
func (u *uploader) wait(ctx context.Context, id uint64) (uint64, error) {
	t := time.NewTimer(u.poll / 4)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-t.C:
		}
		var rec api.ReceiptJSON
		if err := u.c.Call(ctx, "blob.Receipt", &rec, id); err != nil {
			return 0, fmt.Errorf("receipt %d: %w", id, err)
		}
		switch rec.State {
		case "included":
			return rec.Height, nil
		case "pending":
		default:
			return 0, fmt.Errorf("submission %d %s: %s", id, rec.State, rec.Reason)
		}
		t.Reset(u.poll)
	}
}

// FetchManifest fetches the manifest ref names and verifies it: its blob's
// commitment proof against its block's data root, its canonical encoding,
// its publisher signature and its ID.
func FetchManifest(ctx context.Context, c Caller, ref Ref) (*dataset.Manifest, error) {
	return newFetcher(c).manifest(ctx, ref)
}

// Get reads the manifest at ref and every page it names, verifying each
// page (see GetRangeWith). It returns the object and its manifest.
func Get(ctx context.Context, c Caller, ref Ref) ([]byte, *dataset.Manifest, error) {
	return getRange(ctx, c, ref, 0, 0, true, ReadOptions{})
}

// GetRange returns the verified bytes [off, off+n) of the object at ref,
// fetching only the pages they overlap, and its manifest.
func GetRange(ctx context.Context, c Caller, ref Ref, off, n uint64) ([]byte, *dataset.Manifest, error) {
	return getRange(ctx, c, ref, off, n, false, ReadOptions{})
}

// GetRangeWith is GetRange with read options. Every page is verified
// before any of its bytes are returned: its length and SHA-256 against
// its manifest entry, the entry against the manifest's page root, the
// blob commitment of (entry namespace, bytes) against the entry, and that
// commitment's proof against the data root of the entry's block. Pages
// come from the node's piece store (dataset.GetPiece) when it has one,
// else as blobs (blob.Get).
func GetRangeWith(ctx context.Context, c Caller, ref Ref, off, n uint64, o ReadOptions) ([]byte, *dataset.Manifest, error) {
	return getRange(ctx, c, ref, off, n, false, o)
}

func getRange(ctx context.Context, c Caller, ref Ref, off, n uint64, whole bool, o ReadOptions) ([]byte, *dataset.Manifest, error) {
	parallel, err := o.parallel()
	if err != nil {
		return nil, nil, err
	}
	f := newReadFetcher(c, o)
	m, err := f.manifest(ctx, ref)
	if err != nil {
		return nil, nil, err
	}
	if whole {
		off, n = 0, m.ObjectLength
	}
	first, count, err := pageSpan(m, off, n)
	if err != nil {
		return nil, nil, err
	}
	if n > MaxGetBytes {
		return nil, nil, fmt.Errorf("%w: %d bytes is more than MaxGetBytes (%d); use Download", ErrInvalid, n, uint64(MaxGetBytes))
	}
	out := make([]byte, n)
	if n == 0 {
		return out, m, nil
	}
	tree, err := m.PageTree()
	if err != nil {
		return nil, nil, err
	}
	prog := &progress{total: n, fn: o.Progress}
	err = f.fetchPages(ctx, tree, span(first, count), parallel, func(i uint64, data []byte) error {
		ps := i * m.PageSize
		lo, hi := max(ps, off), min(ps+uint64(len(data)), off+n)
		copy(out[lo-off:hi-off], data[lo-ps:hi-ps])
		prog.add(hi - lo)
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return out, m, nil
}

// pageSpan returns the pages that bytes [off, off+n) of m's object
// overlap: count pages from first (none when n is 0).
func pageSpan(m *dataset.Manifest, off, n uint64) (first, count uint64, err error) {
	if off > m.ObjectLength || n > m.ObjectLength-off {
		return 0, 0, fmt.Errorf("%w: range [%d, %d+%d) is outside the object's %d bytes", ErrInvalid, off, off, n, m.ObjectLength)
	}
	if n == 0 {
		return 0, 0, nil
	}
	first = off / m.PageSize
	last := (off + n - 1) / m.PageSize
	return first, last - first + 1, nil
}

func span(first, count uint64) []uint64 {
	idx := make([]uint64, count)
	for k := range idx {
		idx[k] = first + uint64(k)
	}
	return idx
}
