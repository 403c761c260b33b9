package dataset

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"strings"
	"testing"
)

func testRollback(t testing.TB, runID [32]byte, to ID) *Rollback {
	t.Helper()
	r := &Rollback{RunID: runID, To: to, Step: 10, Reason: "loss spike at step 11"}
	if err := r.Sign(testKey(6)); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestRollbackRoundTripAndMutations(t *testing.T) {
	r := testRollback(t, testRunID, ID{1})
	enc, err := r.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	p, err := ParseRollback(enc)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Verify(); err != nil {
		t.Fatal(err)
	}
	if again, _ := p.MarshalBinary(); !bytes.Equal(again, enc) {
		t.Fatal("re-encoding differs")
	}
	checkEveryMutation(t, enc, ErrInvalidRollback, ParseRollback, (*Rollback).Verify)
	for _, tc := range []struct {
		name   string
		mutate func(r *Rollback)
		want   error
	}{
		{"wrong signature", func(r *Rollback) { r.Signature[0] ^= 1 }, ErrInvalidCheckpointSignature},
		{"reason changed", func(r *Rollback) { r.Reason += "!" }, ErrInvalidCheckpointSignature},
		{"unsigned", func(r *Rollback) { r.Signature = nil }, ErrInvalidCheckpointSignature},
		{"no checkpoint", func(r *Rollback) { r.To = ID{} }, ErrInvalidRollback},
		{"reason not UTF-8", func(r *Rollback) { r.Reason = "\xff" }, ErrInvalidRollback},
		{"reason too long", func(r *Rollback) { r.Reason = strings.Repeat("x", MaxRollbackReasonLen+1) }, ErrInvalidRollback},
		{"short key", func(r *Rollback) { r.PublisherKey = r.PublisherKey[:5] }, ErrInvalidRollback},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := testRollback(t, testRunID, ID{1})
			tc.mutate(q)
			if err := q.Verify(); !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
	if _, err := ParseRollback(append(bytes.Clone(enc), 1)); !errors.Is(err, ErrInvalidRollback) {
		t.Fatalf("trailing byte: %v", err)
	}
	if _, err := ParseRollback(make([]byte, MaxRollbackSize+1)); !errors.Is(err, ErrInvalidRollback) {
		t.Fatalf("oversized: %v", err)
	}
}

func TestComputeCheckpointLog(t *testing.T) {
	fx := newProofFixture(t, 1)
	runID := fx.run.ID
	root, _ := checkpointFor(t, runID, ID{}, 12)
	rootID, _ := root.ID()
	child, _ := checkpointFor(t, runID, rootID, 20)
	childID, _ := child.ID()
	orphan, _ := checkpointFor(t, runID, ID(sha256.Sum256([]byte("never published"))), 30)
	other, _ := checkpointFor(t, testRunID, ID{}, 12)
	forged, _ := checkpointFor(t, runID, rootID, 21)
	forgedEnc := mustEncodeCheckpoint(t, forged)
	forgedEnc[len(forgedEnc)-1] ^= 1

	rb := testRollback(t, runID, rootID)
	rbEnc, _ := rb.MarshalBinary()
	rbMissing := testRollback(t, runID, ID{7})
	rbMissingEnc, _ := rbMissing.MarshalBinary()
	runEnc, err := fx.run.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	p1, _ := fx.prove(t, 0)
	p2, _ := fx.prove(t, 1)

	// Out of height order on purpose: the log sorts.
	ckpts := []RecordAt{
		{Height: 9, Data: mustEncodeCheckpoint(t, child)},
		{Height: 5, Data: mustEncodeCheckpoint(t, root)},
		{Height: 9, Data: mustEncodeCheckpoint(t, child)},
		{Height: 10, Data: mustEncodeCheckpoint(t, orphan)},
		{Height: 11, Data: mustEncodeCheckpoint(t, other)},
		{Height: 12, Data: forgedEnc},
		{Height: 13, Data: []byte("TSCK garbage")},
		{Height: 13, Data: []byte("TSMF an object manifest")},
	}
	control := []RecordAt{
		{Height: 2, Data: runEnc},
		{Height: 14, Data: rbEnc},
		{Height: 15, Data: rbMissingEnc},
		{Height: 16, Data: []byte("TSZZ a future record kind")},
		{Height: 17, Data: []byte("ab")},
	}
	proofs := []RecordAt{
		{Height: 6, Data: mustMarshal(t, p1)},
		{Height: 6, Data: mustMarshal(t, p2)},
		{Height: 7, Data: []byte("TSTPjunk")},
		{Height: 7, Data: []byte("a verdict")},
	}
	l := ComputeCheckpointLog(runID, ckpts, control, proofs)
	if len(l.Checkpoints) != 3 {
		t.Fatalf("%d checkpoints, want 3: %+v", len(l.Checkpoints), l.Rejected)
	}
	if l.Checkpoints[0].ID != rootID || l.Checkpoints[1].ID != childID || l.Checkpoints[0].ParentMissing || l.Checkpoints[1].ParentMissing {
		t.Fatal("root and child not in height order with their parents found")
	}
	if !l.Checkpoints[2].ParentMissing {
		t.Fatal("a checkpoint whose parent was never published is not flagged")
	}
	if len(l.Rollbacks) != 2 || l.Rollbacks[0].Rollback.To != rootID || l.Rollbacks[0].TargetMissing || !l.Rollbacks[1].TargetMissing {
		t.Fatalf("rollbacks: %+v", l.Rollbacks)
	}
	if l.ProofsPerStep[1] != 2 || len(l.ProofsPerStep) != 1 {
		t.Fatalf("proofs per step: %v", l.ProofsPerStep)
	}
	reasons := map[string]bool{}
	for _, r := range l.Rejected {
		switch {
		case strings.Contains(r.Reason, "repeated"):
			reasons["repeated"] = true
		case strings.Contains(r.Reason, "belongs to run"):
			reasons["other run"] = true
		case strings.Contains(r.Reason, "does not verify"):
			reasons["signature"] = true
		case r.Kind == CheckpointManifest:
			reasons["garbage"] = true
		case r.Kind == TrainingProofs:
			reasons["junk proof"] = true
		}
	}
	if len(l.Rejected) != 5 || len(reasons) != 5 {
		t.Fatalf("rejected: %+v", l.Rejected)
	}
	if got, ok := l.Checkpoint(childID); !ok || got.Height != 9 {
		t.Fatal("Checkpoint lookup failed")
	}
	if _, ok := l.Checkpoint(ID{3}); ok {
		t.Fatal("found a checkpoint that is not there")
	}
}
