package metro_test

import (
	"cmp"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"piao/internal/metro"
)

// genTaps draws a clean tap set: distinct IDs, a few accounts, stations
// of the demo network (now and then one off it), times over half a day so
// every window and rule is reached.
func genTaps(t *rapid.T, stations []string) []metro.Tap {
	n := rapid.IntRange(0, 60).Draw(t, "n")
	taps := make([]metro.Tap, n)
	for i := range taps {
		s := rapid.SampledFrom(stations).Draw(t, "station")
		if rapid.IntRange(0, 40).Draw(t, "off") == 0 {
			s = "nowhere"
		}
		dir := metro.In
		if rapid.Bool().Draw(t, "out") {
			dir = metro.Out
		}
		taps[i] = metro.Tap{
			ID:      fmt.Sprintf("k%03d", i),
			Feed:    "nbmetro",
			Account: rapid.Int64Range(1, 4).Draw(t, "account"),
			Station: s,
			Dir:     dir,
			At:      t0.Add(time.Duration(rapid.IntRange(0, 12*60).Draw(t, "minute")) * time.Minute),
		}
	}
	return taps
}

// mess shuffles taps and adds duplicates: exact copies, and copies under
// the same ID that come later (other station, other direction) and so
// must lose to the original.
func mess(t *rapid.T, taps []metro.Tap) []metro.Tap {
	m := slices.Clone(taps)
	if len(taps) > 0 {
		for range rapid.IntRange(0, 20).Draw(t, "dups") {
			d := rapid.SampledFrom(taps).Draw(t, "dup")
			switch rapid.IntRange(0, 3).Draw(t, "kind") {
			case 1:
				d.At = d.At.Add(time.Duration(rapid.IntRange(1, 600).Draw(t, "later")) * time.Second)
				d.Station = "nbmetro:XP"
			case 2: // same instant, larger content, an invalid direction: must still lose
				d.Gate = "~"
				d.Dir = metro.Direction(strings.ToUpper(string(d.Dir)))
			case 3: // same instant, another account: must still lose
				d.Account++
			}
			m = append(m, d)
		}
	}
	return rapid.Permutation(m).Draw(t, "perm")
}

func compareTrips(a, b metro.Trip) int {
	if c := cmp.Compare(a.Account, b.Account); c != 0 {
		return c
	}
	if c := a.At().Compare(b.At()); c != 0 {
		return c
	}
	return strings.Compare(a.ID, b.ID)
}

func checkCleared(t *rapid.T, taps []metro.Tap, res metro.Cleared) {
	ids := map[string]bool{}
	for _, tp := range taps {
		ids[tp.ID] = true
	}
	seen := map[string]string{}
	mark := func(id, where string) {
		if id == "" {
			return
		}
		if prev, ok := seen[id]; ok {
			t.Fatalf("tap %s in %s and in %s", id, prev, where)
		}
		if !ids[id] {
			t.Fatalf("tap %s in %s was never given", id, where)
		}
		seen[id] = where
	}
	tripIDs := map[string]bool{}
	for _, tr := range res.Trips {
		if tripIDs[tr.ID] {
			t.Fatalf("trip ID %s twice", tr.ID)
		}
		tripIDs[tr.ID] = true
		if tr.Fare < 0 {
			t.Fatalf("trip %s fare %d", tr.ID, tr.Fare)
		}
		if tr.InTap == "" && tr.OutTap == "" {
			t.Fatalf("trip %s has no tap", tr.ID)
		}
		open := tr.InTap
		if open == "" {
			open = tr.OutTap
		}
		if tr.ID != "t-"+open {
			t.Fatalf("trip %s opened by %s", tr.ID, open)
		}
		if tr.InTap != "" && tr.OutTap != "" && tr.Exited.Before(tr.Entered) {
			t.Fatalf("trip %s exits before it enters", tr.ID)
		}
		mark(tr.InTap, "trip "+tr.ID)
		mark(tr.OutTap, "trip "+tr.ID)
	}
	for _, p := range res.Pending {
		mark(p.ID, "pending")
	}
	for _, r := range res.Rejected {
		mark(r.Tap.ID, "rejected")
	}
	if len(seen) != len(ids) {
		t.Fatalf("%d distinct taps given, %d accounted for", len(ids), len(seen))
	}
	if !slices.IsSortedFunc(res.Trips, compareTrips) {
		t.Fatal("trips not sorted by (account, at, id)")
	}
}

func TestClearProperties(t *testing.T) {
	cl := newClearer(t, nil)
	stations := cl.FareTable().Stations()
	rapid.Check(t, func(t *rapid.T) {
		clean := genTaps(t, stations)
		sorted := slices.Clone(clean)
		slices.SortFunc(sorted, metro.CompareTaps)
		want := cl.Clear(sorted)
		checkCleared(t, clean, want)

		messy := mess(t, clean)
		if got := cl.Clear(messy); !reflect.DeepEqual(got, want) {
			t.Fatalf("shuffled with duplicates:\n got %+v\nwant %+v", got.Trips, want.Trips)
		}

		// A cut-off: the same invariants, and the same answer shuffled.
		until := t0.Add(time.Duration(rapid.IntRange(0, 13*60).Draw(t, "until")) * time.Minute)
		part := cl.ClearUntil(sorted, until)
		checkCleared(t, clean, part)
		if got := cl.ClearUntil(messy, until); !reflect.DeepEqual(got, part) {
			t.Fatalf("cut-off, shuffled with duplicates:\n got %+v\nwant %+v", got.Trips, part.Trips)
		}
		for _, p := range part.Pending {
			if !p.At.After(until) && p.Dir != metro.In {
				t.Fatalf("tap-out %s at or before the cut-off left pending", p.ID)
			}
		}
	})
}

// Clearing as a stream — each round's pending taps given again with the
// taps that came since, a final Clear at the end — gives exactly the trips
// of one Clear of all the taps.
func TestClearStreamingEqualsBatch(t *testing.T) {
	cl := newClearer(t, nil)
	stations := cl.FareTable().Stations()
	rapid.Check(t, func(t *rapid.T) {
		taps := genTaps(t, stations)
		want := cl.Clear(taps)
		cuts := rapid.SliceOfN(rapid.IntRange(0, 13*60), 0, 5).Draw(t, "cuts")
		slices.Sort(cuts)
		var trips []metro.Trip
		var rejected []metro.Rejected
		var carry []metro.Tap
		next := 0
		sorted := slices.Clone(taps)
		slices.SortFunc(sorted, metro.CompareTaps)
		for _, c := range cuts {
			until := t0.Add(time.Duration(c) * time.Minute)
			for next < len(sorted) && !sorted[next].At.After(until) {
				carry = append(carry, sorted[next])
				next++
			}
			res := cl.ClearUntil(carry, until)
			trips = append(trips, res.Trips...)
			rejected = append(rejected, res.Rejected...)
			carry = res.Pending
		}
		res := cl.Clear(append(carry, sorted[next:]...))
		trips = append(trips, res.Trips...)
		rejected = append(rejected, res.Rejected...)
		slices.SortStableFunc(trips, compareTrips)
		if !reflect.DeepEqual(trips, want.Trips) && (len(trips) > 0 || len(want.Trips) > 0) {
			t.Fatalf("streamed\n got %+v\nwant %+v", got(trips), got(want.Trips))
		}
		if len(rejected) != len(want.Rejected) {
			t.Fatalf("streamed rejected %d, batch %d", len(rejected), len(want.Rejected))
		}
	})
}

// The result does not depend on how many workers clear: small random sets
// on 1 to 5 workers, and a synthetic day on 1 and 3.
func TestClearWorkersAgree(t *testing.T) {
	cl := newClearer(t, nil)
	stations := cl.FareTable().Stations()
	rapid.Check(t, func(t *rapid.T) {
		taps := mess(t, genTaps(t, stations))
		var until time.Time
		if rapid.Bool().Draw(t, "cut") {
			until = t0.Add(time.Duration(rapid.IntRange(0, 13*60).Draw(t, "until")) * time.Minute)
		}
		want := cl.ClearOn(taps, until, 1)
		p := rapid.IntRange(2, 5).Draw(t, "workers")
		if got := cl.ClearOn(taps, until, p); !reflect.DeepEqual(got, want) {
			t.Fatalf("%d workers:\n got %+v\nwant %+v", p, got.Trips, want.Trips)
		}
	})
	day := dayOfTaps(cl.FareTable(), 100_000)
	day = append(day, day[:5000]...) // duplicates
	want := cl.ClearOn(day, time.Time{}, 1)
	checkDay(t, day, want)
	if got := cl.ClearOn(day, time.Time{}, 3); !reflect.DeepEqual(got, want) {
		t.Fatal("a day on 3 workers differs from 1")
	}
	if got := cl.Clear(day); !reflect.DeepEqual(got, want) {
		t.Fatal("Clear differs from 1 worker")
	}
	cut := t0.Add(10 * time.Hour)
	if got, w := cl.ClearOn(day, cut, 3), cl.ClearOn(day, cut, 1); !reflect.DeepEqual(got, w) {
		t.Fatal("a cut-off day on 3 workers differs from 1")
	}
}

func checkDay(t *testing.T, day []metro.Tap, res metro.Cleared) {
	ids := map[string]bool{}
	for _, tp := range day {
		ids[tp.ID] = true
	}
	n := len(res.Pending) + len(res.Rejected)
	for _, tr := range res.Trips {
		if tr.InTap != "" {
			n++
		}
		if tr.OutTap != "" {
			n++
		}
	}
	if n != len(ids) || len(res.Trips) == 0 {
		t.Fatalf("%d distinct taps, %d accounted for (%d trips)", len(ids), n, len(res.Trips))
	}
	if !slices.IsSortedFunc(res.Trips, compareTrips) {
		t.Fatal("day's trips not sorted")
	}
}
