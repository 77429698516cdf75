package simulate

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"piao/internal/booking"
	"piao/internal/fault"
	"piao/internal/governance"
	"piao/internal/network"
	"piao/internal/realname"
)

// person is a travel document and the name on it.
type person struct {
	name, docType, docNumber string
	age                      int
}

func (p person) request(class network.SeatClass, berth network.Berth) booking.PassengerRequest {
	return booking.PassengerRequest{Name: p.name, DocType: p.docType, DocNumber: p.docNumber, SeatClass: class, Berth: berth}
}

// account is one of a passenger's booking accounts, as the passenger
// knows it.
type account struct {
	id      int64
	used    bool
	day     int // the day cancels counts
	cancels int // manual cancels on day
	// blockedUntil: refused for the day (cancel limit, list); busyUntil:
	// it holds an unpaid order.
	blockedUntil, busyUntil time.Time
}

// hold is an order a passenger holds.
type hold struct {
	order booking.Order
	acct  *account
	at    time.Time // simulated time it was booked
	ends  time.Time // simulated time the hold runs out
}

// released counts the seat-minutes the hold locked until t (at most its end).
func (a *agent) released(h *hold, t time.Time) {
	if t.After(h.ends) {
		t = h.ends
	}
	a.sum.HeldSeatMinutes += float64(len(h.order.Tickets)) * t.Sub(h.at).Minutes()
}

func (h *hold) berth() network.Berth { return h.order.Tickets[0].Berth }

// agent is one simulated passenger.
type agent struct {
	s      *sim
	idx    int
	label  Label
	rng    *rand.Rand
	people []person // own document first; a scalper's customers
	accts  []*account
	cur    int // account tried first
	sum    Stats
	active map[int]bool // days it booked or cancelled on

	// berth seekers
	done, lower bool
	patience    int
}

// setup draws the passenger's documents and accounts and schedules its
// first actions.
func (a *agent) setup(ctx context.Context) error {
	nDocs, nAccts := 1, 1
	switch a.label {
	case Genuine:
		nAccts = a.pick([]float64{0.8, 0.2}) + 1
	case BerthSeeker:
		nAccts = a.pick([]float64{0.1, 0.25, 0.35, 0.2, 0.1}) + 1
	case Switcher:
		nAccts = a.pick([]float64{0.7, 0.3}) + 1
	case Scalper:
		if a.rng.Float64() < 0.2 { // a heavy scalper
			nAccts, nDocs = 10+a.rng.IntN(11), 5+a.rng.IntN(5)
		} else {
			nAccts, nDocs = 4+a.rng.IntN(5), 6+a.rng.IntN(10)
		}
	}
	for range nDocs {
		a.people = append(a.people, a.s.newPerson(a.rng))
	}
	for k := range nAccts {
		id, err := a.s.d.NewAccount(ctx, accountName(a.idx, k))
		if err != nil {
			return fmt.Errorf("create account %d of passenger %d: %w", k, a.idx, err)
		}
		a.accts = append(a.accts, &account{id: id, day: -1})
	}
	switch a.label {
	case Genuine:
		a.startGenuine()
	case BerthSeeker:
		a.startSeeker()
	case Switcher:
		a.startSwitcher()
	case Scalper:
		a.startScalper()
	}
	return nil
}

// accountName is the username of account k of passenger idx.
func accountName(idx, k int) string { return fmt.Sprintf("sim-%06d-%02d", idx, k) }

// finish describes the passenger as it ended.
func (a *agent) finish() Agent {
	ag := Agent{Label: a.label, Kind: Kind(a.label), Age: a.people[0].age, LowerBerth: a.lower, Patience: a.patience, DaysActive: len(a.active), Stats: a.sum}
	if a.label == BerthSeeker {
		ag.Kind = SeekerGaveUp
		if a.lower {
			ag.Kind = SeekerPaid
		}
	}
	ag.Document = governance.DocumentSubject(a.people[0].docType, a.people[0].docNumber)
	for _, ac := range a.accts {
		ag.Accounts = append(ag.Accounts, governance.AccountSubject(ac.id))
		if ac.used {
			ag.AccountsUsed++
		}
	}
	ag.Stats.Accounts, ag.Stats.Documents = len(a.accts), len(a.people)
	ag.Pending = ag.Bookings - ag.Cancels - ag.Expiries - ag.Payments
	return ag
}

// --- random draws -------------------------------------------------------

// pick returns an index drawn by weights.
func (a *agent) pick(w []float64) int {
	total := 0.0
	for _, x := range w {
		total += x
	}
	r := a.rng.Float64() * total
	for i, x := range w {
		if r < x {
			return i
		}
		r -= x
	}
	return len(w) - 1
}

// after is now plus at least min and an exponential wait of mean, to the second.
func (a *agent) after(now time.Time, min, mean time.Duration) time.Time {
	return now.Add(min + time.Duration(a.rng.ExpFloat64()*float64(mean))).Truncate(time.Second)
}

// timeIn is a uniform time between from and to after midnight of day d.
func (a *agent) timeIn(d int, from, to time.Duration) time.Time {
	return a.s.dayStart(d).Add(from + time.Duration(a.rng.Int64N(int64(to-from)))).Truncate(time.Second)
}

// lead draws how many days ahead of travel the passenger books.
func (a *agent) lead(min int) int {
	return max(min, int(math.Min(a.rng.ExpFloat64()*4, MaxLead)))
}

// class draws a seat class of train t.
func (a *agent) class(t trainDef) network.SeatClass { return t.Classes[a.pick(t.Shares)] }

// train draws one of the configured trains, Z66 the most popular.
func (a *agent) train() trainDef { return a.s.trains[a.pick(a.s.trainShares)] }

// trainPopularity is the share of passengers choosing each demo train.
var trainPopularity = map[string]float64{"Z66": 0.5, "T168": 0.35, "G488": 0.15}

var (
	regions = []string{"360102", "360103", "360104", "360111", "360121", "360402", "361002", "362502", "110101", "110105", "110108", "420102", "430103", "440106", "310104", "510107", "330106", "320102"}
	family  = []rune("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程魏苏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")
	given   = []rune("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍建红文辉飞鹏云峰晓琳颖宇浩凯斌宁欣婷雪梅海波志国庆春燕")
)

// newPerson draws a passenger with a valid mainland ID number, unique in
// the run; about 15 % are aged 60 or more.
func (s *sim) newPerson(rng *rand.Rand) person {
	for {
		age := 18 + rng.IntN(42)
		if rng.Float64() < 0.15 {
			age = 60 + rng.IntN(25)
		}
		// Born after the start date's month-day in the year y0-age-1, or
		// before it in y0-age: draw within the year the age allows.
		birth := s.start.AddDate(-age-1, 0, 1+rng.IntN(365))
		birth = time.Date(birth.Year(), birth.Month(), birth.Day(), 0, 0, 0, 0, time.UTC)
		id := realname.MakeID(regions[rng.IntN(len(regions))], birth, rng.IntN(1000))
		if s.docs[id] {
			continue
		}
		s.docs[id] = true
		name := []rune{family[rng.IntN(len(family))], given[rng.IntN(len(given))]}
		if rng.Float64() < 0.7 {
			name = append(name, given[rng.IntN(len(given))])
		}
		return person{name: string(name), docType: string(realname.IDCard), docNumber: id, age: age}
	}
}

// --- actions every passenger uses ------------------------------------------

// refused counts a refusal.
func (a *agent) refused(r string) {
	if a.sum.Refusals == nil {
		a.sum.Refusals = map[string]int{}
	}
	a.sum.Refusals[r]++
}

// roll resets an account's cancel count on a new day.
func (a *agent) roll(now time.Time, ac *account) {
	if d := a.s.day(now); ac.day != d {
		ac.day, ac.cancels = d, 0
	}
}

// usable reports whether the passenger would book with ac now: not
// refused for the day, no unpaid order, and under the cancel limit it
// believes in.
func (a *agent) usable(now time.Time, ac *account) bool {
	a.roll(now, ac)
	if now.Before(ac.blockedUntil) || now.Before(ac.busyUntil) {
		return false
	}
	k := a.s.cfg.KnownAccountLimit
	return k <= 0 || ac.cancels < k
}

// canCancel reports whether the passenger would cancel with ac now.
func (a *agent) canCancel(now time.Time, ac *account) bool {
	a.roll(now, ac)
	k := a.s.cfg.KnownAccountLimit
	return k <= 0 || ac.cancels < k
}

// Reasons the simulation gives itself (never the service's).
const (
	noAccount = "no_usable_account" // every account is refused or busy today
)

// book places an order for people with the first usable account from the
// current one, moving to the next account when one is refused for the day
// (the multi-account dodge of seed 004). It returns the hold, or the
// reason the last request was refused.
func (a *agent) book(ctx context.Context, now time.Time, t trainDef, d int, reqs []booking.PassengerRequest) (*hold, string, error) {
	last := noAccount
	n := len(a.accts)
	for i := range n {
		k := (a.cur + i) % n
		ac := a.accts[k]
		if !a.usable(now, ac) {
			continue
		}
		o, err := a.s.d.Book(ctx, booking.BookRequest{AccountID: ac.id, Train: t.serviceID(), Date: a.s.date(d).String(), From: t.From, To: t.To, Passengers: reqs})
		if err != nil {
			if fatal(err) {
				return nil, "", fmt.Errorf("book %s on %s for passenger %d: %w", t.Number, a.s.date(d), a.idx, err)
			}
			r := reason(err)
			a.refused(r)
			switch r {
			case "account_cancel_limit", "listed_blocked":
				ac.blockedUntil = retryAt(err, a.s.dayEnd(now))
			case "unpaid_order_exists":
				ac.busyUntil = a.s.dayEnd(now)
			default:
				return nil, r, nil
			}
			last = r
			continue
		}
		a.cur = k
		ac.used = true
		a.sum.Bookings++
		a.sum.Tickets += len(o.Tickets)
		a.active[a.s.day(now)] = true
		h := &hold{order: o, acct: ac, at: now, ends: now.Add(o.HoldExpiresAt.Sub(o.CreatedAt))}
		ac.busyUntil = h.ends
		return h, "", nil
	}
	return nil, last, nil
}

// retryAt is when a refusal lifts, or def.
func retryAt(err error, def time.Time) time.Time {
	if t := fault.As(err).RetryAt; !t.IsZero() {
		return t
	}
	return def
}

// cancel cancels a hold by hand; false if it could not (the hold had run
// out already, which counts as an expiry).
func (a *agent) cancel(ctx context.Context, now time.Time, h *hold) (bool, error) {
	err := a.s.d.Cancel(ctx, h.acct.id, h.order.ID)
	h.acct.busyUntil = time.Time{}
	a.released(h, now) // a failed cancel: the hold had run out
	if err == nil {
		a.roll(now, h.acct)
		h.acct.cancels++
		a.sum.Cancels++
		a.active[a.s.day(now)] = true
		return true, nil
	}
	return false, a.failed(err, "cancel", h)
}

// pay pays a hold; false if it could not.
func (a *agent) pay(ctx context.Context, now time.Time, h *hold) (bool, error) {
	err := a.s.d.Pay(ctx, h.acct.id, h.order.ID)
	h.acct.busyUntil = time.Time{}
	a.released(h, now)
	if err == nil {
		a.sum.Payments++
		return true, nil
	}
	return false, a.failed(err, "pay", h)
}

// failed sorts out a cancel or payment the service refused.
func (a *agent) failed(err error, what string, h *hold) error {
	if fatal(err) {
		return fmt.Errorf("%s order %d of passenger %d: %w", what, h.order.ID, a.idx, err)
	}
	if r := reason(err); r == "order_not_held" {
		a.sum.Expiries++ // the hold ran out first (a shortened hold, say)
	} else {
		a.refused(r)
	}
	return nil
}

// abandon leaves a hold to run out.
func (a *agent) abandon(h *hold) {
	h.acct.busyUntil = h.ends
	a.released(h, h.ends)
	a.s.lapses.push(h.ends, a)
}

// at schedules the passenger's next action.
func (a *agent) at(t time.Time, fn func(now time.Time) error) { a.s.at(t, fn) }

// nextMorning is a time on the day after now's between from and to.
func (a *agent) nextMorning(now time.Time, from, to time.Duration) time.Time {
	return a.timeIn(a.s.day(now)+1, from, to)
}

// late reports whether it is too late to book train t of day d at now.
func (a *agent) late(now time.Time, t trainDef, d int) bool {
	return !a.s.runs(d) || now.Add(time.Hour).After(a.s.departure(t, d))
}

// --- genuine travellers ------------------------------------------------------

// trip is one journey a genuine traveller makes.
type trip struct {
	t                  trainDef
	class              network.SeatClass
	day                int
	typo, lapse        bool // already happened on this trip
	altClass, altTrain bool
	tries              int
}

// startGenuine plans one to four journeys on distinct days: book, pay;
// 6 % cancel once (a typo) and book again, 5 % let the hold run out and
// book again later.
func (a *agent) startGenuine() {
	trips := 1 + a.pick([]float64{0.6, 0.25, 0.1, 0.05})
	seen := map[int]bool{}
	for range trips {
		d := a.rng.IntN(a.s.cfg.Days)
		if seen[d] {
			continue
		}
		seen[d] = true
		p := &trip{t: a.train(), day: min(d+a.lead(0), a.s.calDays-1)}
		p.class = a.class(p.t)
		a.at(a.timeIn(d, 7*time.Hour, 22*time.Hour), func(now time.Time) error { return a.genuineBook(now, p) })
	}
}

func (a *agent) genuineBook(now time.Time, p *trip) error {
	ctx := a.s.ctx
	for a.late(now, p.t, p.day) {
		p.day++
		if !a.s.runs(p.day) {
			return nil
		}
	}
	h, r, err := a.book(ctx, now, p.t, p.day, []booking.PassengerRequest{a.people[0].request(p.class, "")})
	if err != nil || h == nil && r == "" {
		return err
	}
	if h == nil {
		switch {
		case r == "sold_out" && !p.altClass && len(p.t.Classes) > 1:
			p.altClass = true
			p.class = p.t.Classes[(indexOf(p.t.Classes, p.class)+1)%len(p.t.Classes)]
			a.at(a.after(now, time.Minute, 2*time.Minute), func(now time.Time) error { return a.genuineBook(now, p) })
		case r == "sold_out" && !p.altTrain && len(a.s.cfg.Trains) > 1:
			p.altTrain = true
			for _, n := range a.s.cfg.Trains {
				if n != p.t.Number {
					p.t, _ = trainByNumber(n)
					break
				}
			}
			p.class = a.class(p.t)
			a.at(a.after(now, time.Minute, 2*time.Minute), func(now time.Time) error { return a.genuineBook(now, p) })
		case r != "sold_out" && p.tries < 2:
			p.tries++
			a.at(a.nextMorning(now, 8*time.Hour, 21*time.Hour), func(now time.Time) error { return a.genuineBook(now, p) })
		}
		return nil
	}
	switch x := a.rng.Float64(); {
	case !p.typo && x < 0.06:
		p.typo = true
		a.at(a.after(now, 30*time.Second, 2*time.Minute), func(now time.Time) error {
			if _, err := a.cancel(ctx, now, h); err != nil {
				return err
			}
			a.at(a.after(now, time.Minute, 5*time.Minute), func(now time.Time) error { return a.genuineBook(now, p) })
			return nil
		})
	case !p.lapse && x < 0.11:
		p.lapse = true
		a.abandon(h)
		a.at(a.after(h.ends, 5*time.Minute, time.Hour), func(now time.Time) error { return a.genuineBook(now, p) })
	default:
		a.at(a.after(now, 30*time.Second, 5*time.Minute), func(now time.Time) error {
			ok, err := a.pay(ctx, now, h)
			if err == nil && !ok && p.tries < 2 {
				p.tries++
				a.at(a.after(now, time.Minute, 10*time.Minute), func(now time.Time) error { return a.genuineBook(now, p) })
			}
			return err
		})
	}
	return nil
}

func indexOf[T comparable](s []T, x T) int {
	for i, v := range s {
		if v == x {
			return i
		}
	}
	return -1
}

// --- berth seekers (passengers A and B) -----------------------------------

// seek is a berth seeker's quest for a lower berth.
type seek struct {
	t          trainDef
	class      network.SeatClass
	day        int // travel day
	perDay     int // attempts a day at most
	today      int
	attempts   int // today
	soldOuts   int
	refusals   int
	prefFailed bool
	waited     bool // joined (or tried to join) the waitlist
}

// startSeeker plans the quest: Z66, usually hard sleeper, travel 2–10 days
// after the first attempt; patience (cancels before giving up) drawn
// around the paper's 10 with about 1 % above 20; 3–8 attempts a day.
func (a *agent) startSeeker() {
	k := &seek{t: a.s.cfg.seekTrain(), perDay: 3 + a.rng.IntN(6), today: -1}
	k.class = network.HardSleeper
	if a.rng.Float64() < 0.15 {
		k.class = network.SoftSleeper
	}
	a.patience = int(math.Round(math.Exp(math.Log(9) + 0.35*a.rng.NormFloat64())))
	a.patience = min(max(a.patience, 3), 30)
	start := a.rng.IntN(max(1, a.s.cfg.Days-2))
	k.day = min(start+2+a.rng.IntN(9), a.s.calDays-1)
	a.at(a.timeIn(start, 8*time.Hour, 21*time.Hour), func(now time.Time) error { return a.seekBook(now, k) })
}

func (a *agent) seekBook(now time.Time, k *seek) error {
	ctx := a.s.ctx
	if a.done || a.late(now, k.t, k.day) {
		a.done = true
		return nil
	}
	if d := a.s.day(now); d != k.today {
		k.today, k.attempts = d, 0
	}
	berth := network.NoBerth
	if a.s.cfg.Preference && !k.prefFailed {
		berth = network.Lower
	}
	h, r, err := a.book(ctx, now, k.t, k.day, []booking.PassengerRequest{a.people[0].request(k.class, berth)})
	if err != nil {
		return err
	}
	if h == nil {
		switch r {
		case noAccount, "account_cancel_limit", "listed_blocked", "unpaid_order_exists", "passenger_cancel_limit":
		default:
			if berth == network.Lower && a.s.cfg.Waitlist && !k.waited {
				k.waited = true // no lower berth now: queue for one
				return a.seekWait(now, k)
			}
			if berth == network.Lower {
				k.prefFailed = true // no lower berth for us: take any, as before
				a.at(a.after(now, time.Minute, time.Minute), func(now time.Time) error { return a.seekBook(now, k) })
				return nil
			}
		}
		switch r {
		case "sold_out":
			if k.soldOuts++; k.soldOuts >= 6 {
				a.done = true
				return nil
			}
			a.seekAgain(now, k, 30*time.Minute, time.Hour)
		case noAccount, "account_cancel_limit", "listed_blocked", "unpaid_order_exists", "passenger_cancel_limit":
			// Every account (or the passenger) is barred today: tomorrow.
			a.at(a.nextMorning(now, 7*time.Hour+30*time.Minute, 12*time.Hour), func(now time.Time) error { return a.seekBook(now, k) })
		default:
			if k.refusals++; k.refusals >= 3 {
				a.done = true
				return nil
			}
			a.at(a.nextMorning(now, 7*time.Hour+30*time.Minute, 12*time.Hour), func(now time.Time) error { return a.seekBook(now, k) })
		}
		return nil
	}
	k.attempts++
	if h.berth() == network.Lower {
		a.at(a.after(now, time.Minute, 3*time.Minute), func(now time.Time) error {
			ok, err := a.pay(ctx, now, h)
			if err != nil {
				return err
			}
			if ok {
				a.lower, a.done = true, true
				return nil
			}
			a.seekAgain(now, k, 2*time.Minute, 10*time.Minute)
			return nil
		})
		return nil
	}
	// Not a lower berth. Now and then the seeker walks away and lets the
	// hold run out (passenger A's one automatic return); otherwise cancels.
	if a.rng.Float64() < 0.07 || !a.canCancel(now, h.acct) {
		a.abandon(h)
		a.at(a.after(h.ends, 2*time.Minute, 15*time.Minute), func(now time.Time) error { return a.seekBook(now, k) })
		return nil
	}
	a.at(a.after(now, 20*time.Second, time.Minute), func(now time.Time) error {
		if _, err := a.cancel(ctx, now, h); err != nil {
			return err
		}
		if a.sum.Cancels >= a.patience {
			a.done = true // passenger B: never paid
			return nil
		}
		a.seekAgain(now, k, 2*time.Minute, 20*time.Minute)
		return nil
	})
	return nil
}

// seekWait joins the waitlist for a lower berth of the seeker's class with
// the account last used, prepays it a few minutes later, and looks at it
// once its deadline (a day before departure, else three hours) has
// passed: served, the seeker is done; not, or refused at any step, it
// falls back to fishing for any berth.
func (a *agent) seekWait(now time.Time, k *seek) error {
	ctx := a.s.ctx
	fallback := func(now time.Time) error {
		k.prefFailed = true
		return a.seekBook(now, k)
	}
	refused := func(now time.Time, err error, what string) error {
		if fatal(err) {
			return fmt.Errorf("%s for passenger %d: %w", what, a.idx, err)
		}
		a.refused(reason(err))
		return fallback(now)
	}
	dep := a.s.departure(k.t, k.day)
	deadline := dep.Add(-24 * time.Hour)
	if deadline.Before(now.Add(time.Hour)) {
		deadline = dep.Add(-3 * time.Hour)
	}
	if !deadline.After(now.Add(10 * time.Minute)) {
		return fallback(now)
	}
	p := a.people[0]
	ac := a.accts[a.cur]
	e, err := a.s.d.JoinWaitlist(ctx, booking.WaitlistRequest{
		AccountID: ac.id,
		Options: []booking.WaitOptionRequest{{Train: k.t.serviceID(), Date: a.s.date(k.day).String(), From: k.t.From, To: k.t.To,
			SeatClass: k.class, Berth: network.Lower}},
		Passengers: []booking.WaitPassengerRequest{{Name: p.name, DocType: p.docType, DocNumber: p.docNumber}},
		Deadline:   deadline.Format(time.RFC3339),
	})
	if err != nil {
		return refused(now, err, "join the waitlist")
	}
	a.active[a.s.day(now)] = true
	a.at(a.after(now, time.Minute, 2*time.Minute), func(now time.Time) error {
		if err := a.s.d.PayWaitlist(ctx, ac.id, e.ID); err != nil {
			return refused(now, err, "prepay the waitlist")
		}
		a.sum.WaitJoined++
		a.at(deadline.Add(time.Second), func(now time.Time) error {
			e, err := a.s.d.Waitlist(ctx, ac.id, e.ID)
			if err != nil {
				return refused(now, err, "read the waitlist")
			}
			if e.Status == booking.WaitFulfilled {
				a.sum.WaitFulfilled++
				a.lower, a.done = true, true
				return nil
			}
			a.sum.WaitUnserved++
			return fallback(now)
		})
		return nil
	})
	return nil
}

// seekAgain schedules the next attempt: later today while the seeker has
// attempts and evening left, else tomorrow morning.
func (a *agent) seekAgain(now time.Time, k *seek, min, mean time.Duration) {
	next := a.after(now, min, mean)
	if k.attempts >= k.perDay || next.After(a.s.dayStart(a.s.day(now)).Add(22*time.Hour+30*time.Minute)) {
		next = a.nextMorning(now, 7*time.Hour+30*time.Minute, 12*time.Hour)
	}
	a.at(next, func(now time.Time) error { return a.seekBook(now, k) })
}

// --- switchers (passenger C) --------------------------------------------------

// startSwitcher plans passenger C's day: book T168, cancel it for the
// earlier arrival of Z66, book Z66 (40 % soft sleeper; a third of those
// on hard sleeper cancel that too and move up to soft), pay.
func (a *agent) startSwitcher() {
	from, to := a.s.cfg.switchTrains()
	d := a.rng.IntN(a.s.cfg.Days)
	day := min(d+a.lead(1), a.s.calDays-1)
	tries := 0
	var first, second func(now time.Time) error
	// pay pays h, or on failure books the wanted train again.
	payOrRetry := func(h *hold) func(now time.Time) error {
		return func(now time.Time) error {
			ok, err := a.pay(a.s.ctx, now, h)
			if err == nil && !ok && tries < 2 {
				tries++
				a.at(a.after(now, time.Minute, 5*time.Minute), second)
			}
			return err
		}
	}
	first = func(now time.Time) error {
		if a.late(now, from, day) {
			return nil
		}
		h, r, err := a.book(a.s.ctx, now, from, day, []booking.PassengerRequest{a.people[0].request(network.HardSleeper, "")})
		if err != nil {
			return err
		}
		if h == nil {
			if r == "sold_out" {
				a.at(a.after(now, time.Minute, 2*time.Minute), second)
			} else if tries++; tries < 3 {
				a.at(a.nextMorning(now, 8*time.Hour, 21*time.Hour), first)
			}
			return nil
		}
		a.at(a.after(now, 2*time.Minute, 8*time.Minute), func(now time.Time) error {
			if !a.canCancel(now, h.acct) {
				a.abandon(h) // no cancels left on this account today
			} else if _, err := a.cancel(a.s.ctx, now, h); err != nil {
				return err
			}
			a.at(a.after(now, time.Minute, 3*time.Minute), second)
			return nil
		})
		return nil
	}
	class := network.HardSleeper
	if a.rng.Float64() < 0.4 {
		class = network.SoftSleeper
	}
	upgraded := false
	second = func(now time.Time) error {
		if a.late(now, to, day) {
			return nil
		}
		h, r, err := a.book(a.s.ctx, now, to, day, []booking.PassengerRequest{a.people[0].request(class, "")})
		if err != nil || h == nil && r == "" {
			return err
		}
		if h == nil {
			if r == "sold_out" && class == network.HardSleeper && !upgraded {
				upgraded, class = true, network.SoftSleeper
				a.at(a.after(now, time.Minute, 2*time.Minute), second)
			} else if r == "sold_out" {
				// Z66 is full: back to T168, and pay this time.
				a.at(a.after(now, time.Minute, 2*time.Minute), func(now time.Time) error {
					h, _, err := a.book(a.s.ctx, now, from, day, []booking.PassengerRequest{a.people[0].request(network.HardSleeper, "")})
					if err != nil || h == nil {
						return err
					}
					a.at(a.after(now, time.Minute, 3*time.Minute), payOrRetry(h))
					return nil
				})
			} else if tries++; tries < 3 {
				a.at(a.nextMorning(now, 8*time.Hour, 21*time.Hour), second)
			}
			return nil
		}
		if class == network.HardSleeper && !upgraded && a.rng.Float64() < 0.35 && a.canCancel(now, h.acct) {
			upgraded = true
			a.at(a.after(now, time.Minute, 4*time.Minute), func(now time.Time) error {
				if _, err := a.cancel(a.s.ctx, now, h); err != nil {
					return err
				}
				class = network.SoftSleeper
				a.at(a.after(now, 30*time.Second, 2*time.Minute), second)
				return nil
			})
			return nil
		}
		a.at(a.after(now, time.Minute, 4*time.Minute), payOrRetry(h))
		return nil
	}
	a.at(a.timeIn(d, 8*time.Hour, 21*time.Hour), first)
}

// --- scalpers -------------------------------------------------------------------

// scalp is a scalper's habits.
type scalp struct {
	perDay float64 // mean bookings on an active day
	busy   map[seatKey]time.Time
}

// seatKey is one document on one train date: one ticket at most.
type seatKey struct {
	doc   int
	train string
	day   int
}

// startScalper: on 85 % of days, a Poisson number of bookings (mean 2–5,
// or 15–24 for the heavy fifth) for 1–5 of its documents each, spread from
// 08:00 to 23:30 over its accounts; 4 % paid, 56 % cancelled after a few
// minutes (when the account's cancels allow), the rest left to run out.
func (a *agent) startScalper() {
	sc := &scalp{perDay: float64(2 + a.rng.IntN(4)), busy: map[seatKey]time.Time{}}
	if len(a.accts) >= 10 {
		sc.perDay = float64(15 + a.rng.IntN(10))
	}
	var plan func(now time.Time) error
	plan = func(now time.Time) error {
		d := a.s.day(now)
		if a.rng.Float64() < 0.85 {
			for range poisson(a.rng, sc.perDay) {
				a.at(a.timeIn(d, 8*time.Hour, 23*time.Hour+30*time.Minute), func(now time.Time) error { return a.scalpBook(now, sc) })
			}
		}
		a.at(a.s.dayStart(d+1).Add(time.Minute), plan)
		return nil
	}
	a.at(a.s.dayStart(0).Add(time.Minute), plan)
}

func (a *agent) scalpBook(now time.Time, sc *scalp) error {
	ctx := a.s.ctx
	t := a.train()
	class := a.class(t)
	day := min(a.s.day(now)+a.rng.IntN(MaxLead+1), a.s.calDays-1)
	if a.late(now, t, day) {
		return nil
	}
	n := 1 + a.pick([]float64{0.2, 0.35, 0.25, 0.12, 0.08})
	var reqs []booking.PassengerRequest
	var keys []seatKey
	for _, i := range a.rng.Perm(len(a.people)) {
		k := seatKey{doc: i, train: t.Number, day: day}
		if now.Before(sc.busy[k]) {
			continue
		}
		keys = append(keys, k)
		reqs = append(reqs, a.people[i].request(class, ""))
		if len(reqs) == n {
			break
		}
	}
	if len(reqs) == 0 {
		return nil
	}
	h, _, err := a.book(ctx, now, t, day, reqs)
	if err != nil || h == nil {
		return err
	}
	busy := func(until time.Time) {
		for _, k := range keys {
			sc.busy[k] = until
		}
	}
	busy(h.ends)
	switch x := a.rng.Float64(); {
	case x < 0.04:
		a.at(a.after(now, 2*time.Minute, 5*time.Minute), func(now time.Time) error {
			ok, err := a.pay(ctx, now, h)
			if ok {
				busy(a.s.end.Add(time.Hour))
			}
			return err
		})
	case x < 0.60:
		a.at(a.after(now, time.Minute, 8*time.Minute), func(now time.Time) error {
			if !a.canCancel(now, h.acct) {
				a.abandon(h)
				return nil
			}
			ok, err := a.cancel(ctx, now, h)
			if ok {
				busy(now)
			}
			return err
		})
	default:
		a.abandon(h)
	}
	return nil
}
