package exchange

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/tessera-da/tessera/blob"
	"github.com/tessera-da/tessera/erasure"
	"github.com/tessera-da/tessera/nmt"
	"github.com/tessera-da/tessera/nmt/merkle"
	"github.com/tessera-da/tessera/node/header"
	"github.com/tessera-da/tessera/share"
)

// ClientOptions configures a Client. Every field but OnPeerError must be
// set; start from DefaultClientOptions.
type ClientOptions struct {
	// Timeout bounds a samples or headers request, stream opening
	// included, when the context has no earlier deadline.
	Timeout time.Duration
	// BulkTimeout bounds a row, namespace data, ODS or commitment proof
	// request likewise.
	BulkTimeout time.Duration
	// HedgeAfter is how long SampleFromAny waits for a peer's batch before
	// asking another peer for the same coordinates as well.
	HedgeAfter time.Duration
	// Workers is the number of goroutines ODS verification extends the
	// square with (goroutines).
	Workers int
	// OnPeerError, if set, is called by SampleFromAny for every peer that
	// failed (bad response, timeout, stream failure, refusal) or was
	// overtaken after HedgeAfter, so the caller can score it. It must not
	// block.
	OnPeerError func(peer.ID, error)
}

// DefaultClientOptions returns the defaults: 10 s per samples or headers
// request, 2 min per bulk request, hedging after 250 ms, GOMAXPROCS
// extension workers.
func DefaultClientOptions() ClientOptions {
	return ClientOptions{
		Timeout:     10 * time.Second,
		BulkTimeout: 2 * time.Minute,
		HedgeAfter:  250 * time.Millisecond,
		Workers:     runtime.GOMAXPROCS(0),
	}
}

// Validate reports whether o is usable; errors wrap ErrInvalidOptions.
func (o ClientOptions) Validate() error {
	switch {
	case o.Timeout <= 0 || o.BulkTimeout <= 0 || o.HedgeAfter <= 0:
		return fmt.Errorf("%w: timeouts must be positive (timeout %v, bulk %v, hedge %v)", ErrInvalidOptions, o.Timeout, o.BulkTimeout, o.HedgeAfter)
	case o.Workers < 1 || o.Workers > erasure.MaxWorkers:
		return fmt.Errorf("%w: Workers %d", ErrInvalidOptions, o.Workers)
	}
	return nil
}

// Client requests data from peers and verifies every response against a
// trusted header before returning it. It is safe for concurrent use.
type Client struct {
	h       host.Host
	chainID string
	opts    ClientOptions
	ext     *erasure.Extender
	rx      atomic.Uint64 // response bytes read
}

// NewClient returns a client speaking the protocols of chainID over h.
func NewClient(h host.Host, chainID string, opts ClientOptions) (*Client, error) {
	if err := checkChainID(chainID); err != nil {
		return nil, err
	}
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if h == nil {
		return nil, fmt.Errorf("%w: nil host", ErrInvalidOptions)
	}
	ext, err := erasure.NewExtender(erasure.Params{Workers: opts.Workers}, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidOptions, err)
	}
	return &Client{h: h, chainID: chainID, opts: opts, ext: ext}, nil
}

// request opens a stream to p for protocol name, sends the request frame
// (payload req, type typ) and calls read with the stream's reader. The
// stream's deadline is the earlier of ctx's and now+timeout; cancelling
// ctx resets the stream. Every error is a *PeerError.
func (c *Client) request(ctx context.Context, p peer.ID, name string, typ byte, req []byte, timeout time.Duration, read func(*bufio.Reader) error) error {
	pid := ProtocolID(c.chainID, name)
	deadline := time.Now().Add(timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	st, err := c.h.NewStream(ctx, p, pid)
	if err != nil {
		return peerError(ctx, p, pid, fmt.Errorf("%w: %w", ErrStream, err))
	}
	stop := context.AfterFunc(ctx, func() { _ = st.Reset() })
	defer stop()
	_ = st.SetDeadline(deadline)
	err = c.exchange(st, typ, req, read)
	if err != nil {
		_ = st.Reset()
		return peerError(ctx, p, pid, err)
	}
	_ = st.Close()
	return nil
}

func (c *Client) exchange(st network.Stream, typ byte, req []byte, read func(*bufio.Reader) error) error {
	frame := beginFrame(make([]byte, 0, maxVarintLen+1+len(req)), typ)
	if _, err := st.Write(finishFrame(append(frame, req...))); err != nil {
		return err
	}
	if err := st.CloseWrite(); err != nil {
		return err
	}
	br := getReader(countingReader{st, &c.rx})
	defer putReader(br)
	return read(br)
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n *atomic.Uint64
}

func (c countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(uint64(n))
	return n, err
}

// BytesReceived returns the response bytes the client has read from
// streams so far (frames included; libp2p's stream negotiation, noise and
// yamux overhead not), for bandwidth metrics.
func (c *Client) BytesReceived() uint64 { return c.rx.Load() }

// peerError classifies err (protocol violations and truncation are bad
// responses; deadlines are timeouts; other I/O failures are stream
// failures) and names the peer.
func peerError(ctx context.Context, p peer.ID, pid protocol.ID, err error) *PeerError {
	var te interface{ Timeout() bool }
	switch {
	case errors.Is(err, ErrBadResponse), errors.Is(err, ErrNotFound), errors.Is(err, ErrBusy),
		errors.Is(err, ErrRejected), errors.Is(err, ErrStream) && ctx.Err() == nil:
	case errors.Is(err, errProtocol), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		err = fmt.Errorf("%w: %w", ErrBadResponse, err)
	case ctx.Err() != nil:
		err = fmt.Errorf("%w: %w (%w)", ErrTimeout, ctx.Err(), err)
	case errors.As(err, &te) && te.Timeout():
		err = fmt.Errorf("%w: %w", ErrTimeout, err)
	default:
		err = fmt.Errorf("%w: %w", ErrStream, err)
	}
	return &PeerError{Peer: p, Protocol: pid, Err: err}
}

// badResponse wraps err as a bad response.
func badResponse(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrBadResponse, fmt.Sprintf(format, args...))
}

// Samples asks p for the samples at coords of the block of hdr and verifies
// each against hdr's data root and square width (erasure.VerifySample).
// The result is aligned with coords. When p does not hold some of them,
// their entries are nil and the error wraps ErrNotFound; any sample that
// fails verification makes the whole response an ErrBadResponse. Every
// error but ErrInvalidRequest is a *PeerError.
func (c *Client) Samples(ctx context.Context, p peer.ID, hdr *header.Header, coords []Coord) ([]*erasure.Sample, error) {
	k, err := squareWidth(hdr)
	if err != nil {
		return nil, err
	}
	w := 2 * k
	if len(coords) == 0 || len(coords) > MaxSamplesPerRequest {
		return nil, fmt.Errorf("%w: %d coordinates (1 to %d)", ErrInvalidRequest, len(coords), MaxSamplesPerRequest)
	}
	for _, co := range coords {
		if !co.in(w) {
			return nil, fmt.Errorf("%w: coordinate %s outside width %d", ErrInvalidRequest, co, w)
		}
	}
	req := samplesRequest{height: hdr.Height, coords: coords}.appendTo(make([]byte, 0, samplesRequestBase+4*len(coords)))
	var (
		out     []*erasure.Sample
		missing int
	)
	err = c.request(ctx, p, ProtocolSamples, msgSamplesRequest, req, c.opts.Timeout, func(r *bufio.Reader) (err error) {
		out, missing, err = readSamples(r, hdr, coords)
		return err
	})
	if err != nil {
		return nil, err
	}
	if missing > 0 {
		return out, &PeerError{Peer: p, Protocol: ProtocolID(c.chainID, ProtocolSamples),
			Err: fmt.Errorf("%w: %d of %d samples", ErrNotFound, missing, len(coords))}
	}
	return out, nil
}

// readSamples reads and verifies a samples response to a request for
// coords of hdr's block (width checked by the caller). Missing samples are
// nil and counted.
func readSamples(r *bufio.Reader, hdr *header.Header, coords []Coord) ([]*erasure.Sample, int, error) {
	w := 2 * int(hdr.SquareWidth)
	bp := getBuf()
	defer putBuf(bp)
	payload, err := readFrame(r, msgSamplesResponse, samplesResponseMax(w, len(coords)), *bp)
	if err != nil {
		return nil, 0, err
	}
	st, entries, err := decodeSamplesResponse(payload, w, len(coords))
	if err != nil {
		return nil, 0, err
	}
	if st != statusOK {
		return nil, 0, st.err()
	}
	out := make([]*erasure.Sample, len(coords))
	missing := 0
	for i, e := range entries {
		if e == nil {
			missing++
			continue
		}
		smp, err := erasure.ParseSample(e, w)
		if err == nil {
			err = erasure.VerifySample(hdr.DataRoot[:], w, coords[i].Row, coords[i].Col, smp)
		}
		if err != nil {
			return nil, 0, fmt.Errorf("%w: sample %s: %w", ErrBadResponse, coords[i], err)
		}
		out[i] = smp
	}
	return out, missing, nil
}

// Row asks p for row `row` of the extended square of hdr's block and
// returns its 2k shares (views of one buffer) after checking that they
// rebuild the row root the peer sent and that this root is row `row`'s in
// hdr's data root.
func (c *Client) Row(ctx context.Context, p peer.ID, hdr *header.Header, row int) ([][]byte, error) {
	k, err := squareWidth(hdr)
	if err != nil {
		return nil, err
	}
	w := 2 * k
	if row < 0 || row >= w {
		return nil, fmt.Errorf("%w: row %d outside width %d", ErrInvalidRequest, row, w)
	}
	req := rowRequest{height: hdr.Height, row: row}.appendTo(nil)
	var shares [][]byte
	err = c.request(ctx, p, ProtocolRow, msgRowRequest, req, c.opts.BulkTimeout, func(r *bufio.Reader) (err error) {
		shares, err = readRow(r, hdr, row)
		return err
	})
	return shares, err
}

// readRow reads and verifies a row response for row `row` of hdr's block.
func readRow(r *bufio.Reader, hdr *header.Header, row int) ([][]byte, error) {
	k := int(hdr.SquareWidth)
	w := 2 * k
	payload, err := readFrame(r, msgRowResponse, rowResponseSize(w), nil)
	if err != nil {
		return nil, err
	}
	st, m, err := decodeRowResponse(payload, w)
	if err != nil {
		return nil, err
	}
	if st != statusOK {
		return nil, st.err()
	}
	if err := verifyRow(hdr.DataRoot[:], k, row, m); err != nil {
		return nil, err
	}
	shares := make([][]byte, w)
	for i := range shares {
		shares[i] = m.shares[i*erasure.ShareSize : (i+1)*erasure.ShareSize : (i+1)*erasure.ShareSize]
	}
	return shares, nil
}

// verifyRow checks a row response against the data root: the root's proof,
// then the NMT root of the shares against it.
func verifyRow(dataRoot []byte, k, row int, m rowResponse) error {
	w := 2 * k
	if err := verifyRowRoot(dataRoot, w, row, m.root, m.aunts); err != nil {
		return err
	}
	t := nmt.New(nmt.IgnoreMaxNamespace(true), nmt.SizeHint(w))
	for j := range w {
		cell := m.shares[j*erasure.ShareSize : (j+1)*erasure.ShareSize]
		if err := t.PushNamespaced(erasure.LeafNamespace(k, row, j, cell), cell); err != nil {
			return fmt.Errorf("%w: row %d share %d: %w", ErrBadResponse, row, j, err)
		}
	}
	if !bytes.Equal(t.Root(), m.root) {
		return badResponse("row %d: shares do not rebuild the row root", row)
	}
	return nil
}

// verifyRowRoot checks that root is row `row`'s root in dataRoot, with the
// given proof aunts.
func verifyRowRoot(dataRoot []byte, w, row int, root []byte, aunts [][]byte) error {
	proof, err := merkle.NewProof(int64(2*w), int64(row), merkle.ComputeLeafHash(root), aunts)
	if err == nil {
		err = erasure.VerifyRoot(dataRoot, w, erasure.Row, row, root, proof)
	}
	if err != nil {
		return fmt.Errorf("%w: row %d root: %w", ErrBadResponse, row, err)
	}
	return nil
}

// NamespaceResult is the verified data of one namespace in one block.
type NamespaceResult struct {
	// Rows are the rows whose roots cover the namespace, in order.
	Rows []int
	// Data holds one entry per row of Rows: the namespace's shares in that
	// row with their proof, or an absence proof. It is what
	// blob.ProveNamespaceData returns for the square.
	Data blob.NamespaceData
}

// NamespaceData asks p for all the data of namespace ns in hdr's block
// and verifies it with hdr's data root alone: the row roots the peer sends
// are checked against the data root, they must show that no other row can
// cover ns (see the package docs), and every covering row's data must
// verify against its root with completeness. A namespace in no row gives
// an empty result.
func (c *Client) NamespaceData(ctx context.Context, p peer.ID, hdr *header.Header, ns share.Namespace) (*NamespaceResult, error) {
	if _, err := squareWidth(hdr); err != nil {
		return nil, err
	}
	if ns.IsParity() {
		return nil, fmt.Errorf("%w: the parity namespace has no namespace data", ErrInvalidRequest)
	}
	req := ndRequest{height: hdr.Height, ns: ns}.appendTo(nil)
	var res *NamespaceResult
	err := c.request(ctx, p, ProtocolNamespace, msgNDRequest, req, c.opts.BulkTimeout, func(r *bufio.Reader) (err error) {
		res, err = readNamespace(r, hdr, ns)
		return err
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// readNamespace reads and verifies a namespace data response for ns in
// hdr's block.
func readNamespace(r *bufio.Reader, hdr *header.Header, ns share.Namespace) (*NamespaceResult, error) {
	k := int(hdr.SquareWidth)
	payload, err := readFrame(r, msgNDHead, ndHeadMax(k), nil)
	if err != nil {
		return nil, err
	}
	st, head, err := decodeNDHead(payload, k)
	if err != nil {
		return nil, err
	}
	if st != statusOK {
		return nil, st.err()
	}
	rows, err := verifyNamespaceRoots(hdr.DataRoot[:], k, ns, head)
	if err != nil {
		return nil, err
	}
	res := &NamespaceResult{Rows: rows, Data: make(blob.NamespaceData, len(rows))}
	for i, row := range rows {
		payload, err := readFrame(r, msgNDRow, ndRowMax(k), nil)
		if err != nil {
			return nil, err
		}
		rnd, err := blob.ParseRowNamespaceData(payload)
		if err != nil {
			return nil, fmt.Errorf("%w: row %d: %w", ErrBadResponse, row, err)
		}
		if err := verifyRowNamespaceData(rnd, head.roots[row-head.first], ns, k); err != nil {
			return nil, fmt.Errorf("%w: row %d: %w", ErrBadResponse, row, err)
		}
		res.Data[i] = rnd
	}
	return res, nil
}

// verifyNamespaceRoots checks the row roots of a namespace data head
// against the data root and returns the rows among them that cover ns.
// The rows [first, first+n) must be original rows; unless first is 0 the
// first of them must lie wholly below ns, and unless first+n is k the last
// must lie wholly above it. In a square whose original rows are in
// namespace order (every valid block) no row outside the range can then
// cover ns.
func verifyNamespaceRoots(dataRoot []byte, k int, ns share.Namespace, m ndHead) ([]int, error) {
	w := 2 * k
	n := len(m.roots)
	if n == 0 || m.first < 0 || m.first+n > k {
		return nil, badResponse("namespace rows [%d, %d) outside [0, %d)", m.first, m.first+n, k)
	}
	for i, root := range m.roots {
		if err := verifyRowRoot(dataRoot, w, m.first+i, root, m.aunts[i]); err != nil {
			return nil, err
		}
	}
	nsb := ns.Bytes()
	if m.first > 0 && bytes.Compare(nmt.MaxNamespace(m.roots[0]), nsb) >= 0 {
		return nil, badResponse("namespace rows start at %d, whose root does not lie below the namespace", m.first)
	}
	if m.first+n < k && bytes.Compare(nmt.MinNamespace(m.roots[n-1]), nsb) <= 0 {
		return nil, badResponse("namespace rows end at %d, whose root does not lie above the namespace", m.first+n-1)
	}
	var rows []int
	for i, root := range m.roots {
		if bytes.Compare(nsb, nmt.MinNamespace(root)) >= 0 && bytes.Compare(nsb, nmt.MaxNamespace(root)) <= 0 {
			rows = append(rows, m.first+i)
		}
	}
	return rows, nil
}

// verifyRowNamespaceData checks r as the data of ns in the row with the
// given (verified) root of a square of ODS width k, as
// blob.RowNamespaceData.Verify does with a DAH: a namespace proof with
// completeness over the leaves ns ‖ share within the row's original half,
// or an absence proof when there are no shares.
func verifyRowNamespaceData(r blob.RowNamespaceData, root []byte, ns share.Namespace, k int) error {
	proof := r.Proof()
	if proof.IsEmpty() {
		return fmt.Errorf("%w: empty proof", blob.ErrInvalidProof)
	}
	if proof.IsAbsence() != (r.NumShares() == 0) {
		return fmt.Errorf("%w: %d shares with an absence proof: %v", blob.ErrInvalidProof, r.NumShares(), proof.IsAbsence())
	}
	if proof.End() > k {
		return fmt.Errorf("%w: proof range [%d, %d) leaves the original half", blob.ErrInvalidProof, proof.Start(), proof.End())
	}
	nsb := ns.Bytes()
	if bytes.Compare(nsb, nmt.MinNamespace(root)) < 0 || bytes.Compare(nsb, nmt.MaxNamespace(root)) > 0 {
		return fmt.Errorf("%w: %w", blob.ErrInvalidProof, blob.ErrNamespaceOutsideRange)
	}
	// Each leaf is the share prefixed with its own namespace, as the row
	// tree holds it; VerifyNamespace checks that it is ns.
	shares := r.Shares()
	leaves := make([][]byte, len(shares))
	for i, s := range shares {
		leaves[i] = append(append(make([]byte, 0, erasure.NamespaceSize+len(s)), s[:erasure.NamespaceSize]...), s...)
	}
	if err := proof.VerifyNamespace(root, nsb, leaves...); err != nil {
		return fmt.Errorf("%w: %w", blob.ErrInvalidProof, err)
	}
	return nil
}

// ODS asks p for the original data square of hdr's block and returns its
// k²·ShareSize bytes, row-major, after extending it and checking that the
// extended square's data root is hdr's.
func (c *Client) ODS(ctx context.Context, p peer.ID, hdr *header.Header) ([]byte, error) {
	ods, _, _, err := c.fetchODS(ctx, p, hdr)
	return ods, err
}

// Square is ODS returning the verified extended square and its DAH as
// well, which a full node stores and serves.
func (c *Client) Square(ctx context.Context, p peer.ID, hdr *header.Header) (*erasure.ExtendedSquare, *erasure.DAH, error) {
	_, eds, dah, err := c.fetchODS(ctx, p, hdr)
	return eds, dah, err
}

func (c *Client) fetchODS(ctx context.Context, p peer.ID, hdr *header.Header) ([]byte, *erasure.ExtendedSquare, *erasure.DAH, error) {
	if _, err := squareWidth(hdr); err != nil {
		return nil, nil, nil, err
	}
	req := odsRequest{height: hdr.Height}.appendTo(nil)
	var (
		ods []byte
		eds *erasure.ExtendedSquare
		dah *erasure.DAH
	)
	err := c.request(ctx, p, ProtocolODS, msgODSRequest, req, c.opts.BulkTimeout, func(r *bufio.Reader) (err error) {
		ods, eds, dah, err = readODS(r, hdr, c.ext)
		return err
	})
	if err != nil {
		return nil, nil, nil, err
	}
	return ods, eds, dah, nil
}

// readODS reads an ODS response for hdr's block and verifies it by
// extending it with ext and comparing the data root.
func readODS(r *bufio.Reader, hdr *header.Header, ext *erasure.Extender) ([]byte, *erasure.ExtendedSquare, *erasure.DAH, error) {
	k := int(hdr.SquareWidth)
	var head [odsHeadSize]byte
	payload, err := readFrame(r, msgODSHead, odsHeadSize, head[:])
	if err != nil {
		return nil, nil, nil, err
	}
	st, gk, err := decodeODSHead(payload)
	if err != nil {
		return nil, nil, nil, err
	}
	if st != statusOK {
		return nil, nil, nil, st.err()
	}
	if gk != k {
		return nil, nil, nil, badResponse("ODS width %d, header says %d", gk, k)
	}
	// Sized from the trusted header, then read straight into.
	ods := make([]byte, k*k*erasure.ShareSize)
	if err := readFrameInto(r, msgODSData, ods); err != nil {
		return nil, nil, nil, err
	}
	eds, err := ext.ExtendFlat(ods)
	var dah *erasure.DAH
	if err == nil {
		dah, err = ext.ComputeDAH(eds)
	}
	if err != nil {
		return nil, nil, nil, fmt.Errorf("%w: ODS does not extend: %w", ErrBadResponse, err)
	}
	if !bytes.Equal(dah.Hash(), hdr.DataRoot[:]) {
		return nil, nil, nil, badResponse("ODS data root %x, header says %x", dah.Hash(), hdr.DataRoot[:])
	}
	return ods, eds, dah, nil
}

// Headers asks p for the headers at heights from..to (inclusive, at most
// MaxHeadersPerRequest). The peer may return fewer (a prefix of the range,
// when its chain ends sooner); they are decoded and their heights checked,
// but the caller verifies signatures and the chain.
func (c *Client) Headers(ctx context.Context, p peer.ID, from, to uint64) ([]*header.Header, error) {
	m := headersRequest{from: from, to: to}
	if !m.valid() {
		return nil, fmt.Errorf("%w: headers [%d, %d] (1 ≤ from ≤ to, at most %d)", ErrInvalidRequest, from, to, MaxHeadersPerRequest)
	}
	var out []*header.Header
	err := c.request(ctx, p, ProtocolHeaders, msgHeadersRequest, m.appendTo(nil), c.opts.Timeout, func(r *bufio.Reader) error {
		bp := getBuf()
		defer putBuf(bp)
		payload, err := readFrame(r, msgHeadersResponse, headersResponseMax(m.count()), *bp)
		if err != nil {
			return err
		}
		st, hs, err := decodeHeadersResponse(payload, m.count())
		if err != nil {
			return err
		}
		if st != statusOK {
			return st.err()
		}
		for i, h := range hs {
			if h.Height != from+uint64(i) {
				return badResponse("header %d has height %d, want %d", i, h.Height, from+uint64(i))
			}
		}
		out = hs
		return nil
	})
	return out, err
}

// CommitmentProof asks p for the commitment proof of the blob with share
// commitment com in namespace ns of hdr's block and returns it once it
// verifies against hdr's data root (blob.CommitmentProof.Verify) and is
// for hdr's square width. A proof that does not verify is a bad response
// (IsBadPeer). Every error but ErrInvalidRequest is a *PeerError.
func (c *Client) CommitmentProof(ctx context.Context, p peer.ID, hdr *header.Header, ns share.Namespace, com blob.Commitment) (*blob.CommitmentProof, error) {
	if _, err := squareWidth(hdr); err != nil {
		return nil, err
	}
	if ns.IsParity() {
		return nil, fmt.Errorf("%w: the parity namespace holds no blobs", ErrInvalidRequest)
	}
	if len(com) != blob.CommitmentSize {
		return nil, fmt.Errorf("%w: commitment of %d bytes, want %d", ErrInvalidRequest, len(com), blob.CommitmentSize)
	}
	req := cpRequest{height: hdr.Height, ns: ns, c: com}.appendTo(make([]byte, 0, cpRequestSize))
	var cp *blob.CommitmentProof
	err := c.request(ctx, p, ProtocolCommitment, msgCPRequest, req, c.opts.BulkTimeout, func(r *bufio.Reader) (err error) {
		cp, err = readCommitmentProof(r, hdr, ns, com)
		return err
	})
	if err != nil {
		return nil, err
	}
	return cp, nil
}

// readCommitmentProof reads a commitment proof response and verifies the
// proof for (ns, com) against hdr's data root and square width.
func readCommitmentProof(r *bufio.Reader, hdr *header.Header, ns share.Namespace, com blob.Commitment) (*blob.CommitmentProof, error) {
	k := int(hdr.SquareWidth)
	payload, err := readFrame(r, msgCPResponse, cpResponseMax(k), nil)
	if err != nil {
		return nil, err
	}
	st, cp, err := decodeCPResponse(payload)
	if err != nil {
		return nil, err
	}
	if st != statusOK {
		return nil, st.err()
	}
	if err := verifyCommitmentProof(cp, hdr, ns, com); err != nil {
		return nil, err
	}
	return cp, nil
}

// verifyCommitmentProof checks a received commitment proof against the
// trusted header: it must verify against the data root and its row proofs
// must be for a square of the header's width. Errors wrap ErrBadResponse.
func verifyCommitmentProof(cp *blob.CommitmentProof, hdr *header.Header, ns share.Namespace, com blob.Commitment) error {
	if err := cp.Verify(hdr.DataRoot[:], ns, com); err != nil {
		return fmt.Errorf("%w: commitment proof: %w", ErrBadResponse, err)
	}
	if total := cp.RowProof().Proofs()[0].Total(); total != 4*int64(hdr.SquareWidth) {
		return badResponse("commitment proof for a square of %d row and column roots, header says width %d", total, hdr.SquareWidth)
	}
	return nil
}
