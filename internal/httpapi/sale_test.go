package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"piao/internal/app"
	"piao/internal/benefits"
	"piao/internal/identity"
	"piao/internal/sale"
	"piao/internal/tenant"
)

// saleCampaign makes an approved operator campaign of a ten-ride pack
// issued by the purchase channel, running from now for 30 days.
func saleCampaign(t *testing.T, a *app.App) benefits.Campaign {
	t.Helper()
	ctx := context.Background()
	now := a.Now()
	p := benefits.Product{Owner: "operator", Kind: benefits.MultiRide, NameZH: "十次票", NameEN: "Ten rides", Feed: "nbmetro", Terms: benefits.Terms{Rides: 10}, Valid: benefits.Validity{Days: 30}, CreatedAt: now}
	if err := a.BenefitsStore.CreateProduct(ctx, tenant.All(), &p); err != nil {
		t.Fatal(err)
	}
	c, err := a.Benefits.CreateCampaign(ctx, tenant.All(), benefits.Campaign{ProductID: p.ID, NameZH: "十次票发售", NameEN: "Ten rides on sale",
		Starts: now.Add(-time.Minute), Ends: now.Add(30 * 24 * time.Hour), Channels: []benefits.Channel{benefits.PurchaseChannel}, Stock: 50}, "operator", "fixture")
	if err != nil {
		t.Fatal(err)
	}
	for _, act := range []benefits.Action{benefits.Submit, benefits.Approve} {
		if c, err = a.Benefits.Act(ctx, tenant.All(), c.ID, act, "reviewer-fixture", ""); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// TestSaleOverHTTP: the operator puts a pack on sale (a passenger may not),
// a passenger buys one with an Idempotency-Key (a retry buys nothing
// more), pays at the sandbox, the signed notification issues the ticket,
// the wallet's refund quote shows what it would give, and the refund pays
// it back; limits answer 429.
func TestSaleOverHTTP(t *testing.T) {
	s := newTestServer(t)
	c := saleCampaign(t, s.app)
	admin, passenger := s.token(t, identity.OperatorAdmin), s.token(t, identity.Passenger)
	offer := fmt.Sprintf(`{"campaign_id":%d,"bundle":1,"price_fen":1000,"max_per_order":2,"max_per_passenger":4,"refund":{"fee_bp":500,"days":7},"on_sale":true}`, c.ID)
	if res := s.do(t, "POST", "/api/v1/sale-offers", passenger, strings.NewReader(offer)); res.status != 403 {
		t.Fatalf("a passenger's offer: %d %s", res.status, res.body)
	}
	if res := s.do(t, "POST", "/api/v1/sale-offers", admin, strings.NewReader(strings.Replace(offer, `"price_fen":1000`, `"price_fen":0`, 1))); res.status != 422 || decodeProblem(t, res).Reason != "offer_price_invalid" {
		t.Fatalf("a free offer: %d %s", res.status, res.body)
	}
	res := s.do(t, "POST", "/api/v1/sale-offers", admin, strings.NewReader(offer))
	var o sale.Offer
	if json.Unmarshal(res.body, &o); res.status != 200 || o.ID == 0 || o.Rides != 10 {
		t.Fatalf("offer: %d %s", res.status, res.body)
	}
	var shop struct{ Offers []sale.Availability }
	res = s.do(t, "GET", "/api/v1/shop", passenger, nil)
	if json.Unmarshal(res.body, &shop); res.status != 200 || len(shop.Offers) != 1 || shop.Offers[0].CanBuy != 2 {
		t.Fatalf("shop: %d %s", res.status, res.body)
	}
	buy := "/api/v1/shop/" + id(o.ID) + "/buy"
	if res := s.do(t, "POST", buy, passenger, strings.NewReader(`{"units":3}`)); res.status != 429 || decodeProblem(t, res).Reason != "buy_per_order_limit" {
		t.Fatalf("over the order limit: %d %s", res.status, res.body)
	}
	res = s.do(t, "POST", buy, passenger, strings.NewReader(`{"units":1}`), "Idempotency-Key", "pack-1")
	var p sale.Purchase
	if json.Unmarshal(res.body, &p); res.status != 200 || p.AmountFen != 1000 || p.Status != sale.Pending || !strings.Contains(p.PayURL, "/sandbox/pay/") {
		t.Fatalf("buy: %d %s", res.status, res.body)
	}
	again := s.do(t, "POST", buy, passenger, strings.NewReader(`{"units":1}`), "Idempotency-Key", "pack-1")
	if again.status != 200 || again.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("retry: %d %s", again.status, again.body)
	}
	var mine struct{ Purchases []sale.Purchase }
	res = s.do(t, "GET", "/api/v1/my-purchases", passenger, nil)
	if json.Unmarshal(res.body, &mine); len(mine.Purchases) != 1 {
		t.Fatalf("a retry bought again: %s", res.body)
	}
	if res := s.do(t, "GET", "/api/v1/my-purchases/"+id(p.ID), s.token(t, identity.OperatorAuditor), nil); res.status != 403 && res.status != 404 {
		t.Fatalf("someone else's purchase: %d %s", res.status, res.body)
	}
	if _, err := s.app.Sandbox.Pay(context.Background(), p.PaymentID); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for !p.Issued && time.Now().Before(deadline) {
		res = s.do(t, "GET", "/api/v1/my-purchases/"+id(p.ID), passenger, nil)
		json.Unmarshal(res.body, &p)
		time.Sleep(50 * time.Millisecond)
	}
	if p.Status != sale.Paid || !p.Issued || len(p.TicketIDs) != 1 {
		t.Fatalf("the notification did not issue the ticket: %s", res.body)
	}
	refund := "/api/v1/wallet/" + id(p.TicketIDs[0]) + "/refund"
	var q sale.Quote
	res = s.do(t, "GET", refund, passenger, nil)
	if json.Unmarshal(res.body, &q); res.status != 200 || !q.Refundable || q.UnusedFen != 1000 || q.FeeFen != 50 || q.AmountFen != 950 {
		t.Fatalf("quote: %d %s", res.status, res.body)
	}
	res = s.do(t, "POST", refund, passenger, nil)
	var r sale.Refund
	if json.Unmarshal(res.body, &r); res.status != 200 || r.Status != sale.RefundDone || r.AmountFen != 950 {
		t.Fatalf("refund: %d %s", res.status, res.body)
	}
	if res := s.do(t, "POST", refund, passenger, nil); res.status != 409 {
		t.Fatalf("second refund: %d %s", res.status, res.body)
	}
}

// saleTimePaths puts a pack on sale, has the passenger behind token buy
// one and pay for it, and names the sale routes' paths for the
// business-time test.
func saleTimePaths(t *testing.T, s *testServer, token string) map[string]string {
	t.Helper()
	ctx := context.Background()
	c := saleCampaign(t, s.app)
	o, err := s.app.Sales.CreateOffer(ctx, sale.OfferInput{CampaignID: c.ID, Bundle: 1, PriceFen: 800, MaxPerOrder: 1, MaxPerPassenger: 1, Refund: sale.RefundRule{Days: 3}, OnSale: true}, "fixture")
	if err != nil {
		t.Fatal(err)
	}
	res := s.do(t, "POST", "/api/v1/shop/"+id(o.ID)+"/buy", token, strings.NewReader(`{"units":1}`))
	var p sale.Purchase
	if json.Unmarshal(res.body, &p); res.status != 200 {
		t.Fatalf("buy: %d %s", res.status, res.body)
	}
	if _, err := s.app.Sandbox.Pay(ctx, p.PaymentID); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(20 * time.Second); !p.Issued; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the purchase was not issued: %+v", p)
		}
		if p, err = s.app.Sales.Purchase(ctx, 0, p.ID); err != nil {
			t.Fatal(err)
		}
	}
	return map[string]string{
		"/api/v1/sale-offers/{id}":   "/api/v1/sale-offers/" + id(o.ID),
		"/api/v1/my-purchases/{id}":  "/api/v1/my-purchases/" + id(p.ID),
		"/api/v1/wallet/{id}/refund": "/api/v1/wallet/" + id(p.TicketIDs[0]) + "/refund",
	}
}
