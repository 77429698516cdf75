package network

import "time"

// Runs reports whether a service on this calendar runs on the service day d.
func (c Calendar) Runs(d Date) bool {
	for _, e := range c.Exceptions {
		if e.Date.Equal(d) {
			return e.Added
		}
	}
	if c.Start.IsZero() || d.Before(c.Start) || d.After(c.End) {
		return false
	}
	// Weekdays is Monday first; time.Weekday is Sunday first.
	return c.Weekdays[(int(d.Weekday())+6)%7]
}

// RunningDates lists the dates in [from, to] on which the calendar runs.
func (c Calendar) RunningDates(from, to Date) []Date {
	var out []Date
	for d := from; !d.After(to); d = d.AddDays(1) {
		if c.Runs(d) {
			out = append(out, d)
		}
	}
	return out
}

// Daily returns a calendar running every day from start for n days.
func Daily(id, feedID string, start Date, n int) Calendar {
	return Calendar{ID: id, FeedID: feedID, Weekdays: [7]bool{true, true, true, true, true, true, true}, Start: start, End: start.AddDays(n - 1)}
}

// ClockTime formats seconds after service-day midnight as HH:MM, wrapping
// past 24:00; the day offset is reported separately.
func ClockTime(secs int) string {
	secs %= 86400
	return time.Date(2000, 1, 1, 0, 0, secs, 0, time.UTC).Format("15:04")
}
