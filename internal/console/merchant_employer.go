package console

import (
	"bytes"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"piao/internal/abuse"
	"piao/internal/distribution"
	"piao/internal/employer"
	"piao/internal/fault"
	"piao/internal/identity"
	"piao/internal/realname"
	"piao/internal/sheet"
)

// Employee benefits (SPEC B3) beside the merchant console: the roster
// (/merchant/employees, with import, export and each employee's
// offboarding, linking and invitation), the allowance rule
// (/merchant/allowances), and the employer's money (/merchant/top-ups,
// /merchant/bills); and the page where a passenger accepts an invitation
// (/h5/employer). Every read and change goes through employer.Service with
// the account's scope.

// employerRoutes are the employer's pages: roster and rule need
// merchant:employees, money merchant:finance.
func (c *Console) employerRoutes() []route {
	off := unless(c.deps.Employers != nil, employer.ErrNotRunning)
	staff, money := identity.MerchantEmployees, identity.MerchantFinance
	return []route{
		{Page: Page{"GET", merchantHome + "/employees", staff}, handle: c.employeesPage, off: off},
		{Page: Page{"POST", merchantHome + "/employees", staff}, handle: c.employeeAdd, off: off},
		{Page: Page{"POST", merchantHome + "/employees/import", staff}, handle: c.employeesImport, off: off},
		{Page: Page{"GET", merchantHome + "/employees/export", staff}, handle: c.employeesExport, off: off},
		{Page: Page{"POST", merchantHome + "/employees/{id}/offboard", staff}, handle: c.employeeAction, off: off},
		{Page: Page{"POST", merchantHome + "/employees/{id}/link", staff}, handle: c.employeeAction, off: off},
		{Page: Page{"POST", merchantHome + "/employees/{id}/invite", staff}, handle: c.employeeAction, off: off},
		{Page: Page{"GET", merchantHome + "/allowances", staff}, handle: c.allowancesPage, off: off},
		{Page: Page{"POST", merchantHome + "/allowances", staff}, handle: c.allowanceCreate, off: off},
		{Page: Page{"POST", merchantHome + "/allowances/run", staff}, handle: c.allowanceRun, off: off},
		{Page: Page{"GET", merchantHome + "/top-ups", money}, handle: c.topUpsPage, off: off},
		{Page: Page{"POST", merchantHome + "/top-ups", money}, handle: c.topUpCreate, off: off},
		{Page: Page{"GET", merchantHome + "/bills", money}, handle: c.billsPage, off: off},
		{Page: Page{"POST", merchantHome + "/bills/{id}/pay", money}, handle: c.billPay, off: off},
		{Page: Page{"GET", "/h5/employer", identity.WalletOwn}, handle: c.h5EmployerPage, off: off},
		{Page: Page{"POST", "/h5/employer", identity.WalletOwn}, handle: c.h5EmployerAccept, off: off, limit: abuse.Redeem},
	}
}

// The catalog keys of the employer's states and choices.
var (
	employeeStatusKeys = map[employer.Status]string{employer.Active: "em.status.active", employer.Offboarded: "em.status.offboarded"}
	offboardKeys       = map[employer.Offboarding]string{employer.RevokeUnused: "em.offboard.revoke", employer.KeepToExpiry: "em.offboard.keep"}
	payingKeys         = map[employer.Paying]string{employer.Prepaid: "em.paying.prepaid", employer.Invoiced: "em.paying.invoiced"}
	payStatusKeys      = map[employer.PayStatus]string{employer.Pending: "em.pay.pending", employer.Issued: "em.pay.issued", employer.Paid: "em.pay.paid", employer.Closed: "em.pay.closed"}
)

// employeeRow is one employee, formatted, phone masked.
type employeeRow struct {
	ID                               int64
	Number, Name, Phone, Department  string
	Status, StatusName, Joined, Left string
	Linked                           bool
	Active                           bool
	OffboardURL, LinkURL, InviteURL  string
}

// employeesPage is the roster page.
type employeesPage struct {
	Employees []employeeRow
	// Invited is a token just made, shown this once.
	Invited     string
	InvitedName string
	Message     string
	// Lines are the errors of a refused import.
	Lines []distribution.LineError
	Total int
	Form  employer.Employee
}

func employeePath(id int64, action string) string {
	return merchantHome + "/employees/" + strconv.FormatInt(id, 10) + "/" + action
}

func (c *Console) employeesPage(w http.ResponseWriter, r *http.Request, st *state) {
	c.showEmployees(w, r, st, http.StatusOK, employeesPage{}, nil)
}

func (c *Console) showEmployees(w http.ResponseWriter, r *http.Request, st *state, status int, d employeesPage, e *bilingual) {
	l := st.lang
	es, err := c.deps.Employers.Employees(r.Context(), st.principal.Tenant(), employer.Filter{Limit: employer.MaxRoster})
	if err != nil {
		c.fail(w, r, st, err)
		return
	}
	for _, x := range es {
		d.Employees = append(d.Employees, employeeRow{ID: x.ID, Number: x.Number, Name: x.Name, Phone: realname.MaskPhone(x.Phone), Department: x.Department,
			Status: string(x.Status), StatusName: l.T(employeeStatusKeys[x.Status]), Joined: x.Joined.String(), Left: x.Left.String(),
			Linked: x.Account != 0, Active: x.Status == employer.Active,
			OffboardURL: employeePath(x.ID, "offboard"), LinkURL: employeePath(x.ID, "link"), InviteURL: employeePath(x.ID, "invite")})
	}
	v := c.newViewBack(r, st, "em.title", merchantHome+"/employees")
	v.Error, v.Data = e, d
	c.render(w, r, status, "merchant_employees.html", v)
}

// refuse shows the roster again with the error, or the internal error page.
func (c *Console) refuseEmployees(w http.ResponseWriter, r *http.Request, st *state, d employeesPage, err error) {
	if fault.CodeOf(err) == fault.Internal {
		c.internalError(w, r, st, err)
		return
	}
	m := faultMsg(err)
	c.showEmployees(w, r, st, statusOf(err), d, &m)
}

func (c *Console) employeeAdd(w http.ResponseWriter, r *http.Request, st *state) {
	f := employer.Employee{Number: r.PostFormValue("number"), Name: r.PostFormValue("name"), Phone: r.PostFormValue("phone"), Department: r.PostFormValue("department")}
	joined := r.PostFormValue("joined")
	err := (employer.EmployeeEdit{Joined: &joined}).Apply(&f)
	if err == nil {
		_, err = c.deps.Employers.Add(r.Context(), st.principal.Tenant(), f)
	}
	if err != nil {
		f.Phone = "" // never echoed back
		c.refuseEmployees(w, r, st, employeesPage{Form: f}, err)
		return
	}
	http.Redirect(w, r, merchantHome+"/employees", http.StatusSeeOther)
}

func (c *Console) employeesImport(w http.ResponseWriter, r *http.Request, st *state) {
	if err := parseUpload(r); err != nil {
		c.refuseEmployees(w, r, st, employeesPage{}, err)
		return
	}
	file, _, err := r.FormFile("roster")
	if err != nil {
		c.refuseEmployees(w, r, st, employeesPage{}, fault.New(fault.Invalid, "roster_required", "请选择花名册 CSV 文件", "choose the roster CSV file"))
		return
	}
	defer file.Close()
	var b bytes.Buffer
	if _, err := b.ReadFrom(http.MaxBytesReader(w, file, employer.MaxImportBytes+1)); err != nil {
		c.refuseEmployees(w, r, st, employeesPage{}, fault.New(fault.Invalid, "roster_too_large", "花名册最大 1 MiB", "a roster is at most 1 MiB"))
		return
	}
	es, err := c.deps.Employers.Import(r.Context(), st.principal.Tenant(), b.Bytes())
	var re *distribution.RosterError
	if errors.As(err, &re) {
		m := faultMsg(re.Fault)
		c.showEmployees(w, r, st, http.StatusUnprocessableEntity, employeesPage{Lines: re.Lines, Total: re.Total}, &m)
		return
	}
	if err != nil {
		c.refuseEmployees(w, r, st, employeesPage{}, err)
		return
	}
	c.showEmployees(w, r, st, http.StatusOK, employeesPage{Message: st.lang.Tf("em.imported", len(es))}, nil)
}

func (c *Console) employeesExport(w http.ResponseWriter, r *http.Request, st *state) {
	f, err := sheet.ParseFormat(r.URL.Query().Get("format"))
	if err != nil {
		c.fail(w, r, st, err)
		return
	}
	es, err := c.deps.Employers.Employees(r.Context(), st.principal.Tenant(), employer.Filter{Limit: employer.MaxRoster})
	if err != nil {
		c.fail(w, r, st, err)
		return
	}
	var b bytes.Buffer
	if err := sheet.Write(&b, f, employer.Sheet(es)); err != nil {
		c.internalError(w, r, st, err)
		return
	}
	w.Header().Set("Content-Type", f.ContentType())
	w.Header().Set("Content-Disposition", `attachment; filename="`+f.FileName("roster")+`"`)
	w.Write(b.Bytes())
}

// employeeAction offboards, links or invites one employee, by the path's
// last segment.
func (c *Console) employeeAction(w http.ResponseWriter, r *http.Request, st *state) {
	id, ok := orderID(r)
	if !ok {
		c.renderError(w, r, st, http.StatusNotFound, faultMsg(employer.ErrNotFound))
		return
	}
	ctx, scope := r.Context(), st.principal.Tenant()
	var err error
	d := employeesPage{}
	switch {
	case strings.HasSuffix(r.URL.Path, "/offboard"):
		var n int
		if _, n, err = c.deps.Employers.Offboard(ctx, scope, id, r.PostFormValue("left"), r.PostFormValue("reason")); err == nil {
			d.Message = st.lang.Tf("em.offboarded", n)
		}
	case strings.HasSuffix(r.URL.Path, "/link"):
		if _, err = c.deps.Employers.LinkByPhone(ctx, scope, id); err == nil {
			d.Message = st.lang.T("em.linked.done")
		}
	default:
		var inv employer.EmployeeInvited
		if inv, err = c.deps.Employers.Invite(ctx, scope, id); err == nil {
			d.Invited = inv.Token
			if e, err := c.deps.Employers.Employee(ctx, scope, id); err == nil {
				d.InvitedName = e.Name
			}
		}
	}
	if err != nil {
		c.refuseEmployees(w, r, st, employeesPage{}, err)
		return
	}
	c.showEmployees(w, r, st, http.StatusOK, d, nil)
}

// allowancesPage is the rule page: the rule and its campaign, or the form.
type allowancesPage struct {
	Rule                          *employer.AllowanceRule
	CampaignStatus, Budget, Spent string
	Issued                        int
	Offboarding, Paying, Credit   string
	Message                       string
	Feeds                         []option
	Lines                         string // the form's scope lines, comma-separated
}

func (c *Console) allowancesPage(w http.ResponseWriter, r *http.Request, st *state) {
	c.showAllowances(w, r, st, http.StatusOK, allowancesPage{}, nil)
}

func (c *Console) showAllowances(w http.ResponseWriter, r *http.Request, st *state, status int, d allowancesPage, e *bilingual) {
	l := st.lang
	rv, err := c.deps.Employers.RuleView(r.Context(), st.principal.Tenant())
	switch {
	case err == nil:
		rule := rv.AllowanceRule
		d.Rule = &rule
		d.CampaignStatus = l.T("bn.status." + string(rv.Campaign.Effective(c.deps.Benefits.Now())))
		d.Budget, d.Spent, d.Issued = yuan(rv.Campaign.BudgetValue), yuan(rv.Campaign.Spent), rv.Campaign.Issued
		d.Offboarding, d.Paying = l.T(offboardKeys[rule.Offboard]), l.T(payingKeys[rule.Paying])
		d.Credit = yuan(rule.MonthlyCreditFen)
	case fault.CodeOf(err) == fault.NotFound:
		d.Feeds = []option{{Value: "nbmetro", Label: "nbmetro", Selected: true}}
	default:
		c.fail(w, r, st, err)
		return
	}
	v := c.newViewBack(r, st, "em.allow.title", merchantHome+"/allowances")
	v.Error, v.Data = e, d
	c.render(w, r, status, "merchant_allowances.html", v)
}

func (c *Console) allowanceCreate(w http.ResponseWriter, r *http.Request, st *state) {
	rides, err := intOf(r.PostFormValue("rides"), "次数 rides")
	rule := employer.AllowanceRule{Rides: rides, Feed: strings.TrimSpace(r.PostFormValue("feed")),
		Offboard: employer.Offboarding(r.PostFormValue("offboarding")), Paying: employer.Paying(r.PostFormValue("paying"))}
	for _, line := range strings.Split(r.PostFormValue("lines"), ",") {
		if line = strings.TrimSpace(line); line != "" {
			rule.Scope.Lines = append(rule.Scope.Lines, line)
		}
	}
	if err == nil && rule.Paying == employer.Invoiced {
		rule.MonthlyCreditFen, err = fenOf(r.PostFormValue("credit"), "月度额度 credit")
	}
	if err == nil {
		_, err = c.deps.Employers.CreateRule(r.Context(), st.principal.Tenant(), rule, st.principal.Account.Username)
	}
	if err != nil {
		if fault.CodeOf(err) == fault.Internal {
			c.internalError(w, r, st, err)
			return
		}
		m := faultMsg(err)
		c.showAllowances(w, r, st, statusOf(err), allowancesPage{}, &m)
		return
	}
	http.Redirect(w, r, merchantHome+"/allowances", http.StatusSeeOther)
}

func (c *Console) allowanceRun(w http.ResponseWriter, r *http.Request, st *state) {
	p, err := c.deps.Employers.RunNow(r.Context(), st.principal.Tenant())
	if err != nil {
		if fault.CodeOf(err) == fault.Internal {
			c.internalError(w, r, st, err)
			return
		}
		m := faultMsg(err)
		c.showAllowances(w, r, st, statusOf(err), allowancesPage{}, &m)
		return
	}
	msg := st.lang.Tf("em.allow.ran", p.Month, p.Issued, p.Again, p.Refused)
	if p.Reason != "" {
		msg += " (" + p.Reason + ")"
	}
	c.showAllowances(w, r, st, http.StatusOK, allowancesPage{Message: msg}, nil)
}

// moneyRow is a top-up or a bill, formatted.
type moneyRow struct {
	ID                    int64
	Month, Amount, Status string
	StatusName, At, Paid  string
	PayURL, PayAction     string
}

// moneyPage is the top-ups page or the bills page.
type moneyPage struct {
	Bills  bool
	Rows   []moneyRow
	Amount string
}

func (c *Console) topUpsPage(w http.ResponseWriter, r *http.Request, st *state) {
	c.showMoney(w, r, st, http.StatusOK, false, "", nil)
}

func (c *Console) billsPage(w http.ResponseWriter, r *http.Request, st *state) {
	c.showMoney(w, r, st, http.StatusOK, true, "", nil)
}

func (c *Console) showMoney(w http.ResponseWriter, r *http.Request, st *state, status int, bills bool, amount string, e *bilingual) {
	ctx, l, scope := r.Context(), st.lang, st.principal.Tenant()
	d := moneyPage{Bills: bills, Amount: amount}
	paid := func(t interface{ IsZero() bool }, s string) string {
		if t.IsZero() {
			return ""
		}
		return s
	}
	if bills {
		bs, err := c.deps.Employers.Bills(ctx, scope)
		if err != nil {
			c.fail(w, r, st, err)
			return
		}
		for _, b := range bs {
			row := moneyRow{ID: b.ID, Month: b.Month, Amount: yuan(b.AmountFen), Status: string(b.Status), StatusName: l.T(payStatusKeys[b.Status]),
				At: beijing(b.CreatedAt), Paid: paid(b.PaidAt, beijing(b.PaidAt))}
			if b.Status == employer.Issued {
				row.PayAction = merchantHome + "/bills/" + strconv.FormatInt(b.ID, 10) + "/pay"
			}
			d.Rows = append(d.Rows, row)
		}
	} else {
		ts, err := c.deps.Employers.TopUps(ctx, scope)
		if err != nil {
			c.fail(w, r, st, err)
			return
		}
		for _, t := range ts {
			row := moneyRow{ID: t.ID, Amount: yuan(t.AmountFen), Status: string(t.Status), StatusName: l.T(payStatusKeys[t.Status]),
				At: beijing(t.CreatedAt), Paid: paid(t.PaidAt, beijing(t.PaidAt))}
			if t.Status == employer.Pending {
				row.PayURL = t.PayURL
			}
			d.Rows = append(d.Rows, row)
		}
	}
	title, back := "em.topups.title", merchantHome+"/top-ups"
	if bills {
		title, back = "em.bills.title", merchantHome+"/bills"
	}
	v := c.newViewBack(r, st, title, back)
	v.Error, v.Data = e, d
	c.render(w, r, status, "merchant_employer_money.html", v)
}

func (c *Console) topUpCreate(w http.ResponseWriter, r *http.Request, st *state) {
	amount := r.PostFormValue("amount")
	fen, err := fenOf(amount, "金额 amount")
	var t employer.TopUp
	if err == nil {
		t, err = c.deps.Employers.CreateTopUp(r.Context(), st.principal.Tenant(), st.principal.Account.ID, fen)
	}
	if err != nil {
		if fault.CodeOf(err) == fault.Internal {
			c.internalError(w, r, st, err)
			return
		}
		m := faultMsg(err)
		c.showMoney(w, r, st, statusOf(err), false, amount, &m)
		return
	}
	http.Redirect(w, r, t.PayURL, http.StatusSeeOther)
}

func (c *Console) billPay(w http.ResponseWriter, r *http.Request, st *state) {
	id, ok := orderID(r)
	if !ok {
		c.renderError(w, r, st, http.StatusNotFound, faultMsg(employer.ErrBillNotFound))
		return
	}
	b, err := c.deps.Employers.PayBill(r.Context(), st.principal.Tenant(), st.principal.Account.ID, id)
	if err != nil {
		if fault.CodeOf(err) == fault.Internal {
			c.internalError(w, r, st, err)
			return
		}
		m := faultMsg(err)
		c.showMoney(w, r, st, statusOf(err), true, "", &m)
		return
	}
	http.Redirect(w, r, b.PayURL, http.StatusSeeOther)
}

// h5EmployerView is the passenger's invitation page.
type h5EmployerView struct {
	Token  string
	Joined string // the employer's employee number, once accepted
}

func (c *Console) h5EmployerPage(w http.ResponseWriter, r *http.Request, st *state) {
	v := c.newView(r, st, "em.h5.title")
	v.Data = h5EmployerView{Token: r.URL.Query().Get("token")}
	c.render(w, r, http.StatusOK, "h5_employer.html", v)
}

func (c *Console) h5EmployerAccept(w http.ResponseWriter, r *http.Request, st *state) {
	token := strings.TrimSpace(r.PostFormValue("token"))
	e, err := c.deps.Employers.AcceptInvitation(r.Context(), token, st.principal.Account.ID)
	v := c.newView(r, st, "em.h5.title")
	if err != nil {
		if fault.CodeOf(err) == fault.Internal {
			c.internalError(w, r, st, err)
			return
		}
		m := faultMsg(err)
		v.Error, v.Data = &m, h5EmployerView{}
		c.render(w, r, statusOf(err), "h5_employer.html", v)
		return
	}
	v.Data = h5EmployerView{Joined: e.Number}
	c.render(w, r, http.StatusOK, "h5_employer.html", v)
}
