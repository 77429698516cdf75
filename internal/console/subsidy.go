package console

import (
	"net/http"
	"net/url"
	"strconv"
	"time"

	"piao/internal/fault"
	"piao/internal/identity"
	"piao/internal/subsidy"
)

// Subsidies for special groups (SPEC M5): the operator's review queue at
// /subsidy and the rider's enrolments at /h5/subsidy.

// schemeRow is a scheme, formatted.
type schemeRow struct {
	ID, Name, Group, Terms, Validity string
	CampaignID                       int64
	CampaignURL                      string
}

// enrolmentRow is an enrolment, formatted for either page.
type enrolmentRow struct {
	ID         int64
	Account    int64
	Scheme     string
	State      subsidy.State // effective now
	StateName  string
	Renewal    bool // a renewal waits for review
	Evidence   string
	AppliedAt  string
	Period     string
	Reason     string
	RenewOpens string // when renewal opens, if not yet
	CanRenew   bool
	CanRevoke  bool
}

func schemeTerms(s subsidy.Scheme, l lang) string {
	if s.Grant == subsidy.Free {
		return l.T("sub.grant.free")
	}
	t := l.Tf("sub.grant.discount", s.PercentOff)
	if s.Cap > 0 {
		t += " · " + l.Tf("sub.cap", yuan(s.Cap))
	}
	return t
}

func groupName(g subsidy.Group, l lang) string {
	zhName, enName := g.Name()
	return pickName(zhName, enName, l)
}

func (c *Console) schemeRows(s []subsidy.Scheme, l lang) []schemeRow {
	out := make([]schemeRow, 0, len(s))
	for _, sc := range s {
		v := l.Tf("sub.valid_months", sc.ValidMonths)
		if sc.RenewDays > 0 {
			v += " · " + l.Tf("sub.renew_days", sc.RenewDays)
		}
		out = append(out, schemeRow{ID: sc.ID, Name: pickName(sc.NameZH, sc.NameEN, l), Group: groupName(sc.Group, l), Terms: schemeTerms(sc, l),
			Validity: v, CampaignID: sc.CampaignID, CampaignURL: campaignPath(sc.CampaignID)})
	}
	return out
}

// enrolmentRows formats enrolments with their schemes' names at now.
func enrolmentRows(es []subsidy.Enrolment, schemes map[string]subsidy.Scheme, now time.Time, l lang) []enrolmentRow {
	out := make([]enrolmentRow, 0, len(es))
	for _, e := range es {
		sc := schemes[e.SchemeID]
		st := e.StateAt(now)
		row := enrolmentRow{ID: e.ID, Account: e.Account, Scheme: pickName(sc.NameZH, sc.NameEN, l), State: st, StateName: l.T("sub.state." + string(st)),
			Renewal: e.Renewal != nil, Evidence: e.Evidence, AppliedAt: beijing(e.AppliedAt), Reason: e.Reason, CanRevoke: e.State == subsidy.Active}
		if row.Scheme == "" {
			row.Scheme = e.SchemeID
		}
		if e.Renewal != nil {
			row.Evidence, row.AppliedAt = e.Renewal.Evidence, beijing(e.Renewal.At)
		}
		if !e.From.IsZero() {
			// Until is the midnight after the last day: show that day.
			row.Period = l.Tf("sub.period", beijing(e.From), e.Until.Add(-time.Nanosecond).In(shanghai).Format(time.DateOnly))
		}
		if st == subsidy.Active && e.Renewal == nil && sc.RenewDays > 0 {
			if opens := e.RenewalOpens(sc); now.Before(opens) {
				row.RenewOpens = opens.In(shanghai).Format(time.DateOnly)
			} else {
				row.CanRenew = true
			}
		}
		out = append(out, row)
	}
	return out
}

// schemeMap reads the schemes by ID.
func (c *Console) schemeMap(r *http.Request) ([]subsidy.Scheme, map[string]subsidy.Scheme, error) {
	all, err := c.deps.Subsidy.Schemes(r.Context())
	if err != nil {
		return nil, nil, err
	}
	m := make(map[string]subsidy.Scheme, len(all))
	for _, s := range all {
		m[s.ID] = s
	}
	return all, m, nil
}

// subsidyReviewView is the operator's page.
type subsidyReviewView struct {
	Schemes   []schemeRow
	Queue     []enrolmentRow
	Account   string
	Found     []enrolmentRow
	Notice    string
	CanReview bool
	Reason    string // the reason typed before a refused decision
}

// subsidyReview shows GET /subsidy: the schemes, the review queue, and
// the enrolments of an account looked up (?account=ID).
func (c *Console) subsidyReview(w http.ResponseWriter, r *http.Request, st *state) {
	c.showSubsidyReview(w, r, st, http.StatusOK, nil, "")
}

func (c *Console) showSubsidyReview(w http.ResponseWriter, r *http.Request, st *state, status int, alert *bilingual, reason string) {
	ctx, l := r.Context(), st.lang
	all, schemes, err := c.schemeMap(r)
	if err != nil {
		c.fail(w, r, st, err)
		return
	}
	queue, err := c.deps.Subsidy.Enrolments(ctx, subsidy.Filter{Awaiting: true, Limit: 200})
	if err != nil {
		c.fail(w, r, st, err)
		return
	}
	now := c.deps.Subsidy.Now()
	d := subsidyReviewView{Schemes: c.schemeRows(all, l), Queue: enrolmentRows(queue, schemes, now, l),
		CanReview: identity.Allowed(st.principal.Role(), identity.SubsidyReview), Reason: reason}
	if done := r.URL.Query().Get("done"); done == "verified" || done == "rejected" || done == "revoked" {
		d.Notice = l.T("sub.done." + done)
	}
	if a := r.FormValue("account"); a != "" {
		d.Account = a
		if id, err := strconv.ParseInt(a, 10, 64); err == nil && id > 0 {
			es, err := c.deps.Subsidy.AccountEnrolments(ctx, id)
			if err != nil {
				c.fail(w, r, st, err)
				return
			}
			d.Found = enrolmentRows(es, schemes, now, l)
		}
	}
	v := c.newViewBack(r, st, "sub.review.title", "/subsidy")
	v.Error, v.Data = alert, d
	c.render(w, r, status, "subsidy.html", v)
}

// subsidyDecide handles POST /subsidy/enrolments/{id}/verify, reject and
// revoke, then shows the queue again.
func (c *Console) subsidyDecide(action string) func(http.ResponseWriter, *http.Request, *state) {
	return func(w http.ResponseWriter, r *http.Request, st *state) {
		id, ok := orderID(r)
		if !ok {
			c.renderError(w, r, st, http.StatusNotFound, faultMsg(subsidy.ErrEnrolmentNotFound))
			return
		}
		ctx, by, reason := r.Context(), consoleActor(st), r.PostFormValue("reason")
		var err error
		switch action {
		case "verify":
			_, err = c.deps.Subsidy.Verify(ctx, id, by)
		case "reject":
			_, err = c.deps.Subsidy.Reject(ctx, id, by, reason)
		case "revoke":
			_, err = c.deps.Subsidy.Revoke(ctx, id, by, reason)
		}
		if err != nil {
			c.subsidyRefused(w, r, st, err, func(status int, m *bilingual) { c.showSubsidyReview(w, r, st, status, m, reason) })
			return
		}
		back := "/subsidy?done=" + map[string]string{"verify": "verified", "reject": "rejected", "revoke": "revoked"}[action]
		if a := r.PostFormValue("account"); a != "" {
			back += "&account=" + url.QueryEscape(a)
		}
		http.Redirect(w, r, back, http.StatusSeeOther)
	}
}

// h5SubsidyView is the rider's page.
type h5SubsidyView struct {
	Mine     []enrolmentRow
	Schemes  []schemeRow
	Notice   string
	Evidence string
	Scheme   string
}

// h5Subsidy shows GET /h5/subsidy: the rider's enrolments with their
// state, and the schemes to apply for.
func (c *Console) h5Subsidy(w http.ResponseWriter, r *http.Request, st *state) {
	c.showH5Subsidy(w, r, st, http.StatusOK, nil, "", "")
}

func (c *Console) showH5Subsidy(w http.ResponseWriter, r *http.Request, st *state, status int, alert *bilingual, scheme, evidence string) {
	l := st.lang
	all, schemes, err := c.schemeMap(r)
	if err != nil {
		c.fail(w, r, st, err)
		return
	}
	mine, err := c.deps.Subsidy.AccountEnrolments(r.Context(), st.principal.Account.ID)
	if err != nil {
		c.fail(w, r, st, err)
		return
	}
	d := h5SubsidyView{Mine: enrolmentRows(mine, schemes, c.deps.Subsidy.Now(), l), Schemes: c.schemeRows(all, l), Scheme: scheme, Evidence: evidence}
	if done := r.URL.Query().Get("done"); done == "applied" || done == "renewal" {
		d.Notice = l.T("sub.h5.done." + done)
	}
	v := c.newViewBack(r, st, "sub.h5.title", "/h5/subsidy")
	v.Error, v.Data = alert, d
	c.render(w, r, status, "h5_subsidy.html", v)
}

func (c *Console) h5SubsidyFailed(w http.ResponseWriter, r *http.Request, st *state, err error, scheme, evidence string) {
	c.subsidyRefused(w, r, st, err, func(status int, m *bilingual) { c.showH5Subsidy(w, r, st, status, m, scheme, evidence) })
}

// subsidyRefused shows a refusal above the page show renders, or the
// internal error page for a failure.
func (c *Console) subsidyRefused(w http.ResponseWriter, r *http.Request, st *state, err error, show func(status int, m *bilingual)) {
	if fault.CodeOf(err) == fault.Internal {
		c.internalError(w, r, st, err)
		return
	}
	m := faultMsg(err)
	show(statusOf(err), &m)
}

// h5SubsidyApply handles POST /h5/subsidy/apply (scheme, evidence).
func (c *Console) h5SubsidyApply(w http.ResponseWriter, r *http.Request, st *state) {
	scheme, evidence := r.PostFormValue("scheme"), r.PostFormValue("evidence")
	if _, err := c.deps.Subsidy.Apply(r.Context(), st.principal.Account.ID, scheme, evidence); err != nil {
		c.h5SubsidyFailed(w, r, st, err, scheme, evidence)
		return
	}
	http.Redirect(w, r, "/h5/subsidy?done=applied", http.StatusSeeOther)
}

// h5SubsidyRenew handles POST /h5/subsidy/{id}/renew (evidence).
func (c *Console) h5SubsidyRenew(w http.ResponseWriter, r *http.Request, st *state) {
	id, ok := orderID(r)
	if !ok {
		c.renderError(w, r, st, http.StatusNotFound, faultMsg(subsidy.ErrEnrolmentNotFound))
		return
	}
	if _, err := c.deps.Subsidy.RequestRenewal(r.Context(), st.principal.Account.ID, id, r.PostFormValue("evidence")); err != nil {
		c.h5SubsidyFailed(w, r, st, err, "", "")
		return
	}
	http.Redirect(w, r, "/h5/subsidy?done=renewal", http.StatusSeeOther)
}
