package api

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/tessera-da/tessera/blob"
	"github.com/tessera-da/tessera/blob/dataset"
	"github.com/tessera-da/tessera/node/rpc"
)

// ErrNoPieces is returned by dataset.GetPiece and dataset.Providers on a
// node without networking.
var ErrNoPieces = errors.New("dataset: this node has no piece store (networking is off)")

// Pieces fetches content-addressed pieces (dataset pages) from this node's
// piece store or its peers (dataset.GetPiece, dataset.Providers).
type Pieces interface {
	// GetPiece returns the bytes whose SHA-256 is digest, from the piece
	// store or fetched over bitswap from peers; the bytes always hash to
	// digest.
	GetPiece(ctx context.Context, digest [32]byte) ([]byte, error)
	// Providers returns the peers advertising the dataset with manifest
	// ID id.
	Providers(ctx context.Context, id dataset.ID) ([]Provider, error)
}

// Provider is a peer that advertises a dataset.
type Provider struct {
	ID    string   `json:"id"`    // libp2p peer ID
	Addrs []string `json:"addrs"` // its multiaddresses, as far as known
}

// Digest is a 32-byte value (a SHA-256 or a manifest ID) as a JSON
// parameter: a hex string, a base64 string (Go's []byte) or an array of 32
// numbers (dataset.ID's own JSON) are all accepted; it encodes as hex.
type Digest [32]byte

// MarshalJSON writes lower-case hex.
func (d Digest) MarshalJSON() ([]byte, error) { return json.Marshal(hex.EncodeToString(d[:])) }

// UnmarshalJSON reads hex, base64 or an array of 32 numbers.
func (d *Digest) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		var raw []byte
		if h, err := hex.DecodeString(strings.TrimPrefix(s, "0x")); err == nil {
			raw = h
		} else if b64, err := base64.StdEncoding.DecodeString(s); err == nil {
			raw = b64
		} else {
			return fmt.Errorf("digest %q is neither hex nor base64", s)
		}
		if len(raw) != len(d) {
			return fmt.Errorf("digest of %d bytes, want %d", len(raw), len(d))
		}
		copy(d[:], raw)
		return nil
	}
	var nums []int
	if err := json.Unmarshal(b, &nums); err != nil {
		return fmt.Errorf("digest is neither a string nor an array of 32 bytes: %w", err)
	}
	if len(nums) != len(d) {
		return fmt.Errorf("digest of %d numbers, want %d", len(nums), len(d))
	}
	for i, v := range nums {
		if v < 0 || v > 255 {
			return fmt.Errorf("digest byte %d is %d, not 0 to 255", i, v)
		}
		d[i] = byte(v)
	}
	return nil
}

// datasetMethods returns the dataset.* methods.
func (s *Service) datasetMethods() []reg {
	return []reg{
		{"dataset.GetPiece", rpc.PermRead, s.DatasetGetPiece, []string{"sha256"}},
		{"dataset.Providers", rpc.PermRead, s.DatasetProviders, []string{"id"}},
		{"dataset.Manifest", rpc.PermRead, s.DatasetManifest, []string{"ref"}},
	}
}

// ManifestInfo is dataset.Manifest's result: a manifest read from the
// chain and verified, as JSON (dataset.Manifest's shape), with its page
// root.
type ManifestInfo struct {
	Manifest json.RawMessage `json:"manifest"`
	PageRoot string          `json:"page_root"` // hex RFC-6962 root over the page entries
	Pages    uint64          `json:"pages"`
}

// DatasetManifest returns the manifest ref locates, verified: its blob's
// commitment proof against its block's data root, its publisher's
// signature, and its ID. With it and dataset.GetPiece a client in any
// language reads pages it can check by their SHA-256 alone.
func (s *Service) DatasetManifest(ctx context.Context, ref Ref) (*ManifestInfo, error) {
	if len(ref.Commitment) != blob.CommitmentSize {
		return nil, fmt.Errorf("%w: commitment of %d bytes", dataset.ErrInvalidManifest, len(ref.Commitment))
	}
	m, root, err := s.manifestAt(ctx, dataset.ManifestRef{ID: ref.ID, Height: ref.Height, Namespace: ref.Namespace, Commitment: [32]byte(ref.Commitment)})
	if err != nil {
		return nil, err
	}
	js, err := m.MarshalJSON()
	if err != nil {
		return nil, err
	}
	return &ManifestInfo{Manifest: js, PageRoot: hex.EncodeToString(root.Hash[:]), Pages: root.Pages}, nil
}

// DatasetGetPiece returns the page whose SHA-256 is digest: from the node's
// piece store, or fetched over bitswap from peers (bounded by a timeout),
// hash-checked.
func (s *Service) DatasetGetPiece(ctx context.Context, digest Digest) ([]byte, error) {
	if s.Pieces == nil {
		return nil, ErrNoPieces
	}
	return s.Pieces.GetPiece(ctx, digest)
}

// DatasetProviders returns the peers that advertise the dataset whose
// manifest ID is id (DHT key "dataset/<id hex>").
func (s *Service) DatasetProviders(ctx context.Context, id Digest) ([]Provider, error) {
	if s.Pieces == nil {
		return nil, ErrNoPieces
	}
	return s.Pieces.Providers(ctx, dataset.ID(id))
}
