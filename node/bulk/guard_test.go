package bulk

import (
	"testing"
	"time"

	bsmsg "github.com/ipfs/boxo/bitswap/message"
	pb "github.com/ipfs/boxo/bitswap/message/pb"
	blocks "github.com/ipfs/go-block-format"
	"github.com/libp2p/go-libp2p/core/peer"
)

// TestGuardJudgesUnaskedBlocks: a block is a lie only if its CID was never
// asked of its sender; cancels do not count as asking; wants expire after
// askedTTL; a peer with too many wants is not judged until the next prune;
// bans end at the prune after BanDuration.
func TestGuardJudgesUnaskedBlocks(t *testing.T) {
	v := newNode(t, testParams())
	g := v.b.guard
	p := peer.ID("peer-under-test")
	blk := blocks.NewBlock([]byte("block"))
	other := blocks.NewBlock([]byte("other"))
	withBlock := func(bs ...blocks.Block) bsmsg.BitSwapMessage {
		m := bsmsg.New(false)
		for _, b := range bs {
			m.AddBlock(b)
		}
		return m
	}
	want := func(cancel bool, bs ...blocks.Block) bsmsg.BitSwapMessage {
		m := bsmsg.New(false)
		for _, b := range bs {
			if cancel {
				m.Cancel(b.Cid())
			} else {
				m.AddEntry(b.Cid(), 1, pb.Message_Wantlist_Have, true)
			}
		}
		return m
	}

	if g.unasked(p, withBlock(blk)) == "" {
		t.Fatal("a block from a peer never asked anything passed")
	}
	g.recordWants(p, want(true, other))
	g.recordWants(p, want(false, blk))
	if c := g.unasked(p, withBlock(blk)); c != "" {
		t.Fatalf("an asked block judged a lie: %s", c)
	}
	if g.unasked(p, withBlock(blk, other)) == "" {
		t.Fatal("a block only cancelled passed")
	}
	if g.unasked(p, bsmsg.New(false)) != "" {
		t.Fatal("a message without blocks judged a lie")
	}
	g.prune(time.Now().Add(askedTTL + time.Second))
	if g.unasked(p, withBlock(blk)) == "" {
		t.Fatal("a want older than askedTTL still explains a block")
	}

	big := bsmsg.New(false)
	for i := range maxAskedPerPeer + 1 {
		big.AddEntry(blocks.NewBlock([]byte{byte(i), byte(i >> 8), byte(i >> 16)}).Cid(), 1, pb.Message_Wantlist_Have, true)
	}
	g.recordWants(p, big)
	if g.unasked(p, withBlock(other)) != "" {
		t.Fatal("a peer past maxAskedPerPeer judged")
	}
	g.prune(time.Now())
	if g.unasked(p, withBlock(other)) == "" {
		t.Fatal("a peer still unjudged after the prune")
	}

	g.ban(p, ErrLied)
	g.ban(p, ErrLied) // counted once
	if !g.isBanned(p) || g.bans.Load() != 1 {
		t.Fatalf("banned %v, bans %d", g.isBanned(p), g.bans.Load())
	}
	if err := g.SendMessage(t.Context(), p, want(false, blk)); err == nil {
		t.Fatal("sent to a banned peer")
	}
	if _, err := g.NewMessageSender(t.Context(), p, nil); err == nil {
		t.Fatal("message sender for a banned peer")
	}
	g.prune(time.Now().Add(v.b.p.BanDuration + time.Second))
	if g.isBanned(p) {
		t.Fatal("ban not lifted after BanDuration")
	}
}
