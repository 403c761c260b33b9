// Package exchange implements Tessera's request/response protocols over
// libp2p streams: samples, rows, namespace data, whole original squares
// (ODS), header ranges and blob commitment proofs. A Server answers them from a Source; a Client
// asks one peer at a time and verifies every response against a trusted
// header before returning anything; Client.SampleFromAny spreads a
// sampling round over several peers and routes around bad or slow ones.
//
// # Protocols
//
// Each protocol has its own ID, /tessera/<chain-id>/<name>/v1
// (ProtocolID, Protocols), and carries exactly one request and one
// response per stream: the client writes the request and closes its write
// side; the server answers and closes (or resets the stream).
//
//	name     request                      response
//	samples  height, ≤ 1024 (row, col)    per coordinate: its erasure.Sample proven in its row tree, or "don't have"
//	row      height, row                  the row's root, the root's proof in the data root, the row's 2k shares
//	nd       height, namespace            row roots of a range of original rows with their proofs, then the
//	                                      namespace's blob.RowNamespaceData of every row covering it
//	ods      height                       the k×k original square
//	headers  from, to (≤ 256 heights)     the compact headers [from, to] the server holds, from `from` on
//	cp       height, namespace, commitment  the blob's blob.CommitmentProof (what blob.GetCommitmentProof
//	                                      returns on a full node), so light nodes can prove blobs
//
// # Framing
//
// A message is a frame: uvarint(n) ‖ payload[n], with a minimal length
// prefix of at most 5 bytes and n ≥ 1. payload[0] is the message type,
// which also names the format version (high nibble: protocol; 0x11/0x12
// samples, 0x21/0x22 row, 0x31/0x32/0x33 nd, 0x41/0x42/0x43 ods,
// 0x51/0x52 headers, 0x61/0x62 cp). Integers are big-endian. A response head starts with
// a status byte (0 ok, 1 not found, 2 bad request, 3 busy, 4 internal);
// a head with another status than ok carries nothing else.
//
//	samples request   0x11 ‖ height u64 ‖ n u16 ‖ n × (row u16 ‖ col u16)
//	samples response  0x12 ‖ status ‖ [2k u16 ‖ n u16 ‖ n × (has u8 ‖ [sample])]
//	                  sample: erasure.Sample.AppendBinary, SampleSize(2k) bytes
//	row request       0x21 ‖ height u64 ‖ row u16
//	row response      0x22 ‖ status ‖ [2k u16 ‖ root (90) ‖ log2(4k) aunts (32 each) ‖ 2k shares (512 each)]
//	nd request        0x31 ‖ height u64 ‖ namespace (29)
//	nd head           0x32 ‖ status ‖ [2k u16 ‖ first u16 ‖ n u16 ‖ n roots (90 each) ‖ n × log2(4k) aunts]
//	nd row            0x33 ‖ shwap RowNamespaceData protobuf (blob.RowNamespaceData.MarshalBinary)
//	ods request       0x41 ‖ height u64
//	ods head          0x42 ‖ status ‖ [k u16]
//	ods data          0x43 ‖ k² shares (512 each), row-major
//	headers request   0x51 ‖ from u64 ‖ to u64
//	headers response  0x52 ‖ status ‖ [n u16 ‖ n × (len u16 ‖ header.MarshalBinary)]
//	cp request        0x61 ‖ height u64 ‖ namespace (29) ‖ commitment (32)
//	cp response       0x62 ‖ status ‖ [blob.CommitmentProof, binary encoding]
//
// The nd response is the head and then one nd row frame per row of the
// head's range whose root covers the namespace, in order. The ods response
// is the head and then, when ok, the data frame.
//
// # Caps
//
// Every length is checked against a cap before anything is allocated for
// it. A client computes its caps from the request it sent and the header it
// trusts (square width k), never from what the peer declares; a frame over
// its cap, of the wrong type or of the wrong exact size ends the exchange
// with ErrBadResponse, and a server resets the stream (TestCaps checks
// the figures below).
//
//	message            cap (bytes)                                  at k = 512
//	any request        11 + 4·1024                                   4,107
//	samples response   6 + n·(1 + SampleSize(2k)), n ≤ 1024          1,904,646 (16 samples: 29,766)
//	row response       exactly 94 + 32·log2(4k) + 2k·512             524,734
//	nd head            8 + k·(90 + 32·log2(4k))                     226,312
//	nd row             1 + k·520 + nmt.MaxEncodedProofSize + 16      278,405
//	ods head           4
//	ods data           exactly 1 + k²·512, read straight into a      134,217,729
//	                   buffer sized from the header's k
//	headers response   4 + n·(2 + header.MaxEncodedSize), n ≤ 256    63,492
//	cp response        2 + 512 + 4096·123 + k·(per-row JSON of one    2,405,378
//	                   NMT range proof, its row root and the root's
//	                   merkle proof), at most MaxCommitmentProofSize
//	                   (4 MiB)
//
// # Deadlines and limits
//
// Every stream has deadlines. Server: ServerOptions.ReadTimeout (5 s) to
// receive the request, then WriteTimeout (10 s: samples, headers) or
// BulkWriteTimeout (2 min: row, nd, ods, cp) to send the answer. Client: the
// earlier of the context's deadline and ClientOptions.Timeout (10 s) or
// BulkTimeout (2 min), stream opening included; cancelling the context
// resets the stream. A server answers at most MaxStreams requests at once
// and MaxStreamsPerPeer per peer; beyond them it answers status busy
// (ErrBusy at the client). Any malformed or oversized request resets the
// stream; a well-formed request the server cannot answer (coordinates
// outside its square) gets status bad request.
//
// # What is verified where
//
//   - samples: the client parses each sample (erasure.ParseSample: exact
//     size and shapes) and verifies it with erasure.VerifySample against
//     the header's data root, the width 2k and the coordinates it asked
//     for. A sample proven in its column tree verifies too (a light node
//     serving samples it verified may hold those). The server proves from
//     cached row trees whose roots it checks against the DAH when it
//     builds them.
//   - row: the client checks the root's RFC-6962 proof in the data root at
//     the row's index and that the 2k shares rebuild that root (Celestia's
//     NMT with the parity namespace outside Q0). It does not check that the
//     row is a valid Reed-Solomon codeword: that is fraud-proof business.
//   - nd: the client checks each root's proof in the data root. The head's
//     rows [first, first+n) must be original rows; unless first is 0 the
//     first root must lie wholly below the namespace (max < ns), and
//     unless first+n is k the last must lie wholly above it (min > ns).
//     Every row of the range whose root covers the namespace must then
//     come with data that verifies as blob.RowNamespaceData.Verify does
//     (namespace proof with completeness within the row, or an absence
//     proof). In a valid block the original square is laid out in
//     namespace order (row-major), so no row outside the range can cover
//     the namespace; a block laid out out of order can hide rows from this
//     check, as it can from any check that does not read every row root.
//     The result equals blob.ProveNamespaceData on the square.
//   - ods: the client extends the square, computes its DAH and compares
//     the data root with the header's (Client.Square also returns the
//     extended square and the DAH).
//   - headers: the client decodes them and checks that their heights run
//     from `from` on; the caller verifies signatures and the chain.
//   - cp: the client decodes the proof (blob.NewCommitmentProof's shape
//     checks) and verifies it with blob.CommitmentProof.Verify against the
//     header's data root, the namespace and the commitment it asked for,
//     and checks that its row proofs are for the header's square width; a
//     proof that fails is a bad response. The server finds the blob through
//     the Source's BlobLocator when it has one (a full node's blob index),
//     else by parsing the namespace's shares in the square and computing
//     their commitments, then proves it with blob.ProveCommitment and
//     answers "internal error" rather than a proof of another blob if the
//     index was wrong.
//
// # Errors
//
// Every error caused by a peer is a *PeerError naming the peer and the
// protocol and wrapping a sentinel: ErrBadResponse (malformed, oversized,
// truncated or unverifiable: the peer misbehaved, drop it and score it
// down; IsBadPeer), ErrNotFound (it does not hold the data; a samples
// answer may be partial, and Samples then returns the samples it got),
// ErrBusy, ErrRejected (bad request or internal error on its side),
// ErrTimeout, ErrStream. SampleFromAny reports every peer failure to
// ClientOptions.OnPeerError and ends with ErrIncomplete when some
// coordinates got no verified sample.
//
// # Serving speed
//
// erasure.Extender.ProveSample rebuilds a whole row tree per proof
// (O(k) hashes). The server instead builds each row's tree once per square
// (on first use, or for all rows with Server.Prepare) and keeps its
// levels from the third up (about k·90 bytes per row: 47 MB for a k = 512
// square, within ServerOptions.TreeCacheBytes, least recently used square
// evicted first); a proof then costs its copies plus 3 leaf and 1 inner
// hash. Measured on this machine kind (2 cores, SHA-NI): one core serves
// about 300,000 samples/s at k = 512 from a prepared square
// (BenchmarkServeSamples); building a row costs 0.8 ms at k = 512
// (BenchmarkRowTreeBuild). A sampling round of 16 samples from 3 peers on
// loopback takes about 0.6 ms (p99 ≈ 1 ms on an idle machine) at k = 512
// and receives 29,784 bytes of response frames (BenchmarkSampleRound).
//
// # Untrusted input
//
// Everything read from a stream is untrusted. Decoders check sizes before
// slicing, never panic, and are fuzzed (FuzzDecode*). The Source, the
// headers given to the Client and the Client's options are trusted.
package exchange
