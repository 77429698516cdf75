package sqlite

import (
	"context"
	"time"

	"piao/internal/payment"
	"piao/internal/payment/sandbox"
	"piao/internal/store/sqlrow"
)

// PaidBetween lists the payments paid in [from, until), by time then ID.
func (s *sandboxStore) PaidBetween(ctx context.Context, from, until time.Time) ([]sandbox.Record, error) {
	return list(ctx, s.read, "list paid sandbox payments", sqlrow.ScanPayment,
		`SELECT `+sqlrow.PaymentColumns+` FROM sandbox_payments WHERE paid_at IS NOT NULL AND paid_at >= ? AND paid_at < ? ORDER BY paid_at, id`,
		sqlrow.At(from), sqlrow.At(until))
}

// RefundsBetween lists the refunds made in [from, until), by time then ID.
func (s *sandboxStore) RefundsBetween(ctx context.Context, from, until time.Time) ([]payment.Refund, error) {
	return list(ctx, s.read, "list sandbox refunds of a day", sqlrow.ScanRefund,
		`SELECT `+sqlrow.RefundColumns+` FROM sandbox_refunds WHERE at >= ? AND at < ? ORDER BY at, id`,
		sqlrow.At(from), sqlrow.At(until))
}
