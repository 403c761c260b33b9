package exchange

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"runtime"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
)

// rawExchange writes raw bytes on a new stream for protocol name, closes
// its write side and reads everything back. It returns what was read and
// the read error (nil for a clean close).
func rawExchange(tb testing.TB, h host.Host, p peer.ID, name string, req []byte) ([]byte, error) {
	tb.Helper()
	ctx := testCtx(tb, 5*time.Second)
	st, err := h.NewStream(ctx, p, protocol.ID(ProtocolID(testChain, name)))
	if err != nil {
		tb.Fatal(err)
	}
	defer st.Close()
	_ = st.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := st.Write(req); err != nil {
		return nil, err
	}
	_ = st.CloseWrite()
	out, err := io.ReadAll(st)
	return out, err
}

func frame(payload ...byte) []byte {
	return append(binary.AppendUvarint(nil, uint64(len(payload))), payload...)
}

// TestMalformedRequestsResetStream: every malformed or oversized request
// on every protocol is answered by a stream reset, without allocating for
// a declared length, and the server keeps serving.
func TestMalformedRequestsResetStream(t *testing.T) {
	b := makeBlock(t, 8, 1, nil)
	n := newNetwork(t, testClientOptions(), newMemSource(b))
	p := n.peers()[0]
	u16 := func(v int) []byte { return binary.BigEndian.AppendUint16(nil, uint16(v)) }
	u64 := func(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	samplesReq := func(n int, coords ...int) []byte {
		p := cat([]byte{msgSamplesRequest}, u64(1), u16(n))
		for _, c := range coords {
			p = append(p, u16(c)...)
		}
		return frame(p...)
	}
	parity := bytes.Repeat([]byte{0xff}, 29)
	badVersion := append([]byte{7}, make([]byte, 28)...)
	cases := []struct {
		proto, name string
		req         []byte
	}{
		{ProtocolSamples, "garbage", bytes.Repeat([]byte{0xde, 0xad}, 64)},
		{ProtocolSamples, "huge length", append(binary.AppendUvarint(nil, 1<<34), 1, 2, 3)},
		{ProtocolSamples, "length over cap", append(binary.AppendUvarint(nil, maxRequestSize+1), bytes.Repeat([]byte{msgSamplesRequest}, 100)...)},
		{ProtocolSamples, "varint too long", []byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x01}},
		{ProtocolSamples, "non-minimal varint", append([]byte{0x8b, 0x00}, samplesReq(1, 0, 0)[1:]...)},
		{ProtocolSamples, "empty frame", []byte{0}},
		{ProtocolSamples, "wrong type", frame(cat([]byte{msgRowRequest}, u64(1), u16(1), u16(0), u16(0))...)},
		{ProtocolSamples, "zero coordinates", samplesReq(0)},
		{ProtocolSamples, "too many coordinates", samplesReq(MaxSamplesPerRequest+1, make([]int, 2*(MaxSamplesPerRequest+1))...)},
		{ProtocolSamples, "count mismatch", samplesReq(3, 0, 0, 1, 1)},
		{ProtocolSamples, "coordinate past any square", samplesReq(1, 2*MaxODSWidth, 0)},
		{ProtocolSamples, "truncated", samplesReq(2, 0, 0, 1, 1)[:9]},
		{ProtocolSamples, "nothing", nil},
		{ProtocolRow, "short", frame(cat([]byte{msgRowRequest}, u64(1))...)},
		{ProtocolRow, "long", frame(cat([]byte{msgRowRequest}, u64(1), u16(1), u16(1))...)},
		{ProtocolRow, "row past any square", frame(cat([]byte{msgRowRequest}, u64(1), u16(2*MaxODSWidth))...)},
		{ProtocolRow, "huge length", binary.AppendUvarint(nil, 1<<33)},
		{ProtocolNamespace, "parity namespace", frame(cat([]byte{msgNDRequest}, u64(1), parity)...)},
		{ProtocolNamespace, "invalid namespace", frame(cat([]byte{msgNDRequest}, u64(1), badVersion)...)},
		{ProtocolNamespace, "short", frame(cat([]byte{msgNDRequest}, u64(1), parity[:5])...)},
		{ProtocolODS, "long", frame(cat([]byte{msgODSRequest}, u64(1), u64(1))...)},
		{ProtocolODS, "wrong type", frame(cat([]byte{msgHeadersRequest}, u64(1))...)},
		{ProtocolHeaders, "from zero", frame(cat([]byte{msgHeadersRequest}, u64(0), u64(1))...)},
		{ProtocolHeaders, "backwards", frame(cat([]byte{msgHeadersRequest}, u64(5), u64(4))...)},
		{ProtocolHeaders, "too many", frame(cat([]byte{msgHeadersRequest}, u64(1), u64(MaxHeadersPerRequest+1))...)},
		{ProtocolHeaders, "huge range", frame(cat([]byte{msgHeadersRequest}, u64(1), u64(1<<63))...)},
		{ProtocolCommitment, "short", frame(cat([]byte{msgCPRequest}, u64(1), parity)...)},
		{ProtocolCommitment, "long", frame(cat([]byte{msgCPRequest}, u64(1), parity, make([]byte, 33))...)},
		{ProtocolCommitment, "parity namespace", frame(cat([]byte{msgCPRequest}, u64(1), parity, make([]byte, 32))...)},
		{ProtocolCommitment, "invalid namespace", frame(cat([]byte{msgCPRequest}, u64(1), badVersion, make([]byte, 32))...)},
		{ProtocolCommitment, "wrong type", frame(cat([]byte{msgNDRequest}, u64(1), parity[:1], make([]byte, 60))...)},
		{ProtocolCommitment, "huge length", binary.AppendUvarint(nil, 1<<33)},
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for _, tc := range cases {
		t.Run(tc.proto+"/"+tc.name, func(t *testing.T) {
			out, err := rawExchange(t, n.ch, p, tc.proto, tc.req)
			if err == nil {
				t.Fatalf("stream closed cleanly after %d bytes (%x), want a reset", len(out), out)
			}
		})
	}
	runtime.ReadMemStats(&after)
	if d := after.TotalAlloc - before.TotalAlloc; d > 32<<20 {
		t.Errorf("%d bytes allocated while refusing malformed requests", d)
	}
	// Well-formed requests the square cannot answer get a status, and the
	// server still serves.
	out, err := rawExchange(t, n.ch, p, ProtocolSamples, samplesReq(1, 16, 0))
	if err != nil || !bytes.Equal(out, statusFrame(nil, msgSamplesResponse, statusBadRequest)) {
		t.Fatalf("coordinate outside the square: %x, %v", out, err)
	}
	out, err = rawExchange(t, n.ch, p, ProtocolRow, frame(cat([]byte{msgRowRequest}, u64(1), u16(16))...))
	if err != nil || !bytes.Equal(out, statusFrame(nil, msgRowResponse, statusBadRequest)) {
		t.Fatalf("row outside the square: %x, %v", out, err)
	}
	ctx := testCtx(t, 5*time.Second)
	_, err = n.client.Samples(ctx, p, b.hdr, []Coord{{16, 0}})
	if !errors.Is(err, ErrInvalidRequest) {
		t.Fatal(err)
	}
	if _, err := n.client.Samples(ctx, p, b.hdr, []Coord{{15, 0}, {2, 3}}); err != nil {
		t.Fatal(err)
	}
	if _, err := n.client.ODS(ctx, p, b.hdr); err != nil {
		t.Fatal(err)
	}
}

// TestServerReadDeadline: a peer that opens a stream and sends nothing is
// reset after ReadTimeout.
func TestServerReadDeadline(t *testing.T) {
	b := makeBlock(t, 2, 1, nil)
	ch, sh := newHost(t, nil), newHost(t, nil)
	opts := testServerOptions()
	opts.ReadTimeout = 200 * time.Millisecond
	s, err := NewServer(sh, testChain, newMemSource(b), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	connect(t, ch, sh)
	for _, name := range protocolNames {
		ctx := testCtx(t, 5*time.Second)
		st, err := ch.NewStream(ctx, sh.ID(), s.protocolID(name))
		if err != nil {
			t.Fatal(err)
		}
		_ = st.SetDeadline(time.Now().Add(10 * time.Second))
		// Half a request, then silence.
		if _, err := st.Write([]byte{10, requestTypes[name]}); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		_, err = io.ReadAll(st)
		if err == nil || time.Since(start) > 5*time.Second { // generous: the client's own deadline is 10 s
			t.Fatalf("%s: read ended with %v after %v, want a reset after 200 ms", name, err, time.Since(start))
		}
		_ = st.Reset()
	}
}
