package console_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"piao/internal/demo"
	"piao/internal/identity"
)

// The crawl's bounds: how far from its start, how many pages in all, and
// how many pages of one shape (/benefits/campaigns/{n}, /h5/book?…) it
// opens per session.
const (
	crawlDepth    = 3
	crawlPages    = 80
	crawlPerShape = 8
)

// crawlSession is who crawls: a demo login (none for anonymous) in a language.
type crawlSession struct {
	name  string
	login *demo.Login
	lang  string
}

// TestBrowserCrawl is the guard for pages nobody looks at after a change:
// with the demo data, as nobody and as every demo role, in Chinese (and in
// English as the operator admin and the passenger), Chromium starts at /
// and /h5, follows the same-origin links and GET forms it finds (never
// POST, log out, the language switch or downloads), a bounded number deep,
// and fails on a page that shows a raw message key (⟦key⟧), logs a
// JavaScript error or console.error (a failed request included), has an
// image that did not load, answers 4xx or 5xx, or has no title.
func TestBrowserCrawl(t *testing.T) {
	exe := chromium(t)
	e := newEnv(t)
	seedCrawlData(t, e)
	bctx := newBrowserFor(t, exe, 8*time.Minute, chromedp.WindowSize(1280, 900))
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	t.Run("the checks catch what they look for", func(t *testing.T) { crawlSelfCheck(t, e, bctx) })
	sessions := []crawlSession{{name: "anonymous", lang: "zh"}}
	for _, role := range identity.Roles {
		l := loginFor(t, role)
		sessions = append(sessions, crawlSession{name: string(role), login: &l, lang: "zh"})
	}
	for _, role := range []identity.Role{identity.OperatorAdmin, identity.Passenger} {
		l := loginFor(t, role)
		sessions = append(sessions, crawlSession{name: string(role) + " in English", login: &l, lang: "en"})
	}
	for _, s := range sessions {
		t.Run(s.name, func(t *testing.T) { newCrawler(t, e, bctx).crawl(s) })
	}
}

// seedCrawlData adds the rest of the demo to the env's network and logins:
// value-added tickets, subsidies, a day of metro riding (fewer riders than
// the demo's, enough for every chart) and a paid ticket of the demo
// passenger, for the order, e-ticket and change pages and the report.
func seedCrawlData(t *testing.T, e *env) {
	t.Helper()
	ctx, now := context.Background(), time.Now()
	if _, err := demo.SeedBenefits(ctx, e.app.Benefits, e.app.Identity, now); err != nil {
		t.Fatal(err)
	}
	if _, err := demo.SeedSubsidy(ctx, e.app.Subsidy, e.app.Benefits, e.app.Identity, now); err != nil {
		t.Fatal(err)
	}
	if _, err := demo.SeedMetroDay(ctx, e.app.Benefits, e.app.Metro, e.app.Identity, now, 200); err != nil {
		t.Fatal(err)
	}
	e.paidTicket(t, e.passenger(t), e.today.AddDays(1), "张三", idNumber(1))
}

// crawler drives one browser tab, with its own cookies, through the pages.
type crawler struct {
	t       *testing.T
	e       *env
	tab     context.Context
	console chan chromedp.ConsoleMessage
	marks   int // console marks written so far
}

// newCrawler opens a tab in a browser context of its own (no cookies
// shared with other sessions) and starts reading its console.
func newCrawler(t *testing.T, e *env, bctx context.Context) *crawler {
	tab, cancel := chromedp.NewContext(bctx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	c := &crawler{t: t, e: e, tab: tab, console: make(chan chromedp.ConsoleMessage, 256)}
	messages := chromedp.Console(tab) // subscribes now, before the first page
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			select {
			case c.console <- m:
			case <-tab.Done():
				return
			}
		}
	}()
	return c
}

// pageReport is what the checks read in a page.
type pageReport struct {
	Title    string   `json:"title"`
	HasTitle bool     `json:"hasTitle"`
	Keys     []string `json:"keys"`   // raw message keys, ⟦key⟧
	Broken   []string `json:"broken"` // images that did not load
	Links    []string `json:"links"`  // links and GET forms, absolute
}

// reportJS reads a loaded page: its title, raw message keys anywhere in
// the document (attributes too), broken images, and where it leads: links
// that are not downloads, and GET forms whose fields are valid as filled.
const reportJS = `(() => {
	const forms = [...document.forms].filter(f => f.method === "get" && f.checkValidity()).map(f => {
		const u = new URL(f.action);
		for (const [k, v] of new FormData(f)) {
			if (typeof v === "string") u.searchParams.append(k, v);
		}
		return u.href;
	});
	return {
		title: document.title,
		hasTitle: document.querySelector("head > title") !== null,
		keys: document.documentElement.outerHTML.match(/⟦[^⟧]*⟧/g) || [],
		broken: [...document.images].filter(i => i.naturalWidth === 0).map(i => i.getAttribute("src")),
		links: [...document.querySelectorAll("a[href]")].filter(a => !a.hasAttribute("download")).map(a => a.href).concat(forms),
	};
})()`

// read waits until the page's images have loaded or failed, then reads it.
// Right after a navigation the browser may still name the old document's
// JavaScript context, which is gone: then it tries again, until ctx ends.
func (c *crawler) read(ctx context.Context) (pageReport, error) {
	for {
		_, err := chromedp.Run(ctx, chromedp.Poll[bool](`[...document.images].every(i => i.complete)`,
			chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(45*time.Second)))
		if err == nil {
			var rep pageReport
			if rep, err = chromedp.Run(ctx, chromedp.Evaluate[pageReport](reportJS)); err == nil {
				return rep, nil
			}
		}
		if !strings.Contains(err.Error(), "Cannot find context with specified id") || ctx.Err() != nil {
			return pageReport{}, err
		}
	}
}

// consoleErrors writes a mark to the console and returns the errors the
// page logged before it: uncaught exceptions, console.error and failed
// requests, except the failure of the page itself (whose status the crawl
// checks on its own).
func (c *crawler) consoleErrors(ctx context.Context, page string) ([]string, error) {
	c.marks++
	mark := "piao-crawl-mark-" + strconv.Itoa(c.marks)
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`console.debug(`+strconv.Quote(mark)+`)`)); err != nil {
		return nil, fmt.Errorf("write the console mark: %w", err)
	}
	var errs []string
	for {
		select {
		case m := <-c.console:
			switch {
			case m.Text == mark:
				return errs, nil
			case m.Source == "network" && m.URL == page:
			case m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleException:
				errs = append(errs, fmt.Sprintf("%s (%s:%d)", m, m.URL, m.Line+1))
			}
		case <-ctx.Done():
			return errs, fmt.Errorf("the console mark never came back: %w", ctx.Err())
		}
	}
}

// crawl logs in as s, then opens pages breadth first from / and /h5.
func (c *crawler) crawl(s crawlSession) {
	t, base := c.t, c.e.srv.URL
	setup, cancel := context.WithTimeout(c.tab, 2*time.Minute)
	defer cancel()
	if err := chromedp.Do(setup, chromedp.Navigate(base+"/lang?to="+s.lang+"&back=/login")); err != nil {
		t.Fatalf("choose %s: %v", s.lang, err)
	}
	if s.login != nil {
		if err := chromedp.Do(setup,
			chromedp.SendKeys(chromedp.ID("username"), s.login.Username),
			chromedp.SendKeys(chromedp.ID("password"), s.login.Password),
		); err != nil {
			t.Fatalf("fill the login form: %v", err)
		}
		if _, err := chromedp.RunResponse(setup, chromedp.Click(chromedp.CSS(`form[action="/login"] button[type="submit"]`))); err != nil {
			t.Fatalf("log in: %v", err)
		}
		if loc, err := chromedp.Run(setup, chromedp.Location()); err != nil || strings.Contains(loc, "/login") {
			t.Fatalf("after logging in the browser is at %s (%v)", loc, err)
		}
	}
	type queued struct {
		path, from string
		depth      int
	}
	queue := []queued{{path: "/"}, {path: "/h5"}}
	seen, shapes := map[string]bool{"/": true, "/h5": true}, map[string]int{}
	var opened []string
	for len(queue) > 0 && len(opened) < crawlPages {
		q := queue[0]
		queue = queue[1:]
		opened = append(opened, q.path)
		links := c.check(q.path, q.from)
		if q.depth >= crawlDepth {
			continue
		}
		for _, l := range links {
			u, err := url.Parse(l)
			if err != nil || !crawlable(u, base) {
				continue
			}
			key, shape := crawlKey(u), crawlShape(u)
			if seen[key] || shapes[shape] >= crawlPerShape {
				continue
			}
			seen[key] = true
			shapes[shape]++
			queue = append(queue, queued{path: key, from: q.path, depth: q.depth + 1})
		}
	}
	t.Logf("%d pages opened, %d more found but not opened: %s", len(opened), len(queue), strings.Join(opened, " "))
}

// check opens one page and checks it; it returns the page's links.
func (c *crawler) check(path, from string) []string {
	t := c.t
	t.Helper()
	where := path
	if from != "" {
		where += " (linked from " + from + ")"
	}
	ctx, cancel := context.WithTimeout(c.tab, time.Minute)
	defer cancel()
	resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(c.e.srv.URL+path))
	if err != nil {
		t.Errorf("%s: open: %v", where, err)
		return nil
	}
	if resp.Status >= http.StatusBadRequest {
		t.Errorf("%s: status %d", where, resp.Status)
	}
	rep, err := c.read(ctx)
	if err != nil {
		t.Errorf("%s: read: %v", where, err)
		return nil
	}
	pageTitle, _, _ := strings.Cut(rep.Title, " · ")
	if !rep.HasTitle || strings.TrimSpace(pageTitle) == "" {
		t.Errorf("%s: the page has no title (%q)", where, rep.Title)
	}
	if len(rep.Keys) > 0 {
		t.Errorf("%s: raw message keys %v", where, slices.Compact(slices.Sorted(slices.Values(rep.Keys))))
	}
	if len(rep.Broken) > 0 {
		t.Errorf("%s: broken images %v", where, rep.Broken)
	}
	errs, err := c.consoleErrors(ctx, resp.URL)
	if err != nil {
		t.Errorf("%s: %v", where, err)
	}
	for _, e := range errs {
		t.Errorf("%s: console: %s", where, e)
	}
	return rep.Links
}

// crawlable reports whether the crawl may open u: a page of this server
// that only reads. Log out and the language switch change the session,
// downloads are no pages, and the API, the payment sandbox and the static
// files are not the console's pages.
func crawlable(u *url.URL, base string) bool {
	if u.Scheme+"://"+u.Host != base {
		return false
	}
	p := u.Path
	switch {
	case p == "/logout", p == "/lang", strings.HasSuffix(p, ".csv"):
		return false
	case strings.HasPrefix(p, "/static/"), strings.HasPrefix(p, "/sandbox/"), strings.HasPrefix(p, "/api/"):
		return false
	}
	return true
}

// crawlKey is the page u names: its path and non-empty query values, in
// order (a filter form left empty is the page itself), without fragment.
func crawlKey(u *url.URL) string {
	q := url.Values{}
	for k, vs := range u.Query() {
		for _, v := range vs {
			if v != "" {
				q.Add(k, v)
			}
		}
	}
	if len(q) == 0 {
		return u.Path
	}
	return u.Path + "?" + q.Encode()
}

// crawlShape is the kind of page u is: its path with every segment that
// holds a digit as {n}, and its query's keys.
func crawlShape(u *url.URL) string {
	segs := strings.Split(u.Path, "/")
	for i, s := range segs {
		if strings.ContainsAny(s, "0123456789") {
			segs[i] = "{n}"
		}
	}
	var keys []string
	for k, vs := range u.Query() {
		if slices.ContainsFunc(vs, func(v string) bool { return v != "" }) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return strings.Join(segs, "/") + "?" + strings.Join(keys, "&")
}

// crawlSelfCheck plants each fault the crawl looks for in a page and checks
// the crawl's reading finds it, so that a crawl that passes has looked.
func crawlSelfCheck(t *testing.T, e *env, bctx context.Context) {
	c := newCrawler(t, e, bctx)
	ctx, cancel := context.WithTimeout(c.tab, 2*time.Minute)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(e.srv.URL+"/login")); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`
		console.error("planted console.error");
		setTimeout(() => { throw new Error("planted exception"); }, 0);
		const img = document.createElement("img");
		img.src = "/static/no-such-image.png";
		document.body.append(img, "⟦planted.key⟧");
	`)); err != nil {
		t.Fatal(err)
	}
	rep, err := c.read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(rep.Keys, "⟦planted.key⟧") || !slices.Contains(rep.Broken, "/static/no-such-image.png") {
		t.Errorf("the planted key and image are not found: %+v", rep)
	}
	if !rep.HasTitle || !strings.HasPrefix(rep.Title, "登录 · ") || !slices.Contains(rep.Links, e.srv.URL+"/") {
		t.Errorf("the login page reads as %+v", rep)
	}
	errs, err := c.consoleErrors(ctx, e.srv.URL+"/login")
	if err != nil {
		t.Fatal(err)
	}
	all := strings.Join(errs, "\n")
	for _, want := range []string{"planted console.error", "planted exception", "no-such-image.png"} {
		if !strings.Contains(all, want) {
			t.Errorf("the console errors lack %q:\n%s", want, all)
		}
	}
	for _, tc := range []struct {
		link      string
		crawlable bool
		key       string
		shape     string
	}{
		{e.srv.URL + "/benefits?status=", true, "/benefits", "/benefits?"},
		{e.srv.URL + "/benefits/campaigns/12/uses?until=2026-12-01&from=2026-11-01#x", true, "/benefits/campaigns/12/uses?from=2026-11-01&until=2026-12-01", "/benefits/campaigns/{n}/uses?from&until"},
		{e.srv.URL + "/governance/report.csv?from=2026-11-01", false, "", ""},
		{e.srv.URL + "/lang?to=en&back=/", false, "", ""},
		{"https://example.com/", false, "", ""},
	} {
		u, _ := url.Parse(tc.link)
		if got := crawlable(u, e.srv.URL); got != tc.crawlable {
			t.Errorf("crawlable(%s) = %v", tc.link, got)
		}
		if tc.crawlable && (crawlKey(u) != tc.key || crawlShape(u) != tc.shape) {
			t.Errorf("%s: key %q, shape %q", tc.link, crawlKey(u), crawlShape(u))
		}
	}
}
