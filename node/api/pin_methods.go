package api

import (
	"context"
	"errors"
	"time"

	"github.com/tessera-da/tessera/node/rpc"
	"github.com/tessera-da/tessera/share"
)

// ErrNoPinning is returned by pin.* on nodes that do not pin (light nodes).
var ErrNoPinning = errors.New("pin: light nodes do not pin (pin on a full node)")

// Pinner is the node's pinning service (pin.* methods): it keeps pinned
// data past the sampling window, advertises it in the DHT and serves it.
type Pinner interface {
	// AddPin pins t and returns the pin's state. Pinning the same target
	// again returns the existing pin.
	AddPin(ctx context.Context, t PinTarget) (*PinInfo, error)
	// Pins lists every pin with its progress, sorted by ID.
	Pins(ctx context.Context) ([]PinInfo, error)
	// RemovePin removes the pin named id.
	RemovePin(ctx context.Context, id string) error
}

// PinTarget names what to pin: exactly one of its fields.
type PinTarget struct {
	// Dataset keeps a dataset: its manifest's namespace and the namespaces
	// of its pages, and serves every page over bitswap.
	Dataset *Ref `json:"dataset,omitempty"`
	// Run keeps a run, by its 32-byte ID in hex: the namespaces RunControl,
	// TrainingProofs, CheckpointChunks and CheckpointManifest scoped by it.
	Run string `json:"run,omitempty"`
	// Namespace keeps one namespace: hex of the 29-byte namespace, or of a
	// version-0 sub-ID of at most 10 bytes.
	Namespace string `json:"namespace,omitempty"`
}

// Pin states (PinInfo.State).
const (
	PinStateKept     = "kept"     // namespaces kept; nothing more to do (run and namespace pins)
	PinStateWaiting  = "waiting"  // the manifest is not readable yet; retried
	PinStateFetching = "fetching" // pages are being stored in the piece store
	PinStateServing  = "serving"  // every page is in the piece store and served
	PinStateError    = "error"    // see Error; retried
)

// PinInfo is one pin as pin.Add and pin.Ls report it.
type PinInfo struct {
	// ID names the pin: "dataset/<manifest id hex>", "run/<run id hex>" or
	// "ns/<namespace hex>" (the same as its DHT key for datasets and
	// namespaces).
	ID         string            `json:"id"`
	Kind       string            `json:"kind"` // dataset, run or namespace
	Target     PinTarget         `json:"target"`
	Namespaces []share.Namespace `json:"namespaces"` // kept past pruning
	Keys       []string          `json:"keys"`       // advertised in the DHT
	Created    time.Time         `json:"created"`
	State      string            `json:"state"`
	// PagesHeld and PagesTotal are a dataset pin's progress: pages in the
	// piece store, out of the manifest's pages (0 until it is read).
	PagesHeld  uint64 `json:"pages_held"`
	PagesTotal uint64 `json:"pages_total"`
	Error      string `json:"error,omitempty"`
}

// pinMethods returns the pin.* methods.
func (s *Service) pinMethods() []reg {
	return []reg{
		{"pin.Add", rpc.PermWrite, s.PinAdd, []string{"target"}},
		{"pin.Ls", rpc.PermRead, s.PinLs, nil},
		{"pin.Rm", rpc.PermWrite, s.PinRm, []string{"id"}},
	}
}

// PinAdd pins a dataset, a run or a namespace on this node.
func (s *Service) PinAdd(ctx context.Context, t PinTarget) (*PinInfo, error) {
	if s.Pinner == nil {
		return nil, ErrNoPinning
	}
	return s.Pinner.AddPin(ctx, t)
}

// PinLs lists the node's pins with their progress.
func (s *Service) PinLs(ctx context.Context) ([]PinInfo, error) {
	if s.Pinner == nil {
		return nil, ErrNoPinning
	}
	return s.Pinner.Pins(ctx)
}

// PinRm removes a pin; the data it kept goes at the next prune.
func (s *Service) PinRm(ctx context.Context, id string) error {
	if s.Pinner == nil {
		return ErrNoPinning
	}
	return s.Pinner.RemovePin(ctx, id)
}
