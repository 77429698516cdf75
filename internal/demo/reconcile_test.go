package demo_test

import (
	"context"
	"testing"
	"time"

	"piao/internal/app/apptest"
	"piao/internal/demo"
	"piao/internal/ledger"
	"piao/internal/payment"
)

// TestDemoDayReconciles: the demo's trading day — merchants' purchases
// paid through the sandbox, their campaigns' refunds — reconciles three
// ways with no difference on every day it touched, and the day's fees are
// posted. It needs the demo's money events posted to the ledger (issue 24,
// helper A's slice); until they are, the ledger holds no entry with a
// channel ID and the test says so and skips rather than pass.
func TestDemoDayReconciles(t *testing.T) {
	a := apptest.NewDemo(t)
	ctx := context.Background()
	if _, err := demo.SeedBenefits(ctx, a.Benefits, a.Identity, time.Now()); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if _, err := demo.SeedMerchantTrade(ctx, tradeDeps(a), now); err != nil {
		t.Fatal(err)
	}
	svc := a.Reconciliation()
	days := map[string]bool{}
	for at := now.Add(-demo.MerchantLead - 24*time.Hour); !at.After(now); at = at.Add(time.Hour) {
		days[at.In(payment.Shanghai).Format(payment.DayLayout)] = true
	}
	var moved int
	for day := range days {
		from, _, _ := payment.ParseDay(day)
		lines, err := a.Reconciliation().Statement(ctx, from)
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
		t.Skip("the demo posts no ledger entries yet (issue 24 helper A posts money events): nothing for the ledger side to match")
	}
	for day := range days {
		run, err := svc.Reconcile(ctx, day, nil, "test")
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range run.Differences {
			t.Errorf("%s: %s", day, d.Text("en"))
		}
		t.Logf("%s: statement %d lines, piao %d, ledger %d, matched %d, fee entry %d",
			day, run.Statement.Lines, run.Records["piao"], run.Records["ledger"], run.Matched, run.FeeEntry)
	}
}
