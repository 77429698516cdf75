package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/pprof"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"piao/internal/behaviour"
	"piao/internal/governance"
	"piao/internal/network"
	"piao/internal/simulate"
)

// simulateCmd is `piao simulate` (SPEC G5): labelled booking traffic
// against the real booking service, then the governance lists scored
// against the labels and the cancellation report over the simulated month.
type simulateCmd struct {
	Seed       uint64        `name:"seed" default:"1" help:"Random seed. In process, the same seed, options and start date give the same traffic and outcome."`
	Days       int           `name:"days" default:"30" help:"Days to simulate."`
	Passengers int           `name:"passengers" default:"1000" help:"How many passengers to simulate (the volume); each has one travel document (a scalper several) and one or more booking accounts."`
	Trains     []string      `name:"trains" default:"Z66,T168" sep:"," help:"Trains the passengers book, from the demo network: Z66, T168 (Nanchang → Beijing West, sleepers), G488 (high-speed). Berth seekers want Z66 (else the first sleeper train); switchers give up T168 for Z66 (else another sleeper train)."`
	Mix        string        `name:"mix" default:"genuine=0.6,berth_seeker=0.2,switcher=0.1,scalper=0.1" help:"Share of each population, summing to 1: genuine (book and pay), berth_seeker (cancel until a lower berth, seed 004 passengers A and B), switcher (T168 given up for Z66, passenger C), scalper (many accounts and documents, holds seats, rarely pays)."`
	Start      string        `name:"start" placeholder:"YYYY-MM-DD" help:"First simulated day (default: today in Asia/Shanghai). In process only: over HTTP the server's today is day one."`
	Prefer     bool          `name:"prefer" help:"Berth seekers ask for a lower berth (SPEC R8, the paper's proposal 1) instead of any berth, and booking runs its default policy (lower berths first for passengers of 60 and over and for repeat berth cancellers); without it booking runs the baseline policy, picking berths as the paper found 12306 doing (in process). Compare runs with the same --seed."`
	Waitlist   bool          `name:"waitlist" help:"With --prefer: a berth seeker for whom no lower berth is left joins the waitlist (候补, SPEC R9) for one, prepaid, with a deadline a day before departure, and fishes for any berth only if it expires unserved."`
	Capacity   float64       `name:"capacity" default:"1" help:"Share of each demo train's cars that run, at least one car of each type (in process). Below 1 it models a peak-season day: the same traffic meets fewer berths, lower berths run out and the waitlist has work (try 0.05 with 4000 passengers)."`
	Data       string        `name:"data" type:"path" placeholder:"DIR" help:"Keep the simulation's fresh SQLite database in DIR (it must not hold one yet), to explore afterwards with piao --data-dir DIR report cancellations …; default: a temporary directory, removed at the end."`
	Hold       time.Duration `name:"hold" default:"30m" help:"How long booked seats stay held for payment (in process)."`
	Governance bool          `name:"governance" default:"true" negatable:"" help:"Enforce the daily cancel limits and the lists at booking (in process), with 12306's rules unless --rules gives others. --no-governance books without limits; the lists are still applied and scored at the end."`
	Rules      string        `name:"rules" type:"existingfile" placeholder:"FILE" help:"Governance rules as JSON (the form of GET /api/v1/governance/rules) to run with in process; fields left out keep their defaults."`
	ListsEvery time.Duration `name:"lists-every" default:"24h" help:"Apply the list rules every this much simulated time during the run, so lists act on bookings while it runs (in process; 0: only once at the end)."`
	URL        string        `name:"url" placeholder:"URL" help:"Drive a running piao server over its HTTP API instead of an in-process one (start it with piao serve --demo). The server keeps real time: simulated days collapse into the run's real time, holds end in server time, the run is not deterministic; keep the volume small."`
	Admin      string        `name:"admin" help:"Operator login that creates the passengers' accounts over HTTP (default: the demo admin)."`
	Password   string        `name:"password" help:"Password of --admin (default: the demo admin's)."`
	JSON       bool          `name:"json" help:"Print everything as one JSON object — result with labels and per-passenger figures, list scores, behaviour report — instead of tables."`
	CPUProfile string        `name:"cpuprofile" type:"path" placeholder:"FILE" help:"Write a CPU profile of the simulation run to FILE (go tool pprof), to see where its time goes."`
}

// simulateOutput is what --json prints.
type simulateOutput struct {
	Mode       string                 `json:"mode"` // in_process or http
	Governance bool                   `json:"governance"`
	Result     *simulate.Result       `json:"result"`
	Evaluation *governance.Evaluation `json:"evaluation,omitempty"`
	ListsAt    time.Time              `json:"lists_at,omitzero"`
	Scores     []simulate.ListScore   `json:"scores,omitempty"`
	Report     *behaviour.Report      `json:"report,omitempty"`
}

func (cmd simulateCmd) Run(ctx context.Context) error {
	mix, err := simulate.ParseMix(cmd.Mix)
	if err != nil {
		return err
	}
	// Keep routine logs (rules changed, refunds) off the progress bar.
	slog.SetDefault(slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	out := simulateOutput{Mode: "in_process", Governance: cmd.Governance}
	var d simulate.Driver
	if cmd.URL != "" {
		if cmd.Start != "" || cmd.Data != "" || cmd.Rules != "" || cmd.Capacity != 1 {
			return fmt.Errorf("--start, --data, --rules and --capacity apply in process only, not with --url")
		}
		h, err := simulate.NewHTTP(ctx, simulate.HTTPOptions{URL: cmd.URL, Admin: cmd.Admin, Password: cmd.Password})
		if err != nil {
			return err
		}
		d, out.Mode, out.Governance = h, "http", true
	} else {
		o := simulate.InProcessOptions{Dir: cmd.Data, Days: cmd.Days + simulate.MaxLead, Capacity: cmd.Capacity, Hold: cmd.Hold, Governance: cmd.Governance, ListsEvery: cmd.ListsEvery}
		if !cmd.Prefer {
			baseline := simulate.BaselinePolicy()
			o.Policy = &baseline
		}
		if cmd.Start != "" {
			if o.Start, err = network.ParseDate(cmd.Start); err != nil {
				return err
			}
		}
		if cmd.Rules != "" {
			b, err := os.ReadFile(cmd.Rules)
			if err != nil {
				return err
			}
			r, err := governance.ParseRules(string(b))
			if err != nil {
				return err
			}
			o.Rules = &r
		}
		fmt.Fprintln(os.Stderr, "preparing a fresh database with the demo trains…")
		p, err := simulate.NewInProcess(ctx, o)
		if err != nil {
			return err
		}
		d = p
	}
	defer d.Close()

	prog := newProgress()
	start, _ := d.Calendar()
	cfg := simulate.Config{
		Start: start, Seed: cmd.Seed, Days: cmd.Days, Trains: cmd.Trains, Passengers: cmd.Passengers, Mix: mix, Preference: cmd.Prefer, Waitlist: cmd.Waitlist,
		Progress: func(done, total int) { prog.set("simulated hours", int64(done), int64(total)) },
	}
	if cmd.CPUProfile != "" {
		f, err := os.Create(cmd.CPUProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
	}
	res, err := simulate.Run(ctx, cfg, d)
	if cmd.CPUProfile != "" {
		pprof.StopCPUProfile()
	}
	prog.finish()
	if err != nil {
		return err
	}
	out.Result = res

	// Governance: apply the list rules at the end of the simulated month,
	// score the lists against the labels, and run the cancellation report
	// (G4) over the month.
	if g, ok := d.(simulate.Governed); ok {
		ev, err := g.EvaluateLists(ctx)
		if err != nil {
			return fmt.Errorf("apply the list rules: %w", err)
		}
		members, at, err := g.ListMembers(ctx)
		if err != nil {
			return fmt.Errorf("read the lists: %w", err)
		}
		out.Evaluation, out.ListsAt = &ev, at
		out.Scores = simulate.Score(res.Labels, members, at)
		rep, err := g.Report(ctx, res.Start, res.Start.AddDays(res.Days-1))
		if err != nil {
			return fmt.Errorf("cancellation report: %w", err)
		}
		out.Report = &rep
	}

	if cmd.JSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	printSimulation(os.Stdout, out)
	if cmd.Data != "" {
		fmt.Printf("\nThe database is kept in %s: piao --data-dir %s report cancellations --from %s --to %s\n",
			cmd.Data, cmd.Data, res.Start, res.Start.AddDays(res.Days-1))
	}
	return nil
}

// printSimulation writes the summary tables.
func printSimulation(w io.Writer, o simulateOutput) {
	r := o.Result
	gov, mode := "governance on", "in process"
	switch {
	case o.Mode == "http":
		gov, mode = "the server's governance", "over HTTP"
	case !o.Governance:
		gov = "governance off"
	}
	fmt.Fprintf(w, "Simulated %d days from %s: %d passengers (%s), trains %s, seed %d, %s, %s — %d actions in %s\n\n",
		r.Days, r.Start, r.Passengers, r.Mix, strings.Join(r.Trains, ","), r.Seed, mode, gov, r.Events, r.Wall.Round(time.Millisecond))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "population\tpassengers\taccounts\tused\tbookings\ttickets\tcancels\texpiries\tpaid\tpending\trefusals\t")
	row := func(name string, s simulate.Stats) {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t\n", name, s.Passengers, s.Accounts, s.AccountsUsed,
			s.Bookings, s.Tickets, s.Cancels, s.Expiries, s.Payments, s.Pending, s.RefusalCount())
	}
	for _, l := range simulate.Labels {
		if _, ok := r.ByLabel[l]; !ok {
			continue
		}
		row(string(l), r.ByLabel[l])
		if l == simulate.BerthSeeker {
			row("  paid lower berth", r.ByKind[simulate.SeekerPaid])
			row("  gave up", r.ByKind[simulate.SeekerGaveUp])
		}
	}
	total := r.Total()
	row("total", total)
	tw.Flush()
	if len(total.Refusals) > 0 {
		var reasons []string
		for k := range total.Refusals {
			reasons = append(reasons, k)
		}
		slices.Sort(reasons)
		fmt.Fprint(w, "\nrefusals by reason:")
		for _, k := range reasons {
			fmt.Fprintf(w, " %s %d;", k, total.Refusals[k])
		}
		fmt.Fprintln(w)
	}
	seekers, heavy, scalpers, seekerCancels := 0, 0, 0, 0
	for _, a := range r.Agents {
		switch a.Label {
		case simulate.BerthSeeker:
			seekers++
			seekerCancels += a.Cancels
		case simulate.Scalper:
			scalpers++
			if a.Cancels > 100 {
				heavy++
			}
		}
	}
	if seekers > 0 {
		fmt.Fprintf(w, "berth seekers who paid for a lower berth: %d of %d (%.0f %%), %.1f cancels each on average\n",
			r.LowerBerths, seekers, 100*float64(r.LowerBerths)/float64(seekers), float64(seekerCancels)/float64(seekers))
	}
	if total.WaitJoined > 0 {
		fmt.Fprintf(w, "waitlist entries prepaid: %d, served %d (%.0f %%), not served by their deadline %d\n",
			total.WaitJoined, total.WaitFulfilled, 100*float64(total.WaitFulfilled)/float64(total.WaitJoined), total.WaitUnserved)
	}
	if total.HeldSeatMinutes > 0 {
		fmt.Fprintf(w, "seat-minutes locked by unpaid orders: %.0f (berth seekers %.0f)\n", total.HeldSeatMinutes, r.ByLabel[simulate.BerthSeeker].HeldSeatMinutes)
	}
	if scalpers > 0 {
		fmt.Fprintf(w, "scalpers with more than 100 manual cancels: %d of %d\n", heavy, scalpers)
	}

	if o.Scores != nil {
		ev := o.Evaluation
		fmt.Fprintf(w, "\nLists at %s (rules applied to %d transactions of %d subjects: added %v, renewed %v)\n",
			o.ListsAt.In(governance.Shanghai).Format("2006-01-02 15:04"), ev.Transactions, ev.Subjects, listCounts(ev.Added), listCounts(ev.Renewed))
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "list\tsubjects\ttargets\tmembers\thits\tof targets\tprecision\trecall\tmembers by kind")
		for _, s := range o.Scores {
			var targets []string
			for _, k := range s.Targets {
				targets = append(targets, string(k))
			}
			for _, sub := range []struct {
				name string
				sc   simulate.SubjectScore
			}{{"documents", s.Documents}, {"accounts", s.Accounts}} {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%5.1f %%\t%5.1f %%\t%s\n", s.List, sub.name, strings.Join(targets, "+"),
					sub.sc.Members, sub.sc.Hits, sub.sc.Targets, 100*sub.sc.Precision, 100*sub.sc.Recall, kindCounts(sub.sc.ByKind))
			}
		}
		tw.Flush()
	}
	if rep := o.Report; rep != nil {
		t := rep.Totals
		fmt.Fprintf(w, "\nCancellation report 取消行为分析 over the simulated days: %d transactions of %d passengers on %d accounts: %d paid, %d cancelled by hand, %d expired, %d pending\n",
			t.Transactions, t.Passengers, t.Accounts, t.Paid, t.Cancelled, t.Expired, t.Pending)
		writeReport(w, *rep)
	}
}

func listCounts(m map[governance.List]int) string {
	var parts []string
	for _, l := range governance.Lists {
		parts = append(parts, fmt.Sprintf("%s %d", l, m[l]))
	}
	return strings.Join(parts, ", ")
}

func kindCounts(m map[simulate.Kind]int) string {
	var parts []string
	for _, k := range append(slices.Clone(simulate.Kinds), simulate.Unlabelled) {
		if m[k] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
		}
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ", ")
}
