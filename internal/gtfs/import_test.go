package gtfs_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"piao/internal/fault"
	"piao/internal/gtfs"
	"piao/internal/store/storetest"
)

func TestImportLIRR(t *testing.T) {
	files := readZip(t, lirrPath)
	serviceIDs := map[string]bool{}
	for _, r := range files.records(t, "calendar_dates.txt")[1:] {
		serviceIDs[r[0]] = true
	}
	want := map[string]int{
		"agencies":            1,
		"stations":            127,
		"lines":               13,
		"services":            2081,
		"service_stops":       22730,
		"calendars":           len(serviceIDs),
		"calendar_exceptions": len(files.records(t, "calendar_dates.txt")) - 1,
		"transfers":           len(files.records(t, "transfers.txt")) - 1,
	}
	corrupt := files.clone()
	corrupt["stop_times.txt"] = setCell(t, corrupt["stop_times.txt"], 1234, "arrival_time", "25:6x:00")
	corruptPath := filepath.Join(t.TempDir(), "lirr-corrupt.zip")
	if err := os.WriteFile(corruptPath, corrupt.zip(t), 0o644); err != nil {
		t.Fatal(err)
	}

	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := context.Background()
		b, err := gtfs.ParseFile(lirrPath, gtfs.Options{FeedID: "lirr"})
		if err != nil {
			t.Fatal(err)
		}
		var written []int64
		b.Progress = func(n int64) { written = append(written, n) }
		res, err := s.Network.ImportBundle(ctx, b)
		if err != nil {
			t.Fatal(err)
		}
		if res.Unchanged || res.FeedID != "lirr" {
			t.Errorf("first import: %+v", res)
		}
		if len(written) == 0 || written[len(written)-1] <= 0 {
			t.Errorf("store progress = %v", written)
		}
		counts := checkCounts(t, s, want)
		if !reflect.DeepEqual(res.Rows, counts) {
			t.Errorf("import reported %v, store counts %v", res.Rows, counts)
		}

		// What was written reads back the same.
		sv, err := s.Network.Service(ctx, "lirr:GO202_26_21")
		if err != nil {
			t.Fatal(err)
		}
		var orig = b.Services[0]
		for _, x := range b.Services {
			if x.ID == sv.ID {
				orig = x
			}
		}
		if !equalStops(sv.Stops, orig.Stops) || sv.Number != orig.Number || sv.CalendarID != orig.CalendarID {
			t.Errorf("service read back = %+v, want %+v", sv, orig)
		}
		feeds, err := s.Network.Feeds(ctx)
		if err != nil || len(feeds) != 1 || feeds[0].Digest != b.Feed.Digest || feeds[0].Timezone != "America/New_York" {
			t.Errorf("feeds = %+v, %v", feeds, err)
		}

		// The same feed again through Import: unchanged, same counts.
		var parseCalls, writeCalls int
		res, err = gtfs.Import(ctx, s.Network, lirrPath, gtfs.Options{
			FeedID:        "lirr",
			Progress:      func(done, total int64) { parseCalls++ },
			WriteProgress: func(done, total int64) { writeCalls++ },
		})
		if err != nil {
			t.Fatal(err)
		}
		if !res.Unchanged || !reflect.DeepEqual(res.Rows, counts) {
			t.Errorf("second import: %+v, want unchanged with %v", res, counts)
		}
		if parseCalls == 0 {
			t.Error("Import reported no parse progress")
		}
		checkCounts(t, s, want)

		// A corrupted copy fails at parsing and writes nothing.
		res, err = gtfs.Import(ctx, s.Network, corruptPath, gtfs.Options{FeedID: "lirr"})
		var ge *gtfs.Error
		if !errors.As(err, &ge) || ge.File != "stop_times.txt" || ge.Line != 1234 || ge.Column != "arrival_time" || !fault.Is(err, fault.Invalid) {
			t.Fatalf("corrupted import: %+v, %v", res, err)
		}
		checkCounts(t, s, want)
	})
}

// checkCounts asserts the store's per-table counts for the lirr feed: the
// wanted tables as given, every other table empty.
func checkCounts(t *testing.T, s storetest.Stores, want map[string]int) map[string]int {
	t.Helper()
	counts, err := s.Network.CountRows(context.Background(), "lirr")
	if err != nil {
		t.Fatal(err)
	}
	for table, n := range counts {
		if n != want[table] {
			t.Errorf("%s: %d rows, want %d", table, n, want[table])
		}
	}
	for table := range want {
		if _, ok := counts[table]; !ok {
			t.Errorf("CountRows has no %s", table)
		}
	}
	return counts
}
