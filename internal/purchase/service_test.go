package purchase_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"piao/internal/benefits"
	"piao/internal/fault"
	"piao/internal/payment"
	"piao/internal/payment/sandbox"
	"piao/internal/purchase"
	"piao/internal/purchase/purchasetest"
	"piao/internal/store/storetest"
	"piao/internal/tenant"
	"piao/internal/testclock"
)

var t0 = time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)

// env is a purchase service over a real store and sandbox gateway (on one
// engine) and the in-memory campaigns.
type env struct {
	clock *testclock.Clock
	camps *purchasetest.Campaigns
	gw    *sandbox.Gateway
	svc   *purchase.Service
	store purchase.Store
}

func newEnv(t *testing.T, s storetest.Stores, rules purchase.RefundRules) *env {
	t.Helper()
	return newEnvOver(t, s, rules, s.DB.Purchases())
}

// newEnvOver is newEnv over the purchase store st (one that wraps the
// engine's, to inject failures).
func newEnvOver(t *testing.T, s storetest.Stores, rules purchase.RefundRules, st purchase.Store) *env {
	t.Helper()
	clock := testclock.New(t0)
	gw, err := sandbox.New(s.Sandbox, sandbox.Config{Secret: []byte("0123456789abcdef0123456789abcdef"), BaseURL: "http://127.0.0.1:1", Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	camps := purchasetest.NewCampaigns(clock.Now)
	svc := purchase.New(st, purchase.Config{Now: clock.Now, Gateway: gw, Campaigns: camps, NotifyURL: "http://127.0.0.1:1/api/v1/merchant-purchases/notify",
		ReturnURL: "http://127.0.0.1:1/merchant/purchases/", Refunds: rules})
	return &env{clock: clock, camps: camps, gw: gw, svc: svc, store: st}
}

// campaign adds a running campaign of merchant, ending in 30 days.
func (e *env) campaign(id, merchant, unitPrice int64) {
	t0 := e.clock.Now()
	e.camps.Put(benefits.Campaign{ID: id, Owner: tenant.OwnerOf(merchant), NameZH: "活动", NameEN: "Campaign", Status: benefits.Active, Prepaid: true,
		Starts: t0.Add(-time.Hour), Ends: t0.Add(30 * 24 * time.Hour), UpdatedAt: t0.Add(-time.Hour)}, unitPrice)
}

// paid pays p at the sandbox and returns the notification it sends.
func (e *env) paid(t *testing.T, p purchase.Purchase) payment.Notification {
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

func TestCreatePayAndLimits(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		e := newEnv(t, s, purchase.RefundRules{})
		ctx := context.Background()
		e.campaign(1, 7, 300) // ¥3 per ticket
		e.campaign(2, 7, 0)   // prepaid by value
		e.campaign(3, 8, 300) // another merchant's
		e.camps.Put(benefits.Campaign{ID: 4, Owner: tenant.OwnerOf(7), Status: benefits.Draft, Prepaid: true, Starts: t0.Add(-48 * time.Hour), Ends: t0.Add(-time.Hour)}, 300)
		e.camps.Put(benefits.Campaign{ID: 6, Owner: tenant.OwnerOf(7), Status: benefits.Active, Starts: t0.Add(-time.Hour), Ends: t0.Add(time.Hour)}, 300)
		e.camps.Put(benefits.Campaign{ID: 5, Owner: tenant.OwnerOf(7), Status: benefits.Terminated, Prepaid: true, Starts: t0.Add(-48 * time.Hour), Ends: t0.Add(time.Hour)}, 300)
		a := tenant.Merchant(7)
		refused := []struct {
			scope tenant.Scope
			o     purchase.Order
			want  string
		}{
			{a, purchase.Order{CampaignID: 1, Tickets: 1_000_001}, "purchase_tickets_over_limit"},
			{a, purchase.Order{CampaignID: 1, Tickets: 400_000}, "purchase_amount_over_limit"}, // ¥1,200,000
			{a, purchase.Order{CampaignID: 1}, "purchase_tickets_required"},
			{a, purchase.Order{CampaignID: 2, Tickets: 5}, "purchase_value_required"},
			{a, purchase.Order{CampaignID: 2, ValueFen: -1}, "purchase_value_invalid"},
			{a, purchase.Order{CampaignID: 2, ValueFen: 100_000_001}, "purchase_amount_over_limit"},
			{a, purchase.Order{CampaignID: 3, Tickets: 1}, "campaign_not_found"},
			{a, purchase.Order{CampaignID: 4, Tickets: 1}, "campaign_over"}, // a draft past its end
			{a, purchase.Order{CampaignID: 5, Tickets: 1}, "campaign_over"},
			{a, purchase.Order{CampaignID: 6, Tickets: 1}, "campaign_not_prepaid"},
			{a, purchase.Order{CampaignID: 99, Tickets: 1}, "campaign_not_found"},
			{tenant.All(), purchase.Order{CampaignID: 1, Tickets: 1}, "purchase_merchant_only"},
		}
		for _, c := range refused {
			if _, err := e.svc.Create(ctx, c.scope, 70, c.o); reason(err) != c.want {
				t.Errorf("%+v: got %v, want %s", c.o, err, c.want)
			}
		}
		if ps, _ := e.svc.Purchases(ctx, tenant.All(), purchase.Filter{}); len(ps) != 0 {
			t.Fatalf("refused orders wrote %d purchases", len(ps))
		}
		p, err := e.svc.Create(ctx, a, 70, purchase.Order{CampaignID: 1, Tickets: 100, ValueFen: 50})
		if err != nil {
			t.Fatal(err)
		}
		if p.AmountFen != 100*300+50 || p.Status != purchase.Pending || p.PaymentID == "" || p.PayURL == "" || p.BoughtBy != 70 {
			t.Fatalf("created %+v", p)
		}
		pay, err := e.gw.Query(ctx, p.PaymentID)
		if err != nil || pay.AmountFen != p.AmountFen || pay.OrderRef != purchase.OrderRef(p.ID) {
			t.Fatalf("payment %+v %v", pay, err)
		}
		// The other merchant sees nothing of it.
		if _, err := e.svc.Purchase(ctx, tenant.Merchant(8), p.ID); reason(err) != "purchase_not_found" {
			t.Fatalf("merchant 8 reads merchant 7's purchase: %v", err)
		}
		n := e.paid(t, p)
		bad := n
		bad.AmountFen--
		if _, err := e.svc.HandleNotification(ctx, bad); reason(err) != "purchase_amount_mismatch" {
			t.Fatalf("wrong amount: %v", err)
		}
		for i, want := range []purchase.Outcome{purchase.OutcomePaid, purchase.OutcomeDuplicate, purchase.OutcomeDuplicate} {
			if out, err := e.svc.HandleNotification(ctx, n); err != nil || out != want {
				t.Fatalf("delivery %d: %s %v", i, out, err)
			}
		}
		got, _ := e.svc.Purchase(ctx, a, p.ID)
		if got.Status != purchase.Paid || got.PaymentID != n.PaymentID || got.PaidAt.IsZero() {
			t.Fatalf("after payment %+v", got)
		}
		if c := e.camps.Get(1); c.Stock != 100 || c.BudgetValue != 100*300+50 {
			t.Fatalf("stock %d budget %d", c.Stock, c.BudgetValue)
		}
	})
}

// TestCrashBetweenStockAndPaid: the stock was added but the purchase not
// marked (a crash); the next delivery adds nothing and marks it.
func TestCrashBetweenStockAndPaid(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		e := newEnv(t, s, purchase.RefundRules{})
		ctx := context.Background()
		e.campaign(1, 7, 100)
		p, err := e.svc.Create(ctx, tenant.Merchant(7), 70, purchase.Order{CampaignID: 1, Tickets: 10})
		if err != nil {
			t.Fatal(err)
		}
		n := e.paid(t, p)
		if _, err := e.camps.AddStock(ctx, tenant.Merchant(7), 1, purchase.StockKey(p.ID), 10, p.AmountFen); err != nil {
			t.Fatal(err)
		}
		if out, err := e.svc.HandleNotification(ctx, n); err != nil || out != purchase.OutcomePaid {
			t.Fatalf("%s %v", out, err)
		}
		if c := e.camps.Get(1); c.Stock != 10 || c.BudgetValue != 1000 {
			t.Fatalf("stock %d budget %d, want 10 and 1000", c.Stock, c.BudgetValue)
		}
	})
}

func TestExpiryAndLatePayment(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		e := newEnv(t, s, purchase.RefundRules{})
		ctx := context.Background()
		e.campaign(1, 7, 100)
		a := tenant.Merchant(7)
		unpaid, err := e.svc.Create(ctx, a, 70, purchase.Order{CampaignID: 1, Tickets: 1})
		if err != nil {
			t.Fatal(err)
		}
		paidLate, err := e.svc.Create(ctx, a, 70, purchase.Order{CampaignID: 1, Tickets: 2})
		if err != nil {
			t.Fatal(err)
		}
		n := e.paid(t, paidLate) // paid in time, but its notification is late
		e.clock.Advance(31 * time.Minute)
		if k, err := e.svc.ExpireDue(ctx); err != nil || k != 2 {
			t.Fatalf("sweep: %d %v", k, err)
		}
		got, _ := e.svc.Purchase(ctx, a, unpaid.ID)
		if got.Status != purchase.Closed || got.CloseReason != purchase.ClosedExpired {
			t.Fatalf("unpaid after expiry: %+v", got)
		}
		// The sweep asked the gateway and found the other paid: applied, not closed.
		got, _ = e.svc.Purchase(ctx, a, paidLate.ID)
		if got.Status != purchase.Paid {
			t.Fatalf("paid purchase after the sweep: %+v", got)
		}
		if out, err := e.svc.HandleNotification(ctx, n); err != nil || out != purchase.OutcomeDuplicate {
			t.Fatalf("late notification: %s %v", out, err)
		}
		if c := e.camps.Get(1); c.Stock != 2 {
			t.Fatalf("stock %d, want 2", c.Stock)
		}
	})
}

// TestPaymentWhenCampaignOver: paid, but the campaign ended before the
// notification: no stock, the money goes back in full, once.
func TestPaymentWhenCampaignOver(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		e := newEnv(t, s, purchase.RefundRules{})
		ctx := context.Background()
		e.campaign(1, 7, 100)
		p, err := e.svc.Create(ctx, tenant.Merchant(7), 70, purchase.Order{CampaignID: 1, Tickets: 3})
		if err != nil {
			t.Fatal(err)
		}
		n := e.paid(t, p)
		c := e.camps.Get(1)
		c.Status = benefits.Terminated
		e.camps.Put(c, 100)
		for range 3 {
			if out, err := e.svc.HandleNotification(ctx, n); err != nil || out != purchase.OutcomeRefunded {
				t.Fatalf("%s %v", out, err)
			}
		}
		got, _ := e.svc.Purchase(ctx, tenant.Merchant(7), p.ID)
		pay, _ := e.gw.Query(ctx, p.PaymentID)
		if got.Status != purchase.Closed || got.CloseReason != purchase.ClosedCampaignOver || got.RefundedFen != 300 || pay.RefundedFen != 300 || e.camps.Get(1).Stock != 0 {
			t.Fatalf("purchase %+v payment %+v", got, pay)
		}
	})
}

// TestConcurrentNotifications is the exactly-once invariant: many
// purchases of two merchants, each notification delivered several times
// at once, add each purchase's stock once and only to its own campaign.
func TestConcurrentNotifications(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		e := newEnv(t, s, purchase.RefundRules{})
		ctx := context.Background()
		e.campaign(1, 7, 100)
		e.campaign(2, 8, 200)
		const each, copies = 12, 4
		var ns []payment.Notification
		want := map[int64]int{}
		var mu sync.Mutex
		var wg sync.WaitGroup
		for i := range 2 * each {
			merchant, camp := int64(7+i%2), int64(1+i%2)
			wg.Add(1)
			go func() { // the two merchants buy concurrently
				defer wg.Done()
				p, err := e.svc.Create(ctx, tenant.Merchant(merchant), merchant*10, purchase.Order{CampaignID: camp, Tickets: i + 1})
				if err != nil {
					t.Error(err)
					return
				}
				n := e.paid(t, p)
				mu.Lock()
				ns = append(ns, n)
				want[camp] += i + 1
				mu.Unlock()
			}()
		}
		wg.Wait()
		outs := make(chan purchase.Outcome, len(ns)*copies)
		for _, n := range ns {
			for range copies {
				wg.Add(1)
				go func() {
					defer wg.Done()
					out, err := e.svc.HandleNotification(ctx, n)
					if err != nil {
						t.Error(err)
					}
					outs <- out
				}()
			}
		}
		wg.Wait()
		close(outs)
		paid := 0
		for o := range outs {
			if o == purchase.OutcomePaid {
				paid++
			}
		}
		if paid != len(ns) {
			t.Fatalf("%d paid outcomes for %d purchases", paid, len(ns))
		}
		for camp, n := range want {
			if got := e.camps.Get(camp).Stock; got != n {
				t.Errorf("campaign %d stock %d, want %d", camp, got, n)
			}
		}
		for k, hits := range e.camps.AddHits {
			if hits != 1 {
				t.Errorf("%s added %d times", k, hits)
			}
		}
		for _, m := range []int64{7, 8} {
			ps, _ := e.svc.Purchases(ctx, tenant.Merchant(m), purchase.Filter{})
			for _, p := range ps {
				if p.Merchant != m || p.CampaignID != m-6 || p.Status != purchase.Paid {
					t.Errorf("merchant %d lists %+v", m, p)
				}
			}
			if len(ps) != each {
				t.Errorf("merchant %d lists %d purchases, want %d", m, len(ps), each)
			}
		}
	})
}

func TestRefundRuleEdges(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		e := newEnv(t, s, purchase.RefundRules{FeeBasisPoints: 150}) // 1.5 %
		ctx := context.Background()
		a := tenant.Merchant(7)
		e.campaign(1, 7, 0)
		var ps []purchase.Purchase
		for _, v := range []int64{10_000, 20_000, 5_000} {
			p, err := e.svc.Create(ctx, a, 70, purchase.Order{CampaignID: 1, ValueFen: v})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.svc.HandleNotification(ctx, e.paid(t, p)); err != nil {
				t.Fatal(err)
			}
			ps = append(ps, p)
		}
		e.camps.Spend(1, 8_767) // unused 26,233 fen; fee 1.5 % = 393.495 → 393
		if _, err := e.svc.RefundUnused(ctx, a, 1, 70); reason(err) != "campaign_not_over" {
			t.Fatalf("running campaign: %v", err)
		}
		end := e.camps.Get(1).Ends
		e.clock.Set(end.Add(7*24*time.Hour - time.Second))
		pv, err := e.svc.RefundPreview(ctx, a, 1)
		if err != nil || pv.Open || pv.Reason != "refund_not_open" || !pv.Window.Opens.Equal(end.Add(7*24*time.Hour)) || pv.UnusedFen != 26_233 || pv.FeeFen != 393 || pv.RefundFen != 25_840 {
			t.Fatalf("preview in grace: %+v %v", pv, err)
		}
		if _, err := e.svc.RefundUnused(ctx, a, 1, 70); reason(err) != "refund_not_open" {
			t.Fatalf("inside the grace: %v", err)
		}
		if _, err := e.svc.RefundUnused(ctx, tenant.Merchant(8), 1, 80); reason(err) != "campaign_not_found" {
			t.Fatalf("another merchant: %v", err)
		}
		e.clock.Advance(time.Second)
		r, err := e.svc.RefundUnused(ctx, a, 1, 70)
		if err != nil {
			t.Fatal(err)
		}
		if r.Status != purchase.RefundDone || r.UnusedFen != 26_233 || r.FeeFen != 393 || r.RefundedFen != 25_840 || r.PaidFen != 35_000 {
			t.Fatalf("refund %+v", r)
		}
		// Newest first, each at most what it paid: 5,000 then 20,000 then 840.
		want := []struct {
			id  int64
			fen int64
		}{{ps[2].ID, 5_000}, {ps[1].ID, 20_000}, {ps[0].ID, 840}}
		if len(r.Parts) != len(want) {
			t.Fatalf("parts %+v", r.Parts)
		}
		for i, w := range want {
			p := r.Parts[i]
			pay, _ := e.gw.Query(ctx, p.PaymentID)
			if p.PurchaseID != w.id || p.AmountFen != w.fen || !p.Done || pay.RefundedFen != w.fen {
				t.Errorf("part %d: %+v (payment refunded %d), want %+v", i, p, pay.RefundedFen, w)
			}
		}
		if _, err := e.svc.RefundUnused(ctx, a, 1, 70); reason(err) != "refund_exists" {
			t.Fatalf("twice: %v", err)
		}
		if pv, _ := e.svc.RefundPreview(ctx, a, 1); pv.Refund == nil || pv.Open || pv.RefundFen != 25_840 {
			t.Fatalf("preview after: %+v", pv)
		}
		// After the deadline: another campaign, never refunded.
		e.campaign(2, 7, 0)
		p, err := e.svc.Create(ctx, a, 70, purchase.Order{CampaignID: 2, ValueFen: 1_000})
		if err != nil {
			t.Fatal(err)
		}
		e.svc.HandleNotification(ctx, e.paid(t, p))
		e.clock.Set(e.camps.Get(2).Ends.Add(90 * 24 * time.Hour))
		if _, err := e.svc.RefundUnused(ctx, a, 2, 70); reason(err) != "refund_window_closed" {
			t.Fatalf("after the deadline: %v", err)
		}
	})
}

func TestFeeRounding(t *testing.T) {
	cases := []struct {
		bp, base, fee int64
	}{
		{0, 12_345, 0}, {100, 150, 2}, {100, 149, 1}, {100, 50, 1}, {100, 49, 0}, {150, 26_233, 393}, {10_000, 777, 777}, {20_000, 777, 777},
	}
	for _, c := range cases {
		r := purchase.RefundRules{FeeBasisPoints: c.bp}
		if got := r.Fee(c.base); got != c.fee {
			t.Errorf("fee %d bp of %d = %d, want %d", c.bp, c.base, got, c.fee)
		}
		_, fee, refund := r.Figures(c.base, 1<<40)
		if fee+refund != c.base {
			t.Errorf("fee %d + refund %d != %d", fee, refund, c.base)
		}
	}
	// The base never exceeds what was paid.
	if base, _, _ := (purchase.RefundRules{}).Figures(900, 500); base != 500 {
		t.Errorf("base %d, want 500", base)
	}
	if got := purchase.Yuan(123_456_789); got != "¥1,234,567.89" {
		t.Errorf("Yuan: %s", got)
	}
}

func isNotFound(err error) bool { return fault.Is(err, fault.NotFound) }
