package purchase_test

import (
	"testing"

	"piao/internal/purchase"
)

// FuzzPrice: any order and unit price is either refused or priced within
// the limits, exactly tickets × unit price + value, without overflow.
func FuzzPrice(f *testing.F) {
	f.Add(int64(1), 10, int64(0), int64(300))
	f.Add(int64(1), 0, int64(5000), int64(0))
	f.Add(int64(1), 1_000_000, int64(0), int64(9_223_372_036_854_775_807))
	f.Add(int64(1), 333_333, int64(1), int64(300))
	f.Fuzz(func(t *testing.T, campaign int64, tickets int, value, unit int64) {
		l := purchase.DefaultLimits()
		amount, err := purchase.Price(purchase.Order{CampaignID: campaign, Tickets: tickets, ValueFen: value}, unit, l)
		if err != nil {
			return
		}
		if amount < 1 || amount > l.MaxAmountFen || tickets < 0 || tickets > l.MaxTickets || value < 0 || unit < 0 {
			t.Fatalf("priced %d for %d × %d + %d", amount, tickets, unit, value)
		}
		if amount != int64(tickets)*unit+value {
			t.Fatalf("amount %d != %d × %d + %d", amount, tickets, unit, value)
		}
	})
}

// FuzzIDFromRef: a reference parses back only to the ID it was made from.
func FuzzIDFromRef(f *testing.F) {
	f.Add("piao-purchase-12")
	f.Add("piao-purchase-+12")
	f.Add("piao-purchase-012")
	f.Add("piao-order-3")
	f.Fuzz(func(t *testing.T, ref string) {
		if id, ok := purchase.IDFromRef(ref); ok && (id <= 0 || purchase.OrderRef(id) != ref) {
			t.Fatalf("ref %q parses to %d", ref, id)
		}
	})
}
