package conformance

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
)

// genBytes is the vectors' input generator: the first n bytes of
// SHA-256(seed ‖ BE32(0)) ‖ SHA-256(seed ‖ BE32(1)) ‖ …
func genBytes(seed string, n int) []byte {
	out := make([]byte, 0, n+sha256.Size)
	var ctr [4]byte
	for c := uint32(0); len(out) < n; c++ {
		binary.BigEndian.PutUint32(ctr[:], c)
		h := sha256.New()
		h.Write([]byte(seed))
		h.Write(ctr[:])
		out = h.Sum(out)
	}
	return out[:n]
}

// mustHex decodes hex from a vector file, returning an error naming the field.
func decodeHex(field, s string) ([]byte, error) {
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("field %s: %w", field, err)
	}
	return b, nil
}
