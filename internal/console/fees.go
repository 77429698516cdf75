package console

import (
	"math"
	"net/http"
	"piao/internal/ledger"
	"strconv"
	"strings"

	"piao/internal/fault"
	"piao/internal/fees"
)

// The fee tables page (退改费率): the refund and change fee tables in
// force, and a form for each. booking.Service validates and stores a table
// and records the change in the audit trail.

// feeKinds are the two tables, in page order.
var feeKinds = []string{"refund", "change"}

// feeExtraRows is how many empty tier rows each form offers after the
// table's tiers, for new ones.
const feeExtraRows = 2

// feeTierForm is one tier row as typed: hours before departure and the
// rate in percent.
type feeTierForm struct {
	Index       int
	Hours, Rate string
}

// feeForm is one table's form.
type feeForm struct {
	Kind, Title      string
	Tiers            []feeTierForm
	Minimum, RoundTo string // yuan
	Reason           string
	Saved            bool
}

// feesData is what the fee tables page shows.
type feesData struct {
	Forms []feeForm
}

// feeTitle names a table in l.
func feeTitle(kind string, l lang) string {
	if kind == "change" {
		return l.T("fees.change")
	}
	return l.T("fees.refund")
}

func trimNum(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// yuanNum writes fen as yuan for a form field, without trailing zeros.
func yuanNum(fen int64) string { return ledger.FormatFixed(fen, 2) }

// feeFormOf fills a form from a table.
func feeFormOf(kind string, t fees.Table, l lang) feeForm {
	f := feeForm{Kind: kind, Title: feeTitle(kind, l), Minimum: yuanNum(t.MinimumFen), RoundTo: yuanNum(t.RoundToFen)}
	for i, tr := range t.Tiers {
		f.Tiers = append(f.Tiers, feeTierForm{Index: i, Hours: trimNum(tr.MinHoursBefore), Rate: ledger.FormatFixed(int64(tr.BasisPoints), 2)})
	}
	for i := range feeExtraRows {
		f.Tiers = append(f.Tiers, feeTierForm{Index: len(t.Tiers) + i})
	}
	return f
}

// postedFees reads a table's form; empty tier rows are left out.
func postedFees(r *http.Request, kind string, l lang) (feeForm, fees.Table, error) {
	f := feeForm{Kind: kind, Title: feeTitle(kind, l), Minimum: strings.TrimSpace(r.PostFormValue("minimum")),
		RoundTo: strings.TrimSpace(r.PostFormValue("round_to")), Reason: strings.TrimSpace(r.PostFormValue("reason"))}
	var t fees.Table
	var bad error
	num := func(field, s string) float64 {
		v, err := strconv.ParseFloat(s, 64)
		if (err != nil || v < 0 || math.IsInf(v, 0) || math.IsNaN(v)) && bad == nil {
			bad = fault.Newf(fault.Invalid, "bad_fee_field", "%s：须为不小于 0 的数", "%s: must be a number, 0 or more", field)
		}
		return v
	}
	// fixed reads money (yuan to fen) and rates (percent to basis points)
	// exactly: two decimals at most, never through a float.
	fixed := func(field, s string) int64 {
		v, ok := ledger.ParseFixed(s, 2)
		if !ok && bad == nil {
			bad = fault.Newf(fault.Invalid, "bad_fee_field", "%s：须为不小于 0 的数，最多两位小数", "%s: must be a number, 0 or more, with at most two decimals", field)
		}
		return v
	}
	n, _ := strconv.Atoi(r.PostFormValue("rows"))
	n = min(max(n, 0), 50)
	for i := range n {
		hours, rate := strings.TrimSpace(r.PostFormValue("hours_"+strconv.Itoa(i))), strings.TrimSpace(r.PostFormValue("rate_"+strconv.Itoa(i)))
		f.Tiers = append(f.Tiers, feeTierForm{Index: i, Hours: hours, Rate: rate})
		if hours == "" && rate == "" {
			continue
		}
		t.Tiers = append(t.Tiers, fees.Tier{MinHoursBefore: num(l.T("fees.col.hours"), hours), BasisPoints: int(fixed(l.T("fees.col.rate"), rate))})
	}
	t.MinimumFen = fixed(l.T("fees.minimum"), f.Minimum)
	t.RoundToFen = fixed(l.T("fees.round_to"), f.RoundTo)
	return f, t, bad
}

// feesPage shows both tables with their forms.
func (c *Console) feesPage(w http.ResponseWriter, r *http.Request, st *state) {
	c.showFees(w, r, st, http.StatusOK, nil, nil)
}

// showFees renders the page; posted, if set, replaces its table's form
// (after a refused change), and alert says why.
func (c *Console) showFees(w http.ResponseWriter, r *http.Request, st *state, status int, posted *feeForm, alert *bilingual) {
	ctx := r.Context()
	var d feesData
	for _, kind := range feeKinds {
		read := c.deps.Booking.RefundFees
		if kind == "change" {
			read = c.deps.Booking.ChangeFees
		}
		t, err := read(ctx)
		if err != nil {
			c.fail(w, r, st, err)
			return
		}
		f := feeFormOf(kind, t, st.lang)
		if posted != nil && posted.Kind == kind {
			f = *posted
		}
		f.Saved = r.Method == http.MethodGet && r.URL.Query().Get("saved") == kind
		d.Forms = append(d.Forms, f)
	}
	v := c.newViewBack(r, st, "fees.title", "/booking/fees")
	v.Error = alert
	v.Data = d
	c.render(w, r, status, "fees.html", v)
}

// feesSave replaces one table with its form's.
func (c *Console) feesSave(w http.ResponseWriter, r *http.Request, st *state) {
	kind := r.PathValue("kind")
	set := c.deps.Booking.SetRefundFees
	switch kind {
	case "refund":
	case "change":
		set = c.deps.Booking.SetChangeFees
	default:
		http.NotFound(w, r)
		return
	}
	form, table, err := postedFees(r, kind, st.lang)
	if err == nil {
		err = set(r.Context(), table, form.Reason)
	}
	if err == nil {
		http.Redirect(w, r, "/booking/fees?saved="+kind, http.StatusSeeOther)
		return
	}
	if fault.CodeOf(err) == fault.Internal {
		c.internalError(w, r, st, err)
		return
	}
	m := faultMsg(err)
	c.showFees(w, r, st, statusOf(err), &form, &m)
}
