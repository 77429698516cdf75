package governance

import (
	"time"
	_ "time/tzdata" // the zone must exist wherever this runs

	"piao/internal/network"
)

// Shanghai is the zone service days are counted in (SPEC: Asia/Shanghai).
var Shanghai = mustLoad("Asia/Shanghai")

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		// time/tzdata is linked in, so this cannot fail.
		panic(err)
	}
	return loc
}

// Day returns the service day t falls in and when that day ends, for a day
// that starts at start after midnight in Asia/Shanghai. With start 06:00, 05:59
// on the 23rd still belongs to the 22nd.
func Day(t time.Time, start time.Duration) (day network.Date, ends time.Time) {
	local := t.In(Shanghai).Add(-start)
	day = network.DateOf(local)
	y, m, d := local.Date()
	// Build the end from the calendar, not by adding 24 h, so a zone change
	// (none in Shanghai today) cannot shift it.
	ends = time.Date(y, m, d+1, 0, 0, 0, 0, Shanghai).Add(start)
	return day, ends
}

// Today is Day with the rules' day start.
func (r Rules) Today(t time.Time) (network.Date, time.Time) {
	start, err := parseClock(r.DayStart)
	if err != nil {
		start = 0 // Validate refuses such rules; be safe with zero values
	}
	return Day(t, start)
}
