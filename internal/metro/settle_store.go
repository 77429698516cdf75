package metro

import (
	"context"
	"time"

	"piao/internal/fault"
	"piao/internal/ledger"
)

// The store's refusals, the same on every engine.
var (
	ErrTripNotFound       = fault.New(fault.NotFound, "trip_not_found", "行程不存在", "trip not found")
	ErrSettlementNotFound = fault.New(fault.NotFound, "settlement_not_found", "该行程尚未结算", "the trip is not settled")
	ErrSettledAlready     = fault.New(fault.Conflict, "trip_settled", "行程已结算", "a trip in the batch is settled already")
	ErrTicketShort        = fault.New(fault.Conflict, "ticket_rides_short", "票券剩余次数不足", "a ticket has fewer rides left than the batch uses")
	ErrBudgetPassed       = fault.New(fault.Conflict, "budget_passed", "活动预算不足", "the batch would pass a campaign budget")
)

// Store keeps taps, trips and settlements. Taps are idempotent by ID,
// trips by ID and settlements by trip: writing any of them twice stores
// them once.
type Store interface {
	// AddTaps stores taps whose IDs are not stored yet and returns how
	// many were new; the rest are duplicates and change nothing.
	AddTaps(ctx context.Context, taps []Tap) (added int, err error)
	// OpenTaps returns the feed's taps not yet cleared into a trip, of
	// the accounts after afterAccount in account order, whole accounts
	// only, about limit taps (more when one account has more).
	OpenTaps(ctx context.Context, feed string, afterAccount int64, limit int) ([]Tap, error)
	// AddTrips stores trips whose IDs are not stored yet and marks the
	// given taps cleared, in one transaction; it returns how many trips
	// were new.
	AddTrips(ctx context.Context, trips []Trip, cleared []string) (added int, err error)
	// Trip returns a trip by ID.
	Trip(ctx context.Context, id string) (Trip, error)
	// AccountTrips returns an account's trips begun in [from, until).
	AccountTrips(ctx context.Context, account int64, from, until time.Time) ([]Trip, error)
	// Holdings reads what settlement of the feed's trips needs: the
	// tickets held for the feed usable at or after since, automatic
	// campaigns running at or after since, and riders' categories.
	Holdings(ctx context.Context, feed string, since time.Time) (Holdings, error)
	// Unsettled returns up to limit of the feed's trips with no
	// settlement and Seq above afterSeq, in Seq order.
	Unsettled(ctx context.Context, feed string, afterSeq int64, limit int) ([]Trip, error)
	// OldestUnsettled returns when the feed's oldest unsettled trip began
	// (zero time when every trip is settled).
	OldestUnsettled(ctx context.Context, feed string) (time.Time, error)
	// Settle writes ledger lines and everything they use — ticket rides,
	// campaign counters, use records — in one transaction. If any trip is
	// settled already, a ticket has fewer rides left than used, or a
	// campaign budget would be passed, nothing is written and the error
	// is a conflict: the caller reloads its holdings and settles again.
	// The batch's journal entry, when given, is posted in the same
	// transaction (see ledger.Store.Post) and every line is linked to it.
	Settle(ctx context.Context, lines []Settlement, entry *ledger.Entry) error
	// Settlement returns the ledger line of a trip.
	Settlement(ctx context.Context, tripID string) (Settlement, error)
	// SettledRides returns the feed's settled trips entered in [from,
	// until) of the accounts after afterAccount, in (account, entry)
	// order, whole accounts only, about limit trips (more when one account
	// has more): what ride-more-save-more counts (M4).
	SettledRides(ctx context.Context, feed string, afterAccount int64, from, until time.Time, limit int) ([]SettledRide, error)
	// MonthSpend sums, by account, what riders paid (the passenger part of
	// the ledger lines) on the feed's trips begun in [from, until): the
	// spend monthly spend tiers start from.
	MonthSpend(ctx context.Context, feed string, from, until time.Time) (map[int64]int64, error)
	// GrantGroups gives accounts rider categories for a while (replacing
	// a grant of the same category), as verified subsidy enrolments do.
	GrantGroups(ctx context.Context, grants []AccountGroup) error
	// RiderGroups returns the categories an account holds at a time, by
	// the grants above, in name order.
	RiderGroups(ctx context.Context, account int64, at time.Time) ([]string, error)
	// UseStats counts the uses of a campaign's benefit by entry station,
	// exit station and hour of entry (local time), for trips begun in
	// [from, until).
	UseStats(ctx context.Context, campaignID int64, from, until time.Time) ([]UseCount, error)
}

// SettledRide is a settled trip with what its rider paid: the trip's ID,
// account, status, entry and fare, and of its ledger line the passenger's
// part and whether a gift ticket paid.
type SettledRide struct {
	Trip      Trip  `json:"trip"`
	Passenger int64 `json:"passenger"`
	Gift      bool  `json:"gift,omitempty"`
}

// AccountGroup is a rider category granted to an account.
type AccountGroup struct {
	Account int64 `json:"account"`
	GroupGrant
}

// UseCount is how many trips used a benefit and what it saved, for one
// entry station, exit station and hour of the day.
type UseCount struct {
	From   string `json:"from"`
	To     string `json:"to"`
	Hour   int    `json:"hour"` // 0–23, local time of entry
	Trips  int    `json:"trips"`
	Saving int64  `json:"saving"` // fen
}
