package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"piao/internal/benefits"
	"piao/internal/fault"
	"piao/internal/ledger"
	"piao/internal/sale"
	"piao/internal/store/sqlrow"
	"piao/internal/tenant"
)

// Sales returns the store of passengers' purchases.
func (db *DB) Sales() sale.Store { return &saleStore{db} }

// saleStore implements sale.Store on PostgreSQL: a purchase is checked
// against its limits with its offer's row locked, and a refund with its
// ticket's (the lock a ride takes too).
type saleStore struct{ *DB }

var _ sale.Store = (*saleStore)(nil)

const saleCols = sqlrow.SaleColumns

// CreateOffer stores an offer; one per campaign.
func (s *saleStore) CreateOffer(ctx context.Context, o *sale.Offer) error {
	body, err := sqlrow.SaleBody(o)
	if err != nil {
		return err
	}
	err = s.pool.QueryRow(ctx, `INSERT INTO sale_offers (campaign_id, on_sale, version, body) VALUES ($1, $2, $3, $4)
		ON CONFLICT (campaign_id) DO NOTHING RETURNING id`, o.CampaignID, o.OnSale, o.Version, body).Scan(&o.ID)
	return sqlrow.NoRowsAs(fault.Wrap(err, "store offer"), sale.ErrOfferExists)
}

// Offer returns one offer.
func (s *saleStore) Offer(ctx context.Context, id int64) (sale.Offer, error) {
	return sqlrow.ScanOffer(s.pool.QueryRow(ctx, `SELECT `+saleCols+` FROM sale_offers WHERE id = $1`, id))
}

// Offers lists offers, newest first.
func (s *saleStore) Offers(ctx context.Context, onSale bool) ([]sale.Offer, error) {
	return list(ctx, s.pool, "list offers", sqlrow.ScanOffer, `SELECT `+saleCols+` FROM sale_offers WHERE (NOT $1 OR on_sale) ORDER BY id DESC LIMIT 500`, onSale)
}

// UpdateOffer stores o at its version.
func (s *saleStore) UpdateOffer(ctx context.Context, o sale.Offer) error {
	body, err := sqlrow.SaleBody(o)
	if err != nil {
		return err
	}
	return s.tx(ctx, func(tx pgx.Tx) error {
		return versioned(ctx, tx, "sale_offers", o.ID, sale.ErrOfferNotFound,
			`UPDATE sale_offers SET on_sale = $1, version = $2, body = $3 WHERE id = $4 AND version = $5`, o.OnSale, o.Version, body, o.ID, o.Version-1)
	})
}

// versioned runs an update naming a version and says why it changed
// nothing: the row is missing, or at another version (sale.ErrStale).
func versioned(ctx context.Context, tx pgx.Tx, table string, id int64, missing error, q string, args ...any) error {
	tag, err := tx.Exec(ctx, q, args...)
	if err != nil {
		return fault.Wrap(err, "update "+table)
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	var one int
	if err := tx.QueryRow(ctx, `SELECT 1 FROM `+table+` WHERE id = $1`, id).Scan(&one); err != nil {
		return sqlrow.NoRowsAs(fault.Wrap(err, "update "+table), missing)
	}
	return sale.ErrStale
}

// soldQuery counts the tickets an offer's pending and paid purchases hold,
// in all and of one buyer.
const soldQuery = `SELECT COALESCE(SUM(count), 0), COALESCE(SUM(CASE WHEN buyer = $1 THEN count ELSE 0 END), 0)
	FROM sale_purchases WHERE offer_id = $2 AND status IN ('pending', 'paid')`

// Sold counts what an offer's purchases hold.
func (s *saleStore) Sold(ctx context.Context, offerID, buyer int64) (all, mine int, err error) {
	err = s.pool.QueryRow(ctx, soldQuery, buyer, offerID).Scan(&all, &mine)
	return all, mine, fault.Wrap(err, "count sold")
}

// CreatePurchase checks and stores a pending purchase with its offer
// locked, so two orders never both take the last tickets.
func (s *saleStore) CreatePurchase(ctx context.Context, p *sale.Purchase, check func(o sale.Offer, stock, sold, mine int) error) error {
	return s.tx(ctx, func(tx pgx.Tx) error {
		o, err := sqlrow.ScanOffer(tx.QueryRow(ctx, `SELECT `+saleCols+` FROM sale_offers WHERE id = $1 FOR UPDATE`, p.OfferID))
		if err != nil {
			return err
		}
		c, err := campaignIn(ctx, tx, tenant.All(), o.CampaignID, "")
		if err != nil {
			return err
		}
		var sold, mine int
		if err := tx.QueryRow(ctx, soldQuery, p.Buyer, o.ID).Scan(&sold, &mine); err != nil {
			return fault.Wrap(err, "count sold")
		}
		if err := check(o, c.Stock, sold, mine); err != nil {
			return err
		}
		body, err := sqlrow.SaleBody(p)
		if err != nil {
			return err
		}
		return fault.Wrap(tx.QueryRow(ctx, `INSERT INTO sale_purchases (offer_id, buyer, status, count, issued, returned_fen, expires_at, version, body)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`, p.OfferID, p.Buyer, string(p.Status), p.Count, p.Issued, p.ReturnedFen, p.ExpiresAt, p.Version, body).Scan(&p.ID), "store purchase")
	})
}

// Purchase returns one purchase.
func (s *saleStore) Purchase(ctx context.Context, id int64) (sale.Purchase, error) {
	return sqlrow.ScanSalePurchase(s.pool.QueryRow(ctx, `SELECT `+saleCols+` FROM sale_purchases WHERE id = $1`, id))
}

// Purchases lists purchases f selects, newest first.
func (s *saleStore) Purchases(ctx context.Context, f sale.Filter) ([]sale.Purchase, error) {
	f = f.Bounded()
	return list(ctx, s.pool, "list purchases", sqlrow.ScanSalePurchase, `SELECT `+saleCols+` FROM sale_purchases
		WHERE ($1 = 0 OR buyer = $1) AND ($2 = 0 OR offer_id = $2) AND ($3 = '' OR status = $3) AND ($4 = 0 OR id < $4) ORDER BY id DESC LIMIT $5`,
		f.Buyer, f.OfferID, string(f.Status), f.BeforeID, f.Limit)
}

// UpdatePurchase stores p at its version with its entries.
func (s *saleStore) UpdatePurchase(ctx context.Context, p sale.Purchase, entries ...ledger.Entry) error {
	body, err := sqlrow.SaleBody(p)
	if err != nil {
		return err
	}
	return s.tx(ctx, func(tx pgx.Tx) error {
		err := versioned(ctx, tx, "sale_purchases", p.ID, sale.ErrNotFound,
			`UPDATE sale_purchases SET status = $1, issued = $2, returned_fen = $3, expires_at = $4, version = $5, body = $6 WHERE id = $7 AND version = $8`,
			string(p.Status), p.Issued, p.ReturnedFen, p.ExpiresAt, p.Version, body, p.ID, p.Version-1)
		if err != nil {
			return err
		}
		for _, e := range entries {
			if _, err := postEntry(ctx, tx, e); err != nil {
				return err
			}
		}
		return nil
	})
}

// DuePurchases lists pending purchases expired by now, oldest first.
func (s *saleStore) DuePurchases(ctx context.Context, now time.Time, limit int) ([]sale.Purchase, error) {
	return list(ctx, s.pool, "list due purchases", sqlrow.ScanSalePurchase,
		`SELECT `+saleCols+` FROM sale_purchases WHERE status = 'pending' AND expires_at <= $1 ORDER BY expires_at, id LIMIT $2`, now, max(limit, 1))
}

// Unissued lists paid purchases not fully issued, oldest first.
func (s *saleStore) Unissued(ctx context.Context, limit int) ([]sale.Purchase, error) {
	return list(ctx, s.pool, "list unissued purchases", sqlrow.ScanSalePurchase,
		`SELECT `+saleCols+` FROM sale_purchases WHERE status = 'paid' AND NOT issued ORDER BY id LIMIT $1`, max(limit, 1))
}

// PurchaseOfTicket returns the purchase a ticket's issue key names.
func (s *saleStore) PurchaseOfTicket(ctx context.Context, ticketID int64) (sale.Purchase, error) {
	return purchaseOfTicket(ctx, s.pool, ticketID)
}

func purchaseOfTicket(ctx context.Context, q pgQuerier, ticketID int64) (sale.Purchase, error) {
	var key *string
	err := q.QueryRow(ctx, `SELECT issue_key FROM benefit_tickets WHERE id = $1`, ticketID).Scan(&key)
	if err != nil {
		return sale.Purchase{}, sqlrow.NoRowsAs(fault.Wrap(err, "read ticket key"), sale.ErrNotBought)
	}
	if key == nil {
		return sale.Purchase{}, sale.ErrNotBought
	}
	id, ok := sale.PurchaseOfKey(*key)
	if !ok {
		return sale.Purchase{}, sale.ErrNotBought
	}
	p, err := sqlrow.ScanSalePurchase(q.QueryRow(ctx, `SELECT `+saleCols+` FROM sale_purchases WHERE id = $1`, id))
	if fault.Is(err, fault.NotFound) {
		return p, sale.ErrNotBought
	}
	return p, err
}

// RefundTicket revokes a bought ticket, stores its refund and posts its
// entry, with the ticket locked as a ride locks it.
func (s *saleStore) RefundTicket(ctx context.Context, ticketID int64, decide func(sale.Purchase, benefits.Ticket) (sale.Refund, ledger.Entry, error)) (sale.Refund, error) {
	var r sale.Refund
	err := s.tx(ctx, func(tx pgx.Tx) error {
		t, err := sqlrow.ScanTicket(tx.QueryRow(ctx, `SELECT `+ticketCols+` FROM benefit_tickets WHERE id = $1 FOR UPDATE`, ticketID))
		if err != nil {
			return err
		}
		p, err := purchaseOfTicket(ctx, tx, ticketID)
		if err != nil {
			return err
		}
		var e ledger.Entry
		if r, e, err = decide(p, t); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE benefit_tickets SET state = $1 WHERE id = $2`, benefits.Revoked, ticketID); err != nil {
			return fault.Wrap(err, "revoke ticket")
		}
		body, err := sqlrow.SaleBody(r)
		if err != nil {
			return err
		}
		err = tx.QueryRow(ctx, `INSERT INTO sale_refunds (ticket_id, purchase_id, buyer, status, version, body) VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (ticket_id) DO NOTHING RETURNING id`, r.TicketID, r.PurchaseID, r.Buyer, string(r.Status), r.Version, body).Scan(&r.ID)
		if err = sqlrow.NoRowsAs(fault.Wrap(err, "store refund"), sale.ErrRefunded); err != nil {
			return err
		}
		_, err = postEntry(ctx, tx, e)
		return err
	})
	return r, err
}

// Refund returns a ticket's refund.
func (s *saleStore) Refund(ctx context.Context, ticketID int64) (sale.Refund, error) {
	return sqlrow.ScanSaleRefund(s.pool.QueryRow(ctx, `SELECT `+saleCols+` FROM sale_refunds WHERE ticket_id = $1`, ticketID))
}

// UpdateRefund stores r at its version with its entries.
func (s *saleStore) UpdateRefund(ctx context.Context, r sale.Refund, entries ...ledger.Entry) error {
	body, err := sqlrow.SaleBody(r)
	if err != nil {
		return err
	}
	return s.tx(ctx, func(tx pgx.Tx) error {
		err := versioned(ctx, tx, "sale_refunds", r.ID, sale.ErrRefundNotFound,
			`UPDATE sale_refunds SET status = $1, version = $2, body = $3 WHERE id = $4 AND version = $5`, string(r.Status), r.Version, body, r.ID, r.Version-1)
		if err != nil {
			return err
		}
		for _, e := range entries {
			if _, err := postEntry(ctx, tx, e); err != nil {
				return err
			}
		}
		return nil
	})
}

// PendingRefunds lists refunds not paid yet, oldest first.
func (s *saleStore) PendingRefunds(ctx context.Context, limit int) ([]sale.Refund, error) {
	return list(ctx, s.pool, "list pending refunds", sqlrow.ScanSaleRefund,
		`SELECT `+saleCols+` FROM sale_refunds WHERE status = 'pending' ORDER BY id LIMIT $1`, max(limit, 1))
}
