package demo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"piao/internal/benefits"
	"piao/internal/fault"
	"piao/internal/governance"
	"piao/internal/identity"
	"piao/internal/metro"
	"piao/internal/tenant"
)

// MetroRiders is how many riders the demo's metro day has.
const MetroRiders = 3000

// MetroDay is what SeedMetroDay made.
type MetroDay struct {
	CampaignID int64
	Taps       int
	Trips      int
	Benefited  int
}

// SeedMetroDay gives the demo a day of metro riding to look at: a line 3
// free-ride day (an automatic campaign, yesterday and today) and
// yesterday's gate taps of riders riders on the demo network, sent through
// the gate ingest, cleared into trips and settled as the back office
// would. The console's statistics page of the campaign then has entries,
// exits and hours to chart. It does nothing when the demo riders' first
// trip is stored already.
func SeedMetroDay(ctx context.Context, bs *benefits.Service, ms *metro.Service, ids *identity.Service, now time.Time, riders int) (MetroDay, error) {
	var out MetroDay
	if riders <= 0 {
		return out, nil
	}
	if _, err := ms.Trip(ctx, "t-"+demoTapID(firstDemoRider, 0)+"-in"); err == nil || !fault.Is(err, fault.NotFound) {
		return out, err
	}
	admin, err := ids.Store.AccountByLogin(ctx, "admin")
	if err != nil {
		return out, fmt.Errorf("demo metro day: %w", err)
	}
	reviewer, err := ids.Store.AccountByLogin(ctx, "reviewer")
	if err != nil {
		return out, fmt.Errorf("demo metro day: %w", err)
	}
	by, rev := governance.Actor(admin.ID, admin.Username), governance.Actor(reviewer.ID, reviewer.Username)
	local := now.In(benefits.Shanghai)
	today := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, benefits.Shanghai)
	yesterday := today.AddDate(0, 0, -1)

	p, err := bs.CreateProduct(ctx, tenant.All(), benefits.Product{Kind: benefits.FixedPrice, NameZH: "3号线免费乘车日", NameEN: "Line 3 free-ride day", Feed: MetroFeed,
		Terms: benefits.Terms{FixedPrice: 0, Exclusive: true}, Scope: benefits.Scope{Lines: []string{MetroFeed + ":L3"}}, Valid: benefits.Validity{Days: 1}}, "operator", by)
	if err != nil {
		return out, fmt.Errorf("demo free-ride product: %w", err)
	}
	c, err := bs.CreateCampaign(ctx, tenant.All(), benefits.Campaign{ProductID: p.ID, NameZH: "3号线免费乘车日", NameEN: "Line 3 free-ride day",
		Starts: yesterday, Ends: today.AddDate(0, 0, 1), Channels: []benefits.Channel{benefits.AutoChannel}}, "operator", by)
	if err != nil {
		return out, fmt.Errorf("demo free-ride campaign: %w", err)
	}
	if _, err := bs.Act(ctx, tenant.All(), c.ID, benefits.Submit, by, ""); err != nil {
		return out, err
	}
	if _, err := bs.Act(ctx, tenant.All(), c.ID, benefits.Approve, rev, ""); err != nil {
		return out, err
	}
	out.CampaignID = c.ID

	taps := dayOfTaps(yesterday, riders)
	for i := 0; i < len(taps); i += metro.MaxTapBatch {
		res, err := ms.Ingest(ctx, taps[i:min(i+metro.MaxTapBatch, len(taps))])
		if err != nil {
			return out, err
		}
		if len(res.Refused) > 0 {
			return out, fmt.Errorf("demo taps refused: %+v", res.Refused[0])
		}
		out.Taps += res.Added
	}
	cl, err := ms.Clear(ctx, MetroFeed, metro.ClearOptions{Until: now})
	if err != nil {
		return out, err
	}
	st, err := ms.Settle(ctx, MetroFeed, metro.SettleOptions{})
	if err != nil {
		return out, err
	}
	out.Trips, out.Benefited = cl.Trips, st.Benefited
	return out, nil
}

// dayOfTaps is a day of riding from day's midnight: each rider makes one
// to three journeys, mostly in the morning and evening peaks, a few
// leaving at the entry station or without tapping out. Riders are
// accounts firstDemoRider on, the same every time. Every tap falls within
// the day (a late journey starts by 23:00 and rides under an hour): the
// demo starts just after midnight too, when a tap past it would be in the
// future.
func dayOfTaps(day time.Time, riders int) []metro.Tap {
	var stations []string
	for _, l := range metroLines {
		for _, s := range l.stops {
			stations = append(stations, MetroFeed+":"+s.key)
		}
	}
	r := rand.New(rand.NewPCG(2026, 12))
	var taps []metro.Tap
	for i := range riders {
		acct := firstDemoRider + int64(i)
		at := day.Add(7*time.Hour + time.Duration(r.IntN(150))*time.Minute)
		for j := range 1 + r.IntN(3) {
			if j == 1 {
				at = day.Add(17*time.Hour + time.Duration(r.IntN(180))*time.Minute)
			} else if j == 2 {
				at = at.Add(time.Duration(60+r.IntN(120)) * time.Minute)
			}
			if last := day.Add(lastBoarding); at.After(last) {
				at = last
			}
			from, to := stations[r.IntN(len(stations))], stations[r.IntN(len(stations))]
			if r.IntN(50) == 0 {
				to = from
			}
			id := demoTapID(acct, j)
			taps = append(taps, metro.Tap{ID: id + "-in", Feed: MetroFeed, Account: acct, Station: from, Gate: "G01", Dir: metro.In, At: at})
			if r.IntN(100) > 0 {
				ride := time.Duration(8+r.IntN(50)) * time.Minute
				taps = append(taps, metro.Tap{ID: id + "-out", Feed: MetroFeed, Account: acct, Station: to, Gate: "G02", Dir: metro.Out, At: at.Add(ride)})
			}
			at = at.Add(time.Hour)
		}
	}
	return taps
}

// lastBoarding is the latest a demo journey starts after midnight; rides
// take under an hour, so its exit is still in the day.
const lastBoarding = 23 * time.Hour

// firstDemoRider is the account of the first demo rider.
const firstDemoRider = 900001

// demoTapID names the taps of a demo rider's journey j.
func demoTapID(acct int64, j int) string { return fmt.Sprintf("demo-%d-%d", acct, j) }
