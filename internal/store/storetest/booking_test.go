package storetest_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"piao/internal/booking"
	"piao/internal/fault"
	"piao/internal/network"
	"piao/internal/seats"
	"piao/internal/store/storetest"
)

// bkT0 is a fixed instant, not in UTC and with microseconds (PostgreSQL's
// precision), so the stores must keep the instant and drop the zone.
var bkT0 = time.Date(2026, 1, 3, 9, 15, 0, 250001000, time.FixedZone("CST", 8*3600))

// The train dates of the suite: services of sampleBundle (train_dates
// refers to services).
var (
	bkZ66  = booking.TrainKey{ServiceID: "t:Z66", Date: network.MustDate("2026-01-03")}
	bkZ66b = booking.TrainKey{ServiceID: "t:Z66", Date: network.MustDate("2026-01-04")}
	bkG1   = booking.TrainKey{ServiceID: "t:G1", Date: network.MustDate("2026-01-02")}
)

// bkSeats is Z66's inventory: three hard-sleeper berths in car 1, two
// soft-sleeper berths in car 2, over its one leg.
func bkSeats() []booking.SeatRow {
	hard, soft := network.HardSleeper, network.SoftSleeper
	return []booking.SeatRow{
		{SeatNo: 0, Car: 1, Label: "01U", Kind: seats.Kind{Class: hard, Berth: network.Upper}},
		{SeatNo: 1, Car: 1, Label: "01M", Kind: seats.Kind{Class: hard, Berth: network.Middle}},
		{SeatNo: 2, Car: 1, Label: "01L", Kind: seats.Kind{Class: hard, Berth: network.Lower}},
		{SeatNo: 3, Car: 2, Label: "01U", Kind: seats.Kind{Class: soft, Berth: network.Upper}},
		{SeatNo: 4, Car: 2, Label: "01L", Kind: seats.Kind{Class: soft, Berth: network.Lower}},
	}
}

// bkCounts is a 2 × 2 availability matrix per kind of bkSeats.
func bkCounts(free int32) map[seats.Kind][]int32 {
	out := map[seats.Kind][]int32{}
	for _, r := range bkSeats() {
		out[r.Kind] = []int32{0, free, 0, 0}
	}
	return out
}

// bkSetUp imports the sample network and creates n accounts.
func bkSetUp(t testing.TB, s storetest.Stores, n int) []int64 {
	t.Helper()
	if _, err := s.Network.ImportBundle(context.Background(), sampleBundle()); err != nil {
		t.Fatal(err)
	}
	return bnAccounts(t, s, "bk", n)
}

// bkCreateTrain creates a train date's inventory the way the committer
// does: lock, then create when it does not exist.
func bkCreateTrain(t testing.TB, s storetest.Stores, k booking.TrainKey) {
	t.Helper()
	err := s.Booking.Update(context.Background(), func(tx booking.Tx) error {
		st, err := tx.LockTrain(k)
		if err != nil || st.Exists {
			return fmt.Errorf("LockTrain of a new train date = %+v, %v", st, err)
		}
		return tx.CreateTrain(k, 2, bkSeats(), bkCounts(1))
	})
	if err != nil {
		t.Fatal(err)
	}
}

// bkOrder is an order of account on k with a ticket per document, on
// seats from seat 0; at is its creation time.
func bkOrder(account int64, k booking.TrainKey, status booking.OrderStatus, at time.Time, docs ...string) booking.Order {
	o := booking.Order{AccountID: account, Status: status, Train: k, TotalFen: 40000 * int64(len(docs)),
		CreatedAt: at, HoldExpiresAt: at.Add(30 * time.Minute)}
	for i, doc := range docs {
		r := bkSeats()[i%len(bkSeats())]
		o.Tickets = append(o.Tickets, booking.Ticket{Train: k, Number: "Z66", FromSeq: 0, ToSeq: 1, FromStationID: "t:BXP", ToStationID: "t:NCG",
			Departure: at.Add(24 * time.Hour), Arrival: at.Add(35*time.Hour + 30*time.Minute), SeatNo: r.SeatNo, Car: r.Car, Seat: r.Label,
			SeatClass: r.Kind.Class, Berth: r.Kind.Berth, PassengerName: "乘客" + doc, DocType: "ID", DocNumber: doc, FareFen: 40000 + int64(i), Status: status})
	}
	return o
}

// bkInsert stores o in a transaction of its own.
func bkInsert(ctx context.Context, s storetest.Stores, o *booking.Order) error {
	return s.Booking.Update(ctx, func(tx booking.Tx) error { return tx.InsertOrder(o) })
}

// bkSameTime fails unless got is want's instant in UTC.
func bkSameTime(t *testing.T, what string, got, want time.Time) {
	t.Helper()
	if !got.Equal(want) || got.Location() != time.UTC {
		t.Errorf("%s = %v, want %v in UTC", what, got, want)
	}
}

// bkSameOrder fails unless got is want as stored: every column, its
// tickets in ID order, times as instants.
func bkSameOrder(t *testing.T, got, want booking.Order) {
	t.Helper()
	bkSameTime(t, "created at", got.CreatedAt, want.CreatedAt)
	bkSameTime(t, "hold expires at", got.HoldExpiresAt, want.HoldExpiresAt)
	if (got.PaidAt == nil) != (want.PaidAt == nil) {
		t.Errorf("paid at = %v, want %v", got.PaidAt, want.PaidAt)
	} else if want.PaidAt != nil {
		bkSameTime(t, "paid at", *got.PaidAt, *want.PaidAt)
	}
	if len(got.Tickets) != len(want.Tickets) {
		t.Fatalf("order %d has %d tickets, want %d", got.ID, len(got.Tickets), len(want.Tickets))
	}
	for i := range want.Tickets {
		g, w := got.Tickets[i], want.Tickets[i]
		bkSameTime(t, "departure", g.Departure, w.Departure)
		bkSameTime(t, "arrival", g.Arrival, w.Arrival)
		g.Departure, g.Arrival = w.Departure, w.Arrival
		if g != w {
			t.Errorf("ticket %d:\n got %+v\nwant %+v", i, g, w)
		}
	}
	got.CreatedAt, got.HoldExpiresAt, got.PaidAt, got.Tickets, got.Events = want.CreatedAt, want.HoldExpiresAt, want.PaidAt, want.Tickets, want.Events
	if !reflect.DeepEqual(got, want) {
		t.Errorf("order:\n got %+v\nwant %+v", got, want)
	}
}

// bkWantReason fails unless err is a fault with the reason.
func bkWantReason(t *testing.T, err error, code fault.Code, reason string) {
	t.Helper()
	if err == nil || fault.CodeOf(err) != code || fault.As(err).Reason != reason {
		t.Fatalf("err = %v, want %s %s", err, code, reason)
	}
}

// TestBookingInventory checks train dates: created on first lock, versions
// set by SaveSeats, seats and counters read back, rolled back updates.
func TestBookingInventory(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := context.Background()
		bkSetUp(t, s, 0)
		st := s.Booking
		if v, err := st.TrainVersion(ctx, bkZ66); err != nil || v != 0 {
			t.Fatalf("version of a missing train date = %d, %v", v, err)
		}
		if rows, v, err := st.Seats(ctx, bkZ66); err != nil || len(rows) != 0 || v != 0 {
			t.Fatalf("seats of a missing train date = %v, %d, %v", rows, v, err)
		}
		if inv, err := st.Inventory(ctx, bkZ66); err != nil || inv.Version != 0 || len(inv.Seats) != 0 || len(inv.Tickets) != 0 {
			t.Fatalf("inventory of a missing train date = %+v, %v", inv, err)
		}
		bkCreateTrain(t, s, bkZ66)
		bkCreateTrain(t, s, bkG1)
		if keys, err := st.TrainDates(ctx); err != nil || !reflect.DeepEqual(keys, []booking.TrainKey{bkG1, bkZ66}) {
			t.Fatalf("TrainDates = %v, %v; want G1 then Z66 (by date)", keys, err)
		}
		rows, v, err := st.Seats(ctx, bkZ66)
		if err != nil || v != 1 || !reflect.DeepEqual(rows, bkSeats()) {
			t.Fatalf("Seats = %+v, %d, %v; want bkSeats at version 1", rows, v, err)
		}
		// Sell the middle berth and update the hard sleeper middle counter.
		middle := seats.Kind{Class: network.HardSleeper, Berth: network.Middle}
		err = st.Update(ctx, func(tx booking.Tx) error {
			state, err := tx.LockTrain(bkZ66)
			if err != nil || !state.Exists || state.Version != 1 {
				return fmt.Errorf("LockTrain = %+v, %v; want version 1", state, err)
			}
			loaded, err := tx.LoadSeats(bkZ66)
			if err != nil || !reflect.DeepEqual(loaded, bkSeats()) {
				return fmt.Errorf("LoadSeats = %+v, %v", loaded, err)
			}
			loaded[1].Sold = seats.Span(0, 1)
			return tx.SaveSeats(bkZ66, loaded[1:2], map[seats.Kind][]int32{middle: {0, 0, 0, 0}}, state.Version+1)
		})
		if err != nil {
			t.Fatal(err)
		}
		want := bkSeats()
		want[1].Sold = seats.Span(0, 1)
		inv, err := st.Inventory(ctx, bkZ66)
		if err != nil || inv.Version != 2 || !reflect.DeepEqual(inv.Seats, want) {
			t.Fatalf("Inventory = %+v, %v; want version 2 with the middle berth sold", inv, err)
		}
		wantCounts := bkCounts(1)
		wantCounts[middle] = []int32{0, 0, 0, 0}
		if !reflect.DeepEqual(inv.Counts, wantCounts) {
			t.Errorf("counts = %v, want %v", inv.Counts, wantCounts)
		}
		if v, err := st.TrainVersion(ctx, bkZ66); err != nil || v != 2 {
			t.Errorf("TrainVersion = %d, %v; want 2", v, err)
		}
		if v, err := st.TrainVersion(ctx, bkG1); err != nil || v != 1 {
			t.Errorf("G1's TrainVersion = %d, %v; want 1 (untouched)", v, err)
		}
		// An error from fn rolls everything back.
		boom := errors.New("boom")
		err = st.Update(ctx, func(tx booking.Tx) error {
			if _, err := tx.LockTrain(bkZ66); err != nil {
				return err
			}
			all := bkSeats()
			for i := range all {
				all[i].Sold = seats.Span(0, 1)
			}
			if err := tx.SaveSeats(bkZ66, all, bkCounts(0), 3); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("Update = %v, want boom", err)
		}
		if rows, v, err := st.Seats(ctx, bkZ66); err != nil || v != 2 || !reflect.DeepEqual(rows, want) {
			t.Errorf("after rollback Seats = %+v, %d, %v; want version 2 as before", rows, v, err)
		}
	})
}

// TestBookingConcurrentVersions runs read-modify-write updates of one train
// date's version at once: LockTrain must make them take turns, so none is lost.
func TestBookingConcurrentVersions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := context.Background()
		bkSetUp(t, s, 0)
		bkCreateTrain(t, s, bkZ66)
		const writers, rounds = 4, 5
		var wg sync.WaitGroup
		errs := make(chan error, writers)
		for range writers {
			wg.Go(func() {
				for range rounds {
					for {
						err := s.Booking.Update(ctx, func(tx booking.Tx) error {
							st, err := tx.LockTrain(bkZ66)
							if err != nil {
								return err
							}
							return tx.SaveSeats(bkZ66, nil, nil, st.Version+1)
						})
						if errors.Is(err, booking.ErrTxConflict) {
							continue // the committer runs it again too
						}
						if err != nil {
							errs <- err
							return
						}
						break
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if v, err := s.Booking.TrainVersion(ctx, bkZ66); err != nil || v != 1+writers*rounds {
			t.Fatalf("version = %d, %v; want %d", v, err, 1+writers*rounds)
		}
	})
}

// TestBookingOrders stores orders and walks them through payment, refund
// and change, reading them back every way the store offers.
func TestBookingOrders(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := context.Background()
		acc := bkSetUp(t, s, 3)
		st := s.Booking
		bkCreateTrain(t, s, bkZ66)

		held := bkOrder(acc[0], bkZ66, booking.Held, bkT0, "D1", "D2")
		if err := bkInsert(ctx, s, &held); err != nil {
			t.Fatal(err)
		}
		if held.ID == 0 || held.Tickets[0].ID == 0 || held.Tickets[1].ID <= held.Tickets[0].ID {
			t.Fatalf("IDs not set in order: order %d, tickets %d, %d", held.ID, held.Tickets[0].ID, held.Tickets[1].ID)
		}
		for _, tk := range held.Tickets {
			if tk.OrderID != held.ID {
				t.Fatalf("ticket %d has order %d, want %d", tk.ID, tk.OrderID, held.ID)
			}
		}
		got, err := st.Order(ctx, held.ID)
		if err != nil {
			t.Fatal(err)
		}
		bkSameOrder(t, got, held)
		if got.Events == nil || len(got.Events) != 0 {
			t.Errorf("events of a new order = %#v, want []", got.Events)
		}
		if inv, err := st.Inventory(ctx, bkZ66); err != nil || len(inv.Tickets) != 2 || inv.Tickets[0] != got.Tickets[0] {
			t.Errorf("inventory tickets = %+v, %v; want the two held", inv.Tickets, err)
		}

		// The rules: one held order per account, one held or paid ticket
		// per document and train date. The store's indexes hold them even
		// when a caller does not check.
		err = st.Update(ctx, func(tx booking.Tx) error {
			if id, err := tx.HeldOrderOf(acc[0]); err != nil || id != held.ID {
				return fmt.Errorf("HeldOrderOf = %d, %v; want %d", id, err, held.ID)
			}
			if id, err := tx.HeldOrderOf(acc[1]); err != nil || id != 0 {
				return fmt.Errorf("HeldOrderOf without one = %d, %v", id, err)
			}
			for _, c := range []struct {
				doc  string
				k    booking.TrainKey
				want bool
			}{{"D1", bkZ66, true}, {"D2", bkZ66, true}, {"D3", bkZ66, false}, {"D1", bkZ66b, false}} {
				if got, err := tx.ActiveTicketFor("ID", c.doc, c.k); err != nil || got != c.want {
					return fmt.Errorf("ActiveTicketFor(%s, %v) = %v, %v; want %v", c.doc, c.k, got, err, c.want)
				}
			}
			return tx.LockAccount(acc[0])
		})
		if err != nil {
			t.Fatal(err)
		}
		// PostgreSQL names the rule. SQLite undoes only the failed statement,
		// not its transaction, so it answers an internal error that makes
		// the committer roll the whole batch back.
		wantRule := func(err error, reason, sqliteIndex string) {
			t.Helper()
			if s.Engine == "sqlite" {
				if !fault.Is(err, fault.Internal) || !strings.Contains(err.Error(), "UNIQUE constraint failed: "+sqliteIndex) {
					t.Fatalf("err = %v, want an internal error from the unique index on %s", err, sqliteIndex)
				}
				return
			}
			bkWantReason(t, err, fault.Conflict, reason)
		}
		second := bkOrder(acc[0], bkZ66b, booking.Held, bkT0, "D9")
		wantRule(bkInsert(ctx, s, &second), "unpaid_order_exists", "orders.account_id")
		other := bkOrder(acc[1], bkZ66, booking.Held, bkT0, "D8", "D2")
		wantRule(bkInsert(ctx, s, &other), "document_already_booked", "tickets.doc_type")
		if os, err := st.OrdersOf(ctx, acc[1], 10); err != nil || len(os) != 0 {
			t.Fatalf("refused order stored: %+v, %v", os, err)
		}

		// Pay: status, payment, paid time and events.
		paidAt := bkT0.Add(5 * time.Minute)
		events := []booking.Event{
			{OrderID: held.ID, At: bkT0, Actor: fmt.Sprintf("account:%d", acc[0]), Action: "book", To: booking.Held},
			{OrderID: held.ID, At: paidAt, Actor: "payment:sandbox", Action: "pay", From: booking.Held, To: booking.Paid, TicketID: held.Tickets[1].ID, Detail: "p-1"},
		}
		err = st.Update(ctx, func(tx booking.Tx) error {
			o, err := tx.OrderForUpdate(held.ID)
			if err != nil {
				return err
			}
			o.Status, o.PaymentID, o.PaidAt = booking.Paid, "p-1", &paidAt
			for i := range o.Tickets {
				o.Tickets[i].Status = booking.Paid
			}
			if err := tx.SetOrder(o); err != nil {
				return err
			}
			return tx.AppendEvents(events...)
		})
		if err != nil {
			t.Fatal(err)
		}
		paid := held
		paid.Status, paid.PaymentID, paid.PaidAt = booking.Paid, "p-1", &paidAt
		paid.Tickets = append([]booking.Ticket(nil), held.Tickets...)
		for i := range paid.Tickets {
			paid.Tickets[i].Status = booking.Paid
		}
		got, err = st.Order(ctx, held.ID)
		if err != nil {
			t.Fatal(err)
		}
		bkSameOrder(t, got, paid)
		if len(got.Events) != len(events) {
			t.Fatalf("events = %+v, want %d", got.Events, len(events))
		}
		for i, e := range got.Events {
			bkSameTime(t, "event time", e.At, events[i].At)
			e.At = events[i].At
			if e != events[i] {
				t.Errorf("event %d = %+v, want %+v", i, e, events[i])
			}
		}

		// Paid, the account may hold another order; the documents still
		// hold their tickets.
		next := bkOrder(acc[0], bkZ66b, booking.Held, bkT0.Add(time.Hour), "D1")
		if err := bkInsert(ctx, s, &next); err != nil {
			t.Fatalf("a held order after paying: %v", err)
		}
		again := bkOrder(acc[1], bkZ66, booking.Held, bkT0, "D1")
		wantRule(bkInsert(ctx, s, &again), "document_already_booked", "tickets.doc_type")

		// Refund D1's ticket and change D2's: refund, fee and change link.
		err = st.Update(ctx, func(tx booking.Tx) error {
			o, err := tx.OrderOfTicket(held.Tickets[1].ID)
			if err != nil || o.ID != held.ID || len(o.Events) != 0 {
				return fmt.Errorf("tx OrderOfTicket = order %d with %d events, %v", o.ID, len(o.Events), err)
			}
			o.Status = booking.Refunded
			o.Tickets[0].Status, o.Tickets[0].RefundFen, o.Tickets[0].FeeFen = booking.Refunded, 36000, 4000
			o.Tickets[1].Status, o.Tickets[1].ChangedTo = booking.Changed, next.Tickets[0].ID
			return tx.SetOrder(o)
		})
		if err != nil {
			t.Fatal(err)
		}
		done := paid
		done.Status = booking.Refunded
		done.Tickets = append([]booking.Ticket(nil), paid.Tickets...)
		done.Tickets[0].Status, done.Tickets[0].RefundFen, done.Tickets[0].FeeFen = booking.Refunded, 36000, 4000
		done.Tickets[1].Status, done.Tickets[1].ChangedTo = booking.Changed, next.Tickets[0].ID
		got, err = st.OrderOfTicket(ctx, held.Tickets[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		bkSameOrder(t, got, done)
		if len(got.Events) != 2 {
			t.Errorf("OrderOfTicket has %d events, want 2", len(got.Events))
		}
		// Refunded, the document may book the train date again.
		rebook := bkOrder(acc[1], bkZ66, booking.Held, bkT0, "D1")
		if err := bkInsert(ctx, s, &rebook); err != nil {
			t.Fatalf("booking a refunded document again: %v", err)
		}

		// An account's orders, newest first, with tickets and no events.
		os, err := st.OrdersOf(ctx, acc[0], 10)
		if err != nil || len(os) != 2 || os[0].ID != next.ID || os[1].ID != held.ID {
			t.Fatalf("OrdersOf = %+v, %v; want next then held", os, err)
		}
		bkSameOrder(t, os[0], next)
		bkSameOrder(t, os[1], done)
		if len(os[1].Events) != 0 {
			t.Errorf("OrdersOf read %d events, want none", len(os[1].Events))
		}
		if os, err := st.OrdersOf(ctx, acc[0], 1); err != nil || len(os) != 1 || os[0].ID != next.ID {
			t.Errorf("OrdersOf limit 1 = %+v, %v", os, err)
		}
		if os, err := st.OrdersOf(ctx, acc[2], 10); err != nil || os == nil || len(os) != 0 {
			t.Errorf("OrdersOf without orders = %#v, %v; want []", os, err)
		}

		// What is not there.
		bkWantReason(t, func() error { _, err := st.Order(ctx, 9999); return err }(), fault.NotFound, "order_not_found")
		bkWantReason(t, func() error { _, err := st.OrderOfTicket(ctx, 9999); return err }(), fault.NotFound, "order_not_found")
		err = st.Update(ctx, func(tx booking.Tx) error {
			if _, err := tx.OrderForUpdate(9999); err != nil {
				return err
			}
			return errors.New("OrderForUpdate found order 9999")
		})
		bkWantReason(t, err, fault.NotFound, "order_not_found")
		err = st.Update(ctx, func(tx booking.Tx) error {
			if _, err := tx.OrderOfTicket(9999); err != nil {
				return err
			}
			return errors.New("OrderOfTicket found ticket 9999")
		})
		bkWantReason(t, err, fault.NotFound, "order_not_found")
	})
}

// TestBookingCountsAndExpiries checks the counting reads and the held
// orders due to expire.
func TestBookingCountsAndExpiries(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := context.Background()
		acc := bkSetUp(t, s, 4)
		st := s.Booking
		// Seats 0–4 in order: hard upper, middle, lower; soft upper, lower.
		orders := []booking.Order{
			bkOrder(acc[0], bkZ66, booking.Held, bkT0.Add(2*time.Minute), "A1", "A2", "A3", "A4", "A5"),
			bkOrder(acc[1], bkZ66, booking.Held, bkT0, "B1"),
			bkOrder(acc[2], bkZ66b, booking.Held, bkT0.Add(time.Minute), "C1"),
			bkOrder(acc[3], bkZ66, booking.Paid, bkT0.Add(-time.Hour), "E1"),
		}
		for i := range orders {
			if err := bkInsert(ctx, s, &orders[i]); err != nil {
				t.Fatal(err)
			}
		}
		due, err := st.DueExpiries(ctx, orders[0].HoldExpiresAt, 10)
		want := []booking.Order{
			{ID: orders[1].ID, Train: bkZ66}, {ID: orders[2].ID, Train: bkZ66b}, {ID: orders[0].ID, Train: bkZ66},
		}
		if err != nil || !reflect.DeepEqual(due, want) {
			t.Fatalf("DueExpiries = %+v, %v;\nwant %+v (by hold end, the bound included, paid left out)", due, err, want)
		}
		if due, err := st.DueExpiries(ctx, orders[0].HoldExpiresAt, 1); err != nil || !reflect.DeepEqual(due, want[:1]) {
			t.Errorf("DueExpiries limit 1 = %+v, %v", due, err)
		}
		if due, err := st.DueExpiries(ctx, orders[1].HoldExpiresAt.Add(-time.Microsecond), 10); err != nil || len(due) != 0 {
			t.Errorf("DueExpiries before any = %+v, %v", due, err)
		}

		// Cancel A's order: the middle and upper berths count for A2 and A1
		// (hard) and A4 (soft upper); A3's lower berth does not.
		err = st.Update(ctx, func(tx booking.Tx) error {
			o, err := tx.OrderForUpdate(orders[0].ID)
			if err != nil {
				return err
			}
			o.Status = booking.Cancelled
			for i := range o.Tickets {
				o.Tickets[i].Status = booking.Cancelled
			}
			return tx.SetOrder(o)
		})
		if err != nil {
			t.Fatal(err)
		}
		for doc, want := range map[string]int{"A1": 1, "A2": 1, "A3": 0, "A4": 1, "A5": 0, "B1": 0} {
			if n, err := st.BerthCancels(ctx, "ID", doc, bkZ66); err != nil || n != want {
				t.Errorf("BerthCancels(%s) = %d, %v; want %d", doc, n, err, want)
			}
		}
		if n, err := st.BerthCancels(ctx, "ID", "A1", bkZ66b); err != nil || n != 0 {
			t.Errorf("BerthCancels on another date = %d, %v", n, err)
		}
		hard, err := st.TicketCounts(ctx, bkZ66, network.HardSleeper)
		// Hard sleeper on Z66: A1–A3 cancelled; B1 held (seat 0); E1 paid (seat 0).
		if wantHard := map[booking.TicketStatus]int{booking.Cancelled: 3, booking.Held: 1, booking.Paid: 1}; err != nil || !reflect.DeepEqual(hard, wantHard) {
			t.Errorf("TicketCounts hard = %v, %v; want %v", hard, err, wantHard)
		}
		soft, err := st.TicketCounts(ctx, bkZ66, network.SoftSleeper)
		if wantSoft := map[booking.TicketStatus]int{booking.Cancelled: 2}; err != nil || !reflect.DeepEqual(soft, wantSoft) {
			t.Errorf("TicketCounts soft = %v, %v; want %v", soft, err, wantSoft)
		}
		if none, err := st.TicketCounts(ctx, bkG1, network.SecondClass); err != nil || none == nil || len(none) != 0 {
			t.Errorf("TicketCounts without tickets = %#v, %v; want an empty map", none, err)
		}
		if due, err := st.DueExpiries(ctx, orders[0].HoldExpiresAt, 10); err != nil || len(due) != 2 {
			t.Errorf("DueExpiries after the cancel = %+v, %v; want B's and C's", due, err)
		}
	})
}

// TestBookingSettings checks settings written in booking transactions.
func TestBookingSettings(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := context.Background()
		var first, second string
		err := s.Booking.Update(ctx, func(tx booking.Tx) error {
			var err error
			if first, err = tx.EnsureSetting("fees", `{"a":1}`); err != nil {
				return err
			}
			second, err = tx.EnsureSetting("fees", `{"a":2}`)
			return err
		})
		if err != nil || first != `{"a":1}` || second != `{"a":1}` {
			t.Fatalf("EnsureSetting = %q then %q, %v; want the first value twice", first, second, err)
		}
		if err := s.Booking.Update(ctx, func(tx booking.Tx) error { return tx.SetSetting("fees", `{"a":3}`) }); err != nil {
			t.Fatal(err)
		}
		if v, err := s.Booking.Setting(ctx, "fees"); err != nil || v != `{"a":3}` {
			t.Errorf("Setting = %q, %v", v, err)
		}
		if v, err := s.Booking.Setting(ctx, "none"); err != nil || v != "" {
			t.Errorf("unset Setting = %q, %v", v, err)
		}
	})
}

// TestBookingOneHeldOrderUnderRace books for one account from several
// transactions at once, each checking for a held order under LockAccount
// first, as the committers of several processes do: exactly one books and
// every other sees its order.
func TestBookingOneHeldOrderUnderRace(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := context.Background()
		acc := bkSetUp(t, s, 1)
		const n = 3 // within the PostgreSQL pool, so all can be open at once
		// On PostgreSQL the transactions meet before any takes the lock, so
		// without it every one would find no held order. SQLite runs one
		// write transaction at a time: there they cannot meet.
		meet := s.Engine == "postgres"
		var arrived atomic.Int32
		met := make(chan struct{})
		errHeld := errors.New("held")
		results := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				first := meet
				for {
					o := bkOrder(acc[0], bkZ66, booking.Held, bkT0, fmt.Sprintf("R%d", i))
					err := s.Booking.Update(ctx, func(tx booking.Tx) error {
						if first {
							first = false
							if arrived.Add(1) == n {
								close(met)
							}
							select {
							case <-met:
							case <-time.After(time.Minute):
								return errors.New("the transactions never met")
							}
						}
						if err := tx.LockAccount(acc[0]); err != nil {
							return err
						}
						if id, err := tx.HeldOrderOf(acc[0]); err != nil || id != 0 {
							return errors.Join(err, errHeld)
						}
						return tx.InsertOrder(&o)
					})
					if !errors.Is(err, booking.ErrTxConflict) {
						results[i] = err
						return
					}
				}
			})
		}
		wg.Wait()
		booked := 0
		for _, err := range results {
			switch {
			case err == nil:
				booked++
			case !errors.Is(err, errHeld):
				t.Errorf("a booking failed with %v, want it to see the held order", err)
			}
		}
		if booked != 1 {
			t.Fatalf("%d bookings succeeded, want 1", booked)
		}
	})
}

// BenchmarkBookingInsertOrder measures the write path of one booking of
// five passengers: lock the train date, insert the order, save its seats
// and counters, append an event (PIAO_TEST_POSTGRES for PostgreSQL).
func BenchmarkBookingInsertOrder(b *testing.B) {
	for _, e := range storetest.Engines() {
		b.Run(e.Name, func(b *testing.B) {
			s := e.Open(b)
			ctx := context.Background()
			acc := bkSetUp(b, s, 1)
			bkCreateTrain(b, s, bkZ66)
			rows := bkSeats()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				o := bkOrder(acc[0], bkZ66, booking.Paid, bkT0, "a"+fmt.Sprint(i), "b"+fmt.Sprint(i), "c"+fmt.Sprint(i), "d"+fmt.Sprint(i), "e"+fmt.Sprint(i))
				err := s.Booking.Update(ctx, func(tx booking.Tx) error {
					st, err := tx.LockTrain(bkZ66)
					if err != nil {
						return err
					}
					if err := tx.InsertOrder(&o); err != nil {
						return err
					}
					if err := tx.SaveSeats(bkZ66, rows, bkCounts(0), st.Version+1); err != nil {
						return err
					}
					return tx.AppendEvents(booking.Event{OrderID: o.ID, At: bkT0, Actor: "bench", Action: "book", To: booking.Paid})
				})
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkBookingReadOrder measures reading a five-passenger order with
// its tickets and events, in and out of a transaction.
func BenchmarkBookingReadOrder(b *testing.B) {
	for _, e := range storetest.Engines() {
		b.Run(e.Name, func(b *testing.B) {
			s := e.Open(b)
			ctx := context.Background()
			acc := bkSetUp(b, s, 1)
			o := bkOrder(acc[0], bkZ66, booking.Paid, bkT0, "a", "b", "c", "d", "e")
			if err := bkInsert(ctx, s, &o); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, err := s.Booking.Order(ctx, o.ID); err != nil {
					b.Fatal(err)
				}
				err := s.Booking.Update(ctx, func(tx booking.Tx) error { _, err := tx.OrderForUpdate(o.ID); return err })
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
