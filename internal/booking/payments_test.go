package booking_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"piao/internal/booking"
	"piao/internal/network"
	"piao/internal/payment"
	"piao/internal/payment/sandbox"
	"piao/internal/store/storetest"
	"piao/internal/testclock"
)

// payEnv is a booking service paid through the real sandbox gateway, whose
// notifications reach the service through an HTTP receiver like the API's.
type payEnv struct {
	*env
	gw       *sandbox.Gateway
	mu       sync.Mutex
	outcomes []booking.PaymentOutcome
}

var testSecret = []byte("0123456789abcdef0123456789abcdef")

func newPayEnv(t *testing.T, s storetest.Stores, cfg booking.Config, duplicates int, bundles ...*network.Bundle) *payEnv {
	t.Helper()
	pe := &payEnv{}
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		n, err := pe.gw.Verify(r.Header, body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		out, err := pe.svc.HandleNotification(r.Context(), n)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		pe.mu.Lock()
		pe.outcomes = append(pe.outcomes, out)
		pe.mu.Unlock()
		io.WriteString(w, "success")
	}))
	t.Cleanup(receiver.Close)
	c := testclock.New(startTime)
	gw, err := sandbox.New(s.Sandbox, sandbox.Config{Secret: testSecret, BaseURL: "http://sandbox.test", Now: c.Now, Duplicates: duplicates})
	if err != nil {
		t.Fatal(err)
	}
	pe.gw = gw
	var gateway payment.Gateway = gw
	if f, ok := cfg.Gateway.(*flakyGateway); ok { // refunds fail while it says so
		f.Gateway, gateway = gw, f
	}
	cfg.Gateway, cfg.NotifyURL, cfg.ReturnURL, cfg.WaitlistReturnURL, cfg.Now = gateway, receiver.URL+"/notify", "http://piao.test/h5/orders/", "http://piao.test/h5/waitlist/", c.Now
	if cfg.SweepEvery == 0 {
		cfg.SweepEvery = time.Hour // tests expire holds themselves
	}
	pe.env = newEnv(t, s, cfg, bundles...)
	pe.env.clock = c
	return pe
}

func (pe *payEnv) count(o booking.PaymentOutcome) int {
	pe.mu.Lock()
	defer pe.mu.Unlock()
	n := 0
	for _, x := range pe.outcomes {
		if x == o {
			n++
		}
	}
	return n
}

func (pe *payEnv) deliver(t *testing.T) {
	t.Helper()
	if _, err := pe.gw.DeliverDue(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// bookedOrder is a held order with the payment created for it.
type bookedOrder struct {
	Order     booking.Order
	PaymentID string
}

func (pe *payEnv) book(t *testing.T, account int64, i int) bookedOrder {
	t.Helper()
	res, err := pe.svc.Book(context.Background(), booking.BookRequest{AccountID: account, Train: "T168", Date: day0.String(), From: "NCG", To: "BXP",
		Passengers: []booking.PassengerRequest{passenger(i, network.HardSleeper, "")}})
	if err != nil {
		t.Fatal(err)
	}
	return bookedOrder{Order: res.Order, PaymentID: pe.payment(t, res.Order.ID, account)}
}

// payment asks for the payment of a held order, twice, to show it is the same.
func (pe *payEnv) payment(t *testing.T, orderID, account int64) string {
	t.Helper()
	p, err := pe.svc.Payment(context.Background(), orderID, account)
	if err != nil {
		t.Fatal(err)
	}
	again, err := pe.svc.Payment(context.Background(), orderID, account)
	if err != nil || again.ID != p.ID || p.PayURL == "" || p.Status != payment.Pending {
		t.Fatalf("payment of order %d: %+v then %+v, %v", orderID, p, again, err)
	}
	return p.ID
}

// Duplicate notifications (three copies of each) pay an order once.
func TestPaymentDuplicates(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		pe := newPayEnv(t, s, booking.Config{}, 2)
		acct := pe.accounts(t, 1)[0]
		b := pe.book(t, acct, 1)
		if _, err := pe.gw.Pay(context.Background(), b.PaymentID); err != nil {
			t.Fatal(err)
		}
		pe.deliver(t)
		o, _ := pe.svc.Order(context.Background(), b.Order.ID, acct)
		if o.Status != booking.Paid || o.PaymentID != b.PaymentID || o.Tickets[0].Status != booking.Paid {
			t.Fatalf("after payment: %s", o.Status)
		}
		if pe.count(booking.OutcomePaid) != 1 || pe.count(booking.OutcomeDuplicate) != 2 {
			t.Fatalf("outcomes %v: want one paid and two duplicates", pe.outcomes)
		}
		// A replay long after changes nothing either.
		n := payment.Notification{ID: "again", PaymentID: b.PaymentID, OrderRef: "piao-order-" + strconv.FormatInt(b.Order.ID, 10), Status: payment.Paid, AmountFen: o.TotalFen}
		if out, err := pe.svc.HandleNotification(context.Background(), n); err != nil || out != booking.OutcomeDuplicate {
			t.Fatalf("replay: %s %v", out, err)
		}
		paidEvents := 0
		for _, e := range o.Events {
			if e.Action == "pay" {
				paidEvents++
			}
		}
		if paidEvents != 1 {
			t.Fatalf("%d pay events", paidEvents)
		}
		mustCheck(t, pe.svc)
	})
}

// A payment whose notification lands after the hold expired is refunded in
// full, and the order stays expired with its seats back on sale.
func TestLatePaymentRefunded(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		pe := newPayEnv(t, s, booking.Config{Hold: 10 * time.Minute}, 0)
		acct := pe.accounts(t, 1)[0]
		before := remaining(t, pe.env, "NCG", "BXP", "T168", network.HardSleeper, network.Lower) +
			remaining(t, pe.env, "NCG", "BXP", "T168", network.HardSleeper, network.Middle) +
			remaining(t, pe.env, "NCG", "BXP", "T168", network.HardSleeper, network.Upper)
		b := pe.book(t, acct, 1)
		pe.clock.Advance(9 * time.Minute)
		if _, err := pe.gw.Pay(context.Background(), b.PaymentID); err != nil { // paid in time at the gateway…
			t.Fatal(err)
		}
		pe.clock.Advance(2 * time.Minute)
		if n, err := pe.svc.ExpireDue(context.Background()); err != nil || n != 1 { // …but the hold ended first here
			t.Fatalf("expire: %d %v", n, err)
		}
		pe.deliver(t)
		o, _ := pe.svc.Order(context.Background(), b.Order.ID, acct)
		if o.Status != booking.Expired || pe.count(booking.OutcomeRefunded) != 1 {
			t.Fatalf("order %s, outcomes %v", o.Status, pe.outcomes)
		}
		p, err := pe.gw.Query(context.Background(), b.PaymentID)
		if err != nil || p.RefundedFen != p.AmountFen {
			t.Fatalf("gateway after late payment: refunded %d of %d, %v", p.RefundedFen, p.AmountFen, err)
		}
		// The same late notification again refunds nothing more.
		n := payment.Notification{ID: "late-again", PaymentID: b.PaymentID, OrderRef: "piao-order-" + strconv.FormatInt(b.Order.ID, 10), Status: payment.Paid, AmountFen: o.TotalFen}
		if out, err := pe.svc.HandleNotification(context.Background(), n); err != nil || out != booking.OutcomeRefunded {
			t.Fatalf("late replay: %s %v", out, err)
		}
		if p, _ := pe.gw.Query(context.Background(), b.PaymentID); p.RefundedFen != p.AmountFen {
			t.Fatalf("refunded %d of %d after a replay", p.RefundedFen, p.AmountFen)
		}
		after := remaining(t, pe.env, "NCG", "BXP", "T168", network.HardSleeper, network.Lower) +
			remaining(t, pe.env, "NCG", "BXP", "T168", network.HardSleeper, network.Middle) +
			remaining(t, pe.env, "NCG", "BXP", "T168", network.HardSleeper, network.Upper)
		if after != before {
			t.Fatalf("berths %d after, %d before", after, before)
		}
		mustCheck(t, pe.svc)
	})
}

// Out of order: a failed attempt's notice arriving after the success, and
// the success arriving twice around it, still end in one payment.
func TestPaymentOutOfOrder(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		pe := newPayEnv(t, s, booking.Config{}, 0)
		acct := pe.accounts(t, 1)[0]
		b := pe.book(t, acct, 1)
		ref := "piao-order-" + strconv.FormatInt(b.Order.ID, 10)
		paid := payment.Notification{ID: "n2", PaymentID: b.PaymentID, OrderRef: ref, Status: payment.Paid, AmountFen: b.Order.TotalFen, PaidAt: startTime}
		failed := payment.Notification{ID: "n1", PaymentID: b.PaymentID, OrderRef: ref, Status: payment.Failed, AmountFen: b.Order.TotalFen}
		wrong := paid
		wrong.AmountFen++
		if _, err := pe.svc.HandleNotification(context.Background(), wrong); !hasReason(err, "amount_mismatch") {
			t.Fatalf("a notification for the wrong amount: %v", err)
		}
		for i, n := range []payment.Notification{paid, failed, paid} {
			out, err := pe.svc.HandleNotification(context.Background(), n)
			want := []booking.PaymentOutcome{booking.OutcomePaid, booking.OutcomeIgnored, booking.OutcomeDuplicate}[i]
			if err != nil || out != want {
				t.Fatalf("notification %d: %s %v, want %s", i, out, err, want)
			}
		}
		o, _ := pe.svc.Order(context.Background(), b.Order.ID, acct)
		if o.Status != booking.Paid {
			t.Fatalf("order %s", o.Status)
		}
	})
}

// Payment and expiry racing for many orders end in exactly one outcome
// each: paid and not refunded, or expired and refunded in full.
func TestPaymentRacesExpiry(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		pe := newPayEnv(t, s, booking.Config{Hold: 10 * time.Minute}, 1)
		const n = 40
		accts := pe.accounts(t, n)
		var booked []bookedOrder
		for i, a := range accts {
			booked = append(booked, pe.book(t, a, i))
		}
		pe.clock.Advance(9 * time.Minute)
		for _, b := range booked {
			if _, err := pe.gw.Pay(context.Background(), b.PaymentID); err != nil {
				t.Fatal(err)
			}
		}
		pe.clock.Advance(2 * time.Minute)
		var wg sync.WaitGroup
		for i := 0; i < 4; i++ {
			wg.Add(2)
			go func() { defer wg.Done(); pe.svc.ExpireDue(context.Background()) }()
			go func() { defer wg.Done(); pe.gw.DeliverDue(context.Background()) }()
		}
		wg.Wait()
		pe.deliver(t)
		paid, expired := 0, 0
		for i, b := range booked {
			o, _ := pe.svc.Order(context.Background(), b.Order.ID, accts[i])
			p, err := pe.gw.Query(context.Background(), b.PaymentID)
			if err != nil {
				t.Fatal(err)
			}
			switch o.Status {
			case booking.Paid:
				paid++
				if p.RefundedFen != 0 {
					t.Fatalf("order %d paid and refunded %d", o.ID, p.RefundedFen)
				}
			case booking.Expired:
				expired++
				if p.RefundedFen != p.AmountFen {
					t.Fatalf("order %d expired but refunded %d of %d", o.ID, p.RefundedFen, p.AmountFen)
				}
			default:
				t.Fatalf("order %d ended %s", o.ID, o.Status)
			}
		}
		t.Logf("%s: %d paid, %d expired and refunded", s.Engine, paid, expired)
		mustCheck(t, pe.svc)
	})
}

// Refunds follow the fee table by time before departure; the seats return
// and the gateway refunds the fare less the fee, once.
func TestRefundWithFee(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		pe := newPayEnv(t, s, booking.Config{}, 0)
		acct := pe.accounts(t, 1)[0]
		b := pe.book(t, acct, 1)
		pe.gw.Pay(context.Background(), b.PaymentID)
		pe.deliver(t)
		// T168 leaves at 19:07; at 06:00 the same day it is 13 h away: 20 %.
		fare := b.Order.Tickets[0].FareFen
		o, err := pe.svc.RefundTickets(context.Background(), b.Order.ID, acct, nil)
		if err != nil {
			t.Fatal(err)
		}
		wantFee := (fare*20/100 + 25) / 50 * 50
		if o.Status != booking.Refunded || o.Tickets[0].FeeFen != wantFee || o.Tickets[0].RefundFen != fare-wantFee {
			t.Fatalf("refund of %d: status %s fee %d refund %d, want fee %d", fare, o.Status, o.Tickets[0].FeeFen, o.Tickets[0].RefundFen, wantFee)
		}
		p, _ := pe.gw.Query(context.Background(), b.PaymentID)
		if p.RefundedFen != fare-wantFee {
			t.Fatalf("gateway refunded %d, want %d", p.RefundedFen, fare-wantFee)
		}
		if _, err := pe.svc.RefundTickets(context.Background(), b.Order.ID, acct, nil); err != nil {
			t.Fatalf("refunding again: %v", err)
		}
		if p, _ := pe.gw.Query(context.Background(), b.PaymentID); p.RefundedFen != fare-wantFee {
			t.Fatalf("a repeated refund paid out again: %d", p.RefundedFen)
		}
		if _, err := pe.svc.Cancel(context.Background(), b.Order.ID, acct); !hasReason(err, "order_not_held") {
			t.Fatalf("cancel a refunded order: %v", err)
		}
		mustCheck(t, pe.svc)
	})
}

func (pe *payEnv) paidOrder(t *testing.T, account int64, i int, train string, class network.SeatClass) booking.Order {
	t.Helper()
	res, err := pe.svc.Book(context.Background(), booking.BookRequest{AccountID: account, Train: train, Date: day0.String(), From: "NCG", To: "BXP",
		Passengers: []booking.PassengerRequest{passenger(i, class, "")}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pe.gw.Pay(context.Background(), pe.payment(t, res.Order.ID, account)); err != nil {
		t.Fatal(err)
	}
	pe.deliver(t)
	o, _ := pe.svc.Order(context.Background(), res.Order.ID, account)
	if o.Status != booking.Paid {
		t.Fatalf("order %s", o.Status)
	}
	return o
}

// A change to a cheaper seat refunds the difference less the fee at once; a
// change to a dearer one holds the new seat until the difference is paid,
// then frees the old seat. A changed ticket cannot be changed again.
func TestChange(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		pe := newPayEnv(t, s, booking.Config{}, 0)
		acct := pe.accounts(t, 2)
		ctx := context.Background()

		// Cheaper: T168 soft sleeper → T168 hard sleeper the next day.
		o := pe.paidOrder(t, acct[0], 1, "T168", network.SoftSleeper)
		old := o.Tickets[0]
		res, err := pe.svc.Change(ctx, booking.ChangeRequest{AccountID: acct[0], OrderID: o.ID, TicketID: old.ID, Train: "T168", Date: day0.AddDays(1).String(), SeatClass: network.HardSleeper})
		if err != nil {
			t.Fatal(err)
		}
		diff := old.FareFen - res.Order.Tickets[0].FareFen
		if res.Order.Status != booking.Paid || res.Quote.PayFen != 0 || res.Quote.RefundFen+res.Quote.FeeFen != diff || res.Quote.FeeFen == 0 {
			t.Fatalf("cheaper change: %s %+v (difference %d)", res.Order.Status, res.Quote, diff)
		}
		if p, _ := pe.gw.Query(ctx, o.PaymentID); p.RefundedFen != res.Quote.RefundFen {
			t.Fatalf("gateway refunded %d, want %d", p.RefundedFen, res.Quote.RefundFen)
		}
		was, _ := pe.svc.Order(ctx, o.ID, acct[0])
		if was.Status != booking.Changed || was.Tickets[0].Status != booking.Changed || was.Tickets[0].ChangedTo != res.Order.Tickets[0].ID {
			t.Fatalf("old order %s, ticket %s → %d", was.Status, was.Tickets[0].Status, was.Tickets[0].ChangedTo)
		}
		if _, err := pe.svc.Change(ctx, booking.ChangeRequest{AccountID: acct[0], OrderID: res.Order.ID, TicketID: res.Order.Tickets[0].ID, Train: "Z66", Date: day0.AddDays(2).String()}); !hasReason(err, "already_changed") {
			t.Fatalf("second change: %v", err)
		}
		mustCheck(t, pe.svc)

		// Dearer: T168 hard sleeper → Z66 soft sleeper, paying the difference.
		o2 := pe.paidOrder(t, acct[1], 2, "T168", network.HardSleeper)
		res2, err := pe.svc.Change(ctx, booking.ChangeRequest{AccountID: acct[1], OrderID: o2.ID, TicketID: o2.Tickets[0].ID, Train: "Z66", Date: day0.String(), SeatClass: network.SoftSleeper})
		if err != nil {
			t.Fatal(err)
		}
		if res2.Order.Status != booking.Held || res2.Quote.PayFen != res2.Order.Tickets[0].FareFen-o2.Tickets[0].FareFen || res2.PaymentID == "" {
			t.Fatalf("dearer change: %s %+v", res2.Order.Status, res2.Quote)
		}
		if still, _ := pe.svc.Order(ctx, o2.ID, acct[1]); still.Tickets[0].Status != booking.Paid {
			t.Fatalf("the old ticket went before the difference was paid: %s", still.Tickets[0].Status)
		}
		if _, err := pe.gw.Pay(ctx, res2.PaymentID); err != nil {
			t.Fatal(err)
		}
		pe.deliver(t)
		now, _ := pe.svc.Order(ctx, res2.Order.ID, acct[1])
		was2, _ := pe.svc.Order(ctx, o2.ID, acct[1])
		if now.Status != booking.Paid || was2.Tickets[0].Status != booking.Changed || was2.Status != booking.Changed {
			t.Fatalf("after paying the difference: new %s, old ticket %s", now.Status, was2.Tickets[0].Status)
		}
		mustCheck(t, pe.svc)
	})
}
