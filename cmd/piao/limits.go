package main

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"piao/internal/abuse"
)

// limitFlags are serve's settings of the abuse limits (SPEC S5); every
// one has a default, listed by the console's /limits page.
type limitFlags struct {
	Limits         []string      `name:"limit" env:"PIAO_LIMITS" placeholder:"ACTION.KEY=RATE" help:"Change one rate limit, e.g. login.ip=30/1m or search.ip=off; repeat the flag or separate with commas. Actions: login, book, cancel, waitlist, redeem, claim, gift, search; keys: ip, account. Defaults: the /limits page of the console."`
	TrustedProxies []string      `name:"trusted-proxy" env:"PIAO_TRUSTED_PROXIES" placeholder:"CIDR" help:"Proxies (address or CIDR) whose X-Forwarded-For names the client IP; by default none, and the client IP is the connection's."`
	LockoutAfter   int           `name:"login-lockout-after" env:"PIAO_LOGIN_LOCKOUT_AFTER" default:"5" help:"Failed logins in a row that lock an account (0: never lock)."`
	LockoutFirst   time.Duration `name:"login-lockout-first" env:"PIAO_LOGIN_LOCKOUT_FIRST" default:"1m" help:"The first lock; each further failed login doubles it."`
	LockoutMax     time.Duration `name:"login-lockout-max" env:"PIAO_LOGIN_LOCKOUT_MAX" default:"1h" help:"The longest lock."`
	HashSlots      int           `name:"hash-slots" env:"PIAO_HASH_SLOTS" help:"Password hashes (argon2id, 64 MiB each) run at once in this process (default: 2 per CPU core)."`
	HashWait       time.Duration `name:"hash-wait" env:"PIAO_HASH_WAIT" default:"2s" help:"How long a login waits for a hash slot before it is refused with 503."`
	TapStreamMax   int64         `name:"tap-stream-max" env:"PIAO_TAP_STREAM_MAX" default:"67108864" help:"Largest body of the gates' NDJSON tap stream, in bytes (default 64 MiB); a larger stream is refused whole with 413."`
}

// config returns the abuse limits the flags describe.
func (f limitFlags) config() (abuse.Config, error) {
	cfg := abuse.Defaults()
	for _, l := range f.Limits {
		if err := cfg.Set(strings.TrimSpace(l)); err != nil {
			return abuse.Config{}, err
		}
	}
	for _, p := range f.TrustedProxies {
		p = strings.TrimSpace(p)
		prefix, err := netip.ParsePrefix(p)
		if err != nil {
			addr, aerr := netip.ParseAddr(p)
			if aerr != nil {
				return abuse.Config{}, fmt.Errorf("--trusted-proxy %q: not an address or CIDR", p)
			}
			prefix = netip.PrefixFrom(addr, addr.BitLen())
		}
		cfg.TrustedProxies = append(cfg.TrustedProxies, prefix.Masked())
	}
	cfg.Lockout.After, cfg.Lockout.First, cfg.Lockout.Max = f.LockoutAfter, f.LockoutFirst, f.LockoutMax
	if f.HashSlots > 0 {
		cfg.HashSlots = f.HashSlots
	}
	cfg.HashWait = f.HashWait
	if f.TapStreamMax <= 0 {
		return abuse.Config{}, fmt.Errorf("--tap-stream-max must be positive")
	}
	cfg.TapStreamBytes = f.TapStreamMax
	return cfg, nil
}
