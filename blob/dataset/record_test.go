package dataset

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"strings"
	"testing"
)

// parseCanonical parses fuzzed bytes with parse: a failure must wrap
// sentinel (ok is false); a success must encode back to b exactly.
func parseCanonical[R interface{ MarshalBinary() ([]byte, error) }](t *testing.T, b []byte, parse func([]byte) (R, error), sentinel error) (r R, ok bool) {
	t.Helper()
	r, err := parse(b)
	if err != nil {
		if !errors.Is(err, sentinel) {
			t.Fatalf("error %v does not wrap %v", err, sentinel)
		}
		return r, false
	}
	enc, err := r.MarshalBinary()
	if err != nil {
		t.Fatalf("parsed record does not encode: %v", err)
	}
	if !bytes.Equal(enc, b) {
		t.Fatal("accepted a non-canonical encoding")
	}
	return r, true
}

// TestRecordFrame: the shared frame reader rejects, wrapping the record's
// sentinel, an oversized input, a bad magic or version, truncation and
// trailing bytes, and reads a well-formed frame.
func TestRecordFrame(t *testing.T) {
	magic := [4]byte{'T', 'S', 'X', 'X'}
	good := appendStr(appendHeader(nil, magic, 3), "ok")
	for _, tc := range []struct {
		name, want string
		b          []byte
	}{
		{"well formed", "", good},
		{"oversized", "bytes, max", append(good, make([]byte, 64)...)},
		{"bad magic", "bad magic", append([]byte("TSYY"), good[4:]...)},
		{"bad version", "version 4, want 3", appendStr(appendHeader(nil, magic, 4), "ok")},
		{"truncated", "truncated", good[:len(good)-1]},
		{"trailing", "trailing bytes", append(append([]byte(nil), good...), 0)},
		{"empty", "truncated magic", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := openRecord(tc.b, len(good)+1, ErrInvalidRun, magic, 3)
			s := d.str("payload")
			err := d.close(func() error { return nil })
			if tc.want == "" {
				if err != nil || s != "ok" {
					t.Fatalf("read %q, %v", s, err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidRun) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want ErrInvalidRun with %q", err, tc.want)
			}
		})
	}
}

// TestSigner: a record signs and verifies; the wrong key size, a missing
// signature, another context and every flipped signature bit fail,
// wrapping the signer's sentinel.
func TestSigner(t *testing.T) {
	s := signer{record: "test record", context: "tessera/dataset/test/v1\x00", sentinel: ErrInvalidSignature}
	body := []byte("body")
	var (
		key ed25519.PublicKey
		sig []byte
	)
	id := func() ([32]byte, error) {
		return recordID(func() error { return nil }, func(b []byte) []byte { return append(append(b, body...), key...) })
	}
	if err := s.sign(testKey(1)[:10], &key, &sig, id); !errors.Is(err, ErrInvalidSignature) {
		t.Fatalf("short private key: %v", err)
	}
	if err := s.sign(testKey(1), &key, &sig, id); err != nil {
		t.Fatal(err)
	}
	if err := s.verify(key, sig, id); err != nil {
		t.Fatalf("honest record: %v", err)
	}
	if err := s.verify(key, nil, id); !errors.Is(err, ErrInvalidSignature) || !strings.Contains(err.Error(), "test record unsigned") {
		t.Fatalf("unsigned: %v", err)
	}
	other := signer{record: s.record, context: "tessera/dataset/other/v1\x00", sentinel: s.sentinel}
	if err := other.verify(key, sig, id); !errors.Is(err, ErrInvalidSignature) {
		t.Fatalf("another context: %v", err)
	}
	for i := range len(sig) * 8 {
		bad := bytes.Clone(sig)
		bad[i/8] ^= 1 << (i % 8)
		if err := s.verify(key, bad, id); !errors.Is(err, ErrInvalidSignature) {
			t.Fatalf("signature bit %d flipped: %v", i, err)
		}
	}
	if _, err := s.marshal(func() error { return nil }, func(b []byte) []byte { return b }, nil); !errors.Is(err, ErrInvalidSignature) {
		t.Fatalf("marshal unsigned: %v", err)
	}
	if err := checkSigner(ErrInvalidRun, "publisher key", key[:31], nil); !errors.Is(err, ErrInvalidRun) {
		t.Fatalf("short key: %v", err)
	}
	if err := checkSigner(ErrInvalidRun, "publisher key", key, sig[:63]); !errors.Is(err, ErrInvalidRun) {
		t.Fatalf("short signature: %v", err)
	}
}

// FuzzRecordFrame: the frame reader never panics and either fails wrapping
// its sentinel or reads exactly a well-formed frame.
func FuzzRecordFrame(f *testing.F) {
	magic := [4]byte{'T', 'S', 'X', 'X'}
	f.Add(appendStr(appendHeader(nil, magic, 1), "seed"))
	f.Add([]byte("TSXX\x01\xff\xff\xff\xff"))
	f.Fuzz(func(t *testing.T, b []byte) {
		d := openRecord(b, 1<<10, ErrInvalidRun, magic, 1)
		s := d.str("payload")
		if err := d.close(func() error { return nil }); err != nil {
			if !errors.Is(err, ErrInvalidRun) {
				t.Fatalf("error %v does not wrap ErrInvalidRun", err)
			}
			return
		}
		if !bytes.Equal(appendStr(appendHeader(nil, magic, 1), s), b) {
			t.Fatal("accepted a frame that does not re-encode")
		}
	})
}
