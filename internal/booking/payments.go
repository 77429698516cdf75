package booking

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"piao/internal/fault"
	"piao/internal/payment"
)

// PayerOf names an account as the payer of its payments, as gateways are
// told (payment.CreateRequest.Payer).
func PayerOf(accountID int64) string { return "account:" + strconv.FormatInt(accountID, 10) }

// createPayment asks the gateway for a payment of a held order. The gateway
// returns the same pending payment for the same order, so asking again is safe.
func (s *Service) createPayment(ctx context.Context, o Order) (payment.Payment, error) {
	if s.cfg.Gateway == nil {
		return payment.Payment{}, fault.New(fault.Unavailable, "no_gateway", "未配置支付渠道", "no payment gateway is configured")
	}
	return s.cfg.Gateway.Create(ctx, payment.CreateRequest{
		OrderRef:  orderRef(o.ID),
		AmountFen: o.TotalFen,
		Subject:   o.Tickets[0].Number + " " + o.Train.Date.String(),
		Payer:     PayerOf(o.AccountID),
		NotifyURL: s.cfg.NotifyURL,
		ReturnURL: s.cfg.ReturnURL + strconv.FormatInt(o.ID, 10),
		ExpiresAt: o.HoldExpiresAt,
	})
}

// Payment returns the gateway payment of a held order of the account,
// creating it on first use; asking again returns the same pending payment.
func (s *Service) Payment(ctx context.Context, orderID, accountID int64) (payment.Payment, error) {
	o, err := s.loadOwned(ctx, orderID, accountID)
	if err != nil {
		return payment.Payment{}, err
	}
	if o.Status != Held {
		return payment.Payment{}, fault.Newf(fault.Conflict, "order_not_held", "订单状态为 %s，无需支付", "the order is %s: nothing to pay", o.Status)
	}
	return s.createPayment(ctx, o)
}

// PaymentOutcome says what a payment notification did.
type PaymentOutcome string

// Outcomes of a payment notification.
const (
	OutcomePaid      PaymentOutcome = "paid"      // the held order is now paid
	OutcomeDuplicate PaymentOutcome = "duplicate" // already applied: nothing changed
	OutcomeRefunded  PaymentOutcome = "refunded"  // the hold had ended: the money went back
	OutcomeIgnored   PaymentOutcome = "ignored"   // not a successful payment
)

// HandleNotification applies a verified gateway notification exactly once:
// a payment for a held order pays it; a repeat changes nothing; a payment
// for an order whose hold already ended (expired or cancelled) is refunded
// in full. Payment and expiry racing end in one of those, never both.
func (s *Service) HandleNotification(ctx context.Context, n payment.Notification) (PaymentOutcome, error) {
	if n.Status != payment.Paid {
		return OutcomeIgnored, nil
	}
	if wid, ok := waitlistIDFromRef(n.OrderRef); ok {
		return s.handleWaitlistPayment(ctx, n, wid)
	}
	id, ok := orderIDFromRef(n.OrderRef)
	if !ok {
		return "", fault.Newf(fault.Invalid, "bad_order_ref", "无法识别的订单号 %q", "unknown order reference %q", n.OrderRef)
	}
	o, err := s.store.Order(ctx, id)
	if err != nil {
		return "", err
	}
	var original Order // for a change order: the order of the ticket it replaces
	if o.ChangeOf != 0 {
		if original, err = s.store.OrderOfTicket(ctx, o.ChangeOf); err != nil {
			return "", err
		}
	}
	out, err := submit(ctx, s, func(b *batch) (PaymentOutcome, error) {
		var oldTrain *working
		if o.ChangeOf != 0 {
			w, err := b.train(original.Train) // the old ticket's train first, as Change does
			if err != nil {
				return "", err
			}
			oldTrain = w
		}
		if _, err := b.train(o.Train); err != nil { // lock the train: expiry takes the same lock
			return "", err
		}
		cur, err := b.tx.OrderForUpdate(id)
		if err != nil {
			return "", err
		}
		now := s.cfg.Now()
		switch {
		case cur.Status == Held:
			if n.AmountFen != cur.TotalFen {
				return "", fault.Newf(fault.Invalid, "amount_mismatch", "支付金额 %d 分与订单金额 %d 分不符", "paid %d fen for an order of %d fen", n.AmountFen, cur.TotalFen)
			}
			paidAt := n.PaidAt
			if paidAt.IsZero() {
				paidAt = now
			}
			cur.Status, cur.PaymentID, cur.PaidAt = Paid, n.PaymentID, &paidAt
			for i := range cur.Tickets {
				cur.Tickets[i].Status = Paid
			}
			if err := b.tx.SetOrder(cur); err != nil {
				return "", err
			}
			if err := b.post(orderPaidEntry(cur, n.PaymentID, paidAt)); err != nil {
				return "", err
			}
			events := []Event{{OrderID: id, At: now, Actor: "payment:" + n.PaymentID, Action: "pay", From: Held, To: Paid, Detail: "notification " + n.ID}}
			if cur.ChangeOf != 0 {
				old, err := b.tx.OrderOfTicket(cur.ChangeOf)
				if err != nil {
					return "", err
				}
				ev, err := s.finishChange(b, oldTrain, old, cur.ChangeOf, cur.Tickets[0].ID, 0, "payment:"+n.PaymentID)
				if err != nil {
					return "", err
				}
				events = append(events, ev...)
			}
			return OutcomePaid, b.tx.AppendEvents(events...)
		case cur.PaymentID == n.PaymentID:
			return OutcomeDuplicate, nil
		default:
			// The hold ended (or another payment paid it): this money goes back.
			if err := b.post(latePaymentEntries(orderLedgerRef(id), n.PaymentID, n.AmountFen, now)...); err != nil {
				return "", err
			}
			return OutcomeRefunded, b.tx.AppendEvents(Event{OrderID: id, At: now, Actor: "payment:" + n.PaymentID, Action: "late_payment_refund", From: cur.Status, To: cur.Status,
				Detail: "payment " + n.PaymentID + " arrived when the order was " + string(cur.Status)})
		}
	})
	if err != nil {
		return "", err
	}
	if out == OutcomeRefunded {
		// The refund ID is fixed per payment, so repeated notifications refund once.
		if _, err := s.cfg.Gateway.Refund(ctx, payment.RefundRequest{RefundID: lateRefundID(n.PaymentID), PaymentID: n.PaymentID, AmountFen: n.AmountFen, Reason: "order hold ended before payment"}); err != nil {
			slog.Error("refunding a late payment", "payment", n.PaymentID, "err", err.Error())
			return "", err // the gateway will notify again
		}
	}
	return out, nil
}

// RefundTickets refunds paid tickets of an account's order (all if ticketIDs
// is empty) by the refund fee table, frees their seats and returns the money
// less the fees through the gateway. Every ticket asked for is checked
// before anything is written, so a refused request changes nothing.
// Refunding an already refunded ticket again only repeats the gateway
// refund, which the gateway does once.
func (s *Service) RefundTickets(ctx context.Context, orderID, accountID int64, ticketIDs []int64) (Order, error) {
	o, err := s.loadOwned(ctx, orderID, accountID)
	if err != nil {
		return Order{}, err
	}
	table, err := s.refundTable(ctx)
	if err != nil {
		return Order{}, err
	}
	var original Order // for a ticket a change gave: the order of the ticket it replaced, whose payment paid it
	if o.ChangeOf != 0 {
		if original, err = s.store.OrderOfTicket(ctx, o.ChangeOf); err != nil {
			return Order{}, err
		}
	}
	want := map[int64]bool{}
	for _, id := range ticketIDs {
		want[id] = true
	}
	cur, err := submit(ctx, s, func(b *batch) (Order, error) {
		w, err := b.train(o.Train)
		if err != nil {
			return Order{}, err
		}
		cur, err := b.tx.OrderForUpdate(orderID)
		if err != nil {
			return Order{}, err
		}
		for id := range want {
			if !hasTicket(cur.Tickets, id) {
				return Order{}, fault.Newf(fault.NotFound, "ticket_not_found", "订单中没有车票 %d", "the order has no ticket %d", id)
			}
		}
		now := s.cfg.Now()
		fees := make(map[int64]int64, len(cur.Tickets))
		for _, t := range cur.Tickets {
			if len(want) > 0 && !want[t.ID] || t.Status == Refunded || len(want) == 0 && t.Status == Changed {
				continue // "all" are the order's tickets still its own: a changed one moved to its change order
			}
			if t.Status != Paid {
				return Order{}, fault.Newf(fault.Conflict, "ticket_not_paid", "车票 %d 状态为 %s，不能退票", "ticket %d is %s and cannot be refunded", t.ID, t.Status)
			}
			if fees[t.ID], err = table.Fee(t.FareFen, t.Departure.Sub(now)); err != nil {
				return Order{}, err
			}
		}
		var freed []Ticket
		var events []Event
		for i, t := range cur.Tickets {
			fee, ok := fees[t.ID]
			if !ok {
				continue
			}
			cur.Tickets[i].Status, cur.Tickets[i].FeeFen, cur.Tickets[i].RefundFen = Refunded, fee, t.FareFen-fee
			if err := b.post(ticketRefundEntry(orderID, cur.Tickets[i], now)); err != nil {
				return Order{}, err
			}
			freed = append(freed, t)
			events = append(events, Event{OrderID: orderID, At: now, Actor: accountActor(accountID), Action: "refund", From: Paid, To: Refunded, TicketID: t.ID,
				Detail: "fee " + strconv.FormatInt(fee, 10) + " fen"})
		}
		if len(freed) > 0 {
			if err := release(w, freed); err != nil {
				return Order{}, err
			}
		}
		if allIn(cur.Tickets, Refunded) && cur.Status == Paid {
			cur.Status = Refunded
			events = append(events, Event{OrderID: orderID, At: now, Actor: accountActor(accountID), Action: "refund", From: Paid, To: Refunded})
		}
		if len(events) > 0 {
			if err := b.tx.SetOrder(cur); err != nil {
				return Order{}, err
			}
			if err := b.tx.AppendEvents(events...); err != nil {
				return Order{}, err
			}
		}
		return cur, nil
	})
	if err != nil {
		return Order{}, err
	}
	var parts []refundPart
	for _, t := range cur.Tickets {
		if t.Status == Refunded && t.RefundFen > 0 && (len(want) == 0 || want[t.ID]) {
			parts = append(parts, ticketRefundParts(cur, original, t)...)
		}
	}
	if err := s.payRefunds(ctx, cur.ID, parts, "ticket refund"); err != nil {
		return cur, fault.New(fault.Unavailable, "refund_pending", "退票已受理，退款暂未到账，请稍后重试", "the ticket is refunded but the money transfer failed; retry to resend it")
	}
	return cur, nil
}

// ticketRefundParts splits a refunded ticket's refund over the payments
// that paid it. A ticket a change gave was paid by the original order's
// payment (the old ticket's fare; a cheaper change returned the rest) and,
// for a change to a dearer ticket, by its own order's payment of the
// difference: the refund goes back on the original payment up to the old
// fare, and the rest on the difference payment.
func ticketRefundParts(o, original Order, t Ticket) []refundPart {
	first := refundPart{ID: ticketRefundID(t.ID), PaymentID: o.PaymentID, AmountFen: t.RefundFen, Key: TicketRefundPaidKey(t.ID), Ref: orderLedgerRef(o.ID), TicketID: t.ID}
	if o.ChangeOf == 0 {
		return []refundPart{first}
	}
	var oldFare int64
	for _, old := range original.Tickets {
		if old.ID == o.ChangeOf {
			oldFare = old.FareFen
		}
	}
	first.PaymentID, first.AmountFen = original.PaymentID, min(t.RefundFen, oldFare)
	parts := []refundPart{first}
	if rest := t.RefundFen - first.AmountFen; rest > 0 {
		parts = append(parts, refundPart{ID: ticketRefundSecondID(t.ID), PaymentID: o.PaymentID, AmountFen: rest, Key: TicketRefundPaidSecondKey(t.ID), Ref: first.Ref, TicketID: t.ID})
	}
	return parts
}

// payRefunds asks the gateway for each refund part of an order's tickets
// and records the ones it paid: their entries (refundPaidEntry) and a
// refund_paid event on the order, in one transaction, at the gateway's
// time. A part the gateway did not pay stays owed (RefundsPayable) and is
// asked for again when the refund is repeated; the first error is
// returned after the paid parts are recorded.
func (s *Service) payRefunds(ctx context.Context, orderID int64, parts []refundPart, reason string) error {
	if s.cfg.Gateway == nil || len(parts) == 0 {
		return nil
	}
	type paidPart struct {
		refundPart
		at time.Time
	}
	var paid []paidPart
	var failed error
	for _, p := range parts {
		rf, err := s.cfg.Gateway.Refund(ctx, payment.RefundRequest{RefundID: p.ID, PaymentID: p.PaymentID, AmountFen: p.AmountFen, Reason: reason})
		if err == nil && rf.Status != payment.RefundSucceeded {
			err = fmt.Errorf("the gateway answered %s", rf.Status)
		}
		if err != nil {
			slog.Error("refunding", "refund", p.ID, "payment", p.PaymentID, "err", err.Error())
			failed = cmp.Or(failed, err)
			continue
		}
		at := rf.At
		if at.IsZero() {
			at = s.cfg.Now()
		}
		paid = append(paid, paidPart{p, at})
	}
	if len(paid) == 0 {
		return failed
	}
	err := s.queue(ctx, func(b *batch) error {
		cur, err := b.tx.OrderForUpdate(orderID) // serialises two recorders of one refund
		if err != nil {
			return err
		}
		var events []Event
		for _, p := range paid {
			done, err := b.tx.HasEntry(p.Key)
			if err != nil {
				return err
			}
			if done {
				continue
			}
			if err := b.post(refundPaidEntry(p.refundPart, p.at)); err != nil {
				return err
			}
			st := cur.Status
			for _, t := range cur.Tickets {
				if t.ID == p.TicketID {
					st = t.Status
				}
			}
			events = append(events, Event{OrderID: orderID, At: p.at, Actor: "refund:" + p.ID, Action: "refund_paid", From: st, To: st, TicketID: p.TicketID,
				Detail: fmt.Sprintf("%d fen on payment %s", p.AmountFen, p.PaymentID)})
		}
		if len(events) == 0 {
			return nil
		}
		return b.tx.AppendEvents(events...)
	})
	return cmp.Or(err, failed)
}

func hasTicket(ts []Ticket, id int64) bool {
	for _, t := range ts {
		if t.ID == id {
			return true
		}
	}
	return false
}

func allIn(ts []Ticket, st TicketStatus) bool {
	for _, t := range ts {
		if t.Status != st {
			return false
		}
	}
	return true
}
