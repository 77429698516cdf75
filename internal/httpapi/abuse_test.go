package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"piao/internal/abuse"
	"piao/internal/app/apptest"
	"piao/internal/httpapi"
	"piao/internal/identity"
	"piao/internal/metro"
	"piao/internal/realname"
	"piao/internal/testclock"
)

// newLimitedServer is a demo server applying cfg on clock, behind a
// trusted proxy (the test client), so each request names its client IP in
// X-Forwarded-For.
func newLimitedServer(t *testing.T, cfg abuse.Config, clock *testclock.Clock) *testServer {
	t.Helper()
	cfg.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	a := apptest.NewDemo(t)
	a.Guard = abuse.New(cfg, clock.Now)
	a.Identity.Now = clock.Now
	ts, srv := apptest.Serve(t, a, nil)
	return &testServer{Server: ts, app: a, api: srv}
}

// passengerToken creates a passenger account and returns a token for it.
func (s *testServer) passengerToken(t *testing.T, name string) string {
	t.Helper()
	acct, err := s.app.Identity.CreateAccount(context.Background(), identity.NewAccount{Username: name, Role: identity.Passenger, Password: "correct horse"})
	if err != nil {
		t.Fatal(err)
	}
	secret, err := s.app.Identity.Issue(context.Background(), acct.ID, identity.APIToken)
	if err != nil {
		t.Fatal(err)
	}
	return secret
}

// want429 checks a rate-limit refusal: 429 problem+json, its reason, both
// languages and a Retry-After in whole seconds.
func want429(t *testing.T, res response, reason, what string) {
	t.Helper()
	if res.status != http.StatusTooManyRequests {
		t.Fatalf("%s: %d %s, want 429", what, res.status, res.body)
	}
	p := decodeProblem(t, res)
	if p.Reason != reason || p.Code != "limit_reached" || p.MessageZH == "" || p.MessageEN == "" {
		t.Errorf("%s: problem %+v, want limit_reached/%s in both languages", what, p, reason)
	}
	if secs, err := strconv.Atoi(res.header.Get("Retry-After")); err != nil || secs < 1 {
		t.Errorf("%s: Retry-After %q, want whole seconds", what, res.header.Get("Retry-After"))
	}
}

// TestRoutesDeclareTheirLimits walks the route table: the routes a
// stranger or a passenger can use to do work count against a limit, and
// a route documents 429 in the OpenAPI document exactly when it has one.
func TestRoutesDeclareTheirLimits(t *testing.T) {
	srv := httpapi.New(httpapi.Deps{Version: "test"})
	want := map[string]abuse.Action{
		"POST /api/v1/auth/login":                 "login",
		"POST /api/v1/auth/token":                 "login",
		"POST /api/v1/orders":                     "book",
		"POST /api/v1/orders/{id}/change":         "book",
		"POST /api/v1/orders/{id}/cancel":         "cancel",
		"POST /api/v1/orders/{id}/refund":         "cancel",
		"POST /api/v1/waitlist/{id}/cancel":       "cancel",
		"POST /api/v1/waitlist":                   "waitlist",
		"POST /api/v1/redeem-codes":               "redeem",
		"POST /api/v1/campaigns/{id}/claim":       "claim",
		"POST /api/v1/subsidy-schemes/{id}/apply": "claim",
		"POST /api/v1/gifts/{token}/accept":       "gift",
		"GET /api/v1/gifts/{token}":               "gift",
		"GET /api/v1/stations":                    "search",
		"GET /api/v1/recommendations":             "search",
	}
	paths := srv.OpenAPI().Paths
	for _, r := range srv.Routes() {
		key := r.Method + " " + r.Path
		if w, ok := want[key]; ok && r.Limit != w {
			t.Errorf("%s: limit %q, want %q", key, r.Limit, w)
		}
		delete(want, key)
		item := paths[r.Path]
		if item == nil {
			continue // a plain route: no limits there
		}
		var responses map[string]bool
		switch r.Method {
		case "GET":
			responses = codes(item.Get.Responses)
		case "POST":
			responses = codes(item.Post.Responses)
		case "PUT":
			responses = codes(item.Put.Responses)
		default:
			continue
		}
		if documented := responses["429"]; documented != (r.Limit != "") {
			t.Errorf("%s: limit %q but 429 documented: %v", key, r.Limit, documented)
		}
	}
	for k := range want {
		t.Errorf("%s: no such route", k)
	}
}

func codes[V any](m map[string]V) map[string]bool {
	out := map[string]bool{}
	for k := range m {
		out[k] = true
	}
	return out
}

// TestEachLimitAnswers429: for each action, one of its routes refuses the
// account's second call (from another IP) and the IP's third call (from
// other accounts) with 429 and Retry-After; the IP limit of search (no
// account limit) refuses the third call.
func TestEachLimitAnswers429(t *testing.T) {
	clock := testclock.New(time.Now())
	cfg := abuse.Defaults()
	for _, a := range abuse.Actions {
		cfg.Rules[a] = abuse.Rule{abuse.PerIP: {Events: 2, Per: time.Hour}, abuse.PerAccount: {Events: 1, Per: time.Hour}}
	}
	s := newLimitedServer(t, cfg, clock)
	date := apptest.Today().AddDays(2).String()
	doc := realname.MakeID("360102", time.Date(1990, 5, 17, 0, 0, 0, 0, time.UTC), 123)
	book := fmt.Sprintf(`{"train":"Z66","date":%q,"from":"NCG","to":"BXP","passengers":[{"name":"张伟","doc_type":"id_card","doc_number":%q,"seat_class":"hard_sleeper","berth":"lower"}]}`, date, doc)
	wait := fmt.Sprintf(`{"options":[{"train":"Z66","date":%q,"from":"NCG","to":"BXP","seat_class":"hard_sleeper","berth":"lower"}],"passengers":[{"name":"李娜","doc_type":"id_card","doc_number":%q}]}`, date, doc)
	cases := []struct {
		action       abuse.Action
		method, path string
		body         string
	}{
		{abuse.Book, "POST", "/api/v1/orders", book},
		{abuse.Cancel, "POST", "/api/v1/orders/999999/cancel", ""},
		{abuse.Waitlist, "POST", "/api/v1/waitlist", wait},
		{abuse.Redeem, "POST", "/api/v1/redeem-codes", `{"code":"7K2QM-X9D4A-P3HVR"}`},
		{abuse.Claim, "POST", "/api/v1/campaigns/999999/claim", ""},
		{abuse.Gift, "POST", "/api/v1/gifts/no-such-gift/accept", ""},
		{abuse.Buy, "POST", "/api/v1/shop/999999/buy", `{"units":1}`},
	}
	for i, c := range cases {
		t.Run(string(c.action), func(t *testing.T) {
			a, b, d := s.passengerToken(t, fmt.Sprintf("a%d", i)), s.passengerToken(t, fmt.Sprintf("b%d", i)), s.passengerToken(t, fmt.Sprintf("d%d", i))
			ip1, ip2 := fmt.Sprintf("198.51.100.%d", 2*i+1), fmt.Sprintf("198.51.100.%d", 2*i+2)
			call := func(token, ip string) response {
				var body io.Reader
				if c.body != "" {
					body = strings.NewReader(c.body)
				}
				return s.do(t, c.method, c.path, token, body, "X-Forwarded-For", ip)
			}
			if res := call(a, ip1); res.status == 429 {
				t.Fatalf("first call refused: %s", res.body)
			}
			want429(t, call(a, ip2), "rate_limited", "the account's second call")
			if res := call(b, ip1); res.status == 429 {
				t.Fatalf("the IP's second call refused: %s", res.body)
			}
			want429(t, call(d, ip1), "rate_limited", "the IP's third call")
		})
	}
	t.Run("login", func(t *testing.T) {
		login := func(name, ip string) response {
			return s.do(t, "POST", "/api/v1/auth/login", "", strings.NewReader(`{"username":"`+name+`","password":"wrong"}`), "X-Forwarded-For", ip)
		}
		if res := login("nobody1", "203.0.113.1"); res.status != 401 {
			t.Fatalf("first login: %d %s", res.status, res.body)
		}
		want429(t, login("nobody1", "203.0.113.2"), "rate_limited", "the login name's second try")
		if res := login("nobody2", "203.0.113.1"); res.status != 401 {
			t.Fatalf("the IP's second login: %d %s", res.status, res.body)
		}
		want429(t, login("nobody3", "203.0.113.1"), "rate_limited", "the IP's third login")
	})
	t.Run("search", func(t *testing.T) {
		for range 2 {
			if res := s.do(t, "GET", "/api/v1/stations?q=NCG", "", nil, "X-Forwarded-For", "203.0.113.50"); res.status != 200 {
				t.Fatalf("search: %d %s", res.status, res.body)
			}
		}
		want429(t, s.do(t, "GET", "/api/v1/stations?q=NCG", "", nil, "X-Forwarded-For", "203.0.113.50"), "rate_limited", "the IP's third search")
		// A refilled token: the Retry-After was honest.
		clock.Advance(30 * time.Minute)
		if res := s.do(t, "GET", "/api/v1/stations?q=NCG", "", nil, "X-Forwarded-For", "203.0.113.50"); res.status != 200 {
			t.Errorf("after the refill: %d %s", res.status, res.body)
		}
	})
}

// TestStrangerCannotThrottleMyDocument: however often a stranger names my
// ID number, my own booking with it is not refused as rate limited: no
// bucket counts per document.
func TestStrangerCannotThrottleMyDocument(t *testing.T) {
	cfg := abuse.Defaults()
	cfg.Rules[abuse.Book] = abuse.Rule{abuse.PerAccount: {Events: 100, Per: time.Minute}}
	s := newLimitedServer(t, cfg, testclock.New(time.Now()))
	doc := realname.MakeID("360102", time.Date(1990, 5, 17, 0, 0, 0, 0, time.UTC), 123)
	book := func(date string) string {
		return fmt.Sprintf(`{"train":"Z66","date":%q,"from":"NCG","to":"BXP","passengers":[{"name":"张伟","doc_type":"id_card","doc_number":%q,"seat_class":"hard_sleeper","berth":"lower"}]}`, date, doc)
	}
	stranger := s.passengerToken(t, "stranger")
	for i := range 30 { // far beyond any per-document rate the defaults ever had
		s.do(t, "POST", "/api/v1/orders", stranger, strings.NewReader(book("2000-01-01")), "X-Forwarded-For", fmt.Sprintf("198.51.100.%d", i+1))
	}
	res := s.do(t, "POST", "/api/v1/orders", s.passengerToken(t, "holder"), strings.NewReader(book(apptest.Today().AddDays(2).String())), "X-Forwarded-For", "203.0.113.9")
	if res.status != 200 {
		t.Fatalf("the holder's booking after a stranger's attempts: %d %s", res.status, res.body)
	}
}

// TestLoginLockoutOverHTTP is the issue's case: 50 wrong logins in a row,
// then the right password does not log in while the account is locked
// (429 account_locked or rate_limited, never 200); the 31st wrong login in
// a minute from one IP is 429; an operator's unlock lets the owner in.
func TestLoginLockoutOverHTTP(t *testing.T) {
	clock := testclock.New(time.Now())
	s := newLimitedServer(t, abuse.Defaults(), clock)
	ctx := context.Background()
	acct, err := s.app.Identity.CreateAccount(ctx, identity.NewAccount{Username: "victim", Role: identity.Passenger, Password: "correct horse"})
	if err != nil {
		t.Fatal(err)
	}
	login := func(password, ip string) response {
		return s.do(t, "POST", "/api/v1/auth/login", "", strings.NewReader(`{"username":"victim","password":"`+password+`"}`), "X-Forwarded-For", ip, "Accept-Language", "en")
	}
	for i := 1; i <= 50; i++ {
		res := login("wrong", "203.0.113.9")
		switch {
		case i < 5:
			if res.status != 401 {
				t.Fatalf("wrong login %d: %d %s", i, res.status, res.body)
			}
		case i <= 10:
			want429(t, res, "account_locked", fmt.Sprintf("wrong login %d", i))
			if p := decodeProblem(t, res); !strings.Contains(p.MessageEN, "locked until") || !strings.Contains(p.MessageZH, "锁定至") {
				t.Errorf("lock message does not say until when: %+v", p)
			}
		default: // the login name's bucket (10 a minute), then the IP's (30) are spent
			want429(t, res, "rate_limited", fmt.Sprintf("wrong login %d", i))
		}
	}
	// The owner, from another IP, with the right password: still refused.
	res := login("correct horse", "198.51.100.7")
	if res.status != http.StatusTooManyRequests {
		t.Fatalf("the right password while locked: %d %s", res.status, res.body)
	}
	// The 31st wrong login from one IP within the minute, on another name.
	want429(t, s.do(t, "POST", "/api/v1/auth/login", "", strings.NewReader(`{"username":"someone-else","password":"x"}`), "X-Forwarded-For", "203.0.113.9"), "rate_limited", "the IP's 31st login")

	// An operator unlocks; the audit trail gets the entry (checked in identity).
	admin := s.token(t, identity.OperatorAdmin)
	if res := s.do(t, "POST", fmt.Sprintf("/api/v1/accounts/%d/unlock", acct.ID), s.token(t, identity.Passenger), strings.NewReader(`{}`)); res.status != 403 {
		t.Errorf("a passenger unlocking: %d, want 403", res.status)
	}
	res = s.do(t, "POST", fmt.Sprintf("/api/v1/accounts/%d/unlock", acct.ID), admin, strings.NewReader(`{"reason":"owner called"}`))
	var unlocked struct {
		AccountID int64                  `json:"account_id"`
		Cleared   identity.LoginFailures `json:"cleared"`
	}
	if json.Unmarshal(res.body, &unlocked); res.status != 200 || unlocked.Cleared.Failures != 5 || unlocked.Cleared.LockedUntil.IsZero() {
		t.Fatalf("unlock: %d %s", res.status, res.body)
	}
	clock.Advance(6 * time.Second) // one token back in the login name's bucket
	if res := login("correct horse", "198.51.100.7"); res.status != 200 {
		t.Errorf("the owner after the unlock: %d %s", res.status, res.body)
	}
	if res := s.do(t, "POST", "/api/v1/accounts/999999/unlock", admin, nil); res.status != 404 {
		t.Errorf("unlocking a missing account: %d %s", res.status, res.body)
	}
}

// TestWrongLoginStorm: 64 concurrent wrong logins, from 64 IPs, with the
// production argon2id parameters (64 MiB a hash), against the real
// handler. With 2 hash slots the live heap (sampled through runtime/metrics
// while the storm lasts) never grows by stormBound or more over its level
// before the storm (uncapped it would be about 64 × 64 MiB = 4 GiB), and
// every answer is 401, 429 or 503.
func TestWrongLoginStorm(t *testing.T) {
	const stormBound = 512 << 20
	a := apptest.NewDemo(t)
	a.Identity.Params = identity.DefaultParams
	a.Identity.SetHashSlots(2, 2*time.Second)
	_, srv := apptest.Serve(t, a, nil)
	h := srv.Handler()

	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	heap := func() int64 {
		metrics.Read(sample)
		return int64(sample[0].Value.Uint64())
	}
	runtime.GC()
	base := heap()
	var peak atomic.Int64
	done := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			if v := heap(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	statuses := map[int]int{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range 64 {
		wg.Go(func() {
			// Unknown names: each still costs one production-strength hash (dummyHash).
			body := fmt.Sprintf(`{"username":"storm%d","password":"guess-%d"}`, i, i)
			r := httptest.NewRequest("POST", "/api/v1/auth/login", strings.NewReader(body))
			r.Header.Set("Content-Type", "application/json")
			r.RemoteAddr = fmt.Sprintf("192.0.2.%d:4000", i+1)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			mu.Lock()
			statuses[w.Code]++
			mu.Unlock()
			if w.Code == 503 && w.Header().Get("Retry-After") == "" {
				t.Errorf("503 without Retry-After: %s", w.Body)
			}
			if w.Code == 503 && !bytes.Contains(w.Body.Bytes(), []byte(`"reason":"server_busy"`)) {
				t.Errorf("503 body: %s", w.Body)
			}
		})
	}
	wg.Wait()
	close(done)
	<-sampled
	growth := peak.Load() - base
	t.Logf("answers %v; live heap peaked %d MiB over its level before the storm (bound %d MiB)", statuses, growth>>20, stormBound>>20)
	for code := range statuses {
		if code != 401 && code != 429 && code != 503 {
			t.Errorf("answer %d in the storm, want only 401, 429, 503", code)
		}
	}
	if statuses[401] == 0 {
		t.Error("no login was checked at all")
	}
	if growth < 64<<20 {
		t.Errorf("the heap peaked only %d MiB over its base: the sampling missed the hashes", growth>>20)
	}
	if growth >= stormBound {
		t.Errorf("the heap peaked %d MiB over its base, over the bound of %d MiB", growth>>20, stormBound>>20)
	}
}

// TestTapStreamLimit: a tap stream over the route's own limit is refused
// whole (413 problem+json) whether or not it says its length, a stream
// with an overlong line is refused (422), and in neither case is any tap
// stored; a stream under the limit but over the global 1 MiB is taken.
func TestTapStreamLimit(t *testing.T) {
	cfg := abuse.Defaults().Scaled(100)
	cfg.TapStreamBytes = 2 << 20
	s := newLimitedServer(t, cfg, testclock.New(time.Now()))
	gate := s.token(t, identity.Gate)
	ndjson := func(taps []metro.Tap) []byte {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		for _, tp := range taps {
			enc.Encode(tp)
		}
		return b.Bytes()
	}
	big := mtTaps(20000, time.Now().Add(-30*24*time.Hour).UTC()) // about 3 MiB of NDJSON, a tap a minute
	body := ndjson(big)
	if len(body) <= 2<<20 {
		t.Fatalf("the test stream is only %d bytes", len(body))
	}
	stored := func() int {
		// Resending the first 1,000 as a batch: what was stored comes back as duplicates.
		b, _ := json.Marshal(map[string]any{"taps": big[:1000]})
		res := s.do(t, "POST", "/api/v1/gate/taps", gate, bytes.NewReader(b))
		var r metro.IngestResult
		if err := json.Unmarshal(res.body, &r); err != nil || res.status != 200 {
			t.Fatalf("batch: %d %s", res.status, res.body)
		}
		return r.Duplicates
	}
	// Chunked: the length is unknown until the end, so the spool is what refuses.
	req, _ := http.NewRequest("POST", s.URL+"/api/v1/gate/taps/stream", io.MultiReader(bytes.NewReader(body)))
	req.Header.Set("Authorization", "Bearer "+gate)
	req.Header.Set("Content-Type", "application/x-ndjson")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	answer, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if req.ContentLength != 0 { // unknown: sent chunked
		t.Fatalf("the request has a length (%d): it would not be chunked", req.ContentLength)
	}
	res := response{resp.StatusCode, resp.Header, answer}
	if res.status != 413 || !strings.HasPrefix(res.header.Get("Content-Type"), "application/problem+json") || decodeProblem(t, res).Reason != "body_too_large" {
		t.Fatalf("chunked stream over the limit: %d %s %s", res.status, res.header.Get("Content-Type"), res.body)
	}
	if n := stored(); n != 0 {
		t.Fatalf("%d taps of a refused stream were stored", n)
	}
	// With a Content-Length: refused before reading.
	res = s.do(t, "POST", "/api/v1/gate/taps/stream", gate, bytes.NewReader(body))
	if res.status != 413 || decodeProblem(t, res).Reason != "body_too_large" {
		t.Fatalf("stream over the limit with its length: %d %s", res.status, res.body)
	}
	// An overlong line after 1,500 good ones.
	long := append(ndjson(big[1000:2500]), []byte(`{"id":"`+strings.Repeat("x", 70<<10)+`"}`+"\n")...)
	res = s.do(t, "POST", "/api/v1/gate/taps/stream", gate, bytes.NewReader(long))
	if res.status != 422 || decodeProblem(t, res).Reason != "line_too_long" {
		t.Fatalf("overlong line: %d %s", res.status, res.body)
	}
	if n := stored(); n != 1000 { // the batch checks above stored these 1,000 and nothing else
		t.Fatalf("%d duplicates, want the 1,000 of the previous check only", n)
	}
	b, _ := json.Marshal(map[string]any{"taps": big[1000:2500]})
	if res := s.do(t, "POST", "/api/v1/gate/taps", gate, bytes.NewReader(b)); !bytes.Contains(res.body, []byte(`"added":1500,"duplicates":0`)) {
		t.Fatalf("taps of the stream with the long line were stored: %s", res.body)
	}
	// Under the stream's limit but over the global 1 MiB: taken whole.
	ok := ndjson(big[2500:12000])
	if len(ok) <= 1<<20 || len(ok) > 2<<20 {
		t.Fatalf("the accepted stream is %d bytes", len(ok))
	}
	res = s.do(t, "POST", "/api/v1/gate/taps/stream", gate, bytes.NewReader(ok))
	if res.status != 200 || !bytes.Contains(res.body, []byte(`"added":9500`)) || !bytes.Contains(res.body, []byte(`"done":true`)) {
		t.Fatalf("stream under the limit: %d %.300s", res.status, res.body)
	}
}
