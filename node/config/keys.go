package config

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Key file names inside <home>/keys.
const (
	KeysDir       = "keys"
	NodeKeyFile   = "node_key.hex"   // hex ed25519 seed (32 bytes): signs headers on a producer
	JWTSecretFile = "jwt-secret.jwt" // hex 32-byte HS256 secret for RPC tokens
	ConfigFile    = "config.toml"
	GenesisFile   = "genesis.json"
	keyFileLimit  = 4096 // bytes
)

// KeyPath returns the path of a key file in home.
func KeyPath(home, name string) string { return filepath.Join(home, KeysDir, name) }

// LoadOrCreateSecret reads a hex secret of size bytes from path, creating a
// random one (mode 0600) when the file does not exist.
func LoadOrCreateSecret(path string, size int) ([]byte, error) {
	b, err := readLimited(path, keyFileLimit)
	if err == nil {
		s, err := hex.DecodeString(strings.TrimSpace(string(b)))
		if err != nil || len(s) != size {
			return nil, fmt.Errorf("%w: %s does not hold %d hex bytes", ErrInvalidConfig, path, size)
		}
		return s, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	s := make([]byte, size)
	if _, err := rand.Read(s); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	if err := writeFileAtomic(path, []byte(hex.EncodeToString(s)+"\n"), 0o600); err != nil {
		return nil, err
	}
	return s, nil
}

// LoadOrCreateNodeKey returns the node's ed25519 key from home.
func LoadOrCreateNodeKey(home string) (ed25519.PrivateKey, error) {
	seed, err := LoadOrCreateSecret(KeyPath(home, NodeKeyFile), ed25519.SeedSize)
	if err != nil {
		return nil, err
	}
	return ed25519.NewKeyFromSeed(seed), nil
}

func dirOf(path string) string { return filepath.Dir(path) }

// hexKey returns the hex public key of a private key.
func hexKey(k ed25519.PrivateKey) string { return hex.EncodeToString(k.Public().(ed25519.PublicKey)) }

// PublicKeyHex returns the hex encoding of k's public key, as the genesis lists producers.
func PublicKeyHex(k ed25519.PrivateKey) string { return hexKey(k) }
