package console

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"piao/internal/fault"
	"piao/internal/identity"
	"piao/internal/ledger"
	"piao/internal/sheet"
)

// The ledger pages (账务, SPEC B5): the operator's finance team sees the
// trial balance with the journal's check, browses and exports entries,
// reverses an entry and writes off what will not be collected; a merchant
// sees its own balance and entries. Every read and correction goes through
// ledger.Service.

// ledgerRoutes are the ledger pages.
func (c *Console) ledgerRoutes() []route {
	off := unless(c.deps.Ledger != nil, ledger.ErrNotRunning)
	return []route{
		{Page: Page{"GET", "/ledger", identity.LedgerRead}, handle: c.ledgerHome, off: off},
		{Page: Page{"GET", "/ledger/entries", identity.LedgerRead}, handle: c.ledgerEntries, off: off},
		{Page: Page{"GET", "/ledger/export", identity.LedgerRead}, handle: c.ledgerExport, off: off},
		{Page: Page{"GET", "/ledger/entries/{id}", identity.LedgerRead}, handle: c.ledgerEntry, off: off},
		{Page: Page{"POST", "/ledger/entries/{id}/reverse", identity.LedgerWrite}, handle: c.ledgerReverse, off: off},
		{Page: Page{"GET", "/ledger/write-offs", identity.LedgerWrite}, handle: c.ledgerWriteOffForm, off: off},
		{Page: Page{"POST", "/ledger/write-offs", identity.LedgerWrite}, handle: c.ledgerWriteOff, off: off},
		{Page: Page{"GET", merchantHome + "/balance", identity.MerchantFinance}, handle: c.merchantBalance, off: off},
	}
}

// accountName is an account's code and name in l.
func accountName(code ledger.Code, l lang) string {
	a, ok := ledger.Lookup(code)
	if !ok {
		return string(code)
	}
	if l == en {
		return string(code) + " " + a.Name
	}
	return string(code) + " " + a.Zh
}

// ledgerLine is one line of the trial balance, formatted.
type ledgerLine struct {
	Code, Name, Kind      string
	Debit, Credit, Net    string
	DebitFen, CreditFen   int64
	EntriesURL            string
	ByParty, WriteOffable bool
}

// ledgerHomePage is the trial balance with the check.
type ledgerHomePage struct {
	Lines          []ledgerLine
	Debit, Credit  string
	Balanced       bool
	Sound          bool
	Problems       []ledger.Problem
	CanWrite       bool
	DebitFen, Diff int64
}

func (c *Console) ledgerHome(w http.ResponseWriter, r *http.Request, st *state) {
	rep, err := c.deps.Ledger.Check(r.Context())
	if err != nil {
		c.fail(w, r, st, err)
		return
	}
	d := ledgerHomePage{Debit: yuan(rep.Trial.Debit), Credit: yuan(rep.Trial.Credit), Balanced: rep.Balanced, Sound: rep.Sound,
		Problems: rep.Problems, CanWrite: st.principal.Can(identity.LedgerWrite), DebitFen: rep.Trial.Debit, Diff: rep.Trial.Debit - rep.Trial.Credit}
	for _, l := range rep.Trial.Lines {
		d.Lines = append(d.Lines, ledgerLine{Code: string(l.Account.Code), Name: accountName(l.Account.Code, st.lang), Kind: st.lang.T("lg.kind." + string(l.Account.Kind)),
			Debit: yuan(l.Debit), Credit: yuan(l.Credit), Net: yuan(l.Net), DebitFen: l.Debit, CreditFen: l.Credit,
			EntriesURL: "/ledger/entries?account=" + string(l.Account.Code), ByParty: l.Account.ByParty})
	}
	v := c.newView(r, st, "lg.title")
	v.Data = d
	c.render(w, r, http.StatusOK, "ledger.html", v)
}

// ledgerQuery is the entries page's filters as the form holds them.
type ledgerQuery struct {
	Account, Party, Kind, Ref, From, To string
	Before                              int64
	Limit                               int
}

// values are the filters as URL query values (without the page cursor).
func (q ledgerQuery) values() url.Values {
	v := url.Values{}
	for k, s := range map[string]string{"account": q.Account, "party": q.Party, "kind": q.Kind, "ref": q.Ref, "from": q.From, "to": q.To} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if q.Limit != 50 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	return v
}

// ledgerFilter reads the entries page's filters.
func ledgerFilter(v url.Values) (ledgerQuery, ledger.Filter, error) {
	q := ledgerQuery{Account: strings.TrimSpace(v.Get("account")), Party: strings.TrimSpace(v.Get("party")), Kind: strings.TrimSpace(v.Get("kind")),
		Ref: strings.TrimSpace(v.Get("ref")), From: strings.TrimSpace(v.Get("from")), To: strings.TrimSpace(v.Get("to")), Limit: 50}
	f := ledger.Filter{Account: ledger.Code(q.Account), Party: q.Party, Kind: q.Kind, Ref: q.Ref}
	bad := func(field, zh, en string) error {
		return fault.New(fault.Invalid, "bad_filter", "筛选条件 "+field+"："+zh, "filter "+field+": "+en)
	}
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 500 {
			return q, f, bad("limit", "须为 1–500", "must be 1–500")
		}
		q.Limit = n
	}
	f.Limit = q.Limit
	if s := v.Get("before"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 1 {
			return q, f, bad("before", "须为正整数", "must be a positive whole number")
		}
		q.Before, f.BeforeID = n, n
	}
	var err error
	f.From, f.Until, err = ledger.DayRange(q.From, q.To, shanghai)
	return q, f, err
}

// entryRow is one entry as the pages show it.
type entryRow struct {
	ID                         int64
	URL                        string
	At, Posted, Key, Kind, Ref string
	External, Memo             string
	Reverses                   int64
	ReversesURL                string
	Total                      string
	Postings                   []postingRow
}

// postingRow is one posting, formatted.
type postingRow struct {
	Account, Party, Debit, Credit string
	AccountURL                    string
}

func entryRowOf(e ledger.Entry, l lang) entryRow {
	r := entryRow{ID: e.ID, URL: "/ledger/entries/" + strconv.FormatInt(e.ID, 10), At: beijingSec(e.At), Posted: beijingSec(e.PostedAt),
		Key: e.Key, Kind: entryKindName(e.Kind, l), Ref: e.Ref, External: e.External, Memo: e.Memo, Reverses: e.Reverses, Total: yuan(e.Total())}
	if e.Reverses != 0 {
		r.ReversesURL = "/ledger/entries/" + strconv.FormatInt(e.Reverses, 10)
	}
	for _, p := range e.Postings {
		pr := postingRow{Account: accountName(p.Account, l), Party: p.Party, AccountURL: "/ledger/entries?account=" + string(p.Account)}
		if p.Debit > 0 {
			pr.Debit = yuan(p.Debit)
		}
		if p.Credit > 0 {
			pr.Credit = yuan(p.Credit)
		}
		r.Postings = append(r.Postings, pr)
	}
	return r
}

// entryKindName names an entry's kind in l.
func entryKindName(kind string, l lang) string {
	if _, ok := messages["lg.ek."+kind]; ok {
		return l.T("lg.ek." + kind)
	}
	return kind
}

// entryTable is what the ledger_rows partial shows: entries, in the page's
// language.
type entryTable struct {
	Lang lang
	Rows []entryRow
}

// ledgerEntriesPage is the entries page.
type ledgerEntriesPage struct {
	Q               ledgerQuery
	Accounts, Kinds []option
	Table           entryTable
	Next, First     string
	CSV, XLSX       string
	Filtered        bool
	ExportMax       int
}

func (c *Console) ledgerEntries(w http.ResponseWriter, r *http.Request, st *state) {
	q, f, err := ledgerFilter(r.URL.Query())
	var p ledger.EntryPage
	if err == nil {
		p, err = c.deps.Ledger.Entries(r.Context(), f)
	}
	if err != nil && fault.CodeOf(err) == fault.Internal {
		c.internalError(w, r, st, err)
		return
	}
	d := ledgerEntriesPage{Q: q, Filtered: len(q.values()) > 0, ExportMax: ledger.ExportMax, Table: entryTable{Lang: st.lang}}
	for _, a := range ledger.Chart {
		d.Accounts = append(d.Accounts, option{Value: string(a.Code), Label: accountName(a.Code, st.lang), Selected: q.Account == string(a.Code)})
	}
	for _, k := range ledger.Kinds {
		d.Kinds = append(d.Kinds, option{Value: k, Label: entryKindName(k, st.lang), Selected: q.Kind == k})
	}
	base := q.values()
	base.Del("limit")
	exp := url.Values{}
	for k, v := range base {
		exp[k] = v
	}
	exp.Set("format", "csv")
	d.CSV = "/ledger/export?" + exp.Encode()
	exp.Set("format", "xlsx")
	d.XLSX = "/ledger/export?" + exp.Encode()
	v := c.newView(r, st, "lg.entries.title")
	if err != nil {
		m := faultMsg(err)
		v.Error = &m
		v.Data = d
		c.render(w, r, statusOf(err), "ledger_entries.html", v)
		return
	}
	for _, e := range p.Entries {
		d.Table.Rows = append(d.Table.Rows, entryRowOf(e, st.lang))
	}
	if p.NextBefore != 0 {
		next := q.values()
		next.Set("before", strconv.FormatInt(p.NextBefore, 10))
		d.Next = "/ledger/entries?" + next.Encode()
	}
	if q.Before != 0 {
		d.First = "/ledger/entries"
		if vs := q.values(); len(vs) > 0 {
			d.First += "?" + vs.Encode()
		}
	}
	v.Data = d
	c.render(w, r, http.StatusOK, "ledger_entries.html", v)
}

// ledgerExport downloads the filtered entries, one row per posting, as
// CSV or XLSX through internal/sheet.
func (c *Console) ledgerExport(w http.ResponseWriter, r *http.Request, st *state) {
	format, err := sheet.ParseFormat(r.URL.Query().Get("format"))
	if err != nil {
		c.fail(w, r, st, err)
		return
	}
	_, f, err := ledgerFilter(r.URL.Query())
	if err != nil {
		c.fail(w, r, st, err)
		return
	}
	t, err := c.deps.Ledger.EntriesTable(r.Context(), f, shanghai)
	if err != nil {
		c.fail(w, r, st, err)
		return
	}
	var b bytes.Buffer
	if err := sheet.Write(&b, format, t); err != nil {
		c.fail(w, r, st, err)
		return
	}
	name := format.FileName("piao-ledger-" + c.now().In(shanghai).Format("20060102-1504"))
	w.Header().Set("Content-Type", format.ContentType())
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.Write(b.Bytes())
}

// ledgerEntryPage is one entry with its reversal form.
type ledgerEntryPage struct {
	entryRow
	CanReverse bool   // the user may, and the entry can be reversed
	ReversedBy string // the reversing entry's page, once reversed
	Reason     string // the form's value
	RefEntries string // the other entries about the same business record
}

func (c *Console) ledgerEntry(w http.ResponseWriter, r *http.Request, st *state) {
	c.showLedgerEntry(w, r, st, http.StatusOK, "", nil)
}

func (c *Console) showLedgerEntry(w http.ResponseWriter, r *http.Request, st *state, status int, reason string, e *bilingual) {
	ctx := r.Context()
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		c.fail(w, r, st, ledger.ErrNotFound)
		return
	}
	en, err := c.deps.Ledger.Entry(ctx, id)
	if err != nil {
		c.fail(w, r, st, err)
		return
	}
	d := ledgerEntryPage{entryRow: entryRowOf(en, st.lang), Reason: reason, RefEntries: "/ledger/entries?ref=" + url.QueryEscape(en.Ref)}
	if en.Reverses == 0 {
		rev, err := c.deps.Ledger.Entries(ctx, ledger.Filter{Kind: ledger.KindReversal, Ref: en.Ref, Limit: 500})
		if err != nil {
			c.fail(w, r, st, err)
			return
		}
		for _, x := range rev.Entries {
			if x.Reverses == en.ID {
				d.ReversedBy = "/ledger/entries/" + strconv.FormatInt(x.ID, 10)
			}
		}
		d.CanReverse = d.ReversedBy == "" && st.principal.Can(identity.LedgerWrite)
	}
	v := c.newView(r, st, "lg.entry.title")
	v.Error = e
	v.Data = d
	c.render(w, r, status, "ledger_entry.html", v)
}

func (c *Console) ledgerReverse(w http.ResponseWriter, r *http.Request, st *state) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		c.fail(w, r, st, ledger.ErrNotFound)
		return
	}
	reason := r.PostFormValue("reason")
	rev, err := c.deps.Ledger.Reverse(r.Context(), id, reason)
	if err == nil {
		http.Redirect(w, r, "/ledger/entries/"+strconv.FormatInt(rev.ID, 10), http.StatusSeeOther)
		return
	}
	if fault.CodeOf(err) == fault.Internal || fault.CodeOf(err) == fault.NotFound {
		c.fail(w, r, st, err)
		return
	}
	m := faultMsg(err)
	c.showLedgerEntry(w, r, st, statusOf(err), reason, &m)
}

// writeOffPage is the write-off form.
type writeOffPage struct {
	Accounts              []option
	Party, Amount, Reason string
	// Key makes the form's submission post once, however often it is
	// sent: a fresh one each time the form is shown.
	Key string
}

func (c *Console) ledgerWriteOffForm(w http.ResponseWriter, r *http.Request, st *state) {
	q := r.URL.Query()
	c.showWriteOff(w, r, st, http.StatusOK, writeOffPage{Party: q.Get("party")}, q.Get("account"), nil)
}

func (c *Console) showWriteOff(w http.ResponseWriter, r *http.Request, st *state, status int, d writeOffPage, account string, e *bilingual) {
	for _, code := range ledger.WriteOffAccounts {
		d.Accounts = append(d.Accounts, option{Value: string(code), Label: accountName(code, st.lang), Selected: account == string(code)})
	}
	if d.Key == "" {
		b := make([]byte, 12)
		_, _ = rand.Read(b)
		d.Key = hex.EncodeToString(b)
	}
	v := c.newViewBack(r, st, "lg.wo.title", "/ledger/write-offs")
	v.Error = e
	v.Data = d
	c.render(w, r, status, "ledger_write_off.html", v)
}

func (c *Console) ledgerWriteOff(w http.ResponseWriter, r *http.Request, st *state) {
	account := r.PostFormValue("account")
	d := writeOffPage{Party: r.PostFormValue("party"), Amount: r.PostFormValue("amount"), Reason: r.PostFormValue("reason"), Key: r.PostFormValue("key")}
	fen, err := ledger.ParseYuan(d.Amount)
	if err == nil {
		var e ledger.Entry
		e, err = c.deps.Ledger.WriteOff(r.Context(), ledger.WriteOff{Account: ledger.Code(account), Party: d.Party, Fen: fen, Reason: d.Reason, Key: d.Key})
		if err == nil {
			http.Redirect(w, r, "/ledger/entries/"+strconv.FormatInt(e.ID, 10), http.StatusSeeOther)
			return
		}
	}
	if fault.CodeOf(err) == fault.Internal {
		c.internalError(w, r, st, err)
		return
	}
	if fault.As(err).Reason == "entry_key_reused" {
		d.Key = "" // the form was changed after it was sent: a new key posts it
	}
	m := faultMsg(err)
	c.showWriteOff(w, r, st, statusOf(err), d, account, &m)
}

// merchantBalancePage is the merchant's own balance and entries.
type merchantBalancePage struct {
	Party    string
	Balances []ledgerBalanceRow
	Table    entryTable
	Next     string
}

// ledgerBalanceRow is one balance, formatted.
type ledgerBalanceRow struct {
	Account, Debit, Credit, Net string
}

func (c *Console) merchantBalance(w http.ResponseWriter, r *http.Request, st *state) {
	f := ledger.Filter{Limit: 50}
	if s := r.URL.Query().Get("before"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 1 {
			c.fail(w, r, st, fault.New(fault.Invalid, "bad_filter", "before 须为正整数", "before must be a positive whole number"))
			return
		}
		f.BeforeID = n
	}
	s, err := c.deps.Ledger.Own(r.Context(), st.principal.Tenant(), f)
	if err != nil {
		c.fail(w, r, st, err)
		return
	}
	d := merchantBalancePage{Party: s.Party, Table: entryTable{Lang: st.lang}}
	for _, b := range s.Balances {
		d.Balances = append(d.Balances, ledgerBalanceRow{Account: accountName(b.Account, st.lang), Debit: yuan(b.Debit), Credit: yuan(b.Credit), Net: yuan(b.Net())})
	}
	for _, e := range s.Entries {
		row := entryRowOf(e, st.lang)
		row.URL, row.ReversesURL = "", "" // the operator's pages: not the merchant's
		var own int64
		for _, p := range e.Postings {
			own += p.Debit + p.Credit
		}
		row.Total = yuan(own)
		d.Table.Rows = append(d.Table.Rows, row)
	}
	if s.NextBefore != 0 {
		d.Next = merchantHome + "/balance?before=" + strconv.FormatInt(s.NextBefore, 10)
	}
	v := c.newView(r, st, "lg.mb.title")
	v.Data = d
	c.render(w, r, http.StatusOK, "merchant_balance.html", v)
}
