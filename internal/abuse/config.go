// Package abuse holds piao's abuse limits (SPEC S5): the token buckets that
// answer 429 when one client IP or one account asks too
// often, the client IP they are keyed by, and the one configuration of
// every limit (rates, login lockout, password-hash slots, the tap stream's
// body size) that the adapters apply and the console and docs show.
//
// The token buckets live in the memory of each process; the login lockout
// is kept by identity in the database, so it is shared by every process.
package abuse

import (
	"fmt"
	"maps"
	"net/netip"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Action names a kind of request that one limit covers, e.g. logging in
// or redeeming a code. Routes declare the action they count against.
type Action string

// The actions with a limit.
const (
	Login    Action = "login"    // logging in or minting a token with a password
	Book     Action = "book"     // booking seats or changing a ticket
	Cancel   Action = "cancel"   // cancelling or refunding an order, withdrawing from the waitlist
	Waitlist Action = "waitlist" // joining a waitlist
	Redeem   Action = "redeem"   // redeeming a code
	Claim    Action = "claim"    // claiming a campaign's ticket, applying for a subsidy
	Gift     Action = "gift"     // offering, reading, accepting, declining or cancelling a gift
	Search   Action = "search"   // public reads that compute (station search, timetables, fares, recommendations)
	Apply    Action = "apply"    // a merchant's application: applying, adding papers, resubmitting, following it
	Buy      Action = "buy"      // a passenger buying tickets on sale or refunding a bought one
)

// Actions lists every action, in display order.
var Actions = []Action{Login, Book, Cancel, Waitlist, Redeem, Claim, Gift, Search, Apply, Buy}

// Key is what a bucket counts per: a client IP or an account.
//
// There is no bucket per identity document: anyone may name anyone's ID
// number in a request, so a stranger could drain a document's bucket and
// stop its holder from booking — the abuse the ownership rules of
// governance exist to prevent. A document is guarded by the one active
// ticket per train and day and by the cancel limit counted from the
// accounts it admits.
type Key string

// The keys a rule can count per.
const (
	PerIP      Key = "ip"      // the client IP (see ClientIP)
	PerAccount Key = "account" // the logged-in account; for login, the login name tried
)

// Keys lists every key, in display order.
var Keys = []Key{PerIP, PerAccount}

// Rate is a token bucket: Events requests, refilled evenly over Per, at
// most Events at once. The zero Rate sets no limit.
type Rate struct {
	Events int
	Per    time.Duration
}

// Unlimited reports whether r sets no limit.
func (r Rate) Unlimited() bool { return r.Events <= 0 || r.Per <= 0 }

// String writes r as "30/1m0s", the form ParseRate reads; "off" when unlimited.
func (r Rate) String() string {
	if r.Unlimited() {
		return "off"
	}
	return strconv.Itoa(r.Events) + "/" + r.Per.String()
}

// ParseRate reads "30/1m" (30 requests a minute) or "off".
func ParseRate(s string) (Rate, error) {
	if s == "off" || s == "0" {
		return Rate{}, nil
	}
	n, per, ok := strings.Cut(s, "/")
	if !ok {
		return Rate{}, fmt.Errorf("rate %q: want EVENTS/DURATION, e.g. 30/1m, or off", s)
	}
	events, err := strconv.Atoi(n)
	if err != nil || events < 0 {
		return Rate{}, fmt.Errorf("rate %q: bad event count", s)
	}
	d, err := time.ParseDuration(per)
	if err != nil || d <= 0 {
		return Rate{}, fmt.Errorf("rate %q: bad duration", s)
	}
	return Rate{Events: events, Per: d}, nil
}

// Rule is the limits of one action, per key; a missing key sets no limit.
type Rule map[Key]Rate

// Lockout is the progressive login lockout of one account: after After
// failed logins in a row the account is locked for First, and each further
// failure doubles the lock, up to Max. A success or an operator's unlock
// clears the count; failures further apart than Forget are forgotten.
type Lockout struct {
	After  int
	First  time.Duration
	Max    time.Duration
	Forget time.Duration
}

// Config is every abuse limit of a serving process.
type Config struct {
	// Rules are the token-bucket limits of each action.
	Rules map[Action]Rule
	// MaxKeys bounds how many keys (IPs, accounts) each bucket
	// set remembers; beyond it the least recently seen are forgotten.
	MaxKeys int
	// TrustedProxies are the proxies whose X-Forwarded-For is believed;
	// by default none, and the client IP is the connection's address.
	TrustedProxies []netip.Prefix
	// Lockout is the login lockout per account (kept in the database).
	Lockout Lockout
	// HashSlots is how many password hashes (argon2id, 64 MiB each) may run
	// at once in this process; HashWait how long a login waits for a slot
	// before it is refused with 503.
	HashSlots int
	HashWait  time.Duration
	// TapStreamBytes is the largest body of the gates' NDJSON tap stream
	// (POST /api/v1/gate/taps/stream); larger streams are refused whole.
	TapStreamBytes int64
}

// Defaults returns the limits a server runs with unless configured.
func Defaults() Config {
	min := time.Minute
	return Config{
		Rules: map[Action]Rule{
			Login:    {PerIP: {30, min}, PerAccount: {10, min}},
			Book:     {PerIP: {60, min}, PerAccount: {20, min}},
			Cancel:   {PerIP: {60, min}, PerAccount: {20, min}},
			Waitlist: {PerIP: {60, min}, PerAccount: {20, min}},
			Redeem:   {PerIP: {30, min}, PerAccount: {10, min}},
			Claim:    {PerIP: {60, min}, PerAccount: {20, min}},
			Gift:     {PerIP: {60, min}, PerAccount: {30, min}},
			Search:   {PerIP: {600, min}},
			// Applications carry files and hash a password: a few an hour
			// from one address is what a real applicant needs.
			Apply: {PerIP: {30, time.Hour}},
			// Each order creates a gateway payment: a buyer needs a few.
			Buy: {PerIP: {60, min}, PerAccount: {10, min}},
		},
		MaxKeys:        100_000,
		Lockout:        Lockout{After: 5, First: time.Minute, Max: time.Hour, Forget: 24 * time.Hour},
		HashSlots:      2 * runtime.NumCPU(),
		HashWait:       2 * time.Second,
		TapStreamBytes: 64 << 20,
	}
}

// Set changes one rate from a "ACTION.KEY=RATE" setting, e.g.
// "login.ip=30/1m" or "search.ip=off".
func (c *Config) Set(setting string) error {
	name, value, ok := strings.Cut(setting, "=")
	if !ok {
		return fmt.Errorf("limit %q: want ACTION.KEY=RATE, e.g. login.ip=30/1m", setting)
	}
	a, k, ok := strings.Cut(name, ".")
	if !ok || !slices.Contains(Actions, Action(a)) || !slices.Contains(Keys, Key(k)) {
		return fmt.Errorf("limit %q: unknown action or key (actions %v, keys %v)", setting, Actions, Keys)
	}
	r, err := ParseRate(value)
	if err != nil {
		return err
	}
	rules := make(map[Action]Rule, len(c.Rules))
	for act, rule := range c.Rules { // copy: Defaults' maps may be shared
		rules[act] = maps.Clone(rule)
	}
	if rules[Action(a)] == nil {
		rules[Action(a)] = Rule{}
	}
	rules[Action(a)][Key(k)] = r
	c.Rules = rules
	return nil
}

// Scaled returns c with every rate allowing factor times as many requests
// (tests that book or log in fast use it); the other limits are unchanged.
func (c Config) Scaled(factor int) Config {
	rules := make(map[Action]Rule, len(c.Rules))
	for a, rule := range c.Rules {
		r := make(Rule, len(rule))
		for k, rate := range rule {
			rate.Events *= factor
			r[k] = rate
		}
		rules[a] = r
	}
	c.Rules = rules
	return c
}

// Setting is one limit for display: its name, value and default.
type Setting struct {
	Name    string // e.g. "login.ip" or "lockout.after"
	Value   string
	Default string
	// Shared is true when every process on the database sees the same
	// state (the lockout), false when each process counts alone.
	Shared bool
}

// Settings lists every limit of c beside its default, for the console and docs.
func (c Config) Settings() []Setting {
	d := Defaults()
	var out []Setting
	for _, a := range Actions {
		for _, k := range Keys {
			v, dv := c.Rules[a][k], d.Rules[a][k]
			if v.Unlimited() && dv.Unlimited() {
				continue
			}
			out = append(out, Setting{Name: string(a) + "." + string(k), Value: v.String(), Default: dv.String()})
		}
	}
	proxies := func(ps []netip.Prefix) string {
		if len(ps) == 0 {
			return "none"
		}
		s := make([]string, len(ps))
		for i, p := range ps {
			s[i] = p.String()
		}
		return strings.Join(s, ",")
	}
	return append(out,
		Setting{Name: "keys.max", Value: strconv.Itoa(c.MaxKeys), Default: strconv.Itoa(d.MaxKeys)},
		Setting{Name: "trusted-proxies", Value: proxies(c.TrustedProxies), Default: proxies(d.TrustedProxies)},
		Setting{Name: "lockout.after", Value: strconv.Itoa(c.Lockout.After), Default: strconv.Itoa(d.Lockout.After), Shared: true},
		Setting{Name: "lockout.first", Value: c.Lockout.First.String(), Default: d.Lockout.First.String(), Shared: true},
		Setting{Name: "lockout.max", Value: c.Lockout.Max.String(), Default: d.Lockout.Max.String(), Shared: true},
		Setting{Name: "lockout.forget", Value: c.Lockout.Forget.String(), Default: d.Lockout.Forget.String(), Shared: true},
		Setting{Name: "hash.slots", Value: strconv.Itoa(c.HashSlots), Default: strconv.Itoa(d.HashSlots)},
		Setting{Name: "hash.wait", Value: c.HashWait.String(), Default: d.HashWait.String()},
		Setting{Name: "tap-stream.bytes", Value: strconv.FormatInt(c.TapStreamBytes, 10), Default: strconv.FormatInt(d.TapStreamBytes, 10)},
	)
}
