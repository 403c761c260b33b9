package api

import (
	"context"
	"fmt"

	"github.com/tessera-da/tessera/blob"
	"github.com/tessera-da/tessera/node/rpc"
	"github.com/tessera-da/tessera/share"
)

// proofMethods returns the proof-serving methods.
func (s *Service) proofMethods() []reg {
	return []reg{
		{"blob.GetProof", rpc.PermRead, s.BlobGetProof, []string{"height", "namespace", "commitment"}},
		{"blob.Included", rpc.PermRead, s.BlobIncluded, []string{"height", "namespace", "proof", "commitment"}},
		{"blob.GetCommitmentProof", rpc.PermRead, s.BlobGetCommitmentProof, []string{"height", "namespace", "commitment"}},
		{"share.GetNamespaceData", rpc.PermRead, s.ShareGetNamespaceData, []string{"height", "namespace"}},
	}
}

// findBlob returns the stored blob with commitment c in namespace ns at
// height, with the square it is in.
func (s *Service) findBlob(height uint64, ns share.Namespace, c blob.Commitment) (*blob.Blob, *Square, error) {
	b, err := s.BlobGet(context.Background(), height, ns, c)
	if err != nil {
		return nil, nil, err
	}
	sq, err := s.square(height)
	if err != nil {
		return nil, nil, err
	}
	return b, sq, nil
}

// odsStart converts an EDS index (row·2k + col, in the original quadrant)
// into an ODS index (row·k + col).
func odsStart(edsIndex, k int) int { return (edsIndex/(2*k))*k + edsIndex%(2*k) }

// BlobGetProof returns the NMT proofs of the blob's shares, one per row it
// spans, against the row roots of the header's DAH.
func (s *Service) BlobGetProof(_ context.Context, height uint64, ns share.Namespace, c blob.Commitment) (*blob.Proof, error) {
	b, sq, err := s.findBlob(height, ns, c)
	if err != nil {
		return nil, err
	}
	p, err := blob.ProveBlob(sq.EDS, odsStart(b.Index(), sq.EDS.ODSWidth()), b.ShareCount())
	if err != nil {
		return nil, err
	}
	return &p, nil
}

// BlobIncluded reports whether proof proves that the blob with commitment c
// in namespace ns is in the block at height. A proof that does not verify
// gives false, not an error.
func (s *Service) BlobIncluded(_ context.Context, height uint64, ns share.Namespace, proof *blob.Proof, c blob.Commitment) (bool, error) {
	if proof == nil {
		return false, blob.ErrInvalidProof
	}
	b, sq, err := s.findBlob(height, ns, c)
	if err != nil {
		if err == ErrBlobNotFound {
			return false, nil
		}
		return false, err
	}
	err = proof.VerifyIncluded(sq.DAH, ns, c, b.Blob, odsStart(b.Index(), sq.EDS.ODSWidth()))
	return err == nil, nil
}

// BlobGetCommitmentProof returns a proof of the blob's commitment that
// verifies against the header's data root alone. A node without squares
// (s.Remote set: a light node) asks full peers for it and checks it
// against its own header's data root before returning it.
func (s *Service) BlobGetCommitmentProof(ctx context.Context, height uint64, ns share.Namespace, c blob.Commitment) (*blob.CommitmentProof, error) {
	if s.Remote != nil {
		return s.remoteCommitmentProof(ctx, height, ns, c)
	}
	b, sq, err := s.findBlob(height, ns, c)
	if err != nil {
		return nil, err
	}
	return blob.ProveCommitment(sq.EDS, sq.DAH, odsStart(b.Index(), sq.EDS.ODSWidth()), b.ShareCount())
}

// remoteCommitmentProof fetches a commitment proof from full peers and
// verifies it against the stored header's data root.
func (s *Service) remoteCommitmentProof(ctx context.Context, height uint64, ns share.Namespace, c blob.Commitment) (*blob.CommitmentProof, error) {
	if err := s.checkHeight(height); err != nil {
		return nil, err
	}
	if len(c) != blob.CommitmentSize {
		return nil, fmt.Errorf("%w: commitment of %d bytes, want %d", blob.ErrInvalidRequest, len(c), blob.CommitmentSize)
	}
	h, err := s.storedHeader(height)
	if err != nil {
		return nil, err
	}
	cp, err := s.Remote.CommitmentProof(ctx, height, ns, c)
	if err != nil {
		return nil, err
	}
	if err := cp.Verify(h.DataRoot[:], ns, c); err != nil {
		return nil, fmt.Errorf("commitment proof from peers at height %d: %w", height, err)
	}
	return cp, nil
}

// ShareGetNamespaceData returns the shares of ns in every row whose root
// covers it, each with its NMT proof (an absence proof for rows without it).
func (s *Service) ShareGetNamespaceData(_ context.Context, height uint64, ns share.Namespace) (blob.NamespaceData, error) {
	sq, err := s.square(height)
	if err != nil {
		return nil, err
	}
	return blob.ProveNamespaceData(sq.EDS, sq.DAH, ns)
}
