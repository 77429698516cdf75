package booking_test

import (
	"context"
	"errors"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"piao/internal/booking"
	"piao/internal/ledger"
	"piao/internal/network"
	"piao/internal/payment"
	"piao/internal/reconcile"
	"piao/internal/store/storetest"
)

// flakyGateway is the sandbox whose refunds fail while failing is set, as
// a gateway that is down does.
type flakyGateway struct {
	payment.Gateway
	failing atomic.Bool
}

func (g *flakyGateway) Refund(ctx context.Context, r payment.RefundRequest) (payment.Refund, error) {
	if g.failing.Load() {
		return payment.Refund{}, errors.New("the gateway is down")
	}
	return g.Gateway.Refund(ctx, r)
}

// noEntry fails if the journal holds an entry under key.
func noEntry(t *testing.T, s storetest.Stores, key, why string) {
	t.Helper()
	if e, err := s.DB.Ledger().EntryByKey(context.Background(), key); err == nil {
		t.Fatalf("%s, yet the journal holds %s: %+v", why, key, e.Postings)
	}
}

// owed returns the balance of refunds payable: accepted, not yet paid.
func owed(t *testing.T, s storetest.Stores) int64 {
	t.Helper()
	bal, err := s.DB.Ledger().Balances(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range bal {
		if b.Account == ledger.RefundsPayable {
			return b.Net()
		}
	}
	return 0
}

// bookPaid books passengers 1..n in soft sleepers on T168 two days on and
// pays for them.
func (pe *payEnv) bookPaid(t *testing.T, account int64, n int) booking.Order {
	t.Helper()
	ctx := context.Background()
	req := booking.BookRequest{AccountID: account, Train: "T168", Date: day0.AddDays(2).String(), From: "NCG", To: "BXP"}
	for i := 1; i <= n; i++ {
		req.Passengers = append(req.Passengers, passenger(i, network.SoftSleeper, ""))
	}
	res, err := pe.svc.Book(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pe.gw.Pay(ctx, pe.payment(t, res.Order.ID, account)); err != nil {
		t.Fatal(err)
	}
	pe.deliver(t)
	o, err := pe.svc.Order(ctx, res.Order.ID, account)
	if err != nil || o.Status != booking.Paid {
		t.Fatalf("order %+v, %v", o, err)
	}
	return o
}

// A refund the service refuses — one ticket is not the order's, or one is
// not paid — writes nothing: no entry, no ticket refunded, no seat freed.
// The real refund later, at another fee tier, goes through and the journal
// stays sound (before the fix the refused request left the first ticket's
// entry behind, and the later refund failed forever on its reused key).
func TestRefusedRefundWritesNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		pe := newPayEnv(t, s, booking.Config{}, 0)
		acct := pe.accounts(t, 1)[0]
		ctx := context.Background()
		o := pe.bookPaid(t, acct, 2)
		t1, t2 := o.Tickets[0], o.Tickets[1]
		seatsBefore := pe.seatsSold(t, t1.Train)

		if _, err := pe.svc.RefundTickets(ctx, o.ID, acct, []int64{t1.ID, 987654}); !hasReason(err, "ticket_not_found") {
			t.Fatalf("refund with a stranger's ticket: %v", err)
		}
		noEntry(t, s, booking.TicketRefundKey(t1.ID), "the refund was refused")
		if after := pe.seatsSold(t, t1.Train); after != seatsBefore {
			t.Fatalf("a refused refund changed the train's sold seats: %d → %d", seatsBefore, after)
		}

		// The second ticket changed to a cheaper one: it cannot be refunded.
		if _, err := pe.svc.Change(ctx, booking.ChangeRequest{AccountID: acct, OrderID: o.ID, TicketID: t2.ID, Train: "T168", Date: day0.AddDays(3).String(), SeatClass: network.HardSleeper}); err != nil {
			t.Fatal(err)
		}
		seatsBefore = pe.seatsSold(t, t1.Train) // the change freed t2's seat
		if _, err := pe.svc.RefundTickets(ctx, o.ID, acct, []int64{t1.ID, t2.ID}); !hasReason(err, "ticket_not_paid") {
			t.Fatalf("refund with a changed ticket: %v", err)
		}
		noEntry(t, s, booking.TicketRefundKey(t1.ID), "the refund was refused")
		got, _ := pe.svc.Order(ctx, o.ID, acct)
		if got.Tickets[0].Status != booking.Paid || got.Tickets[0].RefundFen != 0 {
			t.Fatalf("ticket after a refused refund: %+v", got.Tickets[0])
		}
		if after := pe.seatsSold(t, t1.Train); after != seatsBefore {
			t.Fatalf("a refused refund changed the train's sold seats: %d → %d", seatsBefore, after)
		}
		mustVerify(t, s)

		// Later, nearer departure: the fee table's next tier.
		pe.clock.Advance(14 * time.Hour)
		got, err := pe.svc.RefundTickets(ctx, o.ID, acct, nil) // all that can be: the changed one is gone
		if err != nil {
			t.Fatalf("the real refund later: %v", err)
		}
		tk := got.Tickets[0]
		if tk.Status != booking.Refunded || tk.RefundFen+tk.FeeFen != tk.FareFen || got.Tickets[1].Status != booking.Changed {
			t.Fatalf("after the refund: %+v", got.Tickets)
		}
		entryOf(t, s, booking.TicketRefundKey(tk.ID), ledger.KindRefund, "",
			ledger.Debit(ledger.PassengerPayments, "", tk.FareFen), ledger.Credit(ledger.RefundsPayable, "", tk.RefundFen), ledger.Credit(ledger.FeeIncome, "", tk.FeeFen))
		if owed(t, s) != 0 {
			t.Fatalf("refunds payable %d after the refund was paid", owed(t, s))
		}
		mustCheck(t, pe.svc)
	})
}

// seatsSold counts the legs sold on a train date, as stored.
func (pe *payEnv) seatsSold(t *testing.T, k booking.TrainKey) int {
	t.Helper()
	rows, _, err := pe.stores.Booking.Seats(context.Background(), k)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range rows {
		for l := r.Sold; l != 0; l &= l - 1 {
			n++
		}
	}
	return n
}

// A refund the gateway does not pay at once is owed (RefundsPayable) and
// not yet through the gateway: no entry names the refund, reconciliation
// sees nothing that day. When it is paid, a day later, the entry settling
// it names the refund at the gateway's time, and reconciliation finds the
// refund on that day, as the gateway's statement has it.
func TestRefundPostedWhenPaid(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		gw := &flakyGateway{}
		pe := newPayEnv(t, s, booking.Config{Gateway: gw}, 0)
		acct := pe.accounts(t, 1)[0]
		ctx := context.Background()
		o := pe.bookPaid(t, acct, 1)

		gw.failing.Store(true)
		accepted := pe.clock.Now()
		if _, err := pe.svc.RefundTickets(ctx, o.ID, acct, nil); !hasReason(err, "refund_pending") {
			t.Fatalf("refund with the gateway down: %v", err)
		}
		got, _ := pe.svc.Order(ctx, o.ID, acct)
		tk := got.Tickets[0]
		if tk.Status != booking.Refunded || tk.RefundFen == 0 {
			t.Fatalf("ticket %+v", tk)
		}
		entryOf(t, s, booking.TicketRefundKey(tk.ID), ledger.KindRefund, "",
			ledger.Debit(ledger.PassengerPayments, "", tk.FareFen), ledger.Credit(ledger.RefundsPayable, "", tk.RefundFen), ledger.Credit(ledger.FeeIncome, "", tk.FeeFen))
		noEntry(t, s, booking.TicketRefundPaidKey(tk.ID), "the gateway has not paid")
		if owed(t, s) != tk.RefundFen {
			t.Fatalf("refunds payable %d, want %d", owed(t, s), tk.RefundFen)
		}
		refundID := "ticket-" + strconv.FormatInt(tk.ID, 10)
		if r := gatewayRecord(t, s, accepted, refundID); r != nil {
			t.Fatalf("reconciliation sees an unpaid refund: %+v", r)
		}

		pe.clock.Advance(26 * time.Hour)
		gw.failing.Store(false)
		paidAt := pe.clock.Now()
		if _, err := pe.svc.RefundTickets(ctx, o.ID, acct, nil); err != nil {
			t.Fatalf("sending the refund again: %v", err)
		}
		entryOf(t, s, booking.TicketRefundPaidKey(tk.ID), ledger.KindRefund, refundID,
			ledger.Debit(ledger.RefundsPayable, "", tk.RefundFen), ledger.Credit(ledger.GatewayClearing, "", tk.RefundFen))
		e, _ := s.DB.Ledger().EntryByKey(ctx, booking.TicketRefundPaidKey(tk.ID))
		if !e.At.Equal(paidAt) {
			t.Fatalf("paid entry at %s, the gateway paid at %s", e.At, paidAt)
		}
		r := gatewayRecord(t, s, paidAt, refundID)
		if r == nil || r.AmountFen != tk.RefundFen || !r.At.Equal(paidAt) || r.Ref != "ticket:"+strconv.FormatInt(tk.ID, 10) {
			t.Fatalf("reconciliation's record of the paid refund: %+v", r)
		}
		if owed(t, s) != 0 {
			t.Fatalf("refunds payable %d after the refund was paid", owed(t, s))
		}
		// Asking again changes nothing.
		if _, err := pe.svc.RefundTickets(ctx, o.ID, acct, nil); err != nil {
			t.Fatal(err)
		}
		if p, _ := pe.gw.Query(ctx, o.PaymentID); p.RefundedFen != tk.RefundFen {
			t.Fatalf("the gateway refunded %d, want %d", p.RefundedFen, tk.RefundFen)
		}
		got, _ = pe.svc.Order(ctx, o.ID, acct)
		n := 0
		for _, ev := range got.Events {
			if ev.Action == "refund_paid" {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("%d refund_paid events, want 1: %+v", n, got.Events)
		}
		mustVerify(t, s)
	})
}

// gatewayRecord returns piao's record of a gateway refund around at, or nil.
func gatewayRecord(t *testing.T, s storetest.Stores, at time.Time, external string) *reconcile.Record {
	t.Helper()
	rs, err := s.DB.Reconcile().GatewayRecords(context.Background(), at.Add(-time.Hour), at.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if r.External == external {
			return &r
		}
	}
	return nil
}

// The ticket a change gave is refunded on the payments that paid it: after
// a change to a cheaper ticket, on the original order's payment (the
// change order paid nothing); after a change to a dearer one, on the
// original payment up to the old fare and the rest on the difference.
func TestRefundOfChangedTicket(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		pe := newPayEnv(t, s, booking.Config{}, 0)
		acct := pe.accounts(t, 2)
		ctx := context.Background()

		// Cheaper.
		o1 := pe.paidOrder(t, acct[0], 2, "T168", network.SoftSleeper)
		res, err := pe.svc.Change(ctx, booking.ChangeRequest{AccountID: acct[0], OrderID: o1.ID, TicketID: o1.Tickets[0].ID, Train: "T168", Date: day0.AddDays(1).String(), SeatClass: network.HardSleeper})
		if err != nil {
			t.Fatal(err)
		}
		got, err := pe.svc.RefundTickets(ctx, res.Order.ID, acct[0], nil)
		if err != nil {
			t.Fatalf("refund of a ticket a cheaper change gave: %v", err)
		}
		tk := got.Tickets[0]
		if p, _ := pe.gw.Query(ctx, o1.PaymentID); p.RefundedFen != res.Quote.RefundFen+tk.RefundFen {
			t.Fatalf("original payment refunded %d, want the change's %d and the ticket's %d", p.RefundedFen, res.Quote.RefundFen, tk.RefundFen)
		}
		entryOf(t, s, booking.TicketRefundPaidKey(tk.ID), ledger.KindRefund, "ticket-"+strconv.FormatInt(tk.ID, 10),
			ledger.Debit(ledger.RefundsPayable, "", tk.RefundFen), ledger.Credit(ledger.GatewayClearing, "", tk.RefundFen))

		// Dearer.
		o2 := pe.paidOrder(t, acct[1], 3, "T168", network.HardSleeper)
		old := o2.Tickets[0]
		res2, err := pe.svc.Change(ctx, booking.ChangeRequest{AccountID: acct[1], OrderID: o2.ID, TicketID: old.ID, Train: "Z66", Date: day0.String(), SeatClass: network.SoftSleeper})
		if err != nil {
			t.Fatal(err)
		}
		pe.gw.Pay(ctx, res2.PaymentID)
		pe.deliver(t)
		got, err = pe.svc.RefundTickets(ctx, res2.Order.ID, acct[1], nil)
		if err != nil {
			t.Fatalf("refund of a ticket a dearer change gave: %v", err)
		}
		tk = got.Tickets[0]
		onOriginal := min(tk.RefundFen, old.FareFen)
		onDifference := tk.RefundFen - onOriginal
		t.Logf("fare %d (old %d, difference %d): refund %d = %d on the original + %d on the difference", tk.FareFen, old.FareFen, res2.Quote.PayFen, tk.RefundFen, onOriginal, onDifference)
		if p, _ := pe.gw.Query(ctx, o2.PaymentID); p.RefundedFen != onOriginal {
			t.Fatalf("original payment refunded %d, want %d", p.RefundedFen, onOriginal)
		}
		if p, _ := pe.gw.Query(ctx, res2.PaymentID); p.RefundedFen != onDifference {
			t.Fatalf("difference payment refunded %d, want %d", p.RefundedFen, onDifference)
		}
		entryOf(t, s, booking.TicketRefundPaidKey(tk.ID), ledger.KindRefund, "ticket-"+strconv.FormatInt(tk.ID, 10),
			ledger.Debit(ledger.RefundsPayable, "", onOriginal), ledger.Credit(ledger.GatewayClearing, "", onOriginal))
		if onDifference > 0 {
			entryOf(t, s, booking.TicketRefundPaidSecondKey(tk.ID), ledger.KindRefund, "ticket-"+strconv.FormatInt(tk.ID, 10)+"-2",
				ledger.Debit(ledger.RefundsPayable, "", onDifference), ledger.Credit(ledger.GatewayClearing, "", onDifference))
		} else {
			noEntry(t, s, booking.TicketRefundPaidSecondKey(tk.ID), "nothing went back on the difference")
		}
		if owed(t, s) != 0 {
			t.Fatalf("refunds payable %d after every refund was paid", owed(t, s))
		}
		mustCheck(t, pe.svc)
	})
}

// The journal's checks find entries for refunds and changes that did not
// happen, and paid refunds booking did not record.
func TestLedgerCheckFindsEntriesWithoutEvents(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		pe := newPayEnv(t, s, booking.Config{}, 0)
		acct := pe.accounts(t, 1)[0]
		ctx := context.Background()
		o := pe.bookPaid(t, acct, 1)
		tk := o.Tickets[0]
		mustVerify(t, s)
		at := pe.clock.Now()
		ref := "order:" + strconv.FormatInt(o.ID, 10)
		stray := []ledger.Entry{
			ledger.Build(booking.TicketRefundKey(tk.ID), ledger.KindRefund, ref, at, "stray",
				ledger.Debit(ledger.PassengerPayments, "", 100), ledger.Credit(ledger.RefundsPayable, "", 100)),
			ledger.Build(booking.TicketChangeKey(tk.ID), ledger.KindRefund, ref, at, "stray",
				ledger.Debit(ledger.PassengerPayments, "", 100), ledger.Credit(ledger.RefundsPayable, "", 100)),
			ledger.Build(booking.TicketRefundPaidKey(tk.ID), ledger.KindRefund, ref, at, "stray",
				ledger.Debit(ledger.RefundsPayable, "", 100), ledger.Credit(ledger.GatewayClearing, "", 100)),
		}
		stray[2].External = "ticket-" + strconv.FormatInt(tk.ID, 10)
		for _, e := range stray {
			if _, err := s.DB.Ledger().Post(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		problems, err := s.DB.Ledger().Verify(ctx)
		if err != nil {
			t.Fatal(err)
		}
		found := map[string]bool{}
		for _, p := range problems {
			if p.Check == "entry_without_event" {
				found[p.Subject] = true
			}
		}
		for _, e := range stray {
			if !found[e.Key] {
				t.Errorf("the check missed %s: %+v", e.Key, problems)
			}
		}
	})
}

// An op refused after it sold a seat and wrote a row, in a batch whose
// earlier op had the train date already: the seat and the row are undone
// (in the working copy and in the database), the batch commits the rest.
func TestRefusedOpUndoneInBatch(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		pe := newPayEnv(t, s, booking.Config{}, 0)
		acct := pe.accounts(t, 1)[0]
		ctx := context.Background()
		o := pe.bookPaid(t, acct, 1)
		k := o.Tickets[0].Train
		rows, _, err := s.Booking.Seats(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		free := -1
		for _, r := range rows {
			if r.Sold == 0 {
				free = r.SeatNo
				break
			}
		}
		before := pe.seatsSold(t, k)
		err = booking.RefusedOpInBatchForTest(pe.svc, k, free, "test_refused_op")
		if !hasReason(err, "test_refusal") {
			t.Fatalf("refused op: %v", err)
		}
		if after := pe.seatsSold(t, k); after != before {
			t.Fatalf("the refused op's seat was stored: %d legs sold, %d before", after, before)
		}
		if v, err := s.Booking.Setting(ctx, "test_refused_op"); err == nil && v != "" {
			t.Fatalf("the refused op's write was committed: %q", v)
		}
		mustCheck(t, pe.svc)
	})
}
