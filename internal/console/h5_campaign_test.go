package console_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"piao/internal/benefits"
	"piao/internal/identity"
	"piao/internal/tenant"
)

// claimCampaign stores an approved campaign of the demo merchant
// (merchant 1) running from starts, issuing by claim; with cover, its
// product has the merchant's brand image (set before review, as it must
// be).
func claimCampaign(t *testing.T, e *env, starts time.Time, stock int, cover ...[]byte) int64 {
	t.Helper()
	ctx, bn, mall := context.Background(), e.app.Benefits, tenant.Merchant(1)
	p, err := bn.CreateProduct(ctx, mall, benefits.Product{Kind: benefits.AmountOff, NameZH: "商场两元乘车券", NameEN: "Mall ¥2 off a ride", Feed: "nbmetro",
		Terms: benefits.Terms{AmountOff: 200}, Valid: benefits.Validity{Days: 30}, Cover: benefits.Cover{Theme: "festival", Text: "逛商场 坐地铁"}}, "", "account:9001")
	if err != nil {
		t.Fatal(err)
	}
	c, err := bn.CreateCampaign(ctx, mall, benefits.Campaign{ProductID: p.ID, NameZH: "商场周年庆", NameEN: "Mall anniversary", Starts: starts, Ends: starts.Add(7 * 24 * time.Hour),
		Channels: []benefits.Channel{benefits.ClaimChannel}, Stock: stock, PerUser: 1}, "", "account:9001")
	if err != nil {
		t.Fatal(err)
	}
	for _, img := range cover {
		if _, err := bn.SetCover(ctx, mall, benefits.CoverImage{ProductID: p.ID, Name: "logo.png", ContentType: "image/png", SHA256: "ab", Data: img}, "account:9001"); err != nil {
			t.Fatal(err)
		}
	}
	// Merchant campaigns are prepaid: stock is bought before review.
	if _, err := bn.AddStock(ctx, mall, c.ID, fmt.Sprintf("fixture-%d", c.ID), stock, int64(stock)*200); err != nil {
		t.Fatal(err)
	}
	if _, err := bn.Act(ctx, mall, c.ID, benefits.Submit, "account:9001", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := bn.Act(ctx, tenant.All(), c.ID, benefits.Approve, "account:9002", ""); err != nil {
		t.Fatal(err)
	}
	return c.ID
}

// TestH5CampaignClaimPage follows a claim link: an anonymous visitor sees
// the campaign and is sent to log in and back, then claims it; staff see
// it but cannot claim; a campaign not started or without claiming says so
// or is not found.
func TestH5CampaignClaimPage(t *testing.T) {
	e := newEnv(t)
	id := claimCampaign(t, e, time.Now().Add(-time.Hour), 5)
	page := fmt.Sprintf("/h5/campaigns/%d", id)

	anon := e.client(t)
	resp, body := anon.get(page)
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, "商场周年庆", "商场两元乘车券", "逛商场 坐地铁", "剩余 5 张", `id="claim-login"`, `href="/login?next=`+url.QueryEscape(page)+`"`)
	if csrfIn(body) != "" {
		t.Error("the anonymous page has a claim form")
	}
	if strings.Contains(body, `id="campaign-cover"`) {
		t.Error("a product without a brand image shows one")
	}
	// With the merchant's brand image, the page shows it from its public route.
	branded := claimCampaign(t, e, time.Now().Add(-time.Hour), 5, tinyPNG(t))
	c, _ := e.app.Benefits.Campaign(context.Background(), tenant.All(), branded)
	cover := fmt.Sprintf("/api/v1/benefit-products/%d/cover", c.ProductID)
	_, body = anon.get(fmt.Sprintf("/h5/campaigns/%d", branded))
	wantContains(t, body, `id="campaign-cover"`, `src="`+cover+`"`)
	if resp, img := anon.get(cover); resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/png" || !strings.HasPrefix(img, "\x89PNG") {
		t.Errorf("the cover the page links to: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}

	// Log in from there and come back.
	resp, body = anon.get("/login?next=" + url.QueryEscape(page))
	rider := loginFor(t, identity.Passenger)
	resp, body = anon.post("/login", url.Values{"csrf": {csrfIn(body)}, "username": {rider.Username}, "password": {rider.Password}, "next": {page}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != page {
		t.Fatalf("login: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, body = anon.get(page)
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, `id="claim-form"`, fmt.Sprintf(`action="%s/claim"`, page))
	resp, body = anon.post(page+"/claim", url.Values{"csrf": {csrfIn(body)}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/h5/wallet?done=claimed" {
		t.Fatalf("claim: %d %q\n%s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	if c, _ := e.app.Benefits.Campaign(context.Background(), tenant.All(), id); c.Issued != 1 {
		t.Fatalf("issued %d after one claim", c.Issued)
	}
	_, body = anon.get(page)
	wantContains(t, body, "剩余 4 张")
	// A second claim hits the per-person limit, shown in the wallet.
	resp, body = anon.post(page+"/claim", url.Values{"csrf": {csrfIn(body)}})
	wantStatus(t, resp, body, http.StatusTooManyRequests)
	wantContains(t, body, "每人限领 1 张")

	staff := e.client(t)
	staff.login(loginFor(t, identity.MerchantAdmin))
	resp, body = staff.get(page)
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, `id="claim-passengers"`)

	later := claimCampaign(t, e, time.Now().Add(24*time.Hour), 5)
	resp, body = anon.get(fmt.Sprintf("/h5/campaigns/%d", later))
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, `id="claim-closed"`, "活动尚未开始")

	for _, path := range []string{"/h5/campaigns/999999", "/h5/campaigns/x"} {
		if resp, body := anon.get(path); resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d\n%s", path, resp.StatusCode, body)
		}
	}
	// A draft has no claim page yet: it has not been reviewed.
	ctx, mall := context.Background(), tenant.Merchant(1)
	c, _ = e.app.Benefits.Campaign(ctx, mall, id)
	draft, err := e.app.Benefits.CreateCampaign(ctx, mall, benefits.Campaign{ProductID: c.ProductID, NameZH: "草稿", Starts: c.Starts, Ends: c.Ends,
		Channels: []benefits.Channel{benefits.ClaimChannel}, Stock: 5}, "", "account:9001")
	if err != nil {
		t.Fatal(err)
	}
	if resp, body := anon.get(fmt.Sprintf("/h5/campaigns/%d", draft.ID)); resp.StatusCode != http.StatusNotFound {
		t.Errorf("a draft's claim page: %d\n%s", resp.StatusCode, body)
	}
}

// tinyPNG is a 2×2 PNG image.
func tinyPNG(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewRGBA(image.Rect(0, 0, 2, 2))); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
