package storetest_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"piao/internal/benefits"
	"piao/internal/invoice"
	"piao/internal/merchant"
	"piao/internal/purchase"
	"piao/internal/store/storetest"
	"piao/internal/tenant"
	"piao/internal/testclock"
)

// invoiceNames stands in for the merchant and benefits services.
type invoiceNames struct{}

func (invoiceNames) Merchant(_ context.Context, scope tenant.Scope, id int64) (merchant.Merchant, error) {
	if !scope.Sees(id) {
		return merchant.Merchant{}, fault404
	}
	return merchant.Merchant{ID: id, LegalName: fmt.Sprintf("宁波市轨道交通集团有限公司%d", id), CreditCode: invoice.DefaultSeller().TaxNumber}, nil
}

func (invoiceNames) Campaign(_ context.Context, _ tenant.Scope, id int64) (benefits.Campaign, error) {
	return benefits.Campaign{ID: id, NameZH: fmt.Sprintf("活动%d", id)}, nil
}

var fault404 = errors.New("not found")

func blueRequest(ref, owner string, fen int64) invoice.Request {
	return invoice.Request{Kind: invoice.Blue, Ref: ref, Buyer: invoice.Party{Owner: owner, Name: "宁波市轨道交通集团有限公司", TaxNumber: invoice.DefaultSeller().TaxNumber},
		Items: []invoice.Item{{Name: "单程票", Quantity: 1, UnitPriceFen: fen, AmountFen: fen}}}
}

// TestInvoiceStore: invoices are numbered per year without gap or repeat,
// issued once per kind and event, kept to their buyer (merchant scope or
// passenger account), and red ones reverse an issued blue one.
func TestInvoiceStore(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := context.Background()
		clock := testclock.New(time.Date(2026, 12, 31, 15, 59, 0, 0, time.UTC)) // 23:59 in Shanghai
		svc := invoice.New(s.DB.Invoices(), invoice.Config{Now: clock.Now, TaxRateBP: 600})
		st := s.DB.Invoices()

		a, err := svc.Issue(ctx, blueRequest("purchase:1", "merchant:7", 12345))
		if err != nil {
			t.Fatal(err)
		}
		if a.Number != "PIAO2026000001" || a.TotalFen != 12345 || a.TaxFen != 699 || a.Seller.Name != invoice.DefaultSeller().Name {
			t.Fatalf("first invoice %+v", a)
		}
		again, err := svc.Issue(ctx, blueRequest("purchase:1", "merchant:7", 99))
		if err != nil || again.ID != a.ID || again.TotalFen != 12345 {
			t.Fatalf("the same event again: %+v %v", again, err)
		}
		// A refused insert takes no serial.
		dup := a
		dup.ID, dup.Number = 0, ""
		if err := st.CreateInvoice(ctx, tenant.All(), &dup); !errors.Is(err, invoice.ErrExists) {
			t.Fatalf("a second blue invoice for one event: %v", err)
		}
		b, err := svc.Issue(ctx, blueRequest("purchase:2", "merchant:8", 500))
		if err != nil || b.Number != "PIAO2026000002" {
			t.Fatalf("second invoice %+v %v", b, err)
		}
		p, err := svc.Issue(ctx, invoice.Request{Kind: invoice.Blue, Ref: "passenger-purchase:3", Buyer: invoice.Party{Owner: invoice.AccountOwner(3), Name: "张三"},
			Items: []invoice.Item{{Name: "十次票", Quantity: 2, UnitPriceFen: 3000, AmountFen: 6000}}})
		if err != nil || p.Number != "PIAO2026000003" {
			t.Fatalf("passenger invoice %+v %v", p, err)
		}
		// The new year starts again at 1 (Shanghai's year).
		clock.Advance(2 * time.Minute)
		r, err := svc.Issue(ctx, invoice.Request{Kind: invoice.Red, Ref: "refund:mpr-1-1", Reverses: "purchase:1",
			Items: []invoice.Item{{Name: "退还", Quantity: 1, UnitPriceFen: 2345, AmountFen: 2345}}})
		if err != nil || r.Number != "PIAO2027000001" || r.TotalFen != -2345 || r.TaxFen != -133 || r.Reverses != a.Number || r.Buyer != a.Buyer || r.Items[0].Quantity != -1 {
			t.Fatalf("red invoice %+v %v", r, err)
		}
		if _, err := svc.Issue(ctx, invoice.Request{Kind: invoice.Red, Ref: "refund:x", Reverses: "purchase:404", Items: a.Items}); !errors.Is(err, invoice.ErrOriginalMissing) {
			t.Fatalf("red without its blue: %v", err)
		}
		if _, err := svc.Issue(ctx, invoice.Request{Kind: invoice.Red, Ref: "refund:y", Reverses: "purchase:2",
			Items: []invoice.Item{{Name: "退还", Quantity: 1, UnitPriceFen: 501, AmountFen: 501}}}); !errors.Is(err, invoice.ErrOverReversal) {
			t.Fatalf("red above its blue: %v", err)
		}

		// Read back whole, in scope only.
		got, err := svc.Invoice(ctx, tenant.Merchant(7), a.ID)
		if err != nil || got.Number != a.Number || !got.IssuedAt.Equal(a.IssuedAt) || len(got.Items) != 1 || got.Items[0] != a.Items[0] || got.Buyer != a.Buyer || got.Seller != a.Seller {
			t.Fatalf("read back %+v %v", got, err)
		}
		for _, sc := range []tenant.Scope{tenant.Merchant(8), {}} {
			if _, err := svc.Invoice(ctx, sc, a.ID); !errors.Is(err, invoice.ErrNotFound) {
				t.Fatalf("%v reads merchant 7's invoice: %v", sc, err)
			}
		}
		if _, err := svc.Invoice(ctx, tenant.Merchant(7), p.ID); !errors.Is(err, invoice.ErrNotFound) {
			t.Fatalf("a merchant reads a passenger's invoice: %v", err)
		}
		if list, _ := svc.Invoices(ctx, tenant.Merchant(7), invoice.Filter{}); len(list) != 2 || list[0].ID != r.ID || list[1].ID != a.ID {
			t.Fatalf("merchant 7 lists %+v", list)
		}
		if list, _ := svc.Invoices(ctx, tenant.Merchant(7), invoice.Filter{Kind: invoice.Red}); len(list) != 1 || list[0].ID != r.ID {
			t.Fatalf("merchant 7 lists red %+v", list)
		}
		if list, _ := svc.Invoices(ctx, tenant.All(), invoice.Filter{}); len(list) != 4 {
			t.Fatalf("operator lists %d", len(list))
		}
		if list, _ := svc.Invoices(ctx, tenant.All(), invoice.Filter{Owner: "merchant:8"}); len(list) != 1 || list[0].ID != b.ID {
			t.Fatalf("operator lists merchant 8's: %+v", list)
		}
		if list, _ := svc.Invoices(ctx, tenant.All(), invoice.Filter{BeforeID: b.ID}); len(list) != 1 || list[0].ID != a.ID {
			t.Fatalf("page: %+v", list)
		}
		if list, _ := svc.Invoices(ctx, tenant.Scope{}, invoice.Filter{}); len(list) != 0 {
			t.Fatalf("the zero scope lists %+v", list)
		}
		if got, err := svc.AccountInvoice(ctx, 3, p.ID); err != nil || got.ID != p.ID {
			t.Fatalf("passenger reads own: %+v %v", got, err)
		}
		for _, bad := range [][2]int64{{4, p.ID}, {3, a.ID}} {
			if _, err := svc.AccountInvoice(ctx, bad[0], bad[1]); !errors.Is(err, invoice.ErrNotFound) {
				t.Fatalf("account %d reads invoice %d: %v", bad[0], bad[1], err)
			}
		}
		if list, _ := svc.AccountInvoices(ctx, 3, invoice.Filter{}); len(list) != 1 || list[0].ID != p.ID {
			t.Fatalf("passenger lists %+v", list)
		}
		if err := st.CreateInvoice(ctx, tenant.Merchant(8), &invoice.Invoice{Kind: invoice.Blue, Ref: "x", Buyer: invoice.Party{Owner: "merchant:7"}}); !errors.Is(err, invoice.ErrNotFound) {
			t.Fatalf("merchant 8 stores merchant 7's invoice: %v", err)
		}
	})
}

// TestInvoiceIssueRace: many callers issuing the same events at once get
// one invoice per event, and the numbers are 1…n without gap or repeat.
func TestInvoiceIssueRace(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := context.Background()
		svc := invoice.New(s.DB.Invoices(), invoice.Config{Now: testclock.New(time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)).Now})
		const events, callers = 12, 4
		var wg sync.WaitGroup
		var mu sync.Mutex
		ids := map[string]int64{}
		for c := 0; c < callers; c++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for e := 0; e < events; e++ {
					ref := fmt.Sprintf("topup:%d", e)
					inv, err := svc.Issue(ctx, blueRequest(ref, "merchant:9", int64(100+e)))
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					if id, ok := ids[ref]; ok && id != inv.ID {
						t.Errorf("%s issued twice: %d and %d", ref, id, inv.ID)
					}
					ids[ref] = inv.ID
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		list, err := svc.Invoices(ctx, tenant.All(), invoice.Filter{})
		if err != nil || len(list) != events {
			t.Fatalf("%d invoices for %d events (%v)", len(list), events, err)
		}
		var numbers []string
		for _, inv := range list {
			numbers = append(numbers, inv.Number)
		}
		sort.Strings(numbers)
		for i, n := range numbers {
			if want := invoice.Number(2026, int64(i+1)); n != want {
				t.Fatalf("numbers %v: want %s at %d", numbers, want, i)
			}
		}
	})
}

// TestInvoiceSweep: the sweep invoices each paid purchase once and each
// purchase a finished campaign refund paid back with a red invoice, and
// finds nothing more to do on the next pass.
func TestInvoiceSweep(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := context.Background()
		ps := s.DB.Purchases()
		clock := testclock.New(purT0)
		svc := invoice.New(s.DB.Invoices(), invoice.Config{Now: clock.Now, TaxRateBP: 600, Merchants: invoiceNames{}, Campaigns: invoiceNames{}})
		mk := func(merchant, campaign int64, tickets int, value int64, status purchase.Status) purchase.Purchase {
			p := purchase.Purchase{Merchant: merchant, CampaignID: campaign, Tickets: tickets, UnitPriceFen: 400, ValueFen: value,
				AmountFen: int64(tickets)*400 + value, Status: status, CreatedAt: purT0, ExpiresAt: purT0.Add(time.Hour), Version: 1}
			if err := ps.CreatePurchase(ctx, tenant.All(), &p); err != nil {
				t.Fatal(err)
			}
			return p
		}
		p1 := mk(7, 1, 30, 0, purchase.Paid)
		p2 := mk(7, 1, 10, 345, purchase.Paid)
		mk(7, 1, 5, 0, purchase.Pending)
		mk(8, 2, 5, 0, purchase.Closed)
		n, err := svc.IssueForPurchases(ctx)
		if err != nil || n != 2 {
			t.Fatalf("first pass issued %d (%v)", n, err)
		}
		if n, err := svc.IssueForPurchases(ctx); err != nil || n != 0 {
			t.Fatalf("second pass issued %d (%v)", n, err)
		}
		inv2, err := svc.Invoices(ctx, tenant.Merchant(7), invoice.Filter{})
		if err != nil || len(inv2) != 2 || inv2[0].Ref != invoice.PurchaseRef(p2.ID) || inv2[0].TotalFen != p2.AmountFen || len(inv2[0].Items) != 2 ||
			inv2[0].Items[0].Quantity != 10 || inv2[0].Items[1].AmountFen != 345 || inv2[0].Buyer.Owner != "merchant:7" || inv2[0].Buyer.Name != "宁波市轨道交通集团有限公司7" {
			t.Fatalf("purchase invoices %+v %v", inv2, err)
		}
		// A campaign refund paid back from both purchases, newest first.
		r := purchase.Refund{Merchant: 7, CampaignID: 1, Status: purchase.RefundPending, Version: 1, CreatedAt: purT0}
		if err := ps.CreateRefund(ctx, tenant.All(), &r); err != nil {
			t.Fatal(err)
		}
		r.Parts = purchase.Plan(r.ID, []purchase.Purchase{p1, p2}, p2.AmountFen+1000)
		for i := range r.Parts {
			r.Parts[i].Done = true
		}
		r.Status, r.Version = purchase.RefundDone, 2
		if n, err := svc.IssueForPurchases(ctx); err != nil || n != 0 {
			t.Fatalf("a pending refund is invoiced: %d (%v)", n, err)
		}
		if err := ps.UpdateRefund(ctx, tenant.All(), r); err != nil {
			t.Fatal(err)
		}
		if n, err := svc.IssueForPurchases(ctx); err != nil || n != 2 {
			t.Fatalf("refund pass issued %d (%v)", n, err)
		}
		if n, err := svc.IssueForPurchases(ctx); err != nil || n != 0 {
			t.Fatalf("refund issued again: %d (%v)", n, err)
		}
		reds, _ := svc.Invoices(ctx, tenant.Merchant(7), invoice.Filter{Kind: invoice.Red})
		if len(reds) != 2 {
			t.Fatalf("red invoices %+v", reds)
		}
		var sum int64
		for _, red := range reds {
			sum += red.TotalFen
			if red.ReversesRef != invoice.PurchaseRef(p1.ID) && red.ReversesRef != invoice.PurchaseRef(p2.ID) {
				t.Fatalf("red reverses %s", red.ReversesRef)
			}
		}
		if sum != -(p2.AmountFen + 1000) {
			t.Fatalf("red invoices total %d", sum)
		}
	})
}
