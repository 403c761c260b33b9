package das

import "context"

// SamplingStats is the answer to das.SamplingStats, in celestia-node's JSON
// shape.
type SamplingStats struct {
	// SampledChainHead: every height up to it is sampled (available or
	// failed) or outside the sampling window.
	SampledChainHead uint64 `json:"head_of_sampled_chain"`
	// CatchupHead: every height up to it has been handed to a worker.
	CatchupHead uint64 `json:"head_of_catchup"`
	// NetworkHead is the highest header seen.
	NetworkHead uint64 `json:"network_head_height"`
	// Failed maps heights found unavailable to their failed rounds.
	Failed map[uint64]int `json:"failed,omitempty"`
	// Workers describes the heights being sampled.
	Workers []WorkerStats `json:"workers,omitempty"`
	// Concurrency is the number of heights being sampled.
	Concurrency int `json:"concurrency"`
	// CatchUpDone reports that every known height is sampled.
	CatchUpDone bool `json:"catch_up_done"`
	// IsRunning reports whether the DASer is started.
	IsRunning bool `json:"is_running"`
}

// WorkerStats describes one height being sampled. Tessera samples one
// height per worker, so Curr, From and To are that height.
type WorkerStats struct {
	JobType string `json:"job_type"` // "recent", "catchup" or "retry"
	Curr    uint64 `json:"current"`
	From    uint64 `json:"from"`
	To      uint64 `json:"to"`
	ErrMsg  string `json:"error,omitempty"`
}

// SamplingStats returns a snapshot of sampling progress.
func (d *DASer) SamplingStats(ctx context.Context) (SamplingStats, error) {
	if err := ctx.Err(); err != nil {
		return SamplingStats{}, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.m == nil {
		return SamplingStats{}, nil
	}
	s := d.m.Stats()
	out := SamplingStats{
		SampledChainHead: s.SampledHead,
		CatchupHead:      s.CatchUpHead,
		NetworkHead:      s.NetworkHead,
		Failed:           s.Failed,
		Concurrency:      s.Concurrency,
		CatchUpDone:      d.caughtUpLocked(),
		IsRunning:        d.running,
	}
	for _, w := range s.Workers {
		out.Workers = append(out.Workers, WorkerStats{JobType: w.Kind.String(), Curr: w.Height, From: w.Height, To: w.Height, ErrMsg: w.Err})
	}
	return out, nil
}
