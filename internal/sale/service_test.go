package sale_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"piao/internal/benefits"
	"piao/internal/fault"
	"piao/internal/identity"
	"piao/internal/ledger"
	"piao/internal/payment"
	"piao/internal/payment/sandbox"
	"piao/internal/sale"
	"piao/internal/store/storetest"
	"piao/internal/tenant"
	"piao/internal/testclock"
)

var t0 = time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)

// env is a sale service over one engine's stores, the real benefits
// service and the sandbox gateway.
type env struct {
	s        storetest.Stores
	clock    *testclock.Clock
	gw       *sandbox.Gateway
	bn       *benefits.Service
	svc      *sale.Service
	accounts []int64
}

// flaky fails the first failIssues calls of Issue, standing for a crash
// between a purchase marked paid and its tickets issued.
type flaky struct {
	*benefits.Service
	mu         sync.Mutex
	failIssues int
}

func (f *flaky) Issue(ctx context.Context, now time.Time, reqs []benefits.IssueRequest) ([]benefits.IssueResult, error) {
	f.mu.Lock()
	fail := f.failIssues > 0
	f.failIssues--
	f.mu.Unlock()
	if fail {
		return nil, errors.New("crash before issuing")
	}
	return f.Service.Issue(ctx, now, reqs)
}

func newEnv(t *testing.T, s storetest.Stores, failIssues int) *env {
	t.Helper()
	clock := testclock.New(t0)
	gw, err := sandbox.New(s.Sandbox, sandbox.Config{Secret: []byte("0123456789abcdef0123456789abcdef"), BaseURL: "http://127.0.0.1:1", Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	bn := benefits.NewService(s.Benefits, benefits.Config{Now: clock.Now})
	svc := sale.New(s.DB.Sales(), sale.Config{Now: clock.Now, Gateway: gw, Benefits: &flaky{Service: bn, failIssues: failIssues},
		NotifyURL: "http://127.0.0.1:1/api/v1/ticket-purchases/notify", ReturnURL: "http://127.0.0.1:1/h5/buy/purchases/"})
	e := &env{s: s, clock: clock, gw: gw, bn: bn, svc: svc}
	for i := range 4 {
		a, err := s.Identity.CreateAccount(context.Background(), identity.Account{Username: fmt.Sprintf("buyer%d", i), DisplayName: "b", Role: identity.Passenger, PasswordHash: "x", CreatedAt: t0})
		if err != nil {
			t.Fatal(err)
		}
		e.accounts = append(e.accounts, a.ID)
	}
	return e
}

// campaign makes an approved operator campaign of a product of kind with
// rides, selling through the purchase channel, with stock.
func (e *env) campaign(t *testing.T, kind benefits.Kind, rides, stock int) benefits.Campaign {
	t.Helper()
	ctx := context.Background()
	p := benefits.Product{Owner: "operator", Kind: kind, NameZH: "次票", NameEN: "Pack", Feed: "m", Valid: benefits.Validity{Days: 30}, CreatedAt: t0}
	if kind == benefits.MultiRide {
		p.Terms.Rides = rides
	}
	if err := e.s.Benefits.CreateProduct(ctx, tenant.All(), &p); err != nil {
		t.Fatal(err)
	}
	c := benefits.Campaign{ProductID: p.ID, Owner: "operator", NameZH: "十次票", NameEN: "Ten rides", Status: benefits.Draft,
		Starts: t0.Add(-time.Hour), Ends: t0.Add(60 * 24 * time.Hour), Channels: []benefits.Channel{benefits.PurchaseChannel}, Stock: stock,
		CreatedBy: "admin", CreatedAt: t0, UpdatedAt: t0}
	if err := e.s.Benefits.CreateCampaign(ctx, tenant.All(), &c, benefits.Event{At: t0, By: "admin", Action: "create", To: benefits.Draft}); err != nil {
		t.Fatal(err)
	}
	c, err := e.s.Benefits.UpdateCampaign(ctx, tenant.All(), c.ID, func(c *benefits.Campaign) (benefits.Event, error) {
		c.Status = benefits.Approved
		return benefits.Event{At: t0, By: "reviewer", Action: "approve", From: benefits.Draft, To: benefits.Approved}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (e *env) offer(t *testing.T, in sale.OfferInput) sale.Offer {
	t.Helper()
	o, err := e.svc.CreateOffer(context.Background(), in, "admin")
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// pay pays p at the sandbox and returns the notification it sends.
func (e *env) pay(t *testing.T, p sale.Purchase) payment.Notification {
	t.Helper()
	pay, err := e.gw.Pay(context.Background(), p.PaymentID)
	if err != nil {
		t.Fatal(err)
	}
	return payment.Notification{ID: "ntf-" + pay.ID, PaymentID: pay.ID, OrderRef: pay.OrderRef, Status: payment.Paid, AmountFen: pay.AmountFen, PaidAt: pay.PaidAt}
}

func reason(err error) string {
	if err == nil {
		return ""
	}
	return fault.As(err).Reason
}

// checkBooks fails unless the journal passes every check.
func (e *env) checkBooks(t *testing.T) {
	t.Helper()
	problems, err := e.s.DB.Ledger().Verify(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("ledger problem: %+v", p)
	}
}

func (e *env) prepaid(t *testing.T, account int64) int64 {
	t.Helper()
	bs, err := e.s.DB.Ledger().Balances(context.Background(), sale.Party(account))
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range bs {
		if b.Account == ledger.PassengerPrepaid {
			return b.Net()
		}
	}
	return 0
}

// net sums an entry's postings by account, debits positive.
func net(e ledger.Entry) map[ledger.Code]int64 {
	sums := map[ledger.Code]int64{}
	for _, p := range e.Postings {
		sums[p.Account] += p.Debit - p.Credit
	}
	return sums
}

// TestBuySplitsToTheFen: three single rides for ¥10 issue tickets of 333,
// 333 and 334 fen, paid and entered once however often the gateway
// notifies.
func TestBuySplitsToTheFen(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		e := newEnv(t, s, 0)
		ctx := context.Background()
		c := e.campaign(t, benefits.SingleRide, 0, 100)
		o := e.offer(t, sale.OfferInput{CampaignID: c.ID, Bundle: 3, PriceFen: 1000, MaxPerOrder: 6, MaxPerPassenger: 6, Refund: sale.RefundRule{FeeBP: 500, Days: 7}, OnSale: true})
		buyer := e.accounts[0]
		p, err := e.svc.Buy(ctx, buyer, o.ID, 1)
		if err != nil {
			t.Fatal(err)
		}
		if p.Count != 3 || p.AmountFen != 1000 || p.PaymentID == "" || p.PayURL == "" {
			t.Fatalf("purchase %+v", p)
		}
		n := e.pay(t, p)
		for range 3 {
			if _, err := e.svc.HandleNotification(ctx, n); err != nil {
				t.Fatal(err)
			}
		}
		got, err := e.svc.Purchase(ctx, buyer, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != sale.Paid || !got.Issued || len(got.TicketIDs) != 3 {
			t.Fatalf("after payment: %+v", got)
		}
		want := []int64{333, 333, 334}
		for i, id := range got.TicketIDs {
			tk, err := e.bn.Ticket(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if tk.PaidFen != want[i] || tk.PaidBy != buyer || tk.Holder != buyer || tk.Channel != benefits.PurchaseChannel {
				t.Errorf("ticket %d: %+v, want paid %d by %d", i, tk, want[i], buyer)
			}
		}
		ts, _ := e.bn.Tickets(ctx, buyer)
		if len(ts) != 3 {
			t.Errorf("buyer holds %d tickets, want 3", len(ts))
		}
		entry, err := s.DB.Ledger().EntryByKey(ctx, sale.PaidKey(p.ID))
		if err != nil {
			t.Fatal(err)
		}
		if entry.External != n.PaymentID || entry.Total() != 1000 {
			t.Errorf("paid entry %+v", entry)
		}
		if got := e.prepaid(t, buyer); got != 1000 {
			t.Errorf("prepaid balance %d, want 1000", got)
		}
		// The limits count tickets: 6 more pass the passenger's 6, 9 more
		// the order's 6.
		if _, err := e.svc.Buy(ctx, buyer, o.ID, 2); reason(err) != "buy_per_passenger_limit" {
			t.Errorf("over the per-passenger limit: %v", err)
		}
		if _, err := e.svc.Buy(ctx, buyer, o.ID, 3); reason(err) != "buy_per_order_limit" {
			t.Errorf("over the per-order limit: %v", err)
		}
		e.checkBooks(t)
	})
}

// TestRefundUnused: a ten-ride pack of ¥10 refunded after two rides with a
// 5 % fee gives back 760 fen (800 unused less 40), enters it with the
// revocation, and a second refund is refused.
func TestRefundUnused(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		e := newEnv(t, s, 0)
		ctx := context.Background()
		c := e.campaign(t, benefits.MultiRide, 10, 100)
		o := e.offer(t, sale.OfferInput{CampaignID: c.ID, Bundle: 1, PriceFen: 1000, MaxPerOrder: 2, MaxPerPassenger: 4, Refund: sale.RefundRule{FeeBP: 500, Days: 7}, OnSale: true})
		buyer := e.accounts[0]
		p, err := e.svc.Buy(ctx, buyer, o.ID, 1)
		if err != nil {
			t.Fatal(err)
		}
		n := e.pay(t, p)
		if _, err := e.svc.HandleNotification(ctx, n); err != nil {
			t.Fatal(err)
		}
		p, _ = e.svc.Purchase(ctx, buyer, p.ID)
		tid := p.TicketIDs[0]
		for i := range 2 {
			red, _, err := e.bn.Redeem(ctx, benefits.Ride{ID: fmt.Sprintf("ride-%d", i), Feed: "m", From: "A", To: "B", Fare: 400, EnteredAt: e.clock.Now()}, buyer)
			if err != nil {
				t.Fatal(err)
			}
			if len(red.Applied) != 1 {
				t.Fatalf("ride %d: %+v", i, red)
			}
		}
		q, err := e.svc.Quote(ctx, buyer, tid)
		if err != nil {
			t.Fatal(err)
		}
		if !q.Refundable || q.RidesUsed != 2 || q.UnusedFen != 800 || q.FeeFen != 40 || q.AmountFen != 760 {
			t.Fatalf("quote %+v", q)
		}
		if _, err := e.svc.RefundTicket(ctx, e.accounts[1], tid); reason(err) != "ticket_not_found" {
			t.Errorf("someone else's refund: %v", err)
		}
		r, err := e.svc.RefundTicket(ctx, buyer, tid)
		if err != nil {
			t.Fatal(err)
		}
		if r.Status != sale.RefundDone || r.AmountFen != 760 || r.FeeFen != 40 || r.UnusedFen != 800 {
			t.Fatalf("refund %+v", r)
		}
		tk, _ := e.bn.Ticket(ctx, tid)
		if tk.State != benefits.Revoked {
			t.Errorf("ticket after refund: %s", tk.State)
		}
		pay, _ := e.gw.Query(ctx, p.PaymentID)
		if pay.RefundedFen != 760 {
			t.Errorf("gateway refunded %d, want 760", pay.RefundedFen)
		}
		// Accepted: the unused value is owed back, less the fee; no money
		// moved through the gateway yet.
		entry, err := s.DB.Ledger().EntryByKey(ctx, sale.RefundKey(tid))
		if err != nil {
			t.Fatal(err)
		}
		if entry.External != "" {
			t.Errorf("accepted refund entry names external %q", entry.External)
		}
		if sums := net(entry); sums[ledger.PassengerPrepaid] != 800 || sums[ledger.RefundsPayable] != -760 || sums[ledger.FeeIncome] != -40 || len(sums) != 3 {
			t.Errorf("accepted refund postings %+v", entry.Postings)
		}
		// Paid: what was owed leaves through the gateway, when it paid.
		paid, err := s.DB.Ledger().EntryByKey(ctx, sale.RefundPaidKey(tid))
		if err != nil {
			t.Fatal(err)
		}
		if paid.External != sale.RefundID(tid) || !paid.At.Equal(r.DoneAt) {
			t.Errorf("paid refund entry external %q at %v, want %q at %v", paid.External, paid.At, sale.RefundID(tid), r.DoneAt)
		}
		if sums := net(paid); sums[ledger.RefundsPayable] != 760 || sums[ledger.GatewayClearing] != -760 || len(sums) != 2 {
			t.Errorf("paid refund postings %+v", paid.Postings)
		}
		// What is left in the buyer's prepaid value is what two rides used.
		if got := e.prepaid(t, buyer); got != 200 {
			t.Errorf("prepaid balance %d, want 200", got)
		}
		if _, err := e.svc.RefundTicket(ctx, buyer, tid); reason(err) != "refund_revoked" {
			t.Errorf("second refund: %v", err)
		}
		e.checkBooks(t)
	})
}

// TestRefundRules: a ticket being gifted, one given away, and one past the
// deadline are not refunded; an offer with no refund days refunds nothing.
func TestRefundRules(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		e := newEnv(t, s, 0)
		ctx := context.Background()
		c := e.campaign(t, benefits.MultiRide, 10, 100)
		o := e.offer(t, sale.OfferInput{CampaignID: c.ID, Bundle: 1, PriceFen: 1000, MaxPerOrder: 3, MaxPerPassenger: 10, Refund: sale.RefundRule{FeeBP: 0, Days: 3}, OnSale: true})
		buyer, friend := e.accounts[0], e.accounts[1]
		p, err := e.svc.Buy(ctx, buyer, o.ID, 3)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.HandleNotification(ctx, e.pay(t, p)); err != nil {
			t.Fatal(err)
		}
		p, _ = e.svc.Purchase(ctx, buyer, p.ID)
		gifting, given, late := p.TicketIDs[0], p.TicketIDs[1], p.TicketIDs[2]
		if _, err := e.bn.Gift(ctx, gifting, buyer, benefits.Cover{Theme: "birthday", Text: "生日快乐"}, ""); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.RefundTicket(ctx, buyer, gifting); reason(err) != "refund_gifting" {
			t.Errorf("gifting: %v", err)
		}
		g, err := e.bn.Gift(ctx, given, buyer, benefits.Cover{}, "")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.bn.SettleGift(ctx, g.Token, friend, benefits.GiftAccepted); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.RefundTicket(ctx, buyer, given); reason(err) != "refund_not_holder" {
			t.Errorf("given away, by the buyer: %v", err)
		}
		if _, err := e.svc.RefundTicket(ctx, friend, given); reason(err) != "ticket_not_found" {
			t.Errorf("given away, by the receiver: %v", err)
		}
		e.clock.Advance(3*24*time.Hour + time.Second)
		if _, err := e.svc.RefundTicket(ctx, buyer, late); reason(err) != "refund_deadline_passed" {
			t.Errorf("past the deadline: %v", err)
		}
		e.checkBooks(t)
	})
}

// TestIssueAfterCrash: a purchase marked paid whose issuing failed is
// finished by the sweep with the same keys, once.
func TestIssueAfterCrash(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		e := newEnv(t, s, 1)
		ctx := context.Background()
		c := e.campaign(t, benefits.MultiRide, 5, 100)
		o := e.offer(t, sale.OfferInput{CampaignID: c.ID, Bundle: 1, PriceFen: 500, MaxPerOrder: 2, MaxPerPassenger: 2, Refund: sale.RefundRule{Days: 1}, OnSale: true})
		buyer := e.accounts[0]
		p, err := e.svc.Buy(ctx, buyer, o.ID, 2)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.HandleNotification(ctx, e.pay(t, p)); err != nil {
			t.Fatal(err)
		}
		got, _ := e.svc.Purchase(ctx, buyer, p.ID)
		if got.Status != sale.Paid || got.Issued {
			t.Fatalf("after the crash: %+v", got)
		}
		e.checkBooks(t) // paid and entered, though not issued
		for range 2 {
			if _, err := e.svc.Sweep(ctx); err != nil {
				t.Fatal(err)
			}
		}
		got, _ = e.svc.Purchase(ctx, buyer, p.ID)
		ts, _ := e.bn.Tickets(ctx, buyer)
		if !got.Issued || len(got.TicketIDs) != 2 || len(ts) != 2 {
			t.Fatalf("after the sweep: %+v, %d tickets held", got, len(ts))
		}
	})
}

// TestLatePaymentReturned: a payment arriving for a closed purchase goes
// back in full, entered in and out.
func TestLatePaymentReturned(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		e := newEnv(t, s, 0)
		ctx := context.Background()
		c := e.campaign(t, benefits.SingleRide, 0, 100)
		o := e.offer(t, sale.OfferInput{CampaignID: c.ID, Bundle: 1, PriceFen: 300, MaxPerOrder: 1, MaxPerPassenger: 1, OnSale: true})
		buyer := e.accounts[0]
		p, err := e.svc.Buy(ctx, buyer, o.ID, 1)
		if err != nil {
			t.Fatal(err)
		}
		n := e.pay(t, p)
		closed := p
		closed.Status, closed.CloseReason, closed.ClosedAt, closed.Version = sale.Closed, sale.ClosedExpired, t0, p.Version+1
		if err := s.DB.Sales().UpdatePurchase(ctx, closed); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			out, err := e.svc.HandleNotification(ctx, n)
			if err != nil || out != sale.OutcomeReturned {
				t.Fatalf("late payment: %v %v", out, err)
			}
		}
		pay, _ := e.gw.Query(ctx, n.PaymentID)
		if pay.RefundedFen != 300 {
			t.Errorf("returned %d, want 300", pay.RefundedFen)
		}
		ts, _ := e.bn.Tickets(ctx, buyer)
		if len(ts) != 0 {
			t.Errorf("a closed purchase issued %d tickets", len(ts))
		}
		// A new order can take the slot the closed one freed.
		if _, err := e.svc.Buy(ctx, buyer, o.ID, 1); err != nil {
			t.Errorf("buying again: %v", err)
		}
		e.checkBooks(t)
	})
}

// TestOffersRefuseOtherCampaigns: only the operator's purchase-only
// campaigns of count tickets are sold; a stopped offer sells nothing.
func TestOffersRefuseOtherCampaigns(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		e := newEnv(t, s, 0)
		ctx := context.Background()
		c := e.campaign(t, benefits.SingleRide, 0, 10)
		if _, err := e.svc.CreateOffer(ctx, sale.OfferInput{CampaignID: c.ID, Bundle: 1, PriceFen: 0, MaxPerOrder: 1, MaxPerPassenger: 1}, "admin"); reason(err) != "offer_price_invalid" {
			t.Errorf("free offer: %v", err)
		}
		o := e.offer(t, sale.OfferInput{CampaignID: c.ID, Bundle: 1, PriceFen: 200, MaxPerOrder: 5, MaxPerPassenger: 10, OnSale: true})
		if _, err := e.svc.CreateOffer(ctx, sale.OfferInput{CampaignID: c.ID, Bundle: 1, PriceFen: 200, MaxPerOrder: 1, MaxPerPassenger: 1}, "admin"); reason(err) != "offer_exists" {
			t.Errorf("second offer of a campaign: %v", err)
		}
		if _, err := e.svc.SetOnSale(ctx, o.ID, false, "admin", "stock check"); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Buy(ctx, e.accounts[0], o.ID, 1); reason(err) != "offer_not_on_sale" {
			t.Errorf("stopped offer: %v", err)
		}
		if _, err := e.svc.SetOnSale(ctx, o.ID, true, "admin", ""); err != nil {
			t.Fatal(err)
		}
		// Stock is 10: two buyers of 5 take it all.
		for _, a := range e.accounts[:2] {
			if _, err := e.svc.Buy(ctx, a, o.ID, 5); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := e.svc.Buy(ctx, e.accounts[2], o.ID, 1); reason(err) != "offer_sold_out" {
			t.Errorf("sold out: %v", err)
		}
	})
}

// TestConcurrentBuysAndNotifications: buyers racing for a small stock and
// every payment notified several times at once end with exactly the
// tickets paid for, never more than the stock, each issued once.
func TestConcurrentBuysAndNotifications(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		e := newEnv(t, s, 0)
		ctx := context.Background()
		const stock = 7
		c := e.campaign(t, benefits.SingleRide, 0, stock)
		o := e.offer(t, sale.OfferInput{CampaignID: c.ID, Bundle: 1, PriceFen: 300, MaxPerOrder: 2, MaxPerPassenger: 4, OnSale: true})
		var mu sync.Mutex
		var bought []sale.Purchase
		var wg sync.WaitGroup
		for _, a := range e.accounts {
			for range 3 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					p, err := e.svc.Buy(ctx, a, o.ID, 2)
					if err != nil {
						if r := reason(err); r != "offer_sold_out" && r != "buy_per_passenger_limit" {
							t.Errorf("buy: %v", err)
						}
						return
					}
					mu.Lock()
					bought = append(bought, p)
					mu.Unlock()
				}()
			}
		}
		wg.Wait()
		sold := 0
		for _, p := range bought {
			sold += p.Count
		}
		if sold > stock || sold < stock-1 {
			t.Fatalf("sold %d tickets of %d", sold, stock)
		}
		var ns []payment.Notification
		for _, p := range bought {
			ns = append(ns, e.pay(t, p))
		}
		for range 3 {
			for _, n := range ns {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if _, err := e.svc.HandleNotification(ctx, n); err != nil {
						t.Errorf("notification: %v", err)
					}
				}()
			}
		}
		wg.Wait()
		issued := 0
		seen := map[int64]bool{}
		for _, a := range e.accounts {
			ts, err := e.bn.Tickets(ctx, a)
			if err != nil {
				t.Fatal(err)
			}
			for _, tk := range ts {
				if seen[tk.ID] {
					t.Errorf("ticket %d twice", tk.ID)
				}
				seen[tk.ID] = true
				issued++
			}
		}
		if issued != sold {
			t.Errorf("issued %d tickets for %d paid", issued, sold)
		}
		for _, p := range bought {
			got, _ := e.svc.Purchase(ctx, 0, p.ID)
			if got.Status != sale.Paid || !got.Issued || len(got.TicketIDs) != p.Count {
				t.Errorf("purchase %d: %+v", p.ID, got)
			}
		}
		e.checkBooks(t)
	})
}
