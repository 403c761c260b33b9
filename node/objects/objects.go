// Package objects stores objects larger than a blob (datasets,
// checkpoints) as page blobs under a signed manifest, through any node's
// JSON-RPC API, and reads them back verifying every page: its bytes against
// the manifest entry, the entry against the manifest's page root, and the
// page blob's commitment against its block's data root.
package objects

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"sync"
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

// Errors.
var (
	ErrInvalid  = errors.New("objects: invalid argument")
	ErrMismatch = errors.New("objects: data does not match its manifest")
)

// Options configure Put.
type Options struct {
	PageSize  uint64             // bytes per page blob
	Parallel  int                // pages submitted at once
	MediaType string             // e.g. application/octet-stream
	Key       ed25519.PrivateKey // the publisher's key
	Dataset   *dataset.Manifest  // optional dataset fields (name, version, source, …); its page fields are ignored
	Poll      time.Duration      // receipt polling period

	// PageKind and ManifestKind choose the namespaces (dataset.Namespace
	// with the scope); zero means DatasetPages and DatasetManifest.
	// Checkpoints use CheckpointChunks and CheckpointManifest.
	PageKind, ManifestKind dataset.Kind
}

// DefaultPageSize is the default page: 1 MiB (bytes).
const DefaultPageSize = 1 << 20

// Ref locates a published manifest.
type Ref struct {
	ID         dataset.ID      `json:"id"`
	Height     uint64          `json:"height"`
	Namespace  share.Namespace `json:"namespace"`
	Commitment []byte          `json:"commitment"`
}

// Put reads an object of size bytes from r page by page, submits the
// pages in parallel (each may land in a different block; at most
// Parallel pages are in memory at once), then publishes the signed
// manifest naming every page's block, namespace and commitment. scope
// names the object (its namespaces derive from it).
func Put(ctx context.Context, c Caller, scope []byte, r io.ReaderAt, size int64, o Options) (*Ref, error) {
	if o.PageSize == 0 {
		o.PageSize = DefaultPageSize
	}
	if o.Parallel <= 0 {
		o.Parallel = 8
	}
	if o.Poll <= 0 {
		o.Poll = 100 * time.Millisecond
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
	entries := make([]dataset.PageEntry, n)
	errs := make([]error, n)
	sem := make(chan struct{}, o.Parallel)
	var wg sync.WaitGroup
	for i := range n {
		start, end, err := dataset.PageRange(uint64(size), o.PageSize, i)
		if err != nil {
			return nil, err
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			page := make([]byte, end-start)
			if _, err := r.ReadAt(page, int64(start)); err != nil && !(errors.Is(err, io.EOF) && len(page) == int(end-start)) {
				errs[i] = fmt.Errorf("page %d: reading: %w", i, err)
				return
			}
			entries[i], errs[i] = putPage(ctx, c, pageNS, i, page, o.Poll)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
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
	enc, err := m.MarshalBinary()
	if err != nil {
		return nil, err
	}
	id, err := m.ID()
	if err != nil {
		return nil, err
	}
	mns, err := dataset.Namespace(o.ManifestKind, scope)
	if err != nil {
		return nil, err
	}
	mb, err := blob.New(mns, enc, share.ShareVersionZero, nil)
	if err != nil {
		return nil, err
	}
	var height uint64
	if err := c.Call(ctx, "blob.Submit", &height, []*blob.Blob{mb}, nil); err != nil {
		return nil, fmt.Errorf("submitting the manifest: %w", err)
	}
	return &Ref{ID: id, Height: height, Namespace: mns, Commitment: mb.Commitment()}, nil
}

func putPage(ctx context.Context, c Caller, ns share.Namespace, i uint64, page []byte, poll time.Duration) (dataset.PageEntry, error) {
	b, err := blob.New(ns, page, share.ShareVersionZero, nil)
	if err != nil {
		return dataset.PageEntry{}, err
	}
	var r api.SubmitReceipt
	if err := c.Call(ctx, "blob.SubmitAsync", &r, []*blob.Blob{b}, nil); err != nil {
		return dataset.PageEntry{}, fmt.Errorf("page %d: %w", i, err)
	}
	for {
		var rec api.ReceiptJSON
		if err := c.Call(ctx, "blob.Receipt", &rec, r.ID); err != nil {
			return dataset.PageEntry{}, fmt.Errorf("page %d: %w", i, err)
		}
		switch rec.State {
		case "included":
			e := dataset.PageEntry{Index: i, Height: rec.Height, Namespace: ns, Length: uint64(len(page)), SHA256: sha256.Sum256(page)}
			copy(e.Commitment[:], b.Commitment())
			return e, nil
		case "pending":
		default:
			return dataset.PageEntry{}, fmt.Errorf("page %d: submission %s: %s", i, rec.State, rec.Reason)
		}
		select {
		case <-ctx.Done():
			return dataset.PageEntry{}, ctx.Err()
		case <-time.After(poll):
		}
	}
}

// Get reads the manifest at ref and every page it names, verifying each
// page against the manifest and each page blob's commitment against its
// block's data root (a commitment proof needs only the header). It
// returns the object and its manifest.
func Get(ctx context.Context, c Caller, ref Ref) ([]byte, *dataset.Manifest, error) {
	mb, err := getVerified(ctx, c, ref.Height, ref.Namespace, ref.Commitment)
	if err != nil {
		return nil, nil, fmt.Errorf("manifest: %w", err)
	}
	m, err := dataset.ParseManifest(mb.Data())
	if err != nil {
		return nil, nil, err
	}
	if err := m.Verify(); err != nil {
		return nil, nil, err
	}
	if id, err := m.ID(); err != nil || id != ref.ID {
		return nil, nil, fmt.Errorf("%w: manifest ID %x, want %x", ErrMismatch, id, ref.ID)
	}
	root, err := m.ComputePageRoot()
	if err != nil {
		return nil, nil, err
	}
	out := make([]byte, 0, m.ObjectLength)
	for i := range m.Entries {
		e, proof, err := m.ProvePage(uint64(i))
		if err != nil {
			return nil, nil, err
		}
		pb, err := getVerified(ctx, c, e.Height, e.Namespace, e.Commitment[:])
		if err != nil {
			return nil, nil, fmt.Errorf("page %d: %w", i, err)
		}
		if err := dataset.VerifyPage(root, e, proof, pb.Data()); err != nil {
			return nil, nil, fmt.Errorf("%w: page %d: %w", ErrMismatch, i, err)
		}
		out = append(out, pb.Data()...)
	}
	return out, m, nil
}

// getVerified fetches a blob and checks its commitment proof against the
// data root of the header at height.
func getVerified(ctx context.Context, c Caller, height uint64, ns share.Namespace, commitment []byte) (*blob.Blob, error) {
	var b blob.Blob
	if err := c.Call(ctx, "blob.Get", &b, height, ns, commitment); err != nil {
		return nil, err
	}
	if string(b.Commitment()) != string(commitment) || b.Namespace() != ns {
		return nil, fmt.Errorf("%w: the node returned another blob", ErrMismatch)
	}
	var eh api.ExtendedHeader
	if err := c.Call(ctx, "header.GetByHeight", &eh, height); err != nil {
		return nil, err
	}
	var cp blob.CommitmentProof
	if err := c.Call(ctx, "blob.GetCommitmentProof", &cp, height, ns, commitment); err != nil {
		return nil, err
	}
	if eh.Tessera == nil {
		return nil, fmt.Errorf("header %d has no compact header", height)
	}
	if err := cp.Verify(eh.Tessera.DataRoot[:], ns, commitment); err != nil {
		return nil, fmt.Errorf("%w: commitment proof: %w", ErrMismatch, err)
	}
	return &b, nil
}
