package share

import (
	"math"
	"testing"
)

func TestCeilSqrt(t *testing.T) {
	for n := 0; n < 300000; n++ {
		want := int(math.Ceil(math.Sqrt(float64(n))))
		if got := ceilSqrt(n); got != want {
			t.Fatalf("ceilSqrt(%d) = %d, want %d", n, got, want)
		}
	}
}

func TestSubTreeWidth(t *testing.T) {
	tests := []struct{ n, want int }{
		{1, 1}, {2, 1}, {64, 1}, {65, 2}, {128, 2}, {129, 4}, {208, 4}, {2075, 64}, {4096, 64}, {4097, 128}, {8192, 128},
	}
	for _, tt := range tests {
		if got := SubTreeWidth(tt.n, 64); got != tt.want {
			t.Errorf("SubTreeWidth(%d) = %d, want %d", tt.n, got, tt.want)
		}
	}
}

func TestRoundPowerOfTwo(t *testing.T) {
	tests := []struct{ n, up, down int }{{0, 1, 0}, {1, 1, 1}, {2, 2, 2}, {3, 4, 2}, {5, 8, 4}, {64, 64, 64}, {65, 128, 64}}
	for _, tt := range tests {
		if got := RoundUpPowerOfTwo(tt.n); got != tt.up {
			t.Errorf("RoundUpPowerOfTwo(%d) = %d, want %d", tt.n, got, tt.up)
		}
		if got := RoundDownPowerOfTwo(tt.n); got != tt.down {
			t.Errorf("RoundDownPowerOfTwo(%d) = %d, want %d", tt.n, got, tt.down)
		}
	}
}
