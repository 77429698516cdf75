package postgres

import (
	"context"

	"piao/internal/employer"
	"piao/internal/fault"
	"piao/internal/invoice"
	"piao/internal/sale"
	"piao/internal/store/sqlrow"
)

// The invoice sweep's reads of passengers' purchases and ticket refunds
// and of employers' top-ups and bills still lacking their invoices.

// UninvoicedSales lists paid passenger purchases without their blue invoice.
func (s *invoiceStore) UninvoicedSales(ctx context.Context, limit int) ([]sale.Purchase, error) {
	return list(ctx, s.pool, "list uninvoiced passenger purchases", sqlrow.ScanSalePurchase, pgq(sqlrow.UninvoicedSalesQuery), max(limit, 1))
}

// UninvoicedSaleRefunds lists finished ticket refunds without their red invoice.
func (s *invoiceStore) UninvoicedSaleRefunds(ctx context.Context, limit int) ([]sale.Refund, error) {
	return list(ctx, s.pool, "list uninvoiced ticket refunds", sqlrow.ScanSaleRefund, pgq(sqlrow.UninvoicedSaleRefundsQuery), max(limit, 1))
}

// UninvoicedTopUps lists paid employer top-ups without their blue invoice.
func (s *invoiceStore) UninvoicedTopUps(ctx context.Context, limit int) ([]employer.TopUp, error) {
	return list(ctx, s.pool, "list uninvoiced top-ups", sqlrow.ScanTopUp, pgq(sqlrow.UninvoicedTopUpsQuery), max(limit, 1))
}

// UninvoicedBills lists employer bills of a positive amount without their blue invoice.
func (s *invoiceStore) UninvoicedBills(ctx context.Context, limit int) ([]employer.Bill, error) {
	return list(ctx, s.pool, "list uninvoiced bills", sqlrow.ScanBill, pgq(sqlrow.UninvoicedBillsQuery), max(limit, 1))
}

// AccountName is the name a passenger account's invoices are made out to.
func (s *invoiceStore) AccountName(ctx context.Context, account int64) (string, error) {
	var name string
	err := s.pool.QueryRow(ctx, pgq(sqlrow.AccountNameQuery), account).Scan(&name)
	return name, sqlrow.NoRowsAs(fault.Wrap(err, "read the buyer's name"), invoice.ErrNoBuyer)
}
