package node

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/tessera-da/tessera/blob"
	"github.com/tessera-da/tessera/erasure"
	"github.com/tessera-da/tessera/node/bulk"
	"github.com/tessera-da/tessera/node/config"
	"github.com/tessera-da/tessera/node/das"
	"github.com/tessera-da/tessera/node/exchange"
	"github.com/tessera-da/tessera/node/header"
	"github.com/tessera-da/tessera/node/headersync"
	"github.com/tessera-da/tessera/node/p2p"
	"github.com/tessera-da/tessera/node/store"
	"github.com/tessera-da/tessera/sampling"
	"github.com/tessera-da/tessera/share"
)

// Buckets of the store's small records used by the network roles.
const (
	dasBucket     = "das"     // sampling checkpoint and per-height verdicts
	samplesBucket = "samples" // samples a light node verified, served to others
	fraudBucket   = "fraud"   // verified bad-encoding fraud proofs, by height
)

// squareFetchBudget bounds how long a full node tries to get a block's
// square before it stores the header alone and moves on.
const squareFetchBudget = 20 * time.Second

// network is a node's libp2p side.
type network struct {
	n      *Node
	host   *p2p.Host
	gossip *headersync.Gossip
	syncer *headersync.Syncer
	server *exchange.Server
	client *exchange.Client
	das    *das.DASer
	bulk   *bulk.Bulk // content-addressed large-object pieces over bitswap
}

func (n *Node) startNetwork(ctx context.Context) (*network, error) {
	key, err := config.LoadOrCreateNodeKey(n.cfg.Home)
	if err != nil {
		return nil, err
	}
	producers, err := n.gen.ProducerKeys()
	if err != nil {
		return nil, err
	}
	pp := p2p.DefaultParams(n.gen.ChainID, n.cfg.Role, key)
	pp.ListenAddrs = n.cfg.P2P.Listen
	pp.Bootstrap = n.cfg.P2P.Bootstrap
	pp.Archival = n.cfg.Store.Archival
	pp.Logger = n.log
	if n.cfg.Role == config.RoleProducer {
		// A producer sends each header to all its peers, not only its
		// mesh, so a peer that joined within the last heartbeat gets it.
		pp.PubSubOptions = append(pp.PubSubOptions, pubsub.WithFloodPublish(true))
	}
	for _, id := range append(exchange.Protocols(n.gen.ChainID), bulk.Protocols(n.gen.ChainID)...) {
		pp.Protocols[id] = p2p.DefaultProtocolLimit(n.cfg.Role)
	}
	h, err := p2p.New(ctx, pp)
	if err != nil {
		return nil, fmt.Errorf("p2p: %w", err)
	}
	nw := &network{n: n, host: h}
	ok := false
	defer func() {
		if !ok {
			nw.close()
		}
	}()
	gp := headersync.DefaultGossipParams(n.gen.ChainID, producers)
	gp.Fraud = func(_ context.Context, data []byte) error {
		_, err := n.verifyFraud(data)
		return err
	}
	gp.OnInvalid = func(p peer.ID) { h.Pool().Report(p, false) }
	gp.Logger = n.log
	if nw.gossip, err = headersync.NewGossip(h.PubSub(), gp); err != nil {
		return nil, err
	}
	if head := n.watch.Head(); head != nil {
		nw.gossip.SetHead(head)
	}
	copts := exchange.DefaultClientOptions()
	copts.OnPeerError = func(p peer.ID, err error) {
		if exchange.IsBadPeer(err) {
			h.Pool().Report(p, false)
		}
	}
	if nw.client, err = exchange.NewClient(h.Host(), n.gen.ChainID, copts); err != nil {
		return nil, err
	}
	var src exchange.Source = &storeSource{n: n}
	if n.cfg.Role == config.RoleLight {
		src = &sampleSource{n: n}
	}
	if nw.server, err = exchange.NewServer(h.Host(), n.gen.ChainID, src, exchange.DefaultServerOptions()); err != nil {
		return nil, err
	}
	nw.gossip.SubscribeFraud(nw.onFraud)
	bp := bulk.DefaultParams(n.gen.ChainID)
	bp.NoAnnounce = n.cfg.Role == config.RoleLight
	bp.Logger = n.log
	bp.OnBadPeer = func(p peer.ID, _ error) { h.Pool().Report(p, false) }
	if nw.bulk, err = bulk.New(ctx, h.Host(), h.DHT(), n.st.Datastore(), bp); err != nil {
		return nil, err
	}
	if n.cfg.Role != config.RoleProducer {
		sp := headersync.DefaultSyncParams(n.gen.ChainID, producers)
		sp.Fetcher = &rangeFetcher{nw: nw}
		sp.Gossip = nw.gossip
		sp.Logger = n.log
		switch n.cfg.Role {
		case config.RoleFull:
			sp.Store = &fullHeaders{nw: nw}
		case config.RoleLight:
			sp.Store = &lightHeaders{st: n.st}
			if err := nw.startDAS(ctx); err != nil {
				return nil, err
			}
		}
		sp.OnHeader = func(hd *header.Header) error {
			n.watch.Publish(hd)
			n.metrics.height.Set(float64(hd.Height))
			if nw.das != nil {
				nw.das.OnHeader(hd)
			}
			return nil
		}
		if nw.syncer, err = headersync.NewSyncer(sp); err != nil {
			return nil, err
		}
	}
	ok = true
	return nw, nil
}

func (nw *network) startDAS(ctx context.Context) error {
	n := nw.n
	cfg := das.DefaultConfig()
	cfg.Samples, cfg.Confidence = n.cfg.DAS.Samples, n.cfg.DAS.Confidence
	cfg.MaxInFlight = n.cfg.DAS.Workers + 2
	cfg.CatchUpWorkers = n.cfg.DAS.Workers
	if w := uint64(time.Duration(n.gen.SamplingWindow) / time.Duration(n.gen.BlockInterval)); w > 0 {
		cfg.Window = w
	}
	d, err := das.New(cfg, das.Deps{
		Fetcher:     &dasFetcher{nw: nw},
		Headers:     &dasHeaders{st: n.st},
		Checkpoints: &records{st: n.st, bucket: dasBucket},
		Sink:        &sampleSink{st: n.st},
		Progress:    n.onSampled,
		Log:         n.log,
	})
	if err != nil {
		return err
	}
	nw.das = d
	return d.Start(ctx)
}

// run drives the network until ctx ends.
func (nw *network) run(ctx context.Context) {
	if nw.syncer != nil {
		if err := nw.syncer.Run(ctx); err != nil && ctx.Err() == nil {
			nw.n.log.Error("header sync stopped", "err", err)
		}
	}
	<-ctx.Done()
}

func (nw *network) close() {
	if nw.das != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = nw.das.Stop(ctx)
		cancel()
	}
	if nw.bulk != nil {
		_ = nw.bulk.Close()
	}
	if nw.server != nil {
		_ = nw.server.Close()
	}
	if nw.gossip != nil {
		_ = nw.gossip.Close()
	}
	if nw.host != nil {
		_ = nw.host.Close()
	}
}

// peers returns the peers to ask for data: the pool of full peers, then
// any other connected peer.
func (nw *network) peers() []peer.ID {
	ps := nw.host.Pool().Peers()
	seen := map[peer.ID]bool{}
	for _, p := range ps {
		seen[p] = true
	}
	for _, p := range nw.host.Host().Network().Peers() {
		if !seen[p] {
			ps = append(ps, p)
		}
	}
	return ps
}

// publish announces a header the producer made.
func (nw *network) publish(h *header.Header) {
	nw.gossip.SetHead(h)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := nw.gossip.Publish(ctx, h); err != nil {
		nw.n.log.Warn("gossiping a header", "height", h.Height, "err", err)
	}
}

// onFraud records every fraud proof the topic delivers (already validated
// by the topic validator; checked again, as the validator may have ignored
// it for a height not synced yet).
func (nw *network) onFraud(data []byte) {
	if height, err := nw.n.verifyFraud(data); err == nil {
		nw.n.recordFraud(height, data)
	}
}

// publishFraud records and gossips a fraud proof this node built.
func (nw *network) publishFraud(height uint64, data []byte) {
	nw.n.recordFraud(height, data)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := nw.gossip.PublishFraud(ctx, data); err != nil {
		nw.n.log.Warn("gossiping a fraud proof", "height", height, "err", err)
	}
}

// storeSource serves a producer's or full node's stored squares and headers.
type storeSource struct{ n *Node }

func (s *storeSource) Square(height uint64) (*erasure.ExtendedSquare, *erasure.DAH, error) {
	if s.n.withhold != nil && s.n.withhold(height) {
		return nil, nil, fmt.Errorf("%w: withheld", exchange.ErrNotFound)
	}
	sq, err := s.n.svc.Square(height)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, nil, fmt.Errorf("%w: %w", exchange.ErrNotFound, err)
		}
		return nil, nil, err
	}
	return sq.EDS, sq.DAH, nil
}

func (s *storeSource) Headers(from, to uint64) ([]*header.Header, error) {
	hs, err := s.n.st.HeaderRange(from, to+1)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("%w: %w", exchange.ErrNotFound, err)
		}
		return nil, err
	}
	return hs, nil
}

// LocateBlob finds a blob of a stored square through the store's blob
// index, for the commitment proof protocol (exchange.BlobLocator).
func (s *storeSource) LocateBlob(height uint64, ns share.Namespace, c blob.Commitment) (int, int, error) {
	entries, err := s.n.st.BlobsByNamespace(ns.Array(), height)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return 0, 0, fmt.Errorf("%w: %w", exchange.ErrNotFound, err)
		}
		return 0, 0, err
	}
	for _, e := range entries {
		if bytes.Equal(e.Commitment[:], c) {
			return int(e.ShareStart), int(e.ShareCount), nil
		}
	}
	return 0, 0, fmt.Errorf("%w: no blob with commitment %x in namespace %s at height %d", exchange.ErrNotFound, []byte(c), ns, height)
}

// sampleSource serves a light node's headers and the samples it verified.
type sampleSource struct{ n *Node }

func (s *sampleSource) Square(uint64) (*erasure.ExtendedSquare, *erasure.DAH, error) {
	return nil, nil, fmt.Errorf("%w: a light node holds no squares", exchange.ErrNotFound)
}

func (s *sampleSource) Headers(from, to uint64) ([]*header.Header, error) {
	return (&storeSource{n: s.n}).Headers(from, to)
}

func (s *sampleSource) Sample(height uint64, row, col int) (*erasure.Sample, error) {
	h, err := s.n.st.HeaderByHeight(height)
	if err != nil {
		return nil, err
	}
	b, err := s.n.st.GetRecord(samplesBucket, sampleKey(height, row, col))
	if err != nil {
		return nil, err
	}
	return erasure.ParseSample(b, 2*int(h.SquareWidth))
}

func sampleKey(height uint64, row, col int) []byte {
	return []byte(fmt.Sprintf("%020d/%05d/%05d", height, row, col))
}

// sampleSink keeps the samples a light node verified.
type sampleSink struct{ st *store.Store }

func (s *sampleSink) Keep(height uint64, smp *erasure.Sample) {
	b, err := smp.MarshalBinary()
	if err != nil {
		return
	}
	_ = s.st.PutRecord(samplesBucket, sampleKey(height, smp.Row(), smp.Col()), b)
}

// rangeFetcher asks peers for header ranges, one peer after another.
type rangeFetcher struct{ nw *network }

func (f *rangeFetcher) Headers(ctx context.Context, from, to uint64) ([]*header.Header, error) {
	var last error = errors.New("no peers")
	for _, p := range f.nw.peers() {
		hs, err := f.nw.client.Headers(ctx, p, from, to)
		if err == nil && len(hs) > 0 {
			return hs, nil
		}
		if err != nil {
			last = err
		}
	}
	return nil, last
}

// lightHeaders stores a light node's verified headers (no squares).
type lightHeaders struct{ st *store.Store }

func (l *lightHeaders) Head() (*header.Header, error) {
	h, err := l.st.Head()
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	return h, err
}
func (l *lightHeaders) PutHeader(h *header.Header) error { return l.st.PutHeader(h) }
func (l *lightHeaders) HeaderByHeight(height uint64) (*header.Header, error) {
	return l.st.HeaderByHeight(height)
}

// fullHeaders stores a full node's verified headers with their squares:
// for each header it fetches the square from peers, checks it against the
// header's data root, indexes it and stores both in one transaction. When
// no peer serves the square within squareFetchBudget it stores the header
// alone (the block is then not available from this node).
type fullHeaders struct{ nw *network }

func (f *fullHeaders) Head() (*header.Header, error) {
	return (&lightHeaders{st: f.nw.n.st}).Head()
}

func (f *fullHeaders) HeaderByHeight(height uint64) (*header.Header, error) {
	return f.nw.n.st.HeaderByHeight(height)
}

func (f *fullHeaders) PutHeader(h *header.Header) error {
	n := f.nw.n
	ctx, cancel := context.WithTimeout(context.Background(), n.squareBudget)
	defer cancel()
	for round := 0; ; round++ {
		mismatch := false
		for _, p := range f.nw.peers() {
			eds, dah, err := f.nw.client.Square(ctx, p, h)
			if err != nil {
				mismatch = mismatch || exchange.IsBadPeer(err)
				continue
			}
			blk, err := blockFromSquare(h, eds.ODSBytes())
			if err != nil {
				n.log.Warn("square does not parse", "height", h.Height, "peer", p, "err", err)
				continue
			}
			if err := n.st.PutBlock(blk); err != nil {
				return err
			}
			n.svc.Prime(h, eds, dah)
			return nil
		}
		if !mismatch && round >= 1 {
			// No peer serves the whole square: rebuild it from the rows
			// and samples several peers hold (light nodes keep theirs).
			if blk, eds, dah, err := f.nw.rebuild(ctx, h); err == nil {
				if err := n.st.PutBlock(blk); err != nil {
					return err
				}
				n.svc.Prime(h, eds, dah)
				n.log.Info("square rebuilt from several peers", "height", h.Height)
				return nil
			} else {
				n.log.Debug("rebuild from peers failed", "height", h.Height, "err", err)
			}
		}
		if mismatch && round >= 1 {
			// The square peers serve does not extend to the header's data
			// root: either they lie or the producer encoded it badly. The
			// committed rows tell which; bad encoding is proven to everyone.
			if fraud, err := f.nw.proveBadEncoding(ctx, h); err == nil {
				if err := n.st.PutHeader(h); err != nil {
					return err
				}
				f.nw.publishFraud(h.Height, fraud)
				return nil
			} else {
				n.log.Debug("no bad-encoding proof", "height", h.Height, "err", err)
			}
		}
		select {
		case <-ctx.Done():
			n.log.Warn("no peer served the square; storing the header alone", "height", h.Height)
			return n.st.PutHeader(h)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// dasFetcher samples from the pool of full peers.
type dasFetcher struct{ nw *network }

func (f *dasFetcher) SampleFromAny(ctx context.Context, hdr *header.Header, coords []sampling.Coord) (map[sampling.Coord]*erasure.Sample, error) {
	cs := make([]exchange.Coord, len(coords))
	for i, c := range coords {
		cs[i] = exchange.Coord{Row: c.Row, Col: c.Col}
	}
	got, err := f.nw.client.SampleFromAny(ctx, f.nw.peers(), hdr, cs)
	out := make(map[sampling.Coord]*erasure.Sample, len(got))
	for c, s := range got {
		out[sampling.Coord{Row: c.Row, Col: c.Col}] = s
	}
	return out, err
}

// dasHeaders reads verified headers for the DASer.
type dasHeaders struct{ st *store.Store }

func (d *dasHeaders) Head(context.Context) (*header.Header, error) { return d.st.Head() }
func (d *dasHeaders) GetByHeight(_ context.Context, height uint64) (*header.Header, error) {
	return d.st.HeaderByHeight(height)
}

// records adapts a store bucket to das.Checkpoints.
type records struct {
	st     *store.Store
	bucket string
}

func (r *records) Get(key []byte) ([]byte, error) {
	v, err := r.st.GetRecord(r.bucket, key)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	return v, err
}

func (r *records) Put(key, value []byte) error { return r.st.PutRecord(r.bucket, key, value) }

// remote reads verified namespace data and commitment proofs from full
// peers for a light node's blob API. It tries the peers in turn and
// reports every peer whose answer fails verification as bad.
type remote struct{ nw *network }

func (r *remote) NamespaceData(ctx context.Context, height uint64, ns share.Namespace) (blob.NamespaceData, error) {
	h, err := r.nw.n.st.HeaderByHeight(height)
	if err != nil {
		return nil, err
	}
	var last error = errors.New("no peers")
	for _, p := range r.nw.peers() {
		res, err := r.nw.client.NamespaceData(ctx, p, h, ns)
		if err == nil {
			return res.Data, nil
		}
		r.report(p, err)
		last = err
		if ctx.Err() != nil {
			break
		}
	}
	return nil, last
}

// CommitmentProof asks the peers in turn for the commitment proof of the
// blob with commitment c in namespace ns at height; the exchange client
// verifies each against the stored header's data root before returning
// it.
func (r *remote) CommitmentProof(ctx context.Context, height uint64, ns share.Namespace, c blob.Commitment) (*blob.CommitmentProof, error) {
	h, err := r.nw.n.st.HeaderByHeight(height)
	if err != nil {
		return nil, err
	}
	var last error = errors.New("no peers")
	for _, p := range r.nw.peers() {
		cp, err := r.nw.client.CommitmentProof(ctx, p, h, ns, c)
		if err == nil {
			return cp, nil
		}
		r.report(p, err)
		last = err
		if ctx.Err() != nil {
			break
		}
	}
	return nil, fmt.Errorf("commitment proof of %x in namespace %s at height %d: %w", []byte(c), ns, height, last)
}

// report scores a peer down when err says it sent a bad answer.
func (r *remote) report(p peer.ID, err error) {
	if exchange.IsBadPeer(err) {
		r.nw.host.Pool().Report(p, false)
	}
}

// rebuild gathers rows and samples of the block at h from every peer (each
// verified against the data root), recovers the original square from them
// and checks it against the header.
func (nw *network) rebuild(ctx context.Context, h *header.Header) (*store.Block, *erasure.ExtendedSquare, *erasure.DAH, error) {
	w := 2 * int(h.SquareWidth)
	cells := make([][]byte, w*w)
	peers := nw.peers()
	if len(peers) == 0 {
		return nil, nil, nil, errors.New("no peers")
	}
	ext := nw.n.ext
	// Whole rows first, spread over the peers.
	for r := range w {
		for i := range peers {
			p := peers[(r+i)%len(peers)]
			shares, err := nw.client.Row(ctx, p, h, r)
			if err == nil && len(shares) == w {
				copy(cells[r*w:], shares)
				break
			}
		}
	}
	ods, err := ext.RecoverODS(cells)
	if err != nil {
		// Then single samples, from anyone who kept them.
		var missing []exchange.Coord
		for i, c := range cells {
			if c == nil {
				missing = append(missing, exchange.Coord{Row: i / w, Col: i % w})
			}
		}
		for _, p := range peers {
			for len(missing) > 0 {
				n := min(len(missing), exchange.MaxSamplesPerRequest)
				smps, _ := nw.client.Samples(ctx, p, h, missing[:n])
				var still []exchange.Coord
				for j, s := range smps {
					if s != nil {
						cells[s.Row()*w+s.Col()] = s.Share()
					} else {
						still = append(still, missing[j])
					}
				}
				if len(smps) < n {
					still = append(still, missing[len(smps):n]...)
				}
				missing = append(still, missing[n:]...)
				if len(still) == n {
					break // this peer has none of them
				}
			}
		}
		if ods, err = ext.RecoverODS(cells); err != nil {
			return nil, nil, nil, err
		}
	}
	eds, err := ext.ExtendFlat(ods)
	if err != nil {
		return nil, nil, nil, err
	}
	dah, err := ext.ComputeDAH(eds)
	if err != nil {
		return nil, nil, nil, err
	}
	if !bytes.Equal(dah.Hash(), h.DataRoot[:]) {
		return nil, nil, nil, fmt.Errorf("the rebuilt square does not match the header's data root")
	}
	blk, err := blockFromSquare(h, ods)
	if err != nil {
		return nil, nil, nil, err
	}
	return blk, eds, dah, nil
}

// Sample serves single samples of a stored square: used by the exchange
// server only when Square reports the square missing.
func (s *storeSource) Sample(height uint64, row, col int) (*erasure.Sample, error) {
	if s.n.withholdSamples != nil && s.n.withholdSamples(height) {
		return nil, fmt.Errorf("%w: withheld", exchange.ErrNotFound)
	}
	sq, err := s.n.svc.Square(height)
	if err != nil {
		return nil, err
	}
	return s.n.ext.ProveSample(sq.EDS, sq.DAH, row, col, erasure.Row)
}
