package postgres

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"piao/internal/fault"
	"piao/internal/invoice"
	"piao/internal/purchase"
	"piao/internal/store/sqlrow"
	"piao/internal/tenant"
)

// Invoices returns the store of invoices.
func (db *DB) Invoices() invoice.Store { return &invoiceStore{db} }

// invoiceStore implements invoice.Store on PostgreSQL. A merchant's scope
// sees the invoices made out to it (merchant_id), the operator's every
// one. The year's serial row is locked by its upsert until the invoice
// commits, so two invoices never take one serial, and one that fails
// rolls its serial back.
type invoiceStore struct{ *DB }

var _ invoice.Store = (*invoiceStore)(nil)

// CreateInvoice takes the next serial of the invoice's year and stores it.
func (s *invoiceStore) CreateInvoice(ctx context.Context, scope tenant.Scope, inv *invoice.Invoice) error {
	if m := inv.Merchant(); (m > 0 && !scope.Sees(m)) || (m == 0 && !scope.IsAll()) {
		return invoice.ErrNotFound
	}
	year := invoice.Year(inv.IssuedAt)
	return s.tx(ctx, func(tx pgx.Tx) error {
		if inv.Kind == invoice.Red {
			// The blue invoice's row lock (before the serial's, always in
			// that order) serialises its reds: the sum below, read after
			// the lock, sees every red committed before.
			var one int
			err := tx.QueryRow(ctx, `SELECT 1 FROM invoices WHERE kind = 'blue' AND ref = $1 FOR UPDATE`, inv.ReversesRef).Scan(&one)
			if errors.Is(err, pgx.ErrNoRows) {
				return invoice.ErrOriginalMissing
			}
			if err != nil {
				return fault.Wrap(err, "lock the reversed invoice")
			}
			if err := sqlrow.CheckReversal(tx.QueryRow(ctx, pgq(sqlrow.ReversedQuery), inv.ReversesRef, inv.Ref, inv.ReversesRef), inv.TotalFen); err != nil {
				return err
			}
		}
		var serial int64
		if err := tx.QueryRow(ctx, `INSERT INTO invoice_serials (year, last) VALUES ($1, 1)
			ON CONFLICT (year) DO UPDATE SET last = invoice_serials.last + 1 RETURNING last`, year).Scan(&serial); err != nil {
			return fault.Wrap(err, "take invoice serial")
		}
		next := *inv
		next.Number = invoice.Number(year, serial)
		args, err := sqlrow.InvoiceArgs(next)
		if err != nil {
			return err
		}
		err = tx.QueryRow(ctx, `INSERT INTO invoices (`+sqlrow.InvoiceInsert+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) RETURNING id`, args...).Scan(&next.ID)
		if v, _ := violation(err); v == sqlrow.Unique {
			return invoice.ErrExists // rolled back: the serial is not taken
		}
		if err != nil {
			return fault.Wrap(err, "store invoice")
		}
		*inv = next
		return nil
	})
}

// Invoice returns an invoice the scope sees.
func (s *invoiceStore) Invoice(ctx context.Context, scope tenant.Scope, id int64) (invoice.Invoice, error) {
	all, m := sqlrow.ScopeArgs(scope)
	return sqlrow.ScanInvoice(s.pool.QueryRow(ctx, `SELECT `+sqlrow.InvoiceColumns+` FROM invoices WHERE id = $1 AND ($2 OR merchant_id = $3)`, id, all, m))
}

// InvoiceByRef returns the invoice of a kind issued for a business event.
func (s *invoiceStore) InvoiceByRef(ctx context.Context, scope tenant.Scope, kind invoice.Kind, ref string) (invoice.Invoice, error) {
	all, m := sqlrow.ScopeArgs(scope)
	return sqlrow.ScanInvoice(s.pool.QueryRow(ctx, `SELECT `+sqlrow.InvoiceColumns+` FROM invoices WHERE kind = $1 AND ref = $2 AND ($3 OR merchant_id = $4)`, string(kind), ref, all, m))
}

// Invoices lists the invoices the scope sees, newest first.
func (s *invoiceStore) Invoices(ctx context.Context, scope tenant.Scope, f invoice.Filter) ([]invoice.Invoice, error) {
	all, m := sqlrow.ScopeArgs(scope)
	return s.invoices(ctx, `($1 OR merchant_id = $2)`, []any{all, m}, f)
}

// AccountInvoice returns an invoice issued to a passenger account.
func (s *invoiceStore) AccountInvoice(ctx context.Context, account, id int64) (invoice.Invoice, error) {
	return sqlrow.ScanInvoice(s.pool.QueryRow(ctx, `SELECT `+sqlrow.InvoiceColumns+` FROM invoices WHERE id = $1 AND account_id = $2`, id, account))
}

// AccountInvoices lists a passenger account's invoices, newest first.
func (s *invoiceStore) AccountInvoices(ctx context.Context, account int64, f invoice.Filter) ([]invoice.Invoice, error) {
	return s.invoices(ctx, `account_id = $1`, []any{account}, f)
}

func (s *invoiceStore) invoices(ctx context.Context, who string, args []any, f invoice.Filter) ([]invoice.Invoice, error) {
	f = f.Bounded()
	arg := func(v any) string { args = append(args, v); return "$" + strconv.Itoa(len(args)) }
	q := `SELECT ` + sqlrow.InvoiceColumns + ` FROM invoices WHERE ` + who
	if f.Kind != "" {
		q += ` AND kind = ` + arg(string(f.Kind))
	}
	if f.Owner != "" {
		q += ` AND buyer = ` + arg(f.Owner)
	}
	if f.Ref != "" {
		ref := arg(f.Ref)
		q += ` AND (ref = ` + ref + ` OR reverses_ref = ` + ref + `)`
	}
	if f.BeforeID > 0 {
		q += ` AND id < ` + arg(f.BeforeID)
	}
	q += ` ORDER BY id DESC LIMIT ` + arg(f.Limit)
	return list(ctx, s.pool, "list invoices", sqlrow.ScanInvoice, q, args...)
}

// UninvoicedPurchases lists the scope's paid purchases without their blue invoice.
func (s *invoiceStore) UninvoicedPurchases(ctx context.Context, scope tenant.Scope, limit int) ([]purchase.Purchase, error) {
	all, m := sqlrow.ScopeArgs(scope)
	return list(ctx, s.pool, "list uninvoiced purchases", sqlrow.ScanPurchase,
		`SELECT `+sqlrow.PurchaseColumns+` FROM purchases WHERE `+sqlrow.UninvoicedPurchasesWhere+` AND ($1 OR merchant_id = $2) ORDER BY id LIMIT $3`, all, m, max(limit, 1))
}

// UninvoicedRefunds lists the scope's finished refunds not marked invoiced.
func (s *invoiceStore) UninvoicedRefunds(ctx context.Context, scope tenant.Scope, limit int) ([]purchase.Refund, error) {
	all, m := sqlrow.ScopeArgs(scope)
	return list(ctx, s.pool, "list uninvoiced refunds", sqlrow.ScanPurchaseRefund,
		`SELECT `+sqlrow.PurchaseRefundColumns+` FROM purchase_refunds WHERE `+sqlrow.UninvoicedRefundsWhere+` AND ($1 OR merchant_id = $2) ORDER BY id LIMIT $3`, all, m, max(limit, 1))
}

// MarkInvoiced records that a source's invoices were all issued.
func (s *invoiceStore) MarkInvoiced(ctx context.Context, source string, at time.Time) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO invoice_sources (source, done_at) VALUES ($1, $2) ON CONFLICT (source) DO NOTHING`, source, sqlrow.At(at))
	return fault.Wrap(err, "mark invoiced")
}
