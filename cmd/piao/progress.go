package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// progress reports a long command's advance on stderr. On a terminal it draws
// a live bar; redirected to a file or a pipe it prints a plain line at the
// start of each phase and at every quarter, because bar frames written into a
// log are hundreds of lines of noise.
type progress struct {
	w     io.Writer
	tty   bool
	phase string
	start time.Time
	bar   *progressbar.ProgressBar
	shown int // plain lines: the last quarter printed of this phase
}

// newProgress reports on stderr, with a bar only if stderr is a terminal.
func newProgress() *progress {
	return &progress{w: os.Stderr, tty: term.IsTerminal(int(os.Stderr.Fd()))}
}

// set records that done of total units of the named phase are finished; a
// new phase name finishes the previous phase.
func (p *progress) set(phase string, done, total int64) {
	if phase != p.phase {
		p.finish()
		p.phase, p.start, p.shown = phase, time.Now(), -1
		if p.tty {
			p.bar = progressbar.NewOptions64(total, progressbar.OptionSetDescription(phase), progressbar.OptionSetWriter(p.w),
				progressbar.OptionShowCount(), progressbar.OptionSetPredictTime(true), progressbar.OptionThrottle(100*time.Millisecond))
		}
	}
	if p.bar != nil {
		_ = p.bar.Set64(done)
		return
	}
	if q := quarter(done, total); q > p.shown {
		p.shown = q
		fmt.Fprintf(p.w, "%s: %d/%d (%d %%) after %s\n", phase, done, total, q*25, time.Since(p.start).Round(time.Millisecond))
	}
}

// finish ends the bar of the current phase, if one is drawn.
func (p *progress) finish() {
	if p.bar != nil {
		_ = p.bar.Finish()
		fmt.Fprintln(p.w)
		p.bar = nil
	}
}

// quarter is how many whole quarters of total done is, from 0 to 4.
func quarter(done, total int64) int {
	if total <= 0 || done <= 0 {
		return 0
	}
	if done >= total {
		return 4
	}
	return int(done * 4 / total)
}
