package objects

import (
	"context"
	"fmt"

	"github.com/tessera-da/tessera/blob"
	"github.com/tessera-da/tessera/blob/dataset"
	"github.com/tessera-da/tessera/share"
)

// encodedRecord is a dataset record (manifest, run, checkpoint, rollback,
// training proof) that encodes itself and names itself by its ID.
type encodedRecord[I ~[32]byte] interface {
	MarshalBinary() ([]byte, error)
	ID() (I, error)
}

// encodeRecord returns r's canonical encoding and its ID.
func encodeRecord[I ~[32]byte](r encodedRecord[I]) ([]byte, [32]byte, error) {
	enc, err := r.MarshalBinary()
	if err != nil {
		return nil, [32]byte{}, err
	}
	id, err := r.ID()
	if err != nil {
		return nil, [32]byte{}, err
	}
	return enc, [32]byte(id), nil
}

// publishRecord encodes r and posts it in namespace (kind, scope).
func publishRecord[I ~[32]byte](ctx context.Context, c Caller, kind dataset.Kind, scope [32]byte, r encodedRecord[I]) (*Ref, error) {
	enc, id, err := encodeRecord(r)
	if err != nil {
		return nil, err
	}
	return postRecord(ctx, c, kind, scope, id, enc)
}

// postRecord submits enc as a blob in namespace (kind, scope) and returns
// its Ref with ID id.
func postRecord(ctx context.Context, c Caller, kind dataset.Kind, scope, id [32]byte, enc []byte) (*Ref, error) {
	ns, err := dataset.Namespace(kind, scope[:])
	if err != nil {
		return nil, err
	}
	b, err := blob.New(ns, enc, share.ShareVersionZero, nil)
	if err != nil {
		return nil, err
	}
	return submitBlob(ctx, c, ns, b, id, fmt.Sprintf("%s record", kind))
}

// submitBlob submits b, of namespace ns, and returns its Ref with ID id;
// what names the blob in a failure.
func submitBlob(ctx context.Context, c Caller, ns share.Namespace, b *blob.Blob, id [32]byte, what string) (*Ref, error) {
	var height uint64
	if err := c.Call(ctx, "blob.Submit", &height, []*blob.Blob{b}, nil); err != nil {
		return nil, fmt.Errorf("submitting the %s: %w", what, err)
	}
	return &Ref{ID: id, Height: height, Namespace: ns, Commitment: b.Commitment()}, nil
}
