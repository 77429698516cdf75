package console_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"piao/internal/benefits"
	"piao/internal/demo"
	"piao/internal/identity"
	"piao/internal/metro"
	"piao/internal/tenant"
)

// merchantSeed is what seedMerchants made: campaigns of the demo merchant
// (merchant 1, the "merchant" and "staff" logins' merchant) and of another
// one (merchant 2), with claims and settled rides.
type merchantSeed struct {
	mall, mallDraft, bank benefits.Campaign
	claimers              []int64
}

// seedMerchants makes, through the benefits service, an approved claim
// campaign and a draft of merchant 1 and an approved campaign of merchant
// 2; four passengers claim the mall's tickets and one the bank's, and
// three of the mall's holders ride (settled metro trips from two
// stations) — so every dashboard figure has something to count.
func seedMerchants(t *testing.T, e *env) merchantSeed {
	t.Helper()
	ctx, bn := context.Background(), e.app.Benefits
	now := time.Now()
	mk := func(merchant int64, name string, approve bool, stock int, value int64) benefits.Campaign {
		scope, actor := tenant.Merchant(merchant), fmt.Sprintf("account:%d (merchant)", 900+merchant)
		p, err := bn.CreateProduct(ctx, scope, benefits.Product{Kind: benefits.AmountOff, NameZH: name + "券", Feed: "nbmetro",
			Terms: benefits.Terms{AmountOff: 200}, Valid: benefits.Validity{Days: 10}}, "", actor)
		if err != nil {
			t.Fatal(err)
		}
		c, err := bn.CreateCampaign(ctx, scope, benefits.Campaign{ProductID: p.ID, NameZH: name, NameEN: name + " (en)", Starts: now.Add(-time.Hour), Ends: now.Add(48 * time.Hour),
			Channels: []benefits.Channel{benefits.ClaimChannel}, Stock: stock, PerUser: 1, BudgetValue: value}, "", actor)
		if err != nil {
			t.Fatal(err)
		}
		if c.Owner != tenant.OwnerOf(merchant) {
			t.Fatalf("campaign owner %q, want merchant %d's", c.Owner, merchant)
		}
		// A merchant's campaign is prepaid: what a purchase would add.
		if c, err = bn.AddStock(ctx, scope, c.ID, "seed-"+name, stock, value); err != nil {
			t.Fatal(err)
		}
		if approve {
			if _, err := bn.Act(ctx, scope, c.ID, benefits.Submit, actor, ""); err != nil {
				t.Fatal(err)
			}
			if c, err = bn.Act(ctx, tenant.All(), c.ID, benefits.Approve, "account:1 (admin)", ""); err != nil {
				t.Fatal(err)
			}
		}
		return c
	}
	s := merchantSeed{mall: mk(1, "商场春季满减", true, 40, 10_000), mallDraft: mk(1, "商场草稿活动", false, 10, 0), bank: mk(2, "银行立减活动", true, 30, 5_000)}
	for i := range 4 {
		id, _ := e.newPassenger(t, fmt.Sprintf("mcclaimer%d", i))
		if _, err := bn.Claim(ctx, s.mall.ID, id); err != nil {
			t.Fatal(err)
		}
		s.claimers = append(s.claimers, id)
	}
	other, _ := e.newPassenger(t, "mcbankclaimer")
	if _, err := bn.Claim(ctx, s.bank.ID, other); err != nil {
		t.Fatal(err)
	}
	// Three mall holders and the bank's ride; settlement pays ¥2 off each.
	start := time.Now()
	var trips []metro.Trip
	for i, acct := range append(s.claimers[:3:3], other) {
		tr := metro.Trip{ID: fmt.Sprintf("t-mc-%d", i), Feed: "nbmetro", Account: acct, Status: metro.Complete, Metres: 5900, Fare: 400,
			From: "nbmetro:GTQ", To: "nbmetro:NBHCZ", FromLine: "nbmetro:L3", ToLine: "nbmetro:L3", Entered: start.Add(time.Duration(i) * time.Second)}
		if i == 2 {
			tr.From, tr.To, tr.FromLine, tr.ToLine = "nbmetro:GL", "nbmetro:DMK", "nbmetro:L1", "nbmetro:L1"
		}
		tr.Exited = tr.Entered.Add(20 * time.Minute)
		trips = append(trips, tr)
	}
	if _, err := e.app.MetroStore.AddTrips(ctx, trips, nil); err != nil {
		t.Fatal(err)
	}
	if rep, err := metro.Settle(ctx, e.app.MetroStore, "nbmetro", metro.SettleOptions{}); err != nil || rep.Trips != 4 {
		t.Fatalf("settle: %+v, %v", rep, err)
	}
	return s
}

// merchantLogin is the demo login of a merchant role.
func merchantLogin(t *testing.T, role identity.Role) demo.Login {
	l := loginFor(t, role)
	if l.Merchant != 1 {
		t.Fatalf("demo %s login works for merchant %d, want 1", role, l.Merchant)
	}
	return l
}

// TestMerchantConsolePages: every merchant page renders for the demo merchant
// with its data, in both languages, and never shows merchant 2's
// campaign; merchant 2's campaign is not found, its submit refused.
func TestMerchantConsolePages(t *testing.T) {
	e := newEnv(t)
	s := seedMerchants(t, e)
	cl := e.client(t)
	cl.login(merchantLogin(t, identity.MerchantAdmin))

	resp, body := cl.get("/")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/merchant" {
		t.Fatalf("the workbench sends a merchant to %d %q, want /merchant", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, body = cl.get("/merchant")
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, "商场春季满减", "商场草稿活动", `class="brand" href="/merchant"`, `href="/merchant/campaigns"`,
		`id="mc-days-chart"`, `id="mc-stations-chart"`, "高塘桥", "鼓楼", `src="/static/merchant_dashboard.js"`)
	for _, operator := range []string{`href="/network"`, `href="/benefits"`, `href="/metro"`, `href="/audit"`} {
		if strings.Contains(body, operator) {
			t.Errorf("a merchant's menu links %s", operator)
		}
	}
	mallPage := fmt.Sprintf("/merchant/campaigns/%d", s.mall.ID)
	resp, body = cl.get("/merchant/campaigns")
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, `href="`+mallPage+`"`, "商场草稿活动", "4 / 40")
	resp, body = cl.get(mallPage)
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, "商场春季满减", `data-stat="issued">4<`, `data-stat="claimed">4<`, `data-stat="used">3<`, `data-stat="rides">3<`,
		`data-stat="conversion">75.0%<`, `data-stat="spent">¥6.00<`, `data-stat="value_left">¥94.00<`, "待审核", "已批准")
	if strings.Contains(body, `id="do-submit"`) {
		t.Error("an approved campaign offers to submit it")
	}
	bankPage := fmt.Sprintf("/merchant/campaigns/%d", s.bank.ID)
	for _, p := range []string{"/merchant", "/merchant/campaigns", mallPage, "/merchant/export/campaigns.csv", "/merchant/export/days.csv"} {
		_, body := cl.get(p)
		if strings.Contains(body, "银行立减活动") || strings.Contains(body, `"`+bankPage+`"`) {
			t.Errorf("%s shows merchant 2's campaign", p)
		}
	}
	resp, body = cl.get(bankPage)
	wantStatus(t, resp, body, http.StatusNotFound)
	if strings.Contains(body, "银行立减活动") {
		t.Error("the not-found page names merchant 2's campaign")
	}
	resp, body = cl.post(bankPage+"/submit", url.Values{"csrf": {cl.csrfFor("/")}})
	wantStatus(t, resp, body, http.StatusNotFound)

	// The draft: submitted from its page, with its trail.
	draftPage := fmt.Sprintf("/merchant/campaigns/%d", s.mallDraft.ID)
	resp, body = cl.get(draftPage)
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, `id="do-submit"`)
	resp, body = cl.post(draftPage+"/submit", url.Values{"csrf": {csrfIn(body)}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != draftPage {
		t.Fatalf("submit: %d %q\n%s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	if c, err := e.app.Benefits.Campaign(context.Background(), tenant.Merchant(1), s.mallDraft.ID); err != nil || c.Status != benefits.Submitted {
		t.Fatalf("after submit: %+v, %v", c, err)
	}
	_, body = cl.get(draftPage)
	wantContains(t, body, `data-status="submitted"`, "草稿 → 待审核")
	// Without the token nothing is submitted.
	resp, _ = cl.post(mallPage+"/submit", url.Values{})
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("submit without CSRF: %d", resp.StatusCode)
	}
	noMissingMessages(t, cl, "/merchant", "/merchant/campaigns", mallPage, draftPage)
	cl.get("/lang?to=en")
	_, body = cl.get("/merchant")
	wantContains(t, body, "Merchant dashboard", "Stock left (tickets)")

	// The operator has no merchant console: its pages refuse it, its menu lacks them.
	admin := e.as(t, identity.OperatorAdmin)
	resp, body = admin.get("/merchant")
	wantStatus(t, resp, body, http.StatusForbidden)
	if strings.Contains(body, `href="/merchant"`) {
		t.Error("the operator's menu links the merchant dashboard")
	}
}

// TestMerchantStaffGrants: staff see only the sections their grants allow;
// the others answer 403 and are not in the menu, and the brand leads to
// the first section they may open.
func TestMerchantStaffGrants(t *testing.T) {
	e := newEnv(t)
	s := seedMerchants(t, e)
	ctx := context.Background()
	mkStaff := func(name string, grants ...identity.Permission) *client {
		l := demo.Login{Username: name, Password: "piao-test-" + name, Role: identity.MerchantStaff, Name: name}
		if _, err := e.app.Identity.CreateAccount(ctx, identity.NewAccount{Username: l.Username, DisplayName: l.Name, Role: l.Role, Password: l.Password, Merchant: 1, Grants: grants}); err != nil {
			t.Fatal(err)
		}
		cl := e.client(t)
		cl.login(l)
		return cl
	}
	mallPage := fmt.Sprintf("/merchant/campaigns/%d", s.mall.ID)

	campaignsOnly := mkStaff("mccampaigns", identity.MerchantCampaigns)
	for _, p := range []string{"/merchant", "/merchant/export/campaigns.csv", "/merchant/export/days.csv"} {
		resp, body := campaignsOnly.get(p)
		wantStatus(t, resp, body, http.StatusForbidden)
		if strings.Contains(body, `href="/merchant"`) {
			t.Errorf("%s: the menu of staff without reports links the dashboard", p)
		}
	}
	resp, body := campaignsOnly.get("/")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/merchant/campaigns" {
		t.Fatalf("workbench of campaigns-only staff: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, body = campaignsOnly.get(mallPage)
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, `class="brand" href="/merchant/campaigns"`)
	if strings.Contains(body, `id="dashboard-link"`) {
		t.Error("campaigns-only staff get a link to the dashboard")
	}

	reportsOnly := mkStaff("mcreports", identity.MerchantReports)
	resp, body = reportsOnly.get("/merchant")
	wantStatus(t, resp, body, http.StatusOK)
	if strings.Contains(body, `href="/merchant/campaigns"`) || strings.Contains(body, `href="`+mallPage+`"`) {
		t.Error("reports-only staff get links to the campaign pages")
	}
	for _, p := range []string{"/merchant/campaigns", mallPage} {
		resp, body := reportsOnly.get(p)
		wantStatus(t, resp, body, http.StatusForbidden)
	}
	resp, body = reportsOnly.post(fmt.Sprintf("/merchant/campaigns/%d/submit", s.mallDraft.ID), url.Values{"csrf": {reportsOnly.csrfFor("/")}})
	wantStatus(t, resp, body, http.StatusForbidden)

	nothing := mkStaff("mcnothing")
	for _, p := range []string{"/merchant", "/merchant/campaigns", mallPage} {
		resp, body := nothing.get(p)
		wantStatus(t, resp, body, http.StatusForbidden)
	}
	resp, body = nothing.get("/")
	wantStatus(t, resp, body, http.StatusOK)
	if strings.Contains(body, `href="/merchant`) {
		t.Error("staff without grants get merchant links")
	}
}

// readCSV downloads a CSV export and parses it.
func readCSV(t *testing.T, cl *client, path string) [][]string {
	t.Helper()
	resp, body := cl.get(path)
	wantStatus(t, resp, body, http.StatusOK)
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
		t.Fatalf("%s: content type %q", path, ct)
	}
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(body, "\ufeff"))).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v\n%s", path, err, body)
	}
	return rows
}

// TestMerchantExportsAndFigures: the CSV exports parse and hold the
// service's numbers; the dashboard's totals equal the campaign counters,
// and change with the next claim, computed on the request.
func TestMerchantExportsAndFigures(t *testing.T) {
	e := newEnv(t)
	s := seedMerchants(t, e)
	ctx, bn := context.Background(), e.app.Benefits
	cl := e.client(t)
	cl.login(merchantLogin(t, identity.MerchantStaff))

	check := func() {
		t.Helper()
		rows := readCSV(t, cl, "/merchant/export/campaigns.csv")
		head := rows[0]
		col := map[string]int{}
		for i, h := range head {
			col[h] = i
		}
		seen := map[int64]bool{}
		var issued, used, rides int
		var spent int64
		for _, row := range rows[1 : len(rows)-1] {
			id, err := strconv.ParseInt(row[col["campaign_id"]], 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			seen[id] = true
			st, err := bn.Stats(ctx, tenant.Merchant(1), id)
			if err != nil {
				t.Fatalf("campaign %d of the export: %v", id, err)
			}
			c, err := bn.Campaign(ctx, tenant.Merchant(1), id)
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]string{"issued": strconv.Itoa(st.Issued), "used": strconv.Itoa(st.Used), "rides": strconv.Itoa(st.Rides),
				"spent_fen": strconv.FormatInt(st.Spent, 10), "stock": strconv.Itoa(c.Stock), "stock_left": strconv.Itoa(c.Stock - c.Issued),
				"claimed": strconv.Itoa(st.ByChannel[benefits.ClaimChannel] + st.ByChannel[benefits.CodeChannel]), "status": string(st.Status),
				"conversion": strconv.FormatFloat(st.Conversion, 'f', 4, 64)}
			for k, v := range want {
				if row[col[k]] != v {
					t.Errorf("campaign %d %s = %s, service says %s", id, k, row[col[k]], v)
				}
			}
			// The counters the store keeps with each change agree too.
			if st.Issued != c.Issued || st.Rides != c.Uses || st.Spent != c.Spent {
				t.Errorf("campaign %d: stats %d/%d/%d, counters %d/%d/%d", id, st.Issued, st.Rides, st.Spent, c.Issued, c.Uses, c.Spent)
			}
			issued, used, rides, spent = issued+st.Issued, used+st.Used, rides+st.Rides, spent+st.Spent
		}
		if !seen[s.mall.ID] || !seen[s.mallDraft.ID] || seen[s.bank.ID] || len(seen) != 2 {
			t.Errorf("export lists %v, want the mall's two campaigns only", seen)
		}
		total := rows[len(rows)-1]
		if total[0] != "total" || total[col["issued"]] != strconv.Itoa(issued) || total[col["used"]] != strconv.Itoa(used) ||
			total[col["rides"]] != strconv.Itoa(rides) || total[col["spent_fen"]] != strconv.FormatInt(spent, 10) {
			t.Errorf("total row %v, want issued %d used %d rides %d spent %d", total, issued, used, rides, spent)
		}
		_, body := cl.get("/merchant")
		wantContains(t, body, fmt.Sprintf(`<dd data-stat="issued">%d<`, issued), fmt.Sprintf(`<dd data-stat="used">%d<`, used),
			fmt.Sprintf(`<dd data-stat="rides">%d<`, rides), fmt.Sprintf(`<dd data-stat="claimed">%d<`, issued))

		days := readCSV(t, cl, "/merchant/export/days.csv")
		if strings.Join(days[0], ",") != "day,issued,rides" {
			t.Fatalf("days header %v", days[0])
		}
		var dayIssued, dayRides int
		for _, row := range days[1 : len(days)-1] {
			if _, err := time.Parse(time.DateOnly, row[0]); err != nil {
				t.Errorf("day %q: %v", row[0], err)
			}
			n, _ := strconv.Atoi(row[1])
			m, _ := strconv.Atoi(row[2])
			dayIssued, dayRides = dayIssued+n, dayRides+m
		}
		if last := days[len(days)-1]; dayIssued != issued || dayRides != rides || last[1] != strconv.Itoa(issued) || last[2] != strconv.Itoa(rides) {
			t.Errorf("days sum to %d issued, %d rides (total row %v), want %d, %d", dayIssued, dayRides, last, issued, rides)
		}
	}
	check()
	if _, body := cl.get("/merchant"); !strings.Contains(body, `<dd data-stat="issued">4<`) {
		t.Fatalf("dashboard before the next claim:\n%s", body)
	}
	// The next claim shows at once: nothing is cached.
	id, _ := e.newPassenger(t, "mcnextclaimer")
	if _, err := bn.Claim(ctx, s.mall.ID, id); err != nil {
		t.Fatal(err)
	}
	check()
	if _, body := cl.get("/merchant"); !strings.Contains(body, `<dd data-stat="issued">5<`) {
		t.Error("the dashboard does not show the new claim")
	}
}

// TestBrowserMerchantDashboard opens the dashboard as the demo merchant in
// Chromium: the charts by day and by station are drawn beside their
// tables, and the campaign's page is one click away.
func TestBrowserMerchantDashboard(t *testing.T) {
	e := newEnv(t)
	s := seedMerchants(t, e)
	b := newH5Browser(t, e)
	b.login(merchantLogin(t, identity.MerchantAdmin), "/merchant")
	if got := b.text("issued", `#merchant-totals [data-stat="issued"]`); got != "4" {
		t.Fatalf("issued shown %q, want 4", got)
	}
	drawn, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]string](`["mc-days-chart","mc-stations-chart"].map(id => (document.getElementById(id).dataset.drawn || "") + ":" + document.getElementById(id).querySelectorAll("canvas").length)`))
	b.step("charts", err)
	for _, d := range drawn {
		if d != "true:1" {
			t.Fatalf("charts drawn %v, want each with one canvas", drawn)
		}
	}
	if first := b.text("busiest entry", "#merchant-stations tbody tr:first-child th"); first != "高塘桥" {
		t.Fatalf("busiest entry station %q, want 高塘桥 (two of three rides)", first)
	}
	b.click("open the mall's campaign", fmt.Sprintf(`#merchant-campaigns tr[data-campaign="%d"] a.campaign-link`, s.mall.ID))
	if loc := b.location(); loc != fmt.Sprintf("/merchant/campaigns/%d", s.mall.ID) {
		t.Fatalf("at %s", loc)
	}
}
