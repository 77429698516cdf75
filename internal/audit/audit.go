// Package audit keeps piao's one append-only audit trail: every change that
// matters (fee tables, fares, rules, lists, accounts, roles, campaigns,
// keys, views of full ID numbers) with who made it, when, what it was
// before and after, and why.
//
// Who is carried in the request's context: the adapters put the logged-in
// account there (WithActor) and services record without being told who
// calls them. Storage is behind Store; entries are never changed or removed.
package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"piao/internal/fault"
)

// Actor is who made a change: an account, or the system itself (zero value,
// for scheduled jobs and the command line).
type Actor struct {
	AccountID int64  `json:"account_id,omitempty"`
	Username  string `json:"username,omitempty"`
	Role      string `json:"role,omitempty"`
}

// String names the actor for display: "account:3 (admin)" or "system".
func (a Actor) String() string {
	if a.AccountID == 0 {
		return "system"
	}
	return "account:" + strconv.FormatInt(a.AccountID, 10) + " (" + a.Username + ")"
}

// Entry is one recorded change.
type Entry struct {
	ID    int64     `json:"id"`
	At    time.Time `json:"at"`
	Actor Actor     `json:"actor"`
	// Action names what was done, "<area>.<verb>": "fees.refund.set",
	// "governance.list.add", "account.create", "pii.view".
	Action string `json:"action"`
	// Subject names what it was done to, "<kind>:<id>": "fee_table:refund",
	// "account:7", "order:42".
	Subject string `json:"subject"`
	// Before and After are the subject's JSON before and after the change;
	// empty when it did not exist before or no longer exists.
	Before json.RawMessage `json:"before,omitempty"`
	After  json.RawMessage `json:"after,omitempty"`
	// Reason is why, as the actor gave it.
	Reason string `json:"reason,omitempty"`
	// RequestID ties the entry to the request log line that made it.
	RequestID string `json:"request_id,omitempty"`
}

// Filter selects entries. Zero fields select everything; entries come
// newest first, Limit at a time, starting below BeforeID when it is set.
type Filter struct {
	ActorID  int64     // one actor's entries
	Action   string    // actions equal to this or starting with it and a dot
	Subject  string    // one subject
	From     time.Time // at or after
	Until    time.Time // before
	BeforeID int64     // paging: entries with a smaller ID
	Limit    int       // at most this many (default 50, at most MaxLimit)
}

// MaxLimit is the most entries one page holds.
const MaxLimit = 1000

// Bounded returns f with its Limit defaulted (50) and capped, as stores
// apply it. The cap is one more than a page, so that Page can ask for one
// entry more than it shows and tell whether another page follows.
func (f Filter) Bounded() Filter {
	if f.Limit <= 0 {
		f.Limit = 50
	}
	f.Limit = min(f.Limit, MaxLimit+1)
	return f
}

// Store keeps the trail.
type Store interface {
	// AppendAudit stores an entry and returns it with its ID.
	AppendAudit(ctx context.Context, e Entry) (Entry, error)
	// AuditEntries returns the entries matching f, newest first.
	AuditEntries(ctx context.Context, f Filter) ([]Entry, error)
}

type ctxKey int

const actorKey, requestKey ctxKey = 0, 1

// WithActor returns ctx carrying who is acting, for the entries recorded
// under it.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey, a)
}

// ActorFrom returns the actor ctx carries (the system if none).
func ActorFrom(ctx context.Context) Actor {
	a, _ := ctx.Value(actorKey).(Actor)
	return a
}

// WithRequestID returns ctx carrying the request's ID for the entries
// recorded under it.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestKey, id)
}

// Log records entries. A nil *Log records nothing, so services and tests
// that do not keep a trail need no special case.
type Log struct {
	store Store
	now   func() time.Time
}

// New returns a log over store with clock now (time.Now when nil).
func New(store Store, now func() time.Time) *Log {
	if now == nil {
		now = time.Now
	}
	return &Log{store: store, now: now}
}

// Record appends one entry for a change made by the actor in ctx. before
// and after are marshalled to JSON (nil leaves them empty). A change whose
// entry cannot be written is reported as an error: callers record before
// they answer, so a change is never acknowledged without its entry.
func (l *Log) Record(ctx context.Context, action, subject string, before, after any, reason string) error {
	if l == nil {
		return nil
	}
	e := Entry{At: l.now(), Actor: ActorFrom(ctx), Action: action, Subject: subject, Reason: reason}
	e.RequestID, _ = ctx.Value(requestKey).(string)
	var err error
	if e.Before, err = marshal(before); err != nil {
		return err
	}
	if e.After, err = marshal(after); err != nil {
		return err
	}
	// The change is done: its entry must be written even if the caller
	// has gone away.
	if _, err := l.store.AppendAudit(context.WithoutCancel(ctx), e); err != nil {
		return fault.Wrap(err, "audit "+action)
	}
	return nil
}

// Page is one page of entries, newest first.
type Page struct {
	Entries []Entry `json:"entries"`
	// NextBeforeID is the before_id of the next page; 0 when this is the last.
	NextBeforeID int64 `json:"next_before_id,omitempty"`
}

// Entries returns a page of the entries matching f, newest first.
func (l *Log) Entries(ctx context.Context, f Filter) (Page, error) {
	if l == nil {
		return Page{Entries: []Entry{}}, nil
	}
	if f.Limit <= 0 {
		f.Limit = 50
	}
	if f.Limit > MaxLimit {
		return Page{}, fault.New(fault.Invalid, "bad_limit", "每页最多 1000 条", "at most 1000 entries a page")
	}
	if !f.Until.IsZero() && !f.From.IsZero() && !f.From.Before(f.Until) {
		return Page{}, fault.New(fault.Invalid, "bad_window", "起始时间须早于结束时间", "from must be before until")
	}
	limit := f.Limit
	f.Limit++ // one more tells whether another page follows
	es, err := l.store.AuditEntries(ctx, f)
	if err != nil {
		return Page{}, err
	}
	p := Page{Entries: es}
	if len(es) > limit {
		p.Entries = es[:limit]
		p.NextBeforeID = es[limit-1].ID
	}
	return p, nil
}

func marshal(v any) (json.RawMessage, error) {
	if v == nil {
		return nil, nil
	}
	if raw, ok := v.(json.RawMessage); ok {
		return raw, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fault.Wrap(err, "audit: encode")
	}
	return b, nil
}

// InZone returns e with its time and the times in Before and After (every
// JSON string that is an RFC 3339 time) given in loc, so that an answer
// shows all its times in one zone. Before and After are otherwise the same
// JSON, keys in sorted order.
func (e Entry) InZone(loc *time.Location) Entry {
	e.At = e.At.In(loc)
	e.Before = rawInZone(e.Before, loc)
	e.After = rawInZone(e.After, loc)
	return e
}

func rawInZone(raw json.RawMessage, loc *time.Location) json.RawMessage {
	if len(raw) == 0 {
		return raw
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return raw // stored as given; shown as stored
	}
	out, err := json.Marshal(timesInZone(v, loc))
	if err != nil {
		return raw
	}
	return out
}

func timesInZone(v any, loc *time.Location) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = timesInZone(e, loc)
		}
	case []any:
		for i, e := range x {
			x[i] = timesInZone(e, loc)
		}
	case string:
		// Only full date-times: a date ("2026-05-01") or a code stays as is.
		if len(x) >= 20 && strings.IndexByte(x, 'T') == 10 {
			if t, err := time.Parse(time.RFC3339Nano, x); err == nil {
				return t.In(loc).Format(time.RFC3339Nano)
			}
		}
	}
	return v
}
