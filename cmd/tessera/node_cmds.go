package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/tessera-da/tessera/node"
	"github.com/tessera-da/tessera/node/config"
	"github.com/tessera-da/tessera/node/rpc"
)

func defaultHome() string {
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, ".tessera")
	}
	return ".tessera"
}

type initOpts struct {
	role          string
	chainID       string
	maxWidth      int
	blockInterval time.Duration
	window        time.Duration
	rpcAddr       string
	metricsAddr   string
}

func newInitCmd() *cobra.Command {
	var home string
	o := initOpts{}
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Create a node home: config.toml, keys and (for a producer) genesis.json",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return initHome(cmd.OutOrStdout(), home, o)
		},
	}
	cmd.Flags().StringVar(&home, "home", defaultHome(), "node home directory")
	cmd.Flags().StringVar(&o.role, "role", "producer", "producer, full or light")
	cmd.Flags().StringVar(&o.chainID, "chain-id", "tessera-local", "chain ID (producer: written into genesis.json)")
	cmd.Flags().IntVar(&o.maxWidth, "max-square-width", config.DefaultSquareWidth, "largest original square width k (power of two ≤ 512)")
	cmd.Flags().DurationVar(&o.blockInterval, "block-interval", config.DefaultBlockInterval, "time between blocks")
	cmd.Flags().DurationVar(&o.window, "sampling-window", config.DefaultSampling, "sampling window")
	cmd.Flags().StringVar(&o.rpcAddr, "rpc.addr", config.DefaultRPCAddr, "JSON-RPC listen address")
	cmd.Flags().StringVar(&o.metricsAddr, "metrics.addr", config.DefaultMetricsAddr, "metrics listen address")
	return cmd
}

// initHome writes a new home. It refuses to overwrite an existing config.
func initHome(w io.Writer, home string, o initOpts) error {
	cfg := config.Default(config.Role(o.role))
	cfg.Home = home
	cfg.RPC.Addr = o.rpcAddr
	cfg.Metrics.Addr = o.metricsAddr
	if err := cfg.Validate(); err != nil {
		return err
	}
	cfgPath := filepath.Join(home, config.ConfigFile)
	if _, err := os.Stat(cfgPath); err == nil {
		return fmt.Errorf("%s exists: refusing to overwrite an initialised home", cfgPath)
	}
	if err := os.MkdirAll(home, 0o700); err != nil {
		return err
	}
	key, err := config.LoadOrCreateNodeKey(home)
	if err != nil {
		return err
	}
	if _, err := config.LoadOrCreateSecret(config.KeyPath(home, config.JWTSecretFile), rpc.SecretSize); err != nil {
		return err
	}
	if cfg.Role == config.RoleProducer {
		g := &config.Genesis{
			ChainID:        o.chainID,
			GenesisTime:    time.Now().UTC().Truncate(time.Second),
			Producers:      []string{config.PublicKeyHex(key)},
			MaxSquareWidth: o.maxWidth,
			BlockInterval:  config.Duration(o.blockInterval),
			SamplingWindow: config.Duration(o.window),
		}
		if err := g.Validate(); err != nil {
			return err
		}
		if err := g.Save(filepath.Join(home, config.GenesisFile)); err != nil {
			return err
		}
	}
	if err := os.WriteFile(cfgPath, []byte(cfg.TOML()), 0o600); err != nil {
		return err
	}
	fmt.Fprintf(w, "initialised %s node in %s (producer key %s)\n", cfg.Role, home, config.PublicKeyHex(key))
	return nil
}

func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(cfg.Log.Level))
	opts := &slog.HandlerOptions{Level: lvl}
	if cfg.Log.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func newStartCmd() *cobra.Command {
	var home string
	cmd := &cobra.Command{
		Use:   "start",
		Short: "Run the node in --home until interrupted",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(cmd, home)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runNode(ctx, cfg, cmd.ErrOrStderr(), nil)
		},
	}
	cmd.Flags().StringVar(&home, "home", defaultHome(), "node home directory")
	addConfigFlags(cmd)
	return cmd
}

// runNode starts a node and blocks until ctx ends; onReady, if set, runs
// once the node's listeners are bound.
func runNode(ctx context.Context, cfg config.Config, logw io.Writer, onReady func(*node.Node)) error {
	gen, err := config.LoadGenesis(filepath.Join(cfg.Home, config.GenesisFile))
	if err != nil {
		return err
	}
	n, err := node.New(cfg, gen, newLogger(cfg, logw))
	if err != nil {
		return err
	}
	errc := make(chan error, 1)
	go func() { errc <- n.Run(ctx) }()
	select {
	case <-n.Ready():
		if onReady != nil {
			onReady(n)
		}
	case err := <-errc:
		return err
	}
	return <-errc
}

func newAuthCmd() *cobra.Command {
	var (
		home string
		ttl  time.Duration
	)
	cmd := &cobra.Command{
		Use:       "auth read|write|admin",
		Short:     "Print a JSON-RPC token signed with the node's secret (last line of output)",
		Args:      cobra.ExactArgs(1),
		ValidArgs: []string{"read", "write", "admin"},
		RunE: func(cmd *cobra.Command, args []string) error {
			tok, err := mintToken(home, args[0], ttl)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), tok)
			return nil
		},
	}
	cmd.Flags().StringVar(&home, "home", defaultHome(), "node home directory")
	cmd.Flags().DurationVar(&ttl, "ttl", 0, "token lifetime (0: no expiry)")
	return cmd
}

func mintToken(home, level string, ttl time.Duration) (string, error) {
	perm := rpc.Perm(level)
	switch perm {
	case rpc.PermRead, rpc.PermWrite, rpc.PermAdmin:
	default:
		return "", fmt.Errorf("permission %q is not read, write or admin", level)
	}
	path := config.KeyPath(home, config.JWTSecretFile)
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("no JWT secret at %s (run `tessera init --home %s` first)", path, home)
	}
	secret, err := config.LoadOrCreateSecret(path, rpc.SecretSize)
	if err != nil {
		return "", err
	}
	var exp time.Time
	if ttl > 0 {
		exp = time.Now().Add(ttl)
	}
	return rpc.NewToken(secret, rpc.PermsFor(perm), exp)
}
