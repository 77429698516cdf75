package bench

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"runtime/pprof"
	"sync"
	"time"

	"piao/internal/booking"
	"piao/internal/demo"
	"piao/internal/network"
)

// QueryOptions configures the query benchmark.
type QueryOptions struct {
	// Database, a PostgreSQL server URL, adds figures measured on a fresh
	// database there; the embedded SQLite is always measured.
	Database    string
	Seconds     float64 // per measurement (default 5)
	Runs        int     // measurements whose median is reported (default 3)
	Concurrency int     // HTTP connections (default 64)
	// CPUProfile, if set, receives a CPU profile of the first SQLite run
	// of the HTTP query.
	CPUProfile io.Writer
	Log        io.Writer
}

// Query measures Q1: the remaining-ticket query over HTTP against the
// hello-world ceiling measured by the same load generator in the same run,
// and the in-memory availability query in process on every core. piao
// serves the demo network on a fresh database in this process.
func Query(ctx context.Context, o QueryOptions) ([]Figure, error) {
	if o.Seconds <= 0 {
		o.Seconds = 5
	}
	o.Runs = max(o.Runs, 1)
	if o.Concurrency <= 0 {
		o.Concurrency = 64
	}
	logf := logger(o.Log)
	d := time.Duration(o.Seconds * float64(time.Second))
	hello, err := StartHello()
	if err != nil {
		return nil, err
	}
	defer hello.Close()

	servers := []string{""}
	if IsPostgres(o.Database) {
		servers = append(servers, o.Database)
	}
	var figs []Figure
	var ceilings []float64
	var ceilingRes Result
	for _, server := range servers {
		e, err := openEnv(ctx, server)
		if err != nil {
			return nil, err
		}
		f, err := func() ([]Figure, error) {
			defer e.Close()
			today := shanghaiToday()
			if _, err := demo.Seed(ctx, e.App.Network, e.App.Identity, today); err != nil {
				return nil, err
			}
			if err := e.Serve(ctx); err != nil {
				return nil, err
			}
			date := today.AddDays(1)
			logf("query (%s): piao on %s, demo network, date %s", e.Engine, e.URL, date)
			inproc, err := availabilityFor(ctx, e, today, d, o.Runs, logf)
			if err != nil {
				return nil, err
			}
			remaining, err := remainingFor(ctx, e, date, d, o.Runs, logf)
			if err != nil {
				return nil, err
			}
			// HTTP: the ceiling and piao alternate, run by run.
			piaoURL := e.URL + "/api/v1/remaining?from=NCG&to=BXP&date=" + date.String()
			client := NewClient(o.Concurrency)
			warm := Load{Client: client, Concurrency: o.Concurrency, Duration: d / 5}
			for _, u := range []string{hello.URL, piaoURL} {
				warm.New = Get(u)
				if _, err := warm.Run(ctx); err != nil {
					return nil, err
				}
			}
			var rates, ceil []float64
			var last Result
			for run := 1; run <= o.Runs; run++ {
				l := Load{Client: client, Concurrency: o.Concurrency, Duration: d, New: Get(hello.URL)}
				h, err := l.Run(ctx)
				if err != nil {
					return nil, err
				}
				ceil, ceilings, ceilingRes = append(ceil, h.Rate()), append(ceilings, h.Rate()), h
				logf("query run %d/%d: hello-world %s", run, o.Runs, h)
				l.New = Get(piaoURL)
				profile := run == 1 && e.Engine == "sqlite" && o.CPUProfile != nil
				if profile {
					if err := pprof.StartCPUProfile(o.CPUProfile); err != nil {
						return nil, err
					}
				}
				r, err := l.Run(ctx)
				if profile {
					pprof.StopCPUProfile()
				}
				if err != nil {
					return nil, err
				}
				if r.OK == 0 {
					return nil, fmt.Errorf("GET %s: no request succeeded (%s)", piaoURL, r.ErrorSummary())
				}
				rates, last = append(rates, r.Rate()), r
				logf("query run %d/%d: piao %s GET /api/v1/remaining %s", run, o.Runs, e.Engine, r)
			}
			viaHTTP := Figure{Name: "query over HTTP: GET /remaining (" + e.Engine + ")", Value: Median(rates), Unit: "req/s", Runs: o.Runs}
			viaHTTP.compare("hello-world ceiling", Median(ceil))
			viaHTTP.Note = fmt.Sprintf("%s; NCG→BXP %s (2 trains); %d connections; last run p50 %s, p99 %s, errors %s; %.2f× 12306's 2013 query tier (10,000/s)",
				runsOf(rates), date, o.Concurrency, fmtLatency(last.P50), fmtLatency(last.P99), last.ErrorSummary(), viaHTTP.Value/AnchorQueries)
			in := Figure{Name: fmt.Sprintf("query in process: Availability (%s, %d threads)", e.Engine, runtime.GOMAXPROCS(0)), Value: Median(inproc), Unit: "queries/s", Runs: o.Runs}
			in.compare("12306 query tier 2013", AnchorQueries)
			in.Note = runsOf(inproc) + "; booking.Service.Availability on random demo train dates and journeys"
			rem := Figure{Name: fmt.Sprintf("query in process: Remaining (%s, %d threads)", e.Engine, runtime.GOMAXPROCS(0)), Value: Median(remaining), Unit: "queries/s", Runs: o.Runs}
			rem.compare("12306 query tier 2013", AnchorQueries)
			rem.Note = runsOf(remaining) + "; booking.Service.Remaining NCG→BXP, what the HTTP endpoint calls"
			if e.Engine == "sqlite" {
				viaHTTP.Target, viaHTTP.Met = "≥ 0.50 × ceiling", viaHTTP.Ratio >= TargetQueryRatio
				in.Target, in.Met = "≥ 1,000,000 queries/s", in.Value >= TargetQueryProcess
			}
			return []Figure{viaHTTP, in, rem}, nil
		}()
		if err != nil {
			return nil, err
		}
		figs = append(figs, f...)
	}
	ceiling := Figure{Name: "HTTP hello-world ceiling (net/http)", Value: Median(ceilings), Unit: "req/s", Runs: len(ceilings),
		Note: fmt.Sprintf("%s; %d connections; last run p50 %s, p99 %s", runsOf(ceilings), o.Concurrency, fmtLatency(ceilingRes.P50), fmtLatency(ceilingRes.P99))}
	return append([]Figure{ceiling}, figs...), nil
}

// availabilityFor measures booking.Service.Availability on every core:
// random demo train dates of the next week and random journeys on them.
func availabilityFor(ctx context.Context, e *env, today network.Date, d time.Duration, runs int, logf func(string, ...any)) ([]float64, error) {
	type trip struct {
		key      booking.TrainKey
		from, to int
	}
	var trips []trip
	for _, id := range []string{"cr:Z66", "cr:T168", "cr:G488"} {
		svc, err := e.App.Network.Service(ctx, id)
		if err != nil {
			return nil, err
		}
		for day := 1; day <= 7; day++ {
			k := booking.TrainKey{ServiceID: id, Date: today.AddDays(day)}
			for i := range svc.Stops {
				for j := i + 1; j < len(svc.Stops); j++ {
					trips = append(trips, trip{k, i, j})
				}
			}
		}
	}
	for _, t := range trips { // load every snapshot before timing
		if _, err := e.App.Booking.Availability(ctx, t.key, t.from, t.to); err != nil {
			return nil, err
		}
	}
	var rates []float64
	for run := 1; run <= runs; run++ {
		rate, err := parallel(ctx, d, func(rnd *rand.Rand) error {
			t := &trips[rnd.IntN(len(trips))]
			_, err := e.App.Booking.Availability(ctx, t.key, t.from, t.to)
			return err
		})
		if err != nil {
			return nil, err
		}
		rates = append(rates, rate)
		logf("query run %d/%d: in-process Availability %s/s", run, runs, human(rate))
	}
	return rates, nil
}

// remainingFor measures booking.Service.Remaining NCG→BXP on every core.
func remainingFor(ctx context.Context, e *env, date network.Date, d time.Duration, runs int, logf func(string, ...any)) ([]float64, error) {
	var rates []float64
	for run := 1; run <= runs; run++ {
		rate, err := parallel(ctx, d/2, func(*rand.Rand) error {
			_, err := e.App.Booking.Remaining(ctx, "NCG", "BXP", date)
			return err
		})
		if err != nil {
			return nil, err
		}
		rates = append(rates, rate)
		logf("query run %d/%d: in-process Remaining %s/s", run, runs, human(rate))
	}
	return rates, nil
}

// parallel calls fn on GOMAXPROCS goroutines for d and returns calls per second.
func parallel(ctx context.Context, d time.Duration, fn func(*rand.Rand) error) (float64, error) {
	n := runtime.GOMAXPROCS(0)
	counts := make([]int64, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(d)
	for g := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rnd := rand.New(rand.NewPCG(uint64(g), 99))
			for ctx.Err() == nil && time.Now().Before(deadline) {
				for range 256 {
					if err := fn(rnd); err != nil {
						errs[g] = err
						return
					}
				}
				counts[g] += 256
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	var total int64
	for g := range n {
		if errs[g] != nil {
			return 0, errs[g]
		}
		total += counts[g]
	}
	return float64(total) / elapsed.Seconds(), nil
}
