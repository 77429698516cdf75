package demo

import (
	"testing"
	"time"

	"piao/internal/benefits"
)

// TestDayOfTapsStaysInTheDay: the demo seeds yesterday's taps, so a tap
// past midnight would be refused as in the future when the demo starts
// just after midnight (Asia/Shanghai).
func TestDayOfTapsStaysInTheDay(t *testing.T) {
	day := time.Date(2026, 12, 7, 0, 0, 0, 0, benefits.Shanghai)
	taps := dayOfTaps(day, 5000)
	late := 0
	for _, tp := range taps {
		if tp.At.Before(day) || !tp.At.Before(day.AddDate(0, 0, 1)) {
			t.Fatalf("tap %s at %v is outside the day %v", tp.ID, tp.At, day)
		}
		if tp.At.After(day.Add(22 * time.Hour)) {
			late++
		}
	}
	if late == 0 {
		t.Fatal("no tap after 22:00: the test no longer reaches the day's edge")
	}
}
