package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"

	"github.com/tessera-da/tessera/node/config"
)

// configKeys lists every config.toml key and the flag that overrides it.
var configKeys = []struct{ key, usage string }{
	{"role", "node role: producer, full or light"},
	{"log.level", "log level: debug, info, warn or error"},
	{"log.format", "log format: text or json"},
	{"rpc.addr", "JSON-RPC listen address (host:port; empty disables)"},
	{"rpc.max_body_bytes", "largest JSON-RPC request body (bytes)"},
	{"rpc.auth_required", "refuse JSON-RPC calls without a token"},
	{"metrics.addr", "Prometheus metrics listen address (empty disables)"},
	{"producer.queue_max_bytes", "most blob bytes waiting in the submission queue"},
	{"store.path", "store directory, relative to --home unless absolute"},
	{"store.prune_window", "prune squares older than this unless pinned (0s: the genesis sampling window)"},
	{"store.archival", "keep every square forever"},
	{"p2p.listen", "libp2p listen multiaddrs (comma-separated)"},
	{"p2p.bootstrap", "bootstrap peers: multiaddrs with /p2p/<id> (comma-separated)"},
	{"das.samples", "samples per height (light nodes)"},
	{"das.confidence", "target confidence per height when das.samples is 0"},
	{"das.workers", "heights sampled at once"},
}

// addConfigFlags adds a flag for every config key (defaults shown are the
// built-in ones; the file and TESSERA_* variables come between).
func addConfigFlags(cmd *cobra.Command) {
	def := config.Default(config.RoleProducer)
	f := cmd.Flags()
	f.String("role", string(def.Role), configKeys[0].usage)
	f.String("log.level", def.Log.Level, configKeys[1].usage)
	f.String("log.format", def.Log.Format, configKeys[2].usage)
	f.String("rpc.addr", def.RPC.Addr, configKeys[3].usage)
	f.Int64("rpc.max_body_bytes", def.RPC.MaxBodyBytes, configKeys[4].usage)
	f.Bool("rpc.auth_required", def.RPC.AuthRequired, configKeys[5].usage)
	f.String("metrics.addr", def.Metrics.Addr, configKeys[6].usage)
	f.Int64("producer.queue_max_bytes", def.Producer.QueueMaxBytes, configKeys[7].usage)
	f.String("store.path", def.Store.Path, configKeys[8].usage)
	f.Duration("store.prune_window", def.Store.PruneWindow, configKeys[9].usage)
	f.Bool("store.archival", def.Store.Archival, configKeys[10].usage)
	f.StringSlice("p2p.listen", def.P2P.Listen, configKeys[11].usage)
	f.StringSlice("p2p.bootstrap", def.P2P.Bootstrap, configKeys[12].usage)
	f.Int("das.samples", def.DAS.Samples, configKeys[13].usage)
	f.Float64("das.confidence", def.DAS.Confidence, configKeys[14].usage)
	f.Int("das.workers", def.DAS.Workers, configKeys[15].usage)
}

// loadConfig reads <home>/config.toml, then TESSERA_* variables, then the
// flags the user set, into a validated Config.
func loadConfig(cmd *cobra.Command, home string) (config.Config, error) {
	v := viper.New()
	def := config.Default(config.RoleProducer)
	v.SetDefault("role", string(def.Role))
	v.SetDefault("log.level", def.Log.Level)
	v.SetDefault("log.format", def.Log.Format)
	v.SetDefault("rpc.addr", def.RPC.Addr)
	v.SetDefault("rpc.max_body_bytes", def.RPC.MaxBodyBytes)
	v.SetDefault("rpc.auth_required", def.RPC.AuthRequired)
	v.SetDefault("metrics.addr", def.Metrics.Addr)
	v.SetDefault("producer.queue_max_bytes", def.Producer.QueueMaxBytes)
	v.SetDefault("store.path", def.Store.Path)
	v.SetDefault("store.prune_window", def.Store.PruneWindow)
	v.SetDefault("store.archival", def.Store.Archival)
	v.SetDefault("p2p.listen", def.P2P.Listen)
	v.SetDefault("p2p.bootstrap", def.P2P.Bootstrap)
	v.SetDefault("das.samples", def.DAS.Samples)
	v.SetDefault("das.confidence", def.DAS.Confidence)
	v.SetDefault("das.workers", def.DAS.Workers)
	v.SetConfigFile(filepath.Join(home, config.ConfigFile))
	v.SetConfigType("toml")
	if err := v.ReadInConfig(); err != nil {
		var nf viper.ConfigFileNotFoundError
		if errors.As(err, &nf) || errors.Is(err, os.ErrNotExist) {
			return config.Config{}, fmt.Errorf("%w: no %s in %s (run `tessera init --home %s` first)", config.ErrInvalidConfig, config.ConfigFile, home, home)
		}
		return config.Config{}, fmt.Errorf("%w: %s: %w", config.ErrInvalidConfig, config.ConfigFile, err)
	}
	v.SetEnvPrefix("TESSERA")
	v.SetEnvKeyReplacer(strings.NewReplacer(".", "_"))
	v.AutomaticEnv()
	for _, k := range configKeys {
		if fl := cmd.Flags().Lookup(k.key); fl != nil && fl.Changed {
			if err := v.BindPFlag(k.key, fl); err != nil {
				return config.Config{}, err
			}
		}
	}
	var cfg config.Config
	if err := v.UnmarshalExact(&cfg); err != nil {
		return config.Config{}, fmt.Errorf("%w: %w", config.ErrInvalidConfig, err)
	}
	cfg.Home = home
	if err := cfg.Validate(); err != nil {
		return config.Config{}, err
	}
	return cfg, nil
}
