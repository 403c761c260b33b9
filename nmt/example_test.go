package nmt_test

import (
	"bytes"
	"fmt"

	"github.com/tessera-da/tessera/nmt"
)

func Example() {
	ns := func(b byte) []byte { return append(make([]byte, nmt.NamespaceSize-1), b) }

	// Push shares (each starts with its namespace) under their namespaces,
	// in non-decreasing namespace order, as Celestia's row trees do.
	tree := nmt.New()
	var leaves [][]byte
	for i, id := range []byte{1, 1, 3, 7} {
		share := append(ns(id), bytes.Repeat([]byte{byte(i)}, 8)...)
		if err := tree.PushNamespaced(ns(id), share); err != nil {
			panic(err)
		}
		leaves = append(leaves, append(ns(id), share...))
	}
	root := tree.Root()
	fmt.Printf("root namespaces %x..%x\n", nmt.MinNamespace(root)[28:], nmt.MaxNamespace(root)[28:])

	// Prove and verify every share of namespace 1.
	proof, _ := tree.ProveNamespace(ns(1))
	fmt.Println("presence:", proof.Start(), proof.End(), proof.VerifyNamespace(root, ns(1), leaves[0:2]...))

	// Withholding a share of the namespace is detected.
	fmt.Println("withheld:", proof.VerifyNamespace(root, ns(1), leaves[0]) != nil)

	// Namespace 5 lies inside the root's range but is absent.
	absent, _ := tree.ProveNamespace(ns(5))
	fmt.Println("absence:", absent.IsAbsence(), absent.VerifyNamespace(root, ns(5)))

	// Proofs travel as nmt's protobuf pb.Proof.
	wire, _ := proof.MarshalBinary()
	decoded, err := nmt.ParseProof(wire)
	fmt.Println("decoded:", err, decoded.VerifyInclusion(root, leaves[0:2]...))

	// Output:
	// root namespaces 01..07
	// presence: 0 2 <nil>
	// withheld: true
	// absence: true <nil>
	// decoded: <nil> <nil>
}
