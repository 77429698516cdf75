package console

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"piao/internal/fault"
	"piao/internal/governance"
	"piao/internal/identity"
)

// The governance pages (/governance/…): the cancel limits and list
// rules in force, the restricted, priority and suspected-malicious lists
// with their review (add, lift, extend), and the behaviour report with
// charts and a CSV export (SPEC G1–G4, C1). They only read forms, call
// governance.Service and show what it returns; governance validates.

// govBase is where the governance pages live.
const govBase = "/governance"

// membersPage is how many memberships the review page shows at a time.
const membersPage = 50

// can reports whether the user's role holds p, to offer the forms that need it.
func (s *state) can(p identity.Permission) bool { return s.principal.Can(p) }

// actorOf names the user in audit trails, as the API does.
func actorOf(st *state) string {
	a := st.principal.Account
	return governance.Actor(a.ID, a.Username)
}

// beijingSec formats t as Beijing date and time, to the second.
func beijingSec(t time.Time) string { return t.In(shanghai).Format("2006-01-02 15:04:05") }

// memberPath is the page of a membership.
func memberPath(id int64) string { return govBase + "/members/" + strconv.FormatInt(id, 10) }

// listName names a list in l; an unknown list shows as itself.
func listName(list governance.List, l lang) string {
	if list.Valid() {
		return l.T("list." + string(list))
	}
	return string(list)
}

// ---- rules, read ----

// fact is one labelled value of a summary.
type fact struct {
	Label, Value string
	Code         string // the rule's field name, so errors that name it can be matched
}

// effectRow is what one list does at booking, formatted.
type effectRow struct {
	List, Name         string
	Hold, Delay, Block string
}

// rulesView is the readable summary of the rules in force.
type rulesView struct {
	Lang    lang
	Limits  []fact
	Lists   []fact
	Effects []effectRow
}

// summarise writes the rules as sentences and numbers in l.
func summarise(r governance.Rules, l lang) rulesView {
	v := rulesView{Lang: l}
	v.Limits = []fact{
		{Label: l.T("gov.f.account_cancel_limit"), Code: "account_cancel_limit", Value: func() string {
			if r.AccountCancelLimit <= 0 {
				return l.T("gov.no_limit")
			}
			return l.Tf("gov.s.account_limit", r.AccountCancelLimit)
		}()},
		{Label: l.T("gov.f.document_warn_at"), Code: "document_warn_at", Value: func() string {
			if r.DocumentWarnAt <= 0 {
				return l.T("gov.no_warning")
			}
			return l.Tf("gov.s.warn_at", r.DocumentWarnAt)
		}()},
		{Label: l.T("gov.f.document_cancel_limit"), Code: "document_cancel_limit", Value: func() string {
			if r.DocumentCancelLimit <= 0 {
				return l.T("gov.no_limit")
			}
			return l.Tf("gov.s.document_limit", r.DocumentCancelLimit)
		}()},
		{Label: l.T("gov.f.count_expiries"), Code: "count_expiries", Value: func() string {
			if r.CountExpiries {
				return l.T("gov.s.expiries_counted")
			}
			return l.T("gov.s.expiries_apart")
		}()},
		{Label: l.T("gov.f.day_start"), Code: "day_start", Value: l.Tf("gov.s.day_start", r.DayStart)},
	}
	lr := r.Lists
	off := l.T("gov.rule_off")
	v.Lists = []fact{
		{Label: l.T("gov.f.window_days"), Code: "lists.window_days", Value: l.Tf("gov.s.window", lr.WindowDays)},
		{Label: l.T("gov.f.membership_days"), Code: "lists.membership_days", Value: l.Tf("gov.s.membership", lr.MembershipDays)},
		{Label: listName(governance.Restricted, l), Code: "lists.restricted_min_orders", Value: func() string {
			if lr.RestrictedMinOrders <= 0 {
				return off
			}
			return l.Tf("gov.s.restricted", lr.RestrictedMinOrders)
		}()},
		{Label: listName(governance.Malicious, l), Code: "lists.malicious_over_cancels", Value: func() string {
			if lr.MaliciousOverCancels <= 0 {
				return off
			}
			return l.Tf("gov.s.malicious", lr.MaliciousOverCancels)
		}()},
		{Label: listName(governance.Priority, l), Code: "lists.priority_min_transactions", Value: func() string {
			if lr.PriorityMinTransactions <= 0 {
				return off
			}
			return l.Tf("gov.s.priority", lr.PriorityMinTransactions, percent(lr.PriorityMinPaidShare, 0))
		}()},
	}
	for _, list := range governance.Lists {
		e := lr.Effects[list]
		row := effectRow{List: string(list), Name: listName(list, l),
			Hold: l.T("gov.e.hold_same"), Delay: l.T("gov.e.no_delay"), Block: l.T("gov.e.no_block")}
		if e.HoldMinutes > 0 {
			row.Hold = l.Tf("gov.e.hold", e.HoldMinutes)
		}
		if e.DelayMillis > 0 {
			row.Delay = l.Tf("gov.e.delay", e.DelayMillis)
		}
		if e.Block {
			row.Block = l.T("gov.e.block")
		}
		v.Effects = append(v.Effects, row)
	}
	return v
}

// percent formats a share in [0, 1] as a percentage with decimals.
func percent(share float64, decimals int) string {
	return strconv.FormatFloat(100*share, 'f', decimals, 64) + "%"
}

// ---- overview ----

// listCount is how many memberships of a list are in force.
type listCount struct {
	List, Name, URL string
	Active          int
}

// evaluationView is what one run of the list rules did, formatted.
type evaluationView struct {
	From, To               string
	Transactions, Subjects int
	Took                   string
	Rows                   []evaluationRow
}

// evaluationRow is one list's changes in an evaluation.
type evaluationRow struct {
	List, Name                 string
	Added, Renewed, KeptLifted int
}

// govNav is the governance pages' own menu.
type govNav struct {
	Lang  lang
	Items []navItem
}

// subnav returns the governance menu with the item of path current.
func subnav(path string, l lang) govNav {
	n := govNav{Lang: l, Items: []navItem{
		{Key: "gov.nav.overview", Path: govBase},
		{Key: "gov.nav.members", Path: govBase + "/members"},
		{Key: "gov.nav.rules", Path: govBase + "/rules"},
		{Key: "gov.nav.report", Path: govBase + "/report"},
	}}
	for i, it := range n.Items {
		n.Items[i].Current = path == it.Path || (i > 0 && strings.HasPrefix(path, it.Path+"/"))
	}
	return n
}

// govOverviewData is what the governance overview shows.
type govOverviewData struct {
	Sub        govNav
	Rules      rulesView
	Counts     []listCount
	CanEval    bool
	Evaluation *evaluationView
}

// activeCounts counts the memberships in force now, per list.
func (c *Console) activeCounts(ctx context.Context) ([]listCount, error) {
	const page = 1000
	now := c.now()
	var out []listCount
	for _, list := range governance.Lists {
		n := 0
		for off := 0; ; off += page {
			ms, err := c.deps.Governance.Members(ctx, governance.MemberFilter{List: list, ActiveAt: now, Limit: page, Offset: off})
			if err != nil {
				return nil, err
			}
			n += len(ms)
			if len(ms) < page {
				break
			}
		}
		out = append(out, listCount{List: string(list), Active: n,
			URL: govBase + "/members?" + url.Values{"list": {string(list)}, "active": {"1"}}.Encode()})
	}
	return out, nil
}

// govOverview shows the rules in force and the lists' sizes.
func (c *Console) govOverview(w http.ResponseWriter, r *http.Request, st *state) {
	c.showOverview(w, r, st, nil)
}

// showOverview renders the overview, with the result of an evaluation
// just run if ev is set.
func (c *Console) showOverview(w http.ResponseWriter, r *http.Request, st *state, ev *governance.Evaluation) {
	ctx := r.Context()
	rules, err := c.deps.Governance.Rules(ctx)
	if err != nil {
		c.fail(w, r, st, err)
		return
	}
	counts, err := c.activeCounts(ctx)
	if err != nil {
		c.fail(w, r, st, err)
		return
	}
	l := st.lang
	for i := range counts {
		counts[i].Name = listName(governance.List(counts[i].List), l)
	}
	d := govOverviewData{Sub: subnav(govBase, l), Rules: summarise(rules, l), Counts: counts, CanEval: st.can(identity.GovernanceEdit)}
	if ev != nil {
		e := &evaluationView{From: beijing(ev.From), To: beijing(ev.To), Transactions: ev.Transactions, Subjects: ev.Subjects,
			Took: ev.Took.Round(time.Millisecond).String()}
		for _, list := range governance.Lists {
			e.Rows = append(e.Rows, evaluationRow{List: string(list), Name: listName(list, l),
				Added: ev.Added[list], Renewed: ev.Renewed[list], KeptLifted: ev.KeptLifted[list]})
		}
		d.Evaluation = e
	}
	v := c.newViewBack(r, st, "gov.title", govBase)
	v.Data = d
	c.render(w, r, http.StatusOK, "governance.html", v)
}

// govEvaluate applies the list rules now and shows what they did.
func (c *Console) govEvaluate(w http.ResponseWriter, r *http.Request, st *state) {
	ev, err := c.deps.Governance.Evaluate(r.Context())
	if err != nil {
		c.fail(w, r, st, err)
		return
	}
	c.showOverview(w, r, st, &ev)
}

// ---- members ----

// option is a choice of a select.
type option struct {
	Value, Label string
	Selected     bool
}

// memberRow is a membership, formatted.
type memberRow struct {
	ID                   int64
	URL                  string
	List, ListName       string
	Subject              string
	Source, SourceName   string
	Reason               string
	Start, Expires       string
	Status, StatusName   string // active, lifted or expired
	LiftedAt, LiftedBy   string
	LiftReason           string
	StartISO, ExpiresISO string
}

// memberStatus is active, lifted or expired at now.
func memberStatus(m governance.Membership, now time.Time) string {
	switch {
	case m.LiftedAt != nil:
		return "lifted"
	case m.Active(now):
		return "active"
	}
	return "expired"
}

// formatMember formats a membership for l at now.
func formatMember(m governance.Membership, now time.Time, l lang) memberRow {
	row := memberRow{ID: m.ID, URL: memberPath(m.ID), List: string(m.List), ListName: listName(m.List, l), Subject: governance.MaskSubject(m.Subject),
		Source: string(m.Source), SourceName: l.T("source." + string(m.Source)), Reason: m.Reason,
		Start: beijing(m.Start), Expires: beijing(m.Expires), Status: memberStatus(m, now),
		StartISO: m.Start.In(shanghai).Format(time.RFC3339), ExpiresISO: m.Expires.In(shanghai).Format(time.RFC3339)}
	if m.Source != governance.ByRule && m.Source != governance.ByOperator {
		row.SourceName = string(m.Source)
	}
	row.StatusName = l.T("member." + row.Status)
	if m.LiftedAt != nil {
		row.LiftedAt, row.LiftedBy, row.LiftReason = beijing(*m.LiftedAt), m.LiftedBy, m.LiftReason
	}
	return row
}

// addForm is the "add by hand" form as typed.
type addForm struct {
	List, Subject, Reason, Days string
}

// govMembersData is what the list review page shows.
type govMembersData struct {
	Sub              govNav
	List, Subject    string // the filter
	Active           bool
	Lists            []option
	Rows             []memberRow
	Page             int
	PrevURL, NextURL string
	FilterErr        *bilingual
	CanEdit          bool
	Add              addForm
	AddLists         []option
	Filtered         bool
}

// membersURL is the review page for a filter and page.
func membersURL(list, subject string, active bool, page int) string {
	q := url.Values{}
	if list != "" {
		q.Set("list", list)
	}
	if subject != "" {
		q.Set("subject", subject)
	}
	if active {
		q.Set("active", "1")
	}
	if page > 1 {
		q.Set("page", strconv.Itoa(page))
	}
	if len(q) == 0 {
		return govBase + "/members"
	}
	return govBase + "/members?" + q.Encode()
}

// listOptions are the lists for a select, with an "every list" choice first
// when all is set.
func listOptions(selected string, all bool, l lang) []option {
	var out []option
	if all {
		out = append(out, option{Value: "", Label: l.T("gov.all_lists"), Selected: selected == ""})
	}
	for _, list := range governance.Lists {
		out = append(out, option{Value: string(list), Label: listName(list, l), Selected: selected == string(list)})
	}
	return out
}

// govMembers lists memberships by filter, a page at a time.
func (c *Console) govMembers(w http.ResponseWriter, r *http.Request, st *state) {
	c.showMembers(w, r, st, http.StatusOK, addForm{Days: "30"}, nil)
}

// showMembers renders the review page for the request's query, with the
// add form as given and an optional message.
func (c *Console) showMembers(w http.ResponseWriter, r *http.Request, st *state, status int, add addForm, alert *bilingual) {
	q := r.URL.Query()
	if r.Method != http.MethodGet {
		q = url.Values{} // a failed add shows the first page of every list
	}
	l := st.lang
	d := govMembersData{Sub: subnav(govBase+"/members", l), List: strings.TrimSpace(q.Get("list")), Subject: strings.TrimSpace(q.Get("subject")),
		Active: q.Get("active") != "", CanEdit: st.can(identity.GovernanceEdit), Add: add}
	d.Filtered = d.List != "" || d.Subject != "" || d.Active
	d.Page, _ = strconv.Atoi(q.Get("page"))
	d.Page = min(max(d.Page, 1), 100000)
	d.Lists = listOptions(d.List, true, l)
	d.AddLists = listOptions(add.List, false, l)
	f := governance.MemberFilter{List: governance.List(d.List), Subject: d.Subject, Limit: membersPage + 1, Offset: (d.Page - 1) * membersPage}
	now := c.now()
	if d.Active {
		f.ActiveAt = now
	}
	ms, err := c.deps.Governance.Members(r.Context(), f)
	if err != nil {
		if fault.CodeOf(err) == fault.Internal {
			c.internalError(w, r, st, err)
			return
		}
		m := faultMsg(err)
		d.FilterErr = &m
		if status == http.StatusOK {
			status = statusOf(err)
		}
	}
	if len(ms) > membersPage {
		ms = ms[:membersPage]
		d.NextURL = membersURL(d.List, d.Subject, d.Active, d.Page+1)
	}
	if d.Page > 1 {
		d.PrevURL = membersURL(d.List, d.Subject, d.Active, d.Page-1)
	}
	for _, m := range ms {
		d.Rows = append(d.Rows, formatMember(m, now, l))
	}
	back := r.URL.RequestURI()
	if r.Method != http.MethodGet {
		back = govBase + "/members"
	}
	v := c.newViewBack(r, st, "gov.members.title", back)
	v.Error = alert
	v.Data = d
	c.render(w, r, status, "governance_members.html", v)
}

// govAdd puts a subject on a list by hand.
func (c *Console) govAdd(w http.ResponseWriter, r *http.Request, st *state) {
	f := addForm{List: r.PostFormValue("list"), Subject: strings.TrimSpace(r.PostFormValue("subject")),
		Reason: r.PostFormValue("reason"), Days: strings.TrimSpace(r.PostFormValue("days"))}
	days, _ := strconv.Atoi(f.Days) // governance refuses 0 with its own message
	m, err := c.deps.Governance.Add(r.Context(), governance.List(f.List), f.Subject, f.Reason, days, actorOf(st))
	if err == nil {
		http.Redirect(w, r, memberPath(m.ID), http.StatusSeeOther)
		return
	}
	if fault.CodeOf(err) == fault.Internal {
		c.internalError(w, r, st, err)
		return
	}
	msg := faultMsg(err)
	c.showMembers(w, r, st, statusOf(err), f, &msg)
}

// ---- one membership ----

// auditRow is one entry of an audit trail, formatted.
type auditRow struct {
	At, AtISO          string
	Actor              string
	Action, ActionName string
	Detail             string
}

// liftForm and extendForm are the review forms as typed.
type liftForm struct{ Reason string }

type extendForm struct{ Days, Reason string }

// govMemberData is what a membership page shows.
type govMemberData struct {
	memberRow
	Sub     govNav
	Events  []auditRow
	Active  bool
	CanEdit bool
	Lift    liftForm
	Extend  extendForm
}

// memberID reads the {id} of a membership route.
func memberID(r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	return id, err == nil && id > 0
}

// memberNotFound is the message for a membership that does not exist.
func memberNotFound(ref string) bilingual {
	return bilingual{ZH: zh.Tf("gov.member.not_found", ref), EN: en.Tf("gov.member.not_found", ref)}
}

// govMember shows a membership with its audit trail.
func (c *Console) govMember(w http.ResponseWriter, r *http.Request, st *state) {
	c.showMember(w, r, st, http.StatusOK, liftForm{}, extendForm{Days: "7"}, nil)
}

// showMember renders the membership of the request's {id} with the review
// forms as given and an optional message.
func (c *Console) showMember(w http.ResponseWriter, r *http.Request, st *state, status int, lf liftForm, ef extendForm, alert *bilingual) {
	id, ok := memberID(r)
	if !ok {
		c.renderError(w, r, st, http.StatusNotFound, memberNotFound(r.PathValue("id")))
		return
	}
	m, err := c.deps.Governance.Member(r.Context(), id)
	if err != nil {
		c.fail(w, r, st, err)
		return
	}
	l, now := st.lang, c.now()
	d := govMemberData{Sub: subnav(memberPath(id), l), memberRow: formatMember(m, now, l), Active: m.Active(now), CanEdit: st.can(identity.GovernanceEdit), Lift: lf, Extend: ef}
	for _, a := range m.Events {
		name := l.T("gov.action." + a.Action)
		if _, known := messages["gov.action."+a.Action]; !known {
			name = a.Action
		}
		d.Events = append(d.Events, auditRow{At: beijingSec(a.At), AtISO: a.At.In(shanghai).Format(time.RFC3339),
			Actor: a.Actor, Action: a.Action, ActionName: name, Detail: a.Detail})
	}
	v := c.newViewBack(r, st, "gov.member.title", memberPath(id))
	v.Title = l.Tf("gov.member.heading", id)
	v.Error = alert
	v.Data = d
	c.render(w, r, status, "governance_member.html", v)
}

// memberAction runs a review action on the request's membership and goes
// back to its page, or shows that page with why it failed.
func (c *Console) memberAction(w http.ResponseWriter, r *http.Request, st *state, lf liftForm, ef extendForm, act func(id int64) error) {
	id, ok := memberID(r)
	if !ok {
		c.renderError(w, r, st, http.StatusNotFound, memberNotFound(r.PathValue("id")))
		return
	}
	err := act(id)
	if err == nil {
		http.Redirect(w, r, memberPath(id), http.StatusSeeOther)
		return
	}
	if fault.CodeOf(err) == fault.Internal || fault.Is(err, fault.NotFound) {
		c.fail(w, r, st, err)
		return
	}
	m := faultMsg(err)
	c.showMember(w, r, st, statusOf(err), lf, ef, &m)
}

// govLift lifts a membership now, with a reason.
func (c *Console) govLift(w http.ResponseWriter, r *http.Request, st *state) {
	lf := liftForm{Reason: r.PostFormValue("reason")}
	c.memberAction(w, r, st, lf, extendForm{Days: "7"}, func(id int64) error {
		_, err := c.deps.Governance.Lift(r.Context(), id, lf.Reason, actorOf(st))
		return err
	})
}

// govExtend moves a membership's expiry later by some days, with a reason.
func (c *Console) govExtend(w http.ResponseWriter, r *http.Request, st *state) {
	ef := extendForm{Days: strings.TrimSpace(r.PostFormValue("days")), Reason: r.PostFormValue("reason")}
	c.memberAction(w, r, st, liftForm{}, ef, func(id int64) error {
		days, _ := strconv.Atoi(ef.Days) // governance refuses 0 with its own message
		_, err := c.deps.Governance.Extend(r.Context(), id, days, ef.Reason, actorOf(st))
		return err
	})
}

// ---- rules, edit ----

// rulesForm is the rules form as typed: every number as text, so a
// refused form comes back as it was.
type rulesForm struct {
	DayStart                                        string
	AccountCancelLimit, DocumentWarnAt              string
	DocumentCancelLimit                             string
	CountExpiries                                   bool
	WindowDays, MembershipDays, RestrictedMinOrders string
	PriorityMinPaidShare, PriorityMinTransactions   string
	MaliciousOverCancels                            string
	Effects                                         []effectForm
}

// effectForm is one list's effect as typed.
type effectForm struct {
	List, Name  string
	Hold, Delay string
	Block       bool
}

// formOf fills the form from rules.
func formOf(r governance.Rules, l lang) rulesForm {
	itoa := strconv.Itoa
	lr := r.Lists
	f := rulesForm{DayStart: r.DayStart, AccountCancelLimit: itoa(r.AccountCancelLimit), DocumentWarnAt: itoa(r.DocumentWarnAt),
		DocumentCancelLimit: itoa(r.DocumentCancelLimit), CountExpiries: r.CountExpiries,
		WindowDays: itoa(lr.WindowDays), MembershipDays: itoa(lr.MembershipDays), RestrictedMinOrders: itoa(lr.RestrictedMinOrders),
		PriorityMinPaidShare: strconv.FormatFloat(lr.PriorityMinPaidShare, 'f', -1, 64), PriorityMinTransactions: itoa(lr.PriorityMinTransactions),
		MaliciousOverCancels: itoa(lr.MaliciousOverCancels)}
	for _, list := range governance.Lists {
		e := lr.Effects[list]
		f.Effects = append(f.Effects, effectForm{List: string(list), Name: listName(list, l), Hold: itoa(e.HoldMinutes), Delay: itoa(e.DelayMillis), Block: e.Block})
	}
	return f
}

// postedRules reads the rules form.
func postedRules(r *http.Request, l lang) rulesForm {
	v := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	f := rulesForm{DayStart: v("day_start"), AccountCancelLimit: v("account_cancel_limit"), DocumentWarnAt: v("document_warn_at"),
		DocumentCancelLimit: v("document_cancel_limit"), CountExpiries: v("count_expiries") != "",
		WindowDays: v("window_days"), MembershipDays: v("membership_days"), RestrictedMinOrders: v("restricted_min_orders"),
		PriorityMinPaidShare: v("priority_min_paid_share"), PriorityMinTransactions: v("priority_min_transactions"),
		MaliciousOverCancels: v("malicious_over_cancels")}
	for _, list := range governance.Lists {
		k := string(list)
		f.Effects = append(f.Effects, effectForm{List: k, Name: listName(list, l), Hold: v("hold_" + k), Delay: v("delay_" + k), Block: v("block_"+k) != ""})
	}
	return f
}

// apply writes the form's values over rules; a number that does not parse
// is refused with the field's name, everything else is for governance to
// validate.
func (f rulesForm) apply(r governance.Rules) (governance.Rules, error) {
	var bad error
	num := func(field, s string, into *int) {
		n, err := strconv.Atoi(s)
		if err != nil && bad == nil {
			bad = fault.Newf(fault.Invalid, "bad_rules", "治理规则 %s：须为整数", "governance rule %s: must be a whole number", field)
		}
		*into = n
	}
	r.DayStart = f.DayStart
	num("account_cancel_limit", f.AccountCancelLimit, &r.AccountCancelLimit)
	num("document_warn_at", f.DocumentWarnAt, &r.DocumentWarnAt)
	num("document_cancel_limit", f.DocumentCancelLimit, &r.DocumentCancelLimit)
	r.CountExpiries = f.CountExpiries
	num("lists.window_days", f.WindowDays, &r.Lists.WindowDays)
	num("lists.membership_days", f.MembershipDays, &r.Lists.MembershipDays)
	num("lists.restricted_min_orders", f.RestrictedMinOrders, &r.Lists.RestrictedMinOrders)
	num("lists.priority_min_transactions", f.PriorityMinTransactions, &r.Lists.PriorityMinTransactions)
	num("lists.malicious_over_cancels", f.MaliciousOverCancels, &r.Lists.MaliciousOverCancels)
	share, err := strconv.ParseFloat(f.PriorityMinPaidShare, 64)
	if err != nil && bad == nil {
		bad = fault.New(fault.Invalid, "bad_rules", "治理规则 lists.priority_min_paid_share：须为 0 到 1 之间的小数", "governance rule lists.priority_min_paid_share: must be a number from 0 to 1")
	}
	r.Lists.PriorityMinPaidShare = share
	effects := make(map[governance.List]governance.Effect, len(r.Lists.Effects))
	for l, e := range r.Lists.Effects {
		effects[l] = e
	}
	for _, ef := range f.Effects {
		e := effects[governance.List(ef.List)]
		num("lists.effects."+ef.List+".hold_minutes", ef.Hold, &e.HoldMinutes)
		num("lists.effects."+ef.List+".delay_millis", ef.Delay, &e.DelayMillis)
		e.Block = ef.Block
		effects[governance.List(ef.List)] = e
	}
	r.Lists.Effects = effects
	return r, bad
}

// govRulesData is what the rules page shows.
type govRulesData struct {
	Sub     govNav
	Summary rulesView
	CanEdit bool
	Form    rulesForm
	Saved   bool
}

// govRules shows the rules in force, and the form to change them to
// those who may.
func (c *Console) govRules(w http.ResponseWriter, r *http.Request, st *state) {
	c.showRules(w, r, st, http.StatusOK, nil, nil)
}

// showRules renders the rules page with the form as given (nil: the rules
// in force) and an optional message.
func (c *Console) showRules(w http.ResponseWriter, r *http.Request, st *state, status int, form *rulesForm, alert *bilingual) {
	rules, err := c.deps.Governance.Rules(r.Context())
	if err != nil {
		c.fail(w, r, st, err)
		return
	}
	d := govRulesData{Sub: subnav(govBase+"/rules", st.lang), Summary: summarise(rules, st.lang), CanEdit: st.can(identity.BookingAdmin),
		Saved: r.Method == http.MethodGet && r.URL.Query().Get("saved") == "1"}
	if form != nil {
		d.Form = *form
	} else {
		d.Form = formOf(rules, st.lang)
	}
	v := c.newViewBack(r, st, "gov.rules.title", govBase+"/rules")
	v.Error = alert
	v.Data = d
	c.render(w, r, status, "governance_rules.html", v)
}

// govSetRules replaces the rules with the form's.
func (c *Console) govSetRules(w http.ResponseWriter, r *http.Request, st *state) {
	ctx := r.Context()
	form := postedRules(r, st.lang)
	rules, err := c.deps.Governance.Rules(ctx)
	if err != nil {
		c.fail(w, r, st, err)
		return
	}
	if rules, err = form.apply(rules); err == nil {
		err = c.deps.Governance.SetRules(ctx, rules, actorOf(st), strings.TrimSpace(r.PostFormValue("reason")))
	}
	if err == nil {
		http.Redirect(w, r, govBase+"/rules?saved=1", http.StatusSeeOther)
		return
	}
	if fault.CodeOf(err) == fault.Internal {
		c.internalError(w, r, st, err)
		return
	}
	m := faultMsg(err)
	c.showRules(w, r, st, statusOf(err), &form, &m)
}
