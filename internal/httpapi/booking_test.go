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

// TestBookingFlowOverHTTP books through the API, pays at the sandbox, lets
// its signed notification reach /api/v1/payments/notify, and refunds.
func TestBookingFlowOverHTTP(t *testing.T) {
	s := newTestServer(t)
	token := s.token(t, identity.Passenger)
	date := apptest.Today().AddDays(2).String()
	res := s.do(t, "GET", "/api/v1/remaining?from=nanchang&to=BXP&date="+date, "", nil)
	var rem struct{ Offers []booking.Offer }
	json.Unmarshal(res.body, &rem)
	if res.status != 200 || len(rem.Offers) < 2 {
		t.Fatalf("remaining: %d %s", res.status, res.body)
	}
	id := realname.MakeID("360102", time.Date(1990, 5, 17, 0, 0, 0, 0, time.UTC), 123)
	body := fmt.Sprintf(`{"train":"Z66","date":%q,"from":"NCG","to":"BXP","passengers":[{"name":"张伟","doc_type":"id_card","doc_number":%q,"seat_class":"hard_sleeper","berth":"lower"}]}`, date, id)
	res = s.do(t, "POST", "/api/v1/orders", token, strings.NewReader(body))
	var booked booking.Booked
	json.Unmarshal(res.body, &booked)
	if res.status != 200 || booked.Order.Status != booking.Held {
		t.Fatalf("book: %d %s", res.status, res.body)
	}
	res = s.do(t, "POST", fmt.Sprintf("/api/v1/orders/%d/payment", booked.Order.ID), token, nil)
	var pay payment.Payment
	json.Unmarshal(res.body, &pay)
	if res.status != 200 || !strings.Contains(pay.PayURL, "/sandbox/pay/"+pay.ID) || pay.AmountFen != booked.Order.TotalFen {
		t.Fatalf("payment: %d %s", res.status, res.body)
	}
	// Bad ID number: a 4xx naming the passenger.
	bad := strings.Replace(body, id, id[:17]+string("0123456789"[(int(id[17]-'0')+1)%10]), 1)
	if res := s.do(t, "POST", "/api/v1/orders", token, strings.NewReader(bad)); res.status != 422 || decodeProblem(t, res).Reason != "bad_id_checksum" {
		t.Fatalf("bad ID: %d %s", res.status, res.body)
	}
	if _, err := s.app.Sandbox.Pay(context.Background(), pay.ID); err != nil {
		t.Fatal(err)
	}
	path := fmt.Sprintf("/api/v1/orders/%d", booked.Order.ID)
	deadline := time.Now().Add(15 * time.Second)
	var o booking.Order
	for {
		res = s.do(t, "GET", path, token, nil)
		json.Unmarshal(res.body, &o)
		if o.Status == booking.Paid || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if o.Status != booking.Paid {
		t.Fatalf("the sandbox notification did not pay the order: %s", res.body)
	}
	// Another passenger cannot see it; an operator can.
	if res := s.do(t, "GET", path, s.token(t, identity.OperatorAdmin), nil); res.status != 403 {
		t.Fatalf("operator on the passenger route: %d", res.status)
	}
	if res := s.do(t, "GET", fmt.Sprintf("/api/v1/admin/orders/%d", o.ID), s.token(t, identity.OperatorAuditor), nil); res.status != 200 {
		t.Fatalf("auditor reads the order: %d %s", res.status, res.body)
	}
	res = s.do(t, "POST", path+"/refund", token, strings.NewReader(`{}`))
	json.Unmarshal(res.body, &o)
	if res.status != 200 || o.Status != booking.Refunded || o.Tickets[0].RefundFen+o.Tickets[0].FeeFen != o.Tickets[0].FareFen {
		t.Fatalf("refund: %d %s", res.status, res.body)
	}
	res = s.do(t, "GET", "/api/v1/admin/inventory/cr:Z66/"+date, s.token(t, identity.OperatorAdmin), nil)
	var rep booking.CheckReport
	json.Unmarshal(res.body, &rep)
	if res.status != 200 || len(rep.Problems) != 0 || rep.Seats != 1044 {
		t.Fatalf("inventory check: %d %s", res.status, res.body)
	}
	// A forged notification is refused.
	forged := `{"id":"x","payment_id":"` + pay.ID + `","order_ref":"piao-order-1","status":"paid","amount_fen":1}`
	if res := s.do(t, "POST", "/api/v1/payments/notify", "", strings.NewReader(forged), "X-Piao-Pay-Timestamp", fmt.Sprint(time.Now().Unix()), "X-Piao-Pay-Nonce", "n", "X-Piao-Pay-Signature", "00"); res.status < 400 || res.status >= 500 {
		t.Fatalf("forged notification: %d %s", res.status, res.body)
	}
}
