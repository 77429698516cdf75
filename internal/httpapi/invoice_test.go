package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"piao/internal/identity"
	"piao/internal/invoice"
)

// fixtureInvoice is an invoice of f's merchant, issued once.
func fixtureInvoice(t *testing.T, f *merchantFixture) int64 { return f.Invoice(t) }

// The invoice routes' parameter in the tenancy matrix: an invoice of the
// fixture's merchant.
func init() {
	inv := func(t *testing.T, f *merchantFixture) string { return id(fixtureInvoice(t, f)) }
	tenancyParams[tenancyParam{"/api/v1/merchant/invoices/{id}", "id"}] = inv
	tenancyParams[tenancyParam{"/api/v1/merchant/invoices/{id}/pdf", "id"}] = inv
	tenancyBlind["/api/v1/merchant/invoices/{id}/pdf"] = "a compressed PDF of the invoice whose JSON route is checked"
}

// TestInvoiceDownloads: a merchant lists and downloads its own invoices
// (JSON and PDF) and not another's; the operator sees every one; a
// passenger sees only its own.
func TestInvoiceDownloads(t *testing.T) {
	s := newTestServer(t)
	ctx := context.Background()
	f1 := newMerchantFixture(t, s.app, 1, purchaseTemplate(t, s.app))
	mine := fixtureInvoice(t, f1)
	other, err := s.app.Invoices.Issue(ctx, invoice.Request{Kind: invoice.Blue, Ref: "fixture:other", Buyer: invoice.Party{Owner: "merchant:999", Name: "别家公司", TaxNumber: invoice.DefaultSeller().TaxNumber},
		Items: []invoice.Item{{Name: "x", Quantity: 1, UnitPriceFen: 100, AmountFen: 100}}})
	if err != nil {
		t.Fatal(err)
	}
	passenger := s.token(t, identity.Passenger)
	var me struct {
		ID int64 `json:"id"`
	}
	json.Unmarshal(s.do(t, "GET", "/api/v1/me", passenger, nil).body, &me)
	own, err := s.app.Invoices.Issue(ctx, invoice.Request{Kind: invoice.Blue, Ref: "fixture:passenger", Buyer: invoice.Party{Owner: invoice.AccountOwner(me.ID), Name: "张三"},
		Items: []invoice.Item{{Name: "十次票", Quantity: 1, UnitPriceFen: 3000, AmountFen: 3000}}})
	if err != nil {
		t.Fatal(err)
	}

	merchant := s.token(t, identity.MerchantAdmin)
	res := s.do(t, "GET", "/api/v1/merchant/invoices", merchant, nil)
	var list struct {
		Invoices []invoice.Invoice `json:"invoices"`
	}
	if json.Unmarshal(res.body, &list); res.status != 200 || len(list.Invoices) != 1 || list.Invoices[0].ID != mine {
		t.Fatalf("merchant's list: %d %s", res.status, res.body)
	}
	if res := s.do(t, "GET", fmt.Sprintf("/api/v1/merchant/invoices/%d", mine), merchant, nil); res.status != 200 || !strings.Contains(string(res.body), "PIAO") {
		t.Fatalf("merchant's invoice: %d %s", res.status, res.body)
	}
	res = s.do(t, "GET", fmt.Sprintf("/api/v1/merchant/invoices/%d/pdf", mine), merchant, nil)
	if res.status != 200 || res.header.Get("Content-Type") != "application/pdf" || !bytes.HasPrefix(res.body, []byte("%PDF-")) ||
		!strings.Contains(res.header.Get("Content-Disposition"), list.Invoices[0].Number+".pdf") {
		t.Fatalf("merchant's PDF: %d %v %.40q", res.status, res.header, res.body)
	}
	for _, path := range []string{"/api/v1/merchant/invoices/%d", "/api/v1/merchant/invoices/%d/pdf"} {
		if res := s.do(t, "GET", fmt.Sprintf(path, other.ID), merchant, nil); res.status != 404 {
			t.Fatalf("another merchant's invoice %s: %d %s", path, res.status, res.body)
		}
		if res := s.do(t, "GET", fmt.Sprintf(path, own.ID), merchant, nil); res.status != 404 {
			t.Fatalf("a passenger's invoice as a merchant %s: %d", path, res.status)
		}
	}

	admin := s.token(t, identity.OperatorAdmin)
	if res := s.do(t, "GET", "/api/v1/invoices", admin, nil); res.status != 200 || json.Unmarshal(res.body, &list) != nil || len(list.Invoices) != 3 {
		t.Fatalf("operator's list: %d %s", res.status, res.body)
	}
	if res := s.do(t, "GET", "/api/v1/invoices?buyer=merchant:999", admin, nil); json.Unmarshal(res.body, &list) != nil || len(list.Invoices) != 1 || list.Invoices[0].ID != other.ID {
		t.Fatalf("operator's list by buyer: %d %s", res.status, res.body)
	}
	if res := s.do(t, "GET", "/api/v1/invoices?ref=fixture:other&limit=5", admin, nil); json.Unmarshal(res.body, &list) != nil || len(list.Invoices) != 1 || list.Invoices[0].ID != other.ID {
		t.Fatalf("operator's list by business event: %d %s", res.status, res.body)
	}
	if res := s.do(t, "GET", "/api/v1/invoices?kind=red", admin, nil); json.Unmarshal(res.body, &list) != nil || len(list.Invoices) != 0 {
		t.Fatalf("operator's red invoices: %d %s", res.status, res.body)
	}
	if res := s.do(t, "GET", "/api/v1/merchant/invoices?ref=fixture:other", merchant, nil); json.Unmarshal(res.body, &list) != nil || len(list.Invoices) != 0 {
		t.Fatalf("a merchant lists another's invoices by business event: %d %s", res.status, res.body)
	}
	if res := s.do(t, "GET", fmt.Sprintf("/api/v1/invoices/%d/pdf", other.ID), admin, nil); res.status != 200 || !bytes.HasPrefix(res.body, []byte("%PDF-")) {
		t.Fatalf("operator's PDF: %d", res.status)
	}
	if res := s.do(t, "GET", "/api/v1/invoices", merchant, nil); res.status != 403 {
		t.Fatalf("a merchant lists every invoice: %d", res.status)
	}

	if res := s.do(t, "GET", "/api/v1/me/invoices", passenger, nil); json.Unmarshal(res.body, &list) != nil || len(list.Invoices) != 1 || list.Invoices[0].ID != own.ID {
		t.Fatalf("passenger's list: %d %s", res.status, res.body)
	}
	if res := s.do(t, "GET", fmt.Sprintf("/api/v1/me/invoices/%d/pdf", own.ID), passenger, nil); res.status != 200 || !bytes.HasPrefix(res.body, []byte("%PDF-")) {
		t.Fatalf("passenger's PDF: %d", res.status)
	}
	if res := s.do(t, "GET", fmt.Sprintf("/api/v1/me/invoices/%d/pdf", mine), passenger, nil); res.status != 404 {
		t.Fatalf("a passenger downloads a merchant's invoice: %d", res.status)
	}
}

// invoiceTimePaths issues an invoice to the demo merchant (merchant 1) and
// one to the passenger account, and names the invoice routes' paths for
// the business-time test.
func invoiceTimePaths(t *testing.T, s *testServer, passenger int64) map[string]string {
	t.Helper()
	ctx := context.Background()
	m, err := s.app.Invoices.Issue(ctx, invoice.Request{Kind: invoice.Blue, Ref: "tz:merchant", Buyer: invoice.Party{Owner: "merchant:1", Name: "宁波天汇广场", TaxNumber: invoice.DefaultSeller().TaxNumber},
		Items: []invoice.Item{{Name: "预付乘车票", Quantity: 1, UnitPriceFen: 400, AmountFen: 400}}})
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.app.Invoices.Issue(ctx, invoice.Request{Kind: invoice.Blue, Ref: "tz:passenger", Buyer: invoice.Party{Owner: invoice.AccountOwner(passenger), Name: "张三"},
		Items: []invoice.Item{{Name: "十次票", Quantity: 1, UnitPriceFen: 3000, AmountFen: 3000}}})
	if err != nil {
		t.Fatal(err)
	}
	return map[string]string{
		"/api/v1/merchant/invoices/{id}":     fmt.Sprintf("/api/v1/merchant/invoices/%d", m.ID),
		"/api/v1/merchant/invoices/{id}/pdf": fmt.Sprintf("/api/v1/merchant/invoices/%d/pdf", m.ID),
		"/api/v1/invoices/{id}":              fmt.Sprintf("/api/v1/invoices/%d", m.ID),
		"/api/v1/invoices/{id}/pdf":          fmt.Sprintf("/api/v1/invoices/%d/pdf", m.ID),
		"/api/v1/me/invoices/{id}":           fmt.Sprintf("/api/v1/me/invoices/%d", p.ID),
		"/api/v1/me/invoices/{id}/pdf":       fmt.Sprintf("/api/v1/me/invoices/%d/pdf", p.ID),
	}
}
