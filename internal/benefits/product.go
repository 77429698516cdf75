// Package benefits holds value-added tickets (seed 000's ExTP): products
// (e-coupons and count tickets), campaigns and their review, the tickets
// riders hold, redemption codes, gifts, the stacking engine that picks the
// benefits applied to a ride, and campaign statistics.
//
// The product rules and the stacking engine are pure: plain data in, plain
// data out, no clock, no I/O. Storage is behind Store; the package must
// never import an adapter.
package benefits

import (
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"piao/internal/fault"
	"piao/internal/network"
)

// Kind is what a product does for a ride.
type Kind string

// The kinds of product (SPEC V1). The first three are e-coupons, used once;
// the last three are count tickets, each ride paying the fare in full.
const (
	AmountOff  Kind = "amount_off"  // 抵用券: take AmountOff fen off a fare of at least MinFare
	FixedPrice Kind = "fixed_price" // 固定券: the ride costs at most FixedPrice fen
	Percentage Kind = "percentage"  // 折扣: take PercentOff % off, at most Cap fen
	SingleRide Kind = "single_ride" // 单次票: one ride
	MultiRide  Kind = "multi_ride"  // 多次票: Rides rides
	PaperQR    Kind = "paper_qr"    // 纸质二维码票: a printed code, Rides rides (1 unless set)
)

// Kinds lists every kind, in display order.
var Kinds = []Kind{AmountOff, FixedPrice, Percentage, SingleRide, MultiRide, PaperQR}

// Coupon reports whether k is an e-coupon (used once, lowers the fare).
func (k Kind) Coupon() bool { return k == AmountOff || k == FixedPrice || k == Percentage }

// CountTicket reports whether k is a count ticket (pays whole rides).
func (k Kind) CountTicket() bool { return k == SingleRide || k == MultiRide || k == PaperQR }

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool { return slices.Contains(Kinds, k) }

// Product is a kind of ticket the operator, a merchant or an individual
// issues: what it does, where and when it applies, how long it is valid,
// and how it looks.
type Product struct {
	ID     int64    `json:"id"`
	Owner  string   `json:"owner"` // operator, merchant:ID or account:ID
	Kind   Kind     `json:"kind"`
	NameZH string   `json:"name_zh"`
	NameEN string   `json:"name_en"`
	Feed   string   `json:"feed"` // the metro network it is used on
	Terms  Terms    `json:"terms"`
	Scope  Scope    `json:"scope"`
	Valid  Validity `json:"validity"`
	Cover  Cover    `json:"cover"`
	// Instructions tell the holder how to use it (zh-CN and English).
	InstructionsZH string `json:"instructions_zh,omitempty"`
	InstructionsEN string `json:"instructions_en,omitempty"`
	// TemplateID is the operator's template a merchant's product was made
	// from, and UnitPrice that template's price then (see Template); both
	// 0 for the operator's products.
	TemplateID int64     `json:"template_id,omitempty"`
	UnitPrice  int64     `json:"unit_price,omitempty"`
	CreatedBy  string    `json:"created_by"`
	CreatedAt  time.Time `json:"created_at"`
}

// Terms are the numbers of a product; which apply depends on its kind.
type Terms struct {
	AmountOff  int64 `json:"amount_off,omitempty"`  // fen off (amount_off)
	MinFare    int64 `json:"min_fare,omitempty"`    // the fare must be at least this (amount_off; 0: any)
	FixedPrice int64 `json:"fixed_price,omitempty"` // the ride costs at most this (fixed_price)
	PercentOff int   `json:"percent_off,omitempty"` // 1–100 % off (percentage)
	Cap        int64 `json:"cap,omitempty"`         // at most this many fen off (percentage; 0: no cap)
	Rides      int   `json:"rides,omitempty"`       // rides held (multi_ride, paper_qr)
	// Exclusive coupons are never combined with another benefit (count
	// tickets always are).
	Exclusive bool `json:"exclusive,omitempty"`
}

// Scope says where and when a product applies. Empty parts do not restrict.
type Scope struct {
	Lines    []string `json:"lines,omitempty"`    // the ride enters or leaves on one of these lines
	Stations []string `json:"stations,omitempty"` // the ride enters or leaves at one of these
	// A section: the ride enters at one of From and leaves at one of To.
	From []string `json:"from,omitempty"`
	To   []string `json:"to,omitempty"`
	// Weekdays, 1 (Monday) to 7 (Sunday), of the ride's entry, local time.
	Weekdays []int `json:"weekdays,omitempty"`
	// Dates of the ride's entry, local time, such as the days of a
	// free-ride campaign (SPEC M5); empty: any day.
	Dates []network.Date `json:"dates,omitempty"`
	// Hours of the entry as [FromMinute, ToMinute) after local midnight;
	// both zero: all day. ToMinute below FromMinute spans midnight.
	FromMinute int `json:"from_minute,omitempty"`
	ToMinute   int `json:"to_minute,omitempty"`
	// Riders keeps rider categories (student, senior, teacher, …); a
	// rider matches if they hold any one of them.
	Riders []string `json:"riders,omitempty"`
}

// Validity is when a held ticket may be used: absolute dates (Until
// inclusive to the end of that day, local time) or Days from the claim.
type Validity struct {
	From  network.Date `json:"from,omitzero"`
	Until network.Date `json:"until,omitzero"`
	// Days from claim: the claim day is day 1, so 1 means "until the end
	// of the day it was claimed".
	Days int `json:"days,omitempty"`
}

// Cover is how a ticket looks when held or gifted.
type Cover struct {
	Theme string `json:"theme,omitempty"` // one of Themes, or "" for the plain cover
	Text  string `json:"text,omitempty"`  // custom wording, at most 60 characters
}

// Themes are the preset covers.
var Themes = []string{"graduation", "wedding", "event", "birthday", "festival"}

// Ride is one metro trip to be paid: what the stacking engine and scope
// checks look at.
type Ride struct {
	ID          string    `json:"id"`
	Feed        string    `json:"feed"`
	From        string    `json:"from"` // station entered
	To          string    `json:"to"`   // station left
	FromLine    string    `json:"from_line,omitempty"`
	ToLine      string    `json:"to_line,omitempty"`
	Fare        int64     `json:"fare"` // fen, before benefits
	EnteredAt   time.Time `json:"entered_at"`
	RiderGroups []string  `json:"rider_groups,omitempty"`
	// Code is the ID (issuer/serial) of the dynamic ride code a gate named
	// the rider with: such a code pays for one ride only. "" for paper
	// tickets' codes, which ride again and again, and for other callers.
	Code string `json:"code,omitempty"`
}

// Network is what validation needs to know of a metro network.
type Network struct {
	Stations map[string]bool // station IDs
	Lines    map[string]bool // line IDs
}

// Validate checks a product definition against the network it is for.
func (p Product) Validate(net Network) error {
	bad := func(reason, zh, en string) error { return fault.New(fault.Invalid, reason, zh, en) }
	if !p.Kind.Valid() {
		return fault.Newf(fault.Invalid, "bad_product_kind", "未知的票种 %q", "unknown product kind %q", p.Kind)
	}
	if strings.TrimSpace(p.NameZH) == "" && strings.TrimSpace(p.NameEN) == "" {
		return bad("product_name_required", "请填写产品名称", "a product needs a name")
	}
	if utf8.RuneCountInString(p.NameZH) > 60 || utf8.RuneCountInString(p.NameEN) > 120 {
		return bad("product_name_too_long", "产品名称过长", "the product name is too long")
	}
	t := p.Terms
	switch p.Kind {
	case AmountOff:
		if t.AmountOff <= 0 || t.AmountOff > 1_000_000 {
			return bad("bad_amount_off", "抵用金额应在 0.01 元至 10000 元之间", "amount off must be between ¥0.01 and ¥10,000")
		}
		if t.MinFare < 0 {
			return bad("bad_min_fare", "最低票价不能为负", "the minimum fare cannot be negative")
		}
	case FixedPrice:
		if t.FixedPrice < 0 || t.FixedPrice > 1_000_000 {
			return bad("bad_fixed_price", "固定票价应在 0 元至 10000 元之间", "the fixed price must be between ¥0 and ¥10,000")
		}
	case Percentage:
		if t.PercentOff < 1 || t.PercentOff > 100 {
			return bad("bad_percent_off", "折扣应在 1% 至 100% 之间", "the discount must be between 1 % and 100 %")
		}
		if t.Cap < 0 {
			return bad("bad_cap", "优惠上限不能为负", "the cap cannot be negative")
		}
	case MultiRide:
		if t.Rides < 2 || t.Rides > 1000 {
			return bad("bad_rides", "多次票次数应在 2 至 1000 之间", "a multi-ride ticket holds 2 to 1,000 rides")
		}
	case PaperQR:
		if t.Rides < 0 || t.Rides > 1000 {
			return bad("bad_rides", "纸质票次数应在 1 至 1000 之间", "a paper ticket holds 1 to 1,000 rides")
		}
	}
	if p.Kind != AmountOff && (t.AmountOff != 0 || t.MinFare != 0) ||
		p.Kind != FixedPrice && t.FixedPrice != 0 ||
		p.Kind != Percentage && (t.PercentOff != 0 || t.Cap != 0) ||
		p.Kind != MultiRide && p.Kind != PaperQR && t.Rides != 0 {
		return bad("terms_for_other_kind", "产品条款与票种不符", "the terms given belong to another kind of product")
	}
	if p.Kind.CountTicket() && t.Exclusive {
		return bad("exclusive_count_ticket", "次票总是独享，不需设置", "count tickets are always exclusive; do not set it")
	}
	if err := p.Scope.validate(net); err != nil {
		return err
	}
	if err := p.Valid.validate(); err != nil {
		return err
	}
	return p.Cover.Validate()
}

func (s Scope) validate(net Network) error {
	for _, list := range [][]string{s.Stations, s.From, s.To} {
		for _, id := range list {
			if !net.Stations[id] {
				return fault.Newf(fault.Invalid, "unknown_station", "车站 %q 不在该线网", "station %q is not on this network", id)
			}
		}
	}
	for _, id := range s.Lines {
		if !net.Lines[id] {
			return fault.Newf(fault.Invalid, "unknown_line", "线路 %q 不在该线网", "line %q is not on this network", id)
		}
	}
	if (len(s.From) == 0) != (len(s.To) == 0) {
		return fault.New(fault.Invalid, "half_section", "区段须同时给出起点站与终点站", "a section needs both from and to stations")
	}
	for _, d := range s.Weekdays {
		if d < 1 || d > 7 {
			return fault.Newf(fault.Invalid, "bad_weekday", "星期 %d 无效（1 为周一，7 为周日）", "weekday %d is not 1 (Monday) to 7 (Sunday)", d)
		}
	}
	if len(s.Dates) > 366 {
		return fault.New(fault.Invalid, "too_many_dates", "指定日期最多 366 个", "at most 366 dates")
	}
	for _, d := range s.Dates {
		if d.IsZero() {
			return fault.New(fault.Invalid, "bad_date", "日期无效", "a date is missing")
		}
	}
	if s.FromMinute < 0 || s.FromMinute >= 1440 || s.ToMinute < 0 || s.ToMinute > 1440 || (s.FromMinute != 0 && s.FromMinute == s.ToMinute) {
		return fault.New(fault.Invalid, "bad_hours", "时段无效：应为 00:00–24:00 内的起止分钟", "the hours must be start and end minutes within 00:00–24:00")
	}
	for _, r := range s.Riders {
		if r == "" || len(r) > 32 {
			return fault.New(fault.Invalid, "bad_rider_category", "乘客类别无效", "a rider category must be 1–32 characters")
		}
	}
	return nil
}

func (v Validity) validate() error {
	switch {
	case v.Days < 0 || v.Days > 3660:
		return fault.New(fault.Invalid, "bad_validity_days", "有效天数应在 1 至 3660 之间", "validity days must be 1 to 3,660")
	case v.Days > 0 && (!v.From.IsZero() || !v.Until.IsZero()):
		return fault.New(fault.Invalid, "validity_both", "有效期只能选绝对日期或领取后天数之一", "validity is either absolute dates or days from claim, not both")
	case v.Days == 0 && v.Until.IsZero():
		return fault.New(fault.Invalid, "validity_required", "请设置有效期", "a product needs a validity: an end date or days from claim")
	case !v.From.IsZero() && v.Until.Before(v.From):
		return fault.New(fault.Invalid, "validity_reversed", "有效期结束日早于开始日", "validity ends before it starts")
	}
	return nil
}

// Validate checks a cover.
func (c Cover) Validate() error {
	if c.Theme != "" && !slices.Contains(Themes, c.Theme) {
		return fault.Newf(fault.Invalid, "unknown_theme", "未知的封面主题 %q", "unknown cover theme %q", c.Theme)
	}
	if utf8.RuneCountInString(c.Text) > 60 {
		return fault.New(fault.Invalid, "cover_text_too_long", "封面文字最多 60 字", "cover text is at most 60 characters")
	}
	if !utf8.ValidString(c.Text) || strings.ContainsFunc(c.Text, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return fault.New(fault.Invalid, "bad_cover_text", "封面文字含有无效字符", "cover text holds invalid characters")
	}
	return nil
}

// Window is when a held ticket may be used: [From, Until).
type Window struct {
	From  time.Time `json:"from"`
	Until time.Time `json:"until"`
}

// Contains reports whether t falls in the window.
func (w Window) Contains(t time.Time) bool { return !t.Before(w.From) && t.Before(w.Until) }

// WindowFor returns when a ticket of this validity claimed at claimed is
// usable, days counted in loc: Until is the start of the day after the
// last valid day, so "valid until D" holds to the end of D local time.
func (v Validity) WindowFor(claimed time.Time, loc *time.Location) Window {
	if v.Days > 0 {
		day := network.DateOf(claimed.In(loc))
		return Window{From: claimed, Until: day.AddDays(v.Days).In(loc)}
	}
	w := Window{Until: v.Until.AddDays(1).In(loc)}
	if !v.From.IsZero() {
		w.From = v.From.In(loc)
	}
	return w
}

// Rides returns how many rides a new ticket of this product holds: 1 for
// coupons and single rides, Terms.Rides for the rest.
func (p Product) Rides() int {
	if (p.Kind == MultiRide || p.Kind == PaperQR) && p.Terms.Rides > 0 {
		return p.Terms.Rides
	}
	return 1
}

// Covers reports whether the scope admits the ride, with its entry time
// read in loc.
func (s Scope) Covers(r Ride, loc *time.Location) bool {
	if len(s.Lines) > 0 && !slices.Contains(s.Lines, r.FromLine) && !slices.Contains(s.Lines, r.ToLine) {
		return false
	}
	if len(s.Stations) > 0 && !slices.Contains(s.Stations, r.From) && !slices.Contains(s.Stations, r.To) {
		return false
	}
	if len(s.From) > 0 && (!slices.Contains(s.From, r.From) || !slices.Contains(s.To, r.To)) {
		return false
	}
	local := r.EnteredAt.In(loc)
	if len(s.Weekdays) > 0 {
		wd := int(local.Weekday())
		if wd == 0 {
			wd = 7
		}
		if !slices.Contains(s.Weekdays, wd) {
			return false
		}
	}
	if len(s.Dates) > 0 && !slices.ContainsFunc(s.Dates, network.DateOf(local).Equal) {
		return false
	}
	if s.FromMinute != 0 || s.ToMinute != 0 {
		m := local.Hour()*60 + local.Minute()
		to := s.ToMinute
		if to == 0 {
			to = 1440
		}
		if s.FromMinute < to {
			if m < s.FromMinute || m >= to {
				return false
			}
		} else if m < s.FromMinute && m >= to { // spans midnight
			return false
		}
	}
	if len(s.Riders) > 0 && !slices.ContainsFunc(r.RiderGroups, func(g string) bool { return slices.Contains(s.Riders, g) }) {
		return false
	}
	return true
}
