package console_test

import (
	"archive/zip"
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"piao/internal/identity"
	"piao/internal/ledger"
	"piao/internal/payment"
)

var runLocation = regexp.MustCompile(`^/reconciliations/[0-9]+$`)

// TestReconcilePages: the admin reconciles today, where the ledger holds
// a payment the channel never reported: the run's page lists that one
// difference to the fen and exports it as CSV and XLSX, and the list shows
// the run; the auditor reads but has no form and is refused the run; a
// bad day is refused, naming it.
func TestReconcilePages(t *testing.T) {
	e := newEnv(t)
	en := ledger.Build("purchase:rc:paid", ledger.KindPurchase, "purchase:902", time.Now(), "console test",
		ledger.Debit(ledger.GatewayClearing, "", 12_345), ledger.Credit(ledger.MerchantPrepaid, "merchant:902", 12_345))
	en.External = "pay_console_only"
	if _, err := e.app.LedgerStore.Post(context.Background(), en); err != nil {
		t.Fatal(err)
	}
	admin, auditor := e.as(t, identity.OperatorAdmin), e.as(t, identity.OperatorAuditor)
	today := time.Now().In(payment.Shanghai).Format(payment.DayLayout)

	resp, body := admin.get("/reconciliations")
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, `id="reconcile-form"`, `id="reconcile-none"`, `href="/reconciliations" aria-current="page"`)
	csrf := admin.csrfFor("/reconciliations")
	resp, body = admin.post("/reconciliations", url.Values{"csrf": {csrf}, "day": {"yesterday"}})
	wantStatus(t, resp, body, http.StatusUnprocessableEntity)
	wantContains(t, body, "YYYY-MM-DD", `id="reconcile-form"`)
	resp, body = admin.post("/reconciliations", url.Values{"csrf": {csrf}, "day": {today}})
	wantStatus(t, resp, body, http.StatusSeeOther)
	run := resp.Header.Get("Location")
	if !runLocation.MatchString(run) {
		t.Fatalf("ran to %q", run)
	}
	resp, body = auditor.get(run)
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, `id="run-verdict" data-clean="false"`, `data-external="pay_console_only" data-statement-fen="" data-piao-fen="" data-ledger-fen="12345"`,
		"¥123.45", "ledger:entry:", `id="run-csv"`, `id="run-xlsx"`)
	if n := strings.Count(body, "<tr data-external="); n != 1 {
		t.Errorf("the run lists %d differences, want 1", n)
	}
	resp, body = auditor.get(run + "/export?format=csv")
	wantStatus(t, resp, body, http.StatusOK)
	if !strings.Contains(body, "pay_console_only") || strings.Count(body, "\n") != 2 || !strings.Contains(resp.Header.Get("Content-Disposition"), ".csv") {
		t.Errorf("csv export:\n%s", body)
	}
	resp, body = auditor.get(run + "/export?format=xlsx")
	if _, err := zip.NewReader(strings.NewReader(body), int64(len(body))); resp.StatusCode != 200 || err != nil {
		t.Errorf("xlsx export: %d %v", resp.StatusCode, err)
	}
	resp, body = auditor.get("/reconciliations")
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, `data-day="`+today+`" data-differences="1"`)
	if strings.Contains(body, `id="reconcile-form"`) {
		t.Error("the auditor is offered the form")
	}
	resp, body = auditor.post("/reconciliations", url.Values{"csrf": {auditor.csrfFor("/reconciliations")}, "day": {today}})
	wantStatus(t, resp, body, http.StatusForbidden)
	resp, body = auditor.get("/reconciliations/999999")
	wantStatus(t, resp, body, http.StatusNotFound)
	resp, body = auditor.get("/reconciliations?day=2020-01-01")
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, `id="reconcile-none"`)
}

// TestStatementPages: the operator reads any merchant's month and exports
// it; a merchant's finance login reads its own month (and none of another
// merchant's lines) and exports it; a bad month is refused, naming the
// form; staff without the finance grant are refused.
func TestStatementPages(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for _, p := range []struct {
		key, party string
		fen        int64
	}{{"buy:st1", "merchant:1", 4_000}, {"buy:st2", "merchant:2", 6_000}} {
		if _, err := e.app.LedgerStore.Post(ctx, ledger.Build(p.key, ledger.KindPurchase, "purchase:"+p.key, time.Now(), "console test",
			ledger.Debit(ledger.GatewayClearing, "", p.fen), ledger.Credit(ledger.MerchantPrepaid, p.party, p.fen))); err != nil {
			t.Fatal(err)
		}
	}
	month := time.Now().In(payment.Shanghai).Format("2006-01")
	auditor := e.as(t, identity.OperatorAuditor)
	resp, body := auditor.get("/statements")
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, `id="statement-form"`, `name="merchant"`)
	resp, body = auditor.get("/statements?merchant=2&month=" + month)
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, "merchant:2", "purchase:buy:st2", "¥60.00", `id="statement-csv"`, `id="statement-xlsx"`)
	if strings.Contains(body, "purchase:buy:st1") {
		t.Error("merchant 2's statement holds merchant 1's line")
	}
	resp, body = auditor.get("/statements?merchant=2&month=2026-13")
	wantStatus(t, resp, body, http.StatusUnprocessableEntity)
	wantContains(t, body, "YYYY-MM", `id="statement-form"`)
	resp, body = auditor.get("/statements/export?format=csv&merchant=2&month=" + month)
	wantStatus(t, resp, body, http.StatusOK)
	if !strings.Contains(body, "purchase:buy:st2") || !strings.Contains(body, "6000") {
		t.Errorf("operator's csv:\n%s", body)
	}

	cl := e.as(t, identity.MerchantAdmin)
	resp, body = cl.get("/merchant/statements")
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, "purchase:buy:st1", "¥40.00", `href="/merchant/statements" aria-current="page"`)
	for _, leak := range []string{"merchant:2", "purchase:buy:st2", "¥60.00", `name="merchant"`, `href="/ledger/entries/`} {
		if strings.Contains(body, leak) {
			t.Errorf("the merchant's statement shows %q", leak)
		}
	}
	resp, body = cl.get("/merchant/statements?month=2020-01")
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, `id="statement-empty"`)
	resp, body = cl.get("/merchant/statements/export?format=xlsx&month=" + month)
	if _, err := zip.NewReader(strings.NewReader(body), int64(len(body))); resp.StatusCode != 200 || err != nil {
		t.Errorf("merchant xlsx export: %d %v", resp.StatusCode, err)
	}
	resp, body = cl.get("/merchant/statements/export?format=csv&month=" + month)
	if resp.StatusCode != 200 || !strings.Contains(body, "purchase:buy:st1") || strings.Contains(body, "buy:st2") {
		t.Errorf("merchant csv export: %d\n%s", resp.StatusCode, body)
	}
	resp, body = cl.get("/statements?merchant=2&month=" + month)
	wantStatus(t, resp, body, http.StatusForbidden)
	staff := e.as(t, identity.MerchantStaff)
	resp, body = staff.get("/merchant/statements")
	wantStatus(t, resp, body, http.StatusForbidden)
}
