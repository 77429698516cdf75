package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"piao/internal/app/apptest"
	"piao/internal/booking"
	"piao/internal/identity"
	"piao/internal/network"
	"piao/internal/realname"
)

// probe is a mounted /api/v1 endpoint that counts its calls; the
// idempotency middleware wraps it like any API route.
type probe struct {
	calls   atomic.Int32
	entered chan struct{} // gets a value when a call starts, if anyone listens
	release chan struct{} // a call waits for it, or for 100 ms when nil
	fail    func(n int32) int
}

func (p *probe) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := p.calls.Add(1)
	select {
	case p.entered <- struct{}{}:
	default:
	}
	if p.release != nil {
		<-p.release
	} else {
		time.Sleep(100 * time.Millisecond)
	}
	if p.fail != nil {
		switch code := p.fail(n); code {
		case 0:
		case -1:
			panic("probe panics")
		default:
			http.Error(w, "failed", code)
			return
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Location", fmt.Sprintf("/api/v1/probe/%d", n))
	w.Header().Set("X-Other", "not stored")
	w.WriteHeader(http.StatusCreated)
	fmt.Fprintf(w, `{"call":%d,"at":%q}`+"\n", n, time.Now().Format(time.RFC3339Nano))
}

// newIdemServer serves the demo with a probe mounted at POST /api/v1/probe.
func newIdemServer(t *testing.T, p *probe) *testServer {
	t.Helper()
	a := apptest.NewDemo(t)
	ts, srv := apptest.Serve(t, a, func(mux *http.ServeMux) {
		if p != nil {
			mux.Handle("POST /api/v1/probe", p)
		}
	})
	return &testServer{Server: ts, app: a, api: srv}
}

// newPassenger creates another passenger account and returns a token of it.
func (s *testServer) newPassenger(t *testing.T, username string) string {
	t.Helper()
	ctx := context.Background()
	acct, err := s.app.Identity.CreateAccount(ctx, identity.NewAccount{Username: username, Role: identity.Passenger, Password: "a long enough password"})
	if err != nil {
		t.Fatal(err)
	}
	secret, err := s.app.Identity.Issue(ctx, acct.ID, identity.APIToken)
	if err != nil {
		t.Fatal(err)
	}
	return secret
}

// bookBody is a booking of Z66 Nanchang → Beijing West tomorrow for
// passenger i; a bad document number makes it invalid.
func bookBody(t *testing.T, i int, docNumber string) string {
	t.Helper()
	if docNumber == "" {
		docNumber = realname.MakeID("360102", time.Date(1985, 3, 4, 0, 0, 0, 0, time.UTC), i)
	}
	b, err := json.Marshal(booking.BookRequest{
		Train: "Z66", Date: apptest.Today().AddDays(1).String(), From: "NCG", To: "BXP",
		Passengers: []booking.PassengerRequest{{Name: "王伟", DocType: string(realname.IDCard), DocNumber: docNumber, SeatClass: network.HardSleeper}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func (s *testServer) orders(t *testing.T, token string) []booking.Order {
	t.Helper()
	res := s.do(t, "GET", "/api/v1/orders", token, nil)
	if res.status != http.StatusOK {
		t.Fatalf("list orders: %d %s", res.status, res.body)
	}
	var out struct{ Orders []booking.Order }
	if err := json.Unmarshal(res.body, &out); err != nil {
		t.Fatal(err)
	}
	return out.Orders
}

func wantReason(t *testing.T, res response, status int, reason string) {
	t.Helper()
	if res.status != status {
		t.Fatalf("status %d, want %d: %s", res.status, status, res.body)
	}
	if p := decodeProblem(t, res); p.Reason != reason {
		t.Fatalf("reason %q, want %q: %s", p.Reason, reason, res.body)
	}
}

// TestIdempotentBooking books an order twice with one key: the retry gets
// the identical response and only one order exists. The same key with
// another body is refused, and another account may use the key too.
func TestIdempotentBooking(t *testing.T) {
	s := newIdemServer(t, nil)
	tok := s.token(t, identity.Passenger)
	body := bookBody(t, 1, "")

	first := s.do(t, "POST", "/api/v1/orders", tok, strings.NewReader(body), "Idempotency-Key", "book-1")
	if first.status != http.StatusOK {
		t.Fatalf("book: %d %s", first.status, first.body)
	}
	if first.header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("first call marked replayed")
	}
	again := s.do(t, "POST", "/api/v1/orders", tok, strings.NewReader(body), "Idempotency-Key", "book-1")
	if again.status != first.status || !bytes.Equal(again.body, first.body) || again.header.Get("Content-Type") != first.header.Get("Content-Type") {
		t.Fatalf("retry: %d %s %s\nfirst: %d %s", again.status, again.header.Get("Content-Type"), again.body, first.status, first.body)
	}
	if again.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("retry not marked replayed: %v", again.header)
	}
	if again.header.Get("X-Request-Id") == first.header.Get("X-Request-Id") {
		t.Errorf("the replay reuses the first call's request ID header")
	}
	if os := s.orders(t, tok); len(os) != 1 {
		t.Fatalf("%d orders after a retried booking, want 1", len(os))
	}

	// The same key with another body, method or path.
	wantReason(t, s.do(t, "POST", "/api/v1/orders", tok, strings.NewReader(bookBody(t, 2, "")), "Idempotency-Key", "book-1"), http.StatusUnprocessableEntity, "idempotency_key_reused")
	var booked booking.Booked
	if err := json.Unmarshal(first.body, &booked); err != nil {
		t.Fatal(err)
	}
	cancelPath := fmt.Sprintf("/api/v1/orders/%d/cancel", booked.Order.ID)
	wantReason(t, s.do(t, "POST", cancelPath, tok, strings.NewReader(body), "Idempotency-Key", "book-1"), http.StatusUnprocessableEntity, "idempotency_key_reused")
	if os := s.orders(t, tok); len(os) != 1 || os[0].Status != booking.Held {
		t.Fatalf("orders after reused keys: %+v", os)
	}

	// Another account has its own keys.
	tok2 := s.newPassenger(t, "second")
	other := s.do(t, "POST", "/api/v1/orders", tok2, strings.NewReader(bookBody(t, 3, "")), "Idempotency-Key", "book-1")
	if other.status != http.StatusOK || other.header.Get("Idempotent-Replayed") != "" || bytes.Equal(other.body, first.body) {
		t.Fatalf("another account with the same key: %d %v %s", other.status, other.header, other.body)
	}
	if os := s.orders(t, tok2); len(os) != 1 {
		t.Fatalf("second account has %d orders, want 1", len(os))
	}

	// Without a key nothing is remembered: the same booking again is a new
	// request, refused by the booking rules (one held order per account).
	if res := s.do(t, "POST", "/api/v1/orders", tok, strings.NewReader(body)); res.status < 400 || res.header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("booking again without a key: %d %s", res.status, res.body)
	}
}

// TestIdempotentClientError checks that a 4xx first result is replayed too.
func TestIdempotentClientError(t *testing.T) {
	s := newIdemServer(t, nil)
	tok := s.token(t, identity.Passenger)
	body := bookBody(t, 1, "360102198503040000")
	first := s.do(t, "POST", "/api/v1/orders", tok, strings.NewReader(body), "Idempotency-Key", "bad-doc")
	if first.status != http.StatusUnprocessableEntity {
		t.Fatalf("invalid booking: %d %s", first.status, first.body)
	}
	again := s.do(t, "POST", "/api/v1/orders", tok, strings.NewReader(body), "Idempotency-Key", "bad-doc", "Accept-Language", "en")
	if again.status != first.status || !bytes.Equal(again.body, first.body) || again.header.Get("Idempotent-Replayed") != "true" ||
		again.header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("replayed 4xx: %d %v %s\nfirst: %s", again.status, again.header, again.body, first.body)
	}
	if os := s.orders(t, tok); len(os) != 0 {
		t.Fatalf("%d orders after an invalid booking", len(os))
	}
}

// TestIdempotencyKeyRules checks malformed keys, reads, anonymous calls and
// credential-bearing auth calls.
func TestIdempotencyKeyRules(t *testing.T) {
	p := &probe{}
	s := newIdemServer(t, p)
	tok := s.token(t, identity.Passenger)
	for _, key := range []string{"", strings.Repeat("k", 256), "键", "a\tb"} {
		wantReason(t, s.do(t, "POST", "/api/v1/probe", tok, strings.NewReader("{}"), "Idempotency-Key", key), http.StatusBadRequest, "bad_idempotency_key")
	}
	if res := s.do(t, "POST", "/api/v1/probe", tok, strings.NewReader("{}"), "Idempotency-Key", strings.Repeat("~", 255)); res.status != http.StatusCreated {
		t.Fatalf("255-character key: %d %s", res.status, res.body)
	}
	// Reads ignore the header.
	if res := s.do(t, "GET", "/api/v1/orders", tok, nil, "Idempotency-Key", "键"); res.status != http.StatusOK {
		t.Fatalf("GET with a key: %d %s", res.status, res.body)
	}
	// Anonymous calls and logins are not remembered: each login gets its own token.
	login := `{"username":"passenger","password":"piao-passenger-2026"}`
	a := s.do(t, "POST", "/api/v1/auth/login", "", strings.NewReader(login), "Idempotency-Key", "login-1")
	b := s.do(t, "POST", "/api/v1/auth/login", "", strings.NewReader(login), "Idempotency-Key", "login-1")
	if a.status != http.StatusOK || b.status != http.StatusOK || bytes.Equal(a.body, b.body) || b.header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("logins with one key: %d %s / %d %s", a.status, a.body, b.status, b.body)
	}
	// An issued token is not stored either.
	pw := `{"password":"piao-passenger-2026"}`
	c := s.do(t, "POST", "/api/v1/auth/token", tok, strings.NewReader(pw), "Idempotency-Key", "tok-1")
	d := s.do(t, "POST", "/api/v1/auth/token", tok, strings.NewReader(pw), "Idempotency-Key", "tok-1")
	if c.status != http.StatusOK || bytes.Equal(c.body, d.body) || d.header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("tokens with one key: %d %s / %d %s", c.status, c.body, d.status, d.body)
	}
	before := p.calls.Load()
	for range 2 {
		if res := s.do(t, "POST", "/api/v1/probe", "", strings.NewReader("{}"), "Idempotency-Key", "anon"); res.status != http.StatusCreated || res.header.Get("Idempotent-Replayed") != "" {
			t.Fatalf("anonymous call: %d %s", res.status, res.body)
		}
	}
	// A token that does not authenticate is not a scope either.
	if res := s.do(t, "POST", "/api/v1/probe", "piao_not_a_token", strings.NewReader("{}"), "Idempotency-Key", "anon"); res.status != http.StatusCreated {
		t.Fatalf("bad token on a plain route: %d %s", res.status, res.body)
	}
	if got := p.calls.Load() - before; got != 3 {
		t.Fatalf("anonymous calls ran %d times, want 3", got)
	}
	// A bad token on an API route is still refused by authorization.
	if res := s.do(t, "POST", "/api/v1/orders", "piao_not_a_token", strings.NewReader(bookBody(t, 1, "")), "Idempotency-Key", "x"); res.status != http.StatusUnauthorized {
		t.Fatalf("bad token: %d %s", res.status, res.body)
	}
}

// TestIdempotentReplayHeaders checks that the replay keeps the status,
// Content-Type, Location and body, and that the query is part of the request.
func TestIdempotentReplayHeaders(t *testing.T) {
	p := &probe{}
	s := newIdemServer(t, p)
	tok := s.token(t, identity.Passenger)
	first := s.do(t, "POST", "/api/v1/probe", tok, strings.NewReader(`{"x":1}`), "Idempotency-Key", "h")
	again := s.do(t, "POST", "/api/v1/probe", tok, strings.NewReader(`{"x":1}`), "Idempotency-Key", "h")
	if first.status != http.StatusCreated || again.status != http.StatusCreated || !bytes.Equal(first.body, again.body) ||
		again.header.Get("Location") != first.header.Get("Location") || again.header.Get("Content-Type") != "application/json" ||
		again.header.Get("X-Other") != "" || again.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replay %d %v %s\nfirst %d %v %s", again.status, again.header, again.body, first.status, first.header, first.body)
	}
	wantReason(t, s.do(t, "POST", "/api/v1/probe?x=2", tok, strings.NewReader(`{"x":1}`), "Idempotency-Key", "h"), http.StatusUnprocessableEntity, "idempotency_key_reused")
	if n := p.calls.Load(); n != 1 {
		t.Fatalf("probe ran %d times, want 1", n)
	}
}

// TestIdempotentFailuresRunAgain checks that a 5xx or a panic gives the key
// up, so that the retry runs, and its result is then kept.
func TestIdempotentFailuresRunAgain(t *testing.T) {
	p := &probe{fail: func(n int32) int {
		switch n {
		case 1:
			return http.StatusServiceUnavailable
		case 2:
			return -1
		}
		return 0
	}}
	s := newIdemServer(t, p)
	tok := s.token(t, identity.Passenger)
	call := func() response {
		return s.do(t, "POST", "/api/v1/probe", tok, strings.NewReader("{}"), "Idempotency-Key", "flaky")
	}
	if res := call(); res.status != http.StatusServiceUnavailable {
		t.Fatalf("first: %d %s", res.status, res.body)
	}
	if res := call(); res.status != http.StatusInternalServerError {
		t.Fatalf("second (panics): %d %s", res.status, res.body)
	}
	third := call()
	if third.status != http.StatusCreated || third.header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("third: %d %s", third.status, third.body)
	}
	fourth := call()
	if fourth.status != http.StatusCreated || !bytes.Equal(fourth.body, third.body) || fourth.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("fourth: %d %s", fourth.status, fourth.body)
	}
	if n := p.calls.Load(); n != 3 {
		t.Fatalf("probe ran %d times, want 3", n)
	}
}

// TestIdempotencyInProgress checks that a retry while the first call runs
// gets 409 with Retry-After, and the result once it has finished.
func TestIdempotencyInProgress(t *testing.T) {
	p := &probe{entered: make(chan struct{}), release: make(chan struct{})}
	s := newIdemServer(t, p)
	tok := s.token(t, identity.Passenger)
	done := make(chan response)
	go func() {
		done <- s.do(t, "POST", "/api/v1/probe", tok, strings.NewReader("{}"), "Idempotency-Key", "slow")
	}()
	<-p.entered
	res := s.do(t, "POST", "/api/v1/probe", tok, strings.NewReader("{}"), "Idempotency-Key", "slow")
	wantReason(t, res, http.StatusConflict, "idempotency_in_progress")
	if res.header.Get("Retry-After") != "1" {
		t.Fatalf("Retry-After %q", res.header.Get("Retry-After"))
	}
	close(p.release)
	first := <-done
	again := s.do(t, "POST", "/api/v1/probe", tok, strings.NewReader("{}"), "Idempotency-Key", "slow")
	if first.status != http.StatusCreated || !bytes.Equal(first.body, again.body) || again.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("after the first call: %d %s / %d %s", first.status, first.body, again.status, again.body)
	}
}

// TestIdempotencyConcurrentFirstCalls sends many first calls with one key
// at once: exactly one runs the handler; the others get 409 or its result.
func TestIdempotencyConcurrentFirstCalls(t *testing.T) {
	p := &probe{}
	s := newIdemServer(t, p)
	tok := s.token(t, identity.Passenger)
	const n = 12
	results := make([]response, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			results[i] = s.do(t, "POST", "/api/v1/probe", tok, strings.NewReader(`{"same":true}`), "Idempotency-Key", "race")
		})
	}
	close(start)
	wg.Wait()
	if got := p.calls.Load(); got != 1 {
		t.Fatalf("the handler ran %d times, want 1", got)
	}
	var ran []byte
	for _, res := range results {
		if res.status == http.StatusCreated && res.header.Get("Idempotent-Replayed") == "" {
			if ran != nil {
				t.Fatalf("two calls ran")
			}
			ran = res.body
		}
	}
	if ran == nil {
		t.Fatal("no call ran")
	}
	for _, res := range results {
		switch {
		case res.status == http.StatusConflict:
			wantReason(t, res, http.StatusConflict, "idempotency_in_progress")
		case res.status == http.StatusCreated && bytes.Equal(res.body, ran):
		default:
			t.Fatalf("unexpected %d %s", res.status, res.body)
		}
	}
}

// TestIdempotencyKeyDocumented checks the OpenAPI document describes the
// header on mutating operations only.
func TestIdempotencyKeyDocumented(t *testing.T) {
	s := newIdemServer(t, nil)
	doc := s.api.OpenAPI()
	has := func(path, method string) bool {
		t.Helper()
		item := doc.Paths[path]
		if item == nil {
			t.Fatalf("no path %s", path)
		}
		o := item.Get
		if method == "POST" {
			o = item.Post
		}
		for _, p := range o.Parameters {
			if p.Name == "Idempotency-Key" && p.In == "header" {
				return o.Responses["409"] != nil
			}
		}
		return false
	}
	if !has("/api/v1/orders", "POST") || !has("/api/v1/orders/{id}/cancel", "POST") {
		t.Error("POST /api/v1/orders does not document Idempotency-Key")
	}
	if has("/api/v1/orders", "GET") || has("/api/v1/auth/login", "POST") {
		t.Error("Idempotency-Key documented where it is ignored")
	}
}
