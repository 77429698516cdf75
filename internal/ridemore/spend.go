package ridemore

import (
	"time"

	"piao/internal/benefits"
	"piao/internal/metro"
)

// SpendRule is Beijing's monthly spend tiers: once the rider's spend in
// a calendar month has reached a tier's From, the following rides get its
// discount. The ride that reaches a threshold pays its full fare.
type SpendRule struct {
	// Tiers ascend by From; a tier of 0 % ends the discounts (Beijing: ¥400).
	Tiers []SpendTier `json:"tiers"`
}

// SpendTier is one threshold: rides after From fen spent this month are
// PercentOff % off.
type SpendTier struct {
	From       int64 `json:"from"`
	PercentOff int   `json:"percent_off"`
}

// SpendState is an account's spend on rides in one month, what the hot
// path carries from ride to ride.
type SpendState struct {
	Month Month `json:"month"`
	Spent int64 `json:"spent"` // fen paid this month, after all benefits
}

// Validate checks the spend settings.
func (s SpendRule) Validate() error {
	if len(s.Tiers) == 0 {
		return invalid("tiers_required", "请至少设置一个档位", "a spend rule needs at least one tier")
	}
	if len(s.Tiers) > 20 {
		return invalid("too_many_tiers", "最多 20 个档位", "at most 20 tiers")
	}
	some := false
	for i, t := range s.Tiers {
		switch {
		case t.From <= 0 || t.From > 100_000_00:
			return invalid("bad_spend_from", "档位金额应在 0.01 元至 100000 元之间", "a tier's spend must be ¥0.01 to ¥100,000")
		case i > 0 && t.From <= s.Tiers[i-1].From:
			return invalid("tiers_not_ascending", "档位金额须严格递增", "tiers must have strictly ascending spend")
		case t.PercentOff < 0 || t.PercentOff > 100:
			return invalid("bad_percent_off", "折扣应在 0% 至 100% 之间", "the discount must be 0 % to 100 %")
		}
		some = some || t.PercentOff > 0
	}
	if !some {
		return invalid("no_discount", "至少一个档位须有折扣", "at least one tier must give a discount")
	}
	return nil
}

// Percent returns the discount, in percent, of a ride taken after spent
// fen this month.
func (s SpendRule) Percent(spent int64) int {
	for i := len(s.Tiers) - 1; i >= 0; i-- {
		if spent >= s.Tiers[i].From {
			return s.Tiers[i].PercentOff
		}
	}
	return 0
}

// Discount returns the fen taken off a ride of fare after spent fen this
// month, and the spend after the ride. The saving is rounded down as the
// stacking engine rounds a percentage; it is never below 0 nor above the
// fare. It does not allocate.
func (s SpendRule) Discount(spent, fare int64) (off, next int64) {
	if fare <= 0 {
		return 0, spent
	}
	if p := int64(s.Percent(spent)); p > 0 {
		off = fare/100*p + fare%100*p/100
	}
	return off, spent + fare - off
}

// Step applies the rule to a ride entered at at, Asia/Shanghai, of fare
// (after any other benefit): the spend starts again from 0 when the ride
// is in another month than st. Rides of an account must be stepped in
// the order they entered. It does not allocate.
func (s SpendRule) Step(st SpendState, at time.Time, fare int64) (off int64, next SpendState) {
	m := MonthOf(at)
	if m != st.Month {
		st = SpendState{Month: m}
	}
	off, st.Spent = s.Discount(st.Spent, fare)
	return off, st
}

// Benefit returns the automatic benefit (TicketID 0, a combinable
// percentage, valid for month) a ride gets after spent fen in month, for
// benefits.Select to weigh against the rider's coupons; false when no
// discount applies. After the ride the new spend is spent + the net fare
// Select returns.
func (s SpendRule) Benefit(campaignID int64, month Month, spent int64) (benefits.Benefit, bool) {
	p := s.Percent(spent)
	if p <= 0 {
		return benefits.Benefit{}, false
	}
	return benefits.Benefit{
		CampaignID: campaignID, Kind: benefits.Percentage,
		Terms: benefits.Terms{PercentOff: p}, Window: month.Window(),
	}, true
}

// spendTiers is a spend rule as settlement applies it (metro.SpendTiers).
type spendTiers struct {
	rule       SpendRule
	campaignID int64
}

func (s spendTiers) Benefit(at time.Time, spent int64) (benefits.Benefit, bool) {
	return s.rule.Benefit(s.campaignID, MonthOf(at), spent)
}

// SpendTiers returns the spend_tiers rule r as settlement applies it,
// its discounts booked to r's campaign.
func (r Rule) SpendTiers() (metro.SpendTiers, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	if r.Kind != SpendKind {
		return nil, invalid("not_a_spend_rule", "该规则不是累计消费规则", "this rule is not a spend_tiers rule")
	}
	if r.CampaignID <= 0 {
		return nil, invalid("campaign_required", "规则须指定记账的活动", "the rule needs the campaign its discounts are booked to")
	}
	return spendTiers{*r.Spend, r.CampaignID}, nil
}
