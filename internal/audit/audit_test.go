package audit_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"piao/internal/audit"
	"piao/internal/fault"
	"piao/internal/testclock"
)

// memStore keeps entries in memory, newest last; fail makes appends fail.
type memStore struct {
	entries []audit.Entry
	fail    error
}

func (m *memStore) AppendAudit(ctx context.Context, e audit.Entry) (audit.Entry, error) {
	if m.fail != nil {
		return audit.Entry{}, m.fail
	}
	e.ID = int64(len(m.entries) + 1)
	m.entries = append(m.entries, e)
	return e, nil
}

func (m *memStore) AuditEntries(ctx context.Context, f audit.Filter) ([]audit.Entry, error) {
	f = f.Bounded()
	out := []audit.Entry{}
	for i := len(m.entries) - 1; i >= 0 && len(out) < f.Limit; i-- {
		if f.BeforeID == 0 || m.entries[i].ID < f.BeforeID {
			out = append(out, m.entries[i])
		}
	}
	return out, nil
}

// TestRecord: an entry carries the context's actor and request ID, the
// clock's time and the JSON of before and after; a nil Log records nothing.
func TestRecord(t *testing.T) {
	clock := testclock.New(time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC))
	st := &memStore{}
	l := audit.New(st, clock.Now)
	ctx := audit.WithRequestID(audit.WithActor(context.Background(), audit.Actor{AccountID: 3, Username: "admin", Role: "operator_admin"}), "req-9")
	if err := l.Record(ctx, "fees.refund.set", "fee_table:refund", map[string]int{"pct": 5}, nil, "why"); err != nil {
		t.Fatal(err)
	}
	e := st.entries[0]
	if e.Actor.AccountID != 3 || e.RequestID != "req-9" || !e.At.Equal(clock.Now()) || string(e.Before) != `{"pct":5}` || e.After != nil || e.Reason != "why" {
		t.Errorf("recorded %+v", e)
	}
	if err := l.Record(context.Background(), "x.y", "z:1", nil, json.RawMessage(`{"a":1}`), ""); err != nil {
		t.Fatal(err)
	}
	if e := st.entries[1]; e.Actor.String() != "system" || string(e.After) != `{"a":1}` {
		t.Errorf("system entry %+v", e)
	}
	var none *audit.Log
	if err := none.Record(ctx, "a.b", "c:1", nil, nil, ""); err != nil {
		t.Error(err)
	}
}

// TestRecordFailure: when the entry cannot be written the caller gets an
// error, so it does not acknowledge the change; a value that cannot be
// encoded is an error too.
func TestRecordFailure(t *testing.T) {
	l := audit.New(&memStore{fail: errors.New("disk full")}, nil)
	if err := l.Record(context.Background(), "a.b", "c:1", nil, 1, ""); err == nil || fault.CodeOf(err) != fault.Internal {
		t.Errorf("failed append: %v", err)
	}
	l = audit.New(&memStore{}, nil)
	if err := l.Record(context.Background(), "a.b", "c:1", nil, func() {}, ""); err == nil {
		t.Error("unencodable after accepted")
	}
}

// TestEntriesPaging: pages hold Limit entries, newest first, and name the
// next page's cursor until the last.
func TestEntriesPaging(t *testing.T) {
	st := &memStore{}
	l := audit.New(st, nil)
	for range 5 {
		if err := l.Record(context.Background(), "a.b", "c:1", nil, nil, ""); err != nil {
			t.Fatal(err)
		}
	}
	var ids []int64
	f := audit.Filter{Limit: 2}
	for range 5 {
		p, err := l.Entries(context.Background(), f)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range p.Entries {
			ids = append(ids, e.ID)
		}
		if p.NextBeforeID == 0 {
			break
		}
		f.BeforeID = p.NextBeforeID
	}
	if len(ids) != 5 || ids[0] != 5 || ids[4] != 1 {
		t.Errorf("paged %v", ids)
	}
	for _, bad := range []audit.Filter{{Limit: audit.MaxLimit + 1}, {From: time.Unix(10, 0), Until: time.Unix(5, 0)}} {
		if _, err := l.Entries(context.Background(), bad); fault.CodeOf(err) != fault.Invalid {
			t.Errorf("%+v: %v", bad, err)
		}
	}
}

// TestInZone: the entry's time and every date-time in before and after are
// given in the zone; other strings and dates stay as they are.
func TestInZone(t *testing.T) {
	cst := time.FixedZone("CST", 8*3600)
	e := audit.Entry{At: time.Date(2026, 5, 1, 1, 0, 0, 0, time.UTC),
		Before: json.RawMessage(`{"starts":"2026-05-01T01:00:00Z","day":"2026-05-01","n":12345678901234567890,"list":["2026-05-01T02:30:00.5Z","x"]}`)}
	got := e.InZone(cst)
	if got.At.Format(time.RFC3339) != "2026-05-01T09:00:00+08:00" {
		t.Errorf("at %v", got.At)
	}
	want := `{"day":"2026-05-01","list":["2026-05-01T10:30:00.5+08:00","x"],"n":12345678901234567890,"starts":"2026-05-01T09:00:00+08:00"}`
	if string(got.Before) != want {
		t.Errorf("before %s\nwant   %s", got.Before, want)
	}
}
