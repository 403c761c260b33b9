package erasure_test

import (
	"encoding/hex"
	"fmt"

	"github.com/tessera-da/tessera/erasure"
)

// Extend an empty block's square, compute its data root, and prove and
// verify one sample with nothing but the data root.
func Example() {
	e, err := erasure.NewExtender(erasure.DefaultParams(), nil)
	if err != nil {
		panic(err)
	}
	ods := [][]byte{erasure.TailPaddingShare()} // k = 1
	eds, err := e.Extend(ods)
	if err != nil {
		panic(err)
	}
	dah, err := e.ComputeDAH(eds)
	if err != nil {
		panic(err)
	}
	dataRoot := dah.Hash()
	fmt.Println("width:", eds.Width())
	fmt.Println("data root:", hex.EncodeToString(dataRoot))

	// A light node asks for the parity cell (1, 0) and gets bytes back.
	smp, err := e.ProveSample(eds, dah, 1, 0, erasure.Row)
	if err != nil {
		panic(err)
	}
	wire, _ := smp.MarshalBinary()
	got, err := erasure.ParseSample(wire, eds.Width())
	if err != nil {
		panic(err)
	}
	fmt.Println("sample bytes:", len(wire))
	fmt.Println("verify:", erasure.VerifySample(dataRoot, eds.Width(), 1, 0, got))
	fmt.Println("wrong cell:", erasure.VerifySample(dataRoot, eds.Width(), 0, 1, got) != nil)
	// Output:
	// width: 2
	// data root: 3d96b7d238e7e0456f6af8e7cdf0a67bd6cf9c2089ecb559c659dcaa1f880353
	// sample bytes: 761
	// verify: <nil>
	// wrong cell: true
}
