package apptest

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"piao/internal/invoice"
	"piao/internal/tenant"
)

// fixtureInvoices are the invoices issued to fixtures, by fixture.
var fixtureInvoices sync.Map

// Invoice returns an invoice issued to f's merchant, whose buyer name and
// line carry its marker, issued on first use.
func (f *MerchantFixture) Invoice(tb testing.TB) int64 {
	tb.Helper()
	if id, ok := fixtureInvoices.Load(f); ok {
		return id.(int64)
	}
	inv, err := f.App.Invoices.Issue(context.Background(), invoice.Request{Kind: invoice.Blue, Ref: fmt.Sprintf("fixture:%d:%d", f.Merchant, f.Campaign.ID),
		Buyer: invoice.Party{Owner: tenant.OwnerOf(f.Merchant), Name: "商户 " + f.Marker, TaxNumber: invoice.DefaultSeller().TaxNumber},
		Items: []invoice.Item{{Name: "预付乘车票 " + f.Marker, Quantity: 2, UnitPriceFen: 400, AmountFen: 800}}})
	if err != nil {
		tb.Fatal(err)
	}
	fixtureInvoices.Store(f, inv.ID)
	return inv.ID
}
