package bulk

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ipfs/boxo/bitswap"
	bsmsg "github.com/ipfs/boxo/bitswap/message"
	bsnet "github.com/ipfs/boxo/bitswap/network/bsnet"
	"github.com/ipfs/boxo/blockstore"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	ds "github.com/ipfs/go-datastore"
	dssync "github.com/ipfs/go-datastore/sync"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-msgio"
	"github.com/multiformats/go-multihash"

	"github.com/tessera-da/tessera/node/store"
)

// TestFetchThroughDHT: on a line A–B–C, A stores 20 pieces and announces
// them; C, not connected to A, finds A through the DHT and fetches every
// piece within the deadline; B, which never asked, holds none.
func TestFetchThroughDHT(t *testing.T) {
	a, b, c := newNode(t, testParams()), newNode(t, testParams()), newNode(t, testParams())
	connect(t, a, b)
	connect(t, b, c)

	const pieces = 20
	want := map[cid.Cid][]byte{}
	for i := range pieces {
		size := 1 + i*(MaxPieceSize/pieces) // 1 byte to ~1 MiB
		if i == pieces-1 {
			size = MaxPieceSize
		}
		data := randBytes(t, size)
		id, err := a.b.Put(t.Context(), data)
		if err != nil {
			t.Fatal(err)
		}
		if id != ComputeCID(data) {
			t.Fatalf("Put returned %s, ComputeCID %s", id, ComputeCID(data))
		}
		want[id] = data
	}
	waitFor(t, 15*time.Second, "A's announcements", func() bool { return a.b.Stats().Provided >= pieces })
	// Announcing dialled C from A (to put the records); take that away so
	// C can reach A only through a provider lookup.
	disconnect(t, a.h, c.h)

	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, pieces)
	for id, data := range want {
		wg.Go(func() {
			got, err := c.b.Get(ctx, id)
			switch {
			case err != nil:
				errs <- fmt.Errorf("Get(%s): %w", id, err)
			case !bytes.Equal(got, data):
				errs <- fmt.Errorf("Get(%s): %d bytes differ from the %d put", id, len(got), len(data))
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	t.Logf("C fetched %d pieces (%.1f MiB) in %v", pieces, float64(sumLen(want))/(1<<20), time.Since(start))
	if n := c.router.foundCount(a.h.ID()); n == 0 {
		t.Error("C's provider lookups never returned A")
	}
	if st := c.b.Stats(); st.Fetched != pieces || st.Rejected != 0 {
		t.Errorf("C stats %+v, want %d fetched and none rejected", st, pieces)
	}
	if st := a.b.Stats(); st.BlocksSent < pieces {
		t.Errorf("A served %d pieces, want at least %d", st.BlocksSent, pieces)
	}
	for id := range want {
		if has, err := c.b.Has(t.Context(), id); err != nil || !has {
			t.Errorf("C.Has(%s) = %v, %v after fetching", id, has, err)
		}
		if has, _ := b.b.Has(t.Context(), id); has {
			t.Errorf("B holds %s, which it never asked for", id)
		}
	}
	// C now serves and announces what it fetched.
	waitFor(t, 15*time.Second, "C's announcements", func() bool { return c.b.Stats().Provided >= pieces })
}

func sumLen(m map[cid.Cid][]byte) int {
	n := 0
	for _, d := range m {
		n += len(d)
	}
	return n
}

// liar is a bitswap peer that serves whatever bytes it was given for a CID,
// without checking them.
type liar struct {
	h  host.Host
	bs blockstore.Blockstore
}

func newLiar(t *testing.T) *liar {
	t.Helper()
	l := &liar{h: newHost(t), bs: blockstore.NewBlockstore(dssync.MutexWrap(ds.NewMapDatastore()))}
	net := bsnet.NewFromIpfsHost(l.h, bsnet.Prefix(ProtocolPrefix(testChain)), bsnet.SupportedProtocols([]protocol.ID{bitswapVersion}))
	bsw := bitswap.New(t.Context(), net, nil, l.bs, bitswap.WithTargetMessageSize(TargetMessageSize))
	t.Cleanup(func() { bsw.Close() })
	return l
}

// serve makes the liar answer requests for c with data.
func (l *liar) serve(t *testing.T, c cid.Cid, data []byte) {
	t.Helper()
	blk, err := blocks.NewBlockWithCid(data, c)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.bs.Put(t.Context(), blk); err != nil {
		t.Fatal(err)
	}
}

func connectHosts(t *testing.T, a, b host.Host) {
	t.Helper()
	if err := a.Connect(t.Context(), peer.AddrInfo{ID: b.ID(), Addrs: b.Addrs()}); err != nil {
		t.Fatal(err)
	}
}

// TestMismatchNeverReturned: bytes that do not hash to the CID asked for
// are never returned, whether they come from a lying peer or from the
// datastore; an honest peer then delivers the piece.
func TestMismatchNeverReturned(t *testing.T) {
	good := randBytes(t, 100_000)
	bad := append(bytes.Clone(good[:len(good)-1]), good[len(good)-1]^1)
	id := ComputeCID(good)

	t.Run("peer", func(t *testing.T) {
		p := testParams()
		var reported sync.Map // peer.ID → error
		p.OnBadPeer = func(id peer.ID, err error) { reported.Store(id, err) }
		v := newNode(t, p)
		l := newLiar(t)
		l.serve(t, id, bad)
		connectHosts(t, v.h, l.h)
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
		defer cancel()
		got, err := v.b.Get(ctx, id)
		if err == nil || got != nil {
			t.Fatalf("Get from a liar returned %d bytes, %v", len(got), err)
		}
		if !errors.Is(err, ErrNotFound) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Get from a liar: %v, want ErrNotFound and the deadline", err)
		}
		if has, _ := v.b.Has(t.Context(), id); has {
			t.Fatal("the liar's bytes were stored")
		}
		if why, ok := reported.Load(l.h.ID()); !ok || !errors.Is(why.(error), ErrLied) {
			t.Fatalf("OnBadPeer for the liar: %v, %v", why, ok)
		}
		if st := v.b.Stats(); st.Banned != 1 {
			t.Fatalf("stats %+v, want the liar banned", st)
		}

		honest := newNode(t, testParams())
		if _, err := honest.b.Put(t.Context(), good); err != nil {
			t.Fatal(err)
		}
		connectHosts(t, v.h, honest.h)
		ctx, cancel = context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		got, err = v.b.Get(ctx, id)
		if err != nil || !bytes.Equal(got, good) {
			t.Fatalf("Get with an honest peer too: %d bytes, %v", len(got), err)
		}
	})

	t.Run("datastore", func(t *testing.T) {
		v := newNode(t, testParams())
		if _, err := v.b.Put(t.Context(), good); err != nil {
			t.Fatal(err)
		}
		// Overwrite the stored piece behind Bulk's back.
		raw := blockstore.NewBlockstore(v.st.Datastore(), blockstore.WriteThrough(true))
		blk, _ := blocks.NewBlockWithCid(bad, id)
		if err := raw.Put(t.Context(), blk); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
		defer cancel()
		got, err := v.b.Get(ctx, id)
		if !errors.Is(err, ErrNotFound) || got != nil {
			t.Fatalf("Get of a damaged piece with no peers: %d bytes, %v; want ErrNotFound", len(got), err)
		}
		if has, _ := v.b.Has(t.Context(), id); has {
			t.Fatal("the damaged copy was kept")
		}
		// Put repairs a damaged copy too.
		if err := raw.Put(t.Context(), blk); err != nil {
			t.Fatal(err)
		}
		if _, err := v.b.Put(t.Context(), good); err != nil {
			t.Fatal(err)
		}
		if got, err := v.b.Get(t.Context(), id); err != nil || !bytes.Equal(got, good) {
			t.Fatalf("Get after Put repaired it: %d bytes, %v", len(got), err)
		}
	})
}

// staller is a bitswap peer that answers every want with HAVE and never
// sends a block.
func newStaller(t *testing.T) host.Host {
	t.Helper()
	h := newHost(t)
	proto := Protocols(testChain)[0]
	h.SetStreamHandler(proto, func(s network.Stream) {
		defer s.Close()
		r := msgio.NewVarintReaderSize(s, network.MessageSizeMax)
		for {
			msg, _, err := bsmsg.FromMsgReader(r)
			if err != nil {
				return
			}
			reply := bsmsg.New(false)
			for _, e := range msg.Wantlist() {
				if !e.Cancel {
					reply.AddHave(e.Cid)
				}
			}
			if reply.Empty() {
				continue
			}
			out, err := h.NewStream(context.Background(), s.Conn().RemotePeer(), proto)
			if err != nil {
				return
			}
			reply.ToNetV1(out)
			out.Close()
		}
	})
	return h
}

// TestStallingPeer: a peer that claims every piece and never sends one
// does not keep a fetch from an honest peer past a few attempts.
func TestStallingPeer(t *testing.T) {
	p := testParams()
	p.FetchAttemptTimeout = 500 * time.Millisecond
	v, honest := newNode(t, p), newNode(t, testParams())
	staller := newStaller(t)
	connectHosts(t, v.h, staller)
	connect(t, v, honest)
	const pieces = 8
	ids := make([]cid.Cid, pieces)
	for i := range ids {
		id, err := honest.b.Put(t.Context(), randBytes(t, 10_000))
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = id
	}
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for _, id := range ids {
		wg.Go(func() {
			if _, err := v.b.Get(ctx, id); err != nil {
				t.Errorf("Get(%s) beside a staller: %v", id, err)
			}
		})
	}
	wg.Wait()
	t.Logf("stats %+v", v.b.Stats())
}

// TestGetVerified: the caller's check sees the bytes; a piece it refuses
// is neither returned nor stored. (Two pieces: fetching a CID again right
// after a fetch of it was refused can wait for FetchAttemptTimeout, see
// doc.go.)
func TestGetVerified(t *testing.T) {
	a, v := newNode(t, testParams()), newNode(t, testParams())
	connect(t, a, v)
	refused, accepted := randBytes(t, 50_000), randBytes(t, 50_000)
	refusedID, err := a.b.Put(t.Context(), refused)
	if err != nil {
		t.Fatal(err)
	}
	acceptedID, err := a.b.Put(t.Context(), accepted)
	if err != nil {
		t.Fatal(err)
	}
	errManifest := errors.New("not the manifest's sha256")
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	var seen []byte
	got, err := v.b.GetVerified(ctx, refusedID, func(b []byte) error { seen = bytes.Clone(b); return errManifest })
	if !errors.Is(err, ErrRejected) || !errors.Is(err, errManifest) || got != nil {
		t.Fatalf("refused piece: %d bytes, %v", len(got), err)
	}
	if !bytes.Equal(seen, refused) {
		t.Fatal("verify did not see the piece's bytes")
	}
	if has, _ := v.b.Has(t.Context(), refusedID); has {
		t.Fatal("a refused piece was stored")
	}
	sum := sha256.Sum256(accepted)
	check := func(b []byte) error {
		if sha256.Sum256(b) != sum {
			return errManifest
		}
		return nil
	}
	if got, err = v.b.GetVerified(ctx, acceptedID, check); err != nil || !bytes.Equal(got, accepted) {
		t.Fatalf("accepted piece: %d bytes, %v", len(got), err)
	}
	if has, _ := v.b.Has(t.Context(), acceptedID); !has {
		t.Fatal("an accepted piece was not stored")
	}
	// Stored now: the check runs on the local copy too.
	if _, err := v.b.GetVerified(ctx, acceptedID, func([]byte) error { return errManifest }); !errors.Is(err, ErrRejected) {
		t.Fatalf("local piece refused: %v", err)
	}
	if st := v.b.Stats(); st.Fetched != 1 || st.Rejected != 2 {
		t.Fatalf("stats %+v, want 1 fetched, 2 rejected", st)
	}
}

// TestOversized: Put refuses a piece above MaxPieceSize, and a peer's
// oversized piece (whose bytes do match its CID) is refused on arrival.
func TestOversized(t *testing.T) {
	v := newNode(t, testParams())
	if _, err := v.b.Put(t.Context(), make([]byte, MaxPieceSize+1)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Put of MaxPieceSize+1 bytes: %v, want ErrTooLarge", err)
	}
	if _, err := v.b.Put(t.Context(), make([]byte, MaxPieceSize)); err != nil {
		t.Fatalf("Put of MaxPieceSize bytes: %v", err)
	}
	big := randBytes(t, MaxPieceSize+1)
	id := ComputeCID(big)
	if err := VerifyPiece(id, big); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("VerifyPiece of an oversized piece: %v", err)
	}
	l := newLiar(t)
	l.serve(t, id, big)
	connectHosts(t, v.h, l.h)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	got, err := v.b.Get(ctx, id)
	if !errors.Is(err, ErrTooLarge) || got != nil {
		t.Fatalf("Get of an oversized piece: %d bytes, %v; want ErrTooLarge", len(got), err)
	}
	if has, _ := v.b.Has(t.Context(), id); has {
		t.Fatal("an oversized piece was stored")
	}
	if v.b.Stats().Rejected != 1 {
		t.Fatalf("stats %+v, want 1 rejected", v.b.Stats())
	}
}

// TestInvalidCID: only CIDv1 raw sha2-256 IDs are pieces.
func TestInvalidCID(t *testing.T) {
	v := newNode(t, testParams())
	data := []byte("piece")
	sum := sha256.Sum256(data)
	mh, _ := multihash.Encode(sum[:], multihash.SHA2_256)
	blake, _ := multihash.Sum(data, multihash.BLAKE2B_MIN+31, -1)
	short, _ := multihash.Encode(sum[:20], multihash.SHA2_256)
	for name, c := range map[string]cid.Cid{
		"undefined": cid.Undef,
		"v0":        cid.NewCidV0(mh),
		"dag-pb":    cid.NewCidV1(cid.DagProtobuf, mh),
		"blake2b":   cid.NewCidV1(cid.Raw, blake),
		"short":     cid.NewCidV1(cid.Raw, short),
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := v.b.Get(t.Context(), c); !errors.Is(err, ErrInvalidCID) {
				t.Errorf("Get: %v", err)
			}
			if _, err := v.b.Has(t.Context(), c); !errors.Is(err, ErrInvalidCID) {
				t.Errorf("Has: %v", err)
			}
			if err := VerifyPiece(c, data); !errors.Is(err, ErrInvalidCID) {
				t.Errorf("VerifyPiece: %v", err)
			}
		})
	}
	if err := VerifyPiece(ComputeCID(data), data); err != nil {
		t.Fatal(err)
	}
	if err := VerifyPiece(ComputeCID(data), []byte("other")); !errors.Is(err, ErrMismatch) {
		t.Fatalf("VerifyPiece of other bytes: %v", err)
	}
}

// TestReopen: pieces survive closing and reopening the store, and the
// start-up sweep announces them again.
func TestReopen(t *testing.T) {
	dir := t.TempDir()
	st, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	h := newHost(t)
	d := newDHT(t, h)
	b, err := New(t.Context(), h, d, st.Datastore(), testParams())
	if err != nil {
		t.Fatal(err)
	}
	want := map[cid.Cid][]byte{}
	for i := range 5 {
		data := randBytes(t, 1000*(i+1))
		id, err := b.Put(t.Context(), data)
		if err != nil {
			t.Fatal(err)
		}
		want[id] = data
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Put(t.Context(), []byte("late")); !errors.Is(err, ErrClosed) {
		t.Fatalf("Put after Close: %v", err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	st2 := openStore(t, dir)
	n := &node{h: newHost(t), st: st2}
	n.dht = newDHT(t, n.h)
	n.router = &watchRouter{ContentRouting: n.dht}
	peerNode := newNode(t, testParams())
	connect(t, n, peerNode)
	n.b = newBulk(t, n.h, n.router, st2, testParams())
	for id, data := range want {
		ctx, cancel := context.WithTimeout(t.Context(), time.Second) // no peer has them: local only
		got, err := n.b.Get(ctx, id)
		cancel()
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("Get(%s) after reopen: %d bytes, %v", id, len(got), err)
		}
	}
	waitFor(t, 10*time.Second, "start-up sweep", func() bool { return n.b.Stats().Provided >= uint64(len(want)) })
	for id := range want {
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		provs, err := peerNode.dht.FindProviders(ctx, id)
		cancel()
		if err != nil || !hasPeer(provs, n.h.ID()) {
			t.Fatalf("providers of %s: %v, %v; want the reopened node", id, provs, err)
		}
	}
}

func hasPeer(ais []peer.AddrInfo, p peer.ID) bool {
	for _, ai := range ais {
		if ai.ID == p {
			return true
		}
	}
	return false
}

// TestProvideRetriesUntilRoutingTable: announcements made while the
// routing table is empty are retried, and land once it has a peer.
func TestProvideRetriesUntilRoutingTable(t *testing.T) {
	p := testParams()
	p.ProvideAttempts = 1 // lookup failures on an empty table must not count
	a := newNode(t, p)
	id, err := a.b.Put(t.Context(), []byte("early piece"))
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond) // many failed attempts
	if st := a.b.Stats(); st.Provided != 0 || st.ProvideFailed != 0 {
		t.Fatalf("stats %+v with an empty routing table", st)
	}
	b := newNode(t, testParams())
	connect(t, a, b)
	waitFor(t, 10*time.Second, "announcement", func() bool { return a.b.Stats().Provided >= 1 })
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	provs, err := b.dht.FindProviders(ctx, id)
	if err != nil || !hasPeer(provs, a.h.ID()) {
		t.Fatalf("providers %v, %v; want A", provs, err)
	}
}

// TestReprovideTimer: stored pieces are announced again every
// ReprovideInterval.
func TestReprovideTimer(t *testing.T) {
	p := testParams()
	p.ReprovideInterval = 200 * time.Millisecond
	a, b := newNode(t, p), newNode(t, testParams())
	connect(t, a, b)
	if _, err := a.b.Put(t.Context(), []byte("piece")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "re-announcements", func() bool { return a.b.Stats().Provided >= 4 })
}

// TestNoAnnounce: with NoAnnounce nothing is provided, and fetching still
// works from connected peers.
func TestNoAnnounce(t *testing.T) {
	p := testParams()
	p.NoAnnounce = true
	a, light := newNode(t, testParams()), newNode(t, p)
	connect(t, a, light)
	id, err := a.b.Put(t.Context(), []byte("for the light node"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if _, err := light.b.Get(ctx, id); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	if st := light.b.Stats(); st.Provided != 0 || st.Fetched != 1 {
		t.Fatalf("light node stats %+v", st)
	}
}

// TestClose: Close is idempotent, ends calls with ErrClosed, unblocks a
// Get in flight, removes the protocol handler, and leaves the store open.
func TestClose(t *testing.T) {
	v := newNode(t, testParams())
	id := ComputeCID([]byte("nobody has this"))
	got := make(chan error, 1)
	go func() {
		_, err := v.b.Get(context.Background(), id)
		got <- err
	}()
	time.Sleep(100 * time.Millisecond)
	if err := v.b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := v.b.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-got:
		if err == nil {
			t.Fatal("Get in flight returned no error after Close")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Get in flight not ended by Close")
	}
	if _, err := v.b.Get(t.Context(), id); !errors.Is(err, ErrClosed) {
		t.Fatalf("Get after Close: %v", err)
	}
	if _, err := v.b.Has(t.Context(), id); !errors.Is(err, ErrClosed) {
		t.Fatalf("Has after Close: %v", err)
	}
	for _, p := range v.h.Mux().Protocols() {
		if strings.Contains(string(p), "bitswap") {
			t.Fatalf("protocol %s still handled after Close", p)
		}
	}
	if err := v.st.Datastore().Put(t.Context(), ds.NewKey("/still/open"), []byte{1}); err != nil {
		t.Fatalf("store closed by Bulk.Close: %v", err)
	}
}

func TestParams(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*Params)
		field  string
	}{
		{"default", func(*Params) {}, ""},
		{"empty chain", func(p *Params) { p.ChainID = "" }, "chain_id"},
		{"slash in chain", func(p *Params) { p.ChainID = "a/b" }, "chain_id"},
		{"no workers", func(p *Params) { p.ProvideWorkers = 0 }, "provide_workers"},
		{"too many workers", func(p *Params) { p.ProvideWorkers = 1 << 20 }, "provide_workers"},
		{"no attempt timeout", func(p *Params) { p.FetchAttemptTimeout = 0 }, "fetch_attempt_timeout"},
		{"no ban", func(p *Params) { p.BanDuration = 0 }, "ban_duration"},
		{"no timeout", func(p *Params) { p.ProvideTimeout = 0 }, "provide_timeout"},
		{"no attempts", func(p *Params) { p.ProvideAttempts = 0 }, "provide_attempts"},
		{"retry order", func(p *Params) { p.RetryMax = p.RetryMin / 2 }, "retry"},
		{"no reprovide", func(p *Params) { p.ReprovideInterval = 0 }, "reprovide_interval"},
		{"no search delay", func(p *Params) { p.ProviderSearchDelay = -1 }, "provider_search_delay"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := DefaultParams("tessera-1")
			tc.change(&p)
			err := p.Validate()
			if tc.field == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidParams) || !strings.Contains(err.Error(), tc.field) {
				t.Fatalf("Validate: %v, want ErrInvalidParams naming %s", err, tc.field)
			}
		})
	}
	h := newHost(t)
	if _, err := New(t.Context(), h, nil, ds.NewMapDatastore(), DefaultParams("x")); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("New without a router: %v", err)
	}
	if got := Protocols("tessera-1"); len(got) != 1 || got[0] != "/tessera/tessera-1/ipfs/bitswap/1.2.0" {
		t.Fatalf("Protocols = %v", got)
	}
}

// TestPutPiece: PutPiece stores bytes under the CID they hash to, and
// refuses (storing nothing) bytes of another CID, an oversized piece and a
// CID that is not a piece ID. PieceCID of the digest is ComputeCID.
func TestPutPiece(t *testing.T) {
	v := newNode(t, testParams())
	data := randBytes(t, 10_000)
	c := PieceCID(sha256.Sum256(data))
	if c != ComputeCID(data) {
		t.Fatalf("PieceCID %s, ComputeCID %s", c, ComputeCID(data))
	}
	big := randBytes(t, MaxPieceSize+1)
	for _, tc := range []struct {
		name string
		c    cid.Cid
		data []byte
		want error
	}{
		{"other bytes", c, append(bytes.Clone(data), 0), ErrMismatch},
		{"oversized", ComputeCID(big), big, ErrTooLarge},
		{"not a piece ID", cid.NewCidV1(cid.DagProtobuf, c.Hash()), data, ErrInvalidCID},
		{"undefined", cid.Undef, data, ErrInvalidCID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := v.b.PutPiece(t.Context(), tc.c, tc.data); !errors.Is(err, tc.want) {
				t.Fatalf("PutPiece: %v, want %v", err, tc.want)
			}
			if tc.c.Defined() {
				if has, _ := v.b.Has(t.Context(), tc.c); has {
					t.Fatal("a refused piece was stored")
				}
			}
		})
	}
	if err := v.b.PutPiece(t.Context(), c, data); err != nil {
		t.Fatal(err)
	}
	got, err := v.b.Get(t.Context(), c)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("Get after PutPiece: %d bytes, %v", len(got), err)
	}
}
