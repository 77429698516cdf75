package console

import (
	"bytes"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"piao/internal/fault"
	"piao/internal/identity"
	"piao/internal/ledger"
	"piao/internal/payment"
	"piao/internal/reconcile"
	"piao/internal/sheet"
)

// The reconciliation pages (对账, issue 24): the finance team runs a day's
// three-way reconciliation (the channel's statement, piao's records, the
// ledger) and reads every run with its differences to the fen; it reads
// any merchant's or employer's monthly statement, and a merchant its own.
// Everything goes through reconcile.Service; exports through
// internal/sheet.

// errReconcileOff answers the pages in a process without the service.
var errReconcileOff = fault.New(fault.Unavailable, "reconciliation_unavailable", "本服务未开启对账", "reconciliation does not run in this process")

// errNoMerchantParty refuses a merchant page to a login of no merchant.
var errNoMerchantParty = fault.New(fault.Forbidden, "no_merchant", "当前账号不属于任何商户", "this login belongs to no merchant")

const reconcileHome = "/reconciliations"

// reconcileRoutes are the reconciliation and statement pages.
func (c *Console) reconcileRoutes() []route {
	off := unless(c.deps.Reconcile != nil, errReconcileOff)
	return []route{
		{Page: Page{"GET", reconcileHome, identity.LedgerRead}, handle: c.reconcileRuns, off: off},
		{Page: Page{"POST", reconcileHome, identity.LedgerWrite}, handle: c.reconcileRun, off: off},
		{Page: Page{"GET", reconcileHome + "/{id}", identity.LedgerRead}, handle: c.reconcileRunPage, off: off},
		{Page: Page{"GET", reconcileHome + "/{id}/export", identity.LedgerRead}, handle: c.reconcileExport, off: off},
		{Page: Page{"GET", "/statements", identity.LedgerRead}, handle: c.statementPage, off: off},
		{Page: Page{"GET", "/statements/export", identity.LedgerRead}, handle: c.statementExport, off: off},
		{Page: Page{"GET", merchantHome + "/statements", identity.MerchantFinance}, handle: c.myStatementPage, off: off},
		{Page: Page{"GET", merchantHome + "/statements/export", identity.MerchantFinance}, handle: c.myStatementExport, off: off},
	}
}

// runRow is one run as the list shows it.
type runRow struct {
	ID                       int64
	URL, Day, At, By, Source string
	Payments, Refunds        int
	PaymentYuan, RefundYuan  string
	FeeYuan                  string
	Statement, Piao, Ledger  int
	Matched, Differences     int
	Clean                    bool
	FeeEntry                 int64
	FeeEntryURL              string
	CSV, XLSX                string
	DifferenceRows           []differenceRow
}

// differenceRow is one difference, formatted.
type differenceRow struct {
	Kind, Type, External, Sides string
	Statement, Piao, Ledger     string // yuan; "" when the side holds none
	StatementFen, PiaoFen       string // fen, as the export gives them
	LedgerFen                   string
	Count                       int
	Refs                        []string
	Text                        string
}

// reconcileLang is the reconcile package's language of l.
func reconcileLang(l lang) string {
	if l == en {
		return "en"
	}
	return "zh"
}

func runRowOf(r reconcile.Run, l lang) runRow {
	id := strconv.FormatInt(r.ID, 10)
	row := runRow{ID: r.ID, URL: reconcileHome + "/" + id, Day: r.Day, At: beijingSec(r.At), By: r.By, Source: l.T("rc.source." + r.Source),
		Payments: r.Statement.Payments, Refunds: r.Statement.Refunds, PaymentYuan: yuan(r.Statement.PaymentFen), RefundYuan: yuan(r.Statement.RefundFen),
		FeeYuan: yuan(r.Statement.FeeFen), Statement: r.Records[reconcile.Statement], Piao: r.Records[reconcile.Orders], Ledger: r.Records[reconcile.Ledger],
		Matched: r.Matched, Differences: r.DifferenceCount, Clean: r.Clean(), FeeEntry: r.FeeEntry,
		CSV: reconcileHome + "/" + id + "/export?format=csv", XLSX: reconcileHome + "/" + id + "/export?format=xlsx"}
	if r.FeeEntry != 0 {
		row.FeeEntryURL = "/ledger/entries/" + strconv.FormatInt(r.FeeEntry, 10)
	}
	rl := reconcileLang(l)
	for _, d := range r.Differences {
		sides := make([]string, len(d.Sides))
		for i, s := range d.Sides {
			sides[i] = reconcile.SideName(s, rl)
		}
		dr := differenceRow{Kind: l.T("rc.kind." + string(d.Kind)), External: d.External, Sides: strings.Join(sides, l.T("rc.sep")),
			Count: d.Count, Refs: d.Refs, Text: d.Text(rl)}
		if d.Type != "" {
			dr.Type = reconcile.TypeName(d.Type, rl)
		}
		amount := func(s reconcile.Side) (string, string) {
			if a, ok := d.Amounts[s]; ok {
				return yuan(a), strconv.FormatInt(a, 10)
			}
			return "", ""
		}
		dr.Statement, dr.StatementFen = amount(reconcile.Statement)
		dr.Piao, dr.PiaoFen = amount(reconcile.Orders)
		dr.Ledger, dr.LedgerFen = amount(reconcile.Ledger)
		row.DifferenceRows = append(row.DifferenceRows, dr)
	}
	return row
}

// reconcileRunsPage is the list of runs with the form to run a day.
type reconcileRunsPage struct {
	Runs     []runRow
	Day      string // the form's day, and the list's filter
	Filtered bool
	CanRun   bool
	Next     string
}

func (c *Console) reconcileRuns(w http.ResponseWriter, r *http.Request, st *state) {
	c.showRuns(w, r, st, http.StatusOK, "", nil)
}

func (c *Console) showRuns(w http.ResponseWriter, r *http.Request, st *state, status int, formDay string, e *bilingual) {
	q := r.URL.Query()
	f := reconcile.RunFilter{Day: strings.TrimSpace(q.Get("day")), Limit: 50}
	if f.Day != "" {
		if _, _, err := payment.ParseDay(f.Day); err != nil {
			c.fail(w, r, st, err)
			return
		}
	}
	if s := q.Get("before"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 1 {
			c.fail(w, r, st, fault.New(fault.Invalid, "bad_filter", "before 须为正整数", "before must be a positive whole number"))
			return
		}
		f.BeforeID = n
	}
	runs, err := c.deps.Reconcile.Runs(r.Context(), f)
	if err != nil {
		c.fail(w, r, st, err)
		return
	}
	d := reconcileRunsPage{Day: formDay, Filtered: f.Day != "", CanRun: st.principal.Can(identity.LedgerWrite)}
	if d.Day == "" {
		d.Day = f.Day
	}
	if d.Day == "" {
		// Yesterday: a day is reconciled once its statement is complete.
		d.Day = c.now().In(shanghai).AddDate(0, 0, -1).Format(payment.DayLayout)
	}
	for _, run := range runs {
		d.Runs = append(d.Runs, runRowOf(run, st.lang))
	}
	if len(runs) == f.Limit {
		next := url.Values{"before": {strconv.FormatInt(runs[len(runs)-1].ID, 10)}}
		if f.Day != "" {
			next.Set("day", f.Day)
		}
		d.Next = reconcileHome + "?" + next.Encode()
	}
	v := c.newView(r, st, "rc.title")
	v.Error = e
	v.Data = d
	c.render(w, r, status, "reconcile.html", v)
}

// reconcileRun reconciles the form's day against the channel's statement
// and shows the run.
func (c *Console) reconcileRun(w http.ResponseWriter, r *http.Request, st *state) {
	day := strings.TrimSpace(r.PostFormValue("day"))
	run, err := c.deps.Reconcile.Reconcile(r.Context(), day, nil, "account:"+strconv.FormatInt(st.principal.Account.ID, 10))
	if err == nil {
		http.Redirect(w, r, reconcileHome+"/"+strconv.FormatInt(run.ID, 10), http.StatusSeeOther)
		return
	}
	if fault.CodeOf(err) == fault.Internal {
		c.internalError(w, r, st, err)
		return
	}
	m := faultMsg(err)
	c.showRuns(w, r, st, statusOf(err), day, &m)
}

// runID reads the {id} of a run's page.
func runID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		return 0, reconcile.ErrRunNotFound
	}
	return id, nil
}

func (c *Console) reconcileRunPage(w http.ResponseWriter, r *http.Request, st *state) {
	id, err := runID(r)
	if err != nil {
		c.fail(w, r, st, err)
		return
	}
	run, err := c.deps.Reconcile.Run(r.Context(), id)
	if err != nil {
		c.fail(w, r, st, err)
		return
	}
	v := c.newViewBack(r, st, "rc.run.title", reconcileHome)
	v.Title = st.lang.Tf("rc.run.title_of", run.Day, run.ID)
	v.Data = runRowOf(run, st.lang)
	c.render(w, r, http.StatusOK, "reconcile_run.html", v)
}

// sendTable writes t as a download in the request's format.
func (c *Console) sendTable(w http.ResponseWriter, r *http.Request, st *state, base string, t sheet.Table) {
	format, err := sheet.ParseFormat(r.URL.Query().Get("format"))
	if err != nil {
		c.fail(w, r, st, err)
		return
	}
	var b bytes.Buffer
	if err := sheet.Write(&b, format, t); err != nil {
		c.fail(w, r, st, err)
		return
	}
	w.Header().Set("Content-Type", format.ContentType())
	w.Header().Set("Content-Disposition", `attachment; filename="`+format.FileName(base)+`"`)
	w.Write(b.Bytes())
}

func (c *Console) reconcileExport(w http.ResponseWriter, r *http.Request, st *state) {
	id, err := runID(r)
	if err != nil {
		c.fail(w, r, st, err)
		return
	}
	run, err := c.deps.Reconcile.Run(r.Context(), id)
	if err != nil {
		c.fail(w, r, st, err)
		return
	}
	c.sendTable(w, r, st, "piao-reconciliation-"+run.Day+"-"+strconv.FormatInt(run.ID, 10), run.Table(reconcileLang(st.lang)))
}

// statementView is a monthly statement, formatted.
type statementView struct {
	Month, Party    string
	Accounts        []statementAccount
	CSV, XLSX       string
	Merchants       []option // the operator's choice of merchant
	Merchant        string   // the operator's chosen merchant ID
	Action          string   // where the month form goes
	Shown, Operator bool
	From, Until     string
}

// statementAccount is one account of a statement.
type statementAccount struct {
	Account                         string
	Opening, Debit, Credit, Closing string
	Lines                           []statementLineRow
}

// statementLineRow is one posting of a statement.
type statementLineRow struct {
	At, Kind, Ref, Memo    string
	Entry                  int64
	EntryURL               string
	Debit, Credit, Balance string
}

func statementViewOf(s reconcile.MonthlyStatement, l lang, entryLinks bool) statementView {
	v := statementView{Month: s.Month, Party: s.Party, Shown: true, From: beijingSec(s.From), Until: beijingSec(s.Until)}
	for _, a := range s.Accounts {
		sa := statementAccount{Account: accountName(a.Account, l), Opening: yuan(a.OpeningFen), Debit: yuan(a.DebitFen), Credit: yuan(a.CreditFen),
			Closing: yuan(a.ClosingFen)}
		for _, p := range a.Lines {
			lr := statementLineRow{At: beijingSec(p.At), Kind: entryKindName(p.Kind, l), Ref: p.Ref, Memo: p.Memo, Entry: p.EntryID, Balance: yuan(p.BalanceFen)}
			if entryLinks {
				lr.EntryURL = "/ledger/entries/" + strconv.FormatInt(p.EntryID, 10)
			}
			if p.DebitFen != 0 {
				lr.Debit = yuan(p.DebitFen)
			}
			if p.CredFen != 0 {
				lr.Credit = yuan(p.CredFen)
			}
			sa.Lines = append(sa.Lines, lr)
		}
		v.Accounts = append(v.Accounts, sa)
	}
	return v
}

// statementMonth is the month the request asks for, this month by default.
func (c *Console) statementMonth(r *http.Request) string {
	if m := strings.TrimSpace(r.URL.Query().Get("month")); m != "" {
		return m
	}
	return c.now().In(shanghai).Format(reconcile.MonthLayout)
}

// statementPage is the operator's statement of a merchant or employer and
// month, chosen by the form.
func (c *Console) statementPage(w http.ResponseWriter, r *http.Request, st *state) {
	ctx := r.Context()
	month, chosen := c.statementMonth(r), strings.TrimSpace(r.URL.Query().Get("merchant"))
	d := statementView{Month: month, Merchant: chosen, Action: "/statements", Operator: true}
	if c.deps.Merchants != nil {
		ms, err := c.deps.Merchants.Merchants(ctx, st.principal.Tenant(), "")
		if err != nil {
			c.fail(w, r, st, err)
			return
		}
		for _, m := range ms {
			id := strconv.FormatInt(m.ID, 10)
			d.Merchants = append(d.Merchants, option{Value: id, Label: id + " " + m.LegalName + " (" + string(m.Kind) + ")", Selected: id == chosen})
		}
	}
	v := c.newView(r, st, "rc.st.title")
	if chosen != "" {
		id, err := strconv.ParseInt(chosen, 10, 64)
		if err != nil || id < 1 {
			err = fault.New(fault.Invalid, "statement_party_invalid", "请选择商户（编号）", "choose a merchant (its number)")
		}
		var s reconcile.MonthlyStatement
		if err == nil {
			s, err = c.deps.Reconcile.MonthlyStatement(ctx, ledger.Party("merchant", id), month)
		}
		if err != nil {
			if fault.CodeOf(err) == fault.Internal {
				c.internalError(w, r, st, err)
				return
			}
			m := faultMsg(err)
			v.Error = &m
			v.Data = d
			c.render(w, r, statusOf(err), "statement.html", v)
			return
		}
		shown := statementViewOf(s, st.lang, true)
		shown.Merchants, shown.Merchant, shown.Action, shown.Operator = d.Merchants, chosen, d.Action, true
		q := url.Values{"merchant": {chosen}, "month": {month}, "format": {"csv"}}
		shown.CSV = "/statements/export?" + q.Encode()
		q.Set("format", "xlsx")
		shown.XLSX = "/statements/export?" + q.Encode()
		d = shown
	}
	v.Data = d
	c.render(w, r, http.StatusOK, "statement.html", v)
}

func (c *Console) statementExport(w http.ResponseWriter, r *http.Request, st *state) {
	id, err := strconv.ParseInt(r.URL.Query().Get("merchant"), 10, 64)
	if err != nil || id < 1 {
		c.fail(w, r, st, fault.New(fault.Invalid, "statement_party_invalid", "请选择商户（编号）", "choose a merchant (its number)"))
		return
	}
	month := c.statementMonth(r)
	s, err := c.deps.Reconcile.MonthlyStatement(r.Context(), ledger.Party("merchant", id), month)
	if err != nil {
		c.fail(w, r, st, err)
		return
	}
	c.sendTable(w, r, st, "statement-merchant-"+strconv.FormatInt(id, 10)+"-"+month, s.Table(reconcileLang(st.lang)))
}

// ownStatement is the caller's merchant's statement of the request's month.
func (c *Console) ownStatement(r *http.Request, st *state) (reconcile.MonthlyStatement, int64, error) {
	id := st.principal.Tenant().MerchantID()
	if id == 0 {
		return reconcile.MonthlyStatement{}, 0, errNoMerchantParty
	}
	s, err := c.deps.Reconcile.MonthlyStatement(r.Context(), ledger.Party("merchant", id), c.statementMonth(r))
	return s, id, err
}

// myStatementPage is a merchant's (or employer's) own monthly statement.
func (c *Console) myStatementPage(w http.ResponseWriter, r *http.Request, st *state) {
	s, _, err := c.ownStatement(r, st)
	v := c.newView(r, st, "rc.my.title")
	if err != nil {
		if code := fault.CodeOf(err); code != fault.Invalid {
			c.fail(w, r, st, err)
			return
		}
		m := faultMsg(err)
		v.Error = &m
		v.Data = statementView{Month: c.statementMonth(r), Action: merchantHome + "/statements"}
		c.render(w, r, statusOf(err), "statement.html", v)
		return
	}
	d := statementViewOf(s, st.lang, false)
	d.Party, d.Action = "", merchantHome+"/statements"
	q := url.Values{"month": {s.Month}, "format": {"csv"}}
	d.CSV = merchantHome + "/statements/export?" + q.Encode()
	q.Set("format", "xlsx")
	d.XLSX = merchantHome + "/statements/export?" + q.Encode()
	v.Data = d
	c.render(w, r, http.StatusOK, "statement.html", v)
}

func (c *Console) myStatementExport(w http.ResponseWriter, r *http.Request, st *state) {
	s, id, err := c.ownStatement(r, st)
	if err != nil {
		c.fail(w, r, st, err)
		return
	}
	c.sendTable(w, r, st, "statement-merchant-"+strconv.FormatInt(id, 10)+"-"+s.Month, s.Table(reconcileLang(st.lang)))
}
