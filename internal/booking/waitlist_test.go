package booking_test

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"piao/internal/booking"
	"piao/internal/ledger"
	"piao/internal/network"
	"piao/internal/store/storetest"
)

// sixBerthTrain is a three-stop overnight train with one hard-sleeper
// compartment: two berths each of lower, middle and upper, lower dearest.
func sixBerthTrain() *network.Bundle {
	b := &network.Bundle{
		Feed:      network.Feed{ID: "w", Name: "test", Mode: network.ModeRail, Timezone: "Asia/Shanghai", Digest: "w1"},
		Agencies:  []network.Agency{{ID: "w:A", FeedID: "w", Name: "Test Rail"}},
		Calendars: []network.Calendar{network.Daily("w:daily", "w", day0, 30)},
		CarTypes:  []network.CarType{network.SleeperLayout("YW1", network.HardSleeper, "硬卧", "Hard sleeper", 1, []network.Berth{network.Lower, network.Middle, network.Upper})},
	}
	svc := network.Service{ID: "w:W6", FeedID: "w", Number: "W6", CalendarID: "w:daily", Cars: []network.Car{{No: 1, CarType: "YW1"}}}
	for i, code := range []string{"A", "B", "C"} {
		b.Stations = append(b.Stations, network.Station{ID: "w:" + code, FeedID: "w", Code: code, NameEN: "Station " + code})
		secs := 20*3600 + i*3*3600
		svc.Stops = append(svc.Stops, network.Stop{Seq: i + 1, StationID: "w:" + code, Arrive: secs, Depart: secs + 120, Metres: i * 200000})
	}
	b.Services = []network.Service{svc}
	for i := range svc.Stops {
		for j := i + 1; j < len(svc.Stops); j++ {
			for k, berth := range []network.Berth{network.Lower, network.Middle, network.Upper} {
				b.Fares = append(b.Fares, network.Fare{ServiceID: svc.ID, FromStationID: svc.Stops[i].StationID, ToStationID: svc.Stops[j].StationID,
					SeatClass: network.HardSleeper, Berth: berth, Fen: int64((j - i) * (10000 - 1000*k))})
			}
		}
	}
	return b
}

func (pe *payEnv) bookW6(t *testing.T, account int64, i int, berth network.Berth) (booking.Order, error) {
	t.Helper()
	res, err := pe.svc.Book(context.Background(), booking.BookRequest{AccountID: account, Train: "W6", Date: day0.String(), From: "A", To: "C",
		Passengers: []booking.PassengerRequest{passenger(i, network.HardSleeper, berth)}})
	return res.Order, err
}

// pay pays a held order through the sandbox and delivers the notification.
func (pe *payEnv) pay(t *testing.T, account int64, o booking.Order) {
	t.Helper()
	id := pe.payment(t, o.ID, account)
	if _, err := pe.gw.Pay(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	pe.deliver(t)
}

// fillW6 sells every berth of W6: five paid, and one held by the last
// account, whose order it returns.
func (pe *payEnv) fillW6(t *testing.T, accounts []int64) booking.Order {
	t.Helper()
	var held booking.Order
	for i := 0; i < 6; i++ {
		o, err := pe.bookW6(t, accounts[i], 1000+i, "")
		if err != nil {
			t.Fatal(err)
		}
		if i < 5 {
			pe.pay(t, accounts[i], o)
		} else {
			held = o
		}
	}
	if _, err := pe.bookW6(t, accounts[6], 1006, ""); !hasReason(err, "sold_out") {
		t.Fatalf("a seventh booking on six berths: %v, want sold out", err)
	}
	return held
}

// joinPaid joins the waitlist for W6 A→C with berth and prepays it.
func (pe *payEnv) joinPaid(t *testing.T, account int64, i int, berth network.Berth) booking.WaitlistEntry {
	t.Helper()
	ctx := context.Background()
	e, err := pe.svc.JoinWaitlist(ctx, booking.WaitlistRequest{AccountID: account,
		Options:    []booking.WaitOptionRequest{{Train: "W6", Date: day0.String(), From: "A", To: "C", SeatClass: network.HardSleeper, Berth: berth}},
		Passengers: []booking.WaitPassengerRequest{waitPassenger(i)}})
	if err != nil {
		t.Fatal(err)
	}
	p, err := pe.svc.WaitlistPayment(ctx, e.ID, account)
	if err != nil {
		t.Fatal(err)
	}
	if p.AmountFen != e.PrepaidFen {
		t.Fatalf("payment of %d fen for a prepayment of %d", p.AmountFen, e.PrepaidFen)
	}
	if _, err := pe.gw.Pay(ctx, p.ID); err != nil {
		t.Fatal(err)
	}
	pe.deliver(t)
	got, err := pe.svc.Waitlist(ctx, e.ID, account)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func waitPassenger(i int) booking.WaitPassengerRequest {
	p := passenger(i, network.HardSleeper, "")
	return booking.WaitPassengerRequest{Name: p.Name, DocType: p.DocType, DocNumber: p.DocNumber}
}

// refunded returns what the gateway has refunded of a payment.
func (pe *payEnv) refunded(t *testing.T, paymentID string) int64 {
	t.Helper()
	p, err := pe.gw.Query(context.Background(), paymentID)
	if err != nil {
		t.Fatal(err)
	}
	return p.RefundedFen
}

func (pe *payEnv) waitRefund(t *testing.T, paymentID string, want int64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for pe.refunded(t, paymentID) != want {
		if time.Now().After(deadline) {
			t.Fatalf("payment %s: refunded %d fen, want %d", paymentID, pe.refunded(t, paymentID), want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A cancelled hold's berth goes to the waiting entry, not back on sale;
// the entry becomes a paid order and the difference to the prepayment
// (the dearest berth) is refunded.
func TestWaitlistServesFreedSeat(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := context.Background()
		pe := newPayEnv(t, s, booking.Config{}, 0, sixBerthTrain())
		acct := pe.accounts(t, 8)
		held := pe.fillW6(t, acct)
		e := pe.joinPaid(t, acct[7], 7, "")
		if e.Status != booking.WaitWaiting || e.PrepaidFen != 20000 || e.Position != 1 || e.Chance == nil {
			t.Fatalf("entry after payment: %+v", e)
		}
		if e.Chance.Percent <= 0 || e.Chance.Percent > 95 {
			t.Fatalf("chance %+v with one held berth ahead", e.Chance)
		}
		if _, err := pe.svc.Cancel(ctx, held.ID, acct[5]); err != nil {
			t.Fatal(err)
		}
		if got := remaining(t, pe.env, "A", "C", "W6", network.HardSleeper, held.Tickets[0].Berth); got != 0 {
			t.Fatalf("%d berths on public sale after the cancel: the waitlist should have taken it", got)
		}
		e, err := pe.svc.Waitlist(ctx, e.ID, acct[7])
		if err != nil {
			t.Fatal(err)
		}
		if e.Status != booking.WaitFulfilled || e.OrderID == 0 {
			t.Fatalf("entry after the cancel: %+v", e)
		}
		o, err := pe.svc.Order(ctx, e.OrderID, acct[7])
		if err != nil {
			t.Fatal(err)
		}
		if o.Status != booking.Paid || len(o.Tickets) != 1 || o.Tickets[0].SeatNo != held.Tickets[0].SeatNo || o.PaymentID != e.PaymentID {
			t.Fatalf("order from the waitlist: %+v, freed seat %d", o, held.Tickets[0].SeatNo)
		}
		if e.RefundFen != e.PrepaidFen-o.TotalFen {
			t.Fatalf("refund %d of prepaid %d for a fare of %d", e.RefundFen, e.PrepaidFen, o.TotalFen)
		}
		pe.waitRefund(t, e.PaymentID, e.RefundFen)
		// The prepayment is held like an order's payment; the order is
		// paid from it (no entry of its own) and the rest goes back.
		entryOf(t, s, booking.WaitlistPaidKey(e.ID), ledger.KindPayment, e.PaymentID,
			ledger.Debit(ledger.GatewayClearing, "", e.PrepaidFen), ledger.Credit(ledger.PassengerPayments, "", e.PrepaidFen))
		entryOf(t, s, booking.WaitlistRefundKey(e.ID), ledger.KindRefund, "",
			ledger.Debit(ledger.PassengerPayments, "", e.RefundFen), ledger.Credit(ledger.RefundsPayable, "", e.RefundFen))
		waitEntry(t, s, booking.WaitlistRefundPaidKey(e.ID), ledger.KindRefund, "waitlist-"+strconv.FormatInt(e.ID, 10),
			ledger.Debit(ledger.RefundsPayable, "", e.RefundFen), ledger.Credit(ledger.GatewayClearing, "", e.RefundFen))
		// The waitlist ticket refunds like any other, from the same payment.
		if _, err := pe.svc.RefundTickets(ctx, o.ID, acct[7], nil); err != nil {
			t.Fatal(err)
		}
		mustVerify(t, s)
		mustCheck(t, pe.svc)
	})
}

// TestWaitlistOneSeatManyEntries frees one berth while thirty waiting
// entries match it and thirty public bookings race for it: exactly one
// entry gets it — the first in the queue — and no public booking does.
func TestWaitlistOneSeatManyEntries(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := context.Background()
		pe := newPayEnv(t, s, booking.Config{}, 0, sixBerthTrain())
		const n = 30
		acct := pe.accounts(t, 7+2*n)
		held := pe.fillW6(t, acct)
		entries := make([]booking.WaitlistEntry, n)
		for i := range entries {
			entries[i] = pe.joinPaid(t, acct[7+i], 2000+i, "")
			if entries[i].Position != i+1 {
				t.Fatalf("entry %d at position %d", i, entries[i].Position)
			}
		}
		var wg sync.WaitGroup
		errs := make(chan error, 2*n+1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := pe.svc.Cancel(ctx, held.ID, acct[5]); err != nil {
				errs <- err
			}
		}()
		for i := 0; i < n; i++ {
			wg.Add(2)
			go func(i int) {
				defer wg.Done()
				if _, err := pe.bookW6(t, acct[7+n+i], 3000+i, ""); err == nil {
					errs <- fmt.Errorf("public booking %d got a berth the waitlist was owed", i)
				} else if !hasReason(err, "sold_out") {
					errs <- err
				}
			}(i)
			go func(i int) { // passengers watching their entries meanwhile
				defer wg.Done()
				if _, err := pe.svc.Waitlist(ctx, entries[i].ID, acct[7+i]); err != nil {
					errs <- err
				}
			}(i)
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		fulfilled := 0
		for i, e := range entries {
			got, err := pe.svc.Waitlist(ctx, e.ID, acct[7+i])
			if err != nil {
				t.Fatal(err)
			}
			switch got.Status {
			case booking.WaitFulfilled:
				fulfilled++
				if i != 0 {
					t.Errorf("entry %d was served before the first in the queue", i)
				}
			case booking.WaitWaiting:
				if got.Position != i {
					t.Errorf("entry %d now at position %d, want %d", i, got.Position, i)
				}
			default:
				t.Errorf("entry %d is %s", i, got.Status)
			}
		}
		if fulfilled != 1 {
			t.Fatalf("%d entries got the one freed berth", fulfilled)
		}
		mustCheck(t, pe.svc)
	})
}

// Entries end by rule: an unpaid one lapses when its payment window
// closes, a waiting one is refunded in full at its deadline, a withdrawn
// one at once; an account has at most the policy's active entries, and a
// payment arriving for a lapsed entry is refunded.
func TestWaitlistDeadlinesAndLimits(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := context.Background()
		pe := newPayEnv(t, s, booking.Config{}, 0, sixBerthTrain())
		acct := pe.accounts(t, 8)
		pe.fillW6(t, acct)
		deadline := startTime.Add(3 * time.Hour).Format(time.RFC3339)
		join := func(i int, deadline string) (booking.WaitlistEntry, error) {
			return pe.svc.JoinWaitlist(ctx, booking.WaitlistRequest{AccountID: acct[7], Deadline: deadline,
				Options:    []booking.WaitOptionRequest{{Train: "W6", Date: day0.String(), From: "A", To: "C", SeatClass: network.HardSleeper, Berth: network.Lower}},
				Passengers: []booking.WaitPassengerRequest{waitPassenger(i)}})
		}
		if _, err := join(1, startTime.Add(-time.Minute).Format(time.RFC3339)); !hasReason(err, "bad_deadline") {
			t.Fatalf("a deadline in the past: %v", err)
		}
		if _, err := join(1, "tomorrow"); !hasReason(err, "bad_deadline") {
			t.Fatalf("a malformed deadline: %v", err)
		}
		unpaid, err := join(1, deadline)
		if err != nil {
			t.Fatal(err)
		}
		if unpaid.PrepaidFen != 20000 {
			t.Fatalf("prepaid %d for a lower berth of 20000", unpaid.PrepaidFen)
		}
		p, err := pe.svc.WaitlistPayment(ctx, unpaid.ID, acct[7])
		if err != nil {
			t.Fatal(err)
		}
		waiting := pe.joinPaid(t, acct[7], 2, network.Lower)
		withdrawn := pe.joinPaid(t, acct[7], 3, network.Lower)
		if _, err := join(4, deadline); !hasReason(err, "waitlist_limit") {
			t.Fatalf("a fourth active entry: %v", err)
		}
		if _, err := pe.svc.CancelWaitlist(ctx, withdrawn.ID, acct[6]); !hasReason(err, "waitlist_not_found") {
			t.Fatalf("withdrawing another account's entry: %v", err)
		}
		if _, err := pe.svc.CancelWaitlist(ctx, withdrawn.ID, acct[7]); err != nil {
			t.Fatal(err)
		}
		pe.waitRefund(t, withdrawn.PaymentID, withdrawn.PrepaidFen)

		// The unpaid entry's window closes; paying afterwards is refunded.
		pe.clock.Advance(31 * time.Minute)
		if n, err := pe.svc.ExpireWaitlist(ctx); err != nil || n != 1 {
			t.Fatalf("expired %d, %v: want the unpaid entry", n, err)
		}
		if got, _ := pe.svc.Waitlist(ctx, unpaid.ID, acct[7]); got.Status != booking.WaitCancelled {
			t.Fatalf("unpaid entry after its window: %s", got.Status)
		}
		// The sandbox payment expired with the window too: nothing to pay.
		if _, err := pe.gw.Pay(ctx, p.ID); err == nil {
			t.Fatal("paid a payment whose window had closed")
		}

		// The waiting entry reaches its deadline (by default two hours
		// before W6 leaves at 20:02) with no berth: refunded in full.
		pe.clock.Advance(12 * time.Hour)
		if n, err := pe.svc.ExpireWaitlist(ctx); err != nil || n != 1 {
			t.Fatalf("expired %d, %v: want the waiting entry", n, err)
		}
		got, _ := pe.svc.Waitlist(ctx, waiting.ID, acct[7])
		if got.Status != booking.WaitExpired || got.RefundFen != waiting.PrepaidFen {
			t.Fatalf("waiting entry after its deadline: %+v", got)
		}
		pe.waitRefund(t, waiting.PaymentID, waiting.PrepaidFen)
		if again, err := pe.svc.ExpireWaitlist(ctx); err != nil || again != 0 {
			t.Fatalf("expiring again: %d, %v", again, err)
		}
		pe.waitRefund(t, waiting.PaymentID, waiting.PrepaidFen)
		for _, w := range []booking.WaitlistEntry{withdrawn, waiting} {
			entryOf(t, s, booking.WaitlistRefundKey(w.ID), ledger.KindRefund, "",
				ledger.Debit(ledger.PassengerPayments, "", w.PrepaidFen), ledger.Credit(ledger.RefundsPayable, "", w.PrepaidFen))
			waitEntry(t, s, booking.WaitlistRefundPaidKey(w.ID), ledger.KindRefund, "waitlist-"+strconv.FormatInt(w.ID, 10),
				ledger.Debit(ledger.RefundsPayable, "", w.PrepaidFen), ledger.Credit(ledger.GatewayClearing, "", w.PrepaidFen))
		}
	})
}
