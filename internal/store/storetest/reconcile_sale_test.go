package storetest_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"piao/internal/benefits"
	"piao/internal/identity"
	"piao/internal/payment"
	"piao/internal/payment/sandbox"
	"piao/internal/reconcile"
	"piao/internal/sale"
	"piao/internal/store/storetest"
	"piao/internal/tenant"
	"piao/internal/testclock"
)

// TestReconcileSales: passengers' purchases reconcile three ways. On one
// day a passenger buys three rides through the sandbox and refunds one
// (the gateway pays the refund), and a second purchase, closed before its
// payment arrives, has that payment returned in full: the statement, the
// sale records and the ledger hold the same two payments and two refunds,
// with the same IDs and amounts, and the day has no difference.
func TestReconcileSales(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := context.Background()
		t0 := time.Date(2026, 5, 1, 2, 0, 0, 0, time.UTC) // 10:00 in Shanghai
		clock := testclock.New(t0)
		gw, err := sandbox.New(s.Sandbox, sandbox.Config{Secret: []byte("0123456789abcdef0123456789abcdef"), BaseURL: "http://127.0.0.1:1", Now: clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		bn := benefits.NewService(s.Benefits, benefits.Config{Now: clock.Now})
		svc := sale.New(s.DB.Sales(), sale.Config{Now: clock.Now, Gateway: gw, Benefits: bn,
			NotifyURL: "http://127.0.0.1:1/notify", ReturnURL: "http://127.0.0.1:1/h5/buy/purchases/"})
		var buyers []int64
		for i := range 2 {
			a, err := s.Identity.CreateAccount(ctx, identity.Account{Username: fmt.Sprintf("rider%d", i), DisplayName: "r", Role: identity.Passenger, PasswordHash: "x", CreatedAt: t0})
			if err != nil {
				t.Fatal(err)
			}
			buyers = append(buyers, a.ID)
		}
		prod := benefits.Product{Owner: "operator", Kind: benefits.MultiRide, NameZH: "十次票", NameEN: "Ten rides", Feed: "m", Valid: benefits.Validity{Days: 30}, CreatedAt: t0}
		prod.Terms.Rides = 10
		if err := s.Benefits.CreateProduct(ctx, tenant.All(), &prod); err != nil {
			t.Fatal(err)
		}
		c := benefits.Campaign{ProductID: prod.ID, Owner: "operator", NameZH: "十次票", NameEN: "Ten rides", Status: benefits.Draft,
			Starts: t0.Add(-time.Hour), Ends: t0.Add(60 * 24 * time.Hour), Channels: []benefits.Channel{benefits.PurchaseChannel}, Stock: 100,
			CreatedBy: "admin", CreatedAt: t0, UpdatedAt: t0}
		if err := s.Benefits.CreateCampaign(ctx, tenant.All(), &c, benefits.Event{At: t0, By: "admin", Action: "create", To: benefits.Draft}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Benefits.UpdateCampaign(ctx, tenant.All(), c.ID, func(c *benefits.Campaign) (benefits.Event, error) {
			c.Status = benefits.Approved
			return benefits.Event{At: t0, By: "reviewer", Action: "approve", From: benefits.Draft, To: benefits.Approved}, nil
		}); err != nil {
			t.Fatal(err)
		}
		o, err := svc.CreateOffer(ctx, sale.OfferInput{CampaignID: c.ID, Bundle: 1, PriceFen: 2_999, MaxPerOrder: 3, MaxPerPassenger: 3,
			Refund: sale.RefundRule{FeeBP: 500, Days: 7}, OnSale: true}, "admin")
		if err != nil {
			t.Fatal(err)
		}
		notification := func(id string) payment.Notification {
			pay, err := gw.Pay(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			return payment.Notification{ID: "ntf-" + pay.ID, PaymentID: pay.ID, OrderRef: pay.OrderRef, Status: payment.Paid, AmountFen: pay.AmountFen, PaidAt: pay.PaidAt}
		}

		// Bought, paid, one ticket refunded.
		bought, err := svc.Buy(ctx, buyers[0], o.ID, 3)
		if err != nil {
			t.Fatal(err)
		}
		clock.Advance(time.Minute)
		if out, err := svc.HandleNotification(ctx, notification(bought.PaymentID)); err != nil || out != sale.OutcomePaid {
			t.Fatalf("paying: %v %v", out, err)
		}
		bought, err = svc.Purchase(ctx, buyers[0], bought.ID)
		if err != nil || len(bought.TicketIDs) != 3 {
			t.Fatalf("paid purchase %+v %v", bought, err)
		}
		clock.Advance(time.Hour)
		refund, err := svc.RefundTicket(ctx, buyers[0], bought.TicketIDs[1])
		if err != nil || refund.Status != sale.RefundDone || refund.AmountFen <= 0 {
			t.Fatalf("refund %+v %v", refund, err)
		}

		// Closed before its payment came: the payment goes back.
		late, err := svc.Buy(ctx, buyers[1], o.ID, 1)
		if err != nil {
			t.Fatal(err)
		}
		clock.Advance(time.Minute)
		n := notification(late.PaymentID)
		closed := late
		closed.Status, closed.CloseReason, closed.ClosedAt, closed.Version = sale.Closed, sale.ClosedExpired, clock.Now(), late.Version+1
		if err := s.DB.Sales().UpdatePurchase(ctx, closed); err != nil {
			t.Fatal(err)
		}
		if out, err := svc.HandleNotification(ctx, n); err != nil || out != sale.OutcomeReturned {
			t.Fatalf("late payment: %v %v", out, err)
		}

		rec := reconcile.New(reconcile.Config{Store: s.DB.Reconcile(), Ledger: s.DB.Ledger(), Statements: storeStatements{s.DB.Sandbox()}})
		run, err := rec.Reconcile(ctx, "2026-05-01", nil, "test")
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range run.Differences {
			t.Errorf("difference: %s", d.Text("en"))
		}
		st := run.Statement
		if st.Payments != 2 || st.Refunds != 2 || st.PaymentFen != 3*2_999+2_999 || st.RefundFen != refund.AmountFen+2_999 {
			t.Errorf("statement %+v, want two payments and the refunds of %d and 2999 fen", st, refund.AmountFen)
		}
		for _, side := range reconcile.Sides {
			if run.Records[side] != 4 {
				t.Errorf("%s holds %d records, want 4 (%+v)", side, run.Records[side], run.Records)
			}
		}
		if run.Matched != 4 {
			t.Errorf("matched %d, want 4", run.Matched)
		}
		// The neighbouring days hold none of it.
		for _, day := range []string{"2026-04-30", "2026-05-02"} {
			if r, err := rec.Reconcile(ctx, day, nil, "test"); err != nil || r.Records[reconcile.Orders] != 0 || !r.Clean() {
				t.Errorf("%s: %+v %v", day, r, err)
			}
		}
		if problems, err := s.DB.Ledger().Verify(ctx); err != nil || len(problems) != 0 {
			t.Errorf("ledger check: %+v %v", problems, err)
		}
	})
}
