package exchange

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/tessera-da/tessera/erasure"
	"github.com/tessera-da/tessera/nmt"
)

// A liar answers with the honest response passed through a lie.
type lie func(honest []byte) []byte

// stall is a lie that sends nothing and holds the stream open.
var stall lie = func([]byte) []byte { return nil }

// requestTypes maps protocol names to their request message types.
var requestTypes = map[string]byte{
	ProtocolSamples: msgSamplesRequest, ProtocolRow: msgRowRequest, ProtocolNamespace: msgNDRequest,
	ProtocolODS: msgODSRequest, ProtocolHeaders: msgHeadersRequest, ProtocolCommitment: msgCPRequest,
}

// honestResponse is what an honest server writes for a request payload.
func honestResponse(s *Server, name string, req []byte) []byte {
	var buf bytes.Buffer
	fns := map[string]serveFunc{
		ProtocolSamples: s.serveSamples, ProtocolRow: s.serveRow, ProtocolNamespace: s.serveNamespace,
		ProtocolODS: s.serveODS, ProtocolHeaders: s.serveHeaders, ProtocolCommitment: s.serveCommitment,
	}
	if err := fns[name](&buf, req); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// newLiar starts a host answering protocol name with l applied to the
// honest answer from src, connected to the client host ch.
func newLiar(tb testing.TB, ch host.Host, src Source, name string, l lie) host.Host {
	tb.Helper()
	h := newHost(tb, nil)
	s := &Server{src: src, opts: testServerOptions(), trees: newTreeCache(1 << 30)}
	h.SetStreamHandler(ProtocolID(testChain, name), func(st network.Stream) {
		br := bufio.NewReader(st)
		req, err := readFrame(br, requestTypes[name], maxRequestSize, nil)
		if err != nil {
			_ = st.Reset()
			return
		}
		out := l(honestResponse(s, name, req))
		if out == nil { // stall until the client gives up
			_, _ = io.Copy(io.Discard, st)
			time.Sleep(3 * time.Second)
			_ = st.Reset()
			return
		}
		_, _ = st.Write(out)
		_ = st.Close()
	})
	connect(tb, ch, h)
	return h
}

// frames splits a response into frame payloads (type byte included).
func frames(b []byte) [][]byte {
	var out [][]byte
	for len(b) > 0 {
		n, l := binary.Uvarint(b)
		out = append(out, b[l:l+int(n)])
		b = b[l+int(n):]
	}
	return out
}

// join frames payloads again.
func join(ps [][]byte) []byte {
	var out []byte
	for _, p := range ps {
		out = binary.AppendUvarint(out, uint64(len(p)))
		out = append(out, p...)
	}
	return out
}

// inFrame applies f to a copy of frame i's payload.
func inFrame(i int, f func(p []byte) []byte) lie {
	return func(honest []byte) []byte {
		ps := frames(honest)
		ps[i] = f(bytes.Clone(ps[i]))
		return join(ps)
	}
}

// flip flips a bit of byte off (negative: from the end) of frame i.
func flip(i, off int) lie {
	return inFrame(i, func(p []byte) []byte {
		if off < 0 {
			off += len(p)
		}
		p[off] ^= 0x01
		return p
	})
}

func truncate(honest []byte) []byte { return honest[:len(honest)/2] }

func oversized([]byte) []byte {
	return append(binary.AppendUvarint(nil, 1<<34-1), bytes.Repeat([]byte{0x12}, 4096)...)
}

func garbage([]byte) []byte { return bytes.Repeat([]byte{0xde, 0xad, 0xbe, 0xef}, 1000) }

// Offsets in a samples response payload: type, status, w, n, then per
// entry a presence byte and the sample: axis, row, col, share, proof
// nodes, axis root, root proof aunts.
const (
	smp0      = 1 + 1 + 2 + 2 + 1
	smp0Share = smp0 + 5
	smp0Proof = smp0Share + erasure.ShareSize
)

// TestLyingServers: every kind of bad answer on every protocol is an error
// naming the liar; bad data is ErrBadResponse, a stall ErrTimeout.
func TestLyingServers(t *testing.T) {
	b := makeBlock(t, 8, 1, nil)
	src := newMemSource(b, makeBlock(t, 8, 2, nil))
	ch := newHost(t, nil)
	c, err := NewClient(ch, testChain, testClientOptions())
	if err != nil {
		t.Fatal(err)
	}
	w := 16
	size := erasure.SampleSize(w)
	coords := []Coord{{0, 0}, {3, 9}, {15, 15}}
	calls := map[string]func(ctx context.Context, p peer.ID) error{
		ProtocolSamples: func(ctx context.Context, p peer.ID) error {
			_, err := c.Samples(ctx, p, b.hdr, coords)
			return err
		},
		ProtocolRow: func(ctx context.Context, p peer.ID) error {
			_, err := c.Row(ctx, p, b.hdr, 3)
			return err
		},
		ProtocolNamespace: func(ctx context.Context, p peer.ID) error {
			_, err := c.NamespaceData(ctx, p, b.hdr, nsID(3))
			return err
		},
		ProtocolODS: func(ctx context.Context, p peer.ID) error {
			_, err := c.ODS(ctx, p, b.hdr)
			return err
		},
		ProtocolHeaders: func(ctx context.Context, p peer.ID) error {
			_, err := c.Headers(ctx, p, 1, 2)
			return err
		},
	}
	// Answer with the honest response to another request.
	answerInstead := func(name string, req []byte) lie {
		s := &Server{src: src, opts: testServerOptions(), trees: newTreeCache(1 << 30)}
		return func([]byte) []byte { return honestResponse(s, name, req) }
	}
	cases := []struct {
		proto, name string
		lie         lie
		want        error
	}{
		{ProtocolSamples, "bad NMT proof node", flip(0, smp0Proof+2*nmt.NamespaceSize+3), ErrBadResponse},
		{ProtocolSamples, "wrong share", flip(0, smp0Share+100), ErrBadResponse},
		{ProtocolSamples, "wrong share namespace", flip(0, smp0Share+2), ErrBadResponse},
		{ProtocolSamples, "bad root proof", flip(0, -1), ErrBadResponse},
		{ProtocolSamples, "bad axis root", flip(0, smp0+size-5*32-1), ErrBadResponse},
		{ProtocolSamples, "axis byte", flip(0, smp0), ErrBadResponse},
		{ProtocolSamples, "other coordinate", flip(0, smp0+4), ErrBadResponse},
		{ProtocolSamples, "samples swapped", inFrame(0, func(p []byte) []byte {
			e0, e1 := bytes.Clone(p[smp0:smp0+size]), bytes.Clone(p[smp0+size+1:smp0+2*size+1])
			copy(p[smp0:], e1)
			copy(p[smp0+size+1:], e0)
			return p
		}), ErrBadResponse},
		{ProtocolSamples, "sample of another block", answerInstead(ProtocolSamples, samplesRequest{height: 2, coords: coords}.appendTo(nil)), ErrBadResponse},
		{ProtocolSamples, "wrong width", flip(0, 3), ErrBadResponse},
		{ProtocolSamples, "wrong count", flip(0, 5), ErrBadResponse},
		{ProtocolSamples, "bad presence byte", inFrame(0, func(p []byte) []byte { p[smp0-1] = 2; return p }), ErrBadResponse},
		{ProtocolSamples, "short body", inFrame(0, func(p []byte) []byte { return p[:len(p)-1] }), ErrBadResponse},
		{ProtocolSamples, "trailing bytes", inFrame(0, func(p []byte) []byte { return append(p, 0) }), ErrBadResponse},
		{ProtocolSamples, "status with body", inFrame(0, func(p []byte) []byte { p[1] = byte(statusNotFound); return p }), ErrBadResponse},
		{ProtocolSamples, "unknown status", inFrame(0, func(p []byte) []byte { return []byte{msgSamplesResponse, 77} }), ErrBadResponse},
		{ProtocolSamples, "wrong message type", flip(0, 0), ErrBadResponse},
		{ProtocolSamples, "truncated", truncate, ErrBadResponse},
		{ProtocolSamples, "nothing", func([]byte) []byte { return []byte{} }, ErrBadResponse},
		{ProtocolSamples, "oversized length prefix", oversized, ErrBadResponse},
		{ProtocolSamples, "garbage", garbage, ErrBadResponse},
		{ProtocolSamples, "stall", stall, ErrTimeout},

		{ProtocolRow, "wrong share", flip(0, -100), ErrBadResponse},
		{ProtocolRow, "wrong root", flip(0, 4+70), ErrBadResponse},
		{ProtocolRow, "bad root proof", flip(0, 4+nmt.NodeSize+5), ErrBadResponse},
		{ProtocolRow, "other row", answerInstead(ProtocolRow, rowRequest{height: 1, row: 4}.appendTo(nil)), ErrBadResponse},
		{ProtocolRow, "row of another block", answerInstead(ProtocolRow, rowRequest{height: 2, row: 3}.appendTo(nil)), ErrBadResponse},
		{ProtocolRow, "short", inFrame(0, func(p []byte) []byte { return p[:len(p)-512] }), ErrBadResponse},
		{ProtocolRow, "truncated", truncate, ErrBadResponse},
		{ProtocolRow, "oversized length prefix", oversized, ErrBadResponse},
		{ProtocolRow, "stall", stall, ErrTimeout},

		{ProtocolNamespace, "wrong share", flip(1, 100), ErrBadResponse},
		{ProtocolNamespace, "bad root", flip(0, 8+80), ErrBadResponse},
		{ProtocolNamespace, "bad root proof", flip(0, -1), ErrBadResponse},
		{ProtocolNamespace, "row left out", func(honest []byte) []byte {
			// Drop the last covering row: head with one row fewer, one
			// entry fewer. The new last row still covers ns, so it cannot
			// end the range.
			ps := frames(honest)
			head := ps[0]
			n := int(binary.BigEndian.Uint16(head[6:]))
			na := log2(2*w) * 32
			roots := head[8 : 8+n*nmt.NodeSize]
			aunts := head[8+n*nmt.NodeSize:]
			nh := append([]byte(nil), head[:8]...)
			binary.BigEndian.PutUint16(nh[6:], uint16(n-2))
			nh = append(nh, roots[:(n-2)*nmt.NodeSize]...)
			nh = append(nh, aunts[:(n-2)*na]...)
			return join(append([][]byte{nh}, ps[1:len(ps)-1]...))
		}, ErrBadResponse},
		{ProtocolNamespace, "entry left out", func(honest []byte) []byte {
			ps := frames(honest)
			return join(ps[:len(ps)-1])
		}, ErrBadResponse},
		{ProtocolNamespace, "another namespace", answerInstead(ProtocolNamespace, ndRequest{height: 1, ns: nsID(5)}.appendTo(nil)), ErrBadResponse},
		{ProtocolNamespace, "garbage entry", inFrame(1, func(p []byte) []byte { return append(p[:1], 0xff, 0xff, 0xff) }), ErrBadResponse},
		{ProtocolNamespace, "oversized entry", func(honest []byte) []byte {
			ps := frames(honest)
			return append(join(ps[:1]), oversized(nil)...)
		}, ErrBadResponse},
		{ProtocolNamespace, "truncated", truncate, ErrBadResponse},
		{ProtocolNamespace, "stall", stall, ErrTimeout},

		{ProtocolODS, "wrong share", flip(1, 5000), ErrBadResponse},
		{ProtocolODS, "wrong width", inFrame(0, func(p []byte) []byte { p[3] = 4; return p }), ErrBadResponse},
		{ProtocolODS, "invalid width", inFrame(0, func(p []byte) []byte { p[3] = 3; return p }), ErrBadResponse},
		{ProtocolODS, "ODS of another block", answerInstead(ProtocolODS, odsRequest{height: 2}.appendTo(nil)), ErrBadResponse},
		{ProtocolODS, "short data", inFrame(1, func(p []byte) []byte { return p[:len(p)-1] }), ErrBadResponse},
		{ProtocolODS, "long data", inFrame(1, func(p []byte) []byte { return append(p, 0) }), ErrBadResponse},
		{ProtocolODS, "truncated", truncate, ErrBadResponse},
		{ProtocolODS, "oversized data length", func(honest []byte) []byte {
			return append(join(frames(honest)[:1]), oversized(nil)...)
		}, ErrBadResponse},
		{ProtocolODS, "stall", stall, ErrTimeout},

		{ProtocolHeaders, "wrong height", func([]byte) []byte {
			h2 := *b.hdr
			h2.Height = 7
			enc, _ := h2.MarshalBinary()
			p := []byte{msgHeadersResponse, 0, 0, 1}
			p = binary.BigEndian.AppendUint16(p, uint16(len(enc)))
			return join([][]byte{append(p, enc...)})
		}, ErrBadResponse},
		{ProtocolHeaders, "too many headers", inFrame(0, func(p []byte) []byte {
			binary.BigEndian.PutUint16(p[2:], 3)
			return append(p, p[4:4+2+int(binary.BigEndian.Uint16(p[4:]))]...)
		}), ErrBadResponse},
		{ProtocolHeaders, "bad header encoding", flip(0, 6), ErrBadResponse},
		{ProtocolHeaders, "header length past the end", inFrame(0, func(p []byte) []byte { p[4] = 0x7f; return p }), ErrBadResponse},
		{ProtocolHeaders, "oversized length prefix", oversized, ErrBadResponse},
		{ProtocolHeaders, "stall", stall, ErrTimeout},
	}
	for _, tc := range cases {
		t.Run(tc.proto+"/"+tc.name, func(t *testing.T) {
			t.Parallel()
			h := newLiar(t, ch, src, tc.proto, tc.lie)
			ctx := testCtx(t, 5*time.Second)
			if tc.want == ErrTimeout {
				ctx = testCtx(t, 300*time.Millisecond)
			}
			start := time.Now()
			err := calls[tc.proto](ctx, h.ID())
			t.Log(err)
			wantPeerError(t, err, h.ID(), tc.want)
			if IsBadPeer(err) != (tc.want == ErrBadResponse) {
				t.Fatalf("IsBadPeer(%v) = %v", err, IsBadPeer(err))
			}
			// Generous: only a client that ignores its deadline (and
			// waits for the stalling liar forever) takes this long.
			if d := time.Since(start); d > 5*time.Second {
				t.Fatalf("took %v", d)
			}
		})
	}
	// The honest answer passes through the same harness.
	t.Run("honest through the harness", func(t *testing.T) {
		for name, call := range calls {
			h := newLiar(t, ch, src, name, func(b []byte) []byte { return b })
			if err := call(testCtx(t, 5*time.Second), h.ID()); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
		}
	})
}

// TestSampleFromAnyDespiteLiars: with a peer sending bad proofs, one
// stalling, one closing streams and one refusing, SampleFromAny still gets
// every sample from the two honest peers well within the deadline, and
// reports the bad ones.
func TestSampleFromAnyDespiteLiars(t *testing.T) {
	b := makeBlock(t, 16, 1, nil)
	src := newMemSource(b)
	opts := testClientOptions()
	var mu sync.Mutex
	reported := make(map[peer.ID]error)
	opts.OnPeerError = func(p peer.ID, err error) {
		mu.Lock()
		reported[p] = err
		mu.Unlock()
	}
	n := newNetwork(t, opts, src, src)
	liar := newLiar(t, n.ch, src, ProtocolSamples, flip(0, smp0Proof+70))
	staller := newLiar(t, n.ch, src, ProtocolSamples, stall)
	closer := newLiar(t, n.ch, src, ProtocolSamples, truncate)
	refuser := newLiar(t, n.ch, src, ProtocolSamples, func([]byte) []byte { return statusFrame(nil, msgSamplesResponse, statusInternal) })
	peers := []peer.ID{liar.ID(), staller.ID(), closer.ID(), refuser.ID(), n.peers()[0], n.peers()[1]}
	rng := newTestRand(7)
	for round := range 3 {
		coords := randomCoords(rng, 32, 32)
		ctx := testCtx(t, 3*time.Second)
		got, err := n.client.SampleFromAny(ctx, peers, b.hdr, coords)
		// The 3 s deadline is below the client's 5 s per-request
		// timeout: success means the staller was hedged around, not
		// waited for.
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		for _, c := range coords {
			if err := erasure.VerifySample(b.hdr.DataRoot[:], 32, c.Row, c.Col, got[c]); err != nil {
				t.Fatal(err)
			}
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if !IsBadPeer(reported[liar.ID()]) || !IsBadPeer(reported[closer.ID()]) {
		t.Errorf("liars reported as %v and %v", reported[liar.ID()], reported[closer.ID()])
	}
	if !errors.Is(reported[staller.ID()], ErrTimeout) || IsBadPeer(reported[staller.ID()]) {
		t.Errorf("staller reported as %v", reported[staller.ID()])
	}
	if !errors.Is(reported[refuser.ID()], ErrRejected) {
		t.Errorf("refuser reported as %v", reported[refuser.ID()])
	}
	for _, p := range n.peers() {
		if reported[p] != nil {
			t.Errorf("honest peer reported: %v", reported[p])
		}
	}
}

// TestSampleFromAnyOnlyLiars ends with ErrIncomplete, no sample that fails
// verification, and within the deadline even when every peer stalls.
func TestSampleFromAnyOnlyLiars(t *testing.T) {
	b := makeBlock(t, 8, 1, nil)
	src := newMemSource(b)
	ch := newHost(t, nil)
	c, err := NewClient(ch, testChain, testClientOptions())
	if err != nil {
		t.Fatal(err)
	}
	liars := []peer.ID{
		newLiar(t, ch, src, ProtocolSamples, flip(0, smp0Share+1)).ID(),
		newLiar(t, ch, src, ProtocolSamples, garbage).ID(),
	}
	coords := randomCoords(newTestRand(1), 16, 16)
	got, err := c.SampleFromAny(testCtx(t, 5*time.Second), liars, b.hdr, coords)
	if !errors.Is(err, ErrIncomplete) || !errors.Is(err, ErrBadResponse) || len(got) != 0 {
		t.Fatalf("%d samples, %v", len(got), err)
	}
	stallers := []peer.ID{newLiar(t, ch, src, ProtocolSamples, stall).ID(), newLiar(t, ch, src, ProtocolSamples, stall).ID()}
	start := time.Now()
	got, err = c.SampleFromAny(testCtx(t, 400*time.Millisecond), stallers, b.hdr, coords)
	if !errors.Is(err, ErrIncomplete) || !errors.Is(err, ErrTimeout) || len(got) != 0 {
		t.Fatalf("%d samples, %v", len(got), err)
	}
	if d := time.Since(start); d > 5*time.Second { // generous: only an ignored deadline takes this long
		t.Fatalf("took %v past a 400 ms deadline", d)
	}
}

// TestClientMemoryBounded: a response declaring a huge length is refused
// before anything is allocated for it, on every protocol.
func TestClientMemoryBounded(t *testing.T) {
	b := makeBlock(t, 8, 1, nil)
	src := newMemSource(b)
	ch := newHost(t, nil)
	c, err := NewClient(ch, testChain, testClientOptions())
	if err != nil {
		t.Fatal(err)
	}
	huge := func([]byte) []byte { return binary.AppendUvarint(nil, 1<<34) }
	for _, name := range []string{ProtocolSamples, ProtocolRow, ProtocolNamespace, ProtocolODS, ProtocolHeaders} {
		h := newLiar(t, ch, src, name, huge)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		var err error
		ctx := testCtx(t, 5*time.Second)
		switch name {
		case ProtocolSamples:
			_, err = c.Samples(ctx, h.ID(), b.hdr, []Coord{{1, 1}})
		case ProtocolRow:
			_, err = c.Row(ctx, h.ID(), b.hdr, 1)
		case ProtocolNamespace:
			_, err = c.NamespaceData(ctx, h.ID(), b.hdr, nsID(1))
		case ProtocolODS:
			_, err = c.ODS(ctx, h.ID(), b.hdr)
		case ProtocolHeaders:
			_, err = c.Headers(ctx, h.ID(), 1, 1)
		}
		runtime.ReadMemStats(&after)
		wantPeerError(t, err, h.ID(), ErrBadResponse)
		if d := after.TotalAlloc - before.TotalAlloc; d > 8<<20 {
			t.Errorf("%s: %d bytes allocated for a 16 GiB declared length", name, d)
		}
	}
}
