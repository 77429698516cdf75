package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"piao/internal/identity"
	"piao/internal/ridemore"
)

// TestRideMoreIssueOverHTTP: the job's refusals reach the caller with
// their reasons; only benefit editors may run it. (The job itself is
// tested in internal/ridemore, with a clock inside the issue window.)
func TestRideMoreIssueOverHTTP(t *testing.T) {
	s := newTestServer(t)
	admin := s.token(t, identity.OperatorAdmin)
	rule, _ := json.Marshal(ridemore.Ningbo("nb", 1, 1))
	// A month long past: its issue window is closed.
	past := time.Now().AddDate(0, -3, 0).Format("2006-01")
	for _, c := range []struct {
		body   string
		status int
		reason string
	}{
		{fmt.Sprintf(`{"rule":%s,"month":%q,"feed":"nbmetro"}`, rule, past), http.StatusConflict, "issue_window_closed"},
		{fmt.Sprintf(`{"rule":%s,"month":"2999-01","feed":"nbmetro"}`, rule), http.StatusConflict, "issue_too_early"},
		{`{"rule":{"id":"Bad ID","kind":"ningbo_count","name_zh":"x","name_en":"x"},"month":"2026-11","feed":"nbmetro"}`, http.StatusUnprocessableEntity, "bad_rule_id"},
		{fmt.Sprintf(`{"rule":%s,"month":"2026-13","feed":"nbmetro"}`, rule), http.StatusUnprocessableEntity, ""},
	} {
		res := s.do(t, "POST", "/api/v1/ridemore/issue", admin, strings.NewReader(c.body))
		if res.status != c.status || !strings.Contains(string(res.body), c.reason) {
			t.Errorf("%s: %d %s", c.body, res.status, res.body)
		}
	}
	body := fmt.Sprintf(`{"rule":%s,"month":%q,"feed":"nbmetro"}`, rule, past)
	if res := s.do(t, "POST", "/api/v1/ridemore/issue", s.token(t, identity.Passenger), strings.NewReader(body)); res.status != http.StatusForbidden {
		t.Fatalf("passenger: %d", res.status)
	}
}
