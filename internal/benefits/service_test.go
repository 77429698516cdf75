package benefits_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"piao/internal/benefits"
	"piao/internal/fault"
	"piao/internal/identity"
	"piao/internal/store/storetest"
	"piao/internal/tenant"
	"piao/internal/testclock"
)

// svcEnv is a benefits service on a fresh SQLite database with the test
// metro's stations, a running service loop and n passenger accounts.
type svcEnv struct {
	svc      *benefits.Service
	store    benefits.Store
	clock    *testclock.Clock
	accounts []int64
}

// newSvcEnv returns a svcEnv with n accounts; configure, if given, changes the service's configuration first.
func newSvcEnv(t *testing.T, n int, configure ...func(*benefits.Config, storetest.Stores)) *svcEnv {
	t.Helper()
	st := storetest.OpenSQLite(t)
	clk := testclock.New(time.Date(2026, 12, 6, 10, 0, 0, 0, benefits.Shanghai))
	net := benefits.Network{Stations: map[string]bool{"m:A": true, "m:B": true}, Lines: map[string]bool{"m:L1": true}}
	cfg := benefits.Config{Now: clk.Now, GiftTTL: time.Hour, SweepEvery: 10 * time.Millisecond,
		Network: func(context.Context, string) (benefits.Network, error) { return net, nil }}
	for _, c := range configure {
		c(&cfg, st)
	}
	svc := benefits.NewService(st.Benefits, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { svc.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	e := &svcEnv{svc: svc, store: st.Benefits, clock: clk}
	for i := range n {
		a, err := st.Identity.CreateAccount(context.Background(), identity.Account{Username: fmt.Sprintf("p%d", i), DisplayName: "p", Role: identity.Passenger, PasswordHash: "x", CreatedAt: clk.Now()})
		if err != nil {
			t.Fatal(err)
		}
		e.accounts = append(e.accounts, a.ID)
	}
	// Wait for Run to take over, so claims go through the batching committer.
	for deadline := time.Now().Add(30 * time.Second); !svc.Running(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the service loop did not start within 30 s")
		}
	}
	return e
}

// running creates a product and a campaign, approved by a second operator.
func (e *svcEnv) running(t *testing.T, p benefits.Product, c benefits.Campaign) benefits.Campaign {
	t.Helper()
	ctx := context.Background()
	p.Feed = "m"
	p, err := e.svc.CreateProduct(ctx, tenant.All(), p, "operator", "account:1 (admin)")
	if err != nil {
		t.Fatal(err)
	}
	c.ProductID, c.Starts, c.Ends = p.ID, e.clock.Now().Add(-time.Minute), e.clock.Now().Add(24*time.Hour)
	if len(c.Channels) == 0 {
		c.Channels = []benefits.Channel{benefits.ClaimChannel}
	}
	if c.NameZH == "" {
		c.NameZH = "测试"
	}
	if c, err = e.svc.CreateCampaign(ctx, tenant.All(), c, "operator", "account:1 (admin)"); err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct {
		a  benefits.Action
		by string
	}{{benefits.Submit, "account:1 (admin)"}, {benefits.Approve, "account:2 (reviewer)"}} {
		if c, err = e.svc.Act(ctx, tenant.All(), c.ID, step.a, step.by, ""); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// TestServiceFlashClaim races 50 accounts, each claiming 5 times at once,
// through the batching committer for 60 tickets at 2 per person: exactly
// 60 are issued and nobody holds more than 2.
func TestServiceFlashClaim(t *testing.T) {
	e := newSvcEnv(t, 50)
	c := e.running(t, benefits.Product{Kind: benefits.SingleRide, NameZH: "单程", Valid: benefits.Validity{Days: 3}}, benefits.Campaign{Stock: 60, PerUser: 2})
	var wg sync.WaitGroup
	var granted atomic.Int64
	held := make([]atomic.Int64, len(e.accounts))
	for i, a := range e.accounts {
		for range 5 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := e.svc.Claim(context.Background(), c.ID, a)
				switch reason := fault.As(err).Reason; {
				case err == nil:
					granted.Add(1)
					held[i].Add(1)
				case reason != "sold_out" && reason != "per_user_limit":
					t.Errorf("claim: %v", err)
				}
			}()
		}
	}
	wg.Wait()
	if granted.Load() != 60 {
		t.Errorf("granted %d, want the stock 60", granted.Load())
	}
	for i := range held {
		if n := held[i].Load(); n > 2 {
			t.Errorf("account %d got %d tickets, limit 2", e.accounts[i], n)
		}
	}
	st, err := e.svc.Stats(context.Background(), tenant.All(), c.ID)
	if err != nil || st.Issued != 60 {
		t.Errorf("stats issued %d, %v", st.Issued, err)
	}
	// Sold out stays sold out, without asking the database.
	if _, err := e.svc.Claim(context.Background(), c.ID, e.accounts[0]); fault.As(err).Reason != "sold_out" && fault.As(err).Reason != "per_user_limit" {
		t.Errorf("after the stock is gone: %v", err)
	}
}

// TestServiceBudgetUnderConcurrentRides settles 40 rides at once for 20
// riders holding two ¥2 vouchers each, under a ¥30 value budget: exactly 15
// rides get ¥2 off, and each ride ID is settled once however often it is
// sent.
func TestServiceBudgetUnderConcurrentRides(t *testing.T) {
	e := newSvcEnv(t, 20)
	c := e.running(t, benefits.Product{Kind: benefits.AmountOff, NameZH: "两元", Terms: benefits.Terms{AmountOff: 200}, Valid: benefits.Validity{Days: 3}},
		benefits.Campaign{Stock: 40, PerUser: 2, BudgetValue: 3000})
	for _, a := range e.accounts {
		for range 2 {
			if _, err := e.svc.Claim(context.Background(), c.ID, a); err != nil {
				t.Fatal(err)
			}
		}
	}
	var wg sync.WaitGroup
	var discounted, fresh atomic.Int64
	for i, a := range e.accounts {
		for k := range 2 {
			for range 3 { // every ride sent three times at once
				wg.Add(1)
				go func() {
					defer wg.Done()
					r := benefits.Ride{ID: fmt.Sprintf("ride-%d-%d", i, k), Feed: "m", From: "m:A", To: "m:B", Fare: 400, EnteredAt: e.clock.Now()}
					red, replayed, err := e.svc.Redeem(context.Background(), r, a)
					if err != nil {
						t.Error(err)
						return
					}
					if !replayed {
						fresh.Add(1)
						if red.Net == 200 {
							discounted.Add(1)
						}
					}
				}()
			}
		}
	}
	wg.Wait()
	if fresh.Load() != 40 || discounted.Load() != 15 {
		t.Errorf("%d rides settled (want 40), %d discounted (want 15 within ¥30)", fresh.Load(), discounted.Load())
	}
	got, err := e.svc.Campaign(context.Background(), tenant.All(), c.ID)
	if err != nil || got.Spent != 3000 || got.Uses != 15 {
		t.Errorf("campaign spent %d in %d uses, %v; want 3000 in 15", got.Spent, got.Uses, err)
	}
}

// TestServiceTerminateStopsUse: a paused campaign's tickets still pay; a
// terminated one's do not, from the next ride on.
func TestServiceTerminateStopsUse(t *testing.T) {
	e := newSvcEnv(t, 1)
	ctx := context.Background()
	c := e.running(t, benefits.Product{Kind: benefits.MultiRide, NameZH: "十次", Terms: benefits.Terms{Rides: 10}, Valid: benefits.Validity{Days: 3}}, benefits.Campaign{Stock: 5})
	me := e.accounts[0]
	if _, err := e.svc.Claim(ctx, c.ID, me); err != nil {
		t.Fatal(err)
	}
	ride := func(id string) benefits.Redemption {
		t.Helper()
		red, _, err := e.svc.Redeem(ctx, benefits.Ride{ID: id, Feed: "m", From: "m:A", To: "m:B", Fare: 500, EnteredAt: e.clock.Now()}, me)
		if err != nil {
			t.Fatal(err)
		}
		return red
	}
	if _, err := e.svc.Act(ctx, tenant.All(), c.ID, benefits.Pause, "account:2 (reviewer)", "核查"); err != nil {
		t.Fatal(err)
	}
	if red := ride("r1"); red.Net != 0 {
		t.Errorf("paused: a held ten-ride ticket should still pay, net %d", red.Net)
	}
	if _, err := e.svc.Claim(ctx, c.ID, me); fault.As(err).Reason != "campaign_paused" {
		t.Errorf("claim while paused: %v", err)
	}
	if _, err := e.svc.Act(ctx, tenant.All(), c.ID, benefits.Terminate, "account:2 (reviewer)", "结束"); err != nil {
		t.Fatal(err)
	}
	if red := ride("r2"); red.Net != 500 || len(red.Applied) != 0 {
		t.Errorf("terminated: net %d with %v, want the full fare", red.Net, red.Applied)
	}
	w, err := e.svc.Wallet(ctx, me)
	if err != nil || len(w) != 1 || w[0].Ticket.RidesLeft != 9 || w[0].Status != benefits.Usable {
		t.Errorf("wallet %+v, %v", w, err)
	}
}

// TestServiceGiftReturnsAfterExpiry: an unanswered gift goes back to the
// giver once its hour is up, by the service's own sweeper.
func TestServiceGiftReturnsAfterExpiry(t *testing.T) {
	e := newSvcEnv(t, 2)
	ctx := context.Background()
	c := e.running(t, benefits.Product{Kind: benefits.SingleRide, NameZH: "单程", Valid: benefits.Validity{Days: 3}}, benefits.Campaign{Stock: 5})
	giver, friend := e.accounts[0], e.accounts[1]
	tk, err := e.svc.Claim(ctx, c.ID, giver)
	if err != nil {
		t.Fatal(err)
	}
	g, err := e.svc.Gift(ctx, tk.ID, giver, benefits.Cover{Theme: "birthday", Text: "生日快乐"}, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Gift(ctx, tk.ID, giver, benefits.Cover{}, ""); fault.As(err).Reason != "ticket_not_giftable" {
		t.Errorf("gifting twice: %v", err)
	}
	if _, err := e.svc.Gift(ctx, tk.ID, giver, benefits.Cover{Theme: "nope"}, ""); fault.As(err).Reason != "unknown_theme" {
		t.Errorf("a bad cover: %v", err)
	}
	e.clock.Advance(time.Hour)
	deadline := time.Now().Add(5 * time.Second)
	for {
		got, err := e.store.GiftByToken(ctx, g.Token)
		if err != nil {
			t.Fatal(err)
		}
		if got.State == benefits.GiftReturned {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("gift still %s 5 s after expiry", got.State)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := e.svc.SettleGift(ctx, g.Token, friend, benefits.GiftAccepted); fault.As(err).Reason != "gift_settled" {
		t.Errorf("accepting a returned gift: %v", err)
	}
	w, _ := e.svc.Wallet(ctx, giver)
	if len(w) != 1 || w[0].Status != benefits.Usable {
		t.Errorf("giver's wallet after the return: %+v", w)
	}
}

// TestServiceHundredThousandCodes generates the largest batch in one go:
// 100,000 distinct codes stored, counted and exported in order.
func TestServiceHundredThousandCodes(t *testing.T) {
	e := newSvcEnv(t, 0)
	ctx := context.Background()
	c := e.running(t, benefits.Product{Kind: benefits.SingleRide, NameZH: "单程", Valid: benefits.Validity{Days: 3}},
		benefits.Campaign{Stock: 100_000, Channels: []benefits.Channel{benefits.CodeChannel}})
	start := time.Now()
	b, err := e.svc.GenerateCodes(ctx, tenant.All(), c.ID, benefits.MaxCodesPerBatch, "account:1 (admin)")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("100,000 codes generated and stored in %s", time.Since(start).Round(time.Millisecond))
	if _, err := e.svc.GenerateCodes(ctx, tenant.All(), c.ID, benefits.MaxCodesPerBatch+1, "x"); fault.As(err).Reason != "bad_code_count" {
		t.Errorf("100,001 codes: %v", err)
	}
	seen := make(map[string]bool, b.Count)
	err = e.svc.Codes(ctx, tenant.All(), b.ID, func(r benefits.CodeRow) error {
		if seen[r.Code] || len(r.Code) != 15 {
			t.Fatalf("code %q repeated or malformed", r.Code)
		}
		seen[r.Code] = true
		return nil
	})
	if err != nil || len(seen) != 100_000 || b.Count != 100_000 {
		t.Fatalf("exported %d codes of a batch of %d: %v", len(seen), b.Count, err)
	}
	st, err := e.svc.Stats(ctx, tenant.All(), c.ID)
	if err != nil || st.Codes != 100_000 || st.CodesRedeemed != 0 {
		t.Errorf("stats: %d codes, %d redeemed, %v", st.Codes, st.CodesRedeemed, err)
	}
}
