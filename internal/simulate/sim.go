// Package simulate generates booking traffic from labelled populations of
// passengers — genuine travellers, berth seekers who cancel until they get
// a lower berth (passengers A and B of seed 004), train switchers
// (passenger C) and scalpers with many accounts — and drives the real
// booking service with it (SPEC G5). The labels are the ground truth that
// governance lists are scored against (Score), and the simulated month is
// data for the cancellation analytics (G4).
//
// A run is a discrete-event simulation in one goroutine over a simulated
// clock: every passenger acts at random times of day, in time order, and
// holds run out when the clock passes their end. In process (InProcess)
// the same seed gives the same Result. Over HTTP (HTTP) the server keeps
// real time, so simulated days collapse into the run's wall time.
package simulate

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"piao/internal/governance"
	"piao/internal/network"
)

// Stats counts what a population (or one passenger) did.
type Stats struct {
	// Passengers is the number of simulated passengers (0 for one passenger).
	Passengers int `json:"passengers,omitempty"`
	Accounts   int `json:"accounts"`
	Documents  int `json:"documents"`
	// AccountsUsed is how many accounts placed at least one order.
	AccountsUsed int `json:"accounts_used"`
	// Bookings is orders placed (held); Tickets the seats they held.
	Bookings int `json:"bookings"`
	Tickets  int `json:"tickets"`
	// Cancels is orders cancelled by hand before payment.
	Cancels int `json:"cancels"`
	// Expiries is holds that ran out unpaid (automatic returns).
	Expiries int `json:"expiries"`
	// Payments is orders paid.
	Payments int `json:"payments"`
	// Pending is orders still held when the run ended.
	Pending int `json:"pending"`
	// HeldSeatMinutes is seat-minutes locked by unpaid orders: for every
	// order, its tickets times the minutes from booking to its payment,
	// cancel or expiry (orders still held at the end are not counted).
	HeldSeatMinutes float64 `json:"held_seat_minutes"`
	// WaitJoined is waitlist entries made and prepaid; WaitFulfilled those
	// that became a paid ticket; WaitUnserved those not served by their
	// deadline (expired and refunded; over HTTP, where the server keeps
	// real time, also those still waiting when the simulated deadline
	// passes). Fulfilled tickets are not among Bookings or Payments.
	WaitJoined    int `json:"wait_joined,omitempty"`
	WaitFulfilled int `json:"wait_fulfilled,omitempty"`
	WaitUnserved  int `json:"wait_unserved,omitempty"`
	// Refusals counts refused requests by the service's reason
	// (sold_out, account_cancel_limit, listed_blocked, …).
	Refusals map[string]int `json:"refusals,omitempty"`
}

// RefusalCount is the number of refused requests.
func (s Stats) RefusalCount() int {
	n := 0
	for _, v := range s.Refusals {
		n += v
	}
	return n
}

func (s *Stats) add(o Stats) {
	s.Passengers += o.Passengers
	s.Accounts += o.Accounts
	s.Documents += o.Documents
	s.AccountsUsed += o.AccountsUsed
	s.Bookings += o.Bookings
	s.Tickets += o.Tickets
	s.Cancels += o.Cancels
	s.Expiries += o.Expiries
	s.Payments += o.Payments
	s.Pending += o.Pending
	s.HeldSeatMinutes += o.HeldSeatMinutes
	s.WaitJoined += o.WaitJoined
	s.WaitFulfilled += o.WaitFulfilled
	s.WaitUnserved += o.WaitUnserved
	for k, v := range o.Refusals {
		if s.Refusals == nil {
			s.Refusals = map[string]int{}
		}
		s.Refusals[k] += v
	}
}

// Agent is one simulated passenger as it ended.
type Agent struct {
	Label Label `json:"label"`
	Kind  Kind  `json:"kind"`
	// Document is the subject of the passenger's own document (a scalper's
	// first one); Accounts the subjects of its accounts.
	Document string   `json:"document"`
	Accounts []string `json:"accounts"`
	// Age on the first simulated day.
	Age int `json:"age"`
	// LowerBerth is set for a berth seeker who paid for a lower berth.
	LowerBerth bool `json:"lower_berth,omitempty"`
	// Patience is how many cancels a berth seeker would make at most.
	Patience int `json:"patience,omitempty"`
	// DaysActive is how many days the passenger booked or cancelled on.
	DaysActive int `json:"days_active"`
	Stats
}

// Result is what a run did, with the ground truth for scoring.
type Result struct {
	Seed       uint64       `json:"seed"`
	Days       int          `json:"days"`
	Start      network.Date `json:"start"`
	Trains     []string     `json:"trains"`
	Passengers int          `json:"passengers"`
	Mix        string       `json:"mix"`
	Preference bool         `json:"preference"`
	// From and To bound the simulated time: analytics windows and list
	// evaluation use them.
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// Labels maps every subject — "doc:TYPE:NUMBER" and "account:ID", as
	// governance names them — to its passenger's population and kind.
	Labels map[string]Tag `json:"labels"`
	// ByLabel and ByKind total the passengers' Stats.
	ByLabel map[Label]Stats `json:"by_label"`
	ByKind  map[Kind]Stats  `json:"by_kind"`
	// LowerBerths is how many berth seekers got and paid a lower berth.
	LowerBerths int `json:"lower_berths"`
	// Agents is every simulated passenger, in creation order.
	Agents []Agent `json:"agents"`
	// Events is how many simulated actions ran.
	Events int `json:"events"`
	// Wall is how long the run took in real time.
	Wall time.Duration `json:"wall_ns"`
}

// sim is one run.
type sim struct {
	ctx        context.Context // the run's, for the passengers' requests
	cfg        Config
	d          Driver
	first      network.Date
	calDays    int
	start, end time.Time
	now        time.Time
	events     timeline[func(now time.Time) error]
	lapses     timeline[*agent] // abandoned holds by when they run out
	agents     []*agent
	docs       map[string]bool
	steps      int
	// trains are the configured trains and trainShares how popular each is.
	trains      []trainDef
	trainShares []float64
}

// event is an action of a passenger at a simulated time.

// Run simulates cfg's passengers against d and returns what they did. d is
// left open: the caller may evaluate lists or run analytics on it after.
func Run(ctx context.Context, cfg Config, d Driver) (*Result, error) {
	began := time.Now()
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	first, calDays := d.Calendar()
	if !cfg.Start.IsZero() {
		// Day 0 is Start: trains run for the rest of the calendar from it.
		skip := int(math.Round(cfg.Start.In(governance.Shanghai).Sub(first.In(governance.Shanghai)).Hours() / 24))
		if skip < 0 || skip >= calDays {
			return nil, fmt.Errorf("start %s is outside the days the trains run (%s for %d days)", cfg.Start, first, calDays)
		}
		first, calDays = cfg.Start, calDays-skip
	}
	s := &sim{ctx: ctx, cfg: cfg, d: d, first: first, calDays: calDays, docs: map[string]bool{}}
	s.start = first.In(governance.Shanghai)
	s.end = first.AddDays(cfg.Days).In(governance.Shanghai)
	if now := d.Now(); now.After(s.start) {
		return nil, fmt.Errorf("the driver's clock (%s) is past the start of the simulation (%s)", now.Format(time.RFC3339), s.start.Format(time.RFC3339))
	}
	s.now = s.start
	for _, n := range cfg.Trains {
		t, _ := trainByNumber(n)
		s.trains = append(s.trains, t)
		s.trainShares = append(s.trainShares, trainPopularity[n])
	}
	if err := s.populate(ctx); err != nil {
		return nil, err
	}
	if cfg.BeforeRun != nil {
		if err := cfg.BeforeRun(ctx); err != nil {
			return nil, err
		}
	}
	if err := s.loop(ctx); err != nil {
		return nil, err
	}
	res := s.result()
	res.Wall = time.Since(began)
	return res, nil
}

// populate creates the passengers, their documents and accounts, and their
// first actions.
func (s *sim) populate(ctx context.Context) error {
	counts := s.cfg.Mix.counts(s.cfg.Passengers)
	var labels []Label
	for _, l := range Labels {
		for range counts[l] {
			labels = append(labels, l)
		}
	}
	master := rand.New(rand.NewPCG(s.cfg.Seed, 0x5eed))
	master.Shuffle(len(labels), func(i, j int) { labels[i], labels[j] = labels[j], labels[i] })
	for i, l := range labels {
		a := &agent{s: s, idx: i, label: l, rng: rand.New(rand.NewPCG(s.cfg.Seed, uint64(i)+1)), active: map[int]bool{}}
		if err := a.setup(ctx); err != nil {
			return err
		}
		s.agents = append(s.agents, a)
	}
	return nil
}

// loop runs the events in time order until the window ends.
func (s *sim) loop(ctx context.Context) error {
	total := s.cfg.Days * 24
	reported := -1
	report := func(t time.Time) {
		if s.cfg.Progress == nil {
			return
		}
		h := min(int(t.Sub(s.start)/time.Hour), total)
		if h != reported {
			reported = h
			s.cfg.Progress(h, total)
		}
	}
	report(s.start)
	for s.events.Len() > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		at, fn := s.events.pop()
		if !at.Before(s.end) {
			break
		}
		if err := s.advance(ctx, at); err != nil {
			return err
		}
		s.steps++
		if err := fn(at); err != nil {
			return err
		}
		report(at)
	}
	if err := s.advance(ctx, s.end); err != nil {
		return err
	}
	report(s.end)
	return nil
}

// advance moves the simulated time to t: abandoned holds that ended count
// as expiries, and the driver releases them.
func (s *sim) advance(ctx context.Context, t time.Time) error {
	for s.lapses.Len() > 0 && !s.lapses.Next().After(t) {
		_, a := s.lapses.pop()
		a.sum.Expiries++
	}
	if err := s.d.Advance(ctx, t); err != nil {
		return fmt.Errorf("advance the clock to %s: %w", t.Format(time.RFC3339), err)
	}
	s.now = t
	return nil
}

// at schedules fn at t (not before now).
func (s *sim) at(t time.Time, fn func(now time.Time) error) {
	if t.Before(s.now) {
		t = s.now
	}
	s.events.push(t, fn)
}

// day is the index of the simulated day t falls in.
func (s *sim) day(t time.Time) int { return int(t.Sub(s.start) / (24 * time.Hour)) }

// dayStart is midnight of day d.
func (s *sim) dayStart(d int) time.Time { return s.first.AddDays(d).In(governance.Shanghai) }

// dayEnd is the midnight after t.
func (s *sim) dayEnd(t time.Time) time.Time { return s.dayStart(s.day(t) + 1) }

// date is the service date of day d.
func (s *sim) date(d int) network.Date { return s.first.AddDays(d) }

// runs reports whether trains run on day d.
func (s *sim) runs(d int) bool { return d >= 0 && d < s.calDays }

// departure is when train t leaves its origin on day d.
func (s *sim) departure(t trainDef, d int) time.Time { return s.dayStart(d).Add(t.Depart) }

// result totals the passengers.
func (s *sim) result() *Result {
	r := &Result{
		Seed: s.cfg.Seed, Days: s.cfg.Days, Start: s.first, Trains: s.cfg.Trains, Passengers: s.cfg.Passengers,
		Mix: s.cfg.Mix.String(), Preference: s.cfg.Preference, From: s.start, To: s.end,
		Labels: map[string]Tag{}, ByLabel: map[Label]Stats{}, ByKind: map[Kind]Stats{}, Events: s.steps,
	}
	for _, a := range s.agents {
		ag := a.finish()
		for _, p := range a.people {
			r.Labels[governance.DocumentSubject(p.docType, p.docNumber)] = Tag{Label: ag.Label, Kind: ag.Kind, Agent: a.idx}
		}
		for _, sub := range ag.Accounts {
			r.Labels[sub] = Tag{Label: ag.Label, Kind: ag.Kind, Agent: a.idx}
		}
		st := ag.Stats
		st.Passengers = 1
		bl, bk := r.ByLabel[ag.Label], r.ByKind[ag.Kind]
		bl.add(st)
		bk.add(st)
		r.ByLabel[ag.Label], r.ByKind[ag.Kind] = bl, bk
		if ag.LowerBerth {
			r.LowerBerths++
		}
		r.Agents = append(r.Agents, ag)
	}
	return r
}

// Total is every population's Stats together.
func (r *Result) Total() Stats {
	var t Stats
	for _, l := range Labels {
		t.add(r.ByLabel[l])
	}
	return t
}

// poisson draws a Poisson number with the given mean (Knuth; small means).
func poisson(rng *rand.Rand, mean float64) int {
	if mean <= 0 {
		return 0
	}
	l, k, p := math.Exp(-mean), 0, 1.0
	for {
		p *= rng.Float64()
		if p <= l {
			return k
		}
		k++
	}
}
