package headersync

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"testing"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"

	"github.com/tessera-da/tessera/node/config"
	"github.com/tessera-da/tessera/node/p2p"
)

func TestDebugRogue(t *testing.T) {
	p := p2p.DefaultParams(testChain, config.RoleFull, testKey(2))
	p.ListenAddrs = []string{"/ip4/127.0.0.1/tcp/0"}
	lg := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	p.PubSubOptions = []pubsub.Option{pubsub.WithLogger(lg.With("who", "victim")), pubsub.WithRPCLogger(lg.With("who", "victim-rpc"))}
	h, err := p2p.New(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	g, err := NewGossip(h.PubSub(), DefaultGossipParams(testChain, producers))
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	victim := &node{h: h, g: g}
	r := startRogue(t, 3, 8<<20, victim.addrs()...)
	waitGossipTo(t, r.n, victim.h.ID())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for i := 0; i < 2; i++ {
		t.Logf("publish %d", i)
		if err := r.n.g.hdr.Publish(ctx, bytes.Repeat([]byte{byte(i)}, 4096)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond)
		t.Logf("victim %+v", victim.g.Stats())
	}
}
