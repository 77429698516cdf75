package abuse

import (
	"container/list"
	"math"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"piao/internal/fault"
)

// Guard applies a Config's token buckets. It is safe for concurrent use;
// its buckets live in this process's memory only.
type Guard struct {
	cfg  Config
	now  func() time.Time
	mu   sync.Mutex
	sets map[bucketSet]*buckets
}

type bucketSet struct {
	action Action
	key    Key
}

// New returns a guard applying cfg on clock now (time.Now when nil).
func New(cfg Config, now func() time.Time) *Guard {
	if now == nil {
		now = time.Now
	}
	if cfg.MaxKeys <= 0 {
		cfg.MaxKeys = Defaults().MaxKeys
	}
	return &Guard{cfg: cfg, now: now, sets: map[bucketSet]*buckets{}}
}

// Config returns the limits the guard applies.
func (g *Guard) Config() Config { return g.cfg }

// Allow takes one token from the bucket of action for key (an IP or an
// account, as the key kind k says). It returns nil,
// or a limit_reached fault with reason rate_limited saying when to retry.
// An empty key, or a kind the action does not limit, is always allowed.
func (g *Guard) Allow(a Action, k Key, key string) error {
	r := g.cfg.Rules[a][k]
	if key == "" || r.Unlimited() {
		return nil
	}
	g.mu.Lock()
	set := g.sets[bucketSet{a, k}]
	if set == nil {
		set = &buckets{rate: r, max: g.cfg.MaxKeys, byKey: map[string]*list.Element{}, lru: list.New()}
		g.sets[bucketSet{a, k}] = set
	}
	g.mu.Unlock()
	now := g.now()
	wait, ok := set.take(key, now)
	if ok {
		return nil
	}
	secs := int(math.Ceil(wait.Seconds()))
	return fault.Newf(fault.LimitReached, "rate_limited",
		"请求过于频繁，请 %d 秒后再试", "too many requests; try again in %d seconds", max(secs, 1)).WithRetryAt(now.Add(wait))
}

// keys returns how many keys the bucket set of action and k remembers (for tests).
func (g *Guard) keys(a Action, k Key) int {
	g.mu.Lock()
	set := g.sets[bucketSet{a, k}]
	g.mu.Unlock()
	if set == nil {
		return 0
	}
	set.mu.Lock()
	defer set.mu.Unlock()
	return len(set.byKey)
}

// buckets is one token bucket per key, at most max of them: the least
// recently seen is forgotten first, and a bucket idle long enough to be
// full again is forgotten as soon as it is noticed, losing nothing.
type buckets struct {
	rate  Rate
	max   int
	mu    sync.Mutex
	byKey map[string]*list.Element // of *bucket
	lru   *list.List               // front: most recently seen
}

type bucket struct {
	key     string
	limiter *rate.Limiter
	seen    time.Time
}

// take takes a token for key at now, or says how long until one is there.
func (b *buckets) take(key string, now time.Time) (time.Duration, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	limit := rate.Limit(float64(b.rate.Events) / b.rate.Per.Seconds())
	e := b.byKey[key]
	if e == nil {
		e = b.lru.PushFront(&bucket{key: key, limiter: rate.NewLimiter(limit, b.rate.Events)})
		b.byKey[key] = e
	} else {
		b.lru.MoveToFront(e)
	}
	bk := e.Value.(*bucket)
	bk.seen = now
	b.forget(now)
	if bk.limiter.AllowN(now, 1) {
		return 0, true
	}
	missing := 1 - bk.limiter.TokensAt(now)
	return time.Duration(missing / float64(limit) * float64(time.Second)), false
}

// forget drops buckets from the least recently seen end while there are
// too many or they have been idle for a whole refill period.
func (b *buckets) forget(now time.Time) {
	for e := b.lru.Back(); e != nil && e != b.lru.Front(); e = b.lru.Back() {
		bk := e.Value.(*bucket)
		if len(b.byKey) <= b.max && now.Sub(bk.seen) < b.rate.Per {
			return
		}
		b.lru.Remove(e)
		delete(b.byKey, bk.key)
	}
}

// ClientIP returns the client address of r as a bucket key: the
// connection's address, or, when that is a trusted proxy, the nearest
// address in X-Forwarded-For that is not one. IPv6 addresses count by
// their /64, which one subscriber usually holds whole.
func (g *Guard) ClientIP(r *http.Request) string {
	addr := parseAddr(r.RemoteAddr)
	if addr.IsValid() && g.trusted(addr) {
		hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
		for i := len(hops) - 1; i >= 0; i-- {
			hop := parseAddr(strings.TrimSpace(hops[i]))
			if !hop.IsValid() {
				break // a forged or garbled entry: stop at the last one we trust
			}
			addr = hop
			if !g.trusted(hop) {
				break
			}
		}
	}
	if !addr.IsValid() {
		return r.RemoteAddr
	}
	if addr.Is6() && !addr.Is4In6() {
		p, _ := addr.Prefix(64)
		return p.String()
	}
	return addr.Unmap().String()
}

func (g *Guard) trusted(a netip.Addr) bool {
	for _, p := range g.cfg.TrustedProxies {
		if p.Contains(a.Unmap()) {
			return true
		}
	}
	return false
}

// parseAddr reads "host:port" or a bare address.
func parseAddr(s string) netip.Addr {
	if host, _, err := net.SplitHostPort(s); err == nil {
		s = host
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}
	}
	return a.WithZone("")
}
