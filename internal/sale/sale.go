// Package sale is passengers' purchases of count tickets and multi-ride
// packs (SPEC B4): the operator puts a product on sale as an offer (a
// price per ticket, limits per order and per passenger, a refund rule), a
// passenger buys N of it through the payment gateway, the tickets are issued
// from the offer's campaign (channel "purchase") once the payment arrives,
// and the buyer can refund a ticket's unused rides by the rule.
//
// Money rules (docs/MONEY.md): an order's amount is split over its tickets
// with ledger.Share, so the tickets add up to the amount to the fen; a
// refund gives back ledger.Unused of the ticket less a fee of
// ledger.MulDivRound(unused, bp, 10000). Every money event posts its
// journal entry in the store's transaction that records it.
//
// The package imports no store and no adapter.
package sale

import (
	"strconv"
	"strings"
	"time"

	"piao/internal/benefits"
	"piao/internal/fault"
	"piao/internal/ledger"
)

// Offer is a product the operator sells to passengers: the tickets of one
// campaign (owned by the operator, channel "purchase"), at a price.
type Offer struct {
	ID         int64 `json:"id"`
	CampaignID int64 `json:"campaign_id"`
	ProductID  int64 `json:"product_id"`
	// Kind and Rides are the product's: what one ticket is and how many
	// rides it holds.
	Kind   benefits.Kind `json:"kind"`
	Rides  int           `json:"rides"`
	NameZH string        `json:"name_zh"`
	NameEN string        `json:"name_en"`
	// Bundle is how many tickets one unit sold holds (1: tickets sold
	// one by one; 3: "three rides for ¥10"), and PriceFen what a unit
	// costs. A unit's price is split over its tickets to the fen.
	Bundle   int   `json:"bundle"`
	PriceFen int64 `json:"price_fen"`
	// MaxPerOrder and MaxPerPassenger bound the tickets of one order and
	// those one passenger has bought (pending and paid orders) in all.
	MaxPerOrder     int `json:"max_per_order"`
	MaxPerPassenger int `json:"max_per_passenger"`
	// Refund is the rule a bought ticket is refunded by.
	Refund    RefundRule `json:"refund"`
	OnSale    bool       `json:"on_sale"`
	CreatedBy string     `json:"created_by"`
	CreatedAt time.Time  `json:"created_at"`
	UpdatedAt time.Time  `json:"updated_at"`
	// Version counts the offer's stored changes (optimistic updates).
	Version int `json:"version"`
}

// RefundRule says when and for what fee a bought ticket's unused rides are
// refunded.
type RefundRule struct {
	// FeeBP is the fee in basis points of the unused value (500 = 5 %).
	FeeBP int64 `json:"fee_bp"`
	// Days after the purchase was paid within which a refund may be asked
	// (0: bought tickets are not refundable).
	Days int `json:"days"`
}

// OfferInput is what the operator sets on an offer.
type OfferInput struct {
	CampaignID      int64      `json:"campaign_id"`
	Bundle          int        `json:"bundle"`
	PriceFen        int64      `json:"price_fen"`
	MaxPerOrder     int        `json:"max_per_order"`
	MaxPerPassenger int        `json:"max_per_passenger"`
	Refund          RefundRule `json:"refund"`
	OnSale          bool       `json:"on_sale"`
}

// Bounds of an offer.
const (
	MaxPriceFen    = 1_000_000 // ¥10,000 a ticket
	MaxOrderCount  = 100       // tickets in one order, at most
	MaxRefundDays  = 366
	DefaultPerUser = 10
)

// Check validates an offer's settings.
func (in OfferInput) Check() error {
	bad := func(reason, zh, en string) error { return fault.New(fault.Invalid, reason, zh, en) }
	switch {
	case in.CampaignID <= 0:
		return bad("offer_campaign_required", "请选择发售的活动", "give the campaign whose tickets are sold")
	case in.PriceFen < 1 || in.PriceFen > MaxPriceFen:
		return bad("offer_price_invalid", "售价应在 0.01 元至 10000 元之间", "the price must be between ¥0.01 and ¥10,000")
	case in.Bundle < 1 || in.Bundle > MaxOrderCount:
		return fault.Newf(fault.Invalid, "offer_bundle_invalid", "每份张数应在 1 至 %d 之间", "a unit holds 1 to %d tickets", MaxOrderCount)
	case in.MaxPerOrder < in.Bundle || in.MaxPerOrder > MaxOrderCount:
		return fault.Newf(fault.Invalid, "offer_per_order_invalid", "每单限购应不少于每份张数，且不超过 %d 张", "the limit per order must be at least a unit's tickets and at most %d", MaxOrderCount)
	case in.MaxPerPassenger < in.MaxPerOrder || in.MaxPerPassenger > 10_000:
		return bad("offer_per_passenger_invalid", "每人限购应不少于每单限购，且不超过 10000 张", "the limit per passenger must be at least the limit per order and at most 10,000")
	case in.Refund.FeeBP < 0 || in.Refund.FeeBP > 10_000:
		return bad("offer_refund_fee_invalid", "退款手续费应在 0 至 10000 个基点（0–100%）之间", "the refund fee must be 0 to 10,000 basis points (0–100 %)")
	case in.Refund.Days < 0 || in.Refund.Days > MaxRefundDays:
		return fault.Newf(fault.Invalid, "offer_refund_days_invalid", "退款期限应在 0 至 %d 天之间", "the refund deadline must be 0 to %d days", MaxRefundDays)
	}
	return nil
}

// CheckCampaign says whether tickets of campaign c of product p can be
// sold: the operator's own, a count ticket, issued by the purchase channel
// alone (so its stock is the offer's), without a per-person cap of its own
// (the offer's limits apply when ordering, so issuing a paid order is
// never refused for it).
func CheckCampaign(c benefits.Campaign, p benefits.Product) error {
	bad := func(reason, zh, en string) error { return fault.New(fault.Invalid, reason, zh, en) }
	switch {
	case c.Owner != "operator":
		return bad("offer_campaign_not_operator", "只能发售运营方自己的活动", "only the operator's own campaigns can be sold")
	case c.Prepaid || c.Automatic():
		return bad("offer_campaign_kind", "该活动不能发售（预付或自动优惠活动）", "a prepaid or automatic campaign cannot be sold")
	case len(c.Channels) != 1 || c.Channels[0] != benefits.PurchaseChannel:
		return bad("offer_campaign_channel", "发售的活动须只开放“乘客购买”渠道", "a campaign on sale issues by the purchase channel only")
	case c.PerUser != 0:
		return bad("offer_campaign_per_user", "发售的活动不设每人限领，由售卖规则的每人限购代替", "a campaign on sale has no per-person cap; the offer's limit per passenger applies")
	case p.Kind != benefits.SingleRide && p.Kind != benefits.MultiRide:
		return bad("offer_product_kind", "只能发售单次票和多次票", "only single-ride and multi-ride tickets can be sold")
	}
	return nil
}

// Status is where a purchase is.
type Status string

// Purchase states: waiting for its payment, paid (its tickets issued or
// being issued), or closed (not paid in time, or the payment could not be
// created; a payment arriving after is returned in full).
const (
	Pending Status = "pending"
	Paid    Status = "paid"
	Closed  Status = "closed"
)

// Why a purchase closed.
const (
	ClosedExpired   = "expired"
	ClosedNoPayment = "payment_unavailable"
	ClosedNotIssued = "not_issued" // paid when the campaign could no longer issue: returned in full
)

// Purchase is one passenger's order of Units units of an offer, Count
// tickets in all. It keeps the buyer and the amounts (for invoices):
// AmountFen = Units × PriceFen, split over the tickets by TicketPrices.
type Purchase struct {
	ID         int64  `json:"id"`
	OfferID    int64  `json:"offer_id"`
	CampaignID int64  `json:"campaign_id"`
	Buyer      int64  `json:"buyer"`
	NameZH     string `json:"name_zh"`
	NameEN     string `json:"name_en"`
	Units      int    `json:"units"`
	Bundle     int    `json:"bundle"`
	Count      int    `json:"count"`
	Rides      int    `json:"rides"`
	PriceFen   int64  `json:"price_fen"`
	AmountFen  int64  `json:"amount_fen"`
	// Refund is the offer's rule when the purchase was made: later edits
	// of the offer do not change what was sold.
	Refund      RefundRule `json:"refund"`
	Status      Status     `json:"status"`
	CloseReason string     `json:"close_reason,omitempty"`
	PaymentID   string     `json:"payment_id,omitempty"`
	PayURL      string     `json:"pay_url,omitempty"`
	// TicketIDs are the issued tickets, in order; Issued is set once all
	// Count are.
	TicketIDs []int64 `json:"ticket_ids,omitempty"`
	Issued    bool    `json:"issued"`
	// Returns are the payments that came for the purchase and bought
	// nothing (one for a closed purchase, a second one for a paid
	// purchase), each returned in full; ReturnedFen is what of them the
	// gateway has returned so far.
	Returns     []Return  `json:"returns,omitempty"`
	ReturnedFen int64     `json:"returned_fen,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	ExpiresAt   time.Time `json:"expires_at"`
	PaidAt      time.Time `json:"paid_at,omitzero"`
	ClosedAt    time.Time `json:"closed_at,omitzero"`
	Version     int       `json:"version"`
}

// TicketPrices splits the amount over the tickets with ledger.Share, so
// they add up to it to the fen (1000 fen over 3: 333, 333, 334).
func (p Purchase) TicketPrices() []int64 {
	w := make([]int64, p.Count)
	for i := range w {
		w[i] = 1
	}
	return ledger.Share(p.AmountFen, w)
}

// IssueKey is the idempotency key of ticket n (from 1) of purchase id.
func IssueKey(id int64, n int) string {
	return "buy:" + strconv.FormatInt(id, 10) + ":" + strconv.Itoa(n)
}

// PaidKey is the journal key of purchase id's payment.
func PaidKey(id int64) string { return "buy:" + strconv.FormatInt(id, 10) + ":paid" }

// LateKey is the journal key of a payment that bought nothing (it came for
// a closed purchase, or a second time for a paid one): one per payment, so
// a second such payment of the same purchase is an entry of its own.
func LateKey(id int64, paymentID string) string {
	return "buy:" + strconv.FormatInt(id, 10) + ":late:" + paymentID
}

// ReturnedKey is the journal key of that payment's return by the gateway.
func ReturnedKey(id int64, paymentID string) string {
	return "buy:" + strconv.FormatInt(id, 10) + ":returned:" + paymentID
}

// RefundKey is the journal key of a bought ticket's refund as accepted
// (the ticket revoked, the money owed back to the buyer).
func RefundKey(ticket int64) string { return "buy:refund:" + strconv.FormatInt(ticket, 10) }

// RefundPaidKey is the journal key of that refund paid by the gateway.
func RefundPaidKey(ticket int64) string { return RefundKey(ticket) + ":paid" }

// RefundID is the gateway refund ID of a bought ticket's refund: fixed, so
// a retry never refunds twice.
func RefundID(ticket int64) string { return "buy-refund-" + strconv.FormatInt(ticket, 10) }

// ReturnID is the gateway refund ID of a payment returned in full.
func ReturnID(paymentID string) string { return "buy-return-" + paymentID }

// Ref is the journal's reference of purchase id.
func Ref(id int64) string { return "buy:" + strconv.FormatInt(id, 10) }

// Party is the ledger party of a passenger account.
func Party(account int64) string { return ledger.Party("account", account) }

// OrderRef is the gateway order reference of purchase id.
func OrderRef(id int64) string { return refPrefix + strconv.FormatInt(id, 10) }

const refPrefix = "piao-buy-"

// IDFromRef parses OrderRef's form back into a purchase ID.
func IDFromRef(ref string) (int64, bool) {
	s, ok := strings.CutPrefix(ref, refPrefix)
	if !ok {
		return 0, false
	}
	id, err := strconv.ParseInt(s, 10, 64)
	return id, err == nil && id > 0 && strconv.FormatInt(id, 10) == s
}

// PaidEntry is the journal entry of a paid purchase: the gateway holds the
// money, owed to the buyer as prepaid value until the rides use it.
func PaidEntry(p Purchase, at time.Time) ledger.Entry {
	e := ledger.Build(PaidKey(p.ID), ledger.KindPurchase, Ref(p.ID), at, "passenger purchase",
		ledger.Debit(ledger.GatewayClearing, "", p.AmountFen),
		ledger.Credit(ledger.PassengerPrepaid, Party(p.Buyer), p.AmountFen))
	e.External = p.PaymentID
	return e
}

// Return is a payment that bought nothing, and its way back in full
// through the gateway (refund ID ReturnID(PaymentID)).
type Return struct {
	PaymentID string `json:"payment_id"`
	AmountFen int64  `json:"amount_fen"`
	// PaidAt is when the gateway took the payment.
	PaidAt   time.Time `json:"paid_at"`
	ReturnID string    `json:"return_id"`
	// ReturnedAt is when the gateway returned it; zero while it is owed.
	ReturnedAt time.Time `json:"returned_at,omitzero"`
}

// ReturnOf returns the record of paymentID among p's returned payments.
func (p Purchase) ReturnOf(paymentID string) (Return, int, bool) {
	for i, r := range p.Returns {
		if r.PaymentID == paymentID {
			return r, i, true
		}
	}
	return Return{}, -1, false
}

// LateEntry records a payment that bought nothing as it came in: the
// gateway holds it, owed back (External the payment, At when it was paid,
// as the gateway's statement has it).
func LateEntry(id int64, r Return, memo string) ledger.Entry {
	e := ledger.Build(LateKey(id, r.PaymentID), ledger.KindPurchase, Ref(id), r.PaidAt, memo,
		ledger.Debit(ledger.GatewayClearing, "", r.AmountFen), ledger.Credit(ledger.RefundsPayable, "", r.AmountFen))
	e.External = r.PaymentID
	return e
}

// ReturnedEntry records that payment returned by the gateway (External
// the refund, At when the gateway returned it).
func ReturnedEntry(id int64, r Return) ledger.Entry {
	e := ledger.Build(ReturnedKey(id, r.PaymentID), ledger.KindRefund, Ref(id), r.ReturnedAt, "payment that bought nothing returned",
		ledger.Debit(ledger.RefundsPayable, "", r.AmountFen), ledger.Credit(ledger.GatewayClearing, "", r.AmountFen))
	e.External = r.ReturnID
	return e
}

// Errors of sales.
var (
	ErrOfferNotFound    = fault.New(fault.NotFound, "offer_not_found", "没有这个售卖商品", "there is no such offer")
	ErrOfferExists      = fault.New(fault.Conflict, "offer_exists", "该活动已有售卖规则", "the campaign is on sale already")
	ErrNotFound         = fault.New(fault.NotFound, "buy_not_found", "没有这笔购买", "there is no such purchase")
	ErrStale            = fault.New(fault.Conflict, "buy_changed", "数据已被修改，请重试", "it changed meanwhile; try again")
	ErrNotOnSale        = fault.New(fault.Conflict, "offer_not_on_sale", "该商品已停售", "the offer is not on sale")
	ErrSoldOut          = fault.New(fault.LimitReached, "offer_sold_out", "已售罄", "the offer is sold out")
	ErrRefunded         = fault.New(fault.Conflict, "ticket_refunded", "该票券已退款", "the ticket was refunded already")
	ErrRefundNotFound   = fault.New(fault.NotFound, "buy_refund_not_found", "没有这笔退款", "there is no such refund")
	ErrNotBought        = fault.New(fault.NotFound, "ticket_not_found", "票券不存在", "ticket not found")
	ErrNotRunning       = fault.New(fault.Unavailable, "sales_unavailable", "本服务未开启乘客购票", "passenger purchases do not run in this process")
	ErrAmountMismatch   = fault.New(fault.Invalid, "buy_amount_mismatch", "支付金额与订单金额不符", "the amount paid is not the purchase's amount")
	errBadRef           = fault.New(fault.Invalid, "buy_ref_invalid", "无法识别的订单号", "the order reference names no purchase")
	errCountInvalid     = fault.New(fault.Invalid, "buy_count_invalid", "购买张数至少 1 张", "buy at least one ticket")
	errRefundNotAllowed = fault.New(fault.Conflict, "refund_not_allowed", "该商品购买后不可退款", "tickets of this offer are not refundable")
)

// Quote is what refunding a bought ticket gives now.
type Quote struct {
	TicketID  int64 `json:"ticket_id"`
	PaidFen   int64 `json:"paid_fen"`
	RidesUsed int   `json:"rides_used"`
	UnusedFen int64 `json:"unused_fen"`
	FeeFen    int64 `json:"fee_fen"`
	AmountFen int64 `json:"amount_fen"`
	// Deadline is the last moment a refund may be asked.
	Deadline time.Time `json:"deadline,omitzero"`
	// Refundable says whether the buyer can refund it now; Reason says why
	// not (a fault reason) when not.
	Refundable bool   `json:"refundable"`
	Reason     string `json:"reason,omitempty"`
}

// QuoteRefund says what refunding ticket t (bought in purchase p) by
// account would give at now: the unused value (ledger.Unused) less the fee
// (ledger.MulDivRound(unused, bp, 10000)), and the error that refuses it
// (nil when refundable). Only the buyer refunds, while holding the ticket,
// not gifting it, before its validity ends and within the deadline; a
// ticket given to someone else is refunded by nobody (its receiver did
// not pay for it, and its buyer no longer holds it).
func QuoteRefund(p Purchase, t benefits.Ticket, account int64, now time.Time) (Quote, error) {
	used := t.RidesTotal - t.RidesLeft
	q := Quote{TicketID: t.ID, PaidFen: t.PaidFen, RidesUsed: used}
	q.UnusedFen = ledger.Unused(t.PaidFen, t.RidesTotal, used)
	q.FeeFen = ledger.MulDivRound(q.UnusedFen, p.Refund.FeeBP, 10_000)
	q.AmountFen = q.UnusedFen - q.FeeFen
	if p.Refund.Days > 0 {
		q.Deadline = p.PaidAt.Add(time.Duration(p.Refund.Days) * 24 * time.Hour)
	}
	err := refusal(p, t, account, now, q)
	if err != nil {
		q.Reason = fault.As(err).Reason
	}
	q.Refundable = err == nil
	return q, err
}

func refusal(p Purchase, t benefits.Ticket, account int64, now time.Time, q Quote) error {
	conflict := func(reason, zh, en string) error { return fault.New(fault.Conflict, reason, zh, en) }
	switch {
	case t.PaidBy != account || p.Buyer != account || p.Status != Paid:
		return ErrNotBought
	case t.Holder != account:
		return conflict("refund_not_holder", "票券已转赠他人，不能退款", "the ticket was given away: it cannot be refunded")
	case t.State == benefits.Gifting:
		return conflict("refund_gifting", "票券正在转赠中，请先取消转赠", "the ticket is being gifted: cancel the gift first")
	case t.State == benefits.Revoked:
		return conflict("refund_revoked", "票券已退款或已作废", "the ticket was refunded or revoked")
	case t.State == benefits.Consumed || t.RidesLeft <= 0:
		return conflict("refund_used_up", "票券已用完，没有可退金额", "the ticket is used up: nothing is left to refund")
	case !now.Before(t.Window.Until):
		return conflict("refund_expired", "票券已过期，不能退款", "the ticket has expired: it cannot be refunded")
	case p.Refund.Days <= 0:
		return errRefundNotAllowed
	case !now.Before(q.Deadline):
		return conflict("refund_deadline_passed", "已过退款期限", "the refund deadline has passed")
	case q.AmountFen <= 0:
		return conflict("refund_nothing", "扣除手续费后没有可退金额", "nothing is left to refund after the fee")
	}
	return nil
}

// RefundStatus is where a ticket's refund is.
type RefundStatus string

// Refund states: the ticket is revoked and the refund entered as owed
// when it is created (pending); done once the gateway paid it, entered
// then as paid.
const (
	RefundPending RefundStatus = "pending"
	RefundDone    RefundStatus = "done"
)

// Refund is one bought ticket's refund.
type Refund struct {
	ID         int64        `json:"id"`
	TicketID   int64        `json:"ticket_id"`
	PurchaseID int64        `json:"purchase_id"`
	Buyer      int64        `json:"buyer"`
	PaymentID  string       `json:"payment_id"`
	RefundID   string       `json:"refund_id"`
	RidesUsed  int          `json:"rides_used"`
	UnusedFen  int64        `json:"unused_fen"`
	FeeFen     int64        `json:"fee_fen"`
	AmountFen  int64        `json:"amount_fen"`
	Status     RefundStatus `json:"status"`
	CreatedAt  time.Time    `json:"created_at"`
	// DoneAt is when the gateway paid the refund.
	DoneAt  time.Time `json:"done_at,omitzero"`
	Version int       `json:"version"`
}

// RefundEntry is the journal entry of a ticket's refund as accepted: the
// buyer's prepaid value for the unused rides goes, the refund is owed to
// the buyer until the gateway pays it, and the fee is the operator's. No
// money moved through the gateway yet, so it names no external ID.
func RefundEntry(r Refund) ledger.Entry {
	return ledger.Build(RefundKey(r.TicketID), ledger.KindRefund, Ref(r.PurchaseID), r.CreatedAt, "bought ticket refunded",
		ledger.Debit(ledger.PassengerPrepaid, Party(r.Buyer), r.UnusedFen),
		ledger.Credit(ledger.RefundsPayable, "", r.AmountFen),
		ledger.Credit(ledger.FeeIncome, "", r.FeeFen))
}

// RefundPaidEntry is the journal entry of a ticket's refund paid by the
// gateway: what was owed leaves through it (External the refund ID, At
// when the gateway paid, r.DoneAt).
func RefundPaidEntry(r Refund) ledger.Entry {
	e := ledger.Build(RefundPaidKey(r.TicketID), ledger.KindRefund, Ref(r.PurchaseID), r.DoneAt, "bought ticket refund paid",
		ledger.Debit(ledger.RefundsPayable, "", r.AmountFen),
		ledger.Credit(ledger.GatewayClearing, "", r.AmountFen))
	e.External = r.RefundID
	return e
}

// Filter selects purchases: a buyer's (0: everyone's), in a state, below
// an ID, at most Limit (default 50, at most 500).
type Filter struct {
	Buyer    int64
	OfferID  int64
	Status   Status
	BeforeID int64
	Limit    int
}

// Bounded returns f with its limit defaulted and capped.
func (f Filter) Bounded() Filter {
	if f.Limit <= 0 {
		f.Limit = 50
	}
	f.Limit = min(f.Limit, 500)
	return f
}

// PurchaseOfKey returns the purchase a ticket's issue key (IssueKey's
// form) names.
func PurchaseOfKey(key string) (int64, bool) {
	s, ok := strings.CutPrefix(key, "buy:")
	if !ok {
		return 0, false
	}
	id, n, ok := strings.Cut(s, ":")
	if !ok {
		return 0, false
	}
	if _, err := strconv.Atoi(n); err != nil {
		return 0, false
	}
	v, err := strconv.ParseInt(id, 10, 64)
	return v, err == nil && v > 0
}
