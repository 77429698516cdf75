// Package payment is the contract every piao payment gateway meets: the
// Gateway interface, its payments, refunds and asynchronous notifications,
// and the signing scheme that lets a receiver trust a notification.
//
// Money is integer fen (1/100 yuan); times are instants, shown in
// Asia/Shanghai by whoever displays them.
//
// This package holds types and pure functions only. It must never do I/O,
// keep state, import a storage engine or an HTTP adapter, or know any
// particular gateway; gateways (such as payment/sandbox) live in their own
// packages and the booking domain talks to them only through Gateway.
package payment

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"piao/internal/fault"
)

// Status is the state of a payment.
type Status string

// Payment states. A payment starts pending and ends in exactly one of the
// others; refunds do not change a paid payment's status, only RefundedFen.
const (
	Pending Status = "pending" // waiting for the payer
	Paid    Status = "paid"    // the money was taken
	Failed  Status = "failed"  // the payer's attempt failed; nothing was taken
	Closed  Status = "closed"  // it expired (or was closed) before being paid
)

// Valid reports whether s is one of the payment states.
func (s Status) Valid() bool {
	switch s {
	case Pending, Paid, Failed, Closed:
		return true
	}
	return false
}

// RefundStatus is the outcome of a refund.
type RefundStatus string

// Refund outcomes.
const (
	RefundSucceeded RefundStatus = "succeeded" // the money went back to the payer
	RefundFailed    RefundStatus = "failed"    // the gateway refused or could not refund
)

// Payment is one request for money for one merchant order.
type Payment struct {
	ID          string    `json:"id"`                // the gateway's payment ID
	OrderRef    string    `json:"order_ref"`         // the merchant's order reference
	AmountFen   int64     `json:"amount_fen"`        // the amount asked for, in fen
	RefundedFen int64     `json:"refunded_fen"`      // the amount refunded so far, in fen
	Status      Status    `json:"status"`            // its current state
	CreatedAt   time.Time `json:"created_at"`        // when it was created
	PaidAt      time.Time `json:"paid_at,omitzero"`  // when it was paid; zero unless paid
	ExpiresAt   time.Time `json:"expires_at"`        // the payer may pay until this instant
	PayURL      string    `json:"pay_url,omitempty"` // where to send the payer's browser
}

// Refund is one refund of (part of) a paid payment.
type Refund struct {
	ID        string       `json:"id"`         // the caller's idempotency ID
	PaymentID string       `json:"payment_id"` // the payment refunded
	AmountFen int64        `json:"amount_fen"` // the amount refunded, in fen
	Status    RefundStatus `json:"status"`     // succeeded or failed
	At        time.Time    `json:"at"`         // when the gateway decided
}

// CreateRequest asks a gateway for a payment.
type CreateRequest struct {
	OrderRef  string    // the merchant's order reference; one open payment per reference
	AmountFen int64     // the amount, in fen; positive
	Subject   string    // what is bought, shown to the payer
	Payer     string    // who pays, in the merchant's terms ("account:7"); a gateway shows its page only to them
	NotifyURL string    // where the gateway POSTs signed notifications (absolute http/https)
	ReturnURL string    // where the payer's browser goes after paying (optional)
	ExpiresAt time.Time // the payer may pay until this instant
}

// RefundRequest asks a gateway to return money of a paid payment.
type RefundRequest struct {
	RefundID  string // the caller's idempotency ID: the same ID refunds once
	PaymentID string // the payment to refund
	AmountFen int64  // the amount to return, in fen; positive
	Reason    string // why, for the records
}

// Notification is what a gateway tells the merchant, asynchronously and at
// least once, about a payment's outcome. Gateways may deliver the same
// notification several times; receivers must treat repeats (same ID) as
// harmless.
type Notification struct {
	ID        string    `json:"id"`               // unique per notification event; repeats share it
	PaymentID string    `json:"payment_id"`       // the gateway's payment ID
	OrderRef  string    `json:"order_ref"`        // the merchant's order reference
	Status    Status    `json:"status"`           // the payment's new state
	AmountFen int64     `json:"amount_fen"`       // the amount of the payment, in fen
	PaidAt    time.Time `json:"paid_at,omitzero"` // when it was paid; zero unless paid
}

// Gateway is a payment provider as the booking domain sees it.
type Gateway interface {
	// Create asks for a payment. Asking again with the same OrderRef while
	// its payment is still open returns that payment instead of a new one.
	Create(ctx context.Context, r CreateRequest) (Payment, error)
	// Query returns a payment's current state (fault.NotFound if unknown).
	Query(ctx context.Context, paymentID string) (Payment, error)
	// Refund returns money of a paid payment. The same RefundID refunds
	// once and returns the first result; refunds never exceed the amount
	// paid (fault.Invalid or fault.Conflict otherwise).
	Refund(ctx context.Context, r RefundRequest) (Refund, error)
	// Verify authenticates a notification request's headers and body and
	// decodes it (fault.Unauthorized or fault.Invalid if it is not genuine).
	Verify(header http.Header, body []byte) (Notification, error)
}

var (
	errOrderRef  = fault.New(fault.Invalid, "payment_order_ref_required", "缺少商户订单号", "the merchant order reference is required")
	errAmount    = fault.New(fault.Invalid, "payment_amount_invalid", "支付金额必须为正数（单位：分）", "the amount must be a positive number of fen")
	errNotifyURL = fault.New(fault.Invalid, "payment_notify_url_invalid", "通知地址必须是 http 或 https 的绝对地址", "the notify URL must be an absolute http or https URL")
	errReturnURL = fault.New(fault.Invalid, "payment_return_url_invalid", "返回地址必须是 http 或 https 的绝对地址", "the return URL must be an absolute http or https URL")
	errExpiresAt = fault.New(fault.Invalid, "payment_expiry_required", "缺少支付截止时间", "the payment expiry is required")
	errRefundID  = fault.New(fault.Invalid, "refund_id_required", "缺少退款单号", "the refund ID is required")
	errPaymentID = fault.New(fault.Invalid, "payment_id_required", "缺少支付单号", "the payment ID is required")
	errRefundAmt = fault.New(fault.Invalid, "refund_amount_invalid", "退款金额必须为正数（单位：分）", "the refund amount must be a positive number of fen")
)

// Validate checks that r is a well-formed request.
func (r CreateRequest) Validate() error {
	switch {
	case r.OrderRef == "":
		return errOrderRef
	case r.AmountFen <= 0:
		return errAmount
	case !absoluteHTTP(r.NotifyURL):
		return errNotifyURL
	case r.ReturnURL != "" && !absoluteHTTP(r.ReturnURL):
		return errReturnURL
	case r.ExpiresAt.IsZero():
		return errExpiresAt
	}
	return nil
}

// Validate checks that r is a well-formed request.
func (r RefundRequest) Validate() error {
	switch {
	case r.RefundID == "":
		return errRefundID
	case r.PaymentID == "":
		return errPaymentID
	case r.AmountFen <= 0:
		return errRefundAmt
	}
	return nil
}

// absoluteHTTP reports whether s is an absolute http or https URL with a host.
func absoluteHTTP(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}
