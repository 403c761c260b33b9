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
	return nil
}
