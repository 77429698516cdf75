package metro_test

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"piao/internal/fault"
	"piao/internal/metro"
	"piao/internal/store/sealed"
	"piao/internal/store/sqlite"
)

// clearingService is a metro service over a fresh SQLite store, pricing by
// the demo fare table, with its clock at now.
func clearingService(t *testing.T, now time.Time) *metro.Service {
	t.Helper()
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "piao.db"), sealed.Generate())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	ft, _ := demoTable(t)
	return metro.NewService(db.Metro(), metro.Config{
		Now: func() time.Time { return now },
		FareTable: func(_ context.Context, feed string) (*metro.FareTable, error) {
			if feed != "nbmetro" {
				return nil, fault.New(fault.NotFound, "metro_network_not_found", "没有该线网", "no such network")
			}
			return ft, nil
		},
	})
}

func tripsOf(t *testing.T, svc *metro.Service, accounts int) []metro.Trip {
	t.Helper()
	var out []metro.Trip
	for a := int64(1); a <= int64(accounts); a++ {
		ts, err := svc.AccountTrips(context.Background(), a, time.Unix(0, 0), t0.Add(48*time.Hour))
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

// TestServiceClearPagesAndRuns: clearing in pages of a few taps, and in
// two runs with a tap-in left open by the first, stores the trips one
// clearing of everything does; a tap at a station not on the network is
// rejected, closed and reported once.
func TestServiceClearPagesAndRuns(t *testing.T) {
	ctx := context.Background()
	now := t0.Add(24 * time.Hour)
	var taps []metro.Tap
	for a := int64(1); a <= 30; a++ {
		p := fmt.Sprintf("a%02d-", a)
		taps = append(taps,
			in(p+"1", a, "GL", time.Duration(a)*time.Minute),
			out(p+"2", a, "QSP", time.Duration(a+20)*time.Minute),
			in(p+"3", a, "QSP", time.Duration(a)*time.Minute+6*time.Hour), // its exit comes in the second run
		)
	}
	gone := in("gone-1", 7, "nowhere", 2*time.Hour)
	gone.Station = "nbmetro:GONE"
	taps = append(taps, gone)
	later := make([]metro.Tap, 0, 30)
	for a := int64(1); a <= 30; a++ {
		later = append(later, out(fmt.Sprintf("a%02d-4", a), a, "GL", time.Duration(a)*time.Minute+6*time.Hour+30*time.Minute))
	}

	once := clearingService(t, now)
	if _, err := once.Ingest(ctx, append(append([]metro.Tap{}, taps...), later...)); err != nil {
		t.Fatal(err)
	}
	rep, err := once.Clear(ctx, "nbmetro", metro.ClearOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Trips != 60 || rep.Pending != 0 || rep.Rejected != 1 || len(rep.Rejections) != 1 || rep.Rejections[0].ID != "gone-1" || rep.Rejections[0].Reason != "station_not_on_network" {
		t.Fatalf("one run: %+v", rep)
	}
	want := tripsOf(t, once, 30)
	if again, err := once.Clear(ctx, "nbmetro", metro.ClearOptions{}); err != nil || again.Taps != 0 || again.Rejected != 0 {
		t.Fatalf("again: %+v %v", again, err)
	}

	paged := clearingService(t, now)
	if _, err := paged.Ingest(ctx, taps); err != nil {
		t.Fatal(err)
	}
	var seen []int
	first, err := paged.Clear(ctx, "nbmetro", metro.ClearOptions{Until: t0.Add(6*time.Hour + 31*time.Minute), Page: 4, Progress: func(n int) { seen = append(seen, n) }})
	if err != nil {
		t.Fatal(err)
	}
	if first.Trips != 30 || first.Pending != 30 || first.Rejected != 1 || len(seen) < 10 {
		t.Fatalf("first paged run: %+v, progress %v", first, seen)
	}
	if _, err := paged.Ingest(ctx, later); err != nil {
		t.Fatal(err)
	}
	second, err := paged.Clear(ctx, "nbmetro", metro.ClearOptions{Page: 5})
	if err != nil || second.Trips != 30 || second.Taps != 60 || second.Rejected != 0 {
		t.Fatalf("second paged run: %+v %v", second, err)
	}
	if got := tripsOf(t, paged, 30); !reflect.DeepEqual(got, want) {
		t.Fatalf("paged runs stored other trips:\n got %+v\nwant %+v", got, want)
	}

	for _, c := range []struct {
		feed   string
		o      metro.ClearOptions
		reason string
	}{
		{"nbmetro", metro.ClearOptions{Until: now.Add(time.Minute)}, "until_in_future"},
		{"", metro.ClearOptions{}, "feed_required"},
		{"elsewhere", metro.ClearOptions{}, "metro_network_not_found"},
	} {
		if _, err := paged.Clear(ctx, c.feed, c.o); fault.As(err) == nil || fault.As(err).Reason != c.reason {
			t.Errorf("%s: %v", c.reason, err)
		}
	}
}

// TestServiceRunOnce: one round of the back-office loop clears and settles
// each feed, going on past a feed that fails.
func TestServiceRunOnce(t *testing.T) {
	ctx := context.Background()
	svc := clearingService(t, t0.Add(24*time.Hour))
	if _, err := svc.Ingest(ctx, []metro.Tap{in("r1", 1, "GL", 0), out("r2", 1, "QSP", 25*time.Minute)}); err != nil {
		t.Fatal(err)
	}
	svc.RunOnce(ctx, func(context.Context) ([]string, error) { return []string{"elsewhere", "nbmetro"}, nil })
	tr, err := svc.Trip(ctx, "t-r1")
	if err != nil || tr.Status != metro.Complete || tr.Fare <= 0 {
		t.Fatalf("trip: %+v %v", tr, err)
	}
	l, err := svc.Settlement(ctx, "t-r1")
	if err != nil || l.Fare != tr.Fare || l.Passenger != tr.Fare {
		t.Fatalf("settlement: %+v %v", l, err)
	}
}
