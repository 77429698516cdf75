package metro_test

import (
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"piao/internal/fault"
	"piao/internal/metro"
)

var t0 = time.Date(2026, 12, 1, 8, 0, 0, 0, time.FixedZone("CST", 8*3600))

func tap(id string, account int64, station string, dir metro.Direction, after time.Duration) metro.Tap {
	s := station
	if s != "" && s != "nowhere" {
		s = st(station)
	}
	return metro.Tap{ID: id, Feed: "nbmetro", Account: account, Station: s, Gate: "g1", Dir: dir, At: t0.Add(after)}
}

func in(id string, account int64, station string, after time.Duration) metro.Tap {
	return tap(id, account, station, metro.In, after)
}

func out(id string, account int64, station string, after time.Duration) metro.Tap {
	return tap(id, account, station, metro.Out, after)
}

// want is the part of a trip a case checks.
type want struct {
	ID               string
	Status           metro.TripStatus
	From, To         string
	FromLine, ToLine string
	Metres           int
	Fare             int64
}

func got(trips []metro.Trip) []want {
	var w []want
	for _, t := range trips {
		w = append(w, want{t.ID, t.Status, t.From, t.To, t.FromLine, t.ToLine, t.Metres, t.Fare})
	}
	return w
}

func newClearer(t testing.TB, edit func(*metro.Rules)) *metro.Clearer {
	t.Helper()
	ft, _ := demoTable(t)
	r := metro.DefaultRules()
	if edit != nil {
		edit(&r)
	}
	c, err := metro.NewClearer(ft, r)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestClearRules(t *testing.T) {
	ft, _ := demoTable(t)
	maxTo := func(key string) int64 { i, _ := ft.Index(st(key)); return ft.MaxFareTo(i) }
	const m = time.Minute
	const h = time.Hour
	cases := []struct {
		name     string
		edit     func(*metro.Rules)
		taps     []metro.Tap
		until    time.Duration // cut-off after t0; 0: Clear
		want     []want
		pending  []string
		rejected []string // reasons
	}{
		{name: "complete", taps: []metro.Tap{in("a", 1, "GL", 0), out("b", 1, "DMK", 10*m)},
			want: []want{{"t-a", metro.Complete, st("GL"), st("DMK"), l1, l1, 700, 200}}},
		{name: "transfer trip prices the shortest distance", taps: []metro.Tap{in("a", 1, "LSJC", 0), out("b", 1, "YHGY", 40*m)},
			want: []want{{"t-a", metro.Complete, st("LSJC"), st("YHGY"), l2, l3, 13000, 500}}},
		{name: "no exit: highest fare from the entry", taps: []metro.Tap{in("a", 1, "GL", 0)},
			want: []want{{"t-a", metro.NoExit, st("GL"), "", l1, "", 0, 500}}},
		{name: "no entry: highest fare to the exit", taps: []metro.Tap{out("b", 1, "XP", 0)},
			want: []want{{"t-b", metro.NoEntry, "", st("XP"), "", l1, 0, 700}}},
		{name: "tap-in twice: the first has no exit", taps: []metro.Tap{in("a", 1, "GL", 0), in("c", 1, "GQX", 5*m), out("d", 1, "WCQ", 15*m)},
			want: []want{{"t-a", metro.NoExit, st("GL"), "", l1, "", 0, 500}, {"t-c", metro.Complete, st("GQX"), st("WCQ"), l1, l1, 2600, 200}}},
		{name: "tap-out twice: the second has no entry", taps: []metro.Tap{in("a", 1, "GL", 0), out("b", 1, "DMK", 10*m), out("c", 1, "XP", 30*m)},
			want: []want{{"t-a", metro.Complete, st("GL"), st("DMK"), l1, l1, 700, 200}, {"t-c", metro.NoEntry, "", st("XP"), "", l1, 0, 700}}},
		{name: "same station within the free window", taps: []metro.Tap{in("a", 1, "GL", 0), out("b", 1, "GL", 5*m)},
			want: []want{{"t-a", metro.SameStation, st("GL"), st("GL"), l1, l1, 0, 0}}},
		{name: "same station at the window's edge is free", taps: []metro.Tap{in("a", 1, "GL", 0), out("b", 1, "GL", 20*m)},
			want: []want{{"t-a", metro.SameStation, st("GL"), st("GL"), l1, l1, 0, 0}}},
		{name: "same station after the window: base fare", taps: []metro.Tap{in("a", 1, "GL", 0), out("b", 1, "GL", 21*m)},
			want: []want{{"t-a", metro.SameStation, st("GL"), st("GL"), l1, l1, 0, 200}}},
		{name: "same station never free when the window is 0", edit: func(r *metro.Rules) { r.SameStationFreeWithin = 0 },
			taps: []metro.Tap{in("a", 1, "GL", 0), out("b", 1, "GL", time.Second)},
			want: []want{{"t-a", metro.SameStation, st("GL"), st("GL"), l1, l1, 0, 200}}},
		{name: "same station charged nothing by rule", edit: func(r *metro.Rules) { r.SameStation = metro.ChargeNone },
			taps: []metro.Tap{in("a", 1, "GL", 0), out("b", 1, "GL", 2*h)},
			want: []want{{"t-a", metro.SameStation, st("GL"), st("GL"), l1, l1, 0, 0}}},
		{name: "exactly MaxTrip is not overtime", taps: []metro.Tap{in("a", 1, "GL", 0), out("b", 1, "DMK", 4*h)},
			want: []want{{"t-a", metro.Complete, st("GL"), st("DMK"), l1, l1, 700, 200}}},
		{name: "overtime: OD fare plus the network's highest", taps: []metro.Tap{in("a", 1, "GL", 0), out("b", 1, "DMK", 4*h+m)},
			want: []want{{"t-a", metro.Overtime, st("GL"), st("DMK"), l1, l1, 700, 900}}},
		{name: "overtime at the end of the grace still pairs", taps: []metro.Tap{in("a", 1, "GL", 0), out("b", 1, "DMK", 5*h)},
			want: []want{{"t-a", metro.Overtime, st("GL"), st("DMK"), l1, l1, 700, 900}}},
		{name: "same-station overtime: base plus surcharge", taps: []metro.Tap{in("a", 1, "GL", 0), out("b", 1, "GL", 4*h+30*m)},
			want: []want{{"t-a", metro.Overtime, st("GL"), st("GL"), l1, l1, 0, 900}}},
		{name: "overtime surcharge none", edit: func(r *metro.Rules) { r.Overtime = metro.ChargeNone },
			taps: []metro.Tap{in("a", 1, "GL", 0), out("b", 1, "DMK", 4*h+m)},
			want: []want{{"t-a", metro.Overtime, st("GL"), st("DMK"), l1, l1, 700, 200}}},
		{name: "overtime surcharge the station's highest", edit: func(r *metro.Rules) { r.Overtime = metro.ChargeStationMax },
			taps: []metro.Tap{in("a", 1, "GL", 0), out("b", 1, "DMK", 4*h+m)},
			want: []want{{"t-a", metro.Overtime, st("GL"), st("DMK"), l1, l1, 700, 700}}},
		{name: "tap-out past the window: no exit and no entry", taps: []metro.Tap{in("a", 1, "GL", 0), out("b", 1, "DMK", 5*h+time.Second)},
			want: []want{{"t-a", metro.NoExit, st("GL"), "", l1, "", 0, 500}, {"t-b", metro.NoEntry, "", st("DMK"), "", l1, 0, maxTo("DMK")}}},
		{name: "other charges for missing ends", edit: func(r *metro.Rules) { r.NoExit, r.NoEntry = metro.ChargeNetworkMax, metro.ChargeBase },
			taps: []metro.Tap{in("a", 1, "GL", 0), out("b", 2, "XP", 0)},
			want: []want{{"t-a", metro.NoExit, st("GL"), "", l1, "", 0, 700}, {"t-b", metro.NoEntry, "", st("XP"), "", l1, 0, 200}}},
		{name: "accounts are paired apart", taps: []metro.Tap{in("a", 2, "GL", 0), in("b", 1, "GQX", m), out("c", 2, "DMK", 2*m), out("d", 1, "WCQ", 3*m)},
			want: []want{{"t-b", metro.Complete, st("GQX"), st("WCQ"), l1, l1, 2600, 200}, {"t-a", metro.Complete, st("GL"), st("DMK"), l1, l1, 700, 200}}},
		{name: "taps at the same instant go by ID", taps: []metro.Tap{out("b", 1, "DMK", 0), in("a", 1, "GL", 0)},
			want: []want{{"t-a", metro.Complete, st("GL"), st("DMK"), l1, l1, 700, 200}}},
		{name: "duplicate ID with other content: the earliest is kept",
			taps: []metro.Tap{in("a", 1, "GL", 0), out("b", 1, "XP", 30*m), out("b", 1, "DMK", 10*m), in("a", 1, "GL", 0)},
			want: []want{{"t-a", metro.Complete, st("GL"), st("DMK"), l1, l1, 700, 200}}},
		{name: "unknown station is rejected, its partner stands alone",
			taps:     []metro.Tap{in("a", 1, "GL", 0), out("b", 1, "nowhere", 10*m)},
			want:     []want{{"t-a", metro.NoExit, st("GL"), "", l1, "", 0, 500}},
			rejected: []string{"station_not_on_network"}},
		{name: "malformed taps are rejected",
			taps: []metro.Tap{
				in("", 1, "GL", 0), tap("x", 1, "GL", "sideways", 0),
				{ID: "z", Account: 1, Station: st("GL"), Dir: metro.In},
				{ID: "far", Account: 1, Station: st("GL"), Dir: metro.In, At: time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC)},
			},
			rejected: []string{"tap_no_time", "tap_no_id", "tap_direction_unknown", "tap_no_time"}},
		{name: "cut-off: a lone tap-in within the window is pending", taps: []metro.Tap{in("a", 1, "GL", 0)},
			until: 5 * h, pending: []string{"a"}},
		{name: "cut-off: a lone tap-in past the window has no exit", taps: []metro.Tap{in("a", 1, "GL", 0)},
			until: 5*h + time.Second, want: []want{{"t-a", metro.NoExit, st("GL"), "", l1, "", 0, 500}}},
		{name: "cut-off: taps after it are pending", taps: []metro.Tap{in("a", 1, "GL", 0), out("b", 1, "DMK", 2*h), out("c", 2, "DMK", 3*h)},
			until: h, pending: []string{"a", "b", "c"}},
		{name: "cut-off: a pair before it is final, a tap-in after it pending",
			taps:  []metro.Tap{in("a", 1, "GL", 0), out("b", 1, "DMK", 10*m), in("c", 1, "DMK", 2*h), out("d", 2, "XP", 30*m)},
			until: h,
			want: []want{{"t-a", metro.Complete, st("GL"), st("DMK"), l1, l1, 700, 200},
				{"t-d", metro.NoEntry, "", st("XP"), "", l1, 0, 700}},
			pending: []string{"c"}},
		{name: "cut-off: a tap-in followed by another is final", taps: []metro.Tap{in("a", 1, "GL", 0), in("c", 1, "DMK", 10*m)},
			until: h, want: []want{{"t-a", metro.NoExit, st("GL"), "", l1, "", 0, 500}}, pending: []string{"c"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cl := newClearer(t, c.edit)
			var res metro.Cleared
			if c.until == 0 {
				res = cl.Clear(c.taps)
			} else {
				res = cl.ClearUntil(c.taps, t0.Add(c.until))
			}
			if g := got(res.Trips); !reflect.DeepEqual(g, c.want) {
				t.Fatalf("trips\n got %+v\nwant %+v", g, c.want)
			}
			var pend []string
			for _, p := range res.Pending {
				pend = append(pend, p.ID)
			}
			if !slices.Equal(pend, c.pending) {
				t.Fatalf("pending %v, want %v", pend, c.pending)
			}
			var rej []string
			for _, r := range res.Rejected {
				var fe *fault.Error
				if !errors.As(r.Err, &fe) {
					t.Fatalf("rejected %s: not a fault: %v", r.Tap.ID, r.Err)
				}
				rej = append(rej, fe.Reason)
			}
			if !slices.Equal(rej, c.rejected) {
				t.Fatalf("rejected %v, want %v", rej, c.rejected)
			}
		})
	}
}

func TestClearTripFields(t *testing.T) {
	cl := newClearer(t, nil)
	a, b := in("a", 7, "GL", 0), out("b", 7, "DMK", 10*time.Minute)
	a.Code = "serial-1"
	res := cl.Clear([]metro.Tap{b, a})
	wantTrip := metro.Trip{
		ID: "t-a", Feed: "nbmetro", Account: 7, Status: metro.Complete, From: st("GL"), To: st("DMK"),
		FromLine: l1, ToLine: l1, InTap: "a", OutTap: "b", Entered: a.At, Exited: b.At, Metres: 700, Fare: 200,
	}
	if len(res.Trips) != 1 || !reflect.DeepEqual(res.Trips[0], wantTrip) {
		t.Fatalf("trip %+v\nwant %+v", res.Trips, wantTrip)
	}
	if ids := res.TapIDs(); !slices.Equal(ids, []string{"a", "b"}) {
		t.Fatalf("TapIDs = %v", ids)
	}
	ne := cl.Clear([]metro.Tap{b}).Trips[0]
	if ne.At() != b.At || ne.InTap != "" || ne.OutTap != "b" {
		t.Fatalf("no-entry trip %+v", ne)
	}
}

func TestRulesValidate(t *testing.T) {
	if err := metro.DefaultRules().Validate(); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		edit   func(*metro.Rules)
		reason string
	}{
		{"zero value", func(r *metro.Rules) { *r = metro.Rules{} }, "max_trip_not_positive"},
		{"negative max trip", func(r *metro.Rules) { r.MaxTrip = -time.Hour }, "max_trip_not_positive"},
		{"negative grace", func(r *metro.Rules) { r.Grace = -time.Second }, "grace_negative"},
		{"negative free window", func(r *metro.Rules) { r.SameStationFreeWithin = -time.Second }, "same_station_window_invalid"},
		{"free window beyond max trip", func(r *metro.Rules) { r.SameStationFreeWithin = 5 * time.Hour }, "same_station_window_invalid"},
		{"unknown no-exit charge", func(r *metro.Rules) { r.NoExit = "double" }, "charge_unknown"},
		{"empty no-entry charge", func(r *metro.Rules) { r.NoEntry = "" }, "charge_unknown"},
		{"unknown same-station charge", func(r *metro.Rules) { r.SameStation = "x" }, "charge_unknown"},
		{"unknown overtime charge", func(r *metro.Rules) { r.Overtime = "x" }, "charge_unknown"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := metro.DefaultRules()
			c.edit(&r)
			err := r.Validate()
			var fe *fault.Error
			if !errors.As(err, &fe) || fe.Reason != c.reason || fe.Code != fault.Invalid {
				t.Fatalf("err = %v, want %s", err, c.reason)
			}
			ft, _ := demoTable(t)
			if _, err := metro.NewClearer(ft, r); err == nil {
				t.Fatal("NewClearer accepted invalid rules")
			}
		})
	}
	if _, err := metro.NewClearer(nil, metro.DefaultRules()); err == nil {
		t.Fatal("NewClearer accepted no fare table")
	}
	if w := metro.DefaultRules().Window(); w != 5*time.Hour {
		t.Fatalf("Window = %v", w)
	}
}
