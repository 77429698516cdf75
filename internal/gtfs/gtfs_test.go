package gtfs_test

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"piao/internal/fault"
	"piao/internal/gtfs"
	"piao/internal/network"
)

func TestParseLIRR(t *testing.T) {
	files := readZip(t, lirrPath)
	var progress [][2]int64
	start := time.Now()
	b, err := gtfs.ParseFile(lirrPath, gtfs.Options{FeedID: "lirr", Progress: func(done, total int64) {
		progress = append(progress, [2]int64{done, total})
	}})
	elapsed := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("parsed lirr.zip in %v", elapsed)

	stops := 0
	for _, s := range b.Services {
		stops += len(s.Stops)
	}
	// Calendars: the distinct service_ids of calendar.txt and calendar_dates.txt.
	serviceIDs := map[string]bool{}
	for _, name := range []string{"calendar.txt", "calendar_dates.txt"} {
		if _, ok := files[name]; !ok {
			continue
		}
		for _, r := range files.records(t, name)[1:] {
			serviceIDs[r[0]] = true
		}
	}
	transferRows := len(files.records(t, "transfers.txt")) - 1
	for _, c := range []struct {
		what      string
		got, want int
	}{
		{"agencies", len(b.Agencies), 1},
		{"stations", len(b.Stations), 127},
		{"lines", len(b.Lines), 13},
		{"services", len(b.Services), 2081},
		{"stops", stops, 22730},
		{"calendars", len(b.Calendars), len(serviceIDs)},
		{"transfers", len(b.Transfers), transferRows},
		{"gtfs fares", len(b.GTFSFares), 0},
	} {
		if c.got != c.want {
			t.Errorf("%s: got %d, want %d", c.what, c.got, c.want)
		}
	}
	if transferRows == 0 || len(serviceIDs) == 0 {
		t.Errorf("independent counts look wrong: %d transfers, %d service ids", transferRows, len(serviceIDs))
	}

	raw, _ := os.ReadFile(lirrPath)
	sum := sha256.Sum256(raw)
	f := b.Feed
	if f.ID != "lirr" || f.Mode != network.ModeRail || f.Timezone != "America/New_York" ||
		f.Name != "Long Island Rail Road" || f.Digest != hex.EncodeToString(sum[:]) {
		t.Errorf("feed = %+v", f)
	}
	if a := b.Agencies[0]; a.ID != "lirr:LI" || a.FeedID != "lirr" || a.Timezone != "America/New_York" {
		t.Errorf("agency = %+v", a)
	}
	for _, l := range b.Lines {
		if l.AgencyID != "lirr:LI" || !strings.HasPrefix(l.ID, "lirr:") || l.NameEN == "" || l.RouteType != 2 {
			t.Errorf("line = %+v", l)
		}
	}
	stations := map[string]network.Station{}
	for _, s := range b.Stations {
		stations[s.ID] = s
	}
	if s := stations["lirr:1"]; s.Code != "ABT" || s.NameEN != "Albertson" || s.Lat != 40.77206317 || s.Lon != -73.64169095 || s.Wheelchair != 1 {
		t.Errorf("station lirr:1 = %+v", s)
	}

	// Every stop lands on a known station, in order, with times never going back.
	services := map[string]network.Service{}
	for _, s := range b.Services {
		services[s.ID] = s
		if !strings.HasPrefix(s.CalendarID, "lirr:") || !strings.HasPrefix(s.LineID, "lirr:") || s.Number == "" {
			t.Fatalf("service = %+v", s)
		}
		for i, st := range s.Stops {
			if _, ok := stations[st.StationID]; !ok {
				t.Fatalf("%s stops at unknown %s", s.ID, st.StationID)
			}
			if st.Depart < st.Arrive || i > 0 && (st.Seq <= s.Stops[i-1].Seq || st.Arrive < s.Stops[i-1].Depart) {
				t.Fatalf("%s: stop %d out of order: %+v", s.ID, i, s.Stops)
			}
		}
	}

	// Spot-check a stop past midnight, found independently in stop_times.txt.
	found := false
	for _, r := range files.records(t, "stop_times.txt")[1:] {
		if r[1] < "24:" {
			continue
		}
		found = true
		want, err := gtfs.ParseTime(r[1])
		if err != nil || want < 86400 {
			t.Fatalf("ParseTime(%q) = %d, %v", r[1], want, err)
		}
		s := services["lirr:"+r[0]]
		ok := false
		for _, st := range s.Stops {
			if st.StationID == "lirr:"+r[3] && r[4] == itoa(st.Seq) {
				ok = st.Arrive == want && st.ArriveDay() == 1
				if !ok {
					t.Errorf("%s seq %s: arrive %d, want %d (%s)", s.ID, r[4], st.Arrive, want, r[1])
				}
			}
		}
		if !ok {
			t.Errorf("stop %v not found on day 1", r)
		}
		break
	}
	if !found {
		t.Log("lirr.zip has no stop past midnight")
	}
	// The LIRR timetable is known to run trip GO202_26_21 past midnight.
	if s := services["lirr:GO202_26_21"]; len(s.Stops) < 13 || s.Stops[12].Seq != 13 || s.Stops[12].Arrive != 24*3600+4*60 {
		t.Errorf("GO202_26_21 stop 13 = %+v", s.Stops)
	}

	// Progress reports bytes, never going back, ending at done == total.
	if len(progress) < 2 {
		t.Fatalf("progress called %d times", len(progress))
	}
	for i := 1; i < len(progress); i++ {
		if progress[i][0] < progress[i-1][0] {
			t.Fatalf("progress went back: %v", progress)
		}
	}
	if last := progress[len(progress)-1]; last[0] != last[1] || last[1] < 1_000_000 {
		t.Errorf("last progress = %v", last)
	}
	if elapsed > time.Second {
		t.Errorf("parsing took %v, want well under a second", elapsed)
	}
}

func itoa(n int) string {
	var b []byte
	if n == 0 {
		return "0"
	}
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

func BenchmarkParseLIRR(b *testing.B) {
	data, err := os.ReadFile(lirrPath)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := gtfs.Parse(bytes.NewReader(data), int64(len(data)), gtfs.Options{FeedID: "lirr"}); err != nil {
			b.Fatal(err)
		}
	}
}

func TestParseSmallFeed(t *testing.T) {
	b, err := smallFeed().parse(t, gtfs.Options{FeedID: "sm", Mode: network.ModeMetro, ShapeDistUnitKm: true})
	if err != nil {
		t.Fatal(err)
	}
	if b.Feed.Name != "Test Publisher" || b.Feed.Timezone != "Asia/Shanghai" || b.Feed.Mode != network.ModeMetro {
		t.Errorf("feed = %+v", b.Feed)
	}
	if len(b.Agencies) != 2 || b.Agencies[1].ID != "sm:B" || b.Agencies[0].Lang != "zh" {
		t.Errorf("agencies = %+v", b.Agencies)
	}
	if len(b.Stations) != 5 {
		t.Fatalf("stations = %+v", b.Stations)
	}
	if s := b.Stations[1]; s.ID != "sm:S1" || s.ParentID != "sm:S" || s.Code != "" || s.Wheelchair != 1 {
		t.Errorf("S1 = %+v", s)
	}
	if s := b.Stations[2]; s.NameEN != "Second\nStreet" || s.Code != "XX" || s.Lat != 31.3 {
		t.Errorf("X2 = %+v", s)
	}
	if l := b.Lines[0]; l.ID != "sm:R1" || l.AgencyID != "sm:A" || l.Code != "G1" || l.NameEN != "Main Line" || l.Color != "FF0000" || l.TextColor != "FFFFFF" || l.RouteType != 2 {
		t.Errorf("R1 = %+v", l)
	}
	if l := b.Lines[1]; l.AgencyID != "sm:B" || l.NameEN != "2" || l.RouteType != 1 {
		t.Errorf("R2 = %+v", l)
	}
	if len(b.Calendars) != 2 {
		t.Fatalf("calendars = %+v", b.Calendars)
	}
	wk, hol := b.Calendars[0], b.Calendars[1]
	if wk.ID != "sm:WK" || wk.Weekdays != [7]bool{true, true, true, true, true, false, false} ||
		wk.Start != network.MustDate("2026-01-01") || wk.End != network.MustDate("2026-12-31") ||
		len(wk.Exceptions) != 1 || wk.Exceptions[0].Added || wk.Runs(network.MustDate("2026-01-01")) || !wk.Runs(network.MustDate("2026-01-02")) {
		t.Errorf("WK = %+v", wk)
	}
	if hol.ID != "sm:HOL" || hol.Weekdays != [7]bool{} || !hol.Start.IsZero() || len(hol.Exceptions) != 1 || !hol.Runs(network.MustDate("2026-05-01")) {
		t.Errorf("HOL = %+v", hol)
	}

	t1, t2, t3 := b.Services[0], b.Services[1], b.Services[2]
	if t1.ID != "sm:T1" || t1.Number != "G101" || t1.LineID != "sm:R1" || t1.CalendarID != "sm:WK" || t1.Headsign != "Fourth" || t1.ShapeID != "sm:SH1" {
		t.Errorf("T1 = %+v", t1)
	}
	// Untimed stops are interpolated by distance: 5 and 15 of 20 km.
	wantT1 := []network.Stop{
		{Seq: 1, StationID: "sm:S1", Arrive: 8 * 3600, Depart: 8 * 3600, Metres: 0, DropOff: 1},
		{Seq: 2, StationID: "sm:X2", Arrive: 8*3600 + 450, Depart: 8*3600 + 450, Metres: 5000},
		{Seq: 3, StationID: "sm:X3", Arrive: 8*3600 + 1350, Depart: 8*3600 + 1350, Metres: 15000},
		{Seq: 4, StationID: "sm:X4", Arrive: 8*3600 + 1800, Depart: 8*3600 + 1920, Metres: 20000, Pickup: 1},
	}
	if !equalStops(t1.Stops, wantT1) {
		t.Errorf("T1 stops = %+v", t1.Stops)
	}
	if t2.Number != "T2" || t2.DirectionID != 1 || t2.CalendarID != "sm:HOL" {
		t.Errorf("T2 = %+v", t2)
	}
	wantT2 := []network.Stop{
		{Seq: 1, StationID: "sm:X4", Arrive: 23*3600 + 50*60, Depart: 23*3600 + 50*60},
		{Seq: 2, StationID: "sm:X3", Arrive: 24*3600 + 10*60, Depart: 24*3600 + 10*60},
		{Seq: 5, StationID: "sm:S1", Arrive: 24*3600 + 40*60, Depart: 24*3600 + 40*60},
	}
	if !equalStops(t2.Stops, wantT2) || t2.Stops[2].DepartDay() != 1 {
		t.Errorf("T2 stops = %+v", t2.Stops)
	}
	if t3.LineID != "sm:R2" || len(t3.Stops) != 2 || t3.Stops[1].Seq != 20 {
		t.Errorf("T3 = %+v", t3)
	}

	wantTransfers := []network.Transfer{
		{FeedID: "sm", FromStationID: "sm:S1", ToStationID: "sm:X2", Type: 2, MinSeconds: 180},
		{FeedID: "sm", FromStationID: "sm:X4", ToStationID: "sm:X4", FromLineID: "sm:R1", ToLineID: "sm:R1", FromServiceID: "sm:T1", ToServiceID: "sm:T2", Type: 1},
		{FeedID: "sm", FromServiceID: "sm:T1", ToServiceID: "sm:T3", Type: 4},
	}
	if len(b.Transfers) != len(wantTransfers) {
		t.Fatalf("transfers = %+v", b.Transfers)
	}
	for i := range wantTransfers {
		if b.Transfers[i] != wantTransfers[i] {
			t.Errorf("transfer %d = %+v, want %+v", i, b.Transfers[i], wantTransfers[i])
		}
	}
	if len(b.GTFSFares) != 2 {
		t.Fatalf("fares = %+v", b.GTFSFares)
	}
	f1, f2 := b.GTFSFares[0], b.GTFSFares[1]
	if f1.ID != "sm:F1" || f1.PriceMinor != 250 || f1.Currency != "CNY" || f1.Transfers != -1 || f1.AgencyID != "sm:A" || f1.TransferDuration != 3600 ||
		len(f1.Rules) != 2 || f1.Rules[0] != (network.FareRule{LineID: "sm:R1", OriginID: "z1", DestinationID: "z2"}) || f1.Rules[1].ContainsID != "z3" {
		t.Errorf("F1 = %+v", f1)
	}
	if f2.PriceMinor != 300 || f2.PaymentMethod != 1 || f2.Transfers != 1 || f2.AgencyID != "sm:B" || len(f2.Rules) != 1 || f2.Rules[0].LineID != "sm:R2" {
		t.Errorf("F2 = %+v", f2)
	}
	if n := gtfs.BundleRows(b); n != 1+2+5+2+2+2+3+9+3+2+3+2 { // the last 2: the metro route's line stations
		t.Errorf("BundleRows = %d", n)
	}

	// Without the kilometre flag distances stay unknown, and untimed stops
	// are still interpolated by distance.
	b, err = smallFeed().parse(t, gtfs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range b.Services[0].Stops {
		if s.Metres != 0 {
			t.Errorf("metres without ShapeDistUnitKm: %+v", s)
		}
	}
	if b.Feed.Mode != network.ModeRail || b.Services[0].Stops[1].Arrive != 8*3600+450 {
		t.Errorf("defaults: %+v %+v", b.Feed, b.Services[0].Stops)
	}
}

func equalStops(a, b []network.Stop) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestInterpolateByCount(t *testing.T) {
	ff := smallFeed()
	ff["stop_times.txt"] = []byte("trip_id,arrival_time,departure_time,stop_id,stop_sequence\n" +
		"T1,10:00:00,10:00:00,S1,1\nT1,,,X2,2\nT1,,,X3,3\nT1,10:10:00,10:10:00,X4,4\n" +
		"T2,10:00:00,10:00:00,S1,1\nT2,10:00:00,10:00:00,X2,2\n" +
		"T3,10:00:00,10:00:00,S1,1\nT3,10:00:00,10:00:00,X2,2\n")
	b, err := ff.parse(t, gtfs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := []int{}
	for _, s := range b.Services[0].Stops {
		got = append(got, s.Arrive-10*3600)
	}
	if want := []int{0, 200, 400, 600}; !equalInts(got, want) {
		t.Errorf("interpolated offsets = %v, want %v", got, want)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestParseErrors(t *testing.T) {
	lirr := readZip(t, lirrPath)
	small := smallFeed()
	unterminated := setCell(t, lirr["stop_times.txt"], 500, "stop_id", `"102`)
	cases := []struct {
		name   string
		base   feedFiles
		mutate func(t testing.TB, ff feedFiles)
		file   string
		line   int
		column string
		msg    string // expected Error() when not empty
	}{
		{
			name: "bad time",
			base: lirr,
			mutate: func(t testing.TB, ff feedFiles) {
				ff["stop_times.txt"] = setCell(t, ff["stop_times.txt"], 1234, "arrival_time", "25:6x:00")
			},
			file: "stop_times.txt", line: 1234, column: "arrival_time",
			msg: `stop_times.txt:1234: column arrival_time: invalid time "25:6x:00"`,
		},
		{
			name:   "missing required column",
			base:   lirr,
			mutate: func(t testing.TB, ff feedFiles) { ff["stops.txt"] = dropColumn(t, ff["stops.txt"], "stop_id") },
			file:   "stops.txt", line: 1, column: "stop_id",
			msg: "stops.txt:1: column stop_id: missing required column",
		},
		{
			name: "unknown route",
			base: lirr,
			mutate: func(t testing.TB, ff feedFiles) {
				ff["trips.txt"] = setCell(t, ff["trips.txt"], 10, "route_id", "nope")
			},
			file: "trips.txt", line: 10, column: "route_id",
			msg: `trips.txt:10: column route_id: unknown route_id "nope"`,
		},
		{
			name:   "unterminated quote",
			base:   lirr,
			mutate: func(t testing.TB, ff feedFiles) { ff["stop_times.txt"] = unterminated },
			file:   "stop_times.txt", line: 500, column: "stop_id",
		},
		{
			name:   "missing required file",
			base:   lirr,
			mutate: func(t testing.TB, ff feedFiles) { delete(ff, "trips.txt") },
			file:   "trips.txt", line: 0, column: "",
			msg: "trips.txt: missing required file",
		},
		{
			name: "no calendar files",
			base: lirr,
			mutate: func(t testing.TB, ff feedFiles) {
				delete(ff, "calendar_dates.txt")
			},
			file: "calendar.txt",
		},
		{
			name: "field count",
			base: lirr,
			mutate: func(t testing.TB, ff feedFiles) {
				ff["routes.txt"] = setLine(ff["routes.txt"], 3, "2,Hempstead Branch,2,CE8E00")
			},
			file: "routes.txt", line: 3,
			msg: "routes.txt:3: row has 4 fields, header has 5",
		},
		{
			name: "bare quote",
			base: lirr,
			mutate: func(t testing.TB, ff feedFiles) {
				ff["stops.txt"] = setCell(t, ff["stops.txt"], 7, "stop_name", `Jamaica "Central"`)
			},
			file: "stops.txt", line: 7, column: "stop_name",
		},
		{
			name: "unknown stop in stop_times",
			base: lirr,
			mutate: func(t testing.TB, ff feedFiles) {
				ff["stop_times.txt"] = setCell(t, ff["stop_times.txt"], 22731, "stop_id", "9999")
			},
			file: "stop_times.txt", line: 22731, column: "stop_id",
		},
		{
			name: "unknown trip in stop_times",
			base: lirr,
			mutate: func(t testing.TB, ff feedFiles) {
				ff["stop_times.txt"] = setCell(t, ff["stop_times.txt"], 2, "trip_id", "ghost")
			},
			file: "stop_times.txt", line: 2, column: "trip_id",
		},
		{
			name: "unknown trip in transfers",
			base: lirr,
			mutate: func(t testing.TB, ff feedFiles) {
				ff["transfers.txt"] = setCell(t, ff["transfers.txt"], 3, "to_trip_id", "ghost")
			},
			file: "transfers.txt", line: 3, column: "to_trip_id",
		},
		{
			name: "unknown service",
			base: lirr,
			mutate: func(t testing.TB, ff feedFiles) {
				ff["trips.txt"] = setCell(t, ff["trips.txt"], 2, "service_id", "NOPE")
			},
			file: "trips.txt", line: 2, column: "service_id",
		},
		{
			name:   "duplicate stop",
			base:   lirr,
			mutate: func(t testing.TB, ff feedFiles) { ff["stops.txt"] = setCell(t, ff["stops.txt"], 5, "stop_id", "1") },
			file:   "stops.txt", line: 5, column: "stop_id",
			msg: `stops.txt:5: column stop_id: duplicate stop_id "1"`,
		},
		{
			name: "duplicate trip",
			base: lirr,
			mutate: func(t testing.TB, ff feedFiles) {
				ff["trips.txt"] = setCell(t, ff["trips.txt"], 3, "trip_id", "GO202_26_2")
			},
			file: "trips.txt", line: 3, column: "trip_id",
		},
		{
			name:   "latitude out of range",
			base:   lirr,
			mutate: func(t testing.TB, ff feedFiles) { ff["stops.txt"] = setCell(t, ff["stops.txt"], 4, "stop_lat", "91") },
			file:   "stops.txt", line: 4, column: "stop_lat",
		},
		{
			name:   "longitude not a number",
			base:   lirr,
			mutate: func(t testing.TB, ff feedFiles) { ff["stops.txt"] = setCell(t, ff["stops.txt"], 4, "stop_lon", "west") },
			file:   "stops.txt", line: 4, column: "stop_lon",
		},
		{
			name: "bad colour",
			base: lirr,
			mutate: func(t testing.TB, ff feedFiles) {
				ff["routes.txt"] = setCell(t, ff["routes.txt"], 5, "route_color", "12345G")
			},
			file: "routes.txt", line: 5, column: "route_color",
		},
		{
			name: "bad route type",
			base: lirr,
			mutate: func(t testing.TB, ff feedFiles) {
				ff["routes.txt"] = setCell(t, ff["routes.txt"], 5, "route_type", "9")
			},
			file: "routes.txt", line: 5, column: "route_type",
		},
		{
			name: "bad date",
			base: lirr,
			mutate: func(t testing.TB, ff feedFiles) {
				ff["calendar_dates.txt"] = setCell(t, ff["calendar_dates.txt"], 6, "date", "20260231")
			},
			file: "calendar_dates.txt", line: 6, column: "date",
		},
		{
			name: "bad exception type",
			base: lirr,
			mutate: func(t testing.TB, ff feedFiles) {
				ff["calendar_dates.txt"] = setCell(t, ff["calendar_dates.txt"], 6, "exception_type", "3")
			},
			file: "calendar_dates.txt", line: 6, column: "exception_type",
		},
		{
			name: "duplicate calendar date",
			base: lirr,
			mutate: func(t testing.TB, ff feedFiles) {
				l2 := lines(ff["calendar_dates.txt"])[1]
				ff["calendar_dates.txt"] = setLine(ff["calendar_dates.txt"], 4, l2)
			},
			file: "calendar_dates.txt", line: 4, column: "date",
		},
		{
			name: "bad stop_sequence",
			base: lirr,
			mutate: func(t testing.TB, ff feedFiles) {
				ff["stop_times.txt"] = setCell(t, ff["stop_times.txt"], 40, "stop_sequence", "-1")
			},
			file: "stop_times.txt", line: 40, column: "stop_sequence",
		},
		{
			name: "repeated stop_sequence",
			base: lirr,
			mutate: func(t testing.TB, ff feedFiles) {
				// Line 3 is the second stop of the first trip: give it the first stop's sequence.
				ff["stop_times.txt"] = setCell(t, ff["stop_times.txt"], 3, "stop_sequence", cell(t, ff["stop_times.txt"], 2, "stop_sequence"))
			},
			file: "stop_times.txt", line: 3, column: "stop_sequence",
		},
		{
			name: "departure before arrival",
			base: lirr,
			mutate: func(t testing.TB, ff feedFiles) {
				ff["stop_times.txt"] = setCell(t, ff["stop_times.txt"], 3, "departure_time", "01:00:00")
			},
			file: "stop_times.txt", line: 3, column: "departure_time",
			msg: "stop_times.txt:3: column departure_time: departure_time 01:00:00 is before arrival_time 01:42:00",
		},
		{
			name: "times going backwards",
			base: lirr,
			mutate: func(t testing.TB, ff feedFiles) {
				st := setCell(t, ff["stop_times.txt"], 4, "arrival_time", "01:30:00")
				ff["stop_times.txt"] = setCell(t, st, 4, "departure_time", "01:30:00")
			},
			file: "stop_times.txt", line: 4, column: "arrival_time",
		},
		{
			name: "trip with one stop time",
			base: lirr,
			mutate: func(t testing.TB, ff feedFiles) {
				// Keep only the first stop of trip GO202_26_2 (trips.txt line 2).
				ff["stop_times.txt"] = deleteLines(ff["stop_times.txt"], func(n int, l string) bool {
					return strings.HasPrefix(l, "GO202_26_2,") && n > 2
				})
			},
			file: "trips.txt", line: 2, column: "trip_id",
			msg: `trips.txt:2: column trip_id: trip "GO202_26_2" has 1 stop time(s); at least 2 are needed`,
		},
		{
			name: "untimed last stop",
			base: small,
			mutate: func(t testing.TB, ff feedFiles) {
				ff["stop_times.txt"] = setLine(ff["stop_times.txt"], 10, "T3,,,X3,20,,,")
			},
			file: "stop_times.txt", line: 10, column: "arrival_time",
		},
		{
			name: "bad price",
			base: small,
			mutate: func(t testing.TB, ff feedFiles) {
				ff["fare_attributes.txt"] = setLine(ff["fare_attributes.txt"], 2, "F1,2.505,CNY,0,,A,3600")
			},
			file: "fare_attributes.txt", line: 2, column: "price",
		},
		{
			name:   "fare rule for unknown zone",
			base:   small,
			mutate: func(t testing.TB, ff feedFiles) { ff["fare_rules.txt"] = setLine(ff["fare_rules.txt"], 3, "F1,,,,z9") },
			file:   "fare_rules.txt", line: 3, column: "contains_id",
		},
		{
			name:   "fare rule for unknown fare",
			base:   small,
			mutate: func(t testing.TB, ff feedFiles) { ff["fare_rules.txt"] = setLine(ff["fare_rules.txt"], 4, "F3,R2,,,") },
			file:   "fare_rules.txt", line: 4, column: "fare_id",
		},
		{
			name:   "route of unknown agency",
			base:   small,
			mutate: func(t testing.TB, ff feedFiles) { ff["routes.txt"] = setLine(ff["routes.txt"], 3, "R2,C,2,,1,,") },
			file:   "routes.txt", line: 3, column: "agency_id",
		},
		{
			name:   "route without agency in a multi-agency feed",
			base:   small,
			mutate: func(t testing.TB, ff feedFiles) { ff["routes.txt"] = setLine(ff["routes.txt"], 3, "R2,,2,,1,,") },
			file:   "routes.txt", line: 3, column: "agency_id",
		},
		{
			name: "agencies in different time zones",
			base: small,
			mutate: func(t testing.TB, ff feedFiles) {
				ff["agency.txt"] = setLine(ff["agency.txt"], 3, "B,Beta Metro,https://beta.example,Asia/Tokyo,zh")
			},
			file: "agency.txt", line: 3, column: "agency_timezone",
		},
		{
			name: "error after a quoted newline counts physical lines",
			base: small,
			mutate: func(t testing.TB, ff feedFiles) {
				// X2's name spans lines 4 and 5, so X3 is on line 6.
				ff["stops.txt"] = bytes.Replace(ff["stops.txt"], []byte("X3,XY,Third,31.4"), []byte("X3,XY,Third,95.4"), 1)
			},
			file: "stops.txt", line: 6, column: "stop_lat",
		},
		{
			name: "unknown parent station",
			base: small,
			mutate: func(t testing.TB, ff feedFiles) {
				ff["stops.txt"] = bytes.Replace(ff["stops.txt"], []byte(",0,S,1,1"), []byte(",0,Q,1,1"), 1)
			},
			file: "stops.txt", line: 3, column: "parent_station",
		},
		{
			name: "trip calling at a station",
			base: small,
			mutate: func(t testing.TB, ff feedFiles) {
				ff["stop_times.txt"] = setLine(ff["stop_times.txt"], 9, "T3,06:00:00,06:00:00,S,10,,,")
			},
			file: "stop_times.txt", line: 9, column: "stop_id",
		},
		{
			name: "decreasing shape distance",
			base: small,
			mutate: func(t testing.TB, ff feedFiles) {
				ff["stop_times.txt"] = setLine(ff["stop_times.txt"], 4, "T1,,,X3,3,,,4")
			},
			file: "stop_times.txt", line: 4, column: "shape_dist_traveled",
		},
		{
			name: "end before start",
			base: small,
			mutate: func(t testing.TB, ff feedFiles) {
				ff["calendar.txt"] = setLine(ff["calendar.txt"], 2, "WK,1,1,1,1,1,0,0,20260101,20251231")
			},
			file: "calendar.txt", line: 2, column: "end_date",
		},
		{
			name: "empty required value",
			base: small,
			mutate: func(t testing.TB, ff feedFiles) {
				ff["agency.txt"] = setLine(ff["agency.txt"], 2, "A,,https://alpha.example,Asia/Shanghai,zh")
			},
			file: "agency.txt", line: 2, column: "agency_name",
			msg: "agency.txt:2: column agency_name: must not be empty",
		},
		{
			name: "two feed_info rows",
			base: small,
			mutate: func(t testing.TB, ff feedFiles) {
				ff["feed_info.txt"] = append(ff["feed_info.txt"], "Other,https://x.org,en,,\n"...)
			},
			file: "feed_info.txt", line: 3,
		},
		{
			name:   "empty required file",
			base:   small,
			mutate: func(t testing.TB, ff feedFiles) { ff["routes.txt"] = nil },
			file:   "routes.txt", line: 1,
		},
		{
			name: "duplicate header",
			base: small,
			mutate: func(t testing.TB, ff feedFiles) {
				ff["routes.txt"] = bytes.Replace(ff["routes.txt"], []byte("route_color"), []byte("route_type"), 1)
			},
			file: "routes.txt", line: 1, column: "route_type",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ff := c.base.clone()
			c.mutate(t, ff)
			_, err := ff.parse(t, gtfs.Options{FeedID: "x"})
			if err == nil {
				t.Fatal("parse succeeded")
			}
			var ge *gtfs.Error
			if !errors.As(err, &ge) {
				t.Fatalf("error %T %v is not a *gtfs.Error", err, err)
			}
			if ge.File != c.file || ge.Line != c.line || ge.Column != c.column {
				t.Errorf("error at %q line %d column %q, want %q line %d column %q: %v", ge.File, ge.Line, ge.Column, c.file, c.line, c.column, err)
			}
			if c.msg != "" && err.Error() != c.msg {
				t.Errorf("Error() = %q, want %q", err.Error(), c.msg)
			}
			fe := fault.As(err)
			if fe.Code != fault.Invalid || fe.Reason != "gtfs_invalid" || !fault.Is(err, fault.Invalid) {
				t.Errorf("fault = %+v", fe)
			}
			if !strings.Contains(fe.EN, c.file) || !strings.Contains(fe.ZH, c.file) || ge.MsgZH == "" ||
				c.line > 0 && !strings.Contains(fe.ZH, "第 "+itoa(c.line)+" 行") ||
				c.column != "" && (!strings.Contains(fe.ZH, c.column) || !strings.Contains(fe.EN, "column "+c.column)) {
				t.Errorf("fault messages do not locate the problem: zh %q, en %q", fe.ZH, fe.EN)
			}
			t.Log(err, " | ", fe.ZH)
		})
	}
}

func TestOptionsAndArchive(t *testing.T) {
	z := smallFeed().zip(t)
	for _, o := range []gtfs.Options{{}, {FeedID: "a:b"}, {FeedID: "ok", Mode: "bus"}} {
		if _, err := gtfs.Parse(bytes.NewReader(z), int64(len(z)), o); !fault.Is(err, fault.Invalid) {
			t.Errorf("options %+v: err = %v", o, err)
		}
	}
	junk := []byte("this is not a zip")
	_, err := gtfs.Parse(bytes.NewReader(junk), int64(len(junk)), gtfs.Options{FeedID: "x"})
	var ge *gtfs.Error
	if !errors.As(err, &ge) || ge.File != "" || !fault.Is(err, fault.Invalid) {
		t.Errorf("junk archive: %v", err)
	}
	if _, err := gtfs.ParseFile("no/such/file.zip", gtfs.Options{FeedID: "x"}); !fault.Is(err, fault.Invalid) {
		t.Errorf("missing file: %v", err)
	}
	// Files in a folder are not found, with a hint.
	nested := feedFiles{}
	for n, b := range smallFeed() {
		nested["feed/"+n] = b
	}
	_, err = nested.parse(t, gtfs.Options{})
	if !errors.As(err, &ge) || ge.File != "agency.txt" || !strings.Contains(ge.Msg, "not in folder feed/") {
		t.Errorf("nested feed: %v", err)
	}
	// An empty optional file counts as absent.
	ff := smallFeed()
	ff["transfers.txt"] = nil
	if b, err := ff.parse(t, gtfs.Options{}); err != nil || len(b.Transfers) != 0 {
		t.Errorf("empty transfers.txt: %v", err)
	}
}

func TestParseTime(t *testing.T) {
	for s, want := range map[string]int{"0:00:00": 0, "00:00:00": 0, "8:05:09": 8*3600 + 5*60 + 9, "23:59:59": 86399, "24:00:00": 86400, "99:59:59": 99*3600 + 59*60 + 59} {
		if got, err := gtfs.ParseTime(s); err != nil || got != want {
			t.Errorf("ParseTime(%q) = %d, %v; want %d", s, got, err, want)
		}
	}
	for _, s := range []string{"", "25:6x:00", "8:60:00", "8:00:60", "100:00:00", "8:00", " 8:00:00", "08:00:00 ", "-1:00:00", "08-00-00", "0a:00:00"} {
		if _, err := gtfs.ParseTime(s); err == nil {
			t.Errorf("ParseTime(%q) succeeded", s)
		}
	}
	for secs := 0; secs < 100*3600; secs++ {
		if got, err := gtfs.ParseTime(gtfs.FormatTime(secs)); err != nil || got != secs {
			t.Fatalf("round trip of %d via %q = %d, %v", secs, gtfs.FormatTime(secs), got, err)
		}
	}
}

func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"0:00:00", "08:05:09", "24:10:00", "99:59:59", "25:6x:00", "", "1:2:3", "::::::::"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := gtfs.ParseTime(s)
		if err != nil {
			return
		}
		if v < 0 || v >= 100*3600 {
			t.Fatalf("ParseTime(%q) = %d out of range", s, v)
		}
		out := gtfs.FormatTime(v)
		if out != s && "0"+s != out {
			t.Fatalf("FormatTime(ParseTime(%q)) = %q", s, out)
		}
		if back, err := gtfs.ParseTime(out); err != nil || back != v {
			t.Fatalf("ParseTime(%q) = %d, %v; want %d", out, back, err, v)
		}
	})
}

func TestParsePrice(t *testing.T) {
	for _, c := range []struct {
		s      string
		digits int
		want   int64
		ok     bool
	}{
		{"2.50", 2, 250, true}, {"2.5", 2, 250, true}, {"2", 2, 200, true}, {"0", 2, 0, true}, {"0.01", 2, 1, true},
		{"2.500", 2, 250, true}, {".5", 2, 50, true}, {"300", 0, 300, true}, {"1.234", 3, 1234, true},
		{"19.99", 2, 1999, true}, {"0.29", 2, 29, true}, // exact where float64 would drift
		{"2.505", 2, 0, false}, {"300.5", 0, 0, false}, {"-1", 2, 0, false}, {"", 2, 0, false}, {".", 2, 0, false},
		{"2.", 2, 0, false}, {"1e3", 2, 0, false}, {"1,50", 2, 0, false}, {" 1", 2, 0, false}, {"99999999999999999", 2, 0, false}, {"9223372036854775807", 0, 9223372036854775807, true}, {"9223372036854775808", 0, 0, false},
	} {
		got, ok := gtfs.ParsePrice(c.s, c.digits)
		if got != c.want || ok != c.ok {
			t.Errorf("ParsePrice(%q, %d) = %d, %v; want %d, %v", c.s, c.digits, got, ok, c.want, c.ok)
		}
	}
	if gtfs.CurrencyDigits("JPY") != 0 || gtfs.CurrencyDigits("KWD") != 3 || gtfs.CurrencyDigits("CNY") != 2 {
		t.Error("CurrencyDigits")
	}
}

func TestParsePriceProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		digits := rapid.IntRange(0, 4).Draw(t, "digits")
		minor := rapid.Int64Range(0, math.MaxInt64).Draw(t, "minor")
		zeros := rapid.IntRange(0, 3).Draw(t, "zeros")
		s := itoa64(minor)
		if digits > 0 {
			for len(s) <= digits {
				s = "0" + s
			}
			s = s[:len(s)-digits] + "." + s[len(s)-digits:]
			s += strings.Repeat("0", zeros)
		}
		got, ok := gtfs.ParsePrice(s, digits)
		if !ok || got != minor {
			t.Fatalf("ParsePrice(%q, %d) = %d, %v; want %d", s, digits, got, ok, minor)
		}
	})
}

func itoa64(n int64) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

// fuzzFiles are the files FuzzParse may replace, by index.
var fuzzFiles = []string{"agency.txt", "stops.txt", "routes.txt", "calendar.txt", "calendar_dates.txt", "trips.txt", "stop_times.txt", "transfers.txt", "fare_attributes.txt", "fare_rules.txt", "feed_info.txt"}

func FuzzParse(f *testing.F) {
	base := smallFeed()
	for i, name := range fuzzFiles {
		f.Add(uint8(i), base[name])
	}
	f.Add(uint8(6), []byte("trip_id,arrival_time,departure_time,stop_id,stop_sequence\nT1,\"8:00:00,08:00:00,S1,1\n"))
	f.Add(uint8(1), []byte("stop_id,stop_name,stop_lat,stop_lon\nS1,a,1,1\nS1,b,2,2\n"))
	f.Fuzz(func(t *testing.T, which uint8, content []byte) {
		ff := base.clone()
		ff[fuzzFiles[int(which)%len(fuzzFiles)]] = content
		b, err := ff.parse(t, gtfs.Options{ShapeDistUnitKm: true})
		if err != nil {
			var ge *gtfs.Error
			if !errors.As(err, &ge) || fault.As(err).Code != fault.Invalid {
				t.Fatalf("error %T %v is not an invalid *gtfs.Error", err, err)
			}
			_ = err.Error()
			return
		}
		stations := map[string]bool{}
		for _, s := range b.Stations {
			stations[s.ID] = true
		}
		for _, s := range b.Services {
			if len(s.Stops) < 2 {
				t.Fatalf("service %s has %d stops", s.ID, len(s.Stops))
			}
			for i, st := range s.Stops {
				if !stations[st.StationID] || st.Arrive < 0 || st.Depart < st.Arrive || i > 0 && (st.Seq <= s.Stops[i-1].Seq || st.Arrive < s.Stops[i-1].Depart) {
					t.Fatalf("service %s: bad stops %+v", s.ID, s.Stops)
				}
			}
		}
	})
}

// TestRefusesZipBomb: a file declaring more than 2 GiB uncompressed is
// refused by name before any of it is inflated.
func TestRefusesZipBomb(t *testing.T) {
	ff := smallFeed()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, data := range ff {
		if name == "stop_times.txt" {
			continue
		}
		w, _ := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store})
		w.Write(data)
	}
	// A raw entry whose header claims 3 GiB: the bytes behind it do not matter.
	w, err := zw.CreateRaw(&zip.FileHeader{Name: "stop_times.txt", Method: zip.Deflate, CompressedSize64: 4, UncompressedSize64: 3 << 30, CRC32: 0})
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte{1, 2, 3, 4})
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	_, err = gtfs.Parse(bytes.NewReader(buf.Bytes()), int64(buf.Len()), gtfs.Options{FeedID: "t"})
	var ge *gtfs.Error
	if !errors.As(err, &ge) || ge.File != "stop_times.txt" || !strings.Contains(ge.Msg, "larger than") {
		t.Fatalf("zip bomb: %v", err)
	}
}

// TestMetroLineStations: a metro route gets its longest trip's stations with
// cumulative great-circle distances, so imported metro feeds can be priced
// over the graph; rail routes keep their order in each service only.
func TestMetroLineStations(t *testing.T) {
	b, err := smallFeed().parse(t, gtfs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range b.Lines {
		switch l.ID {
		case "t:R1":
			if len(l.Stations) != 0 {
				t.Errorf("rail line has stations: %+v", l.Stations)
			}
		case "t:R2":
			// Second (31.3, 121.5) to Third (31.4, 121.6) is about 14.5 km.
			if len(l.Stations) != 2 || l.Stations[0].StationID != "t:X2" || l.Stations[0].Metres != 0 || l.Stations[1].Metres < 14000 || l.Stations[1].Metres > 15000 {
				t.Errorf("metro line stations: %+v", l.Stations)
			}
		}
	}
	p, err := network.NewGraph(b.Lines).ShortestPath("t:X3", "t:X2")
	if err != nil || p.Metres != b.Lines[1].Stations[1].Metres {
		t.Errorf("graph over the imported metro: %+v %v", p, err)
	}
}
