package das

import (
	"context"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tessera-da/tessera/node/store"
)

// diskRecords keeps the DASer's records in a real on-disk store, as a
// light node does.
type diskRecords struct{ st *store.Store }

func (d diskRecords) Get(key []byte) ([]byte, error) {
	v, err := d.st.GetRecord("das", key)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	return v, err
}

func (d diskRecords) Put(key, value []byte) error { return d.st.PutRecord("das", key, value) }

// peakRSS returns the process's peak resident set size (VmHWM) in MiB, or 0.
func peakRSS() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}

// BenchmarkCatchUpOnDisk catches up 1,000 k=128 headers (s=16) with real
// sample verification and its verdicts and checkpoints written, with
// fsync, to an on-disk store. It reports headers/s and the process's peak
// RSS (which includes the benchmark's k=128 fixture square).
func BenchmarkCatchUpOnDisk(b *testing.B) {
	fx := fixture128(b)
	const n = 1000
	var elapsed time.Duration
	for b.Loop() {
		st, err := store.Open(b.TempDir(), store.Options{})
		if err != nil {
			b.Fatal(err)
		}
		d, err := New(DefaultConfig(), Deps{Fetcher: instant{fx}, Headers: flatChain{fx.root, n}, Checkpoints: diskRecords{st}, Rand: &rowsReader{}})
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		if err := d.Start(context.Background()); err != nil {
			b.Fatal(err)
		}
		if err := d.WaitCatchUp(context.Background()); err != nil {
			b.Fatal(err)
		}
		elapsed += time.Since(start)
		_ = d.Stop(context.Background())
		st.Close()
	}
	b.ReportMetric(float64(n*b.N)/elapsed.Seconds(), "headers/s")
	b.ReportMetric(peakRSS(), "peak-rss-MiB")
}
