package console_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"piao/internal/booking"
	"piao/internal/demo"
	"piao/internal/fees"
	"piao/internal/identity"
	"piao/internal/network"
	"piao/internal/realname"
)

// idNumber is a valid mainland ID card number for test passenger n.
func idNumber(n int) string {
	return realname.MakeID("360102", time.Date(1990, 1, 1+n, 0, 0, 0, 0, time.UTC), 100+n)
}

// z66Lower is the demo fare of a Z66 hard sleeper lower berth, Nanchang to
// Beijing West (1449 km at 18 fen/km × 1.04, rounded to ¥0.5).
const z66Lower = "¥271.50"

// journey is the booking form's hidden fields for Z66 NCG→BXP on date.
func journey(date network.Date) url.Values {
	return url.Values{"train": {"cr:Z66"}, "date": {date.String()}, "from": {"cr:NCG"}, "to": {"cr:BXP"}}
}

// bookForm is a POST /h5/book form for passengers on Z66 NCG→BXP.
func bookForm(csrf string, date network.Date, seat string, passengers ...[2]string) url.Values {
	f := journey(date)
	f.Set("csrf", csrf)
	f.Set("n", strconv.Itoa(len(passengers)))
	for i, p := range passengers {
		k := strconv.Itoa(i + 1)
		f.Set("name_"+k, p[0])
		f.Set("doc_type_"+k, "id_card")
		f.Set("doc_number_"+k, p[1])
		f.Set("seat_"+k, seat)
	}
	return f
}

var orderLocRE = regexp.MustCompile(`^/h5/orders/([0-9]+)$`)

// book books through the form and returns the order ID.
func (c *client) book(form url.Values) int64 {
	c.t.Helper()
	resp, body := c.post("/h5/book", form)
	wantStatus(c.t, resp, body, http.StatusSeeOther)
	m := orderLocRE.FindStringSubmatch(resp.Header.Get("Location"))
	if m == nil {
		c.t.Fatalf("after booking Location = %q", resp.Header.Get("Location"))
	}
	id, _ := strconv.ParseInt(m[1], 10, 64)
	return id
}

// passenger logs a new client in as the demo passenger.
func (e *env) passenger(t *testing.T) *client {
	cl := e.client(t)
	cl.login(loginFor(t, identity.Passenger))
	return cl
}

// newPassenger creates another passenger account and returns its ID and login.
func (e *env) newPassenger(t *testing.T, username string) (int64, demo.Login) {
	t.Helper()
	l := demo.Login{Username: username, Password: "piao-test-" + username, Role: identity.Passenger, Name: username}
	acct, err := e.app.Identity.CreateAccount(context.Background(), identity.NewAccount{Username: l.Username, DisplayName: l.Name, Role: l.Role, Password: l.Password})
	if err != nil {
		t.Fatal(err)
	}
	return acct.ID, l
}

// payOrder pays a held order through the sandbox the way its page does and
// waits until the asynchronous notification has made the order paid.
func (e *env) payOrder(t *testing.T, cl *client, id int64) {
	t.Helper()
	resp, body := cl.post(fmt.Sprintf("/h5/orders/%d/pay", id), url.Values{"csrf": {cl.csrfFor("/")}})
	wantStatus(t, resp, body, http.StatusSeeOther)
	u, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || !strings.HasPrefix(u.Path, "/sandbox/pay/") {
		t.Fatalf("pay went to %q, want the sandbox page", resp.Header.Get("Location"))
	}
	if _, err := e.app.Sandbox.Pay(context.Background(), path.Base(u.Path)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		o, err := e.app.Booking.Order(context.Background(), id, 0)
		if err != nil {
			t.Fatal(err)
		}
		if o.Status == booking.Paid {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("order %d still %s 15 s after paying", id, o.Status)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestH5Search(t *testing.T) {
	e := newEnv(t)
	tomorrow := e.today.AddDays(1).String()
	anon := e.client(t)

	resp, body := anon.get("/h5")
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, "车票查询", `id="from" name="from" value="NCG"`, `id="to" name="to" value="BXP"`, `value="`+tomorrow+`"`,
		`<label for="date">出发日期</label>`, `href="/login?next=%2Fh5"`)

	resp, body = anon.get("/h5/search?from=NCG&to=BXP&date=" + tomorrow)
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, `data-number="Z66"`, `data-number="T168"`, "20:06", "07:32", ">+1</sup>", "11 小时 26 分",
		"硬卧 下铺", "软卧 上铺", z66Lower, "预订",
		`href="/h5/book?berth=lower&amp;class=hard_sleeper&amp;date=`+tomorrow+`&amp;from=cr%3ANCG&amp;to=cr%3ABXP&amp;train=cr%3AZ66"`,
		`aria-label="预订 Z66 硬卧 下铺"`)
	if strings.Contains(body, `data-number="G488"`) {
		t.Error("G488 does not call at Nanchang but is listed")
	}
	// Results are in departure order: T168 leaves at 19:07, Z66 at 20:06.
	if strings.Index(body, `data-number="T168"`) > strings.Index(body, `data-number="Z66"`) {
		t.Error("trains are not in departure order")
	}

	// Stations by name and pinyin; an intermediate station.
	resp, body = anon.get("/h5/search?from=" + url.QueryEscape("九江") + "&to=beijingxi&date=" + tomorrow)
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, `data-number="T168"`, `data-number="G488"`, "20:31")

	// The heading says what was searched: a city (南昌 finds 南昌 and
	// 南昌西, G488 leaves from 南昌西 first), or the one station found.
	for _, c := range []struct{ from, to, want string }{
		{"NCG", "BXP", "南昌 → 北京西，"},
		{"南昌", "BXP", "南昌 → 北京西，"},
		{"nanchang", "北京", "南昌 → 北京西，"},
		{"nanchangxi", "cr:BXP", "南昌西 → 北京西，"},
	} {
		resp, body = anon.get("/h5/search?" + url.Values{"from": {c.from}, "to": {c.to}, "date": {tomorrow}}.Encode())
		wantStatus(t, resp, body, http.StatusOK)
		wantContains(t, body, `<h2 id="results-h">`+c.want+tomorrow+`</h2>`)
	}
	if !strings.Contains(body, `data-number="G488"`) {
		t.Error("the search from 南昌西 lacks G488")
	}

	bad := []struct {
		query  string
		status int
		say    []string
	}{
		{"from=NOWHERE&to=BXP", http.StatusNotFound, []string{"没有找到车站", "no station matches"}},
		{"from=NCG&to=BXP&date=2026-02-30", http.StatusUnprocessableEntity, []string{"格式错误", "is not a YYYY-MM-DD date"}},
		{"from=&to=BXP", http.StatusUnprocessableEntity, []string{"请输入出发站和到达站", "origin and destination are required"}},
	}
	for _, b := range bad {
		resp, body = anon.get("/h5/search?" + b.query)
		wantStatus(t, resp, body, b.status)
		wantContains(t, body, append(b.say, `role="alert"`, `id="search-form"`)...)
	}

	resp, body = anon.get("/h5/search?from=BXP&to=NCG&date=" + tomorrow)
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, "当日没有符合条件的车次")

	// English.
	anon.get("/lang?to=en")
	resp, body = anon.get("/h5/search?from=NCG&to=BXP&date=" + tomorrow)
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, "Nanchang", "Beijing West", "Hard sleeper, lower", "11 h 26 min", z66Lower, ">Book</a>", `aria-label="Book Z66 Hard sleeper, lower"`)
	resp, body = anon.get("/h5/search?" + url.Values{"from": {"南昌"}, "to": {"bjx"}, "date": {tomorrow}}.Encode())
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, `<h2 id="results-h">Nanchang → Beijing West, `+tomorrow+`</h2>`)

	// Booking needs a login that comes back to the form.
	bookURL := "/h5/book?" + journey(e.today.AddDays(1)).Encode()
	resp, body = anon.get(bookURL)
	wantStatus(t, resp, body, http.StatusSeeOther)
	if got := resp.Header.Get("Location"); got != "/login?next="+url.QueryEscape(bookURL) {
		t.Errorf("Location = %q", got)
	}
}

func TestH5Navigation(t *testing.T) {
	e := newEnv(t)
	cl := e.passenger(t)
	// A passenger's home is the ticket search, and the menu holds only the
	// passenger's pages: no workbench, no network.
	resp, body := cl.get("/")
	if wantStatus(t, resp, body, http.StatusSeeOther); resp.Header.Get("Location") != "/h5" {
		t.Errorf("a passenger's workbench sends to %q, want /h5", resp.Header.Get("Location"))
	}
	_, body = cl.get("/h5/orders")
	wantContains(t, body, `<a href="/h5/orders" aria-current="page">我的订单</a>`, `<a href="/h5">车票</a>`, "您还没有订单", `<a class="brand" href="/h5">`)
	if got := navLinks(body); strings.Join(got, " ") != "/h5 /h5/orders /h5/waitlist /h5/wallet /h5/shop /h5/invoices /h5/documents /h5/subsidy" {
		t.Errorf("a passenger's menu links to %v", got)
	}
	_, body = cl.get("/h5/search?from=NCG&to=BXP")
	wantContains(t, body, `<a href="/h5" aria-current="page">车票</a>`)
	// The network page stays open to a passenger, with the passenger's menu.
	_, body = cl.get("/network")
	if got := navLinks(body); len(got) != 8 || slices.Contains(got, "/network") || slices.Contains(got, "/") {
		t.Errorf("on the network page a passenger's menu links to %v", got)
	}

	admin := e.client(t)
	admin.login(loginFor(t, identity.OperatorAdmin))
	_, body = admin.get("/")
	if strings.Contains(body, `href="/h5"`) || strings.Contains(body, `href="/h5/orders"`) {
		t.Errorf("an operator's menu offers the passenger pages:\n%s", body)
	}
	wantContains(t, body, `<a class="brand" href="/">`, `<a href="/network">`)
	// An operator may look trains up, but is offered no booking form its
	// role would be refused.
	for _, page := range []string{"/h5/search?from=NCG&to=BXP", "/h5/recommend?from=NCG&to=BXP&by=price"} {
		resp, body := admin.get(page)
		wantStatus(t, resp, body, http.StatusOK)
		wantContains(t, body, `id="no-booking"`, "当前账号的角色不购票", `data-number="Z66"`)
		if strings.Contains(body, `href="/h5/book?`) {
			t.Errorf("%s offers an operator booking links", page)
		}
	}
	if _, body = cl.get("/h5/search?from=NCG&to=BXP"); !strings.Contains(body, `href="/h5/book?`) || strings.Contains(body, `id="no-booking"`) {
		t.Error("the passenger's results lack their booking links")
	}
}

var navLinkRE = regexp.MustCompile(`<li><a href="([^"]+)"`)

// navLinks lists where the main navigation of a page links to.
func navLinks(body string) []string {
	start, end := strings.Index(body, `<nav aria-label=`), strings.Index(body, `</nav>`)
	if start < 0 || end < start {
		return nil
	}
	var out []string
	for _, m := range navLinkRE.FindAllStringSubmatch(body[start:end], -1) {
		out = append(out, m[1])
	}
	return out
}

func TestH5BookErrors(t *testing.T) {
	e := newEnv(t)
	cl := e.passenger(t)
	date := e.today.AddDays(1)

	resp, body := cl.get("/h5/book?" + journey(date).Encode() + "&class=hard_sleeper&berth=lower")
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, "预订车票", "Z66", "南昌", "北京西", `<legend>乘客 1</legend>`,
		`<label for="name_1">姓名</label>`, `<label for="doc_number_1">证件号码</label>`, `<label for="doc_type_1">证件类型</label>`,
		`<option value="hard_sleeper:lower" selected>硬卧 下铺 `+z66Lower, `<option value="id_card" selected>居民身份证</option>`,
		`<option value="hard_sleeper:">硬卧 不限铺位</option>`, `<option value="passport">护照</option>`)
	csrf := csrfIn(body)

	t.Run("add and remove passengers keep what was typed", func(t *testing.T) {
		f := bookForm(csrf, date, "hard_sleeper:lower", [2]string{"张三", "12345"})
		f.Set("op", "add")
		resp, body := cl.post("/h5/book", f)
		wantStatus(t, resp, body, http.StatusOK)
		wantContains(t, body, `<legend>乘客 2</legend>`, `value="张三"`, `value="12345"`, `name="n" value="2"`, "删除最后一位乘客")
		f.Set("n", "2")
		f.Set("op", "remove")
		resp, body = cl.post("/h5/book", f)
		wantStatus(t, resp, body, http.StatusOK)
		if strings.Contains(body, "乘客 2") {
			t.Error("passenger 2 is still there")
		}
		for range 5 {
			f.Set("op", "add")
			_, body = cl.post("/h5/book", f)
			f.Set("n", strconv.Itoa(min(strings.Count(body, "<fieldset"), 9)))
		}
		if n := strings.Count(body, "<fieldset"); n != booking.MaxPassengers || strings.Contains(body, `value="add"`) {
			t.Errorf("%d passenger rows, add button %v; want %d and none", n, strings.Contains(body, `value="add"`), booking.MaxPassengers)
		}
	})

	t.Run("bad ID number names the passenger", func(t *testing.T) {
		good, bad := idNumber(1), idNumber(2)
		bad = bad[:17] + string("0123456789X"[(strings.IndexByte("0123456789X", bad[17])+1)%11])
		resp, body := cl.post("/h5/book", bookForm(csrf, date, "hard_sleeper:lower", [2]string{"张三", bad}))
		wantStatus(t, resp, body, http.StatusUnprocessableEntity)
		wantContains(t, body, `role="alert"`, "第 1 位乘客", "校验位不正确", "passenger 1:", "check character", `value="张三"`, `value="`+bad+`"`)

		resp, body = cl.post("/h5/book", bookForm(csrf, date, "hard_sleeper:lower", [2]string{"张三", good}, [2]string{"李四", "36010219900101"}))
		wantStatus(t, resp, body, http.StatusUnprocessableEntity)
		wantContains(t, body, "第 2 位乘客", "passenger 2:", `<legend>乘客 2</legend>`)

		resp, body = cl.post("/h5/book", bookForm(csrf, date, "hard_sleeper:lower", [2]string{"", good}))
		wantStatus(t, resp, body, http.StatusUnprocessableEntity)
		wantContains(t, body, "第 1 位乘客", "passenger 1:")
		// A name of Hangul fillers displays as empty: refused like one.
		resp, body = cl.post("/h5/book", bookForm(csrf, date, "hard_sleeper:lower", [2]string{"\u3164\u3164", good}))
		wantStatus(t, resp, body, http.StatusUnprocessableEntity)
		wantContains(t, body, "第 1 位乘客", "passenger 1:", "姓名须为", "a name is")
	})

	t.Run("unknown train", func(t *testing.T) {
		f := bookForm(csrf, date, "hard_sleeper:lower", [2]string{"张三", idNumber(1)})
		f.Set("train", "cr:G488")
		resp, body := cl.post("/h5/book", f)
		wantStatus(t, resp, body, http.StatusNotFound)
		wantContains(t, body, "没有车次 cr:G488", "does not run between those stations")
		resp, body = cl.get("/h5/book?" + journey(e.today.AddDays(400)).Encode())
		wantStatus(t, resp, body, http.StatusNotFound)
	})

	t.Run("sold out", func(t *testing.T) {
		// Sell every business seat of G488 (one car of 8 rows × A C F) to
		// other accounts: each may hold one unpaid order of 5.
		ctx := context.Background()
		left := 24
		for i := 0; left > 0; i++ {
			acct, _ := e.newPassenger(t, fmt.Sprintf("buyer%d", i))
			req := booking.BookRequest{AccountID: acct, Train: "G488", Date: date.String(), From: "NXG", To: "BXP"}
			for j := range min(left, booking.MaxPassengers) {
				n := 10 + i*10 + j
				req.Passengers = append(req.Passengers, booking.PassengerRequest{Name: "乘客", DocType: "id_card", DocNumber: idNumber(n), SeatClass: network.Business})
			}
			if _, err := e.app.Booking.Book(ctx, req); err != nil {
				t.Fatal(err)
			}
			left -= len(req.Passengers)
		}
		resp, body := cl.get("/h5/search?from=NXG&to=BXP&date=" + date.String())
		wantStatus(t, resp, body, http.StatusOK)
		wantContains(t, body, `<tr class="none"><th scope="row">商务座</th><td class="num left">无票</td>`)
		if strings.Contains(body, "class=business") {
			t.Error("sold-out business class still has a booking link")
		}
		f := url.Values{"csrf": {csrf}, "train": {"cr:G488"}, "date": {date.String()}, "from": {"cr:NXG"}, "to": {"cr:BXP"}, "n": {"1"},
			"name_1": {"张三"}, "doc_type_1": {"id_card"}, "doc_number_1": {idNumber(1)}, "seat_1": {"business:"}}
		resp, body = cl.post("/h5/book", f)
		wantStatus(t, resp, body, http.StatusConflict)
		wantContains(t, body, "余票不足", "sold out", `value="张三"`)
	})

	t.Run("one unpaid order at a time", func(t *testing.T) {
		id := cl.book(bookForm(csrf, date, "hard_sleeper:lower", [2]string{"张三", idNumber(1)}))
		resp, body := cl.post("/h5/book", bookForm(csrf, date, "soft_sleeper:upper", [2]string{"李四", idNumber(3)}))
		wantStatus(t, resp, body, http.StatusConflict)
		wantContains(t, body, fmt.Sprintf("您有未支付的订单 %d", id), "unpaid order", `<a href="/h5/orders">前往我的订单</a>`)
	})
}

func TestH5OrderCancel(t *testing.T) {
	e := newEnv(t)
	cl := e.passenger(t)
	date := e.today.AddDays(1)
	_, body := cl.get("/h5/book?" + journey(date).Encode())
	csrf := csrfIn(body)
	id := cl.book(bookForm(csrf, date, "hard_sleeper:lower", [2]string{"欧阳娜娜", idNumber(1)}, [2]string{"张三", idNumber(2)}))
	page := fmt.Sprintf("/h5/orders/%d", id)

	resp, body := cl.get(page)
	wantStatus(t, resp, body, http.StatusOK)
	o, err := e.app.Booking.Order(context.Background(), id, 0)
	if err != nil {
		t.Fatal(err)
	}
	holdUntil := o.HoldExpiresAt.In(shanghaiLoc(t)).Format("2006-01-02 15:04")
	masked := realname.Passenger{DocType: realname.IDCard, DocNumber: idNumber(1)}.Masked()
	wantContains(t, body, fmt.Sprintf("订单 %d", id), `data-status="held"`, "待支付", holdUntil+"（北京时间）前完成支付",
		"欧**娜", "张*", masked, "Z66", date.String(), "南昌", "北京西", "20:06", "07:32", "01号下铺 · 硬卧", "车 ", z66Lower, "¥543.00",
		`action="`+page+`/pay"`, ">去支付</button>", `action="`+page+`/cancel"`, ">取消订单</button>")
	if strings.Contains(body, idNumber(1)) || strings.Contains(body, "欧阳娜娜") {
		t.Error("the order page shows a full name or document number")
	}
	if strings.Contains(body, "http-equiv") {
		t.Error("the page refreshes itself without coming from the gateway")
	}

	// Back from the gateway before the notification: payment being confirmed.
	resp, body = cl.get(page + "?payment_id=pay_test")
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, `<meta http-equiv="refresh" content="2">`, "支付处理中", `href="`+page+`?payment_id=pay_test"`)

	// The order is listed.
	resp, body = cl.get("/h5/orders")
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, `data-order="`+strconv.FormatInt(id, 10)+`" data-status="held"`, "2 位乘客", "¥543.00", "请在 "+holdUntil+" 前支付")

	// Someone else's order does not exist for them.
	_, other := e.newPassenger(t, "other")
	ocl := e.client(t)
	ocl.login(other)
	resp, body = ocl.get(page)
	wantStatus(t, resp, body, http.StatusNotFound)
	wantContains(t, body, fmt.Sprintf("订单 %d 不存在", id))
	resp, body = ocl.post(page+"/cancel", url.Values{"csrf": {ocl.csrfFor("/")}})
	wantStatus(t, resp, body, http.StatusNotFound)

	resp, body = cl.post(page+"/cancel", url.Values{"csrf": {csrf}})
	wantStatus(t, resp, body, http.StatusSeeOther)
	if got := resp.Header.Get("Location"); got != page {
		t.Errorf("after cancel Location = %q", got)
	}
	resp, body = cl.get(page)
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, `data-status="cancelled"`, "已取消", "席位已释放")
	if strings.Contains(body, "去支付") {
		t.Error("a cancelled order offers to pay")
	}

	// Cancelling again, paying a cancelled order, a missing order.
	resp, body = cl.post(page+"/cancel", url.Values{"csrf": {csrf}})
	wantStatus(t, resp, body, http.StatusConflict)
	wantContains(t, body, `role="alert"`, "不能", "cannot be cancelled", `data-status="cancelled"`)
	resp, body = cl.post(page+"/pay", url.Values{"csrf": {csrf}})
	wantStatus(t, resp, body, http.StatusConflict)
	wantContains(t, body, "无需支付", "nothing to pay")
	resp, body = cl.get("/h5/orders/999999")
	wantStatus(t, resp, body, http.StatusNotFound)
	resp, body = cl.get("/h5/orders/abc")
	wantStatus(t, resp, body, http.StatusNotFound)
	wantContains(t, body, "订单 abc 不存在", "order abc does not exist")
}

func TestH5PayAndRefund(t *testing.T) {
	e := newEnv(t)
	cl := e.passenger(t)
	// Five days ahead the refund fee is always the 5 % tier.
	date := e.today.AddDays(5)
	_, body := cl.get("/h5/book?" + journey(date).Encode())
	csrf := csrfIn(body)
	id := cl.book(bookForm(csrf, date, "hard_sleeper:lower", [2]string{"张三", idNumber(1)}))
	page := fmt.Sprintf("/h5/orders/%d", id)
	e.payOrder(t, cl, id)

	o, err := e.app.Booking.Order(context.Background(), id, 0)
	if err != nil {
		t.Fatal(err)
	}
	tk := o.Tickets[0]
	fee, err := fees.DefaultRefund().Fee(tk.FareFen, time.Until(tk.Departure))
	if err != nil {
		t.Fatal(err)
	}
	resp, body := cl.get(page + "?payment_id=" + url.QueryEscape(o.PaymentID))
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, `data-status="paid"`, "支付成功", "电子客票", "中国铁路", `class="eticket" data-ticket="`+strconv.FormatInt(tk.ID, 10)+`"`,
		"已支付", "张*", "Z66", date.String(), "南昌", "北京西", "07:32", z66Lower, "<code>"+strconv.FormatInt(id, 10)+"</code>",
		fmt.Sprintf("退票费 %s，应退 %s", yuanOf(fee), yuanOf(tk.FareFen-fee)), ">退票</button>", `name="ticket_id" value="`+strconv.FormatInt(tk.ID, 10)+`"`)
	if fee != 1350 {
		t.Errorf("fee %d fen, want ¥13.50 (5 %% of ¥271.50 rounded to ¥0.5)", fee)
	}
	if strings.Contains(body, "http-equiv") || strings.Contains(body, "去支付") {
		t.Error("a paid order refreshes itself or offers to pay")
	}

	resp, body = cl.post(page+"/refund", url.Values{"csrf": {csrf}})
	wantStatus(t, resp, body, http.StatusUnprocessableEntity)
	wantContains(t, body, "请选择要退的车票", `data-status="paid"`)

	resp, body = cl.post(page+"/refund", url.Values{"csrf": {csrf}, "ticket_id": {strconv.FormatInt(tk.ID, 10)}})
	wantStatus(t, resp, body, http.StatusSeeOther)
	resp, body = cl.get(page)
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, `id="order-status" data-status="refunded"`, "已退票", "全部退票", fmt.Sprintf("已退票：退票费 %s，退款 %s", yuanOf(fee), yuanOf(tk.FareFen-fee)))
	if strings.Contains(body, ">退票</button>") {
		t.Error("a refunded ticket offers a refund")
	}

	// Every H5 page in both languages has all its messages.
	paths := []string{"/h5", "/h5/search?from=NCG&to=BXP", "/h5/search?from=x&to=y", "/h5/book?" + journey(date).Encode(), "/h5/orders", page}
	for _, to := range []string{"zh", "en"} {
		cl.get("/lang?to=" + to)
		for _, p := range paths {
			_, body := cl.get(p)
			if strings.Contains(body, "⟦") {
				t.Errorf("%s %s has a missing message:\n%s", to, p, body)
			}
		}
	}
	_, body = cl.get(page)
	wantContains(t, body, "Order "+strconv.FormatInt(id, 10), "Refunded", "Nanchang", "berth 01, lower")
}

// yuanOf formats fen as the pages do.
func yuanOf(fen int64) string { return fmt.Sprintf("¥%d.%02d", fen/100, fen%100) }

// shanghaiLoc is Beijing time.
func shanghaiLoc(t *testing.T) *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}
