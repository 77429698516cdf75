package ridemore_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"piao/internal/app"
	"piao/internal/app/apptest"
	"piao/internal/benefits"
	"piao/internal/fault"
	"piao/internal/identity"
	"piao/internal/metro"
	"piao/internal/ridemore"
	"piao/internal/tenant"
)

var cst = benefits.Shanghai

// rewardWorld is a demo app with a single-ride reward campaign, the
// Ningbo rule over it, and four riders.
type rewardWorld struct {
	a      *app.App
	rule   ridemore.Rule
	riders []int64
	seq    int
}

func newRewardWorld(t *testing.T) *rewardWorld {
	t.Helper()
	ctx := context.Background()
	a := apptest.NewDemo(t)
	bs := a.BenefitsStore
	at := time.Date(2026, 11, 1, 0, 0, 0, 0, cst)
	p := benefits.Product{Owner: "operator", Kind: benefits.SingleRide, NameZH: "多乘多惠奖励票", NameEN: "Ride-more reward", Feed: "nbmetro",
		Terms: benefits.Terms{Rides: 1}, Valid: benefits.Validity{Days: 60}, CreatedBy: "test", CreatedAt: at}
	if err := bs.CreateProduct(ctx, tenant.All(), &p); err != nil {
		t.Fatal(err)
	}
	c := benefits.Campaign{ProductID: p.ID, Owner: "operator", NameZH: "多乘多惠", NameEN: "Ride more, save more", Status: benefits.Approved,
		Starts: at, Ends: at.AddDate(1, 0, 0), Channels: []benefits.Channel{benefits.DirectChannel}, Stock: 1_000_000, CreatedBy: "test", CreatedAt: at, UpdatedAt: at}
	if err := bs.CreateCampaign(ctx, tenant.All(), &c, benefits.Event{At: at, By: "test", Action: "create", To: benefits.Approved}); err != nil {
		t.Fatal(err)
	}
	w := &rewardWorld{a: a, rule: ridemore.Ningbo("nb-test", c.ID, p.ID)}
	for i := range 4 {
		acct, err := a.Identity.CreateAccount(ctx, identity.NewAccount{Username: fmt.Sprintf("rider%d", i), Role: identity.Passenger, Password: "rider-password-2026"})
		if err != nil {
			t.Fatal(err)
		}
		w.riders = append(w.riders, acct.ID)
	}
	return w
}

// ride stores and settles n trips of account entered at the given hour
// of successive November days, paying net each, gift-paid or not.
func (w *rewardWorld) ride(t *testing.T, account int64, n, hour int, status metro.TripStatus, net int64, gift bool) {
	t.Helper()
	ctx := context.Background()
	var trips []metro.Trip
	for i := range n {
		w.seq++
		entered := time.Date(2026, 11, 1+i%30, hour, w.seq%60, 0, 0, cst)
		trips = append(trips, metro.Trip{ID: fmt.Sprintf("t-rm-%d", w.seq), Feed: "nbmetro", Account: account, Status: status,
			From: "nbmetro:GL", To: "nbmetro:QSP", Entered: entered, Exited: entered.Add(20 * time.Minute), Metres: 8800, Fare: 400})
	}
	if _, err := w.a.MetroStore.AddTrips(ctx, trips, nil); err != nil {
		t.Fatal(err)
	}
	var lines []metro.Settlement
	for _, tr := range trips {
		stored, err := w.a.MetroStore.Trip(ctx, tr.ID)
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, metro.Settlement{TripID: tr.ID, TripSeq: stored.Seq, Account: account, At: tr.Entered, Fare: 400, Passenger: net, Operator: 400 - net, Gift: gift})
	}
	if err := w.a.MetroStore.Settle(ctx, lines, nil); err != nil {
		t.Fatal(err)
	}
}

func (w *rewardWorld) issue(t *testing.T, now time.Time) (ridemore.IssueReport, error) {
	t.Helper()
	return ridemore.IssueMonthly(context.Background(), w.a.MetroStore, w.a.BenefitsStore, w.rule,
		ridemore.IssueOptions{Feed: "nbmetro", Month: ridemore.MustMonth("2026-11"), Page: 7}, now)
}

func (w *rewardWorld) held(t *testing.T, account int64) int {
	t.Helper()
	ts, err := w.a.BenefitsStore.Tickets(context.Background(), account)
	if err != nil {
		t.Fatal(err)
	}
	return len(ts)
}

func TestIssueMonthly(t *testing.T) {
	w := newRewardWorld(t)
	a, b, c, d := w.riders[0], w.riders[1], w.riders[2], w.riders[3]
	w.ride(t, a, 12, 8, metro.Complete, 400, false)  // 12 day rides: 6 tickets
	w.ride(t, b, 10, 21, metro.Complete, 400, false) // 10 evening rides: 10 tickets
	w.ride(t, b, 2, 9, metro.Complete, 400, false)   // 2 day rides: none
	w.ride(t, c, 20, 8, metro.Complete, 0, true)     // paid with gift tickets: not counted
	w.ride(t, d, 2, 8, metro.Complete, 400, false)   // 2 complete …
	w.ride(t, d, 5, 8, metro.NoExit, 400, false)     // … and 5 incomplete: none

	on := time.Date(2026, 12, 2, 10, 0, 0, 0, cst)
	rep, err := w.issue(t, on)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Rewards != 2 || rep.Tickets != 16 || rep.Issued != 16 || rep.Again != 0 || rep.Refused != 0 || rep.Accounts != 4 || rep.Rides != 51 {
		t.Fatalf("first run: %+v", rep)
	}
	if got := []int{w.held(t, a), w.held(t, b), w.held(t, c), w.held(t, d)}; got[0] != 6 || got[1] != 10 || got[2] != 0 || got[3] != 0 {
		t.Fatalf("wallets hold %v, want [6 10 0 0]", got)
	}
	ts, _ := w.a.BenefitsStore.Tickets(context.Background(), a)
	if days := ts[0].Window.Until.Sub(ts[0].Window.From); days < 59*24*time.Hour || days > 60*24*time.Hour {
		t.Fatalf("reward valid %v, want 60 days", days)
	}

	again, err := w.issue(t, on.Add(time.Hour))
	if err != nil || again.Issued != 0 || again.Again != 16 {
		t.Fatalf("second run: %+v %v", again, err)
	}

	// Late trips take a to 30 rides, the next tier (10 tickets): four runs
	// at once issue the 4 more between them, once.
	w.ride(t, a, 18, 8, metro.Complete, 400, false)
	var wg sync.WaitGroup
	reps := make([]ridemore.IssueReport, 4)
	for i := range reps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			if reps[i], err = w.issue(t, on.Add(2*time.Hour)); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	issued := 0
	for _, r := range reps {
		issued += r.Issued
		if r.Issued+r.Again != 20 {
			t.Fatalf("a concurrent run: %+v", r)
		}
	}
	if issued != 4 || w.held(t, a) != 10 {
		t.Fatalf("concurrent runs issued %d, a holds %d; want 4 and 10", issued, w.held(t, a))
	}

	for _, c := range []struct {
		now    time.Time
		reason string
	}{
		{time.Date(2026, 11, 30, 23, 0, 0, 0, cst), "issue_too_early"},
		{time.Date(2026, 12, 4, 0, 0, 0, 0, cst), "issue_window_closed"},
	} {
		if _, err := w.issue(t, c.now); fault.As(err) == nil || fault.As(err).Reason != c.reason {
			t.Errorf("%s: %v", c.reason, err)
		}
	}
	bad := w.rule
	bad.Count = &ridemore.CountRule{}
	*bad.Count = *w.rule.Count
	bad.Count.ValidDays = 30
	if _, err := ridemore.IssueMonthly(context.Background(), w.a.MetroStore, w.a.BenefitsStore, bad,
		ridemore.IssueOptions{Feed: "nbmetro", Month: ridemore.MustMonth("2026-11")}, on); fault.As(err) == nil || fault.As(err).Reason != "reward_validity_mismatch" {
		t.Errorf("validity mismatch: %v", err)
	}
}
