package api

import (
	"context"
	"fmt"

	"github.com/tessera-da/tessera/blob"
	"github.com/tessera-da/tessera/erasure"
	"github.com/tessera-da/tessera/nmt/merkle"
)

func (s *Service) square(height uint64) (*Square, error) {
	if err := s.checkHeight(height); err != nil {
		return nil, err
	}
	sq, err := s.squares.Get(height)
	if err != nil {
		return nil, mapNotFound(err, fmt.Errorf("square at height %d is not stored", height))
	}
	return sq, nil
}

// ShareSharesAvailable returns nil when the block at height is available:
// on a light node, when sampling found it so; elsewhere, when the node holds
// the whole square (and it matches the header).
func (s *Service) ShareSharesAvailable(ctx context.Context, height uint64) error {
	if s.isFraud(height) {
		return fmt.Errorf("%w: height %d", ErrFraud, height)
	}
	if s.Sampler != nil {
		if err := s.checkHeight(height); err != nil {
			return err
		}
		return s.Sampler.SharesAvailable(ctx, height)
	}
	_, err := s.square(height)
	return err
}

func checkCell(sq *Square, row, col int) error {
	w := sq.EDS.Width()
	if row < 0 || col < 0 || row >= w || col >= w {
		return fmt.Errorf("coordinate (%d, %d) is outside the %d×%d extended square", row, col, w, w)
	}
	return nil
}

// ShareGetShare returns the share at (row, col) of the extended square.
func (s *Service) ShareGetShare(_ context.Context, height uint64, row, col int) ([]byte, error) {
	sq, err := s.square(height)
	if err != nil {
		return nil, err
	}
	if err := checkCell(sq, row, col); err != nil {
		return nil, err
	}
	return append([]byte(nil), sq.EDS.Cell(row, col)...), nil
}

// Coord is a cell of the extended square.
type Coord struct {
	Row int `json:"row"`
	Col int `json:"col"`
}

// SampleJSON is one sample as celestia-node serves it (shwap Sample), plus
// what Tessera adds so that it verifies against the data root alone: the
// axis root and its RFC-6962 proof to the data root.
type SampleJSON struct {
	Share     []byte            `json:"share"`
	Proof     blob.NMTProofJSON `json:"proof"`
	ProofType erasure.Axis      `json:"proof_type"` // 0 row, 1 column
	AxisRoot  []byte            `json:"axis_root"`
	RootProof RootProofJSON     `json:"root_proof"`
}

// RootProofJSON is an RFC-6962 inclusion proof (cometbft merkle.Proof shape).
type RootProofJSON struct {
	Total    int64    `json:"total"`
	Index    int64    `json:"index"`
	LeafHash []byte   `json:"leaf_hash"`
	Aunts    [][]byte `json:"aunts"`
}

// ShareGetSamples returns samples with proofs for the coordinates, each
// proven in its row tree.
func (s *Service) ShareGetSamples(_ context.Context, height uint64, coords []Coord) ([]SampleJSON, error) {
	if len(coords) > maxSamplesPerCall {
		return nil, fmt.Errorf("%d coordinates in one call, at most %d", len(coords), maxSamplesPerCall)
	}
	sq, err := s.square(height)
	if err != nil {
		return nil, err
	}
	out := make([]SampleJSON, 0, len(coords))
	for _, c := range coords {
		if err := checkCell(sq, c.Row, c.Col); err != nil {
			return nil, err
		}
		smp, err := s.squares.ext.ProveSample(sq.EDS, sq.DAH, c.Row, c.Col, erasure.Row)
		if err != nil {
			return nil, err
		}
		rp := smp.RootProof()
		out = append(out, SampleJSON{
			Share: smp.Share(), Proof: blob.NewNMTProofJSON(smp.Proof()), ProofType: smp.Axis(), AxisRoot: smp.AxisRoot(),
			RootProof: RootProofJSON{Total: rp.Total(), Index: rp.Index(), LeafHash: rp.LeafHash(), Aunts: rp.Aunts()},
		})
	}
	return out, nil
}

// RowJSON is share.GetRow's result.
type RowJSON struct {
	Shares [][]byte `json:"shares"`
	Side   string   `json:"side"`
}

// ShareGetRow returns a whole row of the extended square.
func (s *Service) ShareGetRow(_ context.Context, height uint64, row int) (*RowJSON, error) {
	sq, err := s.square(height)
	if err != nil {
		return nil, err
	}
	if err := checkCell(sq, row, 0); err != nil {
		return nil, err
	}
	return &RowJSON{Shares: sq.EDS.Row(row), Side: "BOTH"}, nil
}

// EDSJSON is share.GetEDS's result, rsmt2d's JSON shape.
type EDSJSON struct {
	DataSquare [][]byte `json:"data_square"`
	Codec      string   `json:"codec"`
}

// ShareGetEDS returns the whole extended square, row-major.
func (s *Service) ShareGetEDS(_ context.Context, height uint64) (*EDSJSON, error) {
	sq, err := s.square(height)
	if err != nil {
		return nil, err
	}
	w := sq.EDS.Width()
	out := &EDSJSON{Codec: "Leopard", DataSquare: make([][]byte, 0, w*w)}
	for r := range w {
		out.DataSquare = append(out.DataSquare, sq.EDS.Row(r)...)
	}
	return out, nil
}

// Verify checks the sample at (row, col) of a square of the given
// extended width against a data root alone.
func (s SampleJSON) Verify(dataRoot []byte, width, row, col int) error {
	p, err := s.Proof.Proof()
	if err != nil {
		return err
	}
	rp, err := merkle.NewProof(s.RootProof.Total, s.RootProof.Index, s.RootProof.LeafHash, s.RootProof.Aunts)
	if err != nil {
		return err
	}
	smp, err := erasure.NewSample(width, row, col, s.ProofType, s.Share, p, s.AxisRoot, rp)
	if err != nil {
		return err
	}
	return erasure.VerifySample(dataRoot, width, row, col, smp)
}
