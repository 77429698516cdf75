package console_test

import (
	"context"
	"encoding/csv"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"piao/internal/audit"
	"piao/internal/identity"
)

// feeForm is the refund table's form as the page posts it: tiers of
// hours and percent, the minimum and rounding in yuan, and a reason.
func feeForm(csrf, reason string, tiers ...[2]string) url.Values {
	f := url.Values{"csrf": {csrf}, "minimum": {"2"}, "round_to": {"0.5"}, "reason": {reason}, "rows": {"4"}}
	for i, t := range tiers {
		f.Set("hours_"+string(rune('0'+i)), t[0])
		f.Set("rate_"+string(rune('0'+i)), t[1])
	}
	return f
}

// TestFeesPageRecordsTheChange: an admin saves the refund table on the
// fee page; the table is in force and the audit trail holds the change
// with who, before, after and why. A refused table changes and records
// nothing; only booking:admin may edit.
func TestFeesPageRecordsTheChange(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	admin := e.as(t, identity.OperatorAdmin)
	resp, body := admin.get("/booking/fees")
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, `id="fees-refund"`, `id="fees-change"`, `name="rate_0"`)

	resp, body = admin.post("/booking/fees/refund", feeForm(csrfIn(body), "春运 peak", [2]string{"48", "5"}, [2]string{"0", "20"}))
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/booking/fees?saved=refund" {
		t.Fatalf("save: %d %s\n%s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	table, err := e.app.Booking.RefundFees(ctx)
	if err != nil || len(table.Tiers) != 2 || table.Tiers[1].BasisPoints != 2000 || table.MinimumFen != 200 || table.RoundToFen != 50 {
		t.Fatalf("table in force %+v %v", table, err)
	}
	p, err := e.app.Audit.Entries(ctx, audit.Filter{Subject: "fee_table:refund"})
	if err != nil || len(p.Entries) != 1 {
		t.Fatalf("entries %+v %v", p, err)
	}
	en := p.Entries[0]
	if en.Action != "fees.refund.set" || en.Actor.Username != "admin" || en.Reason != "春运 peak" ||
		!strings.Contains(string(en.After), `"basis_points":2000`) || !strings.Contains(string(en.Before), `"min_hours_before":192`) {
		t.Errorf("entry %+v before %s after %s", en, en.Before, en.After)
	}

	// A table whose rates fall closer to departure is refused: nothing changes.
	_, body = admin.get("/booking/fees")
	resp, body = admin.post("/booking/fees/refund", feeForm(csrfIn(body), "", [2]string{"48", "50"}, [2]string{"0", "5"}))
	wantStatus(t, resp, body, http.StatusUnprocessableEntity)
	resp, body = admin.post("/booking/fees/refund", feeForm(csrfIn(body), "", [2]string{"x", "5"}))
	wantStatus(t, resp, body, http.StatusUnprocessableEntity)
	if p, _ := e.app.Audit.Entries(ctx, audit.Filter{Subject: "fee_table:refund"}); len(p.Entries) != 1 {
		t.Errorf("refused tables recorded: %d entries", len(p.Entries))
	}

	for _, role := range []identity.Role{identity.OperatorAuditor, identity.OperatorReviewer, identity.Passenger} {
		cl := e.as(t, role)
		resp, body := cl.get("/booking/fees")
		wantStatus(t, resp, body, http.StatusForbidden)
		resp, body = cl.post("/booking/fees/refund", feeForm(cl.csrfFor("/booking/fees/refund"), "", [2]string{"0", "1"}))
		wantStatus(t, resp, body, http.StatusForbidden)
	}
}

var entryRE = regexp.MustCompile(`data-entry="(\d+)"`)

// TestAuditPage: auditors and admins read the trail with filters and
// paging; other roles may not; the change is shown field by field.
func TestAuditPage(t *testing.T) {
	e := newEnv(t)
	admin := e.as(t, identity.OperatorAdmin)
	for i, rate := range []string{"10", "20", "30"} {
		_, body := admin.get("/booking/fees")
		resp, body := admin.post("/booking/fees/change", feeForm(csrfIn(body), "第"+string(rune('1'+i))+"次", [2]string{"0", rate}))
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("save: %d\n%s", resp.StatusCode, body)
		}
	}
	for _, role := range []identity.Role{identity.OperatorReviewer, identity.MerchantAdmin, identity.Passenger} {
		resp, body := e.as(t, role).get("/audit")
		wantStatus(t, resp, body, http.StatusForbidden)
	}
	auditor := e.as(t, identity.OperatorAuditor)
	resp, body := auditor.get("/")
	wantContains(t, body, `href="/audit"`)

	resp, body = auditor.get("/audit?act=fees.change&actor=admin&limit=2")
	wantStatus(t, resp, body, http.StatusOK)
	ids := entryRE.FindAllStringSubmatch(body, -1)
	if len(ids) != 2 {
		t.Fatalf("first page: %d entries\n%s", len(ids), body)
	}
	// Newest first: the third change, 20 % → 30 %, with its reason.
	wantContains(t, body, `data-subject="fee_table:change"`, `account:1 (admin)`, `第3次`,
		`<tr data-field="tiers[0].basis_points"><th scope="row"><code>tiers[0].basis_points</code></th><td class="before">2000</td><td class="after">3000</td></tr>`,
		`id="audit-next"`, `href="/audit.csv?act=fees.change&amp;actor=admin&amp;limit=2"`)
	next := regexp.MustCompile(`href="(/audit\?[^"]*before_id=[^"]*)" id="audit-next"`).FindStringSubmatch(body)
	if next == nil {
		t.Fatal("no next page link")
	}
	resp, body = auditor.get(strings.ReplaceAll(next[1], "&amp;", "&"))
	wantStatus(t, resp, body, http.StatusOK)
	if got := entryRE.FindAllStringSubmatch(body, -1); len(got) != 1 || strings.Contains(body, `id="audit-next"`) {
		t.Errorf("last page: %v", got)
	}
	wantContains(t, body, `第1次`, `id="audit-first"`)

	// Filters that select nothing, and bad ones.
	for _, q := range []string{"actor=auditor", "subject=fee_table:refund", "from=2099-01-01T00:00", "until=2000-01-01T00:00"} {
		_, body := auditor.get("/audit?" + q)
		if strings.Contains(body, "data-entry=") {
			t.Errorf("?%s shows entries", q)
		}
	}
	for _, q := range []string{"actor=nobody-here", "from=yesterday", "limit=5000", "from=2026-05-02T00:00&until=2026-05-01T00:00"} {
		resp, body := auditor.get("/audit?" + q)
		wantStatus(t, resp, body, http.StatusUnprocessableEntity)
	}
}

// TestAuditCSV: the export is UTF-8 with a byte order mark, holds the
// filtered entries newest first, and neutralises text a spreadsheet would
// run as a formula.
func TestAuditCSV(t *testing.T) {
	e := newEnv(t)
	admin := e.as(t, identity.OperatorAdmin)
	for _, reason := range []string{"普通调整", "=HYPERLINK(\"http://evil\")"} {
		_, body := admin.get("/booking/fees")
		if resp, body := admin.post("/booking/fees/refund", feeForm(csrfIn(body), reason, [2]string{"0", "7"})); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("save: %d\n%s", resp.StatusCode, body)
		}
	}
	resp, body := e.as(t, identity.OperatorAuditor).get("/audit.csv?act=fees")
	wantStatus(t, resp, body, http.StatusOK)
	if ct := resp.Header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	if !strings.HasPrefix(body, "\uFEFF") {
		t.Error("no byte order mark")
	}
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(body, "\uFEFF"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(rows[0], ","); got != "id,at,actor_id,actor,role,action,subject,reason,changes,before,after,request_id" {
		t.Errorf("header %s", got)
	}
	if len(rows) != 3 {
		t.Fatalf("%d rows, want the header and 2", len(rows))
	}
	newest, older := rows[1], rows[2]
	if newest[7] != "'=HYPERLINK(\"http://evil\")" || older[7] != "普通调整" {
		t.Errorf("reasons %q, %q", newest[7], older[7])
	}
	if newest[3] != "account:1 (admin)" || newest[5] != "fees.refund.set" || newest[6] != "fee_table:refund" || !strings.Contains(older[8], "→") ||
		!strings.Contains(older[10], `"basis_points":700`) || !strings.HasSuffix(newest[1], "+08:00") {
		t.Errorf("row %q", older)
	}
	if resp, body := e.as(t, identity.OperatorReviewer).get("/audit.csv"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("reviewer exports: %d %.200s", resp.StatusCode, body)
	}
}
