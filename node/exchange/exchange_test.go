package exchange

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/tessera-da/tessera/blob"
	"github.com/tessera-da/tessera/erasure"
	"github.com/tessera-da/tessera/node/header"
	"github.com/tessera-da/tessera/share"
)

func TestProtocolIDs(t *testing.T) {
	if got := ProtocolID("mocha-4", ProtocolSamples); got != "/tessera/mocha-4/samples/v1" {
		t.Fatalf("ProtocolID = %s", got)
	}
	ids := Protocols("c")
	if len(ids) != 6 || ids[4] != "/tessera/c/headers/v1" || ids[5] != "/tessera/c/cp/v1" {
		t.Fatalf("Protocols = %v", ids)
	}
	for _, bad := range []string{"", "a/b", "a b", string(make([]byte, header.MaxChainIDSize+1))} {
		if err := checkChainID(bad); !errors.Is(err, ErrInvalidOptions) {
			t.Errorf("chain ID %q accepted", bad)
		}
	}
}

func TestOptionsValidate(t *testing.T) {
	if err := DefaultServerOptions().Validate(); err != nil {
		t.Fatal(err)
	}
	if err := DefaultClientOptions().Validate(); err != nil {
		t.Fatal(err)
	}
	bad := []func(*ServerOptions){
		func(o *ServerOptions) { o.ReadTimeout = 0 },
		func(o *ServerOptions) { o.WriteTimeout = -1 },
		func(o *ServerOptions) { o.BulkWriteTimeout = 0 },
		func(o *ServerOptions) { o.MaxStreams = 0 },
		func(o *ServerOptions) { o.MaxStreamsPerPeer = o.MaxStreams + 1 },
		func(o *ServerOptions) { o.TreeCacheBytes = -1 },
	}
	for i, f := range bad {
		o := DefaultServerOptions()
		f(&o)
		if err := o.Validate(); !errors.Is(err, ErrInvalidOptions) {
			t.Errorf("server case %d accepted", i)
		}
	}
	badC := []func(*ClientOptions){
		func(o *ClientOptions) { o.Timeout = 0 },
		func(o *ClientOptions) { o.BulkTimeout = 0 },
		func(o *ClientOptions) { o.HedgeAfter = 0 },
		func(o *ClientOptions) { o.Workers = 0 },
	}
	for i, f := range badC {
		o := DefaultClientOptions()
		f(&o)
		if err := o.Validate(); !errors.Is(err, ErrInvalidOptions) {
			t.Errorf("client case %d accepted", i)
		}
	}
	h := newHost(t, nil)
	if _, err := NewServer(h, "x", newMemSource(), ServerOptions{}); !errors.Is(err, ErrInvalidOptions) {
		t.Error("zero ServerOptions accepted")
	}
	if _, err := NewClient(h, "x", ClientOptions{}); !errors.Is(err, ErrInvalidOptions) {
		t.Error("zero ClientOptions accepted")
	}
}

// TestHonestRoundTrips exercises every protocol against honest servers
// and compares the results with what the square holds.
func TestHonestRoundTrips(t *testing.T) {
	b16 := makeBlock(t, 16, 1, nil)
	b1 := makeBlock(t, 1, 2, nil)
	b4 := makeBlock(t, 4, 3, nil)
	src := newMemSource(b16, b1, b4)
	n := newNetwork(t, testClientOptions(), src, src, src)
	p := n.peers()[0]
	ctx := testCtx(t, 20*time.Second)

	t.Run("samples", func(t *testing.T) {
		for _, b := range []*block{b16, b1, b4} {
			w := 2 * b.k
			var coords []Coord
			for r := range w {
				for c := range w {
					if (r*w+c)%3 == 0 || w <= 8 {
						coords = append(coords, Coord{r, c})
					}
				}
			}
			for len(coords) > 0 {
				batch := coords[:min(len(coords), MaxSamplesPerRequest)]
				coords = coords[len(batch):]
				smps, err := n.client.Samples(ctx, p, b.hdr, batch)
				if err != nil {
					t.Fatal(err)
				}
				for i, smp := range smps {
					if smp.Row() != batch[i].Row || smp.Col() != batch[i].Col || !bytes.Equal(smp.Share(), b.eds.Cell(batch[i].Row, batch[i].Col)) {
						t.Fatalf("k=%d: sample %d is not cell %s", b.k, i, batch[i])
					}
				}
			}
		}
	})
	t.Run("samples duplicates and max batch", func(t *testing.T) {
		coords := make([]Coord, MaxSamplesPerRequest)
		for i := range coords {
			coords[i] = Coord{i % 32, (i * 7) % 32}
		}
		if _, err := n.client.Samples(ctx, p, b16.hdr, coords); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("row", func(t *testing.T) {
		for _, b := range []*block{b16, b1} {
			for r := range 2 * b.k {
				shares, err := n.client.Row(ctx, p, b.hdr, r)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(bytes.Join(shares, nil), b.eds.RowBytes(r)) {
					t.Fatalf("k=%d row %d differs", b.k, r)
				}
			}
		}
	})
	t.Run("namespace data", func(t *testing.T) {
		for _, b := range []*block{b16, b1, b4} {
			nss := []share.Namespace{nsID(0), nsID(1), nsID(2), nsID(3), nsID(4), nsID(5), nsID(6), nsID(7), nsID(8), nsID(300), share.TailPaddingNamespace, share.MaxPrimaryReservedNamespace}
			for _, ns := range nss {
				res, err := n.client.NamespaceData(ctx, p, b.hdr, ns)
				if err != nil {
					t.Fatalf("k=%d ns %s: %v", b.k, ns, err)
				}
				want, err := blob.ProveNamespaceData(b.eds, b.dah, ns)
				if err != nil {
					t.Fatal(err)
				}
				if !res.Data.Equal(want) || !slices.Equal(res.Rows, blob.RowsWithNamespace(b.dah, ns)) {
					t.Fatalf("k=%d ns %s: got rows %v, want %v", b.k, ns, res.Rows, blob.RowsWithNamespace(b.dah, ns))
				}
				if err := res.Data.Verify(b.dah, ns); err != nil {
					t.Fatalf("k=%d ns %s: result does not verify with the DAH: %v", b.k, ns, err)
				}
			}
		}
		if _, err := n.client.NamespaceData(ctx, p, b16.hdr, share.ParityNamespace); !errors.Is(err, ErrInvalidRequest) {
			t.Fatalf("parity namespace: %v", err)
		}
	})
	t.Run("ods", func(t *testing.T) {
		for _, b := range []*block{b16, b1, b4} {
			ods, err := n.client.ODS(ctx, p, b.hdr)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(ods, b.ods) {
				t.Fatalf("k=%d ODS differs", b.k)
			}
			eds, dah, err := n.client.Square(ctx, p, b.hdr)
			if err != nil {
				t.Fatal(err)
			}
			if !dah.Equal(b.dah) || !bytes.Equal(eds.RowBytes(2*b.k-1), b.eds.RowBytes(2*b.k-1)) {
				t.Fatalf("k=%d square differs", b.k)
			}
		}
	})
	t.Run("headers", func(t *testing.T) {
		hs, err := n.client.Headers(ctx, p, 1, 3)
		if err != nil {
			t.Fatal(err)
		}
		if len(hs) != 3 {
			t.Fatalf("%d headers", len(hs))
		}
		for i, h := range hs {
			if h.Hash() != src.blocks[uint64(i+1)].hdr.Hash() || h.Verify(testChain, []ed25519.PublicKey{testKey.Public().(ed25519.PublicKey)}, nil) != nil {
				t.Fatalf("header %d differs or does not verify", i)
			}
		}
		// A range past the head gives the prefix the server holds.
		if hs, err = n.client.Headers(ctx, p, 2, 200); err != nil || len(hs) != 2 {
			t.Fatalf("headers 2..200: %d, %v", len(hs), err)
		}
		if _, err = n.client.Headers(ctx, p, 50, 60); !errors.Is(err, ErrNotFound) {
			t.Fatalf("missing headers: %v", err)
		}
		for _, r := range [][2]uint64{{0, 1}, {5, 4}, {1, MaxHeadersPerRequest + 1}} {
			if _, err = n.client.Headers(ctx, p, r[0], r[1]); !errors.Is(err, ErrInvalidRequest) {
				t.Fatalf("headers %v: %v", r, err)
			}
		}
	})
	t.Run("not found", func(t *testing.T) {
		missing := makeBlock(t, 4, 99, nil)
		if _, err := n.client.Samples(ctx, p, missing.hdr, []Coord{{0, 0}}); !errors.Is(err, ErrNotFound) {
			t.Fatalf("samples: %v", err)
		}
		if _, err := n.client.Row(ctx, p, missing.hdr, 0); !errors.Is(err, ErrNotFound) {
			t.Fatalf("row: %v", err)
		}
		if _, err := n.client.NamespaceData(ctx, p, missing.hdr, nsID(1)); !errors.Is(err, ErrNotFound) {
			t.Fatalf("nd: %v", err)
		}
		if _, err := n.client.ODS(ctx, p, missing.hdr); !errors.Is(err, ErrNotFound) {
			t.Fatalf("ods: %v", err)
		}
	})
	t.Run("invalid requests", func(t *testing.T) {
		for _, coords := range [][]Coord{nil, {{0, 32}}, {{-1, 0}}, make([]Coord, MaxSamplesPerRequest+1)} {
			if _, err := n.client.Samples(ctx, p, b16.hdr, coords); !errors.Is(err, ErrInvalidRequest) {
				t.Fatalf("coords %v: %v", len(coords), err)
			}
		}
		bad := *b16.hdr
		bad.SquareWidth = 3
		if _, err := n.client.Samples(ctx, p, &bad, []Coord{{0, 0}}); !errors.Is(err, ErrInvalidRequest) {
			t.Fatalf("bad header: %v", err)
		}
		if _, err := n.client.Row(ctx, p, b16.hdr, 32); !errors.Is(err, ErrInvalidRequest) {
			t.Fatalf("row 32: %v", err)
		}
		if _, err := n.client.SampleFromAny(ctx, nil, b16.hdr, []Coord{{0, 0}}); !errors.Is(err, ErrInvalidRequest) {
			t.Fatalf("no peers: %v", err)
		}
	})
	t.Run("header of another square width", func(t *testing.T) {
		// The client's header says k=8, the server holds k=16 at that
		// height: the response does not fit and is a bad response.
		bad := *b16.hdr
		bad.SquareWidth = 8
		_, err := n.client.Samples(ctx, p, &bad, []Coord{{0, 0}})
		wantPeerError(t, err, p, ErrBadResponse)
	})
	t.Run("SampleFromAny", func(t *testing.T) {
		rng := rand.New(rand.NewPCG(1, 2))
		coords := randomCoords(rng, 32, 40)
		got, err := n.client.SampleFromAny(ctx, n.peers(), b16.hdr, append(coords, coords[0]))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(coords) {
			t.Fatalf("%d samples for %d coordinates", len(got), len(coords))
		}
		for _, c := range coords {
			if err := erasure.VerifySample(b16.hdr.DataRoot[:], 32, c.Row, c.Col, got[c]); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// TestPartialSource: a server holding only some samples answers "don't
// have" for the others; Samples returns what it has with ErrNotFound and
// SampleFromAny completes from another peer.
func TestPartialSource(t *testing.T) {
	b := makeBlock(t, 8, 1, nil)
	e, _ := erasure.NewExtender(erasure.Params{Workers: 1}, nil)
	ps := &partialSource{samples: map[uint64]map[Coord]*erasure.Sample{1: {}}}
	for r := range 16 {
		smp, err := e.ProveSample(b.eds, b.dah, r, r, erasure.Col) // column proofs verify too
		if err != nil {
			t.Fatal(err)
		}
		ps.samples[1][Coord{r, r}] = smp
	}
	n := newNetwork(t, testClientOptions(), ps, newMemSource(b))
	ctx := testCtx(t, 20*time.Second)
	coords := []Coord{{0, 0}, {0, 1}, {5, 5}, {7, 3}}
	smps, err := n.client.Samples(ctx, n.peers()[0], b.hdr, coords)
	wantPeerError(t, err, n.peers()[0], ErrNotFound)
	if smps[0] == nil || smps[1] != nil || smps[2] == nil || smps[3] != nil {
		t.Fatalf("partial answer: %v", smps)
	}
	// A height it holds nothing of.
	other := makeBlock(t, 8, 2, nil)
	if _, err := n.client.Samples(ctx, n.peers()[0], other.hdr, coords); !errors.Is(err, ErrNotFound) {
		t.Fatal(err)
	}
	var reported []peer.ID
	n.client.opts.OnPeerError = func(p peer.ID, err error) { reported = append(reported, p) }
	got, err := n.client.SampleFromAny(ctx, n.peers(), b.hdr, coords)
	if err != nil || len(got) != len(coords) {
		t.Fatalf("SampleFromAny: %d samples, %v", len(got), err)
	}
}

// TestServerBusy: requests beyond a peer's limit are answered "busy".
func TestServerBusy(t *testing.T) {
	b := makeBlock(t, 4, 1, nil)
	src := newMemSource(b)
	gate := make(chan struct{})
	src.gate = gate
	ch, sh := newHost(t, nil), newHost(t, nil)
	opts := testServerOptions()
	opts.MaxStreamsPerPeer = 1
	opts.MaxStreams = 4
	s, err := NewServer(sh, testChain, src, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	connect(t, ch, sh)
	c, err := NewClient(ch, testChain, testClientOptions())
	if err != nil {
		t.Fatal(err)
	}
	ctx := testCtx(t, 10*time.Second)
	first := make(chan error, 1)
	go func() {
		_, err := c.Samples(ctx, sh.ID(), b.hdr, []Coord{{0, 0}})
		first <- err
	}()
	// Wait until the first request holds the server's slot.
	for deadline := time.Now().Add(5 * time.Second); ; {
		src.mu.Lock()
		calls := src.squares
		src.mu.Unlock()
		if calls > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("first request never reached the source")
		}
		time.Sleep(5 * time.Millisecond)
	}
	_, err = c.Samples(ctx, sh.ID(), b.hdr, []Coord{{1, 1}})
	wantPeerError(t, err, sh.ID(), ErrBusy)
	close(gate)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	// The server frees its slot just after writing the response, so the
	// client can see the answer a moment before the slot is free again.
	for deadline := time.Now().Add(5 * time.Second); ; {
		s.mu.Lock()
		active := s.active
		s.mu.Unlock()
		if active == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the first request never released its slot")
		}
		time.Sleep(time.Millisecond)
	}
	if _, err := c.Samples(ctx, sh.ID(), b.hdr, []Coord{{1, 1}}); err != nil {
		t.Fatal(err)
	}
}

// TestServerPrepareAndClose: Prepare builds every row tree; after Close
// the protocols are gone.
func TestServerPrepareAndClose(t *testing.T) {
	b := makeBlock(t, 8, 1, nil)
	n := newNetwork(t, testClientOptions(), newMemSource(b))
	s := n.servers[0]
	if err := s.Prepare(1); err != nil {
		t.Fatal(err)
	}
	if err := s.Prepare(2); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Prepare of a missing height: %v", err)
	}
	if s.trees.usedBytes() == 0 {
		t.Fatal("Prepare built nothing")
	}
	s.Forget(1)
	if s.trees.usedBytes() != 0 {
		t.Fatal("Forget kept trees")
	}
	ctx := testCtx(t, 10*time.Second)
	if _, err := n.client.Samples(ctx, n.peers()[0], b.hdr, []Coord{{3, 4}}); err != nil {
		t.Fatal(err)
	}
	_ = s.Close()
	_, err := n.client.Samples(ctx, n.peers()[0], b.hdr, []Coord{{3, 4}})
	wantPeerError(t, err, n.peers()[0], ErrStream)
}

func ExampleProtocolID() {
	fmt.Println(ProtocolID("mocha-4", ProtocolSamples))
	// Output: /tessera/mocha-4/samples/v1
}

// TestCaps checks the caps the package documentation lists.
func TestCaps(t *testing.T) {
	for _, c := range []struct {
		name      string
		got, want int
	}{
		{"request", maxRequestSize, 4107},
		{"samples response, 1024 at k=512", samplesResponseMax(1024, 1024), 1904646},
		{"samples response, 16 at k=512", samplesResponseMax(1024, 16), 29766},
		{"row response at k=512", rowResponseSize(1024), 524734},
		{"nd head at k=512", ndHeadMax(512), 226312},
		{"nd row at k=512", ndRowMax(512), 278405},
		{"ods data at k=512", odsDataSize(512), 134217729},
		{"headers response", headersResponseMax(MaxHeadersPerRequest), 63492},
		{"cp request", cpRequestSize, 70},
		{"cp response at k=512", cpResponseMax(512), 2405378},
		{"largest frame fits the length prefix", odsDataSize(MaxODSWidth), min(odsDataSize(MaxODSWidth), 1<<(7*maxVarintLen)-1)},
	} {
		if c.got != c.want {
			t.Errorf("%s: %d, want %d", c.name, c.got, c.want)
		}
	}
}
