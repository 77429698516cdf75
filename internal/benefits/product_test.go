package benefits_test

import (
	"strings"
	"testing"
	"time"

	"piao/internal/benefits"
	"piao/internal/fault"
	"piao/internal/network"
)

var testNet = benefits.Network{
	Stations: map[string]bool{"S1": true, "S2": true, "S3": true},
	Lines:    map[string]bool{"L1": true, "L2": true},
}

// goodProduct is a valid product of kind k: every bad case below changes
// one thing of it.
func goodProduct(k benefits.Kind) benefits.Product {
	p := benefits.Product{
		Kind:   k,
		NameZH: "测试产品",
		NameEN: "Test product",
		Feed:   "nbmetro",
		Valid:  benefits.Validity{From: network.MustDate("2026-12-01"), Until: network.MustDate("2026-12-31")},
	}
	switch k {
	case benefits.AmountOff:
		p.Terms = benefits.Terms{AmountOff: 200, MinFare: 300}
	case benefits.FixedPrice:
		p.Terms = benefits.Terms{FixedPrice: 100}
	case benefits.Percentage:
		p.Terms = benefits.Terms{PercentOff: 20, Cap: 300}
	case benefits.MultiRide:
		p.Terms = benefits.Terms{Rides: 10}
	case benefits.PaperQR:
		p.Terms = benefits.Terms{Rides: 5}
	}
	return p
}

func TestProductValidateAccepts(t *testing.T) {
	with := func(k benefits.Kind, f func(*benefits.Product)) benefits.Product {
		p := goodProduct(k)
		f(&p)
		return p
	}
	cases := []struct {
		name string
		p    benefits.Product
	}{
		{"amount off", goodProduct(benefits.AmountOff)},
		{"amount off without minimum", with(benefits.AmountOff, func(p *benefits.Product) { p.Terms.MinFare = 0 })},
		{"amount off exclusive", with(benefits.AmountOff, func(p *benefits.Product) { p.Terms.Exclusive = true })},
		{"amount off at the ceiling", with(benefits.AmountOff, func(p *benefits.Product) { p.Terms.AmountOff = 1_000_000 })},
		{"fixed price", goodProduct(benefits.FixedPrice)},
		{"fixed price zero (free ride)", with(benefits.FixedPrice, func(p *benefits.Product) { p.Terms.FixedPrice = 0 })},
		{"percentage", goodProduct(benefits.Percentage)},
		{"percentage 1 uncapped", with(benefits.Percentage, func(p *benefits.Product) { p.Terms = benefits.Terms{PercentOff: 1} })},
		{"percentage 100", with(benefits.Percentage, func(p *benefits.Product) { p.Terms = benefits.Terms{PercentOff: 100} })},
		{"single ride", goodProduct(benefits.SingleRide)},
		{"multi ride", goodProduct(benefits.MultiRide)},
		{"multi ride 2", with(benefits.MultiRide, func(p *benefits.Product) { p.Terms.Rides = 2 })},
		{"multi ride 1000", with(benefits.MultiRide, func(p *benefits.Product) { p.Terms.Rides = 1000 })},
		{"paper QR", goodProduct(benefits.PaperQR)},
		{"paper QR rides unset", with(benefits.PaperQR, func(p *benefits.Product) { p.Terms.Rides = 0 })},
		{"English name only", with(benefits.SingleRide, func(p *benefits.Product) { p.NameZH = "" })},
		{"days from claim", with(benefits.SingleRide, func(p *benefits.Product) { p.Valid = benefits.Validity{Days: 30} })},
		{"until only", with(benefits.SingleRide, func(p *benefits.Product) { p.Valid = benefits.Validity{Until: network.MustDate("2026-12-31")} })},
		{"one-day validity", with(benefits.SingleRide, func(p *benefits.Product) {
			p.Valid = benefits.Validity{From: network.MustDate("2026-12-31"), Until: network.MustDate("2026-12-31")}
		})},
		{"full scope", with(benefits.Percentage, func(p *benefits.Product) {
			p.Scope = benefits.Scope{
				Lines: []string{"L1"}, Stations: []string{"S1", "S2"}, From: []string{"S1"}, To: []string{"S2", "S3"},
				Weekdays: []int{1, 7}, FromMinute: 7 * 60, ToMinute: 9 * 60, Riders: []string{"student", "senior"},
			}
		})},
		{"hours over midnight", with(benefits.FixedPrice, func(p *benefits.Product) { p.Scope = benefits.Scope{FromMinute: 22 * 60, ToMinute: 6 * 60} })},
		{"hours to midnight", with(benefits.FixedPrice, func(p *benefits.Product) { p.Scope = benefits.Scope{FromMinute: 22 * 60, ToMinute: 1440} })},
		{"hours from midnight", with(benefits.FixedPrice, func(p *benefits.Product) { p.Scope = benefits.Scope{ToMinute: 6 * 60} })},
		{"every theme", with(benefits.MultiRide, func(p *benefits.Product) { p.Cover = benefits.Cover{Theme: "graduation", Text: "毕业快乐"} })},
		{"cover text of 60 runes", with(benefits.SingleRide, func(p *benefits.Product) { p.Cover.Text = strings.Repeat("喜", 60) })},
	}
	for _, theme := range benefits.Themes {
		cases = append(cases, struct {
			name string
			p    benefits.Product
		}{"theme " + theme, with(benefits.SingleRide, func(p *benefits.Product) { p.Cover.Theme = theme })})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := c.p.Validate(testNet); err != nil {
				t.Fatalf("Validate: %v", err)
			}
		})
	}
}

func TestProductValidateRejects(t *testing.T) {
	cases := []struct {
		name   string
		kind   benefits.Kind
		change func(*benefits.Product)
		reason string
	}{
		{"unknown kind", benefits.SingleRide, func(p *benefits.Product) { p.Kind = "season" }, "bad_product_kind"},
		{"no name", benefits.SingleRide, func(p *benefits.Product) { p.NameZH, p.NameEN = " ", "" }, "product_name_required"},
		{"name too long", benefits.SingleRide, func(p *benefits.Product) { p.NameZH = strings.Repeat("票", 61) }, "product_name_too_long"},

		{"amount off zero", benefits.AmountOff, func(p *benefits.Product) { p.Terms.AmountOff = 0 }, "bad_amount_off"},
		{"amount off negative", benefits.AmountOff, func(p *benefits.Product) { p.Terms.AmountOff = -100 }, "bad_amount_off"},
		{"amount off over ¥10,000", benefits.AmountOff, func(p *benefits.Product) { p.Terms.AmountOff = 1_000_001 }, "bad_amount_off"},
		{"min fare negative", benefits.AmountOff, func(p *benefits.Product) { p.Terms.MinFare = -1 }, "bad_min_fare"},
		{"fixed price negative", benefits.FixedPrice, func(p *benefits.Product) { p.Terms.FixedPrice = -1 }, "bad_fixed_price"},
		{"fixed price over ¥10,000", benefits.FixedPrice, func(p *benefits.Product) { p.Terms.FixedPrice = 1_000_001 }, "bad_fixed_price"},
		{"percent 0", benefits.Percentage, func(p *benefits.Product) { p.Terms.PercentOff = 0 }, "bad_percent_off"},
		{"percent 101", benefits.Percentage, func(p *benefits.Product) { p.Terms.PercentOff = 101 }, "bad_percent_off"},
		{"percent negative", benefits.Percentage, func(p *benefits.Product) { p.Terms.PercentOff = -10 }, "bad_percent_off"},
		{"cap negative", benefits.Percentage, func(p *benefits.Product) { p.Terms.Cap = -1 }, "bad_cap"},
		{"multi ride 1", benefits.MultiRide, func(p *benefits.Product) { p.Terms.Rides = 1 }, "bad_rides"},
		{"multi ride 1001", benefits.MultiRide, func(p *benefits.Product) { p.Terms.Rides = 1001 }, "bad_rides"},
		{"paper QR negative rides", benefits.PaperQR, func(p *benefits.Product) { p.Terms.Rides = -1 }, "bad_rides"},

		{"percent on amount off", benefits.AmountOff, func(p *benefits.Product) { p.Terms.PercentOff = 10 }, "terms_for_other_kind"},
		{"cap on fixed price", benefits.FixedPrice, func(p *benefits.Product) { p.Terms.Cap = 100 }, "terms_for_other_kind"},
		{"min fare on percentage", benefits.Percentage, func(p *benefits.Product) { p.Terms.MinFare = 100 }, "terms_for_other_kind"},
		{"fixed price on amount off", benefits.AmountOff, func(p *benefits.Product) { p.Terms.FixedPrice = 100 }, "terms_for_other_kind"},
		{"rides on single ride", benefits.SingleRide, func(p *benefits.Product) { p.Terms.Rides = 2 }, "terms_for_other_kind"},
		{"rides on a coupon", benefits.Percentage, func(p *benefits.Product) { p.Terms.Rides = 3 }, "terms_for_other_kind"},
		{"amount off on multi ride", benefits.MultiRide, func(p *benefits.Product) { p.Terms.AmountOff = 100 }, "terms_for_other_kind"},
		{"exclusive count ticket", benefits.MultiRide, func(p *benefits.Product) { p.Terms.Exclusive = true }, "exclusive_count_ticket"},

		{"unknown station", benefits.AmountOff, func(p *benefits.Product) { p.Scope.Stations = []string{"S1", "S9"} }, "unknown_station"},
		{"unknown section start", benefits.AmountOff, func(p *benefits.Product) { p.Scope.From, p.Scope.To = []string{"X"}, []string{"S2"} }, "unknown_station"},
		{"unknown section end", benefits.AmountOff, func(p *benefits.Product) { p.Scope.From, p.Scope.To = []string{"S1"}, []string{"X"} }, "unknown_station"},
		{"unknown line", benefits.AmountOff, func(p *benefits.Product) { p.Scope.Lines = []string{"L1", "L9"} }, "unknown_line"},
		{"half section: from only", benefits.FixedPrice, func(p *benefits.Product) { p.Scope.From = []string{"S1"} }, "half_section"},
		{"half section: to only", benefits.FixedPrice, func(p *benefits.Product) { p.Scope.To = []string{"S1"} }, "half_section"},
		{"weekday 0", benefits.Percentage, func(p *benefits.Product) { p.Scope.Weekdays = []int{1, 0} }, "bad_weekday"},
		{"weekday 8", benefits.Percentage, func(p *benefits.Product) { p.Scope.Weekdays = []int{8} }, "bad_weekday"},
		{"hours start negative", benefits.Percentage, func(p *benefits.Product) { p.Scope.FromMinute, p.Scope.ToMinute = -1, 60 }, "bad_hours"},
		{"hours start at 24:00", benefits.Percentage, func(p *benefits.Product) { p.Scope.FromMinute = 1440 }, "bad_hours"},
		{"hours end past 24:00", benefits.Percentage, func(p *benefits.Product) { p.Scope.ToMinute = 1441 }, "bad_hours"},
		{"hours end negative", benefits.Percentage, func(p *benefits.Product) { p.Scope.FromMinute, p.Scope.ToMinute = 60, -1 }, "bad_hours"},
		{"hours empty span", benefits.Percentage, func(p *benefits.Product) { p.Scope.FromMinute, p.Scope.ToMinute = 600, 600 }, "bad_hours"},
		{"empty rider category", benefits.Percentage, func(p *benefits.Product) { p.Scope.Riders = []string{"student", ""} }, "bad_rider_category"},
		{"long rider category", benefits.Percentage, func(p *benefits.Product) { p.Scope.Riders = []string{strings.Repeat("x", 33)} }, "bad_rider_category"},

		{"both validity forms", benefits.SingleRide, func(p *benefits.Product) { p.Valid.Days = 7 }, "validity_both"},
		{"days with from only", benefits.SingleRide, func(p *benefits.Product) {
			p.Valid = benefits.Validity{From: network.MustDate("2026-12-01"), Days: 7}
		}, "validity_both"},
		{"days with until only", benefits.SingleRide, func(p *benefits.Product) {
			p.Valid = benefits.Validity{Until: network.MustDate("2026-12-01"), Days: 7}
		}, "validity_both"},
		{"missing validity", benefits.SingleRide, func(p *benefits.Product) { p.Valid = benefits.Validity{} }, "validity_required"},
		{"from without until", benefits.SingleRide, func(p *benefits.Product) { p.Valid.Until = network.Date{} }, "validity_required"},
		{"reversed dates", benefits.SingleRide, func(p *benefits.Product) {
			p.Valid = benefits.Validity{From: network.MustDate("2026-12-31"), Until: network.MustDate("2026-12-30")}
		}, "validity_reversed"},
		{"negative days", benefits.SingleRide, func(p *benefits.Product) { p.Valid = benefits.Validity{Days: -1} }, "bad_validity_days"},
		{"too many days", benefits.SingleRide, func(p *benefits.Product) { p.Valid = benefits.Validity{Days: 3661} }, "bad_validity_days"},

		{"unknown cover theme", benefits.SingleRide, func(p *benefits.Product) { p.Cover.Theme = "halloween" }, "unknown_theme"},
		{"cover text of 61 runes", benefits.SingleRide, func(p *benefits.Product) { p.Cover.Text = strings.Repeat("喜", 61) }, "cover_text_too_long"},
		{"cover text with a control character", benefits.SingleRide, func(p *benefits.Product) { p.Cover.Text = "hi\nthere" }, "bad_cover_text"},
		{"cover text not UTF-8", benefits.SingleRide, func(p *benefits.Product) { p.Cover.Text = "\xff\xfe" }, "bad_cover_text"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := goodProduct(c.kind)
			c.change(&p)
			err := p.Validate(testNet)
			if err == nil {
				t.Fatalf("Validate accepted %+v", p)
			}
			f := fault.As(err)
			if f.Reason != c.reason || f.Code != fault.Invalid {
				t.Fatalf("Validate: %s / %s (%v), want %s / %s", f.Code, f.Reason, err, fault.Invalid, c.reason)
			}
			if f.ZH == "" || f.EN == "" {
				t.Fatalf("fault %s lacks a message: %+v", f.Reason, f)
			}
		})
	}
}

func TestCoverValidate(t *testing.T) {
	for _, c := range []struct {
		cover  benefits.Cover
		reason string // "" for valid
	}{
		{benefits.Cover{}, ""},
		{benefits.Cover{Theme: "wedding", Text: "百年好合 · Happy wedding"}, ""},
		{benefits.Cover{Text: strings.Repeat("a", 60)}, ""},
		{benefits.Cover{Text: strings.Repeat("a", 61)}, "cover_text_too_long"},
		{benefits.Cover{Theme: "Wedding"}, "unknown_theme"},
		{benefits.Cover{Text: "a\x7fb"}, "bad_cover_text"},
	} {
		err := c.cover.Validate()
		switch {
		case c.reason == "" && err != nil:
			t.Errorf("%+v: %v", c.cover, err)
		case c.reason != "" && fault.As(err).Reason != c.reason:
			t.Errorf("%+v: got %v, want %s", c.cover, err, c.reason)
		}
	}
}

func TestKinds(t *testing.T) {
	for _, k := range benefits.Kinds {
		if !k.Valid() || k.Coupon() == k.CountTicket() {
			t.Errorf("%s: valid %v coupon %v count %v", k, k.Valid(), k.Coupon(), k.CountTicket())
		}
	}
	if benefits.Kind("season").Valid() || benefits.Kind("").Valid() {
		t.Error("an unknown kind is valid")
	}
	for k, want := range map[benefits.Kind]int{benefits.AmountOff: 1, benefits.SingleRide: 1, benefits.MultiRide: 10, benefits.PaperQR: 5} {
		if got := goodProduct(k).Rides(); got != want {
			t.Errorf("%s holds %d rides, want %d", k, got, want)
		}
	}
	paper := goodProduct(benefits.PaperQR)
	paper.Terms.Rides = 0
	if paper.Rides() != 1 {
		t.Errorf("a paper ticket without rides holds %d, want 1", paper.Rides())
	}
}

// at is a wall-clock time in Asia/Shanghai.
func at(y int, mo time.Month, d, h, mi, s int) time.Time {
	return time.Date(y, mo, d, h, mi, s, 0, benefits.Shanghai)
}

func TestWindowForAbsoluteDates(t *testing.T) {
	v := benefits.Validity{From: network.MustDate("2026-12-01"), Until: network.MustDate("2026-12-06")}
	w := v.WindowFor(at(2026, 11, 20, 12, 0, 0), benefits.Shanghai)
	if !w.From.Equal(at(2026, 12, 1, 0, 0, 0)) || !w.Until.Equal(at(2026, 12, 7, 0, 0, 0)) {
		t.Fatalf("window %v – %v, want 2026-12-01 00:00 – 2026-12-07 00:00 +08", w.From, w.Until)
	}
	newYork, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	// The same instants written in other zones: the ticket's days are the
	// local days of Shanghai, whatever zone the ride's clock reports in.
	zones := []*time.Location{benefits.Shanghai, time.UTC, newYork, time.FixedZone("UTC+14", 14*3600)}
	for _, c := range []struct {
		name string
		t    time.Time
		in   bool
	}{
		{"first instant of From", at(2026, 12, 1, 0, 0, 0), true},
		{"last second before From", at(2026, 11, 30, 23, 59, 59), false},
		{"early on From (still the day before in UTC)", at(2026, 12, 1, 7, 0, 0), true},
		{"middle", at(2026, 12, 3, 12, 0, 0), true},
		{"23:59:59 on Until", at(2026, 12, 6, 23, 59, 59), true},
		{"last nanosecond of Until", at(2026, 12, 7, 0, 0, 0).Add(-time.Nanosecond), true},
		{"00:00 the day after Until", at(2026, 12, 7, 0, 0, 0), false},
		{"04:00 the day after Until (still Until in UTC)", at(2026, 12, 7, 4, 0, 0), false},
	} {
		for _, z := range zones {
			if got := w.Contains(c.t.In(z)); got != c.in {
				t.Errorf("%s (%v): inside %v, want %v", c.name, c.t.In(z), got, c.in)
			}
		}
	}
	// No From: usable from the start up to the end of Until.
	open := benefits.Validity{Until: network.MustDate("2026-12-06")}.WindowFor(at(2026, 11, 20, 12, 0, 0), benefits.Shanghai)
	if !open.Contains(at(2020, 1, 1, 0, 0, 0)) || !open.Contains(at(2026, 12, 6, 23, 59, 59)) || open.Contains(at(2026, 12, 7, 0, 0, 0)) {
		t.Errorf("open-start window %v – %v", open.From, open.Until)
	}
	// The claim time and its zone do not move absolute dates.
	for _, z := range zones {
		if w2 := v.WindowFor(at(2026, 12, 6, 23, 30, 0).In(z), benefits.Shanghai); !w2.From.Equal(w.From) || !w2.Until.Equal(w.Until) {
			t.Errorf("claimed in %v: window %v – %v", z, w2.From, w2.Until)
		}
	}
	// Days are counted in the location given.
	nyw := v.WindowFor(at(2026, 11, 20, 12, 0, 0), newYork)
	if want := time.Date(2026, 12, 7, 0, 0, 0, 0, newYork); !nyw.Until.Equal(want) {
		t.Errorf("New York window ends %v, want %v", nyw.Until, want)
	}
}

func TestWindowForDaysFromClaim(t *testing.T) {
	for _, c := range []struct {
		name    string
		claimed time.Time
		days    int
		until   time.Time
	}{
		{"1 day, claimed late at night", at(2026, 12, 6, 23, 30, 0), 1, at(2026, 12, 7, 0, 0, 0)},
		{"1 day, claimed at midnight", at(2026, 12, 6, 0, 0, 0), 1, at(2026, 12, 7, 0, 0, 0)},
		{"1 day, claimed 00:30 local (the day before in UTC)", at(2026, 12, 7, 0, 30, 0), 1, at(2026, 12, 8, 0, 0, 0)},
		{"2 days", at(2026, 12, 6, 23, 30, 0), 2, at(2026, 12, 8, 0, 0, 0)},
		{"30 days over the new year", at(2026, 12, 6, 9, 0, 0), 30, at(2027, 1, 5, 0, 0, 0)},
	} {
		for _, z := range []*time.Location{benefits.Shanghai, time.UTC, time.FixedZone("UTC-10", -10*3600)} {
			claimed := c.claimed.In(z)
			w := benefits.Validity{Days: c.days}.WindowFor(claimed, benefits.Shanghai)
			if !w.From.Equal(c.claimed) || !w.Until.Equal(c.until) {
				t.Errorf("%s, claim written in %v: window %v – %v, want %v – %v", c.name, z, w.From, w.Until, c.claimed, c.until)
			}
			if !w.Contains(c.claimed) || w.Contains(c.claimed.Add(-time.Second)) ||
				!w.Contains(c.until.Add(-time.Second)) || w.Contains(c.until) {
				t.Errorf("%s: window %v – %v has the wrong edges", c.name, w.From, w.Until)
			}
		}
	}
}

func TestScopeCovers(t *testing.T) {
	// 2026-12-07 is a Monday, 2026-12-06 a Sunday.
	ride := func(f func(*benefits.Ride)) benefits.Ride {
		r := benefits.Ride{ID: "r", Feed: "nbmetro", From: "S1", To: "S2", FromLine: "L1", ToLine: "L1", Fare: 400,
			EnteredAt: at(2026, 12, 7, 8, 30, 0), RiderGroups: []string{"student"}}
		if f != nil {
			f(&r)
		}
		return r
	}
	enteredAt := func(t time.Time) func(*benefits.Ride) { return func(r *benefits.Ride) { r.EnteredAt = t } }
	night := benefits.Scope{FromMinute: 22 * 60, ToMinute: 6 * 60}
	morning := benefits.Scope{FromMinute: 7 * 60, ToMinute: 9 * 60}
	cases := []struct {
		name  string
		scope benefits.Scope
		ride  benefits.Ride
		want  bool
	}{
		{"empty scope covers all", benefits.Scope{}, ride(nil), true},

		{"line entered", benefits.Scope{Lines: []string{"L1"}}, ride(nil), true},
		{"line left", benefits.Scope{Lines: []string{"L2"}}, ride(func(r *benefits.Ride) { r.ToLine = "L2" }), true},
		{"other line", benefits.Scope{Lines: []string{"L2"}}, ride(nil), false},

		{"station entered", benefits.Scope{Stations: []string{"S1"}}, ride(nil), true},
		{"station left", benefits.Scope{Stations: []string{"S2", "S3"}}, ride(nil), true},
		{"other station", benefits.Scope{Stations: []string{"S3"}}, ride(nil), false},

		{"section", benefits.Scope{From: []string{"S1", "S3"}, To: []string{"S2"}}, ride(nil), true},
		{"section reversed", benefits.Scope{From: []string{"S2"}, To: []string{"S1"}}, ride(nil), false},
		{"section wrong end", benefits.Scope{From: []string{"S1"}, To: []string{"S3"}}, ride(nil), false},
		{"section wrong start", benefits.Scope{From: []string{"S3"}, To: []string{"S2"}}, ride(nil), false},

		{"Monday", benefits.Scope{Weekdays: []int{1}}, ride(nil), true},
		{"not Monday", benefits.Scope{Weekdays: []int{2, 3, 4, 5, 6, 7}}, ride(nil), false},
		{"Sunday is 7", benefits.Scope{Weekdays: []int{7}}, ride(enteredAt(at(2026, 12, 6, 12, 0, 0))), true},
		{"Sunday is not 6", benefits.Scope{Weekdays: []int{6}}, ride(enteredAt(at(2026, 12, 6, 12, 0, 0))), false},
		// 00:30 Monday local is 16:30 Sunday UTC.
		{"weekday read in local time", benefits.Scope{Weekdays: []int{1}}, ride(enteredAt(at(2026, 12, 7, 0, 30, 0).UTC())), true},
		{"weekday not read in UTC", benefits.Scope{Weekdays: []int{7}}, ride(enteredAt(at(2026, 12, 7, 0, 30, 0).UTC())), false},

		{"morning start", morning, ride(enteredAt(at(2026, 12, 7, 7, 0, 0))), true},
		{"morning last minute", morning, ride(enteredAt(at(2026, 12, 7, 8, 59, 59))), true},
		{"morning end is exclusive", morning, ride(enteredAt(at(2026, 12, 7, 9, 0, 0))), false},
		{"before morning", morning, ride(enteredAt(at(2026, 12, 7, 6, 59, 0))), false},
		{"hours read in local time", morning, ride(enteredAt(at(2026, 12, 7, 8, 0, 0).UTC())), true},
		{"to midnight written as 1440", benefits.Scope{FromMinute: 23 * 60, ToMinute: 1440}, ride(enteredAt(at(2026, 12, 7, 23, 59, 0))), true},
		{"to midnight written as 0", benefits.Scope{FromMinute: 23 * 60}, ride(enteredAt(at(2026, 12, 7, 23, 59, 0))), true},
		{"to midnight, before", benefits.Scope{FromMinute: 23 * 60}, ride(enteredAt(at(2026, 12, 7, 22, 59, 0))), false},
		{"from midnight", benefits.Scope{ToMinute: 6 * 60}, ride(enteredAt(at(2026, 12, 7, 0, 0, 0))), true},
		{"from midnight, after", benefits.Scope{ToMinute: 6 * 60}, ride(enteredAt(at(2026, 12, 7, 6, 0, 0))), false},

		{"night: start", night, ride(enteredAt(at(2026, 12, 7, 22, 0, 0))), true},
		{"night: before midnight", night, ride(enteredAt(at(2026, 12, 7, 23, 59, 0))), true},
		{"night: midnight", night, ride(enteredAt(at(2026, 12, 7, 0, 0, 0))), true},
		{"night: last minute", night, ride(enteredAt(at(2026, 12, 7, 5, 59, 0))), true},
		{"night: end is exclusive", night, ride(enteredAt(at(2026, 12, 7, 6, 0, 0))), false},
		{"night: noon", night, ride(enteredAt(at(2026, 12, 7, 12, 0, 0))), false},
		{"night: just before start", night, ride(enteredAt(at(2026, 12, 7, 21, 59, 0))), false},
		// 22:30 local is 14:30 UTC.
		{"night: read in local time", night, ride(enteredAt(at(2026, 12, 7, 22, 30, 0).UTC())), true},

		{"rider category held", benefits.Scope{Riders: []string{"senior", "student"}}, ride(nil), true},
		{"rider category not held", benefits.Scope{Riders: []string{"senior"}}, ride(nil), false},
		{"rider with no category", benefits.Scope{Riders: []string{"senior"}}, ride(func(r *benefits.Ride) { r.RiderGroups = nil }), false},
		{"one of several categories", benefits.Scope{Riders: []string{"teacher"}}, ride(func(r *benefits.Ride) { r.RiderGroups = []string{"senior", "teacher"} }), true},

		{"on a given date", benefits.Scope{Dates: []network.Date{network.MustDate("2026-12-01"), network.MustDate("2026-12-07")}}, ride(nil), true},
		{"not on the given dates", benefits.Scope{Dates: []network.Date{network.MustDate("2026-12-06")}}, ride(nil), false},
		{"the date is the local one: 23:30 UTC on the 6th is the 7th in Shanghai", benefits.Scope{Dates: []network.Date{network.MustDate("2026-12-07")}},
			ride(enteredAt(time.Date(2026, 12, 6, 23, 30, 0, 0, time.UTC))), true},

		{"all parts must hold", benefits.Scope{Lines: []string{"L1"}, Weekdays: []int{1}, FromMinute: 7 * 60, ToMinute: 9 * 60, Riders: []string{"student"}}, ride(nil), true},
		{"all parts must hold: one fails", benefits.Scope{Lines: []string{"L1"}, Weekdays: []int{1}, FromMinute: 7 * 60, ToMinute: 9 * 60, Riders: []string{"senior"}}, ride(nil), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := c.scope.Covers(c.ride, benefits.Shanghai); got != c.want {
				t.Fatalf("Covers(%+v) = %v, want %v", c.ride, got, c.want)
			}
		})
	}
}
