// Package vectors holds what every test of the reference vectors in
// testdata/vectors needs: the vectors' input generator, the schemas of
// nmt.json and eds.json (hex strings, so a checker can name a bad field)
// and the rule that builds an eds.json square's ODS from its seeds.
package vectors

import (
	"crypto/sha256"
	"encoding/binary"
)

// Bytes is the vectors' input generator: the first n bytes of
// SHA-256(seed ‖ BE32(0)) ‖ SHA-256(seed ‖ BE32(1)) ‖ …
func Bytes(seed string, n int) []byte {
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
