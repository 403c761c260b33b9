package vectors

import (
	"bytes"
	"encoding/hex"
	"strconv"
	"strings"
	"testing"
)

func TestBytes(t *testing.T) {
	got := hex.EncodeToString(Bytes("abc", 40))
	want := "cf2db1ac9867debdf8ce91f99f141e5544bf26ca36b3fd4f8e4035eec42cab0d46c386ebccef82ba"
	if got != want {
		t.Fatalf("Bytes(abc,40) = %s, want %s", got, want)
	}
}

func TestTailPaddingShare(t *testing.T) {
	s := TailPaddingShare()
	want := strings.Repeat("ff", 28) + "fe" + "01" + strings.Repeat("00", 512-30)
	if got := hex.EncodeToString(s); got != want {
		t.Fatalf("TailPaddingShare = %s, want %s", got, want)
	}
}

func TestEDSSquareODS(t *testing.T) {
	sq := EDSSquare{K: 2, NamespaceGroup: 2, NsPrefixSeed: "ns", PayloadPattern: "p/<i>"}
	ods, err := sq.ODS()
	if err != nil {
		t.Fatal(err)
	}
	if len(ods) != 4 || !bytes.Equal(ods[3], TailPaddingShare()) {
		t.Fatalf("got %d shares; the last must be tail padding", len(ods))
	}
	for i, s := range ods[:3] {
		if len(s) != shareSize {
			t.Fatalf("share %d: %d bytes, want %d", i, len(s), shareSize)
		}
		if s[0] != 0 || !bytes.Equal(s[19:27], Bytes("ns", 8)) || int(s[28]) != i/2 || s[namespaceSize] != 0x01 {
			t.Errorf("share %d: namespace or info byte differs: %x", i, s[:namespaceSize+1])
		}
		if !bytes.Equal(s[shareSize-payloadSize:], Bytes("p/"+strconv.Itoa(i), payloadSize)) {
			t.Errorf("share %d: payload differs", i)
		}
	}
	for _, bad := range []EDSSquare{
		{K: 0, NamespaceGroup: 1, PayloadPattern: "<i>"},
		{K: maxODSWidth + 1, NamespaceGroup: 1, PayloadPattern: "<i>"},
		{K: 2, NamespaceGroup: 0, PayloadPattern: "<i>"},
		{K: 2, NamespaceGroup: 1, PayloadPattern: "no index"},
	} {
		if _, err := bad.ODS(); err == nil {
			t.Errorf("%+v: no error", bad)
		}
	}
}
