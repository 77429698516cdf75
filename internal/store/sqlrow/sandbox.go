package sqlrow

import (
	"slices"
	"strings"
	"time"

	"piao/internal/fault"
	"piao/internal/payment"
	"piao/internal/payment/sandbox"
)

// errSettleStatus is the answer to settling a payment to pending or to a
// status that does not exist.
var errSettleStatus = fault.New(fault.Invalid, "payment_status_invalid", "支付单只能从待支付变为已支付、失败或关闭", "a payment can only go from pending to paid, failed or closed")

// SettledPaidAt is the paid_at of a payment settled to status to at at: at
// if it is paid, else NULL. Settling to pending or to a status that does
// not exist is an error.
func SettledPaidAt(to payment.Status, at time.Time) (NullTime, error) {
	if !to.Valid() || to == payment.Pending {
		return NullTime{}, errSettleStatus
	}
	if to != payment.Paid {
		at = time.Time{}
	}
	return AtOrNull(at), nil
}

// Unsettled is why a settlement of cur matched no row: cur is no longer
// pending, or it has expired.
func Unsettled(cur sandbox.Record) error {
	if cur.Status != payment.Pending {
		return sandbox.ErrNotPending
	}
	return sandbox.ErrPaymentExpired
}

// RepeatRefund answers a refund r whose ID prev has already: prev if it is
// the same refund (a retry), else ErrRefundIDReused.
func RepeatRefund(prev, r payment.Refund) (payment.Refund, error) {
	if prev.PaymentID != r.PaymentID || prev.AmountFen != r.AmountFen {
		return payment.Refund{}, sandbox.ErrRefundIDReused
	}
	return prev, nil
}

// Refundable is why cur cannot take a new refund of amountFen, or nil.
func Refundable(cur sandbox.Record, amountFen int64) error {
	switch {
	case cur.Status != payment.Paid:
		return sandbox.ErrNotPaid
	case cur.RefundedFen+amountFen > cur.AmountFen:
		return sandbox.ErrRefundExceeds
	}
	return nil
}

// PaymentColumns are the columns of sandbox_payments that ScanPayment reads.
const PaymentColumns = `id, order_ref, amount_fen, refunded_fen, status, subject, payer, notify_url, return_url, created_at, expires_at, paid_at, fee_bp`

// DeliveryColumns are the columns of sandbox_outbox that ScanDelivery reads.
const DeliveryColumns = `id, payment_id, url, body, created_at, next_attempt_at, attempts, lease_until, delivered_at, gave_up_at, last_error`

// RefundColumns are the columns of sandbox_refunds that ScanRefund reads.
const RefundColumns = `id, payment_id, amount_fen, status, at`

// ScanPayment reads PaymentColumns; no row is sandbox.ErrPaymentNotFound.
func ScanPayment(r Row) (sandbox.Record, error) {
	var p sandbox.Record
	var created, expires Time
	var paid NullTime
	err := r.Scan(&p.ID, &p.OrderRef, &p.AmountFen, &p.RefundedFen, (*string)(&p.Status), &p.Subject, &p.Payer,
		&p.NotifyURL, &p.ReturnURL, &created, &expires, &paid, &p.FeeBP)
	if err != nil {
		return sandbox.Record{}, NoRowsAs(fault.Wrap(err, "scan sandbox payment"), sandbox.ErrPaymentNotFound)
	}
	p.CreatedAt, p.ExpiresAt, p.PaidAt = created.Time, expires.Time, paid.Time
	return p, nil
}

// ScanDelivery reads DeliveryColumns; no row is sandbox.ErrDeliveryNotFound.
func ScanDelivery(r Row) (sandbox.Delivery, error) {
	var d sandbox.Delivery
	var body string
	var created, next Time
	var lease, delivered, gaveUp NullTime
	err := r.Scan(&d.ID, &d.PaymentID, &d.URL, &body, &created, &next, &d.Attempts, &lease, &delivered, &gaveUp, &d.LastError)
	if err != nil {
		return sandbox.Delivery{}, NoRowsAs(fault.Wrap(err, "scan sandbox delivery"), sandbox.ErrDeliveryNotFound)
	}
	d.Body = []byte(body)
	d.CreatedAt, d.NextAttemptAt = created.Time, next.Time
	d.LeaseUntil, d.DeliveredAt, d.GaveUpAt = lease.Time, delivered.Time, gaveUp.Time
	return d, nil
}

// ScanRefund reads RefundColumns. Refunds have no not-found error of
// their own: no row is the driver's error, which is sql.ErrNoRows.
func ScanRefund(r Row) (payment.Refund, error) {
	var f payment.Refund
	var at Time
	err := r.Scan(&f.ID, &f.PaymentID, &f.AmountFen, (*string)(&f.Status), &at)
	f.At = at.Time
	return f, err
}

// SortDue orders claimed deliveries as ClaimDue returns them: by next
// attempt, then ID (UPDATE … RETURNING keeps no order).
func SortDue(ds []sandbox.Delivery) {
	slices.SortFunc(ds, func(a, b sandbox.Delivery) int {
		if c := a.NextAttemptAt.Compare(b.NextAttemptAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
}
