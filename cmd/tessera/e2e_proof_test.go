package main

import (
	"context"
	"testing"

	"github.com/tessera-da/tessera/blob"
	"github.com/tessera-da/tessera/node/api"
	"github.com/tessera-da/tessera/node/rpc"
)

// verifyBlobProof fetches the blob's proofs and verifies them against the
// header's data root, as a rollup or light client would.
func verifyBlobProof(t *testing.T, ctx context.Context, c *rpc.Client, height uint64, b *blob.Blob) {
	t.Helper()
	var eh api.ExtendedHeader
	if err := c.Call(ctx, "header.GetByHeight", &eh, height); err != nil {
		t.Fatal(err)
	}
	var cp blob.CommitmentProof
	if err := c.Call(ctx, "blob.GetCommitmentProof", &cp, height, b.Namespace(), b.Commitment()); err != nil {
		t.Fatal(err)
	}
	if err := cp.Verify(eh.Tessera.DataRoot[:], b.Namespace(), b.Commitment()); err != nil {
		t.Fatalf("commitment proof does not verify against the data root: %v", err)
	}
	other := append(blob.Commitment(nil), b.Commitment()...)
	other[0] ^= 1
	if err := cp.Verify(eh.Tessera.DataRoot[:], b.Namespace(), other); err == nil {
		t.Fatal("commitment proof verifies for another commitment")
	}
	dah, err := eh.VerifiedDAH()
	if err != nil {
		t.Fatal(err)
	}
	var got blob.Blob
	if err := c.Call(ctx, "blob.Get", &got, height, b.Namespace(), b.Commitment()); err != nil {
		t.Fatal(err)
	}
	var p blob.Proof
	if err := c.Call(ctx, "blob.GetProof", &p, height, b.Namespace(), b.Commitment()); err != nil {
		t.Fatal(err)
	}
	if err := p.VerifyBlob(dah, &got); err != nil {
		t.Fatalf("blob proof does not verify against the DAH: %v", err)
	}
	var ok bool
	if err := c.Call(ctx, "blob.Included", &ok, height, b.Namespace(), &p, b.Commitment()); err != nil || !ok {
		t.Fatalf("blob.Included = %v, %v", ok, err)
	}
}
