package console

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"piao/internal/booking"
	"piao/internal/fault"
	"piao/internal/fees"
	"piao/internal/network"
)

// The change pages (改签): a paid ticket of an order that is not itself a
// change can move once to another train or date between the same stations.
// The page lists the trains of a date with what each seat would cost, as an
// estimate from the change fee table; booking.Service.Change decides and
// prices the change when the form is posted.

// changeLinksLimit is how many of the account's latest orders are searched
// for the other side of a change: the order a changed ticket went to, the
// order a change order replaced, a change still to pay.
const changeLinksLimit = 100

// changeLinks relates an account's recent orders through changes.
type changeLinks struct {
	orderOf map[int64]booking.Order // ticket ID → the order holding it
	pending map[int64]booking.Order // ticket ID → the held change order that replaces it
}

// changeLinks reads the account's recent orders once.
func (c *Console) changeLinks(ctx context.Context, account int64) (changeLinks, error) {
	orders, err := c.deps.Booking.Orders(ctx, account, changeLinksLimit)
	if err != nil {
		return changeLinks{}, err
	}
	l := changeLinks{orderOf: map[int64]booking.Order{}, pending: map[int64]booking.Order{}}
	for _, o := range orders {
		for _, t := range o.Tickets {
			l.orderOf[t.ID] = o
		}
		if o.ChangeOf != 0 && o.Status == booking.Held {
			l.pending[o.ChangeOf] = o
		}
	}
	return l, nil
}

// ticketOf returns the ticket of ID in an order.
func ticketOf(o booking.Order, id int64) (booking.Ticket, bool) {
	for _, t := range o.Tickets {
		if t.ID == id {
			return t, true
		}
	}
	return booking.Ticket{}, false
}

// changePath is the change page of a ticket.
func changePath(orderID, ticketID int64) string {
	return orderPath(orderID) + "/change?ticket_id=" + strconv.FormatInt(ticketID, 10)
}

// changeOrigin is what a change order's page says about the ticket it replaces.
type changeOrigin struct {
	OrderID  int64  // 0 when the original order is not among the recent ones
	URL      string // of the original order
	Number   string
	Date     string
	Pay      string // the difference to pay (held) or paid
	Refund   string // the difference refunded, less Fee
	Fee      string
	Even     bool // same fare
	Dropped  bool // cancelled or expired before it was paid
	JustDone bool // the change has just been completed
}

// originOf describes the ticket a change order replaces.
func originOf(o booking.Order, links changeLinks) *changeOrigin {
	co := &changeOrigin{}
	switch o.Status {
	case booking.Held:
		co.Pay = yuan(o.TotalFen)
	case booking.Cancelled, booking.Expired:
		co.Dropped = true
	}
	old, found := links.orderOf[o.ChangeOf]
	var ot booking.Ticket
	if found {
		ot, found = ticketOf(old, o.ChangeOf)
	}
	if found {
		co.OrderID, co.URL = old.ID, orderPath(old.ID)
		co.Number, co.Date = ot.Number, network.DateOf(ot.Departure.In(shanghai)).String()
	}
	if o.Status != booking.Paid || len(o.Tickets) == 0 {
		return co
	}
	switch {
	case o.TotalFen > 0:
		co.Pay = yuan(o.TotalFen)
	case !found:
		// Without the old ticket the refund is unknown: say nothing of money.
	case ot.FareFen > o.Tickets[0].FareFen:
		co.Refund, co.Fee = yuan(ot.FareFen-o.Tickets[0].FareFen-ot.FeeFen), yuan(ot.FeeFen)
	default:
		co.Even = true
	}
	return co
}

// setChangeLinks fills what a ticket view says about changing it.
func setChangeLinks(tv *ticketView, o booking.Order, t booking.Ticket, links changeLinks) {
	switch {
	case t.Status == booking.Changed || t.ChangedTo != 0:
		tv.Changed = true
		if n, ok := links.orderOf[t.ChangedTo]; ok && t.ChangedTo != 0 {
			tv.ChangedID, tv.ChangedURL = n.ID, orderPath(n.ID)
		}
	case t.Status != booking.Paid:
	case o.ChangeOf != 0:
		tv.NoChange = true
	default:
		if p, ok := links.pending[t.ID]; ok {
			tv.PendingID, tv.PendingURL = p.ID, orderPath(p.ID)
		} else {
			tv.ChangeURL = changePath(o.ID, t.ID)
		}
	}
}

// ---- the change page ----

// changeData is what the change page shows.
type changeData struct {
	URL      string // the page, and where its forms post
	OrderURL string
	TicketID int64
	Ticket   ticketView
	Blocked  bool   // the ticket cannot be changed: no search
	Date     string // the date searched
	Today    string
	Searched bool
	Heading  string
	Offers   []changeOffer
}

// changeOffer is a train of the date with what changing to each seat costs.
type changeOffer struct {
	offerView
	Current bool // the ticket's own train and date: not a change
	Options []changeOption
}

// changeOption is one kind of seat to change to.
type changeOption struct {
	Name      string
	Kind      string // class:berth
	Class     network.SeatClass
	Berth     network.Berth
	Remaining int
	Fare      string
	Cost      string // the estimated difference to pay or refund
	Available bool
}

// changeBlocked says why a ticket of an order cannot be changed, or nil.
func changeBlocked(o booking.Order, t booking.Ticket) *bilingual {
	switch {
	case o.ChangeOf != 0:
		m := msg("change.not_again")
		return &m
	case t.Status != booking.Paid:
		m := bilingual{ZH: zh.Tf("change.not_paid", zh.T("status."+string(t.Status))), EN: en.Tf("change.not_paid", strings.ToLower(en.T("status."+string(t.Status))))}
		return &m
	}
	return nil
}

// h5ChangeForm shows the change page of a ticket (?ticket_id=) for a date
// (?date=, the day after the ticket's by default).
func (c *Console) h5ChangeForm(w http.ResponseWriter, r *http.Request, st *state) {
	q := r.URL.Query()
	c.showChange(w, r, st, http.StatusOK, nil, q.Get("ticket_id"), q.Get("date"))
}

// h5Change changes a ticket to the posted train, date and seat, then shows
// the new order: paid already, or held until the difference is paid.
func (c *Console) h5Change(w http.ResponseWriter, r *http.Request, st *state) {
	id, ok := orderID(r)
	if !ok {
		c.renderError(w, r, st, http.StatusNotFound, orderNotFound(r.PathValue("id")))
		return
	}
	f := r.PostFormValue
	tid, err := strconv.ParseInt(f("ticket_id"), 10, 64)
	if err != nil || tid <= 0 {
		c.renderError(w, r, st, http.StatusNotFound, bilingual{ZH: zh.Tf("change.no_ticket", f("ticket_id")), EN: en.Tf("change.no_ticket", f("ticket_id"))})
		return
	}
	res, err := c.deps.Booking.Change(r.Context(), booking.ChangeRequest{AccountID: st.principal.Account.ID, OrderID: id, TicketID: tid,
		Train: strings.TrimSpace(f("train")), Date: strings.TrimSpace(f("date")),
		SeatClass: network.SeatClass(f("seat_class")), Berth: network.Berth(f("berth"))})
	switch {
	case err == nil && res.Order.Status == booking.Paid:
		http.Redirect(w, r, orderPath(res.Order.ID)+"?changed=1", http.StatusSeeOther)
	case err == nil:
		http.Redirect(w, r, orderPath(res.Order.ID), http.StatusSeeOther)
	case res.Order.ID != 0:
		// The change is done but something after it failed (the refund of
		// the difference): show the new order with why.
		m := faultMsg(err)
		c.showOrderID(w, r, st, res.Order.ID, http.StatusOK, &m)
	case fault.CodeOf(err) == fault.Internal:
		c.internalError(w, r, st, err)
	default:
		m := faultMsg(err)
		c.showChange(w, r, st, statusOf(err), &m, f("ticket_id"), f("date"))
	}
}

// showChange renders the change page of the request's order for a ticket
// and a date, with an optional message.
func (c *Console) showChange(w http.ResponseWriter, r *http.Request, st *state, status int, alert *bilingual, ticketRef, date string) {
	id, ok := orderID(r)
	if !ok {
		c.renderError(w, r, st, http.StatusNotFound, orderNotFound(r.PathValue("id")))
		return
	}
	ctx := r.Context()
	o, err := c.deps.Booking.Order(ctx, id, st.principal.Account.ID)
	if err != nil {
		c.fail(w, r, st, err)
		return
	}
	ticketRef = strings.TrimSpace(ticketRef)
	tid, _ := strconv.ParseInt(ticketRef, 10, 64)
	t, ok := ticketOf(o, tid)
	if !ok || tid <= 0 {
		c.renderError(w, r, st, http.StatusNotFound, bilingual{ZH: zh.Tf("change.no_ticket", ticketRef), EN: en.Tf("change.no_ticket", ticketRef)})
		return
	}
	l := st.lang
	sc := c.stations(ctx)
	tv, err := c.ticketView(sc, t, l)
	if err != nil {
		c.internalError(w, r, st, err)
		return
	}
	now := c.now()
	d := changeData{URL: orderPath(o.ID) + "/change", OrderURL: orderPath(o.ID), TicketID: t.ID, Ticket: tv,
		Date: strings.TrimSpace(date), Today: network.DateOf(now.In(shanghai)).String()}
	if d.Date == "" {
		d.Date = t.Train.Date.AddDays(1).String()
	}
	v := c.newViewBack(r, st, "change.title", changePath(o.ID, t.ID)+"&date="+url.QueryEscape(d.Date))
	v.Title = l.Tf("change.heading", o.ID)
	v.Data = &d

	// Why the ticket cannot be changed at all, before searching.
	block := changeBlocked(o, t)
	var table fees.Table
	before := t.Departure.Sub(now)
	if block == nil {
		if table, err = c.deps.Booking.ChangeFees(ctx); err != nil {
			c.fail(w, r, st, err)
			return
		}
		if _, _, _, err := fees.ChangeQuote(t.FareFen, t.FareFen, before, table); err != nil {
			m := faultMsg(err)
			block = &m
		}
	}
	if block != nil {
		d.Blocked = true
		if alert == nil {
			alert, status = block, http.StatusConflict
		}
		v.Error = alert
		c.render(w, r, status, "h5_change.html", v)
		return
	}

	d.Searched = true
	d.Heading = l.Tf("change.results", tv.FromName, tv.ToName, d.Date)
	day, err := network.ParseDate(d.Date)
	var offers []booking.Offer
	if err == nil {
		offers, err = c.deps.Booking.Remaining(ctx, t.FromStationID, t.ToStationID, day)
	}
	if err != nil {
		if fault.CodeOf(err) == fault.Internal {
			c.internalError(w, r, st, err)
			return
		}
		if alert == nil {
			m := faultMsg(err)
			alert, status = &m, statusOf(err)
		}
	}
	for _, of := range offers {
		if !of.Departure.After(now) {
			continue // gone: nothing to change to
		}
		co := changeOffer{offerView: formatOffer(of, l), Current: of.ServiceID == t.Train.ServiceID && of.Date == t.Train.Date}
		for _, s := range of.Seats {
			opt := changeOption{Name: kindName(s.SeatClass, s.Berth, false, l), Kind: seatValue(s.SeatClass, s.Berth),
				Class: s.SeatClass, Berth: s.Berth, Remaining: s.Remaining}
			if s.FareFen > 0 {
				opt.Fare = yuan(s.FareFen)
				pay, refund, fee, err := fees.ChangeQuote(t.FareFen, s.FareFen, before, table)
				if err == nil && !co.Current {
					opt.Cost = changeCost(pay, refund, fee, l)
					opt.Available = s.Remaining > 0
				}
			}
			co.Options = append(co.Options, opt)
		}
		d.Offers = append(d.Offers, co)
	}
	v.Error = alert
	c.render(w, r, status, "h5_change.html", v)
}

// changeCost says what a change costs: pay the difference, have it
// refunded less the fee, or nothing.
func changeCost(pay, refund, fee int64, l lang) string {
	switch {
	case pay > 0:
		return l.Tf("change.pay", yuan(pay))
	case fee > 0:
		return l.Tf("change.refund_fee", yuan(refund), yuan(fee))
	case refund > 0:
		return l.Tf("change.refund", yuan(refund))
	}
	return l.T("change.even")
}
