package behaviour

import (
	"cmp"
	"hash/maphash"
	"math"
	"runtime"
	"slices"
	"strings"
	"sync"
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
// transactions are stably sorted by At whenever a report is computed. So
// the report does not depend on the feeding order, except among one
// passenger's transactions with equal At, which keep their feeding order.
//
// The work is memory-bound (each transaction touches its passenger's entry
// in the index, its state and its latest events, at random places in a
// large heap), so passengers are split into shards by a hash of their key,
// one per processor up to maxShards: Add batches transactions per shard,
// and when a batch is full every shard applies its own in parallel, Add
// returning once they are done. The report is the same whatever the
// number of shards.
//
// Memory: 64 bytes per passenger, plus its key in the index, plus 16 bytes
// (and some slack) per transaction that is not an expiry, since F1 and F2
// need each passenger's cancels and payments in order: about 40 bytes per
// transaction in all for Generate's mix (390 MB of heap for 10 million).
// The events are kept in chunks of a pointer-free arena, so the garbage
// collector does not scan them. Adding allocates only to grow the indexes
// and the passengers, for a new passenger's key and for a new page of
// chunks now and then: never for each transaction.
type Analyzer struct {
	shards []shard
	seed   maphash.Seed // picks a passenger's shard

	fed         int64 // transactions fed
	first, last time.Time
	firstAt     int64 // nanos(first), nanos(last)
	lastAt      int64
}

// shard holds the passengers whose key hashes to it.
type shard struct {
	index      map[string]int32 // passenger key → position in passengers
	passengers []passenger
	accounts   map[int64]struct{}     // every booking account seen
	days       map[network.Date]int32 // cache of day, cheaper than computing it
	pages      [][]chunk              // the arena: chunk i is pages[i/pageLen][i%pageLen]
	chunks     int32                  // chunks in use
	batch      []Transaction          // fed, not applied yet
}

const (
	maxShards = 4
	batchLen  = 1024 // transactions a shard batches
)

// passenger is what the analyzer keeps of one travel document: 64 bytes,
// a cache line.
type passenger struct {
	lastAt   int64    // the latest At fed, in nanos
	accounts [4]int64 // the first four distinct accounts
	// head and tail are the first and last chunks of the passenger's
	// events: its transactions but expiries, in feeding order.
	head, tail int32
	events     uint32
	expired    uint32
	// nAccounts counts distinct accounts up to accountBuckets; past the
	// four kept, a fifth is known to be new, and more need not be counted.
	nAccounts uint8
	unsorted  bool // an event arrived out of order of At
}

// event is one paid, cancelled or pending transaction of a passenger.
type event struct {
	at      int64 // At in nanos
	day     int32 // travel date, in days since 1970-01-01
	outcome Outcome
}

const (
	chunkLen = 7 // events per chunk: 120 bytes with the link
	pageLen  = 1 << 12
)

// chunk holds consecutive events of one passenger.
type chunk struct {
	events [chunkLen]event
	next   int32 // the passenger's next chunk, if it has more events
}

// Add feeds one transaction. An Outcome other than the four known ones is
// treated as Pending, as Outcome.String names it.
func (a *Analyzer) Add(t Transaction) {
	if a.shards == nil {
		a.seed = maphash.MakeSeed()
		a.shards = make([]shard, min(runtime.GOMAXPROCS(0), maxShards))
	}
	at := nanos(t.At)
	if a.fed == 0 || at < a.firstAt {
		a.first, a.firstAt = t.At, at
	}
	if a.fed == 0 || at > a.lastAt {
		a.last, a.lastAt = t.At, at
	}
	a.fed++

	s := &a.shards[maphash.String(a.seed, t.Passenger)%uint64(len(a.shards))]
	if s.batch = append(s.batch, t); len(s.batch) == batchLen {
		a.flush()
	}
}

// flush has every shard apply its batch, in parallel.
func (a *Analyzer) flush() {
	var wg sync.WaitGroup
	for i := 1; i < len(a.shards); i++ {
		wg.Go(a.shards[i].flush)
	}
	if len(a.shards) > 0 {
		a.shards[0].flush()
	}
	wg.Wait()
}

func (s *shard) flush() {
	if s.index == nil {
		s.index = map[string]int32{}
		s.accounts = map[int64]struct{}{}
		s.days = map[network.Date]int32{}
	}
	for i := range s.batch {
		s.add(&s.batch[i])
	}
	clear(s.batch) // let go of the caller's strings
	s.batch = s.batch[:0]
}

func (s *shard) add(t *Transaction) {
	at := nanos(t.At)
	i, ok := s.index[t.Passenger]
	if !ok {
		i = int32(len(s.passengers))
		// Clone: the key may share memory with a larger buffer of the caller.
		s.index[strings.Clone(t.Passenger)] = i
		s.passengers = append(s.passengers, passenger{lastAt: at})
	}
	p := &s.passengers[i]
	if at < p.lastAt {
		p.unsorted = true
	}
	p.lastAt = max(p.lastAt, at)

	switch t.Outcome {
	case Expired:
		p.expired++
	case Paid, Cancelled:
		s.log(p, event{at, s.day(t.Date), t.Outcome})
	default:
		s.log(p, event{at, s.day(t.Date), Pending})
	}

	if !p.usedAccount(t.Account) {
		s.accounts[t.Account] = struct{}{}
	}
}

// log appends e to the passenger's events.
func (s *shard) log(p *passenger, e event) {
	slot := p.events % chunkLen
	if slot == 0 { // no chunk yet, or the last one is full
		if s.chunks%pageLen == 0 {
			s.pages = append(s.pages, make([]chunk, pageLen))
		}
		c := s.chunks
		s.chunks++
		if p.events == 0 {
			p.head = c
		} else {
			s.chunk(p.tail).next = c
		}
		p.tail = c
	}
	s.chunk(p.tail).events[slot] = e
	p.events++
}

func (s *shard) chunk(i int32) *chunk { return &s.pages[i/pageLen][i%pageLen] }

// eventsOf appends the passenger's events to dst in order of At.
func (s *shard) eventsOf(p *passenger, dst []event) []event {
	c := p.head
	for left := int(p.events); left > 0; left -= chunkLen {
		ch := s.chunk(c)
		dst = append(dst, ch.events[:min(left, chunkLen)]...)
		c = ch.next
	}
	if p.unsorted {
		slices.SortStableFunc(dst, func(x, y event) int { return cmp.Compare(x.at, y.at) })
	}
	return dst
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
	a.flush()
	var c counts
	var evs []event // scratch: one passenger's events
	for i := range a.shards {
		evs = a.shards[i].count(&c, evs)
	}
	// An account may have booked for passengers of several shards: count
	// it in the first.
	for i := range a.shards {
	accounts:
		for account := range a.shards[i].accounts {
			for j := range i {
				if _, ok := a.shards[j].accounts[account]; ok {
					continue accounts
				}
			}
			c.accounts++
		}
	}
	c.first, c.last = a.first, a.last
	return c.report()
}

// count adds the shard's passengers to c, using evs as scratch space.
func (s *shard) count(c *counts, evs []event) []event {
	for i := range s.passengers {
		p := &s.passengers[i]
		evs = s.eventsOf(p, evs[:0])
		sum := summary{expired: int64(p.expired), accounts: int(p.nAccounts)}
		run, grouped := 0, true
		for j, e := range evs {
			switch e.outcome {
			case Paid:
				sum.paid++
				run = 0
			case Cancelled:
				sum.cancelled++
				run++
				sum.run = sum.run || run >= runLength
			default:
				sum.pending++
			}
			grouped = grouped && (j == 0 || e.day >= evs[j-1].day)
		}
		c.add(sum)
		if sum.cancelled == 0 {
			continue // no episode of F2
		}
		// F2 reads each travel date's events in order of At: sort them by
		// date, stably, unless the dates already come in order.
		if !grouped {
			slices.SortStableFunc(evs, func(x, y event) int { return cmp.Compare(x.day, y.day) })
		}
		for rest := evs; len(rest) > 0; {
			n := 1
			for n < len(rest) && rest[n].day == rest[0].day {
				n++
			}
			c.episode(rest[:n])
			rest = rest[n:]
		}
	}
	return evs
}

// summary is what the passenger-level findings need of one passenger.
type summary struct {
	paid, cancelled, expired, pending int64
	accounts                          int  // distinct accounts, 5 meaning 5 or more
	run                               bool // F1: a run of runLength manual cancels
}

// nanos is t in Unix nanoseconds, clamped to what an int64 holds: times
// before 1678 (the zero time, say) or after 2262 sort first or last, and
// equal among themselves.
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
func (s *shard) day(d network.Date) int32 {
	n, ok := s.days[d]
	if !ok {
		n = int32(d.In(time.UTC).Unix() / (24 * 60 * 60))
		s.days[d] = n
	}
	return n
}
