package console_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"piao/internal/demo"
	"piao/internal/identity"
	"piao/internal/invoice"
)

// TestH5Invoices: a passenger's page lists its own invoices, blue and red,
// with their PDFs, in Chinese and English; another passenger's invoice is
// neither listed nor downloadable.
func TestH5Invoices(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	const pw = "a long enough password"
	var ids []int64
	for _, name := range []string{"inv-rider", "inv-other"} {
		a, err := e.app.Identity.CreateAccount(ctx, identity.NewAccount{Username: name, Role: identity.Passenger, Password: pw})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, a.ID)
	}
	issue := func(account int64, ref string, fen int64) invoice.Invoice {
		inv, err := e.app.Invoices.Issue(ctx, invoice.Request{Kind: invoice.Blue, Ref: ref, Buyer: invoice.Party{Owner: invoice.AccountOwner(account), Name: "王伟"},
			Items: []invoice.Item{{Name: "十次票 Ten rides", Quantity: 1, UnitPriceFen: fen, AmountFen: fen}}})
		if err != nil {
			t.Fatal(err)
		}
		return inv
	}
	mine := issue(ids[0], "sale:9001", 2000)
	red, err := e.app.Invoices.Issue(ctx, invoice.Request{Kind: invoice.Red, Ref: "sale_refund:9001", Reverses: "sale:9001",
		Items: []invoice.Item{{Name: "退票 Ticket refund", Quantity: 1, UnitPriceFen: 1800, AmountFen: 1800}}})
	if err != nil {
		t.Fatal(err)
	}
	theirs := issue(ids[1], "sale:9002", 1000)

	cl := e.client(t)
	cl.login(demo.Login{Username: "inv-rider", Password: pw})
	resp, body := cl.get("/h5/invoices")
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, "我的发票", mine.Number, red.Number, "¥20.00", "-¥18.00", "红字", "十次票 Ten rides",
		fmt.Sprintf(`href="/h5/invoices/%d/pdf"`, mine.ID), `href="/h5/invoices" aria-current="page"`)
	if strings.Contains(body, theirs.Number) {
		t.Error("the page lists another passenger's invoice")
	}
	resp, body = cl.get(fmt.Sprintf("/h5/invoices/%d/pdf", mine.ID))
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/pdf" || !strings.HasPrefix(body, "%PDF-") ||
		!strings.Contains(resp.Header.Get("Content-Disposition"), mine.Number+".pdf") {
		t.Fatalf("the PDF: %d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Content-Disposition"))
	}
	if resp, _ := cl.get(fmt.Sprintf("/h5/invoices/%d/pdf", theirs.ID)); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("another passenger's PDF: %d", resp.StatusCode)
	}
	req, _ := http.NewRequest("GET", cl.base+"/h5/invoices", nil)
	req.AddCookie(&http.Cookie{Name: "piao_lang", Value: "en"})
	resp, body = cl.do(req)
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, "My invoices", "Reversing", "Download PDF")

	// The other passenger sees its own invoice only.
	other := e.client(t)
	other.login(demo.Login{Username: "inv-other", Password: pw})
	if resp, body := other.get("/h5/invoices"); !strings.Contains(body, theirs.Number) || strings.Contains(body, mine.Number) {
		t.Fatalf("the other passenger's page: %d", resp.StatusCode)
	}
}
