package console_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"piao/internal/identity"
	"piao/internal/invoice"
)

// TestInvoicePages: the merchant's page lists its own invoices with their
// PDFs and not another merchant's; the operator's lists every one.
func TestInvoicePages(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	issue := func(owner, name, ref string) invoice.Invoice {
		inv, err := e.app.Invoices.Issue(ctx, invoice.Request{Kind: invoice.Blue, Ref: ref, Buyer: invoice.Party{Owner: owner, Name: name, TaxNumber: invoice.DefaultSeller().TaxNumber},
			Items: []invoice.Item{{Name: "预付乘车票", Quantity: 3, UnitPriceFen: 400, AmountFen: 1200}}})
		if err != nil {
			t.Fatal(err)
		}
		return inv
	}
	mine := issue("merchant:1", "宁波天汇广场", "purchase:901")
	red, err := e.app.Invoices.Issue(ctx, invoice.Request{Kind: invoice.Red, Ref: "refund:mpr-1-901", Reverses: "purchase:901",
		Items: []invoice.Item{{Name: "退还未用预付金额", Quantity: 1, UnitPriceFen: 500, AmountFen: 500}}})
	if err != nil {
		t.Fatal(err)
	}
	theirs := issue("merchant:2", "宁波甬江银行", "purchase:902")
	another := issue("merchant:1", "宁波天汇广场", "purchase:903")

	cl := e.as(t, identity.MerchantAdmin)
	resp, body := cl.get("/merchant/invoices")
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, mine.Number, red.Number, "¥12.00", "-¥5.00", "红字", fmt.Sprintf(`href="/merchant/invoices/%d/pdf"`, mine.ID))
	if strings.Contains(body, theirs.Number) {
		t.Error("the merchant's page lists merchant 2's invoice")
	}
	// One business event's invoices: the purchase's and its refund's.
	resp, body = cl.get("/merchant/invoices?ref=purchase:901")
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, mine.Number, red.Number, `id="invoice-ref"`)
	if strings.Contains(body, another.Number) {
		t.Error("the page of purchase 901's invoices lists purchase 903's")
	}
	resp, body = cl.get(fmt.Sprintf("/merchant/invoices/%d/pdf", mine.ID))
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/pdf" || !strings.HasPrefix(body, "%PDF-") {
		t.Fatalf("the PDF: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if resp, _ := cl.get(fmt.Sprintf("/merchant/invoices/%d/pdf", theirs.ID)); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("merchant 2's PDF: %d", resp.StatusCode)
	}

	op := e.as(t, identity.OperatorAdmin)
	resp, body = op.get("/invoices")
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, mine.Number, theirs.Number, "宁波甬江银行", `href="/invoices" aria-current="page"`)
	resp, body = op.get("/invoices?kind=red")
	wantStatus(t, resp, body, http.StatusOK)
	if !strings.Contains(body, red.Number) || strings.Contains(body, theirs.Number) {
		t.Error("the red filter")
	}
	if resp, _ := op.get(fmt.Sprintf("/invoices/%d/pdf", theirs.ID)); resp.StatusCode != http.StatusOK {
		t.Fatalf("the operator's PDF: %d", resp.StatusCode)
	}
}

// TestStatsExportXLSX: the merchant dashboard's exports come as XLSX too.
func TestStatsExportXLSX(t *testing.T) {
	e := newEnv(t)
	prepaidCampaign(t, e, 1, "商场单程票", 150)
	cl := e.as(t, identity.MerchantAdmin)
	for _, path := range []string{"/merchant/export/campaigns.csv", "/merchant/export/days.csv"} {
		resp, body := cl.get(path + "?format=xlsx")
		if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Content-Type"), "spreadsheetml") || !strings.HasPrefix(body, "PK") {
			t.Fatalf("%s as XLSX: %d %s", path, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		resp, body = cl.get(path)
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(body, "\ufeff") {
			t.Fatalf("%s as CSV: %d", path, resp.StatusCode)
		}
	}
}
