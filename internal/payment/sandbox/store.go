package sandbox

import (
	"context"
	"time"

	"piao/internal/fault"
	"piao/internal/payment"
)

// Record is a payment as the sandbox keeps it: the public Payment (without
// PayURL, which the gateway derives) and what the merchant asked for.
type Record struct {
	payment.Payment
	Subject   string // what is bought, shown on the payment page
	Payer     string // who may pay on the page (the merchant's account reference); empty: anyone with the link
	NotifyURL string // where notifications go
	ReturnURL string // where the payer's browser goes after paying; may be empty
	// FeeBP is the channel's fee rate on this payment in basis points,
	// fixed when it is created as a channel's contract rate is: the
	// statement charges MulDivRound(amount, FeeBP, 10000) on payment.
	FeeBP int64
}

// Delivery is one notification in the outbox: sent until the receiver
// acknowledges it, retried with backoff, abandoned after MaxAttempts.
type Delivery struct {
	ID            string    // the notification's ID (payment.Notification.ID)
	PaymentID     string    // the payment it is about
	URL           string    // where to POST it
	Body          []byte    // the JSON notification; signed afresh at every attempt
	CreatedAt     time.Time // when it was enqueued
	NextAttemptAt time.Time // when it is next due
	Attempts      int       // failed attempts so far
	LeaseUntil    time.Time // a notifier holds it until then; zero if unclaimed
	DeliveredAt   time.Time // when the receiver acknowledged it; zero until then
	GaveUpAt      time.Time // when the notifier abandoned it; zero unless abandoned
	LastError     string    // why the last attempt failed
}

// Store persists the sandbox's payments, refunds and notification outbox.
// Both storage engines implement it; the contract suite in storetest
// checks them. Times are stored to the microsecond.
type Store interface {
	// CreatePayment stores p as a new pending payment, unless its OrderRef
	// already has an open payment — one pending and not expired at now, or
	// one paid — which it returns instead, with created false. A pending
	// payment of the same OrderRef that has expired by now is closed first.
	CreatePayment(ctx context.Context, p Record, now time.Time) (rec Record, created bool, err error)
	// Payment returns a payment (ErrPaymentNotFound).
	Payment(ctx context.Context, id string) (Record, error)
	// Settle moves a payment that is pending and expires after at to status
	// to (Paid, Failed or Closed; Pending is fault.Invalid), with PaidAt =
	// at when paid, and enqueues d in the outbox in the same transaction.
	// It fails with ErrPaymentNotFound, ErrNotPending or ErrPaymentExpired
	// and then changes nothing, so of concurrent calls exactly one succeeds.
	Settle(ctx context.Context, id string, to payment.Status, at time.Time, d Delivery) (Record, error)
	// Refund records a succeeded refund and adds its amount to the
	// payment's RefundedFen, atomically. A refund ID seen before returns
	// the stored refund if it is for the same payment and amount, else
	// ErrRefundIDReused. It fails with ErrPaymentNotFound, ErrNotPaid, or
	// ErrRefundExceeds if the refunds would exceed the amount paid.
	Refund(ctx context.Context, r payment.Refund) (payment.Refund, error)
	// Refunds lists a payment's refunds, oldest first.
	Refunds(ctx context.Context, paymentID string) ([]payment.Refund, error)

	// ClaimDue leases up to limit deliveries that are due at now (not
	// delivered, not abandoned, NextAttemptAt <= now, no lease after now),
	// setting their LeaseUntil to leaseUntil, and returns them, earliest
	// due first. Concurrent claimers never receive the same delivery
	// while its lease holds.
	ClaimDue(ctx context.Context, now, leaseUntil time.Time, limit int) ([]Delivery, error)
	// MarkDelivered records that a delivery was acknowledged at at. It
	// keeps the first time if already delivered; an unknown ID is
	// ErrDeliveryNotFound.
	MarkDelivered(ctx context.Context, id string, at time.Time) error
	// Retry records a failed attempt of an undelivered delivery: its
	// attempt count, the next due time and the error; it releases the lease.
	Retry(ctx context.Context, id string, attempts int, next time.Time, lastError string) error
	// GiveUp abandons an undelivered delivery at at after attempts failures.
	GiveUp(ctx context.Context, id string, attempts int, at time.Time, lastError string) error
	// Deliveries lists a payment's deliveries, oldest first.
	Deliveries(ctx context.Context, paymentID string) ([]Delivery, error)

	// PaidBetween lists the payments paid at or after from and before
	// until, by PaidAt then ID: the payments of a daily statement.
	PaidBetween(ctx context.Context, from, until time.Time) ([]Record, error)
	// RefundsBetween lists the refunds made at or after from and before
	// until, by time then ID: the refunds of a daily statement.
	RefundsBetween(ctx context.Context, from, until time.Time) ([]payment.Refund, error)
}

// Errors the Store returns; the gateway passes them on.
var (
	ErrPaymentNotFound  = fault.New(fault.NotFound, "payment_not_found", "支付单不存在", "payment not found")
	ErrNotPending       = fault.New(fault.Conflict, "payment_not_pending", "支付单已支付、已失败或已关闭", "the payment is already paid, failed or closed")
	ErrPaymentExpired   = fault.New(fault.Conflict, "payment_expired", "支付单已超时关闭", "the payment has expired")
	ErrNotPaid          = fault.New(fault.Conflict, "payment_not_paid", "支付单未支付，无法退款", "the payment is not paid, so it cannot be refunded")
	ErrRefundExceeds    = fault.New(fault.Conflict, "refund_exceeds_paid", "退款总额不能超过实付金额", "refunds cannot exceed the amount paid")
	ErrRefundIDReused   = fault.New(fault.Conflict, "refund_id_reused", "退款单号已用于其他退款", "the refund ID was already used for a different refund")
	ErrDeliveryNotFound = fault.New(fault.NotFound, "notification_not_found", "通知不存在", "notification not found")
)
