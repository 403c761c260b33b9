package exchange

import (
	"bufio"
	"bytes"
	"fmt"
	"testing"

	"github.com/tessera-da/tessera/erasure"
	"github.com/tessera-da/tessera/share"
)

// TestEveryMutationFails: for every response a client verifies, the honest
// bytes pass, and flipping any single bit of any byte, or cutting the
// response short anywhere, fails (the headers response is left out: the
// caller verifies headers).
func TestEveryMutationFails(t *testing.T) {
	b4, b2 := makeBlock(t, 4, 1, nil), makeBlock(t, 2, 2, nil)
	s := &Server{src: newMemSource(b4, b2), opts: testServerOptions(), trees: newTreeCache(1 << 30)}
	ext, err := erasure.NewExtender(erasure.Params{Workers: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	type check func(r *bufio.Reader) error
	coords := []Coord{{0, 1}, {1, 6}, {6, 2}, {7, 7}, {3, 3}}
	cases := []struct {
		name  string
		proto string
		req   []byte
		check check
	}{
		{"samples", ProtocolSamples, samplesRequest{height: 1, coords: coords}.appendTo(nil), func(r *bufio.Reader) error {
			_, missing, err := readSamples(r, b4.hdr, coords)
			if err == nil && missing > 0 {
				return fmt.Errorf("%d missing", missing)
			}
			return err
		}},
		{"row/original", ProtocolRow, rowRequest{height: 1, row: 1}.appendTo(nil), func(r *bufio.Reader) error {
			_, err := readRow(r, b4.hdr, 1)
			return err
		}},
		{"row/parity", ProtocolRow, rowRequest{height: 1, row: 6}.appendTo(nil), func(r *bufio.Reader) error {
			_, err := readRow(r, b4.hdr, 6)
			return err
		}},
		{"ods", ProtocolODS, odsRequest{height: 2}.appendTo(nil), func(r *bufio.Reader) error {
			_, _, _, err := readODS(r, b2.hdr, ext)
			return err
		}},
	}
	for _, ns := range []share.Namespace{nsID(3), nsID(2), nsID(0), nsID(7), nsID(300), share.TailPaddingNamespace} {
		cases = append(cases, struct {
			name  string
			proto string
			req   []byte
			check check
		}{"nd/" + ns.String()[50:], ProtocolNamespace, ndRequest{height: 1, ns: ns}.appendTo(nil), func(r *bufio.Reader) error {
			_, err := readNamespace(r, b4.hdr, ns)
			return err
		}})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			honest := honestResponse(s, tc.proto, tc.req)
			run := func(b []byte) error { return tc.check(bufio.NewReader(bytes.NewReader(b))) }
			if err := run(honest); err != nil {
				t.Fatalf("honest response: %v", err)
			}
			m := bytes.Clone(honest)
			for i := range m {
				for _, bit := range []byte{0x01, 0x80} {
					m[i] ^= bit
					if run(m) == nil {
						t.Fatalf("flipping bit %#x of byte %d of %d passes", bit, i, len(m))
					}
					m[i] ^= bit
				}
			}
			for n := range len(honest) {
				if run(honest[:n]) == nil {
					t.Fatalf("the first %d of %d bytes pass", n, len(honest))
				}
			}
		})
	}
}
