package vectors

import (
	"encoding/hex"
	"testing"
)

func TestBytes(t *testing.T) {
	got := hex.EncodeToString(Bytes("abc", 40))
	want := "cf2db1ac9867debdf8ce91f99f141e5544bf26ca36b3fd4f8e4035eec42cab0d46c386ebccef82ba"
	if got != want {
		t.Fatalf("Bytes(abc,40) = %s, want %s", got, want)
	}
}
