package console

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"piao/internal/booking"
	"piao/internal/fault"
	"piao/internal/governance"
	"piao/internal/identity"
	"piao/internal/network"
	"piao/internal/realname"
)

// The passenger H5 pages (/h5/…): mobile-first pages for searching trains,
// booking, paying through the gateway's page, cancelling and refunding.
// They only read forms, call booking.Service and show what it returns; the
// rules (who may book what, fees, holds) stay in package booking.

// defaultFrom and defaultTo prefill the search form: the demo's main route.
const defaultFrom, defaultTo = "NCG", "BXP"

// confirmRefresh is how often, in seconds, an order page reloads itself
// while a payment the gateway reported is not confirmed yet.
const confirmRefresh = 2

// fail shows err: services' own failures as a 500 that hides their cause,
// domain errors as their message with the API's status.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, st *state, err error) {
	if fault.CodeOf(err) == fault.Internal {
		c.internalError(w, r, st, err)
		return
	}
	c.renderError(w, r, st, statusOf(err), faultMsg(err))
}

// ---- formatting ----

// yuan formats fen as yuan with two decimals: ¥1234.50.
func yuan(fen int64) string {
	sign := ""
	if fen < 0 {
		sign, fen = "-", -fen
	}
	return sign + "¥" + strconv.FormatInt(fen/100, 10) + "." + strconv.FormatInt(fen%100/10, 10) + strconv.FormatInt(fen%10, 10)
}

// stationName is a station's name in l: in English its English name, else
// its pinyin; then its Chinese name, then its ID.
func stationName(s network.Station, l lang) string {
	if l == en {
		if s.NameEN != "" {
			return s.NameEN
		}
		if py := pinyinName(strings.Fields(s.Pinyin)); py != "" {
			return py
		}
	}
	if s.NameZH != "" {
		return s.NameZH
	}
	return s.ID
}

// kindName names a class and berth: "硬卧 下铺", "Hard sleeper, lower",
// "Second class"; an empty berth of a sleeper class is "any berth" when
// anyBerth is set.
func kindName(class network.SeatClass, berth network.Berth, anyBerth bool, l lang) string {
	name := l.T("class." + string(class))
	switch {
	case berth != network.NoBerth:
		return l.Tf("kind.berth", name, l.T("berth."+string(berth)))
	case anyBerth:
		return l.Tf("kind.berth", name, l.T("berth.any"))
	}
	return name
}

// seatText is where a ticket sits: "03车 07号下铺", "car 3, berth 07 lower".
func seatText(t booking.Ticket, l lang) string {
	car := l.Tf("seat.car", t.Car)
	if t.Berth != network.NoBerth {
		return car + " " + l.Tf("seat.berth", strings.TrimRight(t.Seat, "LMU"), l.T("berth."+string(t.Berth)))
	}
	return car + " " + l.Tf("seat.seat", t.Seat)
}

// docTypeName names a document type in l.
func docTypeName(d realname.DocType, l lang) string {
	if l == en {
		return d.EN()
	}
	return d.ZH()
}

// clock is a time of day with the days it lies after a reference date.
type clock struct {
	Time string // 15:04 in Beijing time
	Day  int    // +1 for the next day
}

// clockOf formats t in Beijing time relative to date.
func clockOf(date network.Date, t time.Time) clock {
	t = t.In(shanghai)
	return clock{Time: t.Format("15:04"), Day: daysAfter(date, t)}
}

// stationCache looks stations up once per page.
type stationCache struct {
	c    *Console
	ctx  context.Context
	seen map[string]network.Station
}

func (c *Console) stations(ctx context.Context) *stationCache {
	return &stationCache{c: c, ctx: ctx, seen: map[string]network.Station{}}
}

// get returns a station, or one with only its ID if it is gone.
func (sc *stationCache) get(id string) (network.Station, error) {
	if s, ok := sc.seen[id]; ok {
		return s, nil
	}
	s, err := sc.c.deps.Catalog.Station(sc.ctx, id)
	if fault.Is(err, fault.NotFound) {
		s, err = network.Station{ID: id}, nil
	}
	if err != nil {
		return network.Station{}, err
	}
	sc.seen[id] = s
	return s, nil
}

// ---- search ----

// searchData is what the search page shows.
type searchData struct {
	From, To, Date string
	Today          string // the earliest date the form offers
	Heading        string // the search's stations, by name once known
	Searched       bool
	Err            *bilingual
	Offers         []offerView
	// NoBooking says the user's role books no tickets: the results have
	// no booking links.
	NoBooking bool
}

// offerView is a train of the search results, formatted.
type offerView struct {
	ServiceID, Number string
	Date              string
	From, To          network.Station
	FromName, ToName  string
	Depart, Arrive    clock
	Duration          string
	Seats             []availView
}

// availView is one kind of seat of an offer.
type availView struct {
	Name      string
	Remaining int
	Fare      string
	Bookable  bool   // some are left, at a fare
	BookURL   string // empty when it is not bookable, or not by this user
}

// formatOffer turns an offer into display strings and booking links.
func formatOffer(o booking.Offer, l lang) offerView {
	v := offerView{ServiceID: o.ServiceID, Number: o.Number, Date: o.Date.String(), From: o.From, To: o.To,
		FromName: stationName(o.From, l), ToName: stationName(o.To, l),
		Depart: clockOf(o.Date, o.Departure), Arrive: clockOf(o.Date, o.Arrival),
		Duration: formatDuration(o.DurationMin, l)}
	for _, s := range o.Seats {
		a := availView{Name: kindName(s.SeatClass, s.Berth, false, l), Remaining: s.Remaining}
		if s.FareFen > 0 {
			a.Fare = yuan(s.FareFen)
			if a.Bookable = s.Remaining > 0; a.Bookable {
				a.BookURL = "/h5/book?" + url.Values{"train": {o.ServiceID}, "date": {v.Date}, "from": {o.From.ID}, "to": {o.To.ID},
					"class": {string(s.SeatClass)}, "berth": {string(s.Berth)}}.Encode()
			}
		}
		v.Seats = append(v.Seats, a)
	}
	return v
}

// mayBook reports whether the user books tickets, or may log in to: the
// search is public, but an operator's role books none, so its results link
// to no booking form the role would be refused.
func mayBook(st *state) bool {
	return st.principal.Anonymous() || identity.Allowed(st.principal.Role(), identity.OrdersOwn)
}

// dropBooking removes the offer's booking links.
func (v *offerView) dropBooking() {
	for i := range v.Seats {
		v.Seats[i].BookURL = ""
	}
}

// tomorrow is the date the search form proposes.
func (c *Console) tomorrow() network.Date { return network.DateOf(c.now().In(shanghai)).AddDays(1) }

// h5Home shows the ticket search form.
func (c *Console) h5Home(w http.ResponseWriter, r *http.Request, st *state) {
	d := searchData{From: defaultFrom, To: defaultTo, Date: c.tomorrow().String(), Today: network.DateOf(c.now().In(shanghai)).String()}
	v := c.newView(r, st, "h5.title")
	v.Data = d
	c.render(w, r, http.StatusOK, "h5_search.html", v)
}

// h5Search lists the trains between two stations on a date with what is left.
func (c *Console) h5Search(w http.ResponseWriter, r *http.Request, st *state) {
	q := r.URL.Query()
	d := searchData{From: strings.TrimSpace(q.Get("from")), To: strings.TrimSpace(q.Get("to")), Date: strings.TrimSpace(q.Get("date")),
		Today: network.DateOf(c.now().In(shanghai)).String(), Searched: true}
	if d.Date == "" {
		d.Date = c.tomorrow().String()
	}
	status := http.StatusOK
	date, err := network.ParseDate(d.Date)
	var offers []booking.Offer
	if err == nil {
		offers, err = c.deps.Booking.Remaining(r.Context(), d.From, d.To, date)
	}
	if err != nil {
		if fault.CodeOf(err) == fault.Internal {
			c.internalError(w, r, st, err)
			return
		}
		m := faultMsg(err)
		d.Err, status = &m, statusOf(err)
	}
	d.NoBooking = !mayBook(st)
	for _, o := range offers {
		ov := formatOffer(o, st.lang)
		if d.NoBooking {
			ov.dropBooking()
		}
		d.Offers = append(d.Offers, ov)
	}
	if d.Heading, err = c.searchHeading(r.Context(), d.From, d.To, d.Date, st.lang); err != nil {
		c.internalError(w, r, st, err)
		return
	}
	v := c.newView(r, st, "h5.results")
	v.Data = d
	c.render(w, r, status, "h5_search.html", v)
}

// searchHeading names a search by what was asked for, "南昌 → 北京, 2026-12-08":
// the city or the station typed, not the stations of the first train found.
func (c *Console) searchHeading(ctx context.Context, from, to, date string, l lang) (string, error) {
	f, err := c.placeName(ctx, from, l)
	if err != nil {
		return "", err
	}
	t, err := c.placeName(ctx, to, l)
	if err != nil {
		return "", err
	}
	return l.Tf("h5.results_for", f, t, date), nil
}

// placeName names in l what a passenger typed for an end of a search, as
// the search resolves it (booking searches the stations a name, pinyin or
// initials match): a station ID or telecode, or a single match, is that
// station; matches all in one city are that city (南昌 finds 南昌 and
// 南昌西); anything else is shown as typed. Only failures of the network
// store are errors.
func (c *Console) placeName(ctx context.Context, ref string, l lang) (string, error) {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return ref, nil
	}
	if s, err := c.deps.Catalog.Station(ctx, ref); err == nil {
		return stationName(s, l), nil
	} else if !fault.Is(err, fault.NotFound) {
		return "", err
	}
	found, err := c.deps.Catalog.SearchStations(ctx, ref, 20)
	if err != nil && fault.CodeOf(err) == fault.Internal {
		return "", err
	}
	for _, s := range found {
		if strings.EqualFold(s.Code, ref) {
			return stationName(s, l), nil
		}
	}
	switch len(found) {
	case 0:
		return ref, nil
	case 1:
		return stationName(found[0], l), nil
	}
	city := found[0].City
	for _, s := range found {
		if s.City != city {
			return ref, nil
		}
	}
	if city == "" {
		return ref, nil
	}
	return cityName(city, found, l), nil
}

// cityName names a city in l. Stations carry their city in Chinese only:
// in English the city is the English name of its namesake station
// (南昌 → Nanchang), else the pinyin of the city's syllables of a station
// named after it (郑州东 zheng zhou dong → Zhengzhou), else as it is.
func cityName(city string, stations []network.Station, l lang) string {
	if l != en {
		return city
	}
	for _, s := range stations {
		if s.NameZH == city && s.NameEN != "" {
			return s.NameEN
		}
	}
	n := utf8.RuneCountInString(city)
	for _, s := range stations {
		syllables := strings.Fields(s.Pinyin)
		if strings.HasPrefix(s.NameZH, city) && utf8.RuneCountInString(s.NameZH) == len(syllables) {
			return pinyinName(syllables[:n])
		}
	}
	return city
}

// ---- booking ----

// bookData is what the booking form shows.
type bookData struct {
	Train, Date, From, To string // the journey, carried through the form
	Offer                 offerView
	Seats                 []seatOption
	DocTypes              []docTypeOption
	Passengers            []passengerForm
	CanAdd, CanRemove     bool
	Max                   int  // passengers per order
	Unpaid                bool // the account has a held order to pay or cancel first
	// Positions are the seat-position choices (window, aisle) when the
	// train has seated classes.
	Positions []seatOption
	Together  bool
	// Unmet says the berth or seat asked for is gone (or sold out):
	// the form offers to take any, join the waitlist or see other trains.
	Unmet, SoldOut bool
}

// seatOption is a choice of the per-passenger seat select.
type seatOption struct {
	Value, Label string
}

// docTypeOption is a choice of the document type select.
type docTypeOption struct {
	Value, Label string
}

// passengerForm is one passenger's fields as typed.
type passengerForm struct {
	N                              int // 1-based
	Name, DocType, DocNumber, Seat string
	Position                       string // window, aisle or "" for seated classes
}

// seatValue encodes a class and berth for the seat select: "hard_sleeper:lower".
func seatValue(class network.SeatClass, berth network.Berth) string {
	return string(class) + ":" + string(berth)
}

// parseSeat decodes a seat select value.
func parseSeat(v string) (network.SeatClass, network.Berth) {
	class, berth, _ := strings.Cut(v, ":")
	return network.SeatClass(class), network.Berth(berth)
}

// findOffer returns the offer of one train between two stations on a date.
func (c *Console) findOffer(ctx context.Context, train, date, from, to string) (booking.Offer, error) {
	d, err := network.ParseDate(strings.TrimSpace(date))
	if err != nil {
		return booking.Offer{}, err
	}
	train = strings.TrimSpace(train)
	if train == "" {
		return booking.Offer{}, fault.New(fault.Invalid, "bad_train", "车次不能为空", "a train is required")
	}
	offers, err := c.deps.Booking.Remaining(ctx, from, to, d)
	if err != nil {
		return booking.Offer{}, err
	}
	for _, o := range offers {
		if o.ServiceID == train || strings.EqualFold(o.Number, train) {
			return o, nil
		}
	}
	return booking.Offer{}, fault.Newf(fault.NotFound, "offer_not_found", "%s 当日在所选区间没有车次 %s", "train %[2]s does not run between those stations on %[1]s", d, train)
}

// newBookData prepares the form for an offer with n passengers.
func newBookData(o booking.Offer, l lang) bookData {
	d := bookData{Train: o.ServiceID, Date: o.Date.String(), From: o.From.ID, To: o.To.ID, Offer: formatOffer(o, l), Max: booking.MaxPassengers}
	classes := map[network.SeatClass]bool{}
	for _, s := range o.Seats {
		if s.FareFen <= 0 {
			continue
		}
		if s.Berth != network.NoBerth && !classes[s.SeatClass] {
			classes[s.SeatClass] = true
			d.Seats = append(d.Seats, seatOption{Value: seatValue(s.SeatClass, network.NoBerth), Label: kindName(s.SeatClass, network.NoBerth, true, l)})
		}
		d.Seats = append(d.Seats, seatOption{Value: seatValue(s.SeatClass, s.Berth),
			Label: l.Tf("book.seat_option", kindName(s.SeatClass, s.Berth, false, l), yuan(s.FareFen), s.Remaining)})
	}
	for _, dt := range realname.DocTypes {
		d.DocTypes = append(d.DocTypes, docTypeOption{Value: string(dt), Label: docTypeName(dt, l)})
	}
	if slices.ContainsFunc(o.Seats, func(a booking.Availability) bool { return a.Berth == network.NoBerth && a.FareFen > 0 }) {
		d.Positions = []seatOption{{"", l.T("book.position_any")}, {"window", l.T("book.position_window")}, {"aisle", l.T("book.position_aisle")}}
	}
	return d
}

// setPassengers fills the passenger rows and the add/remove buttons.
func (d *bookData) setPassengers(ps []passengerForm) {
	for i := range ps {
		ps[i].N = i + 1
	}
	d.Passengers = ps
	d.CanAdd, d.CanRemove = len(ps) < booking.MaxPassengers, len(ps) > 1
}

// bookPath is the booking form's address for a journey.
func bookPath(train, date, from, to string) string {
	return "/h5/book?" + url.Values{"train": {train}, "date": {date}, "from": {from}, "to": {to}}.Encode()
}

// h5BookForm shows the booking form for a train, one passenger to start.
func (c *Console) h5BookForm(w http.ResponseWriter, r *http.Request, st *state) {
	q := r.URL.Query()
	o, err := c.findOffer(r.Context(), q.Get("train"), q.Get("date"), q.Get("from"), q.Get("to"))
	if err != nil {
		c.fail(w, r, st, err)
		return
	}
	d := newBookData(o, st.lang)
	seat := seatValue(network.SeatClass(q.Get("class")), network.Berth(q.Get("berth")))
	d.setPassengers([]passengerForm{{DocType: string(realname.IDCard), Seat: seat}})
	v := c.newView(r, st, "book.title")
	v.Data = d
	c.render(w, r, http.StatusOK, "h5_book.html", v)
}

// h5Book books the posted passengers, or adds or removes a passenger row
// (op=add, op=remove) and shows the form again with what was typed.
func (c *Console) h5Book(w http.ResponseWriter, r *http.Request, st *state) {
	f := func(k string) string { return r.PostFormValue(k) }
	o, err := c.findOffer(r.Context(), f("train"), f("date"), f("from"), f("to"))
	if err != nil {
		c.fail(w, r, st, err)
		return
	}
	n, _ := strconv.Atoi(f("n"))
	n = min(max(n, 1), booking.MaxPassengers)
	ps := make([]passengerForm, n)
	for i := range ps {
		k := strconv.Itoa(i + 1)
		ps[i] = passengerForm{Name: f("name_" + k), DocType: f("doc_type_" + k), DocNumber: f("doc_number_" + k), Seat: f("seat_" + k), Position: f("position_" + k)}
	}
	d := newBookData(o, st.lang)
	d.Together = f("together") == "1"
	status := http.StatusOK
	var alert *bilingual
	switch f("op") {
	case "add":
		if n < booking.MaxPassengers {
			ps = append(ps, passengerForm{DocType: string(realname.IDCard), Seat: ps[n-1].Seat})
		}
	case "remove":
		if n > 1 {
			ps = ps[:n-1]
		}
	default:
		req := booking.BookRequest{AccountID: st.principal.Account.ID, Train: o.ServiceID, Date: d.Date, From: o.From.ID, To: o.To.ID, Together: d.Together}
		switch op := booking.OnUnmet(f("op")); op {
		case booking.UnmetAny, booking.UnmetWaitlist, booking.UnmetAlternatives:
			req.OnUnmet = op
		}
		for _, p := range ps {
			class, berth := parseSeat(p.Seat)
			pos := p.Position
			if len(class.Berths()) > 1 {
				pos = "" // positions are for seated classes; the berth is in the seat choice
			}
			req.Passengers = append(req.Passengers, booking.PassengerRequest{Name: p.Name, DocType: p.DocType, DocNumber: p.DocNumber, SeatClass: class, Berth: berth, Seat: pos})
		}
		res, err := c.deps.Booking.Book(r.Context(), req)
		if err == nil {
			switch res.Outcome {
			case booking.OutcomeWaitlisted:
				http.Redirect(w, r, waitlistPath(res.Waitlist.ID), http.StatusSeeOther)
			case booking.OutcomeAlternatives:
				_, berth := parseSeat(ps[0].Seat)
				http.Redirect(w, r, alternativesPath(d.From, d.To, d.Date, string(berth)), http.StatusSeeOther)
			default:
				ws := res.Order.Warnings
				for _, u := range res.Unmet {
					ws = append(ws, governance.Warning{Code: "preference_unmet", ZH: u.ZH, EN: u.EN})
				}
				c.setWarnings(w, r, st, res.Order.ID, ws)
				http.Redirect(w, r, orderPath(res.Order.ID), http.StatusSeeOther)
			}
			return
		}
		if fault.CodeOf(err) == fault.Internal {
			c.internalError(w, r, st, err)
			return
		}
		setRetryAfter(w, err) // a document's booking limit says when to retry
		m := faultMsg(err)
		alert, status = &m, statusOf(err)
		switch fault.As(err).Reason {
		case "unpaid_order_exists":
			d.Unpaid = true
		case "preference_unmet":
			d.Unmet = true
		case "sold_out":
			d.SoldOut = true
		}
	}
	d.setPassengers(ps)
	v := c.newViewBack(r, st, "book.title", bookPath(d.Train, d.Date, d.From, d.To))
	v.Error = alert
	v.Data = d
	c.render(w, r, status, "h5_book.html", v)
}
