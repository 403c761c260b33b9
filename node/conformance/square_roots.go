package conformance

import (
	"bytes"
	"fmt"

	"github.com/tessera-da/tessera/blob"
	"github.com/tessera-da/tessera/erasure"
	"github.com/tessera-da/tessera/internal/vectors"
	"github.com/tessera-da/tessera/nmt"
	"github.com/tessera-da/tessera/share"
)

// extendSquare extends sq and computes its DAH, for square.json's and
// real_block.json's row, column and data roots (and real_block's on-chain
// data hash) and their namespace_data row proofs.
func extendSquare(sq share.Square) (*erasure.ExtendedSquare, *erasure.DAH, error) {
	ext, err := erasure.NewExtender(erasure.DefaultParams(), nil)
	if err != nil {
		return nil, nil, err
	}
	eds, err := ext.ExtendFlat(sq.Bytes())
	if err != nil {
		return nil, nil, err
	}
	dah, err := ext.ComputeDAH(eds)
	if err != nil {
		return nil, nil, err
	}
	return eds, dah, nil
}

// checkRowNamespaceProof checks one namespace_data row: "proof" is the
// proof Tessera builds for that row (blob.ProveRowNamespaceData) compared
// field by field with the vector's, and "verified" is whether Tessera's
// verifier accepts the vector's proof, with the row's shares of the
// namespace from Tessera's own square, against Tessera's row root.
func checkRowNamespaceProof(r *Report, kase string, eds *erasure.ExtendedSquare, dah *erasure.DAH, row int, ns share.Namespace, vp vectors.Proof, verified bool) {
	nodes, leafHash, err := decodeVectorProof(kase+".proof", vp)
	if err != nil {
		r.Fail(kase, "proof", "%v", err)
		r.Skip(1)
		return
	}
	got, err := blob.ProveRowNamespaceData(eds, dah, ns, row)
	if !r.CheckErr(kase, "proof", err) {
		r.Skip(1)
		return
	}
	p := got.Proof()
	switch {
	case p.Start() != vp.Start || p.End() != vp.End:
		r.Fail(kase, "proof", "range [%d, %d), want [%d, %d)", p.Start(), p.End(), vp.Start, vp.End)
	case !bytes.Equal(bytes.Join(p.Nodes(), nil), bytes.Join(nodes, nil)):
		r.Fail(kase, "proof", "nodes %s, want %s", short(bytes.Join(p.Nodes(), nil)), short(bytes.Join(nodes, nil)))
	case !bytes.Equal(p.LeafHash(), leafHash):
		r.Fail(kase, "proof", "leaf_hash %s, want %s", short(p.LeafHash()), short(leafHash))
	case p.IsMaxNamespaceIgnored() != vp.IsMaxNamespaceIgnored:
		r.Fail(kase, "proof", "is_max_namespace_ignored %v, want %v", p.IsMaxNamespaceIgnored(), vp.IsMaxNamespaceIgnored)
	default:
		r.Pass()
	}
	err = verifyVectorRowProof(dah, ns, row, got.Shares(), vp.Start, vp.End, nodes, leafHash, vp.IsMaxNamespaceIgnored)
	if !CheckEq(r, kase, "verified", err == nil, verified) && err != nil {
		r.Failures[len(r.Failures)-1] += fmt.Sprintf(" (%v)", err)
	}
}

// verifyVectorRowProof verifies a vector's row proof as row namespace data
// of ns with the given shares.
func verifyVectorRowProof(dah *erasure.DAH, ns share.Namespace, row int, shares [][]byte, start, end int, nodes [][]byte, leafHash []byte, ignoreMax bool) error {
	p, err := nmt.NewProof(start, end, nodes, leafHash, ignoreMax)
	if err != nil {
		return err
	}
	rnd, err := blob.NewRowNamespaceData(shares, p)
	if err != nil {
		return err
	}
	return rnd.Verify(dah, ns, row)
}
