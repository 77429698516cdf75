package console

import (
	"net/http"
	"strconv"
	"strings"

	"piao/internal/abuse"
	"piao/internal/fault"
	"piao/internal/identity"
	"piao/internal/sale"
)

// Passengers' purchases of tickets on sale in the H5 pages (SPEC B4, C3):
// the shop, buying (the browser goes to the payment page and comes back to
// the purchase), and refunding a bought ticket from the wallet.

func (c *Console) saleRoutes() []route {
	off := unless(c.deps.Sales != nil && c.deps.Benefits != nil, sale.ErrNotRunning)
	return []route{
		{Page: Page{"GET", "/h5/shop", identity.WalletOwn}, handle: c.h5Shop, off: off},
		{Page: Page{"POST", "/h5/shop/{id}/buy", identity.WalletOwn}, handle: c.h5Buy, off: off, limit: abuse.Buy},
		{Page: Page{"GET", "/h5/shop/purchases/{id}", identity.WalletOwn}, handle: c.h5BoughtPurchase, off: off},
		{Page: Page{"POST", "/h5/wallet/{id}/refund", identity.WalletOwn}, handle: c.h5RefundTicket, off: off, limit: abuse.Buy},
	}
}

// shopOffer is an offer on sale, formatted.
type shopOffer struct {
	ID                 int64
	Name, Kind, Price  string
	Bundle, Rides      int
	Left, Mine, CanBuy int
	Refund, Validity   string
	Action             string
}

// shopPurchase is one of the passenger's purchases, formatted.
type shopPurchase struct {
	ID                          int64
	Name, Amount, Status, State string
	Count                       int
	URL, PayURL                 string
}

type shopView struct {
	Offers    []shopOffer
	Purchases []shopPurchase
}

func saleStatusName(p sale.Purchase, l lang) string {
	switch {
	case p.Status == sale.Paid && !p.Issued:
		return l.T("shop.status.issuing")
	case p.Status == sale.Closed && p.ReturnedFen > 0:
		return l.T("shop.status.returned")
	}
	return l.T("shop.status." + string(p.Status))
}

func (c *Console) h5Shop(w http.ResponseWriter, r *http.Request, st *state) {
	c.showShop(w, r, st, http.StatusOK, nil)
}

func (c *Console) showShop(w http.ResponseWriter, r *http.Request, st *state, status int, alert *bilingual) {
	ctx, l := r.Context(), st.lang
	me := st.principal.Account.ID
	as, err := c.deps.Sales.Available(ctx, me)
	if err != nil {
		c.fail(w, r, st, err)
		return
	}
	var d shopView
	for _, a := range as {
		o := a.Offer
		so := shopOffer{ID: o.ID, Name: pickName(o.NameZH, o.NameEN, l), Kind: l.T("bn.kind." + string(o.Kind)), Price: yuan(o.PriceFen),
			Bundle: o.Bundle, Rides: o.Rides, Left: a.Left, Mine: a.Mine, CanBuy: a.CanBuy, Action: "/h5/shop/" + strconv.FormatInt(o.ID, 10) + "/buy"}
		if o.Refund.Days > 0 {
			so.Refund = l.Tf("shop.refund_rule", o.Refund.Days, strconv.FormatFloat(float64(o.Refund.FeeBP)/100, 'f', -1, 64))
		} else {
			so.Refund = l.T("shop.no_refund")
		}
		if a.Validity.Days > 0 {
			so.Validity = l.Tf("shop.valid_days", a.Validity.Days)
		} else {
			so.Validity = l.Tf("wallet.valid_until", a.Validity.Until.String())
		}
		d.Offers = append(d.Offers, so)
	}
	ps, err := c.deps.Sales.Purchases(ctx, sale.Filter{Buyer: me, Limit: 20})
	if err != nil {
		c.fail(w, r, st, err)
		return
	}
	for _, p := range ps {
		sp := shopPurchase{ID: p.ID, Name: pickName(p.NameZH, p.NameEN, l), Amount: yuan(p.AmountFen), Count: p.Count, State: string(p.Status),
			Status: saleStatusName(p, l), URL: "/h5/shop/purchases/" + strconv.FormatInt(p.ID, 10)}
		if p.Status == sale.Pending {
			sp.PayURL = p.PayURL
		}
		d.Purchases = append(d.Purchases, sp)
	}
	v := c.newView(r, st, "shop.title")
	if alert != nil {
		v.Error = alert
	}
	v.Data = d
	c.render(w, r, status, "h5_shop.html", v)
}

// h5Buy orders the units asked and sends the buyer to the payment page.
func (c *Console) h5Buy(w http.ResponseWriter, r *http.Request, st *state) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		c.fail(w, r, st, sale.ErrOfferNotFound)
		return
	}
	units, err := strconv.Atoi(strings.TrimSpace(r.PostFormValue("units")))
	if err != nil {
		err = fault.New(fault.Invalid, "buy_count_invalid", "请填写购买份数", "give the number of units to buy")
	}
	var p sale.Purchase
	if err == nil {
		p, err = c.deps.Sales.Buy(r.Context(), st.principal.Account.ID, id, units)
	}
	if err != nil {
		if fault.CodeOf(err) == fault.Internal {
			c.internalError(w, r, st, err)
			return
		}
		m := faultMsg(err)
		c.showShop(w, r, st, statusOf(err), &m)
		return
	}
	to := p.PayURL
	if to == "" {
		to = "/h5/shop/purchases/" + strconv.FormatInt(p.ID, 10)
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

type boughtView struct {
	Purchase shopPurchase
	Paid     bool
	Waiting  bool
	Unit     string
	Tickets  int
}

// h5BoughtPurchase is where the payment page returns the buyer: the
// purchase, refreshing while its payment or tickets are on their way.
func (c *Console) h5BoughtPurchase(w http.ResponseWriter, r *http.Request, st *state) {
	l := st.lang
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		c.fail(w, r, st, sale.ErrNotFound)
		return
	}
	p, err := c.deps.Sales.Purchase(r.Context(), st.principal.Account.ID, id)
	if err != nil {
		c.fail(w, r, st, err)
		return
	}
	d := boughtView{Purchase: shopPurchase{ID: p.ID, Name: pickName(p.NameZH, p.NameEN, l), Amount: yuan(p.AmountFen), Count: p.Count, State: string(p.Status),
		Status: saleStatusName(p, l)}, Paid: p.Status == sale.Paid && p.Issued, Unit: yuan(p.PriceFen), Tickets: len(p.TicketIDs)}
	d.Waiting = p.Status == sale.Pending || (p.Status == sale.Paid && !p.Issued)
	if p.Status == sale.Pending {
		d.Purchase.PayURL = p.PayURL
	}
	v := c.newView(r, st, "shop.purchase_title")
	if d.Waiting {
		w.Header().Set("Refresh", strconv.Itoa(confirmRefresh))
	}
	v.Data = d
	c.render(w, r, http.StatusOK, "h5_shop_purchase.html", v)
}

// h5RefundTicket refunds a bought ticket from the wallet.
func (c *Console) h5RefundTicket(w http.ResponseWriter, r *http.Request, st *state) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		c.fail(w, r, st, sale.ErrNotBought)
		return
	}
	if _, err := c.deps.Sales.RefundTicket(r.Context(), st.principal.Account.ID, id); err != nil {
		if fault.CodeOf(err) == fault.Internal {
			c.internalError(w, r, st, err)
			return
		}
		m := faultMsg(err)
		c.showWallet(w, r, st, statusOf(err), &m, "")
		return
	}
	http.Redirect(w, r, "/h5/wallet?done=refunded", http.StatusSeeOther)
}

// boughtLine is what the wallet says of a bought ticket: what was paid,
// and what a refund would give now or why there is none.
func boughtLine(q sale.Quote, l lang) (string, bool) {
	paid := l.Tf("shop.paid", yuan(q.PaidFen))
	if !q.Refundable {
		return paid + " · " + l.T("shop.refund_reason."+q.Reason), false
	}
	return paid + " · " + l.Tf("shop.refund_now", yuan(q.AmountFen), yuan(q.FeeFen)), true
}
