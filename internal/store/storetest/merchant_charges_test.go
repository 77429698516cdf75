package storetest_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"piao/internal/benefits"
	"piao/internal/metro"
	"piao/internal/store/storetest"
	"piao/internal/tenant"
)

// chMerchantCampaign stores merchant m's approved prepaid campaign of p,
// funded with budget fen.
func chMerchantCampaign(t *testing.T, s storetest.Stores, m int64, p benefits.Product, budget int64) benefits.Campaign {
	t.Helper()
	ctx, scope := context.Background(), tenant.Merchant(m)
	p.Owner, p.Feed, p.NameZH, p.Valid, p.CreatedBy, p.CreatedAt = tenant.OwnerOf(m), "nbmetro", fmt.Sprintf("商户%d券", m), benefits.Validity{Days: 30}, "test", bnT0
	if err := s.Benefits.CreateProduct(ctx, scope, &p); err != nil {
		t.Fatal(err)
	}
	c := benefits.Campaign{ProductID: p.ID, Owner: tenant.OwnerOf(m), NameZH: fmt.Sprintf("商户%d活动", m), Status: benefits.Approved, Prepaid: true,
		Starts: bnT0.Add(-time.Hour), Ends: bnT0.Add(24 * time.Hour), Channels: []benefits.Channel{benefits.ClaimChannel}, Stock: 20, BudgetValue: budget,
		CreatedBy: "test", CreatedAt: bnT0, UpdatedAt: bnT0}
	if err := s.Benefits.CreateCampaign(ctx, scope, &c, benefits.Event{At: bnT0, By: "test", Action: "create", To: benefits.Approved}); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestMerchantCharges settles a metro day in which riders use merchant
// 1's and merchant 2's tickets and an operator campaign's, and redeems
// one ride of merchant 1's through the per-ride API: merchant 1 is
// charged exactly what its campaign saved riders, to the fen, equal to
// the merchant parts of the ledger lines its tickets paid (plus the API
// ride); merchant 2 only its own; the operator's campaign is nobody's
// charge; on every engine.
func TestMerchantCharges(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := context.Background()
		acc := bnAccounts(t, s, "charged", 4)
		ca := chMerchantCampaign(t, s, 1, benefits.Product{Kind: benefits.AmountOff, Terms: benefits.Terms{AmountOff: 150}}, 100_000)
		cb := chMerchantCampaign(t, s, 2, benefits.Product{Kind: benefits.Percentage, Terms: benefits.Terms{PercentOff: 20, Cap: 100}}, 100_000)
		op := bnCampaign(t, s, 20, 0) // the operator's ¥2 off a fare of at least ¥3
		holders := map[int64]int64{acc[0]: ca.ID, acc[1]: cb.ID, acc[2]: op.ID, acc[3]: ca.ID}
		for a, c := range holders {
			for range 3 {
				if res, err := s.Benefits.Issue(ctx, bnT0.Add(-30*time.Minute), []benefits.IssueRequest{{CampaignID: c, Account: a, Channel: benefits.ClaimChannel}}); err != nil || res[0].Err != nil {
					t.Fatal(err, res[0].Err)
				}
			}
		}
		var trips []metro.Trip
		for i := range 9 { // three trips each for riders 0–2, one per ticket
			trips = append(trips, mtTrip(fmt.Sprintf("ch-%02d", i), acc[i%3], "nbmetro:GL", "nbmetro:DMK", bnT0.Add(time.Duration(i)*time.Minute), int64(300+70*i)))
		}
		if _, err := s.Metro.AddTrips(ctx, trips, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := metro.Settle(ctx, s.Metro, "nbmetro", metro.SettleOptions{}); err != nil {
			t.Fatal(err)
		}
		// A ride of merchant 1's through the per-ride API, in the period.
		red, _, err := s.Benefits.Redeem(ctx, benefits.Ride{ID: "api-ride", Fare: 400, From: "nbmetro:GL", To: "nbmetro:DMK", EnteredAt: bnT0.Add(20 * time.Minute)},
			acc[3], bnT0.Add(40*time.Minute), func(c []benefits.Benefit, camps map[int64]benefits.Campaign) benefits.Selection {
				return benefits.SelectWithinBudgets(benefits.Ride{Fare: 400, EnteredAt: bnT0.Add(20 * time.Minute)}, benefits.Shanghai, c, camps)
			})
		if err != nil || len(red.Applied) != 1 || red.Applied[0].CampaignID != ca.ID {
			t.Fatalf("API redemption = %+v, %v", red, err)
		}

		// What the ledger says each campaign saved, and the merchant parts.
		saved := map[int64]int64{}
		uses := map[int64]int{}
		merchantPart := map[int64]int64{}
		for _, tr := range trips {
			l, err := s.Metro.Settlement(ctx, tr.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(l.Applied) != 1 {
				t.Fatalf("trip %s: applied %+v, want its rider's one ticket", tr.ID, l.Applied)
			}
			a := l.Applied[0]
			saved[a.CampaignID] += a.Saving
			uses[a.CampaignID]++
			merchantPart[a.CampaignID] += l.Merchant
		}
		if uses[ca.ID] != 3 || uses[cb.ID] != 3 || uses[op.ID] != 3 {
			t.Fatalf("uses = %v: each rider's three tickets should pay", uses)
		}
		for _, c := range []int64{ca.ID, cb.ID} {
			if merchantPart[c] != saved[c] || saved[c] == 0 {
				t.Errorf("campaign %d: ledger merchant parts %d, savings %d", c, merchantPart[c], saved[c])
			}
		}
		if merchantPart[op.ID] != 0 {
			t.Errorf("the operator's campaign put %d fen on merchants", merchantPart[op.ID])
		}

		from, to := bnT0.Add(-time.Hour), bnT0.Add(time.Hour)
		one, err := s.Benefits.Charges(ctx, tenant.Merchant(1), from, to)
		if err != nil {
			t.Fatal(err)
		}
		if want := saved[ca.ID] + red.Applied[0].Saving; len(one) != 1 || one[0].CampaignID != ca.ID || one[0].Merchant != 1 || one[0].Fen != want || one[0].Rides != 4 {
			t.Errorf("merchant 1 charges = %+v, want %d fen over 4 rides of campaign %d", one, want, ca.ID)
		}
		two, err := s.Benefits.Charges(ctx, tenant.Merchant(2), from, to)
		if err != nil {
			t.Fatal(err)
		}
		if len(two) != 1 || two[0].CampaignID != cb.ID || two[0].Merchant != 2 || two[0].Fen != saved[cb.ID] || two[0].Rides != 3 {
			t.Errorf("merchant 2 charges = %+v, want %d fen over 3 rides", two, saved[cb.ID])
		}
		all, err := s.Benefits.Charges(ctx, tenant.All(), from, to)
		if err != nil || len(all) != 2 || all[0].CampaignID != ca.ID || all[1].CampaignID != cb.ID {
			t.Errorf("the operator's view of charges = %+v, %v; want merchant 1's and 2's only", all, err)
		}
		// The period bounds by trip time (ledger) and redemption time (API).
		early, err := s.Benefits.Charges(ctx, tenant.Merchant(1), from, bnT0.Add(30*time.Minute))
		if err != nil || len(early) != 1 || early[0].Fen != saved[ca.ID] || early[0].Rides != 3 {
			t.Errorf("merchant 1 before the API ride = %+v, %v", early, err)
		}
		if none, err := s.Benefits.Charges(ctx, tenant.Scope{}, from, to); err != nil || len(none) != 0 {
			t.Errorf("the zero scope's charges = %+v, %v", none, err)
		}
	})
}

// TestPrepaidBudgetInSettlement: settlement pays nothing beyond a prepaid
// campaign's budget — a budget of 0 pays no ride at all, one of 250 fen
// one ¥1.50 ride and not the second; on every engine.
func TestPrepaidBudgetInSettlement(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := context.Background()
		acc := bnAccounts(t, s, "prepaid", 2)
		empty := chMerchantCampaign(t, s, 3, benefits.Product{Kind: benefits.AmountOff, Terms: benefits.Terms{AmountOff: 150}}, 0)
		some := chMerchantCampaign(t, s, 4, benefits.Product{Kind: benefits.AmountOff, Terms: benefits.Terms{AmountOff: 150}}, 250)
		var trips []metro.Trip
		for i, c := range []int64{empty.ID, some.ID} {
			for j := range 2 {
				if res, err := s.Benefits.Issue(ctx, bnT0.Add(-30*time.Minute), []benefits.IssueRequest{{CampaignID: c, Account: acc[i], Channel: benefits.ClaimChannel}}); err != nil || res[0].Err != nil {
					t.Fatal(err, res[0].Err)
				}
				trips = append(trips, mtTrip(fmt.Sprintf("pp-%d-%d", i, j), acc[i], "nbmetro:GL", "nbmetro:DMK", bnT0.Add(time.Duration(2*i+j)*time.Minute), 400))
			}
		}
		if _, err := s.Metro.AddTrips(ctx, trips, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := metro.Settle(ctx, s.Metro, "nbmetro", metro.SettleOptions{}); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			id    int64
			spent int64
		}{{empty.ID, 0}, {some.ID, 150}} {
			got, err := s.Benefits.Campaign(ctx, tenant.All(), c.id)
			if err != nil || got.Spent != c.spent || got.Spent > got.BudgetValue {
				t.Errorf("campaign %d after settlement: spent %d of %d, %v; want %d", c.id, got.Spent, got.BudgetValue, err, c.spent)
			}
		}
	})
}
