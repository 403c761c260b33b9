package merkle_test

import (
	"fmt"

	"github.com/tessera-da/tessera/nmt/merkle"
)

func Example() {
	items := [][]byte{[]byte("row root 0"), []byte("row root 1"), []byte("col root 0")}
	root, proof, _ := merkle.Prove(items, 2)
	fmt.Println(len(root), proof.Index(), proof.Total(), len(proof.Aunts()))
	fmt.Println(proof.Verify(root, items[2]))
	fmt.Println(proof.Verify(root, items[1]) != nil)

	wire, _ := proof.MarshalBinary()
	decoded, err := merkle.ParseProof(wire)
	fmt.Println(err, decoded.Verify(root, items[2]))
	// Output:
	// 32 2 3 1
	// <nil>
	// true
	// <nil> <nil>
}
