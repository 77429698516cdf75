package app

import (
	"context"
	"time"

	"piao/internal/benefits"
	"piao/internal/invoice"
	"piao/internal/merchant"
	"piao/internal/tenant"
)

// invoiceSweep is how often what lacks its invoice is invoiced: merchants'
// paid purchases and finished campaign refunds, passengers' paid purchases
// and ticket refunds, employers' paid top-ups and monthly bills.
const invoiceSweep = time.Minute

// liveCampaigns reads campaigns from the app's benefits service of the
// moment (UseRideCodes may replace it after Open).
type liveCampaigns struct{ a *App }

func (c liveCampaigns) Campaign(ctx context.Context, scope tenant.Scope, id int64) (benefits.Campaign, error) {
	return c.a.Benefits.Campaign(ctx, scope, id)
}

// newInvoices builds the invoice service with the seller and tax rate
// (zero: invoice.DefaultSeller, invoice.DefaultTaxRateBP).
func (a *App) newInvoices(seller invoice.Party, rate string) error {
	bp := int64(invoice.DefaultTaxRateBP)
	if rate != "" {
		var err error
		if bp, err = invoice.ParseRate(rate); err != nil {
			return err
		}
	}
	if seller.Name != "" {
		// A configured seller needs a valid tax number: invoices print it.
		code, err := merchant.CheckCreditCode(seller.TaxNumber)
		if err != nil {
			return err
		}
		seller.TaxNumber = code
	}
	a.Invoices = invoice.New(a.InvoiceStore, invoice.Config{Now: a.Now, Seller: seller, TaxRateBP: bp, Audit: a.Audit,
		Merchants: a.Merchants, Campaigns: liveCampaigns{a}})
	return nil
}

// startInvoices applies the runtime's invoice settings and runs the sweep
// (invoice.Service.Sweep) that issues every invoice still missing.
func (a *App) startInvoices(ctx context.Context, rt Runtime) error {
	if rt.InvoiceSeller.Name != "" || rt.InvoiceTaxRate != "" {
		if err := a.newInvoices(rt.InvoiceSeller, rt.InvoiceTaxRate); err != nil {
			return err
		}
	}
	go a.Invoices.Run(ctx, invoiceSweep)
	return nil
}
