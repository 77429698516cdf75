package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"piao/internal/app"
	"piao/internal/app/apptest"
	"piao/internal/benefits"
	"piao/internal/identity"
	"piao/internal/purchase"
	"piao/internal/purchase/purchasetest"
	"piao/internal/tenant"
)

// demoPurchaseCampaigns are the campaigns the test servers' purchases buy
// stock for, until the benefits service answers for them: campaign 41 of
// merchant 1 (¥3 a ticket) and 42 of merchant 2, running for 30 days.
func demoPurchaseCampaigns(a *app.App) *purchasetest.Campaigns {
	camps := purchasetest.NewCampaigns(a.Now)
	now := time.Now()
	camps.Put(benefits.Campaign{ID: 41, Owner: tenant.OwnerOf(1), NameZH: "商场购物送地铁票", NameEN: "Mall rides", Status: benefits.Active,
		Starts: now.Add(-time.Hour), Ends: now.Add(30 * 24 * time.Hour)}, 300)
	camps.Put(benefits.Campaign{ID: 42, Owner: tenant.OwnerOf(2), NameZH: "银行", NameEN: "Bank", Status: benefits.Active,
		Starts: now.Add(-time.Hour), Ends: now.Add(30 * 24 * time.Hour)}, 300)
	return camps
}

// purchaseTimePaths makes a purchase and names the purchase routes' paths
// for the business-time test.
func purchaseTimePaths(t *testing.T, s *testServer) map[string]string {
	t.Helper()
	res := s.do(t, "POST", "/api/v1/merchant/purchases", s.token(t, identity.MerchantAdmin), strings.NewReader(`{"campaign_id":41,"tickets":2}`))
	var p purchase.Purchase
	if json.Unmarshal(res.body, &p); res.status != 200 {
		t.Fatalf("purchase: %d %s", res.status, res.body)
	}
	return map[string]string{
		"/api/v1/merchant/purchases/{id}":        fmt.Sprintf("/api/v1/merchant/purchases/%d", p.ID),
		"/api/v1/merchant/campaigns/{id}/refund": "/api/v1/merchant/campaigns/41/refund",
		"/api/v1/merchants/{id}/purchases":       "/api/v1/merchants/1/purchases",
	}
}

// TestPurchaseFlowOverHTTP: a merchant buys tickets over the API, pays at
// the sandbox (whose page is the buyer's only), the signed notification
// reaches /api/v1/merchant-purchases/notify, and the purchase is paid with
// its stock added to the campaign. A purchase over the limit is a 4xx that
// writes nothing; staff without the finance grant get 403.
func TestPurchaseFlowOverHTTP(t *testing.T) {
	a := apptest.NewDemo(t)
	camps := demoPurchaseCampaigns(a)
	a.PurchaseCampaigns = camps
	ts, srv := apptest.Serve(t, a, nil)
	s := &testServer{Server: ts, app: a, api: srv}
	token := s.token(t, identity.MerchantAdmin)

	res := s.do(t, "POST", "/api/v1/merchant/purchases", token, strings.NewReader(`{"campaign_id":41,"tickets":400000}`))
	if res.status != 422 || decodeProblem(t, res).Reason != "purchase_amount_over_limit" {
		t.Fatalf("over the limit: %d %s", res.status, res.body)
	}
	if res := s.do(t, "POST", "/api/v1/merchant/purchases", token, strings.NewReader(`{"campaign_id":42,"tickets":1}`)); res.status != 404 {
		t.Fatalf("another merchant's campaign: %d %s", res.status, res.body)
	}
	if res := s.do(t, "POST", "/api/v1/merchant/purchases", s.token(t, identity.MerchantStaff), strings.NewReader(`{"campaign_id":41,"tickets":1}`)); res.status != 403 {
		t.Fatalf("staff without finance: %d %s", res.status, res.body)
	}
	var list struct{ Purchases []purchase.Purchase }
	res = s.do(t, "GET", "/api/v1/merchant/purchases", token, nil)
	json.Unmarshal(res.body, &list)
	if res.status != 200 || len(list.Purchases) != 0 {
		t.Fatalf("refused purchases wrote something: %d %s", res.status, res.body)
	}

	res = s.do(t, "POST", "/api/v1/merchant/purchases", token, strings.NewReader(`{"campaign_id":41,"tickets":20}`), "Idempotency-Key", "buy-20")
	var p purchase.Purchase
	json.Unmarshal(res.body, &p)
	if res.status != 200 || p.AmountFen != 6000 || p.Status != purchase.Pending || !strings.Contains(p.PayURL, "/sandbox/pay/"+p.PaymentID) {
		t.Fatalf("create: %d %s", res.status, res.body)
	}
	// A retry with the same key answers the same purchase and buys nothing more.
	again := s.do(t, "POST", "/api/v1/merchant/purchases", token, strings.NewReader(`{"campaign_id":41,"tickets":20}`), "Idempotency-Key", "buy-20")
	if again.status != 200 || again.header.Get("Idempotent-Replayed") != "true" || string(again.body) != string(res.body) {
		t.Fatalf("retry: %d %s", again.status, again.body)
	}
	rec, err := a.SandboxStore.Payment(context.Background(), p.PaymentID)
	if err != nil || rec.Payer != purchase.PayerOf(p.BoughtBy) || !strings.HasSuffix(rec.ReturnURL, fmt.Sprintf("/merchant/purchases/%d", p.ID)) ||
		!strings.HasSuffix(rec.NotifyURL, "/api/v1/merchant-purchases/notify") {
		t.Fatalf("payment record %+v %v", rec, err)
	}
	// Only the buyer's session opens the pay page: a stranger is sent to log in.
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	page, err := noFollow.Get(p.PayURL)
	if err != nil {
		t.Fatal(err)
	}
	page.Body.Close()
	if page.StatusCode != http.StatusSeeOther || !strings.HasPrefix(page.Header.Get("Location"), "/login") {
		t.Fatalf("pay page without the buyer's session: %d %s", page.StatusCode, page.Header.Get("Location"))
	}
	if _, err := a.Sandbox.Pay(context.Background(), p.PaymentID); err != nil {
		t.Fatal(err)
	}
	path := fmt.Sprintf("/api/v1/merchant/purchases/%d", p.ID)
	deadline := time.Now().Add(20 * time.Second)
	for {
		res = s.do(t, "GET", path, token, nil)
		json.Unmarshal(res.body, &p)
		if p.Status == purchase.Paid || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if p.Status != purchase.Paid {
		t.Fatalf("the sandbox notification did not pay the purchase: %s", res.body)
	}
	if c := camps.Get(41); c.Stock != 20 {
		t.Fatalf("campaign stock %d, want 20", c.Stock)
	}
	// The operator sees it under the merchant; the refund is not open yet.
	res = s.do(t, "GET", "/api/v1/merchants/1/purchases", s.token(t, identity.OperatorAuditor), nil)
	json.Unmarshal(res.body, &list)
	if res.status != 200 || len(list.Purchases) != 1 || list.Purchases[0].ID != p.ID {
		t.Fatalf("operator list: %d %s", res.status, res.body)
	}
	res = s.do(t, "GET", "/api/v1/merchant/campaigns/41/refund", token, nil)
	var pv purchase.Preview
	json.Unmarshal(res.body, &pv)
	if res.status != 200 || pv.Open || pv.Reason != "campaign_not_over" || pv.PaidFen != 6000 {
		t.Fatalf("refund preview: %d %s", res.status, res.body)
	}
	if res := s.do(t, "POST", "/api/v1/merchant/campaigns/41/refund", token, nil); res.status != 409 || decodeProblem(t, res).Reason != "campaign_not_over" {
		t.Fatalf("refund of a running campaign: %d %s", res.status, res.body)
	}
	// A forged notification is refused.
	forged := fmt.Sprintf(`{"id":"x","payment_id":%q,"order_ref":"piao-purchase-%d","status":"paid","amount_fen":6000}`, p.PaymentID, p.ID)
	if res := s.do(t, "POST", "/api/v1/merchant-purchases/notify", "", strings.NewReader(forged), "X-Piao-Pay-Timestamp", fmt.Sprint(time.Now().Unix()), "X-Piao-Pay-Nonce", "n", "X-Piao-Pay-Signature", "00"); res.status < 400 || res.status >= 500 {
		t.Fatalf("forged notification: %d %s", res.status, res.body)
	}
}
