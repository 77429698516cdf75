package sqlite

import (
	"context"
	"database/sql"
	"time"

	"piao/internal/fault"
	"piao/internal/invoice"
	"piao/internal/purchase"
	"piao/internal/store/sqlrow"
	"piao/internal/tenant"
)

// Invoices returns the store of invoices.
func (db *DB) Invoices() invoice.Store { return &invoiceStore{db} }

// invoiceStore implements invoice.Store on SQLite. A merchant's scope sees
// the invoices made out to it (merchant_id), the operator's every one; the
// single writer serialises the serials.
type invoiceStore struct{ *DB }

var _ invoice.Store = (*invoiceStore)(nil)

// invoiceScoped keeps a query to the invoices the scope sees.
const invoiceScoped = ` AND (? OR merchant_id = ?)`

// CreateInvoice takes the next serial of the invoice's year and stores it.
func (s *invoiceStore) CreateInvoice(ctx context.Context, scope tenant.Scope, inv *invoice.Invoice) error {
	if m := inv.Merchant(); (m > 0 && !scope.Sees(m)) || (m == 0 && !scope.IsAll()) {
		return invoice.ErrNotFound
	}
	year := invoice.Year(inv.IssuedAt)
	return s.tx(ctx, func(tx *sql.Tx) error {
		if inv.Kind == invoice.Red {
			// The single writer serialises the reds of one blue invoice.
			if err := sqlrow.CheckReversal(tx.QueryRowContext(ctx, sqlrow.ReversedQuery, inv.ReversesRef, inv.Ref, inv.ReversesRef), inv.TotalFen); err != nil {
				return err
			}
		}
		var serial int64
		if err := tx.QueryRowContext(ctx, `INSERT INTO invoice_serials (year, last) VALUES (?, 1)
			ON CONFLICT (year) DO UPDATE SET last = invoice_serials.last + 1 RETURNING last`, year).Scan(&serial); err != nil {
			return fault.Wrap(err, "take invoice serial")
		}
		next := *inv
		next.Number = invoice.Number(year, serial)
		args, err := sqlrow.InvoiceArgs(next)
		if err != nil {
			return err
		}
		err = tx.QueryRowContext(ctx, `INSERT INTO invoices (`+sqlrow.InvoiceInsert+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, args...).Scan(&next.ID)
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
	return sqlrow.ScanInvoice(s.read.QueryRowContext(ctx, `SELECT `+sqlrow.InvoiceColumns+` FROM invoices WHERE id = ?`+invoiceScoped, id, all, m))
}

// InvoiceByRef returns the invoice of a kind issued for a business event.
func (s *invoiceStore) InvoiceByRef(ctx context.Context, scope tenant.Scope, kind invoice.Kind, ref string) (invoice.Invoice, error) {
	all, m := sqlrow.ScopeArgs(scope)
	return sqlrow.ScanInvoice(s.read.QueryRowContext(ctx, `SELECT `+sqlrow.InvoiceColumns+` FROM invoices WHERE kind = ? AND ref = ?`+invoiceScoped, string(kind), ref, all, m))
}

// Invoices lists the invoices the scope sees, newest first.
func (s *invoiceStore) Invoices(ctx context.Context, scope tenant.Scope, f invoice.Filter) ([]invoice.Invoice, error) {
	all, m := sqlrow.ScopeArgs(scope)
	return s.invoices(ctx, `(? OR merchant_id = ?)`, []any{all, m}, f)
}

// AccountInvoice returns an invoice issued to a passenger account.
func (s *invoiceStore) AccountInvoice(ctx context.Context, account, id int64) (invoice.Invoice, error) {
	return sqlrow.ScanInvoice(s.read.QueryRowContext(ctx, `SELECT `+sqlrow.InvoiceColumns+` FROM invoices WHERE id = ? AND account_id = ?`, id, account))
}

// AccountInvoices lists a passenger account's invoices, newest first.
func (s *invoiceStore) AccountInvoices(ctx context.Context, account int64, f invoice.Filter) ([]invoice.Invoice, error) {
	return s.invoices(ctx, `account_id = ?`, []any{account}, f)
}

func (s *invoiceStore) invoices(ctx context.Context, who string, args []any, f invoice.Filter) ([]invoice.Invoice, error) {
	f = f.Bounded()
	q := `SELECT ` + sqlrow.InvoiceColumns + ` FROM invoices WHERE ` + who
	if f.Kind != "" {
		q += ` AND kind = ?`
		args = append(args, string(f.Kind))
	}
	if f.Owner != "" {
		q += ` AND buyer = ?`
		args = append(args, f.Owner)
	}
	if f.Ref != "" {
		q += ` AND (ref = ? OR reverses_ref = ?)`
		args = append(args, f.Ref, f.Ref)
	}
	if f.BeforeID > 0 {
		q += ` AND id < ?`
		args = append(args, f.BeforeID)
	}
	q += ` ORDER BY id DESC LIMIT ?`
	args = append(args, f.Limit)
	return list(ctx, s.read, "list invoices", sqlrow.ScanInvoice, q, args...)
}

// UninvoicedPurchases lists the scope's paid purchases without their blue invoice.
func (s *invoiceStore) UninvoicedPurchases(ctx context.Context, scope tenant.Scope, limit int) ([]purchase.Purchase, error) {
	all, m := sqlrow.ScopeArgs(scope)
	return list(ctx, s.read, "list uninvoiced purchases", sqlrow.ScanPurchase,
		`SELECT `+sqlrow.PurchaseColumns+` FROM purchases WHERE `+sqlrow.UninvoicedPurchasesWhere+scoped+` ORDER BY id LIMIT ?`, all, m, max(limit, 1))
}

// UninvoicedRefunds lists the scope's finished refunds not marked invoiced.
func (s *invoiceStore) UninvoicedRefunds(ctx context.Context, scope tenant.Scope, limit int) ([]purchase.Refund, error) {
	all, m := sqlrow.ScopeArgs(scope)
	return list(ctx, s.read, "list uninvoiced refunds", sqlrow.ScanPurchaseRefund,
		`SELECT `+sqlrow.PurchaseRefundColumns+` FROM purchase_refunds WHERE `+sqlrow.UninvoicedRefundsWhere+scoped+` ORDER BY id LIMIT ?`, all, m, max(limit, 1))
}

// MarkInvoiced records that a source's invoices were all issued.
func (s *invoiceStore) MarkInvoiced(ctx context.Context, source string, at time.Time) error {
	_, err := s.execCount(ctx, "mark invoiced", `INSERT INTO invoice_sources (source, done_at) VALUES (?, ?) ON CONFLICT (source) DO NOTHING`, source, sqlrow.At(at))
	return err
}
