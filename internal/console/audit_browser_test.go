package console_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"piao/internal/identity"
)

// TestBrowserAuditFeeChange drives headless Chromium: the admin raises the
// last tier of the refund fee table on the fee page with a reason, then an
// auditor, in a browser of their own, finds the change on the audit page
// by its subject, with who made it, the rate before and after, and why.
func TestBrowserAuditFeeChange(t *testing.T) {
	exe := chromium(t)
	e := newEnv(t)

	admin := &h5Browser{t: t, e: e, ctx: newBrowser(t, exe, chromedp.WindowSize(1280, 1000)), step: stepper(t)}
	admin.login(loginFor(t, identity.OperatorAdmin), "/booking/fees")
	before := admin.value("read the last tier's rate", `#fees-refund input[name="rate_3"]`)
	if before != "20" {
		t.Fatalf("the default table's last tier shows %q%%, want 20", before)
	}
	admin.step("edit the fee table", chromedp.Do(admin.ctx,
		chromedp.SetValue(chromedp.CSS(`#fees-refund input[name="rate_3"]`), "25"),
		chromedp.SendKeys(chromedp.CSS(`#refund-reason`), "节前调整 holiday"),
	))
	admin.click("save the refund table", `#fees-refund button[type="submit"]`)
	if loc := admin.location(); loc != "/booking/fees?saved=refund" {
		t.Fatalf("after saving the browser is at %s", loc)
	}
	if got := admin.value("read the saved rate", `#fees-refund input[name="rate_3"]`); got != "25" {
		t.Errorf("the saved table shows %q%%, want 25", got)
	}

	auditor := &h5Browser{t: t, e: e, ctx: newBrowser(t, exe, chromedp.WindowSize(1280, 1000)), step: stepper(t)}
	auditor.login(loginFor(t, identity.OperatorAuditor), "/audit")
	auditor.step("filter by subject", chromedp.Do(auditor.ctx,
		chromedp.SendKeys(chromedp.CSS(`#au-subject`), "fee_table:refund"),
	))
	auditor.click("filter", `#audit-filter button[type="submit"]`)
	row := `#audit-entries tr[data-subject="fee_table:refund"]`
	if got := auditor.text("read the action", row+` code.action`); got != "fees.refund.set" {
		t.Errorf("action %q", got)
	}
	if got := auditor.text("read who", row+` td.actor`); !strings.Contains(got, "account:1 (admin)") {
		t.Errorf("who %q", got)
	}
	change := row + ` tr[data-field="tiers[3].basis_points"]`
	if b, a := auditor.text("read before", change+` td.before`), auditor.text("read after", change+` td.after`); b != "2000" || a != "2500" {
		t.Errorf("tiers[3].basis_points %q → %q, want 2000 → 2500", b, a)
	}
	if got := auditor.text("read why", row+` td.reason`); !strings.Contains(got, "节前调整 holiday") {
		t.Errorf("reason %q", got)
	}
	if n := auditor.count("count entries", `#audit-entries tr[data-entry]`); n != 1 {
		t.Errorf("%d entries on fee_table:refund, want 1", n)
	}
}

// value is the current value of the form field sel finds.
func (b *h5Browser) value(what, sel string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Value(chromedp.CSS(sel)))
	b.step(what, err)
	return s
}

// count is how many elements sel finds.
func (b *h5Browser) count(what, sel string) int {
	b.t.Helper()
	n, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](`document.querySelectorAll(`+"`"+sel+"`"+`).length`))
	b.step(what, err)
	return n
}
