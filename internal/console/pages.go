package console

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"piao/internal/abuse"
	"piao/internal/fault"
	"piao/internal/identity"
	"piao/internal/network"
)

// ---- language ----

// switchLang stores the chosen language and goes back to a local page.
func (c *Console) switchLang(w http.ResponseWriter, r *http.Request, _ *state) {
	to := zh
	if lang(r.URL.Query().Get("to")) == en {
		to = en
	}
	c.setCookie(w, r, &http.Cookie{Name: langCookie, Value: string(to), MaxAge: 365 * 24 * 3600})
	http.Redirect(w, r, localPath(r.URL.Query().Get("back")), http.StatusSeeOther)
}

// ---- login and logout ----

// loginData is the login form's state.
type loginData struct {
	Username, Next, Token string
}

// loginForm shows the login form with a fresh pre-session CSRF token.
func (c *Console) loginForm(w http.ResponseWriter, r *http.Request, st *state) {
	c.showLogin(w, r, st, http.StatusOK, "", localPath(r.URL.Query().Get("next")), nil)
}

// showLogin renders the login form, issuing the pre-session token cookie.
func (c *Console) showLogin(w http.ResponseWriter, r *http.Request, st *state, status int, username, next string, e *bilingual) {
	token := ""
	if ck, err := r.Cookie(loginCSRFCookie); err == nil && len(ck.Value) == 43 {
		token = ck.Value // keep it, so two open login tabs both work
	} else {
		token = randomToken()
	}
	c.setCookie(w, r, &http.Cookie{Name: loginCSRFCookie, Value: token, Path: "/login", MaxAge: int(loginCSRFTTL / time.Second), SameSite: http.SameSiteStrictMode})
	v := c.newView(r, st, "login.title")
	v.Error = e
	v.Data = loginData{Username: username, Next: next, Token: token}
	c.render(w, r, status, "login.html", v)
}

// login checks the credentials, starts a console session and goes to the
// page asked for.
func (c *Console) login(w http.ResponseWriter, r *http.Request, st *state) {
	next := localPath(r.PostFormValue("next"))
	username := r.PostFormValue("username")
	ck, err := r.Cookie(loginCSRFCookie)
	if err != nil || !tokensEqual(ck.Value, r.PostFormValue(csrfField)) {
		m := msg("csrf.invalid")
		c.showLogin(w, r, st, http.StatusForbidden, username, next, &m)
		return
	}
	// Per account: the login name tried, counted with the API's logins.
	err = c.deps.Guard.Allow(abuse.Login, abuse.PerAccount, "login:"+strings.ToLower(strings.TrimSpace(username)))
	var secret string
	if err == nil {
		secret, _, err = c.deps.Identity.Login(r.Context(), username, r.PostFormValue("password"), identity.SessionToken)
	}
	if code := fault.CodeOf(err); err != nil && (code == fault.Unauthorized || code == fault.Invalid || code == fault.LimitReached || code == fault.Unavailable) {
		setRetryAfter(w, err) // a lock, a rate limit or busy hashing says when to retry
		m := faultMsg(err)
		c.showLogin(w, r, st, statusOf(err), username, next, &m)
		return
	}
	if err != nil {
		c.internalError(w, r, st, err)
		return
	}
	if old, err := r.Cookie(sessionCookie); err == nil && old.Value != "" {
		// A new login replaces the browser's previous session; revoking a
		// stale or foreign secret is harmless, so its error is ignored.
		_ = c.deps.Identity.Logout(r.Context(), old.Value)
	}
	c.setCookie(w, r, &http.Cookie{Name: sessionCookie, Value: secret, MaxAge: int(c.deps.Identity.SessionTTL / time.Second)})
	c.clearCookie(w, r, loginCSRFCookie, "/login")
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// logout revokes the session and returns to the login form.
func (c *Console) logout(w http.ResponseWriter, r *http.Request, st *state) {
	if err := c.deps.Identity.Logout(r.Context(), st.secret); err != nil {
		c.internalError(w, r, st, err)
		return
	}
	c.clearCookie(w, r, sessionCookie, "/")
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// ---- workbench ----

// workbench is the landing page: who you are and where you can go. A
// passenger's home is the ticket search instead.
func (c *Console) workbench(w http.ResponseWriter, r *http.Request, st *state) {
	if isPassenger(st.principal.Role()) {
		http.Redirect(w, r, passengerHome, http.StatusSeeOther)
		return
	}
	if home := c.merchantStart(st.principal); isMerchant(st.principal.Role()) && home != "" {
		http.Redirect(w, r, home, http.StatusSeeOther)
		return
	}
	c.render(w, r, http.StatusOK, "workbench.html", c.newView(r, st, "home.title"))
}

// ---- network ----

// networkData is what the network page shows.
type networkData struct {
	Q          string
	Stations   []network.Station
	StationErr *bilingual
	Lines      []lineRow
	Number     string
	Date       string
	Timetables []timetableView
	TTErr      *bilingual
}

// lineRow is a line in the list of lines.
type lineRow struct {
	network.Line
	URL, TypeKey string
}

// timetableView is a timetable formatted for display.
type timetableView struct {
	Number, Date, Headsign string
	Duration, Km           string
	Rows                   []stopRow
}

// stopRow is one call in a timetable; empty times show as a dash.
type stopRow struct {
	Seq     int
	Station network.Station
	// Name is the station's name in the page's language, Alt its name in
	// the other (empty if the same), each with its BCP 47 tag.
	Name, NameLang, Alt, AltLang string
	Arrive, Depart               string
	ArriveDay, DepartDay         int
	StopMins                     int
	Km                           string
	Origin, Terminus             bool
}

// network shows the station search, the lines and a train's timetable.
func (c *Console) network(w http.ResponseWriter, r *http.Request, st *state) {
	ctx := r.Context()
	q := r.URL.Query()
	d := networkData{
		Q:      strings.TrimSpace(q.Get("q")),
		Number: strings.ToUpper(strings.TrimSpace(q.Get("number"))),
		Date:   strings.TrimSpace(q.Get("date")),
	}
	if d.Date == "" {
		d.Date = network.DateOf(c.now().In(shanghai)).String()
	}
	status := http.StatusOK
	// fail records a domain error for one section; it reports false for
	// failures of the services themselves, which end the request.
	fail := func(err error, into **bilingual) bool {
		if statusOf(err) >= 500 {
			c.internalError(w, r, st, err)
			return false
		}
		m := faultMsg(err)
		*into = &m
		if status == http.StatusOK {
			status = statusOf(err)
		}
		return true
	}

	lines, err := c.deps.Catalog.Lines(ctx, "")
	if err != nil {
		c.internalError(w, r, st, err)
		return
	}
	for _, l := range lines {
		d.Lines = append(d.Lines, lineRow{Line: l, URL: "/network/lines/" + url.PathEscape(l.ID), TypeKey: routeTypeKey(l.RouteType)})
	}
	if d.Q != "" {
		d.Stations, err = c.deps.Catalog.SearchStations(ctx, d.Q, 50)
		if err != nil && !fail(err, &d.StationErr) {
			return
		}
	}
	if d.Number != "" {
		date, err := network.ParseDate(d.Date)
		if err != nil {
			if !fail(err, &d.TTErr) {
				return
			}
		} else {
			tts, err := c.deps.Catalog.Timetables(ctx, d.Number, date)
			if err != nil && !fail(err, &d.TTErr) {
				return
			}
			for _, tt := range tts {
				d.Timetables = append(d.Timetables, formatTimetable(tt, st.lang))
			}
		}
	}
	v := c.newView(r, st, "network.title")
	v.Data = d
	c.render(w, r, status, "network.html", v)
}

// shanghai is the business time zone, for "today".
var shanghai = func() *time.Location {
	if loc, err := time.LoadLocation("Asia/Shanghai"); err == nil {
		return loc
	}
	return time.FixedZone("CST", 8*3600)
}()

// routeTypeKey names a GTFS route type in the message catalog.
func routeTypeKey(t int) string {
	switch t {
	case 1, 2, 3:
		return fmt.Sprintf("route.%d", t)
	}
	return "route.other"
}

// formatTimetable turns a timetable into display strings.
func formatTimetable(tt network.Timetable, l lang) timetableView {
	v := timetableView{Number: tt.Number, Date: tt.Date.String(), Headsign: tt.Headsign, Duration: formatDuration(tt.DurationMin, l)}
	for i, s := range tt.Stops {
		row := stopRow{Seq: s.Seq, Station: s.Station, StopMins: s.StopMins, Km: formatKm(s.Km),
			Origin: i == 0, Terminus: i == len(tt.Stops)-1,
			Name: stationName(s.Station, l), NameLang: l.Tag(), Alt: stationName(s.Station, l.Other()), AltLang: l.Other().Tag()}
		if row.Alt == row.Name {
			row.Alt = ""
		}
		// The headsign is the Chinese name of a station the train calls at.
		if s.Station.NameZH == tt.Headsign {
			v.Headsign = row.Name
		}
		if s.Arrive != nil {
			row.Arrive, row.ArriveDay = s.Arrive.Format("15:04"), daysAfter(tt.Date, *s.Arrive)
		}
		if s.Depart != nil {
			row.Depart, row.DepartDay = s.Depart.Format("15:04"), daysAfter(tt.Date, *s.Depart)
		}
		v.Rows = append(v.Rows, row)
		v.Km = row.Km
	}
	return v
}

// daysAfter counts the calendar days from date to t's local date, for the
// "+1" markers of overnight trains.
func daysAfter(date network.Date, t time.Time) int {
	y, m, d := t.Date()
	local := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	return int(local.Sub(date.In(time.UTC)).Hours() / 24)
}

// formatDuration writes minutes as hours and minutes.
func formatDuration(mins int, l lang) string {
	if mins < 60 {
		return l.Tf("duration.m", mins)
	}
	return l.Tf("duration.hm", mins/60, mins%60)
}

// formatKm writes a distance without needless decimals.
func formatKm(km float64) string {
	if km == float64(int64(km)) {
		return fmt.Sprintf("%d", int64(km))
	}
	return fmt.Sprintf("%.1f", km)
}

// lineData is what a line page shows.
type lineData struct {
	Line     lineRow
	Stations []lineStationRow
}

// lineStationRow is a station on a line with its distance from the first.
type lineStationRow struct {
	Seq     int
	Station network.Station
	Km      string
}

// line shows one line with its ordered stations.
func (c *Console) line(w http.ResponseWriter, r *http.Request, st *state) {
	ctx := r.Context()
	l, err := c.deps.Catalog.Line(ctx, r.PathValue("id"))
	if err != nil {
		if statusOf(err) >= 500 {
			c.internalError(w, r, st, err)
		} else {
			c.renderError(w, r, st, statusOf(err), faultMsg(err))
		}
		return
	}
	d := lineData{Line: lineRow{Line: l, TypeKey: routeTypeKey(l.RouteType)}}
	for _, ls := range l.Stations {
		s, err := c.deps.Catalog.Station(ctx, ls.StationID)
		if fault.Is(err, fault.NotFound) {
			s = network.Station{ID: ls.StationID}
		} else if err != nil {
			c.internalError(w, r, st, err)
			return
		}
		d.Stations = append(d.Stations, lineStationRow{Seq: ls.Seq, Station: s, Km: formatKm(float64(ls.Metres) / 1000)})
	}
	v := c.newView(r, st, "network.title")
	v.Title = l.NameZH
	if st.lang == en && l.NameEN != "" {
		v.Title = l.NameEN
	}
	v.Data = d
	c.render(w, r, http.StatusOK, "line.html", v)
}
