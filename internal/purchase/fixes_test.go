package purchase_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"piao/internal/benefits"
	"piao/internal/fault"
	"piao/internal/purchase"
	"piao/internal/store/storetest"
	"piao/internal/tenant"
)

// failingRefunds is a purchase store whose CreateRefund fails while
// fail is above 0.
type failingRefunds struct {
	purchase.Store
	mu   sync.Mutex
	fail int
}

func (f *failingRefunds) CreateRefund(ctx context.Context, scope tenant.Scope, r *purchase.Refund) error {
	f.mu.Lock()
	fail := f.fail > 0
	if fail {
		f.fail--
	}
	f.mu.Unlock()
	if fail {
		return fault.New(fault.Unavailable, "store_down", "存储不可用", "the store is down")
	}
	return f.Store.CreateRefund(ctx, scope, r)
}

// TestTerminatedRefundRetry: a terminated campaign ends when it was
// terminated; the refund's first try closes the budget (a change of the
// campaign) and then fails; the retry finds the same window, open.
func TestTerminatedRefundRetry(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		st := &failingRefunds{Store: s.DB.Purchases()}
		e := newEnvOver(t, s, purchase.RefundRules{}, st)
		ctx := context.Background()
		a := tenant.Merchant(7)
		e.campaign(1, 7, 0) // ends in 30 days
		p, err := e.svc.Create(ctx, a, 70, purchase.Order{CampaignID: 1, ValueFen: 10_000})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.HandleNotification(ctx, e.paid(t, p)); err != nil {
			t.Fatal(err)
		}
		e.camps.Spend(1, 4_000)
		terminated := e.clock.Now().Add(time.Hour)
		e.camps.Terminate(1, terminated)
		e.clock.Set(terminated.Add(7*24*time.Hour + time.Minute)) // past the grace after termination, long before Ends
		pv, err := e.svc.RefundPreview(ctx, a, 1)
		if err != nil || !pv.Open || !pv.Window.Opens.Equal(terminated.Add(7*24*time.Hour)) {
			t.Fatalf("preview: %+v %v", pv, err)
		}
		st.fail = 1
		if _, err := e.svc.RefundUnused(ctx, a, 1, 70); reason(err) != "store_down" {
			t.Fatalf("first try: %v", err)
		}
		if c := e.camps.Get(1); !c.UpdatedAt.After(terminated) {
			t.Fatalf("closing the budget did not change the campaign (UpdatedAt %s): the test shows nothing", c.UpdatedAt)
		}
		r, err := e.svc.RefundUnused(ctx, a, 1, 70)
		if err != nil {
			t.Fatalf("retry: %v", err)
		}
		if r.Status != purchase.RefundDone || r.UnusedFen != 6_000 || r.RefundedFen != 6_000 {
			t.Fatalf("refund %+v", r)
		}
	})
}

// TestRefundWaitsForPendingPurchase: a purchase whose stock was added but
// which is still pending (a crash before it was marked paid) holds the
// refund back until the sweep settles it; then its money is counted.
func TestRefundWaitsForPendingPurchase(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		e := newEnv(t, s, purchase.RefundRules{})
		ctx := context.Background()
		a := tenant.Merchant(7)
		e.campaign(1, 7, 0)
		settled, err := e.svc.Create(ctx, a, 70, purchase.Order{CampaignID: 1, ValueFen: 10_000})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.HandleNotification(ctx, e.paid(t, settled)); err != nil {
			t.Fatal(err)
		}
		crashed, err := e.svc.Create(ctx, a, 70, purchase.Order{CampaignID: 1, ValueFen: 5_000})
		if err != nil {
			t.Fatal(err)
		}
		e.paid(t, crashed) // paid at the gateway; its notification never came
		if _, err := e.camps.AddStock(ctx, a, 1, purchase.StockKey(crashed.ID), 0, crashed.AmountFen); err != nil {
			t.Fatal(err)
		}
		e.clock.Set(e.camps.Get(1).Ends.Add(8 * 24 * time.Hour))
		if _, err := e.svc.RefundUnused(ctx, a, 1, 70); reason(err) != "refund_purchase_pending" {
			t.Fatalf("refund with a pending purchase: %v", err)
		}
		if pv, err := e.svc.RefundPreview(ctx, a, 1); err != nil || pv.Open || pv.Reason != "refund_purchase_pending" {
			t.Fatalf("preview with a pending purchase: %+v %v", pv, err)
		}
		if c := e.camps.Get(1); c.BudgetValue != 15_000 {
			t.Fatalf("budget %d: the refused refund closed it", c.BudgetValue)
		}
		if _, err := e.svc.ExpireDue(ctx); err != nil {
			t.Fatal(err)
		}
		r, err := e.svc.RefundUnused(ctx, a, 1, 70)
		if err != nil {
			t.Fatal(err)
		}
		if r.UnusedFen != 15_000 || r.PaidFen != 15_000 || r.RefundedFen != 15_000 || r.Status != purchase.RefundDone {
			t.Fatalf("refund %+v: want all 15,000 fen back", r)
		}
	})
}

// TestNoPurchaseForRejectedCampaign: a rejected campaign takes no stock
// until its merchant resubmits it; nothing is stored.
func TestNoPurchaseForRejectedCampaign(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		e := newEnv(t, s, purchase.RefundRules{})
		ctx := context.Background()
		a := tenant.Merchant(7)
		e.campaign(1, 7, 100)
		c := e.camps.Get(1)
		c.Status = benefits.Rejected
		e.camps.Put(c, 100)
		if _, err := e.svc.Create(ctx, a, 70, purchase.Order{CampaignID: 1, Tickets: 5}); reason(err) != "campaign_rejected" || !fault.Is(err, fault.Conflict) {
			t.Fatalf("purchase for a rejected campaign: %v", err)
		}
		if ps, _ := e.svc.Purchases(ctx, tenant.All(), purchase.Filter{}); len(ps) != 0 {
			t.Fatalf("the refused purchase wrote %d purchases", len(ps))
		}
		c.Status = benefits.Submitted // resubmitted
		e.camps.Put(c, 100)
		if _, err := e.svc.Create(ctx, a, 70, purchase.Order{CampaignID: 1, Tickets: 5}); err != nil {
			t.Fatalf("purchase after resubmitting: %v", err)
		}
	})
}
