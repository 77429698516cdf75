package metro_test

import (
	"errors"
	"fmt"
	"testing"

	"piao/internal/demo"
	"piao/internal/fault"
	"piao/internal/metro"
	"piao/internal/network"

	"pgregory.net/rapid"
)

func demoTable(t testing.TB) (*metro.FareTable, *network.Bundle) {
	t.Helper()
	b := demo.Metro()
	ft, err := metro.NewFareTable(b.Lines, b.FareBands)
	if err != nil {
		t.Fatal(err)
	}
	return ft, b
}

const (
	l1 = "nbmetro:L1"
	l2 = "nbmetro:L2"
	l3 = "nbmetro:L3"
)

func st(key string) string { return "nbmetro:" + key }

// Hand-computed from the demo's kilometre posts and the Ningbo bands
// (¥2 ≤ 4 km, ¥3 ≤ 8, ¥4 ≤ 12, ¥5 ≤ 18, ¥6 ≤ 24, ¥7 ≤ 32 …).
func TestFareTableHandComputed(t *testing.T) {
	ft, _ := demoTable(t)
	cases := []struct {
		name           string
		from, to       string
		metres         int
		fare           int64
		fromLn, toLine string
	}{
		{"one stop on line 1", "GL", "DMK", 700, 200, l1, l1},
		{"band edge: 4 km exactly is still ¥2", "GL", "YHGY", 4000, 200, l1, l1},
		{"whole of line 1", "GQX", "XP", 24500, 700, l1, l1},
		{"reverse direction costs the same", "XP", "GQX", 24500, 700, l1, l1},
		// Airport → Sakura Park: via the railway station (L2 8.9 km, L3 4.1 km
		// = 13.0 km) beats via Gulou (10.8 + 4.0 = 14.8 km).
		{"transfer L2→L3 at the railway station", "LSJC", "YHGY", 13000, 500, l2, l3},
		// Gaotangqiao → Qingshuipu: L3 1.8, L1 4.0 to Gulou, L2 8.8 = 14.6 km
		// (two transfers), against L3 5.9 + L2 10.7 = 16.6 km.
		{"two transfers L3→L1→L2", "GTQ", "QSP", 14600, 500, l3, l2},
		// Xiapu → Qianhu North Road: L1 13.3 to Sakura Park, L3 10.8 = 24.1 km.
		{"transfer L1→L3, just over 24 km", "XP", "QHBL", 24100, 700, l1, l3},
		// Xiapu → airport: L1 13.3 km, L3 4.1 km, L2 8.9 km = 26.3 km, the
		// longest shortest path of the network.
		{"the longest journey: L1→L3→L2", "XP", "LSJC", 26300, 700, l1, l2},
		{"same station is 0 m at the base fare", "GL", "GL", 0, 200, l1, l1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fare, m, err := ft.Fare(st(c.from), st(c.to))
			if err != nil {
				t.Fatal(err)
			}
			if fare != c.fare || m != c.metres {
				t.Fatalf("Fare = %d fen, %d m; want %d fen, %d m", fare, m, c.fare, c.metres)
			}
			a, _ := ft.Index(st(c.from))
			b, _ := ft.Index(st(c.to))
			if got := ft.FareByIndex(a, b); got != c.fare {
				t.Fatalf("FareByIndex = %d, want %d", got, c.fare)
			}
			if got := ft.MetresByIndex(a, b); got != c.metres {
				t.Fatalf("MetresByIndex = %d, want %d", got, c.metres)
			}
			fl, tl := ft.TripLines(a, b)
			if fl != c.fromLn || tl != c.toLine {
				t.Fatalf("TripLines = %s, %s; want %s, %s", fl, tl, c.fromLn, c.toLine)
			}
		})
	}
}

func TestFareTableExtremes(t *testing.T) {
	ft, _ := demoTable(t)
	if ft.Len() != 27 {
		t.Fatalf("Len = %d, want 27 stations (30 stops, 3 shared)", ft.Len())
	}
	if ft.BaseFare() != 200 {
		t.Fatalf("BaseFare = %d, want 200", ft.BaseFare())
	}
	// The longest shortest path: Xiapu → airport, 13.3 + 4.1 + 8.9 = 26.3 km, ¥7.
	if ft.MaxFare() != 700 {
		t.Fatalf("MaxFare = %d, want 700", ft.MaxFare())
	}
	longest := 0
	for a := range int32(ft.Len()) {
		for b := range int32(ft.Len()) {
			longest = max(longest, ft.MetresByIndex(a, b))
		}
	}
	if longest != 26300 {
		t.Fatalf("longest shortest path %d m, want 26300 (Xiapu–airport)", longest)
	}
	gl, _ := ft.Index(st("GL"))
	// From Gulou the farthest is Xiapu (17.3 km, ¥5).
	if ft.MaxFareFrom(gl) != 500 || ft.MaxFareTo(gl) != 500 {
		t.Fatalf("MaxFareFrom/To(GL) = %d/%d, want 500", ft.MaxFareFrom(gl), ft.MaxFareTo(gl))
	}
	xp, _ := ft.Index(st("XP"))
	if ft.MaxFareFrom(xp) != 700 {
		t.Fatalf("MaxFareFrom(XP) = %d, want 700", ft.MaxFareFrom(xp))
	}
	if got := ft.Lines(st("GL")); len(got) != 2 || got[0] != l1 || got[1] != l2 {
		t.Fatalf("Lines(GL) = %v", got)
	}
	if got := ft.Lines(st("YHGY")); len(got) != 2 || got[0] != l1 || got[1] != l3 {
		t.Fatalf("Lines(YHGY) = %v", got)
	}
	if got := ft.Lines("nowhere"); got != nil {
		t.Fatalf("Lines(unknown) = %v", got)
	}
	ids := ft.Stations()
	for i, id := range ids {
		if j, ok := ft.Index(id); !ok || int(j) != i || ft.Station(j) != id {
			t.Fatalf("Index/Station disagree at %d (%s)", i, id)
		}
	}
}

// Every pair agrees with the network package's route query on distance,
// and on the first and last lines.
func TestFareTableMatchesGraph(t *testing.T) {
	ft, b := demoTable(t)
	fareTableMatchesGraph(t, ft, b.Lines, b.FareBands)
}

// Property: on small random networks, full of tied routes and parallel
// track, the fare table prices the route the network's query returns.
func TestFareTableMatchesGraphOnTies(t *testing.T) {
	bands := []network.FareBand{{UpToMetres: 1000, Fen: 200}, {UpToMetres: 3000, Fen: 300}, {Fen: 400}}
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(1, 7).Draw(t, "stations")
		// A first line through every station keeps the network connected.
		spine := network.Line{ID: "L0"}
		for i, s := range rapid.Permutation(stationNames(n)).Draw(t, "spine") {
			spine.Stations = append(spine.Stations, network.LineStation{Seq: i + 1, StationID: s, Metres: 1000 * i})
		}
		lines := []network.Line{spine}
		for li := range rapid.IntRange(0, 3).Draw(t, "more lines") {
			l := network.Line{ID: fmt.Sprintf("L%d", li+1)}
			m := 0
			for i := range rapid.IntRange(2, 5).Draw(t, "stops") {
				m += 500 * rapid.IntRange(1, 4).Draw(t, "hop")
				l.Stations = append(l.Stations, network.LineStation{Seq: i + 1, StationID: rapid.SampledFrom(stationNames(n)).Draw(t, "station"), Metres: m})
			}
			lines = append(lines, l)
		}
		ft, err := metro.NewFareTable(lines, bands)
		if err != nil {
			t.Fatal(err)
		}
		fareTableMatchesGraph(t, ft, lines, bands)
	})
}

func stationNames(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("s%d", i)
	}
	return out
}

// fatalT is what fareTableMatchesGraph needs of *testing.T and *rapid.T.
type fatalT interface {
	Helper()
	Fatal(args ...any)
	Fatalf(format string, args ...any)
}

// fareTableMatchesGraph checks every pair of stations against NewGraph's route.
func fareTableMatchesGraph(t fatalT, ft *metro.FareTable, lines []network.Line, bands []network.FareBand) {
	t.Helper()
	g := network.NewGraph(lines)
	for _, from := range ft.Stations() {
		for _, to := range ft.Stations() {
			fare, m, err := ft.Fare(from, to)
			if err != nil {
				t.Fatal(err)
			}
			if from == to {
				if m != 0 {
					t.Fatalf("%s→%s: %d m", from, to, m)
				}
				continue
			}
			p, err := g.ShortestPath(from, to)
			if err != nil {
				t.Fatal(err)
			}
			want, _ := network.BandFare(bands, p.Metres)
			if m != p.Metres || fare != want {
				t.Fatalf("%s→%s: %d m ¥%d, graph %d m ¥%d", from, to, m, fare, p.Metres, want)
			}
			a, _ := ft.Index(from)
			z, _ := ft.Index(to)
			fl, tl := ft.TripLines(a, z)
			if fl != p.Lines[0] || tl != p.Lines[len(p.Lines)-1] {
				t.Fatalf("%s→%s: lines %s…%s, graph %v", from, to, fl, tl, p.Lines)
			}
		}
	}
}

func TestFareTableErrors(t *testing.T) {
	line := func(id string, stations ...string) network.Line {
		l := network.Line{ID: id}
		for i, s := range stations {
			l.Stations = append(l.Stations, network.LineStation{Seq: i + 1, StationID: s, Metres: 1000 * i})
		}
		return l
	}
	bands := []network.FareBand{{UpToMetres: 3000, Fen: 200}, {Fen: 400}}
	cases := []struct {
		name   string
		lines  []network.Line
		bands  []network.FareBand
		reason string
	}{
		{"no bands", []network.Line{line("a", "x", "y")}, nil, "no_fare_bands"},
		{"bands falling", []network.Line{line("a", "x", "y")}, []network.FareBand{{UpToMetres: 1000, Fen: 300}, {UpToMetres: 2000, Fen: 200}}, "bands_not_increasing"},
		{"no stations", nil, bands, "no_stations"},
		{"two networks", []network.Line{line("a", "x", "y"), line("b", "p", "q")}, bands, "network_not_connected"},
		{"empty station id", []network.Line{line("a", "x", "")}, bands, "line_station_empty"},
		{"bounded bands too short", []network.Line{line("a", "x", "y", "z", "w")}, []network.FareBand{{UpToMetres: 2000, Fen: 200}}, "distance_beyond_bands"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := metro.NewFareTable(c.lines, c.bands)
			var fe *fault.Error
			if !errors.As(err, &fe) || fe.Reason != c.reason {
				t.Fatalf("err = %v, want reason %s", err, c.reason)
			}
		})
	}
	ft, err := metro.NewFareTable([]network.Line{line("a", "x", "y", "z")}, bands)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := ft.Fare("x", "nowhere"); err == nil {
		t.Fatal("Fare to an unknown station: no error")
	}
	if _, _, err := ft.Fare("nowhere", "x"); err == nil {
		t.Fatal("Fare from an unknown station: no error")
	}
	if f, m, _ := ft.Fare("x", "z"); f != 200 || m != 2000 {
		t.Fatalf("x→z = %d fen %d m", f, m)
	}
}

// Parallel track (two lines over the same stretch) takes the line given first.
func TestFareTableParallelTrackTakesFirstLine(t *testing.T) {
	a := network.Line{ID: "A", Stations: []network.LineStation{{Seq: 1, StationID: "p", Metres: 0}, {Seq: 2, StationID: "q", Metres: 1500}}}
	b := network.Line{ID: "B", Stations: []network.LineStation{{Seq: 1, StationID: "p", Metres: 0}, {Seq: 2, StationID: "q", Metres: 1500}, {Seq: 3, StationID: "r", Metres: 2500}}}
	ft, err := metro.NewFareTable([]network.Line{a, b}, []network.FareBand{{Fen: 300}})
	if err != nil {
		t.Fatal(err)
	}
	p, _ := ft.Index("p")
	q, _ := ft.Index("q")
	r, _ := ft.Index("r")
	if fl, tl := ft.TripLines(p, q); fl != "A" || tl != "A" {
		t.Fatalf("p→q lines %s %s", fl, tl)
	}
	if fl, tl := ft.TripLines(p, r); fl != "A" || tl != "B" {
		t.Fatalf("p→r lines %s %s", fl, tl)
	}
}
