package p2p

import (
	"context"
	"crypto/ed25519"
	"strconv"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"

	"github.com/tessera-da/tessera/node/config"
)

const testChain = "tessera-test"

func testKey(seed byte) ed25519.PrivateKey {
	s := make([]byte, ed25519.SeedSize)
	s[0], s[1] = seed, 0x5a
	return ed25519.NewKeyFromSeed(s)
}

// testParams returns loopback-only parameters with fast timers.
func testParams(role config.Role, seed byte, bootstrap ...string) Params {
	p := DefaultParams(testChain, role, testKey(seed))
	p.ListenAddrs = []string{"/ip4/127.0.0.1/tcp/0", "/ip4/127.0.0.1/udp/0/quic-v1"}
	p.Bootstrap = bootstrap
	p.PoolRefresh = 300 * time.Millisecond
	p.DialTimeout = 2 * time.Second
	p.BanDuration = time.Minute
	return p
}

// startHost starts a host and closes it when the test ends.
func startHost(t *testing.T, p Params) *Host {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	h, err := New(ctx, p)
	if err != nil {
		t.Fatalf("New(%s): %v", p.Role, err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

// addrStrings returns h's full addresses as strings.
func addrStrings(h *Host) []string {
	var out []string
	for _, a := range h.Addrs() {
		out = append(out, a.String())
	}
	return out
}

// eventually polls cond every 20 ms until it holds or d passes.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// mustPub returns the libp2p public key of p.Key.
func mustPub(t *testing.T, p Params) crypto.PubKey {
	t.Helper()
	k, err := crypto.UnmarshalEd25519PrivateKey(p.Key)
	if err != nil {
		t.Fatal(err)
	}
	return k.GetPublic()
}
