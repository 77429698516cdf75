package console_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"piao/internal/benefits"
	"piao/internal/identity"
	"piao/internal/merchant"
)

// walkWait bounds each wait on a condition in the merchant walk: CI runs
// it on two busy cores, where a page with a chart or a payment
// notification can take seconds.
const walkWait = 90 * time.Second

// TestBrowserMerchantWalk drives one headless Chromium, with a separate
// browser context (its own cookies) for each person, through the whole
// merchant flow of issue 23, every step on the pages:
//
//  1. an anonymous visitor applies at /merchants/apply with a valid
//     unified social credit code and a PDF business licence;
//  2. the operator's reviewer finds the application in /merchants and
//     approves it;
//  3. the new merchant's admin logs in with the username and password of
//     the application and lands on the dashboard /merchant;
//  4. the merchant makes a product and a draft campaign from the
//     operator's template with a cover image, buys 5 tickets of stock (the
//     sandbox's payment page, back on the purchase page once paid) and
//     submits the campaign;
//  5. the reviewer (not the campaign's creator: four eyes) approves it;
//  6. the demo passenger opens the claim link, logs in, claims, and finds
//     the ticket in the wallet;
//  7. the merchant's dashboard shows 1 claimed and the campaign 4 of 5
//     tickets left.
//
// The one step without a page is the operator's template: the console has
// no template page (the API's POST /api/v1/benefit-templates is the
// operator's way), so the test creates it through the benefits service.
// The browser console must stay free of errors and CSP refusals throughout.
// Set PIAO_TEST_WALK_SCREENSHOT to a .png path to keep a screenshot of the
// merchant's dashboard at the end.
func TestBrowserMerchantWalk(t *testing.T) {
	exe := chromium(t)
	e := newEnv(t)
	began := time.Now()
	ctx := context.Background()

	// The operator offers single-ride tickets at ¥2.00 each (no page: see above).
	tpl, err := e.app.Benefits.CreateTemplate(ctx, benefits.Template{Kind: benefits.SingleRide, NameZH: "单程票（商户）", NameEN: "Single ride (merchants)",
		UnitPrice: 200, DescriptionZH: "商户预付的地铁单程票", DescriptionEN: "Metro single rides merchants prepay"}, "account:1 (admin)")
	if err != nil {
		t.Fatal(err)
	}

	// The application's files: a small real PDF licence and a PNG cover.
	dir := t.TempDir()
	licence := filepath.Join(dir, "营业执照.pdf")
	if err := os.WriteFile(licence, minimalPDF(), 0o600); err != nil {
		t.Fatal(err)
	}
	cover := filepath.Join(dir, "cover.png")
	if err := os.WriteFile(cover, coverPNG(t), 0o600); err != nil {
		t.Fatal(err)
	}

	bctx := newBrowserFor(t, exe, 8*time.Minute, chromedp.WindowSize(1280, 1000))
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	var logs []*consoleLog
	tab := func() *h5Browser {
		tctx, cancel := chromedp.NewContext(bctx, chromedp.WithNewBrowserContext())
		t.Cleanup(cancel)
		logs = append(logs, watchConsole(tctx))
		return &h5Browser{t: t, e: e, ctx: tctx, step: stepper(t)}
	}
	phase := map[string]time.Duration{}
	var phases []string
	mark := func(name string, from time.Time) {
		phase[name] = time.Since(from)
		phases = append(phases, name)
	}

	// 1. An anonymous visitor applies.
	t0 := time.Now()
	const (
		legalName = "宁波走查商贸有限公司"
		adminUser = "walkshop-admin"
		adminPass = "walk-shop-pass-2026"
	)
	code := merchant.CompleteCreditCode("91330200" + merchant.OrganisationCode("7315284"+"6"))
	if _, err := merchant.CheckCreditCode(code); err != nil {
		t.Fatalf("the test's credit code %s: %v", code, err)
	}
	shopTab := tab()
	shop := shopTab.bounded
	shop().open("open the application form", "/merchants/apply")
	shop().do("fill in the application",
		chromedp.SendKeys(chromedp.ID("mc-legal"), legalName),
		chromedp.SendKeys(chromedp.ID("mc-code"), code),
		chromedp.SendKeys(chromedp.ID("mc-contact"), "王经理"),
		chromedp.SendKeys(chromedp.ID("mc-phone"), "13805740001"),
		chromedp.SendKeys(chromedp.ID("mc-admin"), adminUser),
		chromedp.SendKeys(chromedp.ID("mc-pw"), adminPass),
		chromedp.SendKeys(chromedp.ID("mc-pw2"), adminPass),
		chromedp.SetUploadFiles(chromedp.ID("mc-licence"), []string{licence}),
	)
	shop().click("apply", `#mc-apply button[type="submit"]`)
	if token := shop().text("read the applicant token", "#mc-applicant-token"); len(token) < 20 {
		t.Fatalf("after applying the page shows the token %q at %s:\n%s", token, shop().location(), shop().text("read the page", "main"))
	}
	mark("apply", t0)

	// 2. The reviewer finds the application in the queue and approves it.
	t0 = time.Now()
	reviewerTab := tab()
	reviewer := reviewerTab.bounded
	reviewer().login(loginFor(t, identity.OperatorReviewer), "/merchants")
	id, err := chromedp.Run(reviewer().ctx, chromedp.Evaluate[string](fmt.Sprintf(`[...document.querySelectorAll("#mc-queue tr[data-merchant]")]
		.find(tr => tr.innerText.includes(%q))?.dataset.merchant ?? ""`, legalName)))
	reviewer().step("find the application in the queue", err)
	merchantID, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		t.Fatalf("the queue has no row for %s:\n%s", legalName, reviewer().text("read the queue", "main"))
	}
	row := fmt.Sprintf(`#mc-queue tr[data-merchant="%d"]`, merchantID)
	if st := reviewer().attr("read the row's status", row, "data-status"); st != string(merchant.Applied) {
		t.Errorf("the application is %q in the queue, want applied", st)
	}
	reviewer().click("open the application", row+` a`)
	if papers := reviewer().text("read the papers", "#mc-papers tbody"); !strings.Contains(papers, "营业执照.pdf") || !strings.Contains(papers, "application/pdf") {
		t.Errorf("the application's papers read:\n%s", papers)
	}
	reviewer().click("approve the merchant", `#mc-approve button[type="submit"]`)
	if loc := reviewer().location(); loc != fmt.Sprintf("/merchants/%d?done=approve", merchantID) {
		t.Fatalf("after approving the reviewer is at %s", loc)
	}
	if st := reviewer().attr("read the merchant's status", "#mc-status", "data-status"); st != string(merchant.Approved) {
		t.Fatalf("after approving the merchant is %q", st)
	}
	mark("review the application", t0)

	// 3. The merchant's admin logs in and lands on its dashboard.
	t0 = time.Now()
	shop().open("open the login form", "/login")
	shop().do("fill the login form",
		chromedp.SendKeys(chromedp.ID("username"), adminUser),
		chromedp.SendKeys(chromedp.ID("password"), adminPass),
	)
	shop().click("log in", `form[action="/login"] button[type="submit"]`)
	if loc := shop().location(); loc != "/merchant" {
		t.Fatalf("after logging in the merchant's admin is at %s, want the dashboard /merchant", loc)
	}
	if n := shop().count("count the campaigns", "#merchant-campaigns tr[data-campaign]"); n != 0 {
		t.Errorf("a new merchant's dashboard lists %d campaigns", n)
	}
	shop().wantStat("the new dashboard", "#merchant-totals", "claimed", "乘客领取", "0")
	mark("merchant login", t0)

	// 4. A product and a draft campaign from the template, with a cover.
	t0 = time.Now()
	shop().click("open the campaigns", `nav a[href="/merchant/campaigns"]`)
	shop().open("open the new-campaign form", "/merchant/campaigns/new")
	shop().click("choose the template", fmt.Sprintf(`#templates tr[data-template="%d"] a.template-link`, tpl.ID))
	// The form's name is the product's and the campaign's.
	const product = "走查单程票"
	shop().do("fill in the campaign",
		chromedp.SendKeys(chromedp.ID("c-name-zh"), product),
		chromedp.SendKeys(chromedp.ID("c-name-en"), "Walk single ride"),
		chromedp.SendKeys(chromedp.ID("c-text"), "开业大吉"),
		chromedp.SetUploadFiles(chromedp.ID("c-image"), []string{cover}),
	)
	shop().click("create the campaign", `#campaign-submit`)
	campaignPage := shop().location()
	m := regexp.MustCompile(`^/merchant/campaigns/(\d+)$`).FindStringSubmatch(campaignPage)
	if m == nil {
		t.Fatalf("after creating the campaign the browser is at %s:\n%s", campaignPage, shop().text("read the page", "main"))
	}
	campaignID, _ := strconv.ParseInt(m[1], 10, 64)
	if st := shop().attr("read the campaign's status", "#campaign-status", "data-status"); st != string(benefits.Draft) {
		t.Errorf("the new campaign is %q, want draft", st)
	}
	shop().waitImage("the cover", "#cover-image")
	shop().wantStat("the new campaign", "#campaign-stats", "stock_left", "剩余库存（张）", "0")
	mark("create the campaign", t0)

	// Buy 5 tickets: the sandbox's payment page, then back on the purchase.
	t0 = time.Now()
	shop().click("open the purchases", `nav a[href="/merchant/purchases"]`)
	shop().do("fill in the order",
		chromedp.SetValue(chromedp.ID("buy-campaign"), strconv.FormatInt(campaignID, 10)),
		chromedp.SendKeys(chromedp.ID("buy-tickets"), "5"),
	)
	shop().click("order the stock", `#buy-submit`)
	if loc := shop().location(); !strings.HasPrefix(loc, "/sandbox/pay/") {
		t.Fatalf("the order went to %s, want the sandbox's payment page", loc)
	}
	shop().click("支付 on the sandbox page", `button[name="action"][value="pay"]`)
	purchasePage := shop().location()
	if !regexp.MustCompile(`^/merchant/purchases/\d+\?payment_id=`).MatchString(purchasePage) {
		t.Fatalf("after paying the browser is at %s, want the purchase's page", purchasePage)
	}
	// The notification is asynchronous; a pending purchase's page reloads
	// itself until it says paid.
	shop().wait("the purchase paid", `#purchase-status[data-status="paid"]`)
	if total := shop().text("read the total", `#purchase-facts dd[data-stat="total"]`); total != "¥10.00" {
		t.Errorf("the purchase's total is %q, want ¥10.00 (5 × ¥2.00)", total)
	}
	mark("purchase", t0)

	// Submit the campaign for review.
	t0 = time.Now()
	shop().open("open the campaign", campaignPage)
	shop().wantStat("the campaign after the purchase", "#campaign-stats", "stock_left", "剩余库存（张）", "5")
	shop().click("submit the campaign", `#do-submit`)
	if st := shop().attr("read the submitted status", "#campaign-status", "data-status"); st != string(benefits.Submitted) {
		t.Fatalf("after submitting the campaign is %q", st)
	}
	mark("submit", t0)

	// 5. The reviewer approves it: four eyes, the merchant's admin made it.
	t0 = time.Now()
	reviewer().open("open the merchant's campaign", fmt.Sprintf("/benefits/campaigns/%d", campaignID))
	reviewer().click("approve the campaign", `#do-approve`)
	if st := reviewer().attr("read the approved status", "#campaign-status", "data-status"); st != string(benefits.Active) {
		t.Fatalf("after approval the campaign is %q, want active (it starts now)", st)
	}
	mark("approve the campaign", t0)

	// 6. The passenger opens the claim link, logs in, claims.
	t0 = time.Now()
	riderTab := tab()
	rider := riderTab.bounded
	rider().do("phone viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulatePortrait))
	claimPath := fmt.Sprintf("/h5/campaigns/%d", campaignID)
	rider().open("open the claim link", claimPath)
	if left := rider().text("read what is left", "#campaign-left"); !strings.Contains(left, "剩余 5 张") {
		t.Errorf("the claim page says %q, want 5 left", left)
	}
	rider().waitImage("the brand cover on the claim page", "#campaign-cover")
	rider().click("log in to claim", "#claim-login")
	passenger := loginFor(t, identity.Passenger)
	rider().do("fill the login form",
		chromedp.SendKeys(chromedp.ID("username"), passenger.Username),
		chromedp.SendKeys(chromedp.ID("password"), passenger.Password),
	)
	rider().click("log in", `form[action="/login"] button[type="submit"]`)
	if loc := rider().location(); loc != claimPath {
		t.Fatalf("after logging in the passenger is at %s, want back at %s", loc, claimPath)
	}
	rider().click("claim", "#claim-submit")
	if loc := rider().location(); loc != "/h5/wallet?done=claimed" {
		t.Fatalf("after claiming the passenger is at %s:\n%s", loc, rider().text("read the page", "main"))
	}
	if wallet := rider().text("read the wallet", "#wallet-tickets"); !strings.Contains(wallet, product) {
		t.Errorf("the wallet lacks %s:\n%s", product, wallet)
	}
	mark("claim", t0)

	// 7. The merchant's dashboard shows the claim; the stock went down by one.
	t0 = time.Now()
	shop().open("open the dashboard", "/merchant")
	shop().wantStat("the dashboard's totals", "#merchant-totals", "claimed", "乘客领取", "1")
	shop().wantStat("the dashboard's totals", "#merchant-totals", "issued", "已发放", "1")
	shop().wantStat("the dashboard's totals", "#merchant-totals", "stock_left", "剩余库存（张）", "4")
	campaignRow := fmt.Sprintf(`#merchant-campaigns tr[data-campaign="%d"]`, campaignID)
	for stat, want := range map[string]string{"claimed": "1", "stock": "5", "stock_left": "4"} {
		if got := shop().text("read the campaign's "+stat, campaignRow+` td[data-stat="`+stat+`"]`); got != want {
			t.Errorf("the dashboard's row of the campaign shows %s %q, want %s", stat, got, want)
		}
	}
	if name := shop().text("read the campaign's name", campaignRow+` th`); name != product {
		t.Errorf("the dashboard names the campaign %q, want %s", name, product)
	}
	if path := os.Getenv("PIAO_TEST_WALK_SCREENSHOT"); path != "" {
		png, err := chromedp.Run(shop().ctx, chromedp.FullScreenshot(100))
		shop().step("screenshot", err)
		shop().step("write screenshot", os.WriteFile(path, png, 0o644))
	}
	shop().open("open the campaign", campaignPage)
	shop().wantStat("the campaign after the claim", "#campaign-stats", "stock_left", "剩余库存（张）", "4")
	shop().wantStat("the campaign after the claim", "#campaign-stats", "claimed", "乘客领取", "1")
	mark("dashboard", t0)

	for _, l := range logs {
		if p := l.problems(); len(p) > 0 {
			t.Errorf("the browser console reported:\n%s", strings.Join(p, "\n"))
		}
	}
	var took []string
	for _, name := range phases {
		took = append(took, fmt.Sprintf("%s %.1fs", name, phase[name].Seconds()))
	}
	t.Logf("the walk took %.1fs: %s", time.Since(began).Seconds(), strings.Join(took, ", "))
}

// do runs actions as one step.
func (b *h5Browser) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	b.step(what, chromedp.Do(b.ctx, actions...))
}

// bounded is the tab with each of its steps bounded by walkWait, and a
// failed step reporting where the browser was and what the page said.
func (b *h5Browser) bounded() *h5Browser {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, walkWait)
	b.t.Cleanup(cancel)
	return &h5Browser{t: b.t, e: b.e, ctx: ctx, step: func(what string, err error) {
		b.t.Helper()
		if err == nil {
			return
		}
		peek, cancel := context.WithTimeout(b.ctx, 10*time.Second)
		defer cancel()
		loc, _ := chromedp.Run(peek, chromedp.Location())
		text, _ := chromedp.Run(peek, chromedp.Evaluate[string](`document.body?.innerText ?? ""`))
		b.t.Fatalf("%s: %v\nat %s:\n%s", what, err, loc, text)
	}}
}

// wait waits, up to walkWait, for what sel finds to be visible, reloads
// of the page (a pending purchase's refresh) included.
func (b *h5Browser) wait(what, sel string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, walkWait)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(sel))); err != nil {
		b.t.Fatalf("waiting for %s (%s) at %s: %v", what, sel, b.location(), err)
	}
}

// attr is an attribute of what sel finds, "" without it.
func (b *h5Browser) attr(what, sel, name string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](fmt.Sprintf(`document.querySelector(%q)?.getAttribute(%q) ?? ""`, sel, name)))
	b.step(what, err)
	return s
}

// waitImage waits until the image sel finds has loaded, with a size.
func (b *h5Browser) waitImage(what, sel string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, walkWait)
	defer cancel()
	js := fmt.Sprintf(`(() => { const i = document.querySelector(%q); return !!i && i.complete && i.naturalWidth > 0; })()`, sel)
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](js, chromedp.WithPollingInterval(100*time.Millisecond))); err != nil {
		b.t.Fatalf("%s (%s) did not load at %s: %v", what, sel, b.location(), err)
	}
}

// wantStat checks a figure of a facts list as the page shows it: the
// <dd data-stat=stat> under facts reads want, and the term before it label.
func (b *h5Browser) wantStat(what, facts, stat, label, want string) {
	b.t.Helper()
	sel := facts + ` dd[data-stat="` + stat + `"]`
	got, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]string](fmt.Sprintf(`(() => {
		const dd = document.querySelector(%q);
		return dd ? [dd.previousElementSibling?.innerText ?? "", dd.innerText] : [];
	})()`, sel)))
	b.step(what+": read "+stat, err)
	if len(got) != 2 {
		b.t.Fatalf("%s: no %s at %s", what, sel, b.location())
	}
	if strings.TrimSpace(got[0]) != label || strings.TrimSpace(got[1]) != want {
		b.t.Errorf("%s: %s reads %q %q, want %q %q", what, stat, got[0], got[1], label, want)
	}
}

// minimalPDF is a one-page PDF, the smallest a reader accepts: header,
// catalog, pages, page, cross-reference table with exact offsets.
func minimalPDF() []byte {
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
	}
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n")
	offsets := make([]int, len(objs))
	for i, o := range objs {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, xref)
	return b.Bytes()
}

// coverPNG is a small brand image: a 64×32 two-colour PNG.
func coverPNG(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 64, 32))
	for x := range 64 {
		for y := range 32 {
			c := color.RGBA{0xc8, 0x10, 0x2e, 0xff}
			if x >= 32 {
				c = color.RGBA{0xff, 0xd7, 0x00, 0xff}
			}
			img.Set(x, y, c)
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
