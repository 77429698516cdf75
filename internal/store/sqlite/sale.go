package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"piao/internal/benefits"
	"piao/internal/fault"
	"piao/internal/ledger"
	"piao/internal/sale"
	"piao/internal/store/sqlrow"
	"piao/internal/tenant"
)

// Sales returns the store of passengers' purchases.
func (db *DB) Sales() sale.Store { return &saleStore{db} }

// saleStore implements sale.Store on SQLite; the single writer serialises
// the checks of a purchase's limits with its insertion.
type saleStore struct{ *DB }

var _ sale.Store = (*saleStore)(nil)

const saleCols = sqlrow.SaleColumns

// CreateOffer stores an offer; one per campaign.
func (s *saleStore) CreateOffer(ctx context.Context, o *sale.Offer) error {
	body, err := sqlrow.SaleBody(o)
	if err != nil {
		return err
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO sale_offers (campaign_id, on_sale, version, body) VALUES (?, ?, ?, ?)
			ON CONFLICT (campaign_id) DO NOTHING RETURNING id`, o.CampaignID, o.OnSale, o.Version, body).Scan(&o.ID)
		return sqlrow.NoRowsAs(fault.Wrap(err, "store offer"), sale.ErrOfferExists)
	})
}

// Offer returns one offer.
func (s *saleStore) Offer(ctx context.Context, id int64) (sale.Offer, error) {
	return sqlrow.ScanOffer(s.read.QueryRowContext(ctx, `SELECT `+saleCols+` FROM sale_offers WHERE id = ?`, id))
}

// Offers lists offers, newest first.
func (s *saleStore) Offers(ctx context.Context, onSale bool) ([]sale.Offer, error) {
	return list(ctx, s.read, "list offers", sqlrow.ScanOffer, `SELECT `+saleCols+` FROM sale_offers WHERE (NOT ? OR on_sale) ORDER BY id DESC LIMIT 500`, onSale)
}

// UpdateOffer stores o at its version.
func (s *saleStore) UpdateOffer(ctx context.Context, o sale.Offer) error {
	body, err := sqlrow.SaleBody(o)
	if err != nil {
		return err
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		return versioned(ctx, tx, "sale_offers", o.ID, sale.ErrOfferNotFound,
			`UPDATE sale_offers SET on_sale = ?, version = ?, body = ? WHERE id = ? AND version = ?`, o.OnSale, o.Version, body, o.ID, o.Version-1)
	})
}

// versioned runs an update naming a version and says why it changed
// nothing: the row is missing, or at another version (sale.ErrStale).
func versioned(ctx context.Context, tx *sql.Tx, table string, id int64, missing error, q string, args ...any) error {
	res, err := tx.ExecContext(ctx, q, args...)
	if err != nil {
		return fault.Wrap(err, "update "+table)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return nil
	}
	var one int
	if err := tx.QueryRowContext(ctx, `SELECT 1 FROM `+table+` WHERE id = ?`, id).Scan(&one); err != nil {
		return sqlrow.NoRowsAs(fault.Wrap(err, "update "+table), missing)
	}
	return sale.ErrStale
}

// soldQuery counts the tickets an offer's pending and paid purchases hold,
// in all and of one buyer.
const soldQuery = `SELECT COALESCE(SUM(count), 0), COALESCE(SUM(CASE WHEN buyer = ? THEN count ELSE 0 END), 0)
	FROM sale_purchases WHERE offer_id = ? AND status IN ('pending', 'paid')`

// Sold counts what an offer's purchases hold.
func (s *saleStore) Sold(ctx context.Context, offerID, buyer int64) (all, mine int, err error) {
	err = s.read.QueryRowContext(ctx, soldQuery, buyer, offerID).Scan(&all, &mine)
	return all, mine, fault.Wrap(err, "count sold")
}

// CreatePurchase checks and stores a pending purchase on the writer.
func (s *saleStore) CreatePurchase(ctx context.Context, p *sale.Purchase, check func(o sale.Offer, stock, sold, mine int) error) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		o, err := sqlrow.ScanOffer(tx.QueryRowContext(ctx, `SELECT `+saleCols+` FROM sale_offers WHERE id = ?`, p.OfferID))
		if err != nil {
			return err
		}
		c, err := campaignIn(ctx, tx, tenant.All(), o.CampaignID)
		if err != nil {
			return err
		}
		var sold, mine int
		if err := tx.QueryRowContext(ctx, soldQuery, p.Buyer, o.ID).Scan(&sold, &mine); err != nil {
			return fault.Wrap(err, "count sold")
		}
		if err := check(o, c.Stock, sold, mine); err != nil {
			return err
		}
		body, err := sqlrow.SaleBody(p)
		if err != nil {
			return err
		}
		return fault.Wrap(tx.QueryRowContext(ctx, `INSERT INTO sale_purchases (offer_id, buyer, status, count, issued, returned_fen, expires_at, version, body)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, p.OfferID, p.Buyer, string(p.Status), p.Count, p.Issued, p.ReturnedFen, sqlrow.At(p.ExpiresAt), p.Version, body).Scan(&p.ID), "store purchase")
	})
}

// Purchase returns one purchase.
func (s *saleStore) Purchase(ctx context.Context, id int64) (sale.Purchase, error) {
	return sqlrow.ScanSalePurchase(s.read.QueryRowContext(ctx, `SELECT `+saleCols+` FROM sale_purchases WHERE id = ?`, id))
}

// Purchases lists purchases f selects, newest first.
func (s *saleStore) Purchases(ctx context.Context, f sale.Filter) ([]sale.Purchase, error) {
	f = f.Bounded()
	return list(ctx, s.read, "list purchases", sqlrow.ScanSalePurchase, `SELECT `+saleCols+` FROM sale_purchases
		WHERE (? = 0 OR buyer = ?) AND (? = 0 OR offer_id = ?) AND (? = '' OR status = ?) AND (? = 0 OR id < ?) ORDER BY id DESC LIMIT ?`,
		f.Buyer, f.Buyer, f.OfferID, f.OfferID, string(f.Status), string(f.Status), f.BeforeID, f.BeforeID, f.Limit)
}

// UpdatePurchase stores p at its version with its entries.
func (s *saleStore) UpdatePurchase(ctx context.Context, p sale.Purchase, entries ...ledger.Entry) error {
	body, err := sqlrow.SaleBody(p)
	if err != nil {
		return err
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		err := versioned(ctx, tx, "sale_purchases", p.ID, sale.ErrNotFound,
			`UPDATE sale_purchases SET status = ?, issued = ?, returned_fen = ?, expires_at = ?, version = ?, body = ? WHERE id = ? AND version = ?`,
			string(p.Status), p.Issued, p.ReturnedFen, sqlrow.At(p.ExpiresAt), p.Version, body, p.ID, p.Version-1)
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
	return list(ctx, s.read, "list due purchases", sqlrow.ScanSalePurchase,
		`SELECT `+saleCols+` FROM sale_purchases WHERE status = 'pending' AND expires_at <= ? ORDER BY expires_at, id LIMIT ?`, sqlrow.At(now), max(limit, 1))
}

// Unissued lists paid purchases not fully issued, oldest first.
func (s *saleStore) Unissued(ctx context.Context, limit int) ([]sale.Purchase, error) {
	return list(ctx, s.read, "list unissued purchases", sqlrow.ScanSalePurchase,
		`SELECT `+saleCols+` FROM sale_purchases WHERE status = 'paid' AND NOT issued ORDER BY id LIMIT ?`, max(limit, 1))
}

// PurchaseOfTicket returns the purchase a ticket's issue key names.
func (s *saleStore) PurchaseOfTicket(ctx context.Context, ticketID int64) (sale.Purchase, error) {
	return purchaseOfTicket(ctx, s.read, ticketID)
}

func purchaseOfTicket(ctx context.Context, q rowReader, ticketID int64) (sale.Purchase, error) {
	var key sql.NullString
	err := q.QueryRowContext(ctx, `SELECT issue_key FROM benefit_tickets WHERE id = ?`, ticketID).Scan(&key)
	if errors.Is(err, sql.ErrNoRows) {
		return sale.Purchase{}, sale.ErrNotBought
	} else if err != nil {
		return sale.Purchase{}, fault.Wrap(err, "read ticket key")
	}
	id, ok := sale.PurchaseOfKey(key.String)
	if !ok {
		return sale.Purchase{}, sale.ErrNotBought
	}
	p, err := sqlrow.ScanSalePurchase(q.QueryRowContext(ctx, `SELECT `+saleCols+` FROM sale_purchases WHERE id = ?`, id))
	return p, sqlrow.NoRowsAs(err, sale.ErrNotBought)
}

// RefundTicket revokes a bought ticket, stores its refund and posts its
// entry on the writer, which no ride can pass meanwhile.
func (s *saleStore) RefundTicket(ctx context.Context, ticketID int64, decide func(sale.Purchase, benefits.Ticket) (sale.Refund, ledger.Entry, error)) (sale.Refund, error) {
	var r sale.Refund
	err := s.tx(ctx, func(tx *sql.Tx) error {
		t, err := sqlrow.ScanTicket(tx.QueryRowContext(ctx, `SELECT `+ticketCols+` FROM benefit_tickets WHERE id = ?`, ticketID))
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
		res, err := tx.ExecContext(ctx, `UPDATE benefit_tickets SET state = ? WHERE id = ? AND state = ?`, benefits.Revoked, ticketID, benefits.Held)
		if err != nil {
			return fault.Wrap(err, "revoke ticket")
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return sale.ErrStale
		}
		body, err := sqlrow.SaleBody(r)
		if err != nil {
			return err
		}
		err = tx.QueryRowContext(ctx, `INSERT INTO sale_refunds (ticket_id, purchase_id, buyer, status, version, body) VALUES (?, ?, ?, ?, ?, ?)
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
	return sqlrow.ScanSaleRefund(s.read.QueryRowContext(ctx, `SELECT `+saleCols+` FROM sale_refunds WHERE ticket_id = ?`, ticketID))
}

// UpdateRefund stores r at its version with its entries.
func (s *saleStore) UpdateRefund(ctx context.Context, r sale.Refund, entries ...ledger.Entry) error {
	body, err := sqlrow.SaleBody(r)
	if err != nil {
		return err
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		err := versioned(ctx, tx, "sale_refunds", r.ID, sale.ErrRefundNotFound,
			`UPDATE sale_refunds SET status = ?, version = ?, body = ? WHERE id = ? AND version = ?`, string(r.Status), r.Version, body, r.ID, r.Version-1)
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
	return list(ctx, s.read, "list pending refunds", sqlrow.ScanSaleRefund,
		`SELECT `+saleCols+` FROM sale_refunds WHERE status = 'pending' ORDER BY id LIMIT ?`, max(limit, 1))
}
