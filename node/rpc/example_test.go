package rpc_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"time"

	"github.com/tessera-da/tessera/node/rpc"
)

func Example() {
	secret, err := rpc.NewSecret()
	if err != nil {
		panic(err)
	}
	srv, err := rpc.NewServer(rpc.Options{Secret: secret})
	if err != nil {
		panic(err)
	}
	// A read method with positional params (height, namespace).
	err = srv.Register("blob.GetAll", rpc.PermRead,
		func(ctx context.Context, height uint64, namespaces [][]byte) ([]string, error) {
			if height == 0 {
				return nil, errors.New("blob: not found")
			}
			return []string{fmt.Sprintf("%d blobs at %d", len(namespaces), height)}, nil
		}, "height", "namespaces")
	if err != nil {
		panic(err)
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()

	ctx := context.Background()
	token, _ := rpc.NewToken(secret, rpc.PermsFor(rpc.PermRead), time.Time{})
	client, _ := rpc.Dial(ctx, hs.URL, token)
	defer client.Close()

	var out []string
	err = client.Call(ctx, "blob.GetAll", &out, 740731, [][]byte{make([]byte, 29)})
	fmt.Println(out, err)

	err = client.Call(ctx, "blob.GetAll", &out, 0, [][]byte{})
	var rerr *rpc.Error
	fmt.Println(errors.As(err, &rerr), rerr.Code, err)

	anonymous, _ := rpc.Dial(ctx, hs.URL, "")
	defer anonymous.Close()
	fmt.Println(anonymous.Call(ctx, "blob.GetAll", &out, 1, [][]byte{}))
	// Output:
	// [1 blobs at 740731] <nil>
	// true 1 blob: not found
	// missing permission to invoke 'blob.GetAll' (need 'read')
}
