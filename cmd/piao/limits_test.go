package main

import (
	"net/netip"
	"testing"
	"time"

	"piao/internal/abuse"
)

// TestLimitFlags: serve's flags change the limits they name and keep the
// defaults of the rest; bad settings are refused at start.
func TestLimitFlags(t *testing.T) {
	f := limitFlags{Limits: []string{"login.ip=5/1m", " redeem.account=off"}, TrustedProxies: []string{"10.0.0.0/8", "192.0.2.7"},
		LockoutAfter: 3, LockoutFirst: 2 * time.Minute, LockoutMax: 30 * time.Minute, HashWait: time.Second, TapStreamMax: 1 << 20}
	cfg, err := f.config()
	if err != nil {
		t.Fatal(err)
	}
	d := abuse.Defaults()
	if cfg.Rules[abuse.Login][abuse.PerIP] != (abuse.Rate{Events: 5, Per: time.Minute}) || !cfg.Rules[abuse.Redeem][abuse.PerAccount].Unlimited() ||
		cfg.Rules[abuse.Book][abuse.PerIP] != d.Rules[abuse.Book][abuse.PerIP] {
		t.Errorf("rules: %v", cfg.Rules)
	}
	if len(cfg.TrustedProxies) != 2 || cfg.TrustedProxies[1] != netip.MustParsePrefix("192.0.2.7/32") {
		t.Errorf("proxies: %v", cfg.TrustedProxies)
	}
	if cfg.Lockout.After != 3 || cfg.Lockout.First != 2*time.Minute || cfg.Lockout.Max != 30*time.Minute || cfg.Lockout.Forget != d.Lockout.Forget {
		t.Errorf("lockout: %+v", cfg.Lockout)
	}
	if cfg.HashSlots != d.HashSlots || cfg.HashWait != time.Second || cfg.TapStreamBytes != 1<<20 {
		t.Errorf("hash slots %d, wait %v, tap stream %d", cfg.HashSlots, cfg.HashWait, cfg.TapStreamBytes)
	}
	for _, bad := range []limitFlags{
		{Limits: []string{"login.ip=fast"}, TapStreamMax: 1},
		{TrustedProxies: []string{"proxy.example"}, TapStreamMax: 1},
		{TapStreamMax: 0},
	} {
		if _, err := bad.config(); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}
