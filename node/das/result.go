package das

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/tessera-da/tessera/sampling"
)

// Storage keys. Per-height results live under resultPrefix ‖ BE64 height,
// so a key-ordered scan lists them by height.
var (
	checkpointKey = []byte("checkpoint")
	resultPrefix  = []byte("result/")
)

func resultKey(height uint64) []byte {
	return binary.BigEndian.AppendUint64(append([]byte(nil), resultPrefix...), height)
}

// Result encoding: version ‖ flags (bit 0 available, bit 1 fraud) ‖ BE64
// IEEE-754 confidence ‖ BE16 verified samples.
const (
	resultVersion = 1
	resultSize    = 1 + 1 + 8 + 2 // bytes
	flagAvailable = 1 << 0
	flagFraud     = 1 << 1
)

// Record is what the DASer stores about a height.
type Record struct {
	Height     uint64  `json:"height"`
	Available  bool    `json:"available"`
	Confidence float64 `json:"confidence"`
	Sampled    int     `json:"sampled"` // distinct samples verified
	Fraud      bool    `json:"fraud,omitempty"`
}

func recordOf(r sampling.Result) Record {
	return Record{Height: r.Height, Available: r.Available, Confidence: r.Confidence, Sampled: r.Sampled, Fraud: r.Fraud}
}

func (r Record) marshal() []byte {
	b := make([]byte, 0, resultSize)
	var f byte
	if r.Available {
		f |= flagAvailable
	}
	if r.Fraud {
		f |= flagFraud
	}
	b = append(b, resultVersion, f)
	b = binary.BigEndian.AppendUint64(b, math.Float64bits(r.Confidence))
	return binary.BigEndian.AppendUint16(b, uint16(min(r.Sampled, math.MaxUint16)))
}

// parseRecord decodes a stored result; b is untrusted (disk).
func parseRecord(height uint64, b []byte) (Record, error) {
	if len(b) != resultSize || b[0] != resultVersion {
		return Record{}, fmt.Errorf("%w: result of %d bytes for height %d", ErrCorrupt, len(b), height)
	}
	f := b[1]
	c := math.Float64frombits(binary.BigEndian.Uint64(b[2:]))
	r := Record{Height: height, Available: f&flagAvailable != 0, Fraud: f&flagFraud != 0, Confidence: c, Sampled: int(binary.BigEndian.Uint16(b[10:]))}
	switch {
	case f&^(flagAvailable|flagFraud) != 0:
		return Record{}, fmt.Errorf("%w: result flags %#x for height %d", ErrCorrupt, f, height)
	case !(c >= 0 && c <= 1):
		return Record{}, fmt.Errorf("%w: confidence %v for height %d", ErrCorrupt, c, height)
	case r.Available && (r.Fraud || r.Sampled == 0):
		return Record{}, fmt.Errorf("%w: inconsistent available result for height %d", ErrCorrupt, height)
	case !r.Available && c != 0:
		return Record{}, fmt.Errorf("%w: unavailable result with confidence for height %d", ErrCorrupt, height)
	}
	return r, nil
}
