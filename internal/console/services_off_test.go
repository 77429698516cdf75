package console_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"piao/internal/app/apptest"
	"piao/internal/console"
	"piao/internal/demo"
	"piao/internal/fault"
	"piao/internal/identity"
)

// pathParam matches a path pattern's wildcards.
var pathParam = regexp.MustCompile(`\{[^}]*\}`)

// TestServicesOff walks the whole route table of a console whose booking,
// governance, benefits and subsidy services are off: a page marked with a
// service answers its user 503 with the service's message, and every other
// page answers below 500 (a handler that reaches a missing service panics
// on nil, and the server answers 500). A new route that needs a service but
// is not marked fails here.
func TestServicesOff(t *testing.T) {
	a := apptest.NewDemo(t)
	var c *console.Console
	srv, _ := apptest.Serve(t, a, func(mux *http.ServeMux) {
		c = console.New(console.Deps{Identity: a.Identity, Catalog: a.Catalog, Metro: a.Metro, Version: "test", Guard: a.Guard})
		c.Mount(mux)
	})
	e := &env{app: a, console: c, srv: srv, today: apptest.Today()}

	clients := map[identity.Role]*client{} // logged-in clients by role
	clientFor := func(p identity.Permission) *client {
		if p == identity.Public {
			return e.client(t)
		}
		for _, l := range demo.Logins {
			if !identity.Allowed(l.Role, p) {
				continue
			}
			if cl := clients[l.Role]; cl != nil {
				return cl
			}
			cl := e.client(t)
			cl.login(l)
			clients[l.Role] = cl
			return cl
		}
		t.Fatalf("no demo login may use %q", p)
		return nil
	}

	marked := 0
	for _, rt := range c.RoutesForTest() {
		path := pathParam.ReplaceAllStringFunc(rt.Path, func(w string) string {
			switch w {
			case "{$}":
				return ""
			case "{file...}":
				return "console.css"
			case "{token}":
				return "NOSUCHGIFT"
			}
			return "1"
		})
		cl := clientFor(rt.Permission)
		var resp *http.Response
		var body string
		if rt.Method == http.MethodPost {
			resp, body = cl.post(path, url.Values{"csrf": {cl.csrfFor(path)}})
		} else {
			resp, body = cl.get(path)
		}
		if rt.Path == "/logout" || rt.Path == "/account/sessions/revoke-all" {
			for role, v := range clients { // that session is over

				if v == cl {
					delete(clients, role)
				}
			}
		}
		if rt.Off == nil {
			if resp.StatusCode >= 500 {
				t.Errorf("%s %s: status %d on a page marked as needing no service\n%s", rt.Method, path, resp.StatusCode, body)
			}
			continue
		}
		marked++
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("%s %s: status %d, want 503", rt.Method, path, resp.StatusCode)
			continue
		}
		if want := fault.As(rt.Off).ZH; !strings.Contains(body, want) {
			t.Errorf("%s %s: page lacks %q\n%s", rt.Method, path, want, body)
		}
	}
	if marked == 0 {
		t.Fatal("no route is marked with a service")
	}
}
