package main

import (
	"io"
	"os"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
)

// isTerminal reports whether f is a character device (a terminal).
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// progressBar draws a byte progress bar on w when stderr is a terminal
// or force is set; otherwise its callback does nothing. It never writes
// to stdout, which carries the command's JSON.
type progressBar struct {
	mu   sync.Mutex
	bar  *progressbar.ProgressBar
	w    io.Writer
	desc string
	on   bool
}

func newProgressBar(w io.Writer, desc string, force bool) *progressBar {
	return &progressBar{w: w, desc: desc, on: force || isTerminal(os.Stderr)}
}

// update is an objects progress callback (bytes done of total).
func (p *progressBar) update(done, total uint64) {
	if !p.on {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar == nil {
		p.bar = progressbar.NewOptions64(int64(total),
			progressbar.OptionSetWriter(p.w),
			progressbar.OptionSetDescription(p.desc),
			progressbar.OptionShowBytes(true),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionOnCompletion(func() { _, _ = io.WriteString(p.w, "\n") }),
		)
	}
	_ = p.bar.Set64(int64(done))
}

// finish ends the bar's line if one was drawn.
func (p *progressBar) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil && !p.bar.IsFinished() {
		_ = p.bar.Exit()
		_, _ = io.WriteString(p.w, "\n")
	}
}
