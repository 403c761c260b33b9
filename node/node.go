// Package node assembles a Tessera node from its parts: the store, the
// producer, the chain watcher, the JSON-RPC server and the metrics
// endpoint. It is the only place (with its sub-packages) that does I/O.
package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tessera-da/tessera/erasure"
	"github.com/tessera-da/tessera/node/api"
	"github.com/tessera-da/tessera/node/bulk"
	"github.com/tessera-da/tessera/node/chain"
	"github.com/tessera-da/tessera/node/config"
	"github.com/tessera-da/tessera/node/das"
	"github.com/tessera-da/tessera/node/header"
	"github.com/tessera-da/tessera/node/producer"
	"github.com/tessera-da/tessera/node/rpc"
	"github.com/tessera-da/tessera/node/store"
)

// Maintenance periods.
const (
	pruneEvery = time.Minute      // pruning, when a prune window is set
	gcEvery    = 10 * time.Minute // reclaiming space in the store's value log
)

// Node is a running Tessera node.
type Node struct {
	cfg     config.Config
	gen     *config.Genesis
	log     *slog.Logger
	st      *store.Store
	watch   *chain.Watcher
	prod    *producer.Producer
	svc     *api.Service
	rpcSrv  *rpc.Server
	metrics *metrics

	mu          sync.Mutex
	rpcAddr     net.Addr
	metAddr     net.Addr
	net         *network
	onSampledFn func(das.Record)
	fraudFrom   uint64 // lowest height proven badly encoded, 0 if none
	// withhold, set only by fault-injection tests, makes the node refuse
	// to serve the squares of the heights it returns true for.
	withhold func(height uint64) bool
	// withholdSamples, set only by fault-injection tests, makes a node that
	// withholds a square also refuse single samples of it.
	withholdSamples func(height uint64) bool
	// squareBudget bounds how long a full node tries to get a block's
	// square before storing the header alone.
	squareBudget time.Duration
	ext          *erasure.Extender // for sample proofs served outside the API's cache
	pins         *pinner           // pinning (full nodes and producers; nil on light nodes)
	ready        chan struct{}
}

// OnSampled sets a function called with each height's sampling verdict on
// a light node (for progress displays). Call it before Run.
func (n *Node) OnSampled(fn func(das.Record)) { n.onSampledFn = fn }

// New opens the node's store and builds its parts. cfg must be valid.
func New(cfg config.Config, gen *config.Genesis, log *slog.Logger) (*Node, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := gen.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	st, err := store.Open(cfg.StorePath(), store.Options{})
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", cfg.StorePath(), err)
	}
	ext, err := erasure.NewExtender(erasure.DefaultParams(), erasure.NewLeopardCodec())
	if err != nil {
		st.Close()
		return nil, err
	}
	n := &Node{cfg: cfg, gen: gen, log: log, st: st, ready: make(chan struct{}), squareBudget: squareFetchBudget, ext: ext}
	ok := false
	defer func() {
		if !ok {
			st.Close()
		}
	}()
	head, err := st.Head()
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	if head != nil && head.ChainID != gen.ChainID {
		return nil, fmt.Errorf("%w: the store holds chain %q, the genesis says %q", config.ErrInvalidConfig, head.ChainID, gen.ChainID)
	}
	n.watch = chain.NewWatcher(head)
	n.metrics = newMetrics(
		func() float64 { return float64(st.QueueLen()) },
		func() float64 { return float64(st.QueueBytes()) },
		func() float64 {
			s, err := st.Stats()
			if err != nil {
				return 0
			}
			return float64(s.LSMBytes + s.VlogBytes)
		})
	if head != nil {
		n.metrics.height.Set(float64(head.Height))
	}
	nodeType := "Full"
	if cfg.Role == config.RoleProducer {
		nodeType = "Producer"
		key, err := config.LoadOrCreateNodeKey(cfg.Home)
		if err != nil {
			return nil, err
		}
		if !gen.IsProducer(key) {
			return nil, fmt.Errorf("%w: this node's key %s is not a producer in the genesis", config.ErrInvalidConfig, config.PublicKeyHex(key))
		}
		n.prod, err = producer.New(st, producer.Params{
			ChainID:        gen.ChainID,
			MaxSquareWidth: gen.MaxSquareWidth,
			BlockInterval:  time.Duration(gen.BlockInterval),
			QueueMaxBytes:  cfg.Producer.QueueMaxBytes,
			Key:            key,
			Logger:         log,
			OnBlock:        n.onBlock,
		})
		if err != nil {
			return nil, err
		}
	}
	n.svc = &api.Service{Store: st, Producer: n.prod, Watcher: n.watch, NodeType: nodeType, Pieces: pieces{n: n}}
	if cfg.Role != config.RoleLight {
		if n.pins, err = newPinner(n); err != nil {
			return nil, err
		}
		n.svc.Pinner = n.pins
	}
	if cfg.RPC.Addr != "" {
		secret, err := config.LoadOrCreateSecret(config.KeyPath(cfg.Home, config.JWTSecretFile), rpc.SecretSize)
		if err != nil {
			return nil, err
		}
		n.rpcSrv, err = rpc.NewServer(rpc.Options{
			Secret:       secret,
			AuthRequired: cfg.RPC.AuthRequired,
			MaxBodyBytes: cfg.RPC.MaxBodyBytes,
			Observe:      n.metrics.observeRPC,
			Logger:       log,
		})
		if err != nil {
			return nil, err
		}
		if err := api.Register(n.rpcSrv, n.svc); err != nil {
			return nil, err
		}
	}
	if err := n.loadFraud(); err != nil {
		return nil, err
	}
	ok = true
	return n, nil
}

func (n *Node) onSampled(r das.Record) {
	n.log.Debug("sampled", "height", r.Height, "available", r.Available, "confidence", r.Confidence, "samples", r.Sampled)
	if n.onSampledFn != nil {
		n.onSampledFn(r)
	}
}

func (n *Node) onBlock(h *header.Header, eds *erasure.ExtendedSquare, dah *erasure.DAH, s producer.BlockStats) {
	n.svc.Prime(h, eds, dah)
	n.watch.Publish(h)
	n.mu.Lock()
	nw := n.net
	n.mu.Unlock()
	if nw != nil {
		nw.publish(h)
	}
	n.metrics.blocks.Inc()
	n.metrics.blobs.Add(float64(s.Blobs))
	n.metrics.blobBytes.Add(float64(s.DataBytes))
	n.metrics.squareWidth.Set(float64(s.SquareWidth))
	n.metrics.height.Set(float64(h.Height))
	n.metrics.buildTime.Observe(s.Build.Seconds())
	n.log.Debug("block", "height", h.Height, "k", s.SquareWidth, "blobs", s.Blobs, "bytes", s.DataBytes, "build", s.Build)
}

// Ready is closed once the node's listeners are bound.
func (n *Node) Ready() <-chan struct{} { return n.ready }

// RPCAddr returns the bound RPC address (nil before Ready or when disabled).
func (n *Node) RPCAddr() net.Addr {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.rpcAddr
}

// MetricsAddr returns the bound metrics address (nil before Ready or when disabled).
func (n *Node) MetricsAddr() net.Addr {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.metAddr
}

// Store returns the node's store (for tools and tests in this module).
func (n *Node) Store() *store.Store { return n.st }

// Producer returns the node's producer, or nil.
func (n *Node) Producer() *producer.Producer { return n.prod }

// Run serves until ctx ends, then shuts everything down and closes the store.
func (n *Node) Run(ctx context.Context) error {
	defer n.st.Close()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errc := make(chan error, 4)
	if len(n.cfg.P2P.Listen) > 0 {
		nw, err := n.startNetwork(ctx)
		if err != nil {
			return err
		}
		defer nw.close()
		n.mu.Lock()
		n.net = nw
		n.mu.Unlock()
		if n.cfg.Role == config.RoleLight {
			n.svc.Remote = &remote{nw: nw}
		}
		if nw.das != nil {
			n.svc.Sampler = nw.das
			if n.fraudFrom > 0 {
				nw.das.MarkFraud(n.fraudFrom)
			}
		}
		n.log.Info("p2p listening", "id", nw.host.ID().String(), "addrs", fmt.Sprint(nw.host.Addrs()))
		wg.Add(1)
		go func() {
			defer wg.Done()
			nw.run(ctx)
		}()
	}
	// serve binds addr for h, records the bound address in *bound and
	// reports the server's failure on errc.
	serve := func(name, addr string, h http.Handler, bound *net.Addr) error {
		a, done, err := rpc.ListenAndServe(ctx, addr, h)
		if err != nil {
			return fmt.Errorf("%s listen %s: %w", name, addr, err)
		}
		n.mu.Lock()
		*bound = a
		n.mu.Unlock()
		n.log.Info(name+" listening", "addr", a.String())
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := <-done; err != nil {
				errc <- fmt.Errorf("%s: %w", name, err)
			}
		}()
		return nil
	}
	if n.rpcSrv != nil {
		if err := serve("rpc", n.cfg.RPC.Addr, n.rpcSrv, &n.rpcAddr); err != nil {
			return err
		}
	}
	if n.cfg.Metrics.Addr != "" {
		mux := http.NewServeMux()
		mux.Handle("/metrics", promhttp.HandlerFor(n.metrics.reg, promhttp.HandlerOpts{}))
		if err := serve("metrics", n.cfg.Metrics.Addr, mux, &n.metAddr); err != nil {
			return err
		}
	}
	if n.prod != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = n.prod.Run(ctx)
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		n.maintain(ctx)
	}()
	if n.pins != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n.pins.run(ctx)
		}()
	}
	close(n.ready)
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	cancel()
	wg.Wait()
	return err
}

// maintain prunes squares older than the prune window (except pinned data)
// and reclaims store space, until ctx ends.
func (n *Node) maintain(ctx context.Context) {
	prune := time.NewTicker(pruneEvery)
	defer prune.Stop()
	gc := time.NewTicker(gcEvery)
	defer gc.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-gc.C:
			if err := n.st.CollectGarbage(); err != nil {
				n.log.Warn("store garbage collection", "err", err)
			}
			continue
		case <-prune.C:
		}
		if n.cfg.Store.Archival {
			continue
		}
		window := n.cfg.Store.PruneWindow
		if window == 0 {
			window = time.Duration(n.gen.SamplingWindow)
		}
		cutoff := time.Now().Add(-window)
		before, err := n.firstHeightAfter(cutoff)
		if err != nil || before <= 1 {
			continue
		}
		if pruned, err := n.st.Prune(before); err != nil {
			n.log.Error("prune failed", "err", err)
		} else if pruned > 0 {
			n.log.Info("pruned", "heights", pruned, "before", before)
		}
	}
}

// firstHeightAfter returns the lowest height whose time is after t, by
// binary search over the stored headers.
func (n *Node) firstHeightAfter(t time.Time) (uint64, error) {
	head := n.watch.Head()
	if head == nil {
		return 0, nil
	}
	lo, hi := uint64(1), head.Height+1
	for lo < hi {
		mid := lo + (hi-lo)/2
		h, err := n.st.HeaderByHeight(mid)
		if err != nil {
			return 0, err
		}
		if h.Time.After(t) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo, nil
}

// P2PAddrs returns the node's libp2p addresses with its peer ID (nil before
// Ready or without networking), for use as bootstrap peers.
func (n *Node) P2PAddrs() []string {
	n.mu.Lock()
	nw := n.net
	n.mu.Unlock()
	if nw == nil {
		return nil
	}
	var out []string
	for _, a := range nw.host.Addrs() {
		out = append(out, a.String())
	}
	return out
}

// Bulk returns the node's content-addressed piece store over bitswap (nil
// before Ready or without networking).
func (n *Node) Bulk() *bulk.Bulk {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.net == nil {
		return nil
	}
	return n.net.bulk
}
