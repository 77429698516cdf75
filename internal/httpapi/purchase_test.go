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
	"piao/internal/benefits"
	"piao/internal/identity"
	"piao/internal/purchase"
)

// purchaseTemplate is the operator's template the purchase tests' merchant
// products are made from: single rides the merchant prepays at ¥4 each.
func purchaseTemplate(t *testing.T, a *app.App) benefits.Template {
	t.Helper()
	tpl, err := a.Benefits.CreateTemplate(context.Background(), benefits.Template{Kind: benefits.SingleRide, NameZH: "单程票", UnitPrice: 400}, "fixture")
	if err != nil {
		t.Fatal(err)
	}
	return tpl
}

// purchaseTimePaths makes a purchase of the demo merchant (merchant 1)
// and names the purchase routes' paths for the business-time test.
func purchaseTimePaths(t *testing.T, s *testServer) map[string]string {
	t.Helper()
	f := newMerchantFixture(t, s.app, 1, purchaseTemplate(t, s.app))
	res := s.do(t, "POST", "/api/v1/merchant/purchases", s.token(t, identity.MerchantAdmin), strings.NewReader(fmt.Sprintf(`{"campaign_id":%d,"tickets":2}`, f.Campaign.ID)))
	var p purchase.Purchase
	if json.Unmarshal(res.body, &p); res.status != 200 {
		t.Fatalf("purchase: %d %s", res.status, res.body)
	}
	return map[string]string{
		"/api/v1/merchant/purchases/{id}":        "/api/v1/merchant/purchases/" + id(p.ID),
		"/api/v1/merchant/campaigns/{id}/refund": "/api/v1/merchant/campaigns/" + id(f.Campaign.ID) + "/refund",
		"/api/v1/merchants/{id}/purchases":       "/api/v1/merchants/1/purchases",
	}
}

// The purchase routes' parameters in the tenancy matrix: a purchase of the
// fixture's merchant (made once, for its campaign), and its campaign.
func init() {
	purchaseOf := func(t *testing.T, f *merchantFixture) string { return id(f.Purchase(t)) }
	campaign := func(_ *testing.T, f *merchantFixture) string { return id(f.Campaign.ID) }
	tenancyParams[tenancyParam{"/api/v1/merchant/purchases/{id}", "id"}] = purchaseOf
	tenancyParams[tenancyParam{"/api/v1/merchant/campaigns/{id}/refund", "id"}] = campaign
}

// TestPurchaseFlowOverHTTP: a merchant buys tickets over the API, pays at
// the sandbox (whose page is the buyer's only), the signed notification
// reaches /api/v1/merchant-purchases/notify, and the purchase is paid with
// its stock added to the campaign. A purchase over the limit is a 4xx that
// writes nothing; staff without the finance grant get 403.
func TestPurchaseFlowOverHTTP(t *testing.T) {
	s := newTestServer(t)
	a := s.app
	tpl := purchaseTemplate(t, a)
	mine, theirs := newMerchantFixture(t, a, 1, tpl), newMerchantFixture(t, a, 2, tpl)
	buy := func(tickets int) string {
		return fmt.Sprintf(`{"campaign_id":%d,"tickets":%d}`, mine.Campaign.ID, tickets)
	}
	token := s.token(t, identity.MerchantAdmin)

	res := s.do(t, "POST", "/api/v1/merchant/purchases", token, strings.NewReader(buy(250_001))) // ¥1,000,004
	if res.status != 422 || decodeProblem(t, res).Reason != "purchase_amount_over_limit" {
		t.Fatalf("over the limit: %d %s", res.status, res.body)
	}
	if res := s.do(t, "POST", "/api/v1/merchant/purchases", token, strings.NewReader(fmt.Sprintf(`{"campaign_id":%d,"tickets":1}`, theirs.Campaign.ID))); res.status != 404 {
		t.Fatalf("another merchant's campaign: %d %s", res.status, res.body)
	}
	if res := s.do(t, "POST", "/api/v1/merchant/purchases", s.token(t, identity.MerchantStaff), strings.NewReader(buy(1))); res.status != 403 {
		t.Fatalf("staff without finance: %d %s", res.status, res.body)
	}
	var list struct{ Purchases []purchase.Purchase }
	res = s.do(t, "GET", "/api/v1/merchant/purchases", token, nil)
	json.Unmarshal(res.body, &list)
	if res.status != 200 || len(list.Purchases) != 0 {
		t.Fatalf("refused purchases wrote something: %d %s", res.status, res.body)
	}

	res = s.do(t, "POST", "/api/v1/merchant/purchases", token, strings.NewReader(buy(20)), "Idempotency-Key", "buy-20")
	var p purchase.Purchase
	json.Unmarshal(res.body, &p)
	if res.status != 200 || p.AmountFen != 8000 || p.Status != purchase.Pending || !strings.Contains(p.PayURL, "/sandbox/pay/"+p.PaymentID) {
		t.Fatalf("create: %d %s", res.status, res.body)
	}
	// A retry with the same key answers the same purchase and buys nothing more.
	again := s.do(t, "POST", "/api/v1/merchant/purchases", token, strings.NewReader(buy(20)), "Idempotency-Key", "buy-20")
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
	// The fixture bought 10 tickets (¥40) before: now 30 and ¥120.
	if c, err := a.Benefits.Campaign(context.Background(), mine.Scope, mine.Campaign.ID); err != nil || c.Stock != 30 || c.BudgetValue != 12000 {
		t.Fatalf("campaign after the purchase: %+v %v", c, err)
	}
	// The operator sees it under the merchant; the refund is not open yet.
	res = s.do(t, "GET", "/api/v1/merchants/1/purchases", s.token(t, identity.OperatorAuditor), nil)
	json.Unmarshal(res.body, &list)
	if res.status != 200 || len(list.Purchases) != 1 || list.Purchases[0].ID != p.ID {
		t.Fatalf("operator list: %d %s", res.status, res.body)
	}
	res = s.do(t, "GET", "/api/v1/merchant/campaigns/"+id(mine.Campaign.ID)+"/refund", token, nil)
	var pv purchase.Preview
	json.Unmarshal(res.body, &pv)
	if res.status != 200 || pv.Open || pv.Reason != "campaign_not_over" || pv.PaidFen != 8000 {
		t.Fatalf("refund preview: %d %s", res.status, res.body)
	}
	if res := s.do(t, "POST", "/api/v1/merchant/campaigns/"+id(mine.Campaign.ID)+"/refund", token, nil); res.status != 409 || decodeProblem(t, res).Reason != "campaign_not_over" {
		t.Fatalf("refund of a running campaign: %d %s", res.status, res.body)
	}
	// A forged notification is refused.
	forged := fmt.Sprintf(`{"id":"x","payment_id":%q,"order_ref":"piao-purchase-%d","status":"paid","amount_fen":8000}`, p.PaymentID, p.ID)
	if res := s.do(t, "POST", "/api/v1/merchant-purchases/notify", "", strings.NewReader(forged), "X-Piao-Pay-Timestamp", fmt.Sprint(time.Now().Unix()), "X-Piao-Pay-Nonce", "n", "X-Piao-Pay-Signature", "00"); res.status < 400 || res.status >= 500 {
		t.Fatalf("forged notification: %d %s", res.status, res.body)
	}
}
