package abuse

import (
	"fmt"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"

	"piao/internal/fault"
	"piao/internal/testclock"
)

var t0 = time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)

// TestBucketRefusesAndRefills: the 31st login in a minute from one IP is
// refused with a retry time; a token comes back after Per/Events.
func TestBucketRefusesAndRefills(t *testing.T) {
	clock := testclock.New(t0)
	g := New(Defaults(), clock.Now)
	for i := range 30 {
		if err := g.Allow(Login, PerIP, "192.0.2.1"); err != nil {
			t.Fatalf("login %d refused: %v", i+1, err)
		}
	}
	err := g.Allow(Login, PerIP, "192.0.2.1")
	fe := fault.As(err)
	if fe.Code != fault.LimitReached || fe.Reason != "rate_limited" || fe.ZH == "" || fe.EN == "" {
		t.Fatalf("31st login: %v, want limit_reached/rate_limited", err)
	}
	if wait := fe.RetryAt.Sub(t0); wait <= 0 || wait > 2*time.Second {
		t.Errorf("retry after %v, want about 2s (60s/30)", wait)
	}
	if err := g.Allow(Login, PerIP, "192.0.2.2"); err != nil {
		t.Errorf("another IP refused: %v", err)
	}
	clock.Advance(2 * time.Second)
	if err := g.Allow(Login, PerIP, "192.0.2.1"); err != nil {
		t.Errorf("after the refill: %v", err)
	}
	if err := g.Allow(Login, PerIP, "192.0.2.1"); err == nil {
		t.Error("the refilled token was spent, yet a second one was granted")
	}
}

// TestBucketsAreBounded: many keys never hold more than MaxKeys buckets,
// and buckets idle for a refill period are forgotten.
func TestBucketsAreBounded(t *testing.T) {
	clock := testclock.New(t0)
	cfg := Defaults()
	cfg.MaxKeys = 100
	g := New(cfg, clock.Now)
	for i := range 10_000 {
		g.Allow(Redeem, PerIP, fmt.Sprintf("10.0.%d.%d", i/256, i%256))
	}
	if n := g.keys(Redeem, PerIP); n > 100 {
		t.Errorf("%d buckets remembered, want at most 100", n)
	}
	clock.Advance(time.Minute)
	g.Allow(Redeem, PerIP, "192.0.2.9")
	if n := g.keys(Redeem, PerIP); n != 1 {
		t.Errorf("%d buckets after a minute idle, want 1 (the new one)", n)
	}
}

// TestUnlimitedAndEmptyKeys: an action without a rule for a key, and an
// empty key, always pass.
func TestUnlimitedAndEmptyKeys(t *testing.T) {
	g := New(Defaults(), nil)
	for range 1000 {
		if g.Allow(Search, PerAccount, "1") != nil || g.Allow(Login, PerIP, "") != nil {
			t.Fatal("refused without a limit")
		}
	}
}

func TestClientIP(t *testing.T) {
	cfg := Defaults()
	cfg.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	g := New(cfg, nil)
	for _, c := range []struct{ remote, xff, want string }{
		{"192.0.2.1:5000", "", "192.0.2.1"},
		{"192.0.2.1:5000", "203.0.113.7", "192.0.2.1"},                          // not from a proxy: the header is ignored
		{"10.0.0.5:5000", "203.0.113.7", "203.0.113.7"},                         // from the proxy
		{"10.0.0.5:5000", "198.51.100.1, 203.0.113.7, 10.1.1.1", "203.0.113.7"}, // the nearest untrusted hop
		{"10.0.0.5:5000", "", "10.0.0.5"},
		{"[2001:db8:1:2:3:4:5:6]:443", "", "2001:db8:1:2::/64"},
		{"[::ffff:192.0.2.4]:80", "", "192.0.2.4"},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = c.remote
		if c.xff != "" {
			r.Header.Set("X-Forwarded-For", c.xff)
		}
		if got := g.ClientIP(r); got != c.want {
			t.Errorf("ClientIP(%s, XFF %q) = %s, want %s", c.remote, c.xff, got, c.want)
		}
	}
}

func TestConfigSet(t *testing.T) {
	c := Defaults()
	if err := c.Set("login.ip=5/10s"); err != nil {
		t.Fatal(err)
	}
	if got := c.Rules[Login][PerIP]; got != (Rate{5, 10 * time.Second}) {
		t.Errorf("login.ip = %v", got)
	}
	if Defaults().Rules[Login][PerIP].Events != 30 {
		t.Error("Set changed the defaults")
	}
	if err := c.Set("search.ip=off"); err != nil || !c.Rules[Search][PerIP].Unlimited() {
		t.Errorf("search.ip=off: %v", err)
	}
	for _, bad := range []string{"login", "nope.ip=1/1m", "login.ip=x/1m", "login.ip=3"} {
		if c.Set(bad) == nil {
			t.Errorf("Set(%q) accepted", bad)
		}
	}
}
