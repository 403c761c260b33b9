package dataset

import (
	"bytes"
	"encoding/binary"
	"testing"
)

func FuzzParseCheckpoint(f *testing.F) {
	c, _ := testCheckpoint(f)
	f.Add(mustEncodeCheckpoint(f, c))
	c.Tensors, c.Format, c.TensorRoot, c.Proofs, c.DataSteps = nil, "pt", ComputeTensorRoot(nil), nil, nil
	if err := c.Sign(testKey(2)); err != nil {
		f.Fatal(err)
	}
	f.Add(mustEncodeCheckpoint(f, c))
	f.Add([]byte("TSCK\x01"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if c, ok := parseCanonical(t, b, ParseCheckpoint, ErrInvalidCheckpoint); ok {
			_ = c.Verify()
		}
	})
}

func FuzzParseRollback(f *testing.F) {
	r := testRollback(f, testRunID, ID{1})
	enc, err := r.MarshalBinary()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(enc)
	f.Add([]byte("TSRB\x01"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if r, ok := parseCanonical(t, b, ParseRollback, ErrInvalidRollback); ok {
			_ = r.Verify()
		}
	})
}

func FuzzParseSafetensorsHeader(f *testing.F) {
	file := buildSafetensors(f, testTensors)
	f.Add(file, uint64(len(file)))
	f.Add(safetensorsFile([]byte(`{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"b":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}`), []byte{1, 2}), uint64(12))
	f.Add(binary.LittleEndian.AppendUint64(nil, 2), uint64(10))
	f.Fuzz(func(t *testing.T, b []byte, size uint64) {
		h, err := ParseSafetensorsHeader(b, size)
		if err != nil {
			return
		}
		if h.DataStart != SafetensorsPrefixSize+h.HeaderLen || h.DataStart > size {
			t.Fatalf("data starts at %d in a file of %d", h.DataStart, size)
		}
		names := map[string]bool{}
		var end uint64
		for _, tn := range h.Tensors {
			n, err := tensorBytes(tn.DType, tn.Shape)
			if err != nil || tn.Start < h.DataStart || tn.End > size || tn.End-tn.Start != n || tn.Start < end || names[tn.Name] {
				t.Fatalf("accepted a bad tensor %+v", tn)
			}
			names[tn.Name] = true
			end = tn.End
		}
	})
}

// FuzzVerifyTensor: VerifyTensor accepts exactly the indexed bytes.
func FuzzVerifyTensor(f *testing.F) {
	c, file := testCheckpoint(f)
	for i, tn := range c.Tensors {
		f.Add(i, file[tn.Start:tn.End])
		f.Add(i, file[tn.Start:])
	}
	f.Fuzz(func(t *testing.T, i int, data []byte) {
		if i < 0 || i >= len(c.Tensors) {
			return
		}
		tn := c.Tensors[i]
		err := VerifyTensor(tn, data)
		if (err == nil) != bytes.Equal(data, file[tn.Start:tn.End]) {
			t.Fatalf("tensor %q: verdict %v for %d bytes", tn.Name, err, len(data))
		}
	})
}

// FuzzComputeCheckpointLog: any records give a log without panicking, and
// every logged checkpoint verifies.
func FuzzComputeCheckpointLog(f *testing.F) {
	c, _ := testCheckpoint(f)
	r := testRollback(f, testRunID, ID{1})
	rb, _ := r.MarshalBinary()
	f.Add(mustEncodeCheckpoint(f, c), rb, []byte("TSTP"))
	f.Fuzz(func(t *testing.T, ck, ctl, proof []byte) {
		l := ComputeCheckpointLog(testRunID, []RecordAt{{1, nil, ck}}, []RecordAt{{1, nil, ctl}}, []RecordAt{{1, nil, proof}})
		for _, lc := range l.Checkpoints {
			if err := lc.Checkpoint.Verify(); err != nil {
				t.Fatal(err)
			}
		}
	})
}
