package booking

import (
	"fmt"
	"strconv"
	"time"

	"piao/internal/fault"
	"piao/internal/ledger"
)

// The journal entries of rail money (SPEC B5, docs/MONEY.md). Money a
// passenger pays for tickets is held in PassengerPayments until the ticket
// is refunded or changed. A refund is two events: when piao accepts it the
// fare leaves PassengerPayments, the refund is owed (RefundsPayable) and the
// fee is the operator's (FeeIncome); when the gateway confirms it paid the
// refund, the debt is settled through GatewayClearing, with the refund's ID
// and the gateway's time, so reconciliation finds it on the day it moved.
// Each entry is posted by the op that records its event, inside the
// committer's transaction (batch.post), so an order is never paid, refunded
// or changed, nor a refund recorded as paid, without its entry.

// OrderPaidKey is the key of an order's payment entry.
func OrderPaidKey(orderID int64) string { return "order:" + strconv.FormatInt(orderID, 10) + ":paid" }

// TicketRefundKey is the key of a ticket refund's entry.
func TicketRefundKey(ticketID int64) string {
	return "ticket:" + strconv.FormatInt(ticketID, 10) + ":refund"
}

// TicketChangeKey is the key of the entry of a change (改签) that returned
// part of a ticket's fare.
func TicketChangeKey(ticketID int64) string {
	return "ticket:" + strconv.FormatInt(ticketID, 10) + ":change"
}

// TicketRefundPaidKey is the key of the entry of a ticket refund the
// gateway paid back on the ticket's first payment (the order's own, or for
// a ticket a change gave, the original order's).
func TicketRefundPaidKey(ticketID int64) string {
	return "ticket:" + strconv.FormatInt(ticketID, 10) + ":refund_paid"
}

// TicketRefundPaidSecondKey is the key of the entry of the part of a ticket
// refund the gateway paid back on the difference payment of a change to a
// dearer ticket.
func TicketRefundPaidSecondKey(ticketID int64) string {
	return "ticket:" + strconv.FormatInt(ticketID, 10) + ":refund_paid:2"
}

// TicketChangePaidKey is the key of the entry of a change's refund the
// gateway paid.
func TicketChangePaidKey(ticketID int64) string {
	return "ticket:" + strconv.FormatInt(ticketID, 10) + ":change_paid"
}

// WaitlistPaidKey is the key of a waitlist prepayment's entry.
func WaitlistPaidKey(id int64) string { return "waitlist:" + strconv.FormatInt(id, 10) + ":paid" }

// WaitlistRefundKey is the key of the entry of what a waitlist entry gives
// back (all of it when it lapsed, the fare difference when it was served).
func WaitlistRefundKey(id int64) string { return "waitlist:" + strconv.FormatInt(id, 10) + ":refund" }

// WaitlistRefundPaidKey is the key of the entry of a waitlist refund the
// gateway paid.
func WaitlistRefundPaidKey(id int64) string {
	return "waitlist:" + strconv.FormatInt(id, 10) + ":refund_paid"
}

// LatePaymentKey and LateRefundKey are the keys of the two entries of a
// payment that arrived for an order or waitlist entry that had ended.
func LatePaymentKey(paymentID string) string { return "payment:" + paymentID + ":late" }

// LateRefundKey is the key of the return of a late payment.
func LateRefundKey(paymentID string) string { return "payment:" + paymentID + ":late_refund" }

// Gateway refund IDs: the caller's idempotency IDs, fixed per event, so an
// entry can name its refund before the gateway is asked.
func ticketRefundID(ticketID int64) string { return "ticket-" + strconv.FormatInt(ticketID, 10) }
func ticketRefundSecondID(ticketID int64) string {
	return "ticket-" + strconv.FormatInt(ticketID, 10) + "-2"
}
func changeRefundID(ticketID int64) string { return "change-" + strconv.FormatInt(ticketID, 10) }
func waitlistRefundID(id int64) string     { return "waitlist-" + strconv.FormatInt(id, 10) }
func lateRefundID(paymentID string) string { return "late-" + paymentID }

func orderLedgerRef(id int64) string    { return "order:" + strconv.FormatInt(id, 10) }
func waitlistLedgerRef(id int64) string { return "waitlist:" + strconv.FormatInt(id, 10) }

// orderPaidEntry records a passenger's payment for an order: the gateway
// holds the money, the operator holds it for the passenger.
func orderPaidEntry(o Order, paymentID string, at time.Time) ledger.Entry {
	e := ledger.Build(OrderPaidKey(o.ID), ledger.KindPayment, orderLedgerRef(o.ID), at, "rail order paid",
		ledger.Debit(ledger.GatewayClearing, "", o.TotalFen),
		ledger.Credit(ledger.PassengerPayments, "", o.TotalFen))
	e.External = paymentID
	return e
}

// ticketRefundEntry records a ticket refund piao accepted: its whole fare
// leaves PassengerPayments, the refund is owed to the passenger until the
// gateway pays it (refundPaidEntry) and the fee is the operator's.
func ticketRefundEntry(orderID int64, t Ticket, at time.Time) ledger.Entry {
	return ledger.Build(TicketRefundKey(t.ID), ledger.KindRefund, orderLedgerRef(orderID), at, "ticket "+strconv.FormatInt(t.ID, 10)+" refunded",
		ledger.Debit(ledger.PassengerPayments, "", t.FareFen),
		ledger.Credit(ledger.RefundsPayable, "", t.RefundFen),
		ledger.Credit(ledger.FeeIncome, "", t.FeeFen))
}

// changeRefundEntry records a change to a cheaper ticket: the difference
// leaves PassengerPayments, owed back to the passenger less the change fee
// until the gateway pays it. A change to a dearer ticket is a payment of
// its own order (orderPaidEntry); one at the same fare moves no money and
// has no entry.
func changeRefundEntry(orderID, ticketID, refund, fee int64, at time.Time) (ledger.Entry, bool) {
	e := ledger.Build(TicketChangeKey(ticketID), ledger.KindRefund, orderLedgerRef(orderID), at, "ticket "+strconv.FormatInt(ticketID, 10)+" changed to a cheaper one",
		ledger.Debit(ledger.PassengerPayments, "", refund+fee),
		ledger.Credit(ledger.RefundsPayable, "", refund),
		ledger.Credit(ledger.FeeIncome, "", fee))
	return e, refund+fee > 0
}

// refundPart is one gateway refund of money piao owes back: what it
// refunds, on which payment, and the key of the entry recording it paid.
type refundPart struct {
	ID        string // the gateway refund ID, fixed per part
	PaymentID string // the payment it goes back on
	AmountFen int64
	Key       string // the key of its refundPaidEntry
	Ref       string // what it is about, as the accepting entry's Ref
	TicketID  int64  // the ticket the order event names (0 for a waitlist entry)
}

// refundPaidEntry records a refund part the gateway paid: the debt to the
// passenger is settled, the money leaves the gateway's account, at the
// gateway's time, under the refund's ID.
func refundPaidEntry(p refundPart, at time.Time) ledger.Entry {
	e := ledger.Build(p.Key, ledger.KindRefund, p.Ref, at, "refund "+p.ID+" paid by the gateway",
		ledger.Debit(ledger.RefundsPayable, "", p.AmountFen),
		ledger.Credit(ledger.GatewayClearing, "", p.AmountFen))
	e.External = p.ID
	return e
}

// waitlistPaidEntry records a waitlist prepayment, held for the passenger
// like an order's payment. The order it becomes is paid from it: that
// moves no money, so the order has no payment entry of its own.
func waitlistPaidEntry(w WaitlistEntry, paymentID string, at time.Time) ledger.Entry {
	e := ledger.Build(WaitlistPaidKey(w.ID), ledger.KindPayment, waitlistLedgerRef(w.ID), at, "waitlist prepaid",
		ledger.Debit(ledger.GatewayClearing, "", w.PrepaidFen),
		ledger.Credit(ledger.PassengerPayments, "", w.PrepaidFen))
	e.External = paymentID
	return e
}

// waitlistRefundEntry records what a waitlist entry gives back, when it is
// owed: it leaves PassengerPayments for RefundsPayable; the sender pays it
// out later, retrying until the gateway accepts it (refundPaidEntry).
func waitlistRefundEntry(w WaitlistEntry, at time.Time) ledger.Entry {
	return ledger.Build(WaitlistRefundKey(w.ID), ledger.KindRefund, waitlistLedgerRef(w.ID), at, "waitlist "+string(w.Status)+": refund owed",
		ledger.Debit(ledger.PassengerPayments, "", w.RefundFen),
		ledger.Credit(ledger.RefundsPayable, "", w.RefundFen))
}

// latePaymentEntries record a payment that arrived for something that had
// ended and its return: the money is owed back (RefundsPayable) the moment
// it lands, and the return is decided in the same transaction, so both are
// posted together; each names its own gateway ID for reconciliation.
func latePaymentEntries(ref, paymentID string, amount int64, at time.Time) []ledger.Entry {
	in := ledger.Build(LatePaymentKey(paymentID), ledger.KindPayment, ref, at, "payment for an ended "+ref+": owed back",
		ledger.Debit(ledger.GatewayClearing, "", amount),
		ledger.Credit(ledger.RefundsPayable, "", amount))
	in.External = paymentID
	out := ledger.Build(LateRefundKey(paymentID), ledger.KindRefund, ref, at, "late payment returned",
		ledger.Debit(ledger.RefundsPayable, "", amount),
		ledger.Credit(ledger.GatewayClearing, "", amount))
	out.External = lateRefundID(paymentID)
	return []ledger.Entry{in, out}
}

// post posts entries in the batch's transaction. A refusal is the batch's
// failure, not the op's: the op may have written already, and an op that
// fails with a non-internal error leaves its writes to the batch.
func (b *batch) post(es ...ledger.Entry) error {
	for _, e := range es {
		if err := b.tx.PostEntry(e); err != nil {
			if fault.CodeOf(err) != fault.Internal {
				return &fault.Error{Code: fault.Internal, Reason: "internal", ZH: "服务器内部错误", EN: "internal error", Err: fmt.Errorf("post journal entry %s: %w", e.Key, err)}
			}
			return err
		}
	}
	return nil
}
