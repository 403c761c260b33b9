package exchange

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
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

// Source supplies the data a Server serves. It must be safe for concurrent
// use.
type Source interface {
	// Square returns the extended square at height and its DAH, or an
	// error wrapping ErrNotFound when the node does not hold it. The square
	// must match the DAH (the server checks each row it proves from and
	// answers statusInternal otherwise) and must not change while the
	// server may read it. Return the same *DAH for a height while it is
	// cached: the server recognises a square by its DAH pointer and
	// otherwise recomputes the data root to tell whether it changed.
	Square(height uint64) (*erasure.ExtendedSquare, *erasure.DAH, error)
	// Headers returns the headers it holds at heights from..to
	// (inclusive, from ≤ to, at most MaxHeadersPerRequest), in order and
	// starting at from; fewer when the range runs past what it holds; an
	// error wrapping ErrNotFound when it holds none of them.
	Headers(from, to uint64) ([]*header.Header, error)
}

// SampleSource is implemented by a Source that can hold single samples
// without their square (a light node serving the samples it verified).
// When Square returns ErrNotFound, the server answers a samples request
// coordinate by coordinate from Sample, and "don't have" for each
// coordinate where Sample returns an error.
type SampleSource interface {
	Sample(height uint64, row, col int) (*erasure.Sample, error)
}

// BlobLocator is implemented by a Source that indexes the blobs of the
// squares it holds. The server then finds the blob a commitment proof
// request names through it; otherwise it scans the namespace's shares in
// the square and computes their blobs' commitments.
type BlobLocator interface {
	// LocateBlob returns the original-square index (row·k + col) of the
	// first share of the blob with commitment c in namespace ns at height,
	// and its share count, or an error wrapping ErrNotFound.
	LocateBlob(height uint64, ns share.Namespace, c blob.Commitment) (start, shareCount int, err error)
}

// ServerOptions configures a Server. Every field must be set; start from
// DefaultServerOptions.
type ServerOptions struct {
	// ReadTimeout bounds the time to receive a request.
	ReadTimeout time.Duration
	// WriteTimeout bounds the time to send a samples or headers response.
	WriteTimeout time.Duration
	// BulkWriteTimeout bounds the time to send a row, namespace data,
	// ODS or commitment proof response.
	BulkWriteTimeout time.Duration
	// MaxStreams bounds the requests answered at once (requests); more
	// are answered "busy".
	MaxStreams int
	// MaxStreamsPerPeer bounds the requests of one peer answered at once
	// (requests); more are answered "busy".
	MaxStreamsPerPeer int
	// TreeCacheBytes bounds the memory of the cached row trees used to
	// prove samples (bytes). A whole square's trees take about
	// 2k·k·nmt.NodeSize bytes (47 MB at k = 512); the square being served
	// is kept even if it alone exceeds the budget.
	TreeCacheBytes int64
}

// DefaultServerOptions returns the defaults: 5 s to read a request, 10 s
// to write a samples or headers response, 2 min for bulk responses, 1024
// requests at once and 32 per peer, 256 MiB of row trees.
func DefaultServerOptions() ServerOptions {
	return ServerOptions{
		ReadTimeout:       5 * time.Second,
		WriteTimeout:      10 * time.Second,
		BulkWriteTimeout:  2 * time.Minute,
		MaxStreams:        1024,
		MaxStreamsPerPeer: 32,
		TreeCacheBytes:    256 << 20,
	}
}

// Validate reports whether o is usable; errors wrap ErrInvalidOptions.
func (o ServerOptions) Validate() error {
	switch {
	case o.ReadTimeout <= 0 || o.WriteTimeout <= 0 || o.BulkWriteTimeout <= 0:
		return fmt.Errorf("%w: timeouts must be positive (read %v, write %v, bulk %v)", ErrInvalidOptions, o.ReadTimeout, o.WriteTimeout, o.BulkWriteTimeout)
	case o.MaxStreams < 1 || o.MaxStreamsPerPeer < 1 || o.MaxStreamsPerPeer > o.MaxStreams:
		return fmt.Errorf("%w: MaxStreams %d, MaxStreamsPerPeer %d (want 1 ≤ per peer ≤ total)", ErrInvalidOptions, o.MaxStreams, o.MaxStreamsPerPeer)
	case o.TreeCacheBytes < 0:
		return fmt.Errorf("%w: TreeCacheBytes %d", ErrInvalidOptions, o.TreeCacheBytes)
	}
	return nil
}

// Server answers the exchange protocols from a Source. It is safe for
// concurrent use; every stream is handled on libp2p's goroutine for it.
type Server struct {
	h       host.Host
	chainID string
	src     Source
	opts    ServerOptions
	trees   *treeCache
	closed  atomic.Bool

	mu      sync.Mutex
	active  int
	perPeer map[peer.ID]int
}

// NewServer registers handlers for every protocol (see Protocols) on h.
func NewServer(h host.Host, chainID string, src Source, opts ServerOptions) (*Server, error) {
	if err := checkChainID(chainID); err != nil {
		return nil, err
	}
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if h == nil || src == nil {
		return nil, fmt.Errorf("%w: nil host or source", ErrInvalidOptions)
	}
	s := &Server{h: h, chainID: chainID, src: src, opts: opts, trees: newTreeCache(opts.TreeCacheBytes), perPeer: make(map[peer.ID]int)}
	small, bulk := opts.WriteTimeout, opts.BulkWriteTimeout
	s.handle(ProtocolSamples, msgSamplesRequest, msgSamplesResponse, maxRequestSize, small, s.serveSamples)
	s.handle(ProtocolRow, msgRowRequest, msgRowResponse, rowRequestSize, bulk, s.serveRow)
	s.handle(ProtocolNamespace, msgNDRequest, msgNDHead, ndRequestSize, bulk, s.serveNamespace)
	s.handle(ProtocolODS, msgODSRequest, msgODSHead, odsRequestSize, bulk, s.serveODS)
	s.handle(ProtocolHeaders, msgHeadersRequest, msgHeadersResponse, headersRequestSize, small, s.serveHeaders)
	s.handle(ProtocolCommitment, msgCPRequest, msgCPResponse, cpRequestSize, bulk, s.serveCommitment)
	return s, nil
}

// Close removes the server's handlers. Streams already being served
// finish.
func (s *Server) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	for _, id := range Protocols(s.chainID) {
		s.h.RemoveStreamHandler(id)
	}
	return nil
}

// Prepare builds the row trees of the square at height now, so that the
// first samples requests for it are answered at full speed (a node calls
// it when it stores a new square). It costs about as much hashing as
// computing the square's row roots.
func (s *Server) Prepare(height uint64) error {
	eds, dah, err := s.src.Square(height)
	if err != nil {
		return err
	}
	if eds.Width() == 0 || dah.Width() != eds.Width() {
		return fmt.Errorf("%w: square of width %d with a DAH of width %d", erasure.ErrDAHMismatch, eds.Width(), dah.Width())
	}
	sq := s.trees.get(height, dah)
	for r := range eds.Width() {
		if _, err := s.trees.row(sq, eds, r); err != nil {
			return err
		}
	}
	return nil
}

// Forget drops the cached row trees of the square at height (a node calls
// it when it prunes the square).
func (s *Server) Forget(height uint64) { s.trees.forget(height) }

// serveFunc answers one decoded request. It writes the response to w and
// returns an error for a malformed request or a failed write, upon which
// the stream is reset.
type serveFunc func(w io.Writer, req []byte) error

// handle registers a handler for protocol name: read one request frame of
// type reqType (at most maxReq bytes) within ReadTimeout, then answer it
// with fn within writeTimeout, or answer statusBusy when over the limits.
func (s *Server) handle(name string, reqType, respType byte, maxReq int, writeTimeout time.Duration, fn serveFunc) {
	s.h.SetStreamHandler(ProtocolID(s.chainID, name), func(st network.Stream) {
		if s.closed.Load() {
			_ = st.Reset()
			return
		}
		_ = st.SetReadDeadline(time.Now().Add(s.opts.ReadTimeout))
		br := getReader(st)
		bp := getBuf()
		req, err := readFrame(br, reqType, maxReq, *bp)
		putReader(br)
		if err != nil {
			putBuf(bp)
			_ = st.Reset()
			return
		}
		_ = st.SetWriteDeadline(time.Now().Add(writeTimeout))
		p := st.Conn().RemotePeer()
		if !s.acquire(p) {
			putBuf(bp)
			if _, err := st.Write(statusFrame(nil, respType, statusBusy)); err != nil {
				_ = st.Reset()
				return
			}
			_ = st.Close()
			return
		}
		err = fn(st, req)
		s.release(p)
		putBuf(bp)
		if err != nil {
			_ = st.Reset()
			return
		}
		_ = st.Close()
	})
}

func (s *Server) acquire(p peer.ID) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.active >= s.opts.MaxStreams || s.perPeer[p] >= s.opts.MaxStreamsPerPeer {
		return false
	}
	s.active++
	s.perPeer[p]++
	return true
}

func (s *Server) release(p peer.ID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.active--
	if s.perPeer[p]--; s.perPeer[p] <= 0 {
		delete(s.perPeer, p)
	}
}

// statusFrame returns a response frame of type typ with status st alone.
func statusFrame(buf []byte, typ byte, st status) []byte {
	buf = beginFrame(buf, typ)
	return finishFrame(append(buf, byte(st)))
}

// square fetches and checks the square at height; on failure it returns
// the status to answer.
func (s *Server) square(height uint64) (*erasure.ExtendedSquare, *erasure.DAH, status) {
	eds, dah, err := s.src.Square(height)
	switch {
	case errors.Is(err, ErrNotFound):
		return nil, nil, statusNotFound
	case err != nil || eds.Width() == 0 || dah.Width() != eds.Width():
		return nil, nil, statusInternal
	}
	return eds, dah, statusOK
}

// writeWithBuf runs build with a pooled buffer and writes the frame it
// returns.
func writeWithBuf(w io.Writer, build func(buf []byte) []byte) error {
	bp := getBuf()
	defer putBuf(bp)
	frame := build(*bp)
	_, err := w.Write(frame)
	*bp = frame[:0]
	return err
}

func (s *Server) serveSamples(w io.Writer, p []byte) error {
	m, err := decodeSamplesRequest(p)
	if err != nil {
		return err
	}
	return writeWithBuf(w, func(buf []byte) []byte { return s.samplesFrame(buf, m) })
}

// samplesFrame builds the response frame to a samples request.
func (s *Server) samplesFrame(buf []byte, m samplesRequest) []byte {
	eds, dah, st := s.square(m.height)
	if st == statusNotFound {
		if ss, ok := s.src.(SampleSource); ok {
			return partialSamplesFrame(buf, ss, m)
		}
	}
	if st != statusOK {
		return statusFrame(buf, msgSamplesResponse, st)
	}
	w := eds.Width()
	for _, c := range m.coords {
		if !c.in(w) {
			return statusFrame(buf, msgSamplesResponse, statusBadRequest)
		}
	}
	sq := s.trees.get(m.height, dah)
	buf = slices.Grow(buf[:0], maxVarintLen+samplesResponseMax(w, len(m.coords)))
	buf = beginFrame(buf, msgSamplesResponse)
	buf = append(buf, byte(statusOK))
	buf = binary.BigEndian.AppendUint16(buf, uint16(w))
	buf = binary.BigEndian.AppendUint16(buf, uint16(len(m.coords)))
	h := new(nodeHasher)
	for _, c := range m.coords {
		t, err := s.trees.row(sq, eds, c.Row)
		if err != nil {
			return statusFrame(buf, msgSamplesResponse, statusInternal)
		}
		buf = append(buf, 1)
		buf = t.appendSample(buf, h, eds, c.Row, c.Col)
	}
	return finishFrame(buf)
}

// partialSamplesFrame answers a samples request sample by sample.
func partialSamplesFrame(buf []byte, ss SampleSource, m samplesRequest) []byte {
	smps := make([]*erasure.Sample, len(m.coords))
	w := 0
	for i, c := range m.coords {
		smp, err := ss.Sample(m.height, c.Row, c.Col)
		if err != nil || smp == nil || smp.Row() != c.Row || smp.Col() != c.Col || (w != 0 && smp.Width() != w) {
			continue
		}
		w, smps[i] = smp.Width(), smp
	}
	if w == 0 {
		return statusFrame(buf, msgSamplesResponse, statusNotFound)
	}
	buf = beginFrame(buf, msgSamplesResponse)
	buf = append(buf, byte(statusOK))
	buf = binary.BigEndian.AppendUint16(buf, uint16(w))
	buf = binary.BigEndian.AppendUint16(buf, uint16(len(m.coords)))
	for _, smp := range smps {
		if smp == nil {
			buf = append(buf, 0)
			continue
		}
		buf = append(buf, 1)
		var err error
		if buf, err = smp.AppendBinary(buf); err != nil {
			return statusFrame(buf, msgSamplesResponse, statusInternal)
		}
	}
	return finishFrame(buf)
}

func (s *Server) serveRow(w io.Writer, p []byte) error {
	m, err := decodeRowRequest(p)
	if err != nil {
		return err
	}
	return writeWithBuf(w, func(buf []byte) []byte { return s.rowFrame(buf, m) })
}

// rowFrame builds the response frame to a row request.
func (s *Server) rowFrame(buf []byte, m rowRequest) []byte {
	eds, dah, st := s.square(m.height)
	if st != statusOK {
		return statusFrame(buf, msgRowResponse, st)
	}
	w := eds.Width()
	if m.row >= w {
		return statusFrame(buf, msgRowResponse, statusBadRequest)
	}
	proof, err := dah.ProveRoot(erasure.Row, m.row)
	if err != nil {
		return statusFrame(buf, msgRowResponse, statusInternal)
	}
	buf = slices.Grow(buf[:0], maxVarintLen+rowResponseSize(w))
	buf = beginFrame(buf, msgRowResponse)
	buf = append(buf, byte(statusOK))
	buf = binary.BigEndian.AppendUint16(buf, uint16(w))
	buf = append(buf, dah.Root(erasure.Row, m.row)...)
	for _, a := range proof.Aunts() {
		buf = append(buf, a...)
	}
	buf = append(buf, eds.RowBytes(m.row)...)
	return finishFrame(buf)
}

func (s *Server) serveNamespace(w io.Writer, p []byte) error {
	m, err := decodeNDRequest(p)
	if err != nil {
		return err
	}
	for _, f := range s.namespaceFrames(m) {
		if _, err := w.Write(f); err != nil {
			return err
		}
	}
	return nil
}

// namespaceFrames builds the frames answering a namespace data request:
// the head with the row roots of rows [lo, hi) and their proofs, then one
// frame per row of that range whose root covers the namespace. [lo, hi)
// is the smallest range of original rows holding every covering row and,
// where they exist, the row just before and the row just after, which show
// that no other row can cover the namespace (see the package docs).
func (s *Server) namespaceFrames(m ndRequest) [][]byte {
	eds, dah, st := s.square(m.height)
	if st != statusOK {
		return [][]byte{statusFrame(nil, msgNDHead, st)}
	}
	k, w := eds.ODSWidth(), eds.Width()
	nd, err := blob.ProveNamespaceData(eds, dah, m.ns)
	if err != nil {
		return [][]byte{statusFrame(nil, msgNDHead, statusInternal)}
	}
	rows := blob.RowsWithNamespace(dah, m.ns)
	if len(rows) != len(nd) || (len(rows) > 0 && rows[len(rows)-1] >= k) {
		return [][]byte{statusFrame(nil, msgNDHead, statusInternal)}
	}
	var lo, hi int
	if len(rows) > 0 {
		lo, hi = max(rows[0]-1, 0), min(rows[len(rows)-1]+2, k)
	} else {
		// The first original row wholly above the namespace, and the one
		// before it.
		nsb := m.ns.Bytes()
		r := 0
		for r < k && string(nmt.MinNamespace(dah.Root(erasure.Row, r))) <= string(nsb) {
			r++
		}
		lo, hi = max(r-1, 0), min(r+1, k)
	}
	head := make([]byte, 0, maxVarintLen+ndHeadMax(k))
	head = beginFrame(head, msgNDHead)
	head = append(head, byte(statusOK))
	head = binary.BigEndian.AppendUint16(head, uint16(w))
	head = binary.BigEndian.AppendUint16(head, uint16(lo))
	head = binary.BigEndian.AppendUint16(head, uint16(hi-lo))
	for r := lo; r < hi; r++ {
		head = append(head, dah.Root(erasure.Row, r)...)
	}
	for r := lo; r < hi; r++ {
		proof, err := dah.ProveRoot(erasure.Row, r)
		if err != nil {
			return [][]byte{statusFrame(nil, msgNDHead, statusInternal)}
		}
		for _, a := range proof.Aunts() {
			head = append(head, a...)
		}
	}
	frames := [][]byte{finishFrame(head)}
	for _, rnd := range nd {
		f := beginFrame(nil, msgNDRow)
		f, err := rnd.AppendBinary(f)
		if err != nil {
			return [][]byte{statusFrame(nil, msgNDHead, statusInternal)}
		}
		frames = append(frames, finishFrame(f))
	}
	return frames
}

func (s *Server) serveODS(w io.Writer, p []byte) error {
	m, err := decodeODSRequest(p)
	if err != nil {
		return err
	}
	eds, _, st := s.square(m.height)
	if st != statusOK {
		_, err := w.Write(statusFrame(nil, msgODSHead, st))
		return err
	}
	k := eds.ODSWidth()
	head := beginFrame(make([]byte, 0, 16), msgODSHead)
	head = append(head, byte(statusOK))
	head = finishFrame(binary.BigEndian.AppendUint16(head, uint16(k)))
	head = appendFrameHeader(head, msgODSData, k*k*erasure.ShareSize)
	if _, err := w.Write(head); err != nil {
		return err
	}
	for r := range k {
		if _, err := w.Write(eds.RowBytes(r)[:k*erasure.ShareSize]); err != nil {
			return err
		}
	}
	return nil
}

func (s *Server) serveHeaders(w io.Writer, p []byte) error {
	m, err := decodeHeadersRequest(p)
	if err != nil {
		return err
	}
	return writeWithBuf(w, func(buf []byte) []byte { return s.headersFrame(buf, m) })
}

// headersFrame builds the response frame to a headers request: the
// source's headers from m.from on, as long as their heights follow on.
func (s *Server) headersFrame(buf []byte, m headersRequest) []byte {
	hs, err := s.src.Headers(m.from, m.to)
	switch {
	case errors.Is(err, ErrNotFound):
		return statusFrame(buf, msgHeadersResponse, statusNotFound)
	case err != nil:
		return statusFrame(buf, msgHeadersResponse, statusInternal)
	}
	n := 0
	for n < len(hs) && n < m.count() && hs[n] != nil && hs[n].Height == m.from+uint64(n) {
		n++
	}
	if n == 0 {
		return statusFrame(buf, msgHeadersResponse, statusNotFound)
	}
	buf = beginFrame(buf, msgHeadersResponse)
	buf = append(buf, byte(statusOK))
	buf = binary.BigEndian.AppendUint16(buf, uint16(n))
	for _, h := range hs[:n] {
		enc, err := h.MarshalBinary()
		if err != nil || len(enc) > header.MaxEncodedSize {
			return statusFrame(buf, msgHeadersResponse, statusInternal)
		}
		buf = binary.BigEndian.AppendUint16(buf, uint16(len(enc)))
		buf = append(buf, enc...)
	}
	return finishFrame(buf)
}

func (s *Server) serveCommitment(w io.Writer, p []byte) error {
	m, err := decodeCPRequest(p)
	if err != nil {
		return err
	}
	_, err = w.Write(s.commitmentFrame(m))
	return err
}

// commitmentFrame builds the response frame to a commitment proof
// request: the proof blob.ProveCommitment builds from the square, checked
// to commit to the requested commitment in the requested namespace.
func (s *Server) commitmentFrame(m cpRequest) []byte {
	eds, dah, st := s.square(m.height)
	if st != statusOK {
		return statusFrame(nil, msgCPResponse, st)
	}
	var (
		start, n int
		err      error
	)
	if bl, ok := s.src.(BlobLocator); ok {
		start, n, err = bl.LocateBlob(m.height, m.ns, m.c)
	} else {
		start, n, err = scanBlob(eds, dah, m.ns, m.c)
	}
	switch {
	case errors.Is(err, ErrNotFound):
		return statusFrame(nil, msgCPResponse, statusNotFound)
	case err != nil:
		return statusFrame(nil, msgCPResponse, statusInternal)
	}
	cp, err := blob.ProveCommitment(eds, dah, start, n)
	if err != nil || cp.Namespace() != m.ns || !bytes.Equal(merkle.ComputeRoot(cp.SubtreeRoots()), m.c) {
		// The index points at something else than the blob asked for.
		return statusFrame(nil, msgCPResponse, statusInternal)
	}
	enc, err := cp.MarshalBinary()
	if err != nil || 1+1+len(enc) > cpResponseMax(eds.ODSWidth()) {
		return statusFrame(nil, msgCPResponse, statusInternal)
	}
	f := make([]byte, 0, maxVarintLen+2+len(enc))
	f = append(beginFrame(f, msgCPResponse), byte(statusOK))
	return finishFrame(append(f, enc...))
}

// scanBlob finds the blob with commitment c among the blobs of namespace
// ns in the original square of eds: it reads the namespace's contiguous
// run of shares (in the rows whose roots cover ns), parses the blobs in it
// and computes their commitments. It returns the blob's first share index
// in the original square and its share count, or ErrNotFound.
func scanBlob(eds *erasure.ExtendedSquare, dah *erasure.DAH, ns share.Namespace, c blob.Commitment) (start, shareCount int, err error) {
	k := eds.ODSWidth()
	nsb := ns.Bytes()
	first := -1
	var shares []share.Share
collect:
	for _, r := range blob.RowsWithNamespace(dah, ns) {
		if r >= k {
			break
		}
		row := eds.RowBytes(r)
		for col := range k {
			cell := row[col*erasure.ShareSize : (col+1)*erasure.ShareSize]
			if !bytes.Equal(cell[:share.NamespaceSize], nsb) {
				continue
			}
			idx := r*k + col
			if first >= 0 && idx != first+len(shares) {
				break collect // the namespace's run ended
			}
			sh, err := share.NewShare(cell)
			if err != nil {
				break collect
			}
			if first < 0 {
				first = idx
			}
			shares = append(shares, sh)
		}
	}
	for i := 0; i < len(shares); {
		if !shares[i].IsSequenceStart() || shares[i].IsPadding() {
			i++
			continue
		}
		b, n, err := share.ParseBlob(shares[i:])
		if err != nil {
			i++
			continue
		}
		if got, err := blob.ComputeCommitment(b, share.SubtreeRootThreshold); err == nil && bytes.Equal(got, c) {
			return first + i, n, nil
		}
		i += n
	}
	return 0, 0, fmt.Errorf("%w: no blob with commitment %x in namespace %s", ErrNotFound, []byte(c), ns)
}

// protocolIDs of a server, for tests.
func (s *Server) protocolID(name string) protocol.ID { return ProtocolID(s.chainID, name) }
