package node

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tessera-da/tessera/blob/dataset"
	"github.com/tessera-da/tessera/node/api"
	"github.com/tessera-da/tessera/node/bulk"
	"github.com/tessera-da/tessera/node/store"
	"github.com/tessera-da/tessera/share"
)

// Pinning on full nodes and producers (docs/pinning.md).
//
// A pin is a record in the store's "pins" bucket (its target and creation
// time) plus one store pin per namespace it keeps, named
// "<pin ID>|<namespace hex>", so Prune keeps those namespaces' heights. A
// removal deletes the record first; store pins without a record are
// removed at start, so a crash between the two never resurrects a pin.
//
// A dataset pin also copies every page into the bulk piece store (from the
// node's own blobs, or over bitswap when it does not hold the height), so
// the node serves the pages to anyone; a worker per dataset pin does it,
// pinWorkers pages at a time, skipping pages already held. Pins are
// re-processed at start, so an interrupted copy resumes. Every pin's DHT
// keys are advertised through the p2p host, which re-advertises them.

// Pinning limits and periods.
const (
	pinBucket        = "pins"           // pin records, by pin ID
	pinWorkers       = 4                // pages copied at once per dataset pin
	pinRetry         = 15 * time.Second // first retry of a pin that is waiting or failed
	maxPinBackoff    = 5 * time.Minute  // longest wait between retries (doubling from pinRetry)
	pinFetchTimeout  = 2 * time.Minute  // one page fetched over bitswap while pinning
	pieceTimeout     = time.Minute      // dataset.GetPiece's bound on a fetch
	providersTimeout = 10 * time.Second // dataset.Providers' DHT search
	maxProviders     = 20               // peers dataset.Providers returns
	maxPinNamespaces = 64               // distinct page namespaces of one pinned dataset
	storePinSep      = "|"              // separates a pin ID from a namespace in store pin IDs
)

// Pin errors.
var (
	// ErrInvalidPin: the pin target is malformed, or its manifest does not
	// verify.
	ErrInvalidPin = errors.New("pin: invalid target")
	// ErrPinNotFound: no pin has that ID.
	ErrPinNotFound = errors.New("pin: not found")
)

// pinRecord is what the store keeps of a pin.
type pinRecord struct {
	Target  api.PinTarget `json:"target"`
	Created time.Time     `json:"created"`
}

// pinEntry is a pin and its progress.
type pinEntry struct {
	id, kind string
	rec      pinRecord
	nss      []share.Namespace
	keys     []string

	state       string
	err         string
	held, total uint64
	manifest    *dataset.Manifest
	busy        bool
	failures    int                // consecutive attempts that did not finish
	nextTry     time.Time          // no new attempt before this
	cancel      context.CancelFunc // stops the worker (pin.Rm)
}

func (e *pinEntry) info() api.PinInfo {
	return api.PinInfo{
		ID: e.id, Kind: e.kind, Target: e.rec.Target,
		Namespaces: slices.Clone(e.nss), Keys: slices.Clone(e.keys),
		Created: e.rec.Created, State: e.state, Error: e.err,
		PagesHeld: e.held, PagesTotal: e.total,
	}
}

// pinner implements api.Pinner.
type pinner struct {
	n     *Node
	log   *slog.Logger
	retry time.Duration

	mu   sync.Mutex
	pins map[string]*pinEntry
	ctx  context.Context // the node's run context; nil before Run
	wg   sync.WaitGroup
}

// newPinner loads the pins from the store and makes sure each keeps its
// namespaces.
func newPinner(n *Node) (*pinner, error) {
	p := &pinner{n: n, log: n.log.With("component", "pin"), retry: pinRetry, pins: map[string]*pinEntry{}}
	var recs []pinRecord
	err := n.st.ScanRecords(pinBucket, nil, func(key, value []byte) error {
		var r pinRecord
		if err := json.Unmarshal(value, &r); err != nil {
			return fmt.Errorf("%w: pin record %q: %w", store.ErrCorrupt, key, err)
		}
		recs = append(recs, r)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("loading pins: %w", err)
	}
	for _, r := range recs {
		e, err := newPinEntry(r.Target)
		if err != nil {
			return nil, fmt.Errorf("%w: stored pin: %w", store.ErrCorrupt, err)
		}
		e.rec = r
		p.pins[e.id] = e
	}
	// A pin's store pins give back the namespaces found after it was added
	// (a dataset's pages). Store pins of pins that are gone (a removal
	// interrupted by a crash) are removed.
	for _, sp := range n.st.Pins() {
		id, _, ok := strings.Cut(sp.ID, storePinSep)
		if !ok || !isPinID(id) {
			continue
		}
		if e := p.pins[id]; e != nil {
			if ns, err := share.NewNamespaceFromBytes(sp.Namespace[:]); err == nil {
				e.addNamespaces([]share.Namespace{ns})
			}
			continue
		}
		if err := n.st.RemovePin(sp.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
	}
	for _, e := range p.pins {
		if err := p.keep(e, e.nss); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// newPinEntry checks t and derives the pin's ID, kind, namespaces and keys
// (a dataset's page namespaces are added once its manifest is read).
func newPinEntry(t api.PinTarget) (*pinEntry, error) {
	set := 0
	if t.Dataset != nil {
		set++
	}
	if t.Run != "" {
		set++
	}
	if t.Namespace != "" {
		set++
	}
	if set != 1 {
		return nil, fmt.Errorf("%w: give exactly one of dataset, run and namespace (got %d)", ErrInvalidPin, set)
	}
	e := &pinEntry{}
	switch {
	case t.Dataset != nil:
		ref := t.Dataset
		if len(ref.Commitment) != 32 || ref.Height == 0 {
			return nil, fmt.Errorf("%w: dataset ref needs a height and a 32-byte commitment (got height %d, %d bytes)", ErrInvalidPin, ref.Height, len(ref.Commitment))
		}
		if ref.Namespace.Version() != 0 || ref.Namespace.IsReserved() {
			return nil, fmt.Errorf("%w: dataset ref namespace %s is not a user version-0 namespace", ErrInvalidPin, ref.Namespace)
		}
		e.id, e.kind, e.state = DatasetKey(ref.ID), "dataset", api.PinStateWaiting
		e.nss = []share.Namespace{ref.Namespace}
	case t.Run != "":
		id, err := hex.DecodeString(strings.TrimPrefix(t.Run, "0x"))
		if err != nil || len(id) != 32 {
			return nil, fmt.Errorf("%w: run ID %q is not 32 bytes of hex", ErrInvalidPin, t.Run)
		}
		e.id, e.kind, e.state = "run/"+hex.EncodeToString(id), "run", api.PinStateKept
		for _, k := range []dataset.Kind{dataset.RunControl, dataset.TrainingProofs, dataset.CheckpointChunks, dataset.CheckpointManifest} {
			ns, err := dataset.Namespace(k, id)
			if err != nil {
				return nil, fmt.Errorf("%w: %w", ErrInvalidPin, err)
			}
			e.nss = append(e.nss, ns)
		}
	default:
		ns, err := parsePinNamespace(t.Namespace)
		if err != nil {
			return nil, err
		}
		e.id, e.kind, e.state = namespaceKey(ns), "namespace", api.PinStateKept
		e.nss = []share.Namespace{ns}
	}
	e.rec.Target = t
	e.keys = pinKeys(e)
	return e, nil
}

// parsePinNamespace accepts hex of a 29-byte namespace or of a version-0
// sub-ID of at most 10 bytes; reserved namespaces are refused.
func parsePinNamespace(s string) (share.Namespace, error) {
	b, err := hex.DecodeString(strings.TrimPrefix(s, "0x"))
	if err != nil {
		return share.Namespace{}, fmt.Errorf("%w: namespace %q is not hex", ErrInvalidPin, s)
	}
	var ns share.Namespace
	if len(b) == share.NamespaceSize {
		ns, err = share.NewNamespaceFromBytes(b)
	} else {
		ns, err = share.NewV0Namespace(b)
	}
	if err != nil {
		return share.Namespace{}, fmt.Errorf("%w: namespace %q: %w", ErrInvalidPin, s, err)
	}
	if ns.IsReserved() {
		return share.Namespace{}, fmt.Errorf("%w: namespace %s is reserved", ErrInvalidPin, ns)
	}
	return ns, nil
}

// isPinID reports whether id is of the form the pinner gives pins (other
// store pins are left alone).
func isPinID(id string) bool {
	for _, prefix := range []string{"dataset/", "run/", "ns/"} {
		if strings.HasPrefix(id, prefix) {
			return true
		}
	}
	return false
}

// DatasetKey is the DHT key under which nodes pinning the dataset with
// manifest ID id advertise: "dataset/<id hex>".
func DatasetKey(id dataset.ID) string { return "dataset/" + hex.EncodeToString(id[:]) }

// namespaceKey is p2p.NamespaceKey: "ns/<namespace hex>".
func namespaceKey(ns share.Namespace) string { return "ns/" + hex.EncodeToString(ns.Bytes()) }

func pinKeys(e *pinEntry) []string {
	var keys []string
	if e.rec.Target.Dataset != nil {
		keys = append(keys, DatasetKey(e.rec.Target.Dataset.ID))
	}
	for _, ns := range e.nss {
		keys = append(keys, namespaceKey(ns))
	}
	return keys
}

func storePinID(id string, ns share.Namespace) string {
	return id + storePinSep + hex.EncodeToString(ns.Bytes())
}

// keep adds a store pin for each of nss.
func (p *pinner) keep(e *pinEntry, nss []share.Namespace) error {
	kind := store.PinNamespace
	if e.kind == "dataset" {
		kind = store.PinDataset
	}
	for _, ns := range nss {
		sp := store.Pin{Kind: kind, Namespace: ns.Array(), ID: storePinID(e.id, ns), Created: e.rec.Created}
		if err := p.n.st.AddPin(sp); err != nil {
			return fmt.Errorf("pin %s: keeping namespace %s: %w", e.id, ns, err)
		}
	}
	return nil
}

// AddPin pins t (api.Pinner).
func (p *pinner) AddPin(ctx context.Context, t api.PinTarget) (*api.PinInfo, error) {
	e, err := newPinEntry(t)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	if old := p.pins[e.id]; old != nil {
		info := old.info()
		p.mu.Unlock()
		return &info, nil
	}
	p.mu.Unlock()
	if t.Dataset != nil {
		// A manifest this node holds is checked now, so a wrong reference
		// fails here; one it does not hold yet is read later.
		m, err := p.readManifest(ctx, *t.Dataset)
		switch {
		case err == nil:
			nss, err := pageNamespaces(m)
			if err != nil {
				return nil, err
			}
			e.manifest, e.total = m, uint64(len(m.Entries))
			e.addNamespaces(nss)
			e.state = api.PinStateFetching
		case !errors.Is(err, errManifestAbsent):
			return nil, err
		}
	}
	e.rec.Created = time.Now().UTC().Truncate(time.Millisecond)
	rec, err := json.Marshal(e.rec)
	if err != nil {
		return nil, err
	}

	p.mu.Lock()
	defer p.mu.Unlock()
	if old := p.pins[e.id]; old != nil { // added meanwhile
		info := old.info()
		return &info, nil
	}
	if err := p.n.st.PutRecord(pinBucket, []byte(e.id), rec); err != nil {
		return nil, fmt.Errorf("pin %s: %w", e.id, err)
	}
	if err := p.keep(e, e.nss); err != nil {
		// Undone at the next start if this fails too (no record, no pin).
		_ = p.n.st.DeleteRecord(pinBucket, []byte(e.id))
		return nil, err
	}
	p.pins[e.id] = e
	if p.ctx != nil {
		p.advertise(e.keys)
		p.startLocked(e)
	}
	info := e.info()
	return &info, nil
}

// addNamespaces adds nss to e's namespaces and keys (no duplicates).
func (e *pinEntry) addNamespaces(nss []share.Namespace) {
	for _, ns := range nss {
		if !slices.Contains(e.nss, ns) {
			e.nss = append(e.nss, ns)
		}
	}
	e.keys = pinKeys(e)
}

// pageNamespaces returns the distinct namespaces of m's pages.
func pageNamespaces(m *dataset.Manifest) ([]share.Namespace, error) {
	var out []share.Namespace
	seen := map[share.Namespace]bool{}
	for _, en := range m.Entries {
		if seen[en.Namespace] {
			continue
		}
		if len(out) == maxPinNamespaces {
			return nil, fmt.Errorf("%w: the manifest's pages span more than %d namespaces", ErrInvalidPin, maxPinNamespaces)
		}
		if en.Namespace.IsReserved() {
			return nil, fmt.Errorf("%w: page %d is in reserved namespace %s", ErrInvalidPin, en.Index, en.Namespace)
		}
		seen[en.Namespace] = true
		out = append(out, en.Namespace)
	}
	return out, nil
}

// errManifestAbsent: this node does not hold the manifest's blob (yet).
var errManifestAbsent = errors.New("pin: the manifest blob is not held by this node")

// readManifest reads the manifest blob at ref from this node's store and
// verifies it: it parses, its signature verifies and its ID is ref.ID.
func (p *pinner) readManifest(ctx context.Context, ref api.Ref) (*dataset.Manifest, error) {
	b, err := p.n.svc.BlobGet(ctx, ref.Height, ref.Namespace, ref.Commitment)
	if err != nil {
		return nil, fmt.Errorf("%w: height %d: %w", errManifestAbsent, ref.Height, err)
	}
	m, err := dataset.ParseManifest(b.Data())
	if err != nil {
		return nil, fmt.Errorf("%w: manifest at height %d: %w", ErrInvalidPin, ref.Height, err)
	}
	if err := m.Verify(); err != nil {
		return nil, fmt.Errorf("%w: manifest at height %d: %w", ErrInvalidPin, ref.Height, err)
	}
	id, err := m.ID()
	if err != nil {
		return nil, fmt.Errorf("%w: manifest at height %d: %w", ErrInvalidPin, ref.Height, err)
	}
	if id != ref.ID {
		return nil, fmt.Errorf("%w: the manifest at height %d has ID %x, the reference says %x", ErrInvalidPin, ref.Height, id, ref.ID)
	}
	return m, nil
}

// Pins lists the pins (api.Pinner).
func (p *pinner) Pins(context.Context) ([]api.PinInfo, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]api.PinInfo, 0, len(p.pins))
	for _, e := range p.pins {
		out = append(out, e.info())
	}
	slices.SortFunc(out, func(a, b api.PinInfo) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// RemovePin removes pin id (api.Pinner): its record, its store pins (the
// data goes at the next prune), the DHT keys no other pin needs, and the
// pieces of its pages no other dataset pin holds.
func (p *pinner) RemovePin(ctx context.Context, id string) error {
	p.mu.Lock()
	e := p.pins[id]
	if e == nil {
		p.mu.Unlock()
		return fmt.Errorf("%w: %q", ErrPinNotFound, id)
	}
	if err := p.n.st.DeleteRecord(pinBucket, []byte(id)); err != nil {
		p.mu.Unlock()
		return fmt.Errorf("pin %s: %w", id, err)
	}
	delete(p.pins, id)
	if e.cancel != nil {
		e.cancel()
	}
	var errs []error
	for _, sp := range p.n.st.Pins() {
		if !strings.HasPrefix(sp.ID, id+storePinSep) {
			continue
		}
		if err := p.n.st.RemovePin(sp.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
			errs = append(errs, err)
		}
	}
	usedKeys := map[string]bool{}
	usedPieces := map[[sha256.Size]byte]bool{}
	for _, o := range p.pins {
		for _, k := range o.keys {
			usedKeys[k] = true
		}
		if o.manifest != nil {
			for _, en := range o.manifest.Entries {
				usedPieces[en.SHA256] = true
			}
		}
	}
	if h := p.n.p2pHost(); h != nil {
		for _, k := range e.keys {
			if !usedKeys[k] {
				h.StopAdvertising(k)
			}
		}
	}
	m := e.manifest
	p.mu.Unlock()

	if b := p.n.Bulk(); b != nil && m != nil {
		for _, en := range m.Entries {
			if usedPieces[en.SHA256] {
				continue
			}
			if err := b.Delete(ctx, bulk.PieceCID(en.SHA256)); err != nil {
				errs = append(errs, fmt.Errorf("page %d: %w", en.Index, err))
				break
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("pin %s removed; cleaning up: %w", id, err)
	}
	return nil
}

// run advertises every pin and copies dataset pins' pages until ctx ends,
// retrying waiting or failed pins every p.retry.
func (p *pinner) run(ctx context.Context) {
	p.mu.Lock()
	p.ctx = ctx
	for _, e := range p.pins {
		p.advertise(e.keys)
		p.startLocked(e)
	}
	p.mu.Unlock()
	defer p.wg.Wait()
	t := time.NewTicker(p.retry)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		p.mu.Lock()
		for _, e := range p.pins {
			p.startLocked(e)
		}
		p.mu.Unlock()
	}
}

// advertise starts advertising keys (re-advertised by the host).
func (p *pinner) advertise(keys []string) {
	h := p.n.p2pHost()
	if h == nil {
		return
	}
	for _, k := range keys {
		if err := h.Advertise(k); err != nil {
			p.log.Warn("advertising a pin", "key", k, "err", err)
		}
	}
}

// startLocked starts e's worker unless there is nothing to do or it runs.
func (p *pinner) startLocked(e *pinEntry) {
	if e.kind != "dataset" || e.busy || e.state == api.PinStateServing || p.ctx == nil || p.ctx.Err() != nil || time.Now().Before(e.nextTry) {
		return
	}
	ctx, cancel := context.WithCancel(p.ctx)
	e.busy, e.cancel = true, cancel
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		defer cancel()
		err := p.process(ctx, e)
		p.mu.Lock()
		defer p.mu.Unlock()
		e.busy = false
		switch {
		case ctx.Err() != nil:
			return
		case errors.Is(err, errManifestAbsent):
			e.state, e.err = api.PinStateWaiting, err.Error()
		case err != nil:
			e.state, e.err = api.PinStateError, err.Error()
			p.log.Warn("pin", "id", e.id, "err", err)
		default:
			e.state, e.err, e.failures = api.PinStateServing, "", 0
			p.log.Info("pin serving", "id", e.id, "pages", e.total)
			return
		}
		e.failures++
		e.nextTry = time.Now().Add(min(p.retry<<min(e.failures-1, 16), maxPinBackoff))
	}()
}

// process reads a dataset pin's manifest (if not read yet) and puts every
// page in the piece store.
func (p *pinner) process(ctx context.Context, e *pinEntry) error {
	p.mu.Lock()
	m := e.manifest
	ref := *e.rec.Target.Dataset
	p.mu.Unlock()
	if m == nil {
		var err error
		if m, err = p.readManifest(ctx, ref); err != nil {
			return err
		}
		nss, err := pageNamespaces(m)
		if err != nil {
			return err
		}
		p.mu.Lock()
		if p.pins[e.id] != e { // removed meanwhile
			p.mu.Unlock()
			return ctx.Err()
		}
		e.manifest, e.total = m, uint64(len(m.Entries))
		e.addNamespaces(nss)
		keys := e.keys
		err = p.keep(e, nss)
		p.mu.Unlock()
		if err != nil {
			return err
		}
		p.advertise(keys)
	}
	p.mu.Lock()
	e.state, e.err = api.PinStateFetching, ""
	p.mu.Unlock()

	b := p.n.Bulk()
	if b == nil {
		return errors.New("networking is off: the pages are kept in the store but not served")
	}
	var held atomic.Uint64
	next := make(chan dataset.PageEntry)
	errs := make([]error, pinWorkers)
	var wg sync.WaitGroup
	for w := range pinWorkers {
		wg.Go(func() {
			for en := range next {
				if err := p.storePage(ctx, b, en); err != nil {
					if errs[w] == nil {
						errs[w] = err
					}
					continue
				}
				n := held.Add(1)
				p.mu.Lock()
				e.held = max(e.held, n)
				p.mu.Unlock()
			}
		})
	}
feed:
	for _, en := range m.Entries {
		select {
		case next <- en:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	p.mu.Lock()
	e.held = held.Load()
	p.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	return errors.Join(errs...)
}

// storePage makes sure page en is in the piece store: from this node's own
// blob if it holds the height, else fetched over bitswap; either way its
// bytes must match the entry.
func (p *pinner) storePage(ctx context.Context, b *bulk.Bulk, en dataset.PageEntry) error {
	if en.Length > bulk.MaxPieceSize {
		return fmt.Errorf("page %d is %d bytes, more than a piece (%d): kept in the store, not served over bitswap", en.Index, en.Length, bulk.MaxPieceSize)
	}
	c := bulk.PieceCID(en.SHA256)
	if has, err := b.Has(ctx, c); err != nil {
		return fmt.Errorf("page %d: %w", en.Index, err)
	} else if has {
		return nil
	}
	// Bulk checks the bytes against c (the entry's SHA-256) on both paths;
	// the length is the manifest's to check.
	checkLength := func(data []byte) error {
		if uint64(len(data)) != en.Length {
			return fmt.Errorf("page %d is %d bytes, the manifest says %d", en.Index, len(data), en.Length)
		}
		return nil
	}
	if blb, err := p.n.svc.BlobGet(ctx, en.Height, en.Namespace, en.Commitment[:]); err == nil {
		if err := checkLength(blb.Data()); err != nil {
			return fmt.Errorf("%w: the blob at height %d: %w", ErrInvalidPin, en.Height, err)
		}
		switch err := b.PutPiece(ctx, c, blb.Data()); {
		case errors.Is(err, bulk.ErrMismatch):
			return fmt.Errorf("%w: the blob at height %d: page %d does not match the manifest's sha256", ErrInvalidPin, en.Height, en.Index)
		case err != nil:
			return fmt.Errorf("page %d: %w", en.Index, err)
		}
		return nil
	}
	fctx, cancel := context.WithTimeout(ctx, pinFetchTimeout)
	defer cancel()
	if _, err := b.GetVerified(fctx, c, checkLength); err != nil {
		return fmt.Errorf("page %d (height %d, not held here): %w", en.Index, en.Height, err)
	}
	return nil
}

var _ api.Pinner = (*pinner)(nil)
