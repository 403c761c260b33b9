package das

import (
	"fmt"
	"time"

	"github.com/tessera-da/tessera/sampling"
)

// Config sets a light node's sampling. Durations are wall-clock; the DASer
// turns them into the machine's ticks.
type Config struct {
	// Samples per height; 0 derives it from Confidence.
	Samples int
	// Confidence is the target per height, used when Samples is 0.
	Confidence float64
	// Window is the number of heights, ending at the network head, to sample
	// (heights). WindowHeights derives it from the genesis sampling window.
	Window uint64
	// MaxInFlight bounds the heights sampled at once, head included.
	MaxInFlight int
	// CatchUpWorkers bounds the old heights among them (< MaxInFlight).
	CatchUpWorkers int
	// Retries is how often a failed coordinate is asked for again before
	// its height is declared unavailable.
	Retries int
	// RequestTimeout bounds one SampleFromAny call and one header lookup.
	RequestTimeout time.Duration
	// Tick is the machine's clock resolution.
	Tick time.Duration
	// MaxAttempts is the number of sampling rounds a height gets before an
	// unavailable verdict is final (1: never sampled again).
	MaxAttempts int
	// RetryBackoff is the wait before an unavailable height is sampled
	// again, multiplied by its failed rounds.
	RetryBackoff time.Duration
}

// Defaults.
const (
	DefaultSamples        = 16 // samples per height: 99 % at any width
	DefaultMaxInFlight    = 10 // heights
	DefaultCatchUpWorkers = 8  // heights
	DefaultRetries        = 2
	DefaultRequestTimeout = 5 * time.Second
	DefaultTick           = 50 * time.Millisecond
	DefaultMaxAttempts    = 3
	DefaultRetryBackoff   = time.Minute
	DefaultWindow         = 30 * 24 * 3600 // heights: 30 days of 1 s blocks
	maxTicks              = 1 << 32        // longest duration in ticks
)

// DefaultConfig returns the defaults above.
func DefaultConfig() Config {
	return Config{
		Samples:        DefaultSamples,
		Window:         DefaultWindow,
		MaxInFlight:    DefaultMaxInFlight,
		CatchUpWorkers: DefaultCatchUpWorkers,
		Retries:        DefaultRetries,
		RequestTimeout: DefaultRequestTimeout,
		Tick:           DefaultTick,
		MaxAttempts:    DefaultMaxAttempts,
		RetryBackoff:   DefaultRetryBackoff,
	}
}

// WindowHeights converts a sampling window given as a duration into the
// most heights it can hold at the given block interval (rounded up).
func WindowHeights(window, blockInterval time.Duration) uint64 {
	if window <= 0 || blockInterval <= 0 {
		return 0
	}
	return uint64((window + blockInterval - 1) / blockInterval)
}

// ticks converts d to ticks of t, rounding up.
func ticks(d, t time.Duration) uint64 { return uint64((d + t - 1) / t) }

// Validate reports whether c is usable; errors wrap ErrInvalidConfig.
func (c Config) Validate() error {
	_, err := c.params()
	return err
}

// params converts c into the machine's parameters.
func (c Config) params() (sampling.Params, error) {
	bad := func(f string, args ...any) (sampling.Params, error) {
		return sampling.Params{}, fmt.Errorf("%w: %s", ErrInvalidConfig, fmt.Sprintf(f, args...))
	}
	if c.Tick <= 0 {
		return bad("tick %v is not positive", c.Tick)
	}
	if c.RequestTimeout < c.Tick {
		return bad("request timeout %v is shorter than a tick (%v)", c.RequestTimeout, c.Tick)
	}
	if c.RetryBackoff < 0 {
		return bad("retry backoff %v is negative", c.RetryBackoff)
	}
	if ticks(c.RequestTimeout, c.Tick) >= maxTicks || ticks(c.RetryBackoff, c.Tick) >= maxTicks {
		return bad("timeouts of %v and %v are too long for a %v tick", c.RequestTimeout, c.RetryBackoff, c.Tick)
	}
	s := c.Samples
	if s == 0 {
		var err error
		if s, err = sampling.SamplesFor(c.Confidence); err != nil {
			return bad("samples 0 and %v", err)
		}
	}
	p := sampling.Params{
		Samples:     s,
		Window:      c.Window,
		MaxInFlight: c.MaxInFlight,
		MaxCatchUp:  c.CatchUpWorkers,
		Retries:     c.Retries,
		// One tick more than the request timeout: the fetch's own
		// deadline normally reports first; the machine's is the backstop.
		Deadline:     ticks(c.RequestTimeout, c.Tick) + 1,
		MaxAttempts:  c.MaxAttempts,
		RetryBackoff: ticks(c.RetryBackoff, c.Tick),
	}
	if err := p.Validate(); err != nil {
		return bad("%v", err)
	}
	return p, nil
}
