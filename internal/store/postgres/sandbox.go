package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"piao/internal/fault"
	"piao/internal/payment"
	"piao/internal/payment/sandbox"
	"piao/internal/store/sqlrow"
)

// sandboxStore implements sandbox.Store on PostgreSQL. Several processes
// may share it: payments are changed by conditional updates under row
// locks, and outbox rows are claimed with FOR UPDATE SKIP LOCKED.
type sandboxStore struct{ *DB }

var _ sandbox.Store = (*sandboxStore)(nil)

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
			`INSERT INTO sandbox_payments (`+sqlrow.PaymentColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
			 ON CONFLICT (order_ref) WHERE status IN ('pending', 'paid') DO NOTHING`,
			p.ID, p.OrderRef, p.AmountFen, p.RefundedFen, string(p.Status), p.Subject, p.Payer, p.NotifyURL, p.ReturnURL,
			p.CreatedAt, p.ExpiresAt, pgtype.Timestamptz{Time: p.PaidAt, Valid: !p.PaidAt.IsZero()}, p.FeeBP)
		if err != nil {
			return fault.Wrap(err, "insert sandbox payment")
		}
		if tag.RowsAffected() == 0 {
			out, err = sqlrow.ScanPayment(tx.QueryRow(ctx,
				`SELECT `+sqlrow.PaymentColumns+` FROM sandbox_payments WHERE order_ref = $1 AND status IN ('pending', 'paid')`, p.OrderRef))
			return err
		}
		out, err = sqlrow.ScanPayment(tx.QueryRow(ctx, `SELECT `+sqlrow.PaymentColumns+` FROM sandbox_payments WHERE id = $1`, p.ID))
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
	return sqlrow.ScanPayment(s.pool.QueryRow(ctx, `SELECT `+sqlrow.PaymentColumns+` FROM sandbox_payments WHERE id = $1`, id))
}

// Settle moves a pending, unexpired payment to status to and enqueues d.
func (s *sandboxStore) Settle(ctx context.Context, id string, to payment.Status, at time.Time, d sandbox.Delivery) (sandbox.Record, error) {
	paidAt, err := sqlrow.SettledPaidAt(to, at)
	if err != nil {
		return sandbox.Record{}, err
	}
	var out sandbox.Record
	err = s.tx(ctx, func(tx pgx.Tx) (err error) {
		// The row lock makes concurrent settlers wait and then find the
		// payment no longer pending.
		out, err = sqlrow.ScanPayment(tx.QueryRow(ctx,
			`UPDATE sandbox_payments SET status = $1, paid_at = $2 WHERE id = $3 AND status = 'pending' AND expires_at > $4
			 RETURNING `+sqlrow.PaymentColumns, string(to), paidAt, id, at))
		if errors.Is(err, sandbox.ErrPaymentNotFound) {
			cur, err := sqlrow.ScanPayment(tx.QueryRow(ctx, `SELECT `+sqlrow.PaymentColumns+` FROM sandbox_payments WHERE id = $1`, id))
			if err != nil {
				return err
			}
			return sqlrow.Unsettled(cur)
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
	const qRefund = `SELECT ` + sqlrow.RefundColumns + ` FROM sandbox_refunds WHERE id = $1`
	var out payment.Refund
	err := s.tx(ctx, func(tx pgx.Tx) error {
		// Locking the payment serialises its refunds.
		cur, err := sqlrow.ScanPayment(tx.QueryRow(ctx, `SELECT `+sqlrow.PaymentColumns+` FROM sandbox_payments WHERE id = $1 FOR UPDATE`, r.PaymentID))
		if err != nil {
			return err
		}
		prev, err := sqlrow.ScanRefund(tx.QueryRow(ctx, qRefund, r.ID))
		if err == nil {
			out, err = sqlrow.RepeatRefund(prev, r)
			return err
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return fault.Wrap(err, "find sandbox refund")
		}
		if err := sqlrow.Refundable(cur, r.AmountFen); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE sandbox_payments SET refunded_fen = refunded_fen + $1 WHERE id = $2`, r.AmountFen, r.PaymentID); err != nil {
			return fault.Wrap(err, "refund sandbox payment")
		}
		if _, err := tx.Exec(ctx,
			`INSERT INTO sandbox_refunds (`+sqlrow.RefundColumns+`) VALUES ($1, $2, $3, $4, $5)`,
			r.ID, r.PaymentID, r.AmountFen, string(r.Status), r.At); err != nil {
			return err // a unique violation is handled below
		}
		out = r
		return nil
	})
	if v, _ := violation(err); v == sqlrow.Unique {
		// The same refund ID was used at the same time for another payment.
		prev, perr := sqlrow.ScanRefund(s.pool.QueryRow(ctx, qRefund, r.ID))
		if perr != nil {
			return payment.Refund{}, fault.Wrap(perr, "find sandbox refund")
		}
		return sqlrow.RepeatRefund(prev, r)
	}
	if err != nil {
		return payment.Refund{}, fault.Wrap(err, "insert sandbox refund")
	}
	return out, nil
}

// Refunds lists a payment's refunds, oldest first.
func (s *sandboxStore) Refunds(ctx context.Context, paymentID string) ([]payment.Refund, error) {
	return list(ctx, s.pool, "list sandbox refunds", sqlrow.ScanRefund,
		`SELECT `+sqlrow.RefundColumns+` FROM sandbox_refunds WHERE payment_id = $1 ORDER BY at, id`, paymentID)
}

// ClaimDue leases up to limit due deliveries until leaseUntil, skipping
// rows another process is claiming.
func (s *sandboxStore) ClaimDue(ctx context.Context, now, leaseUntil time.Time, limit int) ([]sandbox.Delivery, error) {
	var out []sandbox.Delivery
	err := s.tx(ctx, func(tx pgx.Tx) (err error) {
		out, err = list(ctx, tx, "claim sandbox deliveries", sqlrow.ScanDelivery,
			`UPDATE sandbox_outbox SET lease_until = $1
			 WHERE id IN (SELECT id FROM sandbox_outbox
			              WHERE delivered_at IS NULL AND gave_up_at IS NULL AND next_attempt_at <= $2
			                AND (lease_until IS NULL OR lease_until <= $2)
			              ORDER BY next_attempt_at, id LIMIT $3
			              FOR UPDATE SKIP LOCKED)
			 RETURNING `+sqlrow.DeliveryColumns, leaseUntil, now, limit)
		return err
	})
	if err != nil {
		return nil, err
	}
	sqlrow.SortDue(out)
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
	return fault.Wrap(sqlrow.NoRowsAs(err, sandbox.ErrDeliveryNotFound), what)
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
	return list(ctx, s.pool, "list sandbox deliveries", sqlrow.ScanDelivery,
		`SELECT `+sqlrow.DeliveryColumns+` FROM sandbox_outbox WHERE payment_id = $1 ORDER BY created_at, id`, paymentID)
}
