// Package api implements the node's JSON-RPC methods (celestia-node's names
// and JSON shapes, plus Tessera's additions) over the store, the producer
// and the chain watcher, and registers them on an rpc.Server. docs/api.md
// documents every method.
package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/tessera-da/tessera/blob"
	"github.com/tessera-da/tessera/node/chain"
	"github.com/tessera-da/tessera/node/das"
	"github.com/tessera-da/tessera/node/header"
	"github.com/tessera-da/tessera/node/producer"
	"github.com/tessera-da/tessera/node/rpc"
	"github.com/tessera-da/tessera/node/store"
	"github.com/tessera-da/tessera/share"
)

// Errors whose messages clients match on, as celestia-node words them.
var (
	ErrBlobNotFound  = errors.New("blob: not found")
	ErrNotProducer   = errors.New("this node does not accept submissions (it is not a producer)")
	ErrHeightMissing = errors.New("header: not found")
)

// APIVersion is reported by node.Info.
const APIVersion = "v0.1.0"

// Limits on one call.
const (
	maxRangeHeaders   = 512  // headers per header.GetRangeByHeight
	maxSamplesPerCall = 1024 // coordinates per share.GetSamples
	maxNamespacesCall = 64   // namespaces per blob.GetAll
	rangePageHeights  = 64   // heights scanned per blob.GetRange page
)

// Service holds what the methods need. Producer is nil on nodes that do not
// produce blocks.
type Service struct {
	Store    *store.Store
	Producer *producer.Producer
	Watcher  *chain.Watcher
	NodeType string // "Producer", "Full" or "Light"
	// Sampler answers availability on light nodes (nil elsewhere). Set it
	// before the RPC server starts.
	Sampler Sampler
	// Remote, on nodes without squares (light nodes), reads blobs from
	// full peers' verified namespace data. Set it before the RPC starts.
	Remote Remote
	// Pinner keeps pinned data past the sampling window, advertises and
	// serves it (full nodes; nil elsewhere). Set it before the RPC starts.
	Pinner Pinner
	// Pieces fetches content-addressed pieces (dataset pages) from this
	// node's piece store or its peers. Set it before the RPC starts.
	Pieces Pieces

	squares       *squareCache
	manifestRoots manifestRoots // verified run manifests' page roots (train.*)

	fraudMu sync.Mutex
	fraud   map[uint64]bool // heights proven badly encoded
}

// ErrFraud is returned for blocks proven badly encoded.
var ErrFraud = errors.New("share: the block is proven badly encoded (bad-encoding fraud proof)")

// SetFraud marks a height as proven badly encoded: it is never reported
// available again.
func (s *Service) SetFraud(height uint64) {
	s.fraudMu.Lock()
	defer s.fraudMu.Unlock()
	if s.fraud == nil {
		s.fraud = map[uint64]bool{}
	}
	s.fraud[height] = true
}

func (s *Service) isFraud(height uint64) bool {
	s.fraudMu.Lock()
	defer s.fraudMu.Unlock()
	return s.fraud[height]
}

// Sampler is a light node's data availability sampler.
type Sampler interface {
	SharesAvailable(ctx context.Context, height uint64) error
	SamplingStats(ctx context.Context) (das.SamplingStats, error)
	WaitCatchUp(ctx context.Context) error
}

// ErrNotSampling is returned by das.* on nodes that do not sample.
var ErrNotSampling = errors.New("das: this node does not sample (it is not a light node)")

// reg is one method to register.
type reg struct {
	name  string
	perm  rpc.Perm
	fn    any
	names []string
}

// Register adds every method to srv.
func Register(srv *rpc.Server, s *Service) error {
	sc, err := newSquareCache(s.Store)
	if err != nil {
		return err
	}
	s.squares = sc
	regs := []reg{
		{"blob.Submit", rpc.PermWrite, s.BlobSubmit, []string{"blobs", "options"}},
		{"blob.SubmitAsync", rpc.PermWrite, s.BlobSubmitAsync, []string{"blobs", "options"}},
		{"blob.Receipt", rpc.PermRead, s.BlobReceipt, []string{"id"}},
		{"blob.Get", rpc.PermRead, s.BlobGet, []string{"height", "namespace", "commitment"}},
		{"blob.GetAll", rpc.PermRead, s.BlobGetAll, []string{"height", "namespaces"}},
		{"blob.GetByCommitment", rpc.PermRead, s.BlobGetByCommitment, []string{"commitment"}},
		{"blob.GetRange", rpc.PermRead, s.BlobGetRange, []string{"namespace", "from", "to", "cursor"}},
		{"blob.Subscribe", rpc.PermRead, s.BlobSubscribe, []string{"namespace"}},
		{"blob.SubscribeFrom", rpc.PermRead, s.BlobSubscribeFrom, []string{"namespace", "height"}},
		{"header.LocalHead", rpc.PermRead, s.HeaderLocalHead, nil},
		{"header.NetworkHead", rpc.PermRead, s.HeaderNetworkHead, nil},
		{"header.Tail", rpc.PermRead, s.HeaderTail, nil},
		{"header.GetByHeight", rpc.PermRead, s.HeaderGetByHeight, []string{"height"}},
		{"header.GetByHash", rpc.PermRead, s.HeaderGetByHash, []string{"hash"}},
		{"header.GetRangeByHeight", rpc.PermRead, s.HeaderGetRangeByHeight, []string{"from", "to"}},
		{"header.WaitForHeight", rpc.PermRead, s.HeaderWaitForHeight, []string{"height"}},
		{"header.Subscribe", rpc.PermRead, s.HeaderSubscribe, nil},
		{"share.SharesAvailable", rpc.PermRead, s.ShareSharesAvailable, []string{"height"}},
		{"share.GetShare", rpc.PermRead, s.ShareGetShare, []string{"height", "row", "col"}},
		{"share.GetSamples", rpc.PermRead, s.ShareGetSamples, []string{"height", "coordinates"}},
		{"share.GetRow", rpc.PermRead, s.ShareGetRow, []string{"height", "row"}},
		{"share.GetEDS", rpc.PermRead, s.ShareGetEDS, []string{"height"}},
		{"das.SamplingStats", rpc.PermRead, s.DASSamplingStats, nil},
		{"das.WaitCatchUp", rpc.PermRead, s.DASWaitCatchUp, nil},
		{"node.Info", rpc.PermAdmin, s.NodeInfo, nil},
		{"node.Ready", rpc.PermRead, s.NodeReady, nil},
	}
	regs = append(regs, s.proofMethods()...)
	regs = append(regs, s.pinMethods()...)
	regs = append(regs, s.datasetMethods()...)
	regs = append(regs, s.trainMethods()...)
	regs = append(regs, s.checkpointMethods()...)
	for _, r := range regs {
		if err := srv.Register(r.name, r.perm, r.fn, r.names...); err != nil {
			return err
		}
	}
	return nil
}

// ---- blob ----

// SubmitReceipt is blob.SubmitAsync's result.
type SubmitReceipt struct {
	ID uint64 `json:"id"`
}

// ReceiptJSON is blob.Receipt's result.
type ReceiptJSON struct {
	ID     uint64            `json:"id"`
	State  string            `json:"state"` // pending, included, failed or unknown
	Height uint64            `json:"height,omitempty"`
	Blobs  []BlobReceiptJSON `json:"blobs,omitempty"`
	Reason string            `json:"reason,omitempty"`
}

// BlobReceiptJSON locates one included blob.
type BlobReceiptJSON struct {
	Namespace  share.Namespace `json:"namespace"`
	Commitment []byte          `json:"commitment"`
	Index      int             `json:"index"`
}

func (s *Service) submit(blobs []*blob.Blob) (uint64, error) {
	if s.Producer == nil {
		return 0, ErrNotProducer
	}
	for i, b := range blobs {
		if b == nil {
			return 0, fmt.Errorf("blob %d is null", i)
		}
	}
	return s.Producer.Submit(blobs)
}

// BlobSubmit queues blobs and waits until a block includes them; it returns
// that block's height. Options are accepted for compatibility and ignored
// (a Tessera network has no fees or accounts).
func (s *Service) BlobSubmit(ctx context.Context, blobs []*blob.Blob, _ json.RawMessage) (uint64, error) {
	id, err := s.submit(blobs)
	if err != nil {
		return 0, err
	}
	for {
		changed := s.Watcher.Changed()
		r, err := s.Store.Receipt(id)
		if err != nil {
			return 0, err
		}
		switch r.State {
		case store.ReceiptIncluded:
			return r.Height, nil
		case store.ReceiptFailed:
			return 0, fmt.Errorf("submission %d failed: %s", id, r.Reason)
		}
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("submission %d is queued but not yet included (query blob.Receipt): %w", id, ctx.Err())
		case <-changed:
		}
	}
}

// BlobSubmitAsync queues blobs and returns at once with a receipt ID.
func (s *Service) BlobSubmitAsync(_ context.Context, blobs []*blob.Blob, _ json.RawMessage) (SubmitReceipt, error) {
	id, err := s.submit(blobs)
	return SubmitReceipt{ID: id}, err
}

// BlobReceipt tells what became of a submission.
func (s *Service) BlobReceipt(_ context.Context, id uint64) (*ReceiptJSON, error) {
	r, err := s.Store.Receipt(id)
	if err != nil {
		return nil, err
	}
	out := &ReceiptJSON{ID: id, State: r.State.String(), Height: r.Height, Reason: r.Reason}
	for _, b := range r.Blobs {
		ns, err := share.NewNamespaceFromBytes(b.Namespace[:])
		if err != nil {
			return nil, fmt.Errorf("%w: receipt %d: %w", store.ErrCorrupt, id, err)
		}
		out.Blobs = append(out.Blobs, BlobReceiptJSON{Namespace: ns, Commitment: append([]byte(nil), b.Commitment[:]...), Index: int(b.EDSIndex)})
	}
	return out, nil
}

// readBlob reads the blob e of height from the stored square and checks
// it against its indexed commitment.
func (s *Service) readBlob(height uint64, e store.BlobIndex) (*blob.Blob, error) {
	raw, err := s.Store.ODSShares(height, int(e.ShareStart), int(e.ShareCount))
	if err != nil {
		return nil, err
	}
	shares, err := share.SharesFromBytes(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: height %d: %w", store.ErrCorrupt, height, err)
	}
	sb, n, err := share.ParseBlob(shares)
	if err != nil || n != len(shares) {
		return nil, fmt.Errorf("%w: height %d share %d: blob does not parse: %v", store.ErrCorrupt, height, e.ShareStart, err)
	}
	b, err := blob.FromShareBlob(sb)
	if err != nil {
		return nil, err
	}
	if string(b.Commitment()) != string(e.Commitment[:]) {
		return nil, fmt.Errorf("%w: height %d: blob content does not match its commitment", store.ErrCorrupt, height)
	}
	return b.WithIndex(int(e.EDSIndex)), nil
}

// headHeight returns the local head's height, 0 while the chain is empty
// (heights start at 1).
func (s *Service) headHeight() uint64 {
	if head := s.Watcher.Head(); head != nil {
		return head.Height
	}
	return 0
}

func (s *Service) checkHeight(height uint64) error {
	if height == 0 {
		return fmt.Errorf("height 0 does not exist: heights start at 1")
	}
	if hh := s.headHeight(); height > hh {
		return fmt.Errorf("header: height %d is above the local head %d (use header.WaitForHeight)", height, hh)
	}
	return nil
}

func mapNotFound(err error, as error) error {
	if errors.Is(err, store.ErrPruned) {
		return fmt.Errorf("%w: data at that height was pruned", as)
	}
	if errors.Is(err, store.ErrNotFound) {
		return as
	}
	return err
}

// BlobGet returns the blob with commitment c in namespace ns at height.
func (s *Service) BlobGet(ctx context.Context, height uint64, ns share.Namespace, c blob.Commitment) (*blob.Blob, error) {
	if err := s.checkHeight(height); err != nil {
		return nil, err
	}
	if s.Remote != nil {
		bs, err := s.remoteBlobs(ctx, height, ns)
		if err != nil {
			return nil, err
		}
		for _, b := range bs {
			if string(b.Commitment()) == string(c) {
				return b, nil
			}
		}
		return nil, ErrBlobNotFound
	}
	entries, err := s.Store.BlobsByNamespace(ns.Array(), height)
	if err != nil {
		return nil, mapNotFound(err, ErrBlobNotFound)
	}
	for _, e := range entries {
		if string(e.Commitment[:]) == string(c) {
			return s.readBlob(height, e)
		}
	}
	return nil, ErrBlobNotFound
}

// BlobGetAll returns every blob of the namespaces at height (an empty list
// when there are none).
func (s *Service) BlobGetAll(ctx context.Context, height uint64, nss []share.Namespace) ([]*blob.Blob, error) {
	if err := s.checkHeight(height); err != nil {
		return nil, err
	}
	if len(nss) > maxNamespacesCall {
		return nil, fmt.Errorf("%d namespaces in one call, at most %d", len(nss), maxNamespacesCall)
	}
	out := []*blob.Blob{}
	for _, ns := range nss {
		if s.Remote != nil {
			bs, err := s.remoteBlobs(ctx, height, ns)
			if err != nil {
				return nil, err
			}
			out = append(out, bs...)
			continue
		}
		entries, err := s.Store.BlobsByNamespace(ns.Array(), height)
		if err != nil {
			if errors.Is(err, store.ErrNotFound) && !errors.Is(err, store.ErrPruned) {
				continue
			}
			return nil, mapNotFound(err, ErrBlobNotFound)
		}
		for _, e := range entries {
			b, err := s.readBlob(height, e)
			if err != nil {
				return nil, err
			}
			out = append(out, b)
		}
	}
	return out, nil
}

// BlobAt is a blob with the height it was included at.
type BlobAt struct {
	Height uint64     `json:"height"`
	Blob   *blob.Blob `json:"blob"`
}

// BlobGetByCommitment finds a blob by its commitment alone.
func (s *Service) BlobGetByCommitment(_ context.Context, c blob.Commitment) (*BlobAt, error) {
	if len(c) != blob.CommitmentSize {
		return nil, fmt.Errorf("commitment is %d bytes, want %d", len(c), blob.CommitmentSize)
	}
	var key [blob.CommitmentSize]byte
	copy(key[:], c)
	h, e, err := s.Store.FindCommitment(key)
	if err != nil {
		return nil, mapNotFound(err, ErrBlobNotFound)
	}
	b, err := s.readBlob(h, e)
	if err != nil {
		return nil, mapNotFound(err, ErrBlobNotFound)
	}
	return &BlobAt{Height: h, Blob: b}, nil
}

// RangePage is one page of blob.GetRange.
type RangePage struct {
	Blobs []BlobAt `json:"blobs"`
	// Next is the cursor of the next page; empty when the range is done.
	Next string `json:"next,omitempty"`
}

// BlobGetRange returns the blobs of ns in heights [from, to], a page at a
// time; pass the previous page's Next as cursor (empty for the first page).
func (s *Service) BlobGetRange(_ context.Context, ns share.Namespace, from, to uint64, cursor string) (*RangePage, error) {
	if from == 0 || to < from {
		return nil, fmt.Errorf("bad range [%d, %d]: heights start at 1 and from ≤ to", from, to)
	}
	if cursor != "" {
		var c uint64
		if _, err := fmt.Sscanf(cursor, "h%d", &c); err != nil || c < from || c > to {
			return nil, fmt.Errorf("bad cursor %q", cursor)
		}
		from = c
	}
	heights, err := s.Store.NamespaceHeights(ns.Array(), from, rangePageHeights+1)
	if err != nil {
		return nil, err
	}
	page := &RangePage{Blobs: []BlobAt{}}
	for i, h := range heights {
		if h > to {
			break
		}
		if i == rangePageHeights {
			page.Next = fmt.Sprintf("h%d", h)
			break
		}
		entries, err := s.Store.BlobsByNamespace(ns.Array(), h)
		if err != nil {
			if errors.Is(err, store.ErrNotFound) {
				continue // pruned since the index was read
			}
			return nil, err
		}
		for _, e := range entries {
			b, err := s.readBlob(h, e)
			if err != nil {
				return nil, err
			}
			page.Blobs = append(page.Blobs, BlobAt{Height: h, Blob: b})
		}
	}
	return page, nil
}

// SubscriptionResponse is one value of blob.Subscribe (celestia-node's
// shape: capitalised field names).
type SubscriptionResponse struct {
	Blobs  []*blob.Blob
	Height uint64
}

// BlobSubscribe streams, for every new block, the blobs of ns in it.
func (s *Service) BlobSubscribe(ctx context.Context, ns share.Namespace) (<-chan *SubscriptionResponse, error) {
	return s.BlobSubscribeFrom(ctx, ns, s.headHeight()+1)
}

// BlobSubscribeFrom replays the blobs of ns from height on, one value per
// height (empty heights included), then follows new blocks with no gap.
func (s *Service) BlobSubscribeFrom(ctx context.Context, ns share.Namespace, height uint64) (<-chan *SubscriptionResponse, error) {
	if height == 0 {
		height = 1
	}
	out := make(chan *SubscriptionResponse, 16)
	go func() {
		defer close(out)
		for h := height; ; h++ {
			if _, err := s.Watcher.WaitForHeight(ctx, h); err != nil {
				return
			}
			blobs, err := s.BlobGetAll(ctx, h, []share.Namespace{ns})
			if err != nil {
				blobs = nil // pruned heights replay as empty
			}
			select {
			case out <- &SubscriptionResponse{Blobs: blobs, Height: h}:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}

// ---- header ----

// storedHeader returns the node's header at height, or ErrHeightMissing.
func (s *Service) storedHeader(height uint64) (*header.Header, error) {
	h, err := s.Store.HeaderByHeight(height)
	if err != nil {
		return nil, mapNotFound(err, fmt.Errorf("%w: height %d", ErrHeightMissing, height))
	}
	return h, nil
}

func (s *Service) headerAt(height uint64) (*ExtendedHeader, error) {
	h, err := s.storedHeader(height)
	if err != nil {
		return nil, err
	}
	return s.extended(h), nil
}

// HeaderLocalHead returns the newest stored header.
func (s *Service) HeaderLocalHead(context.Context) (*ExtendedHeader, error) {
	h := s.Watcher.Head()
	if h == nil {
		return nil, fmt.Errorf("%w: the chain is empty", ErrHeightMissing)
	}
	return s.extended(h), nil
}

// HeaderNetworkHead returns the newest header the node knows of.
func (s *Service) HeaderNetworkHead(ctx context.Context) (*ExtendedHeader, error) {
	return s.HeaderLocalHead(ctx)
}

// HeaderTail returns the oldest header whose data the node still holds.
func (s *Service) HeaderTail(context.Context) (*ExtendedHeader, error) {
	t := s.Store.Tail()
	if t == 0 {
		t = 1
	}
	return s.headerAt(t)
}

// HeaderGetByHeight returns the header at height.
func (s *Service) HeaderGetByHeight(_ context.Context, height uint64) (*ExtendedHeader, error) {
	if err := s.checkHeight(height); err != nil {
		return nil, err
	}
	return s.headerAt(height)
}

// HeaderGetByHash returns the header with hash.
func (s *Service) HeaderGetByHash(_ context.Context, hash hexBytes) (*ExtendedHeader, error) {
	if len(hash) != header.HashSize {
		return nil, fmt.Errorf("hash is %d bytes, want %d", len(hash), header.HashSize)
	}
	var k header.Hash
	copy(k[:], hash)
	h, err := s.Store.HeaderByHash(k)
	if err != nil {
		return nil, mapNotFound(err, ErrHeightMissing)
	}
	return s.extended(h), nil
}

// HeaderGetRangeByHeight returns the headers after from up to and
// including to, as celestia-node does.
func (s *Service) HeaderGetRangeByHeight(_ context.Context, from *ExtendedHeader, to uint64) ([]*ExtendedHeader, error) {
	if from == nil {
		return nil, fmt.Errorf("from header is null")
	}
	start := from.height() + 1
	if to < start {
		return nil, fmt.Errorf("bad range: from height %d, to %d", start-1, to)
	}
	if to-start+1 > maxRangeHeaders {
		return nil, fmt.Errorf("range of %d headers, at most %d per call", to-start+1, maxRangeHeaders)
	}
	if err := s.checkHeight(to); err != nil {
		return nil, err
	}
	hs, err := s.Store.HeaderRange(start, to)
	if err != nil {
		return nil, err
	}
	out := make([]*ExtendedHeader, len(hs))
	for i, h := range hs {
		out[i] = s.extended(h)
	}
	return out, nil
}

// HeaderWaitForHeight blocks until the chain reaches height.
func (s *Service) HeaderWaitForHeight(ctx context.Context, height uint64) (*ExtendedHeader, error) {
	if height == 0 {
		return nil, fmt.Errorf("height 0 does not exist")
	}
	if _, err := s.Watcher.WaitForHeight(ctx, height); err != nil {
		return nil, err
	}
	return s.headerAt(height)
}

// HeaderSubscribe streams every new header.
func (s *Service) HeaderSubscribe(ctx context.Context) (<-chan *ExtendedHeader, error) {
	in := s.Watcher.Subscribe(ctx)
	out := make(chan *ExtendedHeader, 16)
	go func() {
		defer close(out)
		for h := range in {
			select {
			case out <- s.extended(h):
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}

// ---- node ----

// NodeInfoJSON is node.Info's result.
type NodeInfoJSON struct {
	Type       string `json:"type"`
	APIVersion string `json:"api_version"`
}

// NodeInfo describes the node.
func (s *Service) NodeInfo(context.Context) (NodeInfoJSON, error) {
	return NodeInfoJSON{Type: s.NodeType, APIVersion: APIVersion}, nil
}

// NodeReady reports whether the node serves requests.
func (s *Service) NodeReady(context.Context) (bool, error) { return true, nil }

// DASSamplingStats reports a light node's sampling progress (celestia-node's shape).
func (s *Service) DASSamplingStats(ctx context.Context) (*das.SamplingStats, error) {
	if s.Sampler == nil {
		return nil, ErrNotSampling
	}
	st, err := s.Sampler.SamplingStats(ctx)
	return &st, err
}

// DASWaitCatchUp blocks until a light node has sampled every height up to
// the head it knew when called.
func (s *Service) DASWaitCatchUp(ctx context.Context) error {
	if s.Sampler == nil {
		return ErrNotSampling
	}
	return s.Sampler.WaitCatchUp(ctx)
}
