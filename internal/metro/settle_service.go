package metro

import (
	"context"
	"time"

	"piao/internal/benefits"
	"piao/internal/fault"
	"piao/internal/ledger"
)

// SettleOptions tune a settlement run.
type SettleOptions struct {
	// Batch is how many trips one transaction settles (default 20,000).
	Batch int
	// Progress, if set, is told how many trips are settled so far.
	Progress func(settled int)
	// Spend, if set, applies monthly spend tiers (SPEC M4).
	Spend *Spend
	// Now is the clock, for the months spend tiers read and the time of
	// the batches' journal entries (default time.Now).
	Now func() time.Time
	// WithoutLedger leaves the batches' journal entries out. Only the
	// settlement benchmark sets it, to show what posting costs; settled
	// trips without their entry are what `piao ledger check` reports.
	WithoutLedger bool
}

// SettleReport says what a settlement run did.
type SettleReport struct {
	Trips     int   `json:"trips"`     // settled by this run
	Benefited int   `json:"benefited"` // of which some benefit paid a part
	Fare      int64 `json:"fare"`      // fen, the trips' fares
	Passenger int64 `json:"passenger"`
	Operator  int64 `json:"operator"`
	Merchant  int64 `json:"merchant"`
	Subsidy   int64 `json:"subsidy"`
	Retries   int   `json:"retries"` // batches settled again after a conflict
}

func (r *SettleReport) add(lines []Settlement) {
	for _, l := range lines {
		r.Trips++
		if len(l.Applied) > 0 {
			r.Benefited++
		}
		r.Fare += l.Fare
		r.Passenger += l.Passenger
		r.Operator += l.Operator
		r.Merchant += l.Merchant
		r.Subsidy += l.Subsidy
	}
}

// maxConflicts bounds how often one batch is settled again after another
// writer (a ride redeemed through the API, a second run) changed what it
// used.
const maxConflicts = 5

// Settle gives every unsettled trip of the feed its best eligible benefit
// and writes its ledger line, exactly once per trip: trips settled before
// are skipped, and a run stopped halfway resumes where it stopped.
//
// Holdings are read once and kept in memory while batches are written; a
// batch that meets a conflict is rolled back, the holdings are read again
// and the batch settled anew. Three batches are in flight at once: one is
// written while the next is settled in memory and the one after is read.
func Settle(ctx context.Context, st Store, feed string, o SettleOptions) (SettleReport, error) {
	var rep SettleReport
	if o.Batch <= 0 {
		o.Batch = 20_000
	}
	since, err := st.OldestUnsettled(ctx, feed)
	if err != nil || since.IsZero() {
		return rep, err
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	holdings := func() (Holdings, error) {
		h, err := st.Holdings(ctx, feed, since)
		if err == nil && o.Spend != nil {
			err = loadSpend(ctx, st, feed, o.Spend, since, o.Now(), &h)
		}
		return h, err
	}
	h, err := holdings()
	if err != nil {
		return rep, err
	}
	settler, books := NewSettler(h, benefits.Shanghai), newRedemptions(feed, h)

	type page struct {
		trips []Trip
		err   error
	}
	fetch := func(after int64) <-chan page {
		ch := make(chan page, 1)
		go func() {
			ts, err := st.Unsettled(ctx, feed, after, o.Batch)
			ch <- page{ts, err}
		}()
		return ch
	}
	// A write is a batch's lines going to the store in the background.
	type write struct {
		trips []Trip
		lines []Settlement
		entry *ledger.Entry
		done  chan error
	}
	start := func(trips []Trip, lines []Settlement, entry *ledger.Entry) *write {
		w := &write{trips, lines, entry, make(chan error, 1)}
		go func() { w.done <- st.Settle(ctx, lines, entry) }()
		return w
	}
	// settle settles a batch and builds its entry, in trip order, so the
	// entry draws bought tickets' rides as the settler uses them.
	settle := func(trips []Trip, lines []Settlement) ([]Settlement, *ledger.Entry) {
		lines = lines[:0]
		for _, t := range trips {
			lines = append(lines, settler.Settle(t))
		}
		if o.WithoutLedger || len(lines) == 0 {
			return lines, nil
		}
		e := books.entry(lines, o.Now())
		if len(e.Postings) == 0 { // free trips only: no money moved
			return lines, nil
		}
		return lines, &e
	}
	// again settles a batch whose write met a conflict, in the
	// foreground, from the store's state, until it lands.
	again := func(w *write, err error) ([]Settlement, error) {
		trips, lines := w.trips, w.lines
		for attempt := 1; ; attempt++ {
			if !fault.Is(err, fault.Conflict) || attempt > maxConflicts {
				return nil, err
			}
			// Someone else changed tickets, budgets or settled some of
			// these trips: start again from the store's state.
			rep.Retries++
			if h, err = holdings(); err != nil {
				return nil, err
			}
			settler, books = NewSettler(h, benefits.Shanghai), newRedemptions(feed, h)
			first, last := trips[0].Seq, trips[len(trips)-1].Seq
			if trips, err = st.Unsettled(ctx, feed, first-1, len(trips)); err != nil {
				return nil, err
			}
			for len(trips) > 0 && trips[len(trips)-1].Seq > last { // later batches have those
				trips = trips[:len(trips)-1]
			}
			var entry *ledger.Entry
			lines, entry = settle(trips, lines)
			if err = st.Settle(ctx, lines, entry); err == nil {
				return lines, nil
			}
		}
	}
	// landed waits for the write in flight and counts it.
	landed := func(w *write) (retried bool, err error) {
		lines := w.lines
		if err := <-w.done; err != nil {
			if lines, err = again(w, err); err != nil {
				return true, err
			}
			retried = true
		}
		rep.add(lines)
		if o.Progress != nil {
			o.Progress(rep.Trips)
		}
		return retried, ctx.Err()
	}

	next := fetch(0)
	var inflight *write
	spare := make([]Settlement, 0, o.Batch) // the lines buffer not being written
	for {
		p := <-next
		if p.err != nil || len(p.trips) == 0 {
			if inflight != nil {
				if _, err := landed(inflight); err != nil {
					return rep, err
				}
			}
			return rep, p.err
		}
		next = fetch(p.trips[len(p.trips)-1].Seq)
		lines, entry := settle(p.trips, spare)
		if inflight != nil {
			retried, err := landed(inflight)
			if err != nil {
				<-next
				return rep, err
			}
			if retried { // these lines were settled from holdings that were wrong
				lines, entry = settle(p.trips, lines)
			}
			spare = inflight.lines
		} else {
			spare = make([]Settlement, 0, o.Batch)
		}
		inflight = start(p.trips, lines, entry)
	}
}
