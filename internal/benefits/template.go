package benefits

import (
	"strings"
	"time"
	"unicode/utf8"

	"piao/internal/fault"
)

// Template is a kind of product the operator lets merchants define (模板,
// SPEC B2): its kind, what a merchant prepays per ticket, and bounds on
// the terms a merchant may choose. Merchants' products are made from
// active templates; a template never changes once stored, except that it
// may be deactivated (no new products; existing ones are unaffected).
type Template struct {
	ID     int64  `json:"id"`
	Kind   Kind   `json:"kind"`
	NameZH string `json:"name_zh"`
	NameEN string `json:"name_en"`
	// UnitPrice is the fen a merchant prepays per ticket (for count
	// tickets, per ride a ticket holds). 0 means value-priced: the
	// merchant buys a value budget instead, which riders' savings draw on.
	UnitPrice int64 `json:"unit_price"`
	// Bounds on the terms merchants choose; 0 does not bound.
	MaxAmountOff  int64 `json:"max_amount_off,omitempty"`  // amount_off: at most this many fen off
	MinFixedPrice int64 `json:"min_fixed_price,omitempty"` // fixed_price: the ride costs at least this
	MaxPercentOff int   `json:"max_percent_off,omitempty"` // percentage: at most this % off
	MaxCap        int64 `json:"max_cap,omitempty"`         // percentage: a cap is required, at most this
	MaxRides      int   `json:"max_rides,omitempty"`       // multi_ride, paper_qr: at most this many rides
	Active        bool  `json:"active"`
	// DescriptionZH and DescriptionEN tell merchants what the template is for.
	DescriptionZH string    `json:"description_zh,omitempty"`
	DescriptionEN string    `json:"description_en,omitempty"`
	CreatedBy     string    `json:"created_by"`
	CreatedAt     time.Time `json:"created_at"`
}

// MaxUnitPrice bounds a template's unit price: ¥1,000 per ticket or ride.
const MaxUnitPrice = 100_000

// Validate checks a template definition.
func (t Template) Validate() error {
	bad := func(reason, zh, en string) error { return fault.New(fault.Invalid, reason, zh, en) }
	switch {
	case !t.Kind.Valid():
		return fault.Newf(fault.Invalid, "bad_kind", "未知的票种 %q", "unknown kind %q", t.Kind)
	case strings.TrimSpace(t.NameZH) == "" && strings.TrimSpace(t.NameEN) == "":
		return bad("template_name_required", "请填写模板名称", "a template needs a name")
	case utf8.RuneCountInString(t.NameZH) > 60 || utf8.RuneCountInString(t.NameEN) > 120:
		return bad("template_name_too_long", "模板名称过长", "the template name is too long")
	case utf8.RuneCountInString(t.DescriptionZH) > 500 || utf8.RuneCountInString(t.DescriptionEN) > 1000:
		return bad("template_description_too_long", "模板说明过长", "the template description is too long")
	case t.UnitPrice < 0 || t.UnitPrice > MaxUnitPrice:
		return bad("bad_unit_price", "单价应在 0 至 1000 元之间", "the unit price must be ¥0 to ¥1,000")
	case t.MaxAmountOff < 0 || t.MinFixedPrice < 0 || t.MaxPercentOff < 0 || t.MaxPercentOff > 100 || t.MaxCap < 0 || t.MaxRides < 0:
		return bad("bad_template_bounds", "模板限制不能为负，折扣上限不超过 100%", "template bounds cannot be negative, nor a percentage above 100")
	}
	// Bounds belong to their kinds, so a template says only what applies.
	other := false
	switch t.Kind {
	case AmountOff:
		other = t.MinFixedPrice != 0 || t.MaxPercentOff != 0 || t.MaxCap != 0 || t.MaxRides != 0
	case FixedPrice:
		other = t.MaxAmountOff != 0 || t.MaxPercentOff != 0 || t.MaxCap != 0 || t.MaxRides != 0
	case Percentage:
		other = t.MaxAmountOff != 0 || t.MinFixedPrice != 0 || t.MaxRides != 0
	case SingleRide:
		other = t.MaxAmountOff != 0 || t.MinFixedPrice != 0 || t.MaxPercentOff != 0 || t.MaxCap != 0 || t.MaxRides != 0
	case MultiRide, PaperQR:
		other = t.MaxAmountOff != 0 || t.MinFixedPrice != 0 || t.MaxPercentOff != 0 || t.MaxCap != 0
	}
	if other {
		return bad("bounds_for_other_kind", "模板限制与票种不符", "the bounds given belong to another kind of product")
	}
	return nil
}

// Admits checks that a merchant's product p keeps to the template: its
// kind, and its terms within the bounds. It does not validate p otherwise
// (Product.Validate does).
func (t Template) Admits(p Product) error {
	over := func(reason, zh, en string, limit any) error { return fault.Newf(fault.Invalid, reason, zh, en, limit) }
	switch {
	case !t.Active:
		return fault.New(fault.Conflict, "template_inactive", "该模板已停用", "the template is no longer offered")
	case p.Kind != t.Kind:
		return fault.Newf(fault.Invalid, "kind_not_in_template", "模板只允许 %s", "the template allows %s only", t.Kind)
	case t.MaxAmountOff > 0 && p.Terms.AmountOff > t.MaxAmountOff:
		return over("amount_off_over_template", "抵用金额不得超过 %d 分", "amount off is at most %d fen", t.MaxAmountOff)
	case t.MinFixedPrice > 0 && p.Terms.FixedPrice < t.MinFixedPrice:
		return over("fixed_price_under_template", "固定票价不得低于 %d 分", "the fixed price is at least %d fen", t.MinFixedPrice)
	case t.MaxPercentOff > 0 && p.Terms.PercentOff > t.MaxPercentOff:
		return over("percent_off_over_template", "折扣不得超过 %d%%", "the discount is at most %d %%", t.MaxPercentOff)
	case t.MaxCap > 0 && (p.Terms.Cap == 0 || p.Terms.Cap > t.MaxCap):
		return over("cap_over_template", "须设置优惠上限，且不超过 %d 分", "a cap of at most %d fen is required", t.MaxCap)
	case t.MaxRides > 0 && p.Rides() > t.MaxRides:
		return over("rides_over_template", "次数不得超过 %d", "at most %d rides", t.MaxRides)
	}
	return nil
}

// TicketPrice is the fen a merchant prepays for one ticket of a product
// made from a template: the unit price, times the rides a count ticket
// holds. 0 for a value-priced product and for products not made from a
// template.
func (p Product) TicketPrice() int64 {
	if p.Kind.CountTicket() {
		return p.UnitPrice * int64(p.Rides())
	}
	return p.UnitPrice
}
