package demo_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"piao/internal/app"
	"piao/internal/app/apptest"
	"piao/internal/behaviour"
	"piao/internal/booking"
	"piao/internal/demo"
	"piao/internal/governance"
	"piao/internal/ledger"
	"piao/internal/network"
	"piao/internal/simulate"
)

// tourDocument is the ID number the README's tour books with.
const tourDocument = "11010519491231002X"

func simStores(a *app.App) simulate.Stores {
	return simulate.Stores{Network: a.Network, Identity: a.Identity.Store, Booking: a.BookingStore, Sandbox: a.SandboxStore, Governance: a.GovernanceStore}
}

// remaining is what is left on the demo's Nanchang → Beijing West trains
// of date, by train.
func remaining(t *testing.T, a *app.App, date network.Date) map[string][]booking.Availability {
	t.Helper()
	offers, err := a.Booking.Remaining(context.Background(), "NCG", "BXP", date)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]booking.Availability{}
	for _, o := range offers {
		out[o.Number] = o.Seats
	}
	return out
}

// TestSeedDemoMonth seeds the demo's month of booking behaviour and checks
// what the console shows of it: every chart of the behaviour report over
// its default window (the last 30 days) has data, each list has members,
// the demo passenger is on no list and can still book tomorrow's Z66
// lower berth, and no train of today or later lost a seat.
func TestSeedDemoMonth(t *testing.T) {
	if raceEnabled {
		// One goroutine drives the month; internal/simulate's small runs
		// cover every goroutine a run starts under the race detector.
		t.Skip("a month of bookings: too slow under the race detector")
	}
	a := apptest.NewDemo(t)
	ctx := context.Background()
	now := time.Now()
	today := network.DateOf(now.In(governance.Shanghai))
	month, err := simulate.SeedDemoMonth(ctx, simStores(a), now)
	if err != nil {
		t.Fatal(err)
	}
	if month.Result == nil || !month.From.Equal(today.AddDays(-demo.PastDays)) || month.Days != demo.PastDays {
		t.Fatalf("month: %+v", month)
	}
	if problems, err := a.LedgerStore.Verify(ctx); err != nil || len(problems) > 0 {
		t.Fatalf("ledger check after the demo month: %d problems, first %+v, %v", len(problems), problems[:min(len(problems), 3)], err)
	}
	if es, err := a.LedgerStore.Entries(ctx, ledger.Filter{Kind: ledger.KindPayment, Limit: 1}); err != nil || len(es) == 0 {
		t.Fatalf("no payment entry after a month of bookings: %v", err)
	}

	rep, err := a.Governance.Report(ctx, governance.DatesWindow(today.AddDays(-29), today, ""))
	if err != nil {
		t.Fatal(err)
	}
	tot := rep.Totals
	if tot.Paid == 0 || tot.Cancelled == 0 || tot.Expired == 0 || tot.Pending != 0 || !tot.LastAt.Before(today.In(governance.Shanghai)) {
		t.Errorf("totals %+v: want paid, cancelled and expired orders, none pending, all placed before today", tot)
	}
	// The charts (console governance_report.go): Fig. 1, F2's two
	// histograms and accounts per passenger.
	buckets := func(name string, bs []behaviour.Bucket) {
		filled := 0
		for _, b := range bs {
			if b.Count > 0 {
				filled++
			}
		}
		if filled < 2 {
			t.Errorf("chart %s: %d bars with data, want several: %+v", name, filled, bs)
		}
	}
	buckets("fig1", rep.PaidShare.Buckets)
	buckets("accounts", rep.Accounts.Buckets)
	buckets("f2 success", rep.CancelsBefore.Success.Histogram)
	buckets("f2 gave up", rep.CancelsBefore.GaveUp.Histogram)
	if rep.MultiAccount.Numerator == 0 || rep.ConsecutiveCancels.Numerator == 0 || rep.AllCancelled.Numerator == 0 {
		t.Errorf("findings: multi-account %+v, F1 %+v, F5 %+v", rep.MultiAccount, rep.ConsecutiveCancels, rep.AllCancelled)
	}

	for _, l := range governance.Lists {
		ms, err := a.Governance.Members(ctx, governance.MemberFilter{List: l, ActiveAt: now})
		if err != nil || len(ms) == 0 || month.Members[l] == 0 {
			t.Errorf("list %s: %d members now (%d at seeding), %v", l, len(ms), month.Members[l], err)
		}
	}
	passenger, err := a.Identity.Store.AccountByLogin(ctx, "passenger")
	if err != nil {
		t.Fatal(err)
	}
	for _, sub := range []string{governance.AccountSubject(passenger.ID), governance.DocumentSubject("id_card", tourDocument)} {
		if ms, err := a.Governance.Members(ctx, governance.MemberFilter{Subject: sub}); err != nil || len(ms) != 0 {
			t.Errorf("%s listed: %+v, %v", sub, ms, err)
		}
	}

	// Seeding again adds nothing.
	again, err := simulate.SeedDemoMonth(ctx, simStores(a), now)
	if err != nil || again.Result != nil {
		t.Fatalf("seeding again: %+v, %v", again, err)
	}
	if rep2, err := a.Governance.Report(ctx, governance.DatesWindow(today.AddDays(-29), today, "")); err != nil || rep2.Totals != rep.Totals {
		t.Errorf("report after seeding again: %+v, %v; was %+v", rep2.Totals, err, rep.Totals)
	}

	// Today's trains and later ones have every seat a demo without the
	// month has, and the tour's booking goes through.
	apptest.Serve(t, a, nil)
	fresh := apptest.NewDemo(t)
	apptest.Serve(t, fresh, nil)
	for d := today; d.Before(today.AddDays(demo.Days)); d = d.AddDays(1) {
		if got, want := remaining(t, a, d), remaining(t, fresh, d); len(want) == 0 || !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: remaining %+v, a fresh demo has %+v", d, got, want)
		}
	}
	b, err := a.Booking.Book(ctx, booking.BookRequest{AccountID: passenger.ID, Train: "Z66", Date: today.AddDays(1).String(), From: "NCG", To: "BXP",
		Passengers: []booking.PassengerRequest{{Name: "张伟", DocType: "id_card", DocNumber: tourDocument, SeatClass: network.HardSleeper, Berth: network.Lower}}})
	if err != nil || len(b.Order.Tickets) != 1 || b.Order.Tickets[0].Berth != network.Lower {
		t.Fatalf("the tour's booking: %+v, %v", b, err)
	}
}
