package httpapi_test

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"piao/internal/app/apptest"
	"piao/internal/booking"
	"piao/internal/governance"
	"piao/internal/identity"
	"piao/internal/realname"
)

// TestGovernanceOverHTTP: cancels bring warnings, the limit refuses with
// Retry-After, operators see counts and the report, and list changes are
// audited with the operator's name.
func TestGovernanceOverHTTP(t *testing.T) {
	s := newTestServer(t)
	passengerToken := s.token(t, identity.Passenger)
	date := apptest.Today().AddDays(3).String()
	bookBody := func(i int) string {
		id := realname.MakeID("360102", time.Date(1985, 3, 1+i, 0, 0, 0, 0, time.UTC), 100+i)
		return fmt.Sprintf(`{"train":"Z66","date":%q,"from":"NCG","to":"BXP","passengers":[{"name":"李娜","doc_type":"id_card","doc_number":%q,"seat_class":"hard_sleeper"}]}`, date, id)
	}
	var last booking.Order
	for i := range 3 {
		res := s.do(t, "POST", "/api/v1/orders", passengerToken, strings.NewReader(bookBody(i)))
		var booked booking.Booked
		json.Unmarshal(res.body, &booked)
		if res.status != 200 {
			t.Fatalf("book %d: %d %s", i, res.status, res.body)
		}
		res = s.do(t, "POST", fmt.Sprintf("/api/v1/orders/%d/cancel", booked.Order.ID), passengerToken, nil)
		json.Unmarshal(res.body, &last)
		if res.status != 200 || last.Status != booking.Cancelled {
			t.Fatalf("cancel %d: %d %s", i, res.status, res.body)
		}
	}
	if len(last.Warnings) == 0 || last.Warnings[0].Code != "account_cancels" || last.Warnings[0].ZH == "" || last.Warnings[0].EN == "" {
		t.Fatalf("the third cancel should warn that booking is closed: %+v", last.Warnings)
	}
	res := s.do(t, "POST", "/api/v1/orders", passengerToken, strings.NewReader(bookBody(9)), "Accept-Language", "en")
	p := decodeProblem(t, res)
	if res.status != 429 || p.Reason != "account_cancel_limit" || !strings.Contains(p.Detail, "cannot book again before") {
		t.Fatalf("fourth booking: %d %s", res.status, res.body)
	}
	secs, err := strconv.Atoi(res.header.Get("Retry-After"))
	if err != nil || secs < 1 || secs > 86400 {
		t.Fatalf("Retry-After %q", res.header.Get("Retry-After"))
	}

	admin, auditor := s.token(t, identity.OperatorAdmin), s.token(t, identity.OperatorAuditor)
	me := s.do(t, "GET", "/api/v1/me", passengerToken, nil)
	var who struct{ ID int64 }
	json.Unmarshal(me.body, &who)
	res = s.do(t, "GET", "/api/v1/governance/counts?subject=account:"+strconv.FormatInt(who.ID, 10), auditor, nil)
	var counts struct{ Counts governance.Counts }
	json.Unmarshal(res.body, &counts)
	if res.status != 200 || counts.Counts.Manual != 3 {
		t.Fatalf("counts: %d %s", res.status, res.body)
	}
	res = s.do(t, "GET", "/api/v1/governance/report?train=Z66", auditor, nil)
	var rep struct {
		Train  string
		Report struct {
			Totals struct{ Transactions, Cancelled int64 }
		}
	}
	json.Unmarshal(res.body, &rep)
	if res.status != 200 || rep.Train != "cr:Z66" || rep.Report.Totals.Cancelled < 3 {
		t.Fatalf("report: %d %s", res.status, res.body)
	}
	if res := s.do(t, "GET", "/api/v1/governance/report?from=2026-12-01&to=2026-11-01", auditor, nil); res.status != 422 || decodeProblem(t, res).Reason != "bad_window" {
		t.Fatalf("backwards window: %d %s", res.status, res.body)
	}

	// Lists: auditors read, reviewers and admins change, every change audited.
	add := `{"list":"restricted","subject":"account:` + strconv.FormatInt(who.ID, 10) + `","reason":"反复取消 repeated cancels","days":7}`
	if res := s.do(t, "POST", "/api/v1/governance/members", auditor, strings.NewReader(add)); res.status != 403 {
		t.Fatalf("auditor adds: %d", res.status)
	}
	res = s.do(t, "POST", "/api/v1/governance/members", admin, strings.NewReader(add))
	var m governance.Membership
	json.Unmarshal(res.body, &m)
	if res.status != 200 || m.ID == 0 || m.Source != governance.ByOperator || len(m.Events) != 1 || !strings.Contains(m.Events[0].Actor, "admin") {
		t.Fatalf("add: %d %s", res.status, res.body)
	}
	if res := s.do(t, "POST", "/api/v1/governance/members", admin, strings.NewReader(add)); res.status != 409 {
		t.Fatalf("add twice: %d %s", res.status, res.body)
	}
	path := fmt.Sprintf("/api/v1/governance/members/%d", m.ID)
	res = s.do(t, "POST", path+"/extend", admin, strings.NewReader(`{"days":3,"reason":"再观察 keep watching"}`))
	json.Unmarshal(res.body, &m)
	if res.status != 200 || len(m.Events) != 2 || m.Events[1].Action != "extend" {
		t.Fatalf("extend: %d %s", res.status, res.body)
	}
	res = s.do(t, "POST", path+"/lift", admin, strings.NewReader(`{"reason":"申诉成功 appeal upheld"}`))
	json.Unmarshal(res.body, &m)
	if res.status != 200 || m.LiftedAt == nil || len(m.Events) != 3 || m.Events[2].Action != "lift" {
		t.Fatalf("lift: %d %s", res.status, res.body)
	}
	if res := s.do(t, "POST", path+"/lift", admin, strings.NewReader(`{"reason":"again"}`)); res.status != 409 {
		t.Fatalf("lift twice: %d %s", res.status, res.body)
	}
	res = s.do(t, "GET", "/api/v1/governance/members?list=restricted", auditor, nil)
	var ms struct{ Members []governance.Membership }
	json.Unmarshal(res.body, &ms)
	if res.status != 200 || len(ms.Members) != 1 {
		t.Fatalf("members: %d %s", res.status, res.body)
	}

	// Rules: admins edit, invalid rules are refused with the field named.
	if res := s.do(t, "PUT", "/api/v1/governance/rules", admin, strings.NewReader(`{"day_start":"25:00","lists":{"window_days":30,"membership_days":30,"priority_min_paid_share":0.7}}`)); res.status != 422 || !strings.Contains(string(res.body), "day_start") {
		t.Fatalf("bad rules: %d %s", res.status, res.body)
	}
	rules := governance.DefaultRules()
	rules.AccountCancelLimit = 5
	b, _ := json.Marshal(rules)
	if res := s.do(t, "PUT", "/api/v1/governance/rules", admin, strings.NewReader(string(b))); res.status != 200 {
		t.Fatalf("put rules: %d %s", res.status, res.body)
	}
	// The new limit applies within the cache time.
	deadline := time.Now().Add(10 * time.Second)
	for {
		res = s.do(t, "POST", "/api/v1/orders", passengerToken, strings.NewReader(bookBody(10)))
		if res.status == 200 || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if res.status != 200 {
		t.Fatalf("after raising the limit: %d %s", res.status, res.body)
	}
}
