package main_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"piao/internal/payment"
)

// TestReconcileExitStatus: a day with nothing on any side reconciles
// clean (exit 0); a statement file holding a payment piao never recorded
// prints that difference and exits non-zero; a malformed file is refused
// naming its line and column.
func TestReconcileExitStatus(t *testing.T) {
	bin := piaoBinary(t)
	data := t.TempDir()
	if out, err := run(t, bin, "--data-dir", data, "keys", "init"); err != nil {
		t.Fatalf("keys init: %v %s", err, out)
	}
	out, err := run(t, bin, "--data-dir", data, "reconcile", "--date", "2026-03-01")
	if err != nil || !strings.Contains(out, "0 differences") {
		t.Fatalf("clean day: %v\n%s", err, out)
	}
	var file strings.Builder
	_ = payment.WriteStatement(&file, []payment.StatementLine{{
		At: time.Date(2026, 3, 2, 9, 0, 0, 0, payment.Shanghai), OrderRef: "order:1", PaymentID: "pay_stranger",
		Type: payment.LinePayment, AmountFen: 1234, FeeFen: 7, Status: payment.LineSucceeded,
	}})
	path := filepath.Join(t.TempDir(), "statement.csv")
	if err := os.WriteFile(path, []byte(file.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err = run(t, bin, "--data-dir", data, "reconcile", "--date", "2026-03-02", "--statement", path)
	if err == nil || !strings.Contains(out, "1 differences") || !strings.Contains(out, "payment pay_stranger missing from piao's records, the ledger (the statement 12.34)") {
		t.Fatalf("planted day: %v\n%s", err, out)
	}
	if strings.Contains(out, "fees posted") { // a run with differences is not trusted with the fees
		t.Errorf("the fees of a statement with differences were posted:\n%s", out)
	}
	bad := strings.Replace(file.String(), "`12.34", "`12.3", 1)
	if err := os.WriteFile(path, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err = run(t, bin, "--data-dir", data, "reconcile", "--date", "2026-03-02", "--statement", path)
	if err == nil || !strings.Contains(out, "statement line 2, column 金额(元)") {
		t.Fatalf("malformed file: %v\n%s", err, out)
	}
}
