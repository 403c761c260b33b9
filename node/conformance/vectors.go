package conformance

import (
	"encoding/hex"
	"fmt"
)

// mustHex decodes hex from a vector file, returning an error naming the field.
func decodeHex(field, s string) ([]byte, error) {
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("field %s: %w", field, err)
	}
	return b, nil
}
