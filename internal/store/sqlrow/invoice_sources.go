package sqlrow

import (
	"piao/internal/fault"
	"piao/internal/invoice"
)

// The sweep's reads of what still lacks its invoice (internal/invoice
// Sweep), the same text on both engines with ? placeholders (PostgreSQL
// numbers them). Each source's invoice is found by its unique (kind, ref),
// so the NOT EXISTS is an index probe per row.

// UninvoicedSalesQuery lists paid passenger purchases without their blue
// invoice ('sale:' || id), oldest first; its parameter is the limit.
const UninvoicedSalesQuery = `SELECT ` + SaleColumns + ` FROM sale_purchases WHERE status = 'paid'
	AND NOT EXISTS (SELECT 1 FROM invoices i WHERE i.kind = 'blue' AND i.ref = 'sale:' || sale_purchases.id)
	ORDER BY id LIMIT ?`

// UninvoicedSaleRefundsQuery lists finished ticket refunds without their
// red invoice ('sale_refund:' || id) and not marked invoiced (a refund of
// nothing is marked instead), oldest first; its parameter is the limit.
const UninvoicedSaleRefundsQuery = `SELECT ` + SaleColumns + ` FROM sale_refunds WHERE status = 'done'
	AND NOT EXISTS (SELECT 1 FROM invoices i WHERE i.kind = 'red' AND i.ref = 'sale_refund:' || sale_refunds.id)
	AND NOT EXISTS (SELECT 1 FROM invoice_sources s WHERE s.source = 'sale_refund:' || sale_refunds.id)
	ORDER BY id LIMIT ?`

// UninvoicedTopUpsQuery lists paid employer top-ups without their blue
// invoice ('topup:' || id), oldest first; its parameter is the limit.
const UninvoicedTopUpsQuery = `SELECT ` + TopUpColumns + ` FROM employer_topups WHERE status = 'paid'
	AND NOT EXISTS (SELECT 1 FROM invoices i WHERE i.kind = 'blue' AND i.ref = 'topup:' || employer_topups.id)
	ORDER BY id LIMIT ?`

// UninvoicedBillsQuery lists employer bills of a positive amount without
// their blue invoice ('bill:' || id), oldest first; its parameter is the
// limit.
const UninvoicedBillsQuery = `SELECT ` + BillColumns + ` FROM employer_bills WHERE amount_fen > 0
	AND NOT EXISTS (SELECT 1 FROM invoices i WHERE i.kind = 'blue' AND i.ref = 'bill:' || employer_bills.id)
	ORDER BY id LIMIT ?`

// AccountNameQuery is the name a passenger's invoices are made out to: the
// name of the account's latest verified document claim (its real-name
// record), else its username; its parameter is the account.
const AccountNameQuery = `SELECT COALESCE((SELECT c.name FROM document_claims c WHERE c.account_id = a.id AND c.status = 'verified' AND c.name <> ''
	ORDER BY c.id DESC LIMIT 1), a.username) FROM accounts a WHERE a.id = ?`

// ReversedQuery locks nothing by itself (PostgreSQL locks the blue row
// first): for a red invoice's ref (first parameter) and the blue
// invoice's ref it reverses (second and third), it is the blue invoice's
// total, what its reds already reverse (a positive number), and whether
// a red of that ref is already stored (1 or 0).
const ReversedQuery = `SELECT b.total_fen,
	COALESCE((SELECT -SUM(r.total_fen) FROM invoices r WHERE r.kind = 'red' AND r.reverses_ref = ?), 0),
	(SELECT COUNT(*) FROM invoices x WHERE x.kind = 'red' AND x.ref = ?)
	FROM invoices b WHERE b.kind = 'blue' AND b.ref = ?`

// CheckReversal reads ReversedQuery's row and refuses a red invoice of
// redTotal (negative) that would take its blue invoice's reds beyond the
// blue total: ErrOverReversal, or ErrOriginalMissing without the blue one,
// or ErrExists if its ref is taken (so a second caller of one refund
// finds it issued rather than over the bound).
func CheckReversal(r Row, redTotal int64) error {
	var blue, reversed, taken int64
	if err := r.Scan(&blue, &reversed, &taken); err != nil {
		return NoRowsAs(fault.Wrap(err, "read the reversed invoice"), invoice.ErrOriginalMissing)
	}
	switch {
	case taken > 0:
		return invoice.ErrExists
	case reversed-redTotal > blue:
		return invoice.ErrOverReversal
	}
	return nil
}
