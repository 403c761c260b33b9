package exchange

import (
	"encoding/binary"
	"fmt"

	"github.com/tessera-da/tessera/blob"
	"github.com/tessera-da/tessera/erasure"
	"github.com/tessera-da/tessera/nmt"
	"github.com/tessera-da/tessera/nmt/merkle"
	"github.com/tessera-da/tessera/node/header"
	"github.com/tessera-da/tessera/share"
)

// Message layouts (integers big-endian; every payload starts with its
// type byte, which readFrame has already checked and stripped):
//
//	samples request   height u64 ‖ n u16 ‖ n × (row u16 ‖ col u16)      1 ≤ n ≤ 1024
//	samples response  status ‖ [w u16 ‖ n u16 ‖ n × (has u8 ‖ [sample])]  sample = erasure encoding, SampleSize(w) bytes
//	row request       height u64 ‖ row u16
//	row response      status ‖ [w u16 ‖ root (90) ‖ log2(2w) aunts (32 each) ‖ w shares (512 each)]
//	nd request        height u64 ‖ namespace (29)
//	nd head           status ‖ [w u16 ‖ first u16 ‖ n u16 ‖ n roots (90 each) ‖ n × log2(2w) aunts]
//	nd row            blob.RowNamespaceData protobuf (one frame per covering row)
//	ods request       height u64
//	ods head          status ‖ [k u16]
//	ods data          k² shares (512 each), row-major
//	headers request   from u64 ‖ to u64                                   1 ≤ to−from+1 ≤ 256
//	headers response  status ‖ [n u16 ‖ n × (len u16 ‖ header)]
//	cp request        height u64 ‖ namespace (29) ‖ commitment (32)
//	cp response       status ‖ [blob.CommitmentProof JSON]

// samplesRequest asks for the samples at coords of the square at height.
type samplesRequest struct {
	height uint64
	coords []Coord
}

func (m samplesRequest) appendTo(b []byte) []byte {
	b = binary.BigEndian.AppendUint64(b, m.height)
	b = binary.BigEndian.AppendUint16(b, uint16(len(m.coords)))
	for _, c := range m.coords {
		b = binary.BigEndian.AppendUint16(b, uint16(c.Row))
		b = binary.BigEndian.AppendUint16(b, uint16(c.Col))
	}
	return b
}

// decodeSamplesRequest decodes a samples request payload. Coordinates are
// checked against the largest square only; the server checks them against
// its square.
func decodeSamplesRequest(p []byte) (samplesRequest, error) {
	if len(p) < samplesRequestBase-1 {
		return samplesRequest{}, fmt.Errorf("%w: samples request of %d bytes", errProtocol, len(p))
	}
	m := samplesRequest{height: binary.BigEndian.Uint64(p)}
	n := int(binary.BigEndian.Uint16(p[8:]))
	p = p[10:]
	if n == 0 || n > MaxSamplesPerRequest || len(p) != 4*n {
		return samplesRequest{}, fmt.Errorf("%w: samples request for %d coordinates with %d bytes of them", errProtocol, n, len(p))
	}
	m.coords = make([]Coord, n)
	for i := range m.coords {
		c := Coord{Row: int(binary.BigEndian.Uint16(p)), Col: int(binary.BigEndian.Uint16(p[2:]))}
		if !c.in(2 * MaxODSWidth) {
			return samplesRequest{}, fmt.Errorf("%w: coordinate %s", errProtocol, c)
		}
		m.coords[i] = c
		p = p[4:]
	}
	return m, nil
}

// decodeStatus splits a response head into its status and body, checking
// that a non-OK status carries no body.
func decodeStatus(p []byte) (status, []byte, error) {
	if len(p) < 1 {
		return 0, nil, fmt.Errorf("%w: empty response", errProtocol)
	}
	st := status(p[0])
	if st != statusOK && len(p) != 1 {
		return 0, nil, fmt.Errorf("%w: status %d with %d bytes of body", errProtocol, st, len(p)-1)
	}
	return st, p[1:], nil
}

// decodeSamplesResponse decodes a samples response to a request for n
// coordinates of a square of width w. The entries are views of p, nil
// where the server does not hold the sample; they are not parsed.
func decodeSamplesResponse(p []byte, w, n int) (status, [][]byte, error) {
	st, p, err := decodeStatus(p)
	if err != nil || st != statusOK {
		return st, nil, err
	}
	size := erasure.SampleSize(w)
	if size == 0 {
		return 0, nil, fmt.Errorf("%w: width %d", ErrInvalidRequest, w)
	}
	if len(p) < 4 {
		return 0, nil, fmt.Errorf("%w: samples response of %d bytes", errProtocol, len(p))
	}
	if gw, gn := int(binary.BigEndian.Uint16(p)), int(binary.BigEndian.Uint16(p[2:])); gw != w || gn != n {
		return 0, nil, fmt.Errorf("%w: %d samples of width %d, want %d of width %d", errProtocol, gn, gw, n, w)
	}
	p = p[4:]
	out := make([][]byte, n)
	for i := range out {
		if len(p) < 1 || p[0] > 1 {
			return 0, nil, fmt.Errorf("%w: sample %d: missing or bad presence byte", errProtocol, i)
		}
		has := p[0] == 1
		p = p[1:]
		if !has {
			continue
		}
		if len(p) < size {
			return 0, nil, fmt.Errorf("%w: sample %d truncated", errProtocol, i)
		}
		out[i], p = p[:size:size], p[size:]
	}
	if len(p) != 0 {
		return 0, nil, fmt.Errorf("%w: %d trailing bytes", errProtocol, len(p))
	}
	return statusOK, out, nil
}

// rowRequest asks for row `row` of the square at height.
type rowRequest struct {
	height uint64
	row    int
}

func (m rowRequest) appendTo(b []byte) []byte {
	b = binary.BigEndian.AppendUint64(b, m.height)
	return binary.BigEndian.AppendUint16(b, uint16(m.row))
}

func decodeRowRequest(p []byte) (rowRequest, error) {
	if len(p) != rowRequestSize-1 {
		return rowRequest{}, fmt.Errorf("%w: row request of %d bytes", errProtocol, len(p))
	}
	m := rowRequest{height: binary.BigEndian.Uint64(p), row: int(binary.BigEndian.Uint16(p[8:]))}
	if m.row >= 2*MaxODSWidth {
		return rowRequest{}, fmt.Errorf("%w: row %d", errProtocol, m.row)
	}
	return m, nil
}

// rowResponse is a decoded row response; all slices are views of the
// payload.
type rowResponse struct {
	root   []byte
	aunts  [][]byte
	shares []byte // w·ShareSize bytes
}

// decodeRowResponse decodes a row response for a square of width w.
func decodeRowResponse(p []byte, w int) (status, rowResponse, error) {
	st, p, err := decodeStatus(p)
	if err != nil || st != statusOK {
		return st, rowResponse{}, err
	}
	if len(p) != rowResponseSize(w)-2 {
		return 0, rowResponse{}, fmt.Errorf("%w: row response of %d bytes for width %d", errProtocol, len(p)+2, w)
	}
	if gw := int(binary.BigEndian.Uint16(p)); gw != w {
		return 0, rowResponse{}, fmt.Errorf("%w: row of width %d, want %d", errProtocol, gw, w)
	}
	p = p[2:]
	var m rowResponse
	m.root, p = p[:nmt.NodeSize:nmt.NodeSize], p[nmt.NodeSize:]
	m.aunts, p = splitAunts(p, log2(2*w))
	m.shares = p
	return statusOK, m, nil
}

// splitAunts returns views of the first n hashes of p and the rest of p.
func splitAunts(p []byte, n int) ([][]byte, []byte) {
	out := make([][]byte, n)
	for i := range out {
		out[i], p = p[:merkle.HashSize:merkle.HashSize], p[merkle.HashSize:]
	}
	return out, p
}

// ndRequest asks for the data of namespace ns in the square at height.
type ndRequest struct {
	height uint64
	ns     share.Namespace
}

func (m ndRequest) appendTo(b []byte) []byte {
	b = binary.BigEndian.AppendUint64(b, m.height)
	return append(b, m.ns.Bytes()...)
}

func decodeNDRequest(p []byte) (ndRequest, error) {
	if len(p) != ndRequestSize-1 {
		return ndRequest{}, fmt.Errorf("%w: namespace request of %d bytes", errProtocol, len(p))
	}
	ns, err := share.NewNamespaceFromBytes(p[8:])
	if err != nil {
		return ndRequest{}, fmt.Errorf("%w: %w", errProtocol, err)
	}
	if ns.IsParity() {
		return ndRequest{}, fmt.Errorf("%w: the parity namespace has no namespace data", errProtocol)
	}
	return ndRequest{height: binary.BigEndian.Uint64(p), ns: ns}, nil
}

// ndHead is a decoded namespace data head: the row roots of the rows
// [first, first+len(roots)) of the square with their proofs' aunts.
type ndHead struct {
	first int
	roots [][]byte
	aunts [][][]byte
}

// decodeNDHead decodes a namespace data head for a square of ODS width k.
// It checks shapes only (1 ≤ n, first+n ≤ k); the client verifies.
func decodeNDHead(p []byte, k int) (status, ndHead, error) {
	st, p, err := decodeStatus(p)
	if err != nil || st != statusOK {
		return st, ndHead{}, err
	}
	w := 2 * k
	if len(p) < 6 {
		return 0, ndHead{}, fmt.Errorf("%w: namespace head of %d bytes", errProtocol, len(p))
	}
	gw, first, n := int(binary.BigEndian.Uint16(p)), int(binary.BigEndian.Uint16(p[2:])), int(binary.BigEndian.Uint16(p[4:]))
	p = p[6:]
	if gw != w || n < 1 || first+n > k {
		return 0, ndHead{}, fmt.Errorf("%w: rows [%d, %d) of width %d, want rows in [0, %d) of width %d", errProtocol, first, first+n, gw, k, w)
	}
	na := log2(2 * w)
	if len(p) != n*(nmt.NodeSize+na*merkle.HashSize) {
		return 0, ndHead{}, fmt.Errorf("%w: namespace head body of %d bytes for %d rows", errProtocol, len(p), n)
	}
	m := ndHead{first: first, roots: make([][]byte, n), aunts: make([][][]byte, n)}
	for i := range m.roots {
		m.roots[i], p = p[:nmt.NodeSize:nmt.NodeSize], p[nmt.NodeSize:]
	}
	for i := range m.aunts {
		m.aunts[i], p = splitAunts(p, na)
	}
	return statusOK, m, nil
}

// odsRequest asks for the original data square at height.
type odsRequest struct{ height uint64 }

func (m odsRequest) appendTo(b []byte) []byte { return binary.BigEndian.AppendUint64(b, m.height) }

func decodeODSRequest(p []byte) (odsRequest, error) {
	if len(p) != odsRequestSize-1 {
		return odsRequest{}, fmt.Errorf("%w: ODS request of %d bytes", errProtocol, len(p))
	}
	return odsRequest{height: binary.BigEndian.Uint64(p)}, nil
}

// decodeODSHead decodes an ODS head and returns the square's ODS width.
func decodeODSHead(p []byte) (status, int, error) {
	st, p, err := decodeStatus(p)
	if err != nil || st != statusOK {
		return st, 0, err
	}
	if len(p) != 2 {
		return 0, 0, fmt.Errorf("%w: ODS head of %d bytes", errProtocol, len(p)+1)
	}
	k := int(binary.BigEndian.Uint16(p))
	if k < 1 || k > MaxODSWidth || k&(k-1) != 0 {
		return 0, 0, fmt.Errorf("%w: ODS width %d", errProtocol, k)
	}
	return statusOK, k, nil
}

// headersRequest asks for the headers at heights [from, to].
type headersRequest struct{ from, to uint64 }

func (m headersRequest) appendTo(b []byte) []byte {
	b = binary.BigEndian.AppendUint64(b, m.from)
	return binary.BigEndian.AppendUint64(b, m.to)
}

func (m headersRequest) count() int { return int(m.to-m.from) + 1 }

func (m headersRequest) valid() bool {
	return m.from >= 1 && m.to >= m.from && m.to-m.from < MaxHeadersPerRequest
}

func decodeHeadersRequest(p []byte) (headersRequest, error) {
	if len(p) != headersRequestSize-1 {
		return headersRequest{}, fmt.Errorf("%w: headers request of %d bytes", errProtocol, len(p))
	}
	m := headersRequest{from: binary.BigEndian.Uint64(p), to: binary.BigEndian.Uint64(p[8:])}
	if !m.valid() {
		return headersRequest{}, fmt.Errorf("%w: headers [%d, %d]", errProtocol, m.from, m.to)
	}
	return m, nil
}

// decodeHeadersResponse decodes a headers response of at most max headers.
// It checks the encodings, not the signatures or the chain.
func decodeHeadersResponse(p []byte, max int) (status, []*header.Header, error) {
	st, p, err := decodeStatus(p)
	if err != nil || st != statusOK {
		return st, nil, err
	}
	if len(p) < 2 {
		return 0, nil, fmt.Errorf("%w: headers response of %d bytes", errProtocol, len(p)+1)
	}
	n := int(binary.BigEndian.Uint16(p))
	p = p[2:]
	if n < 1 || n > max {
		return 0, nil, fmt.Errorf("%w: %d headers, want 1 to %d", errProtocol, n, max)
	}
	out := make([]*header.Header, n)
	for i := range out {
		if len(p) < 2 {
			return 0, nil, fmt.Errorf("%w: header %d truncated", errProtocol, i)
		}
		l := int(binary.BigEndian.Uint16(p))
		p = p[2:]
		if l > header.MaxEncodedSize || l > len(p) {
			return 0, nil, fmt.Errorf("%w: header %d of %d bytes", errProtocol, i, l)
		}
		h := new(header.Header)
		if err := h.UnmarshalBinary(p[:l]); err != nil {
			return 0, nil, fmt.Errorf("%w: header %d: %w", errProtocol, i, err)
		}
		out[i], p = h, p[l:]
	}
	if len(p) != 0 {
		return 0, nil, fmt.Errorf("%w: %d trailing bytes", errProtocol, len(p))
	}
	return statusOK, out, nil
}

// cpRequest asks for the commitment proof of the blob with commitment c in
// namespace ns of the block at height.
type cpRequest struct {
	height uint64
	ns     share.Namespace
	c      blob.Commitment
}

func (m cpRequest) appendTo(b []byte) []byte {
	b = binary.BigEndian.AppendUint64(b, m.height)
	b = append(b, m.ns.Bytes()...)
	return append(b, m.c...)
}

func decodeCPRequest(p []byte) (cpRequest, error) {
	if len(p) != cpRequestSize-1 {
		return cpRequest{}, fmt.Errorf("%w: commitment proof request of %d bytes", errProtocol, len(p))
	}
	ns, err := share.NewNamespaceFromBytes(p[8 : 8+share.NamespaceSize])
	if err != nil {
		return cpRequest{}, fmt.Errorf("%w: %w", errProtocol, err)
	}
	if ns.IsParity() {
		return cpRequest{}, fmt.Errorf("%w: the parity namespace holds no blobs", errProtocol)
	}
	c := blob.Commitment(append([]byte(nil), p[8+share.NamespaceSize:]...))
	return cpRequest{height: binary.BigEndian.Uint64(p), ns: ns, c: c}, nil
}

// decodeCPResponse decodes a commitment proof response: the status and,
// when ok, a well-formed (blob.NewCommitmentProof) but unverified proof.
// The caller has bounded p's size.
func decodeCPResponse(p []byte) (status, *blob.CommitmentProof, error) {
	st, p, err := decodeStatus(p)
	if err != nil || st != statusOK {
		return st, nil, err
	}
	if len(p) == 0 {
		return 0, nil, fmt.Errorf("%w: commitment proof response without a proof", errProtocol)
	}
	cp := new(blob.CommitmentProof)
	if err := cp.UnmarshalBinary(p); err != nil {
		return 0, nil, fmt.Errorf("%w: commitment proof: %w", errProtocol, err)
	}
	return statusOK, cp, nil
}
