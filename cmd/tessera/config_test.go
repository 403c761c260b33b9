package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tessera-da/tessera/node/config"
)

func TestConfigPrecedence(t *testing.T) {
	home := t.TempDir()
	var out bytes.Buffer
	if err := initHome(&out, home, initOpts{role: "producer", chainID: "c", maxWidth: 64, blockInterval: 1e9, window: 36e11, rpcAddr: "127.0.0.1:1111", metricsAddr: ""}); err != nil {
		t.Fatal(err)
	}
	if err := initHome(&out, home, initOpts{role: "producer"}); err == nil {
		t.Fatal("init overwrote an initialised home")
	}
	cmd := newStartCmd()
	cfg, err := loadConfig(cmd, home)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.RPC.Addr != "127.0.0.1:1111" || cfg.Role != config.RoleProducer {
		t.Fatalf("file values not read: %+v", cfg)
	}
	t.Setenv("TESSERA_RPC_ADDR", "127.0.0.1:2222")
	t.Setenv("TESSERA_LOG_LEVEL", "debug")
	cfg, err = loadConfig(cmd, home)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.RPC.Addr != "127.0.0.1:2222" || cfg.Log.Level != "debug" {
		t.Fatalf("environment did not override the file: %+v", cfg)
	}
	if err := cmd.Flags().Set("rpc.addr", "127.0.0.1:3333"); err != nil {
		t.Fatal(err)
	}
	cfg, err = loadConfig(cmd, home)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.RPC.Addr != "127.0.0.1:3333" {
		t.Fatalf("flag did not override the environment: %s", cfg.RPC.Addr)
	}
}

func TestConfigErrors(t *testing.T) {
	home := t.TempDir()
	if _, err := loadConfig(newStartCmd(), home); !errors.Is(err, config.ErrInvalidConfig) || !strings.Contains(err.Error(), "tessera init") {
		t.Fatalf("missing config: %v", err)
	}
	for name, body := range map[string]string{
		"bad role":    "role = \"archive\"\n",
		"bad level":   "role = \"producer\"\n[log]\nlevel = \"loud\"\n",
		"unknown key": "role = \"producer\"\ncolour = \"blue\"\n",
		"not toml":    "role = = =\n",
		"bad type":    "role = \"producer\"\n[rpc]\nmax_body_bytes = \"lots\"\n",
	} {
		if err := os.WriteFile(filepath.Join(home, config.ConfigFile), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := loadConfig(newStartCmd(), home); !errors.Is(err, config.ErrInvalidConfig) {
			t.Errorf("%s: err = %v, want ErrInvalidConfig", name, err)
		}
	}
}
