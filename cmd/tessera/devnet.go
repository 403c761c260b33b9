package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/tessera-da/tessera/blob"
	"github.com/tessera-da/tessera/node"
	"github.com/tessera-da/tessera/node/config"
	"github.com/tessera-da/tessera/node/das"
	"github.com/tessera-da/tessera/node/rpc"
	"github.com/tessera-da/tessera/share"
)

func newDevnetCmd() *cobra.Command {
	var (
		home             string
		demo             bool
		full, light      int
		samples          int
		o                initOpts
		logLevel         string
		rpcAddr, metAddr string
	)
	cmd := &cobra.Command{
		Use:   "devnet",
		Short: "Run a local network on 127.0.0.1: a producer, full nodes and light nodes",
		Long: `Starts, in this process, a producer with an embedded store and JSON-RPC,
--full full nodes that sync and serve every square, and --light light
nodes that sample every block, each a real node with its own store and
libp2p host on 127.0.0.1. (One process: starting, wiring and watching the
nodes needs no orchestration, and every node still talks to the others only
over libp2p.) Prints each node's RPC address and an admin token valid on
every node; light nodes print each block's sampling verdict and confidence.
With --demo it keeps posting blobs. Without --home the nodes live in a
temporary directory that is removed on exit.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if home == "" {
				tmp, err := os.MkdirTemp("", "tessera-devnet-")
				if err != nil {
					return err
				}
				defer os.RemoveAll(tmp)
				home = tmp
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			out := cmd.OutOrStdout()
			var mu sync.Mutex
			cfg := config.Default(config.RoleProducer)
			cfg.Log.Level = logLevel
			ln, err := node.StartLocalNet(ctx, node.LocalNetParams{
				Base: home, ChainID: o.chainID, Full: full, Light: light,
				BlockInterval: o.blockInterval, MaxSquareWidth: o.maxWidth, Samples: samples,
				ProducerRPC: rpcAddr, ProducerMetrics: metAddr,
				Logger: newLogger(cfg, cmd.ErrOrStderr()),
				OnSampled: func(name string, r das.Record) {
					verdict := "available"
					if !r.Available {
						verdict = "UNAVAILABLE"
					}
					mu.Lock()
					defer mu.Unlock()
					fmt.Fprintf(out, "%s: height=%d %s samples=%d confidence=%.6f\n", name, r.Height, verdict, r.Sampled, r.Confidence)
				},
			})
			if err != nil {
				return err
			}
			tok, err := rpc.NewToken(ln.Secret, rpc.PermsFor(rpc.PermAdmin), time.Time{})
			if err != nil {
				return err
			}
			mu.Lock()
			fmt.Fprintf(out, "home:  %s\n", home)
			for _, n := range ln.Nodes {
				fmt.Fprintf(out, "%-10s rpc http://%s  p2p %v\n", n.Name, n.Node.RPCAddr(), n.Node.P2PAddrs())
			}
			prodURL := fmt.Sprintf("http://%s", ln.Nodes[0].Node.RPCAddr())
			if a := ln.Nodes[0].Node.MetricsAddr(); a != nil {
				fmt.Fprintf(out, "metrics: http://%s/metrics\n", a)
			}
			fmt.Fprintf(out, "try:   tessera blob submit --rpc %s 0x0102 'hello'\n", prodURL)
			fmt.Fprintf(out, "admin token (valid on every node; export TESSERA_AUTH_TOKEN=...):\n%s\n", tok)
			mu.Unlock()
			if demo {
				go runDemo(ctx, out, &mu, prodURL, tok, o.blockInterval)
			}
			select {
			case <-ctx.Done():
			case err := <-ln.Errors():
				stop()
				_ = ln.Wait()
				return err
			}
			return ln.Wait()
		},
	}
	f := cmd.Flags()
	f.StringVar(&home, "home", "", "directory for the nodes' data (default: a temporary directory)")
	f.BoolVar(&demo, "demo", false, "keep submitting blobs")
	f.IntVar(&full, "full", 2, "full nodes")
	f.IntVar(&light, "light", 3, "light nodes")
	f.IntVar(&samples, "samples", config.DefaultSamples, "samples per block on light nodes")
	f.StringVar(&o.chainID, "chain-id", "tessera-devnet", "chain ID")
	f.IntVar(&o.maxWidth, "max-square-width", config.DefaultSquareWidth, "largest original square width k")
	f.DurationVar(&o.blockInterval, "block-interval", config.DefaultBlockInterval, "time between blocks")
	f.StringVar(&rpcAddr, "rpc.addr", config.DefaultRPCAddr, "the producer's JSON-RPC address")
	f.StringVar(&metAddr, "metrics.addr", config.DefaultMetricsAddr, "the producer's metrics address (empty disables)")
	f.StringVar(&logLevel, "log.level", "warn", "log level")
	return cmd
}

// runDemo submits a few random blobs per block interval through the
// producer's RPC, as a rollup would, and prints where each landed.
func runDemo(ctx context.Context, out io.Writer, mu *sync.Mutex, url, token string, every time.Duration) {
	say := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(out, format, args...)
	}
	c, err := rpc.Dial(ctx, url, token)
	if err != nil {
		say("demo: %v\n", err)
		return
	}
	defer c.Close()
	t := time.NewTicker(every)
	defer t.Stop()
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		var blobs []*blob.Blob
		for j := range 3 {
			ns, _ := share.NewV0Namespace([]byte{0xde, 0x30, byte(j)})
			data := make([]byte, 1000+(i*7919+j*104729)%60000)
			_, _ = rand.Read(data)
			b, err := blob.New(ns, data, share.ShareVersionZero, nil)
			if err != nil {
				say("demo: %v\n", err)
				return
			}
			blobs = append(blobs, b)
		}
		go func(blobs []*blob.Blob) {
			var height uint64
			cctx, cancel := context.WithTimeout(ctx, time.Minute)
			defer cancel()
			if err := c.Call(cctx, "blob.Submit", &height, blobs, nil); err != nil {
				if ctx.Err() == nil {
					say("demo: submit: %v\n", err)
				}
				return
			}
			n := 0
			for _, b := range blobs {
				n += len(b.Data())
			}
			say("demo: %d blobs (%d bytes) included at height %d\n", len(blobs), n, height)
		}(blobs)
	}
}
