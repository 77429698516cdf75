package console

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"piao/internal/fault"
	"piao/internal/identity"
	"piao/internal/invoice"
)

// Invoices (发票, issue 24 item 5): the merchant's own (/merchant/invoices,
// merchant:finance) and every invoice for the operator's finance staff
// (/invoices, ledger:read), each with its PDF. Reads go through
// invoice.Service with the account's scope.

// errInvoicesOff answers the invoice pages when no invoice service runs.
var errInvoicesOff = fault.New(fault.Unavailable, "invoices_unavailable", "本服务未开启发票", "invoices do not run in this process")

// invoiceRoutes are the invoice pages.
func (c *Console) invoiceRoutes() []route {
	off := unless(c.deps.Invoices != nil, errInvoicesOff)
	return []route{
		{Page: Page{"GET", merchantHome + "/invoices", identity.MerchantFinance}, handle: c.invoicesPage(merchantHome + "/invoices"), off: off},
		{Page: Page{"GET", merchantHome + "/invoices/{id}/pdf", identity.MerchantFinance}, handle: c.invoicePDF, off: off},
		{Page: Page{"GET", "/invoices", identity.LedgerRead}, handle: c.invoicesPage("/invoices"), off: off},
		{Page: Page{"GET", "/invoices/{id}/pdf", identity.LedgerRead}, handle: c.invoicePDF, off: off},
	}
}

// invoiceRow is one invoice, formatted.
type invoiceRow struct {
	ID                     int64
	Number, Kind, KindName string
	Reverses               string
	Buyer, TaxNumber       string
	Ref                    string
	Total, Tax             string
	Issued                 string
	PDF                    string
}

// invoicesPageData is the invoices page.
type invoicesPageData struct {
	Invoices []invoiceRow
	// Operator is the operator's page, which shows every buyer.
	Operator bool
	// Kind filters blue or red, Ref one business event's; More is the
	// next page's link.
	Kind string
	Ref  string
	More string
}

// invoiceKindKeys name the kinds in the catalog.
var invoiceKindKeys = map[invoice.Kind]string{invoice.Blue: "inv.kind.blue", invoice.Red: "inv.kind.red"}

// invoicesPageLimit bounds one page of invoices.
const invoicesPageLimit = 100

func (c *Console) invoicesPage(base string) func(http.ResponseWriter, *http.Request, *state) {
	return func(w http.ResponseWriter, r *http.Request, st *state) {
		ctx, l := r.Context(), st.lang
		q := r.URL.Query()
		f := invoice.Filter{Limit: invoicesPageLimit}
		if k := invoice.Kind(q.Get("kind")); k.Valid() {
			f.Kind = k
		}
		if b, err := strconv.ParseInt(q.Get("before"), 10, 64); err == nil && b > 0 {
			f.BeforeID = b
		}
		// ?ref= keeps one business event's invoices: the purchase, top-up
		// and bill pages link here.
		if ref := strings.TrimSpace(q.Get("ref")); len(ref) <= 200 {
			f.Ref = ref
		}
		list, err := c.deps.Invoices.Invoices(ctx, st.principal.Tenant(), f)
		if err != nil {
			c.fail(w, r, st, err)
			return
		}
		d := invoicesPageData{Operator: st.principal.Tenant().IsAll(), Kind: string(f.Kind), Ref: f.Ref}
		for _, inv := range list {
			d.Invoices = append(d.Invoices, invoiceRow{ID: inv.ID, Number: inv.Number, Kind: string(inv.Kind), KindName: l.T(invoiceKindKeys[inv.Kind]),
				Reverses: inv.Reverses, Buyer: inv.Buyer.Name, TaxNumber: inv.Buyer.TaxNumber, Ref: inv.Ref, Total: yuan(inv.TotalFen), Tax: yuan(inv.TaxFen),
				Issued: beijing(inv.IssuedAt), PDF: base + "/" + strconv.FormatInt(inv.ID, 10) + "/pdf"})
		}
		if len(list) == f.Limit {
			d.More = base + "?before=" + strconv.FormatInt(list[len(list)-1].ID, 10) + "&kind=" + string(f.Kind) + "&ref=" + url.QueryEscape(f.Ref)
		}
		v := c.newView(r, st, "inv.title")
		v.Data = d
		c.render(w, r, http.StatusOK, "invoices.html", v)
	}
}

// invoicePDF downloads an invoice the account's scope sees.
func (c *Console) invoicePDF(w http.ResponseWriter, r *http.Request, st *state) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		c.fail(w, r, st, invoice.ErrNotFound)
		return
	}
	// The scope decides: a merchant's login sees its own, the operator's
	// staff every invoice.
	b, inv, err := c.deps.Invoices.PDF(r.Context(), st.principal.Tenant(), id)
	if err != nil {
		c.fail(w, r, st, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/pdf")
	h.Set("Content-Disposition", `attachment; filename="`+invoice.FileName(inv)+`"`)
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.Write(b)
}
