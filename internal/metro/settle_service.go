package metro

import (
	"context"
	"time"

	"piao/internal/benefits"
	"piao/internal/fault"
)

// SettleOptions tune a settlement run.
type SettleOptions struct {
	// Batch is how many trips one transaction settles (default 20,000).
	Batch int
	// Progress, if set, is told how many trips are settled so far.
	Progress func(settled int)
	// Spend, if set, applies monthly spend tiers (SPEC M4).
	Spend *Spend
	// Now is the clock, for the months spend tiers read (default time.Now).
	Now func() time.Time
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
// and the batch settled anew. The next batch is read while the previous is
// written.
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
	settler := NewSettler(h, benefits.Shanghai)

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
	next := fetch(0)
	lines := make([]Settlement, 0, o.Batch)
	for {
		p := <-next
		if p.err != nil {
			return rep, p.err
		}
		if len(p.trips) == 0 {
			return rep, nil
		}
		next = fetch(p.trips[len(p.trips)-1].Seq)
		for attempt := 0; ; attempt++ {
			lines = lines[:0]
			for _, t := range p.trips {
				lines = append(lines, settler.Settle(t))
			}
			err := st.Settle(ctx, lines)
			if err == nil {
				break
			}
			if !fault.Is(err, fault.Conflict) || attempt == maxConflicts {
				<-next
				return rep, err
			}
			// Someone else changed tickets, budgets or settled some of
			// these trips: start again from the store's state.
			rep.Retries++
			if h, err = holdings(); err != nil {
				<-next
				return rep, err
			}
			settler = NewSettler(h, benefits.Shanghai)
			first, last := p.trips[0].Seq, p.trips[len(p.trips)-1].Seq
			if p.trips, err = st.Unsettled(ctx, feed, first-1, len(p.trips)); err != nil {
				<-next
				return rep, err
			}
			for len(p.trips) > 0 && p.trips[len(p.trips)-1].Seq > last { // the next page has those
				p.trips = p.trips[:len(p.trips)-1]
			}
			if len(p.trips) == 0 {
				lines = lines[:0]
				break
			}
		}
		rep.add(lines)
		if o.Progress != nil {
			o.Progress(rep.Trips)
		}
		if err := ctx.Err(); err != nil {
			<-next
			return rep, err
		}
	}
}
