// Package config holds the node's typed configuration, its genesis file and
// its key files. The command line fills a Config (with viper, from
// config.toml, flags and TESSERA_* variables); the node validates it once at
// start and never clamps an invalid value.
package config

import (
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"time"
)

// ErrInvalidConfig wraps every configuration error.
var ErrInvalidConfig = errors.New("config: invalid")

// Role says what a node does.
type Role string

// Roles.
const (
	RoleProducer Role = "producer" // builds, signs and serves blocks
	RoleFull     Role = "full"     // stores and serves whole squares
	RoleLight    Role = "light"    // samples
)

// Config is the whole node configuration.
type Config struct {
	Home     string         `mapstructure:"-"`
	Role     Role           `mapstructure:"role"`
	Log      LogConfig      `mapstructure:"log"`
	RPC      RPCConfig      `mapstructure:"rpc"`
	Metrics  MetricsConfig  `mapstructure:"metrics"`
	Producer ProducerConfig `mapstructure:"producer"`
	Store    StoreConfig    `mapstructure:"store"`
	P2P      P2PConfig      `mapstructure:"p2p"`
	DAS      DASConfig      `mapstructure:"das"`
}

// P2PConfig sets the libp2p host.
type P2PConfig struct {
	Listen    []string `mapstructure:"listen"`    // multiaddrs; empty disables networking
	Bootstrap []string `mapstructure:"bootstrap"` // multiaddrs with /p2p/<peer ID>
}

// DASConfig sets light-node sampling.
type DASConfig struct {
	Samples    int     `mapstructure:"samples"`    // samples per height; 0: derived from Confidence
	Confidence float64 `mapstructure:"confidence"` // target confidence per height, used when Samples is 0
	Workers    int     `mapstructure:"workers"`    // heights sampled at once (head and catch-up)
}

// LogConfig sets structured logging.
type LogConfig struct {
	Level  string `mapstructure:"level"`  // debug, info, warn, error
	Format string `mapstructure:"format"` // text or json
}

// RPCConfig sets the JSON-RPC server.
type RPCConfig struct {
	Addr         string `mapstructure:"addr"`           // host:port; empty disables the server
	MaxBodyBytes int64  `mapstructure:"max_body_bytes"` // bytes
	AuthRequired bool   `mapstructure:"auth_required"`  // refuse calls without a token, even public ones
}

// MetricsConfig sets the Prometheus endpoint.
type MetricsConfig struct {
	Addr string `mapstructure:"addr"` // host:port; empty disables metrics
}

// ProducerConfig sets block production (producer role only).
type ProducerConfig struct {
	QueueMaxBytes int64 `mapstructure:"queue_max_bytes"` // bytes of blob data waiting at most
}

// StoreConfig sets the embedded store.
type StoreConfig struct {
	Path        string        `mapstructure:"path"`         // relative to Home unless absolute
	PruneWindow time.Duration `mapstructure:"prune_window"` // squares older than this (by block time) are pruned unless pinned; 0 means the genesis sampling window
	Archival    bool          `mapstructure:"archival"`     // keep every square forever
}

// Limits.
const (
	DefaultRPCAddr      = "127.0.0.1:26658"
	DefaultMetricsAddr  = "127.0.0.1:26660"
	DefaultMaxBodyBytes = 16 << 20 // bytes: 2 × the largest blob transaction
	MinMaxBodyBytes     = 1 << 10  // bytes
	DefaultQueueBytes   = 1 << 30  // bytes
	DefaultTCPListen    = "/ip4/0.0.0.0/tcp/2121"
	DefaultQUICListen   = "/ip4/0.0.0.0/udp/2121/quic-v1"
	DefaultSamples      = 16 // samples per height: 99 % confidence at any width
	DefaultDASWorkers   = 8  // heights sampled at once
	MaxDASSamples       = 4096
)

// Default returns the default configuration for role.
func Default(role Role) Config {
	return Config{
		Role:     role,
		Log:      LogConfig{Level: "info", Format: "text"},
		RPC:      RPCConfig{Addr: DefaultRPCAddr, MaxBodyBytes: DefaultMaxBodyBytes},
		Metrics:  MetricsConfig{Addr: DefaultMetricsAddr},
		Producer: ProducerConfig{QueueMaxBytes: DefaultQueueBytes},
		Store:    StoreConfig{Path: "data"},
		P2P:      P2PConfig{Listen: []string{DefaultTCPListen, DefaultQUICListen}},
		DAS:      DASConfig{Samples: DefaultSamples, Workers: DefaultDASWorkers},
	}
}

// StorePath returns the store directory.
func (c *Config) StorePath() string {
	if filepath.IsAbs(c.Store.Path) {
		return c.Store.Path
	}
	return filepath.Join(c.Home, c.Store.Path)
}

// Validate checks every field; an invalid value is an error, never clamped.
func (c *Config) Validate() error {
	bad := func(field, format string, args ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrInvalidConfig, field, fmt.Sprintf(format, args...))
	}
	switch c.Role {
	case RoleProducer, RoleFull, RoleLight:
	default:
		return bad("role", "%q is not producer, full or light", c.Role)
	}
	if c.Home == "" {
		return bad("home", "empty")
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		return bad("log.level", "%q is not debug, info, warn or error", c.Log.Level)
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		return bad("log.format", "%q is not text or json", c.Log.Format)
	}
	for field, addr := range map[string]string{"rpc.addr": c.RPC.Addr, "metrics.addr": c.Metrics.Addr} {
		if addr == "" {
			continue
		}
		if _, _, err := net.SplitHostPort(addr); err != nil {
			return bad(field, "%q: %v", addr, err)
		}
	}
	if c.RPC.MaxBodyBytes < MinMaxBodyBytes {
		return bad("rpc.max_body_bytes", "%d is below %d", c.RPC.MaxBodyBytes, MinMaxBodyBytes)
	}
	if c.Role == RoleProducer && c.Producer.QueueMaxBytes <= 0 {
		return bad("producer.queue_max_bytes", "%d must be positive", c.Producer.QueueMaxBytes)
	}
	if c.Store.Path == "" {
		return bad("store.path", "empty")
	}
	if c.Store.PruneWindow < 0 {
		return bad("store.prune_window", "%v is negative", c.Store.PruneWindow)
	}
	if c.DAS.Samples < 0 || c.DAS.Samples > MaxDASSamples {
		return bad("das.samples", "%d is not in [0, %d]", c.DAS.Samples, MaxDASSamples)
	}
	if c.DAS.Samples == 0 && !(c.DAS.Confidence > 0 && c.DAS.Confidence < 1) {
		return bad("das.confidence", "%v must be in (0, 1) when das.samples is 0", c.DAS.Confidence)
	}
	if c.DAS.Workers < 1 || c.DAS.Workers > 256 {
		return bad("das.workers", "%d is not in [1, 256]", c.DAS.Workers)
	}
	if c.Role == RoleLight && len(c.P2P.Listen) == 0 {
		return bad("p2p.listen", "a light node needs the network")
	}
	return nil
}
