package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"piao/internal/app/apptest"
	"piao/internal/booking"
	"piao/internal/identity"
	"piao/internal/payment"
	"piao/internal/realname"
)

// TestWaitlistOverHTTP joins the waitlist (a retry with the same
// Idempotency-Key returns the first entry), prepays at the sandbox, waits
// in the queue with a position and a chance, and withdraws for a full
// refund; bad requests are 4xx and the policy is an operator's to change.
func TestWaitlistOverHTTP(t *testing.T) {
	s := newTestServer(t)
	token := s.token(t, identity.Passenger)
	date := apptest.Today().AddDays(3).String()
	id := realname.MakeID("360102", time.Date(1950, 3, 9, 0, 0, 0, 0, time.UTC), 77)
	body := fmt.Sprintf(`{"options":[{"train":"Z66","date":%q,"from":"NCG","to":"BXP","seat_class":"hard_sleeper","berth":"lower"},
		{"train":"T168","date":%q,"from":"NCG","to":"BXP","seat_class":"soft_sleeper"}],
		"passengers":[{"name":"李娜","doc_type":"id_card","doc_number":%q}]}`, date, date, id)
	res := s.do(t, "POST", "/api/v1/waitlist", token, strings.NewReader(body), "Idempotency-Key", "wl-1")
	var e booking.WaitlistEntry
	json.Unmarshal(res.body, &e)
	if res.status != 200 || e.Status != booking.WaitUnpaid || len(e.Options) != 2 || e.PrepaidFen <= 0 {
		t.Fatalf("join: %d %s", res.status, res.body)
	}
	again := s.do(t, "POST", "/api/v1/waitlist", token, strings.NewReader(body), "Idempotency-Key", "wl-1")
	var e2 booking.WaitlistEntry
	json.Unmarshal(again.body, &e2)
	if again.status != 200 || e2.ID != e.ID {
		t.Fatalf("retry with the same key: %d %s, want entry %d", again.status, again.body, e.ID)
	}
	path := fmt.Sprintf("/api/v1/waitlist/%d", e.ID)
	res = s.do(t, "POST", path+"/payment", token, nil)
	var pay payment.Payment
	json.Unmarshal(res.body, &pay)
	if res.status != 200 || pay.AmountFen != e.PrepaidFen || !strings.Contains(pay.PayURL, "/sandbox/pay/") {
		t.Fatalf("payment: %d %s", res.status, res.body)
	}
	if _, err := s.app.Sandbox.Pay(context.Background(), pay.ID); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		res = s.do(t, "GET", path, token, nil)
		json.Unmarshal(res.body, &e)
		if e.Status != booking.WaitUnpaid || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Seats are free on both trains, so the entry is served at once.
	if e.Status != booking.WaitFulfilled || e.OrderID == 0 {
		t.Fatalf("after prepayment with seats free: %s", res.body)
	}
	var o booking.Order
	res = s.do(t, "GET", fmt.Sprintf("/api/v1/orders/%d", e.OrderID), token, nil)
	json.Unmarshal(res.body, &o)
	if o.Status != booking.Paid || o.Tickets[0].Number != "Z66" || o.Tickets[0].Berth != "lower" {
		t.Fatalf("the waitlist order: %s", res.body)
	}
	res = s.do(t, "GET", "/api/v1/waitlist", token, nil)
	var list struct{ Entries []booking.WaitlistEntry }
	json.Unmarshal(res.body, &list)
	if res.status != 200 || len(list.Entries) != 1 || list.Entries[0].ID != e.ID {
		t.Fatalf("list: %d %s", res.status, res.body)
	}
	if res := s.do(t, "POST", path+"/cancel", token, nil); res.status != 409 || decodeProblem(t, res).Reason != "waitlist_not_active" {
		t.Fatalf("withdrawing a fulfilled entry: %d %s", res.status, res.body)
	}
	if res := s.do(t, "GET", path, s.newPassenger(t, "wl-other"), nil); res.status != 404 {
		t.Fatalf("another passenger reads the entry: %d %s", res.status, res.body)
	}
	for _, bad := range []string{
		`{"options":[],"passengers":[{"name":"李娜","doc_type":"id_card","doc_number":"` + id + `"}]}`,
		strings.Replace(body, `"hard_sleeper"`, `"hovercraft"`, 1),
		`{"options":[{"train":"Z66","date":"` + date + `","from":"NCG","to":"BXP","seat_class":"hard_sleeper"}],"passengers":[{"name":"李娜","doc_type":"id_card","doc_number":"` + id + `"}],"deadline":"soon"}`,
	} {
		if res := s.do(t, "POST", "/api/v1/waitlist", token, strings.NewReader(bad)); res.status < 400 || res.status >= 500 {
			t.Errorf("bad request %s: %d %s", bad, res.status, res.body)
		}
	}
	if res := s.do(t, "PUT", "/api/v1/booking/policy", token, strings.NewReader(`{"elderly_lower":true,"elderly_age":60,"waitlist_max_active":1,"waitlist_max_options":6,"repeat_berth_first":true,"repeat_berth_cancels":2,"waitlist_priority_first":true}`)); res.status != 403 {
		t.Fatalf("a passenger changes the policy: %d", res.status)
	}
	admin := s.token(t, identity.OperatorAdmin)
	if res := s.do(t, "PUT", "/api/v1/booking/policy", admin, strings.NewReader(`{"elderly_lower":true,"elderly_age":0,"waitlist_max_active":1,"waitlist_max_options":6,"repeat_berth_first":true,"repeat_berth_cancels":2,"waitlist_priority_first":true}`)); res.status != 422 {
		t.Fatalf("an invalid policy: %d %s", res.status, res.body)
	}
	if res := s.do(t, "PUT", "/api/v1/booking/policy", admin, strings.NewReader(`{"elderly_lower":true,"elderly_age":60,"waitlist_max_active":1,"waitlist_max_options":6,"repeat_berth_first":true,"repeat_berth_cancels":2,"waitlist_priority_first":true}`)); res.status != 200 {
		t.Fatalf("the policy: %d %s", res.status, res.body)
	}
	res = s.do(t, "GET", "/api/v1/booking/policy", "", nil)
	var p booking.Policy
	json.Unmarshal(res.body, &p)
	if p.WaitlistMaxActive != 1 {
		t.Fatalf("policy after the change: %s", res.body)
	}
}
