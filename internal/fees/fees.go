// Package fees computes refund (退票) and change (改签) fees from tables of
// time-before-departure tiers, the way 12306 charges them.
//
// All money is integer fen (1 yuan = 100 fen) and rates are basis points
// (1 % = 100), so no floating point touches a price. Tables are plain data
// with JSON tags, so an operator can read and edit them through the API;
// Table.Validate checks an edited table before it is used.
//
// The package is pure: no I/O and no clock. Callers pass how long before
// departure the refund or change happens.
package fees

import (
	"math"
	"time"

	"piao/internal/fault"
)

// MaxHoursBefore bounds Tier.MinHoursBefore (about 11 years), far beyond
// any pre-sale period, so converting it to a time.Duration cannot overflow.
const MaxHoursBefore = 100_000

// MaxPriceFen is the largest price Fee accepts (¥10 billion), which keeps
// every intermediate product within int64.
const MaxPriceFen int64 = 1_000_000_000_000

// Tier is one row of a fee table: when departure is at least MinHoursBefore
// hours away, the fee is BasisPoints/10000 of the price.
type Tier struct {
	// MinHoursBefore is how many hours before departure, at least, the
	// tier applies from, e.g. 192 for eight days. Fractions are allowed and
	// are rounded to the nearest second.
	MinHoursBefore float64 `json:"min_hours_before"`
	// BasisPoints is the fee rate in hundredths of a percent: 500 is 5 %,
	// 10000 is the whole price.
	BasisPoints int `json:"basis_points"`
}

// MinBefore returns MinHoursBefore as a duration, rounded to the second.
func (t Tier) MinBefore() time.Duration {
	return time.Duration(math.Round(t.MinHoursBefore*3600)) * time.Second
}

// Table is a fee schedule. The fee for a price is found from the first tier,
// in order, whose MinBefore is at most the time left before departure; a
// table whose last tier starts above zero refuses to refund or change
// closer to departure than that.
type Table struct {
	// Tiers are sorted by MinHoursBefore, strictly descending, with rates
	// that never fall closer to departure.
	Tiers []Tier `json:"tiers"`
	// MinimumFen is the smallest fee charged whenever the rate is above
	// zero (a free tier stays free); the fee still never exceeds the price.
	MinimumFen int64 `json:"minimum_fen"`
	// RoundToFen rounds the fee to the nearest multiple of this many fen,
	// halves up: 50 rounds to ¥0.5.
	RoundToFen int64 `json:"round_to_fen"`
}

// DefaultRefund returns the 12306 refund table: free from 8 days (192 h)
// before departure; 5 % from 48 h; 10 % from 24 h; 20 % under 24 h; at
// least ¥2 whenever a fee is due; fees rounded to the nearest ¥0.5. A fresh
// copy is returned each time, so callers may edit it.
func DefaultRefund() Table {
	return Table{
		Tiers: []Tier{
			{MinHoursBefore: 192, BasisPoints: 0},
			{MinHoursBefore: 48, BasisPoints: 500},
			{MinHoursBefore: 24, BasisPoints: 1000},
			{MinHoursBefore: 0, BasisPoints: 2000},
		},
		MinimumFen: 200,
		RoundToFen: 50,
	}
}

// DefaultChange returns the default change (改签) table, applied by
// ChangeQuote to the fare difference when the new ticket is cheaper: free
// from 48 h before the original departure, 5 % from 24 h, 10 % under 24 h,
// at least ¥2 when due, rounded to the nearest ¥0.5.
//
// This is editable configuration, not a fixed rule: 12306 itself charges
// the refund rates on such a difference, which an operator gets by using
// DefaultRefund as the change table. A fresh copy is returned each time.
func DefaultChange() Table {
	return Table{
		Tiers: []Tier{
			{MinHoursBefore: 48, BasisPoints: 0},
			{MinHoursBefore: 24, BasisPoints: 500},
			{MinHoursBefore: 0, BasisPoints: 1000},
		},
		MinimumFen: 200,
		RoundToFen: 50,
	}
}

func badTable(zh, en string) error {
	return fault.New(fault.Invalid, "bad_fee_table", "费率表无效："+zh, "invalid fee table: "+en)
}

// Validate checks that t is usable: at least one tier; each tier's hours
// finite and within 0..MaxHoursBefore and its rate within 0..10000 basis
// points; tiers strictly descending by time with rates that never fall
// closer to departure; MinimumFen ≥ 0 and RoundToFen > 0. Errors are
// fault.Invalid with reason bad_fee_table.
func (t Table) Validate() error {
	if len(t.Tiers) == 0 {
		return badTable("至少需要一档", "at least one tier is needed")
	}
	for i, tier := range t.Tiers {
		h := tier.MinHoursBefore
		if math.IsNaN(h) || h < 0 || h > MaxHoursBefore {
			return fault.Newf(fault.Invalid, "bad_fee_table", "费率表无效：第 %d 档的小时数须在 0 到 %d 之间", "invalid fee table: tier %d needs hours between 0 and %d", i+1, MaxHoursBefore)
		}
		if tier.BasisPoints < 0 || tier.BasisPoints > 10000 {
			return fault.Newf(fault.Invalid, "bad_fee_table", "费率表无效：第 %d 档的费率须在 0 到 10000 个基点（100%%）之间", "invalid fee table: tier %d needs a rate between 0 and 10000 basis points (100%%)", i+1)
		}
		if i > 0 {
			prev := t.Tiers[i-1]
			if tier.MinBefore() >= prev.MinBefore() {
				return badTable("各档须按距开车时间从远到近排列且不重复", "tiers must be sorted by time before departure, furthest first, without repeats")
			}
			if tier.BasisPoints < prev.BasisPoints {
				return badTable("越临近开车费率不能越低", "a rate may not fall closer to departure")
			}
		}
	}
	if t.MinimumFen < 0 {
		return badTable("最低收费不能为负", "the minimum fee cannot be negative")
	}
	if t.RoundToFen <= 0 {
		return badTable("取整单位须大于零", "the rounding unit must be positive")
	}
	return nil
}

// Rate returns the rate in basis points that applies before departure, or
// the errors Fee returns for a departed train or a time no tier covers.
func (t Table) Rate(before time.Duration) (int, error) {
	if err := t.Validate(); err != nil {
		return 0, err
	}
	return t.rate(before)
}

func (t Table) rate(before time.Duration) (int, error) {
	if before <= 0 {
		return 0, fault.New(fault.Invalid, "train_departed", "列车已开车，不能在线办理", "the train has departed; this cannot be done online")
	}
	for _, tier := range t.Tiers {
		if before >= tier.MinBefore() {
			return tier.BasisPoints, nil
		}
	}
	return 0, fault.New(fault.Invalid, "too_close_to_departure", "距开车时间过近，不能在线办理", "too close to departure to do this online")
}

// Fee returns the fee in fen for a ticket of priceFen when departure is
// before away: price × rate, rounded to the nearest RoundToFen (halves up),
// raised to MinimumFen when the rate is above zero, and capped at the price.
//
// It fails with fault.Invalid: train_departed when before ≤ 0 (the train
// has left; this must be done before departure), too_close_to_departure
// when no tier covers before, bad_price for a price outside
// 0..MaxPriceFen, or bad_fee_table when t does not validate.
func (t Table) Fee(priceFen int64, before time.Duration) (int64, error) {
	if err := t.Validate(); err != nil {
		return 0, err
	}
	if priceFen < 0 || priceFen > MaxPriceFen {
		return 0, fault.New(fault.Invalid, "bad_price", "票价无效", "invalid ticket price")
	}
	bp, err := t.rate(before)
	if err != nil {
		return 0, err
	}
	if bp == 0 || priceFen == 0 {
		return 0, nil
	}
	// fee = round(price × bp / 10000 / R) × R with halves up, in integers:
	// floor((2·price·bp + 10000·R) / (2·10000·R)) × R.
	den := 10000 * t.RoundToFen
	fee := (2*priceFen*int64(bp) + den) / (2 * den) * t.RoundToFen
	fee = max(fee, t.MinimumFen)
	return min(fee, priceFen), nil
}

// ChangeQuote prices a change from a ticket of oldFare to one of newFare,
// made before the original departure, using table t (see DefaultChange).
// When the new fare is the same or higher, the passenger pays the
// difference and no fee. When it is lower, the difference is refunded less
// the fee t charges on that difference. It fails like Table.Fee, so a
// change after departure is refused even when nothing is due.
func ChangeQuote(oldFare, newFare int64, before time.Duration, t Table) (payFen, refundFen, feeFen int64, err error) {
	if oldFare < 0 || oldFare > MaxPriceFen || newFare < 0 || newFare > MaxPriceFen {
		return 0, 0, 0, fault.New(fault.Invalid, "bad_price", "票价无效", "invalid ticket price")
	}
	if newFare >= oldFare {
		if _, err := t.Fee(0, before); err != nil {
			return 0, 0, 0, err
		}
		return newFare - oldFare, 0, 0, nil
	}
	diff := oldFare - newFare
	fee, err := t.Fee(diff, before)
	if err != nil {
		return 0, 0, 0, err
	}
	return 0, diff - fee, fee, nil
}
