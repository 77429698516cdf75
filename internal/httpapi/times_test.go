package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"piao/internal/app/apptest"
	"piao/internal/benefits"
	"piao/internal/booking"
	"piao/internal/governance"
	"piao/internal/httpapi"
	"piao/internal/identity"
	"piao/internal/metro"
	"piao/internal/payment"
	"piao/internal/realname"
)

// timeCheck finds every RFC 3339 timestamp in JSON answers and fails the
// test for one not given in business time (Asia/Shanghai, +08:00),
// whatever field it is in: a new field cannot escape.
type timeCheck struct {
	t *testing.T
	s *testServer
	// seen are the JSON keys a timestamp was found under, so the test
	// can tell it looked at the answers it meant to.
	seen map[string]bool
}

// answer checks the times in a JSON answer; other answers (CSV, HTML,
// metrics) hold none of the API's times.
func (c *timeCheck) answer(label string, res response) {
	c.t.Helper()
	ct, _, _ := mime.ParseMediaType(res.header.Get("Content-Type"))
	if ct != "application/json" && !strings.HasSuffix(ct, "+json") {
		return
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(res.body))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		c.t.Errorf("%s: not JSON: %v: %.300s", label, err, res.body)
		return
	}
	c.walk(label, "$", "", v)
}

func (c *timeCheck) walk(label, path, key string, v any) {
	c.t.Helper()
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			c.walk(label, path+"."+k, k, e)
		}
	case []any:
		for i, e := range v {
			c.walk(label, fmt.Sprintf("%s[%d]", path, i), key, e)
		}
	case string:
		if _, err := time.Parse(time.RFC3339Nano, v); err != nil {
			return
		}
		c.seen[key] = true
		if !strings.HasSuffix(v, "+08:00") {
			c.t.Errorf("%s: %s is %s, want the time at +08:00", label, path, v)
		}
	}
}

// ok sends a request that must succeed, checks its answer's times and
// decodes it into out (when not nil).
func (c *timeCheck) ok(method, path, token, body string, out any, header ...string) response {
	c.t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	res := c.s.do(c.t, method, path, token, r, header...)
	if res.status != http.StatusOK {
		c.t.Fatalf("%s %s: %d %s", method, path, res.status, res.body)
	}
	c.answer(method+" "+path, res)
	if out != nil {
		bnJSON(c.t, res, out)
	}
	return res
}

// TestAnswersGiveBusinessTime: every time in every JSON answer of
// /api/v1 is RFC 3339 at +08:00, however the store or the clock gave it
// (stores scan UTC). It makes orders, a waitlist entry, a campaign with a
// ticket, a gift and a ride, a governance list entry, a metro trip and a
// subsidy enrolment, checks the answers that made them, then reads every
// GET route of the route table with them.
func TestAnswersGiveBusinessTime(t *testing.T) {
	s := newTestServer(t)
	c := &timeCheck{t: t, s: s, seen: map[string]bool{}}
	rider := s.token(t, identity.Passenger)
	admin, reviewer, gate := s.token(t, identity.OperatorAdmin), s.token(t, identity.OperatorReviewer), s.token(t, identity.Gate)
	var me struct{ ID int64 }
	c.ok("GET", "/api/v1/me", rider, "", &me)
	c.ok("POST", "/api/v1/auth/login", "", `{"username":"passenger","password":"piao-passenger-2026"}`, nil)
	c.ok("POST", "/api/v1/auth/token", rider, `{"password":"piao-passenger-2026"}`, nil)
	date := apptest.Today().AddDays(2).String()

	// An order, paid (its paid_at comes back from the store).
	var booked booking.Booked
	doc := realname.MakeID("360102", time.Date(1990, 5, 17, 0, 0, 0, 0, time.UTC), 321)
	c.ok("POST", "/api/v1/orders", rider, fmt.Sprintf(`{"train":"Z66","date":%q,"from":"NCG","to":"BXP",
		"passengers":[{"name":"张伟","doc_type":"id_card","doc_number":%q,"seat_class":"hard_sleeper","berth":"lower"}]}`, date, doc), &booked)
	order := fmt.Sprintf("/api/v1/orders/%d", booked.Order.ID)
	var pay payment.Payment
	c.ok("POST", order+"/payment", rider, "", &pay)
	if _, err := s.app.Sandbox.Pay(context.Background(), pay.ID); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		var o booking.Order
		c.ok("GET", order, rider, "", &o)
		if o.Status == booking.Paid {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the sandbox notification did not pay order %d", o.ID)
		}
	}

	// A waitlist entry, unpaid: it has a deadline and a time to pay by.
	var entry booking.WaitlistEntry
	c.ok("POST", "/api/v1/waitlist", rider, fmt.Sprintf(`{"options":[{"train":"T168","date":%q,"from":"NCG","to":"BXP","seat_class":"soft_sleeper"}],
		"passengers":[{"name":"李娜","doc_type":"id_card","doc_number":%q}]}`, date, realname.MakeID("360102", time.Date(1950, 3, 9, 0, 0, 0, 0, time.UTC), 77)), &entry)

	// The limit on cancels answers with the time it lifts (retry_at).
	canceller := s.newPassenger(t, "tz-canceller")
	for i := range 4 {
		body := fmt.Sprintf(`{"train":"Z66","date":%q,"from":"NCG","to":"BXP","passengers":[{"name":"王芳","doc_type":"id_card","doc_number":%q,"seat_class":"hard_sleeper"}]}`,
			date, realname.MakeID("360102", time.Date(1985, 3, 1+i, 0, 0, 0, 0, time.UTC), 100+i))
		if i == 3 {
			res := s.do(t, "POST", "/api/v1/orders", canceller, strings.NewReader(body))
			if res.status != http.StatusTooManyRequests {
				t.Fatalf("booking after three cancels: %d %s", res.status, res.body)
			}
			c.answer("the cancel limit", res)
			break
		}
		var b booking.Booked
		c.ok("POST", "/api/v1/orders", canceller, body, &b)
		c.ok("POST", fmt.Sprintf("/api/v1/orders/%d/cancel", b.Order.ID), canceller, "", nil)
	}

	// A campaign, a ticket claimed from it, offered as a gift, a code
	// batch and a ride that used a ticket.
	from, until := bnWindow()
	var product benefits.Product
	c.ok("POST", "/api/v1/benefit-products", admin, `{"kind":"amount_off","name_zh":"两元乘车券","feed":"nbmetro","terms":{"amount_off":200},"validity":{"days":30}}`, &product)
	var draft bnCampaignView
	c.ok("POST", "/api/v1/campaigns", admin, fmt.Sprintf(`{"product_id":%d,"name_zh":"领券","starts":%q,"ends":%q,"channels":["claim","code"],"stock":10,"per_user":3}`, product.ID, from, until), &draft)
	campaign := fmt.Sprintf("/api/v1/campaigns/%d", draft.Campaign.ID)
	c.ok("POST", campaign+"/submit", admin, `{}`, nil)
	c.ok("POST", campaign+"/approve", reviewer, `{}`, nil)
	var kept, given benefits.Ticket
	c.ok("POST", campaign+"/claim", rider, "", &kept)
	c.ok("POST", campaign+"/claim", rider, "", &given)
	var gift benefits.Gift
	c.ok("POST", fmt.Sprintf("/api/v1/wallet/%d/gift", given.ID), rider, `{"message":"一路顺风"}`, &gift)
	var batch benefits.CodeBatch
	c.ok("POST", campaign+"/codes", admin, `{"count":2}`, &batch)
	c.ok("POST", "/api/v1/rides/tz-ride/redemption", admin, rideJSON(rideCode(t, s.rides, me.ID), time.Now().UTC()), nil)

	// A governance list entry for another account.
	var other struct{ ID int64 }
	c.ok("GET", "/api/v1/me", s.newPassenger(t, "tz-other"), "", &other)
	var member governance.Membership
	c.ok("POST", "/api/v1/governance/members", admin, fmt.Sprintf(`{"list":"restricted","subject":"account:%d","reason":"测试 test","days":7}`, other.ID), &member)

	// Metro: taps cleared into a trip, and a trip stored as the store
	// keeps it (UTC), settled.
	at := time.Now().Add(-2 * time.Hour).UTC().Truncate(time.Millisecond)
	taps, _ := json.Marshal(map[string]any{"taps": []metro.Tap{
		{ID: "tz-in", Feed: "nbmetro", Account: me.ID, Station: "nbmetro:GL", Gate: "G1", Dir: metro.In, At: at},
		{ID: "tz-out", Feed: "nbmetro", Account: me.ID, Station: "nbmetro:QSP", Gate: "G1", Dir: metro.Out, At: at.Add(25 * time.Minute)},
	}})
	c.ok("POST", "/api/v1/gate/taps", gate, string(taps), nil)
	c.ok("POST", "/api/v1/metro/nbmetro/clear", admin, `{}`, nil)
	trip := subTrip("tz-trip", me.ID, at.Add(-time.Hour))
	if _, err := s.app.MetroStore.AddTrips(context.Background(), []metro.Trip{trip}, nil); err != nil {
		t.Fatal(err)
	}
	c.ok("POST", "/api/v1/metro/nbmetro/settle", admin, "", nil)

	// A subsidy enrolment, verified: it runs from, until, renewal opens.
	subRunningScheme(t, s, admin, reviewer)
	var enrolment struct{ ID int64 }
	c.ok("POST", "/api/v1/subsidy-schemes/teachers/apply", rider, `{"evidence":"教师资格证 2026-0001"}`, &enrolment)
	c.ok("POST", fmt.Sprintf("/api/v1/subsidy-enrolments/%d/verify", enrolment.ID), reviewer, `{}`, nil)

	// Every GET route, as the rider where a passenger may read it (the
	// rider owns what was made), else as the admin, else the first role
	// allowed.
	paths := map[string]string{
		"/api/v1/orders/{id}":                      order,
		"/api/v1/admin/orders/{id}":                fmt.Sprintf("/api/v1/admin/orders/%d", booked.Order.ID),
		"/api/v1/admin/inventory/{service}/{date}": "/api/v1/admin/inventory/cr:Z66/" + date,
		"/api/v1/waitlist/{id}":                    fmt.Sprintf("/api/v1/waitlist/%d", entry.ID),
		"/api/v1/admin/waitlist/{id}":              fmt.Sprintf("/api/v1/admin/waitlist/%d", entry.ID),
		"/api/v1/remaining":                        "/api/v1/remaining?from=NCG&to=BXP&date=" + date,
		"/api/v1/recommendations":                  "/api/v1/recommendations?from=NCG&to=BXP&date=" + date,
		"/api/v1/trains/{number}/timetable":        "/api/v1/trains/Z66/timetable?date=" + date,
		"/api/v1/fees/{kind}":                      "/api/v1/fees/refund",
		"/api/v1/accounts/{id}":                    fmt.Sprintf("/api/v1/accounts/%d", me.ID),
		"/api/v1/benefit-products/{id}":            fmt.Sprintf("/api/v1/benefit-products/%d", product.ID),
		"/api/v1/campaigns/{id}":                   campaign,
		"/api/v1/campaigns/{id}/code-batches":      campaign + "/code-batches",
		"/api/v1/campaigns/{id}/stats":             campaign + "/stats",
		"/api/v1/campaigns/{id}/stats.csv":         campaign + "/stats.csv",
		"/api/v1/campaigns/{id}/uses":              campaign + "/uses",
		"/api/v1/code-batches/{id}/codes.csv":      fmt.Sprintf("/api/v1/code-batches/%d/codes.csv", batch.ID),
		"/api/v1/gifts/{token}":                    "/api/v1/gifts/" + gift.Token,
		"/api/v1/rides/{id}/redemption":            "/api/v1/rides/tz-ride/redemption",
		"/api/v1/governance/counts":                fmt.Sprintf("/api/v1/governance/counts?subject=account:%d", me.ID),
		"/api/v1/governance/members/{id}":          fmt.Sprintf("/api/v1/governance/members/%d", member.ID),
		"/api/v1/governance/report":                "/api/v1/governance/report?train=Z66",
		"/api/v1/metro-trips/{id}":                 "/api/v1/metro-trips/" + trip.ID,
		"/api/v1/subsidy-enrolments/{id}":          fmt.Sprintf("/api/v1/subsidy-enrolments/%d", enrolment.ID),
		"/api/v1/subsidy-schemes/{id}":             "/api/v1/subsidy-schemes/teachers",
	}
	maps.Copy(paths, merchantTimePaths(t, s))
	// A merchant's application (the demo's merchant logins work for the first merchant).
	merchantID, paperID, applicant := s.appliedMerchant(t, "91350100M000100Y43", "tz-mall")
	paths["/api/v1/merchants/{id}"] = fmt.Sprintf("/api/v1/merchants/%d", merchantID)
	paths["/api/v1/merchants/{id}/papers/{paper}"] = fmt.Sprintf("/api/v1/merchants/%d/papers/%d", merchantID, paperID)
	headers := map[string][]string{"/api/v1/merchant-applications/status": {"X-Applicant-Token", applicant}}
	maps.Copy(paths, purchaseTimePaths(t, s))
	maps.Copy(paths, invoiceTimePaths(t, s, me.ID))
	maps.Copy(paths, employerTimePaths(t, s))
	maps.Copy(paths, distributionPaths(t, s, me.ID))
	maps.Copy(paths, ledgerTimePaths(t, s))
	maps.Copy(paths, reconcileTimePaths(t, s))
	maps.Copy(paths, saleTimePaths(t, s, rider))
	routes := s.api.Routes()
	slices.SortFunc(routes, func(a, b httpapi.Route) int { return strings.Compare(a.Path, b.Path) })
	for _, rt := range routes {
		if rt.Method != http.MethodGet {
			continue
		}
		path, ok := paths[rt.Path]
		if !ok {
			path = samplePath(rt.Path) + sampleQuery[rt.Path]
		}
		var token string
		switch {
		case identity.Allowed(identity.Passenger, rt.Permission):
			token = rider
		case identity.Allowed(identity.OperatorAdmin, rt.Permission):
			token = admin
		default:
			for _, role := range identity.Roles {
				if identity.Allowed(role, rt.Permission) {
					token = s.token(t, role)
					break
				}
			}
		}
		res := s.do(t, "GET", path, token, nil, headers[rt.Path]...)
		if res.status != http.StatusOK {
			t.Errorf("GET %s answered %d, so its times go unchecked: give the route a path that answers in this test: %.300s", path, res.status, res.body)
			continue
		}
		c.answer("GET "+path, res)
	}

	// The answers held the times meant: bookings, payments, tickets,
	// campaigns, gifts, lists, trips, enrolments, limits, tokens.
	for _, key := range []string{"created_at", "hold_expires_at", "paid_at", "departure", "arrival", "expires_at", "deadline", "pay_by", "retry_at",
		"issued_at", "starts", "ends", "expires", "entered_at", "at", "start", "entered", "exited", "until", "applied_at", "verified_at", "from", "renewal_opens", "imported_at"} {
		if !c.seen[key] {
			t.Errorf("no answer held a time under %q: the test no longer looks where it should", key)
		}
	}
}
