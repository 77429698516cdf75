package simulate_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"piao/internal/booking"
	"piao/internal/fault"
	"piao/internal/network"
	"piao/internal/realname"
	"piao/internal/simulate"
)

// With a twentieth of the cars, Z66 runs one hard-sleeper car: 22 lower
// berths a day. The in-process driver books them, then serves the
// waitlist on its simulated clock: a hold that ends frees a berth for the
// prepaid entry first in the queue, an unpaid entry is cancelled when its
// payment window closes, a waiting one expires at its deadline with
// everything refunded, and an entry paid while a berth is free is served
// at once.
func TestInProcessWaitlist(t *testing.T) {
	ctx := context.Background()
	d, err := simulate.NewInProcess(ctx, simulate.InProcessOptions{Start: day0, Days: 3, Capacity: 0.05})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	birth := time.Date(1990, 5, 1, 0, 0, 0, 0, time.UTC)
	people := 0
	passenger := func() (int64, booking.PassengerRequest) {
		people++
		id, err := d.NewAccount(ctx, fmt.Sprintf("wl%d", people))
		if err != nil {
			t.Fatal(err)
		}
		return id, booking.PassengerRequest{Name: "张伟", DocType: string(realname.IDCard), DocNumber: realname.MakeID("360102", birth, people),
			SeatClass: network.HardSleeper, Berth: network.Lower}
	}
	date := day0.AddDays(1).String()
	type held struct{ account, order int64 }
	var lower []held
	for {
		acct, p := passenger()
		o, err := d.Book(ctx, booking.BookRequest{AccountID: acct, Train: "Z66", Date: date, From: "NCG", To: "BXP", Passengers: []booking.PassengerRequest{p}})
		if err != nil {
			if r := fault.As(err).Reason; r != "preference_unmet" {
				t.Fatalf("booking lower berth %d: %v (%s)", len(lower)+1, err, r)
			}
			break
		}
		if b := o.Tickets[0].Berth; b != network.Lower {
			t.Fatalf("asked for a lower berth, got %s", b)
		}
		lower = append(lower, held{acct, o.ID})
		if len(lower) > 100 {
			t.Fatal("more than 100 lower berths on one shrunk car")
		}
	}
	if len(lower) != 22 {
		t.Fatalf("%d lower hard berths bookable on shrunk Z66, want 22", len(lower))
	}
	for _, h := range lower[1:] {
		if err := d.Pay(ctx, h.account, h.order); err != nil {
			t.Fatal(err)
		}
	}
	join := func(date string, deadline time.Time) (int64, booking.WaitlistEntry) {
		t.Helper()
		acct, p := passenger()
		e, err := d.JoinWaitlist(ctx, booking.WaitlistRequest{AccountID: acct,
			Options:    []booking.WaitOptionRequest{{Train: "Z66", Date: date, From: "NCG", To: "BXP", SeatClass: network.HardSleeper, Berth: network.Lower}},
			Passengers: []booking.WaitPassengerRequest{{Name: p.Name, DocType: p.DocType, DocNumber: p.DocNumber}},
			Deadline:   deadline.Format(time.RFC3339)})
		if err != nil {
			t.Fatal(err)
		}
		return acct, e
	}
	status := func(acct, id int64) booking.WaitlistEntry {
		t.Helper()
		e, err := d.Waitlist(ctx, acct, id)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	now := d.Now()
	// a is prepaid and waits: no lower berth is free.
	aAcct, a := join(date, now.Add(6*time.Hour))
	if err := d.PayWaitlist(ctx, aAcct, a.ID); err != nil {
		t.Fatal(err)
	}
	if e := status(aAcct, a.ID); e.Status != booking.WaitWaiting || e.Position != 1 {
		t.Fatalf("prepaid entry with no berth free: %s at position %d, want waiting at 1", e.Status, e.Position)
	}
	// b joins and never pays; c is prepaid behind a.
	bAcct, b := join(date, now.Add(6*time.Hour))
	cAcct, c := join(date, now.Add(2*time.Hour))
	if err := d.PayWaitlist(ctx, cAcct, c.ID); err != nil {
		t.Fatal(err)
	}
	// The unpaid first order's hold ends: its berth goes to a, not c.
	if err := d.Advance(ctx, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	ea := status(aAcct, a.ID)
	if ea.Status != booking.WaitFulfilled || ea.OrderID == 0 {
		t.Fatalf("a after a lower berth was freed: %s, order %d; want fulfilled", ea.Status, ea.OrderID)
	}
	o, err := d.Stores().Booking.Order(ctx, ea.OrderID)
	if err != nil {
		t.Fatal(err)
	}
	if o.Status != booking.Paid || o.Tickets[0].Berth != network.Lower {
		t.Errorf("a's order: %s, %s berth; want a paid lower berth", o.Status, o.Tickets[0].Berth)
	}
	if e := status(bAcct, b.ID); e.Status != booking.WaitCancelled {
		t.Errorf("b unpaid past its payment window: %s, want cancelled", e.Status)
	}
	if e := status(cAcct, c.ID); e.Status != booking.WaitWaiting || e.Position != 1 {
		t.Errorf("c after a was served: %s at position %d, want waiting at 1", e.Status, e.Position)
	}
	// c's deadline passes with nothing freed: expired, all refunded.
	if err := d.Advance(ctx, now.Add(3*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if e := status(cAcct, c.ID); e.Status != booking.WaitExpired || e.RefundFen != e.PrepaidFen || e.PrepaidFen == 0 {
		t.Errorf("c past its deadline: %s, refund %d of %d fen; want expired, all refunded", e.Status, e.RefundFen, e.PrepaidFen)
	}
	// On the next day's train lower berths are free: served on payment.
	fAcct, f := join(day0.AddDays(2).String(), now.Add(6*time.Hour))
	if err := d.PayWaitlist(ctx, fAcct, f.ID); err != nil {
		t.Fatal(err)
	}
	if e := status(fAcct, f.ID); e.Status != booking.WaitFulfilled || e.OrderID == 0 {
		t.Errorf("entry paid with a lower berth free: %s, order %d; want fulfilled", e.Status, e.OrderID)
	}
}

// At peak (a twentieth of the cars), berth seekers refused a lower berth
// join the waitlist and prepay instead of fishing by cancelling: their
// manual cancels fall against preferences alone, every entry the agents
// saw served is fulfilled in the database, and none is counted twice.
func TestWaitlistAtPeak(t *testing.T) {
	statistical(t)
	ctx := context.Background()
	cfg := simulate.Config{Seed: 5, Days: 6, Passengers: 800, Preference: true,
		Mix: simulate.Mix{simulate.Genuine: 0.4, simulate.BerthSeeker: 0.4, simulate.Scalper: 0.2}}
	o := simulate.InProcessOptions{Governance: true, Capacity: 0.05}
	pref, _ := run(t, cfg, o)
	cfg.Waitlist = true
	wait, d := run(t, cfg, o)
	p, w := pref.ByLabel[simulate.BerthSeeker], wait.ByLabel[simulate.BerthSeeker]
	t.Logf("seekers' manual cancels %d → %d, seat-minutes held %.0f → %.0f; waitlist: %d prepaid, %d served, %d not served",
		p.Cancels, w.Cancels, p.HeldSeatMinutes, w.HeldSeatMinutes, w.WaitJoined, w.WaitFulfilled, w.WaitUnserved)
	if w.WaitJoined == 0 {
		t.Fatalf("no seeker joined the waitlist: %+v", w)
	}
	if w.WaitFulfilled+w.WaitUnserved > w.WaitJoined {
		t.Errorf("more entries ended (%d served, %d not) than were prepaid (%d)", w.WaitFulfilled, w.WaitUnserved, w.WaitJoined)
	}
	if p.Cancels == 0 || w.Cancels >= p.Cancels {
		t.Errorf("seekers' manual cancels with the waitlist %d, preferences alone %d: want fewer", w.Cancels, p.Cancels)
	}
	// The database agrees: at least as many entries fulfilled as the
	// seekers counted (others may have been served after they looked).
	fulfilled, seen := 0, 0
	for id := int64(1); ; id++ {
		e, err := d.Booking().Waitlist(ctx, id, 0)
		if fault.As(err).Reason == "waitlist_not_found" {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		seen++
		if e.Status == booking.WaitFulfilled {
			fulfilled++
		}
	}
	if seen == 0 || fulfilled < w.WaitFulfilled {
		t.Errorf("%d entries stored, %d fulfilled; seekers counted %d served", seen, fulfilled, w.WaitFulfilled)
	}
}
