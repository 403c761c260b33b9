package config

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestValidate(t *testing.T) {
	ok := Default(RoleProducer)
	ok.Home = t.TempDir()
	if err := ok.Validate(); err != nil {
		t.Fatalf("default config invalid: %v", err)
	}
	tests := []struct {
		name   string
		mutate func(*Config)
	}{
		{"role", func(c *Config) { c.Role = "archive" }},
		{"home", func(c *Config) { c.Home = "" }},
		{"log level", func(c *Config) { c.Log.Level = "loud" }},
		{"log format", func(c *Config) { c.Log.Format = "xml" }},
		{"rpc addr", func(c *Config) { c.RPC.Addr = "nohostport" }},
		{"metrics addr", func(c *Config) { c.Metrics.Addr = "1.2.3.4" }},
		{"body limit", func(c *Config) { c.RPC.MaxBodyBytes = 10 }},
		{"queue", func(c *Config) { c.Producer.QueueMaxBytes = 0 }},
		{"store path", func(c *Config) { c.Store.Path = "" }},
		{"prune window", func(c *Config) { c.Store.PruneWindow = -time.Second }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			tt.mutate(&c)
			if err := c.Validate(); !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("err = %v, want ErrInvalidConfig", err)
			}
		})
	}
}

func TestGenesisRoundTripAndValidate(t *testing.T) {
	dir := t.TempDir()
	key, err := LoadOrCreateNodeKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	again, err := LoadOrCreateNodeKey(dir)
	if err != nil || !bytes.Equal(key, again) {
		t.Fatalf("node key not stable across loads: %v", err)
	}
	g := &Genesis{ChainID: "t", GenesisTime: time.Unix(1, 0).UTC(), Producers: []string{"" + hexKey(key)}, MaxSquareWidth: 64, BlockInterval: Duration(time.Second), SamplingWindow: Duration(time.Hour)}
	p := filepath.Join(dir, GenesisFile)
	if err := g.Save(p); err != nil {
		t.Fatal(err)
	}
	back, err := LoadGenesis(p)
	if err != nil {
		t.Fatal(err)
	}
	if back.ChainID != "t" || back.MaxSquareWidth != 64 || time.Duration(back.BlockInterval) != time.Second {
		t.Fatalf("genesis did not round-trip: %+v", back)
	}
	for name, mutate := range map[string]func(*Genesis){
		"chain":    func(g *Genesis) { g.ChainID = "" },
		"producer": func(g *Genesis) { g.Producers = []string{"zz"} },
		"width":    func(g *Genesis) { g.MaxSquareWidth = 100 },
		"interval": func(g *Genesis) { g.BlockInterval = 0 },
		"window":   func(g *Genesis) { g.SamplingWindow = 0 },
	} {
		c := *back
		mutate(&c)
		if err := c.Validate(); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%s: err = %v, want ErrInvalidConfig", name, err)
		}
	}
	if err := os.WriteFile(p, []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadGenesis(p); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("garbage genesis: err = %v", err)
	}
}

func TestCorruptKeyFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, KeysDir), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(KeyPath(dir, NodeKeyFile), []byte("short"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateNodeKey(dir); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("corrupt key accepted: %v", err)
	}
}
