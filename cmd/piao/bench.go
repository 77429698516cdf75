package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"

	"piao/internal/bench"
)

// benchCmd is `piao bench`: the performance figures of SPEC section Q,
// each against its anchor or a ceiling measured in the same run. It is a
// benchmark for a known machine, not a test.
type benchCmd struct {
	Engine    benchEngineCmd    `cmd:"" help:"Q3: in-memory seat engine, mixed ops/s (60 % query, 30 % buy, 10 % refund), one train per core."`
	Query     benchQueryCmd     `cmd:"" help:"Q1: remaining-ticket query over HTTP against the net/http hello-world ceiling, and in process."`
	Booking   benchBookingCmd   `cmd:"" help:"Q2: durable bookings over HTTP (hold committed, no oversell), SQLite and, with a postgres URL, PostgreSQL."`
	Analytics benchAnalyticsCmd `cmd:"" help:"G4: the cancellation report over 10 M transactions in memory, and read back from a database."`
	Claim     benchClaimCmd     `cmd:"" help:"Q5: flash claim over HTTP, 100,000 claimers for 10,000 tickets; exactly the stock issued, claims/s against the hello-world ceiling."`
	Settle    benchSettleCmd    `cmd:"" help:"Q4: settle a synthetic day of 13.75 M metro trips with benefits; trips/s with ledger posting against the raw insert of the same trips and against settlement without ledger posting, peak memory."`
}

type benchSettleCmd struct {
	benchOutput
	Trips      int    `name:"trips" default:"13750000" help:"Trips in the synthetic day (Beijing's record day: 13,750,000)."`
	Riders     int    `name:"riders" help:"Distinct riders (default: trips ÷ 2.1)."`
	Holders    int    `name:"holders" default:"100000" help:"Riders holding value-added tickets (stored as accounts)."`
	Batch      int    `name:"batch" default:"20000" help:"Trips settled per transaction."`
	Seed       uint64 `name:"seed" default:"1" help:"Seed of the synthetic day."`
	Postgres   string `name:"postgres" help:"PostgreSQL server URL: run on a fresh database created there instead of SQLite (default: --database if it is a postgres URL)."`
	CPUProfile string `name:"cpuprofile" type:"path" help:"Write a CPU profile of the settlement run to this file."`
}

func (cmd benchSettleCmd) Run(ctx context.Context, c *cli) error {
	pg, err := pgURL(cmd.Postgres, c)
	if err != nil {
		return err
	}
	quiet(c)
	o := bench.SettleOptions{Database: pg, Trips: cmd.Trips, Riders: cmd.Riders, Holders: cmd.Holders, Batch: cmd.Batch, Seed: cmd.Seed, Log: os.Stderr}
	prof, closeProf, err := profileFile(cmd.CPUProfile)
	if err != nil {
		return err
	}
	defer closeProf()
	o.CPUProfile = prof
	figs, err := bench.Settle(ctx, o)
	if err != nil {
		return err
	}
	return cmd.print(figs)
}

type benchClaimCmd struct {
	benchOutput
	Claimers    int    `name:"claimers" default:"100000" help:"Accounts racing, one claim each."`
	Stock       int    `name:"stock" default:"10000" help:"Tickets in the campaign."`
	Concurrency int    `name:"concurrency" short:"c" default:"256" help:"HTTP connections."`
	Postgres    string `name:"postgres" help:"PostgreSQL server URL: also measure on a fresh database created there (default: --database if it is a postgres URL)."`
	CPUProfile  string `name:"cpuprofile" type:"path" help:"Write a CPU profile of the first SQLite run's measured part to this file."`
}

func (cmd benchClaimCmd) Run(ctx context.Context, c *cli) error {
	pg, err := pgURL(cmd.Postgres, c)
	if err != nil {
		return err
	}
	quiet(c)
	o := bench.ClaimOptions{Database: pg, Claimers: cmd.Claimers, Stock: cmd.Stock, Runs: cmd.Runs, Concurrency: cmd.Concurrency, Log: os.Stderr}
	prof, closeProf, err := profileFile(cmd.CPUProfile)
	if err != nil {
		return err
	}
	defer closeProf()
	o.CPUProfile = prof
	figs, err := bench.Claim(ctx, o)
	if err != nil {
		return err
	}
	return cmd.print(figs)
}

type benchAnalyticsCmd struct {
	benchOutput
	Transactions int    `name:"transactions" default:"10000000" help:"Transactions analysed in memory."`
	StoreRows    int    `name:"store-rows" default:"1000000" help:"Transactions written to a fresh database and reported from it (0 skips)."`
	Postgres     string `name:"postgres" help:"PostgreSQL server URL: write the store rows to a fresh database there instead of SQLite (default: --database if it is a postgres URL)."`
}

func (cmd benchAnalyticsCmd) Run(ctx context.Context, c *cli) error {
	pg, err := pgURL(cmd.Postgres, c)
	if err != nil {
		return err
	}
	quiet(c)
	figs, err := bench.Analytics(ctx, bench.AnalyticsOptions{Transactions: cmd.Transactions, StoreRows: cmd.StoreRows, Database: pg, Runs: cmd.Runs, Log: os.Stderr})
	if err != nil {
		return err
	}
	return cmd.print(figs)
}

// benchOutput are the flags every bench command shares.
type benchOutput struct {
	JSON bool `name:"json" help:"Print one JSON object per figure per line instead of a table."`
	Runs int  `name:"runs" default:"3" help:"Measurements per figure; the median is reported."`
}

// print writes the figures as a table or JSON lines.
func (o benchOutput) print(figs []bench.Figure) error {
	if o.JSON {
		return bench.WriteJSON(os.Stdout, figs)
	}
	return bench.WriteTable(os.Stdout, figs)
}

// quiet keeps request logs off the terminal while measuring: they are
// still formatted at the configured level (their cost is part of serving),
// then discarded.
func quiet(c *cli) {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.LogLevel))
	slog.SetDefault(slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: level})))
}

type benchEngineCmd struct {
	benchOutput
	Seconds float64 `name:"seconds" default:"3" help:"Seconds per measurement."`
	Threads int     `name:"threads" help:"Goroutines of the parallel figure, one train each (default GOMAXPROCS)."`
}

func (cmd benchEngineCmd) Run(ctx context.Context) error {
	figs, err := bench.Engine(ctx, bench.EngineOptions{Seconds: cmd.Seconds, Runs: cmd.Runs, Threads: cmd.Threads, Log: os.Stderr})
	if err != nil {
		return err
	}
	return cmd.print(figs)
}

type benchQueryCmd struct {
	benchOutput
	Seconds     float64 `name:"seconds" default:"5" help:"Seconds per measurement."`
	Concurrency int     `name:"concurrency" short:"c" default:"64" help:"HTTP connections."`
	Postgres    string  `name:"postgres" help:"PostgreSQL server URL: also measure on a fresh database created there (default: --database if it is a postgres URL)."`
	CPUProfile  string  `name:"cpuprofile" type:"path" help:"Write a CPU profile of the first SQLite HTTP query run to this file."`
}

func (cmd benchQueryCmd) Run(ctx context.Context, c *cli) error {
	pg, err := pgURL(cmd.Postgres, c)
	if err != nil {
		return err
	}
	quiet(c)
	o := bench.QueryOptions{Database: pg, Seconds: cmd.Seconds, Runs: cmd.Runs, Concurrency: cmd.Concurrency, Log: os.Stderr}
	prof, closeProf, err := profileFile(cmd.CPUProfile)
	if err != nil {
		return err
	}
	defer closeProf()
	o.CPUProfile = prof
	figs, err := bench.Query(ctx, o)
	if err != nil {
		return err
	}
	return cmd.print(figs)
}

type benchBookingCmd struct {
	benchOutput
	Bookings    int    `name:"bookings" default:"20000" help:"Measured bookings per run (each by its own account)."`
	Concurrency int    `name:"concurrency" short:"c" default:"256" help:"HTTP connections."`
	Trains      int    `name:"trains" default:"20" help:"Trains of the benchmark network (1,000 seats, 5 stops each)."`
	Days        int    `name:"days" default:"5" help:"Days each train runs, from tomorrow."`
	Postgres    string `name:"postgres" help:"PostgreSQL server URL: also measure on a fresh database created there (default: --database if it is a postgres URL)."`
	CPUProfile  string `name:"cpuprofile" type:"path" help:"Write a CPU profile of the first SQLite run's measured part to this file."`
}

func (cmd benchBookingCmd) Run(ctx context.Context, c *cli) error {
	pg, err := pgURL(cmd.Postgres, c)
	if err != nil {
		return err
	}
	quiet(c)
	o := bench.BookingOptions{Database: pg, Bookings: cmd.Bookings, Runs: cmd.Runs, Concurrency: cmd.Concurrency,
		Trains: cmd.Trains, Days: cmd.Days, Log: os.Stderr}
	prof, closeProf, err := profileFile(cmd.CPUProfile)
	if err != nil {
		return err
	}
	defer closeProf()
	o.CPUProfile = prof
	figs, err := bench.Booking(ctx, o)
	if err != nil {
		return err
	}
	return cmd.print(figs)
}

// pgURL is the PostgreSQL server to measure on: --postgres, else
// --database (PIAO_DATABASE) when it names PostgreSQL, else none.
func pgURL(flag string, c *cli) (string, error) {
	if flag != "" {
		if !bench.IsPostgres(flag) {
			return "", fmt.Errorf("--postgres needs a postgres:// URL")
		}
		return flag, nil
	}
	if bench.IsPostgres(c.Database) {
		return c.Database, nil
	}
	return "", nil
}

// profileFile creates the file a benchmark writes its CPU profile to, or
// gives no writer when no path is set.
func profileFile(path string) (io.Writer, func(), error) {
	if path == "" {
		return nil, func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, nil, err
	}
	return f, func() { f.Close() }, nil
}
