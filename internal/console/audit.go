package console

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"piao/internal/audit"
	"piao/internal/fault"
)

// The audit trail page (审计日志): the entries GET /api/v1/audit serves,
// with the same filters and paging, each change shown field by field, and
// the filtered trail as CSV.

// auditCSVMax bounds one CSV export: the newest this many matching entries.
const auditCSVMax = 50_000

// auditQuery is the page's filters as the form holds them. The action
// filter's field is "act": a form field named "action" would hide the
// form's own action in the browser's DOM.
type auditQuery struct {
	Actor, Action, Subject, From, Until string
	BeforeID                            int64
	Limit                               int
}

// values are the filters as URL query values (without the page cursor).
func (q auditQuery) values() url.Values {
	v := url.Values{}
	for k, s := range map[string]string{"actor": q.Actor, "act": q.Action, "subject": q.Subject, "from": q.From, "until": q.Until} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if q.Limit != 50 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	return v
}

// localMinute is how the page's datetime-local inputs give a moment: a
// Beijing wall-clock time to the minute.
const localMinute = "2006-01-02T15:04"

// auditFilter reads the page's filters; an actor is an account ID or a
// username.
func (c *Console) auditFilter(ctx context.Context, v url.Values) (auditQuery, audit.Filter, error) {
	q := auditQuery{Actor: strings.TrimSpace(v.Get("actor")), Action: strings.TrimSpace(v.Get("act")), Subject: strings.TrimSpace(v.Get("subject")),
		From: strings.TrimSpace(v.Get("from")), Until: strings.TrimSpace(v.Get("until")), Limit: 50}
	f := audit.Filter{Action: q.Action, Subject: q.Subject}
	bad := func(field, zh, en string) error {
		return fault.New(fault.Invalid, "bad_filter", "筛选条件 "+field+"："+zh, "filter "+field+": "+en)
	}
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > audit.MaxLimit {
			return q, f, bad("limit", "须为 1–1000", "must be 1–1000")
		}
		q.Limit = n
	}
	f.Limit = q.Limit
	if s := v.Get("before_id"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 1 {
			return q, f, bad("before_id", "须为正整数", "must be a positive whole number")
		}
		q.BeforeID, f.BeforeID = n, n
	}
	if q.Actor != "" {
		if id, err := strconv.ParseInt(q.Actor, 10, 64); err == nil && id > 0 {
			f.ActorID = id
		} else {
			a, err := c.deps.Identity.Store.AccountByLogin(ctx, q.Actor)
			if fault.Is(err, fault.NotFound) {
				return q, f, fault.Newf(fault.Invalid, "unknown_actor", "没有账号 %q", "there is no account %q", q.Actor)
			}
			if err != nil {
				return q, f, err
			}
			f.ActorID = a.ID
		}
	}
	for _, t := range []struct {
		s    string
		into *time.Time
		name string
	}{{q.From, &f.From, "from"}, {q.Until, &f.Until, "until"}} {
		if t.s == "" {
			continue
		}
		at, err := time.ParseInLocation(localMinute, t.s, shanghai)
		if err != nil {
			return q, f, bad(t.name, "须为日期和时间（北京时间）", "must be a date and time (Beijing)")
		}
		*t.into = at
	}
	return q, f, nil
}

// auditEntryRow is one entry as the page shows it.
type auditEntryRow struct {
	ID                  int64
	At, AtISO           string
	Actor               string
	ActorID             int64
	Role                string
	Action, Subject     string
	Reason, RequestID   string
	Changes             []fieldChange
	Before, After       string // the whole JSON, indented
	HasBefore, HasAfter bool
}

// fieldChange is one field of the subject that the change set, altered or
// removed: path "tiers[1].basis_points", its value before and after ("" if
// it had none).
type fieldChange struct {
	Path, Before, After string
}

// changes lists the fields that differ between before and after, by path.
func changes(before, after json.RawMessage) []fieldChange {
	b, a := map[string]string{}, map[string]string{}
	flatten("", decodeJSON(before), b)
	flatten("", decodeJSON(after), a)
	paths := map[string]bool{}
	for p := range b {
		paths[p] = true
	}
	for p := range a {
		paths[p] = true
	}
	out := []fieldChange{}
	for p := range paths {
		if b[p] != a[p] {
			out = append(out, fieldChange{Path: p, Before: b[p], After: a[p]})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

func decodeJSON(raw json.RawMessage) any {
	if len(raw) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return string(raw)
	}
	return v
}

// flatten writes every leaf of v into out under its path.
func flatten(path string, v any, out map[string]string) {
	switch x := v.(type) {
	case nil:
		if path != "" {
			out[path] = "null"
		}
	case map[string]any:
		for k, e := range x {
			p := k
			if path != "" {
				p = path + "." + k
			}
			flatten(p, e, out)
		}
	case []any:
		if len(x) == 0 {
			out[path] = "[]"
		}
		for i, e := range x {
			flatten(fmt.Sprintf("%s[%d]", path, i), e, out)
		}
	case string:
		out[path] = x
	default:
		out[path] = fmt.Sprint(x)
	}
}

func indentJSON(raw json.RawMessage) string {
	var b bytes.Buffer
	if json.Indent(&b, raw, "", "  ") != nil {
		return string(raw)
	}
	return b.String()
}

func rowOf(e audit.Entry) auditEntryRow {
	e = e.InZone(shanghai)
	r := auditEntryRow{ID: e.ID, At: beijingSec(e.At), AtISO: e.At.Format(time.RFC3339), Actor: e.Actor.String(), ActorID: e.Actor.AccountID, Role: e.Actor.Role,
		Action: e.Action, Subject: e.Subject, Reason: e.Reason, RequestID: e.RequestID, Changes: changes(e.Before, e.After),
		HasBefore: len(e.Before) > 0, HasAfter: len(e.After) > 0}
	r.Before, r.After = indentJSON(e.Before), indentJSON(e.After)
	return r
}

// auditData is what the audit page shows.
type auditData struct {
	Q        auditQuery
	Rows     []auditEntryRow
	Next     string // the next page's URL, empty on the last
	First    string // the first page's URL, when this is a later one
	CSV      string // the export of the filtered trail
	Filtered bool
	CSVMax   int
}

// auditPage shows a page of the trail.
func (c *Console) auditPage(w http.ResponseWriter, r *http.Request, st *state) {
	q, f, err := c.auditFilter(r.Context(), r.URL.Query())
	var p audit.Page
	if err == nil {
		p, err = c.deps.Audit.Entries(r.Context(), f)
	}
	v := c.newView(r, st, "au.title")
	d := auditData{Q: q, Filtered: len(q.values()) > 0, CSVMax: auditCSVMax}
	base := q.values()
	d.CSV = "/audit.csv"
	if len(base) > 0 {
		d.CSV += "?" + base.Encode()
	}
	if err != nil {
		if fault.CodeOf(err) == fault.Internal {
			c.internalError(w, r, st, err)
			return
		}
		m := faultMsg(err)
		v.Error = &m
		v.Data = d
		c.render(w, r, statusOf(err), "audit.html", v)
		return
	}
	for _, e := range p.Entries {
		d.Rows = append(d.Rows, rowOf(e))
	}
	if p.NextBeforeID != 0 {
		next := q.values()
		next.Set("before_id", strconv.FormatInt(p.NextBeforeID, 10))
		d.Next = "/audit?" + next.Encode()
	}
	if q.BeforeID != 0 {
		d.First = "/audit"
		if len(base) > 0 {
			d.First += "?" + base.Encode()
		}
	}
	v.Data = d
	c.render(w, r, http.StatusOK, "audit.html", v)
}

// csvCell keeps a cell from being read as a formula by spreadsheets: text
// an actor typed (a reason, a name) may start with = + - or @.
func csvCell(s string) string {
	if _, err := strconv.ParseFloat(s, 64); err == nil {
		return s // a number, negative or not, is no formula
	}
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// auditCSV exports the filtered trail, newest first, as UTF-8 CSV with a
// byte order mark (so spreadsheets read the Chinese right), at most
// auditCSVMax entries.
func (c *Console) auditCSV(w http.ResponseWriter, r *http.Request, st *state) {
	ctx := r.Context()
	_, f, err := c.auditFilter(ctx, r.URL.Query())
	if err != nil {
		c.fail(w, r, st, err)
		return
	}
	rows := [][]string{{"id", "at", "actor_id", "actor", "role", "action", "subject", "reason", "changes", "before", "after", "request_id"}}
	f.Limit = audit.MaxLimit
	for len(rows)-1 < auditCSVMax {
		p, err := c.deps.Audit.Entries(ctx, f)
		if err != nil {
			c.fail(w, r, st, err)
			return
		}
		for _, e := range p.Entries {
			x := rowOf(e)
			var ch []string
			for _, c := range x.Changes {
				ch = append(ch, c.Path+": "+c.Before+" → "+c.After)
			}
			rows = append(rows, []string{strconv.FormatInt(x.ID, 10), x.AtISO, strconv.FormatInt(x.ActorID, 10), csvCell(x.Actor), x.Role,
				x.Action, csvCell(x.Subject), csvCell(x.Reason), csvCell(strings.Join(ch, "\n")), string(e.InZone(shanghai).Before), string(e.InZone(shanghai).After), x.RequestID})
		}
		if p.NextBeforeID == 0 {
			break
		}
		f.BeforeID = p.NextBeforeID
	}
	if len(rows)-1 > auditCSVMax {
		rows = rows[:auditCSVMax+1]
	}
	csvDownload(w, "piao-audit-"+c.now().In(shanghai).Format("20060102-1504")+".csv", rows)
}
