package console

import (
	"net/http"
	"strconv"
	"time"

	"piao/internal/booking"
	"piao/internal/fault"
	"piao/internal/fees"
	"piao/internal/network"
	"piao/internal/realname"
)

// ordersLimit is how many orders the list shows, newest first.
const ordersLimit = 50

// orderPath is the page of an order.
func orderPath(id int64) string { return "/h5/orders/" + strconv.FormatInt(id, 10) }

// orderID reads the {id} of an order route; ok is false for anything that
// cannot be an order ID.
func orderID(r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	return id, err == nil && id > 0
}

// orderNotFound is the message for an order the account does not have.
func orderNotFound(ref string) bilingual {
	return bilingual{ZH: zh.Tf("order.not_found", ref), EN: en.Tf("order.not_found", ref)}
}

// beijing formats t as Beijing date and time, to the minute.
func beijing(t time.Time) string { return t.In(shanghai).Format("2006-01-02 15:04") }

// ---- list ----

// orderRow is an order in the list of orders.
type orderRow struct {
	ID               int64
	URL              string
	Number           string
	TravelDate       string
	FromName, ToName string
	Depart           clock
	Passengers       int
	Total            string
	Status           booking.OrderStatus
	StatusName       string
	Created          string
	HoldUntil        string // while held
	Change           bool   // a change (改签) order
}

// h5Orders lists the account's orders, newest first.
func (c *Console) h5Orders(w http.ResponseWriter, r *http.Request, st *state) {
	orders, err := c.deps.Booking.Orders(r.Context(), st.principal.Account.ID, ordersLimit)
	if err != nil {
		c.fail(w, r, st, err)
		return
	}
	sc := c.stations(r.Context())
	var rows []orderRow
	for _, o := range orders {
		row := orderRow{ID: o.ID, URL: orderPath(o.ID), Passengers: len(o.Tickets), Total: yuan(o.TotalFen),
			Status: o.Status, StatusName: st.lang.T("status." + string(o.Status)), Created: beijing(o.CreatedAt), Change: o.ChangeOf != 0}
		if o.Status == booking.Held {
			row.HoldUntil = beijing(o.HoldExpiresAt)
		}
		if len(o.Tickets) > 0 {
			t := o.Tickets[0]
			from, err := sc.get(t.FromStationID)
			if err != nil {
				c.internalError(w, r, st, err)
				return
			}
			to, err := sc.get(t.ToStationID)
			if err != nil {
				c.internalError(w, r, st, err)
				return
			}
			dep := t.Departure.In(shanghai)
			row.Number, row.FromName, row.ToName = t.Number, stationName(from, st.lang), stationName(to, st.lang)
			row.TravelDate, row.Depart = dep.Format(time.DateOnly), clockOf(network.DateOf(dep), dep)
		}
		rows = append(rows, row)
	}
	v := c.newView(r, st, "orders.title")
	v.Data = rows
	c.render(w, r, http.StatusOK, "h5_orders.html", v)
}

// ---- one order ----

// orderData is what an order page shows.
type orderData struct {
	ID                      int64
	URL                     string
	Status                  booking.OrderStatus
	StatusName              string
	Number                  string
	TravelDate              string // the departure's date, Beijing time
	FromName, ToName        string
	Depart, Arrive          clock // relative to TravelDate
	Total                   string
	Created                 string
	HoldUntil, HoldUntilISO string // while held
	Held, Paid              bool
	Confirming              bool // held, and the payer is back from the gateway
	JustPaid                bool // paid, and the payer is back from the gateway
	RefreshURL              string
	Tickets                 []ticketView
	// ChangeOf describes the ticket a change (改签) order replaces; nil
	// for an order that is not a change.
	ChangeOf *changeOrigin
	// Warnings are the cancel-limit warnings of the booking or cancel
	// that just led here (see h5_warn.go).
	Warnings []bilingual
}

// ticketView is one passenger's ticket, formatted; names and document
// numbers are masked.
type ticketView struct {
	ID                     int64
	Number                 string
	TravelDate             string
	FromName, ToName       string
	Depart, Arrive         clock  // relative to TravelDate
	Kind, Seat             string // class; car and seat or berth
	Name, DocType, Doc     string
	Fare                   string
	Status                 booking.TicketStatus
	StatusName             string
	Paid, Refunded         bool
	Fee, Refund            string     // for a paid ticket: what refunding it costs and returns
	RefundErr              *bilingual // why a paid ticket cannot be refunded online now
	RefundedFee, RefundAmt string     // for a refunded ticket
	// Changes (改签): a paid ticket links to its change page, or to the
	// change order still to pay; a changed one to the order of its new
	// ticket (ChangedID 0: not among the recent orders); a ticket of a
	// change order cannot be changed again (NoChange).
	ChangeURL  string
	PendingID  int64
	PendingURL string
	Changed    bool
	ChangedID  int64
	ChangedURL string
	NoChange   bool
}

// h5Order shows one of the account's orders.
func (c *Console) h5Order(w http.ResponseWriter, r *http.Request, st *state) {
	c.showOrder(w, r, st, http.StatusOK, nil)
}

// showOrder renders the order of the request's {id} with an optional
// message, for the order page and for actions on it that failed.
func (c *Console) showOrder(w http.ResponseWriter, r *http.Request, st *state, status int, alert *bilingual) {
	id, ok := orderID(r)
	if !ok {
		c.renderError(w, r, st, http.StatusNotFound, orderNotFound(r.PathValue("id")))
		return
	}
	c.showOrderID(w, r, st, id, status, alert)
}

// showOrderID renders the account's order id with an optional message.
func (c *Console) showOrderID(w http.ResponseWriter, r *http.Request, st *state, id int64, status int, alert *bilingual) {
	ctx := r.Context()
	o, err := c.deps.Booking.Order(ctx, id, st.principal.Account.ID)
	if err != nil {
		c.fail(w, r, st, err)
		return
	}
	l := st.lang
	d := orderData{ID: o.ID, URL: orderPath(o.ID), Status: o.Status, StatusName: l.T("status." + string(o.Status)),
		Total: yuan(o.TotalFen), Created: beijing(o.CreatedAt),
		Held: o.Status == booking.Held, Paid: o.Status == booking.Paid}
	d.Warnings = c.takeWarnings(w, r, st, o.ID)
	fromGateway := r.Method == http.MethodGet && r.URL.Query().Get("payment_id") != ""
	if d.Held {
		d.HoldUntil = beijing(o.HoldExpiresAt)
		d.HoldUntilISO = o.HoldExpiresAt.In(shanghai).Format(time.RFC3339)
		d.Confirming = fromGateway
	}
	d.JustPaid = d.Paid && fromGateway
	d.RefreshURL = localPath(r.URL.RequestURI())
	var table fees.Table
	tableOK := false
	if d.Paid {
		if table, err = c.deps.Booking.RefundFees(ctx); err != nil {
			c.fail(w, r, st, err)
			return
		}
		tableOK = true
	}
	// The other side of a change: the order replaced, the new order of a
	// changed ticket, a change of a paid ticket still to pay.
	var links changeLinks
	if o.ChangeOf != 0 || d.Paid || hasChanged(o) {
		if links, err = c.changeLinks(ctx, o.AccountID); err != nil {
			c.fail(w, r, st, err)
			return
		}
	}
	if o.ChangeOf != 0 {
		d.ChangeOf = originOf(o, links)
		d.ChangeOf.JustDone = d.Paid && r.Method == http.MethodGet && r.URL.Query().Get("changed") == "1"
	}
	now := c.now()
	sc := c.stations(ctx)
	for i, t := range o.Tickets {
		tv, err := c.ticketView(sc, t, l)
		if err != nil {
			c.internalError(w, r, st, err)
			return
		}
		setChangeLinks(&tv, o, t, links)
		if tv.Paid && tableOK {
			if fee, err := table.Fee(t.FareFen, t.Departure.Sub(now)); err != nil {
				m := faultMsg(err)
				tv.RefundErr = &m
			} else {
				tv.Fee, tv.Refund = yuan(fee), yuan(t.FareFen-fee)
			}
		}
		if i == 0 {
			d.Number, d.TravelDate, d.FromName, d.ToName, d.Depart, d.Arrive = tv.Number, tv.TravelDate, tv.FromName, tv.ToName, tv.Depart, tv.Arrive
		}
		d.Tickets = append(d.Tickets, tv)
	}
	back := d.URL
	if r.Method == http.MethodGet {
		back = r.URL.RequestURI()
	}
	v := c.newViewBack(r, st, "order.title", back)
	v.Title = l.Tf("order.heading", o.ID)
	if d.Confirming {
		v.Refresh = confirmRefresh
	}
	v.Error = alert
	v.Data = d
	c.render(w, r, status, "h5_order.html", v)
}

// hasChanged reports whether a ticket of the order was changed.
func hasChanged(o booking.Order) bool {
	for _, t := range o.Tickets {
		if t.ChangedTo != 0 || t.Status == booking.Changed {
			return true
		}
	}
	return false
}

// ticketView formats a ticket.
func (c *Console) ticketView(sc *stationCache, t booking.Ticket, l lang) (ticketView, error) {
	from, err := sc.get(t.FromStationID)
	if err != nil {
		return ticketView{}, err
	}
	to, err := sc.get(t.ToStationID)
	if err != nil {
		return ticketView{}, err
	}
	dep := t.Departure.In(shanghai)
	day := network.DateOf(dep)
	p := realname.Passenger{Name: t.PassengerName, DocType: realname.DocType(t.DocType), DocNumber: t.DocNumber}
	tv := ticketView{ID: t.ID, Number: t.Number, TravelDate: day.String(),
		FromName: stationName(from, l), ToName: stationName(to, l),
		Depart: clockOf(day, t.Departure), Arrive: clockOf(day, t.Arrival),
		Kind: l.T("class." + string(t.SeatClass)), Seat: seatText(t, l),
		Name: realname.MaskName(t.PassengerName), DocType: docTypeName(p.DocType, l), Doc: p.Masked(),
		Fare: yuan(t.FareFen), Status: t.Status, StatusName: l.T("status." + string(t.Status)),
		Paid: t.Status == booking.Paid, Refunded: t.Status == booking.Refunded}
	if tv.Refunded {
		tv.RefundedFee, tv.RefundAmt = yuan(t.FeeFen), yuan(t.RefundFen)
	}
	return tv, nil
}

// ---- actions ----

// postAction runs an action on the order or waitlist entry named in the
// path and redirects (303) to where it returns, or to the thing's page when
// that is ""; if the action fails, the thing's page shows why.
func (c *Console) postAction(w http.ResponseWriter, r *http.Request, st *state, k h5Kind, act func(id, account int64) (string, error)) {
	id, ok := orderID(r)
	if !ok {
		c.renderError(w, r, st, http.StatusNotFound, k.notFound(r.PathValue("id")))
		return
	}
	to, err := act(id, st.principal.Account.ID)
	if err == nil {
		if to == "" {
			to = k.path(id)
		}
		http.Redirect(w, r, to, http.StatusSeeOther)
		return
	}
	if fault.CodeOf(err) == fault.Internal {
		c.internalError(w, r, st, err)
		return
	}
	m := faultMsg(err)
	k.show(w, r, st, statusOf(err), &m)
}

// h5Kind is what postAction needs to know of orders or waitlist entries.
type h5Kind struct {
	notFound func(ref string) bilingual
	path     func(id int64) string
	show     func(w http.ResponseWriter, r *http.Request, st *state, status int, alert *bilingual)
}

// orderAction is postAction on the request's order.
func (c *Console) orderAction(w http.ResponseWriter, r *http.Request, st *state, act func(id, account int64) (string, error)) {
	c.postAction(w, r, st, h5Kind{orderNotFound, orderPath, c.showOrder}, act)
}

// h5Pay sends the payer to the gateway's page for a held order.
func (c *Console) h5Pay(w http.ResponseWriter, r *http.Request, st *state) {
	c.orderAction(w, r, st, func(id, account int64) (string, error) {
		p, err := c.deps.Booking.Payment(r.Context(), id, account)
		return p.PayURL, err
	})
}

// h5Cancel cancels a held order; the order page then shows the warnings
// of a passenger or account near its cancel limit.
func (c *Console) h5Cancel(w http.ResponseWriter, r *http.Request, st *state) {
	c.orderAction(w, r, st, func(id, account int64) (string, error) {
		o, err := c.deps.Booking.Cancel(r.Context(), id, account)
		if err == nil {
			c.setWarnings(w, r, st, id, o.Warnings)
		}
		return "", err
	})
}

// h5Refund refunds one paid ticket (form field ticket_id) of an order.
func (c *Console) h5Refund(w http.ResponseWriter, r *http.Request, st *state) {
	c.orderAction(w, r, st, func(id, account int64) (string, error) {
		tid, err := strconv.ParseInt(r.PostFormValue("ticket_id"), 10, 64)
		if err != nil || tid <= 0 {
			// Never pass an empty list: that would refund every ticket.
			return "", fault.New(fault.Invalid, "ticket_required", "请选择要退的车票", "choose the ticket to refund")
		}
		_, err = c.deps.Booking.RefundTickets(r.Context(), id, account, []int64{tid})
		return "", err
	})
}
