package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"piao/internal/fault"
	"piao/internal/payment"
	"piao/internal/payment/sandbox"
	"piao/internal/store/sqlrow"
)

// sandboxStore implements sandbox.Store on SQLite. Every write runs on the
// single writer connection, so conditional updates there never race.
type sandboxStore struct{ *DB }

var _ sandbox.Store = (*sandboxStore)(nil)

// CreatePayment stores a new pending payment unless its order has an open one.
func (s *sandboxStore) CreatePayment(ctx context.Context, p sandbox.Record, now time.Time) (sandbox.Record, bool, error) {
	var out sandbox.Record
	created := false
	err := s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx,
			// The IN clause repeats the partial index's condition so SQLite uses it
			// instead of scanning every payment ever made.
			`UPDATE sandbox_payments SET status = 'closed' WHERE order_ref = ? AND status IN ('pending', 'paid') AND status = 'pending' AND expires_at <= ?`,
			p.OrderRef, sqlrow.At(now))
		if err != nil {
			return fault.Wrap(err, "close expired sandbox payments")
		}
		out, err = sqlrow.ScanPayment(tx.QueryRowContext(ctx,
			`SELECT `+sqlrow.PaymentColumns+` FROM sandbox_payments WHERE order_ref = ? AND status IN ('pending', 'paid')`, p.OrderRef))
		if !errors.Is(err, sandbox.ErrPaymentNotFound) {
			return err // the order's open payment, or a failure
		}
		if _, err := tx.ExecContext(ctx,
			`INSERT INTO sandbox_payments (`+sqlrow.PaymentColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			p.ID, p.OrderRef, p.AmountFen, p.RefundedFen, string(p.Status), p.Subject, p.Payer, p.NotifyURL, p.ReturnURL,
			sqlrow.At(p.CreatedAt), sqlrow.At(p.ExpiresAt), sqlrow.AtOrNull(p.PaidAt), p.FeeBP); err != nil {
			return fault.Wrap(err, "insert sandbox payment")
		}
		// As read back: times in UTC, no pay URL.
		p.CreatedAt, p.ExpiresAt, p.PayURL = p.CreatedAt.UTC(), p.ExpiresAt.UTC(), ""
		if !p.PaidAt.IsZero() {
			p.PaidAt = p.PaidAt.UTC()
		}
		out, created = p, true
		return nil
	})
	if err != nil {
		return sandbox.Record{}, false, err
	}
	return out, created, nil
}

// Payment returns a payment.
func (s *sandboxStore) Payment(ctx context.Context, id string) (sandbox.Record, error) {
	return sqlrow.ScanPayment(s.read.QueryRowContext(ctx, `SELECT `+sqlrow.PaymentColumns+` FROM sandbox_payments WHERE id = ?`, id))
}

// Settle moves a pending, unexpired payment to status to and enqueues d.
func (s *sandboxStore) Settle(ctx context.Context, id string, to payment.Status, at time.Time, d sandbox.Delivery) (sandbox.Record, error) {
	paidAt, err := sqlrow.SettledPaidAt(to, at)
	if err != nil {
		return sandbox.Record{}, err
	}
	var out sandbox.Record
	err = s.tx(ctx, func(tx *sql.Tx) (err error) {
		out, err = sqlrow.ScanPayment(tx.QueryRowContext(ctx,
			`UPDATE sandbox_payments SET status = ?, paid_at = ? WHERE id = ? AND status = 'pending' AND expires_at > ?
			 RETURNING `+sqlrow.PaymentColumns, string(to), paidAt, id, sqlrow.At(at)))
		if errors.Is(err, sandbox.ErrPaymentNotFound) {
			cur, err := sqlrow.ScanPayment(tx.QueryRowContext(ctx, `SELECT `+sqlrow.PaymentColumns+` FROM sandbox_payments WHERE id = ?`, id))
			if err != nil {
				return err
			}
			return sqlrow.Unsettled(cur)
		}
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx,
			`INSERT INTO sandbox_outbox (id, payment_id, url, body, created_at, next_attempt_at, attempts, last_error)
			 VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			d.ID, id, d.URL, string(d.Body), sqlrow.At(d.CreatedAt), sqlrow.At(d.NextAttemptAt), d.Attempts, d.LastError)
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
	err := s.tx(ctx, func(tx *sql.Tx) error {
		cur, err := sqlrow.ScanPayment(tx.QueryRowContext(ctx, `SELECT `+sqlrow.PaymentColumns+` FROM sandbox_payments WHERE id = ?`, r.PaymentID))
		if err != nil {
			return err
		}
		prev, err := sqlrow.ScanRefund(tx.QueryRowContext(ctx, `SELECT `+sqlrow.RefundColumns+` FROM sandbox_refunds WHERE id = ?`, r.ID))
		if err == nil {
			out, err = sqlrow.RepeatRefund(prev, r)
			return err
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fault.Wrap(err, "find sandbox refund")
		}
		if err := sqlrow.Refundable(cur, r.AmountFen); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE sandbox_payments SET refunded_fen = refunded_fen + ? WHERE id = ?`, r.AmountFen, r.PaymentID); err != nil {
			return fault.Wrap(err, "refund sandbox payment")
		}
		if _, err := tx.ExecContext(ctx,
			`INSERT INTO sandbox_refunds (`+sqlrow.RefundColumns+`) VALUES (?, ?, ?, ?, ?)`,
			r.ID, r.PaymentID, r.AmountFen, string(r.Status), sqlrow.At(r.At)); err != nil {
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
	return list(ctx, s.read, "list sandbox refunds", sqlrow.ScanRefund,
		`SELECT `+sqlrow.RefundColumns+` FROM sandbox_refunds WHERE payment_id = ? ORDER BY at, id`, paymentID)
}

// ClaimDue leases up to limit due deliveries until leaseUntil.
func (s *sandboxStore) ClaimDue(ctx context.Context, now, leaseUntil time.Time, limit int) ([]sandbox.Delivery, error) {
	// Look on a reader first, so idle polls do not take the writer.
	var one int
	err := s.read.QueryRowContext(ctx, `SELECT 1 FROM sandbox_outbox
		WHERE delivered_at IS NULL AND gave_up_at IS NULL AND next_attempt_at <= ?1
		  AND (lease_until IS NULL OR lease_until <= ?1) LIMIT 1`, sqlrow.At(now)).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return []sandbox.Delivery{}, nil
	}
	if err != nil {
		return nil, fault.Wrap(err, "find due sandbox deliveries")
	}
	var out []sandbox.Delivery
	err = s.tx(ctx, func(tx *sql.Tx) error {
		out, err = list(ctx, tx, "claim sandbox deliveries", sqlrow.ScanDelivery,
			`UPDATE sandbox_outbox SET lease_until = ?1
			 WHERE id IN (SELECT id FROM sandbox_outbox
			              WHERE delivered_at IS NULL AND gave_up_at IS NULL AND next_attempt_at <= ?2
			                AND (lease_until IS NULL OR lease_until <= ?2)
			              ORDER BY next_attempt_at, id LIMIT ?3)
			 RETURNING `+sqlrow.DeliveryColumns, sqlrow.At(leaseUntil), sqlrow.At(now), limit)
		return err
	})
	if err != nil {
		return nil, err
	}
	sqlrow.SortDue(out)
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
		if n, _ := res.RowsAffected(); n > 0 { // SQLite's count cannot fail
			return nil
		}
		var one int
		err = tx.QueryRowContext(ctx, `SELECT 1 FROM sandbox_outbox WHERE id = ?`, args[len(args)-1]).Scan(&one)
		return fault.Wrap(sqlrow.NoRowsAs(err, sandbox.ErrDeliveryNotFound), what)
	})
}

// MarkDelivered records an acknowledgement, keeping the first one.
func (s *sandboxStore) MarkDelivered(ctx context.Context, id string, at time.Time) error {
	return s.sbUpdateDelivery(ctx, "mark sandbox delivery delivered",
		`UPDATE sandbox_outbox SET delivered_at = COALESCE(delivered_at, ?), lease_until = NULL WHERE id = ?`,
		sqlrow.At(at), id)
}

// Retry records a failed attempt and when to try again.
func (s *sandboxStore) Retry(ctx context.Context, id string, attempts int, next time.Time, lastError string) error {
	return s.sbUpdateDelivery(ctx, "retry sandbox delivery",
		`UPDATE sandbox_outbox SET attempts = ?, next_attempt_at = ?, last_error = ?, lease_until = NULL
		 WHERE delivered_at IS NULL AND gave_up_at IS NULL AND id = ?`,
		attempts, sqlrow.At(next), lastError, id)
}

// GiveUp abandons an undelivered delivery.
func (s *sandboxStore) GiveUp(ctx context.Context, id string, attempts int, at time.Time, lastError string) error {
	return s.sbUpdateDelivery(ctx, "abandon sandbox delivery",
		`UPDATE sandbox_outbox SET attempts = ?, gave_up_at = ?, last_error = ?, lease_until = NULL
		 WHERE delivered_at IS NULL AND gave_up_at IS NULL AND id = ?`,
		attempts, sqlrow.At(at), lastError, id)
}

// Deliveries lists a payment's deliveries, oldest first.
func (s *sandboxStore) Deliveries(ctx context.Context, paymentID string) ([]sandbox.Delivery, error) {
	return list(ctx, s.read, "list sandbox deliveries", sqlrow.ScanDelivery,
		`SELECT `+sqlrow.DeliveryColumns+` FROM sandbox_outbox WHERE payment_id = ? ORDER BY created_at, id`, paymentID)
}
