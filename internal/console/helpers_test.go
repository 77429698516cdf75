package console_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"piao/internal/app"
	"piao/internal/app/apptest"
	"piao/internal/console"
	"piao/internal/demo"
	"piao/internal/distribution"
	"piao/internal/identity"
	"piao/internal/network"
)

// env is a fresh piao with demo data and the console mounted on the full server.
type env struct {
	app     *app.App
	console *console.Console
	srv     *httptest.Server
	today   network.Date
}

// newEnv opens a SQLite app in a temporary directory, seeds the demo,
// starts booking and the payment sandbox and serves the full HTTP server.
// extra, if given, adds routes after the console's.
func newEnv(t *testing.T, extra ...func(*console.Console, *http.ServeMux)) *env {
	t.Helper()
	return newEnvWith(t, nil, extra...)
}

// newEnvWith is newEnv with options for apptest.NewDemo (another engine).
func newEnvWith(t *testing.T, opts []apptest.Option, extra ...func(*console.Console, *http.ServeMux)) *env {
	t.Helper()
	a := apptest.NewDemo(t, opts...)
	var c *console.Console
	a.PageBodyLimits = console.BodyLimits()
	// Serve starts booking before it builds the server, so a.Booking is set here.
	srv, _ := apptest.Serve(t, a, func(mux *http.ServeMux) {
		c = console.New(console.Deps{Identity: a.Identity, Catalog: a.Catalog, Booking: a.Booking, Governance: a.Governance, Benefits: a.Benefits, Metro: a.Metro, Subsidy: a.Subsidy, Audit: a.Audit, Version: "test", Guard: a.Guard, Merchants: a.Merchants, Purchases: a.Purchases, Sales: a.Sales, Invoices: a.Invoices, Employers: a.Employers,
			Distribution: distribution.NewService(a.DistributionStore, distribution.Config{Benefits: a.Benefits, Audit: a.Audit, Now: a.Now}),
			Ledger:       a.Ledger, Reconcile: a.Reconciliation()})
		c.Mount(mux)
		for _, f := range extra {
			f(c, mux)
		}
	})
	return &env{app: a, console: c, srv: srv, today: apptest.Today()}
}

// loginFor returns the demo login of a role.
func loginFor(t *testing.T, role identity.Role) demo.Login {
	t.Helper()
	for _, l := range demo.Logins {
		if l.Role == role {
			return l
		}
	}
	t.Fatalf("no demo login for role %q", role)
	return demo.Login{}
}

// client is a browser-like HTTP client with cookies that does not follow redirects.
type client struct {
	t    *testing.T
	base string
	hc   *http.Client
	hdr  http.Header // added to every request
}

func (e *env) client(t *testing.T) *client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &client{t: t, base: e.srv.URL, hdr: http.Header{}, hc: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// do sends a request and returns the response with its body read.
func (c *client) do(req *http.Request) (*http.Response, string) {
	c.t.Helper()
	for k, v := range c.hdr {
		req.Header[k] = v
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return resp, string(b)
}

func (c *client) get(path string) (*http.Response, string) {
	c.t.Helper()
	req, err := http.NewRequest("GET", c.base+path, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	return c.do(req)
}

func (c *client) post(path string, form url.Values, header ...string) (*http.Response, string) {
	c.t.Helper()
	req, err := http.NewRequest("POST", c.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return c.do(req)
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]*)"`)

// csrfIn returns the CSRF token of the first form in an HTML page.
func csrfIn(body string) string {
	if m := csrfRE.FindStringSubmatch(body); m != nil {
		return m[1]
	}
	return ""
}

// csrfFor returns the token a POST to path needs: the login form's for
// /login, otherwise the one in the page header's logout form (of the
// network page, which every login may open; the workbench sends
// passengers on to the ticket search).
func (c *client) csrfFor(path string) string {
	c.t.Helper()
	if path == "/login" {
		_, body := c.get("/login")
		return csrfIn(body)
	}
	if form, ok := publicForms[path]; ok {
		_, body := c.get(form)
		return csrfIn(body)
	}
	_, body := c.get("/network")
	return csrfIn(body)
}

// publicForms are the forms without a session beside the login form
// (their double-submit token comes from the page that shows them), by the
// path they post to.
var publicForms = map[string]string{
	"/merchants/apply":                "/merchants/apply",
	"/merchants/application":          "/merchants/application",
	"/merchants/application/papers":   "/merchants/application",
	"/merchants/application/resubmit": "/merchants/application",
	"/merchant/invitations/accept":    "/merchant/invitations/accept",
}

// login logs in through the form and fails the test unless it redirects.
func (c *client) login(l demo.Login) {
	c.t.Helper()
	resp, body := c.post("/login", url.Values{"csrf": {c.csrfFor("/login")}, "username": {l.Username}, "password": {l.Password}})
	if resp.StatusCode != http.StatusSeeOther {
		c.t.Fatalf("login %s: status %d\n%s", l.Username, resp.StatusCode, body)
	}
}

// wantStatus fails unless resp has status want.
func wantStatus(t *testing.T, resp *http.Response, body string, want int) {
	t.Helper()
	if resp.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d\n%s", resp.Request.Method, resp.Request.URL.Path, resp.StatusCode, want, body)
	}
}

// wantContains fails unless body contains every string.
func wantContains(t *testing.T, body string, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if !strings.Contains(body, s) {
			t.Errorf("page lacks %q", s)
		}
	}
	if t.Failed() {
		t.Logf("page:\n%s", body)
	}
}

// TestMain keeps the request log of the server quiet; warnings and errors still show.
func TestMain(m *testing.M) {
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	os.Exit(m.Run())
}
