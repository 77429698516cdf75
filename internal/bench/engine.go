package bench

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"sync"
	"time"

	"piao/internal/seats"
)

// Anchors of SPEC section Q.
const (
	// AnchorEngine is a Java in-memory segment-seat exercise: about 10.5 M
	// mixed operations per second on 4 threads.
	AnchorEngine = 10.5e6
	// AnchorOrders is 12306's published order capacity in 2015: 1,032 tickets/s.
	AnchorOrders = 1032
	// AnchorQueries is 12306's GemFire query tier in 2013: over 10,000 queries/s.
	AnchorQueries = 10000
)

// Targets of SPEC section Q.
const (
	TargetEngine       = 5e6  // Q3: mixed ops/s
	TargetQueryProcess = 1e6  // Q1: in-process queries/s
	TargetQueryRatio   = 0.5  // Q1: HTTP queries against the hello-world ceiling
	TargetBookings     = 10e3 // Q2: durable tickets/s over HTTP, embedded store
)

// EngineOptions configures the engine benchmark.
type EngineOptions struct {
	Seconds float64 // per measurement (default 3)
	Runs    int     // measurements whose median is reported (default 3)
	Threads int     // goroutines of the parallel figure (default GOMAXPROCS)
	Log     io.Writer
}

// Engine measures Q3: the standard mix (seats.Mix: 60 % query, 30 % buy,
// 10 % refund) on T168-sized trains, one train per goroutine as the engine
// is per train and never shared, on every core and on one.
func Engine(ctx context.Context, o EngineOptions) ([]Figure, error) {
	if o.Seconds <= 0 {
		o.Seconds = 3
	}
	o.Runs = max(o.Runs, 1)
	if o.Threads <= 0 {
		o.Threads = runtime.GOMAXPROCS(0)
	}
	logf := logger(o.Log)
	d := time.Duration(o.Seconds * float64(time.Second))
	var par, one []float64
	var last seats.MixStats
	for run := 1; run <= o.Runs; run++ {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		rate, st, err := mixFor(ctx, o.Threads, d, uint64(run))
		if err != nil {
			return nil, err
		}
		par, last = append(par, rate), st
		logf("engine run %d/%d: %d threads %s ops/s", run, o.Runs, o.Threads, human(rate))
		rate, _, err = mixFor(ctx, 1, d, uint64(run)+1000)
		if err != nil {
			return nil, err
		}
		one = append(one, rate)
		logf("engine run %d/%d: 1 thread %s ops/s", run, o.Runs, human(rate))
	}
	p := Figure{Name: fmt.Sprintf("engine mixed ops (%d threads)", o.Threads), Value: Median(par), Unit: "ops/s",
		Target: "≥ 5,000,000 ops/s", Runs: o.Runs}
	p.compare("Java segment-seat, 4 threads", AnchorEngine)
	p.Met = p.Value >= TargetEngine
	p.Note = fmt.Sprintf("%s; T168-sized trains (1,092 seats, 9 stops), one per thread; last run %d queries, %d sold, %d refunds, %d sold out",
		runsOf(par), last.Queries, last.Allocated, last.Released, last.SoldOut)
	s := Figure{Name: "engine mixed ops (1 thread)", Value: Median(one), Unit: "ops/s", Runs: o.Runs}
	s.compare("Java segment-seat, 4 threads", AnchorEngine)
	s.Note = fmt.Sprintf("%s; %d threads scale %.2f× over one", runsOf(one), o.Threads, p.Value/max(s.Value, 1))
	return []Figure{p, s}, nil
}

// mixFor runs the mix on n trains, one goroutine each, for d after an
// untimed warm-up that brings each train to its steady state, and returns
// the operations per second of all of them together.
func mixFor(ctx context.Context, n int, d time.Duration, seed uint64) (float64, seats.MixStats, error) {
	mixes := make([]*seats.Mix, n)
	for i := range mixes {
		mixes[i] = seats.NewMix(seats.SampleT168(), rand.New(rand.NewPCG(seed, uint64(i)+1)))
		if err := mixes[i].Run(200_000); err != nil {
			return 0, seats.MixStats{}, err
		}
		mixes[i].Stats = seats.MixStats{}
	}
	var wg sync.WaitGroup
	errs := make([]error, n)
	start := time.Now()
	deadline := start.Add(d)
	for i, m := range mixes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil && time.Now().Before(deadline) {
				if err := m.Run(16_384); err != nil {
					errs[i] = err
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	var total seats.MixStats
	for i, m := range mixes {
		if errs[i] != nil {
			return 0, total, errs[i]
		}
		total.Ops += m.Stats.Ops
		total.Queries += m.Stats.Queries
		total.Allocated += m.Stats.Allocated
		total.SoldOut += m.Stats.SoldOut
		total.Released += m.Stats.Released
		total.Resets += m.Stats.Resets
	}
	return float64(total.Ops) / elapsed.Seconds(), total, nil
}

// logger returns a printf to w, or one doing nothing.
func logger(w io.Writer) func(format string, args ...any) {
	if w == nil {
		return func(string, ...any) {}
	}
	return func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
}
