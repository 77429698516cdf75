package storetest_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"piao/internal/benefits"
	"piao/internal/employer"
	"piao/internal/governance"
	"piao/internal/identity"
	"piao/internal/invoice"
	"piao/internal/ledger"
	"piao/internal/merchant"
	"piao/internal/payment"
	"piao/internal/payment/sandbox"
	"piao/internal/sale"
	"piao/internal/store/storetest"
	"piao/internal/tenant"
	"piao/internal/testclock"
)

// sweepTwice runs the invoice sweep twice at once and then once more,
// which must find nothing left; it returns what the two issued together.
func sweepTwice(t *testing.T, svc *invoice.Service) int {
	t.Helper()
	ctx := context.Background()
	var wg sync.WaitGroup
	var mu sync.Mutex
	total := 0
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, err := svc.Sweep(ctx)
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			total += n
			mu.Unlock()
		}()
	}
	wg.Wait()
	if n, err := svc.Sweep(ctx); err != nil || n != 0 {
		t.Fatalf("a third sweep issued %d (%v)", n, err)
	}
	return total
}

// byRef indexes every invoice by kind and ref, failing on a repeat.
func byRef(t *testing.T, svc *invoice.Service) map[string]invoice.Invoice {
	t.Helper()
	list, err := svc.Invoices(context.Background(), tenant.All(), invoice.Filter{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]invoice.Invoice{}
	for _, inv := range list {
		k := string(inv.Kind) + " " + inv.Ref
		if _, dup := m[k]; dup {
			t.Fatalf("two invoices for %s", k)
		}
		m[k] = inv
	}
	return m
}

// TestInvoiceSweepSales: passengers' paid purchases get one blue invoice
// each, made out to the verified real name (else the username), even with
// two sweeps at once; a pending purchase none; each finished ticket refund
// a red one reversing its purchase's by the amount refunded; and the PDF
// reads the buyer's name and amount.
func TestInvoiceSweepSales(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := context.Background()
		t0 := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
		clock := testclock.New(t0)
		gw, err := sandbox.New(s.Sandbox, sandbox.Config{Secret: []byte("0123456789abcdef0123456789abcdef"), BaseURL: "http://127.0.0.1:1", Now: clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		bn := benefits.NewService(s.Benefits, benefits.Config{Now: clock.Now})
		sales := sale.New(s.DB.Sales(), sale.Config{Now: clock.Now, Gateway: gw, Benefits: bn,
			NotifyURL: "http://127.0.0.1:1/api/v1/ticket-purchases/notify", ReturnURL: "http://127.0.0.1:1/h5/shop/purchases/"})
		svc := invoice.New(s.DB.Invoices(), invoice.Config{Now: clock.Now, TaxRateBP: 600})

		var buyers []int64
		for i := range 2 {
			a, err := s.Identity.CreateAccount(ctx, identity.Account{Username: fmt.Sprintf("rider%d", i), DisplayName: "r", Role: identity.Passenger, PasswordHash: "x", CreatedAt: t0})
			if err != nil {
				t.Fatal(err)
			}
			buyers = append(buyers, a.ID)
		}
		// The first buyer's real name is verified; the second has none.
		c := governance.Claim{AccountID: buyers[0], DocType: "ID", DocNumber: "360102198001010011", Name: "王伟", Status: governance.ClaimPending, CreatedAt: t0}
		if err := s.Governance.AddClaim(ctx, &c); err != nil {
			t.Fatal(err)
		}
		at := t0
		c.Status, c.DecidedAt, c.DecidedBy = governance.ClaimVerified, &at, "ops"
		if ok, err := s.Governance.DecideClaim(ctx, governance.ClaimPending, c); !ok || err != nil {
			t.Fatalf("verify the claim: %v %v", ok, err)
		}

		p := benefits.Product{Owner: "operator", Kind: benefits.MultiRide, NameZH: "十次票", NameEN: "Ten rides", Feed: "m", Valid: benefits.Validity{Days: 30}, CreatedAt: t0}
		p.Terms.Rides = 10
		if err := s.Benefits.CreateProduct(ctx, tenant.All(), &p); err != nil {
			t.Fatal(err)
		}
		camp := benefits.Campaign{ProductID: p.ID, Owner: "operator", NameZH: "十次票", NameEN: "Ten rides", Status: benefits.Draft,
			Starts: t0.Add(-time.Hour), Ends: t0.Add(60 * 24 * time.Hour), Channels: []benefits.Channel{benefits.PurchaseChannel}, Stock: 100,
			CreatedBy: "admin", CreatedAt: t0, UpdatedAt: t0}
		if err := s.Benefits.CreateCampaign(ctx, tenant.All(), &camp, benefits.Event{At: t0, By: "admin", Action: "create", To: benefits.Draft}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Benefits.UpdateCampaign(ctx, tenant.All(), camp.ID, func(c *benefits.Campaign) (benefits.Event, error) {
			c.Status = benefits.Approved
			return benefits.Event{At: t0, By: "reviewer", Action: "approve", From: benefits.Draft, To: benefits.Approved}, nil
		}); err != nil {
			t.Fatal(err)
		}
		o, err := sales.CreateOffer(ctx, sale.OfferInput{CampaignID: camp.ID, Bundle: 1, PriceFen: 1000, MaxPerOrder: 3, MaxPerPassenger: 6,
			Refund: sale.RefundRule{FeeBP: 500, Days: 7}, OnSale: true}, "admin")
		if err != nil {
			t.Fatal(err)
		}
		buy := func(buyer int64, units int, pay bool) sale.Purchase {
			t.Helper()
			pu, err := sales.Buy(ctx, buyer, o.ID, units)
			if err != nil {
				t.Fatal(err)
			}
			if !pay {
				return pu
			}
			paid, err := gw.Pay(ctx, pu.PaymentID)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := sales.HandleNotification(ctx, payment.Notification{ID: "ntf-" + paid.ID, PaymentID: paid.ID, OrderRef: paid.OrderRef,
				Status: payment.Paid, AmountFen: paid.AmountFen, PaidAt: paid.PaidAt}); err != nil {
				t.Fatal(err)
			}
			pu, err = sales.Purchase(ctx, buyer, pu.ID)
			if err != nil || pu.Status != sale.Paid || len(pu.TicketIDs) != units {
				t.Fatalf("paid purchase %+v %v", pu, err)
			}
			return pu
		}
		p1 := buy(buyers[0], 3, true)
		p2 := buy(buyers[1], 1, true)
		buy(buyers[1], 1, false) // pending: no invoice

		if n := sweepTwice(t, svc); n != 2 {
			t.Fatalf("two sweeps issued %d invoices, want 2", n)
		}
		got := byRef(t, svc)
		blue1, blue2 := got["blue "+invoice.SaleRef(p1.ID)], got["blue "+invoice.SaleRef(p2.ID)]
		if len(got) != 2 || blue1.TotalFen != 3000 || blue1.Buyer.Name != "王伟" || blue1.Buyer.Owner != invoice.AccountOwner(buyers[0]) ||
			len(blue1.Items) != 1 || blue1.Items[0].Quantity != 3 || blue1.Items[0].UnitPriceFen != 1000 || blue1.TaxFen != invoice.Tax(3000, 600) {
			t.Fatalf("invoices %+v", got)
		}
		if blue2.TotalFen != 1000 || blue2.Buyer.Name != "rider1" {
			t.Fatalf("the second buyer's invoice %+v", blue2)
		}
		if mine, err := svc.AccountInvoices(ctx, buyers[0], invoice.Filter{}); err != nil || len(mine) != 1 || mine[0].ID != blue1.ID {
			t.Fatalf("the buyer's invoices %+v %v", mine, err)
		}

		// Refund two of the first purchase's tickets, unused: 1000 − 5 % each.
		var refunds []sale.Refund
		for _, tid := range p1.TicketIDs[:2] {
			r, err := sales.RefundTicket(ctx, buyers[0], tid)
			if err != nil || r.Status != sale.RefundDone || r.AmountFen != 950 {
				t.Fatalf("refund %+v %v", r, err)
			}
			refunds = append(refunds, r)
		}
		if n := sweepTwice(t, svc); n != 2 {
			t.Fatalf("two sweeps issued %d red invoices, want 2", n)
		}
		got = byRef(t, svc)
		for _, r := range refunds {
			red := got["red "+invoice.SaleRefundRef(r.ID)]
			if red.TotalFen != -950 || red.Reverses != blue1.Number || red.ReversesRef != blue1.Ref || red.Buyer != blue1.Buyer || red.Items[0].Quantity != -1 {
				t.Fatalf("red invoice of refund %d: %+v", r.ID, red)
			}
		}

		if list, err := svc.Invoices(ctx, tenant.All(), invoice.Filter{Ref: blue1.Ref}); err != nil || len(list) != 3 || list[2].ID != blue1.ID {
			t.Fatalf("the invoices of purchase %d: %+v %v", p1.ID, list, err)
		}

		// The passenger's PDF names the buyer and the amount.
		b, inv, err := svc.AccountPDF(ctx, buyers[0], blue1.ID)
		if err != nil {
			t.Fatal(err)
		}
		text := pdfToText(t, b)
		for _, want := range []string{"王伟", "30.00", inv.Number} {
			if !strings.Contains(text, want) {
				t.Errorf("the PDF's text lacks %q:\n%s", want, text)
			}
		}
		if _, _, err := svc.AccountPDF(ctx, buyers[1], blue1.ID); !errors.Is(err, invoice.ErrNotFound) {
			t.Fatalf("another passenger downloads the invoice: %v", err)
		}
	})
}

// pdfToText extracts a PDF's text with poppler's pdftotext (required under
// CI, skipped elsewhere without it).
func pdfToText(t *testing.T, b []byte) string {
	t.Helper()
	tool, err := exec.LookPath("pdftotext")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("pdftotext (poppler-utils) is required under CI")
		}
		t.Skip("pdftotext not found: install poppler-utils")
	}
	if !bytes.HasPrefix(b, []byte("%PDF-")) {
		t.Fatalf("not a PDF: %q", b[:min(len(b), 16)])
	}
	path := filepath.Join(t.TempDir(), "invoice.pdf")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(tool, "-enc", "UTF-8", path, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v\n%s", err, out)
	}
	return string(out)
}

// TestInvoiceSweepEmployers: a paid top-up and a monthly bill get one blue
// invoice each, made out to the employer's legal name and credit code as
// stored on them, even with two sweeps at once; a pending top-up and a
// bill of nothing get none.
func TestInvoiceSweepEmployers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := context.Background()
		gw := &emGateway{}
		svc := invoice.New(s.DB.Invoices(), invoice.Config{Now: func() time.Time { return emNow }, TaxRateBP: 600})
		f := emSetup(t, s, validCode("91330200", "ABCD0001"), 1, gw, emRule)
		top, err := f.svc.CreateTopUp(ctx, f.scope, f.employer.ID, 50_000)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.CreateTopUp(ctx, f.scope, f.employer.ID, 7_000); err != nil { // left pending
			t.Fatal(err)
		}
		n := payment.Notification{ID: "n1", PaymentID: top.PaymentID, OrderRef: employer.PaymentRef(false, top.ID), Status: payment.Paid, AmountFen: 50_000, PaidAt: emNow}
		if out, err := f.svc.HandleNotification(ctx, n); err != nil || out != employer.OutcomePaid {
			t.Fatalf("top-up payment %v %v", out, err)
		}

		inv := emRule
		inv.Paying, inv.MonthlyCreditFen = employer.Invoiced, 100_000
		g := emSetup(t, s, validCode("91330200", "ABCD0002"), 1, gw, inv)
		h := emSetup(t, s, validCode("91330200", "ABCD0003"), 1, gw, inv) // rode nothing: a bill of 0
		april := employer.MonthOf(emNow).Prev()
		ride := ledger.Build("test-redemption-april", ledger.KindRedemption, "settlement:1", april.Start().Add(48*time.Hour), "",
			ledger.Debit(ledger.EmployerPrepaid, employer.Party(g.employer.ID), 1_234), ledger.Credit(ledger.FareRevenue, "", 1_234))
		if _, err := s.DB.Ledger().Post(ctx, ride); err != nil {
			t.Fatal(err)
		}
		if _, err := g.svc.IssueBills(ctx, april); err != nil {
			t.Fatal(err)
		}
		gb, err := g.svc.Bills(ctx, g.scope)
		if err != nil || len(gb) != 1 || gb[0].AmountFen != 1_234 {
			t.Fatalf("bills %+v %v", gb, err)
		}
		if hb, err := h.svc.Bills(ctx, h.scope); err != nil || len(hb) != 1 || hb[0].AmountFen != 0 {
			t.Fatalf("the bill of nothing %+v %v", hb, err)
		}

		if n := sweepTwice(t, svc); n != 2 {
			t.Fatalf("two sweeps issued %d invoices, want 2", n)
		}
		got := byRef(t, svc)
		ti, bi := got["blue "+invoice.TopUpRef(top.ID)], got["blue "+invoice.BillRef(gb[0].ID)]
		if len(got) != 2 || ti.TotalFen != 50_000 || ti.Buyer.Name != "甬江科技有限公司" || ti.Buyer.TaxNumber != f.employer.CreditCode || ti.Merchant() != f.employer.ID {
			t.Fatalf("top-up invoice %+v (all: %+v)", ti, got)
		}
		if bi.TotalFen != 1_234 || bi.Buyer.TaxNumber != g.employer.CreditCode || bi.Merchant() != g.employer.ID || !strings.Contains(bi.Items[0].Name, "2026-04") {
			t.Fatalf("bill invoice %+v", bi)
		}
		// Each employer sees its own invoice only.
		if list, err := svc.Invoices(ctx, f.scope, invoice.Filter{}); err != nil || len(list) != 1 || list[0].ID != ti.ID {
			t.Fatalf("the employer's invoices %+v %v", list, err)
		}
	})
}

// TestRedInvoicesBoundedTogether: the reds of one blue invoice never
// reverse more than its total together, however many are asked for at
// once; each alone would fit.
func TestRedInvoicesBoundedTogether(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := context.Background()
		svc := invoice.New(s.DB.Invoices(), invoice.Config{Now: testclock.New(time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)).Now})
		blue, err := svc.Issue(ctx, blueRequest("purchase:1", "merchant:7", 1000))
		if err != nil {
			t.Fatal(err)
		}
		red := func(ref string, fen int64) (invoice.Invoice, error) {
			return svc.Issue(ctx, invoice.Request{Kind: invoice.Red, Ref: ref, Reverses: blue.Ref,
				Items: []invoice.Item{{Name: "退还", Quantity: 1, UnitPriceFen: fen, AmountFen: fen}}})
		}
		if _, err := red("refund:a", 600); err != nil {
			t.Fatal(err)
		}
		if _, err := red("refund:b", 401); !errors.Is(err, invoice.ErrOverReversal) {
			t.Fatalf("a red beyond what is left of the blue: %v", err)
		}
		// The store refuses it too, whatever its caller checked.
		over := invoice.Invoice{Kind: invoice.Red, Ref: "refund:c", Reverses: blue.Number, ReversesRef: blue.Ref, Buyer: blue.Buyer, Seller: blue.Seller,
			Items: []invoice.Item{{Name: "退还", Quantity: -1, UnitPriceFen: 500, AmountFen: -500}}, TotalFen: -500, IssuedAt: blue.IssuedAt}
		if err := s.DB.Invoices().CreateInvoice(ctx, tenant.All(), &over); !errors.Is(err, invoice.ErrOverReversal) {
			t.Fatalf("the store stores an over-reversal: %v", err)
		}
		missing := over
		missing.ReversesRef, missing.Ref = "purchase:404", "refund:d"
		if err := s.DB.Invoices().CreateInvoice(ctx, tenant.All(), &missing); !errors.Is(err, invoice.ErrOriginalMissing) {
			t.Fatalf("the store stores a red without its blue: %v", err)
		}
		// 400 fen are left: of eight reds of 100 asked at once, four pass.
		var wg sync.WaitGroup
		var mu sync.Mutex
		ok, refused := 0, 0
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := red(fmt.Sprintf("refund:race-%d", i), 100)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					ok++
				case errors.Is(err, invoice.ErrOverReversal):
					refused++
				default:
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if ok != 4 || refused != 4 {
			t.Fatalf("%d reds passed and %d were refused, want 4 and 4", ok, refused)
		}
		var sum int64
		reds, _ := svc.Invoices(ctx, tenant.All(), invoice.Filter{Kind: invoice.Red})
		for _, r := range reds {
			sum += r.TotalFen
		}
		if sum != -1000 {
			t.Fatalf("the reds reverse %d in all, want -1000", sum)
		}
	})
}

// validCode is a unified social credit code with both its checks right.
func validCode(prefix, org string) string {
	return merchant.CompleteCreditCode(prefix + merchant.OrganisationCode(org))
}
