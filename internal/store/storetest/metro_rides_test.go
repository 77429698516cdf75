package storetest_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"piao/internal/metro"
	"piao/internal/store/storetest"
)

// TestMetroSettledRides: the settled trips of a window come back with the
// rider's part, account by account, whole accounts a page; unsettled
// trips, other feeds and trips outside the window do not.
func TestMetroSettledRides(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := context.Background()
		var trips []metro.Trip
		for a := int64(1); a <= 5; a++ {
			for i := range int(a) { // account a has a trips in the window
				trips = append(trips, mtTrip(fmt.Sprintf("w-%d-%d", a, i), a, "nbmetro:GL", "nbmetro:QSP", bnT0.Add(time.Duration(i)*time.Hour), 300+int64(i)))
			}
		}
		before := mtTrip("early", 3, "nbmetro:GL", "nbmetro:QSP", bnT0.Add(-time.Hour), 300)
		after := mtTrip("late", 3, "nbmetro:GL", "nbmetro:QSP", bnT0.Add(30*time.Hour), 300)
		other := mtTrip("other-feed", 3, "nbmetro:GL", "nbmetro:QSP", bnT0, 300)
		other.Feed = "elsewhere"
		if _, err := s.Metro.AddTrips(ctx, append(trips, before, after, other), nil); err != nil {
			t.Fatal(err)
		}
		unsettled := mtTrip("unsettled", 2, "nbmetro:GL", "nbmetro:QSP", bnT0.Add(time.Minute), 300)
		var lines []metro.Settlement
		for i, tr := range append(append([]metro.Trip{}, trips...), before, after, other) {
			stored, err := s.Metro.Trip(ctx, tr.ID)
			if err != nil {
				t.Fatal(err)
			}
			l := metro.Settlement{TripID: tr.ID, TripSeq: stored.Seq, Account: tr.Account, At: tr.Entered, Fare: tr.Fare, Passenger: tr.Fare, Gift: i%4 == 1}
			if i%3 == 0 {
				l.Passenger, l.Operator = tr.Fare-100, 100
			}
			lines = append(lines, l)
		}
		if err := s.Metro.Settle(ctx, lines, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Metro.AddTrips(ctx, []metro.Trip{unsettled}, nil); err != nil {
			t.Fatal(err)
		}
		byID := map[string]metro.Settlement{}
		for _, l := range lines {
			byID[l.TripID] = l
		}
		var got []metro.SettledRide
		var after0 int64
		for pages := 0; ; pages++ {
			page, err := s.Metro.SettledRides(ctx, "nbmetro", after0, bnT0, bnT0.Add(24*time.Hour), 4)
			if err != nil {
				t.Fatal(err)
			}
			if len(page) == 0 {
				if pages < 3 {
					t.Fatalf("%d pages for 15 trips of 4 a page", pages)
				}
				break
			}
			for i := 1; i < len(page); i++ {
				if page[i].Trip.Account < page[i-1].Trip.Account {
					t.Fatalf("page out of account order: %+v", page)
				}
			}
			after0 = page[len(page)-1].Trip.Account
			got = append(got, page...)
		}
		if len(got) != len(trips) {
			t.Fatalf("%d settled rides, want %d: %+v", len(got), len(trips), got)
		}
		for _, r := range got {
			l, ok := byID[r.Trip.ID]
			if !ok || r.Passenger != l.Passenger || r.Gift != l.Gift || r.Trip.Fare != l.Fare || r.Trip.Status != metro.Complete || !r.Trip.Entered.Equal(l.At.Truncate(time.Millisecond)) {
				t.Fatalf("ride %+v, ledger line %+v", r, l)
			}
		}
	})
}
