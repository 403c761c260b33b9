package dataset_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"fmt"

	"github.com/tessera-da/tessera/blob/dataset"
)

// Example publishes a small object as pages under a signed manifest, then
// verifies one page as a downloader would, and computes a worker's pages.
func Example() {
	data := bytes.Repeat([]byte("tokens "), 100) // 700 bytes
	pages, _ := dataset.Split(data, 256)

	datasetScope := sha256.Sum256([]byte("my-dataset"))
	ns, _ := dataset.Namespace(dataset.DatasetPages, datasetScope[:])
	m := &dataset.Manifest{
		ObjectLength: uint64(len(data)),
		PageSize:     256,
		MediaType:    "text/plain",
		Name:         "example",
		RecordFormat: "jsonl",
	}
	for i, p := range pages {
		m.Entries = append(m.Entries, dataset.PageEntry{
			Index: uint64(i), Height: 10 + uint64(i), Namespace: ns,
			Commitment: sha256.Sum256(p), // the page blob's share commitment in real use
			Length:     uint64(len(p)), SHA256: sha256.Sum256(p),
		})
	}
	priv := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	if err := m.Sign(priv); err != nil {
		panic(err)
	}
	enc, _ := m.MarshalBinary()

	// A downloader parses and verifies the manifest, then each page.
	got, err := dataset.ParseManifest(enc)
	if err != nil {
		panic(err)
	}
	fmt.Println("manifest verifies:", got.Verify() == nil)
	root, _ := got.ComputePageRoot()
	entry, proof, _ := got.ProvePage(2) // in real use a peer sends these
	fmt.Println("page 2 verifies:", dataset.VerifyPage(root, entry, proof, pages[2]) == nil)
	fmt.Println("wrong bytes verify:", dataset.VerifyPage(root, entry, proof, pages[1]) == nil)

	// A run over 3 pages with 2 workers, 2 pages per step, replication 1.
	params := dataset.Params{Pages: 3, Workers: 2, PagesPerStep: 2, Replication: 1}
	seed := dataset.ComputeSeed(sha256.Sum256([]byte("header")), sha256.Sum256([]byte("run")), 0)
	var all []uint64
	for w := range params.Workers {
		mine, _ := dataset.Assign(seed, seed, params, 0, w)
		all = append(all, mine...)
	}
	fmt.Println("pages at step 0:", len(all))
	// Output:
	// manifest verifies: true
	// page 2 verifies: true
	// wrong bytes verify: false
	// pages at step 0: 2
}
