package metro

import (
	"math"
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
