package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"time"

	"piao/internal/fault"
	"piao/internal/payment"
	"piao/internal/payment/sandbox"
)

// sandboxStore implements sandbox.Store on SQLite. Every write runs on the
// single writer connection, so conditional updates there never race.
type sandboxStore struct{ *DB }

var _ sandbox.Store = (*sandboxStore)(nil)

var errSandboxBadStatus = fault.New(fault.Invalid, "payment_status_invalid", "支付单只能从待支付变为已支付、失败或关闭", "a payment can only go from pending to paid, failed or closed")

const sbPaymentColumns = `id, order_ref, amount_fen, refunded_fen, status, subject, notify_url, return_url, created_at, expires_at, paid_at`

const sbDeliveryColumns = `id, payment_id, url, body, created_at, next_attempt_at, attempts, lease_until, delivered_at, gave_up_at, last_error`

// sbNullTime renders t for storage, or NULL if it is zero.
func sbNullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return formatTime(t)
}

// sbParseNull reads a nullable stored time; NULL is the zero time.
func sbParseNull(s sql.NullString) (time.Time, error) {
	if !s.Valid {
		return time.Time{}, nil
	}
	return parseTime(s.String)
}

// sbParseTimes parses stored times into their destinations.
func sbParseTimes(pairs ...any) error {
	for i := 0; i < len(pairs); i += 2 {
		dst := pairs[i].(*time.Time)
		var err error
		switch src := pairs[i+1].(type) {
		case string:
			*dst, err = parseTime(src)
		case sql.NullString:
			*dst, err = sbParseNull(src)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func sbScanPayment(row interface{ Scan(...any) error }) (sandbox.Record, error) {
	var r sandbox.Record
	var created, expires string
	var paid sql.NullString
	err := row.Scan(&r.ID, &r.OrderRef, &r.AmountFen, &r.RefundedFen, (*string)(&r.Status), &r.Subject,
		&r.NotifyURL, &r.ReturnURL, &created, &expires, &paid)
	if errors.Is(err, sql.ErrNoRows) {
		return sandbox.Record{}, sandbox.ErrPaymentNotFound
	}
	if err != nil {
		return sandbox.Record{}, fault.Wrap(err, "scan sandbox payment")
	}
	if err := sbParseTimes(&r.CreatedAt, created, &r.ExpiresAt, expires, &r.PaidAt, paid); err != nil {
		return sandbox.Record{}, fault.Wrap(err, "parse sandbox payment times")
	}
	return r, nil
}

func sbScanDelivery(row interface{ Scan(...any) error }) (sandbox.Delivery, error) {
	var d sandbox.Delivery
	var body, created, next string
	var lease, delivered, gaveUp sql.NullString
	err := row.Scan(&d.ID, &d.PaymentID, &d.URL, &body, &created, &next, &d.Attempts, &lease, &delivered, &gaveUp, &d.LastError)
	if errors.Is(err, sql.ErrNoRows) {
		return sandbox.Delivery{}, sandbox.ErrDeliveryNotFound
	}
	if err != nil {
		return sandbox.Delivery{}, fault.Wrap(err, "scan sandbox delivery")
	}
	d.Body = []byte(body)
	if err := sbParseTimes(&d.CreatedAt, created, &d.NextAttemptAt, next, &d.LeaseUntil, lease, &d.DeliveredAt, delivered, &d.GaveUpAt, gaveUp); err != nil {
		return sandbox.Delivery{}, fault.Wrap(err, "parse sandbox delivery times")
	}
	return d, nil
}

// CreatePayment stores a new pending payment unless its order has an open one.
func (s *sandboxStore) CreatePayment(ctx context.Context, p sandbox.Record, now time.Time) (sandbox.Record, bool, error) {
	var out sandbox.Record
	created := false
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx,
			// The IN clause repeats the partial index's condition so SQLite uses it
			// instead of scanning every payment ever made.
			`UPDATE sandbox_payments SET status = 'closed' WHERE order_ref = ? AND status IN ('pending', 'paid') AND status = 'pending' AND expires_at <= ?`,
			p.OrderRef, formatTime(now)); err != nil {
			return fault.Wrap(err, "close expired sandbox payments")
		}
		cur, err := sbScanPayment(tx.QueryRowContext(ctx,
			`SELECT `+sbPaymentColumns+` FROM sandbox_payments WHERE order_ref = ? AND status IN ('pending', 'paid')`, p.OrderRef))
		if err == nil {
			out = cur
			return nil
		}
		if !errors.Is(err, sandbox.ErrPaymentNotFound) {
			return err
		}
		if _, err := tx.ExecContext(ctx,
			`INSERT INTO sandbox_payments (`+sbPaymentColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			p.ID, p.OrderRef, p.AmountFen, p.RefundedFen, string(p.Status), p.Subject, p.NotifyURL, p.ReturnURL,
			formatTime(p.CreatedAt), formatTime(p.ExpiresAt), sbNullTime(p.PaidAt)); err != nil {
			return fault.Wrap(err, "insert sandbox payment")
		}
		out, created = sbNormalizePayment(p), true
		return nil
	})
	if err != nil {
		return sandbox.Record{}, false, err
	}
	return out, created, nil
}

// sbNormalizePayment returns p with its times in UTC, as read back.
func sbNormalizePayment(p sandbox.Record) sandbox.Record {
	p.CreatedAt, p.ExpiresAt = p.CreatedAt.UTC(), p.ExpiresAt.UTC()
	if !p.PaidAt.IsZero() {
		p.PaidAt = p.PaidAt.UTC()
	}
	p.PayURL = ""
	return p
}

// Payment returns a payment.
func (s *sandboxStore) Payment(ctx context.Context, id string) (sandbox.Record, error) {
	return sbScanPayment(s.read.QueryRowContext(ctx, `SELECT `+sbPaymentColumns+` FROM sandbox_payments WHERE id = ?`, id))
}

// Settle moves a pending, unexpired payment to status to and enqueues d.
func (s *sandboxStore) Settle(ctx context.Context, id string, to payment.Status, at time.Time, d sandbox.Delivery) (sandbox.Record, error) {
	if !to.Valid() || to == payment.Pending {
		return sandbox.Record{}, errSandboxBadStatus
	}
	var paidAt any
	if to == payment.Paid {
		paidAt = formatTime(at)
	}
	var out sandbox.Record
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx,
			`UPDATE sandbox_payments SET status = ?, paid_at = ? WHERE id = ? AND status = 'pending' AND expires_at > ?`,
			string(to), paidAt, id, formatTime(at))
		if err != nil {
			return fault.Wrap(err, "settle sandbox payment")
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fault.Wrap(err, "settle sandbox payment")
		}
		cur, err := sbScanPayment(tx.QueryRowContext(ctx, `SELECT `+sbPaymentColumns+` FROM sandbox_payments WHERE id = ?`, id))
		if err != nil {
			return err
		}
		if n == 0 {
			if cur.Status != payment.Pending {
				return sandbox.ErrNotPending
			}
			return sandbox.ErrPaymentExpired
		}
		if _, err := tx.ExecContext(ctx,
			`INSERT INTO sandbox_outbox (id, payment_id, url, body, created_at, next_attempt_at, attempts, last_error)
			 VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			d.ID, id, d.URL, string(d.Body), formatTime(d.CreatedAt), formatTime(d.NextAttemptAt), d.Attempts, d.LastError); err != nil {
			return fault.Wrap(err, "enqueue sandbox notification")
		}
		out = cur
		return nil
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
	err := s.tx(ctx, func(tx *sql.Tx) error {
		cur, err := sbScanPayment(tx.QueryRowContext(ctx, `SELECT `+sbPaymentColumns+` FROM sandbox_payments WHERE id = ?`, r.PaymentID))
		if err != nil {
			return err
		}
		var prev payment.Refund
		var at string
		err = tx.QueryRowContext(ctx, `SELECT id, payment_id, amount_fen, status, at FROM sandbox_refunds WHERE id = ?`, r.ID).
			Scan(&prev.ID, &prev.PaymentID, &prev.AmountFen, (*string)(&prev.Status), &at)
		switch {
		case err == nil:
			if prev.PaymentID != r.PaymentID || prev.AmountFen != r.AmountFen {
				return sandbox.ErrRefundIDReused
			}
			if prev.At, err = parseTime(at); err != nil {
				return fault.Wrap(err, "parse sandbox refund time")
			}
			out = prev
			return nil
		case !errors.Is(err, sql.ErrNoRows):
			return fault.Wrap(err, "find sandbox refund")
		case cur.Status != payment.Paid:
			return sandbox.ErrNotPaid
		case cur.RefundedFen+r.AmountFen > cur.AmountFen:
			return sandbox.ErrRefundExceeds
		}
		if _, err := tx.ExecContext(ctx, `UPDATE sandbox_payments SET refunded_fen = refunded_fen + ? WHERE id = ?`, r.AmountFen, r.PaymentID); err != nil {
			return fault.Wrap(err, "refund sandbox payment")
		}
		if _, err := tx.ExecContext(ctx,
			`INSERT INTO sandbox_refunds (id, payment_id, amount_fen, status, at) VALUES (?, ?, ?, ?, ?)`,
			r.ID, r.PaymentID, r.AmountFen, string(r.Status), formatTime(r.At)); err != nil {
			return fault.Wrap(err, "insert sandbox refund")
		}
		out = r
		return nil
	})
	if err != nil {
		return payment.Refund{}, err
	}
	return out, nil
}

// Refunds lists a payment's refunds, oldest first.
func (s *sandboxStore) Refunds(ctx context.Context, paymentID string) ([]payment.Refund, error) {
	rows, err := s.read.QueryContext(ctx,
		`SELECT id, payment_id, amount_fen, status, at FROM sandbox_refunds WHERE payment_id = ? ORDER BY at, id`, paymentID)
	if err != nil {
		return nil, fault.Wrap(err, "list sandbox refunds")
	}
	defer rows.Close()
	out := []payment.Refund{}
	for rows.Next() {
		var r payment.Refund
		var at string
		if err := rows.Scan(&r.ID, &r.PaymentID, &r.AmountFen, (*string)(&r.Status), &at); err != nil {
			return nil, fault.Wrap(err, "scan sandbox refund")
		}
		if r.At, err = parseTime(at); err != nil {
			return nil, fault.Wrap(err, "parse sandbox refund time")
		}
		out = append(out, r)
	}
	return out, fault.Wrap(rows.Err(), "list sandbox refunds")
}

// ClaimDue leases up to limit due deliveries until leaseUntil.
func (s *sandboxStore) ClaimDue(ctx context.Context, now, leaseUntil time.Time, limit int) ([]sandbox.Delivery, error) {
	out := []sandbox.Delivery{}
	// Look on a reader first, so idle polls do not take the writer.
	var one int
	err := s.read.QueryRowContext(ctx, `SELECT 1 FROM sandbox_outbox
		WHERE delivered_at IS NULL AND gave_up_at IS NULL AND next_attempt_at <= ?1
		  AND (lease_until IS NULL OR lease_until <= ?1) LIMIT 1`, formatTime(now)).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return out, nil
	}
	if err != nil {
		return nil, fault.Wrap(err, "find due sandbox deliveries")
	}
	err = s.tx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx,
			`UPDATE sandbox_outbox SET lease_until = ?1
			 WHERE id IN (SELECT id FROM sandbox_outbox
			              WHERE delivered_at IS NULL AND gave_up_at IS NULL AND next_attempt_at <= ?2
			                AND (lease_until IS NULL OR lease_until <= ?2)
			              ORDER BY next_attempt_at, id LIMIT ?3)
			 RETURNING `+sbDeliveryColumns, formatTime(leaseUntil), formatTime(now), limit)
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

// sbUpdateDelivery runs an update of one delivery; no row matched is
// ErrDeliveryNotFound if the delivery does not exist, else nothing.
func (s *sandboxStore) sbUpdateDelivery(ctx context.Context, what, query string, args ...any) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, query, args...)
		if err != nil {
			return fault.Wrap(err, what)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fault.Wrap(err, what)
		}
		if n > 0 {
			return nil
		}
		var one int
		err = tx.QueryRowContext(ctx, `SELECT 1 FROM sandbox_outbox WHERE id = ?`, args[len(args)-1]).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return sandbox.ErrDeliveryNotFound
		}
		return fault.Wrap(err, what)
	})
}

// MarkDelivered records an acknowledgement, keeping the first one.
func (s *sandboxStore) MarkDelivered(ctx context.Context, id string, at time.Time) error {
	return s.sbUpdateDelivery(ctx, "mark sandbox delivery delivered",
		`UPDATE sandbox_outbox SET delivered_at = COALESCE(delivered_at, ?), lease_until = NULL WHERE id = ?`,
		formatTime(at), id)
}

// Retry records a failed attempt and when to try again.
func (s *sandboxStore) Retry(ctx context.Context, id string, attempts int, next time.Time, lastError string) error {
	return s.sbUpdateDelivery(ctx, "retry sandbox delivery",
		`UPDATE sandbox_outbox SET attempts = ?, next_attempt_at = ?, last_error = ?, lease_until = NULL
		 WHERE delivered_at IS NULL AND gave_up_at IS NULL AND id = ?`,
		attempts, formatTime(next), lastError, id)
}

// GiveUp abandons an undelivered delivery.
func (s *sandboxStore) GiveUp(ctx context.Context, id string, attempts int, at time.Time, lastError string) error {
	return s.sbUpdateDelivery(ctx, "abandon sandbox delivery",
		`UPDATE sandbox_outbox SET attempts = ?, gave_up_at = ?, last_error = ?, lease_until = NULL
		 WHERE delivered_at IS NULL AND gave_up_at IS NULL AND id = ?`,
		attempts, formatTime(at), lastError, id)
}

// Deliveries lists a payment's deliveries, oldest first.
func (s *sandboxStore) Deliveries(ctx context.Context, paymentID string) ([]sandbox.Delivery, error) {
	rows, err := s.read.QueryContext(ctx,
		`SELECT `+sbDeliveryColumns+` FROM sandbox_outbox WHERE payment_id = ? ORDER BY created_at, id`, paymentID)
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
