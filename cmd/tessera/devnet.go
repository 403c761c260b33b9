package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/tessera-da/tessera/blob"
	"github.com/tessera-da/tessera/node"
	"github.com/tessera-da/tessera/node/config"
	"github.com/tessera-da/tessera/node/rpc"
	"github.com/tessera-da/tessera/share"
)

func newDevnetCmd() *cobra.Command {
	var (
		home string
		demo bool
		o    initOpts
	)
	cmd := &cobra.Command{
		Use:   "devnet",
		Short: "Run a local network: a producer with its store and RPC (in a temporary home unless --home)",
		Long: `Starts a producer node with an embedded store and its JSON-RPC server,
prints the RPC address and an admin token, and runs until interrupted.
With --demo it keeps posting blobs so that something happens. Without
--home the node lives in a temporary directory that is removed on exit.`,
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
			if _, err := os.Stat(filepath.Join(home, config.ConfigFile)); err != nil {
				if err := initHome(cmd.OutOrStdout(), home, o); err != nil {
					return err
				}
			}
			cfg, err := loadConfig(cmd, home)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			out := cmd.OutOrStdout()
			return runNode(ctx, cfg, cmd.ErrOrStderr(), func(n *node.Node) {
				tok, err := mintToken(home, "admin", 0)
				if err != nil {
					fmt.Fprintln(cmd.ErrOrStderr(), "error:", err)
					stop()
					return
				}
				url := fmt.Sprintf("http://%s", n.RPCAddr())
				fmt.Fprintf(out, "home:  %s\nrpc:   %s\n", home, url)
				if a := n.MetricsAddr(); a != nil {
					fmt.Fprintf(out, "metrics: http://%s/metrics\n", a)
				}
				fmt.Fprintf(out, "try:   tessera blob submit --rpc %s --token $TOKEN 0x0102 'hello'\n", url)
				fmt.Fprintf(out, "admin token (export TOKEN=...):\n%s\n", tok)
				if demo {
					go runDemo(ctx, out, url, tok, time.Duration(o.blockInterval))
				}
			})
		},
	}
	cmd.Flags().StringVar(&home, "home", "", "node home (default: a temporary directory)")
	cmd.Flags().BoolVar(&demo, "demo", false, "keep submitting blobs")
	cmd.Flags().StringVar(&o.chainID, "chain-id", "tessera-devnet", "chain ID")
	cmd.Flags().IntVar(&o.maxWidth, "max-square-width", config.DefaultSquareWidth, "largest original square width k")
	cmd.Flags().DurationVar(&o.blockInterval, "block-interval", config.DefaultBlockInterval, "time between blocks")
	cmd.Flags().DurationVar(&o.window, "sampling-window", config.DefaultSampling, "sampling window")
	o.role = string(config.RoleProducer)
	o.rpcAddr, o.metricsAddr = config.DefaultRPCAddr, config.DefaultMetricsAddr
	addConfigFlags(cmd)
	return cmd
}

// runDemo submits a few random blobs per block interval through the RPC,
// as a rollup would, and prints where each landed.
func runDemo(ctx context.Context, out io.Writer, url, token string, every time.Duration) {
	c, err := rpc.Dial(ctx, url, token)
	if err != nil {
		fmt.Fprintln(out, "demo:", err)
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
				fmt.Fprintln(out, "demo:", err)
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
					fmt.Fprintln(out, "demo: submit:", err)
				}
				return
			}
			n := 0
			for _, b := range blobs {
				n += len(b.Data())
			}
			fmt.Fprintf(out, "demo: %d blobs (%d bytes) included at height %d\n", len(blobs), n, height)
		}(blobs)
	}
}
