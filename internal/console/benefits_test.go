package console_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"piao/internal/benefits"
	"piao/internal/demo"
	"piao/internal/identity"
	"piao/internal/tenant"
)

// campaignFromLocation reads the campaign ID from a /benefits/campaigns/N address.
func campaignFromLocation(t *testing.T, loc string) int64 {
	t.Helper()
	m := regexp.MustCompile(`^/benefits/campaigns/(\d+)$`).FindStringSubmatch(loc)
	if m == nil {
		t.Fatalf("not a campaign page: %q", loc)
	}
	id, _ := strconv.ParseInt(m[1], 10, 64)
	return id
}

// Without a browser: a product form with a bad discount is refused with
// the reason and keeps what was typed; a good one leads to the campaign
// form; the reviewer approves, the passenger claims; every page has all
// its messages in both languages.
func TestBenefitsPages(t *testing.T) {
	e := newEnv(t)
	admin := e.client(t)
	admin.login(loginFor(t, identity.OperatorAdmin))
	csrf := admin.csrfFor("/benefits")
	resp, body := admin.post("/benefits/products", url.Values{"csrf": {csrf}, "kind": {"percentage"}, "name_zh": {"八折券"}, "percent_off": {"150"}, "days": {"10"}})
	wantStatus(t, resp, body, http.StatusUnprocessableEntity)
	wantContains(t, body, "折扣应在 1% 至 100% 之间", `value="八折券"`)

	resp, body = admin.post("/benefits/products", url.Values{"csrf": {csrf}, "kind": {"percentage"}, "name_zh": {"八折券"}, "percent_off": {"20"}, "cap": {"1.5"},
		"days": {"10"}, "stations": {"nbmetro:GL, nbmetro:DMK"}, "theme": {"wedding"}, "cover_text": {"百年好合"}})
	wantStatus(t, resp, body, http.StatusSeeOther)
	loc := resp.Header.Get("Location")
	if !strings.HasPrefix(loc, "/benefits/campaigns/new?product=") {
		t.Fatalf("after the product: %q", loc)
	}
	pid := strings.TrimPrefix(loc, "/benefits/campaigns/new?product=")
	p, err := e.app.Benefits.Product(context.Background(), tenant.All(), mustInt(t, pid))
	if err != nil || p.Terms.PercentOff != 20 || p.Terms.Cap != 150 || len(p.Scope.Stations) != 2 || p.Cover.Text != "百年好合" {
		t.Fatalf("stored product %+v, %v", p, err)
	}
	resp, body = admin.get(loc)
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, "八折券", `selected`)
	// The scope names its stations, in the page's language.
	_, body = admin.get("/benefits")
	wantContains(t, body, "车站 鼓楼、东门口")
	admin.get("/lang?to=en")
	_, body = admin.get("/benefits")
	wantContains(t, body, "Stations Gulou, Dongmenkou")
	admin.get("/lang?to=zh")

	now := time.Now().In(shanghaiLoc(t))
	form := url.Values{"csrf": {csrf}, "product": {pid}, "name_zh": {"婚礼季"}, "starts": {now.Add(-time.Minute).Format("2006-01-02T15:04")},
		"ends": {now.Add(48 * time.Hour).Format("2006-01-02T15:04")}, "claim": {"1"}, "stock": {"2"}, "per_user": {"1"}}
	bad := url.Values{}
	for k, v := range form {
		bad[k] = v
	}
	bad.Set("stock", "0")
	resp, body = admin.post("/benefits/campaigns", bad)
	wantStatus(t, resp, body, http.StatusUnprocessableEntity)
	wantContains(t, body, "库存应在 1 至 10000000 之间")
	resp, body = admin.post("/benefits/campaigns", form)
	wantStatus(t, resp, body, http.StatusSeeOther)
	page := resp.Header.Get("Location")
	id := campaignFromLocation(t, page)
	resp, body = admin.post(page+"/submit", url.Values{"csrf": {csrf}})
	wantStatus(t, resp, body, http.StatusSeeOther)
	resp, body = admin.post(page+"/approve", url.Values{"csrf": {csrf}})
	wantStatus(t, resp, body, http.StatusForbidden) // four eyes
	wantContains(t, body, "不能审批自己创建的活动")

	reviewer := e.client(t)
	reviewer.login(loginFor(t, identity.OperatorReviewer))
	rcsrf := reviewer.csrfFor("/benefits")
	resp, body = reviewer.post(page+"/reject", url.Values{"csrf": {rcsrf}, "reason": {""}})
	wantStatus(t, resp, body, http.StatusUnprocessableEntity)
	resp, body = reviewer.post(page+"/approve", url.Values{"csrf": {rcsrf}})
	wantStatus(t, resp, body, http.StatusSeeOther)
	resp, body = reviewer.get(page)
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, `data-status="active"`, "进行中", `id="do-pause"`, `id="do-terminate"`, "婚礼季")
	// Nothing issued yet: the chart says there is no data instead of an empty box.
	wantContains(t, body, `<p class="chart-empty" role="note">暂无数据</p>`)
	if strings.Contains(body, `id="bn-stats-chart"`) {
		t.Error("a campaign without issues or rides has a chart box")
	}

	cl := e.passenger(t)
	pcsrf := cl.csrfFor("/h5/wallet")
	resp, body = cl.get("/h5/wallet")
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, fmt.Sprintf(`id="claim-%d"`, id), "婚礼季")
	resp, body = cl.post(fmt.Sprintf("/h5/campaigns/%d/claim", id), url.Values{"csrf": {pcsrf}})
	wantStatus(t, resp, body, http.StatusSeeOther)
	resp, body = cl.get(resp.Header.Get("Location"))
	wantContains(t, body, "领取成功", `data-status="usable"`, "百年好合", "减免 20%")
	if _, body = reviewer.get(page); !strings.Contains(body, `id="bn-stats-chart"`) || strings.Contains(body, "chart-empty") {
		t.Error("after a claim the campaign page has no chart to draw it")
	}
	resp, body = cl.post(fmt.Sprintf("/h5/campaigns/%d/claim", id), url.Values{"csrf": {pcsrf}})
	wantStatus(t, resp, body, http.StatusTooManyRequests)
	wantContains(t, body, "每人限领 1 张")
	resp, body = cl.post("/h5/redeem", url.Values{"csrf": {pcsrf}, "code": {"12345-67890-ABCDE"}})
	if resp.StatusCode != http.StatusUnprocessableEntity && resp.StatusCode != http.StatusNotFound {
		t.Errorf("a made-up code: %d", resp.StatusCode)
	}
	wantContains(t, body, `value="12345-67890-ABCDE"`)

	resp, body = reviewer.post(page+"/pause", url.Values{"csrf": {rcsrf}, "reason": {"核查"}})
	wantStatus(t, resp, body, http.StatusSeeOther)
	if _, body = cl.get("/h5/wallet"); strings.Contains(body, fmt.Sprintf(`id="claim-%d"`, id)) {
		t.Errorf("a paused campaign is still offered for claiming")
	}
	resp, body = reviewer.get(page + "/stats.csv")
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, "hour,issued,rides", "total,1,0")

	noMissingMessages(t, admin, "/benefits", "/benefits/products/new", "/benefits/campaigns/new", page)
	noMissingMessages(t, cl, "/h5/wallet")
}

func mustInt(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestBrowserBenefits drives headless Chromium through C1 and C3: the
// operator defines a product and a campaign with codes and submits it, the
// reviewer approves it, a passenger claims a ticket, redeems a code typed
// loosely, and gifts a ticket with a cover, which another passenger
// accepts.
func TestBrowserBenefits(t *testing.T) {
	e := newEnv(t)
	b := newH5Browser(t, e)
	b.login(loginFor(t, identity.OperatorAdmin), "/benefits/products/new")
	b.step("fill the product", chromedp.Do(b.ctx,
		chromedp.SetValue(chromedp.ID("p-kind"), "amount_off"),
		chromedp.SendKeys(chromedp.ID("p-name-zh"), "两元乘车券"),
		chromedp.SendKeys(chromedp.ID("p-amount"), "2"),
		chromedp.SetValue(chromedp.ID("p-days"), "30"),
		chromedp.SetValue(chromedp.ID("p-theme"), "event"),
	))
	b.click("create the product", "#product-submit")
	if loc := b.location(); !strings.HasPrefix(loc, "/benefits/campaigns/new?product=") {
		t.Fatalf("after the product the browser is at %s", loc)
	}
	b.step("fill the campaign", chromedp.Do(b.ctx,
		chromedp.SendKeys(chromedp.ID("c-name-zh"), "地铁节"),
		chromedp.Click(chromedp.ID("c-code")),
		chromedp.SetValue(chromedp.ID("c-stock"), "10"),
		chromedp.SetValue(chromedp.ID("c-per-user"), "3"),
	))
	b.click("create the campaign", "#campaign-submit")
	page := b.location()
	id := campaignFromLocation(t, page)
	b.campaignStatus("draft")
	b.step("ask for 5 codes", chromedp.Do(b.ctx, chromedp.SetValue(chromedp.ID("codes-count"), "5")))
	b.click("generate codes", "#codes-generate")
	b.click("submit for review", "#do-submit")
	b.campaignStatus("submitted")

	// On a desktop the review forms sit side by side: 批准, which needs
	// no reason, keeps a button's height beside 驳回's reason box.
	b.step("desktop viewport", chromedp.Do(b.ctx, chromedp.EmulateViewport(1280, 900)))
	b.switchUser(loginFor(t, identity.OperatorReviewer), page)
	heights, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]float64](`["do-approve", "do-reject"].map(id => document.getElementById(id).getBoundingClientRect().height)`))
	b.step("measure the review buttons", err)
	if len(heights) != 2 || heights[0] <= 0 || heights[0] > 1.5*heights[1] {
		t.Errorf("the approve and reject buttons are %v px tall: approve is stretched", heights)
	}
	b.step("phone viewport", chromedp.Do(b.ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulatePortrait)))
	b.click("approve", "#do-approve")
	b.campaignStatus("active")
	if audit := b.text("read the audit trail", "#audit"); !strings.Contains(audit, "批准") || !strings.Contains(audit, "提交审核") {
		t.Errorf("audit trail:\n%s", audit)
	}

	batches, err := e.app.Benefits.CodeBatches(context.Background(), tenant.All(), id)
	if err != nil || len(batches) != 1 {
		t.Fatalf("code batches: %v, %v", batches, err)
	}
	var code string
	e.app.Benefits.Codes(context.Background(), tenant.All(), batches[0].ID, func(r benefits.CodeRow) error {
		if code == "" {
			code = r.Code
		}
		return nil
	})

	b.switchUser(loginFor(t, identity.Passenger), "/h5/wallet")
	b.click("claim", fmt.Sprintf("#claim-%d", id))
	if n := b.text("read the notice", "#wallet-notice"); !strings.Contains(n, "领取成功") {
		t.Errorf("after claiming: %q", n)
	}
	typed := strings.ToLower(code[:5] + " " + code[5:10] + " " + code[10:])
	b.step("type the code", chromedp.Do(b.ctx, chromedp.SendKeys(chromedp.ID("redeem-code"), typed)))
	b.click("redeem", "#redeem-submit")
	if n := b.text("read the notice", "#wallet-notice"); !strings.Contains(n, "兑换成功") {
		t.Errorf("after redeeming %q: %q", typed, n)
	}
	tickets := b.text("read the wallet", "#wallet-tickets")
	if strings.Count(tickets, "两元乘车券") != 2 || !strings.Contains(tickets, "可使用") {
		t.Errorf("wallet:\n%s", tickets)
	}
	b.click("gift the first ticket", "#wallet-tickets .gift-link")
	b.step("write the cover", chromedp.Do(b.ctx,
		chromedp.SetValue(chromedp.ID("gift-theme"), "graduation"),
		chromedp.SendKeys(chromedp.ID("gift-text"), "毕业快乐"),
		chromedp.SendKeys(chromedp.ID("gift-message"), "一路顺风"),
	))
	b.click("create the gift", "#gift-submit")
	giftPage := b.location()
	if !strings.HasPrefix(giftPage, "/h5/gifts/") || !strings.Contains(b.text("read the link", "#gift-link"), giftPage) {
		t.Fatalf("gift page %s", giftPage)
	}

	_, friend := e.newPassenger(t, "bn-friend")
	b.switchUser(friend, giftPage)
	if card := b.text("read the gift", "#gift-card"); !strings.Contains(card, "毕业快乐") || !strings.Contains(card, "一路顺风") {
		t.Errorf("the gift card:\n%s", card)
	}
	b.click("accept", "#gift-accept")
	if n := b.text("read the notice", "#wallet-notice"); !strings.Contains(n, "已接受赠送") {
		t.Errorf("after accepting: %q", n)
	}
	if tickets := b.text("read the friend's wallet", "#wallet-tickets"); strings.Count(tickets, "两元乘车券") != 1 {
		t.Errorf("friend's wallet:\n%s", tickets)
	}
	st, err := e.app.Benefits.Stats(context.Background(), tenant.All(), id)
	if err != nil || st.Issued != 2 || st.ByChannel[benefits.ClaimChannel] != 1 || st.ByChannel[benefits.CodeChannel] != 1 || st.Holders != 2 || st.CodesRedeemed != 1 {
		t.Errorf("stats after the walk: %+v, %v", st, err)
	}
}

// switchUser forgets the session and logs in as l on path.
func (b *h5Browser) switchUser(l demo.Login, path string) {
	b.t.Helper()
	_, err := chromedp.Call(b.ctx, network.ClearBrowserCookies, cdp.Empty{})
	b.step("clear cookies", err)
	b.login(l, path)
}

// campaignStatus checks the campaign page's status.
func (b *h5Browser) campaignStatus(want string) {
	b.t.Helper()
	got, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.querySelector("#campaign-status")?.dataset.status ?? ""`))
	b.step("read the campaign status", err)
	if got != want {
		b.t.Fatalf("campaign %s is %q, want %q", b.location(), got, want)
	}
}

// TestBenefitsPrintSheet prints a batch of paper tickets: 100 codes to a
// sheet, each with its QR image, and a second sheet for the rest.
func TestBenefitsPrintSheet(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	now := time.Now()
	p, err := e.app.Benefits.CreateProduct(ctx, tenant.All(), benefits.Product{Kind: benefits.PaperQR, NameZH: "纸质单程票", Feed: "nbmetro", Valid: benefits.Validity{Days: 10}}, "operator", "account:1 (admin)")
	if err != nil {
		t.Fatal(err)
	}
	c, err := e.app.Benefits.CreateCampaign(ctx, tenant.All(), benefits.Campaign{ProductID: p.ID, NameZH: "展会", Starts: now, Ends: now.Add(time.Hour), Channels: []benefits.Channel{benefits.CodeChannel}, Stock: 200}, "operator", "account:1 (admin)")
	if err != nil {
		t.Fatal(err)
	}
	b, err := e.app.Benefits.GenerateCodes(ctx, tenant.All(), c.ID, 150, "account:1 (admin)")
	if err != nil {
		t.Fatal(err)
	}
	admin := e.client(t)
	admin.login(loginFor(t, identity.OperatorAdmin))
	sheet := fmt.Sprintf("/benefits/campaigns/%d/code-batches/%d/print", c.ID, b.ID)
	resp, body := admin.get(sheet)
	wantStatus(t, resp, body, http.StatusOK)
	if n := strings.Count(body, `src="data:image/png;base64,`); n != 100 {
		t.Errorf("first sheet has %d QR images, want 100", n)
	}
	wantContains(t, body, "纸质单程票", "第 1 / 2 页（本批 150 张）", `rel="next"`)
	resp, body = admin.get(sheet + "?page=2")
	wantStatus(t, resp, body, http.StatusOK)
	if n := strings.Count(body, `class="print-card"`); n != 50 {
		t.Errorf("second sheet has %d cards, want 50", n)
	}
	var first string
	e.app.Benefits.Codes(ctx, tenant.All(), b.ID, func(r benefits.CodeRow) error {
		if first == "" {
			first = benefits.DisplayCode(r.Code)
		}
		return nil
	})
	if _, body := admin.get(sheet); !strings.Contains(body, first) {
		t.Errorf("the first sheet lacks the first code %s", first)
	}
	if resp, _ := admin.get(fmt.Sprintf("/benefits/campaigns/%d/code-batches/%d/print", c.ID, b.ID+99)); resp.StatusCode != http.StatusNotFound {
		t.Errorf("another batch: %d", resp.StatusCode)
	}
	noMissingMessages(t, admin, sheet)

	// The campaign page links the sheets and the CSV to who may open them
	// (benefits:write), not to a reviewer who would be refused.
	page := fmt.Sprintf("/benefits/campaigns/%d", c.ID)
	admin.get("/lang?to=zh")
	_, body = admin.get(page)
	wantContains(t, body, `href="`+sheet+`" class="codes-print"`, `class="codes-csv"`)
	reviewer := e.as(t, identity.OperatorReviewer)
	resp, body = reviewer.get(page)
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, fmt.Sprintf(`<tr data-batch="%d">`, b.ID))
	if strings.Contains(body, "codes-print") || strings.Contains(body, "codes-csv") {
		t.Error("a reviewer is offered the code sheets and CSV, which it may not open")
	}
	if resp, _ := reviewer.get(sheet); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a reviewer opens the sheet: %d", resp.StatusCode)
	}
}
