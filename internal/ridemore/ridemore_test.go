package ridemore_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"testing"
	"time"

	"piao/internal/benefits"
	"piao/internal/fault"
	"piao/internal/metro"
	"piao/internal/network"
	"piao/internal/ridemore"
)

var sh = benefits.Shanghai

func at(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04:05", s, sh)
	if err != nil {
		panic(err)
	}
	return t
}

func reason(err error) string {
	var fe *fault.Error
	if errors.As(err, &fe) {
		return fe.Reason
	}
	if err != nil {
		return "?" + err.Error()
	}
	return ""
}

func ningbo() ridemore.Rule { return ridemore.Ningbo("nb-2023", 7, 42) }

func TestRuleValidate(t *testing.T) {
	mod := func(f func(r *ridemore.Rule)) ridemore.Rule {
		r := ningbo()
		c := *r.Count
		r.Count = &c
		f(&r)
		return r
	}
	smod := func(f func(r *ridemore.Rule)) ridemore.Rule {
		r := ridemore.Beijing("bj", 8)
		s := *r.Spend
		s.Tiers = append([]ridemore.SpendTier(nil), s.Tiers...)
		r.Spend = &s
		f(&r)
		return r
	}
	tests := []struct {
		name string
		rule ridemore.Rule
		want string
	}{
		{"ningbo preset", ningbo(), ""},
		{"beijing preset", ridemore.Beijing("bj", 8), ""},
		{"no id", mod(func(r *ridemore.Rule) { r.ID = "" }), "bad_rule_id"},
		{"id with colon", mod(func(r *ridemore.Rule) { r.ID = "a:b" }), "bad_rule_id"},
		{"upper-case id", mod(func(r *ridemore.Rule) { r.ID = "NB" }), "bad_rule_id"},
		{"no name", mod(func(r *ridemore.Rule) { r.NameZH, r.NameEN = "", "" }), "rule_name_required"},
		{"negative campaign", mod(func(r *ridemore.Rule) { r.CampaignID = -1 }), "bad_campaign_id"},
		{"unknown kind", mod(func(r *ridemore.Rule) { r.Kind = "points" }), "bad_rule_kind"},
		{"count kind without count", mod(func(r *ridemore.Rule) { r.Count = nil }), "rule_settings_mismatch"},
		{"count kind with spend too", mod(func(r *ridemore.Rule) { r.Spend = &ridemore.SpendRule{} }), "rule_settings_mismatch"},
		{"spend kind without spend", smod(func(r *ridemore.Rule) { r.Spend = nil }), "rule_settings_mismatch"},
		{"evening_from 1440", mod(func(r *ridemore.Rule) { r.Count.EveningFrom = 1440 }), "bad_evening_from"},
		{"evening tiers without split", mod(func(r *ridemore.Rule) { r.Count.EveningFrom = 0 }), "evening_without_split"},
		{"split without evening tiers", mod(func(r *ridemore.Rule) { r.Count.Evening = nil }), "evening_tiers_required"},
		{"one counter", mod(func(r *ridemore.Rule) { r.Count.EveningFrom, r.Count.Evening, r.Count.FoldEvening = 0, nil, false }), ""},
		{"no day tiers", mod(func(r *ridemore.Rule) { r.Count.Day = nil }), "tiers_required"},
		{"tiers not ascending", mod(func(r *ridemore.Rule) {
			r.Count.Day = []ridemore.Tier{{MinRides: 10, ProductID: 1, Tickets: 1}, {MinRides: 10, ProductID: 1, Tickets: 2}}
		}), "tiers_not_ascending"},
		{"zero rides tier", mod(func(r *ridemore.Rule) { r.Count.Evening = []ridemore.Tier{{MinRides: 0, ProductID: 1, Tickets: 1}} }), "bad_min_rides"},
		{"tier without product", mod(func(r *ridemore.Rule) { r.Count.Day = []ridemore.Tier{{MinRides: 1, Tickets: 1}} }), "bad_reward_product"},
		{"tier without tickets", mod(func(r *ridemore.Rule) { r.Count.Day = []ridemore.Tier{{MinRides: 1, ProductID: 1}} }), "bad_reward_tickets"},
		{"issue days 0", mod(func(r *ridemore.Rule) { r.Count.IssueDays = 0 }), "bad_issue_days"},
		{"issue days 29", mod(func(r *ridemore.Rule) { r.Count.IssueDays = 29 }), "bad_issue_days"},
		{"valid days 0", mod(func(r *ridemore.Rule) { r.Count.ValidDays = 0 }), "bad_valid_days"},
		{"spend no tiers", smod(func(r *ridemore.Rule) { r.Spend.Tiers = nil }), "tiers_required"},
		{"spend from 0", smod(func(r *ridemore.Rule) { r.Spend.Tiers[0].From = 0 }), "bad_spend_from"},
		{"spend not ascending", smod(func(r *ridemore.Rule) { r.Spend.Tiers[1].From = 100_00 }), "tiers_not_ascending"},
		{"spend 101 %", smod(func(r *ridemore.Rule) { r.Spend.Tiers[1].PercentOff = 101 }), "bad_percent_off"},
		{"spend only 0 %", smod(func(r *ridemore.Rule) { r.Spend.Tiers = []ridemore.SpendTier{{From: 1, PercentOff: 0}} }), "no_discount"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.rule.Validate()
			if got := reason(err); got != tt.want {
				t.Fatalf("Validate() = %v, want reason %q", err, tt.want)
			}
			if err != nil {
				fe := fault.As(err)
				if fe.Code != fault.Invalid || fe.ZH == "" || fe.EN == "" {
					t.Fatalf("error %+v: want invalid with zh and en messages", fe)
				}
			}
		})
	}
}

func TestRuleJSON(t *testing.T) {
	for _, r := range []ridemore.Rule{ningbo(), ridemore.Beijing("bj", 8)} {
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		var back ridemore.Rule
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(back, r) {
			t.Fatalf("round trip: %s gave %+v", b, back)
		}
	}
	var r ridemore.Rule
	if err := json.Unmarshal([]byte(`{"id":"x","kind":"spend_tiers","name_en":"x","spend":{"tiers":[{"from":10000,"percent_off":20}]}}`), &r); err != nil || r.Validate() != nil {
		t.Fatalf("hand-written rule: %v %v", err, r.Validate())
	}
}

func TestMonth(t *testing.T) {
	m := ridemore.MustMonth("2024-12")
	if m.Next().String() != "2025-01" || m.FirstDay().String() != "2024-12-01" {
		t.Fatalf("next %v first %v", m.Next(), m.FirstDay())
	}
	// 2024-11-30 16:00 UTC is 2024-12-01 00:00 in Shanghai.
	if got := ridemore.MonthOf(time.Date(2024, 11, 30, 16, 0, 0, 0, time.UTC)); got != m {
		t.Fatalf("MonthOf = %v", got)
	}
	if got := ridemore.MonthOf(time.Date(2024, 11, 30, 15, 59, 59, 0, time.UTC)); got.String() != "2024-11" {
		t.Fatalf("MonthOf = %v", got)
	}
	if _, err := ridemore.ParseMonth("2024-13"); reason(err) != "bad_month" {
		t.Fatalf("ParseMonth: %v", err)
	}
	w := m.Window()
	if !w.Contains(at("2024-12-31 23:59:59")) || w.Contains(at("2025-01-01 00:00:00")) || !w.Contains(at("2024-12-01 00:00:00")) {
		t.Fatal("window bounds")
	}
	var back ridemore.Month
	b, _ := json.Marshal(m)
	if err := json.Unmarshal(b, &back); err != nil || back != m || string(b) != `"2024-12"` {
		t.Fatalf("json %s %v %v", b, back, err)
	}
}

func TestCounterAt(t *testing.T) {
	c := *ningbo().Count
	tests := []struct {
		at   time.Time
		want ridemore.Counter
	}{
		{at("2024-07-10 19:59:59"), ridemore.DayCounter},
		{at("2024-07-10 20:00:00"), ridemore.EveningCounter},
		{at("2024-07-10 23:59:59"), ridemore.EveningCounter},
		{at("2024-07-11 00:00:00"), ridemore.DayCounter},
		{at("2024-07-10 06:00:00"), ridemore.DayCounter},
		// The boundary is read in Shanghai whatever the input's zone.
		{time.Date(2024, 7, 10, 12, 0, 0, 0, time.UTC), ridemore.EveningCounter},
		{time.Date(2024, 7, 10, 11, 59, 59, 0, time.UTC), ridemore.DayCounter},
		{time.Date(2024, 7, 10, 8, 0, 0, 0, time.FixedZone("X", -4*3600)), ridemore.EveningCounter}, // 20:00 Shanghai
	}
	for _, tt := range tests {
		if got := c.CounterAt(tt.at); got != tt.want {
			t.Errorf("CounterAt(%v) = %s, want %s", tt.at, got, tt.want)
		}
	}
	c.EveningFrom, c.Evening, c.FoldEvening = 0, nil, false
	if c.CounterAt(at("2024-07-10 22:00:00")) != ridemore.DayCounter {
		t.Error("one counter: evening ride not on day counter")
	}
}

// rides makes n counted rides of account on the given local day and time.
func rides(account int64, n int, day, clock string) []ridemore.CountedRide {
	var out []ridemore.CountedRide
	base := at(day + " " + clock)
	for i := range n {
		out = append(out, ridemore.CountedRide{
			TripID: day + clock + strconv.FormatInt(account, 10) + "-" + strconv.Itoa(i), Account: account,
			EnteredAt: base.Add(time.Duration(i) * time.Second), Complete: true, Fare: 400, Net: 400,
		})
	}
	return out
}

func cat(rs ...[]ridemore.CountedRide) []ridemore.CountedRide {
	var out []ridemore.CountedRide
	for _, r := range rs {
		out = append(out, r...)
	}
	return out
}

type got struct {
	counter ridemore.Counter
	rides   int
	tier    int
	tickets int
}

func summary(rs []ridemore.Reward) []got {
	var out []got
	for _, r := range rs {
		out = append(out, got{r.Counter, r.Rides, r.Tier, r.Tickets})
	}
	return out
}

func TestMonthlyNingboTiers(t *testing.T) {
	jul := ridemore.MustMonth("2024-07")
	issue := network.MustDate("2024-08-01")
	D, E := ridemore.DayCounter, ridemore.EveningCounter
	tests := []struct {
		name  string
		rides []ridemore.CountedRide
		want  []got
	}{
		{"nothing", nil, nil},
		{"2 day rides: below the first tier", rides(1, 2, "2024-07-10", "08:00:00"), nil},
		{"3 day rides", rides(1, 3, "2024-07-10", "08:00:00"), []got{{D, 3, 1, 2}}},
		{"9 day rides", rides(1, 9, "2024-07-10", "08:00:00"), []got{{D, 9, 1, 2}}},
		{"10 day rides", rides(1, 10, "2024-07-10", "08:00:00"), []got{{D, 10, 2, 6}}},
		{"29 day rides", rides(1, 29, "2024-07-10", "08:00:00"), []got{{D, 29, 2, 6}}},
		{"30 day rides", rides(1, 30, "2024-07-10", "08:00:00"), []got{{D, 30, 3, 10}}},
		{"45 day rides", rides(1, 45, "2024-07-10", "08:00:00"), []got{{D, 45, 4, 20}}},
		{"59 day rides", rides(1, 59, "2024-07-10", "08:00:00"), []got{{D, 59, 4, 20}}},
		{"60 day rides", rides(1, 60, "2024-07-10", "08:00:00"), []got{{D, 60, 5, 30}}},
		{"200 day rides", rides(1, 200, "2024-07-10", "08:00:00"), []got{{D, 200, 5, 30}}},
		{"10 evening rides", rides(1, 10, "2024-07-10", "20:00:00"), []got{{E, 10, 1, 10}}},
		{"20 evening rides", rides(1, 20, "2024-07-10", "20:30:00"), []got{{E, 20, 2, 20}}},
		{"both counters", cat(rides(1, 12, "2024-07-10", "08:00:00"), rides(1, 15, "2024-07-11", "21:00:00")), []got{{D, 12, 2, 6}, {E, 15, 1, 10}}},
		{"9 evening rides fold into the day counter", cat(rides(1, 1, "2024-07-10", "08:00:00"), rides(1, 9, "2024-07-11", "21:00:00")), []got{{D, 10, 2, 6}}},
		{"3 evening rides alone fold and earn a day tier", rides(1, 3, "2024-07-10", "22:00:00"), []got{{D, 3, 1, 2}}},
		{"10 evening rides do not fold", cat(rides(1, 2, "2024-07-10", "08:00:00"), rides(1, 10, "2024-07-11", "21:00:00")), []got{{E, 10, 1, 10}}},
		{"19:59:59 and 20:00:00", cat(rides(1, 9, "2024-07-10", "19:59:50"), rides(1, 10, "2024-07-11", "20:00:00")), []got{{D, 9, 1, 2}, {E, 10, 1, 10}}},
		{"other months ignored", cat(rides(1, 5, "2024-06-30", "08:00:00"), rides(1, 5, "2024-08-01", "08:00:00"), rides(1, 2, "2024-07-31", "23:59:00")), nil},
		{"first and last second of the month", cat(rides(1, 2, "2024-07-01", "00:00:00"), rides(1, 1, "2024-07-31", "19:59:59")), []got{{D, 3, 1, 2}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs, err := ridemore.Monthly(ningbo(), jul, tt.rides, issue)
			if err != nil {
				t.Fatal(err)
			}
			if s := summary(rs); !reflect.DeepEqual(s, tt.want) {
				t.Fatalf("rewards %+v, want %+v", s, tt.want)
			}
			for _, r := range rs {
				if r.ProductID != 42 || r.CampaignID != 7 || r.RuleID != "nb-2023" || r.Month != jul || r.Account != 1 {
					t.Fatalf("reward %+v", r)
				}
			}
		})
	}
}

func TestMonthlyWhatCounts(t *testing.T) {
	jul := ridemore.MustMonth("2024-07")
	issue := network.MustDate("2024-08-02")
	base := rides(1, 3, "2024-07-10", "08:00:00")
	with := func(f func(r *ridemore.CountedRide)) []ridemore.CountedRide {
		out := append([]ridemore.CountedRide(nil), base...)
		f(&out[2])
		return out
	}
	rule := ningbo()
	free := ningbo()
	c := *free.Count
	c.CountFree = true
	free.Count = &c
	tests := []struct {
		name  string
		rule  ridemore.Rule
		rides []ridemore.CountedRide
		want  int // day rides counted; 3 earns tier 1
	}{
		{"all count", rule, base, 3},
		{"paid with a gift ticket", rule, with(func(r *ridemore.CountedRide) { r.PaidWithGift = true }), 0},
		{"zero net (free-ride day, count ticket)", rule, with(func(r *ridemore.CountedRide) { r.Net = 0 }), 0},
		{"zero net counted when count_free", free, with(func(r *ridemore.CountedRide) { r.Net = 0 }), 3},
		{"gift never counted even when count_free", free, with(func(r *ridemore.CountedRide) { r.PaidWithGift, r.Net = true, 0 }), 0},
		{"discounted but paid", rule, with(func(r *ridemore.CountedRide) { r.Net = 1 }), 3},
		{"incomplete trip", rule, with(func(r *ridemore.CountedRide) { r.Complete = false }), 0},
		{"no entry time", rule, with(func(r *ridemore.CountedRide) { r.EnteredAt = time.Time{} }), 0},
		{"no account", rule, with(func(r *ridemore.CountedRide) { r.Account = 0 }), 0},
		{"same trip twice", rule, with(func(r *ridemore.CountedRide) { r.TripID = base[0].TripID }), 0},
		{"trips without IDs are all counted", rule, with(func(r *ridemore.CountedRide) { r.TripID = "" }), 3},
		{"another platform counts apart", rule, with(func(r *ridemore.CountedRide) { r.Platform = "alipay" }), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs, err := ridemore.Monthly(tt.rule, jul, tt.rides, issue)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			if len(rs) > 0 && rs[0].Account == 1 && rs[0].Platform == "" {
				n = rs[0].Rides
			}
			if n != tt.want {
				t.Fatalf("counted %d, want %d (%+v)", n, tt.want, rs)
			}
		})
	}
}

func TestMonthlyAccountsAndPlatforms(t *testing.T) {
	rs := cat(rides(2, 3, "2024-07-10", "08:00:00"), rides(1, 10, "2024-07-10", "21:00:00"), rides(1, 30, "2024-07-11", "08:00:00"))
	alipay := rides(1, 3, "2024-07-12", "08:00:00")
	for i := range alipay {
		alipay[i].Platform = "alipay:1"
		alipay[i].TripID += "a"
	}
	rs = append(rs, alipay...)
	out, err := ridemore.Monthly(ningbo(), ridemore.MustMonth("2024-07"), rs, network.MustDate("2024-08-03"))
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, r := range out {
		keys = append(keys, r.Key)
	}
	want := []string{
		"ridemore:nb-2023:2024-07:1:day",
		"ridemore:nb-2023:2024-07:1:evening",
		"ridemore:nb-2023:2024-07:1:day:alipay%3A1",
		"ridemore:nb-2023:2024-07:2:day",
	}
	if !reflect.DeepEqual(keys, want) {
		t.Fatalf("keys %q, want %q", keys, want)
	}
	if k := ridemore.Key("nb-2023", ridemore.MustMonth("2024-07"), 1, "", ridemore.DayCounter); k != want[0] {
		t.Fatalf("Key = %q", k)
	}
}

func TestMonthlyIssuanceAndValidity(t *testing.T) {
	jul := ridemore.MustMonth("2024-07")
	rs := rides(1, 3, "2024-07-10", "08:00:00")
	for _, tt := range []struct {
		on   string
		want string
	}{
		{"2024-07-31", "issue_too_early"},
		{"2024-08-01", ""},
		{"2024-08-03", ""},
		{"2024-08-04", "issue_window_closed"},
	} {
		_, err := ridemore.Monthly(ningbo(), jul, rs, network.MustDate(tt.on))
		if reason(err) != tt.want {
			t.Errorf("issue on %s: %v, want %q", tt.on, err, tt.want)
		}
		if tt.want != "" && fault.CodeOf(err) != fault.Conflict {
			t.Errorf("issue on %s: code %s", tt.on, fault.CodeOf(err))
		}
	}
	if _, err := ridemore.Monthly(ridemore.Beijing("bj", 1), jul, rs, network.MustDate("2024-08-01")); reason(err) != "not_a_count_rule" {
		t.Errorf("spend rule: %v", err)
	}
	bad := ningbo()
	bad.ID = ""
	if _, err := ridemore.Monthly(bad, jul, rs, network.MustDate("2024-08-01")); reason(err) != "bad_rule_id" {
		t.Errorf("bad rule: %v", err)
	}
	if _, err := ridemore.Monthly(ningbo(), ridemore.Month{}, rs, network.MustDate("2024-08-01")); reason(err) != "month_required" {
		t.Errorf("no month: %v", err)
	}
	first, last := ningbo().Count.IssueWindow(ridemore.MustMonth("2024-12"))
	if first.String() != "2025-01-01" || last.String() != "2025-01-03" {
		t.Errorf("December's window %s–%s", first, last)
	}

	// 60 days from the day of issue, that day being day 1: issued on
	// 1 August, valid to the end of 29 September.
	for _, tt := range []struct{ on, until string }{{"2024-08-01", "2024-09-29"}, {"2024-08-03", "2024-10-01"}} {
		out, err := ridemore.Monthly(ningbo(), jul, rs, network.MustDate(tt.on))
		if err != nil || len(out) != 1 {
			t.Fatal(out, err)
		}
		r := out[0]
		if r.ValidFrom.String() != tt.on || r.ValidUntil.String() != tt.until {
			t.Fatalf("valid %s–%s, want %s–%s", r.ValidFrom, r.ValidUntil, tt.on, tt.until)
		}
		w := r.Window()
		if !w.Contains(at(tt.until+" 23:59:59")) || w.Contains(at(tt.until+" 23:59:59").Add(time.Second)) ||
			!w.Contains(at(tt.on+" 00:00:00")) || w.Contains(at(tt.on+" 00:00:00").Add(-time.Nanosecond)) {
			t.Fatalf("window %v–%v", w.From, w.Until)
		}
		// The same window as a product valid 60 days from claim.
		if pw := (benefits.Validity{Days: 60}).WindowFor(r.ValidFrom.In(sh), sh); !pw.Until.Equal(w.Until) {
			t.Fatalf("product window ends %v, reward %v", pw.Until, w.Until)
		}
	}
}

func TestMonthlyIdempotentKey(t *testing.T) {
	jul := ridemore.MustMonth("2024-07")
	early := rides(1, 3, "2024-07-10", "08:00:00")
	late := append(early, rides(1, 7, "2024-07-20", "08:00:00")...)
	a, _ := ridemore.Monthly(ningbo(), jul, early, network.MustDate("2024-08-01"))
	b, _ := ridemore.Monthly(ningbo(), jul, late, network.MustDate("2024-08-02"))
	if a[0].Key != b[0].Key || a[0].Tier == b[0].Tier {
		t.Fatalf("late trips: keys %q %q tiers %d %d; the key must not depend on the tier", a[0].Key, b[0].Key, a[0].Tier, b[0].Tier)
	}
}

func TestFromTrip(t *testing.T) {
	tr := metro.Trip{ID: "t1", Account: 9, Status: metro.Complete, Entered: at("2024-07-10 08:00:00"), Fare: 500}
	r := ridemore.FromTrip(tr, 300, false, "app")
	want := ridemore.CountedRide{TripID: "t1", Account: 9, Platform: "app", EnteredAt: tr.Entered, Complete: true, Fare: 500, Net: 300}
	if r != want {
		t.Fatalf("FromTrip = %+v", r)
	}
	for st, complete := range map[metro.TripStatus]bool{metro.Complete: true, metro.Overtime: true, metro.NoExit: false, metro.NoEntry: false, metro.SameStation: false} {
		tr.Status = st
		if ridemore.FromTrip(tr, 1, false, "").Complete != complete {
			t.Errorf("status %s", st)
		}
	}
}
