package benefits_test

import (
	"encoding/binary"
	"fmt"
	"math/big"
	"reflect"
	"slices"
	"testing"
	"time"

	"pgregory.net/rapid"

	"piao/internal/benefits"
)

// The stacking rules of docs/STACKING.md, first as worked examples, then as
// properties checked against a brute-force enumerator written here,
// independently of the engine.

var (
	rideTime   = at(2026, 12, 7, 8, 30, 0) // a Monday morning
	validFrom  = at(2026, 12, 1, 0, 0, 0)
	validUntil = at(2027, 1, 1, 0, 0, 0)
)

func rideOf(fare int64) benefits.Ride {
	return benefits.Ride{ID: "r1", Feed: "nbmetro", From: "S1", To: "S2", FromLine: "L1", ToLine: "L1", Fare: fare, EnteredAt: rideTime}
}

// ticket is a held ticket, valid all December, with one ride left.
func ticket(id int64, k benefits.Kind, t benefits.Terms) benefits.Benefit {
	return benefits.Benefit{TicketID: id, Kind: k, Terms: t, Window: benefits.Window{From: validFrom, Until: validUntil}, RidesLeft: 1}
}

// automatic is a running campaign's automatic benefit (TicketID 0).
func automatic(campaign int64, k benefits.Kind, t benefits.Terms) benefits.Benefit {
	return benefits.Benefit{CampaignID: campaign, Kind: k, Terms: t, Window: benefits.Window{From: validFrom, Until: validUntil}}
}

func expiring(b benefits.Benefit, until time.Time) benefits.Benefit {
	b.Window.Until = until
	return b
}

func exclusive(b benefits.Benefit) benefits.Benefit {
	b.Terms.Exclusive = true
	return b
}

func amountOff(fen int64) benefits.Terms  { return benefits.Terms{AmountOff: fen} }
func fixedPrice(fen int64) benefits.Terms { return benefits.Terms{FixedPrice: fen} }
func percentOff(p int, capFen int64) benefits.Terms {
	return benefits.Terms{PercentOff: p, Cap: capFen}
}

var (
	A, F, P = benefits.AmountOff, benefits.FixedPrice, benefits.Percentage
	single  = benefits.SingleRide
	multi   = benefits.MultiRide
	paper   = benefits.PaperQR
)

type applied = benefits.Applied

func TestSelectRules(t *testing.T) {
	cases := []struct {
		name  string
		ride  benefits.Ride
		cands []benefits.Benefit
		net   int64
		apply []applied // nil: nothing applied
	}{
		{"no benefits", rideOf(400), nil, 400, nil},
		{"zero fare applies nothing", rideOf(0), []benefits.Benefit{
			ticket(1, single, benefits.Terms{}), automatic(9, A, amountOff(100)), ticket(2, P, percentOff(100, 0)),
		}, 0, nil},

		// Count tickets and exclusive coupons apply alone.
		{"count ticket pays the whole ride", rideOf(400), []benefits.Benefit{ticket(1, single, benefits.Terms{})}, 0,
			[]applied{{TicketID: 1, Kind: single, Saving: 400}}},
		{"count ticket beats a combination", rideOf(400), []benefits.Benefit{
			ticket(1, A, amountOff(100)), ticket(2, P, percentOff(50, 0)), ticket(3, multi, benefits.Terms{Rides: 5}),
		}, 0, []applied{{TicketID: 3, Kind: multi, Saving: 400}}},
		{"exclusive coupon is not combined", rideOf(1000), []benefits.Benefit{
			// Alone: 1000 → 700. Combined with the 20 % it would be 560,
			// but it may not be; amount-off then 20 % gives 720.
			exclusive(ticket(1, P, percentOff(30, 0))), ticket(2, A, amountOff(100)), ticket(3, P, percentOff(20, 0)),
		}, 700, []applied{{TicketID: 1, Kind: P, Saving: 300}}},
		{"combination beats an exclusive coupon", rideOf(1000), []benefits.Benefit{
			exclusive(ticket(1, A, amountOff(200))), ticket(2, A, amountOff(100)), ticket(3, P, percentOff(20, 0)),
		}, 720, []applied{{TicketID: 2, Kind: A, Saving: 100}, {TicketID: 3, Kind: P, Saving: 180}}},
		{"exclusive amount-off alone", rideOf(1000), []benefits.Benefit{
			exclusive(ticket(1, A, amountOff(300))), ticket(2, P, percentOff(20, 0)),
		}, 700, []applied{{TicketID: 1, Kind: A, Saving: 300}}},
		{"at most one of each kind", rideOf(1000), []benefits.Benefit{
			ticket(1, A, amountOff(100)), ticket(2, A, amountOff(150)), ticket(3, A, amountOff(50)),
		}, 850, []applied{{TicketID: 2, Kind: A, Saving: 150}}},

		{"combination (docs/STACKING.md example 1)", rideOf(600), []benefits.Benefit{
			ticket(1, A, benefits.Terms{AmountOff: 100, MinFare: 500}), ticket(2, P, percentOff(20, 200)),
		}, 400, []applied{{TicketID: 1, Kind: A, Saving: 100}, {TicketID: 2, Kind: P, Saving: 100}}},

		// Order of application: amount-off → fixed-price → percentage.
		{"amount-off before percentage", rideOf(1000), []benefits.Benefit{
			ticket(2, P, percentOff(50, 0)), ticket(1, A, amountOff(100)),
		}, 450, []applied{{TicketID: 1, Kind: A, Saving: 100}, {TicketID: 2, Kind: P, Saving: 450}}},
		{"fixed-price before percentage", rideOf(1000), []benefits.Benefit{
			ticket(2, P, percentOff(50, 0)), ticket(1, F, fixedPrice(600)),
		}, 300, []applied{{TicketID: 1, Kind: F, Saving: 400}, {TicketID: 2, Kind: P, Saving: 300}}},
		{"amount-off making fixed-price useless", rideOf(1000), []benefits.Benefit{
			// 1000 −500 → 500; the ¥6 fixed price saves nothing after it;
			// 50 % of 500 → 250 beats ¥6 then 50 % (300).
			ticket(3, P, percentOff(50, 0)), ticket(2, F, fixedPrice(600)), ticket(1, A, amountOff(500)),
		}, 250, []applied{{TicketID: 1, Kind: A, Saving: 500}, {TicketID: 3, Kind: P, Saving: 250}}},
		{"all three kinds", rideOf(1000), []benefits.Benefit{
			ticket(3, P, percentOff(50, 0)), ticket(2, F, fixedPrice(600)), ticket(1, A, amountOff(300)),
		}, 300, []applied{{TicketID: 2, Kind: F, Saving: 400}, {TicketID: 3, Kind: P, Saving: 300}}}, // −300 then ¥6 is ¥6 too: one ticket fewer
		{"all three kinds, each saving", rideOf(2000), []benefits.Benefit{
			ticket(3, P, percentOff(10, 0)), ticket(2, F, fixedPrice(1500)), ticket(1, A, amountOff(100)),
			// 2000 −100 → 1900, ¥15 → 1500, 10 % → 1350; without the
			// amount-off it is 1350 too, so two tickets suffice.
		}, 1350, []applied{{TicketID: 2, Kind: F, Saving: 500}, {TicketID: 3, Kind: P, Saving: 150}}},

		// The minimum fare is checked against the fare before benefits.
		{"fare at the minimum", rideOf(500), []benefits.Benefit{ticket(1, A, benefits.Terms{AmountOff: 100, MinFare: 500})}, 400,
			[]applied{{TicketID: 1, Kind: A, Saving: 100}}},
		{"fare below the minimum", rideOf(499), []benefits.Benefit{ticket(1, A, benefits.Terms{AmountOff: 100, MinFare: 500})}, 499, nil},
		{"minimum with a percentage", rideOf(600), []benefits.Benefit{
			ticket(1, A, benefits.Terms{AmountOff: 100, MinFare: 600}), ticket(2, P, percentOff(50, 0)),
		}, 250, []applied{{TicketID: 1, Kind: A, Saving: 100}, {TicketID: 2, Kind: P, Saving: 250}}},
		{"amount-off larger than the fare", rideOf(300), []benefits.Benefit{ticket(1, A, amountOff(500))}, 0,
			[]applied{{TicketID: 1, Kind: A, Saving: 300}}},

		// Percentages round the saving down, then apply the cap.
		{"percentage rounds the saving down", rideOf(333), []benefits.Benefit{ticket(1, P, percentOff(10, 0))}, 300,
			[]applied{{TicketID: 1, Kind: P, Saving: 33}}},
		{"percentage 15 % of 999", rideOf(999), []benefits.Benefit{ticket(1, P, percentOff(15, 0))}, 850,
			[]applied{{TicketID: 1, Kind: P, Saving: 149}}},
		{"percentage cap", rideOf(1000), []benefits.Benefit{ticket(1, P, percentOff(50, 120))}, 880,
			[]applied{{TicketID: 1, Kind: P, Saving: 120}}},
		{"cap above the rounded saving", rideOf(255), []benefits.Benefit{ticket(1, P, percentOff(50, 128))}, 128,
			[]applied{{TicketID: 1, Kind: P, Saving: 127}}},
		{"100 % off", rideOf(255), []benefits.Benefit{ticket(1, P, percentOff(100, 0))}, 0,
			[]applied{{TicketID: 1, Kind: P, Saving: 255}}},
		{"rounding makes a ticket useless", rideOf(1000), []benefits.Benefit{
			// −1 then 10 % of 999 (99) is 900, the same as 10 % alone.
			ticket(1, A, amountOff(1)), ticket(2, P, percentOff(10, 0)),
		}, 900, []applied{{TicketID: 2, Kind: P, Saving: 100}}},

		// A benefit that saves nothing is never applied.
		{"fixed price above the fare", rideOf(400), []benefits.Benefit{ticket(1, F, fixedPrice(500))}, 400, nil},
		{"fixed price equal to the fare", rideOf(400), []benefits.Benefit{ticket(1, F, fixedPrice(400))}, 400, nil},
		{"percentage rounding to nothing", rideOf(9), []benefits.Benefit{ticket(1, P, percentOff(10, 0))}, 9, nil},
		{"nothing left to take a percentage of", rideOf(400), []benefits.Benefit{
			ticket(1, A, amountOff(500)), ticket(2, P, percentOff(10, 0)),
		}, 0, []applied{{TicketID: 1, Kind: A, Saving: 400}}},
		{"free fixed price then nothing", rideOf(400), []benefits.Benefit{
			ticket(1, F, fixedPrice(0)), automatic(9, P, percentOff(10, 0)),
		}, 0, []applied{{TicketID: 1, Kind: F, Saving: 400}}},

		// Tie-breaks: fewest held tickets, soonest expiry, lowest ticket ID.
		{"automatic preferred over a held ticket", rideOf(1000), []benefits.Benefit{
			ticket(1, A, amountOff(100)), automatic(9, A, amountOff(100)),
		}, 900, []applied{{CampaignID: 9, Kind: A, Saving: 100}}},
		{"automatic preferred over a held ticket of another kind", rideOf(1000), []benefits.Benefit{
			// −100 leaves 900: the ¥9 fixed price then saves nothing.
			ticket(1, F, fixedPrice(900)), automatic(9, A, amountOff(100)),
		}, 900, []applied{{CampaignID: 9, Kind: A, Saving: 100}}},
		{"automatic free ride preferred over a count ticket", rideOf(400), []benefits.Benefit{
			ticket(1, single, benefits.Terms{}), automatic(9, P, percentOff(100, 0)),
		}, 0, []applied{{CampaignID: 9, Kind: P, Saving: 400}}},
		{"automatic plus held beats two held", rideOf(1000), []benefits.Benefit{
			ticket(1, A, amountOff(100)), ticket(2, P, percentOff(10, 0)), automatic(9, A, amountOff(100)),
		}, 810, []applied{{CampaignID: 9, Kind: A, Saving: 100}, {TicketID: 2, Kind: P, Saving: 90}}},
		{"lower net beats fewer tickets", rideOf(1000), []benefits.Benefit{
			automatic(9, A, amountOff(100)), ticket(1, A, amountOff(101)),
		}, 899, []applied{{TicketID: 1, Kind: A, Saving: 101}}},
		{"soonest expiry preferred", rideOf(1000), []benefits.Benefit{
			ticket(1, A, amountOff(100)), expiring(ticket(2, A, amountOff(100)), at(2026, 12, 8, 0, 0, 0)),
		}, 900, []applied{{TicketID: 2, Kind: A, Saving: 100}}},
		{"soonest-expiring count ticket", rideOf(400), []benefits.Benefit{
			ticket(1, multi, benefits.Terms{Rides: 5}), expiring(ticket(2, single, benefits.Terms{}), at(2026, 12, 20, 0, 0, 0)),
			expiring(ticket(3, A, amountOff(1000)), at(2026, 12, 21, 0, 0, 0)),
		}, 0, []applied{{TicketID: 2, Kind: single, Saving: 400}}},
		{"lowest ticket ID at equal expiry", rideOf(1000), []benefits.Benefit{
			ticket(5, A, amountOff(100)), ticket(3, A, amountOff(100)), ticket(4, A, amountOff(100)),
		}, 900, []applied{{TicketID: 3, Kind: A, Saving: 100}}},
		{"lowest ticket ID, then lowest campaign ID", rideOf(1000), []benefits.Benefit{
			// Four ways to 810, each one held ticket plus one automatic
			// benefit, same expiry: ticket 2, then campaign 7.
			ticket(3, A, amountOff(100)), automatic(7, P, percentOff(10, 0)),
			ticket(2, F, fixedPrice(900)), automatic(8, P, percentOff(10, 0)),
		}, 810, []applied{{TicketID: 2, Kind: F, Saving: 100}, {CampaignID: 7, Kind: P, Saving: 90}}},

		{"lowest ticket ID, whatever the automatic benefits", rideOf(100), []benefits.Benefit{
			// Ticket 2 alone, or campaign 4 then ticket 3: both free,
			// both one held ticket of the same expiry.
			ticket(2, A, amountOff(100)), ticket(3, P, percentOff(100, 0)), automatic(4, A, amountOff(50)),
		}, 0, []applied{{TicketID: 2, Kind: A, Saving: 100}}},

		// Eligibility.
		{"before the window", rideOf(400), []benefits.Benefit{
			func() benefits.Benefit {
				b := ticket(1, A, amountOff(100))
				b.Window.From = rideTime.Add(time.Second)
				return b
			}(),
		}, 400, nil},
		{"window start is inclusive", rideOf(400), []benefits.Benefit{
			func() benefits.Benefit { b := ticket(1, A, amountOff(100)); b.Window.From = rideTime; return b }(),
		}, 300, []applied{{TicketID: 1, Kind: A, Saving: 100}}},
		{"window end is exclusive", rideOf(400), []benefits.Benefit{expiring(ticket(1, A, amountOff(100)), rideTime)}, 400, nil},
		{"out of scope", rideOf(400), []benefits.Benefit{
			func() benefits.Benefit {
				b := ticket(1, single, benefits.Terms{})
				b.Scope.Lines = []string{"L2"}
				return b
			}(),
			func() benefits.Benefit { b := ticket(2, A, amountOff(100)); b.Scope.Weekdays = []int{6, 7}; return b }(),
			func() benefits.Benefit {
				b := automatic(9, P, percentOff(50, 0))
				b.Scope.Riders = []string{"senior"}
				return b
			}(),
			func() benefits.Benefit {
				b := ticket(3, F, fixedPrice(0))
				b.Scope.FromMinute, b.Scope.ToMinute = 17*60, 19*60
				return b
			}(),
		}, 400, nil},
		{"in scope", rideOf(400), []benefits.Benefit{
			func() benefits.Benefit {
				b := ticket(1, A, amountOff(100))
				b.Scope = benefits.Scope{Lines: []string{"L1"}, Weekdays: []int{1}, FromMinute: 7 * 60, ToMinute: 9 * 60}
				return b
			}(),
		}, 300, []applied{{TicketID: 1, Kind: A, Saving: 100}}},
		{"no rides left", rideOf(400), []benefits.Benefit{
			func() benefits.Benefit { b := ticket(1, multi, benefits.Terms{Rides: 5}); b.RidesLeft = 0; return b }(),
		}, 400, nil},
		{"automatic benefits ignore rides left", rideOf(400), []benefits.Benefit{automatic(9, single, benefits.Terms{})}, 0,
			[]applied{{CampaignID: 9, Kind: single, Saving: 400}}},
		{"unknown kind", rideOf(400), []benefits.Benefit{ticket(1, "season", amountOff(100))}, 400, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sel := benefits.Select(c.ride, benefits.Shanghai, c.cands)
			if sel.Fare != c.ride.Fare || sel.Net != c.net || !reflect.DeepEqual(sel.Applied, c.apply) {
				t.Fatalf("Select = fare %d net %d %+v\nwant fare %d net %d %+v", sel.Fare, sel.Net, sel.Applied, c.ride.Fare, c.net, c.apply)
			}
			checkInvariants(t, c.ride, c.cands, sel)
		})
	}
}

// TestSelectSearchesEightPerKind pins the documented limit: of one coupon
// kind only the eight saving most on the whole fare are combined.
func TestSelectSearchesEightPerKind(t *testing.T) {
	wallet := func(weak int) []benefits.Benefit {
		// Amount-off 800 leaves 200; 50 % capped at ¥1 takes 100 of it,
		// a 20 % takes 40. On the whole fare of 1000 each 20 % saves 200,
		// more than the capped one's 100.
		c := []benefits.Benefit{ticket(1, A, amountOff(800)), ticket(2, P, percentOff(50, 100))}
		for i := range weak {
			c = append(c, ticket(int64(10+i), P, percentOff(20, 0)))
		}
		return c
	}
	if sel := benefits.Select(rideOf(1000), benefits.Shanghai, wallet(7)); sel.Net != 100 {
		t.Errorf("with 8 percentages: net %d, want 100 (%+v)", sel.Net, sel.Applied)
	}
	if sel := benefits.Select(rideOf(1000), benefits.Shanghai, wallet(8)); sel.Net != 160 {
		t.Errorf("with 9 percentages: net %d, want 160, the capped one not searched (%+v)", sel.Net, sel.Applied)
	}
	// Ties at the cut keep automatic benefits, then the soonest expiry,
	// then the lowest IDs, whatever the order the wallet came in.
	c := []benefits.Benefit{}
	for i := range 8 {
		c = append(c, expiring(ticket(int64(20+i), A, amountOff(100)), at(2026, 12, 20, 0, 0, 0)))
	}
	c = append(c, automatic(9, A, amountOff(100)), ticket(30, P, percentOff(10, 0)))
	for _, cands := range [][]benefits.Benefit{c, reversed(c)} {
		sel := benefits.Select(rideOf(1000), benefits.Shanghai, cands)
		want := []applied{{CampaignID: 9, Kind: A, Saving: 100}, {TicketID: 30, Kind: P, Saving: 90}}
		if !reflect.DeepEqual(sel.Applied, want) {
			t.Errorf("ties at the cut: %+v, want %+v", sel.Applied, want)
		}
	}
}

func reversed(c []benefits.Benefit) []benefits.Benefit {
	r := slices.Clone(c)
	slices.Reverse(r)
	return r
}

// ---- The model: eligibility, application and the order of preference,
// ---- written from docs/STACKING.md without looking at the engine.

var couponKinds = []benefits.Kind{benefits.AmountOff, benefits.FixedPrice, benefits.Percentage}

func modelEligible(b benefits.Benefit, r benefits.Ride) bool {
	t := b.Terms
	switch b.Kind {
	case benefits.AmountOff:
		if t.AmountOff <= 0 || t.MinFare < 0 || r.Fare < t.MinFare {
			return false
		}
	case benefits.FixedPrice:
		if t.FixedPrice < 0 {
			return false
		}
	case benefits.Percentage:
		if t.PercentOff < 1 || t.PercentOff > 100 || t.Cap < 0 {
			return false
		}
	case benefits.SingleRide, benefits.MultiRide, benefits.PaperQR:
	default:
		return false
	}
	if r.EnteredAt.Before(b.Window.From) || !r.EnteredAt.Before(b.Window.Until) {
		return false
	}
	if b.TicketID != 0 && b.RidesLeft < 1 {
		return false
	}
	return b.Scope.Covers(r, benefits.Shanghai)
}

// alone reports whether b may only be used by itself.
func alone(b benefits.Benefit) bool {
	return b.Terms.Exclusive || !slices.Contains(couponKinds, b.Kind)
}

// modelApply runs a combination, in the order given, on a fare: the net
// fare, each saving, and false if one of them saves nothing.
func modelApply(fare int64, combo []benefits.Benefit) (int64, []int64, bool) {
	left := fare
	var savings []int64
	for _, b := range combo {
		var save int64
		switch b.Kind {
		case benefits.AmountOff:
			save = min(b.Terms.AmountOff, left)
		case benefits.FixedPrice:
			if b.Terms.FixedPrice < left {
				save = left - b.Terms.FixedPrice
			}
		case benefits.Percentage:
			// big.Int: no overflow whatever the fare.
			s := new(big.Int).Mul(big.NewInt(left), big.NewInt(int64(b.Terms.PercentOff)))
			save = s.Quo(s, big.NewInt(100)).Int64()
			if b.Terms.Cap > 0 && save > b.Terms.Cap {
				save = b.Terms.Cap
			}
		default:
			save = left
		}
		if save <= 0 {
			return 0, nil, false
		}
		left -= save
		savings = append(savings, save)
	}
	return left, savings, true
}

// rank is what the rules compare, in order.
type rank struct {
	net      int64
	held     int
	expiries []time.Time // of the held tickets, soonest first
	tickets  []int64     // held ticket IDs, ascending
	camps    []int64     // automatic benefits' campaign IDs, ascending
}

func rankOf(fare int64, combo []benefits.Benefit) (rank, bool) {
	net, _, ok := modelApply(fare, combo)
	if !ok {
		return rank{}, false
	}
	rk := rank{net: net}
	for _, b := range combo {
		if b.TicketID != 0 {
			rk.held++
			rk.expiries = append(rk.expiries, b.Window.Until)
			rk.tickets = append(rk.tickets, b.TicketID)
		} else {
			rk.camps = append(rk.camps, b.CampaignID)
		}
	}
	slices.SortFunc(rk.expiries, time.Time.Compare)
	slices.Sort(rk.tickets)
	slices.Sort(rk.camps)
	return rk, true
}

func cmpRank(a, b rank) int {
	if a.net != b.net {
		return cmpI(a.net, b.net)
	}
	if a.held != b.held {
		return cmpI(int64(a.held), int64(b.held))
	}
	if c := slices.CompareFunc(a.expiries, b.expiries, time.Time.Compare); c != 0 {
		return c
	}
	if c := slices.Compare(a.tickets, b.tickets); c != 0 {
		return c
	}
	return slices.Compare(a.camps, b.camps)
}

func cmpI(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// allCombos lists every allowed combination of the eligible benefits: each
// one alone, and every choice of at most one combinable coupon of each kind,
// in the order of application.
func allCombos(r benefits.Ride, cands []benefits.Benefit) [][]benefits.Benefit {
	if r.Fare <= 0 {
		return nil
	}
	var out [][]benefits.Benefit
	var byKind [3][]benefits.Benefit
	for _, b := range cands {
		if !modelEligible(b, r) {
			continue
		}
		if alone(b) {
			out = append(out, []benefits.Benefit{b})
			continue
		}
		k := slices.Index(couponKinds, b.Kind)
		byKind[k] = append(byKind[k], b)
	}
	var walk func(k int, combo []benefits.Benefit)
	walk = func(k int, combo []benefits.Benefit) {
		if k == len(byKind) {
			if len(combo) > 0 {
				out = append(out, slices.Clone(combo))
			}
			return
		}
		walk(k+1, combo)
		for _, b := range byKind[k] {
			walk(k+1, append(combo, b))
		}
	}
	walk(0, nil)
	return out
}

// eligibleOfKind counts the eligible combinable coupons of each kind.
func eligibleOfKind(r benefits.Ride, cands []benefits.Benefit) map[benefits.Kind]int {
	n := map[benefits.Kind]int{}
	for _, b := range cands {
		if modelEligible(b, r) && !alone(b) {
			n[b.Kind]++
		}
	}
	return n
}

type fataler interface {
	Fatalf(format string, args ...any)
}

// chosen maps a selection back to the candidates it used (IDs are unique:
// ticket IDs among held tickets, campaign IDs among automatic benefits).
func chosen(t fataler, cands []benefits.Benefit, sel benefits.Selection) []benefits.Benefit {
	var out []benefits.Benefit
	for _, a := range sel.Applied {
		i := slices.IndexFunc(cands, func(b benefits.Benefit) bool {
			return b.Kind == a.Kind && b.TicketID == a.TicketID && (a.TicketID != 0 || b.CampaignID == a.CampaignID)
		})
		if i < 0 {
			t.Fatalf("applied %+v is none of the candidates", a)
		}
		if cands[i].CampaignID != a.CampaignID {
			t.Fatalf("applied %+v names campaign %d, the benefit's is %d", a, a.CampaignID, cands[i].CampaignID)
		}
		out = append(out, cands[i])
	}
	return out
}

// checkInvariants checks what holds for every selection.
func checkInvariants(t fataler, r benefits.Ride, cands []benefits.Benefit, sel benefits.Selection) {
	if sel.Fare != r.Fare {
		t.Fatalf("fare %d, the ride's is %d", sel.Fare, r.Fare)
	}
	if r.Fare <= 0 {
		if sel.Net != 0 || len(sel.Applied) != 0 {
			t.Fatalf("fare %d: net %d applied %+v, want 0 and nothing", r.Fare, sel.Net, sel.Applied)
		}
		return
	}
	if sel.Net < 0 || sel.Net > sel.Fare {
		t.Fatalf("net %d outside [0, %d]", sel.Net, sel.Fare)
	}
	left := sel.Fare
	for _, a := range sel.Applied {
		if a.Saving <= 0 {
			t.Fatalf("applied %+v saves nothing", a)
		}
		left -= a.Saving
	}
	if left != sel.Net {
		t.Fatalf("fare %d minus savings is %d, net %d", sel.Fare, left, sel.Net)
	}
	used := chosen(t, cands, sel)
	last := -1
	for _, b := range used {
		if !modelEligible(b, r) {
			t.Fatalf("applied an ineligible benefit %+v", b)
		}
		if alone(b) && len(used) != 1 {
			t.Fatalf("%s (exclusive %v) combined with others: %+v", b.Kind, b.Terms.Exclusive, sel.Applied)
		}
		if !alone(b) {
			k := slices.Index(couponKinds, b.Kind)
			if k <= last {
				t.Fatalf("two of a kind or out of order: %+v", sel.Applied)
			}
			last = k
		}
	}
	net, savings, ok := modelApply(r.Fare, used)
	if len(used) > 0 && (!ok || net != sel.Net || !slices.Equal(savings, savingsOf(sel))) {
		t.Fatalf("replaying %+v gives net %d savings %v (ok %v)", sel.Applied, net, savings, ok)
	}
}

func savingsOf(sel benefits.Selection) []int64 {
	var s []int64
	for _, a := range sel.Applied {
		s = append(s, a.Saving)
	}
	return s
}

// checkOptimal compares the selection with every allowed combination.
func checkOptimal(t fataler, r benefits.Ride, cands []benefits.Benefit, sel benefits.Selection) {
	combos := allCombos(r, cands)
	var best []benefits.Benefit
	var bestRank rank
	for _, c := range combos {
		rk, ok := rankOf(r.Fare, c)
		if !ok {
			continue
		}
		if best == nil || cmpRank(rk, bestRank) < 0 {
			best, bestRank = c, rk
		}
	}
	if best == nil {
		if len(sel.Applied) != 0 || sel.Net != max(r.Fare, 0) {
			t.Fatalf("no combination saves anything, yet net %d applied %+v", sel.Net, sel.Applied)
		}
		return
	}
	got, ok := rankOf(r.Fare, chosen(t, cands, sel))
	if !ok || len(sel.Applied) == 0 {
		got = rank{net: r.Fare}
	}
	switch {
	case bestRank.net < got.net:
		t.Fatalf("net %d (%+v), but %s gives %d", sel.Net, sel.Applied, describe(best), bestRank.net)
	case bestRank.net == got.net && bestRank.held < got.held:
		t.Fatalf("net %d with %d held tickets (%+v), but %s needs %d", sel.Net, got.held, sel.Applied, describe(best), bestRank.held)
	case cmpRank(bestRank, got) != 0:
		t.Fatalf("chose %+v (%+v), the tie-breaks prefer %s (%+v)", sel.Applied, got, describe(best), bestRank)
	}
}

func describe(c []benefits.Benefit) string {
	s := "["
	for i, b := range c {
		if i > 0 {
			s += " "
		}
		s += fmt.Sprintf("%s#t%d/c%d%+v", b.Kind, b.TicketID, b.CampaignID, b.Terms)
	}
	return s + "]"
}

// ---- Generators.

var (
	genStations = []string{"S1", "S2", "S3"}
	genLines    = []string{"L1", "L2"}
	genRiders   = []string{"student", "senior"}
	weekStart   = at(2026, 12, 7, 0, 0, 0) // Monday
)

func genRide(t *rapid.T) benefits.Ride {
	fare := int64(0)
	if rapid.IntRange(0, 9).Draw(t, "free") > 0 {
		fare = rapid.Int64Range(1, 3000).Draw(t, "fare")
	}
	r := benefits.Ride{
		ID: "r", Feed: "nbmetro", Fare: fare,
		From: rapid.SampledFrom(genStations).Draw(t, "from"), To: rapid.SampledFrom(genStations).Draw(t, "to"),
		FromLine: rapid.SampledFrom(genLines).Draw(t, "from_line"), ToLine: rapid.SampledFrom(genLines).Draw(t, "to_line"),
		EnteredAt: weekStart.Add(time.Duration(rapid.IntRange(0, 7*1440-1).Draw(t, "minute")) * time.Minute),
	}
	if rapid.Bool().Draw(t, "has_group") {
		r.RiderGroups = []string{rapid.SampledFrom(genRiders).Draw(t, "group")}
	}
	return r
}

func genTerms(t *rapid.T, k benefits.Kind) benefits.Terms {
	switch k {
	case benefits.AmountOff:
		return benefits.Terms{
			AmountOff: rapid.SampledFrom([]int64{1, 10, 50, 100, 150, 200, 300, 500, 1000, 5000}).Draw(t, "amount_off"),
			MinFare:   rapid.SampledFrom([]int64{0, 0, 0, 100, 500, 1000, 2000}).Draw(t, "min_fare"),
		}
	case benefits.FixedPrice:
		return benefits.Terms{FixedPrice: rapid.SampledFrom([]int64{0, 50, 100, 200, 300, 400, 500, 800, 1000, 2000}).Draw(t, "fixed_price")}
	case benefits.Percentage:
		return benefits.Terms{
			PercentOff: rapid.OneOf(rapid.SampledFrom([]int{5, 10, 20, 25, 50, 90, 100}), rapid.IntRange(1, 100)).Draw(t, "percent_off"),
			Cap:        rapid.SampledFrom([]int64{0, 0, 10, 50, 100, 300}).Draw(t, "cap"),
		}
	case benefits.MultiRide, benefits.PaperQR:
		return benefits.Terms{Rides: 5}
	}
	return benefits.Terms{}
}

func genScope(t *rapid.T) benefits.Scope {
	switch rapid.IntRange(0, 7).Draw(t, "scope") {
	case 0:
		return benefits.Scope{Lines: []string{rapid.SampledFrom(genLines).Draw(t, "line")}}
	case 1:
		return benefits.Scope{Weekdays: []int{rapid.IntRange(1, 7).Draw(t, "weekday")}}
	case 2:
		return benefits.Scope{FromMinute: rapid.IntRange(0, 1439).Draw(t, "from_minute"), ToMinute: rapid.IntRange(0, 1440).Draw(t, "to_minute")}
	case 3:
		return benefits.Scope{Riders: []string{rapid.SampledFrom(genRiders).Draw(t, "rider")}}
	}
	return benefits.Scope{}
}

// genWallet draws a ride and its candidates: up to perKind combinable
// coupons of each kind (percentages up to perPercentage), up to three
// exclusive coupons and three count tickets; about one in four automatic.
// Ticket IDs are unique, and so are automatic benefits' campaign IDs.
func genWallet(t *rapid.T, perKind, perPercentage int) (benefits.Ride, []benefits.Benefit) {
	r := genRide(t)
	var kinds []benefits.Kind
	var excl []bool
	for _, k := range couponKinds {
		n := perKind
		if k == benefits.Percentage {
			n = perPercentage
		}
		for range rapid.IntRange(0, n).Draw(t, "n_"+string(k)) {
			kinds, excl = append(kinds, k), append(excl, false)
		}
	}
	for range rapid.IntRange(0, 3).Draw(t, "n_exclusive") {
		kinds, excl = append(kinds, rapid.SampledFrom(couponKinds).Draw(t, "exclusive_kind")), append(excl, true)
	}
	for range rapid.IntRange(0, 3).Draw(t, "n_count") {
		kinds, excl = append(kinds, rapid.SampledFrom([]benefits.Kind{single, multi, paper}).Draw(t, "count_kind")), append(excl, false)
	}
	ids := make([]int64, len(kinds))
	for i := range ids {
		ids[i] = int64(i + 1)
	}
	ids = rapid.Permutation(ids).Draw(t, "ids")
	cands := make([]benefits.Benefit, len(kinds))
	for i, k := range kinds {
		b := benefits.Benefit{Kind: k, Terms: genTerms(t, k), Scope: genScope(t)}
		b.Terms.Exclusive = excl[i]
		if rapid.IntRange(0, 3).Draw(t, "automatic") == 0 {
			b.CampaignID = 1000 + ids[i]
		} else {
			b.TicketID = ids[i]
			b.CampaignID = rapid.Int64Range(0, 3).Draw(t, "campaign")
			b.RidesLeft = rapid.SampledFrom([]int{0, 1, 1, 1, 2, 5}).Draw(t, "rides_left")
		}
		// A few whole hours around the ride, so expiries often tie; now
		// and then the window starts after the ride or ends before it.
		hour := r.EnteredAt.Truncate(time.Hour)
		b.Window = benefits.Window{
			From:  hour.Add(time.Duration(rapid.SampledFrom([]int{-48, -24, 0, 0, 1}).Draw(t, "from_h")) * time.Hour),
			Until: hour.Add(time.Duration(rapid.SampledFrom([]int{0, 24, 24, 48, 72, 1000}).Draw(t, "until_h")) * time.Hour),
		}
		cands[i] = b
	}
	return r, cands
}

// ---- Properties.

func TestSelectProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		r, cands := genWallet(t, 8, 8)
		sel := benefits.Select(r, benefits.Shanghai, cands)
		checkInvariants(t, r, cands, sel)
		checkOptimal(t, r, cands, sel)
	})
}

// TestSelectLargeWallets: with more than eight coupons of a kind the search
// keeps the eight saving most on the whole fare. That is still exact in the
// net fare for amount-off and fixed-price coupons (a larger saving on the
// whole fare leaves less at every later step), and never worse than the
// best single benefit.
func TestSelectLargeWallets(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		r, cands := genWallet(t, 20, 20)
		sel := benefits.Select(r, benefits.Shanghai, cands)
		checkInvariants(t, r, cands, sel)
		bestNet, bestSingle := r.Fare, r.Fare
		for _, c := range allCombos(r, cands) {
			net, _, ok := modelApply(r.Fare, c)
			if !ok {
				continue
			}
			bestNet = min(bestNet, net)
			if len(c) == 1 {
				bestSingle = min(bestSingle, net)
			}
		}
		if sel.Net > bestSingle {
			t.Fatalf("net %d (%+v), worse than the best single benefit's %d", sel.Net, sel.Applied, bestSingle)
		}
		if eligibleOfKind(r, cands)[benefits.Percentage] <= 8 && sel.Net != bestNet {
			t.Fatalf("net %d (%+v), best %d", sel.Net, sel.Applied, bestNet)
		}
	})
}

func TestSelectDeterministic(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		r, cands := genWallet(t, 12, 12)
		want := benefits.Select(r, benefits.Shanghai, cands)
		shuffled := rapid.Permutation(cands).Draw(t, "shuffled")
		if got := benefits.Select(r, benefits.Shanghai, shuffled); !reflect.DeepEqual(got, want) {
			t.Fatalf("shuffled: %+v\nfirst:    %+v", got, want)
		}
		if got := benefits.Select(r, benefits.Shanghai, cands); !reflect.DeepEqual(got, want) {
			t.Fatalf("again: %+v\nfirst: %+v", got, want)
		}
	})
}

// ---- Fuzzing.

// decodeWallet turns bytes into a ride and its candidates, terms not
// necessarily valid. Layout: one byte of mode (bit 0: an 8-byte raw fare,
// any int64, else 2 bytes, 0–4999 fen), the fare, 2 bytes of entry minute in
// the week, then 10 bytes a benefit:
//
//	kind (low 3 bits, 6–7 unknown) | 0x40 automatic | 0x80 exclusive,
//	int16 amount (AmountOff, FixedPrice or Cap), int8 second term (MinFare
//	in tens of fen or PercentOff), rides left − 1, window from and until in
//	hours around the entry (int8), scope selector and two scope values.
func decodeWallet(data []byte) (benefits.Ride, []benefits.Benefit) {
	next := func(n int) []byte {
		b := make([]byte, n)
		m := copy(b, data)
		data = data[m:]
		return b
	}
	mode := next(1)[0]
	r := benefits.Ride{ID: "fuzz", Feed: "nbmetro", From: "S1", To: "S2", FromLine: "L1", ToLine: "L2"}
	if mode&1 != 0 {
		r.Fare = int64(binary.BigEndian.Uint64(next(8)))
	} else {
		r.Fare = int64(binary.BigEndian.Uint16(next(2)) % 5000)
	}
	r.EnteredAt = weekStart.Add(time.Duration(binary.BigEndian.Uint16(next(2))%(7*1440)) * time.Minute)
	if mode&2 != 0 {
		r.RiderGroups = []string{"student"}
	}
	kinds := []benefits.Kind{A, F, P, single, multi, paper, "season", ""}
	var cands []benefits.Benefit
	for i := int64(1); len(data) > 0 && i <= 40; i++ {
		c := next(10)
		b := benefits.Benefit{Kind: kinds[c[0]&7]}
		if c[0]&0x40 != 0 {
			b.CampaignID = i
		} else {
			b.TicketID = i
		}
		b.Terms.Exclusive = c[0]&0x80 != 0
		amount := int64(int16(binary.BigEndian.Uint16(c[1:3])))
		second := int64(int8(c[3]))
		switch b.Kind {
		case A:
			b.Terms.AmountOff, b.Terms.MinFare = amount, second*10
		case F:
			b.Terms.FixedPrice = amount
		case P:
			b.Terms.PercentOff, b.Terms.Cap = int(second), amount
		}
		b.RidesLeft = int(c[4]%4) - 1
		b.Window.From = r.EnteredAt.Add(time.Duration(int8(c[5])) * time.Hour)
		b.Window.Until = r.EnteredAt.Add(time.Duration(int8(c[6])) * time.Hour)
		switch c[7] % 8 {
		case 0:
			b.Scope.Lines = []string{genLines[c[8]%2]}
		case 1:
			b.Scope.Weekdays = []int{int(c[8] % 9)} // 0 and 8 are not weekdays
		case 2:
			b.Scope.FromMinute, b.Scope.ToMinute = int(c[8])*7, int(c[9])*7 // up to 1785, some invalid
		case 3:
			b.Scope.Riders = []string{genRiders[c[8]%2]}
		case 4:
			b.Scope.From, b.Scope.To = []string{genStations[c[8]%3]}, []string{genStations[c[9]%3]}
		case 5:
			b.Scope.Stations = []string{genStations[c[8]%3]}
		}
		cands = append(cands, b)
	}
	return r, cands
}

func FuzzSelect(f *testing.F) {
	benefit := func(kind byte, amount int16, second int8, rides, from, until, scope, v1, v2 byte) []byte {
		b := []byte{kind, 0, 0, byte(second), rides, from, until, scope, v1, v2}
		binary.BigEndian.PutUint16(b[1:3], uint16(amount))
		return b
	}
	wallet := func(mode byte, fare []byte, minute uint16, bs ...[]byte) []byte {
		out := append([]byte{mode}, fare...)
		out = binary.BigEndian.AppendUint16(out, minute)
		for _, b := range bs {
			out = append(out, b...)
		}
		return out
	}
	fare := func(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }
	anyWindow := func(kind byte, amount int16, second int8) []byte {
		return benefit(kind, amount, second, 2, 0xf0, 0x30, 7, 0, 0) // one ride left, window −16 h to +48 h, whole network
	}
	f.Add([]byte{})
	f.Add(wallet(0, fare(400), 510, anyWindow(0, 100, 0), anyWindow(2, 0, 50), anyWindow(1, 300, 0), anyWindow(3, 0, 0)))
	f.Add(wallet(0, fare(1000), 510, anyWindow(0x80|2, 0, 30), anyWindow(0, 100, 0), anyWindow(0x40|2, 0, 20)))
	f.Add(wallet(0, fare(0), 510, anyWindow(3, 0, 0)))
	// Malformed terms: a negative fixed price, a percentage above 100 %,
	// a negative amount off, a negative percentage.
	f.Add(wallet(0, fare(400), 510, anyWindow(1, -500, 0), anyWindow(2, 0, 120), anyWindow(0, -100, 0), anyWindow(2, 0, -20)))
	// Extreme fares: the largest int64 with a percentage, and a negative fare.
	f.Add(wallet(1, []byte{0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, 510, anyWindow(2, 0, 99), anyWindow(0, 32767, 0)))
	f.Add(wallet(1, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe, 0x0c}, 510, anyWindow(3, 0, 0)))
	// Scopes and windows that exclude the ride, unknown kinds.
	f.Add(wallet(2, fare(700), 1439, benefit(2, 0, 50, 2, 0x01, 0x30, 2, 200, 10), benefit(6, 100, 0, 2, 0xf0, 0x30, 1, 8, 0),
		benefit(0, 100, 10, 0, 0xf0, 0x30, 3, 1, 0), benefit(0x40|4, 0, 0, 0, 0xf0, 0x00, 4, 0, 1)))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, cands := decodeWallet(data)
		sel := benefits.Select(r, benefits.Shanghai, cands)
		checkInvariants(t, r, cands, sel)
		n := eligibleOfKind(r, cands)
		if n[A] <= 8 && n[F] <= 8 && n[P] <= 8 {
			checkOptimal(t, r, cands, sel)
		}
	})
}
