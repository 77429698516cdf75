package storetest_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"piao/internal/booking"
	"piao/internal/fault"
	"piao/internal/network"
	"piao/internal/store/storetest"
)

// wlEntry is an entry of account with an option per train date given,
// created at bkT0 plus at.
func wlEntry(account int64, status booking.WaitStatus, at time.Duration, trains ...booking.TrainKey) booking.WaitlistEntry {
	created := bkT0.Add(at)
	e := booking.WaitlistEntry{AccountID: account, Status: status, CreatedAt: created, PayBy: created.Add(10 * time.Minute),
		Deadline: created.Add(48 * time.Hour), PrepaidFen: 84000,
		Passengers: []booking.WaitPassenger{{Name: "张三", DocType: "ID", DocNumber: "W1"}, {Name: "李四", DocType: "ID", DocNumber: "W2"}}}
	for _, k := range trains {
		e.Options = append(e.Options, booking.WaitOption{Train: k, Number: "Z66", FromSeq: 0, ToSeq: 1, FromStationID: "t:BXP", ToStationID: "t:NCG",
			Departure: created.Add(24 * time.Hour), Arrival: created.Add(35 * time.Hour), SeatClass: network.HardSleeper,
			Fares: map[network.Berth]int64{network.Upper: 40000, network.Lower: 42000}})
	}
	return e
}

// wlInsert stores e in a transaction of its own.
func wlInsert(t *testing.T, s storetest.Stores, e *booking.WaitlistEntry) {
	t.Helper()
	if err := s.Booking.Update(context.Background(), func(tx booking.Tx) error { return tx.InsertWaitlist(e) }); err != nil {
		t.Fatal(err)
	}
	if e.ID == 0 {
		t.Fatal("InsertWaitlist set no ID")
	}
}

// wlSet writes e in a transaction of its own.
func wlSet(t *testing.T, s storetest.Stores, e booking.WaitlistEntry) {
	t.Helper()
	if err := s.Booking.Update(context.Background(), func(tx booking.Tx) error { return tx.SetWaitlist(e) }); err != nil {
		t.Fatal(err)
	}
}

// wlSame fails unless got is want as stored: the same JSON once times are
// compared as instants (a zone may come back another way).
func wlSame(t *testing.T, got, want booking.WaitlistEntry) {
	t.Helper()
	times := func(e *booking.WaitlistEntry) []*time.Time {
		out := []*time.Time{&e.CreatedAt, &e.PayBy, &e.Deadline}
		if e.PaidAt != nil {
			out = append(out, e.PaidAt)
		}
		for i := range e.Options {
			out = append(out, &e.Options[i].Departure, &e.Options[i].Arrival)
		}
		return out
	}
	gt, wt := times(&got), times(&want)
	if len(gt) != len(wt) {
		t.Fatalf("entry %d: %d times, want %d", got.ID, len(gt), len(wt))
	}
	for i := range gt {
		if !gt[i].Equal(*wt[i]) {
			t.Errorf("entry %d: time %d = %v, want %v", got.ID, i, *gt[i], *wt[i])
		}
		*gt[i] = *wt[i]
	}
	got.Events, want.Events = nil, nil
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	if string(g) != string(w) {
		t.Errorf("entry:\n got %s\nwant %s", g, w)
	}
}

// wlIDs is the IDs of entries, in order.
func wlIDs(es []booking.WaitlistEntry) []int64 {
	out := []int64{}
	for _, e := range es {
		out = append(out, e.ID)
	}
	return out
}

func wlWantIDs(t *testing.T, what string, es []booking.WaitlistEntry, err error, want ...int64) {
	t.Helper()
	if want == nil {
		want = []int64{}
	}
	if err != nil || es == nil || fmt.Sprint(wlIDs(es)) != fmt.Sprint(want) {
		t.Errorf("%s = %v (nil: %v), %v; want %v", what, wlIDs(es), es == nil, err, want)
	}
}

// TestWaitlistEntries stores entries and reads them back by ID, account
// and train date, with their events.
func TestWaitlistEntries(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := context.Background()
		acc := bkSetUp(t, s, 3)
		st := s.Booking
		// a waits on Z66 (twice: two options) and G1; b is unpaid on Z66;
		// c waits on Z66's next day; d is another account's, on Z66.
		a := wlEntry(acc[0], booking.WaitWaiting, 0, bkZ66, bkG1, bkZ66)
		b := wlEntry(acc[0], booking.WaitUnpaid, time.Minute, bkZ66)
		c := wlEntry(acc[0], booking.WaitWaiting, 2*time.Minute, bkZ66b)
		d := wlEntry(acc[1], booking.WaitWaiting, 3*time.Minute, bkZ66)
		paidAt := bkT0.Add(time.Minute)
		a.PaidAt, a.PaymentID, a.Priority = &paidAt, "wp-1", true
		for _, e := range []*booking.WaitlistEntry{&a, &b, &c, &d} {
			wlInsert(t, s, e)
		}
		if !(a.ID < b.ID && b.ID < c.ID && c.ID < d.ID) {
			t.Fatalf("IDs not rising: %d %d %d %d", a.ID, b.ID, c.ID, d.ID)
		}
		got, err := st.Waitlist(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		wlSame(t, got, a)
		if len(got.Events) != 0 {
			t.Errorf("events of a new entry: %+v", got.Events)
		}

		mine, err := st.WaitlistOf(ctx, acc[0], 10)
		wlWantIDs(t, "WaitlistOf", mine, err, c.ID, b.ID, a.ID)
		if len(mine) == 3 {
			wlSame(t, mine[2], a)
		}
		mine, err = st.WaitlistOf(ctx, acc[0], 2)
		wlWantIDs(t, "WaitlistOf limit 2", mine, err, c.ID, b.ID)
		mine, err = st.WaitlistOf(ctx, acc[2], 10)
		wlWantIDs(t, "WaitlistOf without entries", mine, err)

		// Waiting entries with an option on a train date, each once, by ID.
		on, err := st.WaitingOn(ctx, bkZ66)
		wlWantIDs(t, "WaitingOn Z66", on, err, a.ID, d.ID)
		on, err = st.WaitingOn(ctx, bkG1)
		wlWantIDs(t, "WaitingOn G1", on, err, a.ID)
		on, err = st.WaitingOn(ctx, booking.TrainKey{ServiceID: "t:G1", Date: network.MustDate("2026-01-05")})
		wlWantIDs(t, "WaitingOn a date without entries", on, err)

		// Events, and a change of status seen by every read.
		events := []booking.WaitEvent{
			{EntryID: a.ID, At: bkT0, Actor: fmt.Sprintf("account:%d", acc[0]), Action: "create", To: booking.WaitUnpaid},
			{EntryID: a.ID, At: paidAt, Actor: "payment:sandbox", Action: "pay", From: booking.WaitUnpaid, To: booking.WaitWaiting, Detail: "wp-1"},
		}
		err = st.Update(ctx, func(tx booking.Tx) error {
			if n, err := tx.ActiveWaitlist(acc[0]); err != nil || n != 3 {
				return fmt.Errorf("ActiveWaitlist = %d, %v; want 3", n, err)
			}
			on, err := tx.WaitingOn(bkZ66)
			if err != nil || fmt.Sprint(wlIDs(on)) != fmt.Sprint([]int64{a.ID, d.ID}) {
				return fmt.Errorf("tx WaitingOn = %v, %v", wlIDs(on), err)
			}
			e, err := tx.WaitlistForUpdate(a.ID)
			if err != nil {
				return err
			}
			wlSame(t, e, a)
			e.Status, e.OrderID, e.RefundFen = booking.WaitFulfilled, 77, 2000
			if err := tx.SetWaitlist(e); err != nil {
				return err
			}
			if err := tx.AppendWaitEvents(events...); err != nil {
				return err
			}
			if n, err := tx.ActiveWaitlist(acc[0]); err != nil || n != 2 {
				return fmt.Errorf("ActiveWaitlist after fulfilment = %d, %v; want 2", n, err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		a.Status, a.OrderID, a.RefundFen = booking.WaitFulfilled, 77, 2000
		got, err = st.Waitlist(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		wlSame(t, got, a)
		if len(got.Events) != len(events) {
			t.Fatalf("events = %+v, want %d", got.Events, len(events))
		}
		for i, e := range got.Events {
			if !e.At.Equal(events[i].At) {
				t.Errorf("event %d at %v, want %v", i, e.At, events[i].At)
			}
			e.At = events[i].At
			if e != events[i] {
				t.Errorf("event %d = %+v, want %+v", i, e, events[i])
			}
		}
		on, err = st.WaitingOn(ctx, bkZ66)
		wlWantIDs(t, "WaitingOn Z66 after fulfilment", on, err, d.ID)

		// What is not there.
		_, err = st.Waitlist(ctx, 9999)
		bkWantReason(t, err, fault.NotFound, "waitlist_not_found")
		err = st.Update(ctx, func(tx booking.Tx) error {
			_, err := tx.WaitlistForUpdate(9999)
			return err
		})
		bkWantReason(t, err, fault.NotFound, "waitlist_not_found")
		missing := b
		missing.ID = 9999
		err = st.Update(ctx, func(tx booking.Tx) error { return tx.SetWaitlist(missing) })
		bkWantReason(t, err, fault.NotFound, "waitlist_not_found")
		// A rolled back insert leaves nothing.
		boom := errors.New("boom")
		e := wlEntry(acc[2], booking.WaitWaiting, 0, bkZ66)
		err = st.Update(ctx, func(tx booking.Tx) error {
			if err := tx.InsertWaitlist(&e); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("Update = %v, want boom", err)
		}
		mine, err = st.WaitlistOf(ctx, acc[2], 10)
		wlWantIDs(t, "WaitlistOf after a rollback", mine, err)
		on, err = st.WaitingOn(ctx, bkZ66)
		wlWantIDs(t, "WaitingOn after a rollback", on, err, d.ID)
	})
}

// TestWaitlistDue checks the entries due for the sweeper: unpaid past
// their payment window, waiting past their deadline, and refunds owed.
func TestWaitlistDue(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := context.Background()
		acc := bkSetUp(t, s, 1)
		st := s.Booking
		// unpaid pays by +10m, +11m; waiting deadlines at +2d, +48h+1m
		// (created a minute later); a fulfilled one is never due.
		u1 := wlEntry(acc[0], booking.WaitUnpaid, 0, bkZ66)
		w1 := wlEntry(acc[0], booking.WaitWaiting, -48*time.Hour+10*time.Minute, bkZ66)
		u2 := wlEntry(acc[0], booking.WaitUnpaid, time.Minute, bkZ66)
		w2 := wlEntry(acc[0], booking.WaitWaiting, -48*time.Hour+11*time.Minute, bkG1)
		f := wlEntry(acc[0], booking.WaitFulfilled, -49*time.Hour, bkZ66)
		for _, e := range []*booking.WaitlistEntry{&u1, &w1, &u2, &w2, &f} {
			wlInsert(t, s, e)
		}
		at10 := u1.PayBy // == w1.Deadline
		if !w1.Deadline.Equal(at10) {
			t.Fatalf("set-up: %v != %v", w1.Deadline, at10)
		}
		due, err := st.DueWaitlist(ctx, at10.Add(-time.Microsecond), 10)
		wlWantIDs(t, "DueWaitlist before any", due, err)
		due, err = st.DueWaitlist(ctx, at10, 10)
		wlWantIDs(t, "DueWaitlist at the bound", due, err, u1.ID, w1.ID)
		due, err = st.DueWaitlist(ctx, at10.Add(time.Hour), 10)
		wlWantIDs(t, "DueWaitlist later", due, err, u1.ID, w1.ID, u2.ID, w2.ID)
		if len(due) == 4 {
			wlSame(t, due[1], w1)
		}
		due, err = st.DueWaitlist(ctx, at10.Add(time.Hour), 3)
		wlWantIDs(t, "DueWaitlist limit 3", due, err, u1.ID, w1.ID, u2.ID)

		// Refunds owed: money back and not yet sent.
		refunds, err := st.WaitlistRefundsDue(ctx, 10)
		wlWantIDs(t, "WaitlistRefundsDue with none", refunds, err)
		w1.Status, w1.RefundFen = booking.WaitExpired, w1.PrepaidFen
		f.RefundFen = 2000
		u2.RefundFen, u2.RefundSent = 500, true // sent already
		for _, e := range []booking.WaitlistEntry{w1, f, u2} {
			wlSet(t, s, e)
		}
		refunds, err = st.WaitlistRefundsDue(ctx, 10)
		wlWantIDs(t, "WaitlistRefundsDue", refunds, err, w1.ID, f.ID)
		if len(refunds) == 2 {
			wlSame(t, refunds[0], w1)
		}
		refunds, err = st.WaitlistRefundsDue(ctx, 1)
		wlWantIDs(t, "WaitlistRefundsDue limit 1", refunds, err, w1.ID)
		w1.RefundSent = true
		wlSet(t, s, w1)
		refunds, err = st.WaitlistRefundsDue(ctx, 10)
		wlWantIDs(t, "WaitlistRefundsDue after sending", refunds, err, f.ID)
		// Expired, w1 is no longer due; still unpaid, u2 is.
		due, err = st.DueWaitlist(ctx, at10.Add(time.Hour), 10)
		wlWantIDs(t, "DueWaitlist after expiry", due, err, u1.ID, u2.ID, w2.ID)
	})
}
