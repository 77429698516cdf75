package httpapi_test

import (
	"context"
	"fmt"
	"testing"
)

// The monthly statement routes' {month} names no merchant resource: a
// merchant asking for a month gets its own statement of that month, so
// the matrix fills it alike for both merchants and checks that A's answer
// holds nothing of B instead of expecting 404 (tenancyOwnOnly).
func init() {
	month := func(_ *testing.T, _ *merchantFixture) string { return "2026-03" }
	for _, p := range []string{"/api/v1/merchant/statements/{month}", "/api/v1/merchant/statements/{month}/export"} {
		tenancyParams[tenancyParam{p, "month"}] = month
		tenancyOwnOnly[p] = "the caller's own statement of a month: the month names nothing of a merchant"
	}
	tenancyBlind["/api/v1/merchant/statements/{month}/export"] = "a spreadsheet of the caller's postings, without its party"
}

// reconcileTimePaths runs a reconciliation and returns answering paths of
// the reconciliation and statement routes, for TestAnswersGiveBusinessTime.
func reconcileTimePaths(t *testing.T, s *testServer) map[string]string {
	t.Helper()
	run, err := s.app.Reconciliation().Reconcile(context.Background(), "2026-03-01", nil, "test")
	if err != nil {
		t.Fatal(err)
	}
	return map[string]string{
		"/api/v1/reconciliations/{id}":                     fmt.Sprintf("/api/v1/reconciliations/%d", run.ID),
		"/api/v1/reconciliations/{id}/export":              fmt.Sprintf("/api/v1/reconciliations/%d/export?format=xlsx", run.ID),
		"/api/v1/merchant/statements/{month}":              "/api/v1/merchant/statements/2026-03",
		"/api/v1/merchant/statements/{month}/export":       "/api/v1/merchant/statements/2026-03/export",
		"/api/v1/merchants/{id}/statements/{month}":        "/api/v1/merchants/1/statements/2026-03",
		"/api/v1/merchants/{id}/statements/{month}/export": "/api/v1/merchants/1/statements/2026-03/export?format=csv&lang=en",
	}
}
