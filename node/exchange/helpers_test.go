package exchange

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/metrics"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/muxer/yamux"
	"github.com/libp2p/go-libp2p/p2p/security/noise"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"

	"github.com/tessera-da/tessera/erasure"
	"github.com/tessera-da/tessera/node/header"
	"github.com/tessera-da/tessera/share"
)

const testChain = "tessera-test"

// newHost starts a libp2p host on 127.0.0.1 (TCP, noise, yamux), closed
// at the end of the test. bw, if not nil, counts its stream bytes.
func newHost(tb testing.TB, bw metrics.Reporter) host.Host {
	tb.Helper()
	opts := []libp2p.Option{
		libp2p.NoTransports,
		libp2p.Transport(tcp.NewTCPTransport),
		libp2p.Security(noise.ID, noise.New),
		libp2p.Muxer(yamux.ID, yamux.DefaultTransport),
		libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"),
		libp2p.DisableRelay(),
	}
	if bw != nil {
		opts = append(opts, libp2p.BandwidthReporter(bw))
	}
	h, err := libp2p.New(opts...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = h.Close() })
	return h
}

// connect connects a to b.
func connect(tb testing.TB, a, b host.Host) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := a.Connect(ctx, peer.AddrInfo{ID: b.ID(), Addrs: b.Addrs()}); err != nil {
		tb.Fatal(err)
	}
}

// nsID returns the version-0 namespace with sub-ID i.
func nsID(i int) share.Namespace {
	ns, err := share.NewV0Namespace([]byte{byte(i >> 8), byte(i)})
	if err != nil {
		panic(err)
	}
	return ns
}

// block is a test block: ODS, extended square, DAH and signed header.
type block struct {
	k   int
	ods []byte
	eds *erasure.ExtendedSquare
	dah *erasure.DAH
	hdr *header.Header
}

var testKey = ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))

// layout returns the namespace of every share of a k×k test ODS, in
// row-major order: ns 1 (1 share), ns 3 (2k+3 shares), ns 5 (2 shares),
// ns 7 (k shares), then tail padding, each run cut to what fits.
func layout(k int) []share.Namespace {
	out := make([]share.Namespace, 0, k*k)
	for _, run := range []struct {
		ns share.Namespace
		n  int
	}{{nsID(1), 1}, {nsID(3), 2*k + 3}, {nsID(5), 2}, {nsID(7), k}} {
		for range run.n {
			if len(out) < k*k {
				out = append(out, run.ns)
			}
		}
	}
	for len(out) < k*k {
		out = append(out, share.TailPaddingNamespace)
	}
	return out
}

// makeBlock builds a block of ODS width k at height with the given
// namespace of each share (layout(k) when nil).
func makeBlock(tb testing.TB, k int, height uint64, nss []share.Namespace) *block {
	tb.Helper()
	if nss == nil {
		nss = layout(k)
	}
	rng := rand.NewChaCha8([32]byte{byte(k), byte(k >> 8), byte(height), byte(height >> 8)})
	ods := make([]byte, k*k*erasure.ShareSize)
	_, _ = rng.Read(ods)
	for i, ns := range nss {
		copy(ods[i*erasure.ShareSize:], ns.Bytes())
	}
	e, err := erasure.NewExtender(erasure.DefaultParams(), nil)
	if err != nil {
		tb.Fatal(err)
	}
	eds, err := e.ExtendFlat(ods)
	if err != nil {
		tb.Fatal(err)
	}
	dah, err := e.ComputeDAH(eds)
	if err != nil {
		tb.Fatal(err)
	}
	hdr := &header.Header{ChainID: testChain, Height: height, Time: time.Unix(1700000000+int64(height), 0).UTC(), SquareWidth: uint32(k)}
	copy(hdr.DataRoot[:], dah.Hash())
	hdr.Sign(testKey)
	return &block{k: k, ods: ods, eds: eds, dah: dah, hdr: hdr}
}

// memSource is an in-memory Source.
type memSource struct {
	mu      sync.Mutex
	blocks  map[uint64]*block
	gate    chan struct{} // when not nil, Square waits for it
	squares int           // Square calls
}

func newMemSource(blocks ...*block) *memSource {
	s := &memSource{blocks: make(map[uint64]*block)}
	for _, b := range blocks {
		s.blocks[b.hdr.Height] = b
	}
	return s
}

func (s *memSource) Square(height uint64) (*erasure.ExtendedSquare, *erasure.DAH, error) {
	s.mu.Lock()
	b, gate := s.blocks[height], s.gate
	s.squares++
	s.mu.Unlock()
	if gate != nil {
		<-gate
	}
	if b == nil || b.eds == nil {
		return nil, nil, fmt.Errorf("height %d: %w", height, ErrNotFound)
	}
	return b.eds, b.dah, nil
}

func (s *memSource) Headers(from, to uint64) ([]*header.Header, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*header.Header
	for h := from; h <= to; h++ {
		b := s.blocks[h]
		if b == nil {
			break
		}
		out = append(out, b.hdr)
	}
	if len(out) == 0 {
		return nil, ErrNotFound
	}
	return out, nil
}

// partialSource holds some samples of blocks, not their squares.
type partialSource struct {
	samples map[uint64]map[Coord]*erasure.Sample
}

func (s *partialSource) Square(uint64) (*erasure.ExtendedSquare, *erasure.DAH, error) {
	return nil, nil, ErrNotFound
}

func (s *partialSource) Headers(uint64, uint64) ([]*header.Header, error) { return nil, ErrNotFound }

func (s *partialSource) Sample(height uint64, row, col int) (*erasure.Sample, error) {
	if smp := s.samples[height][Coord{row, col}]; smp != nil {
		return smp, nil
	}
	return nil, ErrNotFound
}

// testServerOptions are the defaults with short timeouts.
func testServerOptions() ServerOptions {
	o := DefaultServerOptions()
	o.ReadTimeout = 2 * time.Second
	o.WriteTimeout = 5 * time.Second
	o.BulkWriteTimeout = 10 * time.Second
	return o
}

func testClientOptions() ClientOptions {
	o := DefaultClientOptions()
	o.Timeout = 5 * time.Second
	o.BulkTimeout = 10 * time.Second
	o.HedgeAfter = 100 * time.Millisecond
	return o
}

// testNet is a client host connected to server hosts.
type testNet struct {
	client  *Client
	ch      host.Host
	servers []*Server
	hosts   []host.Host
}

// newNetwork starts a client and one server per source, connected.
func newNetwork(tb testing.TB, copts ClientOptions, sources ...Source) *testNet {
	tb.Helper()
	n := &testNet{ch: newHost(tb, nil)}
	var err error
	if n.client, err = NewClient(n.ch, testChain, copts); err != nil {
		tb.Fatal(err)
	}
	for _, src := range sources {
		h := newHost(tb, nil)
		s, err := NewServer(h, testChain, src, testServerOptions())
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { _ = s.Close() })
		connect(tb, n.ch, h)
		n.servers = append(n.servers, s)
		n.hosts = append(n.hosts, h)
	}
	return n
}

func (n *testNet) peers() []peer.ID {
	out := make([]peer.ID, len(n.hosts))
	for i, h := range n.hosts {
		out[i] = h.ID()
	}
	return out
}

// testCtx returns a context ending after d, cancelled at the end of the
// test.
func testCtx(tb testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	tb.Cleanup(cancel)
	return ctx
}

// wantPeerError checks that err is a *PeerError from p wrapping target.
func wantPeerError(tb testing.TB, err error, p peer.ID, target error) {
	tb.Helper()
	if !errors.Is(err, target) {
		tb.Fatalf("error %v, want %v", err, target)
	}
	var pe *PeerError
	if !errors.As(err, &pe) || pe.Peer != p {
		tb.Fatalf("error %v does not name peer %s", err, p)
	}
}

// randomCoords returns n distinct coordinates of a square of width w.
func randomCoords(rng *rand.Rand, w, n int) []Coord {
	seen := make(map[Coord]bool)
	out := make([]Coord, 0, n)
	for len(out) < n {
		c := Coord{rng.IntN(w), rng.IntN(w)}
		if !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	return out
}

func newTestRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)) }
