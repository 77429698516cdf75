package httpapi_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"piao/internal/httpapi"
	"piao/internal/identity"
	"piao/internal/ridemore"
)

// TestServicesOffAnswerUnavailable serves the API of a process that runs
// only identity and the network catalogue: it has the same route table as
// a process running every service (so its OpenAPI document is the same),
// and each group of routes whose service does not run answers 503 with the
// group's reason.
func TestServicesOffAnswerUnavailable(t *testing.T) {
	full := newTestServer(t)
	off := httpapi.New(httpapi.Deps{Version: "test", Catalog: full.app.Catalog, Identity: full.app.Identity})
	key := func(r httpapi.Route) string {
		return fmt.Sprintf("%s %s %s %v", r.Method, r.Path, r.Permission, r.HasBody)
	}
	want, got := []string{}, []string{}
	for _, r := range full.api.Routes() {
		want = append(want, key(r))
	}
	for _, r := range off.Routes() {
		got = append(got, key(r))
	}
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("route table without services:\n%s\nwith every service:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	ts := httptest.NewServer(off.Handler())
	defer ts.Close()
	rule, _ := json.Marshal(ridemore.Ningbo("nb", 1, 1))
	for _, c := range []struct {
		method, path string
		perm         identity.Permission
		body         string
		reason       string
	}{
		{"GET", "/api/v1/remaining?from=NCG&to=BXP", identity.Public, "", "booking_unavailable"},
		{"GET", "/api/v1/recommendations?from=NCG&to=BXP", identity.Public, "", "booking_unavailable"},
		{"GET", "/api/v1/orders", identity.OrdersOwn, "", "booking_unavailable"},
		{"POST", "/api/v1/orders/1/cancel", identity.OrdersOwn, "{}", "booking_unavailable"},
		{"GET", "/api/v1/booking/policy", identity.Public, "", "booking_unavailable"},
		{"GET", "/api/v1/waitlist/1", identity.OrdersOwn, "", "booking_unavailable"},
		{"GET", "/api/v1/governance/rules", identity.GovernanceRead, "", "governance_unavailable"},
		{"GET", "/api/v1/campaigns/open", identity.Public, "", "benefits_unavailable"},
		{"GET", "/api/v1/benefit-products/1", identity.BenefitsRead, "", "benefits_unavailable"},
		{"GET", "/api/v1/metro-trips/t1", identity.MetroRead, "", "metro_unavailable"},
		{"POST", "/api/v1/gate/taps/stream", identity.TapsWrite, "", "metro_unavailable"},
		{"POST", "/api/v1/ridemore/issue", identity.BenefitsEdit, fmt.Sprintf(`{"rule":%s,"month":"2026-01","feed":"nbmetro"}`, rule), "metro_unavailable"},
		{"GET", "/api/v1/subsidy-schemes", identity.Public, "", "subsidy_unavailable"},
		{"GET", "/api/v1/subsidy-enrolments/1", identity.SubsidyRead, "", "subsidy_unavailable"},
	} {
		t.Run(c.method+" "+c.path, func(t *testing.T) {
			req, err := http.NewRequest(c.method, ts.URL+c.path, strings.NewReader(c.body))
			if err != nil {
				t.Fatal(err)
			}
			if c.body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			if c.perm != identity.Public {
				req.Header.Set("Authorization", "Bearer "+full.token(t, roleWith(t, c.perm)))
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body)
			p := decodeProblem(t, response{res.StatusCode, res.Header, b})
			if res.StatusCode != http.StatusServiceUnavailable || p.Code != "unavailable" || p.Reason != c.reason {
				t.Errorf("got %d %s/%s, want 503 unavailable/%s: %s", res.StatusCode, p.Code, p.Reason, c.reason, b)
			}
		})
	}

	// The ride-more job needs metro and benefits both.
	metroOnly := httpapi.New(httpapi.Deps{Version: "test", Catalog: full.app.Catalog, Identity: full.app.Identity, Metro: full.app.Metro})
	mts := httptest.NewServer(metroOnly.Handler())
	defer mts.Close()
	req, err := http.NewRequest("POST", mts.URL+"/api/v1/ridemore/issue", strings.NewReader(fmt.Sprintf(`{"rule":%s,"month":"2026-01","feed":"nbmetro"}`, rule)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+full.token(t, roleWith(t, identity.BenefitsEdit)))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if p := decodeProblem(t, response{res.StatusCode, res.Header, b}); res.StatusCode != http.StatusServiceUnavailable || p.Reason != "benefits_unavailable" {
		t.Errorf("ride-more without benefits: %d %s", res.StatusCode, b)
	}
}

// roleWith returns a role that holds perm.
func roleWith(t *testing.T, perm identity.Permission) identity.Role {
	t.Helper()
	for _, r := range identity.Roles {
		if identity.Allowed(r, perm) {
			return r
		}
	}
	t.Fatalf("no role holds %s", perm)
	return ""
}
