package ridecode

import (
	"sync"
	"time"

	"piao/internal/fault"
)

// GateConfig holds the replay rules' durations; zero fields take the defaults.
type GateConfig struct {
	// TripLimit is the longest a trip may take before its exit counts as
	// overtime (default 4 h).
	TripLimit time.Duration
	// StaleAfter is the age after which a rider's tap-in no longer stops a
	// new tap-in: the old entry is dropped (clearing makes it a no-exit
	// trip) and returned. Default TripLimit.
	StaleAfter time.Duration
	// CodeValidity is the validity of the code that will be shown at the
	// exit gate (default DefaultTTL(KindRide)); an entry is forgotten
	// TripLimit + CodeValidity after it was made.
	CodeValidity time.Duration
	// Skew must be at least the Verifier's skew: a code's single-use mark
	// is kept until ExpiresAt + Skew, after which Verify refuses the code
	// anyway (default DefaultSkew).
	Skew time.Duration
}

func (c GateConfig) withDefaults() GateConfig {
	if c.TripLimit <= 0 {
		c.TripLimit = 4 * time.Hour
	}
	if c.StaleAfter <= 0 {
		c.StaleAfter = c.TripLimit
	}
	if c.CodeValidity <= 0 {
		c.CodeValidity = DefaultTTL(KindRide)
	}
	if c.Skew <= 0 {
		c.Skew = DefaultSkew
	}
	return c
}

// Entry is a rider inside the network: the tap-in that let them in.
type Entry struct {
	Network string    `json:"network"`
	Account int64     `json:"account"`
	Ticket  int64     `json:"ticket,omitempty"`
	Kind    Kind      `json:"kind"`
	Station string    `json:"station"`
	At      time.Time `json:"at"`
	Code    string    `json:"code"` // CodeID of the code used to tap in
}

// Exit is a tap-out matched with its tap-in.
type Exit struct {
	In      Entry     `json:"in"`
	Station string    `json:"station"`
	At      time.Time `json:"at"`
	Code    string    `json:"code"`
	// Overtime is set when the trip took longer than GateConfig.TripLimit.
	Overtime bool `json:"overtime,omitempty"`
}

// riderKey names who is inside: the account for phone codes, the ticket for
// paper tickets (one buyer's paper tickets are ridden by several people).
type riderKey struct {
	network string
	paper   bool
	id      int64
}

func riderOf(c Claims) riderKey {
	if c.Kind == KindPaper {
		return riderKey{c.Network, true, c.Ticket}
	}
	return riderKey{c.Network, false, c.Account}
}

type codeKey struct {
	issuer string
	serial uint64
}

type codeUse struct {
	in, out bool
	until   time.Time // forgotten from then on
}

// Gate is the replay state a station gate (or a network's gates sharing it)
// keeps; it is a pure state machine, safe for concurrent use, that never
// reads the clock.
//
// Rules, for claims that Verifier.Verify accepted:
//   - A dynamic code (KindRide, KindCount) taps in at most once and taps out
//     at most once; the same code may serve one tap-in and one tap-out.
//     Paper tickets are ridden again and again; only the rider rule holds
//     them, and the ride count is clearing's business (SPEC M3).
//   - A rider (the account, or the ticket of a paper code) inside the
//     network cannot tap in again until they tap out, unless their entry is
//     at least StaleAfter old: then it is dropped and returned.
//   - A tap-out needs the rider's tap-in in the same network; an exit later
//     than TripLimit passes and is marked Overtime.
//   - Memory is bounded: an entry is forgotten TripLimit + CodeValidity
//     after it was made, a code's single-use mark at its ExpiresAt + Skew.
type Gate struct {
	cfg GateConfig

	mu        sync.Mutex
	codes     map[codeKey]codeUse
	inside    map[riderKey]Entry
	nextSweep time.Time
}

// NewGate returns an empty gate state with cfg's rules.
func NewGate(cfg GateConfig) *Gate {
	return &Gate{cfg: cfg.withDefaults(), codes: map[codeKey]codeUse{}, inside: map[riderKey]Entry{}}
}

// Config is the gate's configuration with the defaults filled in.
func (g *Gate) Config() GateConfig { return g.cfg }

func (g *Gate) forgetAt(e Entry) time.Time { return e.At.Add(g.cfg.TripLimit + g.cfg.CodeValidity) }

// lookup returns the rider's entry if it is still remembered at now.
func (g *Gate) lookup(k riderKey, now time.Time) (Entry, bool) {
	e, ok := g.inside[k]
	if ok && !now.Before(g.forgetAt(e)) {
		delete(g.inside, k)
		return Entry{}, false
	}
	return e, ok
}

// use returns the code's single-use mark, if still remembered at now.
func (g *Gate) use(c Claims, now time.Time) codeUse {
	k := codeKey{c.Issuer, c.Serial}
	u, ok := g.codes[k]
	if ok && now.After(u.until) {
		delete(g.codes, k)
		return codeUse{}
	}
	return u
}

func (g *Gate) mark(c Claims, u codeUse) {
	u.until = c.ExpiresAt.Add(g.cfg.Skew)
	g.codes[codeKey{c.Issuer, c.Serial}] = u
}

func stationErr() error {
	return fault.New(fault.Invalid, ReasonClaims, "缺少车站", "the station is missing")
}

// TapIn lets the rider of c in at station at now, or says why not
// (ReasonReplayed, ReasonInside as fault.Conflict). It returns the rider's
// stale entry it dropped, if any.
func (g *Gate) TapIn(c Claims, station string, now time.Time) (*Entry, error) {
	if station == "" {
		return nil, stationErr()
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.maybeSweep(now)
	single := c.Kind != KindPaper
	var u codeUse
	if single {
		u = g.use(c, now)
		if u.in {
			return nil, fault.New(fault.Conflict, ReasonReplayed, "该乘车码已用于进站，请刷新乘车码", "this ride code was already used to enter; refresh it")
		}
	}
	k := riderOf(c)
	var stale *Entry
	if e, ok := g.lookup(k, now); ok {
		if now.Sub(e.At) < g.cfg.StaleAfter {
			return nil, fault.New(fault.Conflict, ReasonInside, "已进站未出站，不能再次进站", "already inside: tap out before tapping in again")
		}
		stale = &e
	}
	if single {
		u.in = true
		g.mark(c, u)
	}
	g.inside[k] = Entry{Network: c.Network, Account: c.Account, Ticket: c.Ticket, Kind: c.Kind, Station: station, At: now, Code: c.CodeID()}
	return stale, nil
}

// TapOut lets the rider of c out at station at now and returns the trip's
// two ends, or says why not (ReasonReplayed, ReasonNoEntry as fault.Conflict).
func (g *Gate) TapOut(c Claims, station string, now time.Time) (Exit, error) {
	if station == "" {
		return Exit{}, stationErr()
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.maybeSweep(now)
	single := c.Kind != KindPaper
	var u codeUse
	if single {
		u = g.use(c, now)
		if u.out {
			return Exit{}, fault.New(fault.Conflict, ReasonReplayed, "该乘车码已用于出站，请刷新乘车码", "this ride code was already used to exit; refresh it")
		}
	}
	k := riderOf(c)
	e, ok := g.lookup(k, now)
	if !ok {
		return Exit{}, fault.New(fault.Conflict, ReasonNoEntry, "没有进站记录，请到客服中心处理", "no tap-in to match; please see the service centre")
	}
	if single {
		u.out = true
		g.mark(c, u)
	}
	delete(g.inside, k)
	return Exit{In: e, Station: station, At: now, Code: c.CodeID(), Overtime: now.Sub(e.At) > g.cfg.TripLimit}, nil
}

// Inside returns the rider's remembered entry for the claims' account (or
// paper ticket) at now.
func (g *Gate) Inside(c Claims, now time.Time) (Entry, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.lookup(riderOf(c), now)
}

// Len returns how many single-use marks and entries the gate remembers.
func (g *Gate) Len() (codes, entries int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.codes), len(g.inside)
}

// Sweep forgets every mark and entry past its time at now.
func (g *Gate) Sweep(now time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.sweep(now)
}

// maybeSweep sweeps at most once per CodeValidity of the clock passed in,
// so a tap costs O(1) amortised while memory stays bounded.
func (g *Gate) maybeSweep(now time.Time) {
	if now.Before(g.nextSweep) && g.nextSweep.Sub(now) <= g.cfg.CodeValidity {
		return
	}
	g.sweep(now)
}

func (g *Gate) sweep(now time.Time) {
	for k, u := range g.codes {
		if now.After(u.until) {
			delete(g.codes, k)
		}
	}
	for k, e := range g.inside {
		if !now.Before(g.forgetAt(e)) {
			delete(g.inside, k)
		}
	}
	g.nextSweep = now.Add(g.cfg.CodeValidity)
}
