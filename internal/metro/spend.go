package metro

import (
	"context"
	"time"

	"piao/internal/benefits"
)

// SpendTiers is a monthly spend-tier rule (Beijing's 累计消费优惠, SPEC M4)
// as settlement applies it: ridemore.Rule.SpendTiers gives one.
type SpendTiers interface {
	// Benefit returns the automatic benefit a ride entered at at gets
	// when its rider has paid spent fen on earlier rides of that
	// calendar month (Asia/Shanghai), or false when none applies.
	Benefit(at time.Time, spent int64) (benefits.Benefit, bool)
}

// Spend turns spend tiers on for settlement: every trip's rider gets the
// tier its spend so far that month has reached, weighed with its other
// benefits, and what the rider pays adds to the spend.
type Spend struct {
	Tiers SpendTiers
	// Campaign reads the campaign the discounts are booked to, with its
	// counters; its owner says who pays them and its budget bounds them.
	// It is read again whenever settlement reloads its holdings.
	Campaign func(ctx context.Context) (benefits.Campaign, error)
}

// MonthIndex numbers the calendar month of t in loc: year×12 + month−1.
func MonthIndex(t time.Time, loc *time.Location) int32 {
	y, m, _ := t.In(loc).Date()
	return int32(y*12 + int(m) - 1)
}

// monthStart is the first instant of month index i in loc.
func monthStart(i int32, loc *time.Location) time.Time {
	return time.Date(int(i/12), time.Month(i%12+1), 1, 0, 0, 0, 0, loc)
}

// accountMonth keys an account's spend in one month.
type accountMonth struct {
	account int64
	month   int32
}

// loadSpend adds to h what spend tiers need: the rule, its campaign, and
// every account's spend on the feed's settled trips in each month from
// since's to now's.
func loadSpend(ctx context.Context, st Store, feed string, sp *Spend, since, now time.Time, h *Holdings) error {
	c, err := sp.Campaign(ctx)
	if err != nil {
		return err
	}
	h.Spend = sp.Tiers
	h.Campaigns[c.ID] = c
	h.MonthSpend = map[int32]map[int64]int64{}
	last := MonthIndex(now, benefits.Shanghai)
	for m := MonthIndex(since, benefits.Shanghai); m <= last; m++ {
		spent, err := st.MonthSpend(ctx, feed, monthStart(m, benefits.Shanghai), monthStart(m+1, benefits.Shanghai))
		if err != nil {
			return err
		}
		h.MonthSpend[m] = spent
	}
	return nil
}
