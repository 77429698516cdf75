package console_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"piao/internal/booking"
	"piao/internal/identity"
	"piao/internal/network"
	"piao/internal/realname"
)

// addSixBerthTrain adds a train W6 (WXA 20:00 → WXC 23:00, one hard-sleeper
// compartment: two lower, two middle, two upper berths) running daily from
// today, and has other passengers hold both lower berths tomorrow. It
// returns the holders' accounts and orders.
func (e *env) addSixBerthTrain(t *testing.T) ([]int64, []booking.Order) {
	t.Helper()
	ctx := context.Background()
	b := &network.Bundle{
		Feed:      network.Feed{ID: "w", Name: "test", Mode: network.ModeRail, Timezone: "Asia/Shanghai", Digest: "w1"},
		Agencies:  []network.Agency{{ID: "w:A", FeedID: "w", Name: "Test Rail"}},
		Calendars: []network.Calendar{network.Daily("w:daily", "w", e.today, 30)},
		CarTypes:  []network.CarType{network.SleeperLayout("YW1", network.HardSleeper, "硬卧", "Hard sleeper", 1, []network.Berth{network.Lower, network.Middle, network.Upper})},
	}
	svc := network.Service{ID: "w:W6", FeedID: "w", Number: "W6", CalendarID: "w:daily", Cars: []network.Car{{No: 1, CarType: "YW1"}}}
	for i, code := range []string{"WXA", "WXC"} {
		b.Stations = append(b.Stations, network.Station{ID: "w:" + code, FeedID: "w", Code: code, NameZH: "测站" + code, NameEN: "Station " + code})
		secs := 20*3600 + i*3*3600
		svc.Stops = append(svc.Stops, network.Stop{Seq: i + 1, StationID: "w:" + code, Arrive: secs, Depart: secs + 120, Metres: i * 200000})
	}
	b.Services = []network.Service{svc}
	for k, berth := range []network.Berth{network.Lower, network.Middle, network.Upper} {
		b.Fares = append(b.Fares, network.Fare{ServiceID: svc.ID, FromStationID: "w:WXA", ToStationID: "w:WXC", SeatClass: network.HardSleeper, Berth: berth, Fen: int64(10000 - 1000*k)})
	}
	if _, err := e.app.Network.ImportBundle(ctx, b); err != nil {
		t.Fatal(err)
	}
	var accts []int64
	var orders []booking.Order
	for i := 0; i < 2; i++ {
		id, _ := e.newPassenger(t, fmt.Sprintf("lower-holder-%d", i))
		res, err := e.app.Booking.Book(ctx, booking.BookRequest{AccountID: id, Train: "W6", Date: e.today.AddDays(1).String(), From: "WXA", To: "WXC",
			Passengers: []booking.PassengerRequest{{Name: "王芳", DocType: string(realname.IDCard), DocNumber: idNumber(600 + i), SeatClass: network.HardSleeper, Berth: network.Lower}}})
		if err != nil {
			t.Fatal(err)
		}
		accts, orders = append(accts, id), append(orders, res.Order)
	}
	return accts, orders
}

// w6Book is the booking form of W6 tomorrow for one passenger.
func w6Book(csrf string, date network.Date, op, doc string) url.Values {
	return url.Values{"csrf": {csrf}, "train": {"w:W6"}, "date": {date.String()}, "from": {"w:WXA"}, "to": {"w:WXC"}, "n": {"1"},
		"name_1": {"陈静"}, "doc_type_1": {"id_card"}, "doc_number_1": {doc}, "seat_1": {"hard_sleeper:lower"}, "op": {op}}
}

// Without a browser: a lower berth that is gone is refused with the three
// choices; taking any gives a middle berth and says so on the order page;
// joining the waitlist makes an unpaid entry with its page.
func TestH5UnmetPreference(t *testing.T) {
	e := newEnv(t)
	e.addSixBerthTrain(t)
	cl := e.passenger(t)
	date := e.today.AddDays(1)
	csrf := cl.csrfFor("/")
	resp, body := cl.post("/h5/book", w6Book(csrf, date, "book", idNumber(11)))
	wantStatus(t, resp, body, http.StatusConflict)
	wantContains(t, body, `id="unmet"`, "所选铺位或座位已无票", `id="take-any"`, `id="join-waitlist"`, `id="see-alternatives"`)

	resp, body = cl.post("/h5/book", w6Book(csrf, date, "waitlist", idNumber(11)))
	wantStatus(t, resp, body, http.StatusSeeOther)
	loc := resp.Header.Get("Location")
	if !strings.HasPrefix(loc, "/h5/waitlist/") {
		t.Fatalf("joining the waitlist went to %q", loc)
	}
	resp, body = cl.get(loc)
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, `data-status="unpaid"`, "待支付", "¥100.00", `id="waitlist-pay"`, "W6")
	noMissingMessages(t, cl, loc, "/h5/waitlist")

	resp, body = cl.post("/h5/book", w6Book(csrf, date, "alternatives", idNumber(12)))
	wantStatus(t, resp, body, http.StatusSeeOther)
	if l := resp.Header.Get("Location"); !strings.HasPrefix(l, "/h5/recommend?") || !strings.Contains(l, "berth=lower") {
		t.Fatalf("alternatives went to %q", l)
	}

	resp, body = cl.post("/h5/book", w6Book(csrf, date, "any", idNumber(13)))
	wantStatus(t, resp, body, http.StatusSeeOther)
	resp, body = cl.get(resp.Header.Get("Location"))
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, "下铺已无票，已分配中铺", "中铺")
}

// TestBrowserH5Waitlist drives headless Chromium through R8 and R9: book a
// lower berth that others hold, be told it is gone, join the waitlist,
// prepay on the sandbox's page, wait first in the queue, and — when a
// holder cancels — find the entry served with a paid lower berth.
func TestBrowserH5Waitlist(t *testing.T) {
	e := newEnv(t)
	holders, held := e.addSixBerthTrain(t)
	b := newH5Browser(t, e)
	tomorrow := e.today.AddDays(1).String()
	b.login(loginFor(t, identity.Passenger), "/h5/waitlist")

	b.open("book W6", "/h5/book?"+url.Values{"train": {"w:W6"}, "date": {tomorrow}, "from": {"w:WXA"}, "to": {"w:WXC"}, "class": {"hard_sleeper"}, "berth": {"lower"}}.Encode())
	b.step("fill passenger", chromedp.Do(b.ctx,
		chromedp.SendKeys(chromedp.ID("name_1"), "陈静"),
		chromedp.SendKeys(chromedp.ID("doc_number_1"), idNumber(21)),
		chromedp.SetValue(chromedp.ID("seat_1"), "hard_sleeper:lower"),
	))
	_, err := chromedp.RunResponse(b.ctx, chromedp.Click(chromedp.CSS(`#book-form button[value="book"]`)))
	b.step("submit the booking", err)
	if text := b.text("read the refusal", "#unmet"); !strings.Contains(text, "所选铺位或座位已无票") {
		t.Fatalf("the refusal says:\n%s", text)
	}
	b.click("join the waitlist", "#join-waitlist")
	page := b.location()
	if !strings.HasPrefix(page, "/h5/waitlist/") {
		t.Fatalf("joining went to %s", page)
	}
	b.waitlistStatus("unpaid")
	b.click("prepay", "#waitlist-pay")
	if loc := b.location(); !strings.HasPrefix(loc, "/sandbox/pay/") {
		t.Fatalf("prepay went to %s", loc)
	}
	b.click("支付 on the sandbox page", `button[name="action"][value="pay"]`)
	if loc := b.location(); !strings.HasPrefix(loc, page+"?payment_id=") {
		t.Fatalf("after paying the browser is at %s", loc)
	}
	b.waitlistStatus("waiting")
	if pos := b.text("read position", "#waitlist-position"); !strings.Contains(pos, "第 1 位") {
		t.Errorf("position: %q", pos)
	}
	if chance := b.text("read chance", "#waitlist-chance"); !strings.Contains(chance, "%") {
		t.Errorf("chance: %q", chance)
	}

	// A holder of a lower berth cancels: the berth goes to the waitlist.
	if _, err := e.app.Booking.Cancel(context.Background(), held[0].ID, holders[0]); err != nil {
		t.Fatal(err)
	}
	b.open("reload the entry", page)
	b.waitlistStatus("fulfilled")
	b.click("see the ticket", "#waitlist-order")
	b.orderStatus("paid")
	text := b.text("read e-ticket", ".eticket")
	for _, want := range []string{"W6", "下铺", "已支付", "陈*"} {
		if !strings.Contains(text, want) {
			t.Errorf("the e-ticket lacks %q:\n%s", want, text)
		}
	}
}

// waitlistStatus polls the entry page until it shows want, for up to 15 s.
func (b *h5Browser) waitlistStatus(want string) {
	b.t.Helper()
	page := b.location()
	got := ""
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); {
		if s, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.querySelector("#waitlist-status")?.dataset.status ?? ""`)); err == nil {
			if got = s; got == want {
				return
			}
		}
		time.Sleep(300 * time.Millisecond)
		_, _ = chromedp.Run(b.ctx, chromedp.NavigateResponse(b.e.srv.URL+page))
	}
	b.t.Fatalf("waitlist page %s shows %q after 15 s, want %q", page, got, want)
}
