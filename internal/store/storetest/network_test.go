package storetest_test

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"piao/internal/fault"
	"piao/internal/network"
	"piao/internal/store/storetest"
)

// sampleBundle builds a small rail feed touching every table. Each call
// returns a fresh bundle so tests may change it freely.
func sampleBundle() *network.Bundle {
	const f = "t"
	return &network.Bundle{
		Feed: network.Feed{ID: f, Name: "测试铁路", Mode: network.ModeRail, Timezone: "Asia/Shanghai", Digest: "d1",
			ImportedAt: time.Date(2025, 1, 2, 3, 4, 5, 123456000, time.UTC)},
		Agencies: []network.Agency{{ID: "t:cr", FeedID: f, Name: "中国铁路", URL: "https://www.12306.cn", Timezone: "Asia/Shanghai", Lang: "zh", Phone: "12306"}},
		Stations: []network.Station{
			{ID: "t:NCG", FeedID: f, Code: "NCG", NameZH: "南昌", NameEN: "Nanchang", Pinyin: "nan chang", City: "南昌", Lat: 28.865, Lon: 115.9, URL: "https://example.com/ncg", Wheelchair: 1},
			{ID: "t:BXP", FeedID: f, Code: "BXP", NameZH: "北京西", NameEN: "Beijing West", Pinyin: "bei jing xi", City: "北京", Lat: 39.894, Lon: 116.321, Wheelchair: 2},
			// Its English name holds LIKE wildcards, and its code is a prefix of
			// 南昌's pinyin, to test escaping and ranking.
			{ID: "t:NAN", FeedID: f, Code: "NAN", NameZH: "测试站", NameEN: "Test_Halt 100%", Pinyin: "ce shi zhan", ParentID: "t:BXP"},
		},
		Lines: []network.Line{
			{ID: "t:L1", FeedID: f, AgencyID: "t:cr", Code: "京九", NameZH: "京九线", NameEN: "Beijing–Kowloon", RouteType: 2, Color: "C00000", TextColor: "FFFFFF"},
			{ID: "t:M1", FeedID: f, AgencyID: "t:cr", Code: "1", NameZH: "1号线", NameEN: "Line 1", RouteType: 1, Color: "E4002B",
				Stations: []network.LineStation{{Seq: 1, StationID: "t:BXP", Metres: 0}, {Seq: 2, StationID: "t:NCG", Metres: 1449000}}},
		},
		Calendars: []network.Calendar{
			{ID: "t:daily", FeedID: f, Weekdays: [7]bool{true, true, true, true, true, true, true},
				Start: network.MustDate("2025-01-01"), End: network.MustDate("2025-12-31"),
				Exceptions: []network.CalendarException{{Date: network.MustDate("2025-01-29"), Added: false}, {Date: network.MustDate("2026-01-03"), Added: true}}},
			{ID: "t:workdays", FeedID: f, Weekdays: [7]bool{true, true, true, true, true, false, false},
				Start: network.MustDate("2025-03-01"), End: network.MustDate("2025-06-30")},
		},
		Services: []network.Service{
			{ID: "t:Z66", FeedID: f, LineID: "t:L1", Number: "Z66", CalendarID: "t:daily", Headsign: "南昌", DirectionID: 1, ShapeID: "s1",
				Stops: []network.Stop{
					{Seq: 1, StationID: "t:BXP", Arrive: 20 * 3600, Depart: 20 * 3600, Pickup: 0, DropOff: 1},
					// Arrives 07:30 the next day: past 24:00.
					{Seq: 2, StationID: "t:NCG", Arrive: 86400 + 7*3600 + 1800, Depart: 86400 + 7*3600 + 1800, Metres: 1449000, Pickup: 1, DropOff: 0},
				},
				Cars: []network.Car{{No: 1, CarType: "YW25T"}, {No: 2, CarType: "RW25T"}}},
			{ID: "t:G1", FeedID: f, Number: "G1", CalendarID: "t:workdays",
				Stops: []network.Stop{
					{Seq: 1, StationID: "t:NCG", Arrive: 8 * 3600, Depart: 8 * 3600},
					{Seq: 2, StationID: "t:BXP", Arrive: 14 * 3600, Depart: 14 * 3600, Metres: 1449000},
				}},
		},
		Transfers: []network.Transfer{{FeedID: f, FromStationID: "t:BXP", ToStationID: "t:NCG", FromLineID: "t:L1", ToLineID: "t:M1",
			FromServiceID: "t:Z66", ToServiceID: "t:G1", Type: 2, MinSeconds: 600}},
		CarTypes: []network.CarType{
			{Code: "YW25T", SeatClass: network.HardSleeper, NameZH: "硬卧", NameEN: "Hard sleeper", Seats: []network.Seat{
				{Label: "01U", Compartment: 1, Berth: network.Upper}, {Label: "01M", Compartment: 1, Berth: network.Middle}, {Label: "01L", Compartment: 1, Berth: network.Lower}}},
			{Code: "RW25T", SeatClass: network.SoftSleeper, NameZH: "软卧", NameEN: "Soft sleeper", Seats: []network.Seat{
				{Label: "01U", Compartment: 1, Berth: network.Upper}, {Label: "01L", Compartment: 1, Berth: network.Lower}}},
			{Code: "ZE", SeatClass: network.SecondClass, NameZH: "二等座", NameEN: "Second class", Seats: []network.Seat{
				{Label: "01A", Row: 1, Letter: "A"}, {Label: "01B", Row: 1, Letter: "B"}}},
		},
		Fares: []network.Fare{
			{ServiceID: "t:Z66", FromStationID: "t:BXP", ToStationID: "t:NCG", SeatClass: network.HardSleeper, Berth: network.Upper, Fen: 40000},
			{ServiceID: "t:Z66", FromStationID: "t:BXP", ToStationID: "t:NCG", SeatClass: network.HardSleeper, Berth: network.Middle, Fen: 41000},
			{ServiceID: "t:Z66", FromStationID: "t:BXP", ToStationID: "t:NCG", SeatClass: network.HardSleeper, Berth: network.Lower, Fen: 42000},
			{ServiceID: "t:Z66", FromStationID: "t:BXP", ToStationID: "t:NCG", SeatClass: network.SoftSleeper, Berth: network.Lower, Fen: 62000},
			{ServiceID: "t:G1", FromStationID: "t:NCG", ToStationID: "t:BXP", SeatClass: network.SecondClass, Fen: 0},
		},
		FareBands: []network.FareBand{{FeedID: f, UpToMetres: 6000, Fen: 300}, {FeedID: f, UpToMetres: 0, Fen: 1000}, {FeedID: f, UpToMetres: 12000, Fen: 400}},
		GTFSFares: []network.GTFSFare{{ID: "t:f1", FeedID: f, PriceMinor: 300, Currency: "CNY", PaymentMethod: 1, Transfers: -1, AgencyID: "t:cr", TransferDuration: 3600,
			Rules: []network.FareRule{{LineID: "t:M1"}, {OriginID: "z1", DestinationID: "z2", ContainsID: "z3"}}}},
	}
}

// sampleCounts is the row count per table of sampleBundle.
func sampleCounts() map[string]int {
	return map[string]int{
		"agencies": 1, "stations": 3, "lines": 2, "line_stations": 2, "calendars": 2, "calendar_exceptions": 2,
		"services": 2, "service_stops": 4, "service_cars": 2, "transfers": 1, "fares": 5, "fare_bands": 3,
		"gtfs_fares": 1, "gtfs_fare_rules": 2,
	}
}

func mustImport(t *testing.T, s storetest.Stores, b *network.Bundle) network.ImportResult {
	t.Helper()
	res, err := s.Network.ImportBundle(context.Background(), b)
	if err != nil {
		t.Fatalf("import %s: %v", b.Feed.ID, err)
	}
	return res
}

func wantCode(t *testing.T, err error, code fault.Code) {
	t.Helper()
	if !fault.Is(err, code) {
		t.Fatalf("error = %v (code %s), want code %s", err, fault.CodeOf(err), code)
	}
	if fe := fault.As(err); fe.ZH == "" || fe.EN == "" || fe.Reason == "" {
		t.Fatalf("error %#v lacks a reason or a zh-CN/English message", fe)
	}
}

func wantEqual[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s:\n got  %+v\n want %+v", what, got, want)
	}
}

// networkState is everything the read methods return for the sample feed, to
// show that a failed or unchanged import left the stored data as it was.
type networkState struct {
	Feeds     []string
	Counts    map[string]int
	Stations  []network.Station
	Lines     []network.Line
	Metro     []network.Line
	Services  []network.Service
	Calendars []network.Calendar
	Fares     []network.Fare
	CarTypes  []network.CarType
	Bands     []network.FareBand
}

func readState(t *testing.T, s storetest.Stores, feedID string) networkState {
	t.Helper()
	ctx := context.Background()
	st := networkState{}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	feeds, err := s.Network.Feeds(ctx)
	must(err)
	for _, f := range feeds {
		st.Feeds = append(st.Feeds, fmt.Sprintf("%s|%s|%s|%s|%s|%s", f.ID, f.Name, f.Mode, f.Timezone, f.Digest, f.ImportedAt.UTC().Format(time.RFC3339Nano)))
	}
	st.Counts, err = s.Network.CountRows(ctx, feedID)
	must(err)
	for _, id := range []string{"t:NCG", "t:BXP", "t:NAN"} {
		if stn, err := s.Network.Station(ctx, id); err == nil {
			st.Stations = append(st.Stations, stn)
		} else if !fault.Is(err, fault.NotFound) {
			t.Fatal(err)
		}
	}
	st.Lines, err = s.Network.Lines(ctx, feedID)
	must(err)
	st.Metro, err = s.Network.MetroLines(ctx, feedID)
	must(err)
	for _, n := range []string{"Z66", "G1"} {
		svs, err := s.Network.ServicesByNumber(ctx, n)
		must(err)
		st.Services = append(st.Services, svs...)
	}
	for _, id := range []string{"t:daily", "t:workdays"} {
		if c, err := s.Network.Calendar(ctx, id); err == nil {
			st.Calendars = append(st.Calendars, c)
		} else if !fault.Is(err, fault.NotFound) {
			t.Fatal(err)
		}
	}
	st.Fares, err = s.Network.Fares(ctx, "t:Z66", "t:BXP", "t:NCG")
	must(err)
	st.CarTypes, err = s.Network.CarTypes(ctx)
	must(err)
	st.Bands, err = s.Network.FareBands(ctx, feedID)
	must(err)
	return st
}

func TestNetworkImportRoundTrip(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := context.Background()
		b := sampleBundle()
		var progress []int64
		b.Progress = func(n int64) { progress = append(progress, n) }
		res := mustImport(t, s, b)
		if res.Unchanged || res.FeedID != "t" {
			t.Fatalf("result = %+v", res)
		}
		wantEqual(t, "import rows", res.Rows, sampleCounts())
		total := 0
		for _, n := range sampleCounts() {
			total += n
		}
		if len(progress) == 0 || progress[len(progress)-1] != int64(total) {
			t.Fatalf("progress calls = %v, want a last call with all %d rows", progress, total)
		}
		counts, err := s.Network.CountRows(ctx, "t")
		if err != nil {
			t.Fatal(err)
		}
		wantEqual(t, "CountRows", counts, sampleCounts())

		feeds, err := s.Network.Feeds(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(feeds) != 1 || !feeds[0].ImportedAt.Equal(b.Feed.ImportedAt) {
			t.Fatalf("feeds = %+v", feeds)
		}
		feeds[0].ImportedAt = b.Feed.ImportedAt
		wantEqual(t, "feed", feeds[0], b.Feed)

		for _, want := range b.Stations {
			got, err := s.Network.Station(ctx, want.ID)
			if err != nil {
				t.Fatal(err)
			}
			wantEqual(t, "station "+want.ID, got, want)
		}

		lines, err := s.Network.Lines(ctx, "t")
		if err != nil {
			t.Fatal(err)
		}
		bare := func(l network.Line) network.Line { l.Stations = nil; return l }
		// Ordered by code: "1" sorts before "京九".
		wantEqual(t, "Lines", lines, []network.Line{bare(b.Lines[1]), bare(b.Lines[0])})
		all, err := s.Network.Lines(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		wantEqual(t, "Lines of every feed", all, lines)
		if none, err := s.Network.Lines(ctx, "nope"); err != nil || len(none) != 0 {
			t.Fatalf("Lines(nope) = %v, %v", none, err)
		}
		for _, want := range b.Lines {
			got, err := s.Network.Line(ctx, want.ID)
			if err != nil {
				t.Fatal(err)
			}
			wantEqual(t, "line "+want.ID, got, want)
		}
		metro, err := s.Network.MetroLines(ctx, "t")
		if err != nil {
			t.Fatal(err)
		}
		wantEqual(t, "MetroLines", metro, []network.Line{b.Lines[1]})

		for _, want := range b.Services {
			got, err := s.Network.Service(ctx, want.ID)
			if err != nil {
				t.Fatal(err)
			}
			wantEqual(t, "service "+want.ID, got, want)
		}
		for _, number := range []string{"Z66", "z66", " Z66 "} {
			got, err := s.Network.ServicesByNumber(ctx, number)
			if err != nil {
				t.Fatal(err)
			}
			wantEqual(t, "ServicesByNumber "+number, got, b.Services[:1])
		}
		if got, err := s.Network.ServicesAt(ctx, "t:BXP"); err != nil || len(got) != len(b.Services) {
			t.Fatalf("ServicesAt(BXP) = %d services, %v; want %d", len(got), err, len(b.Services))
		}
		for _, sv := range b.Services {
			got, err := s.Network.ServicesAt(ctx, sv.Stops[0].StationID)
			found := false
			for _, g := range got {
				found = found || g.ID == sv.ID
				if g.ID == sv.ID {
					wantEqual(t, "ServicesAt "+sv.ID, g, sv)
				}
			}
			if err != nil || !found {
				t.Fatalf("ServicesAt(%s) lacks %s: %v", sv.Stops[0].StationID, sv.ID, err)
			}
		}
		if got, err := s.Network.ServicesAt(ctx, "t:nowhere"); err != nil || len(got) != 0 {
			t.Fatalf("ServicesAt(unknown) = %v, %v", got, err)
		}
		if got, err := s.Network.ServicesByNumber(ctx, "Z6"); err != nil || len(got) != 0 {
			t.Fatalf("ServicesByNumber(Z6) = %v, %v; want no partial matches", got, err)
		}
		z66, _ := s.Network.Service(ctx, "t:Z66")
		if last := z66.Stops[len(z66.Stops)-1]; last.ArriveDay() != 1 || network.ClockTime(last.Arrive) != "07:30" {
			t.Fatalf("overnight arrival = day %d %s", last.ArriveDay(), network.ClockTime(last.Arrive))
		}

		for _, want := range b.Calendars {
			got, err := s.Network.Calendar(ctx, want.ID)
			if err != nil {
				t.Fatal(err)
			}
			wantEqual(t, "calendar "+want.ID, got, want)
		}
		daily, _ := s.Network.Calendar(ctx, "t:daily")
		if daily.Runs(network.MustDate("2025-01-29")) || !daily.Runs(network.MustDate("2026-01-03")) {
			t.Fatal("calendar exceptions lost their meaning")
		}

		fares, err := s.Network.Fares(ctx, "t:Z66", "t:BXP", "t:NCG")
		if err != nil {
			t.Fatal(err)
		}
		wantFares := slices.Clone(b.Fares[:4])
		slices.SortFunc(wantFares, func(a, b network.Fare) int {
			return strings.Compare(string(a.SeatClass)+"|"+string(a.Berth), string(b.SeatClass)+"|"+string(b.Berth))
		})
		wantEqual(t, "Fares", fares, wantFares)
		if none, err := s.Network.Fares(ctx, "t:Z66", "t:NCG", "t:BXP"); err != nil || len(none) != 0 {
			t.Fatalf("Fares of the reverse direction = %v, %v", none, err)
		}

		carTypes, err := s.Network.CarTypes(ctx)
		if err != nil {
			t.Fatal(err)
		}
		wantEqual(t, "CarTypes", carTypes, []network.CarType{b.CarTypes[1], b.CarTypes[0], b.CarTypes[2]})
		for _, want := range b.CarTypes {
			got, err := s.Network.CarType(ctx, want.Code)
			if err != nil {
				t.Fatal(err)
			}
			wantEqual(t, "car type "+want.Code, got, want)
		}

		bands, err := s.Network.FareBands(ctx, "t")
		if err != nil {
			t.Fatal(err)
		}
		wantEqual(t, "FareBands", bands, []network.FareBand{b.FareBands[0], b.FareBands[2], b.FareBands[1]})
	})
}

func TestNetworkReimport(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := context.Background()
		mustImport(t, s, sampleBundle())
		before := readState(t, s, "t")

		// Same digest: nothing is written even though the content differs.
		same := sampleBundle()
		same.Stations[0].NameZH = "改名"
		same.Feed.ImportedAt = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
		res := mustImport(t, s, same)
		if !res.Unchanged {
			t.Fatalf("same digest: result %+v, want Unchanged", res)
		}
		wantEqual(t, "unchanged rows", res.Rows, sampleCounts())
		wantEqual(t, "state after unchanged import", readState(t, s, "t"), before)

		// New digest without 测试站: the station goes, the rest is rewritten.
		next := sampleBundle()
		next.Feed.Digest = "d2"
		next.Stations = next.Stations[:2]
		next.Stations[0].NameEN = "Nanchang Railway Station"
		res = mustImport(t, s, next)
		want := sampleCounts()
		want["stations"] = 2
		if res.Unchanged {
			t.Fatal("new digest reported Unchanged")
		}
		wantEqual(t, "rows after reimport", res.Rows, want)
		counts, err := s.Network.CountRows(ctx, "t")
		if err != nil {
			t.Fatal(err)
		}
		wantEqual(t, "CountRows after reimport", counts, want)
		_, err = s.Network.Station(ctx, "t:NAN")
		wantCode(t, err, fault.NotFound)
		if got, _ := s.Network.Station(ctx, "t:NCG"); got.NameEN != "Nanchang Railway Station" {
			t.Fatalf("station not rewritten: %+v", got)
		}
		if got, err := s.Network.SearchStations(ctx, "railway", 0); err != nil || len(got) != 1 {
			t.Fatalf("search keys not rewritten: %v, %v", got, err)
		}
		feeds, _ := s.Network.Feeds(ctx)
		if len(feeds) != 1 || feeds[0].Digest != "d2" {
			t.Fatalf("feeds = %+v", feeds)
		}

		// An empty digest never counts as unchanged.
		blank := sampleBundle()
		blank.Feed.Digest = ""
		if res := mustImport(t, s, blank); res.Unchanged {
			t.Fatal("empty digest reported Unchanged")
		}
		if res := mustImport(t, s, blank); res.Unchanged {
			t.Fatal("empty digest reported Unchanged on the second import")
		}
	})
}

func TestNetworkImportInvalid(t *testing.T) {
	cases := []struct {
		name   string
		reason string // part of the English message, to show which check fired
		mutate func(b *network.Bundle)
	}{
		{"empty feed id", "feed has no ID", func(b *network.Bundle) { b.Feed.ID = "" }},
		{"unknown mode", "not rail or metro", func(b *network.Bundle) { b.Feed.Mode = "bus" }},
		{"stop at unknown station", "stops at unknown station", func(b *network.Bundle) { b.Services[0].Stops[1].StationID = "t:nowhere" }},
		{"line at unknown station", "names unknown station", func(b *network.Bundle) { b.Lines[1].Stations[0].StationID = "t:nowhere" }},
		{"missing calendar", "unknown calendar", func(b *network.Bundle) { b.Services[1].CalendarID = "t:never" }},
		{"duplicate station", "duplicate station", func(b *network.Bundle) { b.Stations = append(b.Stations, b.Stations[0]) }},
		{"duplicate service", "duplicate service", func(b *network.Bundle) { b.Services = append(b.Services, b.Services[0]) }},
		{"duplicate stop sequence", "repeats stop sequence", func(b *network.Bundle) { b.Services[0].Stops[1].Seq = 1 }},
		{"station of another feed", "belongs to feed", func(b *network.Bundle) { b.Stations[0].FeedID = "other" }},
		{"fare of unknown service", "unknown service", func(b *network.Bundle) { b.Fares[0].ServiceID = "t:X1" }},
		{"negative fare", "cannot be negative", func(b *network.Bundle) { b.Fares[0].Fen = -1 }},
		{"duplicate fare", "repeated fare", func(b *network.Bundle) { b.Fares = append(b.Fares, b.Fares[0]) }},
		{"unknown car type", "unknown car type", func(b *network.Bundle) { b.Services[0].Cars[0].CarType = "XX" }},
		{"car type without seats", "has no seats", func(b *network.Bundle) { b.CarTypes[0].Seats = nil }},
		{"duplicate fare band", "fare band up to", func(b *network.Bundle) { b.FareBands = append(b.FareBands, b.FareBands[0]) }},
	}
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				b := sampleBundle()
				c.mutate(b)
				_, err := s.Network.ImportBundle(context.Background(), b)
				wantCode(t, err, fault.Invalid)
				if !strings.Contains(fault.As(err).EN, c.reason) {
					t.Fatalf("error %q does not say %q", fault.As(err).EN, c.reason)
				}
				if feeds, _ := s.Network.Feeds(context.Background()); len(feeds) != 0 {
					t.Fatalf("a rejected import left feeds %+v", feeds)
				}
			})
		}
		_, err := s.Network.ImportBundle(context.Background(), nil)
		wantCode(t, err, fault.Invalid)
	})
}

func TestNetworkFailedImportKeepsData(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := context.Background()
		mustImport(t, s, sampleBundle())
		before := readState(t, s, "t")

		t.Run("invalid bundle", func(t *testing.T) {
			b := sampleBundle()
			b.Feed.Digest = "d2"
			b.Services[0].Stops[0].StationID = "t:unknown"
			_, err := s.Network.ImportBundle(ctx, b)
			wantCode(t, err, fault.Invalid)
			wantEqual(t, "state", readState(t, s, "t"), before)
		})

		t.Run("conflict mid-way", func(t *testing.T) {
			// Feed u owns station u:X; a new version of t claiming the same
			// ID fails only once t's old rows are already deleted.
			other := &network.Bundle{
				Feed:     network.Feed{ID: "u", Name: "其他", Mode: network.ModeMetro, Timezone: "Asia/Shanghai", Digest: "u1", ImportedAt: time.Now()},
				Stations: []network.Station{{ID: "u:X", NameZH: "某站"}},
			}
			mustImport(t, s, other)
			b := sampleBundle()
			b.Feed.Digest = "d2"
			b.Stations = append(b.Stations, network.Station{ID: "u:X", NameZH: "冒名"})
			_, err := s.Network.ImportBundle(ctx, b)
			wantCode(t, err, fault.Invalid)
			after := readState(t, s, "t")
			if len(after.Feeds) != 2 {
				t.Fatalf("feeds = %v", after.Feeds)
			}
			after.Feeds = after.Feeds[:1] // feed t sorts before u
			wantEqual(t, "state", after, before)
			if st, err := s.Network.Station(ctx, "u:X"); err != nil || st.NameZH != "某站" {
				t.Fatalf("other feed's station = %+v, %v", st, err)
			}
		})
	})
}

// bigBundle is a national-scale feed: 500 services of 46 stops each (23,000
// stops), enough to exercise batching and progress reports.
func bigBundle(digest string) *network.Bundle {
	const f = "big"
	b := &network.Bundle{
		Feed:      network.Feed{ID: f, Name: "全国", Mode: network.ModeRail, Timezone: "Asia/Shanghai", Digest: digest, ImportedAt: time.Now()},
		Calendars: []network.Calendar{network.Daily("big:c", f, network.MustDate("2025-01-01"), 60)},
		CarTypes:  sampleBundle().CarTypes,
	}
	for i := range 460 {
		b.Stations = append(b.Stations, network.Station{ID: fmt.Sprintf("big:S%03d", i), FeedID: f, Code: fmt.Sprintf("S%02d", i), NameZH: fmt.Sprintf("站%d", i), Pinyin: "zhan"})
	}
	for i := range 500 {
		sv := network.Service{ID: fmt.Sprintf("big:%d", i), FeedID: f, Number: fmt.Sprintf("K%d", i), CalendarID: "big:c",
			Cars: []network.Car{{No: 1, CarType: "YW25T"}, {No: 2, CarType: "ZE"}}}
		for j := range 46 {
			sv.Stops = append(sv.Stops, network.Stop{Seq: j + 1, StationID: b.Stations[(i+j*7)%460].ID, Arrive: 3600 * j, Depart: 3600*j + 120, Metres: 50000 * j})
		}
		b.Services = append(b.Services, sv)
		b.Fares = append(b.Fares, network.Fare{ServiceID: sv.ID, FromStationID: sv.Stops[0].StationID, ToStationID: sv.Stops[45].StationID, SeatClass: network.HardSleeper, Berth: network.Lower, Fen: 30000})
	}
	return b
}

func TestNetworkBigImport(t *testing.T) {
	if testing.Short() {
		t.Skip("large import skipped in -short mode")
	}
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := context.Background()
		b := bigBundle("b1")
		var calls []int64
		b.Progress = func(n int64) { calls = append(calls, n) }
		start := time.Now()
		res := mustImport(t, s, b)
		t.Logf("%s: imported %d stops in %v", s.Engine, res.Rows["service_stops"], time.Since(start))
		if res.Rows["service_stops"] != 23000 || res.Rows["services"] != 500 || res.Rows["service_cars"] != 1000 {
			t.Fatalf("rows = %v", res.Rows)
		}
		total := 0
		for _, n := range res.Rows {
			total += n
		}
		if len(calls) < 10 || calls[len(calls)-1] != int64(total) || !slices.IsSorted(calls) {
			t.Fatalf("progress calls = %v, want ~every 2000 rows up to %d", calls, total)
		}
		counts, err := s.Network.CountRows(ctx, "big")
		if err != nil {
			t.Fatal(err)
		}
		wantEqual(t, "CountRows", counts, res.Rows)

		// Cancelling in the middle of a new version rolls everything back.
		cctx, cancel := context.WithCancel(ctx)
		defer cancel()
		again := bigBundle("b2")
		again.Services = again.Services[:250]
		again.Fares = again.Fares[:250]
		again.Progress = func(n int64) {
			if n >= 4000 {
				cancel()
			}
		}
		if _, err := s.Network.ImportBundle(cctx, again); err == nil {
			t.Fatal("cancelled import succeeded")
		}
		counts, err = s.Network.CountRows(ctx, "big")
		if err != nil {
			t.Fatal(err)
		}
		wantEqual(t, "CountRows after cancelled import", counts, res.Rows)
		feeds, _ := s.Network.Feeds(ctx)
		if len(feeds) != 1 || feeds[0].Digest != "b1" {
			t.Fatalf("feeds after cancelled import = %+v", feeds)
		}
	})
}

func TestNetworkSearchStations(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := context.Background()
		mustImport(t, s, sampleBundle())
		cases := []struct {
			query string
			limit int
			want  []string
		}{
			{"NCG", 0, []string{"t:NCG"}},          // telecode
			{"bxp", 0, []string{"t:BXP"}},          // telecode, any case
			{"bx", 0, []string{"t:BXP"}},           // telecode prefix
			{"nanch", 0, []string{"t:NCG"}},        // pinyin prefix
			{"nan ch", 0, []string{"t:NCG"}},       // pinyin with spaces
			{"NanChang", 0, []string{"t:NCG"}},     // full pinyin, any case
			{"beijingx", 0, []string{"t:BXP"}},     // pinyin prefix
			{"nc", 0, []string{"t:NCG"}},           // initials
			{"bjx", 0, []string{"t:BXP"}},          // initials
			{"北京", 0, []string{"t:BXP"}},           // zh contains
			{"京西", 0, []string{"t:BXP"}},           // zh contains, not a prefix
			{"WEST", 0, []string{"t:BXP"}},         // English, any case
			{"halt", 0, []string{"t:NAN"}},         // English contains
			{"nan", 0, []string{"t:NAN", "t:NCG"}}, // exact code before pinyin prefix
			{"n", 0, []string{"t:NCG", "t:NAN", "t:BXP"}},
			{"n", 2, []string{"t:NCG", "t:NAN"}},
			{"%", 0, []string{"t:NAN"}},            // literal percent
			{"_", 0, []string{"t:NAN"}},            // literal underscore
			{"t_h", 0, []string{"t:NAN"}},          // literal underscore inside
			{"s_h", 0, nil},                        // "_" is no wildcard
			{"0%", 0, []string{"t:NAN"}},           // percent at the end
			{`\`, 0, nil},                          // the escape character itself
			{"上海", 0, nil},                         // nothing
			{"xyz", 0, nil},                        // nothing
			{"  nanchang  ", 0, []string{"t:NCG"}}, // surrounding spaces
		}
		for _, c := range cases {
			got, err := s.Network.SearchStations(ctx, c.query, c.limit)
			if err != nil {
				t.Fatalf("search %q: %v", c.query, err)
			}
			var ids []string
			for _, st := range got {
				ids = append(ids, st.ID)
			}
			if !slices.Equal(ids, c.want) {
				t.Errorf("search %q limit %d = %v, want %v", c.query, c.limit, ids, c.want)
			}
		}
		got, err := s.Network.SearchStations(ctx, "ncg", 0)
		if err != nil || len(got) != 1 {
			t.Fatalf("search ncg = %v, %v", got, err)
		}
		wantEqual(t, "found station", got[0], sampleBundle().Stations[0])
		_, err = s.Network.SearchStations(ctx, "  ", 10)
		wantCode(t, err, fault.Invalid)
	})
}

func TestNetworkSearchLimit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := context.Background()
		b := &network.Bundle{Feed: network.Feed{ID: "many", Name: "多", Mode: network.ModeMetro, Timezone: "Asia/Shanghai"}}
		for i := range 150 {
			b.Stations = append(b.Stations, network.Station{ID: fmt.Sprintf("many:%03d", i), NameZH: fmt.Sprintf("站%03d", i)})
		}
		mustImport(t, s, b)
		for _, c := range []struct{ limit, want int }{{0, 20}, {-1, 20}, {5, 5}, {100, 100}, {1000, 100}} {
			got, err := s.Network.SearchStations(ctx, "站", c.limit)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != c.want {
				t.Errorf("limit %d: %d stations, want %d", c.limit, len(got), c.want)
			}
		}
	})
}

func TestNetworkNotFound(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := context.Background()
		mustImport(t, s, sampleBundle())
		cases := []struct {
			name string
			call func() error
		}{
			{"station", func() error { _, err := s.Network.Station(ctx, "t:nope"); return err }},
			{"line", func() error { _, err := s.Network.Line(ctx, "t:nope"); return err }},
			{"service", func() error { _, err := s.Network.Service(ctx, "t:nope"); return err }},
			{"calendar", func() error { _, err := s.Network.Calendar(ctx, "t:nope"); return err }},
			{"car type", func() error { _, err := s.Network.CarType(ctx, "NOPE"); return err }},
			{"empty car type", func() error { _, err := s.Network.CarType(ctx, ""); return err }},
		}
		for _, c := range cases {
			wantCode(t, c.call(), fault.NotFound)
		}
		// Listing methods return empty results, not errors.
		if got, err := s.Network.ServicesByNumber(ctx, "D999"); err != nil || len(got) != 0 {
			t.Fatalf("ServicesByNumber = %v, %v", got, err)
		}
		if got, err := s.Network.FareBands(ctx, "nope"); err != nil || len(got) != 0 {
			t.Fatalf("FareBands = %v, %v", got, err)
		}
		if got, err := s.Network.MetroLines(ctx, "nope"); err != nil || len(got) != 0 {
			t.Fatalf("MetroLines = %v, %v", got, err)
		}
		counts, err := s.Network.CountRows(ctx, "nope")
		if err != nil || len(counts) != 14 || counts["stations"] != 0 {
			t.Fatalf("CountRows(nope) = %v, %v", counts, err)
		}
	})
}

func TestNetworkSetFare(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := context.Background()
		mustImport(t, s, sampleBundle())
		first := network.Fare{ServiceID: "t:G1", FromStationID: "t:NCG", ToStationID: "t:BXP", SeatClass: network.FirstClass, Fen: 90000}
		if err := s.Network.SetFare(ctx, first); err != nil {
			t.Fatal(err)
		}
		changed := network.Fare{ServiceID: "t:G1", FromStationID: "t:NCG", ToStationID: "t:BXP", SeatClass: network.SecondClass, Fen: 55000}
		if err := s.Network.SetFare(ctx, changed); err != nil {
			t.Fatal(err)
		}
		got, err := s.Network.Fares(ctx, "t:G1", "t:NCG", "t:BXP")
		if err != nil {
			t.Fatal(err)
		}
		wantEqual(t, "fares", got, []network.Fare{first, changed})

		cases := []struct {
			name string
			fare network.Fare
			code fault.Code
		}{
			{"negative", network.Fare{ServiceID: "t:G1", FromStationID: "t:NCG", ToStationID: "t:BXP", SeatClass: network.SecondClass, Fen: -1}, fault.Invalid},
			{"bad class", network.Fare{ServiceID: "t:G1", FromStationID: "t:NCG", ToStationID: "t:BXP", SeatClass: "deluxe", Fen: 1}, fault.Invalid},
			{"bad berth", network.Fare{ServiceID: "t:G1", FromStationID: "t:NCG", ToStationID: "t:BXP", SeatClass: network.HardSleeper, Berth: "roof", Fen: 1}, fault.Invalid},
			{"no stations", network.Fare{ServiceID: "t:G1", SeatClass: network.SecondClass, Fen: 1}, fault.Invalid},
			{"unknown service", network.Fare{ServiceID: "t:G999", FromStationID: "t:NCG", ToStationID: "t:BXP", SeatClass: network.SecondClass, Fen: 1}, fault.NotFound},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) { wantCode(t, s.Network.SetFare(ctx, c.fare), c.code) })
		}
		got, _ = s.Network.Fares(ctx, "t:G1", "t:NCG", "t:BXP")
		wantEqual(t, "fares after rejected changes", got, []network.Fare{first, changed})
	})
}

func TestNetworkPutCarType(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := context.Background()
		if got, err := s.Network.CarTypes(ctx); err != nil || len(got) != 0 {
			t.Fatalf("CarTypes of an empty store = %v, %v", got, err)
		}
		ydz := network.CarType{Code: "ZY", SeatClass: network.FirstClass, NameZH: "一等座", NameEN: "First class", Seats: []network.Seat{
			{Label: "01A", Row: 1, Letter: "A"}, {Label: "01C", Row: 1, Letter: "C"}, {Label: "01D", Row: 1, Letter: "D"}, {Label: "01F", Row: 1, Letter: "F"}}}
		swz := network.CarType{Code: "SWZ", SeatClass: network.Business, NameZH: "商务座", NameEN: "Business", Seats: []network.Seat{{Label: "01A", Row: 1, Letter: "A"}}}
		for _, ct := range []network.CarType{ydz, swz} {
			if err := s.Network.PutCarType(ctx, ct); err != nil {
				t.Fatal(err)
			}
		}
		got, err := s.Network.CarType(ctx, "ZY")
		if err != nil {
			t.Fatal(err)
		}
		wantEqual(t, "car type", got, ydz)

		// Replacing keeps only the new seats, in the new order.
		ydz.NameEN = "First class (refit)"
		ydz.Seats = []network.Seat{{Label: "02F", Row: 2, Letter: "F"}, {Label: "02A", Row: 2, Letter: "A"}}
		if err := s.Network.PutCarType(ctx, ydz); err != nil {
			t.Fatal(err)
		}
		all, err := s.Network.CarTypes(ctx)
		if err != nil {
			t.Fatal(err)
		}
		wantEqual(t, "CarTypes", all, []network.CarType{swz, ydz})

		cases := []struct {
			name string
			ct   network.CarType
		}{
			{"no code", network.CarType{SeatClass: network.SecondClass, Seats: []network.Seat{{Label: "01A"}}}},
			{"no seats", network.CarType{Code: "X", SeatClass: network.SecondClass}},
			{"duplicate label", network.CarType{Code: "X", SeatClass: network.SecondClass, Seats: []network.Seat{{Label: "01A"}, {Label: "01A"}}}},
			{"empty label", network.CarType{Code: "X", SeatClass: network.SecondClass, Seats: []network.Seat{{Label: ""}}}},
			{"bad class", network.CarType{Code: "X", SeatClass: "standing", Seats: []network.Seat{{Label: "01A"}}}},
			{"bad berth", network.CarType{Code: "X", SeatClass: network.HardSleeper, Seats: []network.Seat{{Label: "01A", Berth: "roof"}}}},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) { wantCode(t, s.Network.PutCarType(ctx, c.ct), fault.Invalid) })
		}
		all2, _ := s.Network.CarTypes(ctx)
		wantEqual(t, "CarTypes after rejected changes", all2, all)

		// A feed's car types replace stored ones of the same code.
		b := sampleBundle()
		b.CarTypes = append(b.CarTypes, network.CarType{Code: "ZY", SeatClass: network.FirstClass, NameZH: "一等座", NameEN: "First", Seats: []network.Seat{{Label: "03A", Row: 3, Letter: "A"}}})
		mustImport(t, s, b)
		got, _ = s.Network.CarType(ctx, "ZY")
		wantEqual(t, "car type after import", got, b.CarTypes[3])
	})
}
