package console

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"piao/internal/benefits"
	"piao/internal/fault"
	"piao/internal/identity"
	"piao/internal/tenant"
)

// The merchant console (商户营销平台, SPEC C2): a merchant's dashboard,
// its campaigns and their exports. Every read goes through the services
// with the signed-in account's tenant.Scope, so a merchant sees its own
// campaigns only: another merchant's campaign is "not found", exactly like
// one that does not exist.

// merchantConsoleRoutes are the merchant console's pages, each with the merchant
// permission it needs (staff hold only what their admin granted).
func (c *Console) merchantConsoleRoutes() []route {
	noBenefits := unless(c.deps.Benefits != nil, benefits.ErrNotRunning)
	return []route{
		{Page: Page{"GET", merchantHome, identity.MerchantReports}, handle: c.merchantDashboard, scripts: true, off: noBenefits},
		{Page: Page{"GET", merchantHome + "/export/campaigns.csv", identity.MerchantReports}, handle: c.merchantCampaignsCSV, off: noBenefits},
		{Page: Page{"GET", merchantHome + "/export/days.csv", identity.MerchantReports}, handle: c.merchantDaysCSV, off: noBenefits},
		{Page: Page{"GET", merchantHome + "/campaigns", identity.MerchantCampaigns}, handle: c.merchantCampaigns, off: noBenefits},
		{Page: Page{"GET", merchantHome + "/campaigns/{id}", identity.MerchantCampaigns}, handle: c.merchantCampaign, scripts: true, off: noBenefits},
		{Page: Page{"POST", merchantHome + "/campaigns/{id}/submit", identity.MerchantCampaigns}, handle: c.merchantSubmit, off: noBenefits},
	}
}

// merchantHome is where a merchant account's menu starts: its dashboard.
const merchantHome = "/merchant"

// isMerchant reports whether role works for a merchant: its menu then holds
// the merchant console's pages only.
func isMerchant(role identity.Role) bool {
	return role == identity.MerchantAdmin || role == identity.MerchantStaff
}

// merchantStart is where the brand and the workbench lead a merchant's
// account: the first merchant page of the menu it may open (a staff
// account without reports starts at its campaigns), "" if none.
func (c *Console) merchantStart(p identity.Principal) string {
	for _, it := range navigation {
		if it.Merchant && p.Can(c.permission(it.Path)) {
			return it.Path
		}
	}
	return ""
}

func merchantCampaignPath(id int64) string {
	return merchantHome + "/campaigns/" + strconv.FormatInt(id, 10)
}

// merchantListLimit bounds how many campaigns, newest first, the dashboard
// and the exports count: each costs one read of its numbers.
const merchantListLimit = 1000

// merchantCampaignFigures are one campaign's numbers on the dashboard and
// in the export, read from the campaign's counters when asked.
type merchantCampaignFigures struct {
	ID                   int64
	URL                  string
	NameZH, NameEN, Name string
	Status, StatusName   string
	// Stock is the tickets the campaign may issue, Left those not issued.
	Stock, Left int
	// Value is the prepaid value budget in fen (0: none), ValueLeft what
	// riders have not used of it.
	Value, ValueLeft int64
	Issued           int
	// Claimed counts the tickets passengers took themselves: claimed in
	// the app or by a redemption code (the rest were issued to lists).
	Claimed int
	// Used counts tickets used for at least one ride, Rides the rides.
	Used, Rides, Expired int
	Spent                int64 // fen riders saved, charged to the campaign
	Conversion           float64
}

// ConversionText is the conversion rate as a percentage.
func (f merchantCampaignFigures) ConversionText() string {
	return fmt.Sprintf("%.1f%%", f.Conversion*100)
}

// Money formats fen for templates.
func (merchantCampaignFigures) Money(fen int64) string { return yuan(fen) }

// merchantDayFigures are one day's issues and rides (Beijing time) over
// all of a merchant's campaigns.
type merchantDayFigures struct {
	Day           string
	Issued, Rides int
}

// merchantFigures are a merchant's numbers, in total and per campaign and
// per day, computed from the counters on each request.
type merchantFigures struct {
	Campaigns []merchantCampaignFigures
	Total     merchantCampaignFigures
	Days      []merchantDayFigures
}

// merchantFiguresOf reads the campaigns the scope sees and their numbers.
func (c *Console) merchantFiguresOf(ctx context.Context, scope tenant.Scope, l lang) (merchantFigures, []benefits.Campaign, error) {
	bn := c.deps.Benefits
	cs, err := bn.Campaigns(ctx, scope, benefits.CampaignFilter{Limit: merchantListLimit})
	if err != nil {
		return merchantFigures{}, nil, err
	}
	var out merchantFigures
	days := map[string]*merchantDayFigures{}
	for _, cp := range cs {
		s, err := bn.Stats(ctx, scope, cp.ID)
		if err != nil {
			return merchantFigures{}, nil, err
		}
		f := merchantCampaignFigures{ID: cp.ID, URL: merchantCampaignPath(cp.ID), NameZH: cp.NameZH, NameEN: cp.NameEN, Name: pickName(cp.NameZH, cp.NameEN, l),
			Status: string(s.Status), StatusName: l.T("bn.status." + string(s.Status)), Stock: cp.Stock, Left: max(cp.Stock-s.Issued, 0),
			Value: cp.BudgetValue, Issued: s.Issued, Claimed: s.ByChannel[benefits.ClaimChannel] + s.ByChannel[benefits.CodeChannel],
			Used: s.Used, Rides: s.Rides, Expired: s.Expired, Spent: s.Spent, Conversion: s.Conversion}
		if cp.BudgetValue > 0 {
			f.ValueLeft = max(cp.BudgetValue-s.Spent, 0)
		}
		out.Campaigns = append(out.Campaigns, f)
		t := &out.Total
		t.Stock, t.Left, t.Value, t.ValueLeft = t.Stock+f.Stock, t.Left+f.Left, t.Value+f.Value, t.ValueLeft+f.ValueLeft
		t.Issued, t.Claimed, t.Used, t.Rides, t.Expired, t.Spent = t.Issued+f.Issued, t.Claimed+f.Claimed, t.Used+f.Used, t.Rides+f.Rides, t.Expired+f.Expired, t.Spent+f.Spent
		for _, h := range s.Hourly {
			day := h.Hour.In(shanghai).Format(time.DateOnly)
			d := days[day]
			if d == nil {
				d = &merchantDayFigures{Day: day}
				days[day] = d
			}
			d.Issued += h.Issued
			d.Rides += h.Rides
		}
	}
	if out.Total.Issued > 0 {
		out.Total.Conversion = float64(out.Total.Used) / float64(out.Total.Issued)
	}
	for _, d := range days {
		out.Days = append(out.Days, *d)
	}
	sort.Slice(out.Days, func(i, j int) bool { return out.Days[i].Day < out.Days[j].Day })
	return out, cs, nil
}

// merchantDashboard is the dashboard page's data.
type merchantDashboard struct {
	merchantFigures
	Stations      []useRow
	StationTrips  int
	Chart         map[string]any
	HasDaysChart  bool
	HasStations   bool
	NoMetro       bool
	CanCampaigns  bool
	MaxDays       int
	StationsShown int
}

// merchantStationsShown bounds the stations the chart draws.
const merchantStationsShown = 15

// merchantDashboard shows GET /merchant: stock, issued, claimed, used,
// conversion and spending in total and per campaign, by day and by entry
// station, all read now from the counters and the settled trips.
func (c *Console) merchantDashboard(w http.ResponseWriter, r *http.Request, st *state) {
	ctx, l, scope := r.Context(), st.lang, st.principal.Tenant()
	figs, cs, err := c.merchantFiguresOf(ctx, scope, l)
	if err != nil {
		c.fail(w, r, st, err)
		return
	}
	d := merchantDashboard{merchantFigures: figs, NoMetro: c.deps.Metro == nil, CanCampaigns: st.principal.Can(identity.MerchantCampaigns),
		MaxDays: usesMaxDays, StationsShown: merchantStationsShown}
	if !d.NoMetro {
		// Benefit uses on settled metro trips by entry station, each
		// campaign over its own days (as /metro counts them).
		entries := map[string]*useRow{}
		for _, cp := range cs {
			if !usedStatus(cp.Status) {
				continue
			}
			from, until := usesWindow(cp)
			uses, err := c.deps.Metro.UseStats(ctx, cp.ID, from.In(shanghai), until.AddDays(1).In(shanghai))
			if err != nil {
				c.fail(w, r, st, err)
				return
			}
			for _, u := range uses {
				row := entries[u.From]
				if row == nil {
					row = &useRow{Label: c.stationLabel(ctx, u.From, l)}
					entries[u.From] = row
				}
				row.Trips += u.Trips
				row.saving += u.Saving
				d.StationTrips += u.Trips
			}
		}
		d.Stations = ranked(entries)
		d.HasStations = d.StationTrips > 0
	}
	days, issued, rides := []string{}, []int{}, []int{}
	for _, x := range d.Days {
		days, issued, rides = append(days, x.Day), append(issued, x.Issued), append(rides, x.Rides)
		d.HasDaysChart = d.HasDaysChart || x.Issued > 0 || x.Rides > 0
	}
	stations, trips := []string{}, []int{}
	for i, s := range d.Stations {
		if i == merchantStationsShown {
			break
		}
		stations, trips = append(stations, s.Label), append(trips, s.Trips)
	}
	d.Chart = map[string]any{"days": days, "issued": issued, "rides": rides, "stations": stations, "trips": trips,
		"labels": map[string]string{"issued": l.T("bn.stats.issued"), "rides": l.T("bn.stats.rides"), "trips": l.T("mt.uses.trips")}}
	v := c.newView(r, st, "mk.title")
	v.Scripts = []string{"/static/vendor/echarts/echarts.min.js", "/static/merchant_dashboard.js"}
	v.Data = d
	c.render(w, r, http.StatusOK, "merchant_dashboard.html", v)
}

// usedStatus reports whether a campaign in stored status s has run, so
// trips may have used its benefit.
func usedStatus(s benefits.Status) bool {
	for _, u := range usedStatuses {
		if s == u {
			return true
		}
	}
	return false
}

// stationLabel names a station in l, its ID if the catalog does not know it.
func (c *Console) stationLabel(ctx context.Context, id string, l lang) string {
	if id == "" {
		return l.T("mt.uses.unknown_station")
	}
	if s, err := c.deps.Catalog.Station(ctx, id); err == nil {
		return stationName(s, l)
	}
	return id
}

// merchantCampaignsCSV exports the per-campaign figures and their total.
func (c *Console) merchantCampaignsCSV(w http.ResponseWriter, r *http.Request, st *state) {
	figs, _, err := c.merchantFiguresOf(r.Context(), st.principal.Tenant(), st.lang)
	if err != nil {
		c.fail(w, r, st, err)
		return
	}
	rows := [][]string{{"campaign_id", "name_zh", "name_en", "status", "stock", "stock_left", "value_fen", "value_left_fen",
		"issued", "claimed", "used", "rides", "expired", "conversion", "spent_fen"}}
	line := func(id, zhName, enName, status string, f merchantCampaignFigures) []string {
		return []string{id, zhName, enName, status, strconv.Itoa(f.Stock), strconv.Itoa(f.Left), strconv.FormatInt(f.Value, 10), strconv.FormatInt(f.ValueLeft, 10),
			strconv.Itoa(f.Issued), strconv.Itoa(f.Claimed), strconv.Itoa(f.Used), strconv.Itoa(f.Rides), strconv.Itoa(f.Expired),
			strconv.FormatFloat(f.Conversion, 'f', 4, 64), strconv.FormatInt(f.Spent, 10)}
	}
	for _, f := range figs.Campaigns {
		rows = append(rows, line(strconv.FormatInt(f.ID, 10), f.NameZH, f.NameEN, f.Status, f))
	}
	rows = append(rows, line("total", "", "", "", figs.Total))
	c.sheetDownload(w, r, st, "merchant-campaigns", "campaigns", rows) // ?format=xlsx for XLSX
}

// merchantDaysCSV exports the issues and rides per day of all campaigns.
func (c *Console) merchantDaysCSV(w http.ResponseWriter, r *http.Request, st *state) {
	figs, _, err := c.merchantFiguresOf(r.Context(), st.principal.Tenant(), st.lang)
	if err != nil {
		c.fail(w, r, st, err)
		return
	}
	rows := [][]string{{"day", "issued", "rides"}}
	var issued, rides int
	for _, d := range figs.Days {
		rows = append(rows, []string{d.Day, strconv.Itoa(d.Issued), strconv.Itoa(d.Rides)})
		issued, rides = issued+d.Issued, rides+d.Rides
	}
	rows = append(rows, []string{"total", strconv.Itoa(issued), strconv.Itoa(rides)})
	c.sheetDownload(w, r, st, "merchant-days", "days", rows) // ?format=xlsx for XLSX
}

// merchantCampaignList is the merchant's campaigns page.
type merchantCampaignList struct {
	Campaigns []consoleCampaignRow
}

// consoleCampaignRow is one campaign of the merchant's list.
type consoleCampaignRow struct {
	ID                        int64
	URL, Name, Product        string
	Status, StatusName        string
	Stock, Issued, Uses       int
	Budget, Spent             string
	Starts, Ends              string
	Automatic, HasValueBudget bool
}

// merchantCampaigns shows GET /merchant/campaigns: status, stock, issued,
// uses, budget and spending of each of the merchant's campaigns.
func (c *Console) merchantCampaigns(w http.ResponseWriter, r *http.Request, st *state) {
	ctx, l, scope := r.Context(), st.lang, st.principal.Tenant()
	bn := c.deps.Benefits
	cs, err := bn.Campaigns(ctx, scope, benefits.CampaignFilter{Limit: merchantListLimit})
	if err != nil {
		c.fail(w, r, st, err)
		return
	}
	ps, err := bn.Products(ctx, scope, "")
	if err != nil {
		c.fail(w, r, st, err)
		return
	}
	names := map[int64]string{}
	for _, p := range ps {
		names[p.ID] = pickName(p.NameZH, p.NameEN, l)
	}
	now := bn.Now()
	var d merchantCampaignList
	for _, cp := range cs {
		eff := cp.Effective(now)
		row := consoleCampaignRow{ID: cp.ID, URL: merchantCampaignPath(cp.ID), Name: pickName(cp.NameZH, cp.NameEN, l), Product: names[cp.ProductID],
			Status: string(eff), StatusName: l.T("bn.status." + string(eff)), Stock: cp.Stock, Issued: cp.Issued, Uses: cp.Uses,
			Budget: budgetText(cp, l), Spent: yuan(cp.Spent), Starts: beijing(cp.Starts), Ends: beijing(cp.Ends), Automatic: cp.Automatic()}
		d.Campaigns = append(d.Campaigns, row)
	}
	v := c.newView(r, st, "mk.campaigns.title")
	v.Data = d
	c.render(w, r, http.StatusOK, "merchant_campaigns.html", v)
}

// budgetText is a campaign's budgets as text, "none" without one.
func budgetText(cp benefits.Campaign, l lang) string {
	var b []string
	if cp.BudgetUses > 0 {
		b = append(b, l.Tf("bn.budget.uses", cp.Uses, cp.BudgetUses))
	}
	if cp.BudgetValue > 0 {
		b = append(b, l.Tf("bn.budget.value", yuan(cp.Spent), yuan(cp.BudgetValue)))
	}
	if len(b) == 0 {
		return l.T("bn.budget.none")
	}
	return strings.Join(b, l.T("list.parts"))
}

// merchantCampaignPage is one of the merchant's campaigns with its numbers
// and review trail.
type merchantCampaignPage struct {
	ID                 int64
	URL                string
	Name               string
	Status, StatusName string
	Product            productView
	Starts, Ends       string
	Channels           string
	Stock, PerUser     int
	Budgets            string
	Figures            merchantCampaignFigures
	Holders            int
	Codes              string
	Hourly             []hourRow
	Chart              any
	HasChart           bool
	Events             []eventRow
	CanSubmit          bool
	CanReports         bool
	// Cover is the address of the product's brand image, "" without one.
	Cover string
}

// merchantCampaign shows GET /merchant/campaigns/{id}.
func (c *Console) merchantCampaign(w http.ResponseWriter, r *http.Request, st *state) {
	c.showMerchantCampaign(w, r, st, http.StatusOK, nil)
}

func (c *Console) showMerchantCampaign(w http.ResponseWriter, r *http.Request, st *state, status int, alert *bilingual) {
	id, ok := orderID(r)
	if !ok {
		c.renderError(w, r, st, http.StatusNotFound, faultMsg(fault.New(fault.NotFound, "campaign_not_found", "活动不存在", "campaign not found")))
		return
	}
	ctx, l, scope := r.Context(), st.lang, st.principal.Tenant()
	bn := c.deps.Benefits
	cp, err := bn.Campaign(ctx, scope, id)
	if err != nil {
		c.fail(w, r, st, err)
		return
	}
	p, err := bn.Product(ctx, scope, cp.ProductID)
	if err != nil {
		c.fail(w, r, st, err)
		return
	}
	s, err := bn.Stats(ctx, scope, id)
	if err != nil {
		c.fail(w, r, st, err)
		return
	}
	events, err := bn.Events(ctx, scope, id)
	if err != nil {
		c.fail(w, r, st, err)
		return
	}
	d := merchantCampaignPage{ID: id, URL: merchantCampaignPath(id), Name: pickName(cp.NameZH, cp.NameEN, l), Status: string(s.Status),
		StatusName: l.T("bn.status." + string(s.Status)), Product: formatProduct(p, l, c.placeNames(ctx, l)), Starts: beijing(cp.Starts), Ends: beijing(cp.Ends),
		Stock: cp.Stock, PerUser: cp.PerUser, Budgets: budgetText(cp, l), Holders: s.Holders, Codes: fmt.Sprintf("%d / %d", s.CodesRedeemed, s.Codes),
		CanReports: st.principal.Can(identity.MerchantReports)}
	d.Figures = merchantCampaignFigures{Stock: cp.Stock, Left: max(cp.Stock-s.Issued, 0), Value: cp.BudgetValue, Issued: s.Issued,
		Claimed: s.ByChannel[benefits.ClaimChannel] + s.ByChannel[benefits.CodeChannel], Used: s.Used, Rides: s.Rides, Expired: s.Expired, Spent: s.Spent, Conversion: s.Conversion}
	if cp.BudgetValue > 0 {
		d.Figures.ValueLeft = max(cp.BudgetValue-s.Spent, 0)
	}
	var chans []string
	for _, ch := range cp.Channels {
		chans = append(chans, l.T("bn.channel."+string(ch)))
	}
	d.Channels = strings.Join(chans, l.T("list.sep"))
	hours, issued, rides := []string{}, []int{}, []int{}
	for _, h := range s.Hourly {
		label := h.Hour.In(shanghai).Format("01-02 15:00")
		d.Hourly = append(d.Hourly, hourRow{label, h.Issued, h.Rides})
		hours, issued, rides = append(hours, label), append(issued, h.Issued), append(rides, h.Rides)
		d.HasChart = d.HasChart || h.Issued > 0 || h.Rides > 0
	}
	d.Chart = map[string]any{"hours": hours, "issued": issued, "rides": rides,
		"labels": map[string]string{"issued": l.T("bn.stats.issued"), "rides": l.T("bn.stats.rides")}}
	for _, e := range events {
		row := eventRow{At: beijingSec(e.At), By: e.By, Action: l.T("bn.action." + e.Action), To: l.T("bn.status." + string(e.To)), Reason: e.Reason}
		if e.From != "" {
			row.From = l.T("bn.status." + string(e.From))
		}
		d.Events = append(d.Events, row)
	}
	d.CanSubmit = s.Status == benefits.Draft || s.Status == benefits.Rejected
	if _, err := bn.Cover(ctx, p.ID); err == nil {
		d.Cover = "/api/v1/benefit-products/" + strconv.FormatInt(p.ID, 10) + "/cover"
	} else if fault.CodeOf(err) != fault.NotFound {
		c.fail(w, r, st, err)
		return
	}
	v := c.newViewBack(r, st, "mk.campaign.title", d.URL)
	v.Error = alert
	v.Scripts = []string{"/static/vendor/echarts/echarts.min.js", "/static/benefits_stats.js"}
	v.Data = d
	c.render(w, r, status, "merchant_campaign.html", v)
}

// merchantSubmit sends a draft or rejected campaign for the operator's
// review.
func (c *Console) merchantSubmit(w http.ResponseWriter, r *http.Request, st *state) {
	id, ok := orderID(r)
	if !ok {
		c.renderError(w, r, st, http.StatusNotFound, faultMsg(fault.New(fault.NotFound, "campaign_not_found", "活动不存在", "campaign not found")))
		return
	}
	if _, err := c.deps.Benefits.Act(r.Context(), st.principal.Tenant(), id, benefits.Submit, consoleActor(st), ""); err != nil {
		if code := fault.CodeOf(err); code == fault.Internal || code == fault.NotFound {
			c.fail(w, r, st, err)
			return
		}
		m := faultMsg(err)
		c.showMerchantCampaign(w, r, st, statusOf(err), &m)
		return
	}
	http.Redirect(w, r, merchantCampaignPath(id), http.StatusSeeOther)
}

// merchantCampaignNames reads the scope's campaigns, newest first.
func (c *Console) merchantCampaignNames(ctx context.Context, scope tenant.Scope, l lang) ([]benefits.Campaign, map[int64]string, error) {
	cs, err := c.deps.Benefits.Campaigns(ctx, scope, benefits.CampaignFilter{Limit: merchantListLimit})
	if err != nil {
		return nil, nil, err
	}
	names := map[int64]string{}
	for _, cp := range cs {
		names[cp.ID] = pickName(cp.NameZH, cp.NameEN, l)
	}
	return cs, names, nil
}
