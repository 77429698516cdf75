package bench

import (
	"context"
	"fmt"
	"io"
	"reflect"
	"strings"
	"time"

	"piao/internal/behaviour"
	"piao/internal/booking"
	"piao/internal/governance"
	"piao/internal/identity"
	"piao/internal/network"
)

// TargetAnalytics is the G4 target: 10 M order events analysed in 10 s.
const TargetAnalytics = 10.0 // seconds for 10 M

// AnalyticsOptions configures the analytics benchmark.
type AnalyticsOptions struct {
	Transactions int    // analysed in memory (default 10 M)
	StoreRows    int    // written to a fresh database and reported from it (default 1 M; 0 skips)
	Database     string // PostgreSQL server URL for the store figure; empty: SQLite
	Runs         int
	Log          io.Writer
}

// Analytics measures the cancellation report (G4): the analyser over a
// stream of synthetic transactions, against the cheapest aggregation of
// the same stream (a count per passenger in a Go map) measured in the same
// run; and the report read from a database, against a bare scan of the
// same rows.
func Analytics(ctx context.Context, o AnalyticsOptions) ([]Figure, error) {
	if o.Transactions <= 0 {
		o.Transactions = 10_000_000
	}
	o.Runs = max(o.Runs, 1)
	logf := logger(o.Log)
	const seed = 4
	var gen, plain, full []float64
	for run := 1; run <= o.Runs; run++ {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		// The generator's own cost is measured alone and taken off both.
		began := time.Now()
		var sink int64
		behaviour.Generate(seed, o.Transactions, func(t behaviour.Transaction) { sink += int64(t.Outcome) })
		g := time.Since(began).Seconds()

		began = time.Now()
		perPassenger := map[string]int32{}
		behaviour.Generate(seed, o.Transactions, func(t behaviour.Transaction) { perPassenger[t.Passenger]++ })
		p := time.Since(began).Seconds() - g

		began = time.Now()
		var a behaviour.Analyzer
		behaviour.Generate(seed, o.Transactions, a.Add)
		r := a.Report()
		f := time.Since(began).Seconds() - g
		if r.Totals.Passengers != int64(len(perPassenger)) {
			return nil, fmt.Errorf("the analyser counted %d passengers, the map %d", r.Totals.Passengers, len(perPassenger))
		}
		gen, plain, full = append(gen, g), append(plain, p), append(full, f)
		logf("analytics run %d: %s transactions, generating %.2f s, map count %.2f s, full report %.2f s", run, human(float64(o.Transactions)), g, p, f)
	}
	scale := 10e6 / float64(o.Transactions)
	fig := Figure{
		Name:  fmt.Sprintf("G4 report over %s transactions in memory (s, for 10 M)", human(float64(o.Transactions))),
		Value: Median(full) * scale, Unit: "s", Runs: o.Runs,
		Target: fmt.Sprintf("≤ %.0f s for 10 M", TargetAnalytics),
		Note:   fmt.Sprintf("generator %.2f s taken off; %s", Median(gen), runsOf(full)+" s"),
	}
	fig.Met = fig.Value <= TargetAnalytics
	fig.compare("count per passenger in a Go map, same stream", Median(plain)*scale)
	figs := []Figure{fig}
	if o.StoreRows > 0 {
		f, err := analyticsFromStore(ctx, o, logf)
		if err != nil {
			return nil, err
		}
		figs = append(figs, f)
	}
	return figs, nil
}

// analyticsFromStore writes StoreRows synthetic transactions as orders and
// tickets into a fresh database and times the report read from it. Held
// transactions are left out (an account may hold one order only), and paid
// ones are stored as refunded, which the report counts as paid, so a
// passenger's several paid tickets never meet the one-ticket-per-train rule.
func analyticsFromStore(ctx context.Context, o AnalyticsOptions, logf func(string, ...any)) (Figure, error) {
	e, err := openEnv(ctx, o.Database)
	if err != nil {
		return Figure{}, err
	}
	defer e.Close()
	const pool = 2000
	accounts := make([]int64, pool)
	stamp := time.Now().UnixNano()
	for i := range accounts {
		a, err := e.App.Identity.Store.CreateAccount(ctx, identity.Account{
			Username: fmt.Sprintf("an%05d-%x", i, stamp), DisplayName: "bench", Role: identity.Passenger, PasswordHash: "-", CreatedAt: time.Now(),
		})
		if err != nil {
			return Figure{}, err
		}
		accounts[i] = a.ID
	}
	var want behaviour.Analyzer
	var batch []behaviour.Transaction
	var first, last time.Time
	written := 0
	flush := func() error {
		err := e.App.BookingStore.Update(ctx, func(tx booking.Tx) error {
			for _, t := range batch {
				if err := tx.InsertOrder(storedOrder(t)); err != nil {
					return err
				}
			}
			return nil
		})
		written += len(batch)
		batch = batch[:0]
		return err
	}
	began := time.Now()
	var genErr error
	behaviour.Generate(5, o.StoreRows*11/10, func(t behaviour.Transaction) {
		if genErr != nil || t.Outcome == behaviour.Pending || written+len(batch) >= o.StoreRows {
			return
		}
		t.Account = accounts[uint64(t.Account)%pool]
		t.At = t.At.Truncate(time.Microsecond)
		if first.IsZero() {
			first = t.At
		}
		last = t.At
		want.Add(t)
		batch = append(batch, t)
		if len(batch) == 5000 {
			genErr = flush()
			if written%200_000 == 0 {
				logf("analytics: %s of %s rows written", human(float64(written)), human(float64(o.StoreRows)))
			}
		}
	})
	if genErr == nil && len(batch) > 0 {
		genErr = flush()
	}
	if genErr != nil {
		return Figure{}, genErr
	}
	logf("analytics: %s transactions written to %s in %.1f s", human(float64(written)), e.Engine, time.Since(began).Seconds())
	w := governance.Window{From: first, To: last.Add(time.Second)}
	var scans, reports []float64
	for run := 1; run <= o.Runs; run++ {
		began := time.Now()
		n := 0
		if err := e.App.GovernanceStore.Transactions(ctx, w.From, w.To, "", func(behaviour.Transaction) error { n++; return nil }); err != nil {
			return Figure{}, err
		}
		scans = append(scans, time.Since(began).Seconds())
		began = time.Now()
		r, err := e.App.Governance.Report(ctx, w)
		if err != nil {
			return Figure{}, err
		}
		reports = append(reports, time.Since(began).Seconds())
		if n != written || !sameReport(r, want.Report()) {
			return Figure{}, fmt.Errorf("the report read from %s differs from the one computed in memory (%d rows scanned of %d)", e.Engine, n, written)
		}
		logf("analytics run %d: %s scan %.2f s, report %.2f s", run, e.Engine, scans[run-1], reports[run-1])
	}
	scale := 10e6 / float64(written)
	f := Figure{
		Name:  fmt.Sprintf("G4 report read from %s, %s rows (s, projected to 10 M)", e.Engine, human(float64(written))),
		Value: Median(reports) * scale, Unit: "s", Runs: o.Runs,
		Target: fmt.Sprintf("≤ %.0f s for 10 M", TargetAnalytics),
		Note:   "identical to the in-memory report of the same rows; " + runsOf(reports) + " s per run",
	}
	f.Met = f.Value <= TargetAnalytics
	f.compare("bare scan of the same rows", Median(scans)*scale)
	return f, nil
}

// storedOrder is a one-ticket order recording a synthetic transaction.
func storedOrder(t behaviour.Transaction) *booking.Order {
	status := map[behaviour.Outcome]booking.OrderStatus{behaviour.Paid: booking.Refunded, behaviour.Cancelled: booking.Cancelled, behaviour.Expired: booking.Expired}[t.Outcome]
	docType, docNumber, ok := strings.Cut(t.Passenger, ":")
	if !ok {
		docType, docNumber = "id_card", t.Passenger
	}
	k := booking.TrainKey{ServiceID: t.Train, Date: t.Date}
	return &booking.Order{
		AccountID: t.Account, Status: status, Train: k, TotalFen: 100, CreatedAt: t.At, HoldExpiresAt: t.At.Add(30 * time.Minute),
		Tickets: []booking.Ticket{{
			Train: k, Number: "X", FromSeq: 0, ToSeq: 1, FromStationID: "s:a", ToStationID: "s:b",
			Departure: t.Date.In(governance.Shanghai), Arrival: t.Date.In(governance.Shanghai).Add(time.Hour),
			Car: 1, Seat: "1", SeatClass: network.HardSleeper, Berth: network.Lower,
			PassengerName: "乘客", DocType: docType, DocNumber: docNumber, FareFen: 100, Status: status,
		}},
	}
}

// sameReport compares two reports, times as instants.
func sameReport(a, b behaviour.Report) bool {
	for _, r := range []*behaviour.Report{&a, &b} {
		r.Totals.FirstAt, r.Totals.LastAt = r.Totals.FirstAt.UTC(), r.Totals.LastAt.UTC()
	}
	return reflect.DeepEqual(a, b)
}
