package demo

import (
	"testing"
	"time"

	"piao/internal/employer"
)

// TestMoneyStoryInThisMonth: the money story begins MoneyLead before now,
// or at the month's first instant when now is early on the 1st
// (Asia/Shanghai), so the allowance it issues is this month's; its 100
// steps end before now.
func TestMoneyStoryInThisMonth(t *testing.T) {
	for _, now := range []time.Time{
		time.Date(2026, 12, 7, 16, 3, 0, 0, time.UTC),  // 00:03 on 8 December in Shanghai
		time.Date(2026, 11, 30, 16, 3, 0, 0, time.UTC), // 00:03 on 1 December
		time.Date(2026, 11, 30, 17, 0, 0, 0, time.UTC), // 01:00 on 1 December
	} {
		begin, step := moneyStory(now)
		if employer.MonthOf(begin) != employer.MonthOf(now) || begin.Before(now.Add(-MoneyLead)) {
			t.Errorf("now %v: the story begins %v, outside this month or before MoneyLead", now, begin)
		}
		if step <= 0 || step > time.Minute || !begin.Add(100*step).Before(now.Add(time.Nanosecond)) {
			t.Errorf("now %v: steps of %v from %v end after now", now, step, begin)
		}
	}
	if begin, step := moneyStory(time.Date(2026, 12, 7, 16, 3, 0, 0, time.UTC)); step != time.Minute || !begin.Equal(time.Date(2026, 12, 7, 14, 3, 0, 0, time.UTC)) {
		t.Errorf("mid-month: begins %v in steps of %v; want MoneyLead before now in minutes", begin, step)
	}
}
