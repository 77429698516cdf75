package console_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"piao/internal/abuse"
	"piao/internal/app/apptest"
	"piao/internal/console"
	"piao/internal/identity"
)

// newLimitedEnv is newEnv with the abuse limits cfg.
func newLimitedEnv(t *testing.T, cfg abuse.Config) *env {
	t.Helper()
	a := apptest.NewDemo(t)
	a.Guard = abuse.New(cfg, nil)
	var c *console.Console
	srv, _ := apptest.Serve(t, a, func(mux *http.ServeMux) {
		c = console.New(console.Deps{Identity: a.Identity, Catalog: a.Catalog, Booking: a.Booking, Governance: a.Governance, Benefits: a.Benefits, Metro: a.Metro, Subsidy: a.Subsidy, Version: "test", Guard: a.Guard})
		c.Mount(mux)
	})
	return &env{app: a, console: c, srv: srv, today: apptest.Today()}
}

// wantRetryAfter fails unless resp is 429 with a Retry-After in whole seconds.
func wantRetryAfter(t *testing.T, resp *http.Response, body string) {
	t.Helper()
	wantStatus(t, resp, body, http.StatusTooManyRequests)
	if secs, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || secs < 1 {
		t.Errorf("Retry-After %q, want whole seconds", resp.Header.Get("Retry-After"))
	}
}

// TestConsoleLoginLimits: the login form counts against the login limit
// per IP (429 page with Retry-After and the API's text) and shows the lock
// with until when, in both languages.
func TestConsoleLoginLimits(t *testing.T) {
	cfg := abuse.Defaults()
	cfg.Rules[abuse.Login] = abuse.Rule{abuse.PerIP: {Events: 7, Per: time.Hour}, abuse.PerAccount: {Events: 10, Per: time.Hour}}
	e := newLimitedEnv(t, cfg)
	if _, err := e.app.Identity.CreateAccount(t.Context(), identity.NewAccount{Username: "victim", Role: identity.Passenger, Password: "correct horse"}); err != nil {
		t.Fatal(err)
	}
	c := e.client(t)
	try := func(name, password string) (*http.Response, string) {
		return c.post("/login", url.Values{"csrf": {c.csrfFor("/login")}, "username": {name}, "password": {password}})
	}
	for i := 1; i <= 4; i++ {
		resp, body := try("victim", "wrong")
		wantStatus(t, resp, body, http.StatusUnauthorized)
	}
	resp, body := try("victim", "wrong")
	wantRetryAfter(t, resp, body)
	wantContains(t, body, "账号已锁定至", "北京时间", `name="username"`) // the form again, with the lock
	resp, body = try("victim", "correct horse")
	wantRetryAfter(t, resp, body)
	wantContains(t, body, "账号已锁定至")
	c.hdr.Set("Accept-Language", "en")
	resp, body = try("victim", "correct horse")
	wantRetryAfter(t, resp, body)
	wantContains(t, body, "locked until", "Beijing time")
	// Seven tries from this IP so far, its whole bucket: the eighth is refused before anything else.
	resp, body = try("someone", "x")
	wantRetryAfter(t, resp, body)
	wantContains(t, body, "too many requests; try again in")
}

// TestConsoleFormLimit: an H5 form with a limit (code redemption) answers
// its account's second try with the 429 page and Retry-After.
func TestConsoleFormLimit(t *testing.T) {
	cfg := abuse.Defaults().Scaled(100)
	cfg.Rules[abuse.Redeem] = abuse.Rule{abuse.PerAccount: {Events: 1, Per: time.Hour}}
	e := newLimitedEnv(t, cfg)
	c := e.client(t)
	c.login(loginFor(t, identity.Passenger))
	csrf := c.csrfFor("/h5/redeem")
	resp, body := c.post("/h5/redeem", url.Values{"csrf": {csrf}, "code": {"7K2QM-X9D4A-P3HVR"}})
	if resp.StatusCode == http.StatusTooManyRequests {
		t.Fatalf("first redemption refused:\n%s", body)
	}
	resp, body = c.post("/h5/redeem", url.Values{"csrf": {csrf}, "code": {"7K2QM-X9D4A-P3HVR"}})
	wantRetryAfter(t, resp, body)
	wantContains(t, body, "请求过于频繁")
}

// TestLimitsPage: operators who may read accounts see every limit with
// its value and default; a passenger may not open the page.
func TestLimitsPage(t *testing.T) {
	cfg := abuse.Defaults()
	if err := cfg.Set("redeem.ip=5/1m"); err != nil {
		t.Fatal(err)
	}
	e := newLimitedEnv(t, cfg)
	c := e.client(t)
	c.login(loginFor(t, identity.OperatorAuditor))
	resp, body := c.get("/limits")
	wantStatus(t, resp, body, http.StatusOK)
	for _, s := range cfg.Settings() {
		wantContains(t, body, `data-limit="`+s.Name+`"`)
	}
	row := body[strings.Index(body, `data-limit="redeem.ip"`):]
	row = row[:strings.Index(row, "</tr>")]
	wantContains(t, row, "<code>5/1m0s</code>", "<code>30/1m0s</code>")
	wantContains(t, body, "所有进程共享", "每个进程")
	p := e.client(t)
	p.login(loginFor(t, identity.Passenger))
	resp, body = p.get("/limits")
	wantStatus(t, resp, body, http.StatusForbidden)
}
