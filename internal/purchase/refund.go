package purchase

import (
	"strconv"
	"time"

	"piao/internal/benefits"
	"piao/internal/fault"
)

// The refund rule.
//
// What a prepaid campaign leaves unused goes back to its merchant once,
// by this rule:
//
//   - When. The campaign must be over (benefits.Campaign.Over: ended,
//     terminated, or never approved and past its end). The
//     refund opens Grace after the campaign's end (default 7 days), so
//     trips settled late are charged to the budget before it is closed, and
//     stays open until Deadline after the end (default 90 days); after that
//     the money is the operator's. A campaign's end is its Ends; a
//     terminated campaign ended when it was terminated (its terminate
//     event), if that was earlier — not when it was last changed, which
//     closing its budget for the refund is.
//   - How much. Unused is what the campaign's budget closing reports left
//     unused (benefits CloseBudget: the budget is capped at what was
//     spent; a purchase adds its whole amount to the budget, so unused
//     tickets' prepaid value is in it). The refundable base is unused, but never more than the
//     campaign's paid purchases brought in. The fee is FeeBasisPoints of
//     the base (default 0; 100 = 1 %), rounded to the nearest fen with
//     halves up (fee = (base × bp + 5000) / 10000 in integers); the merchant
//     gets base − fee.
//   - Once. One refund per campaign; asking again answers the refund made.
//   - Paid back. Through the gateway, against the campaign's paid purchases,
//     newest first, each at most what it paid, so several gateway refunds
//     may be needed. Each has a fixed refund ID ("mpr-<refund>-<purchase>"),
//     which the gateway refunds once: a retry after a failure resends the
//     same IDs and never refunds twice.

// RefundRules are the refund rule's settings.
type RefundRules struct {
	// Grace is how long after a campaign's end its refund opens (default 7 days).
	Grace time.Duration
	// Deadline is how long after a campaign's end its refund closes (default 90 days).
	Deadline time.Duration
	// FeeBasisPoints is the fee in hundredths of a percent (default 0; at most 10,000).
	FeeBasisPoints int64
}

// DefaultRefundRules are the rules when none are configured.
func DefaultRefundRules() RefundRules {
	return RefundRules{Grace: 7 * 24 * time.Hour, Deadline: 90 * 24 * time.Hour}
}

// orDefaults fills the zero durations of r.
func (r RefundRules) orDefaults() RefundRules {
	d := DefaultRefundRules()
	if r.Grace <= 0 {
		r.Grace = d.Grace
	}
	if r.Deadline <= 0 {
		r.Deadline = d.Deadline
	}
	r.FeeBasisPoints = min(max(r.FeeBasisPoints, 0), 10_000)
	return r
}

// RefundStatus is where a refund is.
type RefundStatus string

// Refund states: pending until every gateway refund of its plan succeeded.
const (
	RefundPending RefundStatus = "pending"
	RefundDone    RefundStatus = "refunded"
)

// RefundPart is one gateway refund of a campaign refund.
type RefundPart struct {
	PurchaseID int64     `json:"purchase_id"`
	PaymentID  string    `json:"payment_id"`
	RefundID   string    `json:"refund_id"` // the gateway idempotency ID
	AmountFen  int64     `json:"amount_fen"`
	Done       bool      `json:"done"`
	At         time.Time `json:"at,omitzero"`
}

// Refund is the one refund of a campaign's unused value.
type Refund struct {
	ID         int64 `json:"id"`
	Merchant   int64 `json:"merchant_id"`
	CampaignID int64 `json:"campaign_id"`
	// UnusedFen is what the campaign left unused, PaidFen what its paid
	// purchases brought in; the base is the smaller.
	UnusedFen   int64        `json:"unused_fen"`
	PaidFen     int64        `json:"paid_fen"`
	FeeFen      int64        `json:"fee_fen"`
	RefundedFen int64        `json:"refunded_fen"`
	Status      RefundStatus `json:"status"`
	Parts       []RefundPart `json:"parts"`
	By          int64        `json:"by"`
	CreatedAt   time.Time    `json:"created_at"`
	DoneAt      time.Time    `json:"done_at,omitzero"`
	Version     int          `json:"version"`
}

// ErrRefundNotFound is a campaign without a refund.
var ErrRefundNotFound = fault.New(fault.NotFound, "refund_not_found", "该活动没有退款", "the campaign has no refund")

// ErrRefundExists is a second refund of a campaign.
var ErrRefundExists = fault.New(fault.Conflict, "refund_exists", "该活动已退款", "the campaign's unused value was already refunded")

// EndOf is when a campaign ended for the refund rule: its Ends, or for a
// terminated campaign the time of its terminate event (among events, its
// trail) if that came first. Without that event the end is Ends, the
// later and so the safer.
func EndOf(c benefits.Campaign, events []benefits.Event) time.Time {
	if c.Status != benefits.Terminated {
		return c.Ends
	}
	for _, ev := range events {
		if ev.Action == string(benefits.Terminate) && ev.To == benefits.Terminated && !ev.At.IsZero() && ev.At.Before(c.Ends) {
			return ev.At
		}
	}
	return c.Ends
}

// Window is when a campaign's refund may be made: from Opens, before Closes.
type Window struct {
	Opens  time.Time `json:"opens_at"`
	Closes time.Time `json:"closes_at"`
}

// WindowOf is the refund window of a campaign with its events under r.
func (r RefundRules) WindowOf(c benefits.Campaign, events []benefits.Event) Window {
	r = r.orDefaults()
	end := EndOf(c, events)
	return Window{Opens: end.Add(r.Grace), Closes: end.Add(r.Deadline)}
}

// Check says whether a campaign's refund may be made at now: the campaign
// is over and now is inside its window (events: the campaign's trail).
func (r RefundRules) Check(c benefits.Campaign, events []benefits.Event, now time.Time) error {
	if !c.Over(now) {
		return fault.New(fault.Conflict, "campaign_not_over", "活动尚未结束，结束后方可退还未用金额", "the campaign is not over: its unused value is refunded after it ends")
	}
	w := r.WindowOf(c, events)
	if now.Before(w.Opens) {
		return fault.Newf(fault.Conflict, "refund_not_open", "退款将于 %s 开放（结束后留出结算期）", "the refund opens at %s, after the settlement grace",
			local(w.Opens)).WithRetryAt(w.Opens)
	}
	if !now.Before(w.Closes) {
		return fault.Newf(fault.Conflict, "refund_window_closed", "退款期限已于 %s 截止", "the refund deadline passed at %s",
			local(w.Closes))
	}
	return nil
}

// business is the time zone messages give times in (SPEC: Asia/Shanghai).
var business = func() *time.Location {
	if loc, err := time.LoadLocation("Asia/Shanghai"); err == nil {
		return loc
	}
	return time.FixedZone("CST", 8*3600)
}()

// local shows t in business time, to the minute.
func local(t time.Time) string { return t.In(business).Format("2006-01-02 15:04 MST") }

// Fee is the fee on a refundable base: FeeBasisPoints of it, to the
// nearest fen, halves up.
func (r RefundRules) Fee(base int64) int64 {
	r = r.orDefaults()
	if base <= 0 {
		return 0
	}
	return (base*r.FeeBasisPoints + 5000) / 10_000
}

// Figures are a refund's amounts: the base is min(unused, paid), the fee
// is on the base, and the merchant gets base − fee.
func (r RefundRules) Figures(unused, paid int64) (base, fee, refund int64) {
	base = max(min(unused, paid), 0)
	fee = r.Fee(base)
	return base, fee, base - fee
}

// Plan spreads amount over paid purchases, newest first, each at most its
// amount, naming each gateway refund by the refund and the purchase. The
// purchases must be the campaign's paid ones; it takes them in ID order,
// newest (largest ID) first, whatever order they come in.
func Plan(refundID int64, paid []Purchase, amount int64) []RefundPart {
	ps := append([]Purchase(nil), paid...)
	for i := 1; i < len(ps); i++ { // insertion sort, newest first: lists are short
		for j := i; j > 0 && ps[j].ID > ps[j-1].ID; j-- {
			ps[j], ps[j-1] = ps[j-1], ps[j]
		}
	}
	parts := []RefundPart{}
	for _, p := range ps {
		if amount <= 0 {
			break
		}
		can := p.AmountFen - p.RefundedFen
		if p.Status != Paid || can <= 0 {
			continue
		}
		n := min(can, amount)
		parts = append(parts, RefundPart{PurchaseID: p.ID, PaymentID: p.PaymentID, AmountFen: n,
			RefundID: "mpr-" + strconv.FormatInt(refundID, 10) + "-" + strconv.FormatInt(p.ID, 10)})
		amount -= n
	}
	return parts
}

// Preview is what a campaign's refund would be now, for the console: the
// figure, and when it opens and closes. Once made, Refund is the refund.
type Preview struct {
	CampaignID int64 `json:"campaign_id"`
	// UnusedFen is the budget not yet spent (budget value − spent); the
	// figure is fixed when the refund is made, after late settlements.
	UnusedFen int64  `json:"unused_fen"`
	PaidFen   int64  `json:"paid_fen"`
	FeeFen    int64  `json:"fee_fen"`
	RefundFen int64  `json:"refund_fen"`
	Window    Window `json:"window"`
	// Open says whether the refund may be asked for now.
	Open bool `json:"open"`
	// Reason is why not, when it may not (campaign_not_over, refund_not_open…).
	Reason string  `json:"reason,omitempty"`
	Refund *Refund `json:"refund,omitempty"`
}
