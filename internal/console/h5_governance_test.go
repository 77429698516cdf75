package console_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestH5CancelWarnings books and cancels for the same passenger until the
// cancel limits (SPEC G1, G2) warn and then refuse: the order page shows
// each warning once, in the page's language, and the refusals show when
// booking opens again.
func TestH5CancelWarnings(t *testing.T) {
	e := newEnv(t)
	cl := e.passenger(t)
	date := e.today.AddDays(1)
	_, body := cl.get("/h5/book?" + journey(date).Encode())
	csrf := csrfIn(body)
	doc := idNumber(40)
	form := bookForm(csrf, date, "hard_sleeper:lower", [2]string{"张三", doc})
	cancel := func(id int64) string {
		t.Helper()
		page := fmt.Sprintf("/h5/orders/%d", id)
		resp, body := cl.post(page+"/cancel", url.Values{"csrf": {csrf}})
		wantStatus(t, resp, body, http.StatusSeeOther)
		resp, body = cl.get(page)
		wantStatus(t, resp, body, http.StatusOK)
		return body
	}

	// The first cancel is below every threshold.
	body = cancel(cl.book(form))
	if strings.Contains(body, "gov-warnings") {
		t.Errorf("the first cancel warns:\n%s", body)
	}

	// The second: the account has one cancel left, the passenger too.
	id := cl.book(form)
	page := fmt.Sprintf("/h5/orders/%d", id)
	body = cancel(id)
	wantContains(t, body, `<div class="notice warn" role="alert" id="gov-warnings">`, "取消提醒",
		"本账号今日已取消 2 次；再取消 1 次，今日将不能再订票", "乘客 张* 今日已被取消 2 次；再取消 1 次，今日将不能为其订票", `data-status="cancelled"`)
	if strings.Contains(body, "this account has cancelled") {
		t.Error("a Chinese page shows the English warning")
	}
	// Shown once: reloading the page does not repeat it.
	_, body = cl.get(page)
	if strings.Contains(body, "gov-warnings") {
		t.Error("the warnings show again on reload")
	}

	// In English: booking the passenger again warns on the new order.
	cl.get("/lang?to=en")
	id = cl.book(form)
	_, body = cl.get(fmt.Sprintf("/h5/orders/%d", id))
	wantContains(t, body, `id="gov-warnings"`, "Cancellation notice", "passenger 张* had 2 cancels today; 1 more and they cannot be booked again today")
	if strings.Contains(body, "今日已被取消") {
		t.Error("an English page shows the Chinese warning")
	}
	body = cancel(id)
	wantContains(t, body, "this account has cancelled 3 times today and cannot book again before", "passenger 张* had 3 cancels today; 0 more")

	// Now the account is refused until the day ends, with when it lifts.
	loc := shanghaiLoc(t)
	now := time.Now().In(loc)
	lifts := time.Date(now.Year(), now.Month(), now.Day()+1, 0, 0, 0, 0, loc).Format("2006-01-02 15:04")
	resp, body := cl.post("/h5/book", bookForm(csrf, date, "hard_sleeper:lower", [2]string{"李四", idNumber(41)}))
	wantStatus(t, resp, body, http.StatusTooManyRequests)
	wantContains(t, body, `role="alert"`, "this account cancelled 3 orders today and cannot book again before "+lifts+" (Beijing time)",
		"本账号今日已取消订单 3 次，"+lifts+" 前不能再订票", `value="李四"`)

	// And the passenger is refused for any account.
	_, other := e.newPassenger(t, "other_booker")
	ocl := e.client(t)
	ocl.login(other)
	resp, body = ocl.post("/h5/book", bookForm(ocl.csrfFor("/"), date, "hard_sleeper:lower", [2]string{"张三", doc}))
	wantStatus(t, resp, body, http.StatusTooManyRequests)
	wantContains(t, body, "第 1 位乘客（张*）今日已被取消 3 次（含所有账号），"+lifts+" 前不能为其订票", "cannot be booked before "+lifts)
}

// TestH5WarningsCookie checks that only warnings the server signed for
// this session and order are shown.
func TestH5WarningsCookie(t *testing.T) {
	e := newEnv(t)
	cl := e.passenger(t)
	date := e.today.AddDays(1)
	_, body := cl.get("/h5/book?" + journey(date).Encode())
	csrf := csrfIn(body)
	id := cl.book(bookForm(csrf, date, "hard_sleeper:lower", [2]string{"张三", idNumber(42)}))
	page := fmt.Sprintf("/h5/orders/%d", id)
	u, _ := url.Parse(e.srv.URL + page)
	for _, v := range []string{"W3siWkgiOiLor7fmi6jmiZMiLCJFTiI6ImNhbGwifV0.AAAA", "garbage", "a.b.c"} {
		cl.hc.Jar.SetCookies(u, []*http.Cookie{{Name: "piao_warn", Value: v, Path: page}})
		resp, body := cl.get(page)
		wantStatus(t, resp, body, http.StatusOK)
		if strings.Contains(body, "gov-warnings") {
			t.Errorf("a forged warnings cookie %q is shown", v)
		}
	}
	// Someone else's signed warnings do not show either: cancel twice as
	// another account, then replay its cookie in this session.
	_, l := e.newPassenger(t, "warned")
	ocl := e.client(t)
	ocl.login(l)
	ocsrf := ocl.csrfFor("/")
	f := bookForm(ocsrf, date, "hard_sleeper:lower", [2]string{"王五", idNumber(43)})
	for range 2 {
		oid := ocl.book(f)
		resp, body := ocl.post(fmt.Sprintf("/h5/orders/%d/cancel", oid), url.Values{"csrf": {ocsrf}})
		wantStatus(t, resp, body, http.StatusSeeOther)
		ou, _ := url.Parse(e.srv.URL + fmt.Sprintf("/h5/orders/%d", oid))
		var warn string
		for _, ck := range ocl.hc.Jar.Cookies(ou) {
			if ck.Name == "piao_warn" {
				warn = ck.Value
			}
		}
		if warn == "" {
			continue // the first cancel warns of nothing
		}
		cl.hc.Jar.SetCookies(u, []*http.Cookie{{Name: "piao_warn", Value: warn, Path: page}})
		_, body = cl.get(page)
		if strings.Contains(body, "gov-warnings") {
			t.Error("another session's warnings are shown")
		}
		return
	}
	t.Fatal("the second cancel set no warnings cookie")
}
