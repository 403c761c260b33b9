package blob

import (
	"fmt"
	"testing"

	"github.com/tessera-da/tessera/share"
)

func BenchmarkCommitment(b *testing.B) {
	for _, mib := range []int{1, 8} {
		b.Run(fmt.Sprintf("%dMiB", mib), func(b *testing.B) {
			data := make([]byte, mib<<20)
			for i := range data {
				data[i] = byte(i * 7)
			}
			ns := testNS(b, 9)
			sb, err := share.NewV0Blob(ns, data)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, err := ComputeCommitment(sb, share.SubtreeRootThreshold); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1e6/float64(mib), "ms/MiB")
		})
	}
}
