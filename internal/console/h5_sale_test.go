package console_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"piao/internal/benefits"
	"piao/internal/identity"
	"piao/internal/sale"
	"piao/internal/tenant"
)

// TestH5ShopBuyAndRefund: the passenger sees a ten-ride pack on sale,
// buys it (the form goes to the sandbox's payment page), pays, comes back
// to the purchase, finds the ticket in the wallet with what it cost and
// what a refund gives, and refunds it; in English too.
func TestH5ShopBuyAndRefund(t *testing.T) {
	e := newEnv(t)
	ctx, a := context.Background(), e.app
	now := a.Now()
	p, err := a.Benefits.CreateProduct(ctx, tenant.All(), benefits.Product{Kind: benefits.MultiRide, NameZH: "十次票", NameEN: "Ten rides", Feed: "nbmetro",
		Terms: benefits.Terms{Rides: 10}, Valid: benefits.Validity{Days: 30}}, "operator", "account:9001")
	if err != nil {
		t.Fatal(err)
	}
	c, err := a.Benefits.CreateCampaign(ctx, tenant.All(), benefits.Campaign{ProductID: p.ID, NameZH: "十次票特惠", NameEN: "Ten-ride pack", Starts: now.Add(-time.Minute),
		Ends: now.Add(30 * 24 * time.Hour), Channels: []benefits.Channel{benefits.PurchaseChannel}, Stock: 20}, "operator", "account:9001")
	if err != nil {
		t.Fatal(err)
	}
	for _, act := range []benefits.Action{benefits.Submit, benefits.Approve} {
		if _, err := a.Benefits.Act(ctx, tenant.All(), c.ID, act, "account:9002", ""); err != nil {
			t.Fatal(err)
		}
	}
	o, err := a.Sales.CreateOffer(ctx, sale.OfferInput{CampaignID: c.ID, Bundle: 1, PriceFen: 2000, MaxPerOrder: 2, MaxPerPassenger: 2, Refund: sale.RefundRule{FeeBP: 1000, Days: 7}, OnSale: true}, "account:9001")
	if err != nil {
		t.Fatal(err)
	}
	cl := e.client(t)
	cl.login(loginFor(t, identity.Passenger))
	resp, body := cl.get("/h5/shop")
	wantStatus(t, resp, body, 200)
	wantContains(t, body, "十次票特惠", "¥20.00", `id="buy-`+strconv.FormatInt(o.ID, 10)+`"`, "手续费 10%")
	resp, body = cl.post("/h5/shop/"+strconv.FormatInt(o.ID, 10)+"/buy", url.Values{"csrf": {csrfIn(body)}, "units": {"3"}})
	wantStatus(t, resp, body, 429)
	wantContains(t, body, "每单限购 2 张")
	resp, body = cl.post("/h5/shop/"+strconv.FormatInt(o.ID, 10)+"/buy", url.Values{"csrf": {csrfIn(body)}, "units": {"1"}})
	wantStatus(t, resp, body, http.StatusSeeOther)
	if loc := resp.Header.Get("Location"); !strings.Contains(loc, "/sandbox/pay/") {
		t.Fatalf("buying went to %q, not the payment page", loc)
	}
	ps, err := a.Sales.Purchases(ctx, sale.Filter{Limit: 5})
	if err != nil || len(ps) != 1 {
		t.Fatalf("purchases %+v %v", ps, err)
	}
	if _, err := a.Sandbox.Pay(ctx, ps[0].PaymentID); err != nil {
		t.Fatal(err)
	}
	path := "/h5/shop/purchases/" + strconv.FormatInt(ps[0].ID, 10)
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		resp, body = cl.get(path)
		if strings.Contains(body, `id="bought-paid"`) || time.Now().After(deadline) {
			break
		}
	}
	wantStatus(t, resp, body, 200)
	wantContains(t, body, `id="bought-paid"`, "1 张票券已放入卡券")
	bought, _ := a.Sales.Purchase(ctx, 0, ps[0].ID)
	tid := strconv.FormatInt(bought.TicketIDs[0], 10)
	resp, body = cl.get("/h5/wallet")
	wantStatus(t, resp, body, 200)
	wantContains(t, body, `id="bought-`+tid+`"`, "购入价 ¥20.00", "现在退款可得 ¥18.00（手续费 ¥2.00）", `id="refund-`+tid+`"`)
	req, _ := http.NewRequest("GET", cl.base+"/h5/wallet", nil)
	req.AddCookie(&http.Cookie{Name: "piao_lang", Value: "en"})
	_, en := cl.do(req)
	wantContains(t, en, "Bought for ¥20.00", "a refund now gives ¥18.00 (fee ¥2.00)")
	resp, body = cl.post("/h5/wallet/"+tid+"/refund", url.Values{"csrf": {csrfIn(body)}})
	wantStatus(t, resp, body, http.StatusSeeOther)
	_, body = cl.get("/h5/wallet?done=refunded")
	wantContains(t, body, "退款已受理", "已退款或作废")
	if pay, err := a.Sandbox.Query(ctx, ps[0].PaymentID); err != nil || pay.RefundedFen != 1800 {
		t.Fatalf("gateway refunded %+v %v", pay, err)
	}
}

// TestSaleOffersPage: the operator's admin puts a purchase-channel
// campaign on sale from the console, changes its price and stops it; the
// auditor sees the offers but has no forms; bad input names the field.
func TestSaleOffersPage(t *testing.T) {
	e := newEnv(t)
	ctx, a := context.Background(), e.app
	now := a.Now()
	p, err := a.Benefits.CreateProduct(ctx, tenant.All(), benefits.Product{Kind: benefits.SingleRide, NameZH: "单程票", NameEN: "Single ride", Feed: "nbmetro",
		Valid: benefits.Validity{Days: 7}}, "operator", "account:9001")
	if err != nil {
		t.Fatal(err)
	}
	c, err := a.Benefits.CreateCampaign(ctx, tenant.All(), benefits.Campaign{ProductID: p.ID, NameZH: "单程票发售", NameEN: "Singles on sale", Starts: now.Add(-time.Minute),
		Ends: now.Add(30 * 24 * time.Hour), Channels: []benefits.Channel{benefits.PurchaseChannel}, Stock: 20}, "operator", "account:9001")
	if err != nil {
		t.Fatal(err)
	}
	admin := e.client(t)
	admin.login(loginFor(t, identity.OperatorAdmin))
	resp, body := admin.get("/benefits/offers")
	wantStatus(t, resp, body, 200)
	wantContains(t, body, `id="offer-new"`, "#"+strconv.FormatInt(c.ID, 10)+" 单程票发售")
	form := url.Values{"csrf": {csrfIn(body)}, "campaign": {strconv.FormatInt(c.ID, 10)}, "price": {"3.5x"}, "bundle": {"3"}, "per_order": {"6"}, "per_passenger": {"12"}, "days": {"7"}, "fee_bp": {"500"}, "on_sale": {"1"}}
	resp, body = admin.post("/benefits/offers", form)
	wantStatus(t, resp, body, 422)
	wantContains(t, body, "售价 price")
	form.Set("price", "10")
	resp, body = admin.post("/benefits/offers", form)
	wantStatus(t, resp, body, http.StatusSeeOther)
	os, _ := a.Sales.Offers(ctx, false)
	if len(os) != 1 || os[0].PriceFen != 1000 || os[0].Bundle != 3 || !os[0].OnSale {
		t.Fatalf("offers %+v", os)
	}
	_, body = admin.get("/benefits/offers")
	form.Set("price", "9.90")
	form.Del("on_sale")
	form.Set("reason", "淡季调价")
	resp, body = admin.post("/benefits/offers/"+strconv.FormatInt(os[0].ID, 10), form)
	wantStatus(t, resp, body, http.StatusSeeOther)
	if o, _ := a.Sales.Offer(ctx, os[0].ID); o.PriceFen != 990 || o.OnSale {
		t.Fatalf("after the change: %+v", o)
	}
	auditor := e.client(t)
	auditor.login(loginFor(t, identity.OperatorAuditor))
	resp, body = auditor.get("/benefits/offers")
	wantStatus(t, resp, body, 200)
	wantContains(t, body, "单程票发售", "¥9.90", "已停售")
	if strings.Contains(body, `id="offer-edit-`) {
		t.Error("the auditor is shown the edit form")
	}
}
