// Package objects stores objects larger than a blob (datasets,
// checkpoints) as page blobs under a signed manifest, through any node's
// JSON-RPC API (a Caller), and reads them back verifying every page.
//
// # Publishing
//
// Put reads an io.ReaderAt page by page (Options.PageSize, default 1 MiB),
// submits the pages in parallel with blob.SubmitAsync (at most
// Options.Parallel pages' bytes in memory; a page's bytes are dropped once
// submitted, while its inclusion is awaited), then signs and submits the
// manifest (blob.Submit) and returns its Ref. With Options.Journal every
// included page's entry is appended to a journal file and synced; a rerun
// rereads each journaled page, and keeps its entry when the bytes hash the
// same and its blob's commitment proof still verifies against its block's
// data root, so it resubmits only what is missing and, when nothing
// changed, returns the journaled ref without submitting anything. A read
// error or a short input fails naming the page and publishes no manifest.
//
// # Reading
//
// FetchManifest, Get, GetRange, GetRangeWith, Download and Verify trust
// only the Ref (manifest ID, height, namespace, commitment) and the headers
// the called node serves (header.GetByHeight, cached per height). For the
// manifest they check its blob's commitment proof against its block's data
// root, its canonical encoding, its publisher signature and that its ID is
// the Ref's. For each page they check, before any byte is returned or
// written to an output: length and SHA-256 against the manifest entry, the
// entry's Merkle proof against the manifest's page root, the blob
// commitment recomputed from (entry namespace, bytes) against the entry,
// and that commitment's proof against the data root of the entry's block
// (fetched once per distinct height and commitment). Page bytes come from
// the node's piece store (dataset.GetPiece, bounded by
// ReadOptions.PieceTimeout; a read stops asking after two misses in a row)
// and otherwise as blobs (blob.Get). Pages are fetched
// ReadOptions.Parallel at a time. A byte range fetches only the pages it
// overlaps.
//
// Download writes verified pages to PATH.partial and records them in
// PATH.partial.state; rerunning it resumes, hashing again the pages the
// state records and fetching those that no longer match. PATH appears, by
// rename, only when every page of the range is verified.
//
// List returns the signed manifests under a scope whose blobs are proven
// included; Verify fetches and checks every page without keeping it;
// VerifyLocal checks a local copy against a verified manifest offline.
//
// # Training
//
// DeclareRun posts a run over a published manifest; GetRun and Assign ask
// the node for a run and a worker's pages. ProveTraining fetches the run,
// its manifest and the assignment and builds a worker's proof of one
// step; a caller proving many steps opens the run's manifest once
// (Open(RunManifestRef(run))) and calls Object.ProveStep per step, which
// fetches none of them again.
//
// # Not guaranteed
//
// Headers are taken from the called node: a client that does not trust
// that node must check the headers (signature, chain) itself. Whether a
// manifest's publisher key is trusted is the caller's decision. Data
// availability of the pages comes from sampling, not from this package.
//
// # Untrusted input
//
// Everything a node returns, journal files and download state files are
// untrusted: they are size-checked before allocation, parsed without
// panics, and failures wrap ErrMismatch, ErrJournal, ErrInvalid or a
// blob/dataset sentinel with a message naming the page or record.
package objects
