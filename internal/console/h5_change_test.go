package console_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"piao/internal/booking"
	"piao/internal/fees"
	"piao/internal/network"
)

// paidTicket books a Z66 hard sleeper lower berth NCG→BXP on date for one
// passenger through the pages, pays it and returns the order and its ticket.
func (e *env) paidTicket(t *testing.T, cl *client, date network.Date, name, doc string) (booking.Order, booking.Ticket) {
	t.Helper()
	_, body := cl.get("/h5/book?" + journey(date).Encode())
	id := cl.book(bookForm(csrfIn(body), date, "hard_sleeper:lower", [2]string{name, doc}))
	e.payOrder(t, cl, id)
	o, err := e.app.Booking.Order(context.Background(), id, 0)
	if err != nil {
		t.Fatal(err)
	}
	return o, o.Tickets[0]
}

// fareOf is the fare of a kind of seat of a train NCG→BXP on date.
func (e *env) fareOf(t *testing.T, number string, date network.Date, class network.SeatClass, berth network.Berth) int64 {
	t.Helper()
	offers, err := e.app.Booking.Remaining(context.Background(), "cr:NCG", "cr:BXP", date)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range offers {
		for _, s := range o.Seats {
			if o.Number == number && s.SeatClass == class && s.Berth == berth {
				return s.FareFen
			}
		}
	}
	t.Fatalf("%s %s has no %s %s", number, date, class, berth)
	return 0
}

// changeForm is a POST /h5/orders/{id}/change form.
func changeForm(csrf string, ticket int64, train string, date network.Date, class network.SeatClass, berth network.Berth) url.Values {
	return url.Values{"csrf": {csrf}, "ticket_id": {strconv.FormatInt(ticket, 10)}, "train": {train}, "date": {date.String()},
		"seat_class": {string(class)}, "berth": {string(berth)}}
}

var changedLocRE = regexp.MustCompile(`^/h5/orders/([0-9]+)(\?changed=1)?$`)

// changeTo posts a change and returns the new order's ID and whether the
// page was told the change is complete.
func (c *client) changeTo(orderID int64, form url.Values) (int64, bool) {
	c.t.Helper()
	resp, body := c.post(fmt.Sprintf("/h5/orders/%d/change", orderID), form)
	wantStatus(c.t, resp, body, http.StatusSeeOther)
	m := changedLocRE.FindStringSubmatch(resp.Header.Get("Location"))
	if m == nil {
		c.t.Fatalf("after the change Location = %q", resp.Header.Get("Location"))
	}
	id, _ := strconv.ParseInt(m[1], 10, 64)
	return id, m[2] != ""
}

// noMissingMessages fails if a page lacks a catalog message in zh or en.
func noMissingMessages(t *testing.T, cl *client, paths ...string) {
	t.Helper()
	for _, to := range []string{"en", "zh"} {
		cl.get("/lang?to=" + to)
		for _, p := range paths {
			_, body := cl.get(p)
			if strings.Contains(body, "⟦") {
				t.Errorf("%s %s has a missing message:\n%s", to, p, body)
			}
		}
	}
}

func TestH5ChangeCheaper(t *testing.T) {
	e := newEnv(t)
	cl := e.passenger(t)
	// Five days ahead the default change table charges no fee.
	date, next := e.today.AddDays(5), e.today.AddDays(6)
	o, tk := e.paidTicket(t, cl, date, "张三", idNumber(1))
	page := fmt.Sprintf("/h5/orders/%d", o.ID)
	changePage := fmt.Sprintf("%s/change?ticket_id=%d", page, tk.ID)

	resp, body := cl.get(page)
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, `href="`+changePage+`"`, ">改签</a>", "可改签一次")

	upper := e.fareOf(t, "T168", next, network.HardSleeper, network.Upper)
	_, refund, fee, err := fees.ChangeQuote(tk.FareFen, upper, time.Until(tk.Departure), fees.DefaultChange())
	if err != nil {
		t.Fatal(err)
	}
	if fee != 0 || refund != tk.FareFen-upper || refund <= 0 {
		t.Fatalf("refund %d fee %d: want the whole difference of a cheaper fare, free five days ahead", refund, fee)
	}

	// The change page proposes the next day, T168 and Z66 with their costs.
	resp, body = cl.get(changePage)
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, fmt.Sprintf("改签 · 订单 %d", o.ID), "当前车票", "Z66", date.String(), "01号下铺 · 硬卧", z66Lower,
		`id="date" name="date" type="date" value="`+next.String()+`"`, `name="ticket_id" value="`+strconv.FormatInt(tk.ID, 10)+`"`,
		`data-number="T168"`, `data-number="Z66"`, yuanOf(upper), "退 "+yuanOf(refund), "补 ¥158.00", "无差价",
		`action="`+page+`/change" class="change"`, `name="train" value="cr:T168"`, `name="date" value="`+next.String()+`"`,
		`aria-label="改签到 T168 硬卧 上铺，退 `+yuanOf(refund)+`"`)
	if strings.Contains(body, `data-current="true"`) {
		t.Error("the next day's Z66 is marked as the current train")
	}

	// The ticket's own day: its train is not offered, others are.
	resp, body = cl.get(changePage + "&date=" + date.String())
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, `data-number="Z66" data-current="true"`, "这是您当前的车次", `name="train" value="cr:T168"`)
	if strings.Contains(body, `name="train" value="cr:Z66"`) {
		t.Error("the change page offers to change to the ticket's own train")
	}
	csrf := csrfIn(body)

	// Errors show the change page again with the message.
	resp, body = cl.get(changePage + "&date=2026-02-30")
	wantStatus(t, resp, body, http.StatusUnprocessableEntity)
	wantContains(t, body, `role="alert"`, "格式错误", `id="change-form"`)
	resp, body = cl.post(page+"/change", changeForm(csrf, tk.ID, "cr:Z66", date, network.HardSleeper, network.Upper))
	wantStatus(t, resp, body, http.StatusUnprocessableEntity)
	wantContains(t, body, `role="alert"`, "改签须换到其他车次或日期", "a change must go to another train or date", `id="current-ticket"`)
	resp, body = cl.get(page + "/change?ticket_id=999999")
	wantStatus(t, resp, body, http.StatusNotFound)
	wantContains(t, body, "订单中没有车票 999999")

	// Change to a cheaper berth the next day: done at once.
	newID, done := cl.changeTo(o.ID, changeForm(csrf, tk.ID, "cr:T168", next, network.HardSleeper, network.Upper))
	if !done || newID == o.ID {
		t.Fatalf("a cheaper change went to order %d (complete %v)", newID, done)
	}
	newPage := fmt.Sprintf("/h5/orders/%d", newID)
	resp, body = cl.get(newPage + "?changed=1")
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, `id="order-status" data-status="paid"`, "改签成功", "电子客票", "T168", next.String(), "19:07", "上铺 · 硬卧", "已支付",
		"此订单改签自", `<a href="`+page+`">订单 `+strconv.FormatInt(o.ID, 10)+`</a>`,
		fmt.Sprintf("差价退款 %s（已扣改签费 %s）", yuanOf(refund), yuanOf(fee)), "改签后的车票不能再次改签", ">退票</button>")
	if strings.Contains(body, "/change?ticket_id=") {
		t.Error("a change order's ticket offers another change")
	}

	// The old order: changed, pointing at the new one.
	resp, body = cl.get(page)
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, `id="order-status" data-status="changed"`, "已改签", `href="`+newPage+`"`, fmt.Sprintf("已改签，新车票见订单 %d", newID), "车票已改签")
	if strings.Contains(body, "/change?ticket_id=") || strings.Contains(body, ">退票</button>") {
		t.Error("a changed ticket offers a change or a refund")
	}
	resp, body = cl.get("/h5/orders")
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, `data-order="`+strconv.FormatInt(newID, 10)+`" data-status="paid"`, `<span class="tag">改签</span>`, `data-status="changed"`)

	// A second change is refused: of the new ticket and of the old one.
	nt := e.ticketOf(t, newID)
	resp, body = cl.post(newPage+"/change", changeForm(csrf, nt.ID, "cr:Z66", next.AddDays(1), network.HardSleeper, network.Lower))
	wantStatus(t, resp, body, http.StatusConflict)
	wantContains(t, body, `role="alert"`, "改签后的车票不能再次改签", "cannot be changed again", `id="current-ticket"`)
	if strings.Contains(body, `class="change"`) {
		t.Error("a refused change page still offers changes")
	}
	resp, body = cl.get(fmt.Sprintf("%s/change?ticket_id=%d", newPage, nt.ID))
	wantStatus(t, resp, body, http.StatusConflict)
	wantContains(t, body, "改签后的车票不能再次改签")
	resp, body = cl.post(page+"/change", changeForm(csrf, tk.ID, "cr:Z66", next.AddDays(1), network.HardSleeper, network.Lower))
	wantStatus(t, resp, body, http.StatusConflict)
	wantContains(t, body, "不能改签", "cannot be changed")

	noMissingMessages(t, cl, page, newPage+"?changed=1", changePage, fmt.Sprintf("%s/change?ticket_id=%d", newPage, nt.ID), "/h5/orders")
	cl.get("/lang?to=en")
	_, body = cl.get(newPage + "?changed=1")
	wantContains(t, body, "Ticket changed", "This order changes a ticket of", "Difference refunded: "+yuanOf(refund))
}

// ticketOf returns the first ticket of an order.
func (e *env) ticketOf(t *testing.T, id int64) booking.Ticket {
	t.Helper()
	o, err := e.app.Booking.Order(context.Background(), id, 0)
	if err != nil {
		t.Fatal(err)
	}
	return o.Tickets[0]
}

func TestH5ChangeDearer(t *testing.T) {
	e := newEnv(t)
	cl := e.passenger(t)
	date, next := e.today.AddDays(5), e.today.AddDays(6)
	o, tk := e.paidTicket(t, cl, date, "李四", idNumber(2))
	page := fmt.Sprintf("/h5/orders/%d", o.ID)
	changePage := fmt.Sprintf("%s/change?ticket_id=%d", page, tk.ID)
	soft := e.fareOf(t, "T168", next, network.SoftSleeper, network.Lower)
	diff := soft - tk.FareFen

	// Someone else cannot see or change the ticket.
	_, other := e.newPassenger(t, "other")
	ocl := e.client(t)
	ocl.login(other)
	resp, body := ocl.get(changePage)
	wantStatus(t, resp, body, http.StatusNotFound)
	wantContains(t, body, fmt.Sprintf("订单 %d 不存在", o.ID))
	resp, body = ocl.post(page+"/change", changeForm(ocl.csrfFor("/"), tk.ID, "cr:T168", next, network.SoftSleeper, network.Lower))
	wantStatus(t, resp, body, http.StatusNotFound)
	if got := e.ticketOf(t, o.ID); got.Status != booking.Paid {
		t.Fatalf("another account's change made the ticket %s", got.Status)
	}

	// A dearer seat: a held change order to pay.
	_, body = cl.get(changePage)
	wantContains(t, body, "补 "+yuanOf(diff))
	newID, done := cl.changeTo(o.ID, changeForm(csrfIn(body), tk.ID, "cr:T168", next, network.SoftSleeper, network.Lower))
	if done {
		t.Fatal("a dearer change says it is complete before the difference is paid")
	}
	newPage := fmt.Sprintf("/h5/orders/%d", newID)
	resp, body = cl.get(newPage)
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, `id="order-status" data-status="held"`, "待支付", ">去支付</button>", yuanOf(diff), "请补差价 "+yuanOf(diff),
		"T168", "软卧", `<a href="`+page+`">订单 `+strconv.FormatInt(o.ID, 10)+`</a>`)

	// Meanwhile the old ticket is still paid and points at the change to pay.
	resp, body = cl.get(page)
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, `id="order-status" data-status="paid"`, `href="`+newPage+`" class="change-pending"`, fmt.Sprintf("改签待支付：订单 %d", newID))
	if strings.Contains(body, "/change?ticket_id=") {
		t.Error("a ticket with a change to pay offers another change")
	}
	noMissingMessages(t, cl, page, newPage)

	// Paying the difference completes the change.
	e.payOrder(t, cl, newID)
	resp, body = cl.get(newPage)
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, `id="order-status" data-status="paid"`, "电子客票", "T168", "已补差价 "+yuanOf(diff))
	resp, body = cl.get(page)
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, `id="order-status" data-status="changed"`, "已改签", fmt.Sprintf("已改签，新车票见订单 %d", newID))
	noMissingMessages(t, cl, page, newPage)
}
