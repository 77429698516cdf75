package metro

import (
	"math"
	"piao/internal/ledger"
	"time"
)

// ClearOn is Clear (zero until) or ClearUntil on p workers, whatever the
// input's size, so tests can hold the parallel engine to the serial one.
func (c *Clearer) ClearOn(taps []Tap, until time.Time, p int) Cleared {
	if until.IsZero() {
		return c.clearOn(taps, math.MaxInt64, p)
	}
	return c.clearOn(taps, cutoff(until), p)
}

// RedemptionEntries builds the entries of consecutive batches of a run
// over h, as Settle does.
func RedemptionEntries(feed string, h Holdings, at time.Time, batches ...[]Settlement) []ledger.Entry {
	r := newRedemptions(feed, h)
	var out []ledger.Entry
	for _, b := range batches {
		out = append(out, r.entry(b, at))
	}
	return out
}
