package console

import (
	"net/http"
	"strconv"
	"strings"

	"piao/internal/identity"
	"piao/internal/invoice"
)

// A passenger's invoices in the H5 pages (issue 24 item 5): one for every
// paid purchase of tickets, a reversing (red) one for every refund, each
// with its PDF. Reads go through invoice.Service by the session's account,
// so a passenger sees and downloads its own only.

// h5InvoiceRoutes are the passenger's invoice pages.
func (c *Console) h5InvoiceRoutes() []route {
	off := unless(c.deps.Invoices != nil, errInvoicesOff)
	return []route{
		{Page: Page{"GET", "/h5/invoices", identity.WalletOwn}, handle: c.h5Invoices, off: off},
		{Page: Page{"GET", "/h5/invoices/{id}/pdf", identity.WalletOwn}, handle: c.h5InvoicePDF, off: off},
	}
}

// h5InvoiceRow is one of the passenger's invoices, formatted.
type h5InvoiceRow struct {
	ID                     int64
	Number, Kind, KindName string
	Reverses               string
	Buyer, What            string
	Total, Tax, Issued     string
	PDF                    string
}

type h5InvoicesData struct {
	Invoices []h5InvoiceRow
	More     string
}

func (c *Console) h5Invoices(w http.ResponseWriter, r *http.Request, st *state) {
	ctx, l := r.Context(), st.lang
	f := invoice.Filter{Limit: invoicesPageLimit}
	if b, err := strconv.ParseInt(r.URL.Query().Get("before"), 10, 64); err == nil && b > 0 {
		f.BeforeID = b
	}
	list, err := c.deps.Invoices.AccountInvoices(ctx, st.principal.Account.ID, f)
	if err != nil {
		c.fail(w, r, st, err)
		return
	}
	var d h5InvoicesData
	for _, inv := range list {
		var what []string
		for _, it := range inv.Items {
			what = append(what, it.Name)
		}
		d.Invoices = append(d.Invoices, h5InvoiceRow{ID: inv.ID, Number: inv.Number, Kind: string(inv.Kind), KindName: l.T(invoiceKindKeys[inv.Kind]),
			Reverses: inv.Reverses, Buyer: inv.Buyer.Name, What: strings.Join(what, "；"), Total: yuan(inv.TotalFen), Tax: yuan(inv.TaxFen),
			Issued: beijing(inv.IssuedAt), PDF: "/h5/invoices/" + strconv.FormatInt(inv.ID, 10) + "/pdf"})
	}
	if len(list) == f.Limit {
		d.More = "/h5/invoices?before=" + strconv.FormatInt(list[len(list)-1].ID, 10)
	}
	v := c.newView(r, st, "h5inv.title")
	v.Data = d
	c.render(w, r, http.StatusOK, "h5_invoices.html", v)
}

// h5InvoicePDF downloads one of the passenger's own invoices (another's
// is not found).
func (c *Console) h5InvoicePDF(w http.ResponseWriter, r *http.Request, st *state) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		c.fail(w, r, st, invoice.ErrNotFound)
		return
	}
	b, inv, err := c.deps.Invoices.AccountPDF(r.Context(), st.principal.Account.ID, id)
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
