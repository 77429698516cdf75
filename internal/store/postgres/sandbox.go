package postgres

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"piao/internal/fault"
	"piao/internal/payment"
	"piao/internal/payment/sandbox"
)

// sandboxStore implements sandbox.Store on PostgreSQL. Several processes
// may share it: payments are changed by conditional updates under row
// locks, and outbox rows are claimed with FOR UPDATE SKIP LOCKED.
type sandboxStore struct{ *DB }

var _ sandbox.Store = (*sandboxStore)(nil)

var errSandboxBadStatus = fault.New(fault.Invalid, "payment_status_invalid", "支付单只能从待支付变为已支付、失败或关闭", "a payment can only go from pending to paid, failed or closed")

const sbPaymentColumns = `id, order_ref, amount_fen, refunded_fen, status, subject, notify_url, return_url, created_at, expires_at, paid_at`

const sbDeliveryColumns = `id, payment_id, url, body, created_at, next_attempt_at, attempts, lease_until, delivered_at, gave_up_at, last_error`

// sbUniqueViolation is PostgreSQL's SQLSTATE for a unique violation.
const sbUniqueViolation = "23505"

// sbPgCode returns the SQLSTATE of err, or "".
func sbPgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// sbNullTime is t for a TIMESTAMPTZ column, or NULL if it is zero.
func sbNullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

// sbTime is a scanned nullable time in UTC; NULL is the zero time.
func sbTime(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

func sbScanPayment(row pgx.Row) (sandbox.Record, error) {
	var r sandbox.Record
	var paid *time.Time
	err := row.Scan(&r.ID, &r.OrderRef, &r.AmountFen, &r.RefundedFen, (*string)(&r.Status), &r.Subject,
		&r.NotifyURL, &r.ReturnURL, &r.CreatedAt, &r.ExpiresAt, &paid)
	if errors.Is(err, pgx.ErrNoRows) {
		return sandbox.Record{}, sandbox.ErrPaymentNotFound
	}
	if err != nil {
		return sandbox.Record{}, fault.Wrap(err, "scan sandbox payment")
	}
	r.CreatedAt, r.ExpiresAt, r.PaidAt = r.CreatedAt.UTC(), r.ExpiresAt.UTC(), sbTime(paid)
	return r, nil
}

func sbScanDelivery(row pgx.Row) (sandbox.Delivery, error) {
	var d sandbox.Delivery
	var body string
	var lease, delivered, gaveUp *time.Time
	err := row.Scan(&d.ID, &d.PaymentID, &d.URL, &body, &d.CreatedAt, &d.NextAttemptAt, &d.Attempts, &lease, &delivered, &gaveUp, &d.LastError)
	if errors.Is(err, pgx.ErrNoRows) {
		return sandbox.Delivery{}, sandbox.ErrDeliveryNotFound
	}
	if err != nil {
		return sandbox.Delivery{}, fault.Wrap(err, "scan sandbox delivery")
	}
	d.Body = []byte(body)
	d.CreatedAt, d.NextAttemptAt = d.CreatedAt.UTC(), d.NextAttemptAt.UTC()
	d.LeaseUntil, d.DeliveredAt, d.GaveUpAt = sbTime(lease), sbTime(delivered), sbTime(gaveUp)
	return d, nil
}

// CreatePayment stores a new pending payment unless its order has an open one.
func (s *sandboxStore) CreatePayment(ctx context.Context, p sandbox.Record, now time.Time) (sandbox.Record, bool, error) {
	var out sandbox.Record
	created := false
	err := s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx,
			`UPDATE sandbox_payments SET status = 'closed' WHERE order_ref = $1 AND status = 'pending' AND expires_at <= $2`,
			p.OrderRef, now); err != nil {
			return fault.Wrap(err, "close expired sandbox payments")
		}
		// A concurrent creator for the same order makes the insert wait for
		// it and then do nothing; the next statement sees its payment.
		tag, err := tx.Exec(ctx,
			`INSERT INTO sandbox_payments (`+sbPaymentColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
			 ON CONFLICT (order_ref) WHERE status IN ('pending', 'paid') DO NOTHING`,
			p.ID, p.OrderRef, p.AmountFen, p.RefundedFen, string(p.Status), p.Subject, p.NotifyURL, p.ReturnURL,
			p.CreatedAt, p.ExpiresAt, sbNullTime(p.PaidAt))
		if err != nil {
			return fault.Wrap(err, "insert sandbox payment")
		}
		if tag.RowsAffected() == 0 {
			out, err = sbScanPayment(tx.QueryRow(ctx,
				`SELECT `+sbPaymentColumns+` FROM sandbox_payments WHERE order_ref = $1 AND status IN ('pending', 'paid')`, p.OrderRef))
			return err
		}
		out, err = sbScanPayment(tx.QueryRow(ctx, `SELECT `+sbPaymentColumns+` FROM sandbox_payments WHERE id = $1`, p.ID))
		created = true
		return err
	})
	if err != nil {
		return sandbox.Record{}, false, err
	}
	return out, created, nil
}

// Payment returns a payment.
func (s *sandboxStore) Payment(ctx context.Context, id string) (sandbox.Record, error) {
	return sbScanPayment(s.pool.QueryRow(ctx, `SELECT `+sbPaymentColumns+` FROM sandbox_payments WHERE id = $1`, id))
}

// Settle moves a pending, unexpired payment to status to and enqueues d.
func (s *sandboxStore) Settle(ctx context.Context, id string, to payment.Status, at time.Time, d sandbox.Delivery) (sandbox.Record, error) {
	if !to.Valid() || to == payment.Pending {
		return sandbox.Record{}, errSandboxBadStatus
	}
	var paidAt any
	if to == payment.Paid {
		paidAt = at
	}
	var out sandbox.Record
	err := s.tx(ctx, func(tx pgx.Tx) error {
		// The row lock makes concurrent settlers wait and then find the
		// payment no longer pending.
		var err error
		out, err = sbScanPayment(tx.QueryRow(ctx,
			`UPDATE sandbox_payments SET status = $1, paid_at = $2 WHERE id = $3 AND status = 'pending' AND expires_at > $4
			 RETURNING `+sbPaymentColumns, string(to), paidAt, id, at))
		if errors.Is(err, sandbox.ErrPaymentNotFound) {
			cur, err := sbScanPayment(tx.QueryRow(ctx, `SELECT `+sbPaymentColumns+` FROM sandbox_payments WHERE id = $1`, id))
			switch {
			case err != nil:
				return err
			case cur.Status != payment.Pending:
				return sandbox.ErrNotPending
			default:
				return sandbox.ErrPaymentExpired
			}
		}
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx,
			`INSERT INTO sandbox_outbox (id, payment_id, url, body, created_at, next_attempt_at, attempts, last_error)
			 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			d.ID, id, d.URL, string(d.Body), d.CreatedAt, d.NextAttemptAt, d.Attempts, d.LastError)
		return fault.Wrap(err, "enqueue sandbox notification")
	})
	if err != nil {
		return sandbox.Record{}, err
	}
	return out, nil
}

// Refund records a succeeded refund once and adds it to the payment.
func (s *sandboxStore) Refund(ctx context.Context, r payment.Refund) (payment.Refund, error) {
	r.At = r.At.UTC()
	var out payment.Refund
	err := s.tx(ctx, func(tx pgx.Tx) error {
		// Locking the payment serialises its refunds.
		cur, err := sbScanPayment(tx.QueryRow(ctx, `SELECT `+sbPaymentColumns+` FROM sandbox_payments WHERE id = $1 FOR UPDATE`, r.PaymentID))
		if err != nil {
			return err
		}
		prev, err := sbRefund(ctx, tx, r.ID)
		switch {
		case err == nil:
			if prev.PaymentID != r.PaymentID || prev.AmountFen != r.AmountFen {
				return sandbox.ErrRefundIDReused
			}
			out = prev
			return nil
		case !errors.Is(err, pgx.ErrNoRows):
			return fault.Wrap(err, "find sandbox refund")
		case cur.Status != payment.Paid:
			return sandbox.ErrNotPaid
		case cur.RefundedFen+r.AmountFen > cur.AmountFen:
			return sandbox.ErrRefundExceeds
		}
		if _, err := tx.Exec(ctx, `UPDATE sandbox_payments SET refunded_fen = refunded_fen + $1 WHERE id = $2`, r.AmountFen, r.PaymentID); err != nil {
			return fault.Wrap(err, "refund sandbox payment")
		}
		if _, err := tx.Exec(ctx,
			`INSERT INTO sandbox_refunds (id, payment_id, amount_fen, status, at) VALUES ($1, $2, $3, $4, $5)`,
			r.ID, r.PaymentID, r.AmountFen, string(r.Status), r.At); err != nil {
			return err // a unique violation is handled below
		}
		out = r
		return nil
	})
	if sbPgCode(err) == sbUniqueViolation {
		// The same refund ID was used at the same time for another payment.
		prev, perr := sbRefund(ctx, s.pool, r.ID)
		if perr != nil {
			return payment.Refund{}, fault.Wrap(perr, "find sandbox refund")
		}
		if prev.PaymentID != r.PaymentID || prev.AmountFen != r.AmountFen {
			return payment.Refund{}, sandbox.ErrRefundIDReused
		}
		return prev, nil
	}
	if err != nil {
		return payment.Refund{}, fault.Wrap(err, "insert sandbox refund")
	}
	return out, nil
}

// sbRefund reads one refund (pgx.ErrNoRows if there is none).
func sbRefund(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, id string) (payment.Refund, error) {
	var r payment.Refund
	err := q.QueryRow(ctx, `SELECT id, payment_id, amount_fen, status, at FROM sandbox_refunds WHERE id = $1`, id).
		Scan(&r.ID, &r.PaymentID, &r.AmountFen, (*string)(&r.Status), &r.At)
	r.At = r.At.UTC()
	return r, err
}

// Refunds lists a payment's refunds, oldest first.
func (s *sandboxStore) Refunds(ctx context.Context, paymentID string) ([]payment.Refund, error) {
	rows, err := s.pool.Query(ctx,
		`SELECT id, payment_id, amount_fen, status, at FROM sandbox_refunds WHERE payment_id = $1 ORDER BY at, id`, paymentID)
	if err != nil {
		return nil, fault.Wrap(err, "list sandbox refunds")
	}
	defer rows.Close()
	out := []payment.Refund{}
	for rows.Next() {
		var r payment.Refund
		if err := rows.Scan(&r.ID, &r.PaymentID, &r.AmountFen, (*string)(&r.Status), &r.At); err != nil {
			return nil, fault.Wrap(err, "scan sandbox refund")
		}
		r.At = r.At.UTC()
		out = append(out, r)
	}
	return out, fault.Wrap(rows.Err(), "list sandbox refunds")
}

// ClaimDue leases up to limit due deliveries until leaseUntil, skipping
// rows another process is claiming.
func (s *sandboxStore) ClaimDue(ctx context.Context, now, leaseUntil time.Time, limit int) ([]sandbox.Delivery, error) {
	out := []sandbox.Delivery{}
	err := s.tx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx,
			`UPDATE sandbox_outbox SET lease_until = $1
			 WHERE id IN (SELECT id FROM sandbox_outbox
			              WHERE delivered_at IS NULL AND gave_up_at IS NULL AND next_attempt_at <= $2
			                AND (lease_until IS NULL OR lease_until <= $2)
			              ORDER BY next_attempt_at, id LIMIT $3
			              FOR UPDATE SKIP LOCKED)
			 RETURNING `+sbDeliveryColumns, leaseUntil, now, limit)
		if err != nil {
			return fault.Wrap(err, "claim sandbox deliveries")
		}
		defer rows.Close()
		for rows.Next() {
			d, err := sbScanDelivery(rows)
			if err != nil {
				return err
			}
			out = append(out, d)
		}
		return fault.Wrap(rows.Err(), "claim sandbox deliveries")
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b sandbox.Delivery) int {
		if c := a.NextAttemptAt.Compare(b.NextAttemptAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

// sbUpdateDelivery runs an update of one delivery whose ID is the last
// argument; no row matched is ErrDeliveryNotFound if the delivery does not
// exist, else nothing.
func (s *sandboxStore) sbUpdateDelivery(ctx context.Context, what, query string, args ...any) error {
	tag, err := s.pool.Exec(ctx, query, args...)
	if err != nil {
		return fault.Wrap(err, what)
	}
	if tag.RowsAffected() > 0 {
		return nil
	}
	var one int
	err = s.pool.QueryRow(ctx, `SELECT 1 FROM sandbox_outbox WHERE id = $1`, args[len(args)-1]).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return sandbox.ErrDeliveryNotFound
	}
	return fault.Wrap(err, what)
}

// MarkDelivered records an acknowledgement, keeping the first one.
func (s *sandboxStore) MarkDelivered(ctx context.Context, id string, at time.Time) error {
	return s.sbUpdateDelivery(ctx, "mark sandbox delivery delivered",
		`UPDATE sandbox_outbox SET delivered_at = COALESCE(delivered_at, $1), lease_until = NULL WHERE id = $2`,
		at, id)
}

// Retry records a failed attempt and when to try again.
func (s *sandboxStore) Retry(ctx context.Context, id string, attempts int, next time.Time, lastError string) error {
	return s.sbUpdateDelivery(ctx, "retry sandbox delivery",
		`UPDATE sandbox_outbox SET attempts = $1, next_attempt_at = $2, last_error = $3, lease_until = NULL
		 WHERE delivered_at IS NULL AND gave_up_at IS NULL AND id = $4`,
		attempts, next, lastError, id)
}

// GiveUp abandons an undelivered delivery.
func (s *sandboxStore) GiveUp(ctx context.Context, id string, attempts int, at time.Time, lastError string) error {
	return s.sbUpdateDelivery(ctx, "abandon sandbox delivery",
		`UPDATE sandbox_outbox SET attempts = $1, gave_up_at = $2, last_error = $3, lease_until = NULL
		 WHERE delivered_at IS NULL AND gave_up_at IS NULL AND id = $4`,
		attempts, at, lastError, id)
}

// Deliveries lists a payment's deliveries, oldest first.
func (s *sandboxStore) Deliveries(ctx context.Context, paymentID string) ([]sandbox.Delivery, error) {
	rows, err := s.pool.Query(ctx,
		`SELECT `+sbDeliveryColumns+` FROM sandbox_outbox WHERE payment_id = $1 ORDER BY created_at, id`, paymentID)
	if err != nil {
		return nil, fault.Wrap(err, "list sandbox deliveries")
	}
	defer rows.Close()
	out := []sandbox.Delivery{}
	for rows.Next() {
		d, err := sbScanDelivery(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, fault.Wrap(rows.Err(), "list sandbox deliveries")
}
