package config

import (
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"time"
)

// Genesis fixes a network's identity and protocol parameters.
type Genesis struct {
	ChainID        string    `json:"chain_id"`
	GenesisTime    time.Time `json:"genesis_time"`
	Producers      []string  `json:"producers"`        // hex ed25519 public keys
	MaxSquareWidth int       `json:"max_square_width"` // k, a power of two ≤ 512
	BlockInterval  Duration  `json:"block_interval"`
	SamplingWindow Duration  `json:"sampling_window"`
}

// Duration is a time.Duration written as a Go duration string in JSON.
type Duration time.Duration

// MarshalJSON writes the duration as a string such as "1s".
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads a duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// Genesis limits.
const (
	MaxSquareWidthLimit  = 512                   // shares
	MinBlockInterval     = 10 * time.Millisecond // shortest block interval
	DefaultBlockInterval = time.Second           // default block interval
	DefaultSampling      = 30 * 24 * time.Hour   // default sampling window
	DefaultSquareWidth   = 128                   // default max square width
	maxGenesisFileSize   = 1 << 20               // bytes
	maxChainIDLen        = 64                    // bytes
)

// Validate checks the genesis.
func (g *Genesis) Validate() error {
	bad := func(field, format string, args ...any) error {
		return fmt.Errorf("%w: genesis %s: %s", ErrInvalidConfig, field, fmt.Sprintf(format, args...))
	}
	if g.ChainID == "" || len(g.ChainID) > maxChainIDLen {
		return bad("chain_id", "must be 1 to %d bytes", maxChainIDLen)
	}
	if g.GenesisTime.IsZero() {
		return bad("genesis_time", "missing")
	}
	if len(g.Producers) == 0 {
		return bad("producers", "at least one producer key is needed")
	}
	if _, err := g.ProducerKeys(); err != nil {
		return err
	}
	if k := g.MaxSquareWidth; k < 1 || k > MaxSquareWidthLimit || k&(k-1) != 0 {
		return bad("max_square_width", "%d is not a power of two in [1, %d]", k, MaxSquareWidthLimit)
	}
	if time.Duration(g.BlockInterval) < MinBlockInterval {
		return bad("block_interval", "%v is below %v", time.Duration(g.BlockInterval), MinBlockInterval)
	}
	if g.SamplingWindow <= 0 {
		return bad("sampling_window", "must be positive")
	}
	return nil
}

// ProducerKeys decodes the producer public keys.
func (g *Genesis) ProducerKeys() ([]ed25519.PublicKey, error) {
	keys := make([]ed25519.PublicKey, 0, len(g.Producers))
	for i, p := range g.Producers {
		b, err := hex.DecodeString(p)
		if err != nil || len(b) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("%w: genesis producers[%d]: not a hex ed25519 public key", ErrInvalidConfig, i)
		}
		keys = append(keys, b)
	}
	return keys, nil
}

// LoadGenesis reads and validates a genesis file.
func LoadGenesis(path string) (*Genesis, error) {
	b, err := readLimited(path, maxGenesisFileSize)
	if err != nil {
		return nil, err
	}
	var g Genesis
	if err := json.Unmarshal(b, &g); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrInvalidConfig, path, err)
	}
	if err := g.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &g, nil
}

// Save writes the genesis file (mode 0644).
func (g *Genesis) Save(path string) error {
	b, err := json.MarshalIndent(g, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(path, append(b, '\n'), 0o644)
}

func readLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() > limit {
		return nil, fmt.Errorf("%w: %s is %d bytes, at most %d", ErrInvalidConfig, path, st.Size(), limit)
	}
	b := make([]byte, st.Size())
	if _, err := f.ReadAt(b, 0); err != nil && st.Size() > 0 {
		return nil, err
	}
	return b, nil
}

// writeFileAtomic writes data to a temporary file in the same directory,
// syncs it and renames it over path.
func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(dirOf(path), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// IsProducer reports whether key's public key is one of the producers.
func (g *Genesis) IsProducer(key ed25519.PrivateKey) bool {
	keys, err := g.ProducerKeys()
	if err != nil {
		return false
	}
	pub := key.Public().(ed25519.PublicKey)
	for _, k := range keys {
		if k.Equal(pub) {
			return true
		}
	}
	return false
}
