package metro

import (
	"strconv"
	"strings"
	"time"

	"piao/internal/ledger"
	"piao/internal/tenant"
)

// Bought is what a ticket a passenger paid for holds of that payment, for
// drawing its rides on the passenger's prepaid value: the price, who paid
// it, how many rides it had and how many were used before the run.
type Bought struct {
	PaidFen int64
	PaidBy  int64
	Rides   int
	Used    int
}

// SettleKey is the journal key of a settlement batch's redemption entry:
// the feed and the first and last trip it settled. A trip is settled once,
// so no two batches share a first trip and the key is unique.
func SettleKey(feed string, first, last int64) string {
	return "settle:" + feed + ":" + strconv.FormatInt(first, 10) + "-" + strconv.FormatInt(last, 10)
}

// SettleRef is what a batch's entry is about: the batch of settlements.
func SettleRef(feed string, first, last int64) string {
	return "settlement_batch:" + feed + ":" + strconv.FormatInt(first, 10) + "-" + strconv.FormatInt(last, 10)
}

// redemptions builds a settlement run's journal entries, one per batch,
// from the batch's lines and the run's holdings. It follows the settler
// batch by batch (bought tickets' rides are counted as they are drawn), so
// it is rebuilt with the settler whenever holdings are read again.
//
// An entry credits FareRevenue with the batch's fares and debits who bears
// them: FareReceivable the riders' parts; per benefit applied, a bought
// ticket's ride share (ledger.RideShare) to its buyer's PassengerPrepaid
// with the rest of the saving to DiscountExpense (a credit when the share
// is larger); otherwise by the campaign's owner — a merchant's prepaid
// value (ledger.PrepaidAccount of its kind), an individual's
// (PassengerPrepaid), a subsidy scheme's receivable, or the operator's
// DiscountExpense.
type redemptions struct {
	feed   string
	h      Holdings
	bought map[int64]Bought // copied: the settler does not change it
}

func newRedemptions(feed string, h Holdings) *redemptions {
	r := &redemptions{feed: feed, h: h, bought: make(map[int64]Bought, len(h.Bought))}
	for id, b := range h.Bought {
		r.bought[id] = b
	}
	return r
}

type partyAccount struct {
	account ledger.Code
	party   string
}

// entry returns the batch's redemption entry, at the settlement's time.
func (r *redemptions) entry(lines []Settlement, at time.Time) ledger.Entry {
	var fare, passengers int64
	debits := map[partyAccount]int64{}
	var order []partyAccount // first-seen order, for a stable entry
	debit := func(a ledger.Code, party string, fen int64) {
		k := partyAccount{a, party}
		if _, ok := debits[k]; !ok {
			order = append(order, k)
		}
		debits[k] += fen
	}
	for _, l := range lines {
		fare += l.Fare
		passengers += l.Passenger
		for _, a := range l.Applied {
			if b, ok := r.bought[a.TicketID]; ok && a.TicketID != 0 {
				share := ledger.RideShare(b.PaidFen, b.Rides, b.Used)
				b.Used++
				r.bought[a.TicketID] = b
				debit(ledger.PassengerPrepaid, ledger.Party("account", b.PaidBy), share)
				debit(ledger.DiscountExpense, "", a.Saving-share)
				continue
			}
			owner := r.h.Campaigns[a.CampaignID].Owner
			switch {
			case strings.HasPrefix(owner, "merchant:"):
				m, _ := tenant.MerchantOf(owner)
				debit(ledger.PrepaidAccount(r.h.MerchantKinds[m]), owner, a.Saving)
			case strings.HasPrefix(owner, "account:"):
				debit(ledger.PassengerPrepaid, owner, a.Saving)
			case strings.HasPrefix(owner, "subsidy:"):
				debit(ledger.SubsidyReceivable, owner, a.Saving)
			default:
				debit(ledger.DiscountExpense, "", a.Saving)
			}
		}
	}
	first, last := lines[0].TripSeq, lines[len(lines)-1].TripSeq
	ps := make([]ledger.Posting, 0, len(order)+2)
	ps = append(ps, ledger.Credit(ledger.FareRevenue, "", fare), ledger.Debit(ledger.FareReceivable, "", passengers))
	for _, k := range order {
		ps = append(ps, ledger.Debit(k.account, k.party, debits[k]))
	}
	return ledger.Build(SettleKey(r.feed, first, last), ledger.KindRedemption, SettleRef(r.feed, first, last), at,
		strconv.Itoa(len(lines))+" trips settled", ps...)
}
