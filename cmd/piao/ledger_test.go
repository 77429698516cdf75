package main_test

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"

	"piao/internal/app"
	"piao/internal/ledger"
)

// TestLedgerCommands: `piao ledger check` prints the trial balance and
// exits zero on a sound journal, and non-zero naming the problem once a
// balance row is changed behind the journal's back; `ledger trial` and
// `ledger entries` print what was posted.
func TestLedgerCommands(t *testing.T) {
	bin := piaoBinary(t)
	data := t.TempDir()
	if out, err := run(t, bin, "--data-dir", data, "keys", "init"); err != nil {
		t.Fatalf("keys init: %v\n%s", err, out)
	}
	if out, err := run(t, bin, "--data-dir", data, "ledger", "check"); err != nil || !strings.Contains(out, "no problems") || !strings.Contains(out, "balanced") {
		t.Fatalf("check of an empty journal: %v\n%s", err, out)
	}
	ctx := context.Background()
	a, err := app.Open(ctx, app.Config{DataDir: data})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 7, 9, 30, 0, 0, time.UTC)
	for _, e := range []ledger.Entry{
		ledger.Build("purchase:1:paid", ledger.KindPurchase, "purchase:1", at, "", ledger.Debit(ledger.GatewayClearing, "", 12_345), ledger.Credit(ledger.MerchantPrepaid, "merchant:7", 12_345)),
		ledger.Build("fee:1", ledger.KindFee, "statement:20261207", at, "", ledger.Debit(ledger.ChannelFees, "", 74), ledger.Credit(ledger.GatewayClearing, "", 74)),
	} {
		if _, err := a.LedgerStore.Post(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	where := a.Where
	a.Close()

	out, err := run(t, bin, "--data-dir", data, "ledger", "check")
	if err != nil || !strings.Contains(out, "123.45") || !strings.Contains(out, "124.19") || !strings.Contains(out, "no problems") {
		t.Fatalf("check of a sound journal: %v\n%s", err, out)
	}
	if out, err := run(t, bin, "--data-dir", data, "ledger", "trial"); err != nil || !strings.Contains(out, "Merchants' prepaid balances") || !strings.Contains(out, "0.74") {
		t.Fatalf("trial: %v\n%s", err, out)
	}
	out, err = run(t, bin, "--data-dir", data, "ledger", "entries", "--party", "merchant:7", "--limit", "5")
	if err != nil || !strings.Contains(out, "purchase:1:paid") || strings.Contains(out, "fee:1") || !strings.Contains(out, "2026-12-07 17:30:00") {
		t.Fatalf("entries: %v\n%s", err, out)
	}
	if out, err := run(t, bin, "--data-dir", data, "ledger", "entries", "--account", "1999"); err == nil || !strings.Contains(out, "1999") {
		t.Fatalf("entries of an unknown account: %v\n%s", err, out)
	}

	raw, err := sql.Open("sqlite", where)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`UPDATE ledger_balances SET credit = credit + 1 WHERE account = '2203' AND party = 'merchant:7'`); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	out, err = run(t, bin, "--data-dir", data, "ledger", "check")
	if err == nil || !strings.Contains(out, "balance_differs") || !strings.Contains(out, "balance:2203/merchant:7") || !strings.Contains(out, "NOT BALANCED") {
		t.Fatalf("check of a tampered balance: %v\n%s", err, out)
	}
}
