package booking_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"piao/internal/booking"
	"piao/internal/network"
)

// recDate is the service date of the test offers.
var recDate, _ = network.ParseDate("2025-03-10")

// offerAt builds an offer leaving at dep (minutes after midnight of
// recDate) and taking dur minutes, with seats.
func offerAt(number string, dep, dur int, seats ...booking.Availability) booking.Offer {
	d := recDate.In(shanghai).Add(time.Duration(dep) * time.Minute)
	return booking.Offer{ServiceID: "cr:" + number, Number: number, Date: recDate,
		From: network.Station{ID: "cr:NCG"}, To: network.Station{ID: "cr:BXP"}, FromIndex: 0, ToIndex: 1,
		Departure: d, Arrival: d.Add(time.Duration(dur) * time.Minute), DurationMin: dur, Seats: seats}
}

func seat(class network.SeatClass, berth network.Berth, left int, fen int64) booking.Availability {
	return booking.Availability{SeatClass: class, Berth: berth, Remaining: left, FareFen: fen}
}

// caseCOffers is passenger C's choice of seed 004: T168 19:07 → 13:00 next day
// (cheaper here), Z66 20:06 → 07:32 next day.
func caseCOffers() []booking.Offer {
	t168 := offerAt("T168", 19*60+7, 17*60+53,
		seat(network.HardSleeper, network.Lower, 3, 25500), seat(network.HardSleeper, network.Upper, 10, 24500))
	z66 := offerAt("Z66", 20*60+6, 11*60+26,
		seat(network.HardSleeper, network.Lower, 0, 27150), seat(network.HardSleeper, network.Upper, 5, 26100))
	return []booking.Offer{t168, z66}
}

func numbers(rs []booking.Recommendation) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Offer.Number)
	}
	return out
}

func TestRecommendCaseCByArrival(t *testing.T) {
	rs := booking.Recommend(caseCOffers(), booking.Priorities{By: []booking.Factor{booking.ByArrival}})
	if got := numbers(rs); !slices.Equal(got, []string{"Z66", "T168"}) {
		t.Fatalf("by arrival: %v, want Z66 first", got)
	}
	z := rs[0]
	if z.Rank != 1 || z.Deciding != booking.ByArrival || z.Versus != "T168" {
		t.Errorf("Z66: rank %d, deciding %q versus %q", z.Rank, z.Deciding, z.Versus)
	}
	if want := "到达时间 07:32，比 T168 早 5 小时 28 分"; z.Reason.ZH != want {
		t.Errorf("zh reason %q, want %q", z.Reason.ZH, want)
	}
	if want := "arrives 07:32, 5 h 28 min earlier than T168"; z.Reason.EN != want {
		t.Errorf("en reason %q, want %q", z.Reason.EN, want)
	}
	if last := rs[1]; !strings.Contains(last.Reason.EN, "13:00, 5 h 28 min later than Z66") || last.Rank != 2 {
		t.Errorf("T168's reason %+v", last.Reason)
	}
	// Without a berth wish the seat recommended is the cheapest left.
	if z.Seat == nil || z.Seat.Berth != network.Upper || z.Seat.FareFen != 26100 {
		t.Errorf("Z66 seat %+v, want the upper berth", z.Seat)
	}
	if len(z.Scores) != 4 || z.Scores[0].Factor != booking.ByArrival || z.Scores[0].Value != 24*60+7*60+32 {
		t.Errorf("Z66 scores %+v", z.Scores)
	}
}

func TestRecommendArriveBy(t *testing.T) {
	rs := booking.Recommend(caseCOffers(), booking.Priorities{By: []booking.Factor{booking.ByArrival, booking.ByPrice}, ArriveBy: 8 * time.Hour})
	if got := numbers(rs); !slices.Equal(got, []string{"Z66", "T168"}) {
		t.Fatalf("arrive by 08:00: %v", got)
	}
	if want := "arrives 07:32, by 08:00; T168 is 5 h late"; rs[0].Reason.EN != want {
		t.Errorf("reason %q, want %q", rs[0].Reason.EN, want)
	}
	// Both meet 14:00: the price decides.
	rs = booking.Recommend(caseCOffers(), booking.Priorities{By: []booking.Factor{booking.ByArrival, booking.ByPrice}, ArriveBy: 14 * time.Hour})
	if got := numbers(rs); !slices.Equal(got, []string{"T168", "Z66"}) || rs[0].Deciding != booking.ByPrice {
		t.Fatalf("arrive by 14:00 then price: %v deciding %q", got, rs[0].Deciding)
	}
}

func TestRecommendByPrice(t *testing.T) {
	rs := booking.Recommend(caseCOffers(), booking.Priorities{By: []booking.Factor{booking.ByPrice}})
	if got := numbers(rs); !slices.Equal(got, []string{"T168", "Z66"}) {
		t.Fatalf("by price: %v, want the cheaper T168 first", got)
	}
	r := rs[0]
	if r.Deciding != booking.ByPrice || r.Reason.ZH != "票价 ¥245.00，比 Z66 便宜 ¥16.00" || r.Reason.EN != "fare ¥245.00, ¥16.00 less than Z66" {
		t.Errorf("T168: deciding %q, reason %+v", r.Deciding, r.Reason)
	}
}

func TestRecommendBerth(t *testing.T) {
	// Z66 has no lower berth left, T168 has: a lower-berth seeker gets T168.
	rs := booking.Recommend(caseCOffers(), booking.Priorities{By: []booking.Factor{booking.ByBerth, booking.ByArrival}, Berth: network.Lower})
	if got := numbers(rs); !slices.Equal(got, []string{"T168", "Z66"}) {
		t.Fatalf("by berth: %v", got)
	}
	r := rs[0]
	if r.Seat == nil || r.Seat.Berth != network.Lower || r.Deciding != booking.ByBerth || r.Reason.ZH != "有下铺余票，Z66 没有" {
		t.Errorf("T168: seat %+v, deciding %q, reason %+v", r.Seat, r.Deciding, r.Reason)
	}
	// "berth" without a position wants a lower berth.
	if rs := booking.Recommend(caseCOffers(), booking.Priorities{By: []booking.Factor{booking.ByBerth}}); rs[0].Offer.Number != "T168" {
		t.Errorf("berth without a position: %v", numbers(rs))
	}
	// Arrival first, lower wanted: Z66 still wins but its seat is the upper berth left.
	rs = booking.Recommend(caseCOffers(), booking.Priorities{By: []booking.Factor{booking.ByArrival}, Berth: network.Lower})
	if rs[0].Offer.Number != "Z66" || rs[0].Seat.Berth != network.Upper || rs[1].Seat.Berth != network.Lower {
		t.Errorf("arrival with a berth wish: %v %+v %+v", numbers(rs), rs[0].Seat, rs[1].Seat)
	}
}

func TestRecommendSoldOutLast(t *testing.T) {
	g := offerAt("G488", 8*60+5, 7*60+25, seat(network.SecondClass, "", 0, 74000), seat(network.FirstClass, "", 2, 118500))
	offers := append(caseCOffers(), g)
	// G488 arrives first, but has no hard sleeper: asked for hard sleepers, it comes last.
	rs := booking.Recommend(offers, booking.Priorities{By: []booking.Factor{booking.ByArrival}, Classes: []network.SeatClass{network.HardSleeper}})
	if got := numbers(rs); !slices.Equal(got, []string{"Z66", "T168", "G488"}) {
		t.Fatalf("hard sleepers by arrival: %v", got)
	}
	last := rs[2]
	if last.Available || last.Seat != nil || last.Rank != 3 || !strings.Contains(last.Reason.ZH, "无票") || !strings.Contains(last.Reason.EN, "sold out") {
		t.Errorf("G488: %+v", last)
	}
	// T168, now the last with seats, explains against the one before it.
	if rs[1].Versus != "Z66" || !strings.Contains(rs[1].Reason.EN, "later than Z66") {
		t.Errorf("T168: %+v", rs[1].Reason)
	}
	// Any class: G488 first class is left and it arrives first.
	rs = booking.Recommend(offers, booking.Priorities{By: []booking.Factor{booking.ByArrival}})
	if got := numbers(rs); !slices.Equal(got, []string{"G488", "Z66", "T168"}) || rs[0].Seat.SeatClass != network.FirstClass {
		t.Fatalf("any class by arrival: %v", got)
	}
	// Nothing left anywhere: every train listed, none dropped.
	empty := []booking.Offer{offerAt("K1", 600, 60, seat(network.HardSleeper, network.Lower, 0, 100))}
	if rs := booking.Recommend(empty, booking.Priorities{}); len(rs) != 1 || rs[0].Available || rs[0].Reason.EN == "" {
		t.Errorf("sold-out only: %+v", rs)
	}
	if rs := booking.Recommend(caseCOffers()[:1], booking.Priorities{}); rs[0].Reason.EN != "the only train with seats left" {
		t.Errorf("one train: %+v", rs[0].Reason)
	}
}

func TestRecommendTiesDeterministic(t *testing.T) {
	// Two identical trains but for their numbers: the order is by number
	// whatever the input order.
	a := offerAt("K2", 600, 600, seat(network.HardSleeper, network.Upper, 1, 10000))
	b := offerAt("K1", 600, 600, seat(network.HardSleeper, network.Upper, 1, 10000))
	for _, in := range [][]booking.Offer{{a, b}, {b, a}} {
		rs := booking.Recommend(in, booking.Priorities{By: []booking.Factor{booking.ByPrice}})
		if got := numbers(rs); !slices.Equal(got, []string{"K1", "K2"}) {
			t.Fatalf("tie: %v", got)
		}
		if rs[0].Deciding != "" || !strings.Contains(rs[0].Reason.EN, "equal to K2") {
			t.Errorf("tie reason: %q %+v", rs[0].Deciding, rs[0].Reason)
		}
	}
}

func TestParsePriorities(t *testing.T) {
	p, err := booking.ParsePriorities("arrival, price", "lower", "hard_sleeper,soft_sleeper", "08:00")
	if err != nil || !slices.Equal(p.By, []booking.Factor{booking.ByArrival, booking.ByPrice}) || p.Berth != network.Lower ||
		len(p.Classes) != 2 || p.ArriveBy != 8*time.Hour {
		t.Fatalf("parse: %+v %v", p, err)
	}
	if p, err := booking.ParsePriorities("", "", "", "00:00"); err != nil || p.ArriveBy != 24*time.Hour {
		t.Errorf("midnight: %+v %v", p, err)
	}
	for _, bad := range [][4]string{{"speed", "", "", ""}, {"price,price", "", "", ""}, {"", "top", "", ""}, {"", "", "sofa", ""}, {"", "", "", "8:00"}, {"", "", "", "24:30"}} {
		if _, err := booking.ParsePriorities(bad[0], bad[1], bad[2], bad[3]); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestRecommendProperties: the ranking is a permutation of the offers,
// trains with seats come first, and the first is best for the first factor
// among trains with seats.
func TestRecommendProperties(t *testing.T) {
	classes := []network.SeatClass{network.HardSleeper, network.SoftSleeper, network.SecondClass}
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(0, 8).Draw(t, "n")
		var offers []booking.Offer
		for i := range n {
			var seats []booking.Availability
			for _, c := range classes {
				for _, b := range c.Berths() {
					if rapid.Bool().Draw(t, "has") {
						seats = append(seats, seat(c, b, rapid.IntRange(0, 3).Draw(t, "left"), rapid.Int64Range(1, 5).Draw(t, "fare")*5000))
					}
				}
			}
			offers = append(offers, offerAt(fmt.Sprintf("K%d", i), rapid.IntRange(0, 1439).Draw(t, "dep"), rapid.IntRange(30, 1800).Draw(t, "dur"), seats...))
		}
		var p booking.Priorities
		for _, i := range rapid.Permutation([]int{0, 1, 2, 3}).Draw(t, "order")[:rapid.IntRange(0, 4).Draw(t, "k")] {
			p.By = append(p.By, booking.Factors[i])
		}
		p.Berth = rapid.SampledFrom([]network.Berth{"", network.Lower, network.Upper}).Draw(t, "berth")
		if rapid.Bool().Draw(t, "class filter") {
			p.Classes = []network.SeatClass{rapid.SampledFrom(classes).Draw(t, "class")}
		}
		if rapid.Bool().Draw(t, "arrive by") {
			p.ArriveBy = time.Duration(rapid.IntRange(1, 1440).Draw(t, "by")) * time.Minute
		}
		rs := booking.Recommend(offers, p)
		if len(rs) != len(offers) {
			t.Fatalf("%d recommendations for %d offers", len(rs), len(offers))
		}
		seen := map[string]bool{}
		for i, r := range rs {
			if seen[r.Offer.ServiceID] {
				t.Fatalf("%s listed twice", r.Offer.ServiceID)
			}
			seen[r.Offer.ServiceID] = true
			if r.Rank != i+1 || r.Reason.ZH == "" || r.Reason.EN == "" {
				t.Fatalf("rank %d at %d, reason %+v", r.Rank, i, r.Reason)
			}
			if i > 0 && r.Available && !rs[i-1].Available {
				t.Fatalf("%s with seats after a sold-out train", r.Offer.Number)
			}
			if r.Available != (r.Seat != nil) || r.Seat != nil && (r.Seat.Remaining <= 0 || len(p.Classes) > 0 && r.Seat.SeatClass != p.Classes[0]) {
				t.Fatalf("seat %+v with classes %v", r.Seat, p.Classes)
			}
		}
		if len(rs) == 0 || !rs[0].Available {
			return
		}
		for _, r := range rs {
			if r.Available && r.Scores[0].Value < rs[0].Scores[0].Value {
				t.Fatalf("%s beats the first %s on %s: %d < %d", r.Offer.Number, rs[0].Offer.Number, r.Scores[0].Factor, r.Scores[0].Value, rs[0].Scores[0].Value)
			}
		}
		// The same offers in another order rank the same.
		again := booking.Recommend(rapid.Permutation(offers).Draw(t, "shuffled"), p)
		if !slices.Equal(numbers(again), numbers(rs)) {
			t.Fatalf("order depends on the input: %v vs %v", numbers(again), numbers(rs))
		}
	})
}
