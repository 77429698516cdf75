package console

import (
	"net/http"
	"net/url"
	"strconv"

	"piao/internal/booking"
	"piao/internal/fault"
	"piao/internal/realname"
)

// The waitlist (候补, SPEC R9) in the passenger H5 pages: a booking whose
// berth or seats are gone joins it from the booking form; the entry's page
// prepays it, shows its place in the queue and estimated chance, and links
// the order it becomes.

func waitlistPath(id int64) string { return "/h5/waitlist/" + strconv.FormatInt(id, 10) }

// waitlistView is one entry, formatted.
type waitlistView struct {
	ID                 int64
	URL                string
	Status             booking.WaitStatus
	StatusName         string
	Unpaid, Waiting    bool
	Active             bool
	Prepaid            string
	Refund             string // what went or goes back, if anything
	RefundSent         bool
	PayBy, Deadline    string
	Position           int
	Chance             int
	ChanceLevel        string
	ChanceBasis        string
	OrderURL           string
	Options            []waitOptionView
	Passengers         []string // masked names
	PassengerDocuments []string // masked numbers
	Confirming         bool     // unpaid, and the payer is back from the gateway
	RefreshURL         string
}

// waitOptionView is one option of an entry.
type waitOptionView struct {
	Number, Date, FromName, ToName, Depart, Kind string
}

func (c *Console) waitlistView(r *http.Request, st *state, e booking.WaitlistEntry) (waitlistView, error) {
	l := st.lang
	v := waitlistView{ID: e.ID, URL: waitlistPath(e.ID), Status: e.Status, StatusName: l.T("wl.status." + string(e.Status)),
		Unpaid: e.Status == booking.WaitUnpaid, Waiting: e.Status == booking.WaitWaiting, Active: e.Status.Active(),
		Prepaid: yuan(e.PrepaidFen), PayBy: beijing(e.PayBy), Deadline: beijing(e.Deadline), Position: e.Position, RefundSent: e.RefundSent}
	if e.RefundFen > 0 {
		v.Refund = yuan(e.RefundFen)
	}
	if e.Chance != nil {
		v.Chance, v.ChanceLevel = e.Chance.Percent, l.T("wl.chance."+e.Chance.Level)
		v.ChanceBasis = e.Chance.BasisZH
		if l == en {
			v.ChanceBasis = e.Chance.BasisEN
		}
	}
	if e.OrderID != 0 {
		v.OrderURL = orderPath(e.OrderID)
	}
	sc := c.stations(r.Context())
	for _, o := range e.Options {
		from, err := sc.get(o.FromStationID)
		if err != nil {
			return v, err
		}
		to, err := sc.get(o.ToStationID)
		if err != nil {
			return v, err
		}
		v.Options = append(v.Options, waitOptionView{Number: o.Number, Date: o.Train.Date.String(), FromName: stationName(from, l), ToName: stationName(to, l),
			Depart: beijing(o.Departure), Kind: kindName(o.SeatClass, o.Berth, o.Berth == "", l)})
	}
	for _, p := range e.Passengers {
		v.Passengers = append(v.Passengers, realname.MaskName(p.Name))
		v.PassengerDocuments = append(v.PassengerDocuments, realname.Passenger{DocType: realname.DocType(p.DocType), DocNumber: p.DocNumber}.Masked())
	}
	return v, nil
}

// h5Waitlists lists the account's waitlist entries.
func (c *Console) h5Waitlists(w http.ResponseWriter, r *http.Request, st *state) {
	es, err := c.deps.Booking.Waitlists(r.Context(), st.principal.Account.ID, ordersLimit)
	if err != nil {
		c.fail(w, r, st, err)
		return
	}
	var rows []waitlistView
	for _, e := range es {
		v, err := c.waitlistView(r, st, e)
		if err != nil {
			c.internalError(w, r, st, err)
			return
		}
		rows = append(rows, v)
	}
	v := c.newView(r, st, "wl.list_title")
	v.Data = rows
	c.render(w, r, http.StatusOK, "h5_waitlists.html", v)
}

// h5Waitlist shows one entry. Back from the gateway (?payment_id=…) with the
// notification not yet in, it says so and refreshes itself.
func (c *Console) h5Waitlist(w http.ResponseWriter, r *http.Request, st *state) {
	c.showWaitlist(w, r, st, http.StatusOK, nil)
}

func (c *Console) showWaitlist(w http.ResponseWriter, r *http.Request, st *state, status int, alert *bilingual) {
	id, ok := orderID(r)
	if !ok {
		c.renderError(w, r, st, http.StatusNotFound, waitlistNotFound(r.PathValue("id")))
		return
	}
	e, err := c.deps.Booking.Waitlist(r.Context(), id, st.principal.Account.ID)
	if fault.CodeOf(err) == fault.NotFound {
		c.renderError(w, r, st, http.StatusNotFound, waitlistNotFound(r.PathValue("id")))
		return
	}
	if err != nil {
		c.fail(w, r, st, err)
		return
	}
	d, err := c.waitlistView(r, st, e)
	if err != nil {
		c.internalError(w, r, st, err)
		return
	}
	v := c.newViewBack(r, st, "wl.title", "/h5/waitlist")
	if pid := r.URL.Query().Get("payment_id"); d.Unpaid && pid != "" {
		d.Confirming, d.RefreshURL = true, d.URL+"?payment_id="+url.QueryEscape(pid)
		v.Refresh = 2
	}
	v.Error = alert
	v.Data = d
	c.render(w, r, status, "h5_waitlist.html", v)
}

func waitlistNotFound(ref string) bilingual {
	return bilingual{ZH: zh.Tf("wl.not_found", ref), EN: en.Tf("wl.not_found", ref)}
}

// waitlistAction is postAction on the request's waitlist entry.
func (c *Console) waitlistAction(w http.ResponseWriter, r *http.Request, st *state, act func(id, account int64) (string, error)) {
	c.postAction(w, r, st, h5Kind{waitlistNotFound, waitlistPath, c.showWaitlist}, act)
}

// h5WaitlistPay sends the payer to the gateway to prepay an entry.
func (c *Console) h5WaitlistPay(w http.ResponseWriter, r *http.Request, st *state) {
	c.waitlistAction(w, r, st, func(id, account int64) (string, error) {
		p, err := c.deps.Booking.WaitlistPayment(r.Context(), id, account)
		return p.PayURL, err
	})
}

// h5WaitlistCancel withdraws an entry (a prepaid one is refunded in full).
func (c *Console) h5WaitlistCancel(w http.ResponseWriter, r *http.Request, st *state) {
	c.waitlistAction(w, r, st, func(id, account int64) (string, error) {
		_, err := c.deps.Booking.CancelWaitlist(r.Context(), id, account)
		return "", err
	})
}

// alternativesPath is the recommendation page for a journey, ranked for a
// berth and then arrival, where on_unmet=alternatives sends the passenger.
func alternativesPath(from, to, date, berth string) string {
	q := url.Values{"from": {from}, "to": {to}, "date": {date}, "by": {"berth,arrival"}}
	if berth != "" {
		q.Set("berth", berth)
	}
	return "/h5/recommend?" + q.Encode()
}
