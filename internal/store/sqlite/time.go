package sqlite

import "time"

// timeLayout is a fixed-width UTC RFC 3339 layout with nanoseconds, so that
// comparing stored text orders the times.
const timeLayout = "2006-01-02T15:04:05.000000000Z07:00"

// formatTime renders t for storage.
func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

// parseTime reads a time stored by formatTime.
func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, err
	}
	return t.UTC(), nil
}
