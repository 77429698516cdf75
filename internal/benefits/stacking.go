package benefits

import (
	"slices"
	"time"
)

// Benefit is one thing that may lower a ride's fare: a ticket the rider
// holds, or a running campaign's automatic benefit (TicketID 0), such as a
// free-ride day.
type Benefit struct {
	TicketID   int64  `json:"ticket_id,omitempty"`
	CampaignID int64  `json:"campaign_id,omitempty"`
	Kind       Kind   `json:"kind"`
	Terms      Terms  `json:"terms"`
	Scope      Scope  `json:"scope"`
	Window     Window `json:"window"`
	// RidesLeft is what the ticket still holds; 0 means used up.
	// Automatic benefits ignore it.
	RidesLeft int `json:"rides_left"`
}

// Applied is one benefit used on a ride and what it saved.
type Applied struct {
	TicketID   int64 `json:"ticket_id,omitempty"`
	CampaignID int64 `json:"campaign_id,omitempty"`
	Kind       Kind  `json:"kind"`
	Saving     int64 `json:"saving"` // fen
}

// Selection is the stacking engine's answer for one ride.
type Selection struct {
	Fare    int64     `json:"fare"` // before benefits
	Net     int64     `json:"net"`  // what the rider pays
	Applied []Applied `json:"applied"`
}

// maxPerKind bounds how many candidates of one coupon kind are combined,
// keeping the search small for riders with large wallets: the eight saving
// most on the whole fare. The choice is exact for wallets holding at most
// eight of a kind; beyond that it is exact in the net fare for amount-off
// and fixed-price coupons, but a capped percentage may be missed (see
// docs/STACKING.md).
const maxPerKind = 8

// Select picks the benefits applied to a ride and the fare left to pay,
// reading the ride's entry time in loc. The rules, written down in
// docs/STACKING.md:
//
//   - A benefit is eligible when the ride falls in its window and scope,
//     it has rides left, and (amount-off) the fare reaches its minimum.
//   - Count tickets and exclusive coupons apply alone. Other coupons
//     combine, at most one of each kind, applied in the order amount-off,
//     fixed-price, percentage, each to the fare the previous left.
//   - The choice is the one that leaves the rider the lowest fare; among
//     equals, the one consuming fewest held tickets (automatic campaign
//     benefits consume none), then the one whose tickets expire soonest,
//     then the lowest ticket IDs, then the lowest campaign IDs of its
//     automatic benefits. A benefit that would save nothing is never
//     applied.
//
// Select is pure: the same input gives the same answer.
func Select(r Ride, loc *time.Location, candidates []Benefit) Selection {
	best := Selection{Fare: r.Fare, Net: r.Fare}
	if r.Fare <= 0 {
		best.Net = max(r.Fare, 0)
		return best
	}
	var alone []Benefit
	var byKind [3][]Benefit // amount-off, fixed-price, percentage
	for _, b := range candidates {
		if !eligible(b, r, loc) {
			continue
		}
		switch {
		case b.Kind.CountTicket() || b.Terms.Exclusive:
			alone = append(alone, b)
		default:
			k := couponOrder(b.Kind)
			byKind[k] = append(byKind[k], b)
		}
	}
	var bestCombo []Benefit
	found := false
	consider := func(combo []Benefit) {
		sel, ok := apply(r.Fare, combo)
		if !ok {
			return
		}
		if !found || better(sel, combo, best, bestCombo) {
			best, bestCombo, found = sel, slices.Clone(combo), true
		}
	}
	for _, b := range alone {
		consider([]Benefit{b})
	}
	for k := range byKind {
		byKind[k] = strongest(byKind[k], r.Fare)
	}
	combo := make([]Benefit, 0, 3)
	for i := -1; i < len(byKind[0]); i++ {
		for j := -1; j < len(byKind[1]); j++ {
			for l := -1; l < len(byKind[2]); l++ {
				combo = combo[:0]
				if i >= 0 {
					combo = append(combo, byKind[0][i])
				}
				if j >= 0 {
					combo = append(combo, byKind[1][j])
				}
				if l >= 0 {
					combo = append(combo, byKind[2][l])
				}
				if len(combo) > 0 {
					consider(combo)
				}
			}
		}
	}
	if !found {
		best.Applied = nil
	}
	return best
}

// eligible reports whether b may be used on r at all.
func eligible(b Benefit, r Ride, loc *time.Location) bool {
	if !b.Kind.Valid() || !b.Window.Contains(r.EnteredAt) || !b.Scope.Covers(r, loc) {
		return false
	}
	if b.TicketID != 0 && b.RidesLeft <= 0 {
		return false
	}
	// Terms Product.Validate would refuse never apply: they could make
	// the fare negative or raise it.
	t := b.Terms
	switch b.Kind {
	case AmountOff:
		return t.AmountOff > 0 && t.MinFare >= 0 && r.Fare >= t.MinFare
	case FixedPrice:
		return t.FixedPrice >= 0
	case Percentage:
		return t.PercentOff >= 1 && t.PercentOff <= 100 && t.Cap >= 0
	}
	return true
}

// couponOrder is a coupon kind's place in the order of application.
func couponOrder(k Kind) int {
	switch k {
	case AmountOff:
		return 0
	case FixedPrice:
		return 1
	}
	return 2
}

// strongest keeps the maxPerKind candidates saving most on the whole fare,
// ties broken by the same rules as Select (automatic benefits first, then
// earliest expiry, lowest ticket ID, lowest campaign ID), whatever the
// order of bs.
func strongest(bs []Benefit, fare int64) []Benefit {
	if len(bs) <= maxPerKind {
		return bs
	}
	bs = slices.Clone(bs)
	slices.SortStableFunc(bs, func(a, b Benefit) int {
		sa, sb := fare-step(fare, a), fare-step(fare, b)
		if sa != sb {
			if sa > sb {
				return -1
			}
			return 1
		}
		if ha, hb := a.TicketID != 0, b.TicketID != 0; ha != hb {
			if hb {
				return -1
			}
			return 1
		}
		if a.TicketID != 0 {
			if c := a.Window.Until.Compare(b.Window.Until); c != 0 {
				return c
			}
			return cmpInt(a.TicketID, b.TicketID)
		}
		return cmpInt(a.CampaignID, b.CampaignID)
	})
	return bs[:maxPerKind]
}

// step applies one benefit to a fare and returns what is left.
func step(fare int64, b Benefit) int64 {
	t := b.Terms
	switch b.Kind {
	case AmountOff:
		return max(fare-t.AmountOff, 0)
	case FixedPrice:
		return min(fare, t.FixedPrice)
	case Percentage:
		p := int64(t.PercentOff)
		off := fare/100*p + fare%100*p/100 // fare·p/100 rounded down, without overflow
		if t.Cap > 0 {
			off = min(off, t.Cap)
		}
		return fare - off
	}
	return 0 // count tickets pay the whole ride
}

// apply runs a combination (already in the order of application) on a
// fare; it reports false if some benefit in it would save nothing.
func apply(fare int64, combo []Benefit) (Selection, bool) {
	sel := Selection{Fare: fare, Net: fare, Applied: make([]Applied, 0, len(combo))}
	for _, b := range combo {
		next := step(sel.Net, b)
		if next >= sel.Net {
			return Selection{}, false
		}
		sel.Applied = append(sel.Applied, Applied{TicketID: b.TicketID, CampaignID: b.CampaignID, Kind: b.Kind, Saving: sel.Net - next})
		sel.Net = next
	}
	return sel, true
}

// better reports whether selection a (from combo ca) beats b (from cb).
func better(a Selection, ca []Benefit, b Selection, cb []Benefit) bool {
	if a.Net != b.Net {
		return a.Net < b.Net
	}
	if na, nb := held(ca), held(cb); na != nb {
		return na < nb
	}
	ea, eb := expiries(ca), expiries(cb)
	for i := range min(len(ea), len(eb)) {
		if c := ea[i].Compare(eb[i]); c != 0 {
			return c < 0
		}
	}
	ia, ib := ids(ca), ids(cb)
	return slices.Compare(ia, ib) < 0
}

// held counts the held tickets a combination consumes.
func held(c []Benefit) int {
	n := 0
	for _, b := range c {
		if b.TicketID != 0 {
			n++
		}
	}
	return n
}

// expiries lists the ends of a combination's held tickets, soonest first.
func expiries(c []Benefit) []time.Time {
	var out []time.Time
	for _, b := range c {
		if b.TicketID != 0 {
			out = append(out, b.Window.Until)
		}
	}
	slices.SortFunc(out, time.Time.Compare)
	return out
}

// ids lists a combination's held ticket IDs, ascending, then the campaign
// IDs of its automatic benefits, ascending. Combinations compared here
// hold as many tickets, so ticket IDs are compared first.
func ids(c []Benefit) []int64 {
	var tickets, camps []int64
	for _, b := range c {
		if b.TicketID != 0 {
			tickets = append(tickets, b.TicketID)
		} else {
			camps = append(camps, b.CampaignID)
		}
	}
	slices.Sort(tickets)
	slices.Sort(camps)
	return append(tickets, camps...)
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
