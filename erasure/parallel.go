package erasure

import (
	"sync"
	"sync/atomic"
)

// forEach calls fn(w, i) for every i in [0, n), spreading the indexes over
// at most workers goroutines. w in [0, workers) identifies the goroutine so
// fn can use per-worker scratch space. Indexes are handed out in ascending
// order from a shared counter, so uneven tasks balance themselves. It
// returns the error of the lowest failing index after every goroutine has
// ended; after a failure no new index is started.
func forEach(workers, n int, fn func(w, i int) error) error {
	if workers > n {
		workers = n
	}
	if workers <= 1 {
		for i := 0; i < n; i++ {
			if err := fn(0, i); err != nil {
				return err
			}
		}
		return nil
	}
	var (
		next   atomic.Int64
		failed atomic.Bool
		wg     sync.WaitGroup
		errs   = make([]error, workers)
		errAt  = make([]int, workers)
	)
	run := func(w int) {
		for !failed.Load() {
			i := int(next.Add(1) - 1)
			if i >= n {
				return
			}
			if err := fn(w, i); err != nil {
				errs[w], errAt[w] = err, i
				failed.Store(true)
				return
			}
		}
	}
	wg.Add(workers - 1)
	for w := 1; w < workers; w++ {
		go func() {
			defer wg.Done()
			run(w)
		}()
	}
	run(0)
	wg.Wait()
	var first error
	at := n
	for w, err := range errs {
		if err != nil && errAt[w] < at {
			first, at = err, errAt[w]
		}
	}
	return first
}
