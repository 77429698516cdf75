package demo_test

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"sort"
	"testing"
	"time"

	"piao/internal/app"
	"piao/internal/app/apptest"
	"piao/internal/demo"
	"piao/internal/ledger"
	"piao/internal/payment"
	"piao/internal/reconcile"
	"piao/internal/simulate"
)

// seedDemoMoney seeds what `piao serve --demo` seeds after the network and
// the merchants (apptest.NewDemo's part), in serve's order: benefits,
// subsidies, a metro day (fewer riders), the month of bookings (unless
// month is false) and the merchants' trading day. It returns the days,
// Asia/Shanghai, on which money may have moved.
func seedDemoMoney(t *testing.T, a *app.App, month bool) []string {
	t.Helper()
	ctx := context.Background()
	now := time.Now()
	if _, err := demo.SeedBenefits(ctx, a.Benefits, a.Identity, now); err != nil {
		t.Fatal(err)
	}
	if _, err := demo.SeedSubsidy(ctx, a.Subsidy, a.Benefits, a.Identity, now); err != nil {
		t.Fatal(err)
	}
	if _, err := demo.SeedMetroDay(ctx, a.Benefits, a.Metro, a.Identity, now, 200); err != nil {
		t.Fatal(err)
	}
	first := now.Add(-demo.MerchantLead - 24*time.Hour)
	if month {
		m, err := simulate.SeedDemoMonth(ctx, simStores(a), now)
		if err != nil {
			t.Fatal(err)
		}
		first = m.From.In(payment.Shanghai).AddDate(0, 0, -1)
	}
	if _, err := demo.SeedMerchantTrade(ctx, tradeDeps(a), now); err != nil {
		t.Fatal(err)
	}
	var days []string
	for d := first; !d.After(now.Add(time.Minute)); d = d.AddDate(0, 0, 1) {
		days = append(days, d.In(payment.Shanghai).Format(payment.DayLayout))
	}
	if last := now.Add(time.Minute).In(payment.Shanghai).Format(payment.DayLayout); days[len(days)-1] != last {
		days = append(days, last)
	}
	return days
}

// TestDemoDayReconciles: everything the demo seeds — the month of
// bookings paid and refunded through the sandbox, the merchants' purchases
// and their campaigns' refunds, the metro day's settlement — reconciles
// three ways with no difference on every day it touched, and each day's
// fees are posted.
func TestDemoDayReconciles(t *testing.T) {
	a := apptest.NewDemo(t)
	ctx := context.Background()
	// The month of bookings is too slow under the race detector (see
	// TestSeedDemoMonth); the merchants' day still moves money then.
	days := seedDemoMoney(t, a, !raceEnabled)
	svc := a.Reconciliation()
	var moved int
	for _, day := range days {
		from, _, _ := payment.ParseDay(day)
		lines, err := svc.Statement(ctx, from)
		if err != nil {
			t.Fatal(err)
		}
		moved += len(lines)
	}
	if moved == 0 {
		t.Fatal("the demo moved no money through the sandbox")
	}
	entries, err := a.LedgerStore.Entries(ctx, ledger.Filter{Account: ledger.GatewayClearing, Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) == 0 {
		t.Fatal("the demo posted no entry on gateway clearing")
	}
	var matched, fees int
	today := time.Now().In(payment.Shanghai).Format(payment.DayLayout)
	for _, day := range days {
		run, err := svc.Reconcile(ctx, day, nil, "test")
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range run.Differences {
			t.Errorf("%s: %s", day, d.Text("en"))
		}
		// A finished day's fees are posted (today's wait for its end).
		if day != today && run.Statement.FeeFen != 0 && run.FeeEntry == 0 {
			t.Errorf("%s: fees of %d fen not posted", day, run.Statement.FeeFen)
		}
		if run.FeeEntry != 0 {
			fees++
		}
		matched += run.Matched
		t.Logf("%s: statement %d lines, piao %d, ledger %d, matched %d, fee entry %d",
			day, run.Statement.Lines, run.Records["piao"], run.Records["ledger"], run.Matched, run.FeeEntry)
	}
	if matched != moved {
		t.Errorf("matched %d movements over the days, the statements hold %d", matched, moved)
	}
	if problems, err := a.LedgerStore.Verify(ctx); err != nil || len(problems) > 0 {
		t.Errorf("ledger check after reconciling: %d problems (%+v), %v", len(problems), problems, err)
	}
	t.Logf("%d days, %d movements matched, %d fee entries", len(days), matched, fees)
}

// TestDemoDayPlantedDifferences: the demo's merchants' day, reconciled
// against its own statement written out as the channel's CSV bill with
// three differences planted — a payment the channel says it took and piao
// never recorded, one of the day's real lines at another amount, and
// another real line twice — reports exactly those three and nothing else.
func TestDemoDayPlantedDifferences(t *testing.T) {
	a := apptest.NewDemo(t)
	ctx := context.Background()
	days := seedDemoMoney(t, a, false)
	svc := a.Reconciliation()
	// The day with the most lines (the trading day may cross midnight).
	var day string
	var lines []payment.StatementLine
	for _, d := range days {
		from, _, _ := payment.ParseDay(d)
		ls, err := svc.Statement(ctx, from)
		if err != nil {
			t.Fatal(err)
		}
		if len(ls) > len(lines) {
			day, lines = d, ls
		}
	}
	if len(lines) < 2 {
		t.Fatalf("the demo's busiest day %s has %d statement lines; the test plants on two", day, len(lines))
	}
	planted := slices.Clone(lines)
	stranger := payment.StatementLine{At: lines[0].At.Add(time.Second), OrderRef: "piao-planted-1", PaymentID: "pay_planted",
		Type: payment.LinePayment, AmountFen: 4321, FeeFen: 26, Status: payment.LineSucceeded}
	planted[0].AmountFen++
	planted = append(planted, stranger, lines[1])
	sort.SliceStable(planted, func(i, j int) bool { return planted[i].At.Before(planted[j].At) })
	var file bytes.Buffer
	if err := payment.WriteStatement(&file, planted); err != nil {
		t.Fatal(err)
	}
	parsed, err := payment.ParseStatement(&file)
	if err != nil {
		t.Fatal(err)
	}
	run, err := svc.Reconcile(ctx, day, parsed, "test")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		fmt.Sprint(reconcile.Missing, " ", stranger.External(), " ", []reconcile.Side{reconcile.Orders, reconcile.Ledger}),
		fmt.Sprint(reconcile.AmountDiffers, " ", lines[0].External(), " ", reconcile.Sides),
		fmt.Sprint(reconcile.Duplicate, " ", lines[1].External(), " ", []reconcile.Side{reconcile.Statement}),
	}
	var got []string
	for _, d := range run.Differences {
		got = append(got, fmt.Sprint(d.Kind, " ", d.External, " ", d.Sides))
		t.Log(d.Text("en"))
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) || run.DifferenceCount != 3 {
		t.Fatalf("differences %q (count %d), planted %q", got, run.DifferenceCount, want)
	}
	if run.Matched != len(lines)-2 {
		t.Errorf("matched %d of the day's %d real lines, two carry a plant", run.Matched, len(lines))
	}
	// The stored run says the same.
	stored, err := svc.Run(ctx, run.ID)
	if err != nil || stored.DifferenceCount != 3 || len(stored.Differences) != 3 {
		t.Fatalf("stored run %+v, %v", stored, err)
	}
}
