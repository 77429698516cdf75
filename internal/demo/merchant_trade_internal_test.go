package demo

import (
	"testing"
	"time"

	"piao/internal/metro"
)

// TestMerchantTapsInThePast: the merchants' riders tap between the time
// they got their tickets and a little before now, never in the future,
// each journey ending before the rider's next begins.
func TestMerchantTapsInThePast(t *testing.T) {
	until := time.Date(2026, 12, 7, 16, 3, 0, 0, time.UTC) // 00:03 in Shanghai
	from := until.Add(-2 * time.Hour)
	holders := make([]int64, 200)
	for i := range holders {
		holders[i] = int64(i + 1)
	}
	taps := merchantTaps(holders, from, until)
	last := map[int64]metro.Tap{}
	second := 0
	for _, tp := range taps {
		if tp.At.Before(from) || !tp.At.Before(until) {
			t.Fatalf("tap %s at %v outside [%v, %v)", tp.ID, tp.At, from, until)
		}
		if prev, ok := last[tp.Account]; ok && !tp.At.After(prev.At) {
			t.Fatalf("tap %s at %v is not after %s at %v", tp.ID, tp.At, prev.ID, prev.At)
		}
		if tp.Dir == metro.In && last[tp.Account].ID != "" {
			second++
		}
		last[tp.Account] = tp
	}
	if len(last) != len(holders) || second == 0 {
		t.Fatalf("%d riders tapped, %d rode twice; want every holder, some twice", len(last), second)
	}
	if again := merchantTaps(holders, from, until); len(again) != len(taps) || again[7] != taps[7] {
		t.Fatal("the taps differ between two calls")
	}
}
