package postgres

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"piao/internal/fault"
	"piao/internal/ledger"
	"piao/internal/purchase"
	"piao/internal/store/sqlrow"
	"piao/internal/tenant"
)

// Purchases returns the store of merchants' batch purchases and refunds.
func (db *DB) Purchases() purchase.Store { return &purchaseStore{db} }

// purchaseStore implements purchase.Store on PostgreSQL. Every query
// filters by the scope; an update names the version it was decided on, so
// of two racing updates of one row the second waits for the first, then
// finds the version changed and stores nothing.
type purchaseStore struct{ *DB }

var _ purchase.Store = (*purchaseStore)(nil)

// CreatePurchase stores a new purchase and sets its ID.
func (s *purchaseStore) CreatePurchase(ctx context.Context, scope tenant.Scope, p *purchase.Purchase) error {
	if !scope.Sees(p.Merchant) || p.Merchant <= 0 {
		return purchase.ErrNotFound
	}
	body, err := sqlrow.PurchaseBody(*p)
	if err != nil {
		return err
	}
	return fault.Wrap(s.pool.QueryRow(ctx, `INSERT INTO purchases (merchant_id, campaign_id, status, expires_at, version, body) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
		p.Merchant, p.CampaignID, string(p.Status), sqlrow.At(p.ExpiresAt), p.Version, body).Scan(&p.ID), "store purchase")
}

// Purchase returns a purchase the scope sees.
func (s *purchaseStore) Purchase(ctx context.Context, scope tenant.Scope, id int64) (purchase.Purchase, error) {
	all, m := sqlrow.ScopeArgs(scope)
	return sqlrow.ScanPurchase(s.pool.QueryRow(ctx, `SELECT `+sqlrow.PurchaseColumns+` FROM purchases WHERE id = $1 AND ($2 OR merchant_id = $3)`, id, all, m))
}

// Purchases lists the scope's purchases f selects, newest first.
func (s *purchaseStore) Purchases(ctx context.Context, scope tenant.Scope, f purchase.Filter) ([]purchase.Purchase, error) {
	f = f.Bounded()
	all, m := sqlrow.ScopeArgs(scope)
	args := []any{all, m}
	arg := func(v any) string { args = append(args, v); return "$" + strconv.Itoa(len(args)) }
	q := `SELECT ` + sqlrow.PurchaseColumns + ` FROM purchases WHERE ($1 OR merchant_id = $2)`
	if f.CampaignID != 0 {
		q += ` AND campaign_id = ` + arg(f.CampaignID)
	}
	if f.Status != "" {
		q += ` AND status = ` + arg(string(f.Status))
	}
	if f.BeforeID > 0 {
		q += ` AND id < ` + arg(f.BeforeID)
	}
	q += ` ORDER BY id DESC LIMIT ` + arg(f.Limit)
	return list(ctx, s.pool, "list purchases", sqlrow.ScanPurchase, q, args...)
}

// UpdatePurchase stores p if the stored one is at p.Version−1, posting
// entries in the same transaction.
func (s *purchaseStore) UpdatePurchase(ctx context.Context, scope tenant.Scope, p purchase.Purchase, entries ...ledger.Entry) error {
	body, err := sqlrow.PurchaseBody(p)
	if err != nil {
		return err
	}
	all, m := sqlrow.ScopeArgs(scope)
	return s.tx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE purchases SET status = $1, expires_at = $2, version = $3, body = $4 WHERE id = $5 AND version = $6 AND ($7 OR merchant_id = $8)`,
			string(p.Status), sqlrow.At(p.ExpiresAt), p.Version, body, p.ID, p.Version-1, all, m)
		if err != nil {
			return fault.Wrap(err, "update purchase")
		}
		if tag.RowsAffected() == 1 {
			return postEntries(ctx, tx, entries)
		}
		var one int
		if err := tx.QueryRow(ctx, `SELECT 1 FROM purchases WHERE id = $1 AND ($2 OR merchant_id = $3)`, p.ID, all, m).Scan(&one); err != nil {
			return sqlrow.NoRowsAs(fault.Wrap(err, "update purchase"), purchase.ErrNotFound)
		}
		return purchase.ErrStale
	})
}

// DuePurchases lists the scope's pending purchases expired by now, oldest first.
func (s *purchaseStore) DuePurchases(ctx context.Context, scope tenant.Scope, now time.Time, limit int) ([]purchase.Purchase, error) {
	all, m := sqlrow.ScopeArgs(scope)
	return list(ctx, s.pool, "list due purchases", sqlrow.ScanPurchase,
		`SELECT `+sqlrow.PurchaseColumns+` FROM purchases WHERE status = 'pending' AND expires_at <= $1 AND ($2 OR merchant_id = $3) ORDER BY expires_at, id LIMIT $4`,
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
	err = s.pool.QueryRow(ctx, `INSERT INTO purchase_refunds (merchant_id, campaign_id, status, version, body) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (campaign_id) DO NOTHING RETURNING id`, r.Merchant, r.CampaignID, string(r.Status), r.Version, body).Scan(&r.ID)
	if errors.Is(err, pgx.ErrNoRows) {
		return purchase.ErrRefundExists
	}
	return fault.Wrap(err, "store refund")
}

// Refund returns a campaign's refund the scope sees.
func (s *purchaseStore) Refund(ctx context.Context, scope tenant.Scope, campaignID int64) (purchase.Refund, error) {
	all, m := sqlrow.ScopeArgs(scope)
	return sqlrow.ScanPurchaseRefund(s.pool.QueryRow(ctx, `SELECT `+sqlrow.PurchaseRefundColumns+` FROM purchase_refunds WHERE campaign_id = $1 AND ($2 OR merchant_id = $3)`, campaignID, all, m))
}

// UpdateRefund stores r if the stored one is at r.Version−1, posting
// entries in the same transaction.
func (s *purchaseStore) UpdateRefund(ctx context.Context, scope tenant.Scope, r purchase.Refund, entries ...ledger.Entry) error {
	body, err := sqlrow.PurchaseRefundBody(r)
	if err != nil {
		return err
	}
	all, m := sqlrow.ScopeArgs(scope)
	return s.tx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE purchase_refunds SET status = $1, version = $2, body = $3 WHERE id = $4 AND version = $5 AND ($6 OR merchant_id = $7)`,
			string(r.Status), r.Version, body, r.ID, r.Version-1, all, m)
		if err != nil {
			return fault.Wrap(err, "update refund")
		}
		if tag.RowsAffected() == 1 {
			return postEntries(ctx, tx, entries)
		}
		var one int
		if err := tx.QueryRow(ctx, `SELECT 1 FROM purchase_refunds WHERE id = $1 AND ($2 OR merchant_id = $3)`, r.ID, all, m).Scan(&one); err != nil {
			return sqlrow.NoRowsAs(fault.Wrap(err, "update refund"), purchase.ErrRefundNotFound)
		}
		return purchase.ErrStale
	})
}

// PostEntries posts journal entries of money that changed no purchase.
func (s *purchaseStore) PostEntries(ctx context.Context, entries ...ledger.Entry) error {
	return s.tx(ctx, func(tx pgx.Tx) error { return postEntries(ctx, tx, entries) })
}

// PendingRefunds lists the scope's refunds not yet paid back in full, oldest first.
func (s *purchaseStore) PendingRefunds(ctx context.Context, scope tenant.Scope, limit int) ([]purchase.Refund, error) {
	all, m := sqlrow.ScopeArgs(scope)
	return list(ctx, s.pool, "list pending refunds", sqlrow.ScanPurchaseRefund,
		`SELECT `+sqlrow.PurchaseRefundColumns+` FROM purchase_refunds WHERE status = 'pending' AND ($1 OR merchant_id = $2) ORDER BY id LIMIT $3`, all, m, max(limit, 1))
}
