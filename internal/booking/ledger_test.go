package booking_test

import (
	"context"
	"slices"
	"strconv"
	"testing"
	"time"

	"piao/internal/booking"
	"piao/internal/ledger"
	"piao/internal/network"
	"piao/internal/payment"
	"piao/internal/store/storetest"
)

// entryOf reads the entry of a key and checks its postings, kind and
// channel ID exactly, and that the journal is sound.
func entryOf(t *testing.T, s storetest.Stores, key, kind, external string, want ...ledger.Posting) {
	t.Helper()
	ctx := context.Background()
	e, err := s.DB.Ledger().EntryByKey(ctx, key)
	if err != nil {
		t.Fatalf("entry %s: %v", key, err)
	}
	if e.Kind != kind || e.External != external || !slices.Equal(e.Postings, want) {
		t.Fatalf("entry %s: kind %s external %q postings %+v\nwant kind %s external %q postings %+v", key, e.Kind, e.External, e.Postings, kind, external, want)
	}
	mustVerify(t, s)
}

// waitEntry waits for the entry of a key a background sender posts, then
// checks it as entryOf does.
func waitEntry(t *testing.T, s storetest.Stores, key, kind, external string, want ...ledger.Posting) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := s.DB.Ledger().EntryByKey(context.Background(), key); err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	entryOf(t, s, key, kind, external, want...)
}

// mustVerify fails on any problem the journal's checks find.
func mustVerify(t *testing.T, s storetest.Stores) {
	t.Helper()
	problems, err := s.DB.Ledger().Verify(context.Background())
	if err != nil || len(problems) > 0 {
		t.Fatalf("ledger check: %+v, %v", problems, err)
	}
}

// A payment, a refund with fee and both kinds of change each post their
// entry, to the fen, and the journal stays sound after each.
func TestRailLedgerEntries(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		pe := newPayEnv(t, s, booking.Config{}, 0)
		acct := pe.accounts(t, 3)
		ctx := context.Background()

		// Paid: the gateway holds the fare for the passenger.
		b := pe.book(t, acct[0], 1)
		pe.gw.Pay(ctx, b.PaymentID)
		pe.deliver(t)
		fare := b.Order.Tickets[0].FareFen
		entryOf(t, s, booking.OrderPaidKey(b.Order.ID), ledger.KindPayment, b.PaymentID,
			ledger.Debit(ledger.GatewayClearing, "", fare), ledger.Credit(ledger.PassengerPayments, "", fare))

		// Refunded 13 h before departure: 20 % fee kept, the rest goes back.
		o, err := pe.svc.RefundTickets(ctx, b.Order.ID, acct[0], nil)
		if err != nil {
			t.Fatal(err)
		}
		tk := o.Tickets[0]
		if tk.FeeFen == 0 || tk.RefundFen+tk.FeeFen != fare {
			t.Fatalf("refund %d fee %d of %d", tk.RefundFen, tk.FeeFen, fare)
		}
		entryOf(t, s, booking.TicketRefundKey(tk.ID), ledger.KindRefund, "",
			ledger.Debit(ledger.PassengerPayments, "", fare), ledger.Credit(ledger.RefundsPayable, "", tk.RefundFen), ledger.Credit(ledger.FeeIncome, "", tk.FeeFen))
		entryOf(t, s, booking.TicketRefundPaidKey(tk.ID), ledger.KindRefund, "ticket-"+strconv.FormatInt(tk.ID, 10),
			ledger.Debit(ledger.RefundsPayable, "", tk.RefundFen), ledger.Credit(ledger.GatewayClearing, "", tk.RefundFen))
		// Asking again posts nothing more.
		if _, err := pe.svc.RefundTickets(ctx, b.Order.ID, acct[0], nil); err != nil {
			t.Fatal(err)
		}
		mustVerify(t, s)

		// A change to a cheaper ticket returns the difference less the fee.
		o1 := pe.paidOrder(t, acct[1], 2, "T168", network.SoftSleeper)
		res, err := pe.svc.Change(ctx, booking.ChangeRequest{AccountID: acct[1], OrderID: o1.ID, TicketID: o1.Tickets[0].ID, Train: "T168", Date: day0.AddDays(1).String(), SeatClass: network.HardSleeper})
		if err != nil {
			t.Fatal(err)
		}
		q := res.Quote
		if q.FeeFen == 0 || q.RefundFen == 0 {
			t.Fatalf("cheaper change quote %+v", q)
		}
		entryOf(t, s, booking.TicketChangeKey(o1.Tickets[0].ID), ledger.KindRefund, "",
			ledger.Debit(ledger.PassengerPayments, "", q.RefundFen+q.FeeFen), ledger.Credit(ledger.RefundsPayable, "", q.RefundFen), ledger.Credit(ledger.FeeIncome, "", q.FeeFen))
		entryOf(t, s, booking.TicketChangePaidKey(o1.Tickets[0].ID), ledger.KindRefund, "change-"+strconv.FormatInt(o1.Tickets[0].ID, 10),
			ledger.Debit(ledger.RefundsPayable, "", q.RefundFen), ledger.Credit(ledger.GatewayClearing, "", q.RefundFen))

		// A change to a dearer ticket is paid as an order of its own.
		o2 := pe.paidOrder(t, acct[2], 3, "T168", network.HardSleeper)
		res2, err := pe.svc.Change(ctx, booking.ChangeRequest{AccountID: acct[2], OrderID: o2.ID, TicketID: o2.Tickets[0].ID, Train: "Z66", Date: day0.String(), SeatClass: network.SoftSleeper})
		if err != nil {
			t.Fatal(err)
		}
		mustVerify(t, s) // held: nothing to post yet
		pe.gw.Pay(ctx, res2.PaymentID)
		pe.deliver(t)
		pay := res2.Quote.PayFen
		entryOf(t, s, booking.OrderPaidKey(res2.Order.ID), ledger.KindPayment, res2.PaymentID,
			ledger.Debit(ledger.GatewayClearing, "", pay), ledger.Credit(ledger.PassengerPayments, "", pay))
		if _, err := s.DB.Ledger().EntryByKey(ctx, booking.TicketChangeKey(o2.Tickets[0].ID)); err == nil {
			t.Fatal("a dearer change posted a refund")
		}

		// What the passengers' payments hold is what their live tickets
		// cost: the refunded one's fare is gone, the changed ones hold
		// their new fares.
		bal, err := s.DB.Ledger().Balances(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		held := int64(0)
		for _, b := range bal {
			if b.Account == ledger.PassengerPayments {
				held = b.Net()
			}
		}
		if want := res.Order.Tickets[0].FareFen + res2.Order.Tickets[0].FareFen; held != want {
			t.Fatalf("passenger payments hold %d, live tickets cost %d", held, want)
		}
		// Every refund was paid: nothing is owed.
		for _, b := range bal {
			if b.Account == ledger.RefundsPayable && b.Net() != 0 {
				t.Fatalf("refunds payable %d after every refund was paid", b.Net())
			}
		}
	})
}

// A payment that lands after the hold ended is owed back and returned, in
// two entries naming the payment and its refund.
func TestRailLatePaymentEntries(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		pe := newPayEnv(t, s, booking.Config{Hold: 10 * time.Minute}, 0)
		acct := pe.accounts(t, 1)[0]
		b := pe.book(t, acct, 1)
		pe.clock.Advance(9 * time.Minute)
		if _, err := pe.gw.Pay(context.Background(), b.PaymentID); err != nil {
			t.Fatal(err)
		}
		pe.clock.Advance(2 * time.Minute)
		if _, err := pe.svc.ExpireDue(context.Background()); err != nil {
			t.Fatal(err)
		}
		pe.deliver(t)
		amount := b.Order.TotalFen
		entryOf(t, s, booking.LatePaymentKey(b.PaymentID), ledger.KindPayment, b.PaymentID,
			ledger.Debit(ledger.GatewayClearing, "", amount), ledger.Credit(ledger.RefundsPayable, "", amount))
		entryOf(t, s, booking.LateRefundKey(b.PaymentID), ledger.KindRefund, "late-"+b.PaymentID,
			ledger.Debit(ledger.RefundsPayable, "", amount), ledger.Credit(ledger.GatewayClearing, "", amount))
		// The same notice again posts nothing more.
		n := payment.Notification{ID: "again", PaymentID: b.PaymentID, OrderRef: "piao-order-" + strconv.FormatInt(b.Order.ID, 10), Status: payment.Paid, AmountFen: amount}
		if out, err := pe.svc.HandleNotification(context.Background(), n); err != nil || out != booking.OutcomeRefunded {
			t.Fatalf("replay: %s %v", out, err)
		}
		es, err := s.DB.Ledger().Entries(context.Background(), ledger.Filter{})
		if err != nil || len(es) != 2 {
			t.Fatalf("%d entries after a replay, %v", len(es), err)
		}
		mustVerify(t, s)
	})
}
