package client_test

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"log"
	"os"

	"github.com/tessera-da/tessera/node/client"
	"github.com/tessera-da/tessera/node/objects"
)

// A training worker's data loader: for each step, wait for the seed,
// stream the assigned pages verified and in order, train on them, then
// prove and post exactly what was fed. (Compiled, not run: it needs a
// node; TestLoader runs the same steps against one.)
func Example_loader() {
	ctx := context.Background()
	c, err := client.Dial(ctx, "http://127.0.0.1:26658", client.Options{Token: os.Getenv("TOKEN")})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	var run objects.Ref // the REF.json `tessera train declare` printed
	b, err := os.ReadFile("run.json")
	if err != nil {
		log.Fatal(err)
	}
	if err := json.Unmarshal(b, &run); err != nil {
		log.Fatal(err)
	}
	key := ed25519.NewKeyFromSeed(make([]byte, 32)) // the worker's registered key

	loader, err := c.Loader(ctx, run, key, objects.ReadOptions{})
	if err != nil {
		log.Fatal(err)
	}
	for step := uint64(0); step < 3; step++ {
		st, err := loader.Step(ctx, step) // waits for the step's seed header
		if err != nil {
			log.Fatal(err)
		}
		err = st.Each(ctx, func(page uint64, data []byte) error {
			loss := trainOn(data) // one sample per page here
			st.Sample(sha256.Sum256(data), &loss)
			return nil
		})
		if err != nil {
			log.Fatal(err)
		}
		proof, err := st.Prove(ctx, client.ProveOptions{})
		if err != nil {
			log.Fatal(err)
		}
		ref, err := loader.Post(ctx, proof)
		if err != nil {
			log.Fatal(err)
		}
		log.Printf("step %d: proof %x at height %d", step, ref.ID, ref.Height)
	}
}

func trainOn([]byte) float32 { return 0 }
