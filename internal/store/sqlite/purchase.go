package sqlite

import (
	"context"
	"database/sql"
	"time"

	"piao/internal/fault"
	"piao/internal/ledger"
	"piao/internal/purchase"
	"piao/internal/store/sqlrow"
	"piao/internal/tenant"
)

// Purchases returns the store of merchants' batch purchases and refunds.
func (db *DB) Purchases() purchase.Store { return &purchaseStore{db} }

// purchaseStore implements purchase.Store on SQLite. Every query filters by
// the scope ("? OR merchant_id = ?"); updates name the version they were
// decided on, and the single writer makes each see the last one committed.
type purchaseStore struct{ *DB }

var _ purchase.Store = (*purchaseStore)(nil)

// scoped is the WHERE clause that keeps a query to the scope's rows.
const scoped = ` AND (? OR merchant_id = ?)`

// CreatePurchase stores a new purchase and sets its ID.
func (s *purchaseStore) CreatePurchase(ctx context.Context, scope tenant.Scope, p *purchase.Purchase) error {
	if !scope.Sees(p.Merchant) || p.Merchant <= 0 {
		return purchase.ErrNotFound
	}
	body, err := sqlrow.PurchaseBody(*p)
	if err != nil {
		return err
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		return fault.Wrap(tx.QueryRowContext(ctx, `INSERT INTO purchases (merchant_id, campaign_id, status, expires_at, version, body) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
			p.Merchant, p.CampaignID, string(p.Status), sqlrow.At(p.ExpiresAt), p.Version, body).Scan(&p.ID), "store purchase")
	})
}

// Purchase returns a purchase the scope sees.
func (s *purchaseStore) Purchase(ctx context.Context, scope tenant.Scope, id int64) (purchase.Purchase, error) {
	all, m := sqlrow.ScopeArgs(scope)
	return sqlrow.ScanPurchase(s.read.QueryRowContext(ctx, `SELECT `+sqlrow.PurchaseColumns+` FROM purchases WHERE id = ?`+scoped, id, all, m))
}

// Purchases lists the scope's purchases f selects, newest first.
func (s *purchaseStore) Purchases(ctx context.Context, scope tenant.Scope, f purchase.Filter) ([]purchase.Purchase, error) {
	f = f.Bounded()
	all, m := sqlrow.ScopeArgs(scope)
	q := `SELECT ` + sqlrow.PurchaseColumns + ` FROM purchases WHERE 1 = 1` + scoped
	args := []any{all, m}
	if f.CampaignID != 0 {
		q += ` AND campaign_id = ?`
		args = append(args, f.CampaignID)
	}
	if f.Status != "" {
		q += ` AND status = ?`
		args = append(args, string(f.Status))
	}
	if f.BeforeID > 0 {
		q += ` AND id < ?`
		args = append(args, f.BeforeID)
	}
	q += ` ORDER BY id DESC LIMIT ?`
	args = append(args, f.Limit)
	return list(ctx, s.read, "list purchases", sqlrow.ScanPurchase, q, args...)
}

// UpdatePurchase stores p if the stored one is at p.Version−1, posting
// entries in the same transaction.
func (s *purchaseStore) UpdatePurchase(ctx context.Context, scope tenant.Scope, p purchase.Purchase, entries ...ledger.Entry) error {
	body, err := sqlrow.PurchaseBody(p)
	if err != nil {
		return err
	}
	all, m := sqlrow.ScopeArgs(scope)
	return s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE purchases SET status = ?, expires_at = ?, version = ?, body = ? WHERE id = ? AND version = ?`+scoped,
			string(p.Status), sqlrow.At(p.ExpiresAt), p.Version, body, p.ID, p.Version-1, all, m)
		if err != nil {
			return fault.Wrap(err, "update purchase")
		}
		if n, _ := res.RowsAffected(); n == 1 {
			return postEntries(ctx, tx, entries)
		}
		var one int
		if err := tx.QueryRowContext(ctx, `SELECT 1 FROM purchases WHERE id = ?`+scoped, p.ID, all, m).Scan(&one); err != nil {
			return sqlrow.NoRowsAs(fault.Wrap(err, "update purchase"), purchase.ErrNotFound)
		}
		return purchase.ErrStale
	})
}

// DuePurchases lists the scope's pending purchases expired by now, oldest first.
func (s *purchaseStore) DuePurchases(ctx context.Context, scope tenant.Scope, now time.Time, limit int) ([]purchase.Purchase, error) {
	all, m := sqlrow.ScopeArgs(scope)
	return list(ctx, s.read, "list due purchases", sqlrow.ScanPurchase,
		`SELECT `+sqlrow.PurchaseColumns+` FROM purchases WHERE status = 'pending' AND expires_at <= ?`+scoped+` ORDER BY expires_at, id LIMIT ?`,
		sqlrow.At(now), all, m, max(limit, 1))
}

// CreateRefund stores a campaign's refund; one per campaign.
func (s *purchaseStore) CreateRefund(ctx context.Context, scope tenant.Scope, r *purchase.Refund) error {
	if !scope.Sees(r.Merchant) || r.Merchant <= 0 {
		return purchase.ErrRefundNotFound
	}
	body, err := sqlrow.PurchaseRefundBody(*r)
	if err != nil {
		return err
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO purchase_refunds (merchant_id, campaign_id, status, version, body) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (campaign_id) DO NOTHING RETURNING id`, r.Merchant, r.CampaignID, string(r.Status), r.Version, body).Scan(&r.ID)
		return sqlrow.NoRowsAs(fault.Wrap(err, "store refund"), purchase.ErrRefundExists)
	})
}

// Refund returns a campaign's refund the scope sees.
func (s *purchaseStore) Refund(ctx context.Context, scope tenant.Scope, campaignID int64) (purchase.Refund, error) {
	all, m := sqlrow.ScopeArgs(scope)
	return sqlrow.ScanPurchaseRefund(s.read.QueryRowContext(ctx, `SELECT `+sqlrow.PurchaseRefundColumns+` FROM purchase_refunds WHERE campaign_id = ?`+scoped, campaignID, all, m))
}

// UpdateRefund stores r if the stored one is at r.Version−1, posting
// entries in the same transaction.
func (s *purchaseStore) UpdateRefund(ctx context.Context, scope tenant.Scope, r purchase.Refund, entries ...ledger.Entry) error {
	body, err := sqlrow.PurchaseRefundBody(r)
	if err != nil {
		return err
	}
	all, m := sqlrow.ScopeArgs(scope)
	return s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE purchase_refunds SET status = ?, version = ?, body = ? WHERE id = ? AND version = ?`+scoped,
			string(r.Status), r.Version, body, r.ID, r.Version-1, all, m)
		if err != nil {
			return fault.Wrap(err, "update refund")
		}
		if n, _ := res.RowsAffected(); n == 1 {
			return postEntries(ctx, tx, entries)
		}
		var one int
		if err := tx.QueryRowContext(ctx, `SELECT 1 FROM purchase_refunds WHERE id = ?`+scoped, r.ID, all, m).Scan(&one); err != nil {
			return sqlrow.NoRowsAs(fault.Wrap(err, "update refund"), purchase.ErrRefundNotFound)
		}
		return purchase.ErrStale
	})
}

// PostEntries posts journal entries of money that changed no purchase.
func (s *purchaseStore) PostEntries(ctx context.Context, entries ...ledger.Entry) error {
	return s.tx(ctx, func(tx *sql.Tx) error { return postEntries(ctx, tx, entries) })
}

// PendingRefunds lists the scope's refunds not yet paid back in full, oldest first.
func (s *purchaseStore) PendingRefunds(ctx context.Context, scope tenant.Scope, limit int) ([]purchase.Refund, error) {
	all, m := sqlrow.ScopeArgs(scope)
	return list(ctx, s.read, "list pending refunds", sqlrow.ScanPurchaseRefund,
		`SELECT `+sqlrow.PurchaseRefundColumns+` FROM purchase_refunds WHERE status = 'pending'`+scoped+` ORDER BY id LIMIT ?`, all, m, max(limit, 1))
}
