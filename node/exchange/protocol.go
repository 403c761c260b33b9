package exchange

import (
	"fmt"
	"math/bits"
	"strings"

	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/tessera-da/tessera/blob"
	"github.com/tessera-da/tessera/erasure"
	"github.com/tessera-da/tessera/nmt"
	"github.com/tessera-da/tessera/nmt/merkle"
	"github.com/tessera-da/tessera/node/header"
	"github.com/tessera-da/tessera/share"
)

// Protocol names; the protocol ID is /tessera/<chain-id>/<name>/v1.
const (
	ProtocolSamples    = "samples"
	ProtocolRow        = "row"
	ProtocolNamespace  = "nd"
	ProtocolODS        = "ods"
	ProtocolHeaders    = "headers"
	ProtocolCommitment = "cp"
)

// protocolNames lists every protocol the Server registers.
var protocolNames = [...]string{ProtocolSamples, ProtocolRow, ProtocolNamespace, ProtocolODS, ProtocolHeaders, ProtocolCommitment}

// Limits of the protocols. Everything a peer sends is checked against them
// before memory is allocated for it.
const (
	// MaxSamplesPerRequest bounds the coordinates of one samples request
	// (coordinates).
	MaxSamplesPerRequest = 1024
	// MaxHeadersPerRequest bounds the headers of one headers request
	// (headers).
	MaxHeadersPerRequest = 256
	// MaxODSWidth is the largest original square width served (shares per
	// row, k).
	MaxODSWidth = erasure.MaxODSWidth
	// MaxCommitmentProofSize bounds a commitment proof response frame
	// whatever the square (bytes).
	MaxCommitmentProofSize = 4 << 20
	// maxVarintLen bounds the length prefix of a frame (bytes); every
	// frame is shorter than 2^35 bytes.
	maxVarintLen = 5
)

// ProtocolID returns the protocol ID of the named protocol on a chain:
// /tessera/<chain-id>/<name>/v1.
func ProtocolID(chainID, name string) protocol.ID {
	return protocol.ID("/tessera/" + chainID + "/" + name + "/v1")
}

// Protocols returns the IDs of every protocol a Server serves on a chain,
// for resource-manager limits.
func Protocols(chainID string) []protocol.ID {
	out := make([]protocol.ID, len(protocolNames))
	for i, n := range protocolNames {
		out[i] = ProtocolID(chainID, n)
	}
	return out
}

// checkChainID checks that chainID can be a protocol ID path segment.
func checkChainID(chainID string) error {
	if chainID == "" || len(chainID) > header.MaxChainIDSize || strings.ContainsAny(chainID, "/ \t\r\n") {
		return fmt.Errorf("%w: chain ID %q (1 to %d bytes, no '/' or spaces)", ErrInvalidOptions, chainID, header.MaxChainIDSize)
	}
	return nil
}

// Message types: the first byte of every frame's payload names the
// message and its format version (format 1 of each protocol's messages).
// The high nibble is the protocol.
const (
	msgSamplesRequest  byte = 0x11
	msgSamplesResponse byte = 0x12
	msgRowRequest      byte = 0x21
	msgRowResponse     byte = 0x22
	msgNDRequest       byte = 0x31
	msgNDHead          byte = 0x32
	msgNDRow           byte = 0x33
	msgODSRequest      byte = 0x41
	msgODSHead         byte = 0x42
	msgODSData         byte = 0x43
	msgHeadersRequest  byte = 0x51
	msgHeadersResponse byte = 0x52
	msgCPRequest       byte = 0x61
	msgCPResponse      byte = 0x62
)

// status is the second byte of every response head.
type status byte

// Response statuses. A response whose status is not statusOK carries
// nothing after it.
const (
	statusOK         status = 0
	statusNotFound   status = 1 // the server does not hold the data
	statusBadRequest status = 2 // the request is well framed but invalid
	statusBusy       status = 3 // over the server's concurrency limits
	statusInternal   status = 4 // the server failed (e.g. its store is inconsistent)
)

// err maps a non-OK status to the sentinel a client reports.
func (s status) err() error {
	switch s {
	case statusNotFound:
		return ErrNotFound
	case statusBusy:
		return ErrBusy
	case statusBadRequest:
		return fmt.Errorf("%w: bad request", ErrRejected)
	case statusInternal:
		return fmt.Errorf("%w: internal error", ErrRejected)
	}
	return fmt.Errorf("%w: unknown status %d", ErrBadResponse, byte(s))
}

// Request sizes: type byte plus fixed fields (bytes).
const (
	samplesRequestBase = 1 + 8 + 2 // + 4 per coordinate
	rowRequestSize     = 1 + 8 + 2
	ndRequestSize      = 1 + 8 + share.NamespaceSize
	odsRequestSize     = 1 + 8
	headersRequestSize = 1 + 8 + 8
	cpRequestSize      = 1 + 8 + share.NamespaceSize + blob.CommitmentSize
	maxRequestSize     = samplesRequestBase + 4*MaxSamplesPerRequest
)

// log2 of a power of two.
func log2(n int) int { return bits.TrailingZeros(uint(n)) }

// rootProofSize is the size of the aunts of a row root's proof in the data
// root of a square of width w (bytes).
func rootProofSize(w int) int { return log2(2*w) * merkle.HashSize }

// Response sizes for a square of ODS width k (bytes); the client computes
// them from the header it trusts, never from what the peer declares.
func samplesResponseMax(w, n int) int { return 1 + 1 + 2 + 2 + n*(1+erasure.SampleSize(w)) }

func rowResponseSize(w int) int {
	return 1 + 1 + 2 + nmt.NodeSize + rootProofSize(w) + w*erasure.ShareSize
}

func ndHeadMax(k int) int { return 1 + 1 + 2 + 2 + 2 + k*(nmt.NodeSize+rootProofSize(2*k)) }

// ndRowMax bounds one row's namespace data in a square of ODS width k:
// at most k shares (protobuf framing of ≤ 8 bytes each) and an NMT proof.
func ndRowMax(k int) int { return 1 + k*(erasure.ShareSize+8) + nmt.MaxEncodedProofSize + 16 }

const odsHeadSize = 1 + 1 + 2

func odsDataSize(k int) int { return 1 + k*k*erasure.ShareSize }

func headersResponseMax(n int) int { return 1 + 1 + 2 + n*(2+header.MaxEncodedSize) }

// JSON sizes of the parts of a blob.CommitmentProof, generous: base64 of a
// node or hash with its quotes and comma, and the keys and integers around
// an NMT proof, a merkle proof and the whole proof (bytes).
const (
	jsonNodeSize   = (nmt.NodeSize+2)/3*4 + 3
	jsonHashSize   = (merkle.HashSize+2)/3*4 + 3
	jsonNMTProof   = 160
	jsonMerkleBase = 160
	jsonCPBase     = 512
)

// cpResponseMax bounds a commitment proof response for a square of ODS
// width k (bytes): the status and a blob.CommitmentProof (sent in its
// binary encoding, bounded here by its larger JSON form) with at
// most blob.MaxSubtreeRoots subtree roots and, per original row the blob
// spans (at most k), one NMT range proof in a row of 2k leaves (at most
// 2·log2(2k) nodes, leaf hash included), its row root and the root's
// merkle proof among the 4k roots. It is also at most
// MaxCommitmentProofSize.
func cpResponseMax(k int) int {
	perRow := jsonNMTProof + (2*log2(2*k)+2)*jsonNodeSize + jsonNodeSize + jsonMerkleBase + (log2(4*k)+1)*jsonHashSize
	return min(1+1+jsonCPBase+blob.MaxSubtreeRoots*jsonNodeSize+k*perRow, MaxCommitmentProofSize)
}

// Coord is a cell of the extended square: Row and Col in [0, 2k).
type Coord struct {
	Row, Col int
}

// String returns "(row, col)".
func (c Coord) String() string { return fmt.Sprintf("(%d, %d)", c.Row, c.Col) }

// in reports whether c lies in a square of width w.
func (c Coord) in(w int) bool { return uint(c.Row) < uint(w) && uint(c.Col) < uint(w) }

// squareWidth returns the ODS width k of a trusted header.
func squareWidth(hdr *header.Header) (int, error) {
	if hdr == nil {
		return 0, fmt.Errorf("%w: nil header", ErrInvalidRequest)
	}
	k := int(hdr.SquareWidth)
	if k < 1 || k > MaxODSWidth || k&(k-1) != 0 {
		return 0, fmt.Errorf("%w: header square width %d", ErrInvalidRequest, k)
	}
	return k, nil
}
