package console

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/csv"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"piao/internal/ledger"
	"strconv"
	"strings"
	"time"

	"github.com/skip2/go-qrcode"

	"piao/internal/benefits"
	"piao/internal/fault"
	"piao/internal/governance"
	"piao/internal/identity"
	"piao/internal/network"
	"piao/internal/subsidy"
	"piao/internal/tenant"
)

// The operator's value-added tickets pages (增值票务, SPEC V1–V6, C1):
// products, campaigns with their review, numbers, codes and direct issue.
// Every change goes through benefits.Service, as the API's do.

// benefitsOwner owns the products and campaigns operator staff define.
const benefitsOwner = "operator"

func campaignPath(id int64) string { return "/benefits/campaigns/" + strconv.FormatInt(id, 10) }

// consoleActor names the signed-in user in audit trails, as the API does.
func consoleActor(st *state) string {
	a := st.principal.Account
	return governance.Actor(a.ID, a.Username)
}

// productView is a product, formatted.
type productView struct {
	ID       int64
	Name     string
	Kind     benefits.Kind
	KindName string
	Terms    string
	Validity string
	Scope    string
	Cover    string
}

// formatProduct formats a product for l, naming the stations and lines of
// its scope with names.
func formatProduct(p benefits.Product, l lang, names *placeNames) productView {
	v := productView{ID: p.ID, Name: pickName(p.NameZH, p.NameEN, l), Kind: p.Kind, KindName: l.T("bn.kind." + string(p.Kind))}
	t := p.Terms
	switch p.Kind {
	case benefits.AmountOff:
		v.Terms = l.Tf("bn.terms.amount_off", yuan(t.AmountOff))
		if t.MinFare > 0 {
			v.Terms += " · " + l.Tf("bn.terms.min_fare", yuan(t.MinFare))
		}
	case benefits.FixedPrice:
		v.Terms = l.Tf("bn.terms.fixed_price", yuan(t.FixedPrice))
	case benefits.Percentage:
		v.Terms = l.Tf("bn.terms.percent", t.PercentOff)
		if t.Cap > 0 {
			v.Terms += " · " + l.Tf("bn.terms.cap", yuan(t.Cap))
		}
	default:
		v.Terms = l.Tf("bn.terms.rides", p.Rides())
	}
	if t.Exclusive {
		v.Terms += " · " + l.T("bn.terms.exclusive")
	}
	if p.Valid.Days > 0 {
		v.Validity = l.Tf("bn.valid.days", p.Valid.Days)
	} else if p.Valid.From.IsZero() {
		v.Validity = l.Tf("bn.valid.until", p.Valid.Until.String())
	} else {
		v.Validity = l.Tf("bn.valid.range", p.Valid.From.String(), p.Valid.Until.String())
	}
	s := p.Scope
	list := func(ids []string, name func(string) string) string {
		out := make([]string, len(ids))
		for i, id := range ids {
			out[i] = name(id)
		}
		return strings.Join(out, l.T("list.sep"))
	}
	var parts []string
	if len(s.Lines) > 0 {
		parts = append(parts, l.T("bn.scope.lines")+" "+list(s.Lines, names.line))
	}
	if len(s.Stations) > 0 {
		parts = append(parts, l.T("bn.scope.stations")+" "+list(s.Stations, names.station))
	}
	if len(s.From) > 0 {
		parts = append(parts, l.T("bn.scope.section")+" "+list(s.From, names.station)+" → "+list(s.To, names.station))
	}
	if len(s.Riders) > 0 {
		parts = append(parts, l.T("bn.scope.riders")+" "+list(s.Riders, func(g string) string { return groupName(subsidy.Group(g), l) }))
	}
	if len(parts) == 0 {
		parts = []string{l.T("bn.scope.network")}
	}
	v.Scope = strings.Join(parts, l.T("list.parts"))
	if p.Cover.Theme != "" {
		v.Cover = l.T("bn.theme." + p.Cover.Theme)
	}
	if p.Cover.Text != "" {
		v.Cover = strings.TrimSpace(v.Cover + " “" + p.Cover.Text + "”")
	}
	return v
}

func pickName(zhName, enName string, l lang) string {
	if l == en && enName != "" || zhName == "" {
		return enName
	}
	return zhName
}

// campaignRow is a campaign in the list.
type campaignRow struct {
	ID          int64
	URL         string
	Name        string
	Product     string
	Status      benefits.Status
	StatusName  string
	Issued      int
	Stock       int
	Automatic   bool // issues no tickets: issued / stock says nothing
	Starts, End string
}

type benefitsHomeView struct {
	Campaigns []campaignRow
	Products  []productView
	Filter    string
	Statuses  []option
	CanEdit   bool
}

// benefitsHome lists campaigns (optionally of one status) and products.
func (c *Console) benefitsHome(w http.ResponseWriter, r *http.Request, st *state) {
	ctx, l := r.Context(), st.lang
	bn := c.deps.Benefits
	filter := r.URL.Query().Get("status")
	f := benefits.CampaignFilter{Limit: 200}
	if filter != "" {
		f.Statuses = []benefits.Status{benefits.Status(filter)}
	}
	cs, err := bn.Campaigns(ctx, st.principal.Tenant(), f)
	if err != nil {
		c.fail(w, r, st, err)
		return
	}
	ps, err := bn.Products(ctx, st.principal.Tenant(), "")
	if err != nil {
		c.fail(w, r, st, err)
		return
	}
	names := map[int64]string{}
	d := benefitsHomeView{Filter: filter, CanEdit: identity.Allowed(st.principal.Role(), identity.BenefitsEdit)}
	places := c.placeNames(ctx, l)
	for _, p := range ps {
		d.Products = append(d.Products, formatProduct(p, l, places))
		names[p.ID] = pickName(p.NameZH, p.NameEN, l)
	}
	now := c.deps.Benefits.Now()
	for _, cp := range cs {
		eff := cp.Effective(now)
		d.Campaigns = append(d.Campaigns, campaignRow{ID: cp.ID, URL: campaignPath(cp.ID), Name: pickName(cp.NameZH, cp.NameEN, l), Product: names[cp.ProductID],
			Status: eff, StatusName: l.T("bn.status." + string(eff)), Issued: cp.Issued, Stock: cp.Stock, Automatic: cp.Automatic(), Starts: beijing(cp.Starts), End: beijing(cp.Ends)})
	}
	d.Statuses = []option{{"", l.T("bn.filter.all"), filter == ""}}
	for _, s := range []benefits.Status{benefits.Draft, benefits.Submitted, benefits.Approved, benefits.Rejected, benefits.Paused, benefits.Terminated} {
		d.Statuses = append(d.Statuses, option{string(s), l.T("bn.status." + string(s)), filter == string(s)})
	}
	v := c.newView(r, st, "bn.title")
	v.Data = d
	c.render(w, r, http.StatusOK, "benefits.html", v)
}

// productForm is the new-product form with what was typed.
type productForm struct {
	Kind, NameZH, NameEN, Amount, MinFare, Fixed, Percent, Cap, Rides string
	Days, From, Until, Lines, Stations, SectionFrom, SectionTo        string
	Theme, Text, InstructionsZH, InstructionsEN                       string
	Exclusive                                                         bool
	Kinds, Themes                                                     []option
}

func (c *Console) productFormView(l lang, f productForm) productForm {
	f.Kinds, f.Themes = nil, []option{{"", l.T("bn.theme.none"), f.Theme == ""}}
	for _, k := range benefits.Kinds {
		f.Kinds = append(f.Kinds, option{string(k), l.T("bn.kind." + string(k)), f.Kind == string(k)})
	}
	for _, t := range benefits.Themes {
		f.Themes = append(f.Themes, option{t, l.T("bn.theme." + t), f.Theme == t})
	}
	return f
}

func (c *Console) productNew(w http.ResponseWriter, r *http.Request, st *state) {
	c.showProductForm(w, r, st, http.StatusOK, productForm{Kind: string(benefits.AmountOff), Days: "30"}, nil)
}

func (c *Console) showProductForm(w http.ResponseWriter, r *http.Request, st *state, status int, f productForm, e *bilingual) {
	v := c.newViewBack(r, st, "bn.product.new", "/benefits/products/new")
	v.Error = e
	v.Data = c.productFormView(st.lang, f)
	c.render(w, r, status, "benefits_product.html", v)
}

// fenOf reads a yuan amount ("2", "2.5", "¥2.50") as fen; "" is 0.
func fenOf(s, field string) (int64, error) {
	if strings.TrimPrefix(strings.TrimSpace(s), "¥") == "" {
		return 0, nil
	}
	fen, err := ledger.ParseYuan(s) // exactly, never through a float
	if err != nil || fen > 100000_00 {
		return 0, fault.Newf(fault.Invalid, "bad_amount", "%s 应为不超过 100000 的金额（元，最多两位小数）", "%s must be an amount in yuan up to 100,000, with at most two decimals", field)
	}
	return fen, nil
}

// intOf reads a whole number; "" is 0.
func intOf(s, field string) (int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > 100_000_000 {
		return 0, fault.Newf(fault.Invalid, "bad_number", "%s 应为非负整数", "%s must be a whole number", field)
	}
	return n, nil
}

// listOf splits a comma, space or 、 separated list.
func listOf(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool {
		return r == ',' || r == '，' || r == '、' || r == ' ' || r == '\n' || r == '\r' || r == '\t'
	})
}

func (c *Console) productCreate(w http.ResponseWriter, r *http.Request, st *state) {
	f := productForm{Kind: r.PostFormValue("kind"), NameZH: r.PostFormValue("name_zh"), NameEN: r.PostFormValue("name_en"),
		Amount: r.PostFormValue("amount_off"), MinFare: r.PostFormValue("min_fare"), Fixed: r.PostFormValue("fixed_price"),
		Percent: r.PostFormValue("percent_off"), Cap: r.PostFormValue("cap"), Rides: r.PostFormValue("rides"),
		Days: r.PostFormValue("days"), From: r.PostFormValue("from"), Until: r.PostFormValue("until"),
		Lines: r.PostFormValue("lines"), Stations: r.PostFormValue("stations"), SectionFrom: r.PostFormValue("section_from"), SectionTo: r.PostFormValue("section_to"),
		Theme: r.PostFormValue("theme"), Text: r.PostFormValue("cover_text"), Exclusive: r.PostFormValue("exclusive") == "1",
		InstructionsZH: r.PostFormValue("instructions_zh"), InstructionsEN: r.PostFormValue("instructions_en")}
	p, err := productFromForm(f)
	if err == nil {
		var created benefits.Product
		created, err = c.deps.Benefits.CreateProduct(r.Context(), st.principal.Tenant(), p, benefitsOwner, consoleActor(st))
		if err == nil {
			http.Redirect(w, r, "/benefits/campaigns/new?product="+strconv.FormatInt(created.ID, 10), http.StatusSeeOther)
			return
		}
	}
	if fault.CodeOf(err) == fault.Internal {
		c.internalError(w, r, st, err)
		return
	}
	m := faultMsg(err)
	c.showProductForm(w, r, st, statusOf(err), f, &m)
}

// productFromForm reads the form's fields into a product; the service
// validates it.
func productFromForm(f productForm) (benefits.Product, error) {
	p := benefits.Product{Kind: benefits.Kind(f.Kind), NameZH: strings.TrimSpace(f.NameZH), NameEN: strings.TrimSpace(f.NameEN), Feed: "nbmetro",
		Cover: benefits.Cover{Theme: f.Theme, Text: strings.TrimSpace(f.Text)}, InstructionsZH: strings.TrimSpace(f.InstructionsZH), InstructionsEN: strings.TrimSpace(f.InstructionsEN)}
	var err error
	fen := func(s, field string) int64 {
		v, e := fenOf(s, field)
		if err == nil {
			err = e
		}
		return v
	}
	num := func(s, field string) int {
		v, e := intOf(s, field)
		if err == nil {
			err = e
		}
		return v
	}
	switch p.Kind {
	case benefits.AmountOff:
		p.Terms.AmountOff, p.Terms.MinFare = fen(f.Amount, "抵用金额 amount off"), fen(f.MinFare, "最低票价 minimum fare")
	case benefits.FixedPrice:
		p.Terms.FixedPrice = fen(f.Fixed, "固定票价 fixed price")
	case benefits.Percentage:
		p.Terms.PercentOff, p.Terms.Cap = num(f.Percent, "折扣 percent off"), fen(f.Cap, "上限 cap")
	case benefits.MultiRide, benefits.PaperQR:
		p.Terms.Rides = num(f.Rides, "次数 rides")
	}
	p.Terms.Exclusive = f.Exclusive && p.Kind.Coupon()
	p.Valid.Days = num(f.Days, "有效天数 days")
	if p.Valid.Days == 0 {
		for _, d := range []struct {
			s   string
			dst *network.Date
		}{{f.From, &p.Valid.From}, {f.Until, &p.Valid.Until}} {
			if strings.TrimSpace(d.s) != "" && err == nil {
				*d.dst, err = network.ParseDate(strings.TrimSpace(d.s))
			}
		}
	}
	p.Scope = benefits.Scope{Lines: listOf(f.Lines), Stations: listOf(f.Stations), From: listOf(f.SectionFrom), To: listOf(f.SectionTo)}
	return p, err
}

// campaignForm is the new-campaign form with what was typed.
type campaignForm struct {
	Product, NameZH, NameEN, Starts, Ends, Stock, PerUser, BudgetUses, BudgetValue string
	Claim, Code, Direct, Purchase                                                  bool
	Products                                                                       []option
}

func (c *Console) campaignNew(w http.ResponseWriter, r *http.Request, st *state) {
	now := c.deps.Benefits.Now().In(shanghai)
	c.showCampaignForm(w, r, st, http.StatusOK, campaignForm{Product: r.URL.Query().Get("product"), Starts: now.Format("2006-01-02T15:04"),
		Ends: now.AddDate(0, 0, 30).Format("2006-01-02T15:04"), Stock: "1000", PerUser: "1", Claim: true}, nil)
}

func (c *Console) showCampaignForm(w http.ResponseWriter, r *http.Request, st *state, status int, f campaignForm, e *bilingual) {
	ps, err := c.deps.Benefits.Products(r.Context(), st.principal.Tenant(), benefitsOwner)
	if err != nil {
		c.fail(w, r, st, err)
		return
	}
	for _, p := range ps {
		id := strconv.FormatInt(p.ID, 10)
		f.Products = append(f.Products, option{id, fmt.Sprintf("#%d %s · %s", p.ID, pickName(p.NameZH, p.NameEN, st.lang), st.lang.T("bn.kind."+string(p.Kind))), f.Product == id})
	}
	v := c.newViewBack(r, st, "bn.campaign.new", "/benefits/campaigns/new")
	v.Error = e
	v.Data = f
	c.render(w, r, status, "benefits_campaign_new.html", v)
}

// localTime reads a datetime-local value in Beijing time.
func localTime(s, field string) (time.Time, error) {
	t, err := time.ParseInLocation("2006-01-02T15:04", strings.TrimSpace(s), shanghai)
	if err != nil {
		return time.Time{}, fault.Newf(fault.Invalid, "bad_time", "%s 时间格式错误", "%s is not a date and time", field)
	}
	return t, nil
}

func (c *Console) campaignCreate(w http.ResponseWriter, r *http.Request, st *state) {
	f := campaignForm{Product: r.PostFormValue("product"), NameZH: r.PostFormValue("name_zh"), NameEN: r.PostFormValue("name_en"),
		Starts: r.PostFormValue("starts"), Ends: r.PostFormValue("ends"), Stock: r.PostFormValue("stock"), PerUser: r.PostFormValue("per_user"),
		BudgetUses: r.PostFormValue("budget_uses"), BudgetValue: r.PostFormValue("budget_value"),
		Claim: r.PostFormValue("claim") == "1", Code: r.PostFormValue("code") == "1", Direct: r.PostFormValue("direct") == "1",
		Purchase: r.PostFormValue("purchase") == "1"}
	cp := benefits.Campaign{NameZH: strings.TrimSpace(f.NameZH), NameEN: strings.TrimSpace(f.NameEN)}
	var err error
	first := func(e error) {
		if err == nil {
			err = e
		}
	}
	pid, e := strconv.ParseInt(f.Product, 10, 64)
	if e != nil || pid <= 0 {
		first(fault.New(fault.Invalid, "product_required", "请选择产品", "choose a product"))
	}
	cp.ProductID = pid
	cp.Starts, e = localTime(f.Starts, "开始 start")
	first(e)
	cp.Ends, e = localTime(f.Ends, "结束 end")
	first(e)
	cp.Stock, e = intOf(f.Stock, "库存 stock")
	first(e)
	cp.PerUser, e = intOf(f.PerUser, "每人限领 per person")
	first(e)
	cp.BudgetUses, e = intOf(f.BudgetUses, "核销次数预算 uses")
	first(e)
	cp.BudgetValue, e = fenOf(f.BudgetValue, "金额预算 value")
	first(e)
	for _, ch := range []struct {
		on bool
		ch benefits.Channel
	}{{f.Claim, benefits.ClaimChannel}, {f.Code, benefits.CodeChannel}, {f.Direct, benefits.DirectChannel}, {f.Purchase, benefits.PurchaseChannel}} {
		if ch.on {
			cp.Channels = append(cp.Channels, ch.ch)
		}
	}
	if err == nil {
		var created benefits.Campaign
		created, err = c.deps.Benefits.CreateCampaign(r.Context(), st.principal.Tenant(), cp, benefitsOwner, consoleActor(st))
		if err == nil {
			http.Redirect(w, r, campaignPath(created.ID), http.StatusSeeOther)
			return
		}
	}
	if fault.CodeOf(err) == fault.Internal {
		c.internalError(w, r, st, err)
		return
	}
	m := faultMsg(err)
	c.showCampaignForm(w, r, st, statusOf(err), f, &m)
}

// campaignPage is one campaign with its numbers, trail and the actions
// the user may take.
type campaignPage struct {
	ID                             int64
	URL                            string
	Name                           string
	Status                         benefits.Status
	StatusName                     string
	Product                        productView
	Starts, Ends                   string
	Channels                       string
	Stock, PerUser                 int
	Budgets                        string
	Stats                          benefits.Stats
	Conversion                     string
	Spent                          string
	ByChannel                      []option
	Hourly                         []hourRow
	Chart                          any  // the hourly chart's data, JSON in the page
	HasChart                       bool // some hour has an issue or a ride to draw
	Events                         []eventRow
	Actions                        []actionView
	Batches                        []batchRow
	CanCodes, CanIssue, CanSeeUses bool
	// CanCodeFiles lets the user download and print the codes themselves,
	// which only who generates them may (benefits:write).
	CanCodeFiles               bool
	IssueResult                *issueSummary
	CodeChannel, DirectChannel bool
}

type hourRow struct {
	Hour          string
	Issued, Rides int
}

type eventRow struct {
	At, By, Action, From, To, Reason string
}

type actionView struct {
	Action, Label string
	NeedsReason   bool
	Danger        bool
}

type batchRow struct {
	ID, Count, Redeemed int64
	At, By, CSV, Print  string
}

type issueSummary struct {
	Issued, Refused int
	Reasons         []string
}

func (c *Console) campaignShow(w http.ResponseWriter, r *http.Request, st *state) {
	c.showCampaign(w, r, st, http.StatusOK, nil, nil)
}

func (c *Console) showCampaign(w http.ResponseWriter, r *http.Request, st *state, status int, alert *bilingual, issued *issueSummary) {
	id, ok := orderID(r)
	if !ok {
		c.renderError(w, r, st, http.StatusNotFound, faultMsg(fault.New(fault.NotFound, "campaign_not_found", "活动不存在", "campaign not found")))
		return
	}
	ctx, l := r.Context(), st.lang
	bn := c.deps.Benefits
	cp, err := bn.Campaign(ctx, st.principal.Tenant(), id)
	if err != nil {
		c.fail(w, r, st, err)
		return
	}
	p, err := bn.Product(ctx, st.principal.Tenant(), cp.ProductID)
	if err != nil {
		c.fail(w, r, st, err)
		return
	}
	stats, err := c.deps.Benefits.Stats(ctx, st.principal.Tenant(), id)
	if err != nil {
		c.fail(w, r, st, err)
		return
	}
	events, err := bn.Events(ctx, st.principal.Tenant(), id)
	if err != nil {
		c.fail(w, r, st, err)
		return
	}
	batches, err := bn.CodeBatches(ctx, st.principal.Tenant(), id)
	if err != nil {
		c.fail(w, r, st, err)
		return
	}
	eff := stats.Status
	d := campaignPage{ID: id, URL: campaignPath(id), Name: pickName(cp.NameZH, cp.NameEN, l), Status: eff, StatusName: l.T("bn.status." + string(eff)),
		Product: formatProduct(p, l, c.placeNames(ctx, l)), Starts: beijing(cp.Starts), Ends: beijing(cp.Ends), Stock: cp.Stock, PerUser: cp.PerUser,
		Stats: stats, Conversion: fmt.Sprintf("%.1f%%", stats.Conversion*100), Spent: yuan(stats.Spent), IssueResult: issued}
	var chans []string
	for _, ch := range cp.Channels {
		chans = append(chans, l.T("bn.channel."+string(ch)))
		d.CodeChannel = d.CodeChannel || ch == benefits.CodeChannel
		d.DirectChannel = d.DirectChannel || ch == benefits.DirectChannel
	}
	d.Channels = strings.Join(chans, "、")
	for _, ch := range []benefits.Channel{benefits.ClaimChannel, benefits.CodeChannel, benefits.DirectChannel} {
		d.ByChannel = append(d.ByChannel, option{Value: strconv.Itoa(stats.ByChannel[ch]), Label: l.T("bn.channel." + string(ch))})
	}
	switch {
	case cp.BudgetUses == 0 && cp.BudgetValue == 0:
		d.Budgets = l.T("bn.budget.none")
	default:
		var b []string
		if cp.BudgetUses > 0 {
			b = append(b, l.Tf("bn.budget.uses", cp.Uses, cp.BudgetUses))
		}
		if cp.BudgetValue > 0 {
			b = append(b, l.Tf("bn.budget.value", yuan(cp.Spent), yuan(cp.BudgetValue)))
		}
		d.Budgets = strings.Join(b, "；")
	}
	hours, issuedN, ridesN := []string{}, []int{}, []int{}
	for _, h := range stats.Hourly {
		label := h.Hour.In(shanghai).Format("01-02 15:00")
		d.Hourly = append(d.Hourly, hourRow{label, h.Issued, h.Rides})
		hours, issuedN, ridesN = append(hours, label), append(issuedN, h.Issued), append(ridesN, h.Rides)
		d.HasChart = d.HasChart || h.Issued > 0 || h.Rides > 0
	}
	issuedLabel := l.T("bn.stats.issued")
	if stats.Automatic {
		issuedLabel = l.T("bn.stats.reached.first")
	}
	d.Chart = map[string]any{"hours": hours, "issued": issuedN, "rides": ridesN,
		"labels": map[string]string{"issued": issuedLabel, "rides": l.T("bn.stats.rides")}}
	for _, e := range events {
		row := eventRow{At: beijingSec(e.At), By: e.By, Action: l.T("bn.action." + e.Action), To: l.T("bn.status." + string(e.To)), Reason: e.Reason}
		if e.From != "" {
			row.From = l.T("bn.status." + string(e.From))
		}
		d.Events = append(d.Events, row)
	}
	role := st.principal.Role()
	for _, a := range []struct {
		action benefits.Action
		perm   identity.Permission
		from   []benefits.Status
		reason bool
		danger bool
	}{
		{benefits.Submit, identity.BenefitsEdit, []benefits.Status{benefits.Draft, benefits.Rejected}, false, false},
		{benefits.Approve, identity.BenefitsReview, []benefits.Status{benefits.Submitted}, false, false},
		{benefits.Reject, identity.BenefitsReview, []benefits.Status{benefits.Submitted}, true, true},
		{benefits.Pause, identity.BenefitsReview, []benefits.Status{benefits.Active, benefits.Approved}, true, true},
		{benefits.Resume, identity.BenefitsReview, []benefits.Status{benefits.Paused}, false, false},
		{benefits.Terminate, identity.BenefitsReview, []benefits.Status{benefits.Approved, benefits.Active, benefits.Paused}, true, true},
	} {
		if !identity.Allowed(role, a.perm) {
			continue
		}
		for _, s := range a.from {
			if s == eff {
				d.Actions = append(d.Actions, actionView{Action: string(a.action), Label: l.T("bn.action." + string(a.action)), NeedsReason: a.reason, Danger: a.danger})
			}
		}
	}
	over := eff == benefits.Terminated || eff == benefits.Ended || eff == benefits.Rejected
	d.CanCodes = d.CodeChannel && !over && identity.Allowed(role, identity.BenefitsEdit)
	d.CanIssue = d.DirectChannel && eff == benefits.Active && identity.Allowed(role, identity.BenefitsEdit)
	d.CanSeeUses = identity.Allowed(role, identity.MetroRead)
	d.CanCodeFiles = identity.Allowed(role, identity.BenefitsEdit)
	for _, b := range batches {
		d.Batches = append(d.Batches, batchRow{ID: b.ID, Count: int64(b.Count), Redeemed: int64(b.Redeemed), At: beijing(b.CreatedAt), By: b.CreatedBy,
			CSV: "/benefits/code-batches/" + strconv.FormatInt(b.ID, 10) + "/codes.csv", Print: fmt.Sprintf("%s/code-batches/%d/print", d.URL, b.ID)})
	}
	v := c.newViewBack(r, st, "bn.campaign.title", d.URL)
	v.Error = alert
	v.Scripts = []string{"/static/vendor/echarts/echarts.min.js", "/static/benefits_stats.js"}
	v.Data = d
	c.render(w, r, status, "benefits_campaign.html", v)
}

// campaignAction runs a review or life-cycle action; the route table
// says who may.
func (c *Console) campaignAction(a benefits.Action) func(http.ResponseWriter, *http.Request, *state) {
	return func(w http.ResponseWriter, r *http.Request, st *state) {
		id, ok := orderID(r)
		if !ok {
			c.renderError(w, r, st, http.StatusNotFound, faultMsg(fault.New(fault.NotFound, "campaign_not_found", "活动不存在", "campaign not found")))
			return
		}
		if _, err := c.deps.Benefits.Act(r.Context(), st.principal.Tenant(), id, a, consoleActor(st), r.PostFormValue("reason")); err != nil {
			c.campaignFailed(w, r, st, err)
			return
		}
		http.Redirect(w, r, campaignPath(id), http.StatusSeeOther)
	}
}

func (c *Console) campaignFailed(w http.ResponseWriter, r *http.Request, st *state, err error) {
	if fault.CodeOf(err) == fault.Internal {
		c.internalError(w, r, st, err)
		return
	}
	m := faultMsg(err)
	c.showCampaign(w, r, st, statusOf(err), &m, nil)
}

// campaignCodes generates a batch of redemption codes.
func (c *Console) campaignCodes(w http.ResponseWriter, r *http.Request, st *state) {
	id, _ := orderID(r)
	n, err := intOf(r.PostFormValue("count"), "数量 count")
	if err == nil {
		_, err = c.deps.Benefits.GenerateCodes(r.Context(), st.principal.Tenant(), id, n, consoleActor(st))
	}
	if err != nil {
		c.campaignFailed(w, r, st, err)
		return
	}
	http.Redirect(w, r, campaignPath(id)+"#codes", http.StatusSeeOther)
}

// campaignIssue issues one ticket to each account ID listed.
func (c *Console) campaignIssue(w http.ResponseWriter, r *http.Request, st *state) {
	id, _ := orderID(r)
	var accounts []int64
	for _, s := range listOf(r.PostFormValue("accounts")) {
		a, err := strconv.ParseInt(s, 10, 64)
		if err != nil || a <= 0 {
			c.campaignFailed(w, r, st, fault.Newf(fault.Invalid, "bad_account_id", "账号编号 %q 无效", "account ID %q is not valid", s))
			return
		}
		accounts = append(accounts, a)
	}
	res, err := c.deps.Benefits.IssueDirect(r.Context(), st.principal.Tenant(), id, accounts)
	if err != nil {
		c.campaignFailed(w, r, st, err)
		return
	}
	sum := &issueSummary{}
	for i, x := range res {
		if x.Err != nil {
			sum.Refused++
			if len(sum.Reasons) < 20 {
				sum.Reasons = append(sum.Reasons, fmt.Sprintf("%d: %s", accounts[i], st.lang.Pick(faultMsg(x.Err))))
			}
		} else {
			sum.Issued++
		}
	}
	c.showCampaign(w, r, st, http.StatusOK, nil, sum)
}

// csvDownload writes rows as a UTF-8 CSV attachment.
func csvDownload(w http.ResponseWriter, name string, rows [][]string) {
	var b bytes.Buffer
	b.WriteString("\ufeff")
	cw := csv.NewWriter(&b)
	for _, row := range rows {
		out := make([]string, len(row))
		for i, cell := range row {
			out[i] = csvCell(cell) // names typed by merchants' staff, and the like, are never formulas
		}
		cw.Write(out)
	}
	cw.Flush()
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.Write(b.Bytes())
}

func (c *Console) codesCSV(w http.ResponseWriter, r *http.Request, st *state) {
	c.writeCodesCSV(w, r, st, c.deps.Benefits.Codes)
}

// writeCodesCSV exports the codes of the batch the path names, read by
// codes in the caller's scope (the operator's through benefits, a
// merchant's through distribution).
func (c *Console) writeCodesCSV(w http.ResponseWriter, r *http.Request, st *state, codes func(context.Context, tenant.Scope, int64, func(benefits.CodeRow) error) error) {
	id, ok := orderID(r)
	if !ok {
		http.NotFound(w, r)
		return
	}
	rows := [][]string{{"code", "redeemed_by", "redeemed_at", "ticket_id"}}
	err := codes(r.Context(), st.principal.Tenant(), id, func(cr benefits.CodeRow) error {
		row := []string{benefits.DisplayCode(cr.Code), "", "", ""}
		if cr.TicketID != 0 {
			row[1], row[2], row[3] = strconv.FormatInt(cr.RedeemedBy, 10), beijingSec(cr.RedeemedAt), strconv.FormatInt(cr.TicketID, 10)
		}
		rows = append(rows, row)
		return nil
	})
	if err != nil {
		c.fail(w, r, st, err)
		return
	}
	csvDownload(w, fmt.Sprintf("code-batch-%d.csv", id), rows)
}

func (c *Console) campaignStatsCSV(w http.ResponseWriter, r *http.Request, st *state) {
	id, _ := orderID(r)
	s, err := c.deps.Benefits.Stats(r.Context(), st.principal.Tenant(), id)
	if err != nil {
		c.fail(w, r, st, err)
		return
	}
	rows := [][]string{{"hour", "issued", "rides"}}
	for _, h := range s.Hourly {
		rows = append(rows, []string{h.Hour.In(shanghai).Format(time.RFC3339), strconv.Itoa(h.Issued), strconv.Itoa(h.Rides)})
	}
	rows = append(rows, []string{"total", strconv.Itoa(s.Issued), strconv.Itoa(s.Rides)})
	c.sheetDownload(w, r, st, fmt.Sprintf("campaign-%d-stats", id), "stats", rows) // ?format=xlsx for XLSX
}

// printPageSize is how many codes one printable sheet holds.
const printPageSize = 100

// printCard is one printable ticket: its code as text and as a QR image.
type printCard struct {
	Code string
	QR   template.URL // a data: URL of the PNG
}

type printView struct {
	Campaign, Product, Terms, Validity, Instructions string
	Batch, Page, Pages                               int
	Cards                                            []printCard
	PrevURL, NextURL, BackURL                        string
}

// codesPrint renders a sheet of a batch's codes, 100 to a page, each with
// its QR code, for printing as paper tickets (纸质二维码票) or handing out
// printed codes. The QR holds the redemption code: scanned or typed in the
// H5 wallet it becomes the holder's ticket.
func (c *Console) codesPrint(w http.ResponseWriter, r *http.Request, st *state) {
	ctx, l := r.Context(), st.lang
	id, ok1 := orderID(r)
	bid, err := strconv.ParseInt(r.PathValue("batch"), 10, 64)
	notFound := faultMsg(fault.New(fault.NotFound, "batch_not_found", "兑换码批次不存在", "code batch not found"))
	if !ok1 || err != nil {
		c.renderError(w, r, st, http.StatusNotFound, notFound)
		return
	}
	bn := c.deps.Benefits
	cp, err := bn.Campaign(ctx, st.principal.Tenant(), id)
	if err != nil {
		c.fail(w, r, st, err)
		return
	}
	batches, err := bn.CodeBatches(ctx, st.principal.Tenant(), id)
	if err != nil {
		c.fail(w, r, st, err)
		return
	}
	var batch *benefits.CodeBatch
	for i := range batches {
		if batches[i].ID == bid {
			batch = &batches[i]
		}
	}
	if batch == nil {
		c.renderError(w, r, st, http.StatusNotFound, notFound)
		return
	}
	p, err := bn.Product(ctx, st.principal.Tenant(), cp.ProductID)
	if err != nil {
		c.fail(w, r, st, err)
		return
	}
	pages := max(1, (batch.Count+printPageSize-1)/printPageSize)
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	page = min(max(page, 1), pages)
	pv := formatProduct(p, l, c.placeNames(ctx, l))
	d := printView{Campaign: pickName(cp.NameZH, cp.NameEN, l), Product: pv.Name, Terms: pv.Terms, Validity: pv.Validity,
		Instructions: pickName(p.InstructionsZH, p.InstructionsEN, l), Batch: batch.Count, Page: page, Pages: pages, BackURL: campaignPath(id) + "#codes"}
	if d.Instructions == "" {
		d.Instructions = l.T("bn.print.how")
	}
	base := fmt.Sprintf("%s/code-batches/%d/print?page=", campaignPath(id), bid)
	if page > 1 {
		d.PrevURL = base + strconv.Itoa(page-1)
	}
	if page < pages {
		d.NextURL = base + strconv.Itoa(page+1)
	}
	skip, n := (page-1)*printPageSize, 0
	errPageDone := errors.New("page done")
	err = bn.Codes(ctx, st.principal.Tenant(), bid, func(row benefits.CodeRow) error {
		n++
		if n <= skip {
			return nil
		}
		if len(d.Cards) == printPageSize {
			return errPageDone
		}
		shown := benefits.DisplayCode(row.Code)
		png, err := qrcode.Encode(shown, qrcode.Medium, 160)
		if err != nil {
			return fault.Wrap(err, "draw qr code")
		}
		d.Cards = append(d.Cards, printCard{Code: shown, QR: template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png))})
		return nil
	})
	if err != nil && !errors.Is(err, errPageDone) {
		c.fail(w, r, st, err)
		return
	}
	v := c.newView(r, st, "bn.print.title")
	v.Data = d
	c.render(w, r, http.StatusOK, "benefits_print.html", v)
}
