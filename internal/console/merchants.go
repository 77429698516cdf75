package console

import (
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"piao/internal/abuse"
	"piao/internal/benefits"
	"piao/internal/distribution"
	"piao/internal/fault"
	"piao/internal/identity"
	"piao/internal/merchant"
	"piao/internal/realname"
	"piao/internal/tenant"
	"piao/internal/upload"
)

// Merchant onboarding (SPEC B1): the public application at
// /merchants/apply and its follow-up at /merchants/application, the
// operator's review queue at /merchants, the merchant admin's staff at
// /merchant/staff and the invitee's /merchant/invitations/accept.

// ApplicationFormBytes is the largest body of the console's application
// and paper forms: four papers of the largest size and the fields, as the
// API's. The HTTP server applies it (see BodyLimits).
const ApplicationFormBytes = 4*5<<20 + 1<<20

// BodyLimits are the console's forms that take more than the server's
// default body limit, by "METHOD /path": the forms that upload papers.
func BodyLimits() map[string]int64 {
	return map[string]int64{
		"POST /merchants/apply":              ApplicationFormBytes,
		"POST /merchants/application/papers": ApplicationFormBytes,
		"POST /merchant/campaigns":           merchantCampaignFormBytes,
		"POST /merchant/distribution/lists":  distribution.MaxBytes + 1<<20,
	}
}

// publicFormCookie carries the double-submit CSRF token of the public
// forms (applying, following an application, accepting an invitation),
// which have no session: the same scheme as the login form's.
const publicFormCookie = "piao_form_csrf"

// merchantRoutes are the onboarding pages.
func (c *Console) merchantRoutes() []route {
	off := unless(c.deps.Merchants != nil, merchant.ErrNotRunning)
	rs := []route{
		{Page: Page{"GET", "/merchants/apply", identity.Public}, handle: c.merchantApplyForm, off: off},
		{Page: Page{"POST", "/merchants/apply", identity.Public}, handle: c.merchantApply, preSession: true, off: off, limit: abuse.Apply},
		{Page: Page{"GET", "/merchants/application", identity.Public}, handle: c.applicationForm, off: off},
		{Page: Page{"POST", "/merchants/application", identity.Public}, handle: c.applicationShow, preSession: true, off: off, limit: abuse.Apply},
		{Page: Page{"POST", "/merchants/application/papers", identity.Public}, handle: c.applicationPapers, preSession: true, off: off, limit: abuse.Apply},
		{Page: Page{"POST", "/merchants/application/resubmit", identity.Public}, handle: c.applicationResubmit, preSession: true, off: off, limit: abuse.Apply},
		{Page: Page{"GET", "/merchants", identity.MerchantsRead}, handle: c.merchantQueue, off: off},
		{Page: Page{"GET", "/merchants/{id}", identity.MerchantsRead}, handle: c.merchantShow, off: off},
		{Page: Page{"GET", "/merchants/{id}/papers/{paper}", identity.MerchantsRead}, handle: c.merchantPaper, off: off},
		{Page: Page{"GET", "/merchant/staff", identity.MerchantUsers}, handle: c.staffPage, off: off},
		{Page: Page{"POST", "/merchant/staff", identity.MerchantUsers}, handle: c.staffInvite, off: off},
		{Page: Page{"POST", "/merchant/staff/{id}/grants", identity.MerchantUsers}, handle: c.staffGrants, off: off},
		{Page: Page{"POST", "/merchant/staff/{id}/disable", identity.MerchantUsers}, handle: c.staffDisabled(true), off: off},
		{Page: Page{"POST", "/merchant/staff/{id}/enable", identity.MerchantUsers}, handle: c.staffDisabled(false), off: off},
		{Page: Page{"GET", "/merchant/invitations/accept", identity.Public}, handle: c.invitationForm, off: off},
		{Page: Page{"POST", "/merchant/invitations/accept", identity.Public}, handle: c.invitationAccept, preSession: true, off: off, limit: abuse.Login},
	}
	for _, a := range []merchant.Action{merchant.Approve, merchant.Reject, merchant.RequestInfo, merchant.Suspend, merchant.Reinstate} {
		rs = append(rs, route{Page: Page{"POST", "/merchants/{id}/" + string(a), identity.MerchantsReview}, handle: c.merchantReview(a), off: off})
	}
	return rs
}

// publicFormToken returns the page's double-submit token, keeping the
// browser's if it has one (two open tabs both work), and sets its cookie
// on path.
func (c *Console) publicFormToken(w http.ResponseWriter, r *http.Request, path string) string {
	token := randomToken()
	if ck, err := r.Cookie(publicFormCookie); err == nil && len(ck.Value) == 43 {
		token = ck.Value
	}
	c.setCookie(w, r, &http.Cookie{Name: publicFormCookie, Value: token, Path: path, MaxAge: int(loginCSRFTTL / time.Second), SameSite: http.SameSiteStrictMode})
	return token
}

// publicFormOK checks a public form's double-submit token.
func publicFormOK(r *http.Request) bool {
	ck, err := r.Cookie(publicFormCookie)
	return err == nil && tokensEqual(ck.Value, r.FormValue(csrfField))
}

// formUploads reads the multipart files of the fields licence and other.
func formUploads(r *http.Request) ([]merchant.Upload, error) {
	if r.MultipartForm == nil {
		return nil, nil
	}
	var out []merchant.Upload
	for _, f := range []struct {
		field string
		kind  merchant.PaperKind
	}{{"licence", merchant.Licence}, {"other", merchant.OtherPaper}} {
		for _, fh := range r.MultipartForm.File[f.field] {
			if fh.Size == 0 && fh.Filename == "" {
				continue // an empty file input
			}
			data, err := readPart(fh)
			if err != nil {
				return nil, err
			}
			out = append(out, merchant.Upload{Kind: f.kind, Name: fh.Filename, Data: data})
		}
	}
	return out, nil
}

func readPart(fh *multipart.FileHeader) ([]byte, error) {
	f, err := fh.Open()
	if err != nil {
		return nil, fault.Wrap(err, "open upload")
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, int64(upload.Papers.MaxSize)+1))
	return data, fault.Wrap(err, "read upload")
}

// parseUpload parses a multipart form; a body over the limit is the
// refusal the API gives.
func parseUpload(r *http.Request) error {
	if err := r.ParseMultipartForm(8 << 20); err != nil && err != http.ErrNotMultipart {
		return fault.New(fault.Invalid, "bad_form", "表单无法读取（文件是否过大？每次至多 20 MiB）", "the form could not be read (files too large? at most 20 MiB at once)")
	}
	return nil
}

// ---- applying ----

// applyData is the application form: the values typed (never the
// password) and the page's token.
type applyData struct {
	Token                                                   string
	LegalName, CreditCode, ContactName, ContactPhone, Admin string
	// Applicant is the applicant token, shown once after applying.
	Applicant string
	Merchant  merchant.Merchant
}

func (c *Console) merchantApplyForm(w http.ResponseWriter, r *http.Request, st *state) {
	c.showApply(w, r, st, http.StatusOK, applyData{}, nil)
}

func (c *Console) showApply(w http.ResponseWriter, r *http.Request, st *state, status int, d applyData, alert *bilingual) {
	d.Token = c.publicFormToken(w, r, "/merchants")
	v := c.newViewBack(r, st, "mc.apply.title", "/merchants/apply")
	v.Error, v.Data = alert, d
	c.render(w, r, status, "merchant_apply.html", v)
}

func (c *Console) merchantApply(w http.ResponseWriter, r *http.Request, st *state) {
	refused := func(err error, d applyData) {
		if fault.CodeOf(err) == fault.Internal {
			c.internalError(w, r, st, err)
			return
		}
		m := faultMsg(err)
		c.showApply(w, r, st, statusOf(err), d, &m)
	}
	if err := parseUpload(r); err != nil {
		refused(err, applyData{})
		return
	}
	d := applyData{LegalName: r.FormValue("legal_name"), CreditCode: r.FormValue("credit_code"), ContactName: r.FormValue("contact_name"),
		ContactPhone: r.FormValue("contact_phone"), Admin: r.FormValue("admin_username")}
	if !publicFormOK(r) {
		m := msg("csrf.invalid")
		c.showApply(w, r, st, http.StatusForbidden, d, &m)
		return
	}
	if r.FormValue("admin_password") != r.FormValue("admin_password2") {
		m := msg("mc.password.mismatch")
		c.showApply(w, r, st, http.StatusUnprocessableEntity, d, &m)
		return
	}
	papers, err := formUploads(r)
	if err != nil {
		refused(err, d)
		return
	}
	receipt, err := c.deps.Merchants.Apply(r.Context(), merchant.Application{LegalName: d.LegalName, CreditCode: d.CreditCode,
		Contact: merchant.Contact{Name: d.ContactName, Phone: d.ContactPhone}, AdminUsername: d.Admin, AdminPassword: r.FormValue("admin_password"), Papers: papers, Kind: merchant.Kind(r.FormValue("kind"))})
	if err != nil {
		refused(err, d)
		return
	}
	v := c.newViewBack(r, st, "mc.applied.title", "/merchants/apply")
	v.Data = applyData{Applicant: receipt.Token, Merchant: receipt.Merchant}
	c.render(w, r, http.StatusOK, "merchant_applied.html", v)
}

// ---- following an application ----

// applicationData is the status page: the token form, or the dossier.
type applicationData struct {
	Token     string // the page's CSRF token
	Applicant string // the applicant token, carried in the forms' bodies
	Dossier   *dossierView
	Notice    string
}

// dossierView is a merchant's dossier, formatted.
type dossierView struct {
	Merchant   merchant.Merchant
	Phone      string // masked
	StatusName string
	Created    string
	Papers     []paperRow
	Events     []merchantEventRow
	CanAdd     bool // papers may be added
	CanResub   bool // the applicant may resubmit
	// L is the page's language and Links whether papers link to their
	// files (the operator's page), for the shared template.
	L     lang
	Links bool
}

type paperRow struct {
	ID                     int64
	Kind, Name, Type, Size string
	At                     string
}

type merchantEventRow struct {
	At, Actor, Action, From, To, Reason string
}

func (c *Console) dossierView(d merchant.Dossier, l lang) *dossierView {
	m := d.Merchant
	v := &dossierView{L: l, Merchant: m, Phone: realname.MaskPhone(m.Contact.Phone), StatusName: l.T("mc.status." + string(m.Status)), Created: beijing(m.CreatedAt),
		CanAdd: m.Status == merchant.Applied || m.Status == merchant.InfoRequested, CanResub: m.Status == merchant.InfoRequested}
	for _, p := range d.Papers {
		v.Papers = append(v.Papers, paperRow{ID: p.ID, Kind: l.T("mc.paper." + string(p.Kind)), Name: p.Name, Type: p.ContentType,
			Size: strconv.FormatFloat(float64(p.Size)/1024, 'f', 1, 64) + " KiB", At: beijing(p.CreatedAt)})
	}
	for _, e := range d.Events {
		row := merchantEventRow{At: beijing(e.At), Actor: e.Actor, To: l.T("mc.status." + string(e.To)), Reason: e.Reason}
		if e.From != "" {
			row.From = l.T("mc.status." + string(e.From))
		}
		if e.Action != "" {
			row.Action = l.T("mc.action." + string(e.Action))
		} else {
			row.Action = l.T("mc.action.apply")
		}
		v.Events = append(v.Events, row)
	}
	return v
}

func (c *Console) applicationForm(w http.ResponseWriter, r *http.Request, st *state) {
	c.showApplication(w, r, st, http.StatusOK, applicationData{}, nil)
}

func (c *Console) showApplication(w http.ResponseWriter, r *http.Request, st *state, status int, d applicationData, alert *bilingual) {
	d.Token = c.publicFormToken(w, r, "/merchants")
	v := c.newViewBack(r, st, "mc.status.title", "/merchants/application")
	v.Error, v.Data = alert, d
	c.render(w, r, status, "merchant_application.html", v)
}

// applicationAnswer shows the dossier of the applicant token in the form,
// with notice, or err's refusal.
func (c *Console) applicationAnswer(w http.ResponseWriter, r *http.Request, st *state, notice string, err error) {
	token := r.FormValue("applicant")
	d := applicationData{Applicant: token}
	status := http.StatusOK
	var alert *bilingual
	if err != nil {
		if fault.CodeOf(err) == fault.Internal {
			c.internalError(w, r, st, err)
			return
		}
		m := faultMsg(err)
		alert, status = &m, statusOf(err)
	}
	if dossier, derr := c.deps.Merchants.ApplicationStatus(r.Context(), token); derr == nil {
		d.Dossier = c.dossierView(dossier, st.lang)
		if err == nil {
			d.Notice = notice
		}
	} else if err == nil {
		c.applicationAnswer(w, r, st, "", derr)
		return
	} else {
		d.Applicant = ""
	}
	c.showApplication(w, r, st, status, d, alert)
}

func (c *Console) applicationShow(w http.ResponseWriter, r *http.Request, st *state) {
	if !publicFormOK(r) {
		m := msg("csrf.invalid")
		c.showApplication(w, r, st, http.StatusForbidden, applicationData{}, &m)
		return
	}
	c.applicationAnswer(w, r, st, "", nil)
}

func (c *Console) applicationPapers(w http.ResponseWriter, r *http.Request, st *state) {
	err := parseUpload(r)
	if err == nil && !publicFormOK(r) {
		m := msg("csrf.invalid")
		c.showApplication(w, r, st, http.StatusForbidden, applicationData{}, &m)
		return
	}
	var papers []merchant.Upload
	if err == nil {
		papers, err = formUploads(r)
	}
	if err == nil {
		_, err = c.deps.Merchants.AddPapers(r.Context(), r.FormValue("applicant"), papers)
	}
	c.applicationAnswer(w, r, st, st.lang.T("mc.papers.added"), err)
}

func (c *Console) applicationResubmit(w http.ResponseWriter, r *http.Request, st *state) {
	if !publicFormOK(r) {
		m := msg("csrf.invalid")
		c.showApplication(w, r, st, http.StatusForbidden, applicationData{}, &m)
		return
	}
	_, err := c.deps.Merchants.ResubmitApplication(r.Context(), r.FormValue("applicant"), r.FormValue("note"))
	c.applicationAnswer(w, r, st, st.lang.T("mc.resubmitted"), err)
}

// ---- the operator's review ----

type merchantRow struct {
	ID                                  int64
	LegalName, CreditCode, Admin        string
	Status                              merchant.Status
	StatusName, Created, Updated, Phone string
}

type statusChoice struct {
	Value, Label string
	Current      bool
}

type merchantQueueView struct {
	Merchants []merchantRow
	Statuses  []statusChoice
}

func (c *Console) merchantQueue(w http.ResponseWriter, r *http.Request, st *state) {
	l := st.lang
	status := merchant.Status(r.URL.Query().Get("status"))
	if status != "" && !status.Valid() {
		status = ""
	}
	ms, err := c.deps.Merchants.Merchants(r.Context(), st.principal.Tenant(), status)
	if err != nil {
		c.fail(w, r, st, err)
		return
	}
	d := merchantQueueView{Statuses: []statusChoice{{Value: "", Label: l.T("mc.filter.all"), Current: status == ""}}}
	for _, s := range merchant.Statuses {
		d.Statuses = append(d.Statuses, statusChoice{Value: string(s), Label: l.T("mc.status." + string(s)), Current: s == status})
	}
	for _, m := range ms {
		d.Merchants = append(d.Merchants, merchantRow{ID: m.ID, LegalName: m.LegalName, CreditCode: m.CreditCode, Admin: m.AdminUsername, Status: m.Status,
			StatusName: l.T("mc.status." + string(m.Status)), Created: beijing(m.CreatedAt), Updated: beijing(m.UpdatedAt), Phone: realname.MaskPhone(m.Contact.Phone)})
	}
	v := c.newView(r, st, "mc.queue.title")
	v.Data = d
	c.render(w, r, http.StatusOK, "merchants.html", v)
}

type merchantCampaignRow struct {
	ID                 int64
	Name, Status, Path string
}

type merchantPageView struct {
	Dossier   *dossierView
	Campaigns []merchantCampaignRow
	// CampaignsOff is set when the benefits service does not run here.
	CampaignsOff bool
	Actions      []string // the review actions the status allows
	CanReview    bool
	Notice       string
	Reason       string
}

func merchantIDOf(r *http.Request, name string) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	return id, err == nil && id > 0
}

func (c *Console) merchantShow(w http.ResponseWriter, r *http.Request, st *state) {
	c.showMerchant(w, r, st, http.StatusOK, nil, "")
}

func (c *Console) showMerchant(w http.ResponseWriter, r *http.Request, st *state, status int, alert *bilingual, reason string) {
	l := st.lang
	id, ok := merchantIDOf(r, "id")
	if !ok {
		c.renderError(w, r, st, http.StatusNotFound, faultMsg(merchant.ErrNotFound))
		return
	}
	dossier, err := c.deps.Merchants.Dossier(r.Context(), st.principal.Tenant(), id)
	if err != nil {
		c.fail(w, r, st, err)
		return
	}
	d := merchantPageView{Dossier: c.dossierView(dossier, l), CanReview: st.principal.Can(identity.MerchantsReview), Reason: reason}
	d.Dossier.Links = true
	for _, a := range []merchant.Action{merchant.Approve, merchant.RequestInfo, merchant.Reject, merchant.Suspend, merchant.Reinstate} {
		if _, err := merchant.Next(dossier.Merchant.Status, a); err == nil {
			d.Actions = append(d.Actions, string(a))
		}
	}
	if done := merchant.Action(r.URL.Query().Get("done")); done != "" && slices.Contains([]merchant.Action{merchant.Approve, merchant.RequestInfo, merchant.Reject, merchant.Suspend, merchant.Reinstate}, done) {
		d.Notice = l.T("mc.done." + string(done))
	}
	if c.deps.Benefits == nil {
		d.CampaignsOff = true
	} else {
		cs, err := c.deps.Benefits.Campaigns(r.Context(), st.principal.Tenant(), benefits.CampaignFilter{Owner: tenant.OwnerOf(id), Limit: 200})
		if err != nil {
			c.fail(w, r, st, err)
			return
		}
		now := c.deps.Benefits.Now()
		for _, cp := range cs {
			d.Campaigns = append(d.Campaigns, merchantCampaignRow{ID: cp.ID, Name: pickName(cp.NameZH, cp.NameEN, l), Status: l.T("bn.status." + string(cp.Effective(now))), Path: campaignPath(cp.ID)})
		}
	}
	v := c.newViewBack(r, st, "mc.detail.title", "/merchants/"+strconv.FormatInt(id, 10))
	v.Title = dossier.Merchant.LegalName
	v.Error, v.Data = alert, d
	c.render(w, r, status, "merchant.html", v)
}

// merchantPaper sends a paper as an attachment with the type sniffed at
// upload: the browser neither renders it in the console's origin nor
// guesses another type.
func (c *Console) merchantPaper(w http.ResponseWriter, r *http.Request, st *state) {
	id, ok1 := merchantIDOf(r, "id")
	paper, ok2 := merchantIDOf(r, "paper")
	if !ok1 || !ok2 {
		c.renderError(w, r, st, http.StatusNotFound, faultMsg(merchant.ErrPaperNotFound))
		return
	}
	p, err := c.deps.Merchants.Paper(r.Context(), st.principal.Tenant(), id, paper)
	if err != nil {
		c.fail(w, r, st, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", p.ContentType)
	h.Set("Content-Disposition", `attachment; filename="paper-`+strconv.FormatInt(p.ID, 10)+`"; filename*=UTF-8''`+url.PathEscape(p.Name))
	h.Set("Content-Length", strconv.Itoa(len(p.Data)))
	w.Write(p.Data)
}

func (c *Console) merchantReview(a merchant.Action) func(http.ResponseWriter, *http.Request, *state) {
	return func(w http.ResponseWriter, r *http.Request, st *state) {
		id, ok := merchantIDOf(r, "id")
		if !ok {
			c.renderError(w, r, st, http.StatusNotFound, faultMsg(merchant.ErrNotFound))
			return
		}
		reason := r.PostFormValue("reason")
		if _, err := c.deps.Merchants.Review(r.Context(), st.principal.Tenant(), id, a, reason); err != nil {
			if code := fault.CodeOf(err); code == fault.Internal || code == fault.NotFound {
				c.fail(w, r, st, err)
				return
			}
			m := faultMsg(err)
			c.showMerchant(w, r, st, statusOf(err), &m, reason)
			return
		}
		http.Redirect(w, r, "/merchants/"+strconv.FormatInt(id, 10)+"?done="+string(a), http.StatusSeeOther)
	}
}

// ---- the merchant admin's staff ----

type grantChoice struct {
	Value, Label string
	Checked      bool
}

type staffRow struct {
	ID                          int64
	Username, Name, Role, Since string
	Staff, Disabled             bool
	Grants                      []grantChoice
}

type inviteRow struct {
	Username, Name, Grants, Expires string
}

type staffPageView struct {
	Merchant    merchant.Merchant
	StatusName  string
	Accounts    []staffRow
	Invitations []inviteRow
	Grants      []grantChoice // the invite form's
	Invited     *merchant.Invited
	InviteURL   string
	Notice      string
	Username    string
	DisplayName string
	Found       bool // the merchant's record exists
	CanInvite   bool // the merchant is approved
}

func grantChoices(l lang, have []identity.Permission) []grantChoice {
	out := make([]grantChoice, len(identity.Delegable))
	for i, p := range identity.Delegable {
		out[i] = grantChoice{Value: string(p), Label: l.T("mc.grant." + string(p)), Checked: slices.Contains(have, p)}
	}
	return out
}

func grantNames(l lang, gs []identity.Permission) string {
	out := ""
	for i, g := range gs {
		if i > 0 {
			out += "、"
		}
		out += l.T("mc.grant." + string(g))
	}
	if out == "" {
		return l.T("mc.grants.none")
	}
	return out
}

func formGrants(r *http.Request) []identity.Permission {
	var out []identity.Permission
	for _, g := range r.PostForm["grants"] {
		out = append(out, identity.Permission(g))
	}
	return out
}

func (c *Console) staffPage(w http.ResponseWriter, r *http.Request, st *state) {
	c.showStaff(w, r, st, http.StatusOK, nil, staffPageView{})
}

func (c *Console) showStaff(w http.ResponseWriter, r *http.Request, st *state, status int, alert *bilingual, d staffPageView) {
	l, ctx, scope := st.lang, r.Context(), st.principal.Tenant()
	// A merchant's accounts are listed even when its record is missing
	// (accounts made before onboarding existed); inviting needs it approved.
	m, err := c.deps.Merchants.Merchant(ctx, scope, scope.MerchantID())
	if err != nil && !fault.Is(err, fault.NotFound) {
		c.fail(w, r, st, err)
		return
	}
	d.Found, d.CanInvite = err == nil, err == nil && m.Status == merchant.Approved
	accounts, err := c.deps.Merchants.Staff(ctx, scope)
	if err != nil {
		c.fail(w, r, st, err)
		return
	}
	invs, err := c.deps.Merchants.Invitations(ctx, scope)
	if err != nil {
		c.fail(w, r, st, err)
		return
	}
	d.Merchant, d.StatusName = m, l.T("mc.status."+string(m.Status))
	if d.Grants == nil {
		d.Grants = grantChoices(l, nil)
	}
	for _, a := range accounts {
		d.Accounts = append(d.Accounts, staffRow{ID: a.ID, Username: a.Username, Name: a.DisplayName, Role: l.T("role." + string(a.Role)), Since: beijing(a.CreatedAt),
			Staff: a.Role == identity.MerchantStaff, Disabled: a.Disabled, Grants: grantChoices(l, a.Grants)})
	}
	for _, inv := range invs {
		d.Invitations = append(d.Invitations, inviteRow{Username: inv.Username, Name: inv.DisplayName, Grants: grantNames(l, inv.Grants), Expires: beijing(inv.ExpiresAt)})
	}
	if done := r.URL.Query().Get("done"); done == "grants" || done == "disabled" || done == "enabled" {
		d.Notice = l.T("mc.staff.done." + done)
	}
	v := c.newViewBack(r, st, "mc.staff.title", "/merchant/staff")
	v.Error, v.Data = alert, d
	c.render(w, r, status, "merchant_staff.html", v)
}

func (c *Console) staffInvite(w http.ResponseWriter, r *http.Request, st *state) {
	grants := formGrants(r)
	d := staffPageView{Username: r.PostFormValue("username"), DisplayName: r.PostFormValue("display_name"), Grants: grantChoices(st.lang, grants)}
	inv, err := c.deps.Merchants.Invite(r.Context(), st.principal.Tenant(), merchant.Invite{Username: d.Username, DisplayName: d.DisplayName, Grants: grants})
	if err != nil {
		if fault.CodeOf(err) == fault.Internal {
			c.internalError(w, r, st, err)
			return
		}
		m := faultMsg(err)
		c.showStaff(w, r, st, statusOf(err), &m, d)
		return
	}
	c.showStaff(w, r, st, http.StatusOK, nil, staffPageView{Invited: &inv, InviteURL: "/merchant/invitations/accept"})
}

func (c *Console) staffGrants(w http.ResponseWriter, r *http.Request, st *state) {
	id, ok := merchantIDOf(r, "id")
	var err error
	if !ok {
		err = fault.New(fault.NotFound, "staff_not_found", "没有这个员工", "no such staff member")
	} else {
		r.ParseForm()
		_, err = c.deps.Merchants.SetStaffGrants(r.Context(), st.principal.Tenant(), id, formGrants(r))
	}
	c.staffDone(w, r, st, "grants", err)
}

func (c *Console) staffDisabled(disabled bool) func(http.ResponseWriter, *http.Request, *state) {
	return func(w http.ResponseWriter, r *http.Request, st *state) {
		id, ok := merchantIDOf(r, "id")
		var err error
		if !ok {
			err = fault.New(fault.NotFound, "staff_not_found", "没有这个员工", "no such staff member")
		} else {
			_, err = c.deps.Merchants.SetStaffDisabled(r.Context(), st.principal.Tenant(), id, disabled)
		}
		done := "enabled"
		if disabled {
			done = "disabled"
		}
		c.staffDone(w, r, st, done, err)
	}
}

func (c *Console) staffDone(w http.ResponseWriter, r *http.Request, st *state, done string, err error) {
	switch {
	case err == nil:
		http.Redirect(w, r, "/merchant/staff?done="+done, http.StatusSeeOther)
	case fault.CodeOf(err) == fault.Internal || fault.CodeOf(err) == fault.NotFound:
		c.fail(w, r, st, err)
	default:
		m := faultMsg(err)
		c.showStaff(w, r, st, statusOf(err), &m, staffPageView{})
	}
}

// ---- accepting an invitation ----

type invitationData struct {
	Token    string
	Accepted *identity.Account
}

func (c *Console) invitationForm(w http.ResponseWriter, r *http.Request, st *state) {
	c.showInvitation(w, r, st, http.StatusOK, invitationData{}, nil)
}

func (c *Console) showInvitation(w http.ResponseWriter, r *http.Request, st *state, status int, d invitationData, alert *bilingual) {
	d.Token = c.publicFormToken(w, r, "/merchant/invitations")
	v := c.newViewBack(r, st, "mc.invite.title", "/merchant/invitations/accept")
	v.Error, v.Data = alert, d
	c.render(w, r, status, "merchant_invitation.html", v)
}

func (c *Console) invitationAccept(w http.ResponseWriter, r *http.Request, st *state) {
	if !publicFormOK(r) {
		m := msg("csrf.invalid")
		c.showInvitation(w, r, st, http.StatusForbidden, invitationData{}, &m)
		return
	}
	if r.PostFormValue("password") != r.PostFormValue("password2") {
		m := msg("mc.password.mismatch")
		c.showInvitation(w, r, st, http.StatusUnprocessableEntity, invitationData{}, &m)
		return
	}
	acc, err := c.deps.Merchants.AcceptInvitation(r.Context(), r.PostFormValue("invitation"), r.PostFormValue("password"))
	if err != nil {
		if fault.CodeOf(err) == fault.Internal {
			c.internalError(w, r, st, err)
			return
		}
		m := faultMsg(err)
		c.showInvitation(w, r, st, statusOf(err), invitationData{}, &m)
		return
	}
	c.showInvitation(w, r, st, http.StatusOK, invitationData{Accepted: &acc}, nil)
}
