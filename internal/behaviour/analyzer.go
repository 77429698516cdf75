package behaviour

import (
	"cmp"
	"math"
	"slices"
	"strings"
	"time"

	"piao/internal/network"
)

// Thresholds of the findings, as the paper states them.
const (
	runLength         = 3   // F1: a run of at least 3 consecutive manual cancels
	persistentCancels = 20  // F3: more than 20 manual cancels and no payment
	mostlyPercent     = 60  // F4b: manual cancels are at least 60 % of transactions
	maliciousCancels  = 100 // F6: more than 100 manual cancels
	histogramCap      = 20  // F2: histogram buckets 0..20, then ">20"
	accountBuckets    = 5   // accounts per passenger: 1, 2, 3, 4, 5+
)

// Analyzer computes a Report from transactions fed one at a time. The zero
// value is ready to use; it is not safe for concurrent use.
//
// Feed transactions in order of At, as a store query ordered by placement
// time returns them. Only two findings depend on order, and only on each
// passenger's own order: F1 (consecutive cancels) and F2 (cancels before
// the first payment). A transaction that arrives earlier than one already
// fed for the same passenger is still handled exactly: that passenger's
// transactions are stably sorted by At when the next report is computed.
// So the report does not depend on the feeding order, except among one
// passenger's transactions with equal At, which keep their feeding order.
//
// Memory is one entry per passenger (its key, counters and first four
// accounts, about 100 bytes with the index) plus 16 bytes per transaction
// that is not an expiry: F1 and F2 need each passenger's cancels and
// payments in order. Add allocates only to grow those and to keep a new
// passenger's key.
type Analyzer struct {
	index      map[string]int32 // passenger key → position in passengers
	passengers []passenger
	accounts   map[int64]struct{} // every booking account seen

	fed         int64 // transactions fed
	first, last time.Time
	firstAt     int64 // nanos(first), nanos(last)
	lastAt      int64
}

// passenger is what the analyzer keeps of one travel document.
type passenger struct {
	// events are the passenger's transactions but expiries, in feeding
	// order; unsorted is set when one arrives out of order of At.
	events   []event
	lastAt   int64    // the latest At fed, in nanos
	accounts [4]int64 // the first four distinct accounts
	expired  uint32
	// nAccounts counts distinct accounts up to accountBuckets; past the
	// four kept, a fifth is known to be new, and more need not be counted.
	nAccounts uint8
	unsorted  bool
}

// event is one paid, cancelled or pending transaction of a passenger.
type event struct {
	at      int64 // At in nanos
	day     int32 // travel date, in days since 1970-01-01
	outcome Outcome
}

// Add feeds one transaction. An Outcome other than the four known ones is
// treated as Pending, as Outcome.String names it.
func (a *Analyzer) Add(t Transaction) {
	if a.index == nil {
		a.index = map[string]int32{}
		a.accounts = map[int64]struct{}{}
	}
	at := nanos(t.At)
	i, ok := a.index[t.Passenger]
	if !ok {
		i = int32(len(a.passengers))
		// Clone: the key may share memory with a larger buffer of the caller.
		a.index[strings.Clone(t.Passenger)] = i
		a.passengers = append(a.passengers, passenger{lastAt: at})
	}
	p := &a.passengers[i]
	if at < p.lastAt {
		p.unsorted = true
	}
	p.lastAt = max(p.lastAt, at)

	switch t.Outcome {
	case Expired:
		p.expired++
	case Paid, Cancelled:
		p.events = append(p.events, event{at, day(t.Date), t.Outcome})
	default:
		p.events = append(p.events, event{at, day(t.Date), Pending})
	}

	if !p.usedAccount(t.Account) {
		a.accounts[t.Account] = struct{}{}
	}

	if a.fed == 0 || at < a.firstAt {
		a.first, a.firstAt = t.At, at
	}
	if a.fed == 0 || at > a.lastAt {
		a.last, a.lastAt = t.At, at
	}
	a.fed++
}

// usedAccount records that the passenger booked with account and reports
// whether it is known to have done so before. It answers false once the
// passenger has five accounts, as the ones past four are not kept.
func (p *passenger) usedAccount(account int64) bool {
	kept := min(int(p.nAccounts), len(p.accounts))
	if slices.Contains(p.accounts[:kept], account) {
		return true
	}
	if kept < len(p.accounts) {
		p.accounts[kept] = account
	}
	if p.nAccounts < accountBuckets {
		p.nAccounts++
	}
	return false
}

// Report computes the findings over everything fed so far. It may be
// called again after more transactions are added.
func (a *Analyzer) Report() Report {
	var c counts
	var byDay []event // scratch for passengers travelling on several dates
	for i := range a.passengers {
		p := &a.passengers[i]
		if p.unsorted {
			slices.SortStableFunc(p.events, func(x, y event) int { return cmp.Compare(x.at, y.at) })
			p.unsorted = false
		}
		s := summary{expired: int64(p.expired), accounts: int(p.nAccounts)}
		run, grouped := 0, true
		for j, e := range p.events {
			switch e.outcome {
			case Paid:
				s.paid++
				run = 0
			case Cancelled:
				s.cancelled++
				run++
				s.run = s.run || run >= runLength
			default:
				s.pending++
			}
			grouped = grouped && (j == 0 || e.day >= p.events[j-1].day)
		}
		c.add(s)
		if s.cancelled == 0 {
			continue // no episode of F2
		}
		// F2 reads each travel date's events in order of At: sort a copy by
		// date, stably, unless the dates already come in order.
		evs := p.events
		if !grouped {
			byDay = append(byDay[:0], p.events...)
			slices.SortStableFunc(byDay, func(x, y event) int { return cmp.Compare(x.day, y.day) })
			evs = byDay
		}
		for len(evs) > 0 {
			n := 1
			for n < len(evs) && evs[n].day == evs[0].day {
				n++
			}
			c.episode(evs[:n])
			evs = evs[n:]
		}
	}
	c.accounts = int64(len(a.accounts))
	c.first, c.last = a.first, a.last
	return c.report()
}

// summary is what the passenger-level findings need of one passenger.
type summary struct {
	paid, cancelled, expired, pending int64
	accounts                          int  // distinct accounts, 5 meaning 5 or more
	run                               bool // F1: a run of runLength manual cancels
}

// nanos is t in Unix nanoseconds, clamped to what an int64 holds (years
// 1678 to 2262), so that even the zero time sorts first.
func nanos(t time.Time) int64 {
	const limit = math.MaxInt64/int64(time.Second) - 1 // seconds
	switch s := t.Unix(); {
	case s < -limit:
		return math.MinInt64
	case s > limit:
		return math.MaxInt64
	}
	return t.UnixNano()
}

// day is d in days since 1970-01-01 (negative before; the zero Date is a
// day of its own).
func day(d network.Date) int32 {
	return int32(d.In(time.UTC).Unix() / (24 * 60 * 60))
}
