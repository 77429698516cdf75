package storetest_test

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"piao/internal/ledger"
	"piao/internal/payment"
	"piao/internal/payment/sandbox"
	"piao/internal/purchase"
	"piao/internal/reconcile"
	"piao/internal/store/storetest"
	"piao/internal/tenant"
)

// recDay sets up a day on which the three sides agree: n merchant
// purchases paid through the sandbox at noon and after (Asia/Shanghai),
// each recorded as paid with its payment ID and posted to the ledger with
// it, and one purchase's payment partly refunded by a campaign refund.
func recDay(t *testing.T, s storetest.Stores, day time.Time, n int) []sandbox.Record {
	t.Helper()
	ctx := context.Background()
	var out []sandbox.Record
	for i := range n {
		at := day.Add(12*time.Hour + time.Duration(i)*time.Minute)
		rec := sandbox.Record{
			Payment: payment.Payment{ID: fmt.Sprintf("pay_%s_%d", day.Format("0102"), i), OrderRef: fmt.Sprintf("purchase:%s:%d", day.Format("0102"), i),
				AmountFen: int64(10_000 + 1_001*i), Status: payment.Pending, CreatedAt: at.Add(-time.Minute), ExpiresAt: at.Add(time.Hour)},
			NotifyURL: "http://127.0.0.1:9/notify", FeeBP: 60,
		}
		if _, _, err := s.DB.Sandbox().CreatePayment(ctx, rec, rec.CreatedAt); err != nil {
			t.Fatal(err)
		}
		paid, err := s.DB.Sandbox().Settle(ctx, rec.ID, payment.Paid, at, sbDelivery("ntf_"+rec.ID, rec.ID, at))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, paid)
		p := purchase.Purchase{Merchant: 7, CampaignID: 1, Tickets: 1, UnitPriceFen: rec.AmountFen, AmountFen: rec.AmountFen, Status: purchase.Pending,
			BoughtBy: 70, CreatedAt: rec.CreatedAt, ExpiresAt: rec.ExpiresAt, Version: 1}
		if err := s.DB.Purchases().CreatePurchase(ctx, tenant.All(), &p); err != nil {
			t.Fatal(err)
		}
		p.Status, p.PaymentID, p.PaidAt, p.Version = purchase.Paid, rec.ID, paid.PaidAt, 2
		if err := s.DB.Purchases().UpdatePurchase(ctx, tenant.All(), p); err != nil {
			t.Fatal(err)
		}
		e := ledger.Build(fmt.Sprintf("purchase:%d:paid", p.ID), ledger.KindPurchase, fmt.Sprintf("purchase:%d", p.ID), paid.PaidAt, "",
			ledger.Debit(ledger.GatewayClearing, "", rec.AmountFen), ledger.Credit(ledger.MerchantPrepaid, "merchant:7", rec.AmountFen))
		e.External = rec.ID
		if _, err := s.DB.Ledger().Post(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// storeStatements reads the sandbox's statements straight from its store.
type storeStatements struct{ st sandbox.Store }

func (s storeStatements) Statement(ctx context.Context, day time.Time) ([]payment.StatementLine, error) {
	return sandbox.StatementOf(ctx, s.st, day)
}

// TestReconcileThreePlanted: a day whose three sides agree reconciles with
// no difference and posts its fees once; a statement file with three
// planted differences — a payment piao never recorded, an amount changed,
// a line repeated — reports exactly those three. Runs are kept and read
// back whole.
func TestReconcileThreePlanted(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := context.Background()
		svc := reconcile.New(reconcile.Config{Store: s.DB.Reconcile(), Ledger: s.DB.Ledger(), Statements: storeStatements{s.DB.Sandbox()}})
		day1 := time.Date(2026, 3, 1, 0, 0, 0, 0, payment.Shanghai)
		recDay(t, s, day1, 3)
		// A payment of the day before, just before midnight: not this day's.
		recDay(t, s, day1.Add(-13*time.Hour), 1)

		clean, err := svc.Reconcile(ctx, "2026-03-01", nil, "test")
		if err != nil {
			t.Fatal(err)
		}
		if !clean.Clean() || clean.Matched != 3 || clean.Records[reconcile.Orders] != 3 || clean.Records[reconcile.Ledger] != 3 || clean.Statement.Payments != 3 {
			t.Fatalf("clean day: %+v", clean)
		}
		// Fees: 60, 66.006→66, 72.012→72 fen.
		fees, err := s.DB.Ledger().EntryByKey(ctx, reconcile.FeeKey("2026-03-01"))
		if err != nil || fees.Total() != 198 || clean.FeeEntry != fees.ID || fees.External != "" {
			t.Fatalf("fee entry %+v %v (run %+v)", fees, err, clean)
		}
		again, err := svc.Reconcile(ctx, "2026-03-01", nil, "test")
		if err != nil || !again.Clean() || again.ID == clean.ID || again.FeeEntry != fees.ID {
			t.Fatalf("second run: %+v %v", again, err)
		}

		day2 := day1.AddDate(0, 0, 1)
		recDay(t, s, day2, 3)
		lines, err := sandbox.StatementOf(ctx, s.DB.Sandbox(), day2)
		if err != nil || len(lines) != 3 {
			t.Fatalf("statement: %v %+v", err, lines)
		}
		unknown := payment.StatementLine{At: day2.Add(15 * time.Hour), OrderRef: "order:999", PaymentID: "pay_stranger", Type: payment.LinePayment,
			AmountFen: 777, FeeFen: 5, Status: payment.LineSucceeded}
		lines[1].AmountFen += 1                  // the channel took a fen more
		lines = append(lines, lines[2], unknown) // a line twice; a payment piao never saw
		var file bytes.Buffer
		if err := payment.WriteStatement(&file, lines); err != nil {
			t.Fatal(err)
		}
		read, err := payment.ParseStatement(&file)
		if err != nil {
			t.Fatal(err)
		}
		run, err := svc.Reconcile(ctx, "2026-03-02", read, "test")
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, d := range run.Differences {
			got = append(got, fmt.Sprintf("%s %s %v %v", d.Kind, d.External, d.Sides, d.Amounts))
		}
		want := []string{
			fmt.Sprintf("amount_differs %s [statement piao ledger] map[ledger:%d piao:%d statement:%d]", lines[1].PaymentID, lines[1].AmountFen-1, lines[1].AmountFen-1, lines[1].AmountFen),
			fmt.Sprintf("duplicate %s [statement] map[ledger:%d piao:%d statement:%d]", lines[2].PaymentID, lines[2].AmountFen, lines[2].AmountFen, lines[2].AmountFen),
			"missing pay_stranger [piao ledger] map[statement:777]",
		}
		slices.Sort(got)
		if !slices.Equal(got, want) || run.DifferenceCount != 3 || run.Source != "file" || run.Matched != 1 {
			t.Fatalf("planted run found\n%v\nwant\n%v\n(run %+v)", got, want, run)
		}
		stored, err := svc.Run(ctx, run.ID)
		if err != nil || len(stored.Differences) != 3 || stored.Day != "2026-03-02" || stored.Statement != run.Statement || !stored.At.Equal(run.At) {
			t.Fatalf("stored run %+v %v", stored, err)
		}
		runs, err := svc.Runs(ctx, reconcile.RunFilter{})
		if err != nil || len(runs) != 3 || runs[0].ID != run.ID || runs[0].DifferenceCount != 3 || len(runs[0].Differences) != 0 {
			t.Fatalf("runs %+v %v", runs, err)
		}
		if one, _ := svc.Runs(ctx, reconcile.RunFilter{Day: "2026-03-01"}); len(one) != 2 {
			t.Fatalf("runs of the first day: %+v", one)
		}
		// A run with differences posts no fees: the file is not to be
		// trusted with them. The same day from the channel agrees on
		// everything and posts them.
		if run.FeeEntry != 0 {
			t.Fatalf("the planted run posted fees (entry %d)", run.FeeEntry)
		}
		if run, err := svc.Reconcile(ctx, "2026-03-02", nil, "test"); err != nil || run.DifferenceCount != 0 || run.FeeEntry == 0 {
			t.Fatalf("the channel's run: %+v %v", run, err)
		}
	})
}

// TestMonthlyStatementBalances: a merchant's monthly statement opens with
// the balance before the month, lists every posting of the month on its
// accounts, and closes at the ledger's balance at the month's end (the
// next month's opening; the stored balance when nothing came after).
func TestMonthlyStatementBalances(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := context.Background()
		l := s.DB.Ledger()
		svc := reconcile.New(reconcile.Config{Store: s.DB.Reconcile(), Ledger: l})
		post := func(key string, at time.Time, ps ...ledger.Posting) {
			t.Helper()
			if _, err := l.Post(ctx, ledger.Build(key, ledger.KindPurchase, "purchase:"+key, at, "", ps...)); err != nil {
				t.Fatal(err)
			}
		}
		m7, m8 := "merchant:7", "merchant:8"
		feb := time.Date(2026, 2, 28, 23, 59, 59, 0, payment.Shanghai)
		mar := time.Date(2026, 3, 1, 0, 0, 0, 0, payment.Shanghai) // the first instant of March
		apr := time.Date(2026, 4, 1, 0, 0, 0, 0, payment.Shanghai)
		post("a", feb, ledger.Debit(ledger.GatewayClearing, "", 10_000), ledger.Credit(ledger.MerchantPrepaid, m7, 10_000))
		post("b", mar, ledger.Debit(ledger.GatewayClearing, "", 5_000), ledger.Credit(ledger.MerchantPrepaid, m7, 5_000))
		post("c", mar.Add(48*time.Hour), ledger.Debit(ledger.MerchantPrepaid, m7, 1_234), ledger.Credit(ledger.FareRevenue, "", 1_234))
		post("d", mar.Add(50*time.Hour), ledger.Debit(ledger.GatewayClearing, "", 99), ledger.Credit(ledger.MerchantPrepaid, m8, 99))
		post("e", apr.Add(-time.Microsecond), ledger.Debit(ledger.MerchantPrepaid, m7, 1), ledger.Credit(ledger.RefundsPayable, "", 1))
		post("f", apr, ledger.Debit(ledger.MerchantPrepaid, m7, 700), ledger.Credit(ledger.FareRevenue, "", 700))

		march, err := svc.MonthlyStatement(ctx, m7, "2026-03")
		if err != nil {
			t.Fatal(err)
		}
		if len(march.Accounts) != 1 {
			t.Fatalf("accounts %+v", march.Accounts)
		}
		a := march.Accounts[0]
		if a.Account != ledger.MerchantPrepaid || a.OpeningFen != 10_000 || a.CreditFen != 5_000 || a.DebitFen != 1_235 || a.ClosingFen != 13_765 || len(a.Lines) != 3 {
			t.Fatalf("March: %+v", a)
		}
		if a.Lines[0].Key != "b" || a.Lines[0].BalanceFen != 15_000 || a.Lines[2].Key != "e" || a.Lines[2].BalanceFen != a.ClosingFen {
			t.Fatalf("March lines: %+v", a.Lines)
		}
		april, err := svc.MonthlyStatement(ctx, m7, "2026-04")
		if err != nil {
			t.Fatal(err)
		}
		if april.Accounts[0].OpeningFen != a.ClosingFen {
			t.Fatalf("April opens at %d, March closed at %d", april.Accounts[0].OpeningFen, a.ClosingFen)
		}
		bs, err := l.Balances(ctx, m7)
		if err != nil || len(bs) != 1 || bs[0].Net() != april.Accounts[0].ClosingFen {
			t.Fatalf("ledger balance %+v %v, April closes at %d", bs, err, april.Accounts[0].ClosingFen)
		}
		if empty, err := svc.MonthlyStatement(ctx, "merchant:9", "2026-03"); err != nil || len(empty.Accounts) != 0 {
			t.Fatalf("a merchant with nothing: %+v %v", empty, err)
		}
		for _, bad := range []string{"2026-3", "2026-13", "march"} {
			if _, err := svc.MonthlyStatement(ctx, m7, bad); err == nil {
				t.Fatalf("month %q accepted", bad)
			}
		}
	})
}
