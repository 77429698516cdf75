package behaviour

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"time"

	"piao/internal/network"
	"piao/internal/realname"
)

// Generate calls fn with n synthetic transactions in order of At, the same
// ones for the same seed: data for benchmarks (piao bench), demos and tests.
//
// Passengers arrive about every 2 seconds from 2013-09-20 00:00 Beijing
// time, the paper's period, and place their orders within two hours (three
// days for those who keep cancelling) for travel 4 to 15 days after
// arriving. Each follows
// one behaviour of the table below, drawn at random; the average is about
// 9 transactions per passenger and 7 % use several accounts. The mix is
// calibrated so that the report of a large sample reproduces the paper
// wherever its figures can hold together: F1 35 % ("more than 1/3"), F3
// 1 %, F4a 30 %, F5 20 %, F6 0.3 %, Fig. 1 with 41.8 % of passengers at
// 0 % paid and 20.5 % at 70 %. F4b comes out at 26 %, not the paper's
// 85.5 %: only passengers who cancelled can count in F4b, and with F4a at
// 30 % the 70 % of them who never paid are F5 (unless a hold is still
// pending), so F5 at 20 % leaves 28.6 % who cancelled at all. (The paper's
// Fig. 1 is one train, Z66; its findings are the whole network.)
//
// Passenger keys are valid id_card numbers, distinct for the first 100
// million passengers; accounts are never shared between passengers. The
// stream is cut after n transactions, so the last passengers may be cut
// short.
func Generate(seed uint64, n int, fn func(Transaction)) {
	g := newGenerator(seed, 0)
	for range n {
		t, _ := g.next()
		fn(t)
	}
}

// behaviours are what generated passengers do, with their probability in
// 1/10,000 and the longest time their orders take (days for those who keep
// cancelling, as in the paper's cases, two hours for the others). book
// appends a passenger's transactions, in order, for a first travel day d,
// and returns how many accounts they use in turn.
var behaviours = [...]struct {
	weight int
	span   time.Duration
	book   func(g *generator, d int32) (accounts int)
}{
	// traveller: pays for 1–28 trips on successive days.
	{3170, hours, func(g *generator, d int32) int {
		for trip := range g.between(1, 28) {
			g.book(Paid, d+int32(trip), g.anyTrain())
		}
		return 1
	}},
	// lapsed: 1–2 holds left to expire.
	{2178, hours, func(g *generator, d int32) int {
		g.repeat(g.between(1, 2), Expired, d, g.anyTrain())
		return 1
	}},
	// berth seeker (the paper's case A): cancels 6–18 Z66 berths, one hold
	// expiring after the third cancel, then pays; 1–4 accounts.
	{500, days, func(g *generator, d int32) int {
		for i := range g.between(6, 18) {
			g.book(Cancelled, d, z66)
			if i == 2 {
				g.book(Expired, d, z66)
			}
		}
		g.book(Paid, d, z66)
		return g.between(1, 4)
	}},
	// changed plan: 1–2 cancels, nothing else.
	{900, hours, func(g *generator, d int32) int {
		g.repeat(g.between(1, 2), Cancelled, d, g.anyTrain())
		return 1
	}},
	// gave up (case B): cancels 6–20 Z66 berths and never pays; 1–4 accounts.
	{300, days, func(g *generator, d int32) int {
		g.repeat(g.between(6, 20), Cancelled, d, z66)
		return g.between(1, 4)
	}},
	// persistent: 21–60 cancels, never pays; 2–5 accounts.
	{70, days, func(g *generator, d int32) int {
		g.repeat(g.between(21, 60), Cancelled, d, z66)
		return g.between(2, 5)
	}},
	// malicious (a scalper holding seats): 101–160 cancels over 3–8 days
	// and every train; 5–12 accounts.
	{30, days, func(g *generator, d int32) int {
		days := g.between(3, 8)
		for i := range g.between(101, 160) {
			g.book(Cancelled, d+int32(i%days), uint8(i%len(trains)))
		}
		return g.between(5, 12)
	}},
	// train switcher (case C): 1–3 trips, each cancelling T168 for Z66 on
	// the same day and paying the return the next day.
	{258, hours, func(g *generator, d int32) int {
		for trip := range int32(g.between(1, 3)) {
			g.book(Cancelled, d+2*trip, t168)
			g.book(Paid, d+2*trip, z66)
			g.book(Paid, d+2*trip+1, z65)
		}
		return 1
	}},
	// hesitant: cancels twice, then lets a hold expire.
	{601, hours, func(g *generator, d int32) int {
		train := g.anyTrain()
		g.repeat(2, Cancelled, d, train)
		g.book(Expired, d, train)
		return 1
	}},
	// cancel run through an expiry: 3–5 cancels, a hold expiring after the
	// second, never pays.
	{101, hours, func(g *generator, d int32) int {
		for i := range g.between(3, 5) {
			g.book(Cancelled, d, z66)
			if i == 1 {
				g.book(Expired, d, z66)
			}
		}
		return 1
	}},
	// haggler: two days, each cancelled twice, then paid.
	{100, hours, func(g *generator, d int32) int {
		for trip := range int32(2) {
			g.repeat(2, Cancelled, d+trip, z66)
			g.book(Paid, d+trip, z66)
		}
		return 1
	}},
	// slow payer: 1–6 days, each two paid tickets and a hold left to expire.
	{1792, hours, func(g *generator, d int32) int {
		for trip := range int32(g.between(1, 6)) {
			g.repeat(2, Paid, d+trip, z66)
			g.book(Expired, d+trip, z66)
		}
		return 1
	}},
}

// trains the generator books; the paper's Z66 and T168 first.
var trains = [...]string{"cr:Z66", "cr:T168", "cr:Z65", "cr:G1", "cr:D301", "cr:K1"}

const (
	z66 uint8 = iota
	t168
	z65
)

const (
	days  = 3 * 24 * time.Hour
	hours = 2 * time.Hour
)

var (
	genZone  = time.FixedZone("CST", 8*60*60)
	genStart = time.Date(2013, 9, 20, 0, 0, 0, 0, genZone)
	regions  = [...]string{"360102", "110101", "310101", "440103", "510104"}
)

// generator merges the transactions of overlapping passengers in order of
// At. Each arriving passenger's transactions are planned at once and filed
// in a calendar: a ring of buckets of bucketWidth, each a linked list of
// planned transactions, sorted when its time comes. (A binary heap of the
// passengers under way took twice as long.)
type generator struct {
	rng        *rand.Rand
	passengers int // passengers to create, 0 for no end
	created    int
	arrival    int64 // Unix nanos of the next passenger's arrival

	ring    [ringSize]int32 // first planned transaction of each bucket, -1 for none
	planned []step          // planned transactions, linked by next
	unused  int32           // first of the unused planned ones, -1 for none
	waiting int             // planned transactions not emitted yet
	now     int64           // start of the next bucket to emit
	out     []step          // the bucket being emitted, in order of At
	emitted int             // transactions of out already returned

	slots []slot
	free  []int32 // slots whose passenger is done
	plan  []step  // the arriving passenger's transactions
	dates []network.Date
}

const (
	bucketWidth = int64(4 * time.Second)
	// ringSize buckets must span more than a passenger's orders (3 days).
	ringSize = 1 << 17 // 6 days
)

// slot is a passenger under way.
type slot struct {
	key      string
	accounts int64 // the first account; the others follow
	left     int   // transactions not emitted yet
}

// step is one planned transaction.
type step struct {
	at      int64 // Unix nanos
	slot    int32
	next    int32 // next in the same bucket, -1 for none
	day     int32 // travel date, in days since genStart
	account uint8 // which of the passenger's accounts
	train   uint8
	outcome Outcome
}

func newGenerator(seed uint64, passengers int) *generator {
	g := &generator{rng: rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15)),
		passengers: passengers, arrival: genStart.UnixNano(), now: genStart.UnixNano(), unused: -1}
	for i := range g.ring {
		g.ring[i] = -1
	}
	return g
}

// next returns the next transaction, or false when every passenger is done.
func (g *generator) next() (Transaction, bool) {
	for g.emitted == len(g.out) {
		more := g.passengers == 0 || g.created < g.passengers
		if !more && g.waiting == 0 {
			return Transaction{}, false
		}
		// Passengers arriving in this bucket may order in it.
		end := g.now + bucketWidth
		for more && g.arrival < end {
			g.arrive()
			more = g.passengers == 0 || g.created < g.passengers
		}
		b := &g.ring[g.now/bucketWidth%ringSize]
		g.out, g.emitted = g.out[:0], 0
		for i := *b; i >= 0; {
			st := g.planned[i]
			g.out = append(g.out, st)
			g.planned[i].next, g.unused = g.unused, i
			i = st.next
		}
		*b = -1
		g.waiting -= len(g.out)
		slices.SortFunc(g.out, func(x, y step) int { // at, slot: a total order
			return cmp.Or(cmp.Compare(x.at, y.at), cmp.Compare(x.slot, y.slot))
		})
		g.now = end
	}
	st := g.out[g.emitted]
	g.emitted++
	s := &g.slots[st.slot]
	if s.left--; s.left == 0 {
		g.free = append(g.free, st.slot)
	}
	return Transaction{Passenger: s.key, Account: s.accounts + int64(st.account), Train: trains[st.train],
		Date: g.date(st.day), At: time.Unix(0, st.at).In(genZone), Outcome: st.outcome}, true
}

// arrive plans the next passenger's transactions.
func (g *generator) arrive() {
	i := g.created
	g.created++
	start := g.arrival
	g.arrival += int64(g.rng.ExpFloat64() * 2e9)

	r := g.rng.IntN(10_000)
	b := 0
	for r >= behaviours[b].weight {
		r -= behaviours[b].weight
		b++
	}
	first := int32((start-genStart.UnixNano())/int64(24*time.Hour)) + int32(g.between(4, 15))
	g.plan = g.plan[:0]
	accounts := behaviours[b].book(g, first)

	var n int32
	if len(g.free) > 0 {
		n, g.free = g.free[len(g.free)-1], g.free[:len(g.free)-1]
	} else {
		n = int32(len(g.slots))
		g.slots = append(g.slots, slot{})
	}
	birth := time.Date(1950, 1, 1+i/1000%20_000, 0, 0, 0, 0, time.UTC)
	key := realname.MakeID(regions[i/20_000_000%len(regions)], birth, i%1000)
	g.slots[n] = slot{string(realname.IDCard) + ":" + key, int64(i)*16 + 1, len(g.plan)}

	// Spread the orders over the passenger's span, in plan order, take
	// the accounts in turn, and file each in its bucket.
	span := float64(time.Minute) + g.rng.Float64()*float64(behaviours[b].span-time.Minute)
	for k, st := range g.plan {
		st.at = start + int64((float64(k)+g.rng.Float64())*span/float64(len(g.plan)))
		st.account = uint8(k % accounts)
		st.slot = n
		bucket := &g.ring[st.at/bucketWidth%ringSize]
		st.next = *bucket
		if g.unused >= 0 {
			*bucket, g.unused = g.unused, g.planned[g.unused].next
			g.planned[*bucket] = st
		} else {
			*bucket = int32(len(g.planned))
			g.planned = append(g.planned, st)
		}
	}
	g.waiting += len(g.plan)
}

func (g *generator) book(o Outcome, d int32, train uint8) {
	g.plan = append(g.plan, step{day: d, train: train, outcome: o})
}

func (g *generator) repeat(n int, o Outcome, d int32, train uint8) {
	for range n {
		g.book(o, d, train)
	}
}

// between is a random int in [lo, hi].
func (g *generator) between(lo, hi int) int { return lo + g.rng.IntN(hi-lo+1) }

func (g *generator) anyTrain() uint8 { return uint8(g.rng.IntN(len(trains))) }

// date is the travel date d days after genStart.
func (g *generator) date(d int32) network.Date {
	for int32(len(g.dates)) <= d {
		g.dates = append(g.dates, network.DateOf(genStart).AddDays(len(g.dates)))
	}
	return g.dates[d]
}
