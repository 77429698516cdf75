package storetest_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"piao/internal/purchase"
	"piao/internal/store/storetest"
	"piao/internal/tenant"
)

var purT0 = time.Date(2026, 5, 1, 18, 0, 0, 123456000, time.FixedZone("CST", 8*3600))

// TestPurchaseStore: purchases and refunds keep to their merchant's scope,
// update only from the version they were read at, and list as asked.
func TestPurchaseStore(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := context.Background()
		st := s.DB.Purchases()
		a, b := tenant.Merchant(7), tenant.Merchant(8)
		mk := func(scope tenant.Scope, merchant, campaign int64, expires time.Time) purchase.Purchase {
			p := purchase.Purchase{Merchant: merchant, CampaignID: campaign, Tickets: 5, UnitPriceFen: 200, AmountFen: 1000, Status: purchase.Pending,
				BoughtBy: 70, CreatedAt: purT0, ExpiresAt: expires, Version: 1}
			if err := st.CreatePurchase(ctx, scope, &p); err != nil {
				t.Fatal(err)
			}
			return p
		}
		p1 := mk(a, 7, 1, purT0.Add(time.Minute))
		p2 := mk(a, 7, 1, purT0.Add(2*time.Minute))
		p3 := mk(tenant.All(), 8, 2, purT0.Add(time.Minute))
		bad := purchase.Purchase{Merchant: 8, CampaignID: 2, Status: purchase.Pending, Version: 1}
		if err := st.CreatePurchase(ctx, a, &bad); !errors.Is(err, purchase.ErrNotFound) {
			t.Fatalf("merchant 7 creates merchant 8's purchase: %v", err)
		}
		got, err := st.Purchase(ctx, a, p1.ID)
		if err != nil || got.ID != p1.ID || !got.ExpiresAt.Equal(p1.ExpiresAt) || got.AmountFen != 1000 || got.Version != 1 {
			t.Fatalf("read back %+v %v", got, err)
		}
		for _, sc := range []tenant.Scope{b, {}} {
			if _, err := st.Purchase(ctx, sc, p1.ID); !errors.Is(err, purchase.ErrNotFound) {
				t.Fatalf("%v reads merchant 7's purchase: %v", sc, err)
			}
			up := p1
			up.Status, up.Version = purchase.Closed, 2
			if err := st.UpdatePurchase(ctx, sc, up); !errors.Is(err, purchase.ErrNotFound) {
				t.Fatalf("%v updates merchant 7's purchase: %v", sc, err)
			}
		}
		list, err := st.Purchases(ctx, a, purchase.Filter{})
		if err != nil || len(list) != 2 || list[0].ID != p2.ID || list[1].ID != p1.ID {
			t.Fatalf("merchant 7 lists %+v %v", list, err)
		}
		if list, _ := st.Purchases(ctx, tenant.All(), purchase.Filter{}); len(list) != 3 {
			t.Fatalf("operator lists %d", len(list))
		}
		if list, _ := st.Purchases(ctx, b, purchase.Filter{CampaignID: 1}); len(list) != 0 {
			t.Fatalf("merchant 8 lists merchant 7's campaign: %+v", list)
		}
		if list, _ := st.Purchases(ctx, a, purchase.Filter{BeforeID: p2.ID}); len(list) != 1 || list[0].ID != p1.ID {
			t.Fatalf("page: %+v", list)
		}
		// Updates: from the version read, once.
		paid := p1
		paid.Status, paid.PaymentID, paid.PaidAt, paid.Version = purchase.Paid, "pay_1", purT0, 2
		if err := st.UpdatePurchase(ctx, tenant.All(), paid); err != nil {
			t.Fatal(err)
		}
		closed := p1
		closed.Status, closed.Version = purchase.Closed, 2
		if err := st.UpdatePurchase(ctx, a, closed); !errors.Is(err, purchase.ErrStale) {
			t.Fatalf("second update from version 1: %v", err)
		}
		if list, _ := st.Purchases(ctx, a, purchase.Filter{Status: purchase.Paid}); len(list) != 1 || list[0].PaymentID != "pay_1" || list[0].Version != 2 {
			t.Fatalf("paid: %+v", list)
		}
		due, err := st.DuePurchases(ctx, tenant.All(), purT0.Add(time.Minute), 10)
		if err != nil || len(due) != 1 || due[0].ID != p3.ID {
			t.Fatalf("due: %+v %v", due, err)
		}
		if due, _ := st.DuePurchases(ctx, a, purT0.Add(time.Hour), 10); len(due) != 1 || due[0].ID != p2.ID {
			t.Fatalf("merchant 7's due: %+v", due)
		}

		// Refunds: one per campaign, scoped, versioned.
		r := purchase.Refund{Merchant: 7, CampaignID: 1, UnusedFen: 500, PaidFen: 1000, RefundedFen: 500, Status: purchase.RefundPending, CreatedAt: purT0, Version: 1}
		if err := st.CreateRefund(ctx, b, &r); !errors.Is(err, purchase.ErrRefundNotFound) {
			t.Fatalf("merchant 8 creates merchant 7's refund: %v", err)
		}
		if err := st.CreateRefund(ctx, a, &r); err != nil || r.ID == 0 {
			t.Fatal(err)
		}
		again := r
		if err := st.CreateRefund(ctx, a, &again); !errors.Is(err, purchase.ErrRefundExists) {
			t.Fatalf("second refund: %v", err)
		}
		if _, err := st.Refund(ctx, b, 1); !errors.Is(err, purchase.ErrRefundNotFound) {
			t.Fatalf("merchant 8 reads it: %v", err)
		}
		if pend, _ := st.PendingRefunds(ctx, tenant.All(), 10); len(pend) != 1 || pend[0].ID != r.ID {
			t.Fatalf("pending: %+v", pend)
		}
		done := r
		done.Status, done.Version = purchase.RefundDone, 2
		done.Parts = []purchase.RefundPart{{PurchaseID: p1.ID, PaymentID: "pay_1", RefundID: "mpr-1-1", AmountFen: 500, Done: true, At: purT0}}
		if err := st.UpdateRefund(ctx, b, done); !errors.Is(err, purchase.ErrRefundNotFound) {
			t.Fatalf("merchant 8 updates it: %v", err)
		}
		if err := st.UpdateRefund(ctx, a, done); err != nil {
			t.Fatal(err)
		}
		if err := st.UpdateRefund(ctx, a, done); !errors.Is(err, purchase.ErrStale) {
			t.Fatalf("stale refund update: %v", err)
		}
		got2, err := st.Refund(ctx, a, 1)
		if err != nil || got2.Status != purchase.RefundDone || len(got2.Parts) != 1 || !got2.Parts[0].At.Equal(purT0) || got2.Version != 2 {
			t.Fatalf("refund read back %+v %v", got2, err)
		}
		if pend, _ := st.PendingRefunds(ctx, tenant.All(), 10); len(pend) != 0 {
			t.Fatalf("pending after done: %+v", pend)
		}
	})
}
