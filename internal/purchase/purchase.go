// Package purchase is merchants' batch purchases (SPEC B2): a merchant
// orders tickets, or a value budget, for one of its prepaid campaigns, pays
// through the payment gateway, and the stock becomes the campaign's; what
// the campaign leaves unused is refunded by rule once it is over.
//
// The campaigns themselves belong to benefits; this package reaches them
// only through its Campaigns port, and the gateway through payment.Gateway.
// It imports no store and no adapter.
package purchase

import (
	"strconv"
	"strings"
	"time"

	"piao/internal/fault"
)

// Status is where a purchase is.
type Status string

// Purchase states: a purchase waits for its payment, then is paid (its
// stock added to the campaign) or closed (the payment expired, or came when
// the campaign could take no more stock, and was then returned in full).
const (
	Pending Status = "pending"
	Paid    Status = "paid"
	Closed  Status = "closed"
)

// Why a purchase was closed.
const (
	ClosedExpired      = "expired"             // not paid in time
	ClosedCampaignOver = "campaign_over"       // paid when the campaign could take no more stock
	ClosedNoPayment    = "payment_unavailable" // the gateway would not create the payment
)

// Purchase is one order of stock for a campaign. Money is in fen:
// AmountFen = Tickets × UnitPriceFen + ValueFen.
type Purchase struct {
	ID           int64  `json:"id"`
	Merchant     int64  `json:"merchant_id"`
	CampaignID   int64  `json:"campaign_id"`
	Tickets      int    `json:"tickets"`
	ValueFen     int64  `json:"value_fen"`
	UnitPriceFen int64  `json:"unit_price_fen"`
	AmountFen    int64  `json:"amount_fen"`
	Status       Status `json:"status"`
	// CloseReason says why a closed purchase closed (ClosedExpired, …).
	CloseReason string `json:"close_reason,omitempty"`
	PaymentID   string `json:"payment_id,omitempty"`
	PayURL      string `json:"pay_url,omitempty"`
	// BoughtBy is the account that ordered it, the only one the gateway
	// shows the payment page to.
	BoughtBy int64 `json:"bought_by"`
	// RefundedFen is what went back of a payment that arrived for a closed
	// purchase (always its whole amount), and RefundID the gateway refund.
	RefundedFen int64     `json:"refunded_fen,omitempty"`
	RefundID    string    `json:"refund_id,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	ExpiresAt   time.Time `json:"expires_at"`
	PaidAt      time.Time `json:"paid_at,omitzero"`
	ClosedAt    time.Time `json:"closed_at,omitzero"`
	// Version counts the purchase's stored changes; an update names the
	// version it was decided on, so of two racing changes one is stored.
	Version int `json:"version"`
}

// Order is what a merchant asks to buy.
type Order struct {
	CampaignID int64 `json:"campaign_id"`
	Tickets    int   `json:"tickets"`
	ValueFen   int64 `json:"value"`
}

// Filter selects purchases in a scope; zero fields select all.
type Filter struct {
	CampaignID int64
	Status     Status
	// BeforeID pages backwards: only purchases with a smaller ID.
	BeforeID int64
	// Limit bounds the answer (default 50, at most 500).
	Limit int
}

// Bounded returns f with its limit defaulted and capped.
func (f Filter) Bounded() Filter {
	if f.Limit <= 0 {
		f.Limit = 50
	}
	f.Limit = min(f.Limit, 500)
	return f
}

// Limits bound a purchase.
type Limits struct {
	// MaxTickets is the most tickets one purchase buys (default 1,000,000).
	MaxTickets int
	// MaxAmountFen is the most one purchase costs (default ¥1,000,000).
	MaxAmountFen int64
	// PayWindow is how long the merchant has to pay (default 30 minutes).
	PayWindow time.Duration
}

// DefaultLimits are the limits when none are configured.
func DefaultLimits() Limits {
	return Limits{MaxTickets: 1_000_000, MaxAmountFen: 100_000_000, PayWindow: 30 * time.Minute}
}

// orDefaults fills the zero fields of l.
func (l Limits) orDefaults() Limits {
	d := DefaultLimits()
	if l.MaxTickets <= 0 {
		l.MaxTickets = d.MaxTickets
	}
	if l.MaxAmountFen <= 0 {
		l.MaxAmountFen = d.MaxAmountFen
	}
	if l.PayWindow <= 0 {
		l.PayWindow = d.PayWindow
	}
	return l
}

// Errors a purchase is refused with.
var (
	ErrNotFound     = fault.New(fault.NotFound, "purchase_not_found", "没有这笔采购", "there is no such purchase")
	ErrStale        = fault.New(fault.Conflict, "purchase_changed", "采购单已被修改，请重试", "the purchase changed meanwhile; try again")
	ErrMerchantOnly = fault.New(fault.Forbidden, "purchase_merchant_only", "只有商户可以采购", "only a merchant can buy stock")
	ErrNotPrepaid   = fault.New(fault.Conflict, "campaign_not_prepaid", "该活动不是预付活动，无需采购", "the campaign is not prepaid: there is no stock to buy for it")
	ErrCampaignOver = fault.New(fault.Conflict, "campaign_over", "活动已结束，不能再采购", "the campaign is over: no more stock can be bought for it")
	// ErrCampaignRejected: the operator rejected the campaign; its
	// merchant resubmits it (with the stock it has) before buying more.
	ErrCampaignRejected = fault.New(fault.Conflict, "campaign_rejected", "活动审核未通过：请修改后重新提交，再采购库存", "the campaign was rejected: resubmit it before buying more stock")
	ErrNeedValue        = fault.New(fault.Invalid, "purchase_value_required", "该活动按金额预付：请填写采购金额 value（分）", "the campaign is prepaid by value: give the value to buy, in fen")
	ErrNeedTickets      = fault.New(fault.Invalid, "purchase_tickets_required", "该活动按张预付：请填写采购张数 tickets", "the campaign is prepaid per ticket: give the number of tickets to buy")
	ErrNegativeValue    = fault.New(fault.Invalid, "purchase_value_invalid", "采购金额 value 不能为负数", "the value cannot be negative")
	ErrAmountMismatch   = fault.New(fault.Invalid, "purchase_amount_mismatch", "支付金额与采购金额不符", "the amount paid is not the purchase's amount")
	errBadRef           = fault.New(fault.Invalid, "purchase_ref_invalid", "无法识别的采购单号", "the order reference names no purchase")
	errCampaignMissing  = fault.New(fault.Invalid, "purchase_campaign_required", "请填写活动 campaign_id", "give the campaign_id to buy stock for")
)

// Price checks an order against a campaign's unit price (fen per ticket,
// 0 for a campaign prepaid by value) and the limits, and returns its
// amount: tickets × unit price + value. A ticket-priced campaign needs
// tickets, a value-priced one a value; tickets run 0 to MaxTickets and the
// amount 1 fen to MaxAmountFen.
func Price(o Order, unitPrice int64, l Limits) (int64, error) {
	l = l.orDefaults()
	switch {
	case o.CampaignID <= 0:
		return 0, errCampaignMissing
	case o.Tickets < 0 || o.Tickets > l.MaxTickets:
		return 0, fault.Newf(fault.Invalid, "purchase_tickets_over_limit", "采购张数须在 0–%d 之间", "tickets must be between 0 and %d", l.MaxTickets)
	case o.ValueFen < 0:
		return 0, ErrNegativeValue
	case unitPrice < 0:
		return 0, fault.New(fault.Invalid, "purchase_price_invalid", "活动单价无效", "the campaign's unit price is invalid")
	case unitPrice == 0 && o.ValueFen == 0:
		return 0, ErrNeedValue
	case unitPrice > 0 && o.Tickets == 0:
		return 0, ErrNeedTickets
	}
	over := fault.Newf(fault.Invalid, "purchase_amount_over_limit", "单笔采购金额不能超过 %s", "one purchase may cost at most %s", Yuan(l.MaxAmountFen))
	// Checked before multiplying, so no product can overflow.
	if o.ValueFen > l.MaxAmountFen || (o.Tickets > 0 && unitPrice > l.MaxAmountFen/int64(o.Tickets)) {
		return 0, over
	}
	amount := int64(o.Tickets)*unitPrice + o.ValueFen
	if amount > l.MaxAmountFen {
		return 0, over
	}
	if amount < 1 {
		return 0, fault.New(fault.Invalid, "purchase_amount_zero", "采购金额至少 1 分", "a purchase must cost at least 1 fen")
	}
	return amount, nil
}

// Yuan shows fen as ¥1,234.56.
func Yuan(fen int64) string {
	sign := ""
	if fen < 0 {
		sign, fen = "-", -fen
	}
	whole := strconv.FormatInt(fen/100, 10)
	var b strings.Builder
	for i, c := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	cents := fen % 100
	return sign + "¥" + b.String() + "." + string(rune('0'+cents/10)) + string(rune('0'+cents%10))
}

// OrderRef is the gateway order reference of purchase id.
func OrderRef(id int64) string { return refPrefix + strconv.FormatInt(id, 10) }

const refPrefix = "piao-purchase-"

// IDFromRef parses an order reference (OrderRef's form only) back into a purchase ID.
func IDFromRef(ref string) (int64, bool) {
	s, ok := strings.CutPrefix(ref, refPrefix)
	if !ok {
		return 0, false
	}
	id, err := strconv.ParseInt(s, 10, 64)
	// Only the canonical form: "+7" or "007" name no purchase.
	return id, err == nil && id > 0 && strconv.FormatInt(id, 10) == s
}

// StockKey is the key a paid purchase adds its stock under: the campaign
// adds it once however often it is asked.
func StockKey(id int64) string { return "purchase:" + strconv.FormatInt(id, 10) }

// PayerOf names an account as the payer of its payments, as gateways are
// told (payment.CreateRequest.Payer), the same way booking does.
func PayerOf(account int64) string { return "account:" + strconv.FormatInt(account, 10) }
