package console_test

import (
	"context"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

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

	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx,
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
		chromedp.WindowSize(1280, 1000),
	)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(allocCtx)
	defer cancelBrowser()

	step := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
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
