package store

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

func TestLogger(t *testing.T) {
	var buf bytes.Buffer
	l := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s := openTest(t, t.TempDir(), Options{Logger: l})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "component=badger") {
		t.Fatalf("no badger lines logged at Debug level:\n%s", buf.String())
	}

	// At Info level, badger's info chatter is not logged.
	buf.Reset()
	l = slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	s = openTest(t, t.TempDir(), Options{Logger: l})
	s.Close()
	if buf.Len() != 0 {
		t.Fatalf("badger info lines logged at Info level:\n%s", buf.String())
	}
	if d := DefaultOptions(); d.Logger != nil || d.NoSync || d.MemTableSize != 0 || d.Clock != nil || d.Validate() != nil {
		t.Fatalf("DefaultOptions = %+v", d)
	}
}

func TestStrings(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{ReceiptUnknown.String(), "unknown"},
		{ReceiptPending.String(), "pending"},
		{ReceiptIncluded.String(), "included"},
		{ReceiptFailed.String(), "failed"},
		{ReceiptState(9).String(), "ReceiptState(9)"},
		{PinNamespace.String(), "namespace"},
		{PinDataset.String(), "dataset"},
		{PinKind(0).String(), "PinKind(0)"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}
