// Package sandbox is piao's built-in payment gateway for development, demos,
// tests and benchmarks. It behaves like a real Chinese payment provider: a
// payment page where the payer pays (or simulates a failure), signed
// asynchronous notifications POSTed at least once to the merchant's notify
// URL until it answers "success", payment queries and idempotent refunds.
// It implements payment.Gateway and persists through its own Store, which
// both storage engines implement, so undelivered notifications survive
// restarts and several processes can share one PostgreSQL database.
//
// It must never move real money or talk to a real provider, and it knows
// nothing of bookings: orders are opaque references, and deciding what a
// payment means (including a late one) is the receiver's business. It does
// not touch storage except through Store.
package sandbox

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"piao/internal/fault"
	"piao/internal/payment"
)

// Config configures a sandbox gateway.
type Config struct {
	// Secret signs notifications, page tokens and API keys; the receiver
	// verifies with the same secret. Required; 32 random bytes are plenty.
	Secret []byte
	// BaseURL is where Handler is served, e.g. http://127.0.0.1:8080;
	// payment pages are at BaseURL + "/sandbox/pay/" + id.
	BaseURL string
	// Now is the clock (time.Now if nil).
	Now func() time.Time
	// Client sends notifications (a client with a 10 s timeout that does
	// not follow redirects if nil).
	Client *http.Client
	// Duplicates is how many extra copies of each notification attempt to
	// send, concurrently, to test that receivers are idempotent (default 0).
	Duplicates int
	// Payer tells who is logged in on a payment page request, in the
	// merchant's terms (payment.CreateRequest.Payer), as a real provider
	// knows its logged-in user. A payment created with a payer is shown
	// and paid only to that payer; without Payer, nobody may open it.
	Payer func(*http.Request) (string, bool)
	// LoginURL is where a payer who is not logged in is sent to log in
	// (the page's path is passed as ?next=…); empty: the page says so.
	LoginURL string
	// FeeBasisPoints is the fee the channel charges on every payment, in
	// basis points (DefaultFeeBasisPoints, 0.6 %, when zero; a negative
	// value charges nothing). Each payment keeps the rate it was made at.
	FeeBasisPoints int64
}

// DefaultFeeBasisPoints is the sandbox's fee rate when Config leaves it
// zero: 0.6 %, WeChat Pay's and Alipay's standard rate for merchants.
const DefaultFeeBasisPoints = 60

// Gateway is the sandbox payment gateway. It is safe for concurrent use.
type Gateway struct {
	store   Store
	cfg     Config
	baseURL string
	client  *http.Client
	wake    chan struct{} // nudges Run when a notification is enqueued
	feeBP   int64         // the fee rate of new payments, in basis points
}

var _ payment.Gateway = (*Gateway)(nil)

var (
	errNoSecret       = fault.New(fault.Invalid, "sandbox_secret_required", "沙箱支付需要签名密钥", "the sandbox gateway needs a signing secret")
	errBaseURL        = fault.New(fault.Invalid, "sandbox_base_url_invalid", "沙箱支付的基础地址必须是 http 或 https 的绝对地址", "the sandbox base URL must be an absolute http or https URL")
	errFeeRate        = fault.New(fault.Invalid, "sandbox_fee_invalid", "手续费率不能超过 10000 个基点", "the fee rate cannot exceed 10000 basis points")
	errDuplicates     = fault.New(fault.Invalid, "sandbox_duplicates_invalid", "重复通知份数不能为负数", "the number of duplicate notifications cannot be negative")
	errExpiryPast     = fault.New(fault.Invalid, "payment_expiry_past", "支付截止时间已过", "the payment expiry is in the past")
	errAmountMismatch = fault.New(fault.Conflict, "order_ref_amount_mismatch", "该商户订单已有金额不同的支付单", "the order already has a payment of a different amount")
	errRefundTooLarge = fault.New(fault.Invalid, "refund_exceeds_amount", "退款金额超过支付金额", "the refund is larger than the payment")
	errBadAction      = fault.New(fault.Invalid, "sandbox_action_invalid", "操作必须是 pay 或 fail", "the action must be pay or fail")
)

// New returns a sandbox gateway over store.
func New(store Store, cfg Config) (*Gateway, error) {
	if len(cfg.Secret) == 0 {
		return nil, errNoSecret
	}
	base := strings.TrimRight(cfg.BaseURL, "/")
	if u, err := url.Parse(base); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errBaseURL
	}
	if cfg.Duplicates < 0 {
		return nil, errDuplicates
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	client := cfg.Client
	if client == nil {
		client = &http.Client{
			Timeout:       10 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	fee := cfg.FeeBasisPoints
	switch {
	case fee == 0:
		fee = DefaultFeeBasisPoints
	case fee < 0:
		fee = 0
	case fee > 10_000:
		return nil, errFeeRate
	}
	cfg.Secret = append([]byte(nil), cfg.Secret...)
	return &Gateway{store: store, cfg: cfg, baseURL: base, client: client, wake: make(chan struct{}, 1), feeBP: fee}, nil
}

// now is the clock cut to microseconds, the precision both engines keep.
func (g *Gateway) now() time.Time { return g.cfg.Now().UTC().Truncate(time.Microsecond) }

// newID returns prefix and 24 random hex digits.
func newID(prefix string) string {
	b := make([]byte, 12)
	rand.Read(b) // never fails (crypto/rand panics on failure since Go 1.24)
	return prefix + hex.EncodeToString(b)
}

// PayURL is where the payer's browser pays payment id.
func (g *Gateway) PayURL(id string) string { return g.baseURL + "/sandbox/pay/" + url.PathEscape(id) }

// view is the public face of rec at now: a pending payment past its
// expiry reads as closed, and PayURL is filled in.
func (g *Gateway) view(rec Record, now time.Time) payment.Payment {
	p := rec.Payment
	if p.Status == payment.Pending && !now.Before(p.ExpiresAt) {
		p.Status = payment.Closed
	}
	p.PayURL = g.PayURL(p.ID)
	return p
}

// Create asks for a payment. The same OrderRef returns its open payment
// (pending and unexpired, or paid) instead of a new one; a different
// amount for it is fault.Conflict.
func (g *Gateway) Create(ctx context.Context, r payment.CreateRequest) (payment.Payment, error) {
	if err := r.Validate(); err != nil {
		return payment.Payment{}, err
	}
	now := g.now()
	expires := r.ExpiresAt.UTC().Truncate(time.Microsecond)
	if !expires.After(now) {
		return payment.Payment{}, errExpiryPast
	}
	rec := Record{
		Payment: payment.Payment{
			ID: newID("pay_"), OrderRef: r.OrderRef, AmountFen: r.AmountFen,
			Status: payment.Pending, CreatedAt: now, ExpiresAt: expires,
		},
		Subject: r.Subject, Payer: r.Payer, NotifyURL: r.NotifyURL, ReturnURL: r.ReturnURL, FeeBP: g.feeBP,
	}
	got, created, err := g.store.CreatePayment(ctx, rec, now)
	if err != nil {
		return payment.Payment{}, err
	}
	if !created && got.AmountFen != r.AmountFen {
		return payment.Payment{}, errAmountMismatch
	}
	return g.view(got, now), nil
}

// Query returns a payment's current state.
func (g *Gateway) Query(ctx context.Context, paymentID string) (payment.Payment, error) {
	rec, err := g.store.Payment(ctx, paymentID)
	if err != nil {
		return payment.Payment{}, err
	}
	return g.view(rec, g.now()), nil
}

// Refund returns money of a paid payment, at once. The same RefundID
// refunds once and returns the first result; a refund larger than the
// payment is fault.Invalid, one beyond what is left fault.Conflict.
func (g *Gateway) Refund(ctx context.Context, r payment.RefundRequest) (payment.Refund, error) {
	if err := r.Validate(); err != nil {
		return payment.Refund{}, err
	}
	rec, err := g.store.Payment(ctx, r.PaymentID)
	if err != nil {
		return payment.Refund{}, err
	}
	if r.AmountFen > rec.AmountFen {
		return payment.Refund{}, errRefundTooLarge
	}
	rf, err := g.store.Refund(ctx, payment.Refund{
		ID: r.RefundID, PaymentID: r.PaymentID, AmountFen: r.AmountFen,
		Status: payment.RefundSucceeded, At: g.now(),
	})
	if err != nil {
		return payment.Refund{}, err
	}
	slog.InfoContext(ctx, "sandbox refund", "refund", rf.ID, "payment", rf.PaymentID, "amount_fen", rf.AmountFen, "reason", r.Reason)
	return rf, nil
}

// Verify authenticates a notification with the gateway's secret and clock.
func (g *Gateway) Verify(header http.Header, body []byte) (payment.Notification, error) {
	return payment.Verify(g.cfg.Secret, g.cfg.Now(), header, body)
}

// Pay simulates the payer paying: a pending, unexpired payment becomes
// paid and its notification is queued, in one transaction. Otherwise it
// fails with ErrNotPending or ErrPaymentExpired (fault.Conflict).
func (g *Gateway) Pay(ctx context.Context, paymentID string) (payment.Payment, error) {
	return g.settle(ctx, paymentID, payment.Paid)
}

// Fail simulates a failed payment attempt: a pending, unexpired payment
// becomes failed and a notification saying so is queued.
func (g *Gateway) Fail(ctx context.Context, paymentID string) (payment.Payment, error) {
	return g.settle(ctx, paymentID, payment.Failed)
}

// settle moves a pending payment to to and queues its notification.
func (g *Gateway) settle(ctx context.Context, id string, to payment.Status) (payment.Payment, error) {
	rec, err := g.store.Payment(ctx, id)
	if err != nil {
		return payment.Payment{}, err
	}
	now := g.now()
	n := payment.Notification{ID: newID("ntf_"), PaymentID: rec.ID, OrderRef: rec.OrderRef, Status: to, AmountFen: rec.AmountFen}
	if to == payment.Paid {
		n.PaidAt = now
	}
	d := Delivery{ID: n.ID, PaymentID: rec.ID, URL: rec.NotifyURL, Body: payment.EncodeNotification(n), CreatedAt: now, NextAttemptAt: now}
	rec, err = g.store.Settle(ctx, id, to, now, d)
	if err != nil {
		return payment.Payment{}, err
	}
	select {
	case g.wake <- struct{}{}:
	default:
	}
	return g.view(rec, now), nil
}

// Deliveries lists the notifications queued for a payment, oldest first.
func (g *Gateway) Deliveries(ctx context.Context, paymentID string) ([]Delivery, error) {
	return g.store.Deliveries(ctx, paymentID)
}
