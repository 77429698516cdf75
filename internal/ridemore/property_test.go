package ridemore_test

import (
	"reflect"
	"slices"
	"strconv"
	"testing"
	"time"

	"pgregory.net/rapid"

	"piao/internal/benefits"
	"piao/internal/network"
	"piao/internal/ridemore"
)

var zones = []*time.Location{time.UTC, benefits.Shanghai, time.FixedZone("W", -7*3600), time.FixedZone("E", 13*3600)}

// genRides draws rides around July 2024, some in June and August, in
// several zones, some not counted, some duplicated.
func genRides(t *rapid.T) []ridemore.CountedRide {
	start := at("2024-06-29 00:00:00")
	n := rapid.IntRange(0, 150).Draw(t, "n")
	out := make([]ridemore.CountedRide, 0, n)
	for i := range n {
		when := start.Add(time.Duration(rapid.Int64Range(0, int64(36*24*time.Hour/time.Minute)).Draw(t, "minute")) * time.Minute)
		r := ridemore.CountedRide{
			TripID:       "t" + strconv.Itoa(i),
			Account:      rapid.Int64Range(0, 4).Draw(t, "account"),
			Platform:     rapid.SampledFrom([]string{"", "", "alipay"}).Draw(t, "platform"),
			EnteredAt:    when.In(rapid.SampledFrom(zones).Draw(t, "zone")),
			Complete:     rapid.IntRange(0, 9).Draw(t, "complete") > 0,
			Fare:         rapid.Int64Range(0, 1000).Draw(t, "fare"),
			PaidWithGift: rapid.IntRange(0, 9).Draw(t, "gift") == 0,
		}
		r.Net = rapid.Int64Range(0, r.Fare).Draw(t, "net")
		if i > 0 && rapid.IntRange(0, 9).Draw(t, "dup") == 0 {
			r = out[rapid.IntRange(0, i-1).Draw(t, "of")]
		}
		out = append(out, r)
	}
	return out
}

func genCountRule(t *rapid.T) ridemore.Rule {
	r := ningbo()
	if rapid.Bool().Draw(t, "generic") {
		c := *r.Count
		c.EveningFrom = rapid.SampledFrom([]int{0, 17 * 60, 20 * 60, 23*60 + 59}).Draw(t, "evening_from")
		tiers := func(label string) []ridemore.Tier {
			var ts []ridemore.Tier
			min := 0
			for range rapid.IntRange(1, 4).Draw(t, label) {
				min += rapid.IntRange(1, 15).Draw(t, label+"_step")
				ts = append(ts, ridemore.Tier{MinRides: min, ProductID: rapid.Int64Range(1, 3).Draw(t, label+"_p"), Tickets: rapid.IntRange(1, 30).Draw(t, label+"_n")})
			}
			return ts
		}
		c.Day = tiers("day")
		c.Evening, c.FoldEvening = nil, false
		if c.EveningFrom > 0 {
			c.Evening = tiers("evening")
			c.FoldEvening = rapid.Bool().Draw(t, "fold")
		}
		c.CountFree = rapid.Bool().Draw(t, "count_free")
		c.ValidDays = rapid.IntRange(1, 400).Draw(t, "valid_days")
		r.Count = &c
	}
	return r
}

func TestMonthlyProperties(t *testing.T) {
	jul := ridemore.MustMonth("2024-07")
	rapid.Check(t, func(t *rapid.T) {
		rule := genCountRule(t)
		if err := rule.Validate(); err != nil {
			t.Fatalf("generated rule: %v", err)
		}
		c := *rule.Count
		rides := genRides(t)
		issue := network.MustDate("2024-08-01").AddDays(rapid.IntRange(0, c.IssueDays-1).Draw(t, "issue_day"))
		got, err := ridemore.Monthly(rule, jul, rides, issue)
		if err != nil {
			t.Fatal(err)
		}
		// Deterministic, and independent of ride order and duplicates.
		again, _ := ridemore.Monthly(rule, jul, rides, issue)
		shuffled := slices.Clone(rides)
		perm := rapid.Permutation(shuffled).Draw(t, "perm")
		doubled := append(slices.Clone(perm), rides...)
		byPerm, _ := ridemore.Monthly(rule, jul, perm, issue)
		byDoubled, _ := ridemore.Monthly(rule, jul, doubled, issue)
		if !reflect.DeepEqual(got, again) || !reflect.DeepEqual(got, byPerm) || !reflect.DeepEqual(got, byDoubled) {
			t.Fatalf("order or duplicates changed the rewards:\n%+v\n%+v\n%+v", got, byPerm, byDoubled)
		}
		// Against a direct count.
		type key struct {
			a int64
			p string
		}
		want := map[key][2]int{}
		seen := map[string]bool{}
		for _, r := range rides {
			if seen[r.TripID] || r.Account <= 0 || !r.Complete || r.PaidWithGift || r.EnteredAt.IsZero() || (r.Net <= 0 && !c.CountFree) || ridemore.MonthOf(r.EnteredAt) != jul {
				continue
			}
			seen[r.TripID] = true
			l := r.EnteredAt.In(benefits.Shanghai)
			v := want[key{r.Account, r.Platform}]
			if c.EveningFrom > 0 && l.Hour()*60+l.Minute() >= c.EveningFrom {
				v[1]++
			} else {
				v[0]++
			}
			want[key{r.Account, r.Platform}] = v
		}
		tallies := c.Tallies(jul, rides)
		if len(tallies) != len(want) {
			t.Fatalf("%d tallies, want %d", len(tallies), len(want))
		}
		for _, tl := range tallies {
			v := want[key{tl.Account, tl.Platform}]
			if tl.Day < 0 || tl.Evening < 0 || tl.Folded < 0 || tl.Day+tl.Evening != v[0]+v[1] || tl.Day-tl.Folded != v[0] {
				t.Fatalf("tally %+v, want day %d evening %d", tl, v[0], v[1])
			}
		}
		keys := map[string]bool{}
		for _, r := range got {
			if keys[r.Key] {
				t.Fatalf("duplicate key %s", r.Key)
			}
			keys[r.Key] = true
			tiers := c.Day
			if r.Counter == ridemore.EveningCounter {
				tiers = c.Evening
			}
			tier := tiers[r.Tier-1]
			if r.Rides < tier.MinRides || r.Tier < len(tiers) && r.Rides >= tiers[r.Tier].MinRides {
				t.Fatalf("reward %+v is not the highest tier reached", r)
			}
			if r.MinRides != tier.MinRides || r.ProductID != tier.ProductID || r.Tickets != tier.Tickets || r.Tickets <= 0 {
				t.Fatalf("reward %+v does not match its tier %+v", r, tier)
			}
			if r.ValidFrom != issue || r.ValidUntil != issue.AddDays(c.ValidDays-1) {
				t.Fatalf("validity %s–%s", r.ValidFrom, r.ValidUntil)
			}
			if r.Key != ridemore.Key(rule.ID, jul, r.Account, r.Platform, r.Counter) {
				t.Fatalf("key %s", r.Key)
			}
		}
		for i := 1; i < len(got); i++ {
			a, b := got[i-1], got[i]
			if a.Account > b.Account || a.Account == b.Account && a.Platform > b.Platform {
				t.Fatalf("rewards out of order: %+v before %+v", a, b)
			}
		}
	})
}

func TestSpendProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := beijing()
		if rapid.Bool().Draw(t, "generic") {
			s.Tiers = nil
			from := int64(0)
			for i := range rapid.IntRange(1, 5).Draw(t, "tiers") {
				from += rapid.Int64Range(1, 200_00).Draw(t, "step")
				p := rapid.IntRange(0, 100).Draw(t, "pct")
				if i == 0 {
					p = rapid.IntRange(1, 100).Draw(t, "pct0")
				}
				s.Tiers = append(s.Tiers, ridemore.SpendTier{From: from, PercentOff: p})
			}
		}
		if err := s.Validate(); err != nil {
			t.Fatalf("generated rule: %v", err)
		}
		spent := rapid.Int64Range(0, 1000_00).Draw(t, "spent")
		fare := rapid.Int64Range(-10, 5000).Draw(t, "fare")
		off, next := s.Discount(spent, fare)
		if off < 0 || off > max(fare, 0) {
			t.Fatalf("off %d of fare %d", off, fare)
		}
		if next < spent || next-spent != max(fare, 0)-off {
			t.Fatalf("spend %d → %d, fare %d off %d", spent, next, fare, off)
		}
		// The same answer as the stacking engine given the rule's benefit.
		jul := ridemore.MustMonth("2024-07")
		ride := benefits.Ride{ID: "r", Fare: fare, EnteredAt: at("2024-07-15 12:00:00")}
		var cands []benefits.Benefit
		if b, ok := s.Benefit(1, jul, spent); ok {
			cands = append(cands, b)
		}
		if sel := benefits.Select(ride, benefits.Shanghai, cands); sel.Net != max(fare, 0)-off {
			t.Fatalf("Select net %d, Discount leaves %d", sel.Net, max(fare, 0)-off)
		}
		// A month of rides: spend only grows and equals what was paid.
		st := ridemore.SpendState{}
		var paid int64
		when := at("2024-07-01 06:00:00")
		for range rapid.IntRange(0, 80).Draw(t, "rides") {
			f := rapid.Int64Range(0, 1500).Draw(t, "f")
			when = when.Add(time.Duration(rapid.IntRange(1, 24*60).Draw(t, "gap")) * time.Minute)
			before := st
			var o int64
			o, st = s.Step(st, when, f)
			if st.Month != before.Month {
				paid = 0
			} else if st.Spent < before.Spent {
				t.Fatal("spend went down within a month")
			}
			paid += f - o
			if o < 0 || o > f || st.Spent != paid {
				t.Fatalf("step: off %d fare %d spent %d paid %d", o, f, st.Spent, paid)
			}
		}
	})
}
