package storetest_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"pgregory.net/rapid"

	"piao/internal/benefits"
	"piao/internal/metro"
	"piao/internal/ridemore"
	"piao/internal/store/storetest"
	"piao/internal/tenant"
)

// spendSetUp stores the Beijing rule's campaign and returns settlement's
// spend options for it.
func spendSetUp(t testing.TB, s storetest.Stores) *metro.Spend {
	t.Helper()
	c := bnCampaign(t, s, 0, 0, benefits.DirectChannel) // not automatic: only the tiers book to it
	tiers, err := ridemore.Beijing("bj", c.ID).SpendTiers()
	if err != nil {
		t.Fatal(err)
	}
	return &metro.Spend{Tiers: tiers, Campaign: func(ctx context.Context) (benefits.Campaign, error) {
		return s.Benefits.Campaign(ctx, tenant.All(), c.ID)
	}}
}

// TestMetroSpendTiers: Beijing's thresholds crossed within a month on
// ¥6 rides — full fare to ¥100 spent, the ride reaching it full too, 20 %
// off to ¥150, 50 % off after — and the count starting again next month,
// the December run starting from what November's run stored.
func TestMetroSpendTiers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := context.Background()
		sp := spendSetUp(t, s)
		nov := time.Date(2026, 11, 2, 8, 0, 0, 0, benefits.Shanghai)
		var trips []metro.Trip
		for i := range 30 {
			trips = append(trips, mtTrip(fmt.Sprintf("bj-%02d", i), 42, "nbmetro:GL", "nbmetro:QSP", nov.Add(time.Duration(i)*12*time.Hour), 600))
		}
		if _, err := s.Metro.AddTrips(ctx, trips[:20], nil); err != nil {
			t.Fatal(err)
		}
		decNow := time.Date(2026, 12, 2, 0, 0, 0, 0, benefits.Shanghai)
		o := metro.SettleOptions{Batch: 4, Spend: sp, Now: func() time.Time { return decNow }}
		if _, err := metro.Settle(ctx, s.Metro, "nbmetro", o); err != nil {
			t.Fatal(err)
		}
		// The rest arrive later: the second run starts from the spend stored.
		dec := mtTrip("bj-dec", 42, "nbmetro:GL", "nbmetro:QSP", time.Date(2026, 12, 1, 8, 0, 0, 0, benefits.Shanghai), 600)
		if _, err := s.Metro.AddTrips(ctx, append(trips[20:], dec), nil); err != nil {
			t.Fatal(err)
		}
		if _, err := metro.Settle(ctx, s.Metro, "nbmetro", o); err != nil {
			t.Fatal(err)
		}
		want := func(i int) int64 {
			switch {
			case i < 17: // up to and including the ride that passes ¥100 (96 → 102)
				return 600
			case i < 27: // ¥102 → ¥150 at ¥4.80
				return 480
			default:
				return 300
			}
		}
		for i, tr := range trips {
			l, err := s.Metro.Settlement(ctx, tr.ID)
			if err != nil {
				t.Fatal(err)
			}
			if l.Passenger != want(i) || l.Operator != 600-want(i) {
				t.Fatalf("ride %d: %+v, want the rider to pay %d", i+1, l, want(i))
			}
		}
		if l, err := s.Metro.Settlement(ctx, dec.ID); err != nil || l.Passenger != 600 {
			t.Fatalf("first December ride: %+v %v", l, err)
		}
		spent, err := s.Metro.MonthSpend(ctx, "nbmetro", time.Date(2026, 11, 1, 0, 0, 0, 0, benefits.Shanghai), time.Date(2026, 12, 1, 0, 0, 0, 0, benefits.Shanghai))
		if err != nil || spent[42] != 17*600+10*480+3*300 {
			t.Fatalf("November spend %v %v", spent, err)
		}
		c, _ := sp.Campaign(ctx)
		if c.Uses != 13 || c.Spent != 10*120+3*300 {
			t.Fatalf("campaign counted %d uses, ¥%d", c.Uses, c.Spent)
		}
	})
}

// TestMetroSpendTiersSplitRuns: with spend tiers on, settling in random
// batches, stopped at a random point and resumed, gives every trip the
// ledger line one pass over all trips gives.
func TestMetroSpendTiersSplitRuns(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		bg := context.Background()
		s := storetest.OpenSQLite(t)
		sp := spendSetUp(t, s)
		w := mtSetUp(t, s, rapid.IntRange(0, 6).Draw(rt, "vouchers"))
		// Many rides of a few riders, across a month's end.
		var trips []metro.Trip
		n := rapid.IntRange(40, 120).Draw(rt, "rides")
		for i := range n {
			acct := int64(rapid.IntRange(1, 3).Draw(rt, "rider"))
			at := time.Date(2026, 11, 20, 7, 0, 0, 0, benefits.Shanghai).Add(time.Duration(rapid.IntRange(0, 15*24).Draw(rt, "hour")) * time.Hour)
			trips = append(trips, mtTrip(fmt.Sprintf("sp-%03d", i), acct, "nbmetro:GL", "nbmetro:QSP", at, int64(rapid.IntRange(400, 900).Draw(rt, "fare"))))
		}
		if _, err := s.Metro.AddTrips(bg, trips, nil); err != nil {
			rt.Fatal(err)
		}
		now := time.Date(2026, 12, 20, 0, 0, 0, 0, benefits.Shanghai)
		since, _ := s.Metro.OldestUnsettled(bg, "nbmetro")
		h, err := s.Metro.Holdings(bg, "nbmetro", since)
		if err != nil {
			rt.Fatal(err)
		}
		h.Spend, h.MonthSpend = sp.Tiers, nil
		c, err := sp.Campaign(bg)
		if err != nil {
			rt.Fatal(err)
		}
		h.Campaigns[c.ID] = c
		stored, err := s.Metro.Unsettled(bg, "nbmetro", 0, 10_000)
		if err != nil {
			rt.Fatal(err)
		}
		oracle := metro.NewSettler(h, benefits.Shanghai)
		want := map[string]metro.Settlement{}
		for _, tr := range stored {
			want[tr.ID] = oracle.Settle(tr)
		}

		batch := rapid.IntRange(1, 15).Draw(rt, "batch")
		stopAfter := rapid.IntRange(0, n).Draw(rt, "stop after")
		o := metro.SettleOptions{Batch: batch, Spend: sp, Now: func() time.Time { return now }}
		ctx, cancel := context.WithCancel(bg)
		o.Progress = func(k int) {
			if k >= stopAfter {
				cancel()
			}
		}
		_, err = metro.Settle(ctx, s.Metro, "nbmetro", o)
		cancel()
		if err != nil && ctx.Err() == nil {
			rt.Fatal(err)
		}
		o.Progress = nil
		if _, err := metro.Settle(bg, s.Metro, "nbmetro", o); err != nil {
			rt.Fatal(err)
		}
		for _, tr := range append(trips, w.trips...) {
			got, err := s.Metro.Settlement(bg, tr.ID)
			if err != nil {
				rt.Fatal(err)
			}
			w := want[tr.ID]
			if got.Passenger != w.Passenger || got.Operator != w.Operator || got.Merchant != w.Merchant || fmt.Sprint(got.Applied) != fmt.Sprint(w.Applied) {
				rt.Fatalf("trip %s: settled %+v, one pass %+v", tr.ID, got, w)
			}
		}
	})
}
