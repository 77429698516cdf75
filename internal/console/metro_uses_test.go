package console_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"piao/internal/benefits"
	"piao/internal/identity"
	"piao/internal/metro"
	"piao/internal/tenant"
)

// seedFreeRideDay stores a running free-ride campaign for line 3 and
// settles trips on it: 12 on line 3 (free) at three hours, 5 on line 1.
func seedFreeRideDay(t *testing.T, e *env) int64 {
	t.Helper()
	ctx := context.Background()
	bs := e.app.BenefitsStore
	now := time.Now()
	p := benefits.Product{Owner: "operator", Kind: benefits.FixedPrice, NameZH: "3号线免费乘车日", NameEN: "Line 3 free-ride day", Feed: "nbmetro",
		Terms: benefits.Terms{FixedPrice: 0, Exclusive: true}, Scope: benefits.Scope{Lines: []string{"nbmetro:L3"}}, Valid: benefits.Validity{Days: 1}, CreatedBy: "test", CreatedAt: now}
	if err := bs.CreateProduct(ctx, tenant.All(), &p); err != nil {
		t.Fatal(err)
	}
	day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, benefits.Shanghai).AddDate(0, 0, -1)
	c := benefits.Campaign{ProductID: p.ID, Owner: "operator", NameZH: "3号线免费乘车日", NameEN: "Line 3 free-ride day", Status: benefits.Approved,
		Starts: day, Ends: day.AddDate(0, 0, 1), Channels: []benefits.Channel{benefits.AutoChannel}, CreatedBy: "test", CreatedAt: now, UpdatedAt: now}
	if err := bs.CreateCampaign(ctx, tenant.All(), &c, benefits.Event{At: now, By: "test", Action: "create", To: benefits.Approved}); err != nil {
		t.Fatal(err)
	}
	var trips []metro.Trip
	for i := range 17 {
		tr := metro.Trip{ID: fmt.Sprintf("t-free-%02d", i), Feed: "nbmetro", Account: int64(7000 + i), Status: metro.Complete, Metres: 5900, Fare: 300}
		switch {
		case i < 6:
			tr.From, tr.To, tr.FromLine, tr.ToLine = "nbmetro:GTQ", "nbmetro:NBHCZ", "nbmetro:L3", "nbmetro:L3"
			tr.Entered = day.Add(8*time.Hour + time.Duration(i)*time.Minute)
		case i < 12:
			tr.From, tr.To, tr.FromLine, tr.ToLine = "nbmetro:NBHCZ", "nbmetro:QHBL", "nbmetro:L3", "nbmetro:L3"
			tr.Entered = day.Add(time.Duration(17+i%2)*time.Hour + 10*time.Minute)
		default:
			tr.From, tr.To, tr.FromLine, tr.ToLine = "nbmetro:GL", "nbmetro:DMK", "nbmetro:L1", "nbmetro:L1"
			tr.Entered = day.Add(9 * time.Hour)
		}
		tr.Exited = tr.Entered.Add(20 * time.Minute)
		trips = append(trips, tr)
	}
	if _, err := e.app.MetroStore.AddTrips(ctx, trips, nil); err != nil {
		t.Fatal(err)
	}
	if rep, err := metro.Settle(ctx, e.app.MetroStore, "nbmetro", metro.SettleOptions{}); err != nil || rep.Trips != 17 {
		t.Fatalf("settle: %+v, %v", rep, err)
	}
	return c.ID
}

func TestCampaignUsesPage(t *testing.T) {
	e := newEnv(t)
	id := seedFreeRideDay(t, e)
	path := "/benefits/campaigns/" + strconv.FormatInt(id, 10) + "/uses"
	admin := e.client(t)
	admin.login(loginFor(t, identity.OperatorAdmin))
	resp, body := admin.get(path)
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, `data-stat="trips">12<`, `data-stat="saving">¥36.00<`, "高塘桥", "宁波火车站", "钱湖北路", `<th scope="row">8:00</th><td class="num">6</td>`)
	if strings.Contains(body, "鼓楼") {
		t.Error("line 1 trips paid full fare, yet Gulou is listed")
	}
	resp, body = admin.get(path + "?from=2026-12-10&until=2026-12-01")
	wantStatus(t, resp, body, http.StatusBadRequest)
	wantContains(t, body, `id="uses-invalid"`)
	resp, body = admin.get(path + "?from=2020-01-01&until=2020-01-02")
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, `id="uses-none"`)
	resp, body = admin.get("/benefits/campaigns/" + strconv.FormatInt(id, 10))
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, `id="uses-link"`)

	passenger := e.client(t)
	passenger.login(loginFor(t, identity.Passenger))
	resp, body = passenger.get(path)
	wantStatus(t, resp, body, http.StatusForbidden)
}

// TestMetroIndex: the metro statistics page, in the menu of the roles
// that may read metro trips, lists the campaigns whose benefit trips used
// (the automatic free-ride day) with their totals and links to each; a
// campaign nobody rode on is left out.
func TestMetroIndex(t *testing.T) {
	e := newEnv(t)
	id := seedFreeRideDay(t, e)
	ctx, now := context.Background(), time.Now()
	bs := e.app.BenefitsStore
	p := benefits.Product{Owner: "operator", Kind: benefits.AmountOff, NameZH: "两元券", Feed: "nbmetro", Terms: benefits.Terms{AmountOff: 200},
		Valid: benefits.Validity{Days: 10}, CreatedBy: "test", CreatedAt: now}
	if err := bs.CreateProduct(ctx, tenant.All(), &p); err != nil {
		t.Fatal(err)
	}
	unused := benefits.Campaign{ProductID: p.ID, Owner: "operator", NameZH: "无人使用", Status: benefits.Approved, Starts: now.Add(-time.Hour), Ends: now.Add(time.Hour),
		Channels: []benefits.Channel{benefits.ClaimChannel}, Stock: 10, CreatedBy: "test", CreatedAt: now, UpdatedAt: now}
	if err := bs.CreateCampaign(ctx, tenant.All(), &unused, benefits.Event{At: now, By: "test", Action: "create", To: benefits.Approved}); err != nil {
		t.Fatal(err)
	}

	for _, role := range identity.Roles {
		cl := e.client(t)
		cl.login(loginFor(t, role))
		allowed := identity.Allowed(role, identity.MetroRead)
		if _, body := cl.get("/network"); slices.Contains(navLinks(body), "/metro") != allowed {
			t.Errorf("%s: the menu's links %v, want /metro in them: %v", role, navLinks(body), allowed)
		}
		want := http.StatusForbidden
		if allowed {
			want = http.StatusOK
		}
		resp, body := cl.get("/metro")
		wantStatus(t, resp, body, want)
	}
	auditor := e.client(t)
	auditor.login(loginFor(t, identity.OperatorAuditor))
	resp, body := auditor.get("/metro")
	wantStatus(t, resp, body, http.StatusOK)
	uses := "/benefits/campaigns/" + strconv.FormatInt(id, 10) + "/uses"
	wantContains(t, body, `<a href="/metro" aria-current="page">乘车优惠统计</a>`, fmt.Sprintf(`<tr data-campaign="%d" data-automatic="true">`, id),
		`<a href="`+uses+`" class="uses-link">3号线免费乘车日</a>`, `data-stat="trips">12<`, `data-stat="saving">¥36.00<`, "自动享受")
	if strings.Contains(body, "无人使用") {
		t.Error("a campaign no trip used is listed")
	}
	// The campaign's page leads back to the list.
	_, body = auditor.get(uses)
	wantContains(t, body, `<a href="/metro" id="uses-index">`)
	auditor.get("/lang?to=en")
	_, body = auditor.get("/metro")
	wantContains(t, body, "<h1>Benefit use on metro trips</h1>", "Line 3 free-ride day", "Automatic")
}

// TestBrowserFreeRideStats opens the free-ride statistics page from the
// campaign in Chromium and checks the charts are drawn beside the tables.
func TestBrowserFreeRideStats(t *testing.T) {
	e := newEnv(t)
	id := seedFreeRideDay(t, e)
	b := newH5Browser(t, e)
	b.login(loginFor(t, identity.OperatorAdmin), "/benefits/campaigns/"+strconv.FormatInt(id, 10))
	b.click("open the statistics by station and hour", "#uses-link")
	if loc := b.location(); !strings.HasSuffix(loc, "/uses") {
		t.Fatalf("at %s", loc)
	}
	if got := b.text("trips", `#uses-total [data-stat="trips"]`); got != "12" {
		t.Fatalf("trips shown %q, want 12", got)
	}
	drawn, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]string](`["uses-hour-chart","uses-entry-chart","uses-exit-chart"].map(id => (document.getElementById(id).dataset.drawn || "") + ":" + document.getElementById(id).querySelectorAll("canvas").length)`))
	b.step("charts", err)
	for _, d := range drawn {
		if d != "true:1" {
			t.Fatalf("charts drawn %v, want each with one canvas", drawn)
		}
	}
	first := b.text("busiest entry", "#uses-entries tbody tr:first-child th")
	if first != "高塘桥" && first != "宁波火车站" {
		t.Fatalf("busiest entry station %q", first)
	}
}

// TestAutomaticCampaignStats: an automatic campaign issues no tickets, so
// its page counts the riders it reached, the rides and the savings from
// settled trips, and neither it nor the campaign list shows issued / stock.
func TestAutomaticCampaignStats(t *testing.T) {
	e := newEnv(t)
	id := seedFreeRideDay(t, e)
	cl := e.client(t)
	cl.login(loginFor(t, identity.OperatorAuditor))
	resp, body := cl.get("/benefits/campaigns/" + strconv.FormatInt(id, 10))
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, "自动活动不发券", "<dt>受惠乘客</dt><dd data-stat=\"holders\">12</dd>", `data-stat="rides">12<`, `data-stat="spent">¥36.00<`, "首次受惠乘客")
	for _, never := range []string{`data-stat="issued"`, `data-stat="conversion"`, `data-stat="codes"`} {
		if strings.Contains(body, never) {
			t.Errorf("the automatic campaign's page shows %s", never)
		}
	}
	_, body = cl.get("/benefits")
	row := body[strings.Index(body, fmt.Sprintf(`<tr data-campaign="%d"`, id)):]
	row = row[:strings.Index(row, "</tr>")]
	wantContains(t, row, "自动（不发券）")
	if strings.Contains(row, "0 / 0") {
		t.Errorf("the campaign list shows issued / stock for an automatic campaign: %s", row)
	}
}
