package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tessera-da/tessera/blob"
	"github.com/tessera-da/tessera/node/api"
	"github.com/tessera-da/tessera/share"
)

// blobProofCmds returns `blob proof` and `blob included`.
func blobProofCmds(f *clientFlags) []*cobra.Command {
	proof := &cobra.Command{
		Use:   "proof HEIGHT NAMESPACE COMMITMENT",
		Short: "Fetch the blob's commitment proof and verify it against the header's data root alone",
		Args:  cobra.ExactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			h, ns, c, eh, err := f.blobRefAndHeader(cmd, args)
			if err != nil {
				return err
			}
			var cp blob.CommitmentProof
			if err := f.call(cmd, "blob.GetCommitmentProof", &cp, h, ns, c); err != nil {
				return err
			}
			if err := cp.Verify(eh.Tessera.DataRoot[:], ns, c); err != nil {
				return fmt.Errorf("commitment proof does NOT verify against data root %s: %w", eh.Tessera.DataRoot, err)
			}
			return printJSON(cmd.OutOrStdout(), map[string]any{"height": h, "data_root": eh.Tessera.DataRoot, "verified": true, "proof": &cp})
		},
	}
	included := &cobra.Command{
		Use:   "included HEIGHT NAMESPACE COMMITMENT",
		Short: "Fetch the blob and its share proof, verify both against the header's DAH and data root, and ask the node (blob.Included)",
		Args:  cobra.ExactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			h, ns, c, eh, err := f.blobRefAndHeader(cmd, args)
			if err != nil {
				return err
			}
			dah, err := eh.VerifiedDAH()
			if err != nil {
				return err
			}
			var b blob.Blob
			if err := f.call(cmd, "blob.Get", &b, h, ns, c); err != nil {
				return err
			}
			var p blob.Proof
			if err := f.call(cmd, "blob.GetProof", &p, h, ns, c); err != nil {
				return err
			}
			if err := p.VerifyBlob(dah, &b); err != nil {
				return fmt.Errorf("blob proof does NOT verify: %w", err)
			}
			var ok bool
			if err := f.call(cmd, "blob.Included", &ok, h, ns, &p, c); err != nil {
				return err
			}
			return printJSON(cmd.OutOrStdout(), map[string]any{"height": h, "verified_locally": true, "node_says_included": ok})
		},
	}
	return []*cobra.Command{proof, included}
}

// blobRefAndHeader parses HEIGHT NAMESPACE COMMITMENT and fetches the
// header at HEIGHT.
func (f *clientFlags) blobRefAndHeader(cmd *cobra.Command, args []string) (uint64, share.Namespace, blob.Commitment, *api.ExtendedHeader, error) {
	h, ns, c, err := blobRef(args)
	if err != nil {
		return 0, ns, nil, nil, err
	}
	eh, err := f.header(cmd, h)
	return h, ns, c, eh, err
}

// header fetches the header at height, which must carry its compact form.
func (f *clientFlags) header(cmd *cobra.Command, height uint64) (*api.ExtendedHeader, error) {
	var eh api.ExtendedHeader
	if err := f.call(cmd, "header.GetByHeight", &eh, height); err != nil {
		return nil, err
	}
	if eh.Tessera == nil {
		return nil, fmt.Errorf("header %d has no compact header", height)
	}
	return &eh, nil
}
