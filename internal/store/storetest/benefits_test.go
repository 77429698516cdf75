package storetest_test

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
	"piao/internal/network"
	"piao/internal/store/storetest"
	"piao/internal/tenant"
)

// bnT0 is a fixed instant to the microsecond, not in UTC.
var bnT0 = time.Date(2026, 12, 1, 9, 30, 0, 123456000, time.FixedZone("CST", 8*3600))

// bnAccounts creates n passenger accounts and returns their IDs.
func bnAccounts(t testing.TB, s storetest.Stores, prefix string, n int) []int64 {
	t.Helper()
	ids := make([]int64, n)
	for i := range ids {
		a, err := s.Identity.CreateAccount(context.Background(), identity.Account{
			Username: fmt.Sprintf("%s%d", prefix, i), DisplayName: "乘客", Role: identity.Passenger, PasswordHash: "x", CreatedAt: bnT0,
		})
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = a.ID
	}
	return ids
}

// bnCampaign stores a voucher product and an approved campaign running
// around bnT0 with the given stock and per-user limit.
func bnCampaign(t testing.TB, s storetest.Stores, stock, perUser int, channels ...benefits.Channel) benefits.Campaign {
	t.Helper()
	ctx := context.Background()
	p := benefits.Product{Owner: "operator", Kind: benefits.AmountOff, NameZH: "两元抵用券", Feed: "nbmetro",
		Terms: benefits.Terms{AmountOff: 200, MinFare: 300}, Valid: benefits.Validity{Days: 30}, CreatedBy: "test", CreatedAt: bnT0}
	if err := s.Benefits.CreateProduct(ctx, tenant.All(), &p); err != nil {
		t.Fatal(err)
	}
	if len(channels) == 0 {
		channels = []benefits.Channel{benefits.ClaimChannel}
	}
	c := benefits.Campaign{ProductID: p.ID, Owner: "operator", NameZH: "测试活动", Status: benefits.Approved,
		Starts: bnT0.Add(-time.Hour), Ends: bnT0.Add(30 * 24 * time.Hour), Channels: channels, Stock: stock, PerUser: perUser,
		CreatedBy: "account:1", CreatedAt: bnT0, UpdatedAt: bnT0}
	if err := s.Benefits.CreateCampaign(ctx, tenant.All(), &c, benefits.Event{At: bnT0, By: "account:1", Action: "create", To: benefits.Approved}); err != nil {
		t.Fatal(err)
	}
	return c
}

func bnWant(t *testing.T, err error, reason string) {
	t.Helper()
	if err == nil || fault.As(err).Reason != reason {
		t.Fatalf("err = %v, want %s", err, reason)
	}
}

// TestBenefitsCampaignLifecycle stores a product and a campaign, walks the
// review and reads the audit trail back, on every engine.
func TestBenefitsCampaignLifecycle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := context.Background()
		p := benefits.Product{Owner: "operator", Kind: benefits.Percentage, NameZH: "八折", Feed: "nbmetro",
			Terms: benefits.Terms{PercentOff: 20, Cap: 100}, Scope: benefits.Scope{Weekdays: []int{6, 7}},
			Valid: benefits.Validity{Until: network.MustDate("2026-12-31")}, Cover: benefits.Cover{Theme: "wedding", Text: "新婚快乐"}, CreatedAt: bnT0}
		if err := s.Benefits.CreateProduct(ctx, tenant.All(), &p); err != nil {
			t.Fatal(err)
		}
		got, err := s.Benefits.Product(ctx, tenant.All(), p.ID)
		if err != nil || got.Terms != p.Terms || got.Cover != p.Cover || got.Valid.Until != p.Valid.Until || len(got.Scope.Weekdays) != 2 {
			t.Fatalf("Product = %+v, %v; want %+v", got, err, p)
		}
		if _, err := s.Benefits.Product(ctx, tenant.All(), p.ID+100); !fault.Is(err, fault.NotFound) {
			t.Fatalf("missing product: %v", err)
		}
		c := benefits.Campaign{ProductID: p.ID, Owner: "operator", NameZH: "周末八折", Status: benefits.Draft,
			Starts: bnT0, Ends: bnT0.Add(48 * time.Hour), Channels: []benefits.Channel{benefits.ClaimChannel}, Stock: 10,
			CreatedBy: "account:1", CreatedAt: bnT0, UpdatedAt: bnT0}
		if err := s.Benefits.CreateCampaign(ctx, tenant.All(), &c, benefits.Event{At: bnT0, By: "account:1", Action: "create", To: benefits.Draft}); err != nil {
			t.Fatal(err)
		}
		steps := []struct {
			a      benefits.Action
			by     string
			reason string
			want   benefits.Status
		}{
			{benefits.Submit, "account:1", "", benefits.Submitted},
			{benefits.Reject, "account:2", "预算不清", benefits.Rejected},
			{benefits.Submit, "account:1", "", benefits.Submitted},
			{benefits.Approve, "account:2", "", benefits.Approved},
			{benefits.Pause, "account:2", "排查异常", benefits.Paused},
			{benefits.Resume, "account:2", "", benefits.Approved},
			{benefits.Terminate, "account:2", "提前结束", benefits.Terminated},
		}
		for i, st := range steps {
			at := bnT0.Add(time.Duration(i+1) * time.Minute)
			got, err := s.Benefits.UpdateCampaign(ctx, tenant.All(), c.ID, func(c *benefits.Campaign) (benefits.Event, error) { return c.Apply(st.a, at, st.by, st.reason) })
			if err != nil || got.Status != st.want {
				t.Fatalf("step %d %s: %v, %v", i, st.a, got.Status, err)
			}
		}
		// A refused action writes nothing.
		_, err = s.Benefits.UpdateCampaign(ctx, tenant.All(), c.ID, func(c *benefits.Campaign) (benefits.Event, error) { return c.Apply(benefits.Resume, bnT0, "x", "") })
		bnWant(t, err, "campaign_status")
		ev, err := s.Benefits.Events(ctx, tenant.All(), c.ID)
		if err != nil || len(ev) != len(steps)+1 {
			t.Fatalf("Events = %d, %v", len(ev), err)
		}
		if e := ev[2]; e.Action != "reject" || e.By != "account:2" || e.Reason != "预算不清" || e.From != benefits.Submitted || e.To != benefits.Rejected || !e.At.Equal(bnT0.Add(2*time.Minute)) {
			t.Errorf("reject event = %+v", e)
		}
		back, err := s.Benefits.Campaign(ctx, tenant.All(), c.ID)
		if err != nil || back.Status != benefits.Terminated || back.Stock != 10 || back.NameZH != "周末八折" || !back.Ends.Equal(c.Ends) {
			t.Errorf("Campaign = %+v, %v", back, err)
		}
		list, err := s.Benefits.Campaigns(ctx, tenant.All(), benefits.CampaignFilter{Statuses: []benefits.Status{benefits.Terminated}})
		if err != nil || len(list) != 1 || list[0].ID != c.ID {
			t.Errorf("Campaigns(terminated) = %v, %v", list, err)
		}
		if list, _ := s.Benefits.Campaigns(ctx, tenant.All(), benefits.CampaignFilter{Statuses: []benefits.Status{benefits.Draft}}); len(list) != 0 {
			t.Errorf("Campaigns(draft) = %v", list)
		}
	})
}

// TestBenefitsIssueLimits checks stock, per-user limits, channels, pause
// and codes in one batch and across batches.
func TestBenefitsIssueLimits(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := context.Background()
		acc := bnAccounts(t, s, "lim", 3)
		c := bnCampaign(t, s, 3, 2, benefits.ClaimChannel, benefits.CodeChannel)
		claim := func(a int64) benefits.IssueRequest {
			return benefits.IssueRequest{CampaignID: c.ID, Account: a, Channel: benefits.ClaimChannel}
		}
		res, err := s.Benefits.Issue(ctx, bnT0, []benefits.IssueRequest{claim(acc[0]), claim(acc[0]), claim(acc[0]), claim(acc[1]), claim(acc[2])})
		if err != nil {
			t.Fatal(err)
		}
		for i, want := range []string{"", "", "per_user_limit", "", "sold_out"} {
			if got := fault.As(res[i].Err).Reason; res[i].Err != nil && got != want || res[i].Err == nil && want != "" {
				t.Errorf("request %d: %v, want %q", i, res[i].Err, want)
			}
		}
		tk := res[0].Ticket
		if tk.ID == 0 || tk.Holder != acc[0] || tk.RidesLeft != 1 || tk.State != benefits.Held || tk.Channel != benefits.ClaimChannel {
			t.Errorf("ticket = %+v", tk)
		}
		// 30 days from a 09:30 claim on 1 December (Shanghai): to the end of 30 December.
		if want := time.Date(2026, 12, 31, 0, 0, 0, 0, benefits.Shanghai); !tk.Window.Until.Equal(want) {
			t.Errorf("valid until %v, want %v", tk.Window.Until, want)
		}
		got, err := s.Benefits.Campaign(ctx, tenant.All(), c.ID)
		if err != nil || got.Issued != 3 {
			t.Fatalf("issued = %d, %v", got.Issued, err)
		}
		wallet, err := s.Benefits.Tickets(ctx, acc[0])
		if err != nil || len(wallet) != 2 || !wallet[0].Window.Until.Equal(tk.Window.Until) {
			t.Fatalf("Tickets = %+v, %v", wallet, err)
		}
		// Unknown campaign and account are refusals, not failures.
		res, err = s.Benefits.Issue(ctx, bnT0, []benefits.IssueRequest{{CampaignID: c.ID + 99, Account: acc[0], Channel: benefits.ClaimChannel}, claim(acc[0] + 999)})
		if err != nil {
			t.Fatal(err)
		}
		bnWant(t, res[0].Err, "campaign_not_found")
		if res[1].Err == nil {
			t.Errorf("unknown account got a ticket")
		}

		// Codes: single use, even twice in one batch.
		c2 := bnCampaign(t, s, 10, 0, benefits.CodeChannel)
		b := benefits.CodeBatch{CampaignID: c2.ID, CreatedBy: "account:1", CreatedAt: bnT0}
		if err := s.Benefits.AddCodes(ctx, tenant.All(), &b, []string{"CODEA", "CODEB", "CODEC"}); err != nil {
			t.Fatal(err)
		}
		dup := benefits.CodeBatch{CampaignID: c2.ID, CreatedAt: bnT0}
		bnWant(t, s.Benefits.AddCodes(ctx, tenant.All(), &dup, []string{"CODEX", "CODEA"}), "code_exists")
		code := func(a int64, code string) benefits.IssueRequest {
			return benefits.IssueRequest{Account: a, Channel: benefits.CodeChannel, Code: code}
		}
		res, err = s.Benefits.Issue(ctx, bnT0, []benefits.IssueRequest{code(acc[0], "CODEA"), code(acc[1], "CODEA"), code(acc[1], "NOPE"), code(acc[1], "CODEX"), claim(acc[1])})
		if err != nil {
			t.Fatal(err)
		}
		if res[0].Err != nil || res[0].Ticket.CampaignID != c2.ID || res[0].Ticket.Code != "CODEA" {
			t.Errorf("first use of a code: %+v", res[0])
		}
		bnWant(t, res[1].Err, "code_used")
		bnWant(t, res[2].Err, "code_not_found")
		bnWant(t, res[3].Err, "code_not_found") // the refused batch wrote nothing
		bnWant(t, res[4].Err, "sold_out")
		batches, err := s.Benefits.CodeBatches(ctx, tenant.All(), c2.ID)
		if err != nil || len(batches) != 1 || batches[0].Count != 3 || batches[0].Redeemed != 1 {
			t.Errorf("CodeBatches = %+v, %v", batches, err)
		}
		var rows []benefits.CodeRow
		if err := s.Benefits.Codes(ctx, tenant.All(), b.ID, func(r benefits.CodeRow) error { rows = append(rows, r); return nil }); err != nil {
			t.Fatal(err)
		}
		if len(rows) != 3 || rows[0].Code != "CODEA" || rows[0].RedeemedBy != acc[0] || rows[0].TicketID != res[0].Ticket.ID || rows[1].TicketID != 0 || rows[2].Code != "CODEC" {
			t.Errorf("Codes = %+v", rows)
		}
		// A claim channel not opened, and a paused campaign.
		res, _ = s.Benefits.Issue(ctx, bnT0, []benefits.IssueRequest{{CampaignID: c2.ID, Account: acc[2], Channel: benefits.ClaimChannel}})
		bnWant(t, res[0].Err, "channel_closed")
		if _, err := s.Benefits.UpdateCampaign(ctx, tenant.All(), c2.ID, func(c *benefits.Campaign) (benefits.Event, error) {
			return c.Apply(benefits.Pause, bnT0, "account:2", "核查")
		}); err != nil {
			t.Fatal(err)
		}
		res, _ = s.Benefits.Issue(ctx, bnT0, []benefits.IssueRequest{code(acc[2], "CODEB")})
		bnWant(t, res[0].Err, "campaign_paused")
		st, err := s.Benefits.Stats(ctx, tenant.All(), c2.ID, bnT0)
		if err != nil || st.Issued != 1 || st.Codes != 3 || st.CodesRedeemed != 1 || st.ByChannel[benefits.CodeChannel] != 1 || st.Status != benefits.Paused {
			t.Errorf("Stats = %+v, %v", st, err)
		}
	})
}

// TestBenefitsConcurrentClaims races claimers in many small batches for a
// small stock: exactly the stock is issued and no account passes its limit.
func TestBenefitsConcurrentClaims(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := context.Background()
		acc := bnAccounts(t, s, "race", 40)
		c := bnCampaign(t, s, 50, 2, benefits.ClaimChannel, benefits.CodeChannel)
		codes := make([]string, 20)
		for i := range codes {
			codes[i] = fmt.Sprintf("RACE%02d", i)
		}
		b := benefits.CodeBatch{CampaignID: c.ID, CreatedAt: bnT0}
		if err := s.Benefits.AddCodes(ctx, tenant.All(), &b, codes); err != nil {
			t.Fatal(err)
		}
		var issued, codeUses atomic.Int64
		var wg sync.WaitGroup
		for w := range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for round := range 10 {
					var reqs []benefits.IssueRequest
					for k := range 3 {
						a := acc[(w*7+round*3+k)%len(acc)]
						if k == 2 {
							reqs = append(reqs, benefits.IssueRequest{Account: a, Channel: benefits.CodeChannel, Code: codes[(w+round)%len(codes)]})
						} else {
							reqs = append(reqs, benefits.IssueRequest{CampaignID: c.ID, Account: a, Channel: benefits.ClaimChannel})
						}
					}
					res, err := s.Benefits.Issue(ctx, bnT0, reqs)
					if err != nil {
						t.Error(err)
						return
					}
					for _, r := range res {
						if r.Err == nil {
							issued.Add(1)
							if r.Ticket.Channel == benefits.CodeChannel {
								codeUses.Add(1)
							}
						}
					}
				}
			}()
		}
		wg.Wait()
		got, err := s.Benefits.Campaign(ctx, tenant.All(), c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Issued != 50 || issued.Load() != 50 {
			t.Errorf("issued %d (counter %d), want exactly the stock 50", issued.Load(), got.Issued)
		}
		total := 0
		for _, a := range acc {
			ts, err := s.Benefits.Tickets(ctx, a)
			if err != nil {
				t.Fatal(err)
			}
			if len(ts) > 2 {
				t.Errorf("account %d holds %d tickets, limit 2", a, len(ts))
			}
			total += len(ts)
		}
		if total != 50 {
			t.Errorf("wallets hold %d tickets, want 50", total)
		}
		st, _ := s.Benefits.Stats(ctx, tenant.All(), c.ID, bnT0)
		if int64(st.CodesRedeemed) != codeUses.Load() || st.CodesRedeemed > len(codes) {
			t.Errorf("codes redeemed %d, issued by code %d", st.CodesRedeemed, codeUses.Load())
		}
	})
}

// TestBenefitsGifts walks a gift accepted, one declined, one cancelled and
// one returned at expiry.
func TestBenefitsGifts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := context.Background()
		acc := bnAccounts(t, s, "gift", 3)
		c := bnCampaign(t, s, 10, 0)
		var tickets []benefits.Ticket
		for range 4 {
			res, err := s.Benefits.Issue(ctx, bnT0, []benefits.IssueRequest{{CampaignID: c.ID, Account: acc[0], Channel: benefits.ClaimChannel}})
			if err != nil || res[0].Err != nil {
				t.Fatal(err, res[0].Err)
			}
			tickets = append(tickets, res[0].Ticket)
		}
		gift := func(i int, token string) benefits.Gift {
			g := benefits.Gift{Token: token, TicketID: tickets[i].ID, Giver: acc[0], Cover: benefits.Cover{Theme: "graduation", Text: "毕业快乐"}, Message: "送你", CreatedAt: bnT0, Expires: bnT0.Add(time.Hour)}
			if err := s.Benefits.CreateGift(ctx, &g); err != nil {
				t.Fatal(err)
			}
			return g
		}
		g := gift(0, "TOKA")
		if g.ID == 0 || g.State != benefits.GiftPending {
			t.Fatalf("gift = %+v", g)
		}
		// Gifting twice, or someone else's ticket, is refused.
		again := benefits.Gift{Token: "TOKZ", TicketID: tickets[0].ID, Giver: acc[0], CreatedAt: bnT0, Expires: bnT0.Add(time.Hour)}
		bnWant(t, s.Benefits.CreateGift(ctx, &again), "ticket_not_giftable")
		other := benefits.Gift{Token: "TOKY", TicketID: tickets[1].ID, Giver: acc[1], CreatedAt: bnT0, Expires: bnT0.Add(time.Hour)}
		bnWant(t, s.Benefits.CreateGift(ctx, &other), "ticket_not_found")
		if tk, _ := s.Benefits.Ticket(ctx, tickets[0].ID); tk.State != benefits.Gifting {
			t.Errorf("offered ticket state %s", tk.State)
		}
		_, err := s.Benefits.SettleGift(ctx, "TOKA", acc[0], benefits.GiftAccepted, bnT0)
		bnWant(t, err, "own_gift")
		got, err := s.Benefits.SettleGift(ctx, "TOKA", acc[1], benefits.GiftAccepted, bnT0.Add(time.Minute))
		if err != nil || got.State != benefits.GiftAccepted || got.Receiver != acc[1] || got.Cover.Text != "毕业快乐" || got.Message != "送你" {
			t.Fatalf("accept = %+v, %v", got, err)
		}
		_, err = s.Benefits.SettleGift(ctx, "TOKA", acc[2], benefits.GiftAccepted, bnT0.Add(time.Minute))
		bnWant(t, err, "gift_settled")
		if tk, _ := s.Benefits.Ticket(ctx, tickets[0].ID); tk.Holder != acc[1] || tk.State != benefits.Held || tk.Channel != benefits.ClaimChannel {
			t.Errorf("accepted ticket = %+v", tk)
		}

		gift(1, "TOKB")
		if g, err := s.Benefits.SettleGift(ctx, "TOKB", acc[2], benefits.GiftDeclined, bnT0); err != nil || g.Receiver != 0 {
			t.Fatalf("decline = %+v, %v", g, err)
		}
		gift(2, "TOKC")
		_, err = s.Benefits.SettleGift(ctx, "TOKC", acc[2], benefits.GiftCancelled, bnT0)
		bnWant(t, err, "gift_not_found") // only the giver cancels
		if _, err := s.Benefits.SettleGift(ctx, "TOKC", acc[0], benefits.GiftCancelled, bnT0); err != nil {
			t.Fatal(err)
		}
		gift(3, "TOKD")
		late := bnT0.Add(time.Hour)
		_, err = s.Benefits.SettleGift(ctx, "TOKD", acc[2], benefits.GiftAccepted, late)
		bnWant(t, err, "gift_expired")
		due, err := s.Benefits.ExpiredGifts(ctx, late, 10)
		if err != nil || len(due) != 1 || due[0] != "TOKD" {
			t.Fatalf("ExpiredGifts = %v, %v", due, err)
		}
		if _, err := s.Benefits.SettleGift(ctx, "TOKD", 0, benefits.GiftReturned, late); err != nil {
			t.Fatal(err)
		}
		for i := 1; i < 4; i++ {
			if tk, _ := s.Benefits.Ticket(ctx, tickets[i].ID); tk.Holder != acc[0] || tk.State != benefits.Held {
				t.Errorf("ticket %d back with the giver? %+v", i, tk)
			}
		}
		gs, err := s.Benefits.Gifts(ctx, acc[1])
		if err != nil || len(gs) != 1 || gs[0].Token != "TOKA" {
			t.Errorf("Gifts(receiver) = %+v, %v", gs, err)
		}
		if gs, _ := s.Benefits.Gifts(ctx, acc[0]); len(gs) != 4 {
			t.Errorf("Gifts(giver) = %d", len(gs))
		}
	})
}

// TestBenefitsRedeem applies tickets to rides once per ride ID, honouring
// budgets, concurrently.
func TestBenefitsRedeem(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := context.Background()
		acc := bnAccounts(t, s, "ride", 2)
		c := bnCampaign(t, s, 10, 0)
		if _, err := s.Benefits.UpdateCampaign(ctx, tenant.All(), c.ID, func(c *benefits.Campaign) (benefits.Event, error) {
			c.BudgetValue = 500 // two and a half vouchers of ¥2
			return benefits.Event{At: bnT0, By: "test", Action: "budget", To: c.Status}, nil
		}); err != nil {
			t.Fatal(err)
		}
		for range 4 {
			if res, err := s.Benefits.Issue(ctx, bnT0, []benefits.IssueRequest{{CampaignID: c.ID, Account: acc[0], Channel: benefits.ClaimChannel}}); err != nil || res[0].Err != nil {
				t.Fatal(err, res[0].Err)
			}
		}
		choose := func(r benefits.Ride) benefits.Chooser {
			return func(cands []benefits.Benefit, camps map[int64]benefits.Campaign) benefits.Selection {
				return benefits.SelectWithinBudgets(r, benefits.Shanghai, cands, camps)
			}
		}
		ride := func(id string) benefits.Ride {
			return benefits.Ride{ID: id, Feed: "nbmetro", From: "a", To: "b", Fare: 400, EnteredAt: bnT0.Add(time.Hour)}
		}
		// Eight goroutines settle the same four rides: each ride once.
		var wg sync.WaitGroup
		var fresh atomic.Int64
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range 4 {
					r := ride(fmt.Sprintf("R%d", i))
					_, replayed, err := s.Benefits.Redeem(ctx, r, acc[0], bnT0, choose(r))
					if err != nil {
						t.Error(err)
						return
					}
					if !replayed {
						fresh.Add(1)
					}
				}
			}()
		}
		wg.Wait()
		if fresh.Load() != 4 {
			t.Errorf("%d first settlements of 4 rides", fresh.Load())
		}
		paid := 0
		for i := range 4 {
			red, err := s.Benefits.Redemption(ctx, fmt.Sprintf("R%d", i))
			if err != nil {
				t.Fatal(err)
			}
			if len(red.Applied) == 1 {
				paid++
				if red.Net != 200 || red.Applied[0].Saving != 200 {
					t.Errorf("redemption %+v", red)
				}
			} else if red.Net != 400 {
				t.Errorf("ride without benefit pays %d", red.Net)
			}
		}
		got, _ := s.Benefits.Campaign(ctx, tenant.All(), c.ID)
		if paid != 2 || got.Uses != 2 || got.Spent != 400 {
			t.Errorf("budget ¥5: %d rides paid, uses %d, spent %d; want 2, 2, 400", paid, got.Uses, got.Spent)
		}
		_, _, err := s.Benefits.Redeem(ctx, ride("R0"), acc[1], bnT0, choose(ride("R0")))
		bnWant(t, err, "ride_other_account")
		st, err := s.Benefits.Stats(ctx, tenant.All(), c.ID, bnT0.Add(2*time.Hour))
		if err != nil || st.Used != 2 || st.Rides != 2 || st.Conversion != 0.5 || len(st.Hourly) == 0 {
			t.Errorf("Stats = %+v, %v", st, err)
		}
		if st, _ := s.Benefits.Stats(ctx, tenant.All(), c.ID, bnT0.Add(40*24*time.Hour)); st.Expired != 2 || st.Status != benefits.Ended {
			t.Errorf("after validity: expired %d, status %s", st.Expired, st.Status)
		}
	})
}

// TestBenefitsRedeemRideCode: a dynamic ride code pays for one ride ID
// only, also when several ride IDs race with it; rides without a code are
// not limited.
func TestBenefitsRedeemRideCode(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := context.Background()
		acc := bnAccounts(t, s, "code", 1)
		choose := func(cands []benefits.Benefit, camps map[int64]benefits.Campaign) benefits.Selection {
			return benefits.Selection{Fare: 400, Net: 400}
		}
		ride := func(id, code string) benefits.Ride {
			return benefits.Ride{ID: id, Feed: "nbmetro", From: "a", To: "b", Fare: 400, EnteredAt: bnT0, Code: code}
		}
		var wg sync.WaitGroup
		var fresh, refused atomic.Int64
		for i := range 6 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, replayed, err := s.Benefits.Redeem(ctx, ride(fmt.Sprintf("C%d", i), "nb1/00000000000000aa"), acc[0], bnT0, choose)
				switch {
				case fault.As(err).Reason == "ridecode_replayed":
					refused.Add(1)
				case err != nil:
					t.Error(err)
				case !replayed:
					fresh.Add(1)
				}
			}()
		}
		wg.Wait()
		if fresh.Load() != 1 || refused.Load() != 5 {
			t.Errorf("one code, six ride IDs: %d redeemed, %d refused; want 1, 5", fresh.Load(), refused.Load())
		}
		for _, id := range []string{"N1", "N2"} {
			if _, replayed, err := s.Benefits.Redeem(ctx, ride(id, ""), acc[0], bnT0, choose); err != nil || replayed {
				t.Errorf("ride %s without a code: replayed %v, %v", id, replayed, err)
			}
		}
		red, err := s.Benefits.Redemption(ctx, "N1")
		if err != nil || red.Ride.Code != "" {
			t.Errorf("N1: %+v, %v", red, err)
		}
	})
}
