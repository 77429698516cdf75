// Package subsidy holds the ride subsidies for special groups (特殊人群乘车
// 补贴, SPEC M5) — teachers, high-level talents, seniors and others ride
// free or at a discount — and the enrolment lifecycle: application with
// evidence, verification or rejection by the operator, expiry, renewal and
// re-enrolment, as a pure state machine.
//
// The schemes and transitions are pure: plain data in, plain data out,
// no I/O, no clock (every transition is given its time), no globals.
// Service runs them for the product: its I/O goes only through the Store
// interface and the callbacks of its Config, and it imports no adapter.
// Days are Asia/Shanghai. See docs/RIDEMORE.md.
package subsidy

import (
	"strings"
	"time"
	"unicode/utf8"

	"piao/internal/benefits"
	"piao/internal/fault"
)

// Group is the special group a scheme is for, such as teacher.
type Group string

// Groups the operator commonly subsidises; a scheme may name another.
const (
	Teacher  Group = "teacher"  // 教师
	Talent   Group = "talent"   // 高层次人才
	Senior   Group = "senior"   // 老年人
	Disabled Group = "disabled" // 残疾人
	Veteran  Group = "veteran"  // 退役军人、优抚对象
	Student  Group = "student"  // 学生
)

// Name returns the group's display names in zh-CN and English, or the
// group code itself for a group not listed above.
func (g Group) Name() (zh, en string) {
	switch g {
	case Teacher:
		return "教师", "teachers"
	case Talent:
		return "高层次人才", "high-level talents"
	case Senior:
		return "老年人", "seniors"
	case Disabled:
		return "残疾人", "people with disabilities"
	case Veteran:
		return "退役军人及优抚对象", "veterans"
	case Student:
		return "学生", "students"
	}
	return string(g), string(g)
}

// GrantKind is what a scheme gives a ride.
type GrantKind string

// The grant kinds.
const (
	Free     GrantKind = "free"     // 免费: the whole fare
	Discount GrantKind = "discount" // 折扣: PercentOff % off, at most Cap fen
)

// Scheme is one subsidy the operator runs for a group, typically on a
// government's behalf.
type Scheme struct {
	// ID names the scheme: 1–64 of a–z, 0–9, '-', '_'.
	ID     string `json:"id"`
	Group  Group  `json:"group"`
	NameZH string `json:"name_zh"`
	NameEN string `json:"name_en"`
	// CampaignID is the automatic campaign subsidised rides are booked to
	// (its payer is the subsidising body); it tells Used which applied
	// benefit is the scheme's.
	CampaignID int64     `json:"campaign_id"`
	Grant      GrantKind `json:"grant"`
	PercentOff int       `json:"percent_off,omitempty"` // 1–99 (discount)
	Cap        int64     `json:"cap,omitempty"`         // fen off one ride at most (discount; 0: no cap)
	// RidesPerMonth caps the subsidised rides in a calendar month (0: no cap).
	RidesPerMonth int `json:"rides_per_month,omitempty"`
	// ValidMonths is how long a verification lasts.
	ValidMonths int `json:"valid_months"`
	// RenewDays is the window before expiry in which an active
	// enrolment may be renewed (0: no renewal; enrol again after expiry).
	RenewDays int `json:"renew_days,omitempty"`
	// Combinable lets the subsidy combine with the rider's coupons; by
	// default it is exclusive (独享): the stacking engine weighs it alone
	// against the rider's best coupons and applies the better one.
	Combinable bool `json:"combinable,omitempty"`
	// Scope restricts the lines, stations, weekdays or hours subsidised.
	Scope benefits.Scope `json:"scope,omitzero"`
}

// Validate checks a scheme, returning a fault.Invalid error with zh-CN
// and English messages for the first problem found. Station and line IDs
// in the scope are not checked against a network here.
func (s Scheme) Validate() error {
	switch {
	case !validID(s.ID):
		return invalid("bad_scheme_id", "补贴方案编号须为 1 至 64 位小写字母、数字、“-”或“_”", "a scheme ID is 1–64 of a–z, 0–9, '-' and '_'")
	case !validID(string(s.Group)):
		return invalid("bad_group", "人群类别须为 1 至 64 位小写字母、数字、“-”或“_”", "a group is 1–64 of a–z, 0–9, '-' and '_'")
	case strings.TrimSpace(s.NameZH) == "" && strings.TrimSpace(s.NameEN) == "":
		return invalid("scheme_name_required", "请填写补贴方案名称", "a scheme needs a name")
	case utf8.RuneCountInString(s.NameZH) > 60 || utf8.RuneCountInString(s.NameEN) > 120:
		return invalid("scheme_name_too_long", "补贴方案名称过长", "the scheme name is too long")
	case s.CampaignID <= 0:
		return invalid("campaign_required", "补贴方案须关联一个自动活动", "a scheme needs the automatic campaign its rides are booked to")
	}
	switch s.Grant {
	case Free:
		if s.PercentOff != 0 || s.Cap != 0 {
			return invalid("terms_for_discount", "免费乘车方案不设折扣与上限", "a free scheme has no discount or cap")
		}
	case Discount:
		if s.PercentOff < 1 || s.PercentOff > 99 {
			return invalid("bad_percent_off", "折扣应在 1% 至 99% 之间（100% 请选免费）", "the discount must be 1 % to 99 % (choose free for 100 %)")
		}
		if s.Cap < 0 || s.Cap > 1_000_000 {
			return invalid("bad_cap", "优惠上限应在 0 元至 10000 元之间", "the cap must be ¥0 to ¥10,000")
		}
	default:
		return fault.Newf(fault.Invalid, "bad_grant", "未知的补贴方式 %q（应为 free 或 discount）", "unknown grant %q (want free or discount)", s.Grant)
	}
	switch {
	case s.RidesPerMonth < 0 || s.RidesPerMonth > 1000:
		return invalid("bad_rides_per_month", "每月补贴次数应在 0 至 1000 之间（0 表示不限）", "rides per month must be 0 to 1,000 (0: no cap)")
	case s.ValidMonths < 1 || s.ValidMonths > 120:
		return invalid("bad_valid_months", "认证有效期应在 1 至 120 个月之间", "a verification lasts 1 to 120 months")
	case s.RenewDays < 0 || s.RenewDays > 365 || s.RenewDays >= 28*s.ValidMonths:
		return invalid("bad_renew_days", "续期窗口应在 0 至 365 天之间且短于有效期", "the renewal window must be 0 to 365 days and shorter than the validity")
	}
	// The scope is checked as a product's would be, against a network
	// holding exactly the stations and lines it names.
	net := benefits.Network{Stations: map[string]bool{}, Lines: map[string]bool{}}
	for _, l := range [][]string{s.Scope.Stations, s.Scope.From, s.Scope.To} {
		for _, id := range l {
			net.Stations[id] = id != ""
		}
	}
	for _, id := range s.Scope.Lines {
		net.Lines[id] = id != ""
	}
	p := benefits.Product{Kind: benefits.Percentage, NameEN: "scope", Terms: benefits.Terms{PercentOff: 100}, Scope: s.Scope, Valid: benefits.Validity{Days: 1}}
	return p.Validate(net)
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

// Grant returns the automatic benefit enrolment e gives ride r under
// scheme s, for benefits.Select: TicketID 0, the scheme's campaign, a
// percentage (100 % when free) with the scheme's cap and scope, exclusive
// unless the scheme is combinable, valid while e is active. usedThisMonth
// is how many rides the scheme has already subsidised for the account in
// the ride's calendar month (Asia/Shanghai); false when e is not active
// at the ride's entry, belongs to another scheme, or the monthly cap is
// reached.
func Grant(e Enrolment, s Scheme, r benefits.Ride, usedThisMonth int) (benefits.Benefit, bool) {
	if e.SchemeID != s.ID || !e.ActiveAt(r.EnteredAt) {
		return benefits.Benefit{}, false
	}
	if s.RidesPerMonth > 0 && usedThisMonth >= s.RidesPerMonth {
		return benefits.Benefit{}, false
	}
	t := benefits.Terms{PercentOff: 100, Exclusive: !s.Combinable}
	if s.Grant == Discount {
		t.PercentOff, t.Cap = s.PercentOff, s.Cap
	}
	return benefits.Benefit{
		CampaignID: s.CampaignID, Kind: benefits.Percentage, Terms: t, Scope: s.Scope,
		Window: benefits.Window{From: e.From, Until: e.Until},
	}, true
}

// Used reports whether selection sel applied scheme s's benefit, so the
// caller counts the ride towards RidesPerMonth.
func Used(sel benefits.Selection, s Scheme) bool {
	for _, a := range sel.Applied {
		if a.TicketID == 0 && a.CampaignID == s.CampaignID && a.Saving > 0 {
			return true
		}
	}
	return false
}

// untilAfter returns midnight, Asia/Shanghai, n calendar months after the
// local day of t, the day clamped to the end of a shorter month: the
// exclusive end of a period of n months starting that day.
func untilAfter(t time.Time, n int) time.Time {
	y, m, d := t.In(benefits.Shanghai).Date()
	first := time.Date(y, m+time.Month(n), 1, 0, 0, 0, 0, benefits.Shanghai)
	last := first.AddDate(0, 1, -1).Day()
	return time.Date(first.Year(), first.Month(), min(d, last), 0, 0, 0, 0, benefits.Shanghai)
}
