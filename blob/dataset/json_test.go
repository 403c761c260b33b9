package dataset

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
)

func TestManifestJSONRoundTrip(t *testing.T) {
	for _, size := range []int{0, 10, 100} {
		m, _ := buildManifest(t, testObject(size), 16)
		j, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		var got Manifest
		if err := json.Unmarshal(j, &got); err != nil {
			t.Fatal(err)
		}
		if err := got.Verify(); err != nil {
			t.Fatalf("size %d: decoded manifest does not verify: %v", size, err)
		}
		a, _ := m.MarshalBinary()
		b, _ := got.MarshalBinary()
		if !bytes.Equal(a, b) {
			t.Fatalf("size %d: JSON round trip changes the manifest", size)
		}
	}
}

func TestManifestJSONInvalid(t *testing.T) {
	m, _ := buildManifest(t, testObject(40), 16)
	good, _ := json.Marshal(m)
	for _, tc := range []struct{ name, from, to string }{
		{"version", `"manifest_version":1`, `"manifest_version":2`},
		{"object length", `"object_length":"40"`, `"object_length":"41"`},
		{"short key", `"publisher_key":"`, `"publisher_key":"00`},
		{"bad hex", `"signature":"`, `"signature":"zz`},
		{"not json", `{`, `[`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := bytes.Replace(good, []byte(tc.from), []byte(tc.to), 1)
			if bytes.Equal(b, good) {
				t.Fatalf("%q not found in %s", tc.from, good)
			}
			var got Manifest
			if err := got.UnmarshalJSON(b); !errors.Is(err, ErrInvalidManifest) {
				t.Fatalf("err = %v, want ErrInvalidManifest", err)
			}
		})
	}
}
