package network_test

import (
	"testing"
	"time"

	"pgregory.net/rapid"

	"piao/internal/fault"
	"piao/internal/network"
)

func TestStandardCarTypes(t *testing.T) {
	want := map[string]struct {
		seats  int
		class  network.SeatClass
		berths map[network.Berth]int
	}{
		"YW": {66, network.HardSleeper, map[network.Berth]int{network.Lower: 22, network.Middle: 22, network.Upper: 22}},
		"RW": {36, network.SoftSleeper, map[network.Berth]int{network.Lower: 18, network.Upper: 18}},
		"ZE": {90, network.SecondClass, map[network.Berth]int{network.NoBerth: 90}},
		"ZY": {52, network.FirstClass, map[network.Berth]int{network.NoBerth: 52}},
		"SW": {24, network.Business, map[network.Berth]int{network.NoBerth: 24}},
	}
	for _, ct := range network.StandardCarTypes() {
		w, ok := want[ct.Code]
		if !ok {
			t.Fatalf("unexpected car type %s", ct.Code)
		}
		if len(ct.Seats) != w.seats || ct.SeatClass != w.class {
			t.Errorf("%s: %d seats of %s, want %d of %s", ct.Code, len(ct.Seats), ct.SeatClass, w.seats, w.class)
		}
		got := map[network.Berth]int{}
		labels := map[string]bool{}
		for _, s := range ct.Seats {
			got[s.Berth]++
			if labels[s.Label] {
				t.Errorf("%s: duplicate label %s", ct.Code, s.Label)
			}
			labels[s.Label] = true
		}
		for b, n := range w.berths {
			if got[b] != n {
				t.Errorf("%s: %d %q berths, want %d", ct.Code, got[b], b, n)
			}
		}
	}
	ze := network.StandardCarTypes()[2]
	if ze.Seats[0].Label != "01A" || ze.Seats[4].Label != "01F" {
		t.Errorf("second class row 1 = %s…%s, want 01A…01F", ze.Seats[0].Label, ze.Seats[4].Label)
	}
	yw := network.StandardCarTypes()[0]
	if yw.Seats[0].Label != "01L" || yw.Seats[5].Label != "02U" || yw.Seats[65].Compartment != 11 {
		t.Errorf("hard sleeper labels %s %s compartment %d", yw.Seats[0].Label, yw.Seats[5].Label, yw.Seats[65].Compartment)
	}
}

func TestCalendarRuns(t *testing.T) {
	c := network.Calendar{
		Weekdays: [7]bool{true, true, true, true, true, false, false}, // weekdays only
		Start:    network.MustDate("2026-11-02"), End: network.MustDate("2026-11-30"),
		Exceptions: []network.CalendarException{{Date: network.MustDate("2026-11-07"), Added: true}, {Date: network.MustDate("2026-11-09"), Added: false}},
	}
	cases := map[string]bool{
		"2026-11-01": false, // before start
		"2026-11-02": true,  // Monday
		"2026-11-06": true,  // Friday
		"2026-11-07": true,  // Saturday, added
		"2026-11-08": false, // Sunday
		"2026-11-09": false, // Monday, removed
		"2026-11-30": true,  // last day, inclusive
		"2026-12-01": false, // after end
	}
	for d, want := range cases {
		if got := c.Runs(network.MustDate(d)); got != want {
			t.Errorf("Runs(%s) = %v, want %v", d, got, want)
		}
	}
	if n := len(c.RunningDates(network.MustDate("2026-11-01"), network.MustDate("2026-11-30"))); n != 21 {
		t.Errorf("running dates in November = %d, want 21 (21 weekdays, less the 9th, plus the 7th)", n)
	}
}

func TestParseDate(t *testing.T) {
	for _, bad := range []string{"", "2026-13-01", "2026-02-30", "20261301", "tomorrow", "2026-1-1"} {
		if _, err := network.ParseDate(bad); !fault.Is(err, fault.Invalid) {
			t.Errorf("ParseDate(%q) = %v, want invalid", bad, err)
		}
	}
	if d := network.MustDate("20260301"); d.String() != "2026-03-01" {
		t.Errorf("GTFS date = %s", d)
	}
}

func TestBuildTimetablePastMidnight(t *testing.T) {
	loc, _ := time.LoadLocation("Asia/Shanghai")
	svc := network.Service{ID: "x:Z66", Number: "Z66", Stops: []network.Stop{
		{Seq: 1, StationID: "a", Arrive: 20*3600 + 6*60, Depart: 20*3600 + 6*60},
		{Seq: 2, StationID: "b", Arrive: 86400 + 7*3600 + 32*60, Depart: 86400 + 7*3600 + 32*60, Metres: 1449000},
	}}
	tt := network.BuildTimetable(svc, network.MustDate("2026-11-30"), loc, map[string]network.Station{"a": {ID: "a"}, "b": {ID: "b"}})
	if got := tt.Stops[0].Depart.Format("2006-01-02 15:04"); got != "2026-11-30 20:06" {
		t.Errorf("departure %s", got)
	}
	if got := tt.Stops[1].Arrive.Format("2006-01-02 15:04 -0700"); got != "2026-12-01 07:32 +0800" {
		t.Errorf("arrival %s", got)
	}
	if tt.Stops[1].DayOffset != 1 || tt.Stops[0].Arrive != nil || tt.Stops[1].Depart != nil {
		t.Errorf("offsets/ends wrong: %+v", tt.Stops)
	}
	if tt.DurationMin != 11*60+26 {
		t.Errorf("duration %d min", tt.DurationMin)
	}
}

// A small network: line A a1-a2-X-a3, line B b1-X-b2, line C a1-b2 (long).
func testLines() []network.Line {
	ls := func(id string, st ...any) network.Line {
		l := network.Line{ID: id}
		for i := 0; i < len(st); i += 2 {
			l.Stations = append(l.Stations, network.LineStation{Seq: i/2 + 1, StationID: st[i].(string), Metres: st[i+1].(int)})
		}
		return l
	}
	return []network.Line{
		ls("A", "a1", 0, "a2", 1500, "X", 3000, "a3", 5000),
		ls("B", "b1", 0, "X", 2000, "b2", 3500),
		ls("C", "a1", 0, "b2", 20000),
	}
}

func TestShortestPathWithTransfer(t *testing.T) {
	g := network.NewGraph(testLines())
	p, err := g.ShortestPath("a1", "b2")
	if err != nil {
		t.Fatal(err)
	}
	if p.Metres != 4500 || p.Transfers != 1 || len(p.Stations) != 4 || p.Stations[2] != "X" {
		t.Errorf("path = %+v, want a1 a2 X b2 over 4500 m with one transfer", p)
	}
	if _, err := g.ShortestPath("a1", "zz"); !fault.Is(err, fault.NotFound) {
		t.Errorf("unknown station: %v", err)
	}
	same, err := g.ShortestPath("X", "X")
	if err != nil || same.Metres != 0 || len(same.Stations) != 1 {
		t.Errorf("same station: %+v %v", same, err)
	}
}

var ningbo = []network.FareBand{
	{UpToMetres: 4000, Fen: 200}, {UpToMetres: 8000, Fen: 300}, {UpToMetres: 12000, Fen: 400},
	{UpToMetres: 18000, Fen: 500}, {UpToMetres: 24000, Fen: 600}, {UpToMetres: 0, Fen: 700},
}

func TestBandFare(t *testing.T) {
	cases := map[int]int64{0: 200, 4000: 200, 4001: 300, 12000: 400, 12001: 500, 24000: 600, 99999: 700}
	for m, want := range cases {
		if got, err := network.BandFare(ningbo, m); err != nil || got != want {
			t.Errorf("BandFare(%d) = %d, %v; want %d", m, got, err, want)
		}
	}
	if err := network.ValidateBands(ningbo); err != nil {
		t.Error(err)
	}
	if err := network.ValidateBands([]network.FareBand{{UpToMetres: 5000, Fen: 300}, {UpToMetres: 4000, Fen: 200}}); err == nil {
		t.Error("decreasing bands accepted")
	}
	if _, err := network.BandFare(ningbo[:2], 9000); !fault.Is(err, fault.Invalid) {
		t.Errorf("distance past closed bands: %v", err)
	}
}

// Property: shortest paths are symmetric, never longer than any direct line
// segment, and fares never fall as distance grows.
func TestMetroProperties(t *testing.T) {
	g := network.NewGraph(testLines())
	stations := []string{"a1", "a2", "X", "a3", "b1", "b2"}
	rapid.Check(t, func(t *rapid.T) {
		from := rapid.SampledFrom(stations).Draw(t, "from")
		to := rapid.SampledFrom(stations).Draw(t, "to")
		p, err := g.ShortestPath(from, to)
		if err != nil {
			t.Fatal(err)
		}
		q, err := g.ShortestPath(to, from)
		if err != nil {
			t.Fatal(err)
		}
		if p.Metres != q.Metres {
			t.Fatalf("asymmetric: %d vs %d", p.Metres, q.Metres)
		}
		m1 := rapid.IntRange(0, 60000).Draw(t, "m1")
		m2 := rapid.IntRange(m1, 60000).Draw(t, "m2")
		f1, _ := network.BandFare(ningbo, m1)
		f2, _ := network.BandFare(ningbo, m2)
		if f2 < f1 {
			t.Fatalf("fare fell from %d to %d as distance rose %d→%d", f1, f2, m1, m2)
		}
	})
}

func TestPinyinInitials(t *testing.T) {
	for in, want := range map[string]string{"nan chang": "nc", "bei jing xi": "bjx", "": "", "Xi'an": "xa"} {
		if got := network.PinyinInitials(in); got != want {
			t.Errorf("PinyinInitials(%q) = %q, want %q", in, got, want)
		}
	}
}
