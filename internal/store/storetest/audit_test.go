package storetest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"piao/internal/audit"
	"piao/internal/store/storetest"
)

// auditT0 is a fixed instant, not in UTC, so the stores must keep the
// instant whatever its zone.
var auditT0 = time.Date(2026, 5, 1, 9, 30, 0, 123456000, time.FixedZone("CST", 8*3600))

// auditIDs lists the entries' IDs in order.
func auditIDs(es []audit.Entry) []int64 {
	out := make([]int64, len(es))
	for i, e := range es {
		out[i] = e.ID
	}
	return out
}

// TestAuditAppendAndRead: an appended entry comes back whole (actor,
// before and after as given, time to the microsecond), and empty before or
// after stay empty.
func TestAuditAppendAndRead(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := context.Background()
		in := audit.Entry{At: auditT0, Actor: audit.Actor{AccountID: 3, Username: "admin", Role: "operator_admin"},
			Action: "fees.refund.set", Subject: "fee_table:refund",
			Before: json.RawMessage(`{"tiers":[{"pct":5}]}`), After: json.RawMessage(`{"tiers":[{"pct":10}]}`),
			Reason: "春运调整", RequestID: "req-1"}
		got, err := s.Audit.AppendAudit(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		if got.ID == 0 {
			t.Fatal("no ID")
		}
		second, err := s.Audit.AppendAudit(ctx, audit.Entry{At: auditT0, Action: "account.create", Subject: "account:9", After: json.RawMessage(`{"id":9}`)})
		if err != nil {
			t.Fatal(err)
		}
		if second.ID <= got.ID {
			t.Fatalf("IDs not increasing: %d then %d", got.ID, second.ID)
		}
		es, err := s.Audit.AuditEntries(ctx, audit.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(es) != 2 {
			t.Fatalf("%d entries, want 2", len(es))
		}
		e := es[1]
		if !e.At.Equal(auditT0) {
			t.Errorf("at %v, want %v", e.At, auditT0)
		}
		in.ID, in.At = got.ID, e.At
		if a, b := fmt.Sprintf("%+v", e), fmt.Sprintf("%+v", in); a != b {
			t.Errorf("read back\n%s\nwant\n%s", a, b)
		}
		if es[0].Before != nil || es[0].Actor != (audit.Actor{}) || string(es[0].After) != `{"id":9}` {
			t.Errorf("system entry read back as %+v", es[0])
		}
	})
}

// TestAuditFilters: each filter selects what it says, newest first, and
// paging by ID walks the whole trail once.
func TestAuditFilters(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := context.Background()
		type row struct {
			actor   int64
			action  string
			subject string
		}
		rows := []row{
			{1, "fees.refund.set", "fee_table:refund"},      // 1
			{2, "fees.change.set", "fee_table:change"},      // 2
			{1, "feesx.other", "x:1"},                       // 3: not under "fees"
			{2, "governance.list.add", "list_member:4"},     // 4
			{1, "governance.rules.set", "governance_rules"}, // 5
			{0, "fees", "fee_table:refund"},                 // 6: the action itself
		}
		ids := make([]int64, len(rows))
		for i, r := range rows {
			e, err := s.Audit.AppendAudit(ctx, audit.Entry{At: auditT0.Add(time.Duration(i) * time.Hour), Actor: audit.Actor{AccountID: r.actor},
				Action: r.action, Subject: r.subject})
			if err != nil {
				t.Fatal(err)
			}
			ids[i] = e.ID
		}
		pick := func(is ...int) []int64 {
			out := []int64{}
			for _, i := range is {
				out = append(out, ids[i-1])
			}
			return out
		}
		cases := []struct {
			name string
			f    audit.Filter
			want []int64
		}{
			{"all", audit.Filter{}, pick(6, 5, 4, 3, 2, 1)},
			{"actor", audit.Filter{ActorID: 1}, pick(5, 3, 1)},
			{"action prefix", audit.Filter{Action: "fees"}, pick(6, 2, 1)},
			{"action deeper prefix", audit.Filter{Action: "governance.list"}, pick(4)},
			{"action exact", audit.Filter{Action: "fees.change.set"}, pick(2)},
			{"subject", audit.Filter{Subject: "fee_table:refund"}, pick(6, 1)},
			{"from", audit.Filter{From: auditT0.Add(4 * time.Hour)}, pick(6, 5)},
			{"until", audit.Filter{Until: auditT0.Add(time.Hour)}, pick(1)},
			{"window", audit.Filter{From: auditT0.Add(time.Hour), Until: auditT0.Add(3 * time.Hour)}, pick(3, 2)},
			{"before id", audit.Filter{BeforeID: ids[3]}, pick(3, 2, 1)},
			{"limit", audit.Filter{Limit: 2}, pick(6, 5)},
			{"combined", audit.Filter{ActorID: 2, Action: "governance", BeforeID: ids[5]}, pick(4)},
			{"nothing", audit.Filter{Subject: "nobody"}, pick()},
		}
		for _, c := range cases {
			es, err := s.Audit.AuditEntries(ctx, c.f)
			if err != nil {
				t.Fatal(c.name, err)
			}
			if got := auditIDs(es); fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Errorf("%s: %v, want %v", c.name, got, c.want)
			}
		}
		// Paging: two at a time from the newest, each page below the last.
		var walked []int64
		var before int64
		for range 10 {
			es, err := s.Audit.AuditEntries(ctx, audit.Filter{Limit: 2, BeforeID: before})
			if err != nil {
				t.Fatal(err)
			}
			if len(es) == 0 {
				break
			}
			walked = append(walked, auditIDs(es)...)
			before = es[len(es)-1].ID
		}
		if fmt.Sprint(walked) != fmt.Sprint(pick(6, 5, 4, 3, 2, 1)) {
			t.Errorf("paged %v", walked)
		}
	})
}

// TestAuditAppendOnly: the database itself refuses to change or remove an
// entry, whoever asks.
func TestAuditAppendOnly(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := context.Background()
		if _, err := s.Audit.AppendAudit(ctx, audit.Entry{At: auditT0, Action: "fees.refund.set", Subject: "fee_table:refund", Reason: "kept"}); err != nil {
			t.Fatal(err)
		}
		stmts := []string{
			`UPDATE audit_entries SET reason = 'rewritten'`,
			`DELETE FROM audit_entries`,
		}
		if s.Engine == "postgres" {
			stmts = append(stmts, `TRUNCATE audit_entries`)
		}
		for _, q := range stmts {
			if err := s.Exec(ctx, q); err == nil {
				t.Errorf("%s: accepted", q)
			}
		}
		es, err := s.Audit.AuditEntries(ctx, audit.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(es) != 1 || es[0].Reason != "kept" {
			t.Fatalf("after the refused statements: %+v", es)
		}
	})
}
