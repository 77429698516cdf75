package httpapi_test

import (
	"encoding/json"
	"strings"
	"testing"

	"piao/internal/app/apptest"
	"piao/internal/booking"
)

// TestRecommendationsOverHTTP ranks the demo's Nanchang → Beijing West
// trains as passenger C would (arrival first: Z66 before T168, with the
// reason), by a lower berth in a class, and refuses bad input with 422.
func TestRecommendationsOverHTTP(t *testing.T) {
	s := newTestServer(t)
	date := apptest.Today().AddDays(2).String()
	get := func(query string) (int, []booking.Recommendation, response) {
		t.Helper()
		res := s.do(t, "GET", "/api/v1/recommendations?from=NCG&to=BXP&date="+date+query, "", nil)
		var out struct{ Recommendations []booking.Recommendation }
		json.Unmarshal(res.body, &out)
		return res.status, out.Recommendations, res
	}
	status, recs, res := get("&by=arrival,price")
	if status != 200 || len(recs) != 2 {
		t.Fatalf("by arrival: %d %s", status, res.body)
	}
	z := recs[0]
	if z.Offer.Number != "Z66" || recs[1].Offer.Number != "T168" || z.Rank != 1 || z.Deciding != booking.ByArrival {
		t.Fatalf("by arrival: %s then %s, deciding %q", z.Offer.Number, recs[1].Offer.Number, z.Deciding)
	}
	if z.Reason.ZH != "到达时间 07:32，比 T168 早 5 小时 28 分" || z.Reason.EN != "arrives 07:32, 5 h 28 min earlier than T168" {
		t.Errorf("Z66 reason %+v", z.Reason)
	}
	if z.Seat == nil || z.Seat.Remaining <= 0 || z.Seat.FareFen <= 0 || !z.Available {
		t.Errorf("Z66 seat %+v", z.Seat)
	}
	// Raw JSON carries the reason in both languages and the scores.
	if !strings.Contains(string(res.body), `"reason":{"zh":"到达时间 07:32`) || !strings.Contains(string(res.body), `"deciding_factor":"arrival"`) {
		t.Errorf("body: %s", res.body)
	}

	// A lower soft-sleeper berth, arriving by 08:00.
	status, recs, res = get("&by=berth,arrival&berth=lower&class=soft_sleeper&arrive_by=08:00")
	if status != 200 || len(recs) != 2 || recs[0].Offer.Number != "Z66" {
		t.Fatalf("soft lower by 08:00: %d %s", status, res.body)
	}
	for _, r := range recs {
		if r.Seat == nil || r.Seat.SeatClass != "soft_sleeper" || r.Seat.Berth != "lower" {
			t.Errorf("%s seat %+v, want a soft sleeper lower berth", r.Offer.Number, r.Seat)
		}
	}
	if recs[0].Deciding != booking.ByArrival || !strings.Contains(recs[0].Reason.EN, "by 08:00; T168 is 5 h late") {
		t.Errorf("Z66 reason %+v", recs[0].Reason)
	}

	// By default (no query beyond the journey) every train is listed.
	if status, recs, res = get(""); status != 200 || len(recs) != 2 {
		t.Errorf("default: %d %s", status, res.body)
	}

	for _, bad := range []string{"&by=speed", "&by=price,price", "&berth=top", "&class=sofa", "&arrive_by=8am", "&arrive_by=24:00", "&date=tomorrow"} {
		q := "from=NCG&to=BXP" + bad
		if !strings.Contains(bad, "date=") {
			q += "&date=" + date
		}
		res := s.do(t, "GET", "/api/v1/recommendations?"+q, "", nil)
		if res.status != 422 {
			t.Errorf("%s: %d, want 422: %s", bad, res.status, res.body)
			continue
		}
		if p := decodeProblem(t, res); p.Code != "invalid" {
			t.Errorf("%s: problem %+v", bad, p)
		}
	}
	if res := s.do(t, "GET", "/api/v1/recommendations?from=NCG&to=nowhere-at-all&date="+date, "", nil); res.status != 404 {
		t.Errorf("unknown station: %d %s", res.status, res.body)
	}

	// The OpenAPI document names the factors.
	res = s.do(t, "GET", "/api/v1/openapi.json", "", nil)
	if res.status != 200 || !strings.Contains(string(res.body), `"recommendTrains"`) || !strings.Contains(string(res.body), `"duration"`) {
		t.Errorf("openapi: %d", res.status)
	}
}
