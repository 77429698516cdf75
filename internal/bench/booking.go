package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"time"

	"piao/internal/booking"
	"piao/internal/identity"
	"piao/internal/network"
	"piao/internal/realname"
)

// BookingOptions configures the booking benchmark.
type BookingOptions struct {
	// Database, a PostgreSQL server URL, adds the same figure measured on a
	// fresh database there, beside the embedded SQLite one.
	Database    string
	Bookings    int // measured bookings per run (default 20,000)
	Runs        int // runs whose median is reported (default 3)
	Concurrency int // HTTP connections (default 256)
	Trains      int // trains of the benchmark network (default 20)
	Days        int // days each runs, from tomorrow (default 5)
	// CPUProfile, if set, receives a CPU profile of the measured part of
	// the first SQLite run.
	CPUProfile io.Writer
	Log        io.Writer
}

// Booking measures Q2: durable bookings over HTTP. Each run opens a fresh
// database with a benchmark network (Trains trains of 1,000 second-class
// seats and 5 stops, running Days days), creates one passenger account and
// token per booking (an account may hold one unpaid order), and then
// Concurrency connections POST /api/v1/orders, one passenger each, a random
// train date and journey. A 2xx answer means the hold is committed. After
// each run every train date is re-checked from the database: no seat leg
// sold twice, and as many active tickets as 2xx answers.
func Booking(ctx context.Context, o BookingOptions) ([]Figure, error) {
	if o.Bookings <= 0 {
		o.Bookings = 20_000
	}
	o.Runs = max(o.Runs, 1)
	if o.Concurrency <= 0 {
		o.Concurrency = 256
	}
	if o.Trains <= 0 {
		o.Trains = 20
	}
	if o.Days <= 0 {
		o.Days = 5
	}
	logf := logger(o.Log)
	hello, err := StartHello()
	if err != nil {
		return nil, err
	}
	defer hello.Close()
	helloClient := NewClient(o.Concurrency)
	servers := []string{""}
	if IsPostgres(o.Database) {
		servers = append(servers, o.Database)
	}
	var figs []Figure
	var ceilings []float64
	for _, server := range servers {
		var rates []float64
		var last bookingRun
		engine := "sqlite"
		for run := 1; run <= o.Runs; run++ {
			var prof io.Writer
			if run == 1 && server == "" {
				prof = o.CPUProfile
			}
			r, err := bookingOnce(ctx, server, o, prof, logf)
			if err != nil {
				return nil, err
			}
			// The ceiling right after, as many connections, warmed up.
			ceil, err := hello.Ceiling(ctx, helloClient, o.Concurrency)
			if err != nil {
				return nil, err
			}
			ceilings = append(ceilings, ceil)
			engine, last = r.engine, r
			rates = append(rates, r.res.Rate())
			logf("booking run %d/%d (%s): %s; check: %s; hello-world %s req/s", run, o.Runs, r.engine, r.res, r.check, human(ceil))
		}
		f := Figure{Name: "durable bookings over HTTP (" + engine + ")", Value: Median(rates), Unit: "tickets/s", Runs: o.Runs}
		f.compare("12306 2015 order capacity", AnchorOrders)
		if engine == "sqlite" {
			f.Target, f.Met = "≥ 10,000 tickets/s", f.Value >= TargetBookings
		}
		f.Note = fmt.Sprintf("%s; %d bookings a run on %d connections over %d train dates; last run p50 %s, p99 %s, errors %s; %s",
			runsOf(rates), o.Bookings, o.Concurrency, o.Trains*o.Days, fmtLatency(last.res.P50), fmtLatency(last.res.P99), last.res.ErrorSummary(), last.check)
		figs = append(figs, f)
	}
	ceiling := Figure{Name: "HTTP hello-world ceiling (net/http)", Value: Median(ceilings), Unit: "req/s", Runs: len(ceilings),
		Note: fmt.Sprintf("%s; %d connections, measured after each booking run", runsOf(ceilings), o.Concurrency)}
	for i := range figs {
		figs[i].Note += fmt.Sprintf("; %.3f× the hello-world ceiling", figs[i].Value/max(ceiling.Value, 1))
	}
	return append(figs, ceiling), nil
}

// bookingRun is one run's outcome.
type bookingRun struct {
	engine string
	res    Result
	check  string
}

// benchFeed is the feed of the benchmark network.
const benchFeed = "bench"

// benchStops are the stations every benchmark train calls at.
var benchStops = []string{"BA", "BB", "BC", "BD", "BE"}

// BenchNetwork returns the booking benchmark's network: trains B001… of
// ten 100-seat second-class cars calling at five stations an hour apart,
// leaving at 10:00 every day of days from start.
func BenchNetwork(start network.Date, trains, days int) *network.Bundle {
	b := &network.Bundle{
		Feed:      network.Feed{ID: benchFeed, Name: "benchmark", Mode: network.ModeRail, Timezone: "Asia/Shanghai", Digest: fmt.Sprintf("bench-%s-%d-%d", start, trains, days)},
		Agencies:  []network.Agency{{ID: "bench:A", FeedID: benchFeed, Name: "Benchmark Rail"}},
		Calendars: []network.Calendar{network.Daily("bench:daily", benchFeed, start, days)},
		CarTypes:  []network.CarType{network.SeatLayout("B100", network.SecondClass, "二等座", "Second", 20, "ABCDF")},
	}
	for _, code := range benchStops {
		b.Stations = append(b.Stations, network.Station{ID: "bench:" + code, FeedID: benchFeed, Code: code, NameZH: "测站" + code, NameEN: "Station " + code})
	}
	for t := 1; t <= trains; t++ {
		svc := network.Service{ID: fmt.Sprintf("bench:B%03d", t), FeedID: benchFeed, Number: fmt.Sprintf("B%03d", t), CalendarID: "bench:daily"}
		for i, code := range benchStops {
			secs := 10*3600 + i*3600
			svc.Stops = append(svc.Stops, network.Stop{Seq: i + 1, StationID: "bench:" + code, Arrive: secs, Depart: secs + 120, Metres: i * 100_000})
		}
		for c := 1; c <= 10; c++ {
			svc.Cars = append(svc.Cars, network.Car{No: c, CarType: "B100"})
		}
		b.Services = append(b.Services, svc)
		for i := range svc.Stops {
			for j := i + 1; j < len(svc.Stops); j++ {
				b.Fares = append(b.Fares, network.Fare{ServiceID: svc.ID, FromStationID: svc.Stops[i].StationID, ToStationID: svc.Stops[j].StationID, SeatClass: network.SecondClass, Fen: int64(1000 * (j - i))})
			}
		}
	}
	return b
}

// bookingOnce runs one measurement on a fresh database.
func bookingOnce(ctx context.Context, server string, o BookingOptions, prof io.Writer, logf func(string, ...any)) (bookingRun, error) {
	e, err := openEnv(ctx, server)
	if err != nil {
		return bookingRun{}, err
	}
	defer e.Close()
	out := bookingRun{engine: e.Engine}
	start := shanghaiToday().AddDays(1)
	if _, err := e.App.Network.ImportBundle(ctx, BenchNetwork(start, o.Trains, o.Days)); err != nil {
		return out, err
	}
	// One warm-up booking per train date first creates its inventory (a
	// one-time insert of its seats), then the measured bookings.
	warm := o.Trains * o.Days
	t0 := time.Now()
	tokens, err := issueTokens(ctx, e.App.Identity, warm+o.Bookings)
	if err != nil {
		return out, err
	}
	logf("booking (%s): %d accounts and tokens in %s", e.Engine, len(tokens), time.Since(t0).Round(time.Millisecond))
	bodies := make([][]byte, len(tokens))
	rnd := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	for i := range bodies {
		train, day := rnd.IntN(o.Trains), rnd.IntN(o.Days)
		if i < warm {
			train, day = i%o.Trains, i/o.Trains
		}
		from := rnd.IntN(len(benchStops) - 1)
		to := from + 1 + rnd.IntN(len(benchStops)-1-from)
		bodies[i], err = json.Marshal(booking.BookRequest{
			Train: fmt.Sprintf("bench:B%03d", train+1), Date: start.AddDays(day).String(),
			From: benchStops[from], To: benchStops[to],
			Passengers: []booking.PassengerRequest{benchPassenger(i)},
		})
		if err != nil {
			return out, err
		}
	}
	if err := e.Serve(ctx); err != nil {
		return out, err
	}
	post := func(offset int) func(int, int64) (*http.Request, error) {
		return func(_ int, seq int64) (*http.Request, error) {
			i := offset + int(seq)
			req, err := http.NewRequest(http.MethodPost, e.URL+"/api/v1/orders", bytes.NewReader(bodies[i]))
			if err != nil {
				return nil, err
			}
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+tokens[i])
			return req, nil
		}
	}
	client := NewClient(o.Concurrency)
	w, err := Load{Client: client, Concurrency: min(o.Concurrency, warm), Requests: int64(warm), New: post(0)}.Run(ctx)
	if err != nil {
		return out, err
	}
	if w.OK != int64(warm) {
		return out, fmt.Errorf("warm-up bookings: %s", w)
	}
	if prof != nil {
		if err := pprof.StartCPUProfile(prof); err != nil {
			return out, err
		}
	}
	out.res, err = Load{Client: client, Concurrency: o.Concurrency, Requests: int64(o.Bookings), New: post(warm)}.Run(ctx)
	if prof != nil {
		pprof.StopCPUProfile()
	}
	if err != nil {
		return out, err
	}
	reps, err := e.App.Booking.CheckAll(ctx)
	if err != nil {
		return out, err
	}
	tickets, problems := 0, 0
	for _, r := range reps {
		tickets += r.Tickets
		problems += len(r.Problems)
		for _, p := range r.Problems {
			logf("booking check %s: %s", r.Train, p)
		}
	}
	want := int(w.OK + out.res.OK)
	out.check = fmt.Sprintf("CheckAll: %d train dates, %d active tickets in the database for %d acknowledged bookings, %d problems (no seat leg sold twice)", len(reps), tickets, want, problems)
	if problems > 0 || tickets != want {
		out.check = fmt.Sprintf("CheckAll FAILED: %d train dates, %d active tickets in the database for %d acknowledged bookings, %d problems", len(reps), tickets, want, problems)
		return out, fmt.Errorf("booking check (%s): %s", e.Engine, out.check)
	}
	return out, nil
}

// issueTokens creates n passenger accounts through the identity store (no
// password: hashing is not what is measured) and issues an API token for
// each, on several goroutines; it returns the tokens.
func issueTokens(ctx context.Context, ids *identity.Service, n int) ([]string, error) {
	tokens := make([]string, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make([]error, 8)
	stamp := time.Now().UnixNano()
	for g := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				a, err := ids.Store.CreateAccount(ctx, identity.Account{
					Username: fmt.Sprintf("bench%07d-%x", i, stamp), DisplayName: "bench", Role: identity.Passenger,
					PasswordHash: "-", CreatedAt: time.Now(),
				})
				if err == nil {
					tokens[i], err = ids.Issue(ctx, a.ID, identity.APIToken)
				}
				if err != nil {
					errs[g] = err
					return
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return tokens, ctx.Err()
}

// benchPassenger is passenger i: a plausible name and a valid, distinct
// resident ID number.
func benchPassenger(i int) booking.PassengerRequest {
	family := []rune("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗")
	given := []rune("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂")
	name := string(family[i%len(family)]) + string(given[(i/len(family))%len(given)]) + string(given[(i/7)%len(given)])
	birth := time.Date(1950, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i/1000)
	return booking.PassengerRequest{Name: name, DocType: string(realname.IDCard), DocNumber: realname.MakeID("360102", birth, i%1000), SeatClass: network.SecondClass}
}
