package simulate

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"piao/internal/behaviour"
	"piao/internal/booking"
	"piao/internal/demo"
	"piao/internal/fault"
	"piao/internal/governance"
	"piao/internal/identity"
	"piao/internal/network"
	"piao/internal/payment/sandbox"
	"piao/internal/store/open"
)

// MaxLead is how many days ahead of travel the simulated passengers book
// at most.
const MaxLead = 14

// InProcessOptions configures NewInProcess.
type InProcessOptions struct {
	// Dir is the directory of the simulation's fresh SQLite database; it is
	// kept, so `piao --data-dir Dir serve` or `report` can show the
	// simulated month afterwards. Empty: a temporary directory removed by
	// Close. A Dir already holding a database is refused.
	Dir string
	// Start is the first simulated day, from which the demo trains run
	// (default: today in Asia/Shanghai).
	Start network.Date
	// Days is how many days the demo trains run from Start (default
	// demo.Days + MaxLead, so passengers of a 30-day run can book ahead up
	// to its last day).
	Days int
	// Capacity is the share of each demo train's cars that run, at least
	// one of each car type (default 1, every car). Below 1 it models a
	// peak-season day, when the same traffic meets fewer seats than it
	// wants: lower berths run out, and the waitlist has work.
	Capacity float64
	// Hold is how long seats stay held for payment (default 30 minutes).
	Hold time.Duration
	// Governance plugs the governance service into booking: the daily
	// cancel limits (G1, G2) and what the lists do (G3), as the stored
	// rules say — 12306's defaults unless Rules or Governance().SetRules
	// change them. Off, booking has no limits and counts nothing, but the
	// lists can still be evaluated after the run. The lists' slow lane
	// (Effect.DelayMillis) is not waited for: in one goroutine nobody could
	// overtake, and a real sleep would only slow the run down.
	Governance bool
	// Rules, if set, are stored before the run.
	Rules *governance.Rules
	// ListsEvery applies the list rules every this much simulated time
	// during the run (24h: at each midnight), so lists act on bookings
	// while it runs; 0 applies them only when the caller does.
	ListsEvery time.Duration
	// Policy, if set, is the booking policy stored before the run (soft
	// berth preferences, waitlist limits); nil keeps booking's defaults.
	// BaselinePolicy is the system as the paper found it.
	Policy *booking.Policy
	// Configure, if set, adjusts the booking service's configuration
	// before the service is built. Now, Gateway, Hold, Governance and the
	// sweeper are set already; keep Now.
	Configure func(cfg *booking.Config) error
	// Stores, if set, are the databases to drive instead of a fresh SQLite
	// one: the demo trains must be stored already and run on the Days
	// from Start; Dir and Capacity do not apply. What the passengers do
	// stays in them. Nothing else may book on them during the run: the
	// booking service here owns their seats until Close.
	Stores *Stores
}

// Stores are the storage under an in-process simulation.
type Stores struct {
	Network    network.Store
	Identity   identity.Store
	Booking    booking.Store
	Sandbox    sandbox.Store
	Governance governance.Store
}

// InProcess drives the real booking service of this process over a fresh
// SQLite database with the demo network, on a simulated clock: bookings,
// cancels and expiries go through booking.Service, payments through the
// sandbox gateway, whose signed notifications reach
// booking.Service.HandleNotification as the API's receiver does (over an
// in-memory transport instead of a socket). The hold sweeper is replaced
// by Advance, which releases each hold at the simulated time it ends, so a
// run is deterministic.
type InProcess struct {
	stores Stores
	svc    *booking.Service
	gov    *governance.Service
	gw     *sandbox.Gateway
	clock  *Clock
	first  network.Date
	days   int
	dir    string

	holds    timeline[int64]   // orders booked here by when their hold ends
	waits    timeline[int64]   // waitlist entries made here by payment window end and deadline
	held     map[int64]bool    // orders booked here and not yet paid or cancelled
	every    time.Duration     // list evaluation interval, 0 for none
	nextEval time.Time         // next list evaluation
	mu       sync.Mutex        // guards outs (the notifier posts from its own goroutines)
	outs     map[string]string // payment ID → notification outcome

	stop    context.CancelFunc
	stopped chan struct{}
	cleanup func() error
}

// NewInProcess opens a fresh database, migrates it, seeds the demo rail
// network (or takes o.Stores as they are) and starts the booking service
// on a simulated clock at midnight (Asia/Shanghai) of the start date.
func NewInProcess(ctx context.Context, o InProcessOptions) (d *InProcess, err error) {
	if o.Start.IsZero() {
		o.Start = network.DateOf(time.Now().In(governance.Shanghai))
	}
	if o.Days <= 0 {
		o.Days = demo.Days + MaxLead
	}
	if o.Hold <= 0 {
		o.Hold = 30 * time.Minute
	}
	if o.Capacity == 0 {
		o.Capacity = 1
	}
	if !(o.Capacity > 0 && o.Capacity <= 1) {
		return nil, fmt.Errorf("capacity must be a share of the cars above 0 and at most 1, not %v", o.Capacity)
	}
	d = &InProcess{first: o.Start, days: o.Days, held: map[int64]bool{}, outs: map[string]string{}, every: max(o.ListsEvery, 0), cleanup: func() error { return nil }}
	d.clock = NewClock(o.Start.In(governance.Shanghai))
	d.nextEval = d.clock.Now().Add(d.every)
	defer func() {
		if err != nil {
			d.Close()
		}
	}()
	if o.Stores != nil {
		if o.Dir != "" || o.Capacity != 1 {
			return nil, fmt.Errorf("a simulation on given stores has no directory or capacity of its own")
		}
		d.stores = *o.Stores
	} else if err := d.openFresh(ctx, o); err != nil {
		return nil, err
	}
	// Lists change only when evaluated or edited, which clear the cache, and
	// memberships are checked against the clock at each booking: a long
	// cache is safe here and spares a read of every membership per booking.
	d.gov = governance.NewService(d.stores.Governance, governance.Config{Now: d.clock.Now, CacheTTL: 24 * time.Hour})
	if o.Rules != nil {
		if err := d.gov.SetRules(ctx, *o.Rules, "system:simulate", ""); err != nil {
			return nil, err
		}
	}
	// Payment notifications go to the receiver below without a socket.
	client := &http.Client{Transport: handlerTransport{http.HandlerFunc(d.receive)}}
	gw, err := sandbox.New(d.stores.Sandbox, sandbox.Config{Secret: []byte("piao-simulate-sandbox-secret-000"), BaseURL: "http://sandbox.simulate.invalid", Now: d.clock.Now, Client: client})
	if err != nil {
		return nil, err
	}
	d.gw = gw
	cfg := booking.Config{
		Hold: o.Hold, Now: d.clock.Now, Gateway: gw,
		NotifyURL: "http://piao.simulate.invalid/api/v1/payments/notify", ReturnURL: "http://piao.simulate.invalid/h5/orders/", WaitlistReturnURL: "http://piao.simulate.invalid/h5/waitlist/",
		// One process owns the database, and Advance releases holds at
		// simulated times: the real-time sweeper only runs at start.
		Refresh: time.Hour, SweepEvery: 100 * 365 * 24 * time.Hour,
	}
	if o.Governance {
		cfg.Governance = noSlowLane{d.gov}
	}
	if o.Configure != nil {
		if err := o.Configure(&cfg); err != nil {
			return nil, err
		}
	}
	d.svc = booking.New(d.stores.Booking, d.stores.Network, cfg)
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	d.stop, d.stopped = cancel, make(chan struct{})
	go func() { d.svc.Run(rctx); close(d.stopped) }()
	if o.Policy != nil {
		if err := d.svc.SetPolicy(ctx, *o.Policy, ""); err != nil {
			return nil, fmt.Errorf("set the booking policy: %w", err)
		}
	}
	return d, nil
}

// openFresh opens the fresh SQLite database of o.Dir (or a temporary
// directory), migrates it and stores the demo trains in it.
func (d *InProcess) openFresh(ctx context.Context, o InProcessOptions) error {
	dir := o.Dir
	if dir == "" {
		tmp, err := os.MkdirTemp(scratch(), "piao-simulate-*")
		if err != nil {
			return err
		}
		dir = tmp
		d.cleanup = func() error { return os.RemoveAll(tmp) }
	} else if _, err := os.Stat(filepath.Join(dir, "piao.db")); err == nil {
		return fmt.Errorf("%s already holds a database: the simulation needs a fresh one (remove it or pick another directory)", dir)
	}
	d.dir = dir
	keys, _, err := open.Keys(open.KeyConfig{DataDir: dir, Create: true}) // the key file beside the database
	if err != nil {
		return err
	}
	db, err := open.Engine(ctx, "", dir, keys) // no database URL: the embedded SQLite in dir
	if err != nil {
		return err
	}
	prev := d.cleanup
	d.cleanup = func() error { db.Close(); return prev() }
	if _, err := db.Migrate(ctx); err != nil {
		return err
	}
	d.stores = Stores{Network: db.Network(), Identity: db.Identity(), Booking: db.Booking(), Sandbox: db.Sandbox(), Governance: db.Governance()}
	if _, err := d.stores.Network.ImportBundle(ctx, shrink(demo.Rail(o.Start, o.Days), o.Capacity)); err != nil {
		return fmt.Errorf("seed the demo network: %w", err)
	}
	return nil
}

// shrink keeps share of each service's cars of every car type, rounded
// up, renumbered from 1 in their order.
func shrink(b *network.Bundle, share float64) *network.Bundle {
	if share >= 1 {
		return b
	}
	for i := range b.Services {
		svc := &b.Services[i]
		total := map[string]int{}
		for _, c := range svc.Cars {
			total[c.CarType]++
		}
		kept, cars := map[string]int{}, []network.Car(nil)
		for _, c := range svc.Cars {
			if kept[c.CarType] < int(math.Ceil(share*float64(total[c.CarType]))) {
				kept[c.CarType]++
				cars = append(cars, network.Car{No: len(cars) + 1, CarType: c.CarType})
			}
		}
		svc.Cars = cars
	}
	b.Feed.Digest = fmt.Sprintf("%s-capacity-%g", b.Feed.Digest, share)
	return b
}

// BaselinePolicy is booking's default policy without the soft berth
// preferences — no lower berth first for the elderly, no proposal 1 — so
// the system picks berths as the seed paper found 12306 doing: the
// baseline against which preferences and the waitlist are measured.
func BaselinePolicy() booking.Policy {
	p := booking.DefaultPolicy()
	p.ElderlyLower, p.RepeatBerthFirst = false, false
	return p
}

// scratch is where a temporary database goes: memory (/dev/shm) when the
// system has it, as nothing of it is kept and a month of traffic writes
// gigabytes to the write-ahead log (about 30 % faster than a disk); else
// the temporary directory.
func scratch() string {
	const shm = "/dev/shm"
	if os.Getenv("TMPDIR") == "" {
		if fi, err := os.Stat(shm); err == nil && fi.IsDir() {
			if f, err := os.CreateTemp(shm, "piao-probe-*"); err == nil {
				f.Close()
				os.Remove(f.Name())
				return shm
			}
		}
	}
	return os.TempDir()
}

// noSlowLane is the governance service without the slow lane's wait.
type noSlowLane struct{ *governance.Service }

func (g noSlowLane) Screen(ctx context.Context, subjects []string) (governance.Rules, governance.Verdict, error) {
	r, v, err := g.Service.Screen(ctx, subjects)
	v.Delay = 0
	return r, v, err
}

// Stores are the stores under the simulation.
func (d *InProcess) Stores() Stores { return d.stores }

// Governance is the governance service on the simulated clock: set rules,
// evaluate lists, read members, run the behaviour report.
func (d *InProcess) Governance() *governance.Service { return d.gov }

// Dir is the directory of the database.
func (d *InProcess) Dir() string { return d.dir }

// Booking is the booking service the passengers use.
func (d *InProcess) Booking() *booking.Service { return d.svc }

// Clock is the simulated clock every service here reads.
func (d *InProcess) Clock() *Clock { return d.clock }

// Calendar implements Driver.
func (d *InProcess) Calendar() (network.Date, int) { return d.first, d.days }

// Now implements Driver.
func (d *InProcess) Now() time.Time { return d.clock.Now() }

// Advance implements Driver: each hold booked here that ends by t is
// released by booking.Service.ExpireDue with the clock at its end, each
// waitlist entry made here is ended by booking.Service.ExpireWaitlist at
// its payment window's end and at its deadline, and the list rules are
// applied at their times (ListsEvery). At equal times lists go first,
// then holds, then waitlist entries.
func (d *InProcess) Advance(ctx context.Context, t time.Time) error {
	const (
		none = iota
		eval
		hold
		wait
	)
	for {
		next, what := t, none
		consider := func(at time.Time, w int) {
			if !at.After(t) && (what == none || at.Before(next)) {
				next, what = at, w
			}
		}
		if d.every > 0 {
			consider(d.nextEval, eval)
		}
		if d.holds.Len() > 0 {
			consider(d.holds.Next(), hold)
		}
		if d.waits.Len() > 0 {
			consider(d.waits.Next(), wait)
		}
		switch what {
		case eval:
			d.clock.Set(d.nextEval)
			if _, err := d.gov.Evaluate(ctx); err != nil {
				return fmt.Errorf("apply the list rules: %w", err)
			}
			d.nextEval = d.nextEval.Add(d.every)
		case hold:
			if err := d.expire(ctx); err != nil {
				return err
			}
		case wait:
			if err := d.expireWaits(ctx); err != nil {
				return err
			}
		default:
			if t.After(d.clock.Now()) {
				d.clock.Set(t)
			}
			return nil
		}
	}
}

// expireWaits ends the waitlist entries due first, at their time: unpaid
// ones whose payment window closed, waiting ones past their deadline.
func (d *InProcess) expireWaits(ctx context.Context) error {
	at := d.waits.Next()
	for d.waits.Len() > 0 && d.waits.Next().Equal(at) {
		d.waits.pop()
	}
	if at.After(d.clock.Now()) {
		d.clock.Set(at)
	}
	for {
		n, err := d.svc.ExpireWaitlist(ctx)
		if err != nil {
			return fmt.Errorf("end due waitlist entries: %w", err)
		}
		if n < 200 { // ExpireWaitlist's batch
			return nil
		}
	}
}

// expire releases the holds ending first, at their end.
func (d *InProcess) expire(ctx context.Context) error {
	at := d.holds.Next()
	due := false
	for d.holds.Len() > 0 && d.holds.Next().Equal(at) {
		if _, order := d.holds.pop(); d.held[order] {
			delete(d.held, order)
			due = true
		}
	}
	if !due {
		return nil
	}
	d.clock.Set(at)
	for {
		n, err := d.svc.ExpireDue(ctx)
		if err != nil {
			return err
		}
		if n < 500 { // ExpireDue's batch
			return nil
		}
	}
}

// NewAccount implements Driver: a passenger account stored directly (no
// password: it cannot log in).
func (d *InProcess) NewAccount(ctx context.Context, username string) (int64, error) {
	a, err := d.stores.Identity.CreateAccount(ctx, identity.Account{
		Username: username, DisplayName: username, Role: identity.Passenger,
		PasswordHash: "!simulated", CreatedAt: d.clock.Now(),
	})
	return a.ID, err
}

// Book implements Driver.
func (d *InProcess) Book(ctx context.Context, r booking.BookRequest) (booking.Order, error) {
	res, err := d.svc.Book(ctx, r)
	if err != nil {
		return booking.Order{}, err
	}
	o := res.Order
	d.held[o.ID] = true
	d.holds.push(o.HoldExpiresAt, o.ID)
	return o, nil
}

// Cancel implements Driver.
func (d *InProcess) Cancel(ctx context.Context, accountID, orderID int64) error {
	if _, err := d.svc.Cancel(ctx, orderID, accountID); err != nil {
		return err
	}
	delete(d.held, orderID)
	return nil
}

// Pay implements Driver: the payer asks for the payment, pays it in the
// sandbox, and the sandbox delivers its signed notification.
func (d *InProcess) Pay(ctx context.Context, accountID, orderID int64) error {
	p, err := d.svc.Payment(ctx, orderID, accountID)
	if err != nil {
		return err
	}
	err = d.payThrough(ctx, p.ID, func() error {
		return fault.New(fault.Conflict, "order_not_held", "订单保留已结束，款项已退回", "the hold ended before the payment; the money went back")
	})
	if err == nil {
		delete(d.held, orderID)
	}
	return err
}

// payThrough pays payment id in the sandbox and waits for its
// notification to be applied; late is the refusal when the payment came
// after the order or entry ended and the money went back.
func (d *InProcess) payThrough(ctx context.Context, id string, late func() error) error {
	if _, err := d.gw.Pay(ctx, id); err != nil {
		return err
	}
	if _, err := d.gw.DeliverDue(ctx); err != nil {
		return err
	}
	d.mu.Lock()
	out := d.outs[id]
	delete(d.outs, id)
	d.mu.Unlock()
	switch booking.PaymentOutcome(out) {
	case booking.OutcomePaid, booking.OutcomeDuplicate:
		return nil
	case booking.OutcomeRefunded:
		return late()
	}
	return fault.Newf(fault.Unavailable, "notification_not_applied", "支付通知未送达", "the payment notification of %s was not applied (%q)", id, out)
}

// JoinWaitlist implements Driver.
func (d *InProcess) JoinWaitlist(ctx context.Context, r booking.WaitlistRequest) (booking.WaitlistEntry, error) {
	e, err := d.svc.JoinWaitlist(ctx, r)
	if err != nil {
		return booking.WaitlistEntry{}, err
	}
	d.waits.push(e.PayBy, e.ID)
	d.waits.push(e.Deadline, e.ID)
	return e, nil
}

// PayWaitlist implements Driver as Pay does, for the entry's prepayment.
func (d *InProcess) PayWaitlist(ctx context.Context, accountID, entryID int64) error {
	p, err := d.svc.WaitlistPayment(ctx, entryID, accountID)
	if err != nil {
		return err
	}
	return d.payThrough(ctx, p.ID, func() error {
		return fault.New(fault.Conflict, "waitlist_not_unpaid", "候补订单已结束，款项已退回", "the waitlist entry ended before the payment; the money went back")
	})
}

// Waitlist implements Driver.
func (d *InProcess) Waitlist(ctx context.Context, accountID, entryID int64) (booking.WaitlistEntry, error) {
	return d.svc.Waitlist(ctx, entryID, accountID)
}

// receive is the payment notification receiver, as the API's: verify the
// signature, apply the notification, answer "success".
func (d *InProcess) receive(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	n, err := d.gw.Verify(r.Header, body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	out, err := d.svc.HandleNotification(r.Context(), n)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	d.mu.Lock()
	d.outs[n.PaymentID] = string(out)
	d.mu.Unlock()
	io.WriteString(w, "success")
}

// Close stops the booking service and closes the database; a temporary
// directory is removed.
func (d *InProcess) Close() error {
	if d.stop != nil {
		d.stop()
		<-d.stopped
		d.stop = nil
	}
	err := d.cleanup()
	d.cleanup = func() error { return nil }
	return err
}

// handlerTransport serves HTTP requests with a handler in this process.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, r)
	return rec.Result(), nil
}

// Clock is a settable clock safe for concurrent reads.
type Clock struct {
	ns  atomic.Int64
	loc *time.Location
}

// NewClock returns a clock showing t.
func NewClock(t time.Time) *Clock {
	c := &Clock{loc: t.Location()}
	c.ns.Store(t.UnixNano())
	return c
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time { return time.Unix(0, c.ns.Load()).In(c.loc) }

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) { c.ns.Store(t.UnixNano()) }

// EvaluateLists implements Governed: the list rules applied at the
// simulated now.
func (d *InProcess) EvaluateLists(ctx context.Context) (governance.Evaluation, error) {
	return d.gov.Evaluate(ctx)
}

// ListMembers implements Governed.
func (d *InProcess) ListMembers(ctx context.Context) ([]governance.Membership, time.Time, error) {
	now := d.clock.Now()
	var all []governance.Membership
	const page = 1000
	for off := 0; ; off += page {
		ms, err := d.gov.Members(ctx, governance.MemberFilter{ActiveAt: now, Limit: page, Offset: off})
		if err != nil {
			return nil, now, err
		}
		all = append(all, ms...)
		if len(ms) < page {
			return all, now, nil
		}
	}
}

// Report implements Governed.
func (d *InProcess) Report(ctx context.Context, from, to network.Date) (behaviour.Report, error) {
	return d.gov.Report(ctx, governance.DatesWindow(from, to, ""))
}
