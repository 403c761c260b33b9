package exchange

import (
	"bufio"
	"bytes"
	"testing"

	"github.com/tessera-da/tessera/blob"
	"github.com/tessera-da/tessera/erasure"
	"github.com/tessera-da/tessera/share"
)

// fuzzBlock is the k = 4 block the response fuzzers verify against.
func fuzzBlock(f *testing.F) (*block, *Server) {
	b := makeBlock(f, 4, 1, nil)
	return b, &Server{src: newMemSource(b), opts: testServerOptions(), trees: newTreeCache(1 << 30)}
}

// payloadOf returns the payload (after the type byte) of frame i of an
// honest response.
func payloadOf(resp []byte, i int) []byte { return frames(resp)[i][1:] }

func FuzzDecodeFrame(f *testing.F) {
	f.Add([]byte{3, msgODSRequest, 1, 2}, 10)
	f.Add([]byte{0x80, 0x01}, 200)
	f.Add([]byte{0x80, 0x00}, 200)
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0x0f}, 1<<30)
	f.Fuzz(func(t *testing.T, b []byte, max int) {
		if max < 1 || max > 1<<20 || len(b) == 0 {
			return
		}
		typ := b[len(b)-1]
		p, err := readFrame(bufio.NewReader(bytes.NewReader(b)), typ, max, nil)
		if err == nil && len(p)+1 > max {
			t.Fatalf("payload of %d bytes past the cap %d", len(p), max)
		}
		dst := make([]byte, max%4096)
		_ = readFrameInto(bufio.NewReader(bytes.NewReader(b)), typ, dst)
	})
}

func FuzzDecodeSamplesRequest(f *testing.F) {
	f.Add(samplesRequest{height: 7, coords: []Coord{{1, 2}, {1023, 0}}}.appendTo(nil))
	f.Add(samplesRequest{height: 1, coords: make([]Coord, MaxSamplesPerRequest)}.appendTo(nil))
	f.Fuzz(func(t *testing.T, p []byte) {
		m, err := decodeSamplesRequest(p)
		if err != nil {
			return
		}
		if !bytes.Equal(m.appendTo(nil), p) {
			t.Fatal("accepted request does not re-encode to itself")
		}
	})
}

func FuzzDecodeSamplesResponse(f *testing.F) {
	b, s := fuzzBlock(f)
	coords := []Coord{{0, 0}, {7, 3}}
	f.Add(payloadOf(honestResponse(s, ProtocolSamples, samplesRequest{height: 1, coords: coords}.appendTo(nil)), 0))
	f.Add([]byte{byte(statusNotFound)})
	f.Fuzz(func(t *testing.T, p []byte) {
		st, entries, err := decodeSamplesResponse(p, 8, len(coords))
		if err != nil || st != statusOK {
			return
		}
		for i, e := range entries {
			if e == nil {
				continue
			}
			if smp, err := erasure.ParseSample(e, 8); err == nil {
				_ = erasure.VerifySample(b.hdr.DataRoot[:], 8, coords[i].Row, coords[i].Col, smp)
			}
		}
	})
}

func FuzzDecodeRowRequest(f *testing.F) {
	f.Add(rowRequest{height: 9, row: 5}.appendTo(nil))
	f.Fuzz(func(t *testing.T, p []byte) {
		m, err := decodeRowRequest(p)
		if err == nil && !bytes.Equal(m.appendTo(nil), p) {
			t.Fatal("accepted request does not re-encode to itself")
		}
	})
}

func FuzzDecodeRowResponse(f *testing.F) {
	b, s := fuzzBlock(f)
	f.Add(payloadOf(honestResponse(s, ProtocolRow, rowRequest{height: 1, row: 2}.appendTo(nil)), 0))
	f.Add([]byte{byte(statusBusy)})
	f.Fuzz(func(t *testing.T, p []byte) {
		st, m, err := decodeRowResponse(p, 8)
		if err != nil || st != statusOK {
			return
		}
		if verifyRow(b.hdr.DataRoot[:], 4, 2, m) == nil && !bytes.Equal(m.shares, b.eds.RowBytes(2)) {
			t.Fatal("a row other than row 2 verified")
		}
	})
}

func FuzzDecodeNamespaceRequest(f *testing.F) {
	f.Add(ndRequest{height: 3, ns: nsID(5)}.appendTo(nil))
	f.Add(ndRequest{height: 3, ns: share.TailPaddingNamespace}.appendTo(nil))
	f.Fuzz(func(t *testing.T, p []byte) {
		m, err := decodeNDRequest(p)
		if err == nil && !bytes.Equal(m.appendTo(nil), p) {
			t.Fatal("accepted request does not re-encode to itself")
		}
	})
}

func FuzzDecodeNamespaceHead(f *testing.F) {
	b, s := fuzzBlock(f)
	for _, ns := range []share.Namespace{nsID(3), nsID(0), nsID(300)} {
		f.Add(payloadOf(honestResponse(s, ProtocolNamespace, ndRequest{height: 1, ns: ns}.appendTo(nil)), 0), ns.Bytes())
	}
	f.Fuzz(func(t *testing.T, p, nsb []byte) {
		ns, err := share.NewNamespaceFromBytes(nsb)
		if err != nil {
			return
		}
		st, m, err := decodeNDHead(p, 4)
		if err != nil || st != statusOK {
			return
		}
		rows, err := verifyNamespaceRoots(b.hdr.DataRoot[:], 4, ns, m)
		if err == nil && len(rows) != len(blob.RowsWithNamespace(b.dah, ns)) {
			t.Fatalf("verified rows %v, the square has %v", rows, blob.RowsWithNamespace(b.dah, ns))
		}
	})
}

func FuzzDecodeNamespaceRow(f *testing.F) {
	b, s := fuzzBlock(f)
	resp := frames(honestResponse(s, ProtocolNamespace, ndRequest{height: 1, ns: nsID(3)}.appendTo(nil)))
	for _, fr := range resp[1:] {
		f.Add(fr[1:], 0)
	}
	f.Fuzz(func(t *testing.T, p []byte, row int) {
		if len(p)+1 > ndRowMax(4) {
			return
		}
		rnd, err := blob.ParseRowNamespaceData(p)
		if err != nil || row < 0 || row >= 4 {
			return
		}
		_ = verifyRowNamespaceData(rnd, b.dah.Root(erasure.Row, row), nsID(3), 4)
	})
}

func FuzzDecodeODSRequest(f *testing.F) {
	f.Add(odsRequest{height: 12}.appendTo(nil))
	f.Fuzz(func(t *testing.T, p []byte) {
		m, err := decodeODSRequest(p)
		if err == nil && !bytes.Equal(m.appendTo(nil), p) {
			t.Fatal("accepted request does not re-encode to itself")
		}
	})
}

func FuzzDecodeODSHead(f *testing.F) {
	_, s := fuzzBlock(f)
	f.Add(payloadOf(honestResponse(s, ProtocolODS, odsRequest{height: 1}.appendTo(nil)), 0))
	f.Add([]byte{0, 2, 0})
	f.Fuzz(func(t *testing.T, p []byte) {
		st, k, err := decodeODSHead(p)
		if err == nil && st == statusOK && (k < 1 || k > MaxODSWidth || k&(k-1) != 0) {
			t.Fatalf("accepted width %d", k)
		}
	})
}

func FuzzDecodeHeadersRequest(f *testing.F) {
	f.Add(headersRequest{from: 1, to: 256}.appendTo(nil))
	f.Fuzz(func(t *testing.T, p []byte) {
		m, err := decodeHeadersRequest(p)
		if err != nil {
			return
		}
		if !m.valid() || !bytes.Equal(m.appendTo(nil), p) {
			t.Fatal("accepted an invalid request or one that does not re-encode")
		}
	})
}

func FuzzDecodeHeadersResponse(f *testing.F) {
	b1, b2 := makeBlock(f, 1, 1, nil), makeBlock(f, 2, 2, nil)
	s := &Server{src: newMemSource(b1, b2), opts: testServerOptions(), trees: newTreeCache(1 << 30)}
	f.Add(payloadOf(honestResponse(s, ProtocolHeaders, headersRequest{from: 1, to: 2}.appendTo(nil)), 0), 2)
	f.Fuzz(func(t *testing.T, p []byte, max int) {
		if max < 1 || max > MaxHeadersPerRequest {
			return
		}
		st, hs, err := decodeHeadersResponse(p, max)
		if err == nil && st == statusOK && (len(hs) == 0 || len(hs) > max) {
			t.Fatalf("%d headers accepted for at most %d", len(hs), max)
		}
	})
}
