package storetest_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"piao/internal/benefits"
	"piao/internal/ledger"
	"piao/internal/metro"
	"piao/internal/store/storetest"
	"piao/internal/tenant"
)

// TestSettleLedger settles trips paid by riders, a merchant's campaign, the
// operator's and a ticket a rider bought, in batches: every batch posts one
// redemption entry in its transaction, the fares are revenue to the fen,
// each funder bears exactly its parts, and the journal's checks find
// nothing; a batch refused as settled already posts nothing.
func TestSettleLedger(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := context.Background()
		acc := bnAccounts(t, s, "books", 4)
		mc := chMerchantCampaign(t, s, 1, benefits.Product{Kind: benefits.AmountOff, Terms: benefits.Terms{AmountOff: 150}}, 100_000)
		op := bnCampaign(t, s, 20, 0) // the operator's ¥2 off a fare of at least ¥3
		issue := func(r benefits.IssueRequest) {
			t.Helper()
			r.Channel = benefits.ClaimChannel
			if res, err := s.Benefits.Issue(ctx, bnT0.Add(-30*time.Minute), []benefits.IssueRequest{r}); err != nil || res[0].Err != nil {
				t.Fatal(err, res[0].Err)
			}
		}
		for range 2 {
			issue(benefits.IssueRequest{CampaignID: mc.ID, Account: acc[0]})
			issue(benefits.IssueRequest{CampaignID: op.ID, Account: acc[1]})
			// Rider 2 bought a merchant-campaign ticket for 120 fen (it
			// saves 150: the operator bears the 30 beyond the price).
			issue(benefits.IssueRequest{CampaignID: mc.ID, Account: acc[2], PaidFen: 120, PaidBy: acc[2]})
		}
		var trips []metro.Trip
		var fares int64
		for i := range 8 { // riders 0–2 twice with a ticket, rider 3 pays
			tr := mtTrip(fmt.Sprintf("bk-%02d", i), acc[i%4], "nbmetro:GL", "nbmetro:DMK", bnT0.Add(time.Duration(i)*time.Minute), int64(400+10*i))
			trips = append(trips, tr)
			fares += tr.Fare
		}
		if _, err := s.Metro.AddTrips(ctx, trips, nil); err != nil {
			t.Fatal(err)
		}
		now := bnT0.Add(2 * time.Hour)
		rep, err := metro.Settle(ctx, s.Metro, "nbmetro", metro.SettleOptions{Batch: 3, Now: func() time.Time { return now }})
		if err != nil || rep.Trips != 8 {
			t.Fatalf("settle: %+v, %v", rep, err)
		}
		l := s.DB.Ledger()
		es, err := l.Entries(ctx, ledger.Filter{Kind: ledger.KindRedemption})
		if err != nil || len(es) != 3 { // 3 + 3 + 2
			t.Fatalf("%d redemption entries, %v", len(es), err)
		}
		bs, err := l.Balances(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		net := map[string]int64{}
		for _, b := range bs {
			net[string(b.Account)+"/"+b.Party] = b.Net()
		}
		want := map[string]int64{
			"6001/":                     fares,
			"1121/":                     rep.Passenger,
			"6601/":                     2*200 + 2*30,
			"2203/" + tenant.OwnerOf(1): -2 * 150, // spent of a prepaid balance
			"2202/" + ledger.Party("account", acc[2]): -2 * 120,
		}
		for k, v := range want {
			if net[k] != v {
				t.Errorf("%s: %d, want %d (all: %v)", k, net[k], v, net)
			}
		}
		if problems, err := l.Verify(ctx); err != nil || len(problems) > 0 {
			t.Fatalf("ledger check: %+v, %v", problems, err)
		}
		// Every trip's line is linked to its batch's entry: a settled line
		// written again is refused whole, with nothing posted.
		line, _ := s.Metro.Settlement(ctx, trips[0].ID)
		e := ledger.Build("settle:nbmetro:again", ledger.KindRedemption, "settlement_batch:again", now, "",
			ledger.Credit(ledger.FareRevenue, "", line.Fare), ledger.Debit(ledger.FareReceivable, "", line.Fare))
		if err := s.Metro.Settle(ctx, []metro.Settlement{line}, &e); err == nil {
			t.Fatal("settled a settled trip again")
		}
		if _, err := l.EntryByKey(ctx, e.Key); err == nil {
			t.Fatal("a refused batch posted its entry")
		}
		// A trip settled without its entry is what the check reports.
		extra := mtTrip("bk-extra", acc[3], "nbmetro:GL", "nbmetro:DMK", bnT0.Add(time.Hour), 500)
		if _, err := s.Metro.AddTrips(ctx, []metro.Trip{extra}, nil); err != nil {
			t.Fatal(err)
		}
		stored, _ := s.Metro.Trip(ctx, extra.ID)
		bare := metro.Settlement{TripID: extra.ID, TripSeq: stored.Seq, Account: extra.Account, At: extra.Entered, Fare: 500, Passenger: 500}
		if err := s.Metro.Settle(ctx, []metro.Settlement{bare}, nil); err != nil {
			t.Fatal(err)
		}
		problems, err := l.Verify(ctx)
		if err != nil || len(problems) != 1 || problems[0].Check != "missing_entry" || problems[0].Subject != fmt.Sprintf("trip_seq:%d", stored.Seq) {
			t.Fatalf("check after a trip settled without its entry: %+v, %v", problems, err)
		}
	})
}
