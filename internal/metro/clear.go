package metro

import (
	"cmp"
	"math"
	"strings"
	"time"

	"piao/internal/fault"
)

// Clearer pairs gate taps into priced trips (SPEC M2) by a fare table and
// the incomplete-trip rules. It holds no state between calls and is safe
// for concurrent use.
type Clearer struct {
	ft    *FareTable
	rules Rules
}

// NewClearer returns a clearer of the fare table's network under the rules.
func NewClearer(ft *FareTable, rules Rules) (*Clearer, error) {
	if ft == nil {
		return nil, fault.New(fault.Invalid, "no_fare_table", "缺少票价表", "a fare table is required")
	}
	if err := rules.Validate(); err != nil {
		return nil, err
	}
	return &Clearer{ft: ft, rules: rules}, nil
}

// Rules returns the clearer's incomplete-trip rules.
func (c *Clearer) Rules() Rules { return c.rules }

// FareTable returns the clearer's fare table.
func (c *Clearer) FareTable() *FareTable { return c.ft }

// Cleared is the outcome of clearing a set of taps: every distinct tap ID
// given ends in exactly one of Trips (as its InTap or OutTap), Pending or
// Rejected.
type Cleared struct {
	// Trips are the final trips, sorted by (Account, At, ID).
	Trips []Trip
	// Pending are the taps not final yet — a tap-in whose exit may still
	// come, or a tap after the cut-off — sorted by (Account, At, ID); give
	// them again with the next taps.
	Pending []Tap
	// Rejected are the taps that cannot be cleared, each with why, sorted
	// by (Account, At, ID) of the tap.
	Rejected []Rejected
}

// Rejected is a tap clearing refused and why: a station not on the
// network, an unknown direction, no ID or no time.
type Rejected struct {
	Tap Tap   `json:"tap"`
	Err error `json:"-"`
}

// TapIDs returns the IDs of the taps the trips were cleared from, as
// Store.AddTrips marks them cleared.
func (c Cleared) TapIDs() []string {
	ids := make([]string, 0, 2*len(c.Trips))
	for _, t := range c.Trips {
		if t.InTap != "" {
			ids = append(ids, t.InTap)
		}
		if t.OutTap != "" {
			ids = append(ids, t.OutTap)
		}
	}
	return ids
}

// CompareTaps orders taps by (At, ID, Feed, Account, Station, Gate, Dir,
// Code): the order an account's taps are paired in, and the rule that keeps
// the smallest of several taps sharing an ID.
func CompareTaps(a, b Tap) int {
	if c := a.At.Compare(b.At); c != 0 {
		return c
	}
	if c := strings.Compare(a.ID, b.ID); c != 0 {
		return c
	}
	if c := strings.Compare(a.Feed, b.Feed); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Account, b.Account); c != 0 {
		return c
	}
	if c := strings.Compare(a.Station, b.Station); c != 0 {
		return c
	}
	if c := strings.Compare(a.Gate, b.Gate); c != 0 {
		return c
	}
	if c := strings.Compare(string(a.Dir), string(b.Dir)); c != 0 {
		return c
	}
	return strings.Compare(a.Code, b.Code)
}

func compareAccountTaps(a, b Tap) int {
	if c := cmp.Compare(a.Account, b.Account); c != 0 {
		return c
	}
	if c := a.At.Compare(b.At); c != 0 {
		return c
	}
	return strings.Compare(a.ID, b.ID)
}

// Clear clears taps known to be complete: every trip is final, a tap-in
// with no tap-out after it is a trip with no exit.
func (c *Clearer) Clear(taps []Tap) Cleared { return c.clear(taps, math.MaxInt64) }

// ClearUntil clears the taps known up to the cut-off until: the caller has
// every tap at or before it. Only trips final by then are returned — a
// tap-in and its tap-out, a tap-out with no entry, a tap-in followed by
// another, or a lone tap-in more than MaxTrip+Grace before until; taps
// after until and lone tap-ins still within the window stay pending. The
// trips of ClearUntil(taps, u) followed by ClearUntil(pending+later taps,
// u2) are those of one Clear of all the taps.
func (c *Clearer) ClearUntil(taps []Tap, until time.Time) Cleared {
	return c.clear(taps, cutoff(until))
}

// minTime and maxTime bound the times a tap may have: those UnixNano can
// say (1678 to 2262).
func minTime() time.Time { return time.Unix(0, math.MinInt64) }
func maxTime() time.Time { return time.Unix(0, math.MaxInt64) }

// cutoff is until in unix nanoseconds, clamped to the range UnixNano can
// say; math.MaxInt64 is kept for Clear's "no cut-off".
func cutoff(until time.Time) int64 {
	switch {
	case until.Before(minTime()):
		return math.MinInt64
	case !until.Before(maxTime()):
		return math.MaxInt64 - 1
	}
	return until.UnixNano()
}
