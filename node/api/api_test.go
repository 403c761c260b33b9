package api

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tessera-da/tessera/blob"
	"github.com/tessera-da/tessera/erasure"
	"github.com/tessera-da/tessera/node/chain"
	"github.com/tessera-da/tessera/node/header"
	"github.com/tessera-da/tessera/node/producer"
	"github.com/tessera-da/tessera/node/rpc"
	"github.com/tessera-da/tessera/node/store"
	"github.com/tessera-da/tessera/share"
)

type env struct {
	prod   *producer.Producer
	svc    *Service
	url    string
	secret []byte
}

func newEnv(t testing.TB) *env {
	t.Helper()
	st, err := store.Open(t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	w := chain.NewWatcher(nil)
	e := &env{}
	var svc *Service
	clock := time.Unix(1_700_000_000, 0)
	e.prod, err = producer.New(st, producer.Params{
		ChainID: "api-test", MaxSquareWidth: testSquareWidth, BlockInterval: time.Hour, QueueMaxBytes: 1 << 26,
		Key: ed25519.NewKeyFromSeed(make([]byte, 32)),
		Now: func() time.Time { clock = clock.Add(time.Second); return clock },
		OnBlock: func(h *header.Header, eds *erasure.ExtendedSquare, dah *erasure.DAH, _ producer.BlockStats) {
			svc.Prime(h, eds, dah)
			w.Publish(h)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	svc = &Service{Store: st, Producer: e.prod, Watcher: w, NodeType: "Producer"}
	e.svc = svc
	e.secret, _ = rpc.NewSecret()
	srv, err := rpc.NewServer(rpc.Options{Secret: e.secret, MaxBodyBytes: 4 << 20})
	if err != nil {
		t.Fatal(err)
	}
	if err := Register(srv, svc); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	e.url = hs.URL
	return e
}

func (e *env) client(t testing.TB, perm rpc.Perm) *rpc.Client {
	t.Helper()
	tok, err := rpc.NewToken(e.secret, rpc.PermsFor(perm), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := rpc.Dial(context.Background(), e.url, tok)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func testBlob(t testing.TB, id byte, n int) *blob.Blob {
	t.Helper()
	ns, _ := share.NewV0Namespace([]byte{7, id})
	b, err := blob.New(ns, bytes.Repeat([]byte{id, 1}, n/2+1)[:n], 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// submitAndSeal submits blobs asynchronously and seals one block.
func (e *env) submitAndSeal(t testing.TB, c *rpc.Client, blobs ...*blob.Blob) uint64 {
	t.Helper()
	ctx := context.Background()
	var r SubmitReceipt
	if err := c.Call(ctx, "blob.SubmitAsync", &r, blobs, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := e.prod.ProduceBlock(); err != nil {
		t.Fatal(err)
	}
	var rec ReceiptJSON
	if err := c.Call(ctx, "blob.Receipt", &rec, r.ID); err != nil || rec.State != "included" {
		t.Fatalf("receipt %d: %+v %v", r.ID, rec, err)
	}
	return rec.Height
}

func TestBlobRoundTripWithProofs(t *testing.T) {
	e := newEnv(t)
	c := e.client(t, rpc.PermWrite)
	ctx := context.Background()
	b1, b2 := testBlob(t, 1, 3000), testBlob(t, 2, 40)
	h := e.submitAndSeal(t, c, b1, b2)

	var got blob.Blob
	if err := c.Call(ctx, "blob.Get", &got, h, b1.Namespace(), b1.Commitment()); err != nil {
		t.Fatal(err)
	}
	if !got.Equal(b1.Blob) || got.Index() < 0 {
		t.Fatal("blob.Get returned another blob")
	}
	var all []*blob.Blob
	if err := c.Call(ctx, "blob.GetAll", &all, h, []share.Namespace{b1.Namespace(), b2.Namespace()}); err != nil || len(all) != 2 {
		t.Fatalf("GetAll: %d blobs, %v", len(all), err)
	}
	var at BlobAt
	if err := c.Call(ctx, "blob.GetByCommitment", &at, b2.Commitment()); err != nil || at.Height != h || !at.Blob.Equal(b2.Blob) {
		t.Fatalf("GetByCommitment: %+v %v", at, err)
	}
	var eh ExtendedHeader
	if err := c.Call(ctx, "header.GetByHeight", &eh, h); err != nil {
		t.Fatal(err)
	}
	dah, err := eh.VerifiedDAH()
	if err != nil {
		t.Fatal(err)
	}
	var p blob.Proof
	if err := c.Call(ctx, "blob.GetProof", &p, h, b1.Namespace(), b1.Commitment()); err != nil {
		t.Fatal(err)
	}
	if err := p.VerifyBlob(dah, &got); err != nil {
		t.Fatal(err)
	}
	var ok bool
	if err := c.Call(ctx, "blob.Included", &ok, h, b1.Namespace(), &p, b1.Commitment()); err != nil || !ok {
		t.Fatalf("Included: %v %v", ok, err)
	}
	if err := c.Call(ctx, "blob.Included", &ok, h, b2.Namespace(), &p, b2.Commitment()); err != nil || ok {
		t.Fatalf("b1's proof accepted for b2: %v %v", ok, err)
	}
	var cp blob.CommitmentProof
	if err := c.Call(ctx, "blob.GetCommitmentProof", &cp, h, b1.Namespace(), b1.Commitment()); err != nil {
		t.Fatal(err)
	}
	if err := cp.Verify(eh.Tessera.DataRoot[:], b1.Namespace(), b1.Commitment()); err != nil {
		t.Fatal(err)
	}
	var nd blob.NamespaceData
	if err := c.Call(ctx, "share.GetNamespaceData", &nd, h, b1.Namespace()); err != nil {
		t.Fatal(err)
	}
	if err := nd.Verify(dah, b1.Namespace()); err != nil {
		t.Fatal(err)
	}
	// Samples verify against the data root alone, anywhere in the square.
	w := 2 * int(eh.Tessera.SquareWidth)
	coords := []Coord{{0, 0}, {w - 1, w - 1}, {1, w - 1}, {w - 1, 0}}
	var smps []SampleJSON
	if err := c.Call(ctx, "share.GetSamples", &smps, h, coords); err != nil {
		t.Fatal(err)
	}
	for i, s := range smps {
		if err := s.Verify(eh.Tessera.DataRoot[:], w, coords[i].Row, coords[i].Col); err != nil {
			t.Fatalf("sample %v: %v", coords[i], err)
		}
		if err := s.Verify(eh.Tessera.DataRoot[:], w, coords[i].Row, (coords[i].Col+1)%w); err == nil {
			t.Fatalf("sample %v verifies at another column", coords[i])
		}
	}
	var eds EDSJSON
	if err := c.Call(ctx, "share.GetEDS", &eds, h); err != nil || len(eds.DataSquare) != w*w {
		t.Fatalf("GetEDS: %d shares, %v", len(eds.DataSquare), err)
	}
}

func TestErrors(t *testing.T) {
	e := newEnv(t)
	c := e.client(t, rpc.PermWrite)
	ctx := context.Background()
	h := e.submitAndSeal(t, c, testBlob(t, 1, 10))
	ns, _ := share.NewV0Namespace([]byte{9, 9})
	tests := []struct {
		name   string
		method string
		params []any
		want   string
	}{
		{"not found", "blob.Get", []any{h, ns, bytes.Repeat([]byte{1}, 32)}, "blob: not found"},
		{"future height", "blob.Get", []any{h + 5, ns, bytes.Repeat([]byte{1}, 32)}, "above the local head"},
		{"height zero", "header.GetByHeight", []any{0}, "height 0"},
		{"reserved namespace", "blob.Submit", []any{json.RawMessage(`[{"namespace":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAE=","data":"aGk=","share_version":0}]`), nil}, "namespace"},
		{"empty blob", "blob.Submit", []any{json.RawMessage(`[{"namespace":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAQI=","data":"","share_version":0}]`), nil}, "empty"},
		{"no blobs", "blob.SubmitAsync", []any{[]any{}, nil}, "no blobs"},
		{"too large", "blob.SubmitAsync", []any{[]*blob.Blob{testBlob(t, 3, testSquareWidth*testSquareWidth*482)}, nil}, "never fit"},
		{"wrong type", "blob.Get", []any{"ten", ns, nil}, "height"},
		{"wrong count", "header.GetByHeight", []any{1, 2}, "param"},
		{"unknown method", "blob.Nope", nil, "not found"},
		{"outside square", "share.GetShare", []any{h, 100, 0}, "outside"},
		{"too many samples", "share.GetSamples", []any{h, make([]Coord, maxSamplesPerCall+1)}, "at most"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := c.Call(ctx, tt.method, nil, tt.params...)
			var re *rpc.Error
			if !errors.As(err, &re) || !strings.Contains(strings.ToLower(re.Message), strings.ToLower(tt.want)) {
				t.Fatalf("err = %v, want a JSON-RPC error containing %q", err, tt.want)
			}
		})
	}
	// A body over the limit gets HTTP 413.
	big := `{"jsonrpc":"2.0","id":1,"method":"blob.Submit","params":["` + strings.Repeat("A", 5<<20) + `"]}`
	resp, err := http.Post(e.url, "application/json", strings.NewReader(big))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversized body: HTTP %d", resp.StatusCode)
	}
}

func TestGetRangePagingAndSubscribeFrom(t *testing.T) {
	e := newEnv(t)
	c := e.client(t, rpc.PermWrite)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var want []*blob.Blob
	for i := range rangePageHeights + 6 {
		b := testBlob(t, 4, 100+i)
		want = append(want, b)
		e.submitAndSeal(t, c, b)
	}
	ns := want[0].Namespace()
	var got []BlobAt
	cursor := ""
	pages := 0
	for {
		var page RangePage
		if err := c.Call(ctx, "blob.GetRange", &page, ns, 1, 1000, cursor); err != nil {
			t.Fatal(err)
		}
		got = append(got, page.Blobs...)
		pages++
		if page.Next == "" {
			break
		}
		cursor = page.Next
	}
	if pages < 2 || len(got) != len(want) {
		t.Fatalf("%d pages, %d blobs; want ≥ 2 pages and %d blobs", pages, len(got), len(want))
	}
	for i := range want {
		if !got[i].Blob.Equal(want[i].Blob) {
			t.Fatalf("blob %d out of order", i)
		}
	}

	// SubscribeFrom replays from height 3, then follows new blocks with no gap.
	tok, _ := rpc.NewToken(e.secret, rpc.PermsFor(rpc.PermRead), time.Time{})
	ws, err := rpc.DialWS(ctx, strings.Replace(e.url, "http", "ws", 1), tok)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	sub, err := ws.Subscribe(ctx, "blob.SubscribeFrom", ns, 3)
	if err != nil {
		t.Fatal(err)
	}
	head := e.svc.Watcher.Head().Height
	extra := testBlob(t, 4, 7)
	next := uint64(3)
	for next <= head+1 {
		if next == head {
			e.submitAndSeal(t, c, extra) // a new block while the replay is under way
		}
		select {
		case raw, ok := <-sub:
			if !ok {
				t.Fatal("subscription closed")
			}
			var v SubscriptionResponse
			if err := json.Unmarshal(raw, &v); err != nil {
				t.Fatal(err)
			}
			if v.Height != next {
				t.Fatalf("got height %d, want %d (gap or repeat)", v.Height, next)
			}
			if v.Height == head+1 && (len(v.Blobs) != 1 || !v.Blobs[0].Equal(extra.Blob)) {
				t.Fatalf("followed block carries %d blobs", len(v.Blobs))
			}
			next++
		case <-ctx.Done():
			t.Fatalf("timed out at height %d", next)
		}
	}
}

// testSquareWidth is the test producer's max square width: room for a 1 MiB blob.
const testSquareWidth = 64
