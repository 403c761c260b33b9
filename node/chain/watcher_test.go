package chain

import (
	"context"
	"testing"
	"time"

	"github.com/tessera-da/tessera/node/header"
)

func TestWaitAndSubscribe(t *testing.T) {
	w := NewWatcher(nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	sub := w.Subscribe(ctx)
	done := make(chan uint64)
	go func() {
		h, err := w.WaitForHeight(ctx, 3)
		if err != nil {
			done <- 0
			return
		}
		done <- h.Height
	}()
	for i := uint64(1); i <= 3; i++ {
		w.Publish(&header.Header{Height: i})
	}
	if got := <-done; got != 3 {
		t.Fatalf("WaitForHeight returned %d", got)
	}
	for i := uint64(1); i <= 3; i++ {
		if h := <-sub; h.Height != i {
			t.Fatalf("subscriber got %d, want %d", h.Height, i)
		}
	}
	short, stop := context.WithCancel(ctx)
	stop()
	if _, err := w.WaitForHeight(short, 10); err == nil {
		t.Fatal("WaitForHeight ignored a cancelled context")
	}
}

func TestSlowSubscriberIsDropped(t *testing.T) {
	w := NewWatcher(nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sub := w.Subscribe(ctx)
	for i := range subscriberBuffer + 5 {
		w.Publish(&header.Header{Height: uint64(i + 1)})
	}
	n := 0
	for range sub {
		n++
	}
	if n != subscriberBuffer {
		t.Fatalf("slow subscriber got %d headers before being closed, want %d", n, subscriberBuffer)
	}
}
