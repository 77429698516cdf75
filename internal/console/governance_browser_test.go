package console_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"piao/internal/governance"
	"piao/internal/identity"
)

// consoleLog collects what pages write to the browser console, to catch
// script errors and Content-Security-Policy refusals.
type consoleLog struct {
	mu   sync.Mutex
	msgs []chromedp.ConsoleMessage
}

func watchConsole(ctx context.Context) *consoleLog {
	l := &consoleLog{}
	msgs := chromedp.Console(ctx) // subscribes now, before the pages load
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			l.mu.Lock()
			l.msgs = append(l.msgs, m)
			l.mu.Unlock()
		}
	}()
	return l
}

// problems are the errors, exceptions and security warnings seen so far.
func (l *consoleLog) problems() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, m := range l.msgs {
		if m.IsException() || m.Type == chromedp.ConsoleError || m.Source == "security" || strings.Contains(m.Text, "Content Security Policy") {
			out = append(out, m.String())
		}
	}
	return out
}

// TestBrowserGovernance drives headless Chromium through the governance
// pages: (a) the behaviour report over seeded bookings and cancels draws
// the Fig. 1 chart with ECharts under the console's CSP and shows the
// findings; (b) a reviewer opens a membership from the list review page,
// lifts it with a reason and sees the lift in the audit trail.
// Set PIAO_TEST_GOV_SCREENSHOT to a .png path to keep a screenshot of the
// report (and …-member.png of the membership).
func TestBrowserGovernance(t *testing.T) {
	exe := chromium(t)
	e := newEnv(t)
	e.seedBehaviour(t)
	subject := "doc:id_card:" + idNumber(50)
	m, err := e.app.Governance.Add(context.Background(), governance.Restricted, subject, "人工复核：多账号抢票", 30, "account:1 (admin)")
	if err != nil {
		t.Fatal(err)
	}

	b := &h5Browser{t: t, e: e, ctx: newBrowser(t, exe, chromedp.WindowSize(1280, 1000)), step: stepper(t)}
	logs := watchConsole(b.ctx)
	screenshot := func(path string) {
		if path == "" {
			return
		}
		png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
		b.step("screenshot", err)
		b.step("write screenshot", os.WriteFile(path, png, 0o644))
	}

	// (a) The report, after logging in as the auditor, who may read it.
	b.login(loginFor(t, identity.OperatorAuditor), "/governance/report")
	waitCtx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	b.step("wait for the Fig. 1 canvas", chromedp.Do(waitCtx, chromedp.WaitVisible(`#chart-fig1 canvas`)))
	drawn, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]string](`["chart-fig1", "chart-f2", "chart-accounts"].map(id => {
		const box = document.getElementById(id), c = box.querySelector("canvas");
		return box.dataset.drawn + " " + (c ? c.width + "x" + c.height : "none");
	})`))
	b.step("read the charts", err)
	for i, d := range drawn {
		if !strings.HasPrefix(d, "true ") || strings.HasSuffix(d, "none") || strings.HasSuffix(d, " 0x0") {
			t.Errorf("chart %d: %q, want drawn on a canvas", i, d)
		}
	}
	if share := b.text("read F4a", `#findings tr[data-key="F4a"] .share`); share != "50.0%" {
		t.Errorf("F4a shows %q, want 50.0%%", share)
	}
	if share := b.text("read F5", `#findings tr[data-key="F5"] .share`); share != "33.3%" {
		t.Errorf("F5 shows %q, want 33.3%%", share)
	}
	if median := b.text("read F2 median", `#f2 tr[data-group="gave_up"] .median`); median != "2" {
		t.Errorf("F2 gave-up median %q, want 2", median)
	}
	// ECharts describes the chart for screen readers in the container's label.
	label, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.querySelector("#chart-fig1").getAttribute("aria-label") || ""`))
	b.step("read the chart's label", err)
	if label == "" {
		t.Error("the Fig. 1 chart has no label")
	}
	// Hovering a bar shows its tooltip, which must not need inline styles.
	pt, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]float64](`(() => {
		const box = document.getElementById("chart-fig1");
		box.scrollIntoView({block: "center"});
		const r = box.getBoundingClientRect();
		return [r.left + r.width * 0.53, r.top + r.height * 0.6];
	})()`))
	b.step("find the chart", err)
	b.step("hover the chart", chromedp.Do(b.ctx, chromedp.MouseEvent("mouseMoved", pt[0], pt[1])))
	time.Sleep(300 * time.Millisecond)
	screenshot(os.Getenv("PIAO_TEST_GOV_SCREENSHOT"))

	// (b) The list review, as a reviewer, who may lift.
	b.click("log out", `form.logout button`)
	b.login(loginFor(t, identity.OperatorReviewer), "/governance/members")
	row := fmt.Sprintf(`#members tr[data-member="%d"]`, m.ID)
	if text := b.text("read the membership row", row); !strings.Contains(text, governance.MaskSubject(subject)) || strings.Contains(text, subject) || !strings.Contains(text, "受限名单") || !strings.Contains(text, "生效中") {
		t.Errorf("the membership row reads:\n%s", text)
	}
	b.click("open the membership", row+` a.member-link`)
	if loc := b.location(); loc != fmt.Sprintf("/governance/members/%d", m.ID) {
		t.Fatalf("the membership link went to %s", loc)
	}
	b.step("type the reason", chromedp.Do(b.ctx, chromedp.SendKeys(chromedp.ID("lift-reason"), "申诉核实，解除限制")))
	b.click("lift", `#lift-form button[type="submit"]`)
	if status, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.querySelector("#member-status").dataset.status`)); err != nil || status != "lifted" {
		t.Errorf("after lifting the membership is %q (%v), want lifted", status, err)
	}
	trail := b.text("read the audit trail", `#audit tr[data-action="lift"]`)
	for _, want := range []string{"解除", "申诉核实，解除限制", "(reviewer)"} {
		if !strings.Contains(trail, want) {
			t.Errorf("the lift in the audit trail lacks %q:\n%s", want, trail)
		}
	}
	if n, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](`document.querySelectorAll("#lift-form, #extend-form").length`)); err != nil || n != 0 {
		t.Errorf("a lifted membership still offers %d review forms (%v)", n, err)
	}
	if p := os.Getenv("PIAO_TEST_GOV_SCREENSHOT"); p != "" {
		screenshot(strings.TrimSuffix(p, ".png") + "-member.png")
	}

	time.Sleep(200 * time.Millisecond) // let the last console messages arrive
	if p := logs.problems(); len(p) > 0 {
		t.Errorf("the browser console reported:\n%s", strings.Join(p, "\n"))
	}
}
