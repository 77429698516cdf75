package purchase_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"piao/internal/benefits"
	"piao/internal/payment"
	"piao/internal/payment/sandbox"
	"piao/internal/purchase"
	"piao/internal/store/storetest"
	"piao/internal/tenant"
	"piao/internal/testclock"
)

// TestAgainstBenefits runs purchases against the real benefits service on
// both engines: two merchants buy concurrently for their own prepaid
// campaigns, every notification is delivered several times at once, and
// each campaign ends with exactly its own purchases' stock and budget;
// once over and past the grace, the unused budget comes back by rule.
func TestAgainstBenefits(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := context.Background()
		clock := testclock.New(time.Date(2026, 12, 6, 10, 0, 0, 0, benefits.Shanghai))
		net := benefits.Network{Stations: map[string]bool{"m:A": true, "m:B": true}, Lines: map[string]bool{"m:L1": true}}
		bs := benefits.NewService(s.Benefits, benefits.Config{Now: clock.Now, Network: func(context.Context, string) (benefits.Network, error) { return net, nil }})
		gw, err := sandbox.New(s.Sandbox, sandbox.Config{Secret: []byte("0123456789abcdef0123456789abcdef"), BaseURL: "http://127.0.0.1:1", Now: clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		svc := purchase.New(s.DB.Purchases(), purchase.Config{Now: clock.Now, Gateway: gw, Campaigns: bs,
			NotifyURL: "http://127.0.0.1:1/api/v1/merchant-purchases/notify", ReturnURL: "http://127.0.0.1:1/merchant/purchases/"})

		// Merchant 7 sells 5-ride tickets at ¥3 a ride; merchant 8 an
		// amount-off voucher bought by value.
		camp := func(m int64, tpl benefits.Template, p benefits.Product) benefits.Campaign {
			tpl, err := bs.CreateTemplate(ctx, tpl, "account:1")
			if err != nil {
				t.Fatal(err)
			}
			p.Feed, p.NameZH, p.Valid = "m", "商户票", benefits.Validity{Days: 30}
			p, err = bs.CreateMerchantProduct(ctx, tenant.Merchant(m), tpl.ID, p, "account:70")
			if err != nil {
				t.Fatal(err)
			}
			c, err := bs.CreateCampaign(ctx, tenant.Merchant(m), benefits.Campaign{ProductID: p.ID, NameZH: "商户活动",
				Starts: clock.Now().Add(-time.Minute), Ends: clock.Now().Add(24 * time.Hour), Channels: []benefits.Channel{benefits.ClaimChannel}}, "operator", "account:70")
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		c7 := camp(7, benefits.Template{Kind: benefits.MultiRide, NameZH: "十次票", UnitPrice: 300, MaxRides: 10}, benefits.Product{Kind: benefits.MultiRide, Terms: benefits.Terms{Rides: 5}})
		c8 := camp(8, benefits.Template{Kind: benefits.AmountOff, NameZH: "抵用券", MaxAmountOff: 500}, benefits.Product{Kind: benefits.AmountOff, Terms: benefits.Terms{AmountOff: 200}})
		if _, err := svc.Create(ctx, tenant.Merchant(7), 70, purchase.Order{CampaignID: c8.ID, Tickets: 1}); err == nil || !isNotFound(err) {
			t.Fatalf("merchant 7 buys for merchant 8's campaign: %v", err)
		}

		const each, copies = 8, 3
		var mu sync.Mutex
		var ns []payment.Notification
		wantStock, wantValue := map[int64]int{}, map[int64]int64{}
		var wg sync.WaitGroup
		for i := range 2 * each {
			wg.Add(1)
			go func() {
				defer wg.Done()
				m, c, o := int64(7), c7.ID, purchase.Order{CampaignID: c7.ID, Tickets: i + 1}
				if i%2 == 1 {
					m, c, o = 8, c8.ID, purchase.Order{CampaignID: c8.ID, Tickets: i, ValueFen: int64(1000 * (i + 1))}
				}
				p, err := svc.Create(ctx, tenant.Merchant(m), m*10, o)
				if err != nil {
					t.Error(err)
					return
				}
				pay, err := gw.Pay(ctx, p.PaymentID)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				ns = append(ns, payment.Notification{ID: "n-" + pay.ID, PaymentID: pay.ID, OrderRef: pay.OrderRef, Status: payment.Paid, AmountFen: pay.AmountFen, PaidAt: pay.PaidAt})
				wantStock[c] += o.Tickets
				wantValue[c] += p.AmountFen
				mu.Unlock()
			}()
		}
		wg.Wait()
		for _, n := range ns {
			for range copies {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if _, err := svc.HandleNotification(ctx, n); err != nil {
						t.Error(err)
					}
				}()
			}
		}
		wg.Wait()
		for _, c := range []benefits.Campaign{c7, c8} {
			m, _ := tenant.MerchantOf(c.Owner)
			got, err := bs.Campaign(ctx, tenant.Merchant(m), c.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Stock != wantStock[c.ID] || got.BudgetValue != wantValue[c.ID] {
				t.Errorf("campaign %d: stock %d budget %d, want %d and %d", c.ID, got.Stock, got.BudgetValue, wantStock[c.ID], wantValue[c.ID])
			}
		}

		// Merchant 8's campaign is terminated, nothing spent: after the
		// grace its whole budget comes back, once.
		if _, err := bs.Act(ctx, tenant.Merchant(8), c8.ID, benefits.Submit, "account:80", ""); err != nil {
			t.Fatal(err)
		}
		if _, err := bs.Act(ctx, tenant.All(), c8.ID, benefits.Approve, "account:1", ""); err != nil {
			t.Fatal(err)
		}
		if _, err := bs.Act(ctx, tenant.All(), c8.ID, benefits.Terminate, "account:1", "测试 test"); err != nil {
			t.Fatal(err)
		}
		clock.Advance(8 * 24 * time.Hour)
		r, err := svc.RefundUnused(ctx, tenant.Merchant(8), c8.ID, 80)
		if err != nil {
			t.Fatal(err)
		}
		if r.Status != purchase.RefundDone || r.RefundedFen != wantValue[c8.ID] || r.UnusedFen != wantValue[c8.ID] {
			t.Fatalf("refund %+v, want %d back", r, wantValue[c8.ID])
		}
		var back int64
		for _, p := range r.Parts {
			pay, _ := gw.Query(ctx, p.PaymentID)
			back += pay.RefundedFen
		}
		if back != wantValue[c8.ID] {
			t.Fatalf("the gateway refunded %d, want %d", back, wantValue[c8.ID])
		}
		if got, _ := bs.Campaign(ctx, tenant.Merchant(8), c8.ID); got.BudgetValue != got.Spent {
			t.Fatalf("budget not closed: %+v", got)
		}
		if _, err := svc.RefundUnused(ctx, tenant.Merchant(7), c8.ID, 70); !isNotFound(err) {
			t.Fatalf("merchant 7 refunds merchant 8's campaign: %v", err)
		}
	})
}
