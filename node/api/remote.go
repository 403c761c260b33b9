package api

import (
	"context"
	"fmt"

	"github.com/tessera-da/tessera/blob"
	"github.com/tessera-da/tessera/share"
)

// Remote fetches data of one block from full peers, verified against the
// block's data root (light nodes hold no squares).
type Remote interface {
	// NamespaceData returns the namespace's data in every row that covers
	// it, each row verified against its root and the roots against the
	// data root.
	NamespaceData(ctx context.Context, height uint64, ns share.Namespace) (blob.NamespaceData, error)
	// CommitmentProof returns the commitment proof of the blob with
	// commitment c in namespace ns, verified against the data root.
	CommitmentProof(ctx context.Context, height uint64, ns share.Namespace, c blob.Commitment) (*blob.CommitmentProof, error)
}

// remoteBlobs returns the blobs of ns at height read from verified
// namespace data: the namespace's shares in every row that covers it, in
// square order, parsed back into blobs with their commitments.
func (s *Service) remoteBlobs(ctx context.Context, height uint64, ns share.Namespace) ([]*blob.Blob, error) {
	nd, err := s.Remote.NamespaceData(ctx, height, ns)
	if err != nil {
		return nil, err
	}
	raw := nd.Shares()
	shares := make([]share.Share, 0, len(raw))
	for _, r := range raw {
		sh, err := share.NewShare(r)
		if err != nil {
			return nil, fmt.Errorf("namespace data at height %d: %w", height, err)
		}
		shares = append(shares, sh)
	}
	sbs, err := share.ParseBlobs(shares)
	if err != nil {
		return nil, fmt.Errorf("namespace data at height %d: %w", height, err)
	}
	out := make([]*blob.Blob, 0, len(sbs))
	for _, sb := range sbs {
		b, err := blob.FromShareBlob(sb)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}
