package console_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"piao/internal/identity"
)

// TestH5Recommend: the search results offer the "what matters" form; asked
// for the arrival time, the recommendation page puts Z66 before T168 and
// says why, with a book button reusing the search page's booking link;
// bad input is a 422 page with the form still there.
func TestH5Recommend(t *testing.T) {
	e := newEnv(t)
	tomorrow := e.today.AddDays(1).String()
	anon := e.client(t)

	resp, body := anon.get("/h5/search?from=NCG&to=BXP&date=" + tomorrow)
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, `id="recommend-form"`, `action="/h5/recommend"`, "按需推荐", `name="by"`, `value="arrival" selected`, `name="arrive_by"`)

	q := url.Values{"from": {"NCG"}, "to": {"BXP"}, "date": {tomorrow}, "by": {"arrival"}, "then": {"price"}, "berth": {"lower"}}
	resp, body = anon.get("/h5/recommend?" + q.Encode())
	wantStatus(t, resp, body, http.StatusOK)
	z, tr := strings.Index(body, `data-number="Z66" data-rank="1"`), strings.Index(body, `data-number="T168" data-rank="2"`)
	if z < 0 || tr < 0 || z > tr {
		t.Fatalf("want Z66 ranked 1 before T168 ranked 2:\n%s", body)
	}
	wantContains(t, body, "到达时间 07:32，比 T168 早 5 小时 28 分", "硬卧 下铺", z66Lower,
		`href="/h5/book?berth=lower&amp;class=hard_sleeper&amp;date=`+tomorrow+`&amp;from=cr%3ANCG&amp;to=cr%3ABXP&amp;train=cr%3AZ66"`,
		`<option value="price" selected>`, `<option value="lower" selected>`)

	// English.
	anon.hdr.Set("Cookie", "piao_lang=en")
	resp, body = anon.get("/h5/recommend?" + q.Encode())
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, "arrives 07:32, 5 h 28 min earlier than T168", "Recommended trains", "Hard sleeper, lower")
	anon.hdr.Del("Cookie")

	// By price in a class nobody has: every train listed, sold out.
	resp, body = anon.get("/h5/recommend?" + url.Values{"from": {"NCG"}, "to": {"BXP"}, "date": {tomorrow}, "by": {"price"}, "class": {"second"}}.Encode())
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, `id="rec-sold-out"`, `data-number="Z66"`, `data-number="T168"`, "无票")
	if strings.Contains(body, `class="button small book"`) {
		t.Errorf("a sold-out train offers a book button")
	}

	// Bad input: 422 with the message, the form still there.
	for _, bad := range []string{"by=speed", "berth=top", "arrive_by=8pm", "class=sofa"} {
		resp, body = anon.get("/h5/recommend?from=NCG&to=BXP&date=" + tomorrow + "&" + bad)
		wantStatus(t, resp, body, http.StatusUnprocessableEntity)
		wantContains(t, body, `role="alert"`, `id="recommend-form"`)
	}
}

// TestBrowserH5Recommend drives headless Chromium through the recommend
// form: on the search results choose "arrival time", see Z66 first with the
// reason naming the arrival time, and book it from there.
func TestBrowserH5Recommend(t *testing.T) {
	e := newEnv(t)
	b := newH5Browser(t, e)
	tomorrow := e.today.AddDays(1).String()

	b.login(loginFor(t, identity.Passenger), "/h5/orders")
	b.open("search", "/h5/search?from=NCG&to=BXP&date="+tomorrow)
	b.step("choose what matters", chromedp.Do(b.ctx,
		chromedp.SetValue(chromedp.ID("rec-by"), "arrival"),
		chromedp.SetValue(chromedp.ID("rec-berth"), "lower"),
		chromedp.SetValue(chromedp.ID("rec-class"), "hard_sleeper"),
	))
	b.click("recommend", `#recommend-form button[type="submit"]`)
	if loc := b.location(); !strings.HasPrefix(loc, "/h5/recommend?") || !strings.Contains(loc, "by=arrival") {
		t.Fatalf("the recommend form went to %s", loc)
	}
	first, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.querySelector("ol.recommendations li")?.dataset.number ?? ""`))
	b.step("read first", err)
	if first != "Z66" {
		t.Fatalf("first recommendation is %q, want Z66", first)
	}
	if reason := b.text("read reason", `li[data-number="Z66"] .reason`); !strings.Contains(reason, "到达时间 07:32，比 T168 早 5 小时 28 分") {
		t.Errorf("Z66's reason reads %q", reason)
	}
	b.click("book the recommended Z66", `li[data-number="Z66"] a.book`)
	if loc := b.location(); !strings.HasPrefix(loc, "/h5/book?") || !strings.Contains(loc, "train=cr%3AZ66") {
		t.Fatalf("the book button went to %s", loc)
	}
	b.book("赵六", idNumber(7))
}
