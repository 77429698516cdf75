package console

import (
	"net/http"
	"net/url"
	"strings"

	"piao/internal/booking"
	"piao/internal/fault"
	"piao/internal/network"
)

// The recommendation page (按需推荐, R10): the trains of a search ranked by
// what the passenger says matters most, each with the reason and a book
// button. The ranking and its reasons come from booking.Recommend.

// choice is an option of a select.
type choice struct {
	Value, Label string
	Selected     bool
}

// recommendForm is the "what matters" form, on the search results and on
// the recommendation page.
type recommendForm struct {
	Lang                          lang
	From, To, Date                string
	ArriveBy                      string
	Factors, Thens, Berths, Class []choice
}

// recommendQuery is what the form asks for, as typed.
type recommendQuery struct {
	By, Then, Berth, Class, ArriveBy string
}

// RecommendForm is the form for a search, with arrival first by default.
func (d searchData) RecommendForm(l lang) recommendForm {
	return newRecommendForm(l, d.From, d.To, d.Date, recommendQuery{By: string(booking.ByArrival)})
}

func newRecommendForm(l lang, from, to, date string, q recommendQuery) recommendForm {
	f := recommendForm{Lang: l, From: from, To: to, Date: date, ArriveBy: q.ArriveBy}
	f.Thens = append(f.Thens, choice{Value: "", Label: l.T("rec.none"), Selected: q.Then == ""})
	for _, fa := range booking.Factors {
		label := l.T("rec.factor." + string(fa))
		f.Factors = append(f.Factors, choice{Value: string(fa), Label: label, Selected: q.By == string(fa)})
		f.Thens = append(f.Thens, choice{Value: string(fa), Label: label, Selected: q.Then == string(fa)})
	}
	f.Berths = append(f.Berths, choice{Value: "", Label: l.T("rec.any"), Selected: q.Berth == ""})
	for _, b := range []network.Berth{network.Lower, network.Middle, network.Upper} {
		f.Berths = append(f.Berths, choice{Value: string(b), Label: l.T("berth." + string(b)), Selected: q.Berth == string(b)})
	}
	f.Class = append(f.Class, choice{Value: "", Label: l.T("rec.any"), Selected: q.Class == ""})
	for _, c := range []network.SeatClass{network.HardSleeper, network.SoftSleeper, network.SecondClass, network.FirstClass, network.Business} {
		f.Class = append(f.Class, choice{Value: string(c), Label: l.T("class." + string(c)), Selected: q.Class == string(c)})
	}
	return f
}

// recommendData is what the recommendation page shows.
type recommendData struct {
	Form       recommendForm
	Heading    string
	AllURL     string // the plain search results
	Err        *bilingual
	Recs       []recView
	SoldOutAll bool
	NoBooking  bool // the user's role books no tickets: no booking links
}

// recView is one ranked train, formatted.
type recView struct {
	Rank      int
	Offer     offerView
	Available bool
	Seat      string // the kind recommended, e.g. 硬卧 下铺
	Fare      string
	Left      int
	BookURL   string // the search page's booking link for that kind
	Deciding  string
	Reason    string
}

// formatRec formats a recommendation, reusing the search results' booking
// link of the recommended kind of seat.
func formatRec(r booking.Recommendation, l lang) recView {
	ov := formatOffer(r.Offer, l)
	v := recView{Rank: r.Rank, Offer: ov, Available: r.Available, Deciding: string(r.Deciding), Reason: l.Pick(bilingual{r.Reason.ZH, r.Reason.EN})}
	if r.Seat != nil {
		v.Seat, v.Fare, v.Left = kindName(r.Seat.SeatClass, r.Seat.Berth, false, l), yuan(r.Seat.FareFen), r.Seat.Remaining
		for i, s := range r.Offer.Seats {
			if s.SeatClass == r.Seat.SeatClass && s.Berth == r.Seat.Berth {
				v.BookURL = ov.Seats[i].BookURL
			}
		}
	}
	return v
}

// h5Recommend ranks the trains of a search by what matters to the passenger.
func (c *Console) h5Recommend(w http.ResponseWriter, r *http.Request, st *state) {
	q := r.URL.Query()
	get := func(k string) string { return strings.TrimSpace(q.Get(k)) }
	from, to, date := get("from"), get("to"), get("date")
	if date == "" {
		date = c.tomorrow().String()
	}
	rq := recommendQuery{By: get("by"), Then: get("then"), Berth: get("berth"), Class: get("class"), ArriveBy: get("arrive_by")}
	by := rq.By
	if rq.Then != "" && rq.Then != rq.By {
		by += "," + rq.Then
	}
	d := recommendData{Form: newRecommendForm(st.lang, from, to, date, rq),
		AllURL: "/h5/search?" + url.Values{"from": {from}, "to": {to}, "date": {date}}.Encode()}
	status := http.StatusOK
	var recs []booking.Recommendation
	p, err := booking.ParsePriorities(by, rq.Berth, rq.Class, rq.ArriveBy)
	if err == nil {
		var day network.Date
		if day, err = network.ParseDate(date); err == nil {
			recs, err = c.deps.Booking.Recommendations(r.Context(), from, to, day, p)
		}
	}
	if err != nil {
		if fault.CodeOf(err) == fault.Internal {
			c.internalError(w, r, st, err)
			return
		}
		m := faultMsg(err)
		d.Err, status = &m, statusOf(err)
	}
	d.SoldOutAll, d.NoBooking = len(recs) > 0, !mayBook(st)
	for _, rec := range recs {
		rv := formatRec(rec, st.lang)
		if d.NoBooking {
			rv.BookURL = ""
			rv.Offer.dropBooking()
		}
		d.Recs = append(d.Recs, rv)
		d.SoldOutAll = d.SoldOutAll && !rec.Available
	}
	if d.Heading, err = c.searchHeading(r.Context(), from, to, date, st.lang); err != nil {
		c.internalError(w, r, st, err)
		return
	}
	v := c.newView(r, st, "rec.title")
	v.Data = d
	c.render(w, r, status, "h5_recommend.html", v)
}
