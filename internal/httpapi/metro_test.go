package httpapi_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"piao/internal/identity"
	"piao/internal/metro"
)

func mtTaps(n int, at time.Time) []metro.Tap {
	taps := make([]metro.Tap, n)
	for i := range taps {
		dir, st := metro.In, "nbmetro:GL"
		if i%2 == 1 {
			dir, st = metro.Out, "nbmetro:QSP"
		}
		taps[i] = metro.Tap{ID: fmt.Sprintf("G1-%06d", i), Feed: "nbmetro", Account: int64(100 + i/2), Station: st, Gate: "G1", Dir: dir, At: at.Add(time.Duration(i) * time.Minute)}
	}
	return taps
}

func TestGateTapsBatch(t *testing.T) {
	s := newTestServer(t)
	gate := s.token(t, identity.Gate)
	at := time.Now().Add(-time.Hour).UTC().Truncate(time.Millisecond)
	taps := mtTaps(6, at)
	post := func(taps []metro.Tap) (metro.IngestResult, int) {
		b, _ := json.Marshal(map[string]any{"taps": taps})
		res := s.do(t, "POST", "/api/v1/gate/taps", gate, bytes.NewReader(b))
		var out metro.IngestResult
		if res.status == http.StatusOK {
			bnJSON(t, res, &out)
		}
		return out, res.status
	}
	bad := metro.Tap{ID: "G1-bad", Feed: "nbmetro", Account: 1, Station: "nbmetro:NOPE", Dir: metro.In, At: at}
	got, st := post(append(append([]metro.Tap{}, taps...), taps[0], bad))
	if st != http.StatusOK || got.Added != 6 || got.Duplicates != 1 || len(got.Refused) != 1 || got.Refused[0].Reason != "unknown_station" || got.Refused[0].Index != 7 {
		t.Fatalf("first batch: %d %+v", st, got)
	}
	// The same taps again, reversed: all duplicates.
	rev := make([]metro.Tap, len(taps))
	for i := range taps {
		rev[i] = taps[len(taps)-1-i]
	}
	if got, st := post(rev); st != http.StatusOK || got.Added != 0 || got.Duplicates != 6 {
		t.Fatalf("resent batch: %d %+v", st, got)
	}
	// Every refusal says why.
	for _, c := range []struct {
		tap    metro.Tap
		reason string
	}{
		{metro.Tap{Feed: "nbmetro", Account: 1, Station: "nbmetro:GL", Dir: metro.In, At: at}, "bad_tap_id"},
		{metro.Tap{ID: "x1", Feed: "nbmetro", Account: 1, Station: "nbmetro:GL", Dir: "sideways", At: at}, "bad_direction"},
		{metro.Tap{ID: "x2", Feed: "nbmetro", Station: "nbmetro:GL", Dir: metro.In, At: at}, "account_required"},
		{metro.Tap{ID: "x3", Feed: "nbmetro", Account: 1, Station: "nbmetro:GL", Dir: metro.In}, "tap_time_required"},
		{metro.Tap{ID: "x4", Feed: "nbmetro", Account: 1, Station: "nbmetro:GL", Dir: metro.In, At: time.Now().Add(time.Hour)}, "tap_in_future"},
		{metro.Tap{ID: "x6", Account: 1, Station: "nbmetro:GL", Dir: metro.In, At: at}, "feed_required"},
		{metro.Tap{ID: "x5", Feed: "nowhere", Account: 1, Station: "nbmetro:GL", Dir: metro.In, At: at}, "unknown_feed"},
	} {
		got, st := post([]metro.Tap{c.tap})
		if st != http.StatusOK || got.Added != 0 || len(got.Refused) != 1 || got.Refused[0].Reason != c.reason {
			t.Errorf("%s: %d %+v", c.reason, st, got)
		}
	}
	// A passenger may not send taps; anonymous callers are asked to log in.
	if res := s.do(t, "POST", "/api/v1/gate/taps", s.token(t, identity.Passenger), strings.NewReader(`{"taps":[]}`)); res.status != http.StatusForbidden {
		t.Fatalf("passenger: %d", res.status)
	}
	stored, err := s.app.MetroStore.OpenTaps(context.Background(), "nbmetro", 0, 100)
	if err != nil || len(stored) != 6 {
		t.Fatalf("%d taps stored, %v", len(stored), err)
	}
}

func TestGateTapsStream(t *testing.T) {
	s := newTestServer(t)
	gate := s.token(t, identity.Gate)
	taps := mtTaps(2500, time.Now().Add(-48*time.Hour).UTC())
	var in bytes.Buffer
	enc := json.NewEncoder(&in)
	for i, tp := range taps {
		enc.Encode(tp)
		if i == 1200 {
			in.WriteString("{not json\n")
			enc.Encode(taps[3]) // a duplicate mid-stream
		}
	}
	res := s.do(t, "POST", "/api/v1/gate/taps/stream", gate, &in, "Content-Type", "application/x-ndjson")
	if res.status != http.StatusOK || !strings.HasPrefix(res.header.Get("Content-Type"), "application/x-ndjson") {
		t.Fatalf("stream: %d %s %s", res.status, res.header.Get("Content-Type"), res.body)
	}
	type line struct {
		metro.IngestResult
		Line  int
		Done  bool
		Error string
	}
	var lines []line
	sc := bufio.NewScanner(bytes.NewReader(res.body))
	for sc.Scan() {
		var l line
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("answer line %q: %v", sc.Text(), err)
		}
		lines = append(lines, l)
	}
	if len(lines) != 4 { // three chunks of up to 1,000 and the summary
		t.Fatalf("%d answer lines: %s", len(lines), res.body)
	}
	sum := lines[len(lines)-1]
	if !sum.Done || sum.Error != "" || sum.Added != 2500 || sum.Duplicates != 1 || len(sum.Refused) != 1 || sum.Refused[0].Reason != "bad_json" || sum.Refused[0].Index != 1201 || sum.Line != 2502 {
		t.Fatalf("summary %+v", sum)
	}
	// Sending the stream again stores nothing new.
	in.Reset()
	for _, tp := range taps[:10] {
		enc.Encode(tp)
	}
	res = s.do(t, "POST", "/api/v1/gate/taps/stream", gate, &in)
	if !bytes.Contains(res.body, []byte(`"added":0,"duplicates":10`)) || !bytes.Contains(res.body, []byte(`"done":true`)) {
		t.Fatalf("resent stream: %s", res.body)
	}
}

func TestSettleOverHTTP(t *testing.T) {
	s := newTestServer(t)
	ctx := context.Background()
	admin := s.token(t, identity.OperatorAdmin)
	at := time.Now().Add(-2 * time.Hour).UTC().Truncate(time.Millisecond)
	var trips []metro.Trip
	for i := range 30 {
		trips = append(trips, metro.Trip{ID: fmt.Sprintf("t-http-%02d", i), Feed: "nbmetro", Account: int64(500 + i%3), Status: metro.Complete,
			From: "nbmetro:GL", To: "nbmetro:QSP", FromLine: "nbmetro:L2", ToLine: "nbmetro:L2", Entered: at, Exited: at.Add(25 * time.Minute), Metres: 8800, Fare: 400})
	}
	if _, err := s.app.MetroStore.AddTrips(ctx, trips, nil); err != nil {
		t.Fatal(err)
	}
	res := s.do(t, "POST", "/api/v1/metro/nbmetro/settle", admin, nil)
	var rep metro.SettleReport
	bnJSON(t, res, &rep)
	if res.status != http.StatusOK || rep.Trips != 30 || rep.Fare != 30*400 || rep.Passenger+rep.Operator+rep.Merchant+rep.Subsidy != rep.Fare {
		t.Fatalf("settle: %d %+v", res.status, rep)
	}
	res = s.do(t, "POST", "/api/v1/metro/nbmetro/settle", admin, nil)
	bnJSON(t, res, &rep)
	if rep.Trips != 0 {
		t.Fatalf("settling again: %+v", rep)
	}
	res = s.do(t, "GET", "/api/v1/metro-trips/t-http-07", admin, nil)
	var v struct {
		Trip       metro.Trip
		Settlement *metro.Settlement
	}
	bnJSON(t, res, &v)
	if res.status != http.StatusOK || v.Trip.Fare != 400 || v.Settlement == nil || v.Settlement.Fare != 400 || v.Settlement.TripID != "t-http-07" {
		t.Fatalf("trip: %d %s", res.status, res.body)
	}
	if res := s.do(t, "GET", "/api/v1/metro-trips/nope", admin, nil); res.status != http.StatusNotFound {
		t.Fatalf("missing trip: %d", res.status)
	}
	if res := s.do(t, "POST", "/api/v1/metro/nbmetro/settle", s.token(t, identity.Gate), nil); res.status != http.StatusForbidden {
		t.Fatalf("gate settling: %d", res.status)
	}
}

// dayOfTaps is a morning of taps for a few riders on the demo network: full
// journeys, and the incomplete kinds — no tap-out, no tap-in, leaving at
// the entry station, overtime.
func dayOfTaps(t *testing.T, s *testServer, seed uint64) []metro.Tap {
	t.Helper()
	lines, err := s.app.Network.MetroLines(context.Background(), "nbmetro")
	if err != nil || len(lines) == 0 {
		t.Fatalf("demo metro lines: %v", err)
	}
	var stations []string
	for _, l := range lines {
		for _, st := range l.Stations {
			stations = append(stations, st.StationID)
		}
	}
	r := rand.New(rand.NewPCG(seed, 7))
	day := time.Now().Add(-30 * time.Hour).UTC().Truncate(time.Millisecond)
	var taps []metro.Tap
	n := 0
	tap := func(acct int64, st string, dir metro.Direction, at time.Time) {
		n++
		taps = append(taps, metro.Tap{ID: fmt.Sprintf("G%d-%05d", r.IntN(9), n), Feed: "nbmetro", Account: acct, Station: st, Gate: "G", Dir: dir, At: at})
	}
	for acct := int64(1000); acct < 1040; acct++ {
		at := day.Add(time.Duration(r.IntN(120)) * time.Minute)
		for range 1 + r.IntN(4) {
			from, to := stations[r.IntN(len(stations))], stations[r.IntN(len(stations))]
			ride := time.Duration(5+r.IntN(70)) * time.Minute
			switch k := r.IntN(10); {
			case k == 0: // no tap-out
				tap(acct, from, metro.In, at)
			case k == 1: // no tap-in
				tap(acct, to, metro.Out, at.Add(ride))
			case k == 2: // left where it entered
				tap(acct, from, metro.In, at)
				tap(acct, from, metro.Out, at.Add(ride))
			case k == 3: // overtime
				tap(acct, from, metro.In, at)
				tap(acct, to, metro.Out, at.Add(4*time.Hour+ride))
				ride += 4 * time.Hour
			default:
				tap(acct, from, metro.In, at)
				tap(acct, to, metro.Out, at.Add(ride))
			}
			at = at.Add(ride + time.Duration(10+r.IntN(90))*time.Minute)
		}
	}
	return taps
}

// storedTrips reads back every trip of the riders dayOfTaps made, Seq
// cleared: the store's order of arrival is not part of a trip.
func storedTrips(t *testing.T, s *testServer) []metro.Trip {
	t.Helper()
	var out []metro.Trip
	for acct := int64(1000); acct < 1040; acct++ {
		ts, err := s.app.MetroStore.AccountTrips(context.Background(), acct, time.Unix(0, 0), time.Now().Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		for _, tr := range ts {
			tr.Seq = 0
			tr.Entered, tr.Exited = tr.Entered.UTC(), tr.Exited.UTC()
			out = append(out, tr)
		}
	}
	return out
}

// TestClearOverHTTP: taps sent duplicated, shuffled and in several
// batches, cleared in several runs, give the same trips as the same taps
// sent once in order and cleared once.
func TestClearOverHTTP(t *testing.T) {
	send := func(t *testing.T, s *testServer, gate string, taps []metro.Tap) metro.IngestResult {
		t.Helper()
		b, _ := json.Marshal(map[string]any{"taps": taps})
		res := s.do(t, "POST", "/api/v1/gate/taps", gate, bytes.NewReader(b))
		var out metro.IngestResult
		bnJSON(t, res, &out)
		if res.status != http.StatusOK || len(out.Refused) != 0 {
			t.Fatalf("taps: %d %s", res.status, res.body)
		}
		return out
	}
	clear := func(t *testing.T, s *testServer, admin string, until time.Time) metro.ClearReport {
		t.Helper()
		var body io.Reader
		if !until.IsZero() {
			b, _ := json.Marshal(map[string]any{"until": until})
			body = bytes.NewReader(b)
		}
		res := s.do(t, "POST", "/api/v1/metro/nbmetro/clear", admin, body)
		var rep metro.ClearReport
		bnJSON(t, res, &rep)
		if res.status != http.StatusOK {
			t.Fatalf("clear: %d %s", res.status, res.body)
		}
		return rep
	}

	clean := newTestServer(t)
	taps := dayOfTaps(t, clean, 1)
	ordered := slices.Clone(taps)
	slices.SortFunc(ordered, func(a, b metro.Tap) int { return a.At.Compare(b.At) })
	send(t, clean, clean.token(t, identity.Gate), ordered)
	admin := clean.token(t, identity.OperatorAdmin)
	rep := clear(t, clean, admin, time.Time{})
	if rep.Taps != len(taps) || rep.Pending != 0 || rep.Rejected != 0 || rep.Trips == 0 {
		t.Fatalf("clean clear: %+v", rep)
	}
	want := storedTrips(t, clean)
	if len(want) != rep.Trips {
		t.Fatalf("%d trips stored, report says %d", len(want), rep.Trips)
	}
	statuses := map[metro.TripStatus]int{}
	for _, tr := range want {
		statuses[tr.Status]++
	}
	if statuses[metro.Complete] == 0 || statuses[metro.NoExit] == 0 || statuses[metro.NoEntry] == 0 || statuses[metro.Overtime] == 0 {
		t.Fatalf("the day should hold every kind of trip: %v", statuses)
	}
	if again := clear(t, clean, admin, time.Time{}); again.Taps != 0 || again.Trips != 0 {
		t.Fatalf("clearing again: %+v", again)
	}

	messy := newTestServer(t)
	gate, madmin := messy.token(t, identity.Gate), messy.token(t, identity.OperatorAdmin)
	// Arrival order: shuffled, every fifth tap sent twice, in three
	// batches split by time so a clearing run between them has all taps
	// up to its cut-off.
	r := rand.New(rand.NewPCG(2, 3))
	cut := ordered[len(ordered)/2].At
	var early, late []metro.Tap
	for i, tp := range ordered {
		dst := &early
		if !tp.At.Before(cut) {
			dst = &late
		}
		*dst = append(*dst, tp)
		if i%5 == 0 {
			*dst = append(*dst, tp)
		}
	}
	r.Shuffle(len(early), func(i, j int) { early[i], early[j] = early[j], early[i] })
	r.Shuffle(len(late), func(i, j int) { late[i], late[j] = late[j], late[i] })
	got := send(t, messy, gate, early)
	if got.Duplicates == 0 {
		t.Fatalf("duplicates not counted: %+v", got)
	}
	first := clear(t, messy, madmin, cut.Add(-time.Millisecond))
	if first.Pending == 0 {
		t.Fatalf("a run mid-day should leave tap-ins open: %+v", first)
	}
	send(t, messy, gate, late[:len(late)/2])
	send(t, messy, gate, late)
	clear(t, messy, madmin, time.Time{})
	if diff := cmpTrips(want, storedTrips(t, messy)); diff != "" {
		t.Fatal(diff)
	}

	if res := messy.do(t, "POST", "/api/v1/metro/nbmetro/clear", gate, nil); res.status != http.StatusForbidden {
		t.Fatalf("gate clearing: %d", res.status)
	}
	if res := messy.do(t, "POST", "/api/v1/metro/nbmetro/clear", madmin, strings.NewReader(`{"until":"2999-01-01T00:00:00Z"}`)); res.status != http.StatusBadRequest && res.status != http.StatusUnprocessableEntity {
		t.Fatalf("future cut-off: %d %s", res.status, res.body)
	}
	if res := messy.do(t, "POST", "/api/v1/metro/nowhere/clear", madmin, nil); res.status != http.StatusNotFound {
		t.Fatalf("unknown feed: %d %s", res.status, res.body)
	}
}

func cmpTrips(want, got []metro.Trip) string {
	if len(want) != len(got) {
		return fmt.Sprintf("%d trips, want %d", len(got), len(want))
	}
	for i := range want {
		if !reflect.DeepEqual(want[i], got[i]) {
			return fmt.Sprintf("trip %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
	return ""
}
