package dataset

import (
	"crypto/sha256"
	"fmt"

	"github.com/tessera-da/tessera/share"
)

// Kind is the first byte of a Tessera training namespace's 10-byte
// version-0 sub-ID. It says what the blobs in the namespace hold.
type Kind uint8

// The kinds (values from docs/TRAINING.md's design 1). A kind is never 0, so
// a namespace built from it is never reserved.
const (
	DatasetPages       Kind = 0x10 // pages of a dataset (one page per blob)
	DatasetManifest    Kind = 0x11 // dataset manifests and revisions
	RunControl         Kind = 0x20 // run declarations, membership, rollbacks
	TrainingProofs     Kind = 0x22 // training-data proofs and verdicts
	CheckpointChunks   Kind = 0x30 // pages of a checkpoint
	CheckpointManifest Kind = 0x31 // checkpoint manifests and lineage
)

// ScopeSize is the number of bytes of SHA-256(scopeID) in a namespace.
const ScopeSize = 9 // bytes

// Valid reports whether k is one of the kinds above.
func (k Kind) Valid() bool {
	switch k {
	case DatasetPages, DatasetManifest, RunControl, TrainingProofs, CheckpointChunks, CheckpointManifest:
		return true
	}
	return false
}

// String names the kind.
func (k Kind) String() string {
	switch k {
	case DatasetPages:
		return "dataset-pages"
	case DatasetManifest:
		return "dataset-manifest"
	case RunControl:
		return "run-control"
	case TrainingProofs:
		return "training-proofs"
	case CheckpointChunks:
		return "checkpoint-chunks"
	case CheckpointManifest:
		return "checkpoint-manifest"
	}
	return fmt.Sprintf("kind(0x%02x)", uint8(k))
}

// Namespace returns the version-0 namespace of the given kind for a scope
// (a dataset ID, run ID or checkpoint ID; any bytes). Its 10-byte sub-ID is
// kind ‖ SHA-256(scopeID)[:9], so every object of one dataset or run shares
// a namespace a node can pin or follow. Two scopes collide with probability
// about 2^-72 per pair; the namespace is a routing hint, never an identity
// (manifests are identified by their content hash). It fails with
// ErrInvalidNamespace for an unknown kind, and, as a defensive check, for a
// reserved result.
func Namespace(kind Kind, scopeID []byte) (share.Namespace, error) {
	if !kind.Valid() {
		return share.Namespace{}, fmt.Errorf("%w: unknown kind %s", ErrInvalidNamespace, kind)
	}
	h := sha256.Sum256(scopeID)
	var sub [1 + ScopeSize]byte
	sub[0] = byte(kind)
	copy(sub[1:], h[:ScopeSize])
	ns, err := share.NewV0Namespace(sub[:])
	if err != nil {
		return share.Namespace{}, fmt.Errorf("%w: %w", ErrInvalidNamespace, err)
	}
	if ns.IsReserved() {
		return share.Namespace{}, fmt.Errorf("%w: %s is reserved", ErrInvalidNamespace, ns)
	}
	return ns, nil
}

// KindOf returns the kind byte of a version-0 namespace and whether it is one
// of the kinds above. Any publisher can pick such a sub-ID, so this is a
// hint for routing, not proof that Namespace built it.
func KindOf(ns share.Namespace) (Kind, bool) {
	if ns.Version() != 0 {
		return 0, false
	}
	id := ns.ID()
	k := Kind(id[len(id)-1-ScopeSize])
	return k, k.Valid()
}
