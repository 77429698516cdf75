package httpapi_test

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"piao/internal/audit"
	"piao/internal/benefits"
	"piao/internal/governance"
	"piao/internal/identity"
)

// auditPage reads GET /api/v1/audit?query as token.
func auditPage(t *testing.T, s *testServer, token, query string) audit.Page {
	t.Helper()
	res := s.do(t, "GET", "/api/v1/audit?"+query, token, nil)
	if res.status != http.StatusOK {
		t.Fatalf("audit?%s: %d %s", query, res.status, res.body)
	}
	var p audit.Page
	bnJSON(t, res, &p)
	return p
}

// TestAuditRecordsEveryChange makes each change that matters over the API
// and finds its entry in the trail: the action, the subject, who made it
// (the token's account), the reason given, and what it was before and after.
func TestAuditRecordsEveryChange(t *testing.T) {
	s := newTestServer(t)
	admin, reviewer, auditor := s.token(t, identity.OperatorAdmin), s.token(t, identity.OperatorReviewer), s.token(t, identity.OperatorAuditor)
	ok := func(method, path, token, body string, out any) {
		t.Helper()
		var r *strings.Reader
		if body != "" {
			r = strings.NewReader(body)
		}
		var res response
		if r != nil {
			res = s.do(t, method, path, token, r)
		} else {
			res = s.do(t, method, path, token, nil)
		}
		if res.status != http.StatusOK {
			t.Fatalf("%s %s: %d %s", method, path, res.status, res.body)
		}
		if out != nil {
			bnJSON(t, res, out)
		}
	}
	from, until := bnWindow()
	var product benefits.Product
	var campaign bnCampaignView
	var member governance.Membership
	var enrolment subView
	var scheme subSchemeView
	var rider string

	cases := []struct {
		name, action, who, reason string
		do                        func() string // makes the change, returns its subject
		before, after             string        // in the entry's before and after JSON ("-": empty)
	}{
		{"refund fees", "fees.refund.set", "admin", "春运 peak season", func() string {
			ok("PUT", "/api/v1/fees/refund?reason="+url.QueryEscape("春运 peak season"), admin, `{"tiers":[{"min_hours_before":48,"basis_points":500},{"min_hours_before":0,"basis_points":2000}],"minimum_fen":200,"round_to_fen":50}`, nil)
			return "fee_table:refund"
		}, `"tiers"`, `"basis_points":2000`},
		{"change fees", "fees.change.set", "admin", "", func() string {
			ok("PUT", "/api/v1/fees/change", admin, `{"tiers":[{"min_hours_before":0,"basis_points":300}],"minimum_fen":0,"round_to_fen":50}`, nil)
			return "fee_table:change"
		}, `"tiers"`, `"basis_points":300`},
		{"booking policy", "booking.policy.set", "admin", "长者优先 elders first", func() string {
			ok("PUT", "/api/v1/booking/policy?reason="+url.QueryEscape("长者优先 elders first"), admin, `{"elderly_lower":true,"elderly_age":65,"waitlist_max_active":2,"waitlist_max_options":6,"repeat_berth_first":true,"repeat_berth_cancels":2,"waitlist_priority_first":true}`, nil)
			return "booking_policy"
		}, `"elderly_age"`, `"elderly_age":65`},
		{"fare", "network.fare.set", "admin", "调价 new price", func() string {
			ok("PUT", "/api/v1/fares?reason="+url.QueryEscape("调价 new price"), admin, `{"service_id":"cr:Z66","from_station_id":"cr:NCG","to_station_id":"cr:BXP","seat_class":"hard_sleeper","berth":"lower","fen":31234}`, nil)
			return "fare:cr:Z66/cr:NCG-cr:BXP/hard_sleeper/lower"
		}, `"fen"`, `"fen":31234`},
		{"car layout", "network.car_type.put", "admin", "", func() string {
			var cts struct {
				CarTypes []json.RawMessage `json:"car_types"`
			}
			res := s.do(t, "GET", "/api/v1/car-types", "", nil)
			bnJSON(t, res, &cts)
			var ct map[string]any
			if err := json.Unmarshal(cts.CarTypes[0], &ct); err != nil {
				t.Fatal(err)
			}
			ct["name_en"] = "Renamed car"
			b, _ := json.Marshal(ct)
			ok("PUT", "/api/v1/car-types/"+ct["code"].(string), admin, string(b), nil)
			return "car_type:" + ct["code"].(string)
		}, `"seats"`, `"name_en":"Renamed car"`},
		{"governance rules", "governance.rules.set", "admin", "收紧 tighter", func() string {
			r := governance.DefaultRules()
			r.AccountCancelLimit = 4
			b, _ := json.Marshal(r)
			ok("PUT", "/api/v1/governance/rules?reason="+url.QueryEscape("收紧 tighter"), admin, string(b), nil)
			return "governance_rules"
		}, `"day_start"`, `"account_cancel_limit":4`},
		{"list add", "governance.list.add", "admin", "人工 by hand", func() string {
			ok("POST", "/api/v1/governance/members", admin, `{"list":"restricted","subject":"doc:id_card:11010519491231002X","reason":"人工 by hand","days":7}`, &member)
			return fmt.Sprintf("list_member:%d", member.ID)
		}, "-", `"subject":"doc:id_card:1101**********002X"`},
		{"list extend", "governance.list.extend", "admin", "再观察", func() string {
			ok("POST", fmt.Sprintf("/api/v1/governance/members/%d/extend", member.ID), admin, `{"days":3,"reason":"再观察"}`, nil)
			return fmt.Sprintf("list_member:%d", member.ID)
		}, `"expires"`, `"expires"`},
		{"list lift", "governance.list.lift", "admin", "申诉成功", func() string {
			ok("POST", fmt.Sprintf("/api/v1/governance/members/%d/lift", member.ID), admin, `{"reason":"申诉成功"}`, nil)
			return fmt.Sprintf("list_member:%d", member.ID)
		}, `"expires"`, `"lift_reason":"申诉成功"`},
		{"account", "account.create", "admin", "新审核员 new reviewer", func() string {
			var a identity.Account
			ok("POST", "/api/v1/accounts", admin, `{"username":"reviewer2","password":"correct-horse-battery","role":"operator_reviewer","reason":"新审核员 new reviewer"}`, &a)
			return "account:" + strconv.FormatInt(a.ID, 10)
		}, "-", `"role":"operator_reviewer"`},
		{"product", "benefits.product.create", "admin", "", func() string {
			ok("POST", "/api/v1/benefit-products", admin, `{"kind":"amount_off","name_zh":"两元乘车券","feed":"nbmetro","terms":{"amount_off":200},"validity":{"days":30}}`, &product)
			return fmt.Sprintf("benefit_product:%d", product.ID)
		}, "-", `"name_zh":"两元乘车券"`},
		{"campaign", "benefits.campaign.create", "admin", "", func() string {
			ok("POST", "/api/v1/campaigns", admin, fmt.Sprintf(`{"product_id":%d,"name_zh":"领券","starts":%q,"ends":%q,"channels":["claim","code","direct"],"stock":10,"per_user":3}`, product.ID, from, until), &campaign)
			return fmt.Sprintf("campaign:%d", campaign.Campaign.ID)
		}, "-", `"status":"draft"`},
		{"campaign submit", "benefits.campaign.submit", "admin", "", func() string {
			ok("POST", fmt.Sprintf("/api/v1/campaigns/%d/submit", campaign.Campaign.ID), admin, `{}`, nil)
			return fmt.Sprintf("campaign:%d", campaign.Campaign.ID)
		}, `"status":"draft"`, `"status":"submitted"`},
		{"campaign approve", "benefits.campaign.approve", "reviewer", "", func() string {
			ok("POST", fmt.Sprintf("/api/v1/campaigns/%d/approve", campaign.Campaign.ID), reviewer, `{}`, nil)
			return fmt.Sprintf("campaign:%d", campaign.Campaign.ID)
		}, `"status":"submitted"`, `"status":"approved"`},
		{"campaign pause", "benefits.campaign.pause", "reviewer", "库存核对 stock check", func() string {
			ok("POST", fmt.Sprintf("/api/v1/campaigns/%d/pause", campaign.Campaign.ID), reviewer, `{"reason":"库存核对 stock check"}`, nil)
			return fmt.Sprintf("campaign:%d", campaign.Campaign.ID)
		}, `"status":"approved"`, `"status":"paused"`},
		{"campaign resume", "benefits.campaign.resume", "reviewer", "", func() string {
			ok("POST", fmt.Sprintf("/api/v1/campaigns/%d/resume", campaign.Campaign.ID), reviewer, `{}`, nil)
			return fmt.Sprintf("campaign:%d", campaign.Campaign.ID)
		}, `"status":"paused"`, `"status":"approved"`},
		{"code batch", "benefits.codes.generate", "admin", "", func() string {
			var b benefits.CodeBatch
			ok("POST", fmt.Sprintf("/api/v1/campaigns/%d/codes", campaign.Campaign.ID), admin, `{"count":2}`, &b)
			return fmt.Sprintf("code_batch:%d", b.ID)
		}, "-", `"count":2`},
		{"direct issue", "benefits.campaign.issue", "admin", "", func() string {
			rider = s.newPassenger(t, "audit-rider")
			var me identity.Account
			ok("GET", "/api/v1/me", rider, "", &me)
			ok("POST", fmt.Sprintf("/api/v1/campaigns/%d/issue", campaign.Campaign.ID), admin, fmt.Sprintf(`{"accounts":[%d]}`, me.ID), nil)
			return fmt.Sprintf("campaign:%d", campaign.Campaign.ID)
		}, "-", `"issued":1`},
		{"campaign terminate", "benefits.campaign.terminate", "reviewer", "活动取消 called off", func() string {
			ok("POST", fmt.Sprintf("/api/v1/campaigns/%d/terminate", campaign.Campaign.ID), reviewer, `{"reason":"活动取消 called off"}`, nil)
			return fmt.Sprintf("campaign:%d", campaign.Campaign.ID)
		}, `"status":"approved"`, `"status":"terminated"`},
		{"subsidy scheme", "subsidy.scheme.create", "admin", "", func() string {
			scheme = subRunningScheme(t, s, admin, reviewer)
			return "subsidy_scheme:" + scheme.ID
		}, "-", `"group":"teacher"`},
		{"enrolment reject", "subsidy.enrolment.reject", "reviewer", "照片不清 blurry", func() string {
			ok("POST", "/api/v1/subsidy-schemes/teachers/apply", rider, `{"evidence":"教师资格证 2026-0001"}`, &enrolment)
			ok("POST", fmt.Sprintf("/api/v1/subsidy-enrolments/%d/reject", enrolment.ID), reviewer, `{"reason":"照片不清 blurry"}`, nil)
			return fmt.Sprintf("subsidy_enrolment:%d", enrolment.ID)
		}, `"state":"applied"`, `"state":"rejected"`},
		{"enrolment verify", "subsidy.enrolment.verify", "reviewer", "", func() string {
			ok("POST", "/api/v1/subsidy-schemes/teachers/apply", rider, `{"evidence":"教师资格证 2026-0001（重拍）"}`, &enrolment)
			ok("POST", fmt.Sprintf("/api/v1/subsidy-enrolments/%d/verify", enrolment.ID), reviewer, `{}`, nil)
			return fmt.Sprintf("subsidy_enrolment:%d", enrolment.ID)
		}, `"state":"applied"`, `"state":"active"`},
		{"enrolment revoke", "subsidy.enrolment.revoke", "admin", "离职 left the school", func() string {
			ok("POST", fmt.Sprintf("/api/v1/subsidy-enrolments/%d/revoke", enrolment.ID), admin, `{"reason":"离职 left the school"}`, nil)
			return fmt.Sprintf("subsidy_enrolment:%d", enrolment.ID)
		}, `"state":"active"`, `"state":"revoked"`},
	}
	for _, c := range cases {
		start := time.Now()
		subject := c.do()
		p := auditPage(t, s, auditor, "action="+url.QueryEscape(c.action)+"&subject="+url.QueryEscape(subject)+"&limit=1")
		if len(p.Entries) != 1 {
			t.Errorf("%s: no entry %s on %s", c.name, c.action, subject)
			continue
		}
		e := p.Entries[0]
		if e.Actor.Username != c.who || e.Actor.AccountID == 0 || e.Actor.Role == "" {
			t.Errorf("%s: actor %+v, want %s", c.name, e.Actor, c.who)
		}
		if e.Reason != c.reason {
			t.Errorf("%s: reason %q, want %q", c.name, e.Reason, c.reason)
		}
		if e.At.Before(start.Add(-time.Second)) || e.RequestID == "" {
			t.Errorf("%s: at %v, request %q", c.name, e.At, e.RequestID)
		}
		if _, off := e.At.Zone(); off != 8*3600 {
			t.Errorf("%s: at %v not in business time", c.name, e.At)
		}
		for _, side := range []struct {
			name string
			raw  json.RawMessage
			want string
		}{{"before", e.Before, c.before}, {"after", e.After, c.after}} {
			switch {
			case side.want == "-" && len(side.raw) != 0:
				t.Errorf("%s: %s is %s, want none", c.name, side.name, side.raw)
			case side.want != "-" && !strings.Contains(string(side.raw), side.want):
				t.Errorf("%s: %s is %s, want it to hold %s", c.name, side.name, side.raw, side.want)
			}
		}
		// No secret or personal detail rides along.
		for _, secret := range []string{"password", "11010519491231002X", "教师资格证"} {
			if strings.Contains(string(e.Before)+string(e.After), secret) {
				t.Errorf("%s: the entry holds %q: %s %s", c.name, secret, e.Before, e.After)
			}
		}
	}
}

// TestAuditRoute: only audit:read reads the trail; the filters select,
// paging walks it newest first with a cursor, and bad filters are 422.
func TestAuditRoute(t *testing.T) {
	s := newTestServer(t)
	admin, auditor := s.token(t, identity.OperatorAdmin), s.token(t, identity.OperatorAuditor)
	for _, role := range identity.Roles {
		res := s.do(t, "GET", "/api/v1/audit", s.token(t, role), nil)
		want := http.StatusForbidden
		if identity.Allowed(role, identity.AuditRead) {
			want = http.StatusOK
		}
		if res.status != want {
			t.Errorf("%s reads the trail: %d, want %d", role, res.status, want)
		}
	}
	if res := s.do(t, "GET", "/api/v1/audit", "", nil); res.status != http.StatusUnauthorized {
		t.Errorf("anonymous reads the trail: %d", res.status)
	}

	// Five changes of the refund table by the admin.
	for i := range 5 {
		body := fmt.Sprintf(`{"tiers":[{"min_hours_before":0,"basis_points":%d}],"minimum_fen":0,"round_to_fen":50}`, 100*(i+1))
		if res := s.do(t, "PUT", "/api/v1/fees/refund", admin, strings.NewReader(body)); res.status != http.StatusOK {
			t.Fatalf("put fees: %d %s", res.status, res.body)
		}
	}
	var me identity.Account
	bnJSON(t, s.do(t, "GET", "/api/v1/me", admin, nil), &me)

	var walked []int64
	q := "action=fees&actor=" + strconv.FormatInt(me.ID, 10) + "&limit=2"
	p := auditPage(t, s, auditor, q)
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("paging does not end")
		}
		for _, e := range p.Entries {
			walked = append(walked, e.ID)
			if e.Action != "fees.refund.set" || e.Actor.AccountID != me.ID {
				t.Errorf("filtered page holds %+v", e)
			}
		}
		if p.NextBeforeID == 0 {
			break
		}
		p = auditPage(t, s, auditor, q+"&before_id="+strconv.FormatInt(p.NextBeforeID, 10))
	}
	if len(walked) != 5 {
		t.Fatalf("walked %v, want the 5 changes", walked)
	}
	for i := 1; i < len(walked); i++ {
		if walked[i] >= walked[i-1] {
			t.Errorf("not newest first: %v", walked)
		}
	}
	// The newest entry's before is the fourth table, its after the fifth.
	newest := auditPage(t, s, auditor, "subject=fee_table:refund&limit=1").Entries[0]
	if !strings.Contains(string(newest.Before), `"basis_points":400`) || !strings.Contains(string(newest.After), `"basis_points":500`) {
		t.Errorf("newest entry %s → %s", newest.Before, newest.After)
	}

	// Time window: nothing before the first change, all five up to now.
	first := auditPage(t, s, auditor, "subject=fee_table:refund&limit=5").Entries[4]
	until := first.At.Format(time.RFC3339Nano)
	if got := auditPage(t, s, auditor, "subject=fee_table:refund&until="+url.QueryEscape(until)).Entries; len(got) != 0 {
		t.Errorf("until the first change: %d entries", len(got))
	}
	if got := auditPage(t, s, auditor, "subject=fee_table:refund&from="+url.QueryEscape(until)).Entries; len(got) != 5 {
		t.Errorf("from the first change: %d entries", len(got))
	}
	// Another actor, another subject: nothing.
	if got := auditPage(t, s, auditor, "action=fees&actor=999999").Entries; len(got) != 0 {
		t.Errorf("unknown actor: %d entries", len(got))
	}
	for _, bad := range []string{"limit=0", "limit=1001", "from=yesterday", "before_id=-1",
		"from=2026-05-02T00:00:00Z&until=2026-05-01T00:00:00Z"} {
		if res := s.do(t, "GET", "/api/v1/audit?"+bad, auditor, nil); res.status != http.StatusUnprocessableEntity {
			t.Errorf("audit?%s: %d %s", bad, res.status, res.body)
		}
	}
}

// TestAuditFailureIsNotAcknowledged: when the trail cannot be written, a
// change is answered with an error, never 200.
func TestAuditFailureIsNotAcknowledged(t *testing.T) {
	s := newTestServer(t)
	if s.app.Engine != "sqlite" {
		t.Skip("the test breaks the SQLite file's audit table")
	}
	raw, err := sql.Open("sqlite", s.app.Where)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec(`CREATE TRIGGER audit_down BEFORE INSERT ON audit_entries BEGIN SELECT RAISE(ABORT, 'audit is down'); END`); err != nil {
		t.Fatal(err)
	}
	admin := s.token(t, identity.OperatorAdmin)
	res := s.do(t, "PUT", "/api/v1/fees/change", admin, strings.NewReader(`{"tiers":[{"min_hours_before":0,"basis_points":300}],"minimum_fen":0,"round_to_fen":50}`))
	if res.status != http.StatusInternalServerError {
		t.Fatalf("change without its entry answered %d %s", res.status, res.body)
	}
}
