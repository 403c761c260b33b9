package node

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/tessera-da/tessera/node/config"
	"github.com/tessera-da/tessera/node/das"
	"github.com/tessera-da/tessera/node/rpc"
)

// LocalNetParams describe a local network on 127.0.0.1: one producer, Full
// full nodes and Light light nodes, all in this process, each with its own
// home (store, keys, config) under Base and its own libp2p host and RPC.
type LocalNetParams struct {
	Base           string // parent directory of the nodes' homes
	ChainID        string
	Full, Light    int
	BlockInterval  time.Duration
	MaxSquareWidth int
	Samples        int // per height on light nodes
	// ProducerRPC and ProducerMetrics are the producer's listen addresses
	// (empty: a free loopback port for RPC, no metrics). Other nodes use
	// free loopback ports and no metrics.
	ProducerRPC, ProducerMetrics string
	Logger                       *slog.Logger
	// OnSampled, if set, gets every light node's verdicts (node name first).
	OnSampled func(name string, r das.Record)
	// configure, if set (by this package's fault tests), adjusts each node
	// after it is built and before it runs.
	configure func(name string, n *Node)
}

// LocalNode is one node of a local network.
type LocalNode struct {
	Name string
	Home string
	Role config.Role
	Node *Node

	stop    context.CancelFunc
	stopped chan struct{}
}

// Stop stops this node alone (as a crash would, minus the abruptness: its
// store is closed cleanly) and waits until it has stopped.
func (l *LocalNode) Stop() {
	l.stop()
	<-l.stopped
}

// LocalNet is a running local network.
type LocalNet struct {
	Nodes  []*LocalNode
	Secret []byte // the producer's RPC secret (every node gets a copy)
	wg     sync.WaitGroup
	errs   chan error

	p        LocalNetParams
	gen      *config.Genesis
	prodHome string
	boot     []string
}

// Add starts one more full or light node that bootstraps from the producer.
func (ln *LocalNet) Add(ctx context.Context, name string, role config.Role) (*LocalNode, error) {
	return ln.start(ctx, name, role, ln.boot)
}

// start builds and runs one node and waits until its listeners are bound.
func (ln *LocalNet) start(ctx context.Context, name string, role config.Role, bootstrap []string) (*LocalNode, error) {
	p, gen, prodHome := ln.p, ln.gen, ln.prodHome
	home := filepath.Join(p.Base, name)
	if err := os.MkdirAll(config.KeyPath(home, ""), 0o700); err != nil {
		return nil, err
	}
	if role != config.RoleProducer {
		if err := gen.Save(filepath.Join(home, config.GenesisFile)); err != nil {
			return nil, err
		}
		if err := copySecret(prodHome, home); err != nil {
			return nil, err
		}
	}
	cfg := config.Default(role)
	cfg.Home = home
	cfg.RPC.Addr = "127.0.0.1:0"
	cfg.Metrics.Addr = ""
	if role == config.RoleProducer {
		if p.ProducerRPC != "" {
			cfg.RPC.Addr = p.ProducerRPC
		}
		cfg.Metrics.Addr = p.ProducerMetrics
	}
	cfg.P2P.Listen = []string{"/ip4/127.0.0.1/tcp/0", "/ip4/127.0.0.1/udp/0/quic-v1"}
	cfg.P2P.Bootstrap = bootstrap
	if p.Samples > 0 {
		cfg.DAS.Samples = p.Samples
	}
	n, err := New(cfg, gen, p.Logger.With("node", name))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if p.OnSampled != nil {
		n.OnSampled(func(r das.Record) { p.OnSampled(name, r) })
	}
	if p.configure != nil {
		p.configure(name, n)
	}
	nctx, stop := context.WithCancel(ctx)
	stopped := make(chan struct{})
	ln.wg.Add(1)
	go func() {
		defer ln.wg.Done()
		defer close(stopped)
		if err := n.Run(nctx); err != nil {
			ln.errs <- fmt.Errorf("%s: %w", name, err)
		}
	}()
	select {
	case <-n.Ready():
	case err := <-ln.errs:
		stop()
		return nil, err
	case <-ctx.Done():
		stop()
		return nil, ctx.Err()
	}
	l := &LocalNode{Name: name, Home: home, Role: role, Node: n, stop: stop, stopped: stopped}
	ln.Nodes = append(ln.Nodes, l)
	return l, nil
}

// StartLocalNet initialises (or reuses) the homes and starts every node,
// the producer first; the others bootstrap from it. It returns once every
// node's listeners are bound. Cancel ctx to stop the network, then Wait.
func StartLocalNet(ctx context.Context, p LocalNetParams) (*LocalNet, error) {
	if p.Full < 0 || p.Light < 0 || p.Full+p.Light > 64 {
		return nil, fmt.Errorf("%w: %d full and %d light nodes (at most 64 in all)", config.ErrInvalidConfig, p.Full, p.Light)
	}
	if p.Logger == nil {
		p.Logger = slog.New(slog.DiscardHandler)
	}
	ln := &LocalNet{errs: make(chan error, 1+p.Full+p.Light)}
	prodHome := filepath.Join(p.Base, "producer")
	gen, err := localGenesis(prodHome, p)
	if err != nil {
		return nil, err
	}
	if ln.Secret, err = config.LoadOrCreateSecret(config.KeyPath(prodHome, config.JWTSecretFile), rpc.SecretSize); err != nil {
		return nil, err
	}
	ln.p, ln.gen, ln.prodHome = p, gen, prodHome
	start := func(name string, role config.Role, bootstrap []string) (*LocalNode, error) {
		return ln.start(ctx, name, role, bootstrap)
	}
	prod, err := start("producer", config.RoleProducer, nil)
	if err != nil {
		return nil, err
	}
	boot := prod.Node.P2PAddrs()
	ln.boot = boot
	for i := range p.Full {
		if _, err := start(fmt.Sprintf("full-%d", i+1), config.RoleFull, boot); err != nil {
			return ln, err
		}
	}
	for i := range p.Light {
		if _, err := start(fmt.Sprintf("light-%d", i+1), config.RoleLight, boot); err != nil {
			return ln, err
		}
	}
	return ln, nil
}

// Wait waits for every node to stop and returns the first error.
func (ln *LocalNet) Wait() error {
	ln.wg.Wait()
	select {
	case err := <-ln.errs:
		return err
	default:
		return nil
	}
}

// Errors returns a channel that receives a node's error if one stops.
func (ln *LocalNet) Errors() <-chan error { return ln.errs }

// localGenesis writes the producer's key and genesis (or reuses them).
func localGenesis(home string, p LocalNetParams) (*config.Genesis, error) {
	path := filepath.Join(home, config.GenesisFile)
	if g, err := config.LoadGenesis(path); err == nil {
		return g, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	if err := os.MkdirAll(home, 0o700); err != nil {
		return nil, err
	}
	key, err := config.LoadOrCreateNodeKey(home)
	if err != nil {
		return nil, err
	}
	g := &config.Genesis{
		ChainID:        p.ChainID,
		GenesisTime:    time.Now().UTC().Truncate(time.Second),
		Producers:      []string{config.PublicKeyHex(ed25519.PrivateKey(key))},
		MaxSquareWidth: p.MaxSquareWidth,
		BlockInterval:  config.Duration(p.BlockInterval),
		SamplingWindow: config.Duration(config.DefaultSampling),
	}
	if err := g.Validate(); err != nil {
		return nil, err
	}
	return g, g.Save(path)
}

// copySecret gives a node the network's RPC secret, so one token works on
// every node of the local network.
func copySecret(from, to string) error {
	path := config.KeyPath(to, config.JWTSecretFile)
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	src, err := os.ReadFile(config.KeyPath(from, config.JWTSecretFile))
	if err != nil {
		return err
	}
	return os.WriteFile(path, src, 0o600)
}
