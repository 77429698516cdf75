package employer

import (
	"fmt"
	"strconv"
	"time"

	"piao/internal/benefits"
	"piao/internal/fault"
)

// Paying is how an employer pays for the rides its allowance pays.
type Paying string

// The ways of paying.
const (
	// Prepaid employers top up a balance through the payment gateway; the
	// allowance spends no more than was topped up.
	Prepaid Paying = "prepaid"
	// Invoiced employers get a bill each month for what settlement charged
	// them the month before; their allowance spends at most its monthly
	// credit, added at each month's issue.
	Invoiced Paying = "invoiced"
)

// Offboarding is what happens to an employee's allowance when they leave.
type Offboarding string

// The offboarding policies.
const (
	RevokeUnused Offboarding = "revoke" // unused allowance is taken back at once
	KeepToExpiry Offboarding = "keep"   // it runs to the end of its month
)

// AllowanceRule is an employer's monthly allowance: Rides rides a month per
// active linked employee, within Scope on the metro network Feed. It is
// carried by a benefits product (a single- or multi-ride ticket) and a
// campaign the employer owns, reviewed by the operator like any merchant
// campaign; each month's ticket is valid to the end of its month
// (Asia/Shanghai).
//
// ¥X of fares is not offered: no benefits product kind spends a value
// over several rides (amount-off and fixed-price coupons are used once),
// so the allowance is counted in rides.
type AllowanceRule struct {
	ID       int64          `json:"id"`
	Employer int64          `json:"employer_id"`
	Rides    int            `json:"rides"`
	Feed     string         `json:"feed"`
	Scope    benefits.Scope `json:"scope"`
	Offboard Offboarding    `json:"offboarding"`
	Paying   Paying         `json:"paying"`
	// MonthlyCreditFen is, for an invoiced employer, the most its
	// allowance may spend a month: added to the campaign's budget at each
	// month's issue (what a month leaves unspent carries over).
	MonthlyCreditFen int64     `json:"monthly_credit_fen,omitempty"`
	ProductID        int64     `json:"product_id"`
	CampaignID       int64     `json:"campaign_id"`
	CreatedBy        string    `json:"created_by"`
	CreatedAt        time.Time `json:"created_at"`
	UpdatedAt        time.Time `json:"updated_at"`
}

// RuleSubject is how the audit trail names a rule.
func RuleSubject(id int64) string { return "allowance_rule:" + strconv.FormatInt(id, 10) }

// MaxRides is the most rides a month's allowance holds.
const MaxRides = 200

// MaxMonthlyCredit is the most an invoiced employer's allowance may spend
// a month: ¥1,000,000.
const MaxMonthlyCredit = 100_000_000

// Check validates the rule's own numbers (its scope is checked against the
// network when its product is made).
func (r AllowanceRule) Check() error {
	bad := func(reason, zh, en string) error { return fault.New(fault.Invalid, reason, zh, en) }
	switch {
	case r.Rides < 1 || r.Rides > MaxRides:
		return fault.Newf(fault.Invalid, "bad_allowance_rides", "每月次数应在 1 至 %d 之间", "the monthly rides must be 1 to %d", MaxRides)
	case r.Feed == "":
		return bad("feed_required", "请选择线网", "choose the metro network (feed)")
	case r.Offboard != RevokeUnused && r.Offboard != KeepToExpiry:
		return bad("bad_offboarding", "离职处理应为 revoke（立即收回）或 keep（用至月底）", "offboarding is revoke (take back at once) or keep (runs to the month's end)")
	case r.Paying != Prepaid && r.Paying != Invoiced:
		return bad("bad_paying", "付费方式应为 prepaid（预付）或 invoiced（月结）", "paying is prepaid or invoiced")
	case r.Paying == Invoiced && (r.MonthlyCreditFen < 1 || r.MonthlyCreditFen > MaxMonthlyCredit):
		return fault.Newf(fault.Invalid, "bad_monthly_credit", "月结企业须设每月额度 1 分至 %d 分", "an invoiced employer needs a monthly credit of 1 to %d fen", MaxMonthlyCredit)
	case r.Paying == Prepaid && r.MonthlyCreditFen != 0:
		return bad("credit_for_prepaid", "预付企业不设月度额度：余额即额度", "a prepaid employer has no monthly credit: its balance is the limit")
	}
	return nil
}

// Product is the benefits product that carries the rule: one ticket of
// Rides rides, valid 31 days from issue (each month's issue cuts it at the
// month's end).
func (r AllowanceRule) Product(employerName string) benefits.Product {
	p := benefits.Product{
		Kind: benefits.SingleRide, Feed: r.Feed, Scope: r.Scope,
		NameZH: fmt.Sprintf("%s 通勤补贴 每月 %d 次", employerName, r.Rides),
		NameEN: fmt.Sprintf("%s travel allowance, %d rides a month", employerName, r.Rides),
		Valid:  benefits.Validity{Days: 31},
		Cover:  benefits.Cover{Text: "通勤补贴 / Travel allowance"},
	}
	if r.Rides > 1 {
		p.Kind, p.Terms.Rides = benefits.MultiRide, r.Rides
	}
	return p
}

// CampaignYears is how long an allowance campaign runs: a rule lasts as
// long, then a new one is made.
const CampaignYears = 3

// Month is a calendar month in Asia/Shanghai.
type Month struct {
	Year  int
	Month time.Month
}

// MonthOf is the month t falls in, in Asia/Shanghai.
func MonthOf(t time.Time) Month {
	l := t.In(benefits.Shanghai)
	return Month{l.Year(), l.Month()}
}

// ParseMonth reads YYYY-MM.
func ParseMonth(s string) (Month, error) {
	t, err := time.ParseInLocation("2006-01", s, benefits.Shanghai)
	if err != nil {
		return Month{}, fault.Newf(fault.Invalid, "bad_month", "月份 %q 应为 YYYY-MM", "the month %q is not YYYY-MM", s)
	}
	return MonthOf(t), nil
}

// String is the month as YYYY-MM.
func (m Month) String() string { return fmt.Sprintf("%04d-%02d", m.Year, int(m.Month)) }

// Start is the month's first instant.
func (m Month) Start() time.Time { return time.Date(m.Year, m.Month, 1, 0, 0, 0, 0, benefits.Shanghai) }

// End is the first instant of the next month.
func (m Month) End() time.Time { return m.Start().AddDate(0, 1, 0) }

// Prev is the month before.
func (m Month) Prev() Month { return MonthOf(m.Start().AddDate(0, 0, -1)) }

// IssueKey is the idempotency key of an employee's allowance for a month:
// benefits issues one ticket per key, so however often or however many at
// once the month is issued, each employee gets one ticket for it.
func IssueKey(rule, employee int64, m Month) string {
	return fmt.Sprintf("allowance:%d:%d:%s", rule, employee, m)
}

// creditKey is the funding key of an invoiced employer's monthly credit.
func creditKey(rule int64, m Month) string { return fmt.Sprintf("allowance:%d:credit:%s", rule, m) }

// stockKey is the funding key of an allowance campaign's stock: stock
// never bounds an allowance (its money does), so it is set once, to the
// most a campaign holds.
func stockKey(rule int64) string { return fmt.Sprintf("allowance:%d:stock", rule) }

// allowanceStock is the stock an allowance campaign gets: the most any
// campaign holds.
const allowanceStock = 10_000_000
