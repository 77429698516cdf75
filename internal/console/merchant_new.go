package console

import (
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"piao/internal/benefits"
	"piao/internal/fault"
	"piao/internal/identity"
	"piao/internal/upload"
)

// The merchant's new campaign (SPEC B2): a product made from one of the
// operator's templates (its kind and price from the template, its terms
// within the template's bounds), its brand cover, and a draft prepaid
// campaign of it, whose stock and value purchases add.

// merchantNewRoutes are the new-campaign form and its POST.
func (c *Console) merchantNewRoutes() []route {
	noBenefits := unless(c.deps.Benefits != nil, benefits.ErrNotRunning)
	return []route{
		{Page: Page{"GET", merchantHome + "/campaigns/new", identity.MerchantCampaigns}, handle: c.merchantCampaignNew, off: noBenefits},
		{Page: Page{"POST", merchantHome + "/campaigns", identity.MerchantCampaigns}, handle: c.merchantCampaignCreate, off: noBenefits},
	}
}

// merchantNewForm is the new-campaign form with what was typed.
type merchantNewForm struct {
	productForm
	Template                      string
	Chosen                        *templateView
	Templates                     []templateView
	Starts, Ends, PerUser, Budget string
	Weekdays                      []option
	HourFrom, HourTo              string
	Claim, Code, Direct           bool
	CoverMax                      string
}

// templateView is a template, formatted.
type templateView struct {
	ID                        int64
	Value, Name, Kind         string
	KindKey                   benefits.Kind
	Price, Bounds, Desc, Link string
	Selected                  bool
}

func formatTemplate(t benefits.Template, l lang, chosen string) templateView {
	id := strconv.FormatInt(t.ID, 10)
	v := templateView{ID: t.ID, Value: id, Name: pickName(t.NameZH, t.NameEN, l), Kind: l.T("bn.kind." + string(t.Kind)), KindKey: t.Kind,
		Desc: pickName(t.DescriptionZH, t.DescriptionEN, l), Link: merchantHome + "/campaigns/new?template=" + id, Selected: chosen == id}
	if t.UnitPrice > 0 {
		v.Price = l.Tf("mk.new.price", yuan(t.UnitPrice))
	} else {
		v.Price = l.T("mk.new.value_priced")
	}
	var b []string
	if t.MaxAmountOff > 0 {
		b = append(b, l.Tf("mk.new.max_amount_off", yuan(t.MaxAmountOff)))
	}
	if t.MinFixedPrice > 0 {
		b = append(b, l.Tf("mk.new.min_fixed_price", yuan(t.MinFixedPrice)))
	}
	if t.MaxPercentOff > 0 {
		b = append(b, l.Tf("mk.new.max_percent_off", t.MaxPercentOff))
	}
	if t.MaxCap > 0 {
		b = append(b, l.Tf("mk.new.max_cap", yuan(t.MaxCap)))
	}
	if t.MaxRides > 0 {
		b = append(b, l.Tf("mk.new.max_rides", t.MaxRides))
	}
	if len(b) == 0 {
		b = []string{l.T("mk.new.no_bounds")}
	}
	v.Bounds = strings.Join(b, l.T("list.parts"))
	return v
}

func (c *Console) merchantCampaignNew(w http.ResponseWriter, r *http.Request, st *state) {
	now := c.deps.Benefits.Now().In(shanghai)
	f := merchantNewForm{Template: r.URL.Query().Get("template"), Starts: now.Format("2006-01-02T15:04"), Ends: now.AddDate(0, 0, 30).Format("2006-01-02T15:04"),
		PerUser: "1", Claim: true}
	f.Days = "30"
	c.showMerchantNew(w, r, st, http.StatusOK, f, nil)
}

func (c *Console) showMerchantNew(w http.ResponseWriter, r *http.Request, st *state, status int, f merchantNewForm, e *bilingual) {
	l := st.lang
	ts, err := c.deps.Benefits.Templates(r.Context(), true)
	if err != nil {
		c.fail(w, r, st, err)
		return
	}
	f.Templates, f.Chosen = nil, nil
	for _, t := range ts {
		tv := formatTemplate(t, l, f.Template)
		f.Templates = append(f.Templates, tv)
		if tv.Selected {
			f.Chosen = &f.Templates[len(f.Templates)-1]
			f.Kind = string(t.Kind)
		}
	}
	f.productForm = c.productFormView(l, f.productForm)
	picked := map[string]bool{}
	for _, d := range f.Weekdays {
		picked[d.Value] = d.Selected
	}
	f.Weekdays = nil
	for i, key := range weekdayKeys {
		s := strconv.Itoa(i + 1)
		f.Weekdays = append(f.Weekdays, option{s, l.T(key), picked[s]})
	}
	f.CoverMax = "1 MiB"
	v := c.newViewBack(r, st, "mk.new.title", merchantHome+"/campaigns/new")
	v.Error = e
	v.Data = f
	c.render(w, r, status, "merchant_campaign_new.html", v)
}

// weekdayKeys name the weekdays 1 (Monday) to 7 (Sunday).
var weekdayKeys = []string{"mk.weekday.1", "mk.weekday.2", "mk.weekday.3", "mk.weekday.4", "mk.weekday.5", "mk.weekday.6", "mk.weekday.7"}

// merchantCampaignFormBytes is the largest new-campaign form: a cover of
// the largest size and the fields. The HTTP server applies it (BodyLimits).
var merchantCampaignFormBytes = int64(upload.Covers.MaxSize) + 1<<20

// merchantFormMemory is how much of the multipart form stays in memory;
// the server's body limit bounds the whole request.
var merchantFormMemory = merchantCampaignFormBytes

// minuteOf reads "HH:MM" as minutes after midnight; "" is 0.
func minuteOf(s, field string) (int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	t, err := time.Parse("15:04", s)
	if err != nil {
		return 0, fault.Newf(fault.Invalid, "bad_hour", "%s 应为 时:分", "%s must be hours:minutes", field)
	}
	return t.Hour()*60 + t.Minute(), nil
}

func (c *Console) merchantCampaignCreate(w http.ResponseWriter, r *http.Request, st *state) {
	if err := r.ParseMultipartForm(merchantFormMemory); err != nil && !errors.Is(err, http.ErrNotMultipart) {
		c.renderError(w, r, st, http.StatusBadRequest, faultMsg(fault.New(fault.Invalid, "bad_form", "表单无法读取", "the form could not be read")))
		return
	}
	v := r.PostFormValue
	f := merchantNewForm{Template: v("template"), Starts: v("starts"), Ends: v("ends"), PerUser: v("per_user"), Budget: v("budget_uses"),
		HourFrom: v("hour_from"), HourTo: v("hour_to"), Claim: v("claim") == "1", Code: v("code") == "1", Direct: v("direct") == "1"}
	f.productForm = productForm{NameZH: v("name_zh"), NameEN: v("name_en"), Amount: v("amount_off"), MinFare: v("min_fare"), Fixed: v("fixed_price"),
		Percent: v("percent_off"), Cap: v("cap"), Rides: v("rides"), Days: v("days"), From: v("from"), Until: v("until"),
		Lines: v("lines"), Stations: v("stations"), SectionFrom: v("section_from"), SectionTo: v("section_to"),
		Theme: v("theme"), Text: v("cover_text"), Exclusive: v("exclusive") == "1", InstructionsZH: v("instructions_zh"), InstructionsEN: v("instructions_en")}
	days := map[string]bool{}
	if r.PostForm != nil {
		for _, d := range r.PostForm["weekday"] {
			days[d] = true
		}
	}
	for d := 1; d <= 7; d++ {
		s := strconv.Itoa(d)
		f.Weekdays = append(f.Weekdays, option{Value: s, Selected: days[s]})
	}
	created, err := c.createMerchantCampaign(r, st, &f)
	if err == nil {
		http.Redirect(w, r, merchantCampaignPath(created), http.StatusSeeOther)
		return
	}
	if fault.CodeOf(err) == fault.Internal {
		c.internalError(w, r, st, err)
		return
	}
	m := faultMsg(err)
	c.showMerchantNew(w, r, st, statusOf(err), f, &m)
}

// createMerchantCampaign checks the whole form, the cover file included,
// before it stores anything; then the product, its cover and the campaign.
func (c *Console) createMerchantCampaign(r *http.Request, st *state, f *merchantNewForm) (int64, error) {
	ctx, scope, bn := r.Context(), st.principal.Tenant(), c.deps.Benefits
	tid, err := strconv.ParseInt(f.Template, 10, 64)
	if err != nil || tid <= 0 {
		return 0, fault.New(fault.Invalid, "template_required", "请选择模板", "choose a template")
	}
	t, err := bn.Template(ctx, tid)
	if err != nil {
		return 0, err
	}
	f.Kind = string(t.Kind)
	p, err := productFromForm(f.productForm)
	if err != nil {
		return 0, err
	}
	for _, d := range f.Weekdays {
		if d.Selected {
			n, _ := strconv.Atoi(d.Value)
			p.Scope.Weekdays = append(p.Scope.Weekdays, n)
		}
	}
	if p.Scope.FromMinute, err = minuteOf(f.HourFrom, "起始时间 from"); err != nil {
		return 0, err
	}
	if p.Scope.ToMinute, err = minuteOf(f.HourTo, "结束时间 until"); err != nil {
		return 0, err
	}
	if err := t.Admits(p); err != nil {
		return 0, err
	}
	cp := benefits.Campaign{NameZH: strings.TrimSpace(f.NameZH), NameEN: strings.TrimSpace(f.NameEN), Prepaid: true}
	if cp.Starts, err = localTime(f.Starts, "开始 start"); err != nil {
		return 0, err
	}
	if cp.Ends, err = localTime(f.Ends, "结束 end"); err != nil {
		return 0, err
	}
	if cp.PerUser, err = intOf(f.PerUser, "每人限领 per person"); err != nil {
		return 0, err
	}
	if cp.BudgetUses, err = intOf(f.Budget, "核销次数预算 uses"); err != nil {
		return 0, err
	}
	for _, ch := range []struct {
		on bool
		ch benefits.Channel
	}{{f.Claim, benefits.ClaimChannel}, {f.Code, benefits.CodeChannel}, {f.Direct, benefits.DirectChannel}} {
		if ch.on {
			cp.Channels = append(cp.Channels, ch.ch)
		}
	}
	if err := cp.Validate(); err != nil {
		return 0, err
	}
	var cover *upload.File
	if file, hdr, ferr := r.FormFile("cover_image"); ferr == nil {
		defer file.Close()
		data, err := io.ReadAll(io.LimitReader(file, int64(upload.Covers.MaxSize)+1))
		if err != nil {
			return 0, fault.Wrap(err, "read cover")
		}
		cf, err := upload.Covers.Check(hdr.Filename, data)
		if err != nil {
			return 0, err
		}
		cover = &cf
	} else if !errors.Is(ferr, http.ErrMissingFile) && !errors.Is(ferr, http.ErrNotMultipart) {
		return 0, fault.New(fault.Invalid, "bad_form", "表单无法读取", "the form could not be read")
	}
	actor := consoleActor(st)
	prod, err := bn.CreateMerchantProduct(ctx, scope, tid, p, actor)
	if err != nil {
		return 0, err
	}
	if cover != nil {
		if _, err := bn.SetCover(ctx, scope, benefits.CoverImage{ProductID: prod.ID, Name: cover.Name, ContentType: cover.ContentType, SHA256: cover.SHA256, Data: cover.Data}, actor); err != nil {
			return 0, err
		}
	}
	cp.ProductID = prod.ID
	created, err := bn.CreateCampaign(ctx, scope, cp, scope.Owner(), actor)
	return created.ID, err
}
