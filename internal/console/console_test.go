package console_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"piao/internal/console"
	"piao/internal/demo"
	"piao/internal/identity"
)

// examplePath fills a route pattern's wildcards with values that exist in
// the demo data. A new wildcard must be added here.
func examplePath(t *testing.T, pattern string) string {
	t.Helper()
	p := strings.NewReplacer("{$}", "", "{id}", url.PathEscape("nbmetro:L1"), "{file}", "console.css", "{file...}", "console.css", "{token}", "NOSUCHGIFT", "{batch}", "1", "{line}", "2", "{kind}", "refund", "{paper}", "1").Replace(pattern)
	if strings.ContainsAny(p, "{}") {
		t.Fatalf("route %s has a wildcard examplePath does not know", pattern)
	}
	return p
}

func TestPagesTable(t *testing.T) {
	c := console.New(console.Deps{})
	seen := map[string]bool{}
	for _, p := range c.Pages() {
		key := p.Method + " " + p.Path
		if seen[key] {
			t.Errorf("route %s listed twice", key)
		}
		seen[key] = true
		if p.Permission == "" {
			t.Errorf("route %s has no permission", key)
		}
		if p.Method != "GET" && p.Method != "POST" {
			t.Errorf("route %s: the console uses only GET and POST", key)
		}
	}
	for _, want := range []string{"GET /login", "POST /login", "POST /logout", "GET /{$}", "GET /network", "GET /network/lines/{id}", "GET /lang",
		"GET /h5", "GET /h5/search", "GET /h5/book", "POST /h5/book", "GET /h5/orders", "GET /h5/orders/{id}",
		"POST /h5/orders/{id}/pay", "POST /h5/orders/{id}/cancel", "POST /h5/orders/{id}/refund",
		"GET /h5/orders/{id}/change", "POST /h5/orders/{id}/change"} {
		if !seen[want] {
			t.Errorf("route %s missing", want)
		}
	}
}

// TestRoutesByRole requests every console route as every role and as
// nobody, and checks the answer against identity.Allowed.
func TestRoutesByRole(t *testing.T) {
	e := newEnv(t)
	roles := append([]identity.Role{""}, identity.Roles...)
	for _, p := range e.console.Pages() {
		for _, role := range roles {
			who := string(role)
			if who == "" {
				who = "anonymous"
			}
			t.Run(p.Method+" "+p.Path+" as "+who, func(t *testing.T) {
				cl := e.client(t)
				if role != "" {
					cl.login(loginFor(t, role))
				}
				path := examplePath(t, p.Path)
				var resp *http.Response
				var body string
				if p.Method == "GET" {
					resp, body = cl.get(path)
				} else {
					form := url.Values{"csrf": {cl.csrfFor(path)}}
					if path == "/login" {
						l := demo.Logins[0]
						if role != "" {
							l = loginFor(t, role)
						}
						form.Set("username", l.Username)
						form.Set("password", l.Password)
					}
					resp, body = cl.post(path, form)
				}
				// A merchant's staff holds what its demo account was granted.
				holder := identity.Principal{}
				if role != "" {
					l := loginFor(t, role)
					holder.Account = identity.Account{Role: role, Merchant: l.Merchant, Grants: l.Grants}
				}
				switch {
				case holder.Can(p.Permission):
					if s := resp.StatusCode; s == 401 || s == 403 || s >= 500 {
						t.Errorf("allowed: status %d\n%s", s, body)
					}
				case role == "":
					if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
						t.Errorf("anonymous: status %d to %q, want 303 to /login", resp.StatusCode, resp.Header.Get("Location"))
					}
				default:
					if resp.StatusCode != http.StatusForbidden {
						t.Errorf("lacking %s: status %d, want 403", p.Permission, resp.StatusCode)
					}
				}
			})
		}
	}
}

func TestForbiddenPage(t *testing.T) {
	e := newEnv(t, func(c *console.Console, mux *http.ServeMux) {
		mux.Handle("GET /guarded-for-test", c.GuardedForTest(identity.AuditRead))
	})
	cl := e.client(t)
	cl.login(loginFor(t, identity.Passenger))
	resp, body := cl.get("/guarded-for-test")
	wantStatus(t, resp, body, http.StatusForbidden)
	wantContains(t, body, "旅客", "没有访问此页面的权限", "may not open this page")

	cl = e.client(t)
	cl.login(loginFor(t, identity.OperatorAuditor))
	resp, body = cl.get("/guarded-for-test")
	wantStatus(t, resp, body, http.StatusNoContent)

	resp, body = e.client(t).get("/guarded-for-test?x=1")
	wantStatus(t, resp, body, http.StatusSeeOther)
	if got := resp.Header.Get("Location"); got != "/login?next="+url.QueryEscape("/guarded-for-test?x=1") {
		t.Errorf("Location = %q", got)
	}
}

// TestUnknownPaths: a path nothing serves answers the console's error page
// with 404, in the user's language and, for a login, with the menu; a path
// served for another method answers 405 with Allow; the API keeps its own
// problem+json 404.
func TestUnknownPaths(t *testing.T) {
	e := newEnv(t)
	anon := e.client(t)
	passenger := e.passenger(t)
	admin := e.client(t)
	admin.login(loginFor(t, identity.OperatorAdmin))
	for _, path := range []string{"/nosuch", "/h5/nosuch", "/benefits/nosuch", "/network/lines", "/governance/members/1/nosuch"} {
		for name, cl := range map[string]*client{"anonymous": anon, "passenger": passenger, "admin": admin} {
			resp, body := cl.get(path)
			wantStatus(t, resp, body, http.StatusNotFound)
			if ct := resp.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" || resp.Header.Get("Content-Security-Policy") == "" {
				t.Errorf("%s %s: Content-Type %q, CSP %q", name, path, ct, resp.Header.Get("Content-Security-Policy"))
			}
			wantContains(t, body, "<title>页面不存在 · 票 piao</title>", "没有这个页面", "There is no such page", `id="back-home"`)
			if name != "anonymous" && !strings.Contains(body, `<nav aria-label="主导航">`) {
				t.Errorf("%s %s: the 404 page has no menu", name, path)
			}
		}
	}
	_, body := passenger.get("/h5/nosuch")
	wantContains(t, body, `<a href="/h5" id="back-home">返回车票查询</a>`)
	admin.get("/lang?to=en")
	resp, body := admin.get("/benefits/nosuch")
	wantStatus(t, resp, body, http.StatusNotFound)
	wantContains(t, body, `<html lang="en">`, "<title>Page not found · 票 piao</title>", `<p lang="en">There is no such page`, `<a href="/" id="back-home">Back to the workbench</a>`)

	// GET /logout: the path is served, for POST only.
	resp, body = admin.get("/logout")
	wantStatus(t, resp, body, http.StatusMethodNotAllowed)
	if allow := resp.Header.Get("Allow"); allow != "POST" {
		t.Errorf("GET /logout: Allow %q", allow)
	}
	wantContains(t, body, "This page does not accept this kind of request")
	resp, body = admin.post("/nosuch", url.Values{"csrf": {admin.csrfFor("/nosuch")}})
	wantStatus(t, resp, body, http.StatusNotFound)
	resp, body = admin.get("/api/v1/nosuch")
	wantStatus(t, resp, body, http.StatusNotFound)
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		t.Errorf("/api/v1/nosuch: Content-Type %q, want the API's problem+json", ct)
	}
}

func TestLogin(t *testing.T) {
	e := newEnv(t)
	admin := loginFor(t, identity.OperatorAdmin)

	t.Run("anonymous is sent to the login form and back", func(t *testing.T) {
		cl := e.client(t)
		resp, body := cl.get("/network?number=Z66")
		wantStatus(t, resp, body, http.StatusSeeOther)
		loc := resp.Header.Get("Location")
		if loc != "/login?next="+url.QueryEscape("/network?number=Z66") {
			t.Fatalf("Location = %q", loc)
		}
		resp, body = cl.get(loc)
		wantStatus(t, resp, body, http.StatusOK)
		wantContains(t, body, `name="next" value="/network?number=Z66"`, `<label for="username">`, `<label for="password">`, `lang="zh-CN"`)
		resp, body = cl.post("/login", url.Values{"csrf": {csrfIn(body)}, "username": {admin.Username}, "password": {admin.Password}, "next": {"/network?number=Z66"}})
		wantStatus(t, resp, body, http.StatusSeeOther)
		if got := resp.Header.Get("Location"); got != "/network?number=Z66" {
			t.Errorf("after login Location = %q", got)
		}
		var session *http.Cookie
		for _, ck := range resp.Cookies() {
			if ck.Name == "piao_session" {
				session = ck
			}
		}
		if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteLaxMode || session.Path != "/" || session.Secure {
			t.Errorf("session cookie = %+v", session)
		}
		resp, body = cl.get("/")
		wantStatus(t, resp, body, http.StatusOK)
		wantContains(t, body, admin.Name, "运营管理员", "退出登录")
	})

	t.Run("wrong password", func(t *testing.T) {
		cl := e.client(t)
		resp, body := cl.post("/login", url.Values{"csrf": {cl.csrfFor("/login")}, "username": {admin.Username}, "password": {"wrong password"}})
		wantStatus(t, resp, body, http.StatusUnauthorized)
		wantContains(t, body, "用户名或密码错误", "wrong username or password", `value="admin"`)
		resp, body = cl.get("/")
		wantStatus(t, resp, body, http.StatusSeeOther)
	})

	t.Run("next must be local", func(t *testing.T) {
		for _, next := range []string{"//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:alert(1)", ""} {
			cl := e.client(t)
			resp, body := cl.post("/login", url.Values{"csrf": {cl.csrfFor("/login")}, "username": {admin.Username}, "password": {admin.Password}, "next": {next}})
			wantStatus(t, resp, body, http.StatusSeeOther)
			if got := resp.Header.Get("Location"); got != "/" {
				t.Errorf("next %q: Location = %q, want /", next, got)
			}
		}
	})

	t.Run("a new login replaces the previous session", func(t *testing.T) {
		cl := e.client(t)
		cl.login(admin)
		old := sessionOf(t, cl)
		cl.login(loginFor(t, identity.Passenger))
		if sessionOf(t, cl) == old {
			t.Fatal("the session secret did not change")
		}
		stale := e.client(t)
		u, _ := url.Parse(e.srv.URL)
		stale.hc.Jar.SetCookies(u, []*http.Cookie{{Name: "piao_session", Value: old, Path: "/"}})
		resp, body := stale.get("/")
		wantStatus(t, resp, body, http.StatusSeeOther)
		resp, body = cl.get("/network")
		wantStatus(t, resp, body, http.StatusOK)
		wantContains(t, body, "旅客")
	})

	t.Run("logout revokes the session", func(t *testing.T) {
		cl := e.client(t)
		cl.login(admin)
		resp, body := cl.post("/logout", url.Values{"csrf": {cl.csrfFor("/logout")}})
		wantStatus(t, resp, body, http.StatusSeeOther)
		if got := resp.Header.Get("Location"); got != "/login" {
			t.Errorf("Location = %q", got)
		}
		resp, body = cl.get("/")
		wantStatus(t, resp, body, http.StatusSeeOther)
	})
}

func TestCSRF(t *testing.T) {
	e := newEnv(t)
	admin := loginFor(t, identity.OperatorAdmin)

	t.Run("logout without a token", func(t *testing.T) {
		cl := e.client(t)
		cl.login(admin)
		for _, token := range []string{"", "not-the-token"} {
			resp, body := cl.post("/logout", url.Values{"csrf": {token}})
			wantStatus(t, resp, body, http.StatusForbidden)
			wantContains(t, body, "表单已失效", "did not come from this site")
		}
		resp, body := cl.get("/")
		wantStatus(t, resp, body, http.StatusOK) // still logged in
	})

	t.Run("another session's token", func(t *testing.T) {
		a, b := e.client(t), e.client(t)
		a.login(admin)
		b.login(admin)
		resp, body := a.post("/logout", url.Values{"csrf": {b.csrfFor("/logout")}})
		wantStatus(t, resp, body, http.StatusForbidden)
	})

	t.Run("cross-origin post with a valid token", func(t *testing.T) {
		cl := e.client(t)
		cl.login(admin)
		token := cl.csrfFor("/logout")
		resp, body := cl.post("/logout", url.Values{"csrf": {token}}, "Sec-Fetch-Site", "cross-site")
		wantStatus(t, resp, body, http.StatusForbidden)
		wantContains(t, body, "拒绝跨站请求", "Cross-site requests are refused")
		resp, body = cl.post("/logout", url.Values{"csrf": {token}}, "Origin", "https://evil.example")
		wantStatus(t, resp, body, http.StatusForbidden)
		resp, body = cl.post("/logout", url.Values{"csrf": {token}}, "Sec-Fetch-Site", "same-origin")
		wantStatus(t, resp, body, http.StatusSeeOther)
	})

	t.Run("login form", func(t *testing.T) {
		cl := e.client(t)
		form := url.Values{"username": {admin.Username}, "password": {admin.Password}}
		resp, body := cl.post("/login", form)
		wantStatus(t, resp, body, http.StatusForbidden)
		wantContains(t, body, "表单已失效", "did not come from this site")
		// The re-rendered form carries a token that works.
		form.Set("csrf", csrfIn(body))
		resp, body = cl.post("/login", form)
		wantStatus(t, resp, body, http.StatusSeeOther)

		// A token without its cookie fails.
		other := e.client(t)
		form.Set("csrf", other.csrfFor("/login"))
		resp, body = e.client(t).post("/login", form)
		wantStatus(t, resp, body, http.StatusForbidden)

		resp, body = cl.post("/login", form, "Sec-Fetch-Site", "cross-site")
		wantStatus(t, resp, body, http.StatusForbidden)
	})
}

func TestLanguage(t *testing.T) {
	e := newEnv(t)
	cl := e.client(t)
	cl.login(loginFor(t, identity.OperatorAdmin))
	resp, body := cl.get("/network")
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, `<html lang="zh-CN">`, "车次时刻表", "线路", `href="/lang?to=en&amp;back=%2Fnetwork"`)

	resp, body = cl.get("/lang?to=en&back=" + url.QueryEscape("/network?number=Z66"))
	wantStatus(t, resp, body, http.StatusSeeOther)
	if got := resp.Header.Get("Location"); got != "/network?number=Z66" {
		t.Errorf("Location = %q", got)
	}
	resp, body = cl.get("/network?number=Z66")
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, `<html lang="en">`, "Train timetable", "Lines", "Log out", "Operator admin", "Beijing West")
	if strings.Contains(body, "车次时刻表") {
		t.Error("English page still says 车次时刻表")
	}

	for _, back := range []string{"https://evil.example/", "//evil.example", "/\\evil.example", "evil"} {
		resp, _ = cl.get("/lang?to=zh&back=" + url.QueryEscape(back))
		if got := resp.Header.Get("Location"); got != "/" {
			t.Errorf("back %q: Location = %q, want /", back, got)
		}
	}
	_, body = cl.get("/")
	wantContains(t, body, `<html lang="zh-CN">`, "工作台")
}

// TestMessagesComplete renders every page in both languages and looks for
// catalog keys that are missing (shown as ⟦key⟧).
func TestMessagesComplete(t *testing.T) {
	e := newEnv(t)
	paths := []string{"/", "/network", "/network?q=nc&number=Z66", "/network?q=zzzz", "/network?number=NOPE",
		"/network/lines/" + url.PathEscape("nbmetro:L1"), "/network/lines/" + url.PathEscape("cr:JJ"), "/network/lines/none"}
	for _, to := range []string{"zh", "en"} {
		anon := e.client(t)
		anon.get("/lang?to=" + to)
		_, body := anon.get("/login")
		if strings.Contains(body, "⟦") {
			t.Errorf("%s /login has a missing message:\n%s", to, body)
		}
		cl := e.client(t)
		cl.login(loginFor(t, identity.OperatorAdmin))
		cl.get("/lang?to=" + to)
		for _, p := range paths {
			_, body := cl.get(p)
			if strings.Contains(body, "⟦") {
				t.Errorf("%s %s has a missing message:\n%s", to, p, body)
			}
		}
	}
}

func TestNetworkPage(t *testing.T) {
	e := newEnv(t)
	cl := e.client(t)
	cl.login(loginFor(t, identity.MerchantStaff))
	today := e.today.String()

	resp, body := cl.get("/network")
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, `value="`+today+`"`, "京九铁路", "1号线", `href="/network/lines/nbmetro:L1"`)

	resp, body = cl.get("/network?number=z66&date=" + today)
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, "南昌", "Nanchang", "北京西", "Beijing West", "20:06", "07:32", `<sup class="day"`, ">+1</sup>", "1449", "11 小时 26 分",
		"→ 北京西</caption>", `<span lang="zh-CN">北京西</span> <span class="alt" lang="en">Beijing West</span>`)
	// In English the stations and the headsign are in English first.
	cl.get("/lang?to=en")
	_, body = cl.get("/network?number=z66&date=" + today)
	wantContains(t, body, "→ Beijing West</caption>", `<span lang="en">Beijing West</span> <span class="alt" lang="zh-CN">北京西</span>`)
	cl.get("/lang?to=zh")

	resp, body = cl.get("/network?number=T168")
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, "九江", "20:25", "20:31", "6 分", "阜阳", "02:58")

	resp, body = cl.get("/network?q=NCG")
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, "<code>NCG</code>", "南昌", "Nanchang", "nan chang")

	resp, body = cl.get("/network?q=zzzzzz")
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, "没有找到匹配")

	bad := []struct {
		query  string
		status int
		say    []string
	}{
		{"number=X999", http.StatusNotFound, []string{"没有车次 X999", "there is no train X999"}},
		{"number=Z66&date=2026-13-45", http.StatusUnprocessableEntity, []string{"格式错误", "is not a YYYY-MM-DD date"}},
		{"number=Z66&date=" + e.today.AddDays(400).String(), http.StatusNotFound, []string{"不开行", "does not run"}},
		{"number=" + strings.Repeat("G", 40), http.StatusUnprocessableEntity, []string{"车次格式错误", "invalid train number"}},
	}
	for _, b := range bad {
		resp, body = cl.get("/network?" + b.query)
		wantStatus(t, resp, body, b.status)
		wantContains(t, body, append(b.say, "车次时刻表")...)
	}

	resp, body = cl.get("/network/lines/" + url.PathEscape("nbmetro:L2"))
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, "2号线", "Line 2", "栎社国际机场", "Lishe International Airport", "宁波火车站", "19.6")

	resp, body = cl.get("/network/lines/cr:JJ")
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, "京九铁路", "车站顺序由各车次的停站决定")

	resp, body = cl.get("/network/lines/nope")
	wantStatus(t, resp, body, http.StatusNotFound)
	wantContains(t, body, "线路 nope 不存在", "line nope not found")
}

func TestStaticAndHeaders(t *testing.T) {
	e := newEnv(t)
	cl := e.client(t)
	resp, body := cl.get("/static/console.css")
	wantStatus(t, resp, body, http.StatusOK)
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/css") {
		t.Errorf("Content-Type = %q", ct)
	}
	resp, body = cl.get("/static/missing.css")
	wantStatus(t, resp, body, http.StatusNotFound)

	resp, body = cl.get("/login")
	wantStatus(t, resp, body, http.StatusOK)
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("CSP = %q", csp)
	}
	if strings.Contains(body, "<script") || strings.Contains(body, "http://") || strings.Contains(body, "https://") {
		t.Errorf("the login page loads something external or scripts:\n%s", body)
	}
	// The API and health routes still belong to the API.
	resp, body = cl.get("/healthz")
	wantStatus(t, resp, body, http.StatusOK)
}

// sessionOf returns the session secret in a client's cookie jar.
func sessionOf(t *testing.T, cl *client) string {
	t.Helper()
	u, _ := url.Parse(cl.base)
	for _, ck := range cl.hc.Jar.Cookies(u) {
		if ck.Name == "piao_session" {
			return ck.Value
		}
	}
	t.Fatal("no session cookie")
	return ""
}
