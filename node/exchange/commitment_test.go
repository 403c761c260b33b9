package exchange

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/tessera-da/tessera/blob"
	"github.com/tessera-da/tessera/erasure"
	"github.com/tessera-da/tessera/node/header"
	"github.com/tessera-da/tessera/share"
)

// placedBlob is a blob of a test block: where it lies and what it commits
// to.
type placedBlob struct {
	ns         share.Namespace
	commitment blob.Commitment
	start, n   int // original-square share index and share count
}

// blobNS returns a version-0 namespace blobs may use.
func blobNS(j int) share.Namespace {
	ns, err := share.NewV0Namespace([]byte{0x42, byte(j)})
	if err != nil {
		panic(err)
	}
	return ns
}

// blobBlock builds a block at height from real blobs: per transaction,
// blobs of the given sizes (bytes), blob j of every transaction in
// namespace blobNS(j), so namespaces hold several blobs.
func blobBlock(tb testing.TB, height uint64, maxWidth int, sizes [][]int) (*block, []placedBlob) {
	tb.Helper()
	rng := rand.New(rand.NewPCG(height, 99))
	data := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	txs := []share.ClassifiedTx{{Bytes: data(100)}}
	var all [][]*share.Blob
	for _, tx := range sizes {
		var bs []*share.Blob
		for j, n := range tx {
			b, err := share.NewV0Blob(blobNS(j), data(n))
			if err != nil {
				tb.Fatal(err)
			}
			bs = append(bs, b)
		}
		raw, err := share.MarshalBlobTx(data(50), bs...)
		if err != nil {
			tb.Fatal(err)
		}
		txs = append(txs, share.ClassifiedTx{Bytes: raw})
		all = append(all, bs)
	}
	sq, lay, err := share.ConstructClassified(txs, maxWidth, share.SubtreeRootThreshold)
	if err != nil {
		tb.Fatal(err)
	}
	e, err := erasure.NewExtender(erasure.Params{Workers: 2}, nil)
	if err != nil {
		tb.Fatal(err)
	}
	ods := sq.Bytes()
	eds, err := e.ExtendFlat(ods)
	if err != nil {
		tb.Fatal(err)
	}
	dah, err := e.ComputeDAH(eds)
	if err != nil {
		tb.Fatal(err)
	}
	k := eds.ODSWidth()
	hdr := &header.Header{ChainID: testChain, Height: height, Time: time.Unix(1700000000+int64(height), 0).UTC(), SquareWidth: uint32(k)}
	copy(hdr.DataRoot[:], dah.Hash())
	hdr.Sign(testKey)
	var out []placedBlob
	for i, bs := range all {
		for j, b := range bs {
			c, err := blob.ComputeCommitment(b, share.SubtreeRootThreshold)
			if err != nil {
				tb.Fatal(err)
			}
			pl := lay.BlobsByTx[i][j]
			out = append(out, placedBlob{ns: b.Namespace(), commitment: c, start: pl.Start, n: pl.ShareCount})
		}
	}
	return &block{k: k, ods: ods, eds: eds, dah: dah, hdr: hdr}, out
}

// testBlobSizes puts small blobs, blobs spanning two rows and one
// spanning many rows in a square of width 16; namespaces blobNS(0) and blobNS(1) hold
// several blobs each.
var testBlobSizes = [][]int{{100, 5000}, {2000, 30}, {40000}, {1}}

// locatorSource is a memSource that indexes blobs (BlobLocator), possibly
// wrongly.
type locatorSource struct {
	*memSource
	blobs map[uint64][]placedBlob
	shift int // added to every start: a corrupt index
}

func (s *locatorSource) LocateBlob(height uint64, ns share.Namespace, c blob.Commitment) (int, int, error) {
	for _, p := range s.blobs[height] {
		if p.ns == ns && bytes.Equal(p.commitment, c) {
			return p.start + s.shift, p.n, nil
		}
	}
	return 0, 0, fmt.Errorf("%w: no such blob", ErrNotFound)
}

// TestCommitmentProofRoundTrip: for every blob of a block, the proof a
// server sends (found by scanning the square, or through a BlobLocator)
// verifies, equals blob.ProveCommitment's, and is returned; blobs and
// heights the server lacks are ErrNotFound; invalid arguments are refused
// before anything is sent.
func TestCommitmentProofRoundTrip(t *testing.T) {
	b, blobs := blobBlock(t, 1, 16, testBlobSizes)
	if b.k != 16 {
		t.Fatalf("test block of width %d, want 16", b.k)
	}
	scan := newMemSource(b)
	loc := &locatorSource{memSource: newMemSource(b), blobs: map[uint64][]placedBlob{1: blobs}}
	n := newNetwork(t, testClientOptions(), scan, loc)
	ctx := testCtx(t, 20*time.Second)
	for si, p := range n.peers() {
		for i, pb := range blobs {
			t.Run(fmt.Sprintf("server %d/blob %d", si, i), func(t *testing.T) {
				cp, err := n.client.CommitmentProof(ctx, p, b.hdr, pb.ns, pb.commitment)
				if err != nil {
					t.Fatal(err)
				}
				if err := cp.Verify(b.hdr.DataRoot[:], pb.ns, pb.commitment); err != nil {
					t.Fatal(err)
				}
				want, err := blob.ProveCommitment(b.eds, b.dah, pb.start, pb.n)
				if err != nil {
					t.Fatal(err)
				}
				gj, _ := cp.MarshalJSON()
				wj, _ := want.MarshalJSON()
				if !bytes.Equal(gj, wj) {
					t.Fatal("proof differs from blob.ProveCommitment's")
				}
			})
		}
	}
	other := blob.Commitment(bytes.Repeat([]byte{7}, blob.CommitmentSize))
	h2 := *b.hdr
	h2.Height = 9
	notFound := []struct {
		name string
		hdr  *header.Header
		ns   share.Namespace
		c    blob.Commitment
	}{
		{"unknown commitment", b.hdr, blobs[0].ns, other},
		{"commitment in another namespace", b.hdr, nsID(3), blobs[0].commitment},
		{"namespace of another blob", b.hdr, blobs[1].ns, blobs[0].commitment},
		{"height not held", &h2, blobs[0].ns, blobs[0].commitment},
	}
	for _, tc := range notFound {
		for _, p := range n.peers() {
			_, err := n.client.CommitmentProof(ctx, p, tc.hdr, tc.ns, tc.c)
			wantPeerError(t, err, p, ErrNotFound)
		}
	}
	invalid := []struct {
		name string
		hdr  *header.Header
		ns   share.Namespace
		c    blob.Commitment
	}{
		{"nil header", nil, blobs[0].ns, blobs[0].commitment},
		{"short commitment", b.hdr, blobs[0].ns, blobs[0].commitment[:31]},
		{"parity namespace", b.hdr, share.ParityNamespace, blobs[0].commitment},
	}
	for _, tc := range invalid {
		if _, err := n.client.CommitmentProof(ctx, n.peers()[0], tc.hdr, tc.ns, tc.c); !errors.Is(err, ErrInvalidRequest) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	// A corrupt index makes the server answer internal error, not a
	// proof of something else.
	bad := &locatorSource{memSource: newMemSource(b), blobs: map[uint64][]placedBlob{1: blobs}, shift: 1}
	n2 := newNetwork(t, testClientOptions(), bad)
	_, err := n2.client.CommitmentProof(ctx, n2.peers()[0], b.hdr, blobs[2].ns, blobs[2].commitment)
	wantPeerError(t, err, n2.peers()[0], ErrRejected)
}

// TestScanBlob: the scan finds every blob at its placement, and nothing
// for a commitment or namespace that is not there.
func TestScanBlob(t *testing.T) {
	b, blobs := blobBlock(t, 1, 16, testBlobSizes)
	for i, pb := range blobs {
		start, n, err := scanBlob(b.eds, b.dah, pb.ns, pb.commitment)
		if err != nil || start != pb.start || n != pb.n {
			t.Errorf("blob %d: (%d, %d, %v), want (%d, %d)", i, start, n, err, pb.start, pb.n)
		}
	}
	if _, _, err := scanBlob(b.eds, b.dah, nsID(200), blobs[0].commitment); !errors.Is(err, ErrNotFound) {
		t.Errorf("absent namespace: %v", err)
	}
	if _, _, err := scanBlob(b.eds, b.dah, blobs[0].ns, blobs[1].commitment); !errors.Is(err, ErrNotFound) {
		t.Errorf("commitment of another namespace: %v", err)
	}
}

// cpHonest returns an honest server's response to a commitment proof
// request.
func cpHonest(s *Server, height uint64, pb placedBlob) []byte {
	return honestResponse(s, ProtocolCommitment, cpRequest{height: height, ns: pb.ns, c: pb.commitment}.appendTo(nil))
}

// TestCommitmentProofLiars: a peer whose answer is malformed, oversized,
// truncated, or a proof that does not verify for the blob asked for is a
// bad peer (IsBadPeer), named in the error; a stall is a timeout.
func TestCommitmentProofLiars(t *testing.T) {
	b, blobs := blobBlock(t, 1, 16, testBlobSizes)
	b2, blobs2 := blobBlock(t, 2, 16, testBlobSizes)
	src := newMemSource(b, b2)
	s := &Server{src: src, opts: testServerOptions(), trees: newTreeCache(1 << 30)}
	ch := newHost(t, nil)
	c, err := NewClient(ch, testChain, testClientOptions())
	if err != nil {
		t.Fatal(err)
	}
	target := blobs[2] // spans several rows
	replace := func(resp []byte) lie { return func([]byte) []byte { return resp } }
	// A proof of a blob of another width: the same blob laid out in a
	// wider square does not verify against this header.
	wide, wideBlobs := blobBlock(t, 1, 64, append(testBlobSizes, []int{60000}, []int{60000}))
	wideSrv := &Server{src: newMemSource(wide), opts: testServerOptions(), trees: newTreeCache(1 << 30)}
	cases := []struct {
		name string
		lie  lie
		want error
	}{
		{"proof of another blob", replace(cpHonest(s, 1, blobs[0])), ErrBadResponse},
		{"proof of another blob in the namespace", replace(cpHonest(s, 1, blobs[3])), ErrBadResponse},
		{"proof of the blob in another block", replace(cpHonest(s, 2, blobs2[2])), ErrBadResponse},
		{"proof from a square of another width", replace(cpHonest(wideSrv, 1, wideBlobs[2])), ErrBadResponse},
		{"bad subtree root", inFrame(0, func(p []byte) []byte {
			i := bytes.Index(p, []byte(`"subtree_roots":["`)) + len(`"subtree_roots":["`) + 60
			p[i] ^= 0x01
			return p
		}), ErrBadResponse},
		{"bad row root proof", inFrame(0, func(p []byte) []byte {
			i := bytes.Index(p, []byte(`"aunts":["`)) + len(`"aunts":["`) + 3
			p[i] ^= 0x01
			return p
		}), ErrBadResponse},
		{"invalid proof encoding", inFrame(0, func(p []byte) []byte { return append(p[:2], '{') }), ErrBadResponse},
		{"no proof", inFrame(0, func(p []byte) []byte { return p[:2] }), ErrBadResponse},
		{"trailing bytes", inFrame(0, func(p []byte) []byte { return append(p, '}') }), ErrBadResponse},
		{"status with body", inFrame(0, func(p []byte) []byte { p[1] = byte(statusNotFound); return p }), ErrBadResponse},
		{"unknown status", replace(join([][]byte{{msgCPResponse, 9}})), ErrBadResponse},
		{"wrong message type", flip(0, 0), ErrBadResponse},
		{"truncated", truncate, ErrBadResponse},
		{"nothing", replace([]byte{}), ErrBadResponse},
		{"oversized length prefix", oversized, ErrBadResponse},
		{"length just over the cap", func(honest []byte) []byte {
			n := cpResponseMax(b.k) + 1
			return append(binary.AppendUvarint(nil, uint64(n)), msgCPResponse, 0, '{')
		}, ErrBadResponse},
		{"garbage", garbage, ErrBadResponse},
		{"stall", stall, ErrTimeout},
		{"busy", replace(statusFrame(nil, msgCPResponse, statusBusy)), ErrBusy},
		{"not found", replace(statusFrame(nil, msgCPResponse, statusNotFound)), ErrNotFound},
		{"bad request", replace(statusFrame(nil, msgCPResponse, statusBadRequest)), ErrRejected},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newLiar(t, ch, src, ProtocolCommitment, tc.lie)
			ctx := testCtx(t, 5*time.Second)
			if tc.want == ErrTimeout {
				ctx = testCtx(t, 300*time.Millisecond)
			}
			cp, err := c.CommitmentProof(ctx, h.ID(), b.hdr, target.ns, target.commitment)
			if cp != nil {
				t.Fatal("a proof returned with an error")
			}
			wantPeerError(t, err, h.ID(), tc.want)
			if IsBadPeer(err) != (tc.want == ErrBadResponse) {
				t.Fatalf("IsBadPeer(%v) = %v", err, IsBadPeer(err))
			}
		})
	}
	t.Run("honest through the harness", func(t *testing.T) {
		h := newLiar(t, ch, src, ProtocolCommitment, func(b []byte) []byte { return b })
		if _, err := c.CommitmentProof(testCtx(t, 5*time.Second), h.ID(), b.hdr, target.ns, target.commitment); err != nil {
			t.Fatal(err)
		}
	})
}

// TestCommitmentProofMutations: the honest response passes, and for
// every single-byte change (two bit flips per byte) of it the client
// either fails with ErrBadResponse or returns a proof meaning exactly
// the honest one (JSON accepts some spellings as the same: key case,
// unused base64 padding bits). No other proof ever comes back.
func TestCommitmentProofMutations(t *testing.T) {
	b, blobs := blobBlock(t, 1, 16, testBlobSizes)
	s := &Server{src: newMemSource(b), opts: testServerOptions(), trees: newTreeCache(1 << 30)}
	for _, pb := range []placedBlob{blobs[0], blobs[2]} {
		honest := cpHonest(s, 1, pb)
		read := func(resp []byte) (*blob.CommitmentProof, error) {
			return readCommitmentProof(bufio.NewReader(bytes.NewReader(resp)), b.hdr, pb.ns, pb.commitment)
		}
		cp, err := read(honest)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := cp.MarshalJSON()
		for i := range honest {
			for _, bit := range []byte{0x01, 0x20} {
				m := bytes.Clone(honest)
				m[i] ^= bit
				got, err := read(m)
				if err != nil {
					// As Client.request classifies it.
					err = peerError(context.Background(), "", "", err)
					if !errors.Is(err, ErrBadResponse) && !errors.Is(err, ErrNotFound) &&
						!errors.Is(err, ErrBusy) && !errors.Is(err, ErrRejected) {
						t.Fatalf("byte %d bit %x: unclassified error %v", i, bit, err)
					}
					continue
				}
				if gj, _ := got.MarshalJSON(); !bytes.Equal(gj, want) {
					t.Fatalf("byte %d bit %x: a different proof was accepted", i, bit)
				}
			}
		}
		for cut := range len(honest) {
			if _, err := read(honest[:cut]); err == nil {
				t.Fatalf("response cut at %d accepted", cut)
			}
		}
	}
}

// TestCommitmentProofCap: honest proofs of blobs spanning every row of
// the largest test square stay well within the cap, and the cap never
// exceeds MaxCommitmentProofSize.
func TestCommitmentProofCap(t *testing.T) {
	b, blobs := blobBlock(t, 1, 64, [][]int{{100}, {1_500_000}})
	s := &Server{src: newMemSource(b), opts: testServerOptions(), trees: newTreeCache(1 << 30)}
	for _, pb := range blobs {
		resp := cpHonest(s, 1, pb)
		if f := frames(resp); len(f) != 1 || f[0][1] != byte(statusOK) {
			t.Fatalf("blob of %d shares: not an ok response", pb.n)
		}
		if max := cpResponseMax(b.k); len(resp) > max/2 {
			t.Errorf("blob of %d shares in a square of width %d: %d bytes, cap %d", pb.n, b.k, len(resp), max)
		}
	}
	for k := 1; k <= MaxODSWidth; k *= 2 {
		if m := cpResponseMax(k); m > MaxCommitmentProofSize || m < 1<<16 {
			t.Errorf("cap at k=%d: %d", k, m)
		}
	}
}

// TestCommitmentProofMemoryBounded: a declared length far over the cap is
// refused before anything is allocated for it.
func TestCommitmentProofMemoryBounded(t *testing.T) {
	b, blobs := blobBlock(t, 1, 16, testBlobSizes)
	ch := newHost(t, nil)
	c, err := NewClient(ch, testChain, testClientOptions())
	if err != nil {
		t.Fatal(err)
	}
	h := newLiar(t, ch, newMemSource(b), ProtocolCommitment, func([]byte) []byte { return binary.AppendUvarint(nil, 1<<34) })
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err = c.CommitmentProof(testCtx(t, 5*time.Second), h.ID(), b.hdr, blobs[0].ns, blobs[0].commitment)
	runtime.ReadMemStats(&after)
	wantPeerError(t, err, h.ID(), ErrBadResponse)
	if d := after.TotalAlloc - before.TotalAlloc; d > 8<<20 {
		t.Errorf("%d bytes allocated for a 16 GiB declared length", d)
	}
}

// TestCommitmentProofFromAnyPeerOrder: a caller trying peers in turn gets
// the proof from the honest one after a liar, and learns the liar is bad.
func TestCommitmentProofFromAnyPeerOrder(t *testing.T) {
	b, blobs := blobBlock(t, 1, 16, testBlobSizes)
	src := newMemSource(b)
	n := newNetwork(t, testClientOptions(), src)
	s := &Server{src: src, opts: testServerOptions(), trees: newTreeCache(1 << 30)}
	liar := newLiar(t, n.ch, src, ProtocolCommitment, func([]byte) []byte { return cpHonest(s, 1, blobs[1]) })
	ctx := testCtx(t, 10*time.Second)
	var bad []peer.ID
	var got *blob.CommitmentProof
	for _, p := range []peer.ID{liar.ID(), n.peers()[0]} {
		cp, err := n.client.CommitmentProof(ctx, p, b.hdr, blobs[0].ns, blobs[0].commitment)
		if IsBadPeer(err) {
			bad = append(bad, p)
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		got = cp
		break
	}
	if got == nil || len(bad) != 1 || bad[0] != liar.ID() {
		t.Fatalf("proof %v, bad peers %v", got != nil, bad)
	}
}

func FuzzDecodeCPRequest(f *testing.F) {
	f.Add(cpRequest{height: 3, ns: blobNS(1), c: bytes.Repeat([]byte{1}, blob.CommitmentSize)}.appendTo(nil))
	f.Add(append(binary.BigEndian.AppendUint64(nil, 1), make([]byte, share.NamespaceSize+blob.CommitmentSize)...))
	f.Fuzz(func(t *testing.T, p []byte) {
		m, err := decodeCPRequest(p)
		if err != nil {
			return
		}
		if !bytes.Equal(m.appendTo(nil), p) {
			t.Fatal("accepted request does not re-encode to itself")
		}
	})
}

// FuzzDecodeCPResponse feeds arbitrary payloads to the response decoder
// and the client's verification: nothing panics, and nothing but the
// honest proof of the blob asked for is ever accepted.
func FuzzDecodeCPResponse(f *testing.F) {
	b, blobs := blobBlock(f, 1, 16, testBlobSizes)
	s := &Server{src: newMemSource(b), opts: testServerOptions(), trees: newTreeCache(1 << 30)}
	target := blobs[2]
	honest, err := blob.ProveCommitment(b.eds, b.dah, target.start, target.n)
	if err != nil {
		f.Fatal(err)
	}
	want, _ := honest.MarshalJSON()
	f.Add(payloadOf(cpHonest(s, 1, target), 0))
	f.Add(payloadOf(cpHonest(s, 1, blobs[0]), 0))
	f.Add([]byte{byte(statusNotFound)})
	f.Add([]byte{byte(statusOK), '{', '}'})
	f.Fuzz(func(t *testing.T, p []byte) {
		if len(p)+2 > cpResponseMax(b.k) {
			return // the frame reader refuses it
		}
		st, cp, err := decodeCPResponse(p)
		if err != nil || st != statusOK {
			return
		}
		if verifyCommitmentProof(cp, b.hdr, target.ns, target.commitment) != nil {
			return
		}
		if got, _ := cp.MarshalJSON(); !bytes.Equal(got, want) {
			t.Fatal("a proof other than the honest one verified")
		}
	})
}

// BenchmarkCommitmentProof measures one commitment proof round trip on
// loopback for a blob spanning several rows of a k = 16 square, found
// through a BlobLocator (as a full node serves) and by scanning.
func BenchmarkCommitmentProof(b *testing.B) {
	blk, blobs := blobBlock(b, 1, 16, testBlobSizes)
	target := blobs[2]
	for _, tc := range []struct {
		name string
		src  Source
	}{
		{"locator", &locatorSource{memSource: newMemSource(blk), blobs: map[uint64][]placedBlob{1: blobs}}},
		{"scan", newMemSource(blk)},
	} {
		b.Run(tc.name, func(b *testing.B) {
			n := newNetwork(b, testClientOptions(), tc.src)
			ctx := testCtx(b, time.Minute)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := n.client.CommitmentProof(ctx, n.peers()[0], blk.hdr, target.ns, target.commitment); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
