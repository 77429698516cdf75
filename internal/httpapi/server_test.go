package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"piao/internal/app"
	"piao/internal/app/apptest"
	"piao/internal/demo"
	"piao/internal/httpapi"
	"piao/internal/identity"
	"piao/internal/network"
	"piao/internal/problem"
	"piao/internal/ridecode"
)

// testServer is a full piao on a fresh SQLite database with demo data.
type testServer struct {
	*httptest.Server
	app *app.App
	api *httpapi.Server
	// rides signs the ride codes of network nbmetro the server trusts.
	rides *ridecode.Issuer
}

func newTestServer(t *testing.T) *testServer {
	t.Helper()
	a := apptest.NewDemo(t)
	rides := trustRideCodes(t, a)
	ts, srv := apptest.Serve(t, a, nil)
	return &testServer{Server: ts, app: a, api: srv, rides: rides}
}

// token issues a fresh API token for the demo login of role.
func (s *testServer) token(t *testing.T, role identity.Role) string {
	t.Helper()
	for _, l := range demo.Logins {
		if l.Role == role {
			acct, err := s.app.Identity.Store.AccountByLogin(context.Background(), l.Username)
			if err != nil {
				t.Fatal(err)
			}
			secret, err := s.app.Identity.Issue(context.Background(), acct.ID, identity.APIToken)
			if err != nil {
				t.Fatal(err)
			}
			return secret
		}
	}
	t.Fatalf("no demo login for %s", role)
	return ""
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (s *testServer) do(t *testing.T, method, path, token string, body io.Reader, header ...string) response {
	t.Helper()
	req, err := http.NewRequest(method, s.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{res.StatusCode, res.Header, b}
}

// samplePath fills a route's path parameters with values that exist in the demo data.
func samplePath(path string) string {
	r := strings.NewReplacer("{id}", "cr:NCG", "{number}", "Z66", "{feed}", "nbmetro", "{code}", "YW")
	if strings.HasPrefix(path, "/api/v1/lines/") {
		r = strings.NewReplacer("{id}", "nbmetro:L1")
	}
	if strings.HasPrefix(path, "/api/v1/accounts/") {
		r = strings.NewReplacer("{id}", "1")
	}
	return r.Replace(path)
}

// sampleQuery gives routes with required query parameters valid ones.
var sampleQuery = map[string]string{
	"/api/v1/stations":                  "?q=NCG",
	"/api/v1/trains/{number}/fares":     "?from=NCG&to=BXP",
	"/api/v1/metro/{feed}/fare":         "?from=nbmetro:GL&to=nbmetro:QSP",
	"/api/v1/trains/{number}/timetable": "",
}

// demoPrincipal is the principal of the demo login of role (anonymous for
// ""): what the server judges its permissions by, merchant and grants
// included.
func (s *testServer) demoPrincipal(t *testing.T, role identity.Role) identity.Principal {
	t.Helper()
	if role == "" {
		return identity.Principal{}
	}
	for _, l := range demo.Logins {
		if l.Role == role {
			acct, err := s.app.Identity.Store.AccountByLogin(context.Background(), l.Username)
			if err != nil {
				t.Fatal(err)
			}
			return identity.Principal{Account: acct}
		}
	}
	t.Fatalf("no demo login for %s", role)
	return identity.Principal{}
}

// TestEveryRouteEveryRole walks the route table × every role and anonymous:
// a caller without the route's permission is refused (401 anonymous, 403
// otherwise) and a caller with it is let through. Whether the demo login
// of a role has the permission is its principal's Can: the demo staff
// account holds only the grants its admin gave it.
func TestEveryRouteEveryRole(t *testing.T) {
	s := newTestServer(t)
	routes := s.api.Routes()
	if len(routes) < 15 {
		t.Fatalf("only %d routes registered", len(routes))
	}
	roles := append([]identity.Role{""}, identity.Roles...)
	principals := map[identity.Role]identity.Principal{}
	for _, role := range roles {
		principals[role] = s.demoPrincipal(t, role)
	}
	for _, rt := range routes {
		if rt.Permission == "" {
			t.Errorf("%s %s declares no permission", rt.Method, rt.Path)
			continue
		}
		for _, role := range roles {
			name := string(role)
			if name == "" {
				name = "anonymous"
			}
			t.Run(rt.Method+" "+rt.Path+" as "+name, func(t *testing.T) {
				token := ""
				if role != "" {
					token = s.token(t, role)
				}
				var body io.Reader
				if rt.Method != http.MethodGet {
					body = strings.NewReader("{}")
				}
				res := s.do(t, rt.Method, samplePath(rt.Path)+sampleQuery[rt.Path], token, body)
				allowed := principals[role].Can(rt.Permission)
				switch {
				case !allowed && role == "" && res.status != http.StatusUnauthorized:
					t.Errorf("anonymous got %d, want 401: %s", res.status, res.body)
				case !allowed && role != "" && res.status != http.StatusForbidden:
					t.Errorf("%s got %d, want 403: %s", role, res.status, res.body)
				case allowed && (res.status == http.StatusUnauthorized || res.status == http.StatusForbidden || res.status >= 500):
					t.Errorf("%s allowed but got %d: %s", name, res.status, res.body)
				}
			})
		}
	}
}

func decodeProblem(t *testing.T, res response) problem.Problem {
	t.Helper()
	if ct := res.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		t.Fatalf("status %d with content type %q, want problem+json: %s", res.status, ct, res.body)
	}
	var p problem.Problem
	if err := json.Unmarshal(res.body, &p); err != nil {
		t.Fatalf("problem body: %v: %s", err, res.body)
	}
	if p.Status != res.status || p.Code == "" || p.Reason == "" || p.MessageZH == "" || p.MessageEN == "" || p.RequestID == "" {
		t.Fatalf("incomplete problem: %+v", p)
	}
	return p
}

// TestBadInputNeverFails walks every route with malformed JSON, wrong types,
// unknown IDs, odd Unicode and oversized bodies: each answer is a 4xx
// problem+json, never a 5xx.
func TestBadInputNeverFails(t *testing.T) {
	s := newTestServer(t)
	admin := s.token(t, identity.OperatorAdmin)
	big := bytes.Repeat([]byte("x"), httpapi.MaxBodyBytes+10)
	bodies := map[string]string{
		"malformed":   `{"username": "a",`,
		"wrong types": `{"username": 5, "password": true, "fen": "ten", "seats": "none", "role": [1]}`,
		"array":       `[1,2,3]`,
		"odd unicode": `{"username": "\u0000\ud800x‮", "password": "𝕡𝕒𝕤𝕤", "code": "\u202e"}`,
		"huge number": `{"fen": 1e400}`,
		"oversized":   `{"username": "` + string(big) + `"}`,
	}
	paths := map[string][]string{
		"unknown ids": {"{id}", "nope", "{number}", "X999", "{feed}", "nofeed", "{code}", "ZZ"},
		"odd unicode": {"{id}", "%E2%80%AE%00", "{number}", "%F0%9F%9A%84", "{feed}", "%FF", "{code}", "%E2%80%8B"},
	}
	for _, rt := range s.api.Routes() {
		for pname, repl := range paths {
			path := strings.NewReplacer(repl...).Replace(rt.Path)
			if strings.HasPrefix(rt.Path, "/api/v1/accounts/") {
				path = "/api/v1/accounts/99999"
			}
			for _, q := range []string{"", "?q=%00&limit=abc&date=2026-02-30&from=%FF&to=", "?limit=-1&date=yesterday"} {
				t.Run(rt.Method+" "+rt.Path+" "+pname+q, func(t *testing.T) {
					var body io.Reader
					if rt.Method != http.MethodGet {
						body = strings.NewReader("{}")
					}
					res := s.do(t, rt.Method, path+q, admin, body)
					if res.status >= 500 {
						t.Fatalf("got %d: %s", res.status, res.body)
					}
					if res.status >= 400 {
						decodeProblem(t, res)
					}
				})
			}
		}
		if !rt.HasBody {
			// Operations without a body ignore one; they were walked above.
			continue
		}
		for bname, body := range bodies {
			if o := s.api.OpenAPI().Paths[rt.Path].Post; bname == "oversized" && o != nil && o.MaxBodyBytes > httpapi.MaxBodyBytes {
				body = strings.Repeat("x", int(o.MaxBodyBytes)+10) // a route with its own, larger limit
			}
			t.Run(rt.Method+" "+rt.Path+" body "+bname, func(t *testing.T) {
				res := s.do(t, rt.Method, samplePath(rt.Path), admin, strings.NewReader(body))
				if res.status < 400 || res.status >= 500 {
					t.Fatalf("got %d, want 4xx: %s", res.status, res.body)
				}
				p := decodeProblem(t, res)
				if bname == "oversized" && res.status != http.StatusRequestEntityTooLarge {
					t.Errorf("oversized body: %d %+v", res.status, p)
				}
			})
		}
	}
}

func TestProblemLanguageAndRequestID(t *testing.T) {
	s := newTestServer(t)
	res := s.do(t, "GET", "/api/v1/stations/cr:NOPE", "", nil, "X-Request-Id", "trace-123")
	p := decodeProblem(t, res)
	if res.status != 404 || p.Code != "not_found" || p.Reason != "station_not_found" || p.RequestID != "trace-123" || p.Detail != p.MessageZH {
		t.Errorf("zh problem: %d %+v", res.status, p)
	}
	res = s.do(t, "GET", "/api/v1/stations/cr:NOPE", "", nil, "Accept-Language", "en-US,en;q=0.9", "X-Request-Id", "bad id with spaces")
	p = decodeProblem(t, res)
	if p.Detail != p.MessageEN || p.RequestID == "bad id with spaces" || res.header.Get("X-Request-Id") != p.RequestID {
		t.Errorf("en problem: %+v", p)
	}
	res = s.do(t, "GET", "/api/v1/nothing-here", "", nil)
	if p := decodeProblem(t, res); res.status != 404 || p.Reason != "route_not_found" {
		t.Errorf("unknown route: %d %+v", res.status, p)
	}
}

func TestLoginTokenLogout(t *testing.T) {
	s := newTestServer(t)
	res := s.do(t, "POST", "/api/v1/auth/login", "", strings.NewReader(`{"username":"passenger","password":"wrong-password"}`))
	if p := decodeProblem(t, res); res.status != 401 || p.Reason != "bad_credentials" {
		t.Fatalf("wrong password: %d %+v", res.status, p)
	}
	res = s.do(t, "POST", "/api/v1/auth/login", "", strings.NewReader(`{"username":"passenger","password":"piao-passenger-2026"}`))
	var tok struct {
		Token   string           `json:"token"`
		Account identity.Account `json:"account"`
	}
	if err := json.Unmarshal(res.body, &tok); err != nil || res.status != 200 || tok.Account.Role != identity.Passenger {
		t.Fatalf("login: %d %s", res.status, res.body)
	}
	if bytes.Contains(res.body, []byte("argon2")) {
		t.Fatal("login response leaks the password hash")
	}
	if res := s.do(t, "GET", "/api/v1/me", tok.Token, nil); res.status != 200 || !bytes.Contains(res.body, []byte(`"passenger"`)) {
		t.Fatalf("me: %d %s", res.status, res.body)
	}
	res = s.do(t, "POST", "/api/v1/auth/token", tok.Token, strings.NewReader(`{"password":"piao-passenger-2026"}`))
	var second struct{ Token string }
	json.Unmarshal(res.body, &second)
	if res.status != 200 || second.Token == "" || second.Token == tok.Token {
		t.Fatalf("token: %d %s", res.status, res.body)
	}
	if res := s.do(t, "POST", "/api/v1/auth/logout", tok.Token, nil); res.status != 204 {
		t.Fatalf("logout: %d %s", res.status, res.body)
	}
	if res := s.do(t, "GET", "/api/v1/me", tok.Token, nil); res.status != 401 || decodeProblem(t, res).Reason != "invalid_token" {
		t.Fatalf("revoked token still works: %d %s", res.status, res.body)
	}
	if res := s.do(t, "GET", "/api/v1/me", second.Token, nil); res.status != 200 {
		t.Fatalf("the second token died with the first: %d", res.status)
	}
	if res := s.do(t, "GET", "/api/v1/me", "", nil, "Authorization", "Basic eDp5"); res.status != 401 || decodeProblem(t, res).Reason != "bad_authorization" {
		t.Fatalf("basic auth: %d %s", res.status, res.body)
	}
	if res := s.do(t, "GET", "/api/v1/me", "", nil); res.status != 401 || decodeProblem(t, res).Reason != "login_required" {
		t.Fatalf("anonymous: %d %s", res.status, res.body)
	}
	if res := s.do(t, "GET", "/api/v1/accounts/1", second.Token, nil); res.status != 403 || decodeProblem(t, res).Reason != "permission_denied" {
		t.Fatalf("passenger reads accounts: %d %s", res.status, res.body)
	}
}

func TestNetworkEndpoints(t *testing.T) {
	s := newTestServer(t)
	for _, q := range []string{"NCG", "ncg", "nanch", "nc", "南昌", "Nanchang"} {
		res := s.do(t, "GET", "/api/v1/stations?q="+urlQuery(q), "", nil)
		var out struct{ Stations []network.Station }
		json.Unmarshal(res.body, &out)
		if res.status != 200 || len(out.Stations) == 0 || out.Stations[0].Code != "NCG" {
			t.Errorf("search %q: %d %s", q, res.status, res.body)
		}
	}
	date := apptest.Today().AddDays(1)
	res := s.do(t, "GET", "/api/v1/trains/Z66/timetable?date="+date.String(), "", nil)
	var tt struct{ Timetables []network.Timetable }
	json.Unmarshal(res.body, &tt)
	if res.status != 200 || len(tt.Timetables) != 1 {
		t.Fatalf("timetable: %d %s", res.status, res.body)
	}
	z := tt.Timetables[0]
	if z.Stops[0].Depart.Format("15:04") != "20:06" || z.Stops[1].Arrive.Format("15:04") != "07:32" || z.Stops[1].DayOffset != 1 {
		t.Errorf("Z66: %+v", z.Stops)
	}
	if res := s.do(t, "GET", "/api/v1/trains/Z66/timetable?date="+date.AddDays(60).String(), "", nil); res.status != 404 || decodeProblem(t, res).Reason != "train_not_running" {
		t.Errorf("date outside the calendar: %d %s", res.status, res.body)
	}
	res = s.do(t, "GET", "/api/v1/trains/T168/fares?from=JJG&to=BXP", "", nil)
	var fq struct{ Quotes []network.FareQuote }
	json.Unmarshal(res.body, &fq)
	if res.status != 200 || len(fq.Quotes) != 1 || len(fq.Quotes[0].Fares) != 5 {
		t.Fatalf("fares: %d %s", res.status, res.body)
	}
	if res := s.do(t, "GET", "/api/v1/trains/T168/fares?from=BXP&to=JJG", "", nil); res.status != 404 {
		t.Errorf("fares against the direction of travel: %d", res.status)
	}
	res = s.do(t, "GET", "/api/v1/metro/nbmetro/fare?from=nbmetro:GQX&to=nbmetro:QSP", "", nil)
	var mq network.MetroQuote
	json.Unmarshal(res.body, &mq)
	if res.status != 200 || mq.Fen != 500 || mq.Path.Transfers != 1 {
		t.Errorf("metro fare: %d %s", res.status, res.body)
	}
	// An operator edits a fare; a passenger cannot.
	fare := `{"service_id":"cr:Z66","from_station_id":"cr:NCG","to_station_id":"cr:BXP","seat_class":"hard_sleeper","berth":"lower","fen":30000}`
	if res := s.do(t, "PUT", "/api/v1/fares", s.token(t, identity.Passenger), strings.NewReader(fare)); res.status != 403 {
		t.Errorf("passenger edits fare: %d", res.status)
	}
	if res := s.do(t, "PUT", "/api/v1/fares", s.token(t, identity.OperatorAdmin), strings.NewReader(fare)); res.status != 200 {
		t.Errorf("admin edits fare: %d %s", res.status, res.body)
	}
	res = s.do(t, "GET", "/api/v1/trains/Z66/fares?from=NCG&to=BXP", "", nil)
	if !bytes.Contains(res.body, []byte(`"berth":"lower","fen":30000`)) {
		t.Errorf("edited fare not served: %s", res.body)
	}
}

func TestHealthReadyMetricsOpenAPI(t *testing.T) {
	s := newTestServer(t)
	for path, want := range map[string]string{"/healthz": `"ok"`, "/readyz": `"ready"`, "/api/v1/openapi.json": `"openapi":"3.1`, "/api/v1/docs": "/api/v1/stations"} {
		res := s.do(t, "GET", path, "", nil)
		if res.status != 200 || !bytes.Contains(res.body, []byte(want)) {
			t.Errorf("%s: %d %.200s", path, res.status, res.body)
		}
	}
	res := s.do(t, "GET", "/metrics", "", nil)
	if res.status != 200 || !bytes.Contains(res.body, []byte(`piao_http_requests_total{method="GET",route="GET /healthz",status="200"}`)) {
		t.Errorf("metrics: %d %.2000s", res.status, res.body)
	}
	s.app.Close()
	if res := s.do(t, "GET", "/readyz", "", nil); res.status != 503 {
		t.Errorf("readyz with the database closed: %d", res.status)
	}
}

// TestBuildingTheAPIPrintsNothing builds the API with stderr captured:
// huma reports there, and only there, a response type it cannot give a
// "$schema" link (a struct embedding a type with methods), and then sends
// that type's answers without the link. Building the API must print
// nothing. The test swaps the process's stderr, so it must never run in
// parallel with other tests.
func TestBuildingTheAPIPrintsNothing(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	printed := make(chan []byte)
	go func() {
		b, _ := io.ReadAll(r)
		printed <- b
	}()
	stderr := os.Stderr
	os.Stderr = w
	func() {
		defer func() { os.Stderr = stderr }()
		httpapi.New(httpapi.Deps{Version: "test"})
	}()
	w.Close()
	if b := <-printed; len(b) > 0 {
		t.Errorf("building the API printed:\n%s", b)
	}
}
