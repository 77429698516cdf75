package console_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"testing"
	"time"

	"piao/internal/benefits"
	"piao/internal/identity"
	"piao/internal/purchase"
	"piao/internal/tenant"
)

// prepaidCampaign makes a draft prepaid campaign of merchant from a
// template priced at unitPrice fen a ticket.
func prepaidCampaign(t *testing.T, e *env, merchant int64, name string, unitPrice int64) benefits.Campaign {
	t.Helper()
	ctx, bn := context.Background(), e.app.Benefits
	tpl, err := bn.CreateTemplate(ctx, benefits.Template{Kind: benefits.SingleRide, NameZH: name + "模板", UnitPrice: unitPrice}, "account:1 (admin)")
	if err != nil {
		t.Fatal(err)
	}
	scope, actor := tenant.Merchant(merchant), fmt.Sprintf("account:%d (merchant)", 900+merchant)
	p, err := bn.CreateMerchantProduct(ctx, scope, tpl.ID, benefits.Product{NameZH: name + "票", Feed: "nbmetro", Valid: benefits.Validity{Days: 5}}, actor)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	c, err := bn.CreateCampaign(ctx, scope, benefits.Campaign{ProductID: p.ID, NameZH: name, Starts: now, Ends: now.Add(72 * time.Hour),
		Channels: []benefits.Channel{benefits.ClaimChannel}, PerUser: 1}, "", actor)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestMerchantPurchases: the merchant buys tickets for its campaign from
// the purchases page, is sent to the payment page, and once paid the
// purchase's page (where the sandbox returns the buyer) says so and the
// stock is the campaign's; an order over the limit is refused with nothing
// written; another merchant's purchase is not found; the refund of a
// running campaign is previewed and refused; staff without finance get
// 403 and no menu item.
func TestMerchantPurchases(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	mine := prepaidCampaign(t, e, 1, "商场单程票", 150)
	theirs := prepaidCampaign(t, e, 2, "银行单程票", 100)
	cl := e.as(t, identity.MerchantAdmin)

	resp, body := cl.get("/merchant/purchases")
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, `href="/merchant/purchases" aria-current="page"`, "商场单程票", "每张 ¥1.50", `id="buy-form"`)
	if strings.Contains(body, "银行单程票") {
		t.Error("the purchase form offers merchant 2's campaign")
	}
	csrf := csrfIn(body)
	count := func(scope tenant.Scope) int {
		ps, err := e.app.Purchases.Purchases(ctx, scope, purchase.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		return len(ps)
	}
	resp, body = cl.post("/merchant/purchases", url.Values{"csrf": {csrf}, "campaign": {strconv.FormatInt(mine.ID, 10)}, "tickets": {"2000000"}})
	if resp.StatusCode < 400 || resp.StatusCode >= 500 {
		t.Fatalf("an order over the limit: %d\n%s", resp.StatusCode, body)
	}
	wantContains(t, body, `id="buy-form"`, `value="2000000"`)
	if n := count(tenant.Merchant(1)); n != 0 {
		t.Fatalf("a refused order stored %d purchases", n)
	}

	resp, body = cl.post("/merchant/purchases", url.Values{"csrf": {csrf}, "campaign": {strconv.FormatInt(mine.ID, 10)}, "tickets": {"10"}})
	wantStatus(t, resp, body, http.StatusSeeOther)
	u, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || !strings.HasPrefix(u.Path, "/sandbox/pay/") {
		t.Fatalf("the order went to %q, want the payment page", resp.Header.Get("Location"))
	}
	ps, err := e.app.Purchases.Purchases(ctx, tenant.Merchant(1), purchase.Filter{})
	if err != nil || len(ps) != 1 {
		t.Fatalf("purchases %v, %v", ps, err)
	}
	p := ps[0]
	page := fmt.Sprintf("/merchant/purchases/%d", p.ID)
	resp, body = cl.get(page)
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, `data-status="pending"`, `id="pay-link"`, `data-stat="total">¥15.00<`, `http-equiv="refresh"`)
	if _, err := e.app.Sandbox.Pay(ctx, path.Base(u.Path)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		_, body = cl.get(page)
		if strings.Contains(body, `data-status="paid"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("purchase still unpaid 15 s after paying:\n%s", body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if strings.Contains(body, `id="pay-link"`) || strings.Contains(body, `http-equiv="refresh"`) {
		t.Error("a paid purchase still offers to pay or reloads itself")
	}
	wantContains(t, body, fmt.Sprintf(`href="/merchant/invoices?ref=purchase:%d" id="purchase-invoices"`, p.ID))
	if c, err := e.app.Benefits.Campaign(ctx, tenant.Merchant(1), mine.ID); err != nil || c.Stock != 10 || c.BudgetValue != 1500 {
		t.Fatalf("campaign after payment: %+v, %v", c, err)
	}
	_, body = cl.get("/merchant/purchases")
	wantContains(t, body, fmt.Sprintf(`data-purchase="%d" data-status="paid"`, p.ID))
	_, body = cl.get("/merchant")
	wantContains(t, body, `<dd data-stat="stock">10<`, `<dd data-stat="value">¥15.00<`)

	// Merchant 2's purchase is not found, nor listed.
	acct2, _ := e.newPassenger(t, "mpother")
	other, err := e.app.Purchases.Create(ctx, tenant.Merchant(2), acct2, purchase.Order{CampaignID: theirs.ID, Tickets: 3})
	if err != nil {
		t.Fatal(err)
	}
	resp, body = cl.get(fmt.Sprintf("/merchant/purchases/%d", other.ID))
	wantStatus(t, resp, body, http.StatusNotFound)
	_, body = cl.get("/merchant/purchases")
	if strings.Contains(body, fmt.Sprintf(`data-purchase="%d"`, other.ID)) {
		t.Error("merchant 2's purchase is listed")
	}
	resp, body = cl.post("/merchant/purchases", url.Values{"csrf": {csrf}, "campaign": {strconv.FormatInt(theirs.ID, 10)}, "tickets": {"1"}})
	wantStatus(t, resp, body, http.StatusNotFound)

	// A running campaign's refund: previewed, not yet possible.
	refund := fmt.Sprintf("/merchant/refunds/%d", mine.ID)
	resp, body = cl.get(refund)
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, `data-stat="unused">¥15.00<`, `data-stat="paid">¥15.00<`, `id="refund-not-now"`, "活动尚未结束")
	resp, body = cl.post(refund, url.Values{"csrf": {csrf}})
	wantStatus(t, resp, body, http.StatusConflict)
	resp, body = cl.get(fmt.Sprintf("/merchant/refunds/%d", theirs.ID))
	wantStatus(t, resp, body, http.StatusNotFound)
	noMissingMessages(t, cl, "/merchant/purchases", page, refund)

	// The demo staff holds no finance grant.
	staff := e.as(t, identity.MerchantStaff)
	for _, p := range []string{"/merchant/purchases", page, refund} {
		resp, body := staff.get(p)
		wantStatus(t, resp, body, http.StatusForbidden)
		if strings.Contains(body, `href="/merchant/purchases"`) {
			t.Errorf("%s: staff without finance have the purchases menu item", p)
		}
	}
}
