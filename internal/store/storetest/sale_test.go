package storetest_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"piao/internal/benefits"
	"piao/internal/fault"
	"piao/internal/ledger"
	"piao/internal/sale"
	"piao/internal/store/storetest"
	"piao/internal/tenant"
)

// TestSaleStore: one offer per campaign; a purchase its check refuses
// writes nothing and the check sees what pending and paid purchases hold;
// updates name their version; a paid purchase without its entry, and a
// ticket no purchase issued, are found out.
func TestSaleStore(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := context.Background()
		st := s.DB.Sales()
		at := time.Date(2026, 5, 1, 2, 0, 0, 0, time.UTC)
		o := sale.Offer{CampaignID: 41, Bundle: 1, PriceFen: 500, MaxPerOrder: 2, MaxPerPassenger: 3, OnSale: true, Version: 1}
		if err := st.CreateOffer(ctx, &o); err != nil {
			t.Fatal(err)
		}
		dup := o
		if err := st.CreateOffer(ctx, &dup); !errors.Is(err, sale.ErrOfferExists) {
			t.Fatalf("second offer of campaign 41: %v", err)
		}
		if offers, _ := st.Offers(ctx, true); len(offers) != 1 || offers[0].ID != o.ID || offers[0].PriceFen != 500 {
			t.Fatalf("offers on sale: %+v", offers)
		}
		o.OnSale, o.Version = false, 2
		if err := st.UpdateOffer(ctx, o); err != nil {
			t.Fatal(err)
		}
		if err := st.UpdateOffer(ctx, o); !errors.Is(err, sale.ErrStale) {
			t.Fatalf("stale offer update: %v", err)
		}
		if offers, _ := st.Offers(ctx, true); len(offers) != 0 {
			t.Fatalf("stopped offer listed on sale: %+v", offers)
		}
		// The campaign of the offer must exist for its stock.
		p := sale.Purchase{OfferID: o.ID, CampaignID: 41, Buyer: 9, Units: 2, Count: 2, AmountFen: 1000, Status: sale.Pending, CreatedAt: at, ExpiresAt: at.Add(time.Minute), Version: 1}
		err := st.CreatePurchase(ctx, &p, func(sale.Offer, int, int, int) error { return nil })
		if !fault.Is(err, fault.NotFound) {
			t.Fatalf("purchase of an offer without its campaign: %v", err)
		}
		if ps, _ := st.Purchases(ctx, sale.Filter{}); len(ps) != 0 {
			t.Fatalf("a refused purchase was stored: %+v", ps)
		}
		if _, err := st.PurchaseOfTicket(ctx, 12345); !errors.Is(err, sale.ErrNotBought) {
			t.Fatalf("a ticket that does not exist: %v", err)
		}
		if _, err := st.Refund(ctx, 12345); !errors.Is(err, sale.ErrRefundNotFound) {
			t.Fatalf("a refund that does not exist: %v", err)
		}
		all, mine, err := st.Sold(ctx, o.ID, 9)
		if err != nil || all != 0 || mine != 0 {
			t.Fatalf("sold %d, %d, %v", all, mine, err)
		}
		// With its campaign, the check sees what is held and a refusal
		// writes nothing.
		prod := benefits.Product{Owner: "operator", Kind: benefits.SingleRide, NameZH: "单程", Feed: "m", Valid: benefits.Validity{Days: 3}, CreatedAt: at}
		if err := s.Benefits.CreateProduct(ctx, tenant.All(), &prod); err != nil {
			t.Fatal(err)
		}
		c := benefits.Campaign{ProductID: prod.ID, Owner: "operator", NameZH: "售卖", Status: benefits.Draft, Starts: at, Ends: at.Add(time.Hour),
			Channels: []benefits.Channel{benefits.PurchaseChannel}, Stock: 5, CreatedAt: at, UpdatedAt: at}
		if err := s.Benefits.CreateCampaign(ctx, tenant.All(), &c, benefits.Event{At: at, By: "admin", Action: "create", To: benefits.Draft}); err != nil {
			t.Fatal(err)
		}
		o2 := sale.Offer{CampaignID: c.ID, Bundle: 1, PriceFen: 500, MaxPerOrder: 2, MaxPerPassenger: 3, OnSale: true, Version: 1}
		if err := st.CreateOffer(ctx, &o2); err != nil {
			t.Fatal(err)
		}
		p.OfferID, p.CampaignID = o2.ID, c.ID
		var seen [3]int
		check := func(_ sale.Offer, stock, sold, mine int) error { seen = [3]int{stock, sold, mine}; return nil }
		if err := st.CreatePurchase(ctx, &p, check); err != nil {
			t.Fatal(err)
		}
		other := p
		other.Buyer = 10
		if err := st.CreatePurchase(ctx, &other, check); err != nil {
			t.Fatal(err)
		}
		if seen != [3]int{5, 2, 0} {
			t.Fatalf("the second check saw stock, sold, mine %v", seen)
		}
		refused := p
		if err := st.CreatePurchase(ctx, &refused, func(sale.Offer, int, int, int) error { return sale.ErrSoldOut }); !errors.Is(err, sale.ErrSoldOut) {
			t.Fatalf("refused purchase: %v", err)
		}
		if all, mine, _ := st.Sold(ctx, o2.ID, 9); all != 4 || mine != 2 {
			t.Fatalf("sold %d, mine %d; want 4, 2", all, mine)
		}
		// Paid without its entry: the journal's check finds it.
		paid := p
		paid.Status, paid.PaymentID, paid.Version = sale.Paid, "pay_1", p.Version+1
		if err := st.UpdatePurchase(ctx, paid); err != nil {
			t.Fatal(err)
		}
		if err := st.UpdatePurchase(ctx, paid); !errors.Is(err, sale.ErrStale) {
			t.Fatalf("stale purchase update: %v", err)
		}
		problems, err := s.DB.Ledger().Verify(ctx)
		if err != nil || len(problems) != 1 || problems[0].Subject != "buy:"+strconv.FormatInt(p.ID, 10) {
			t.Fatalf("a paid purchase without its entry: %+v %v", problems, err)
		}
		if _, err := s.DB.Ledger().Post(ctx, sale.PaidEntry(paid, at)); err != nil {
			t.Fatal(err)
		}
		if problems, err := s.DB.Ledger().Verify(ctx); err != nil || len(problems) != 0 {
			t.Fatalf("with its entry: %+v %v", problems, err)
		}
		if e, _ := s.DB.Ledger().EntryByKey(ctx, sale.PaidKey(p.ID)); e.External != "pay_1" || e.Postings[1].Party != "account:9" || e.Postings[1].Account != ledger.PassengerPrepaid {
			t.Fatalf("paid entry %+v", e)
		}
	})
}
