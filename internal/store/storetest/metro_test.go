package storetest_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"pgregory.net/rapid"

	"piao/internal/benefits"
	"piao/internal/fault"
	"piao/internal/ledger"
	"piao/internal/metro"
	"piao/internal/store/storetest"
	"piao/internal/tenant"
)

func mtTrip(id string, account int64, from, to string, entered time.Time, fare int64) metro.Trip {
	return metro.Trip{ID: id, Feed: "nbmetro", Account: account, Status: metro.Complete, From: from, To: to, FromLine: "nbmetro:1", ToLine: "nbmetro:1",
		InTap: id + "-in", OutTap: id + "-out", Entered: entered, Exited: entered.Add(20 * time.Minute), Metres: 5000, Fare: fare}
}

func TestMetroTapsAndTrips(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := context.Background()
		var taps []metro.Tap
		for acc := int64(1); acc <= 3; acc++ {
			for i := range 4 {
				dir := metro.In
				if i%2 == 1 {
					dir = metro.Out
				}
				taps = append(taps, metro.Tap{ID: fmt.Sprintf("T%d-%d", acc, i), Feed: "nbmetro", Account: acc, Station: "nbmetro:GL", Gate: "G1", Dir: dir, At: bnT0.Add(time.Duration(i) * time.Minute)})
			}
		}
		if n, err := s.Metro.AddTaps(ctx, taps); err != nil || n != 12 {
			t.Fatalf("added %d, %v", n, err)
		}
		if n, err := s.Metro.AddTaps(ctx, taps[:5]); err != nil || n != 0 {
			t.Fatalf("duplicates added %d, %v", n, err)
		}
		// A page of 6 holds accounts 1 and 2 whole; account 3 waits.
		page, err := s.Metro.OpenTaps(ctx, "nbmetro", 0, 6)
		if err != nil || len(page) != 4 || page[0].Account != 1 || page[3].Account != 1 {
			// 6 taps reach into account 2, which is cut, so only account 1 comes.
			t.Fatalf("page: %d taps, %v", len(page), err)
		}
		if !page[0].At.Equal(bnT0.Truncate(time.Millisecond)) || page[0].Dir != metro.In || page[0].Gate != "G1" {
			t.Fatalf("tap read back: %+v", page[0])
		}
		whole, err := s.Metro.OpenTaps(ctx, "nbmetro", 0, 2) // one account fills the page: all of it
		if err != nil || len(whole) != 4 {
			t.Fatalf("whole account: %d taps, %v", len(whole), err)
		}
		trips := []metro.Trip{mtTrip("t-T1-0", 1, "nbmetro:GL", "nbmetro:DMK", bnT0, 200), mtTrip("t-T1-2", 1, "nbmetro:GL", "nbmetro:XP", bnT0.Add(2*time.Minute), 500)}
		if n, err := s.Metro.AddTrips(ctx, trips, []string{"T1-0", "T1-1", "T1-2", "T1-3"}); err != nil || n != 2 {
			t.Fatalf("trips added %d, %v", n, err)
		}
		if n, err := s.Metro.AddTrips(ctx, trips, nil); err != nil || n != 0 {
			t.Fatalf("trips again added %d, %v", n, err)
		}
		rest, err := s.Metro.OpenTaps(ctx, "nbmetro", 0, 100)
		if err != nil || len(rest) != 8 || rest[0].Account != 2 {
			t.Fatalf("open after clearing: %d, %v", len(rest), err)
		}
		got, err := s.Metro.Trip(ctx, "t-T1-2")
		if err != nil || got.Fare != 500 || got.To != "nbmetro:XP" || !got.Entered.Equal(bnT0.Add(2*time.Minute).Truncate(time.Millisecond)) || got.Seq == 0 || got.Status != metro.Complete {
			t.Fatalf("trip: %+v, %v", got, err)
		}
		if _, err := s.Metro.Trip(ctx, "nope"); !fault.Is(err, fault.NotFound) {
			t.Fatalf("missing trip: %v", err)
		}
		mine, err := s.Metro.AccountTrips(ctx, 1, bnT0, bnT0.Add(time.Minute))
		if err != nil || len(mine) != 1 || mine[0].ID != "t-T1-0" {
			t.Fatalf("account trips: %+v, %v", mine, err)
		}
	})
}

// mtWorld stores a voucher campaign with tickets for two accounts, a
// free-ride day on line 3 and a teachers' subsidy, and trips for riders
// with and without them.
type mtWorld struct {
	acc       []int64
	voucher   benefits.Campaign
	free      benefits.Campaign
	subsidy   benefits.Campaign
	trips     []metro.Trip
	totalFare int64
}

func mtSetUp(t testing.TB, s storetest.Stores, vouchers int) mtWorld {
	t.Helper()
	ctx := context.Background()
	w := mtWorld{acc: bnAccounts(t, s, "rider", 2)}
	w.voucher = bnCampaign(t, s, 100, 0) // ¥2 off a fare of at least ¥3
	for i := range vouchers {
		if res, err := s.Benefits.Issue(ctx, bnT0, []benefits.IssueRequest{{CampaignID: w.voucher.ID, Account: w.acc[i%2], Channel: benefits.ClaimChannel}}); err != nil || res[0].Err != nil {
			t.Fatal(err, res[0].Err)
		}
	}
	auto := func(owner string, p benefits.Product) benefits.Campaign {
		p.Owner, p.Feed, p.NameZH, p.CreatedBy, p.CreatedAt = owner, "nbmetro", "自动", "test", bnT0
		if err := s.Benefits.CreateProduct(ctx, tenant.All(), &p); err != nil {
			t.Fatal(err)
		}
		c := benefits.Campaign{ProductID: p.ID, Owner: owner, NameZH: "自动优惠", Status: benefits.Approved,
			Starts: bnT0.Add(-time.Hour), Ends: bnT0.Add(24 * time.Hour), Channels: []benefits.Channel{benefits.AutoChannel}, CreatedBy: "test", CreatedAt: bnT0, UpdatedAt: bnT0}
		if err := s.Benefits.CreateCampaign(ctx, tenant.All(), &c, benefits.Event{At: bnT0, By: "test", Action: "create", To: benefits.Approved}); err != nil {
			t.Fatal(err)
		}
		return c
	}
	w.free = auto("operator", benefits.Product{Kind: benefits.FixedPrice, Terms: benefits.Terms{FixedPrice: 0, Exclusive: true}, Scope: benefits.Scope{Lines: []string{"nbmetro:3"}}})
	w.subsidy = auto("subsidy:teacher", benefits.Product{Kind: benefits.Percentage, Terms: benefits.Terms{PercentOff: 50}, Scope: benefits.Scope{Riders: []string{"teacher"}}})
	if err := s.Metro.GrantGroups(ctx, []metro.AccountGroup{{Account: 777, GroupGrant: metro.GroupGrant{Group: "teacher", Window: benefits.Window{From: bnT0.Add(-time.Hour), Until: bnT0.Add(time.Hour)}}}}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		at   time.Time
		want string
	}{{bnT0.Add(-2 * time.Hour), ""}, {bnT0.Add(-time.Hour), "teacher"}, {bnT0, "teacher"}, {bnT0.Add(time.Hour), ""}} {
		if got, err := s.Metro.RiderGroups(ctx, 777, c.at); err != nil || strings.Join(got, ",") != c.want {
			t.Errorf("RiderGroups(777, %s) = %v, %v; want %q", c.at, got, err, c.want)
		}
	}
	if got, err := s.Metro.RiderGroups(ctx, 778, bnT0); err != nil || len(got) != 0 {
		t.Errorf("RiderGroups of an account without grants = %v, %v", got, err)
	}
	riders := []int64{w.acc[0], w.acc[1], 777, 900001, 900002}
	for i := range 40 {
		tr := mtTrip(fmt.Sprintf("t-%03d", i), riders[i%len(riders)], "nbmetro:GL", "nbmetro:DMK", bnT0.Add(time.Duration(i)*time.Minute), int64(200+100*(i%4)))
		if i%7 == 0 {
			tr.FromLine, tr.ToLine = "nbmetro:3", "nbmetro:3"
		}
		w.trips = append(w.trips, tr)
		w.totalFare += tr.Fare
	}
	if _, err := s.Metro.AddTrips(ctx, w.trips, nil); err != nil {
		t.Fatal(err)
	}
	return w
}

// TestMetroSettleExactlyOnce races four settlement runs over the same
// trips: every trip gets one ledger line, tickets are used once per line,
// and a later run settles nothing.
func TestMetroSettleExactlyOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := context.Background()
		w := mtSetUp(t, s, 6)
		var wg sync.WaitGroup
		reps := make([]metro.SettleReport, 4)
		for g := range reps {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var err error
				if reps[g], err = metro.Settle(ctx, s.Metro, "nbmetro", metro.SettleOptions{Batch: 7}); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		settled := 0
		for _, r := range reps {
			settled += r.Trips
		}
		if settled != len(w.trips) {
			t.Fatalf("runs settled %d trips in all, want %d", settled, len(w.trips))
		}
		var fare, vouchersUsed int64
		for _, tr := range w.trips {
			l, err := s.Metro.Settlement(ctx, tr.ID)
			if err != nil {
				t.Fatal(err)
			}
			if l.Passenger+l.Operator+l.Merchant+l.Subsidy != l.Fare || l.Fare != tr.Fare || l.Account != tr.Account || !l.At.Equal(tr.Entered.Truncate(time.Millisecond)) {
				t.Fatalf("ledger line %+v for trip %+v", l, tr)
			}
			fare += l.Fare
			for _, a := range l.Applied {
				switch a.CampaignID {
				case w.voucher.ID:
					vouchersUsed++
					if a.TicketID == 0 {
						t.Fatalf("voucher use without a ticket: %+v", l)
					}
				case w.free.ID:
					if l.Passenger != 0 || tr.FromLine != "nbmetro:3" {
						t.Fatalf("free ride: %+v on %+v", l, tr)
					}
				case w.subsidy.ID:
					if tr.Account != 777 || l.Subsidy != a.Saving {
						t.Fatalf("subsidy: %+v on %+v", l, tr)
					}
				}
			}
		}
		if fare != w.totalFare {
			t.Fatalf("ledger fares %d, trips %d", fare, w.totalFare)
		}
		if vouchersUsed != 6 {
			t.Fatalf("%d vouchers used, 6 held by riders with eligible trips", vouchersUsed)
		}
		c, err := s.Benefits.Campaign(ctx, tenant.All(), w.voucher.ID)
		if err != nil || c.Uses != 6 || c.Spent != 6*200 {
			t.Fatalf("voucher campaign counters: %+v, %v", c, err)
		}
		for _, a := range w.acc {
			ts, err := s.Benefits.Tickets(ctx, a)
			if err != nil {
				t.Fatal(err)
			}
			for _, tk := range ts {
				if tk.RidesLeft != 0 || tk.State != benefits.Consumed {
					t.Fatalf("ticket not consumed once: %+v", tk)
				}
			}
		}
		again, err := metro.Settle(ctx, s.Metro, "nbmetro", metro.SettleOptions{})
		if err != nil || again.Trips != 0 {
			t.Fatalf("second run: %+v, %v", again, err)
		}
		// A ledger line written twice is refused whole.
		l, _ := s.Metro.Settlement(ctx, w.trips[0].ID)
		if err := s.Metro.Settle(ctx, []metro.Settlement{l}, nil); !fault.Is(err, fault.Conflict) {
			t.Fatalf("settling a settled trip: %v", err)
		}
		stats, err := s.Metro.UseStats(ctx, w.free.ID, bnT0.Add(-time.Hour), bnT0.Add(time.Hour))
		if err != nil || len(stats) == 0 {
			t.Fatalf("free-ride stats: %+v, %v", stats, err)
		}
		n := 0
		for _, st := range stats {
			n += st.Trips
			if st.From != "nbmetro:GL" || st.To != "nbmetro:DMK" || st.Hour != 9 && st.Hour != 10 {
				t.Fatalf("stats row %+v (entries 09:30–10:10 Shanghai time)", st)
			}
		}
		if n != 6 { // trips 0, 7, 14, 21, 28, 35 are on line 3
			t.Fatalf("%d free rides counted, want 6", n)
		}
	})
}

// TestMetroSettleBudget checks a campaign budget holds when ledger lines
// would pass it, and that a conflicting batch writes nothing.
func TestMetroSettleBudget(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := context.Background()
		w := mtSetUp(t, s, 0)
		if _, err := s.Benefits.UpdateCampaign(ctx, tenant.All(), w.free.ID, func(c *benefits.Campaign) (benefits.Event, error) {
			c.BudgetUses = 2
			return benefits.Event{At: bnT0, By: "test", Action: "budget", To: c.Status}, nil
		}); err != nil {
			t.Fatal(err)
		}
		rep, err := metro.Settle(ctx, s.Metro, "nbmetro", metro.SettleOptions{Batch: 5})
		if err != nil || rep.Trips != len(w.trips) {
			t.Fatalf("settle: %+v, %v", rep, err)
		}
		c, err := s.Benefits.Campaign(ctx, tenant.All(), w.free.ID)
		if err != nil || c.Uses != 2 {
			t.Fatalf("free-ride uses %d (budget 2), %v", c.Uses, err)
		}
		// Lines that would pass the budget are refused whole.
		tr := mtTrip("t-extra", 900001, "nbmetro:GL", "nbmetro:DMK", bnT0, 300)
		if _, err := s.Metro.AddTrips(ctx, []metro.Trip{tr}, nil); err != nil {
			t.Fatal(err)
		}
		stored, _ := s.Metro.Trip(ctx, tr.ID)
		line := metro.Settlement{TripID: tr.ID, TripSeq: stored.Seq, Account: tr.Account, At: tr.Entered, Fare: 300, Operator: 300,
			Applied: []benefits.Applied{{CampaignID: w.free.ID, Kind: benefits.FixedPrice, Saving: 300}}}
		if err := s.Metro.Settle(ctx, []metro.Settlement{line}, nil); !fault.Is(err, fault.Conflict) {
			t.Fatalf("passing the budget: %v", err)
		}
		if _, err := s.Metro.Settlement(ctx, tr.ID); !fault.Is(err, fault.NotFound) {
			t.Fatalf("a refused batch left a line: %v", err)
		}
	})
}

// TestMetroResettleChangesNothing is the property of SPEC M3: however a
// settlement is interrupted and run again, every trip ends with the ledger
// line one uninterrupted pass of the in-memory settler over the same
// holdings gives, and running it once more changes nothing. It runs on
// SQLite (a fresh database per case); TestMetroSettleExactlyOnce covers
// PostgreSQL.
func TestMetroResettleChangesNothing(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		vouchers := rapid.IntRange(0, 12).Draw(rt, "vouchers")
		batch := rapid.IntRange(1, 15).Draw(rt, "batch")
		stopAfter := rapid.IntRange(0, 40).Draw(rt, "stop after")
		bg := context.Background()
		s := storetest.OpenSQLite(t)
		w := mtSetUp(t, s, vouchers)

		h, err := s.Metro.Holdings(bg, "nbmetro", bnT0)
		if err != nil {
			rt.Fatal(err)
		}
		stored, err := s.Metro.Unsettled(bg, "nbmetro", 0, 1000)
		if err != nil || len(stored) != len(w.trips) {
			rt.Fatalf("%d trips stored, %v", len(stored), err)
		}
		oracle := metro.NewSettler(h, benefits.Shanghai)
		want := map[string]metro.Settlement{}
		for _, tr := range stored {
			want[tr.ID] = oracle.Settle(tr)
		}

		ctx, cancel := context.WithCancel(bg)
		_, err = metro.Settle(ctx, s.Metro, "nbmetro", metro.SettleOptions{Batch: batch, Progress: func(n int) {
			if n >= stopAfter {
				cancel()
			}
		}})
		cancel()
		if err != nil && ctx.Err() == nil {
			rt.Fatal(err)
		}
		if _, err := metro.Settle(bg, s.Metro, "nbmetro", metro.SettleOptions{Batch: batch}); err != nil {
			rt.Fatal(err)
		}
		again, err := metro.Settle(bg, s.Metro, "nbmetro", metro.SettleOptions{Batch: batch})
		if err != nil || again.Trips != 0 {
			rt.Fatalf("third run settled %d, %v", again.Trips, err)
		}
		for _, tr := range w.trips {
			got, err := s.Metro.Settlement(bg, tr.ID)
			if err != nil {
				rt.Fatal(err)
			}
			w := want[tr.ID]
			if got.Fare != w.Fare || got.Passenger != w.Passenger || got.Operator != w.Operator || got.Merchant != w.Merchant || got.Subsidy != w.Subsidy ||
				fmt.Sprint(got.Applied) != fmt.Sprint(w.Applied) {
				rt.Fatalf("trip %s: settled %+v, one clean pass %+v", tr.ID, got, w)
			}
		}
	})
}

// TestMetroSettleTicketRides checks the rides a batch of ledger lines
// takes off tickets: more tickets than one statement holds are all used,
// and a line using a ride a ticket no longer has refuses the whole batch.
func TestMetroSettleTicketRides(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := context.Background()
		w := mtSetUp(t, s, 0)
		const n = 230 // over two statements' worth of tickets
		v := bnCampaign(t, s, n, 0)
		var trips []metro.Trip
		for i := range n {
			trips = append(trips, mtTrip(fmt.Sprintf("t-rides-%03d", i), w.acc[0], "nbmetro:GL", "nbmetro:DMK", bnT0.Add(time.Duration(i)*time.Second), 300))
			if res, err := s.Benefits.Issue(ctx, bnT0, []benefits.IssueRequest{{CampaignID: v.ID, Account: w.acc[0], Channel: benefits.ClaimChannel}}); err != nil || res[0].Err != nil {
				t.Fatal(err, res[0].Err)
			}
		}
		if _, err := s.Metro.AddTrips(ctx, trips, nil); err != nil {
			t.Fatal(err)
		}
		tickets, err := s.Benefits.Tickets(ctx, w.acc[0])
		if err != nil || len(tickets) != n {
			t.Fatalf("%d tickets, %v", len(tickets), err)
		}
		line := func(tr metro.Trip, ticket int64) metro.Settlement {
			tr, err := s.Metro.Trip(ctx, tr.ID)
			if err != nil {
				t.Fatal(err)
			}
			return metro.Settlement{TripID: tr.ID, TripSeq: tr.Seq, Account: tr.Account, At: tr.Entered, Fare: tr.Fare, Passenger: tr.Fare - 200, Operator: 200,
				Applied: []benefits.Applied{{TicketID: ticket, CampaignID: v.ID, Kind: benefits.AmountOff, Saving: 200}}}
		}
		// The last two lines use the same one-ride ticket: nothing is written.
		var lines []metro.Settlement
		for i, tr := range trips {
			lines = append(lines, line(tr, tickets[min(i, n-2)].ID))
		}
		if err := s.Metro.Settle(ctx, lines, nil); !fault.Is(err, fault.Conflict) {
			t.Fatalf("a ticket used twice: %v", err)
		}
		if _, err := s.Metro.Settlement(ctx, trips[0].ID); !fault.Is(err, fault.NotFound) {
			t.Fatalf("a refused batch left a ledger line: %v", err)
		}
		if after, _ := s.Benefits.Tickets(ctx, w.acc[0]); after[0].RidesLeft != 1 || after[0].State != benefits.Held {
			t.Fatalf("a refused batch used a ticket: %+v", after[0])
		}
		lines[n-1] = line(trips[n-1], tickets[n-1].ID)
		if err := s.Metro.Settle(ctx, lines, nil); err != nil {
			t.Fatal(err)
		}
		after, err := s.Benefits.Tickets(ctx, w.acc[0])
		if err != nil {
			t.Fatal(err)
		}
		for _, tk := range after {
			if tk.RidesLeft != 0 || tk.State != benefits.Consumed {
				t.Fatalf("ticket not used once: %+v", tk)
			}
		}
		if c, err := s.Benefits.Campaign(ctx, tenant.All(), v.ID); err != nil || c.Uses != n || c.Spent != n*200 {
			t.Fatalf("voucher counters: %+v, %v", c, err)
		}
	})
}

// interloper is a metro store where, as the first batch is written,
// another writer settles a trip of the second batch with a ticket the
// run's holdings still count as unused.
type interloper struct {
	metro.Store
	once  sync.Once
	other func() error
}

func (s *interloper) Settle(ctx context.Context, lines []metro.Settlement, entry *ledger.Entry) error {
	var err error
	s.once.Do(func() { err = s.other() })
	if err != nil {
		return err
	}
	return s.Store.Settle(ctx, lines, entry)
}

// TestMetroSettleConflictInFlight checks a run whose next batch was
// settled in memory while a write met a conflict: both batches are settled
// again from the store's state, nothing twice and no ticket over-used.
func TestMetroSettleConflictInFlight(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := context.Background()
		w := mtSetUp(t, s, 4) // two one-ride vouchers each for acc[0] and acc[1]
		tickets, err := s.Benefits.Tickets(ctx, w.acc[0])
		if err != nil || len(tickets) != 2 {
			t.Fatalf("%d tickets, %v", len(tickets), err)
		}
		taken, err := s.Metro.Trip(ctx, w.trips[5].ID) // acc[0]'s, fare ¥3, in the second batch of 5
		if err != nil || taken.Account != w.acc[0] {
			t.Fatalf("trip %+v, %v", taken, err)
		}
		st := &interloper{Store: s.Metro, other: func() error {
			return s.Metro.Settle(ctx, []metro.Settlement{{TripID: taken.ID, TripSeq: taken.Seq, Account: taken.Account, At: taken.Entered, Fare: taken.Fare, Passenger: taken.Fare - 200, Operator: 200,
				Applied: []benefits.Applied{{TicketID: tickets[1].ID, CampaignID: w.voucher.ID, Kind: benefits.AmountOff, Saving: 200}}}}, nil)
		}}
		rep, err := metro.Settle(ctx, st, "nbmetro", metro.SettleOptions{Batch: 5})
		if err != nil || rep.Trips != len(w.trips)-1 || rep.Retries != 1 { // the second batch, once; the third is settled again in memory
			t.Fatalf("settle: %+v, %v", rep, err)
		}
		used := map[int64]int{}
		for _, tr := range w.trips {
			l, err := s.Metro.Settlement(ctx, tr.ID)
			if err != nil {
				t.Fatalf("trip %s: %v", tr.ID, err)
			}
			for _, a := range l.Applied {
				if a.TicketID != 0 {
					used[a.TicketID]++
				}
			}
		}
		if len(used) != 4 {
			t.Fatalf("tickets used %v, want each of the 4 once", used)
		}
		for id, n := range used {
			if n != 1 {
				t.Fatalf("ticket %d used %d times", id, n)
			}
		}
		if c, err := s.Benefits.Campaign(ctx, tenant.All(), w.voucher.ID); err != nil || c.Uses != 4 {
			t.Fatalf("voucher uses %+v, %v", c, err)
		}
	})
}

// TestCampaignStatsFromLedger settles trips with a voucher campaign, a
// free-ride day and a subsidy, and checks each campaign's statistics
// against the ledger lines: an automatic campaign's rides, riders and
// savings are its uses in the ledger, every rider it benefited counts as
// issued, holder and user, and the hourly counts add up to the totals.
func TestCampaignStatsFromLedger(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := context.Background()
		w := mtSetUp(t, s, 6)
		if _, err := metro.Settle(ctx, s.Metro, "nbmetro", metro.SettleOptions{Batch: 7}); err != nil {
			t.Fatal(err)
		}
		type tally struct {
			rides, riders int
			saved         int64
			first         map[int64]time.Time // each rider's first benefited trip
			rideHours     map[time.Time]int
		}
		want := map[int64]*tally{}
		for _, c := range []benefits.Campaign{w.voucher, w.free, w.subsidy} {
			want[c.ID] = &tally{first: map[int64]time.Time{}, rideHours: map[time.Time]int{}}
		}
		for _, tr := range w.trips {
			l, err := s.Metro.Settlement(ctx, tr.ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range l.Applied {
				tl := want[a.CampaignID]
				tl.rides++
				tl.saved += a.Saving
				tl.rideHours[l.At.Truncate(time.Hour).UTC()]++
				if f, ok := tl.first[l.Account]; !ok || l.At.Before(f) {
					tl.first[l.Account] = l.At
				}
			}
		}
		for _, tl := range want {
			tl.riders = len(tl.first)
		}
		// Trips 0, 7, 14, 21, 28 and 35 are on line 3, taken by all five riders.
		if f := want[w.free.ID]; f.rides != 6 || f.riders != 5 {
			t.Fatalf("free rides in the ledger: %d by %d riders, want 6 by 5", f.rides, f.riders)
		}
		for _, c := range []benefits.Campaign{w.free, w.subsidy} {
			tl := want[c.ID]
			st, err := s.Benefits.Stats(ctx, tenant.All(), c.ID, bnT0.Add(time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			if !st.Automatic || st.Rides != tl.rides || st.Spent != tl.saved || st.Holders != tl.riders || st.Issued != tl.riders || st.Used != tl.riders ||
				st.ByChannel[benefits.AutoChannel] != tl.riders || st.Conversion != 1 || st.Expired != 0 {
				t.Errorf("campaign %d stats %+v; the ledger has %d rides by %d riders saving %d", c.ID, st, tl.rides, tl.riders, tl.saved)
			}
			counters, err := s.Benefits.Campaign(ctx, tenant.All(), c.ID)
			if err != nil || counters.Uses != st.Rides || counters.Spent != st.Spent {
				t.Errorf("campaign %d counters uses %d spent %d, stats %d rides %d saved, %v", c.ID, counters.Uses, counters.Spent, st.Rides, st.Spent, err)
			}
			firstHours := map[time.Time]int{}
			for _, at := range tl.first {
				firstHours[at.Truncate(time.Hour).UTC()]++
			}
			for _, h := range st.Hourly {
				hour := h.Hour.UTC()
				if h.Rides != tl.rideHours[hour] || h.Issued != firstHours[hour] {
					t.Errorf("campaign %d hour %s: issued %d rides %d, ledger %d and %d", c.ID, hour, h.Issued, h.Rides, firstHours[hour], tl.rideHours[hour])
				}
				delete(tl.rideHours, hour)
				delete(firstHours, hour)
			}
			if len(tl.rideHours)+len(firstHours) > 0 {
				t.Errorf("campaign %d: hours missing from the statistics: rides %v, issued %v", c.ID, tl.rideHours, firstHours)
			}
		}
		// A ticket campaign's rides settled from trips are in its hours too.
		st, err := s.Benefits.Stats(ctx, tenant.All(), w.voucher.ID, bnT0.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		rides, issued := 0, 0
		for _, h := range st.Hourly {
			rides, issued = rides+h.Rides, issued+h.Issued
		}
		if st.Automatic || st.Issued != 6 || st.Used != 6 || st.Rides != want[w.voucher.ID].rides || rides != st.Rides || issued != st.Issued || st.Spent != want[w.voucher.ID].saved {
			t.Errorf("voucher stats %+v (hourly: %d issued, %d rides); ledger %+v", st, issued, rides, *want[w.voucher.ID])
		}
	})
}
