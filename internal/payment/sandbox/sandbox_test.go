package sandbox_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"piao/internal/fault"
	"piao/internal/payment"
	"piao/internal/payment/sandbox"
	"piao/internal/store/storetest"
	"piao/internal/testclock"
)

var secret = []byte("sandbox-test-secret-0123456789ab")

// received is one request the test receiver got.
type received struct {
	Header http.Header
	Body   []byte
}

// receiver is a merchant's notify endpoint that records what it gets and
// answers with reply (default 200 "success").
type receiver struct {
	*httptest.Server
	mu    sync.Mutex
	got   []received
	reply func(n int) (int, string) // n counts requests from 1
}

func newReceiver(t *testing.T) *receiver {
	rc := &receiver{}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.got = append(rc.got, received{Header: r.Header.Clone(), Body: body})
		n, reply := len(rc.got), rc.reply
		rc.mu.Unlock()
		status, text := http.StatusOK, "success"
		if reply != nil {
			status, text = reply(n)
		}
		w.WriteHeader(status)
		io.WriteString(w, text)
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) requests() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.got...)
}

// env is a sandbox gateway served over HTTP with a receiver.
type env struct {
	g     *sandbox.Gateway
	store sandbox.Store
	clock *testclock.Clock
	site  *httptest.Server // serves g.Handler()
	rc    *receiver
	web   *http.Client // does not follow redirects
}

func newEnvOn(t *testing.T, st sandbox.Store, duplicates int) *env {
	t.Helper()
	e := &env{store: st, clock: testclock.New(time.Date(2026, 5, 1, 2, 0, 0, 0, time.UTC)), rc: newReceiver(t)}
	mux := http.NewServeMux()
	e.site = httptest.NewServer(mux)
	t.Cleanup(e.site.Close)
	g, err := sandbox.New(st, sandbox.Config{Secret: secret, BaseURL: e.site.URL + "/", Now: e.clock.Now, Duplicates: duplicates})
	if err != nil {
		t.Fatal(err)
	}
	e.g = g
	mux.Handle("/sandbox/", g.Handler())
	e.web = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return e
}

func newEnv(t *testing.T, duplicates int) *env {
	return newEnvOn(t, storetest.OpenSQLite(t).Sandbox, duplicates)
}

func (e *env) create(t *testing.T, ref string, amount int64) payment.Payment {
	t.Helper()
	p, err := e.g.Create(context.Background(), payment.CreateRequest{
		OrderRef: ref, AmountFen: amount, Subject: "G1 北京南→上海虹桥 2026-05-01",
		NotifyURL: e.rc.URL + "/notify", ReturnURL: "https://shop.example/orders/7?tab=pay",
		ExpiresAt: e.clock.Now().Add(30 * time.Minute),
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func (e *env) get(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := e.web.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)

// postForm submits the payment page's form like a same-origin browser.
func (e *env) postForm(t *testing.T, payURL string, form url.Values) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, payURL, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("Origin", e.site.URL)
	resp, err := e.web.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// pageToken opens the payment page and returns its form token.
func (e *env) pageToken(t *testing.T, payURL string) string {
	t.Helper()
	_, page := e.get(t, payURL)
	m := csrfRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no form token on the page:\n%s", page)
	}
	return m[1]
}

func (e *env) deliverDue(t *testing.T) int {
	t.Helper()
	n, err := e.g.DeliverDue(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func (e *env) deliveries(t *testing.T, paymentID string) []sandbox.Delivery {
	t.Helper()
	ds, err := e.g.Deliveries(context.Background(), paymentID)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

func wantReason(t *testing.T, err error, code fault.Code, reason string) {
	t.Helper()
	if !fault.Is(err, code) || fault.As(err).Reason != reason {
		t.Errorf("err = %v, want %s/%s", err, code, reason)
	}
}

// TestPaymentFlow walks a payment through the page, the outbox and a
// verified notification.
func TestPaymentFlow(t *testing.T) {
	e := newEnv(t, 0)
	p := e.create(t, "piao-order-7", 1250)
	if p.Status != payment.Pending || p.PayURL != e.site.URL+"/sandbox/pay/"+p.ID || !strings.HasPrefix(p.ID, "pay_") {
		t.Fatalf("created %+v", p)
	}

	status, page := e.get(t, p.PayURL)
	if status != http.StatusOK {
		t.Fatalf("GET page = %d", status)
	}
	for _, want := range []string{"¥12.50", "piao-order-7", "G1 北京南→上海虹桥 2026-05-01", "支付 Pay", "模拟失败 Fail", "待支付", "2026-05-01 10:30:00"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	token := e.pageToken(t, p.PayURL)

	resp := e.postForm(t, p.PayURL, url.Values{"csrf": {token}, "action": {"pay"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("POST pay = %d", resp.StatusCode)
	}
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if loc.Host != "shop.example" || loc.Path != "/orders/7" || loc.Query().Get("payment_id") != p.ID || loc.Query().Get("tab") != "pay" {
		t.Errorf("redirect to %s", loc)
	}

	got, err := e.g.Query(context.Background(), p.ID)
	if err != nil || got.Status != payment.Paid || !got.PaidAt.Equal(e.clock.Now()) {
		t.Fatalf("Query = %+v, %v", got, err)
	}
	if ds := e.deliveries(t, p.ID); len(ds) != 1 || !ds[0].DeliveredAt.IsZero() {
		t.Fatalf("outbox = %+v", ds)
	}
	if len(e.rc.requests()) != 0 {
		t.Fatal("notified before DeliverDue")
	}

	if n := e.deliverDue(t); n != 1 {
		t.Fatalf("DeliverDue = %d, want 1", n)
	}
	reqs := e.rc.requests()
	if len(reqs) != 1 {
		t.Fatalf("receiver got %d requests", len(reqs))
	}
	n, err := e.g.Verify(reqs[0].Header, reqs[0].Body)
	if err != nil {
		t.Fatal(err)
	}
	want := payment.Notification{ID: n.ID, PaymentID: p.ID, OrderRef: "piao-order-7", Status: payment.Paid, AmountFen: 1250, PaidAt: e.clock.Now()}
	if n != want || !strings.HasPrefix(n.ID, "ntf_") {
		t.Errorf("notification = %+v, want %+v", n, want)
	}
	if ct := reqs[0].Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	// The receiver's own verification, with its own copy of the secret, agrees.
	if _, err := payment.Verify(secret, e.clock.Now(), reqs[0].Header, reqs[0].Body); err != nil {
		t.Error(err)
	}
	if ds := e.deliveries(t, p.ID); ds[0].DeliveredAt.IsZero() || ds[0].Attempts != 0 {
		t.Errorf("after delivery: %+v", ds[0])
	}
	if n := e.deliverDue(t); n != 0 || len(e.rc.requests()) != 1 {
		t.Errorf("delivered again: %d", n)
	}

	// The page now says paid, offers no buttons and links back.
	_, page = e.get(t, p.PayURL)
	if !strings.Contains(page, "已支付") || strings.Contains(page, "支付 Pay") || !strings.Contains(page, "https://shop.example/orders/7?payment_id=") {
		t.Errorf("paid page:\n%s", page)
	}
}

// TestPageSecurity checks the form's CSRF defences and page headers.
func TestPageSecurity(t *testing.T) {
	e := newEnv(t, 0)
	p := e.create(t, "piao-order-1", 100)
	token := e.pageToken(t, p.PayURL)

	if r := e.postForm(t, p.PayURL, url.Values{"action": {"pay"}}); r.StatusCode != http.StatusForbidden {
		t.Errorf("no token: %d", r.StatusCode)
	}
	if r := e.postForm(t, p.PayURL, url.Values{"csrf": {strings.Repeat("0", 64)}, "action": {"pay"}}); r.StatusCode != http.StatusForbidden {
		t.Errorf("wrong token: %d", r.StatusCode)
	}
	other := e.create(t, "piao-order-2", 100)
	if r := e.postForm(t, other.PayURL, url.Values{"csrf": {token}, "action": {"pay"}}); r.StatusCode != http.StatusForbidden {
		t.Errorf("another page's token: %d", r.StatusCode)
	}
	req, _ := http.NewRequest(http.MethodPost, p.PayURL, strings.NewReader(url.Values{"csrf": {token}, "action": {"pay"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err := e.web.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site: %d", resp.StatusCode)
	}
	if r := e.postForm(t, p.PayURL, url.Values{"csrf": {token}, "action": {"steal"}}); r.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("bad action: %d", r.StatusCode)
	}
	if got, _ := e.g.Query(context.Background(), p.ID); got.Status != payment.Pending {
		t.Fatalf("a refused post changed the payment: %s", got.Status)
	}

	resp, err = e.web.Get(p.PayURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	csp := resp.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "form-action 'self' https://shop.example") || !strings.Contains(csp, "style-src 'sha256-") {
		t.Errorf("CSP = %q", csp)
	}
	if resp.Header.Get("Cache-Control") != "no-store" {
		t.Error("page is cacheable")
	}
	if status, _ := e.get(t, e.site.URL+"/sandbox/pay/pay_unknown"); status != http.StatusNotFound {
		t.Errorf("unknown payment page: %d", status)
	}

	// Fail is a button too: the payment fails and the payer goes back.
	if r := e.postForm(t, p.PayURL, url.Values{"csrf": {token}, "action": {"fail"}}); r.StatusCode != http.StatusSeeOther {
		t.Errorf("fail: %d", r.StatusCode)
	}
	if got, _ := e.g.Query(context.Background(), p.ID); got.Status != payment.Failed {
		t.Errorf("after fail: %s", got.Status)
	}
	e.deliverDue(t)
	reqs := e.rc.requests()
	if len(reqs) != 1 {
		t.Fatalf("receiver got %d", len(reqs))
	}
	if n, err := e.g.Verify(reqs[0].Header, reqs[0].Body); err != nil || n.Status != payment.Failed || !n.PaidAt.IsZero() {
		t.Errorf("failure notification = %+v, %v", n, err)
	}
}

// TestRetryBackoff checks that a failing receiver is retried after 1 s,
// 2 s, 4 s… until it acknowledges.
func TestRetryBackoff(t *testing.T) {
	e := newEnv(t, 0)
	e.rc.reply = func(n int) (int, string) {
		switch n {
		case 1:
			return http.StatusInternalServerError, "oops"
		case 2:
			return http.StatusOK, "ok" // not the word gateways wait for
		case 3:
			return http.StatusOK, "success\n" // not exactly it either
		}
		return http.StatusOK, "success"
	}
	p := e.create(t, "piao-order-1", 100)
	if _, err := e.g.Pay(context.Background(), p.ID); err != nil {
		t.Fatal(err)
	}
	for attempt, wait := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second} {
		if n := e.deliverDue(t); n != 1 {
			t.Fatalf("attempt %d: DeliverDue = %d", attempt+1, n)
		}
		d := e.deliveries(t, p.ID)[0]
		if d.Attempts != attempt+1 || !d.NextAttemptAt.Equal(e.clock.Now().Add(wait)) || d.LastError == "" || !d.DeliveredAt.IsZero() {
			t.Fatalf("after attempt %d: %+v", attempt+1, d)
		}
		e.clock.Advance(wait - time.Millisecond)
		if n := e.deliverDue(t); n != 0 {
			t.Fatalf("retried %d early", n)
		}
		e.clock.Advance(time.Millisecond)
	}
	if n := e.deliverDue(t); n != 1 {
		t.Fatal("fourth attempt not made")
	}
	if d := e.deliveries(t, p.ID)[0]; d.DeliveredAt.IsZero() || d.Attempts != 3 {
		t.Errorf("after success: %+v", d)
	}
	reqs := e.rc.requests()
	if len(reqs) != 4 {
		t.Fatalf("receiver got %d", len(reqs))
	}
	for _, r := range reqs {
		if string(r.Body) != string(reqs[0].Body) {
			t.Error("retries changed the body")
		}
	}
	if reqs[0].Header.Get(payment.HeaderNonce) == reqs[1].Header.Get(payment.HeaderNonce) {
		t.Error("retries reused a nonce")
	}
}

// TestBackoffSchedule checks the backoff table and its cap.
func TestBackoffSchedule(t *testing.T) {
	want := map[int]time.Duration{0: time.Second, 1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second, 9: 256 * time.Second, 10: 5 * time.Minute, 19: 5 * time.Minute, 1000: 5 * time.Minute}
	for n, d := range want {
		if got := sandbox.Backoff(n); got != d {
			t.Errorf("Backoff(%d) = %v, want %v", n, got, d)
		}
	}
}

// TestGiveUp checks that a notification is abandoned after MaxAttempts.
func TestGiveUp(t *testing.T) {
	e := newEnv(t, 0)
	e.rc.reply = func(int) (int, string) { return http.StatusServiceUnavailable, "" }
	p := e.create(t, "piao-order-1", 100)
	if _, err := e.g.Pay(context.Background(), p.ID); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= sandbox.MaxAttempts; i++ {
		if n := e.deliverDue(t); n != 1 {
			t.Fatalf("attempt %d: DeliverDue = %d", i, n)
		}
		e.clock.Advance(sandbox.Backoff(i))
	}
	d := e.deliveries(t, p.ID)[0]
	if d.GaveUpAt.IsZero() || d.Attempts != sandbox.MaxAttempts || !strings.Contains(d.LastError, "503") {
		t.Errorf("after %d attempts: %+v", sandbox.MaxAttempts, d)
	}
	e.clock.Advance(time.Hour)
	if n := e.deliverDue(t); n != 0 {
		t.Errorf("attempted %d after giving up", n)
	}
	if got := len(e.rc.requests()); got != sandbox.MaxAttempts {
		t.Errorf("receiver got %d requests, want %d", got, sandbox.MaxAttempts)
	}
}

// TestDuplicates checks that Duplicates sends identical extra copies that
// all verify and share the notification ID.
func TestDuplicates(t *testing.T) {
	e := newEnv(t, 2)
	p := e.create(t, "piao-order-1", 100)
	if _, err := e.g.Pay(context.Background(), p.ID); err != nil {
		t.Fatal(err)
	}
	if n := e.deliverDue(t); n != 1 {
		t.Fatalf("DeliverDue = %d", n)
	}
	reqs := e.rc.requests()
	if len(reqs) != 3 {
		t.Fatalf("receiver got %d copies, want 3", len(reqs))
	}
	var first payment.Notification
	for i, r := range reqs {
		n, err := e.g.Verify(r.Header, r.Body)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = n
		} else if n != first || string(r.Body) != string(reqs[0].Body) {
			t.Errorf("copy %d = %+v, want %+v", i, n, first)
		}
	}
	if e.deliveries(t, p.ID)[0].DeliveredAt.IsZero() {
		t.Error("not marked delivered")
	}
}

// TestCreateIdempotent checks that one order reference gets one open payment.
func TestCreateIdempotent(t *testing.T) {
	e := newEnv(t, 0)
	ctx := context.Background()
	p1 := e.create(t, "piao-order-1", 1250)
	p2 := e.create(t, "piao-order-1", 1250)
	if p1 != p2 {
		t.Errorf("second Create = %+v, want %+v", p2, p1)
	}
	_, err := e.g.Create(ctx, payment.CreateRequest{OrderRef: "piao-order-1", AmountFen: 999, NotifyURL: e.rc.URL, ExpiresAt: e.clock.Now().Add(time.Minute)})
	wantReason(t, err, fault.Conflict, "order_ref_amount_mismatch")

	// A failed attempt lets the payer try again with a new payment.
	if _, err := e.g.Fail(ctx, p1.ID); err != nil {
		t.Fatal(err)
	}
	p3 := e.create(t, "piao-order-1", 1250)
	if p3.ID == p1.ID || p3.Status != payment.Pending {
		t.Errorf("Create after failure = %+v", p3)
	}
	// Once paid, the order's payment is the paid one.
	if _, err := e.g.Pay(ctx, p3.ID); err != nil {
		t.Fatal(err)
	}
	if p4 := e.create(t, "piao-order-1", 1250); p4.ID != p3.ID || p4.Status != payment.Paid {
		t.Errorf("Create after payment = %+v", p4)
	}

	_, err = e.g.Create(ctx, payment.CreateRequest{OrderRef: "x", AmountFen: 1, NotifyURL: e.rc.URL, ExpiresAt: e.clock.Now()})
	wantReason(t, err, fault.Invalid, "payment_expiry_past")
	_, err = e.g.Create(ctx, payment.CreateRequest{OrderRef: "x", AmountFen: 0, NotifyURL: e.rc.URL, ExpiresAt: e.clock.Now().Add(time.Minute)})
	wantReason(t, err, fault.Invalid, "payment_amount_invalid")
	_, err = e.g.Query(ctx, "pay_nope")
	wantReason(t, err, fault.NotFound, "payment_not_found")
}

// TestRefunds checks idempotent refunds that never exceed the amount paid.
func TestRefunds(t *testing.T) {
	e := newEnv(t, 0)
	ctx := context.Background()
	p := e.create(t, "piao-order-1", 1000)
	_, err := e.g.Refund(ctx, payment.RefundRequest{RefundID: "r0", PaymentID: p.ID, AmountFen: 100})
	wantReason(t, err, fault.Conflict, "payment_not_paid")
	if _, err := e.g.Pay(ctx, p.ID); err != nil {
		t.Fatal(err)
	}
	_, err = e.g.Refund(ctx, payment.RefundRequest{RefundID: "r1", PaymentID: p.ID, AmountFen: 1001})
	wantReason(t, err, fault.Invalid, "refund_exceeds_amount")

	r1, err := e.g.Refund(ctx, payment.RefundRequest{RefundID: "r1", PaymentID: p.ID, AmountFen: 700, Reason: "late payment"})
	if err != nil || r1.Status != payment.RefundSucceeded || r1.AmountFen != 700 || r1.ID != "r1" || r1.PaymentID != p.ID {
		t.Fatalf("Refund = %+v, %v", r1, err)
	}
	e.clock.Advance(time.Minute)
	again, err := e.g.Refund(ctx, payment.RefundRequest{RefundID: "r1", PaymentID: p.ID, AmountFen: 700})
	if err != nil || again != r1 {
		t.Errorf("repeated Refund = %+v, %v; want %+v", again, err, r1)
	}
	_, err = e.g.Refund(ctx, payment.RefundRequest{RefundID: "r2", PaymentID: p.ID, AmountFen: 301})
	wantReason(t, err, fault.Conflict, "refund_exceeds_paid")
	if _, err := e.g.Refund(ctx, payment.RefundRequest{RefundID: "r2", PaymentID: p.ID, AmountFen: 300}); err != nil {
		t.Fatal(err)
	}
	got, _ := e.g.Query(ctx, p.ID)
	if got.RefundedFen != 1000 || got.Status != payment.Paid {
		t.Errorf("after refunds: %+v", got)
	}
	_, err = e.g.Refund(ctx, payment.RefundRequest{RefundID: "", PaymentID: p.ID, AmountFen: 1})
	wantReason(t, err, fault.Invalid, "refund_id_required")
	_, page := e.get(t, p.PayURL)
	if !strings.Contains(page, "已退款") || !strings.Contains(page, "¥10.00") {
		t.Errorf("refunded page:\n%s", page)
	}
}

// TestPayAfterExpiry checks that a payer cannot pay once the payment expired.
func TestPayAfterExpiry(t *testing.T) {
	e := newEnv(t, 0)
	ctx := context.Background()
	p := e.create(t, "piao-order-1", 100)
	token := e.pageToken(t, p.PayURL)
	e.clock.Advance(30 * time.Minute)

	_, err := e.g.Pay(ctx, p.ID)
	wantReason(t, err, fault.Conflict, "payment_expired")
	if got, _ := e.g.Query(ctx, p.ID); got.Status != payment.Closed {
		t.Errorf("Query after expiry: %s", got.Status)
	}
	status, page := e.get(t, p.PayURL)
	if status != http.StatusOK || !strings.Contains(page, "已关闭") || strings.Contains(page, "支付 Pay") {
		t.Errorf("expired page (%d):\n%s", status, page)
	}
	if r := e.postForm(t, p.PayURL, url.Values{"csrf": {token}, "action": {"pay"}}); r.StatusCode != http.StatusConflict {
		t.Errorf("POST pay after expiry: %d", r.StatusCode)
	}
	if ds := e.deliveries(t, p.ID); len(ds) != 0 {
		t.Errorf("expired payment enqueued %d notifications", len(ds))
	}
	// A new payment for the same order is possible after expiry.
	if p2 := e.create(t, "piao-order-1", 100); p2.ID == p.ID || p2.Status != payment.Pending {
		t.Errorf("Create after expiry = %+v", p2)
	}
}

// TestConcurrentClicks checks that many simultaneous pay clicks make one
// transition and one notification, on every engine.
func TestConcurrentClicks(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		e := newEnvOn(t, s.Sandbox, 0)
		p := e.create(t, "piao-order-1", 100)
		token := e.pageToken(t, p.PayURL)
		var wg sync.WaitGroup
		codes := make([]int, 16)
		for i := range codes {
			wg.Go(func() {
				if i%2 == 0 {
					codes[i] = e.postForm(t, p.PayURL, url.Values{"csrf": {token}, "action": {"pay"}}).StatusCode
					return
				}
				req, _ := http.NewRequest(http.MethodPost, e.site.URL+"/sandbox/api/pay/"+p.ID, nil)
				req.Header.Set(sandbox.APIKeyHeader, sandbox.APIKey(secret, p.ID))
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
				codes[i] = resp.StatusCode
			})
		}
		wg.Wait()
		for i, c := range codes {
			if want := map[bool]int{true: http.StatusSeeOther, false: http.StatusOK}[i%2 == 0]; c != want {
				t.Errorf("click %d: %d, want %d", i, c, want)
			}
		}
		if ds := e.deliveries(t, p.ID); len(ds) != 1 {
			t.Fatalf("%d notifications, want 1", len(ds))
		}
		e.deliverDue(t)
		if got := len(e.rc.requests()); got != 1 {
			t.Errorf("receiver got %d, want 1", got)
		}
	})
}

// TestAPIPay checks the machine endpoint and its key.
func TestAPIPay(t *testing.T) {
	e := newEnv(t, 0)
	p := e.create(t, "piao-order-1", 100)
	call := func(key, body string) (int, map[string]any) {
		req, _ := http.NewRequest(http.MethodPost, e.site.URL+"/sandbox/api/pay/"+p.ID, strings.NewReader(body))
		if key != "" {
			req.Header.Set(sandbox.APIKeyHeader, key)
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	if code, out := call("", ""); code != http.StatusUnauthorized || out["reason"] != "sandbox_key_invalid" {
		t.Errorf("no key: %d %v", code, out)
	}
	if code, _ := call(sandbox.APIKey([]byte("wrong"), p.ID), ""); code != http.StatusUnauthorized {
		t.Errorf("wrong key: %d", code)
	}
	key := sandbox.APIKey(secret, p.ID)
	if code, _ := call(key, `{"action":"refund"}`); code != http.StatusUnprocessableEntity {
		t.Errorf("bad action: %d", code)
	}
	code, out := call(key, `{"action":"pay"}`)
	if code != http.StatusOK || out["status"] != "paid" || out["id"] != p.ID || out["amount_fen"] != 100.0 {
		t.Errorf("pay: %d %v", code, out)
	}
	if code, out := call(key, ""); code != http.StatusOK || out["status"] != "paid" {
		t.Errorf("pay again: %d %v", code, out)
	}
	if code, out := call(key, `{"action":"fail"}`); code != http.StatusConflict || out["reason"] != "payment_not_pending" {
		t.Errorf("fail after pay: %d %v", code, out)
	}
	if ds := e.deliveries(t, p.ID); len(ds) != 1 {
		t.Errorf("%d notifications, want 1", len(ds))
	}
}

// TestRestartDelivers checks that notifications survive a restart: a new
// gateway over the same store delivers what the old one queued.
func TestRestartDelivers(t *testing.T) {
	st := storetest.OpenSQLite(t).Sandbox
	e := newEnvOn(t, st, 0)
	p := e.create(t, "piao-order-1", 100)
	if _, err := e.g.Pay(context.Background(), p.ID); err != nil {
		t.Fatal(err)
	}
	again, err := sandbox.New(st, sandbox.Config{Secret: secret, BaseURL: e.site.URL, Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := again.DeliverDue(context.Background()); n != 1 || err != nil {
		t.Fatalf("DeliverDue after restart = %d, %v", n, err)
	}
	if reqs := e.rc.requests(); len(reqs) != 1 {
		t.Errorf("receiver got %d", len(reqs))
	}
}

// TestRun checks that the notifier delivers soon after a payment and
// stops with its context.
func TestRun(t *testing.T) {
	e := newEnv(t, 0)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { e.g.Run(ctx); close(done) }()
	p := e.create(t, "piao-order-1", 100)
	if _, err := e.g.Pay(context.Background(), p.ID); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(e.rc.requests()) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if len(e.rc.requests()) != 1 {
		t.Error("Run did not deliver")
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not stop")
	}
}

// TestNewValidates checks the gateway's configuration checks.
func TestNewValidates(t *testing.T) {
	st := storetest.OpenSQLite(t).Sandbox
	for _, cfg := range []sandbox.Config{
		{BaseURL: "http://x"},
		{Secret: secret, BaseURL: "/relative"},
		{Secret: secret, BaseURL: "http://x", Duplicates: -1},
	} {
		if _, err := sandbox.New(st, cfg); !fault.Is(err, fault.Invalid) {
			t.Errorf("New(%+v) = %v, want invalid", cfg, err)
		}
	}
}
