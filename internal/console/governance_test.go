package console_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"piao/internal/booking"
	"piao/internal/governance"
	"piao/internal/identity"
	"piao/internal/network"
)

// as logs a new client in as the demo login of role.
func (e *env) as(t *testing.T, role identity.Role) *client {
	t.Helper()
	cl := e.client(t)
	cl.login(loginFor(t, role))
	return cl
}

// bookZ66 books a Z66 hard sleeper lower berth NCG→BXP tomorrow for one
// passenger through the booking service and returns the order.
func (e *env) bookZ66(t *testing.T, account int64, name, doc string) booking.Order {
	t.Helper()
	res, err := e.app.Booking.Book(context.Background(), booking.BookRequest{AccountID: account, Train: "Z66", Date: e.today.AddDays(1).String(),
		From: "NCG", To: "BXP", Passengers: []booking.PassengerRequest{{Name: name, DocType: "id_card", DocNumber: doc, SeatClass: network.HardSleeper, Berth: network.Lower}}})
	if err != nil {
		t.Fatalf("book for %s: %v", name, err)
	}
	return res.Order
}

// cancel cancels a held order through the booking service.
func (e *env) cancel(t *testing.T, account int64, o booking.Order) booking.Order {
	t.Helper()
	got, err := e.app.Booking.Cancel(context.Background(), o.ID, account)
	if err != nil {
		t.Fatalf("cancel order %d: %v", o.ID, err)
	}
	return got
}

// pay pays a held order through the sandbox and waits until it is paid.
func (e *env) pay(t *testing.T, account int64, o booking.Order) {
	t.Helper()
	ctx := context.Background()
	p, err := e.app.Booking.Payment(ctx, o.ID, account)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.app.Sandbox.Pay(ctx, p.ID); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		got, err := e.app.Booking.Order(ctx, o.ID, 0)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status == booking.Paid {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("order %d still %s 15 s after paying", o.ID, got.Status)
		}
	}
}

// behaviourSeed is what seedBehaviour booked.
type behaviourSeed struct {
	accounts [3]int64 // A, B, C
	docs     [3]string
}

// seedBehaviour books and cancels through booking.Service, tomorrow on Z66:
//
//	P1, account A: cancels once, then books again and pays (1 cancel before success);
//	P2, account B: cancels twice and gives up (everything cancelled, never paid);
//	P3, account C: books and pays.
//
// So of 3 passengers, 2 cancelled; F4a = 1/2, F4b = F5 = 1/3; Fig. 1 has
// one passenger each at 0 %, (40 %, 50 %] and (90 %, 100 %].
func (e *env) seedBehaviour(t *testing.T) behaviourSeed {
	t.Helper()
	var s behaviourSeed
	for i, name := range []string{"seed_a", "seed_b", "seed_c"} {
		s.accounts[i], _ = e.newPassenger(t, name)
		s.docs[i] = idNumber(60 + i)
	}
	a, b, c := s.accounts[0], s.accounts[1], s.accounts[2]
	e.cancel(t, a, e.bookZ66(t, a, "赵一", s.docs[0]))
	e.pay(t, a, e.bookZ66(t, a, "赵一", s.docs[0]))
	e.cancel(t, b, e.bookZ66(t, b, "钱二", s.docs[1]))
	e.cancel(t, b, e.bookZ66(t, b, "钱二", s.docs[1]))
	e.pay(t, c, e.bookZ66(t, c, "孙三", s.docs[2]))
	return s
}

func TestGovernancePagesTable(t *testing.T) {
	c := newEnv(t).console
	perm := map[string]identity.Permission{}
	for _, p := range c.Pages() {
		perm[p.Method+" "+p.Path] = p.Permission
	}
	for route, want := range map[string]identity.Permission{
		"GET /governance":                      identity.GovernanceRead,
		"POST /governance/evaluate":            identity.GovernanceEdit,
		"GET /governance/members":              identity.GovernanceRead,
		"POST /governance/members":             identity.GovernanceEdit,
		"GET /governance/members/{id}":         identity.GovernanceRead,
		"POST /governance/members/{id}/lift":   identity.GovernanceEdit,
		"POST /governance/members/{id}/extend": identity.GovernanceEdit,
		"GET /governance/rules":                identity.GovernanceRead,
		"POST /governance/rules":               identity.BookingAdmin,
		"GET /governance/report":               identity.GovernanceRead,
		"GET /governance/report.csv":           identity.GovernanceRead,
		"GET /static/{file...}":                identity.Public,
	} {
		if got, ok := perm[route]; !ok {
			t.Errorf("route %s missing", route)
		} else if got != want {
			t.Errorf("route %s needs %s, want %s", route, got, want)
		}
	}
	// Auditors read but do not edit; passengers and merchants see nothing.
	if !identity.Allowed(identity.OperatorAuditor, identity.GovernanceRead) || identity.Allowed(identity.OperatorAuditor, identity.GovernanceEdit) {
		t.Error("auditors must read governance and not edit it")
	}
}

func TestGovernanceNavigation(t *testing.T) {
	e := newEnv(t)
	for role, want := range map[identity.Role]bool{
		identity.OperatorAdmin: true, identity.OperatorReviewer: true, identity.OperatorAuditor: true,
		identity.MerchantAdmin: false, identity.Passenger: false,
	} {
		_, body := e.as(t, role).get("/")
		if got := strings.Contains(body, `<a href="/governance">治理</a>`); got != want {
			t.Errorf("%s: governance in the menu = %v, want %v", role, got, want)
		}
	}
	_, body := e.as(t, identity.OperatorAuditor).get("/governance/members")
	wantContains(t, body, `<a href="/governance" aria-current="page">治理</a>`, `<a href="/governance/members" aria-current="page">名单审核</a>`)
}

func TestGovernanceOverviewAndEvaluate(t *testing.T) {
	e := newEnv(t)
	s := e.seedBehaviour(t)
	ctx := context.Background()

	auditor := e.as(t, identity.OperatorAuditor)
	resp, body := auditor.get("/governance")
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, "取消治理", "现行规则", "每个账号每日最多手工取消 3 次", "同一乘车人当日被取消 2 次起提醒",
		"当日不能再为其订票", "每日 00:00（北京时间）起重新计数", "最近 30 天", "窗口内至少 5 笔交易且全部取消或超时",
		"窗口内手工取消超过 100 次", "支付占比不低于 70%", `<tr data-list="malicious"><th scope="row">疑似恶意名单</th><td>不变</td><td>无</td><td>拒绝</td></tr>`,
		`<tr data-list="restricted"><th scope="row">受限名单</th><td>10 分钟</td><td>2000 毫秒</td><td>否</td></tr>`,
		`href="/governance/members?active=1&amp;list=restricted" class="count">0</a>`)
	if strings.Contains(body, "evaluate-form") {
		t.Error("an auditor is offered to evaluate the lists")
	}
	resp, body = auditor.post("/governance/evaluate", url.Values{"csrf": {csrfIn(body)}})
	wantStatus(t, resp, body, http.StatusForbidden)

	// Lower the thresholds so the seed matches: P2 and account B cancelled
	// everything (restricted); P3 and account C paid everything (priority).
	rules := governance.DefaultRules()
	rules.Lists.RestrictedMinOrders, rules.Lists.PriorityMinTransactions = 2, 1
	if err := e.app.Governance.SetRules(ctx, rules, "test", ""); err != nil {
		t.Fatal(err)
	}
	reviewer := e.as(t, identity.OperatorReviewer)
	_, body = reviewer.get("/governance")
	wantContains(t, body, `id="evaluate-form"`, ">按规则评估名单</button>")
	resp, body = reviewer.post("/governance/evaluate", url.Values{"csrf": {csrfIn(body)}})
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, "评估结果", "笔交易",
		`<tr data-list="restricted"><th scope="row">受限名单</th><td class="num added">2</td>`,
		`<tr data-list="priority"><th scope="row">优先名单</th><td class="num added">2</td>`,
		`href="/governance/members?active=1&amp;list=restricted" class="count">2</a>`)
	ms, err := e.app.Governance.Members(ctx, governance.MemberFilter{List: governance.Restricted})
	if err != nil {
		t.Fatal(err)
	}
	subjects := map[string]bool{}
	for _, m := range ms {
		subjects[m.Subject] = true
	}
	if !subjects["doc:id_card:"+s.docs[1]] || !subjects[governance.AccountSubject(s.accounts[1])] {
		t.Errorf("restricted after evaluating: %v", subjects)
	}
}

// memberLocRE matches a membership page.
var memberLocRE = regexp.MustCompile(`^/governance/members/([0-9]+)$`)

func TestGovernanceMembers(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	reviewer := e.as(t, identity.OperatorReviewer)
	subject := "doc:id_card:" + idNumber(30)
	shown := governance.MaskSubject(subject) // pages show the document masked
	if !strings.Contains(shown, "**********") {
		t.Fatalf("MaskSubject(%q) = %q", subject, shown)
	}

	resp, body := reviewer.get("/governance/members")
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, "没有符合条件的名单记录", `id="add-form"`, `<label for="add-subject">对象</label>`, `name="days" type="number"`)
	csrf := csrfIn(body)

	// Add by hand.
	add := url.Values{"csrf": {csrf}, "list": {"restricted"}, "subject": {subject}, "reason": {"人工复核：疑似倒票"}, "days": {"7"}}
	resp, body = reviewer.post("/governance/members", add)
	wantStatus(t, resp, body, http.StatusSeeOther)
	m := memberLocRE.FindStringSubmatch(resp.Header.Get("Location"))
	if m == nil {
		t.Fatalf("after adding Location = %q", resp.Header.Get("Location"))
	}
	id, _ := strconv.ParseInt(m[1], 10, 64)
	page := m[0]
	resp, body = reviewer.get(page)
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, fmt.Sprintf("名单记录 %d", id), `data-status="active"`, "受限名单", "<code>"+shown+"</code>", "人工", "人工复核：疑似倒票",
		`<tr data-action="add">`, "(reviewer)</code>", `id="lift-form"`, `id="extend-form"`, "时间均为北京时间")

	// The review page lists it and filters.
	_, body = reviewer.get("/governance/members")
	wantContains(t, body, fmt.Sprintf(`<tr data-member="%d" data-status="active">`, id), "<code>"+shown+"</code>", `href="`+page+`"`, "生效中")
	if strings.Contains(body, subject) {
		t.Error("the review page shows the full document number")
	}
	for q, want := range map[string]bool{"list=restricted": true, "list=priority": false, "subject=" + url.QueryEscape(subject): true,
		"subject=account:1": false, "active=1": true, "list=malicious&active=1": false} {
		_, body = reviewer.get("/governance/members?" + q)
		if got := strings.Contains(body, fmt.Sprintf(`data-member="%d"`, id)); got != want {
			t.Errorf("?%s lists membership %d: %v, want %v", q, id, got, want)
		}
	}
	resp, body = reviewer.get("/governance/members?list=nope")
	wantStatus(t, resp, body, http.StatusUnprocessableEntity)
	wantContains(t, body, "没有名单", "there is no list")

	// Refusals keep what was typed.
	resp, body = reviewer.post("/governance/members", add)
	wantStatus(t, resp, body, http.StatusConflict)
	wantContains(t, body, `role="alert"`, "已在该名单中", "extend it instead", `value="`+subject+`"`, "人工复核：疑似倒票</textarea>")
	bad := url.Values{"csrf": {csrf}, "list": {"priority"}, "subject": {"passenger 12"}, "reason": {"理由"}, "days": {"7"}}
	resp, body = reviewer.post("/governance/members", bad)
	wantStatus(t, resp, body, http.StatusUnprocessableEntity)
	wantContains(t, body, "应为 account:账号ID", "must be account:ID", `value="passenger 12"`, `<option value="priority" selected>`)
	bad.Set("subject", "account:99")
	bad.Set("days", "0")
	resp, body = reviewer.post("/governance/members", bad)
	wantStatus(t, resp, body, http.StatusUnprocessableEntity)
	wantContains(t, body, "天数须在 1–3660 之间", "days must be 1–3660")

	// Extend, then lift.
	before, err := e.app.Governance.Member(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	resp, body = reviewer.post(page+"/extend", url.Values{"csrf": {csrf}, "days": {"0"}, "reason": {"继续观察"}})
	wantStatus(t, resp, body, http.StatusUnprocessableEntity)
	wantContains(t, body, "天数须在 1–3660 之间", "继续观察</textarea>", `id="extend-form"`)
	resp, body = reviewer.post(page+"/extend", url.Values{"csrf": {csrf}, "days": {"3"}, "reason": {"继续观察"}})
	wantStatus(t, resp, body, http.StatusSeeOther)
	after, err := e.app.Governance.Member(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if got := after.Expires.Sub(before.Expires); got != 72*time.Hour {
		t.Errorf("extending by 3 days moved the expiry by %s", got)
	}
	_, body = reviewer.get(page)
	wantContains(t, body, `<tr data-action="extend">`, "延期", "继续观察", beijingMinute(after.Expires))

	resp, body = reviewer.post(page+"/lift", url.Values{"csrf": {csrf}, "reason": {"  "}})
	wantStatus(t, resp, body, http.StatusUnprocessableEntity)
	wantContains(t, body, "请填写原因", "give a reason")

	// An auditor reads the trail but may not lift.
	auditor := e.as(t, identity.OperatorAuditor)
	resp, body = auditor.get(page)
	wantStatus(t, resp, body, http.StatusOK)
	if strings.Contains(body, "lift-form") || strings.Contains(body, "extend-form") {
		t.Error("an auditor is offered the review forms")
	}
	_, body = auditor.get("/governance/members")
	if strings.Contains(body, "add-form") {
		t.Error("an auditor is offered the add form")
	}
	resp, body = auditor.post(page+"/lift", url.Values{"csrf": {csrfIn(body)}, "reason": {"审计员不能解除"}})
	wantStatus(t, resp, body, http.StatusForbidden)

	resp, body = reviewer.post(page+"/lift", url.Values{"csrf": {csrf}, "reason": {"申诉成立"}})
	wantStatus(t, resp, body, http.StatusSeeOther)
	if got := resp.Header.Get("Location"); got != page {
		t.Errorf("after lifting Location = %q", got)
	}
	resp, body = reviewer.get(page)
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, `data-status="lifted"`, "已解除", `<tr data-action="lift">`, "申诉成立", "解除人", "(reviewer)")
	if strings.Contains(body, "lift-form") {
		t.Error("a lifted membership offers to lift it")
	}
	lifted, err := e.app.Governance.Member(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if lifted.LiftedAt == nil || !strings.Contains(lifted.LiftedBy, "(reviewer)") || lifted.LiftReason != "申诉成立" {
		t.Errorf("after lifting: %+v", lifted)
	}
	last := lifted.Events[len(lifted.Events)-1]
	if last.Action != "lift" || !strings.Contains(last.Actor, "(reviewer)") {
		t.Errorf("last audit entry = %+v", last)
	}
	resp, body = reviewer.post(page+"/lift", url.Values{"csrf": {csrf}, "reason": {"再次解除"}})
	wantStatus(t, resp, body, http.StatusConflict)
	wantContains(t, body, "已解除或已到期", "was lifted or has expired")

	// Missing memberships.
	resp, body = reviewer.get("/governance/members/999999")
	wantStatus(t, resp, body, http.StatusNotFound)
	resp, body = reviewer.get("/governance/members/abc")
	wantStatus(t, resp, body, http.StatusNotFound)
	wantContains(t, body, "名单记录 abc 不存在", "membership abc does not exist")
}

func TestGovernanceMembersPaging(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for i := range 52 {
		if _, err := e.app.Governance.Add(ctx, governance.Priority, fmt.Sprintf("account:%d", 1000+i), "测试", 30, "test"); err != nil {
			t.Fatal(err)
		}
	}
	cl := e.as(t, identity.OperatorAuditor)
	_, body := cl.get("/governance/members?list=priority")
	if n := strings.Count(body, "<tr data-member="); n != 50 {
		t.Errorf("page 1 has %d rows, want 50", n)
	}
	wantContains(t, body, `href="/governance/members?list=priority&amp;page=2" rel="next"`, "第 1 页")
	_, body = cl.get("/governance/members?list=priority&page=2")
	if n := strings.Count(body, "<tr data-member="); n != 2 {
		t.Errorf("page 2 has %d rows, want 2", n)
	}
	wantContains(t, body, `href="/governance/members?list=priority" rel="prev"`, "第 2 页")
	if strings.Contains(body, `rel="next"`) {
		t.Error("the last page links to a next one")
	}
}

// rulesPost is the rules form with the default rules and changes.
func rulesPost(csrf string, changes map[string]string) url.Values {
	f := url.Values{"csrf": {csrf}, "day_start": {"00:00"}, "account_cancel_limit": {"3"}, "document_warn_at": {"2"}, "document_cancel_limit": {"3"},
		"window_days": {"30"}, "membership_days": {"30"}, "restricted_min_orders": {"5"}, "priority_min_paid_share": {"0.7"},
		"priority_min_transactions": {"3"}, "malicious_over_cancels": {"100"},
		"hold_restricted": {"10"}, "delay_restricted": {"2000"}, "hold_malicious": {"0"}, "delay_malicious": {"0"}, "block_malicious": {"1"},
		"hold_priority": {"0"}, "delay_priority": {"0"}}
	for k, v := range changes {
		if v == "" {
			f.Del(k)
		} else {
			f.Set(k, v)
		}
	}
	return f
}

func TestGovernanceRules(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()

	reviewer := e.as(t, identity.OperatorReviewer)
	resp, body := reviewer.get("/governance/rules")
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, "现行规则", "每个账号每日最多手工取消 3 次", `id="rules-readonly"`)
	if strings.Contains(body, "rules-form") {
		t.Error("a reviewer is offered the rules form")
	}
	resp, body = reviewer.post("/governance/rules", rulesPost(csrfIn(body), nil))
	wantStatus(t, resp, body, http.StatusForbidden)

	admin := e.as(t, identity.OperatorAdmin)
	resp, body = admin.get("/governance/rules")
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, `id="rules-form"`, `id="account_cancel_limit" name="account_cancel_limit" type="number" inputmode="numeric" step="1" value="3"`,
		`id="priority_min_paid_share" name="priority_min_paid_share" type="number" inputmode="decimal" step="0.01" value="0.7"`,
		`id="block_malicious" name="block_malicious" value="1" checked`, `id="hold_restricted" name="hold_restricted" type="number" inputmode="numeric" step="1" value="10"`,
		`<label for="day_start">服务日起始时间 <code class="field-code">day_start</code></label>`)
	csrf := csrfIn(body)

	// A valid change is stored and shown.
	resp, body = admin.post("/governance/rules", rulesPost(csrf, map[string]string{"account_cancel_limit": "5", "hold_restricted": "15",
		"block_malicious": "", "block_restricted": "1", "count_expiries": "1", "day_start": "06:00"}))
	wantStatus(t, resp, body, http.StatusSeeOther)
	if got := resp.Header.Get("Location"); got != "/governance/rules?saved=1" {
		t.Errorf("after saving Location = %q", got)
	}
	r, err := e.app.Governance.Rules(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if r.AccountCancelLimit != 5 || r.DayStart != "06:00" || !r.CountExpiries || r.Lists.Effects[governance.Restricted] != (governance.Effect{HoldMinutes: 15, DelayMillis: 2000, Block: true}) ||
		r.Lists.Effects[governance.Malicious].Block {
		t.Errorf("rules after saving: %+v", r)
	}
	_, body = admin.get("/governance/rules?saved=1")
	wantContains(t, body, "规则已保存并生效", "每个账号每日最多手工取消 5 次", "每日 06:00（北京时间）起重新计数", "是：超时返库与手工取消一并计入乘车人次数",
		`<tr data-list="restricted"><th scope="row">受限名单</th><td>15 分钟</td><td>2000 毫秒</td><td>拒绝</td></tr>`)

	// Invalid rules are refused with governance's message; the input stays.
	for _, c := range []struct {
		changes map[string]string
		say     []string
	}{
		{map[string]string{"document_warn_at": "5"}, []string{"须小于 document_cancel_limit", "must be below document_cancel_limit", `name="document_warn_at" type="number" inputmode="numeric" step="1" value="5"`}},
		{map[string]string{"account_cancel_limit": "abc"}, []string{"account_cancel_limit：须为整数", "must be a whole number", `value="abc"`}},
		{map[string]string{"priority_min_paid_share": "1.5"}, []string{"lists.priority_min_paid_share", "must be in (0, 1]", `value="1.5"`}},
		{map[string]string{"day_start": "25:00"}, []string{"须为 HH:MM", "must be HH:MM", `value="25:00"`}},
		{map[string]string{"delay_priority": "99999"}, []string{"lists.effects.priority", "delay 0–60000 ms", `value="99999"`}},
	} {
		resp, body = admin.post("/governance/rules", rulesPost(csrf, c.changes))
		wantStatus(t, resp, body, http.StatusUnprocessableEntity)
		wantContains(t, body, append(c.say, `role="alert"`, `id="rules-form"`, "每个账号每日最多手工取消 5 次")...)
	}
	if r2, _ := e.app.Governance.Rules(ctx); r2.AccountCancelLimit != 5 || r2.DocumentWarnAt != 2 {
		t.Errorf("refused rules changed what is in force: %+v", r2)
	}
}

// reportCharts is the JSON the report page embeds for its charts.
type reportCharts struct {
	Lang   string `json:"lang"`
	Charts []struct {
		ID         string   `json:"id"`
		Categories []string `json:"categories"`
		Series     []struct {
			Name   string    `json:"name"`
			Data   []float64 `json:"data"`
			Counts []int64   `json:"counts"`
		} `json:"series"`
	} `json:"charts"`
}

var chartsRE = regexp.MustCompile(`(?s)<script type="application/json" id="gov-report-data">(.*?)</script>`)

func TestGovernanceReport(t *testing.T) {
	e := newEnv(t)
	e.seedBehaviour(t)
	cl := e.as(t, identity.OperatorAuditor)
	from, to := e.today.AddDays(-29).String(), e.today.String()

	resp, body := cl.get("/governance/report")
	wantStatus(t, resp, body, http.StatusOK)
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe") {
		t.Errorf("report CSP = %q", csp)
	}
	wantContains(t, body, `id="from" name="from" type="date" value="`+from+`"`, `id="to" name="to" type="date" value="`+to+`"`,
		"全网 · "+from+" 至 "+to,
		`<script src="/static/vendor/echarts/echarts.min.js"></script>`, `<script src="/static/governance_report.js"></script>`,
		`<div class="chart" id="chart-fig1" role="img"`, `id="chart-f2"`, `id="chart-accounts"`,
		`href="/governance/report.csv?from=`+from+`&amp;to=`+to+`"`)
	share := func(key, ratio, pct string) string {
		return `title="` + "有手工取消的乘车人" + `">` + ratio + `</td>
        <td class="num share">` + pct + `</td>`
	}
	wantContains(t, body,
		`<tr data-key="F4a">`, "有手工取消的乘车人的购票成功率", share("F4a", "1 / 2", "50.0%"),
		`<tr data-key="F5">`, "33.3%", `<tr data-key="F4b">`, `<tr data-key="F1">`, share("F1", "0 / 2", "0.0%"),
		`<tr data-group="success"><th scope="row">成功购票</th><td class="num">1</td><td class="num median">1</td><td class="num mean">1.00</td><td class="num p90">1</td></tr>`,
		`<tr data-group="gave_up"><th scope="row">放弃</th><td class="num">1</td><td class="num median">2</td><td class="num mean">2.00</td><td class="num p90">2</td></tr>`,
		"<dt>乘车人数</dt><dd class=\"num-val\">3</dd>", "<dt>手工取消</dt><dd class=\"num-val\">3</dd>", "<dt>支付成功</dt><dd class=\"num-val\">2</dd>")
	m := chartsRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no chart data in the page")
	}
	var charts reportCharts
	if err := json.Unmarshal([]byte(m[1]), &charts); err != nil {
		t.Fatalf("chart data: %v\n%s", err, m[1])
	}
	if charts.Lang != "ZH" || len(charts.Charts) != 3 {
		t.Fatalf("chart data = %+v", charts)
	}
	fig1 := charts.Charts[0]
	if fig1.ID != "chart-fig1" || len(fig1.Categories) != 11 || fig1.Categories[0] != "0%" || fig1.Categories[5] != "(40%,50%]" {
		t.Errorf("Fig. 1 = %+v", fig1)
	}
	if d := fig1.Series[0].Data; len(d) != 11 || d[0] != 33.3 || d[5] != 33.3 || d[10] != 33.3 || d[1] != 0 {
		t.Errorf("Fig. 1 shares = %v", d)
	}
	if f2 := charts.Charts[1]; f2.ID != "chart-f2" || len(f2.Series) != 2 || f2.Series[0].Counts[1] != 1 || f2.Series[1].Counts[2] != 1 || f2.Series[1].Data[2] != 100 {
		t.Errorf("F2 chart = %+v", f2)
	}
	if acc := charts.Charts[2]; acc.ID != "chart-accounts" || acc.Series[0].Counts[0] != 3 {
		t.Errorf("accounts chart = %+v", acc)
	}

	// One train, and English.
	resp, body = cl.get("/governance/report?train=z66&from=" + from + "&to=" + to)
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, "车次 cr:Z66", "50.0%", `report.csv?from=`+from+`&amp;to=`+to+`&amp;train=z66`)
	resp, body = cl.get("/governance/report?train=T168")
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, "<dt>交易笔数</dt><dd class=\"num-val\">0</dd>", `<td class="num share">—</td>`)
	// No transactions: each chart says so instead of drawing empty axes.
	if n := strings.Count(body, `<p class="chart-empty" role="note">暂无数据</p>`); n != 3 || strings.Contains(body, `<div class="chart"`) {
		t.Errorf("a report without transactions has %d no-data notes and chart boxes: %v", n, strings.Contains(body, `<div class="chart"`))
	}
	cl.get("/lang?to=en")
	_, body = cl.get("/governance/report")
	wantContains(t, body, "Success rate of passengers who cancelled", "Whole network · "+from+" to "+to, "Download CSV", `"lang":"EN"`, "Succeeded")

	// Bad windows and trains show why, with the form.
	for _, c := range []struct {
		query  string
		status int
		say    []string
	}{
		{"from=2026-13-01", http.StatusUnprocessableEntity, []string{"is not a YYYY-MM-DD date"}},
		{"from=" + to + "&to=" + from, http.StatusUnprocessableEntity, []string{"the window must run forward"}},
		{"train=X999", http.StatusNotFound, []string{"there is no train X999"}},
	} {
		resp, body = cl.get("/governance/report?" + c.query)
		wantStatus(t, resp, body, c.status)
		wantContains(t, body, append(c.say, `role="alert"`, `id="report-form"`)...)
		if strings.Contains(body, "<script") {
			t.Errorf("?%s: a page without a report loads scripts", c.query)
		}
	}
}

func TestGovernanceReportCSV(t *testing.T) {
	e := newEnv(t)
	e.seedBehaviour(t)
	cl := e.as(t, identity.OperatorReviewer)
	from, to := e.today.AddDays(-6).String(), e.today.String()

	resp, body := cl.get("/governance/report.csv?from=" + from + "&to=" + to + "&train=Z66")
	wantStatus(t, resp, body, http.StatusOK)
	if ct := resp.Header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	if cd := resp.Header.Get("Content-Disposition"); cd != `attachment; filename=piao-behaviour-`+from+`_`+to+`-cr_Z66.csv` {
		t.Errorf("Content-Disposition = %q", cd)
	}
	if !strings.HasPrefix(body, "\uFEFF") {
		t.Error("the CSV has no byte order mark for Excel")
	}
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(body, "\uFEFF"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(rows[0], ","); got != "section,key,label_zh,label_en,numerator,denominator,share,value,denominator_of_zh,denominator_of_en" {
		t.Errorf("header = %s", got)
	}
	found := map[string][]string{}
	for _, r := range rows[1:] {
		found[r[0]+" "+r[1]] = r
	}
	for key, want := range map[string][]string{
		"totals passengers": {"totals", "passengers", "乘车人数", "passengers", "", "", "", "3"},
		"finding F4a":       {"finding", "F4a", "有手工取消的乘车人的购票成功率", "Success rate of passengers who cancelled", "1", "2", "0.5"},
		"F2_gave_up median": {"F2_gave_up", "median", "中位数", "median", "", "", "", "2"},
		"fig1 40-50":        {"fig1", "40-50", "(40%,50%]", "(40 %, 50 %]", "1", "3"},
	} {
		got := found[key]
		if len(got) < len(want) || strings.Join(got[:len(want)], "|") != strings.Join(want, "|") {
			t.Errorf("row %s = %q, want it to start with %q", key, got, want)
		}
	}

	resp, body = cl.get("/governance/report.csv?train=X999")
	wantStatus(t, resp, body, http.StatusNotFound)
	wantContains(t, body, "没有车次 X999")
	resp, body = e.as(t, identity.MerchantAdmin).get("/governance/report.csv")
	wantStatus(t, resp, body, http.StatusForbidden)
}

// TestGovernanceMessagesComplete renders every governance page in both
// languages and looks for missing catalog keys.
func TestGovernanceMessagesComplete(t *testing.T) {
	e := newEnv(t)
	e.seedBehaviour(t)
	m, err := e.app.Governance.Add(context.Background(), governance.Malicious, "account:77", "测试", 3, "test")
	if err != nil {
		t.Fatal(err)
	}
	paths := []string{"/", "/governance", "/governance/members", "/governance/members?list=nope",
		fmt.Sprintf("/governance/members/%d", m.ID), "/governance/rules", "/governance/report",
		"/governance/report?train=X999", "/governance/members/0"}
	for _, to := range []string{"zh", "en"} {
		cl := e.as(t, identity.OperatorAdmin)
		cl.get("/lang?to=" + to)
		for _, p := range paths {
			_, body := cl.get(p)
			if strings.Contains(body, "⟦") {
				t.Errorf("%s %s has a missing message:\n%s", to, p, body)
			}
			if to == "en" && strings.Contains(body, "取消治理") {
				t.Errorf("English %s still says 取消治理", p)
			}
		}
		_, body := cl.post("/governance/evaluate", url.Values{"csrf": {cl.csrfFor("/")}})
		if strings.Contains(body, "⟦") {
			t.Errorf("%s evaluation has a missing message:\n%s", to, body)
		}
	}
}

func TestStaticVendor(t *testing.T) {
	e := newEnv(t)
	cl := e.client(t)
	resp, body := cl.get("/static/vendor/echarts/echarts.min.js")
	wantStatus(t, resp, body, http.StatusOK)
	if ct := resp.Header.Get("Content-Type"); !strings.Contains(ct, "javascript") {
		t.Errorf("Content-Type = %q", ct)
	}
	if !strings.Contains(body[:2000], "Apache") || len(body) < 500000 {
		t.Errorf("echarts.min.js is %d bytes and starts:\n%s", len(body), body[:200])
	}
	for _, p := range []string{"/static/vendor/echarts/LICENSE", "/static/vendor/echarts/NOTICE", "/static/governance_report.js"} {
		resp, body = cl.get(p)
		wantStatus(t, resp, body, http.StatusOK)
	}
	for _, p := range []string{"/static/vendor/", "/static/vendor/echarts/", "/static/vendor/echarts/missing.js", "/static/../console.go"} {
		resp, _ = cl.get(p)
		if resp.StatusCode == http.StatusOK {
			t.Errorf("%s: status 200", p)
		}
	}
	// Pages other than the report still run no script.
	resp, body = e.as(t, identity.OperatorAdmin).get("/governance")
	if strings.Contains(body, "<script") || strings.Contains(resp.Header.Get("Content-Security-Policy"), "script-src") {
		t.Error("the overview page allows or loads scripts")
	}
}

// beijingMinute formats t as the pages do.
func beijingMinute(t time.Time) string {
	loc, _ := time.LoadLocation("Asia/Shanghai")
	return t.In(loc).Format("2006-01-02 15:04")
}
