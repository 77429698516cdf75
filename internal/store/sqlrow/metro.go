package sqlrow

import (
	"encoding/json"
	"maps"
	"slices"
	"time"

	"piao/internal/benefits"
	"piao/internal/fault"
	"piao/internal/metro"
)

// Milli is how metro tables store a time: Unix milliseconds, 0 for none
// (a trip with no entry or no exit).
func Milli(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// FromMilli reads a time stored by Milli, in UTC.
func FromMilli(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// TapColumns are the columns ScanTap reads from metro_taps.
const TapColumns = `id, feed, account, station, gate, dir, at, code`

// ScanTap scans a row of TapColumns.
func ScanTap(r Row) (metro.Tap, error) {
	var t metro.Tap
	var at int64
	err := r.Scan(&t.ID, &t.Feed, &t.Account, &t.Station, &t.Gate, (*string)(&t.Dir), &at, &t.Code)
	t.At = FromMilli(at)
	return t, err
}

// TapAccount is a tap's account, what OpenTaps pages by.
func TapAccount(t metro.Tap) int64 { return t.Account }

// TripColumns are the columns ScanTrip reads from metro_trips.
const TripColumns = `seq, id, feed, account, status, from_station, to_station, from_line, to_line, in_tap, out_tap, entered, exited, metres, fare`

// ScanTrip scans a row of TripColumns; a missing row is the driver's
// no-rows error, for the engine to map.
func ScanTrip(r Row) (metro.Trip, error) {
	var t metro.Trip
	var entered, exited int64
	err := r.Scan(&t.Seq, &t.ID, &t.Feed, &t.Account, (*string)(&t.Status), &t.From, &t.To, &t.FromLine, &t.ToLine,
		&t.InTap, &t.OutTap, &entered, &exited, &t.Metres, &t.Fare)
	t.Entered, t.Exited = FromMilli(entered), FromMilli(exited)
	return t, err
}

// SettledRideColumns are the columns ScanSettledRide reads, from
// metro_trips t joined with metro_settlements s.
const SettledRideColumns = `t.account, t.id, t.status, t.entered, t.fare, s.passenger, s.gift`

// ScanSettledRide scans a row of SettledRideColumns.
func ScanSettledRide(r Row) (metro.SettledRide, error) {
	var s metro.SettledRide
	var entered int64
	err := r.Scan(&s.Trip.Account, &s.Trip.ID, (*string)(&s.Trip.Status), &entered, &s.Trip.Fare, &s.Passenger, &s.Gift)
	s.Trip.Entered = FromMilli(entered)
	return s, err
}

// RideAccount is a settled ride's account, what SettledRides pages by.
func RideAccount(r metro.SettledRide) int64 { return r.Trip.Account }

// WholeAccounts finishes a page read in account order with a LIMIT of
// limit, so that it holds whole accounts: when one account fills the page
// it returns all of that account's rows, read by all; otherwise it leaves
// the last account, which the limit may have cut, to the next page.
func WholeAccounts[T any](page []T, err error, limit int, account func(T) int64, all func(account int64) ([]T, error)) ([]T, error) {
	if err != nil || len(page) < limit {
		return page, err
	}
	last := account(page[len(page)-1])
	if account(page[0]) == last {
		return all(last)
	}
	for len(page) > 0 && account(page[len(page)-1]) == last {
		page = page[:len(page)-1]
	}
	return page, nil
}

// SettlementColumns are the columns ScanSettlement reads, from
// metro_settlements s joined with metro_trips t.
const SettlementColumns = `t.id, s.trip_seq, s.account, s.at, s.fare, s.passenger, s.operator, s.merchant, s.subsidy, s.gift, s.applied`

// ScanSettlement scans a row of SettlementColumns; a missing row is the
// driver's no-rows error, for the engine to map.
func ScanSettlement(r Row) (metro.Settlement, error) {
	var l metro.Settlement
	var at int64
	var applied string
	err := r.Scan(&l.TripID, &l.TripSeq, &l.Account, &at, &l.Fare, &l.Passenger, &l.Operator, &l.Merchant, &l.Subsidy, &l.Gift, &applied)
	if err != nil {
		return l, err
	}
	l.At = FromMilli(at)
	if applied != "" {
		if err := json.Unmarshal([]byte(applied), &l.Applied); err != nil {
			return l, fault.Wrap(err, "decode applied benefits")
		}
	}
	return l, nil
}

// SettlementValues appends the column values of lines to args, in the
// order trip_seq, account, at, fare, passenger, operator, merchant,
// subsidy, gift, applied (the benefits as JSON, "" for none),
// journal_entry (entry: the batch's redemption entry ID, or nil).
func SettlementValues(args []any, lines []metro.Settlement, entry any) ([]any, error) {
	for _, l := range lines {
		applied := ""
		if len(l.Applied) > 0 {
			b, err := json.Marshal(l.Applied)
			if err != nil {
				return nil, fault.Wrap(err, "encode applied benefits")
			}
			applied = string(b)
		}
		args = append(args, l.TripSeq, l.Account, Milli(l.At), l.Fare, l.Passenger, l.Operator, l.Merchant, l.Subsidy, l.Gift, applied, entry)
	}
	return args, nil
}

// SettlementWidth is how many values SettlementValues appends.
const SettlementWidth = 11

// Uses is what a batch of ledger lines takes from tickets and campaigns.
type Uses struct {
	Rides     map[int64]int          // rides taken off each ticket, by ticket ID
	Campaigns map[int64]*CampaignUse // uses and savings, by campaign ID
	// Rows are the metro_benefit_uses rows, UseWidth values each:
	// campaign_id, trip_seq, ticket_id, saving.
	Rows []any
}

// UseWidth is how many values a row of Uses.Rows has.
const UseWidth = 4

// CampaignUse is what a batch adds to one campaign's counters.
type CampaignUse struct {
	Uses  int
	Spent int64
}

// TallyUses counts what lines use.
func TallyUses(lines []metro.Settlement) Uses {
	u := Uses{Rides: map[int64]int{}, Campaigns: map[int64]*CampaignUse{}}
	for _, l := range lines {
		for _, a := range l.Applied {
			if a.TicketID != 0 {
				u.Rides[a.TicketID]++
			}
			c := u.Campaigns[a.CampaignID]
			if c == nil {
				c = &CampaignUse{}
				u.Campaigns[a.CampaignID] = c
			}
			c.Uses++
			c.Spent += a.Saving
			u.Rows = append(u.Rows, a.CampaignID, l.TripSeq, a.TicketID, a.Saving)
		}
	}
	return u
}

// CampaignIDs are the campaigns used, in ID order (the order to lock them in).
func (u Uses) CampaignIDs() []int64 { return slices.Sorted(maps.Keys(u.Campaigns)) }

// OverBudget reports whether adding use to campaign c passes its budget
// of uses or of value.
func OverBudget(c benefits.Campaign, use CampaignUse) bool {
	return c.OverBudget(use.Uses, use.Spent)
}

// ScanUseCount scans a row of from station, to station, hour, trips and
// saving.
func ScanUseCount(r Row) (metro.UseCount, error) {
	var c metro.UseCount
	err := r.Scan(&c.From, &c.To, &c.Hour, &c.Trips, &c.Saving)
	return c, err
}

// AccountSum is one account's total in a read grouped by account.
type AccountSum struct{ Account, Sum int64 }

// ScanAccountSum scans a row of account and sum.
func ScanAccountSum(r Row) (AccountSum, error) {
	var s AccountSum
	err := r.Scan(&s.Account, &s.Sum)
	return s, err
}

// ByAccount maps sums by account; nil sums (a failed read) map to nil.
func ByAccount(sums []AccountSum) map[int64]int64 {
	if sums == nil {
		return nil
	}
	out := make(map[int64]int64, len(sums))
	for _, s := range sums {
		out[s.Account] = s.Sum
	}
	return out
}

// GroupColumns are the columns ScanGroup reads from rider_groups.
const GroupColumns = `account_id, grp, valid_from, valid_until`

// ScanGroup scans a row of GroupColumns.
func ScanGroup(r Row) (metro.AccountGroup, error) {
	var g metro.AccountGroup
	var from, until Time
	err := r.Scan(&g.Account, &g.Group, &from, &until)
	g.Window.From, g.Window.Until = from.Time, until.Time
	return g, err
}

// Holdings assembles what settling feed's trips needs, from what the
// engine read in one snapshot: every product, the campaigns that may
// count uses, held tickets with rides left, the IDs of tickets received as
// gifts and the rider groups valid after since. Campaigns, tickets and
// automatic benefits of other feeds' products are left out.
func Holdings(feed string, since time.Time, products []benefits.Product, campaigns []benefits.Campaign,
	tickets []benefits.Ticket, gifted []int64, groups []metro.AccountGroup) metro.Holdings {
	h := metro.Holdings{Tickets: map[int64][]benefits.Benefit{}, Gifted: map[int64]bool{}, Campaigns: map[int64]benefits.Campaign{}, Groups: map[int64][]metro.GroupGrant{}}
	ofFeed := map[int64]benefits.Product{}
	for _, p := range products {
		if p.Feed == feed {
			ofFeed[p.ID] = p
		}
	}
	for _, c := range campaigns {
		p, ok := ofFeed[c.ProductID]
		if !ok {
			continue
		}
		h.Campaigns[c.ID] = c
		if metro.AutoRuns(c) && c.Ends.After(since) {
			h.Auto = append(h.Auto, benefits.AutoBenefit(c, p))
		}
	}
	for _, t := range tickets {
		if p, ok := ofFeed[t.ProductID]; ok {
			h.Tickets[t.Holder] = append(h.Tickets[t.Holder], benefits.TicketBenefit(t, p))
			if t.PaidFen > 0 {
				if h.Bought == nil {
					h.Bought = map[int64]metro.Bought{}
				}
				h.Bought[t.ID] = metro.Bought{PaidFen: t.PaidFen, PaidBy: t.PaidBy, Rides: t.RidesTotal, Used: t.RidesTotal - t.RidesLeft}
			}
		}
	}
	for _, id := range gifted {
		h.Gifted[id] = true
	}
	for _, g := range groups {
		h.Groups[g.Account] = append(h.Groups[g.Account], g.GroupGrant)
	}
	return h
}
