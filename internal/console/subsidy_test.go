package console_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"piao/internal/identity"
	"piao/internal/subsidy"
)

// TestSubsidyPages: a rider applies on the H5 page and sees it waiting;
// the reviewer finds it in the queue, a refused decision says why in both
// languages, the verify form verifies it once; the rider then sees the
// subsidy verified, in English too.
func TestSubsidyPages(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	now := time.Now()
	sc, err := e.app.Subsidy.CreateScheme(ctx, subsidy.Scheme{ID: "teachers", Group: subsidy.Teacher, NameZH: "教师免费乘车", NameEN: "Teachers ride free",
		Grant: subsidy.Free, ValidMonths: 12, RenewDays: 30}, subsidy.CampaignSpec{Feed: "nbmetro", Starts: now.Add(-time.Hour), Ends: now.AddDate(1, 0, 0)}, "test")
	if err != nil {
		t.Fatal(err)
	}

	rider := e.client(t)
	rider.login(loginFor(t, identity.Passenger))
	resp, body := rider.get("/h5/subsidy")
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, `id="sub-mine-none"`, `name="scheme" value="teachers"`, "教师免费乘车", "免费乘车", `href="/h5/subsidy"`)
	// Each scheme is a choice of its own: the name, then its details under it.
	wantContains(t, body, `<label class="choice"><input type="radio" name="scheme" value="teachers" checked required>`,
		`<span><strong>教师免费乘车</strong><span class="choice-detail">教师 · 免费乘车</span>`)
	form := url.Values{"csrf": {csrfIn(body)}, "scheme": {"teachers"}, "evidence": {"教师资格证 20263302001"}}
	resp, body = rider.post("/h5/subsidy/apply", form)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/h5/subsidy?done=applied" {
		t.Fatalf("apply: %d %q\n%s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	resp, body = rider.get("/h5/subsidy?done=applied")
	wantContains(t, body, `id="sub-notice"`, `data-state="applied"`, "待审核")
	// Applying again is refused with the reason, the form kept.
	resp, body = rider.post("/h5/subsidy/apply", form)
	wantStatus(t, resp, body, http.StatusConflict)
	wantContains(t, body, "已有待审核的申请", "an application is already waiting for review", `value="教师资格证 20263302001"`)
	queue, err := e.app.Subsidy.Enrolments(ctx, subsidy.Filter{Awaiting: true})
	if err != nil || len(queue) != 1 {
		t.Fatalf("queue: %v %+v", err, queue)
	}
	id := queue[0].ID

	// The auditor sees the queue but no decision forms.
	auditor := e.client(t)
	auditor.login(loginFor(t, identity.OperatorAuditor))
	resp, body = auditor.get("/subsidy")
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, fmt.Sprintf(`data-enrolment="%d"`, id), "教师资格证 20263302001")
	if strings.Contains(body, "/verify") {
		t.Errorf("auditor offered the verify form:\n%s", body)
	}

	reviewer := e.client(t)
	reviewer.login(loginFor(t, identity.OperatorReviewer))
	resp, body = reviewer.get("/subsidy")
	wantStatus(t, resp, body, http.StatusOK)
	verify := fmt.Sprintf("/subsidy/enrolments/%d/verify", id)
	wantContains(t, body, `id="sub-queue"`, `action="`+verify+`"`, fmt.Sprintf(`action="/subsidy/enrolments/%d/reject"`, id), "教师免费乘车", "新申请", `href="/subsidy"`)
	csrf := csrfIn(body)
	// A rejection without a reason is refused, in both languages.
	resp, body = reviewer.post(fmt.Sprintf("/subsidy/enrolments/%d/reject", id), url.Values{"csrf": {csrf}, "reason": {"  "}})
	wantStatus(t, resp, body, http.StatusUnprocessableEntity)
	wantContains(t, body, "请填写驳回原因", "give a reason", fmt.Sprintf(`data-enrolment="%d"`, id))
	// The verify form verifies it.
	resp, body = reviewer.post(verify, url.Values{"csrf": {csrf}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/subsidy?done=verified" {
		t.Fatalf("verify: %d %q\n%s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	resp, body = reviewer.get("/subsidy?done=verified")
	wantContains(t, body, "已认证。", `id="sub-queue-empty"`)
	got, err := e.app.Subsidy.Enrolment(ctx, id)
	if err != nil || got.State != subsidy.Active || !strings.Contains(got.VerifiedBy, "reviewer") || got.Until.IsZero() {
		t.Fatalf("verified: %v %+v", err, got)
	}
	// Deciding again is refused: it is no longer waiting.
	resp, body = reviewer.post(verify, url.Values{"csrf": {csrf}})
	wantStatus(t, resp, body, http.StatusConflict)
	wantContains(t, body, "该申请不在待审核状态", "nothing here is waiting for review")
	// Looking the account up offers revocation.
	resp, body = reviewer.get(fmt.Sprintf("/subsidy?account=%d", got.Account))
	wantContains(t, body, `data-state="active"`, fmt.Sprintf(`action="/subsidy/enrolments/%d/revoke"`, id))

	// The rider sees the subsidy verified with its period, and when
	// renewal opens; in English too.
	resp, body = rider.get("/h5/subsidy")
	until := got.Until.Add(-time.Nanosecond).In(time.FixedZone("CST", 8*3600)).Format(time.DateOnly)
	wantContains(t, body, `data-state="active"`, "已认证", until, got.RenewalOpens(sc).In(time.FixedZone("CST", 8*3600)).Format(time.DateOnly)+" 起可申请续期")
	rider.get("/lang?to=en&back=/h5/subsidy")
	resp, body = rider.get("/h5/subsidy")
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, "Ride subsidies", "Teachers ride free", "Verified", "Renewal opens on")
	for _, path := range []string{"/h5/subsidy", "/subsidy"} {
		for _, cl := range []*client{rider, reviewer} {
			if _, body := cl.get(path); strings.Contains(body, "⟦") {
				t.Errorf("%s lacks a message:\n%s", path, body)
			}
		}
	}
}
