package demo_test

import (
	"context"
	"testing"
	"time"

	"piao/internal/demo"
	"piao/internal/fault"
	"piao/internal/identity"
	"piao/internal/network"
	"piao/internal/store/storetest"
)

var today = network.MustDate("2026-11-22")

func service(t *testing.T, b *network.Bundle, number string) network.Service {
	t.Helper()
	for _, s := range b.Services {
		if s.Number == number {
			return s
		}
	}
	t.Fatalf("no service %s", number)
	return network.Service{}
}

func TestRailMatchesSeed004(t *testing.T) {
	b := demo.Rail(today, demo.Days)
	z := service(t, b, "Z66")
	if len(z.Stops) != 2 || z.Stops[0].StationID != "cr:NCG" || z.Stops[1].StationID != "cr:BXP" {
		t.Fatalf("Z66 must run non-stop NCG→BXP: %+v", z.Stops)
	}
	if z.Stops[0].Depart != 20*3600+6*60 || z.Stops[1].Arrive != 86400+7*3600+32*60 {
		t.Errorf("Z66 times %d→%d, want 20:06 → 07:32 next day", z.Stops[0].Depart, z.Stops[1].Arrive)
	}
	berths := map[string]int{}
	seats := map[string]int{}
	for _, ct := range b.CarTypes {
		seats[ct.Code] = len(ct.Seats)
	}
	for _, c := range z.Cars {
		berths[c.CarType] += seats[c.CarType]
		if c.CarType != "YW" && c.CarType != "RW" {
			t.Errorf("Z66 carries %s; it is all sleepers", c.CarType)
		}
	}
	if r := float64(berths["YW"]) / float64(berths["RW"]); r < 2.9 || r > 3.2 {
		t.Errorf("Z66 hard:soft berths %d:%d = %.2f, want about 3:1", berths["YW"], berths["RW"], r)
	}

	tr := service(t, b, "T168")
	if tr.Stops[0].Depart != 19*3600+7*60 || tr.Stops[len(tr.Stops)-1].Arrive != 86400+13*3600 || len(tr.Stops) < 4 {
		t.Errorf("T168 must run 19:07 → 13:00 next day with intermediate stops: %+v", tr.Stops)
	}
	g := service(t, b, "G488")
	if len(g.Stops) < 5 {
		t.Errorf("G488 has %d stops, want several intermediate ones", len(g.Stops))
	}
	for _, s := range []network.Service{z, tr, g} {
		for i := 1; i < len(s.Stops); i++ {
			if s.Stops[i].Arrive < s.Stops[i-1].Depart || s.Stops[i].Depart < s.Stops[i].Arrive {
				t.Errorf("%s: times go backwards at stop %d", s.Number, i+1)
			}
		}
	}
	cal := b.Calendars[0]
	if n := len(cal.RunningDates(today.AddDays(-5), today.AddDays(40))); n != demo.Days {
		t.Errorf("trains run on %d days, want %d", n, demo.Days)
	}
}

func TestLowerBerthsDearer(t *testing.T) {
	b := demo.Rail(today, demo.Days)
	fare := map[network.Berth]int64{}
	for _, f := range b.Fares {
		if f.ServiceID == "cr:Z66" && f.SeatClass == network.HardSleeper {
			fare[f.Berth] = f.Fen
		}
		if f.Fen%50 != 0 {
			t.Fatalf("fare %d fen is not rounded to ¥0.5", f.Fen)
		}
	}
	gap := fare[network.Lower] - fare[network.Upper]
	if !(fare[network.Lower] > fare[network.Middle] && fare[network.Middle] > fare[network.Upper]) || gap < 800 || gap > 1200 {
		t.Errorf("Z66 hard sleeper fares %v: want lower > middle > upper with a gap of about ¥10", fare)
	}
}

func TestMetroLikeNingbo(t *testing.T) {
	b := demo.Metro()
	if len(b.Lines) < 3 {
		t.Fatalf("%d metro lines, want at least 3", len(b.Lines))
	}
	onLines := map[string]int{}
	for _, l := range b.Lines {
		for _, s := range l.Stations {
			onLines[s.StationID]++
		}
	}
	transfers := 0
	for _, n := range onLines {
		if n > 1 {
			transfers++
		}
	}
	if transfers < 2 {
		t.Errorf("%d transfer stations, want at least 2", transfers)
	}
	if err := network.ValidateBands(b.FareBands); err != nil {
		t.Fatal(err)
	}
	// Gaoqiao West (line 1) to Qingshuipu (line 2) changes at Gulou.
	p, err := network.NewGraph(b.Lines).ShortestPath("nbmetro:GQX", "nbmetro:QSP")
	if err != nil {
		t.Fatal(err)
	}
	fen, _ := network.BandFare(b.FareBands, p.Metres)
	if p.Transfers != 1 || p.Metres != 7200+8800 || fen != 500 {
		t.Errorf("GQX→QSP: %d m, %d transfers, %d fen; want 16000 m via Gulou, ¥5", p.Metres, p.Transfers, fen)
	}
}

func TestSeedIsIdempotent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := context.Background()
		ids := identity.NewService(s.Identity, nil)
		ids.Now = func() time.Time { return time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC) }
		ids.Params = identity.Params{Memory: 1024, Time: 1, Threads: 1}
		first, err := demo.Seed(ctx, s.Network, ids, today)
		if err != nil {
			t.Fatal(err)
		}
		// Every role's login but the merchants', which their onboarding
		// makes (TestSeedMerchants).
		operatorSide := 0
		for _, l := range demo.Logins {
			if l.Merchant == 0 {
				operatorSide++
			}
		}
		if first.AccountsCreated != operatorSide || first.Rail.Unchanged {
			t.Fatalf("first seed: %+v", first)
		}
		again, err := demo.Seed(ctx, s.Network, ids, today)
		if err != nil {
			t.Fatal(err)
		}
		if !again.Rail.Unchanged || !again.Metro.Unchanged || again.AccountsCreated != 0 {
			t.Fatalf("second seed wrote again: %+v", again)
		}
		for _, l := range demo.Logins {
			if l.Merchant != 0 {
				continue
			}
			if _, _, err := ids.Login(ctx, l.Username, l.Password, identity.APIToken); err != nil {
				t.Errorf("demo login %s: %v", l.Username, err)
			}
		}
		tts, err := (&network.Catalog{Store: s.Network}).Timetables(ctx, "Z66", today.AddDays(3))
		if err != nil || len(tts) != 1 || tts[0].DurationMin != 11*60+26 {
			t.Fatalf("Z66 timetable after seeding: %+v %v", tts, err)
		}
		// The trains ran the PastDays before too (the demo's month of
		// bookings is on them), and run Days from today.
		for d, runs := range map[network.Date]bool{today.AddDays(-demo.PastDays): true, today.AddDays(-demo.PastDays - 1): false,
			today.AddDays(demo.Days - 1): true, today.AddDays(demo.Days): false} {
			tts, err := (&network.Catalog{Store: s.Network}).Timetables(ctx, "Z66", d)
			if runs && (err != nil || len(tts) != 1) || !runs && (err == nil || fault.As(err).Reason != "train_not_running") {
				t.Errorf("Z66 on %s: %d timetables, %v; want it running: %v", d, len(tts), err, runs)
			}
		}
	})
}
