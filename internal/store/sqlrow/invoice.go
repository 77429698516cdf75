package sqlrow

import (
	"encoding/json"

	"piao/internal/fault"
	"piao/internal/invoice"
)

// InvoiceColumns are the columns of invoices that ScanInvoice reads.
const InvoiceColumns = `id, number, kind, ref, reverses, reverses_ref, buyer, buyer_name, buyer_tax, seller_name, seller_tax, items, total_fen, tax_rate_bp, tax_fen, issued_at`

// InvoiceInsert is the column list of an invoice's INSERT, whose values
// InvoiceArgs gives in order.
const InvoiceInsert = `number, kind, ref, reverses, reverses_ref, buyer, merchant_id, account_id, buyer_name, buyer_tax, seller_name, seller_tax, items, total_fen, tax_rate_bp, tax_fen, issued_at`

// InvoiceArgs are the values of InvoiceInsert for inv: merchant_id or
// account_id names the buyer (the other NULL).
func InvoiceArgs(inv invoice.Invoice) ([]any, error) {
	items, err := json.Marshal(inv.Items)
	if err != nil {
		return nil, fault.Wrap(err, "encode invoice items")
	}
	var merchant, account any
	if m := inv.Merchant(); m > 0 {
		merchant = m
	}
	if a := inv.Account(); a > 0 {
		account = a
	}
	return []any{inv.Number, string(inv.Kind), inv.Ref, inv.Reverses, inv.ReversesRef, inv.Buyer.Owner, merchant, account,
		inv.Buyer.Name, inv.Buyer.TaxNumber, inv.Seller.Name, inv.Seller.TaxNumber, string(items), inv.TotalFen, inv.TaxRateBP, inv.TaxFen, At(inv.IssuedAt)}, nil
}

// ScanInvoice reads InvoiceColumns; no row is invoice.ErrNotFound.
func ScanInvoice(r Row) (invoice.Invoice, error) {
	var inv invoice.Invoice
	var kind, items string
	var at Time
	if err := r.Scan(&inv.ID, &inv.Number, &kind, &inv.Ref, &inv.Reverses, &inv.ReversesRef, &inv.Buyer.Owner, &inv.Buyer.Name, &inv.Buyer.TaxNumber,
		&inv.Seller.Name, &inv.Seller.TaxNumber, &items, &inv.TotalFen, &inv.TaxRateBP, &inv.TaxFen, &at); err != nil {
		return inv, NoRowsAs(fault.Wrap(err, "read invoice"), invoice.ErrNotFound)
	}
	inv.Kind, inv.IssuedAt = invoice.Kind(kind), at.Time
	return inv, fault.Wrap(json.Unmarshal([]byte(items), &inv.Items), "decode invoice items")
}

// UninvoicedPurchasesWhere selects paid purchases without their blue
// invoice (same text on both engines).
const UninvoicedPurchasesWhere = `status = 'paid' AND NOT EXISTS (SELECT 1 FROM invoices i WHERE i.kind = 'blue' AND i.ref = 'purchase:' || purchases.id)`

// UninvoicedRefundsWhere selects finished campaign refunds not marked
// invoiced (same text on both engines).
const UninvoicedRefundsWhere = `status = 'refunded' AND NOT EXISTS (SELECT 1 FROM invoice_sources s WHERE s.source = 'campaign-refund:' || purchase_refunds.id)`
