// Package ridemore holds the ride-more-save-more rules (多乘多惠, SPEC M4):
// Ningbo's monthly ride counts that earn reward tickets issued early the
// next month, and Beijing-style monthly spend tiers that discount the rides
// after a threshold is reached.
//
// The rules are pure: plain data in, plain data out, no I/O, no clock, no
// globals; months and days are Asia/Shanghai. IssueMonthly, the job that
// issues a month's rewards, reads and writes only through the interfaces
// it is given. See docs/RIDEMORE.md for the rules and the assumptions
// behind them.
package ridemore

import (
	"piao/internal/fault"
)

// Kind is which of the two rule types a Rule is.
type Kind string

// The rule kinds.
const (
	// CountKind is Ningbo's 多乘多惠: rides counted per month earn reward tickets.
	CountKind Kind = "ningbo_count"
	// SpendKind is Beijing's monthly spend tiers: rides after a spend threshold are discounted.
	SpendKind Kind = "spend_tiers"
)

// Rule is one ride-more-save-more rule as the operator configures it: an
// ID, names, and the settings of exactly one kind.
type Rule struct {
	// ID names the rule in idempotency keys: 1–64 of a–z, 0–9, '-', '_'.
	ID     string `json:"id"`
	Kind   Kind   `json:"kind"`
	NameZH string `json:"name_zh"`
	NameEN string `json:"name_en"`
	// CampaignID is the campaign rewards are issued from and spend
	// discounts are booked to (0: none yet).
	CampaignID int64 `json:"campaign_id,omitempty"`
	// Count is set for CountKind, Spend for SpendKind; never both.
	Count *CountRule `json:"count,omitempty"`
	Spend *SpendRule `json:"spend,omitempty"`
}

// Validate checks a rule, returning a fault.Invalid error with zh-CN and
// English messages for the first problem found.
func (r Rule) Validate() error {
	if !validID(r.ID) {
		return invalid("bad_rule_id", "规则编号须为 1 至 64 位小写字母、数字、“-”或“_”", "a rule ID is 1–64 of a–z, 0–9, '-' and '_'")
	}
	if r.NameZH == "" && r.NameEN == "" {
		return invalid("rule_name_required", "请填写规则名称", "a rule needs a name")
	}
	if len(r.NameZH) > 180 || len(r.NameEN) > 180 {
		return invalid("rule_name_too_long", "规则名称过长", "the rule name is too long")
	}
	if r.CampaignID < 0 {
		return invalid("bad_campaign_id", "活动编号无效", "the campaign ID is not valid")
	}
	switch r.Kind {
	case CountKind:
		if r.Count == nil || r.Spend != nil {
			return invalid("rule_settings_mismatch", "按次数累计规则须且只须填写 count 设置", "a ningbo_count rule needs count settings and no spend settings")
		}
		return r.Count.Validate()
	case SpendKind:
		if r.Spend == nil || r.Count != nil {
			return invalid("rule_settings_mismatch", "按消费金额累计规则须且只须填写 spend 设置", "a spend_tiers rule needs spend settings and no count settings")
		}
		return r.Spend.Validate()
	}
	return fault.Newf(fault.Invalid, "bad_rule_kind", "未知的规则类型 %q（应为 ningbo_count 或 spend_tiers）", "unknown rule kind %q (want ningbo_count or spend_tiers)", r.Kind)
}

func invalid(reason, zh, en string) error { return fault.New(fault.Invalid, reason, zh, en) }

func validID(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// Ningbo returns Ningbo Rail Transit's 多乘多惠 as relaunched in 2023, each
// "N 次电子票" modelled as N tickets of singleRide (a single-ride product
// valid on any distance): before 20:00 3–9 rides earn 2, 10–29 earn 6,
// 30–44 earn 10, 45–59 earn 20, 60 or more earn 30; from 20:00 10–19 earn
// 10, 20 or more earn 20, and fewer than 10 evening rides count as
// before-20:00 rides; issued in the first 3 days of the next month, valid
// 60 days.
func Ningbo(id string, campaignID, singleRide int64) Rule {
	t := func(min, n int) Tier { return Tier{MinRides: min, ProductID: singleRide, Tickets: n} }
	return Rule{
		ID: id, Kind: CountKind, CampaignID: campaignID,
		NameZH: "多乘多惠", NameEN: "Ride more, save more",
		Count: &CountRule{
			EveningFrom: 20 * 60,
			Day:         []Tier{t(3, 2), t(10, 6), t(30, 10), t(45, 20), t(60, 30)},
			Evening:     []Tier{t(10, 10), t(20, 20)},
			FoldEvening: true,
			IssueDays:   3,
			ValidDays:   60,
		},
	}
}

// Beijing returns Beijing's monthly spend tiers: after ¥100 spent in a
// month the following rides are 20 % off, after ¥150 50 % off, and after
// ¥400 no longer discounted.
func Beijing(id string, campaignID int64) Rule {
	return Rule{
		ID: id, Kind: SpendKind, CampaignID: campaignID,
		NameZH: "月度累计消费优惠", NameEN: "Monthly spend discount",
		Spend: &SpendRule{Tiers: []SpendTier{{From: 100_00, PercentOff: 20}, {From: 150_00, PercentOff: 50}, {From: 400_00, PercentOff: 0}}},
	}
}
