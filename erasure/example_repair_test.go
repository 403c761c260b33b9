package erasure_test

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/tessera-da/tessera/erasure"
)

// Store a square as its ODS, reload it against the data root, rebuild it
// from a quarter of its cells, and serve samples from it.
func ExampleExtender_Repair() {
	e, err := erasure.NewExtender(erasure.DefaultParams(), nil)
	if err != nil {
		panic(err)
	}
	ods := make([][]byte, 4) // k = 2
	for i := range ods {
		ods[i] = erasure.TailPaddingShare()
		ods[i][erasure.ShareSize-1] = byte(i)
	}
	eds, _ := e.Extend(ods)
	dah, _ := e.ComputeDAH(eds)

	// Storage form: the ODS alone, checked against the data root on load.
	stored := eds.ODSBytes()
	var reloaded erasure.ExtendedSquare
	_, err = e.Restore(&reloaded, stored, dah.Hash())
	fmt.Println("stored bytes:", len(stored), "reloaded:", err == nil)

	// A node that has only the original quadrant rebuilds the rest.
	w := eds.Width()
	cells := make([][]byte, w*w)
	for r := range w / 2 {
		for c := range w / 2 {
			cells[r*w+c] = eds.Cell(r, c)
		}
	}
	got, err := e.Repair(cells, dah)
	var bad *erasure.ByzantineError
	switch {
	case errors.As(err, &bad):
		// The producer's parity is wrong: gossip a fraud proof.
		proof, _ := erasure.NewBadEncodingProof(dah, bad)
		wire, _ := proof.MarshalBinary()
		_ = wire
	case err != nil:
		fmt.Println("cannot repair:", err)
	default:
		fmt.Println("repaired:", bytes.Equal(got.Cell(w-1, w-1), eds.Cell(w-1, w-1)))
	}

	// Too few cells.
	_, err = e.Repair(make([][]byte, w*w), dah)
	fmt.Println("empty:", errors.Is(err, erasure.ErrUnrepairable))

	// Many samples from one square: build its trees once.
	p, _ := e.NewProver(eds, dah)
	smp, _ := p.ProveSample(3, 1, erasure.Col)
	fmt.Println("sample:", erasure.VerifySample(dah.Hash(), w, 3, 1, smp))
	// Output:
	// stored bytes: 2048 reloaded: true
	// repaired: true
	// empty: true
	// sample: <nil>
}
