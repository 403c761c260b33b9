package api

import (
	"github.com/tessera-da/tessera/blob/dataset"
	"github.com/tessera-da/tessera/share"
)

// Ref locates a published record (a dataset or checkpoint manifest, a run,
// a checkpoint, a training proof): its ID and the block, namespace and
// commitment of its blob. Its JSON is the REF.json that put, declare and
// post commands print: {"id": hex, "height", "namespace": base64,
// "commitment": base64}.
type Ref struct {
	ID         dataset.ID      `json:"id"`
	Height     uint64          `json:"height"`
	Namespace  share.Namespace `json:"namespace"`
	Commitment []byte          `json:"commitment"`
}

// refOf returns the Ref of a run's manifest.
func refOf(m dataset.ManifestRef) Ref {
	return Ref{ID: m.ID, Height: m.Height, Namespace: m.Namespace, Commitment: append([]byte(nil), m.Commitment[:]...)}
}
