package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"piao/internal/benefits"
	"piao/internal/identity"
	"piao/internal/metro"
	"piao/internal/subsidy"
)

type subView struct {
	subsidy.Enrolment
	Effective    subsidy.State `json:"effective_state"`
	RenewalOpens time.Time     `json:"renewal_opens"`
}

type subSchemeView struct {
	subsidy.Scheme
	CampaignStatus benefits.Status `json:"campaign_status"`
}

// subRunningScheme defines a free scheme for teachers on the demo network
// (admin) and has the reviewer approve its campaign.
func subRunningScheme(t *testing.T, s *testServer, admin, reviewer string) subSchemeView {
	t.Helper()
	now := time.Now().UTC()
	res := s.do(t, "POST", "/api/v1/subsidy-schemes", admin, strings.NewReader(fmt.Sprintf(`{"id": "teachers", "group": "teacher",
		"name_zh": "教师免费乘车", "name_en": "Teachers ride free", "grant": "free", "valid_months": 12, "renew_days": 30,
		"feed": "nbmetro", "starts": %q, "ends": %q}`, now.Add(-24*time.Hour).Format(time.RFC3339), now.Add(365*24*time.Hour).Format(time.RFC3339))))
	var sc subSchemeView
	bnJSON(t, res, &sc)
	if res.status != http.StatusOK || sc.CampaignID == 0 || sc.CampaignStatus != benefits.Submitted {
		t.Fatalf("create scheme: %d %s", res.status, res.body)
	}
	res = s.do(t, "POST", fmt.Sprintf("/api/v1/campaigns/%d/approve", sc.CampaignID), reviewer, strings.NewReader(`{}`))
	if res.status != http.StatusOK {
		t.Fatalf("approve the scheme's campaign: %d %s", res.status, res.body)
	}
	return sc
}

// subTrip is a ¥4 trip of account on line 2 entered at at.
func subTrip(id string, account int64, at time.Time) metro.Trip {
	at = at.UTC().Truncate(time.Millisecond)
	return metro.Trip{ID: id, Feed: "nbmetro", Account: account, Status: metro.Complete, From: "nbmetro:GL", To: "nbmetro:QSP",
		FromLine: "nbmetro:L2", ToLine: "nbmetro:L2", Entered: at, Exited: at.Add(25 * time.Minute), Metres: 8800, Fare: 400}
}

// subSettle stores trips, settles the network over HTTP and returns each
// trip's ledger line.
func subSettle(t *testing.T, s *testServer, admin string, trips ...metro.Trip) map[string]metro.Settlement {
	t.Helper()
	ctx := context.Background()
	if _, err := s.app.MetroStore.AddTrips(ctx, trips, nil); err != nil {
		t.Fatal(err)
	}
	res := s.do(t, "POST", "/api/v1/metro/nbmetro/settle", admin, nil)
	var rep metro.SettleReport
	bnJSON(t, res, &rep)
	if res.status != http.StatusOK || rep.Trips != len(trips) {
		t.Fatalf("settle: %d %s", res.status, res.body)
	}
	out := map[string]metro.Settlement{}
	for _, tr := range trips {
		l, err := s.app.MetroStore.Settlement(ctx, tr.ID)
		if err != nil {
			t.Fatal(err)
		}
		out[tr.ID] = l
	}
	return out
}

func subDecide(t *testing.T, s *testServer, token, path, body string) (subView, response) {
	t.Helper()
	var r = strings.NewReader(body)
	res := s.do(t, "POST", path, token, r)
	var v subView
	if res.status == http.StatusOK {
		bnJSON(t, res, &v)
	}
	return v, res
}

// TestSubsidyLifecycle walks a teacher's subsidy end to end: the scheme
// and its campaign, an application, a rejection and re-enrolment, the
// operator's verification (then a ride is free, booked to the subsidy),
// the renewal window, and revocation (then it is not, while a ride taken
// before it still is).
func TestSubsidyLifecycle(t *testing.T) {
	s := newTestServer(t)
	admin, reviewer := s.token(t, identity.OperatorAdmin), s.token(t, identity.OperatorReviewer)
	sc := subRunningScheme(t, s, admin, reviewer)
	teacher := s.newPassenger(t, "teacher-li")
	other := s.newPassenger(t, "someone-else")
	me := func() []subView {
		t.Helper()
		res := s.do(t, "GET", "/api/v1/me/subsidy-enrolments", teacher, nil)
		var out struct{ Enrolments []subView }
		bnJSON(t, res, &out)
		if res.status != http.StatusOK {
			t.Fatalf("my enrolments: %d %s", res.status, res.body)
		}
		return out.Enrolments
	}
	queue := func() []subView {
		t.Helper()
		res := s.do(t, "GET", "/api/v1/subsidy-enrolments?awaiting=true", reviewer, nil)
		var out struct{ Enrolments []subView }
		bnJSON(t, res, &out)
		if res.status != http.StatusOK {
			t.Fatalf("queue: %d %s", res.status, res.body)
		}
		return out.Enrolments
	}

	// The scheme is listed for everyone, its campaign now approved.
	res := s.do(t, "GET", "/api/v1/subsidy-schemes", "", nil)
	var list struct{ Schemes []subSchemeView }
	bnJSON(t, res, &list)
	if res.status != http.StatusOK || len(list.Schemes) != 1 || list.Schemes[0].ID != "teachers" || list.Schemes[0].CampaignStatus != benefits.Active {
		t.Fatalf("schemes: %d %s", res.status, res.body)
	}
	// A second scheme for the group, or one with the same ID, is refused.
	res = s.do(t, "POST", "/api/v1/subsidy-schemes", admin, strings.NewReader(`{"id": "teachers-2", "group": "teacher", "name_zh": "教师", "grant": "free", "valid_months": 12,
		"feed": "nbmetro", "starts": "2026-01-01T00:00:00+08:00", "ends": "2027-01-01T00:00:00+08:00"}`))
	wantReason(t, res, http.StatusConflict, "group_has_scheme")
	res = s.do(t, "POST", "/api/v1/subsidy-schemes", admin, strings.NewReader(`{"id": "bad", "group": "senior", "name_zh": "老人", "grant": "discount", "percent_off": 100, "valid_months": 12,
		"feed": "nbmetro", "starts": "2026-01-01T00:00:00+08:00", "ends": "2027-01-01T00:00:00+08:00"}`))
	wantReason(t, res, http.StatusUnprocessableEntity, "bad_percent_off")
	if res := s.do(t, "POST", "/api/v1/subsidy-schemes", reviewer, strings.NewReader(`{}`)); res.status != http.StatusForbidden {
		t.Fatalf("reviewer defining a scheme: %d", res.status)
	}

	// Apply; a second application waits behind the first.
	applied, res := subDecide(t, s, teacher, "/api/v1/subsidy-schemes/teachers/apply", `{"evidence": "教师资格证 2026-3302-0001"}`)
	if res.status != http.StatusOK || applied.State != subsidy.Applied || applied.ID == 0 || applied.Evidence != "教师资格证 2026-3302-0001" {
		t.Fatalf("apply: %d %s", res.status, res.body)
	}
	_, res = subDecide(t, s, teacher, "/api/v1/subsidy-schemes/teachers/apply", `{"evidence": "again"}`)
	wantReason(t, res, http.StatusConflict, "application_pending")
	_, res = subDecide(t, s, teacher, "/api/v1/subsidy-schemes/nope/apply", `{"evidence": "x"}`)
	wantReason(t, res, http.StatusNotFound, "scheme_not_found")
	_, res = subDecide(t, s, teacher, "/api/v1/subsidy-schemes/teachers/apply", `{"evidence": " "}`)
	wantReason(t, res, http.StatusUnprocessableEntity, "bad_evidence")
	// The rider cannot decide their own application.
	if _, res := subDecide(t, s, teacher, fmt.Sprintf("/api/v1/subsidy-enrolments/%d/verify", applied.ID), `{}`); res.status != http.StatusForbidden {
		t.Fatalf("rider verifying: %d", res.status)
	}
	if q := queue(); len(q) != 1 || q[0].ID != applied.ID {
		t.Fatalf("queue: %+v", q)
	}

	// Reject with a reason; the decision is made once.
	_, res = subDecide(t, s, reviewer, fmt.Sprintf("/api/v1/subsidy-enrolments/%d/reject", applied.ID), `{"reason": ""}`)
	wantReason(t, res, http.StatusUnprocessableEntity, "reason_required")
	rejected, res := subDecide(t, s, reviewer, fmt.Sprintf("/api/v1/subsidy-enrolments/%d/reject", applied.ID), `{"reason": "证书照片不清晰"}`)
	if res.status != http.StatusOK || rejected.State != subsidy.Rejected || rejected.Reason != "证书照片不清晰" || len(rejected.History) != 2 {
		t.Fatalf("reject: %d %s", res.status, res.body)
	}
	_, res = subDecide(t, s, admin, fmt.Sprintf("/api/v1/subsidy-enrolments/%d/verify", applied.ID), `{}`)
	wantReason(t, res, http.StatusConflict, "not_awaiting_review")
	if q := queue(); len(q) != 0 {
		t.Fatalf("queue after the decision: %+v", q)
	}

	// Re-enrolment after the rejection, verified.
	again, res := subDecide(t, s, teacher, "/api/v1/subsidy-schemes/teachers/apply", `{"evidence": "教师资格证 2026-3302-0001（重新拍摄）"}`)
	if res.status != http.StatusOK || again.State != subsidy.Applied || again.ID == applied.ID {
		t.Fatalf("re-apply: %d %s", res.status, res.body)
	}
	account := again.Account
	before := time.Now()
	tripBefore := subTrip("t-sub-before", account, before.Add(-30*time.Minute))
	active, res := subDecide(t, s, reviewer, fmt.Sprintf("/api/v1/subsidy-enrolments/%d/verify", again.ID), `{}`)
	if res.status != http.StatusOK || active.State != subsidy.Active || active.Effective != subsidy.Active || active.From.Before(before) || !active.Until.After(active.From.AddDate(0, 11, 27)) {
		t.Fatalf("verify: %d %s", res.status, res.body)
	}
	if !active.RenewalOpens.Equal(active.Until.AddDate(0, 0, -30)) {
		t.Fatalf("renewal opens %v, until %v", active.RenewalOpens, active.Until)
	}
	if mine := me(); len(mine) != 2 || mine[0].ID != again.ID || mine[0].State != subsidy.Active || mine[1].State != subsidy.Rejected {
		t.Fatalf("my enrolments: %+v", mine)
	}

	// Settled trips: the one begun before verification pays in full, the
	// one after rides free on the subsidy; a non-member pays in full.
	during := subTrip("t-sub-during", account, active.From.Add(time.Second))
	stranger := subTrip("t-sub-stranger", account+1000, active.From.Add(time.Second))
	lines := subSettle(t, s, admin, tripBefore, during, stranger)
	for id, l := range lines {
		if l.Passenger+l.Operator+l.Merchant+l.Subsidy != l.Fare || l.Fare != 400 {
			t.Fatalf("%s: %+v", id, l)
		}
	}
	if l := lines["t-sub-before"]; l.Subsidy != 0 || l.Passenger != 400 {
		t.Fatalf("trip before verification: %+v", l)
	}
	if l := lines["t-sub-stranger"]; l.Subsidy != 0 || l.Passenger != 400 {
		t.Fatalf("trip of a non-member: %+v", l)
	}
	if l := lines["t-sub-during"]; l.Subsidy != 400 || l.Passenger != 0 || len(l.Applied) != 1 || l.Applied[0].CampaignID != sc.CampaignID {
		t.Fatalf("trip of the verified teacher: %+v", l)
	}

	// Renewal is too early a year ahead; nobody else can ask for it.
	_, res = subDecide(t, s, teacher, fmt.Sprintf("/api/v1/me/subsidy-enrolments/%d/renew", again.ID), `{"evidence": "新证书"}`)
	wantReason(t, res, http.StatusConflict, "renewal_too_early")
	_, res = subDecide(t, s, other, fmt.Sprintf("/api/v1/me/subsidy-enrolments/%d/renew", again.ID), `{"evidence": "新证书"}`)
	wantReason(t, res, http.StatusNotFound, "enrolment_not_found")

	// Revoke: a trip taken before still gets the subsidy when settled
	// later; one begun after does not.
	takenBefore := subTrip("t-sub-late-settled", account, time.Now())
	time.Sleep(20 * time.Millisecond)
	_, res = subDecide(t, s, reviewer, fmt.Sprintf("/api/v1/subsidy-enrolments/%d/revoke", again.ID), `{"reason": " "}`)
	wantReason(t, res, http.StatusUnprocessableEntity, "reason_required")
	revoked, res := subDecide(t, s, reviewer, fmt.Sprintf("/api/v1/subsidy-enrolments/%d/revoke", again.ID), `{"reason": "已调离教师岗位"}`)
	if res.status != http.StatusOK || revoked.State != subsidy.Revoked || revoked.Reason != "已调离教师岗位" {
		t.Fatalf("revoke: %d %s", res.status, res.body)
	}
	revokedAt := revoked.History[len(revoked.History)-1].At
	after := subTrip("t-sub-after", account, revokedAt.Add(time.Second))
	lines = subSettle(t, s, admin, takenBefore, after)
	if l := lines["t-sub-late-settled"]; l.Subsidy != 400 || l.Passenger != 0 {
		t.Fatalf("trip before revocation, settled after: %+v", l)
	}
	if l := lines["t-sub-after"]; l.Subsidy != 0 || l.Passenger != 400 || len(l.Applied) != 0 {
		t.Fatalf("trip after revocation: %+v", l)
	}
	_, res = subDecide(t, s, reviewer, fmt.Sprintf("/api/v1/subsidy-enrolments/%d/revoke", again.ID), `{"reason": "again"}`)
	wantReason(t, res, http.StatusConflict, "not_active")

	// The operator's view of the enrolment has its whole history.
	res = s.do(t, "GET", fmt.Sprintf("/api/v1/subsidy-enrolments/%d", again.ID), s.token(t, identity.OperatorAuditor), nil)
	var got subView
	bnJSON(t, res, &got)
	kinds := []subsidy.EventKind{}
	for _, ev := range got.History {
		kinds = append(kinds, ev.Kind)
	}
	if res.status != http.StatusOK || fmt.Sprint(kinds) != fmt.Sprint([]subsidy.EventKind{subsidy.EvApplied, subsidy.EvVerified, subsidy.EvRevoked}) || !strings.Contains(got.History[1].By, "reviewer") {
		t.Fatalf("enrolment: %d %s", res.status, res.body)
	}
	// After revocation the teacher may apply again.
	if v, res := subDecide(t, s, teacher, "/api/v1/subsidy-schemes/teachers/apply", `{"evidence": "新聘书 2027-01"}`); res.status != http.StatusOK || v.State != subsidy.Applied {
		t.Fatalf("apply after revocation: %d %s", res.status, res.body)
	}
}

// TestSubsidyApplyIdempotent: an application retried with the same
// Idempotency-Key is answered as the first and stored once.
func TestSubsidyApplyIdempotent(t *testing.T) {
	s := newTestServer(t)
	subRunningScheme(t, s, s.token(t, identity.OperatorAdmin), s.token(t, identity.OperatorReviewer))
	teacher := s.newPassenger(t, "teacher-wang")
	first := s.do(t, "POST", "/api/v1/subsidy-schemes/teachers/apply", teacher, strings.NewReader(`{"evidence": "证 001"}`), "Idempotency-Key", "apply-1")
	retry := s.do(t, "POST", "/api/v1/subsidy-schemes/teachers/apply", teacher, strings.NewReader(`{"evidence": "证 001"}`), "Idempotency-Key", "apply-1")
	if first.status != http.StatusOK || retry.status != http.StatusOK || string(first.body) != string(retry.body) || retry.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("retry: %d %s / %d %s", first.status, first.body, retry.status, retry.body)
	}
	res := s.do(t, "GET", "/api/v1/me/subsidy-enrolments", teacher, nil)
	var out struct{ Enrolments []subView }
	bnJSON(t, res, &out)
	if len(out.Enrolments) != 1 {
		t.Fatalf("enrolments after a retried application: %s", res.body)
	}
}
