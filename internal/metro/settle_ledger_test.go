package metro_test

import (
	"slices"
	"testing"
	"time"

	"piao/internal/benefits"
	"piao/internal/ledger"
	"piao/internal/metro"
)

// A batch's redemption entry, to the fen: the fares are revenue; riders
// owe their parts; the operator's campaign is its discount; a merchant's
// and an employer's campaigns draw on their prepaid balances; a subsidy
// scheme owes its part; a bought ticket's rides draw its price ride by
// ride (RideShare), across batches, the rest of each saving being the
// operator's discount (a credit where the share is larger).
func TestRedemptionEntry(t *testing.T) {
	h := metro.Holdings{
		Campaigns: map[int64]benefits.Campaign{
			1: {ID: 1, Owner: "operator"},
			2: {ID: 2, Owner: "merchant:7"},
			3: {ID: 3, Owner: "merchant:9"},
			4: {ID: 4, Owner: "subsidy:elderly"},
			5: {ID: 5, Owner: "operator"}, // the bought ticket's product campaign
		},
		MerchantKinds: map[int64]string{7: "merchant", 9: ledger.EmployerKind},
		// 1,000 fen for 3 rides, none used yet: 333, 334, 333.
		Bought: map[int64]metro.Bought{50: {PaidFen: 1000, PaidBy: 42, Rides: 3, Used: 0}},
	}
	at := time.Date(2026, 12, 7, 2, 0, 0, 0, time.UTC)
	line := func(seq, fare, passenger int64, applied ...benefits.Applied) metro.Settlement {
		return metro.Settlement{TripSeq: seq, Fare: fare, Passenger: passenger, Applied: applied}
	}
	first := []metro.Settlement{
		line(11, 400, 400),
		line(12, 500, 300, benefits.Applied{CampaignID: 1, Saving: 200}),
		line(13, 600, 150, benefits.Applied{CampaignID: 2, Saving: 150}, benefits.Applied{CampaignID: 4, Saving: 300}),
		line(14, 300, 0, benefits.Applied{CampaignID: 3, Saving: 300}),
		line(15, 400, 0, benefits.Applied{TicketID: 50, CampaignID: 5, Saving: 400}), // share 333: 67 discount
		line(16, 300, 0, benefits.Applied{TicketID: 50, CampaignID: 5, Saving: 300}), // share 334: −34
	}
	second := []metro.Settlement{
		line(17, 200, 0, benefits.Applied{TicketID: 50, CampaignID: 5, Saving: 200}), // share 333: −133
	}
	es := metro.RedemptionEntries("nbmetro", h, at, first, second)
	want := []ledger.Entry{
		ledger.Build("settle:nbmetro:11-16", ledger.KindRedemption, "settlement_batch:nbmetro:11-16", at, "6 trips settled",
			ledger.Credit(ledger.FareRevenue, "", 2500),
			ledger.Debit(ledger.FareReceivable, "", 850),
			ledger.Debit(ledger.DiscountExpense, "", 200+67-34),
			ledger.Debit(ledger.MerchantPrepaid, "merchant:7", 150),
			ledger.Debit(ledger.SubsidyReceivable, "subsidy:elderly", 300),
			ledger.Debit(ledger.EmployerPrepaid, "merchant:9", 300),
			ledger.Debit(ledger.PassengerPrepaid, "account:42", 333+334)),
		ledger.Build("settle:nbmetro:17-17", ledger.KindRedemption, "settlement_batch:nbmetro:17-17", at, "1 trips settled",
			ledger.Credit(ledger.FareRevenue, "", 200),
			ledger.Debit(ledger.PassengerPrepaid, "account:42", 333),
			ledger.Credit(ledger.DiscountExpense, "", 133)),
	}
	for i := range want {
		if err := es[i].Check(); err != nil {
			t.Fatalf("entry %d: %v", i, err)
		}
		if !ledger.Same(es[i], want[i]) || !slices.Equal(es[i].Postings, want[i].Postings) {
			t.Fatalf("entry %d:\n got %+v\nwant %+v", i, es[i], want[i])
		}
	}
}
