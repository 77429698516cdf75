package console_test

import (
	"context"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"piao/internal/demo"
	"piao/internal/identity"
)

// chromium finds a Chromium to drive: $PIAO_TEST_CHROMIUM, then the usual
// Debian paths. It skips the test when there is none, except on CI.
func chromium(t *testing.T) string {
	t.Helper()
	candidates := []string{os.Getenv("PIAO_TEST_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"}
	for _, p := range candidates {
		if p == "" {
			continue
		}
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p
		}
	}
	msg := "no Chromium found: set PIAO_TEST_CHROMIUM or install chromium (looked in $PIAO_TEST_CHROMIUM, /usr/bin/chromium, /usr/bin/chromium-browser)"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// newBrowser starts a headless Chromium for the test and returns its
// context; it stops when the test ends or after 90 s.
func newBrowser(t *testing.T, exe string, opts ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	return newBrowserFor(t, exe, 90*time.Second, opts...)
}

// newBrowserFor is newBrowser that stops after d.
func newBrowserFor(t *testing.T, exe string, d time.Duration, opts ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), d)
	t.Cleanup(cancel)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, append([]chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
	}, opts...)...)
	t.Cleanup(cancelAlloc)
	bctx, cancelBrowser := chromedp.NewContext(allocCtx)
	t.Cleanup(cancelBrowser)
	return bctx
}

// stepper returns a function that ends the test when a browser step failed.
func stepper(t *testing.T) func(what string, err error) {
	return func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
}

// timetableRow is a rendered timetable row as the browser shows it.
type timetableRow struct {
	Station string `json:"station"`
	Arrive  string `json:"arrive"`
	Depart  string `json:"depart"`
}

// TestBrowser drives headless Chromium through the console: log in through
// the form, look up Z66 on the network page, switch to English.
// Set PIAO_TEST_SCREENSHOT to a .png path to keep a screenshot of the timetable.
func TestBrowser(t *testing.T) {
	exe := chromium(t)
	e := newEnv(t)
	admin := loginFor(t, identity.OperatorAdmin)

	bctx := newBrowser(t, exe, chromedp.WindowSize(1280, 1000))
	step := stepper(t)
	location := func() string {
		t.Helper()
		loc, err := chromedp.Run(bctx, chromedp.Location())
		step("location", err)
		return strings.TrimPrefix(loc, e.srv.URL)
	}

	// The network page needs a login, so the browser lands on the form.
	_, err := chromedp.Run(bctx, chromedp.NavigateResponse(e.srv.URL+"/network"))
	step("open /network", err)
	if loc := location(); !strings.HasPrefix(loc, "/login?next=") {
		t.Fatalf("anonymous browser is at %s, want the login form", loc)
	}
	step("fill login form", chromedp.Do(bctx,
		chromedp.SendKeys(chromedp.ID("username"), admin.Username),
		chromedp.SendKeys(chromedp.ID("password"), admin.Password),
	))
	resp, err := chromedp.RunResponse(bctx, chromedp.Click(chromedp.CSS(`form[action="/login"] button[type="submit"]`)))
	step("log in", err)
	if resp.Status != http.StatusOK || location() != "/network" {
		t.Fatalf("after login: status %d at %s, want 200 at /network", resp.Status, location())
	}

	// Look up Z66 for today, the date the form proposes.
	date, err := chromedp.Run(bctx, chromedp.Value(chromedp.ID("date")))
	step("read date", err)
	if date != e.today.String() {
		t.Errorf("the date field proposes %q, want today %s", date, e.today)
	}
	step("type train number", chromedp.Do(bctx, chromedp.SendKeys(chromedp.ID("number"), "Z66")))
	resp, err = chromedp.RunResponse(bctx, chromedp.Click(chromedp.CSS(`#tt-form button[type="submit"]`)))
	step("submit timetable form", err)
	if resp.Status != http.StatusOK {
		t.Fatalf("timetable: status %d", resp.Status)
	}
	const rowsJS = `[...document.querySelectorAll("table.timetable tbody tr")].map(tr => ({
		station: tr.querySelector("th").innerText,
		arrive: tr.querySelector("td.arr").innerText,
		depart: tr.querySelector("td.dep").innerText,
	}))`
	rows, err := chromedp.Run(bctx, chromedp.Evaluate[[]timetableRow](rowsJS))
	step("read timetable", err)
	if len(rows) != 2 {
		t.Fatalf("Z66 has %d rows, want 2: %+v", len(rows), rows)
	}
	if o := rows[0]; !strings.Contains(o.Station, "南昌") || !strings.Contains(o.Depart, "20:06") || strings.Contains(o.Depart, "+") {
		t.Errorf("origin row = %+v, want 南昌 departing 20:06 on the service day", o)
	}
	if d := rows[1]; !strings.Contains(d.Station, "北京西") || !strings.Contains(d.Arrive, "07:32") || !strings.Contains(d.Arrive, "+1") {
		t.Errorf("terminus row = %+v, want 北京西 arriving 07:32 +1", d)
	}
	if path := os.Getenv("PIAO_TEST_SCREENSHOT"); path != "" {
		png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
		step("screenshot", err)
		step("write screenshot", os.WriteFile(path, png, 0o644))
	}

	// Switch to English: the same page comes back in English.
	resp, err = chromedp.RunResponse(bctx, chromedp.Click(chromedp.CSS(`.langs a[hreflang="en"]`)))
	step("switch to English", err)
	if resp.Status != http.StatusOK || !strings.HasPrefix(location(), "/network?") {
		t.Fatalf("after the switch: status %d at %s", resp.Status, location())
	}
	htmlLang, err := chromedp.Run(bctx, chromedp.Evaluate[string](`document.documentElement.lang`))
	step("read lang", err)
	text, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS("main")))
	step("read page", err)
	if htmlLang != "en" || !strings.Contains(text, "Beijing West") || !strings.Contains(text, "Train timetable") {
		t.Errorf("English page: lang %q, text:\n%s", htmlLang, text)
	}
}

// h5Browser is headless Chromium, sized like a phone, on the passenger pages.
type h5Browser struct {
	t    *testing.T
	e    *env
	ctx  context.Context
	step func(string, error)
}

// newH5Browser starts a phone-sized browser for the test.
func newH5Browser(t *testing.T, e *env) *h5Browser {
	exe := chromium(t)
	b := &h5Browser{t: t, e: e, ctx: newBrowser(t, exe, chromedp.WindowSize(430, 1000)), step: stepper(t)}
	b.step("phone viewport", chromedp.Do(b.ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulatePortrait)))
	return b
}

// location is the page the browser is at, without the server's address.
func (b *h5Browser) location() string {
	b.t.Helper()
	loc, err := chromedp.Run(b.ctx, chromedp.Location())
	b.step("location", err)
	return strings.TrimPrefix(loc, b.e.srv.URL)
}

// open navigates to a path of the server.
func (b *h5Browser) open(what, path string) {
	b.t.Helper()
	_, err := chromedp.Run(b.ctx, chromedp.NavigateResponse(b.e.srv.URL+path))
	b.step(what, err)
}

// click clicks what sel finds and waits for the page it leads to.
func (b *h5Browser) click(what, sel string) {
	b.t.Helper()
	resp, err := chromedp.RunResponse(b.ctx, chromedp.Click(chromedp.CSS(sel)))
	b.step(what, err)
	if resp.Status != http.StatusOK {
		b.t.Fatalf("%s: status %d at %s", what, resp.Status, b.location())
	}
}

// text is the text of what sel finds.
func (b *h5Browser) text(what, sel string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(sel)))
	b.step(what, err)
	return s
}

// orderStatus polls the order page until it shows want, reloading it,
// for up to 15 s: payment notifications arrive asynchronously.
func (b *h5Browser) orderStatus(want string) {
	b.t.Helper()
	page := b.location()
	got := ""
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); {
		// Errors are a page being replaced by its own refresh: try again.
		if s, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.querySelector("#order-status")?.dataset.status ?? ""`)); err == nil {
			if got = s; got == want {
				return
			}
		}
		time.Sleep(300 * time.Millisecond)
		_, _ = chromedp.Run(b.ctx, chromedp.NavigateResponse(b.e.srv.URL+page))
	}
	b.t.Fatalf("order page %s shows %q after 15 s, want %q", page, got, want)
}

// login opens a page that needs a login, logs in on the form it lands on
// and checks it comes back.
func (b *h5Browser) login(l demo.Login, path string) {
	b.t.Helper()
	b.open("open "+path, path)
	if loc := b.location(); !strings.HasPrefix(loc, "/login?next=") {
		b.t.Fatalf("anonymous browser is at %s, want the login form", loc)
	}
	b.step("fill login form", chromedp.Do(b.ctx,
		chromedp.SendKeys(chromedp.ID("username"), l.Username),
		chromedp.SendKeys(chromedp.ID("password"), l.Password),
	))
	b.click("log in", `form[action="/login"] button[type="submit"]`)
	if loc := b.location(); loc != path {
		b.t.Fatalf("after login the browser is at %s, want %s", loc, path)
	}
}

// book fills the booking form for one passenger and submits it.
func (b *h5Browser) book(name, id string) {
	b.t.Helper()
	b.step("fill passenger", chromedp.Do(b.ctx,
		chromedp.SendKeys(chromedp.ID("name_1"), name),
		chromedp.SendKeys(chromedp.ID("doc_number_1"), id),
	))
	seat, err := chromedp.Run(b.ctx, chromedp.Value(chromedp.ID("seat_1")))
	b.step("read seat", err)
	if seat != "hard_sleeper:lower" {
		b.t.Errorf("the seat select proposes %q, want hard_sleeper:lower", seat)
	}
	b.click("submit order", `#book-form button[value="book"]`)
	if !orderLocRE.MatchString(b.location()) {
		b.t.Fatalf("after booking the browser is at %s, want an order page", b.location())
	}
	b.orderStatus("held")
}

// pay pays the held order shown on the sandbox's page, comes back and
// waits for the notification to make it paid.
func (b *h5Browser) pay() {
	b.t.Helper()
	orderPage := b.location()
	b.click("pay", `form.pay button`)
	if loc := b.location(); !strings.HasPrefix(loc, "/sandbox/pay/") {
		b.t.Fatalf("pay went to %s, want the sandbox page", loc)
	}
	b.click("支付 on the sandbox page", `button[name="action"][value="pay"]`)
	if loc := b.location(); !strings.HasPrefix(loc, orderPage+"?payment_id=") {
		b.t.Fatalf("after paying the browser is at %s, want %s?payment_id=…", loc, orderPage)
	}
	b.orderStatus("paid")
}

// lowerLink is the search results' link to book a Z66 hard sleeper lower berth.
const lowerLink = `li[data-number="Z66"] a[href*="class=hard_sleeper"][href*="berth=lower"]`

// TestBrowserH5 drives headless Chromium, sized like a phone, through the
// passenger pages: log in, search NCG→BXP for tomorrow, book a Z66 hard
// sleeper lower berth, pay on the sandbox's page, wait for the asynchronous
// notification to show the e-ticket, refund it; then book again and cancel.
// Set PIAO_TEST_H5_SCREENSHOT to a .png path to keep a screenshot of the
// e-ticket page.
func TestBrowserH5(t *testing.T) {
	e := newEnv(t)
	b := newH5Browser(t, e)
	tomorrow := e.today.AddDays(1).String()

	// My orders needs a login, so the browser lands on the form.
	b.login(loginFor(t, identity.Passenger), "/h5/orders")
	// On a phone the header stays compact: the brand, the language switch
	// and log out on one line, the passenger's five pages under it.
	header, err := chromedp.Run(b.ctx, chromedp.Evaluate[float64](`document.querySelector("header.top").getBoundingClientRect().height`))
	b.step("measure the header", err)
	if header <= 0 || header > 120 {
		t.Errorf("the header is %.0f px tall on a 390 px phone, want at most 120", header)
	}

	// Search: the form proposes NCG → BXP tomorrow.
	b.click("open the ticket search", `nav a[href="/h5"]`)
	date, err := chromedp.Run(b.ctx, chromedp.Value(chromedp.ID("date")))
	b.step("read date", err)
	if date != tomorrow {
		t.Errorf("the date field proposes %q, want tomorrow %s", date, tomorrow)
	}
	b.click("search", `#search-form button[type="submit"]`)
	if loc := b.location(); !strings.HasPrefix(loc, "/h5/search?") || !strings.Contains(loc, "date="+tomorrow) {
		t.Fatalf("search went to %s", loc)
	}
	b.click("book Z66 hard sleeper lower", lowerLink)

	// Book for one passenger with a valid ID: the order is held.
	b.book("张三", idNumber(1))

	// Pay on the sandbox's page and come back.
	b.pay()
	text := b.text("read e-ticket", ".eticket")
	for _, want := range []string{"电子客票", "Z66", "南昌", "北京西", "20:06", "07:32", "张*", "已支付", "¥271.50", "下铺", "退票费", "改签"} {
		if !strings.Contains(text, want) {
			t.Errorf("the e-ticket lacks %q:\n%s", want, text)
		}
	}
	if path := os.Getenv("PIAO_TEST_H5_SCREENSHOT"); path != "" {
		png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
		b.step("screenshot", err)
		b.step("write screenshot", os.WriteFile(path, png, 0o644))
	}

	// Refund the ticket.
	b.click("refund", `form.refund button`)
	b.orderStatus("refunded")
	if text := b.text("read refunded order", "main"); !strings.Contains(text, "已退票") {
		t.Errorf("the refunded order page says:\n%s", text)
	}

	// Book again and cancel.
	b.open("search again", "/h5/search?from=NCG&to=BXP&date="+tomorrow)
	b.click("book Z66 hard sleeper lower again", lowerLink)
	b.book("李四", idNumber(2))
	b.click("cancel", `form.cancel button`)
	b.orderStatus("cancelled")
	if n, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](`document.querySelectorAll("form.pay, form.cancel").length`)); err != nil || n != 0 {
		t.Errorf("a cancelled order still offers %d actions (%v)", n, err)
	}
}

// TestBrowserH5Change drives headless Chromium through a change (改签): book
// and pay a Z66 hard sleeper lower berth for tomorrow, open its change page
// from the e-ticket, change to a T168 soft sleeper lower berth the day after
// (a dearer fare), pay the difference on the sandbox's page, see the new
// e-ticket paid, and follow the link back to the old order, now changed.
// Set PIAO_TEST_H5_CHANGE_SCREENSHOT to a .png path to keep a screenshot of
// the change page.
func TestBrowserH5Change(t *testing.T) {
	e := newEnv(t)
	b := newH5Browser(t, e)
	tomorrow, next := e.today.AddDays(1).String(), e.today.AddDays(2).String()

	b.login(loginFor(t, identity.Passenger), "/h5/orders")
	b.open("search", "/h5/search?from=NCG&to=BXP&date="+tomorrow)
	b.click("book Z66 hard sleeper lower", lowerLink)
	b.book("王五", idNumber(3))
	oldPage := b.location()
	b.pay()

	// The e-ticket offers the change; the change page proposes the next day.
	b.click("改签 on the e-ticket", `.eticket a.change`)
	if loc := b.location(); !strings.HasPrefix(loc, oldPage+"/change?ticket_id=") {
		t.Fatalf("the change link went to %s", loc)
	}
	date, err := chromedp.Run(b.ctx, chromedp.Value(chromedp.ID("date")))
	b.step("read date", err)
	if date != next {
		t.Errorf("the change page proposes %q, want the day after the ticket, %s", date, next)
	}
	if cur := b.text("read current ticket", "#current-ticket"); !strings.Contains(cur, "Z66") || !strings.Contains(cur, tomorrow) || !strings.Contains(cur, "¥271.50") {
		t.Errorf("the current ticket reads:\n%s", cur)
	}
	const softRow = `li[data-number="T168"] tr[data-kind="soft_sleeper:lower"]`
	if cost := b.text("read the cost", softRow+` .cost`); !strings.Contains(cost, "补 ¥158.00") {
		t.Errorf("changing to a T168 soft sleeper lower berth costs %q, want 补 ¥158.00", cost)
	}
	if path := os.Getenv("PIAO_TEST_H5_CHANGE_SCREENSHOT"); path != "" {
		png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
		b.step("screenshot", err)
		b.step("write screenshot", os.WriteFile(path, png, 0o644))
	}
	b.click("改签 to T168 soft sleeper lower", softRow+` form.change button`)

	// The change order waits for the difference.
	newPage := b.location()
	if !orderLocRE.MatchString(newPage) || newPage == oldPage {
		t.Fatalf("after the change the browser is at %s, want the new order's page", newPage)
	}
	b.orderStatus("held")
	if text := b.text("read the change", "#change-of"); !strings.Contains(text, "¥158.00") {
		t.Errorf("the change order says:\n%s", text)
	}
	b.pay()
	text := b.text("read new e-ticket", ".eticket")
	for _, want := range []string{"T168", next, "软卧", "下铺", "¥429.50", "已支付", "王*"} {
		if !strings.Contains(text, want) {
			t.Errorf("the new e-ticket lacks %q:\n%s", want, text)
		}
	}

	// Back on the old order: the ticket is changed and links to the new one.
	b.click("open the old order", `#change-of a[href="`+oldPage+`"]`)
	b.orderStatus("changed")
	old := b.text("read old order", "main")
	if !strings.Contains(old, "已改签") {
		t.Errorf("the old order page says:\n%s", old)
	}
	b.click("follow the changed ticket", `a.changed-to[href="`+newPage+`"]`)
	if loc := b.location(); loc != newPage {
		t.Errorf("the changed ticket links to %s, want %s", loc, newPage)
	}
}
