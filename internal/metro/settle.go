package metro

import (
	"strings"
	"time"

	"piao/internal/benefits"
)

// Payer is who bears a part of a trip's fare (SPEC M3).
type Payer string

// Payers of a ledger line.
const (
	Passenger Payer = "passenger" // what the rider is charged
	Operator  Payer = "operator"  // the operator's own discounts
	Merchant  Payer = "merchant"  // prepaid value a merchant or an individual bought
	Subsidy   Payer = "subsidy"   // government subsidies for special groups
)

// PayerOf says who funds a campaign from its owner: "operator", a
// merchant ("merchant:ID"), an individual who bought and gave the tickets
// ("account:ID", prepaid value like a merchant's) or a subsidy scheme
// ("subsidy:…"). Unknown owners are the operator's.
func PayerOf(owner string) Payer {
	switch {
	case strings.HasPrefix(owner, "merchant:"), strings.HasPrefix(owner, "account:"):
		return Merchant
	case strings.HasPrefix(owner, "subsidy:"):
		return Subsidy
	}
	return Operator
}

// Settlement is a settled trip's ledger line: its fare and who pays which
// part of it. Passenger + Operator + Merchant + Subsidy = Fare, always.
type Settlement struct {
	TripID    string    `json:"trip_id"`
	TripSeq   int64     `json:"-"`
	Account   int64     `json:"account"`
	At        time.Time `json:"at"` // when the trip began
	Fare      int64     `json:"fare"`
	Passenger int64     `json:"passenger"`
	Operator  int64     `json:"operator"`
	Merchant  int64     `json:"merchant"`
	Subsidy   int64     `json:"subsidy"`
	// Gift is set when a ticket received as a gift paid for the trip:
	// ride-more-save-more does not count such rides (M4).
	Gift    bool               `json:"gift,omitempty"`
	Applied []benefits.Applied `json:"applied,omitempty"`
}

// Holdings is what settlement knows of benefits when a run starts: every
// usable ticket by holder, the running automatic campaigns (free-ride days,
// subsidies), the campaigns with their counters, and riders' categories.
type Holdings struct {
	Tickets   map[int64][]benefits.Benefit // by holder account
	Gifted    map[int64]bool               // IDs of tickets received as gifts
	Auto      []benefits.Benefit           // automatic benefits (TicketID 0)
	Campaigns map[int64]benefits.Campaign  // by ID, with Uses and Spent
	Groups    map[int64][]GroupGrant       // rider categories by account
	// Spend, when set, gives every trip the spend tier its rider has
	// reached that month; MonthSpend is what each account paid on
	// trips settled before, by MonthIndex then account.
	Spend      SpendTiers
	MonthSpend map[int32]map[int64]int64
	// Bought are the held tickets a passenger paid for, by ticket ID:
	// their rides draw on the buyer's prepaid value in the journal.
	Bought map[int64]Bought
	// MerchantKinds is the kind of each merchant organisation owning a
	// campaign, by merchant ID (merchant.Kind: "merchant", "employer"):
	// which prepaid account its rides draw on.
	MerchantKinds map[int64]string
}

// GroupGrant is a rider category an account holds for a while, such as
// "teacher" from a verified subsidy enrolment.
type GroupGrant struct {
	Group  string          `json:"group"`
	Window benefits.Window `json:"window"`
}

// AutoRuns reports whether an automatic campaign gives its benefit to
// trips in its window: approved or active, not paused or terminated, as
// the operator left it when settlement runs.
func AutoRuns(c benefits.Campaign) bool {
	return c.Automatic() && (c.Status == benefits.Approved || c.Status == benefits.Active)
}

// Settler settles trips one after another against holdings it keeps up to
// date in memory: rides left on tickets, campaign uses and spending. It is
// not safe for concurrent use; settle one feed's trips in order with it.
type Settler struct {
	h   Holdings
	loc *time.Location
	// scratch, reused between trips
	cands  []benefits.Benefit
	groups []string
	// spent is what each account has paid in a month so far, with spend tiers on.
	spent map[accountMonth]int64
}

// NewSettler starts settling against h, reading local times in loc.
func NewSettler(h Holdings, loc *time.Location) *Settler {
	if h.Tickets == nil {
		h.Tickets = map[int64][]benefits.Benefit{}
	}
	if h.Campaigns == nil {
		h.Campaigns = map[int64]benefits.Campaign{}
	}
	return &Settler{h: h, loc: loc}
}

// Ride is the stacking engine's view of a trip.
func Ride(t Trip, groups []string) benefits.Ride {
	return benefits.Ride{
		ID: t.ID, Feed: t.Feed, From: t.From, To: t.To, FromLine: t.FromLine, ToLine: t.ToLine,
		Fare: t.Fare, EnteredAt: t.At(), RiderGroups: groups,
	}
}

// Settle gives the trip its best eligible benefits (SPEC V5, within the
// campaigns' budgets) and returns its ledger line, consuming the tickets
// used from the holdings.
func (s *Settler) Settle(t Trip) Settlement {
	if s.h.Spend == nil {
		return s.settle(t, nil)
	}
	// Spend tiers: the rider's spend this month picks the tier, and what
	// the rider pays adds to it.
	k := accountMonth{t.Account, MonthIndex(t.At(), s.loc)}
	if s.spent == nil {
		s.spent = map[accountMonth]int64{}
	}
	spent, ok := s.spent[k]
	if !ok {
		spent = s.h.MonthSpend[k.month][k.account]
	}
	var line Settlement
	if tier, ok := s.h.Spend.Benefit(t.At(), spent); ok {
		line = s.settle(t, &tier)
	} else {
		line = s.settle(t, nil)
	}
	s.spent[k] = spent + line.Passenger
	return line
}

// settle settles t with the rider's tickets, the automatic benefits and
// the spend tier's benefit, if any.
func (s *Settler) settle(t Trip, tier *benefits.Benefit) Settlement {
	line := Settlement{TripID: t.ID, TripSeq: t.Seq, Account: t.Account, At: t.At(), Fare: t.Fare, Passenger: t.Fare}
	held := s.h.Tickets[t.Account]
	if t.Fare <= 0 || (len(held) == 0 && len(s.h.Auto) == 0 && tier == nil) {
		return line
	}
	s.cands = append(append(s.cands[:0], held...), s.h.Auto...)
	if tier != nil {
		s.cands = append(s.cands, *tier)
	}
	s.groups = s.groups[:0]
	for _, g := range s.h.Groups[t.Account] {
		if g.Window.Contains(t.At()) {
			s.groups = append(s.groups, g.Group)
		}
	}
	sel := benefits.SelectWithinBudgets(Ride(t, s.groups), s.loc, s.cands, s.h.Campaigns)
	if len(sel.Applied) == 0 {
		return line
	}
	line.Passenger = sel.Net
	line.Applied = sel.Applied
	for _, a := range sel.Applied {
		c := s.h.Campaigns[a.CampaignID]
		switch PayerOf(c.Owner) {
		case Merchant:
			line.Merchant += a.Saving
		case Subsidy:
			line.Subsidy += a.Saving
		default:
			line.Operator += a.Saving
		}
		c.Uses++
		c.Spent += a.Saving
		s.h.Campaigns[a.CampaignID] = c
		if a.TicketID == 0 {
			continue
		}
		if s.h.Gifted[a.TicketID] {
			line.Gift = true
		}
		for i := range held {
			if held[i].TicketID == a.TicketID {
				held[i].RidesLeft--
				if held[i].RidesLeft <= 0 {
					held = append(held[:i], held[i+1:]...)
					s.h.Tickets[t.Account] = held
				}
				break
			}
		}
	}
	return line
}
