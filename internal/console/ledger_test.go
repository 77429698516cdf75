package console_test

import (
	"archive/zip"
	"context"
	"database/sql"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"piao/internal/identity"
	"piao/internal/ledger"
)

// postEntry posts an entry the test builds, as a business event would.
func (e *env) postEntry(t *testing.T, key, kind, ref string, ps ...ledger.Posting) ledger.Entry {
	t.Helper()
	en, err := e.app.LedgerStore.Post(context.Background(), ledger.Build(key, kind, ref, time.Now(), "console test", ps...))
	if err != nil {
		t.Fatal(err)
	}
	return en
}

var entryLocation = regexp.MustCompile(`^/ledger/entries/[0-9]+$`)

// TestLedgerPages: the admin reads the trial balance (every account of the
// chart, balanced), filters and exports entries, reverses an entry with a
// reason and writes off a receivable within its balance; the auditor reads
// but has no form and is refused the writes; a tampered balance shows as a
// problem of the check.
func TestLedgerPages(t *testing.T) {
	e := newEnv(t)
	paid := e.postEntry(t, "purchase:c:paid", ledger.KindPurchase, "purchase:901",
		ledger.Debit(ledger.GatewayClearing, "", 12_000), ledger.Credit(ledger.MerchantPrepaid, "merchant:901", 12_000))
	e.postEntry(t, "settle:c", ledger.KindRedemption, "settlement_batch:901",
		ledger.Debit(ledger.MerchantPrepaid, "merchant:901", 2_000), ledger.Debit(ledger.FareReceivable, "", 350), ledger.Credit(ledger.FareRevenue, "", 2_350))
	admin, auditor := e.as(t, identity.OperatorAdmin), e.as(t, identity.OperatorAuditor)

	resp, body := admin.get("/ledger")
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, `id="trial-verdict" data-balanced="true"`, `id="check-`, `href="/ledger/write-offs"`, `href="/ledger" aria-current="page"`)
	if n := strings.Count(body, `<tr data-account="`); n != len(ledger.Chart) {
		t.Errorf("trial balance lists %d accounts, want %d", n, len(ledger.Chart))
	}
	resp, body = auditor.get("/ledger")
	wantStatus(t, resp, body, http.StatusOK)
	if strings.Contains(body, `href="/ledger/write-offs"`) {
		t.Error("the auditor is offered the write-off form")
	}

	resp, body = auditor.get("/ledger/entries?party=merchant:901&limit=1")
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, `data-key="settle:c"`, `id="ledger-next"`, `id="ledger-csv"`, `id="ledger-xlsx"`)
	if strings.Contains(body, `data-key="purchase:c:paid"`) {
		t.Error("a page of one holds two entries")
	}
	resp, body = auditor.get("/ledger/entries?account=2203&to=2020-01-01")
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, `id="ledger-none"`)
	resp, body = auditor.get("/ledger/entries?from=yesterday")
	wantStatus(t, resp, body, http.StatusUnprocessableEntity)

	resp, body = auditor.get("/ledger/export?format=csv&party=merchant:901")
	wantStatus(t, resp, body, http.StatusOK)
	if !strings.HasPrefix(body, "\ufeffentry_id,") || strings.Count(body, "\n") != 1+5 || !strings.Contains(resp.Header.Get("Content-Disposition"), ".csv") {
		t.Errorf("csv export:\n%s", body)
	}
	resp, body = auditor.get("/ledger/export?format=xlsx")
	if _, err := zip.NewReader(strings.NewReader(body), int64(len(body))); resp.StatusCode != 200 || err != nil {
		t.Errorf("xlsx export: %d %v", resp.StatusCode, err)
	}

	entry := "/ledger/entries/" + itoa(paid.ID)
	resp, body = auditor.get(entry)
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, "purchase:901", "merchant:901", "¥120.00")
	if strings.Contains(body, `id="reverse-form"`) {
		t.Error("the auditor is offered the reverse form")
	}
	resp, body = auditor.post(entry+"/reverse", url.Values{"csrf": {auditor.csrfFor(entry)}, "reason": {"x"}})
	wantStatus(t, resp, body, http.StatusForbidden)
	resp, body = auditor.get("/ledger/write-offs")
	wantStatus(t, resp, body, http.StatusForbidden)

	resp, body = admin.get(entry)
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, `id="reverse-form"`)
	csrf := admin.csrfFor(entry)
	resp, body = admin.post(entry+"/reverse", url.Values{"csrf": {csrf}, "reason": {"  "}})
	wantStatus(t, resp, body, http.StatusUnprocessableEntity)
	wantContains(t, body, `id="reverse-form"`, "请填写原因")
	resp, body = admin.post(entry+"/reverse", url.Values{"csrf": {csrf}, "reason": {"重复付款"}})
	wantStatus(t, resp, body, http.StatusSeeOther)
	rev := resp.Header.Get("Location")
	if !entryLocation.MatchString(rev) || rev == entry {
		t.Fatalf("reversed to %q", rev)
	}
	resp, body = admin.get(rev)
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, `id="entry-reverses"`, "重复付款")
	resp, body = admin.get(entry)
	wantContains(t, body, `id="entry-reversed-by"`)
	if strings.Contains(body, `id="reverse-form"`) {
		t.Error("a reversed entry still offers the form")
	}
	resp, body = admin.post(entry+"/reverse", url.Values{"csrf": {csrf}, "reason": {"again"}})
	wantStatus(t, resp, body, http.StatusConflict)

	// Write-offs: the form's key makes a second submission post nothing.
	resp, body = admin.get("/ledger/write-offs?account=1121")
	wantStatus(t, resp, body, http.StatusOK)
	key := regexp.MustCompile(`name="key" value="([0-9a-f]+)"`).FindStringSubmatch(body)
	if key == nil {
		t.Fatalf("no key in the form:\n%s", body)
	}
	form := url.Values{"csrf": {csrf}, "key": {key[1]}, "account": {"1121"}, "amount": {"3.51"}, "reason": {"乘客失联"}}
	resp, body = admin.post("/ledger/write-offs", form)
	wantStatus(t, resp, body, http.StatusUnprocessableEntity)
	wantContains(t, body, "超过科目余额", `id="write-off-form"`, `value="3.51"`)
	form.Set("amount", "3.50")
	resp, body = admin.post("/ledger/write-offs", form)
	wantStatus(t, resp, body, http.StatusSeeOther)
	wo := resp.Header.Get("Location")
	resp, body = admin.post("/ledger/write-offs", form)
	wantStatus(t, resp, body, http.StatusSeeOther)
	if again := resp.Header.Get("Location"); again != wo || !entryLocation.MatchString(wo) {
		t.Fatalf("write-off posted at %q, its resubmission at %q", wo, again)
	}
	resp, body = admin.get(wo)
	wantContains(t, body, "核销损失", "乘客失联", "¥3.50")

	// A balance changed behind the journal's back is a problem of the check.
	raw, err := sql.Open("sqlite", e.app.Where)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec(`UPDATE ledger_balances SET debit = debit + 7 WHERE account = '1101'`); err != nil {
		t.Fatal(err)
	}
	resp, body = auditor.get("/ledger")
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, `data-balanced="false"`, `id="check-problems"`, `data-check="balance_differs"`, "balance:1101/")
}

// TestMerchantBalancePage: the merchant sees its balance and its own lines
// of the entries touching it, never another merchant's; the page is in its
// menu; staff without finance are refused.
func TestMerchantBalancePage(t *testing.T) {
	e := newEnv(t)
	e.postEntry(t, "buy:1", ledger.KindPurchase, "purchase:1", ledger.Debit(ledger.GatewayClearing, "", 4_000), ledger.Credit(ledger.MerchantPrepaid, "merchant:1", 4_000))
	e.postEntry(t, "buy:2", ledger.KindPurchase, "purchase:2", ledger.Debit(ledger.GatewayClearing, "", 6_000), ledger.Credit(ledger.MerchantPrepaid, "merchant:2", 6_000))
	e.postEntry(t, "settle:12", ledger.KindRedemption, "settlement_batch:12",
		ledger.Debit(ledger.MerchantPrepaid, "merchant:1", 150), ledger.Debit(ledger.MerchantPrepaid, "merchant:2", 250), ledger.Credit(ledger.FareRevenue, "", 400))
	cl := e.as(t, identity.MerchantAdmin)
	resp, body := cl.get("/merchant/balance")
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, `href="/merchant/balance" aria-current="page"`, `data-key="buy:1"`, `data-key="settle:12"`, "¥1.50")
	for _, leak := range []string{"merchant:2", `data-key="buy:2"`, "¥60.00", "¥2.50", "6001"} {
		if strings.Contains(body, leak) {
			t.Errorf("merchant 1's balance page shows %q", leak)
		}
	}
	wantContains(t, body, `id="merchant-balances"`)
	staff := e.as(t, identity.MerchantStaff) // the demo's staff hold no finance grant
	resp, _ = staff.get("/merchant/balance")
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("staff without finance: %d", resp.StatusCode)
	}
}
