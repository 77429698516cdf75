package benefits

import (
	"time"

	"piao/internal/fault"
)

// TicketState is where a held ticket is; Usable and the wallet's status
// also look at its rides and validity.
type TicketState string

// Ticket states kept by the store.
const (
	Held     TicketState = "held"     // in its holder's wallet
	Gifting  TicketState = "gifting"  // offered as a gift, not usable until accepted or returned
	Revoked  TicketState = "revoked"  // taken back by the issuer
	Consumed TicketState = "consumed" // no rides left
)

// Ticket is one value-added ticket a rider holds (SPEC V4).
type Ticket struct {
	ID         int64       `json:"id"`
	CampaignID int64       `json:"campaign_id"`
	ProductID  int64       `json:"product_id"`
	Holder     int64       `json:"holder"` // account ID
	Channel    Channel     `json:"channel"`
	State      TicketState `json:"state"`
	RidesTotal int         `json:"rides_total"`
	RidesLeft  int         `json:"rides_left"`
	Window     Window      `json:"validity"`
	IssuedAt   time.Time   `json:"issued_at"`
	// Code is the redemption code it was issued for, if any.
	Code string `json:"code,omitempty"`
	// PaidFen is what PaidBy paid for a bought ticket (zero for tickets
	// given away): the prepaid value its rides use up.
	PaidFen int64 `json:"paid_fen,omitempty"`
	PaidBy  int64 `json:"paid_by,omitempty"`
}

// WalletStatus is what the wallet shows for a ticket at a moment.
type WalletStatus string

// Wallet statuses.
const (
	Usable    WalletStatus = "usable"
	NotYet    WalletStatus = "not_yet_valid"
	Used      WalletStatus = "used"
	Expired   WalletStatus = "expired"
	Offered   WalletStatus = "gifting"
	Withdrawn WalletStatus = "revoked"
)

// StatusAt returns the wallet status of t at now.
func (t Ticket) StatusAt(now time.Time) WalletStatus {
	switch {
	case t.State == Revoked:
		return Withdrawn
	case t.State == Consumed || t.RidesLeft <= 0:
		return Used
	case t.State == Gifting:
		return Offered
	case !now.Before(t.Window.Until):
		return Expired
	case now.Before(t.Window.From):
		return NotYet
	}
	return Usable
}

// NewTicket makes the ticket issued to holder from campaign c of product p
// at now through ch.
func NewTicket(c Campaign, p Product, holder int64, ch Channel, now time.Time) Ticket {
	rides := p.Rides()
	return Ticket{
		CampaignID: c.ID, ProductID: p.ID, Holder: holder, Channel: ch, State: Held,
		RidesTotal: rides, RidesLeft: rides, Window: p.Valid.WindowFor(now, Shanghai), IssuedAt: now,
	}
}

// Shanghai is the zone tickets' days are counted in (SPEC: Asia/Shanghai).
var Shanghai = mustLoad("Asia/Shanghai")

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		// The zone database is embedded by cmd/piao (time/tzdata); a
		// fixed +08:00 is Shanghai's offset with no daylight saving.
		return time.FixedZone(name, 8*3600)
	}
	return loc
}

// GiftState is where a gift is.
type GiftState string

// Gift states.
const (
	GiftPending   GiftState = "pending"
	GiftAccepted  GiftState = "accepted"
	GiftDeclined  GiftState = "declined"
	GiftReturned  GiftState = "returned"  // not accepted before it expired
	GiftCancelled GiftState = "cancelled" // withdrawn by the giver
)

// Gift is a ticket offered by its holder to someone else by link or code
// (转赠). Until it is accepted the ticket is nobody's to use; declined,
// cancelled or expired, it goes back to the giver.
type Gift struct {
	ID        int64     `json:"id"`
	Token     string    `json:"token"` // the code in the link; only the giver sees it
	TicketID  int64     `json:"ticket_id"`
	Giver     int64     `json:"giver"`
	Receiver  int64     `json:"receiver,omitempty"`
	Cover     Cover     `json:"cover"`
	Message   string    `json:"message,omitempty"`
	State     GiftState `json:"state"`
	CreatedAt time.Time `json:"created_at"`
	Expires   time.Time `json:"expires"`
	SettledAt time.Time `json:"settled_at,omitzero"`
}

// CheckGift says whether t may be offered as a gift by giver at now.
func (t Ticket) CheckGift(giver int64, now time.Time) error {
	if t.Holder != giver {
		return fault.New(fault.NotFound, "ticket_not_found", "票券不存在", "ticket not found")
	}
	if st := t.StatusAt(now); st != Usable && st != NotYet {
		return fault.Newf(fault.Conflict, "ticket_not_giftable", "该票券当前不可转赠（%s）", "this ticket cannot be gifted now (%s)", st)
	}
	if t.RidesLeft != t.RidesTotal {
		return fault.New(fault.Conflict, "ticket_partly_used", "已使用过的票券不能转赠", "a ticket already used cannot be gifted")
	}
	return nil
}

// CheckSettle checks moving pending gift g to state at now and, if allowed,
// records it on g. Only someone other than the giver accepts or declines;
// only the giver cancels; returning is for gifts past their expiry.
func CheckSettle(g *Gift, receiver int64, state GiftState, now time.Time) error {
	if g.State != GiftPending {
		return fault.Newf(fault.Conflict, "gift_settled", "该赠送已处理（%s）", "this gift has been settled (%s)", g.State)
	}
	expired := !now.Before(g.Expires)
	switch state {
	case GiftAccepted, GiftDeclined:
		if receiver == g.Giver {
			return fault.New(fault.Conflict, "own_gift", "不能领取自己送出的票券", "you cannot accept your own gift")
		}
		if expired {
			return fault.New(fault.Conflict, "gift_expired", "赠送已过期，票券已退回赠送人", "the gift has expired and gone back to the giver")
		}
		if state == GiftAccepted {
			g.Receiver = receiver
		}
	case GiftCancelled:
		if receiver != g.Giver {
			return fault.New(fault.NotFound, "gift_not_found", "赠送不存在或已失效", "gift not found")
		}
	case GiftReturned:
		if !expired {
			return fault.New(fault.Conflict, "gift_not_expired", "赠送尚未过期", "the gift has not expired")
		}
	default:
		return fault.Newf(fault.Invalid, "bad_gift_state", "无效的处理 %q", "cannot settle a gift as %q", state)
	}
	g.State, g.SettledAt = state, now
	return nil
}

// TicketBenefit is what held ticket t of product p offers the stacking
// engine.
func TicketBenefit(t Ticket, p Product) Benefit {
	return Benefit{TicketID: t.ID, CampaignID: t.CampaignID, Kind: p.Kind, Terms: p.Terms, Scope: p.Scope, Window: t.Window, RidesLeft: t.RidesLeft}
}
