package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"piao/internal/behaviour"
	"piao/internal/governance"
	"piao/internal/network"
)

type reportCmd struct {
	Cancellations reportCancellationsCmd `cmd:"" help:"The booking-behaviour findings of seed 004 over a window: (1)–(6), Fig. 1 and accounts per passenger."`
}

type listsCmd struct {
	Evaluate listsEvaluateCmd `cmd:"" help:"Apply the restricted, priority and suspected-malicious list rules to the rolling window now."`
}

type reportCancellationsCmd struct {
	From   string `name:"from" help:"First day YYYY-MM-DD (Asia/Shanghai). Default: 29 days before --to."`
	To     string `name:"to" help:"Last day YYYY-MM-DD, inclusive. Default: today."`
	Train  string `name:"train" help:"Only this train: number (Z66) or service ID (cr:Z66). Default: the whole network."`
	Format string `name:"format" enum:"text,json,csv" default:"text" help:"Output: text, json or csv."`
	Output string `name:"output" short:"o" help:"Write to this file instead of standard output."`
}

func (cmd reportCancellationsCmd) Run(ctx context.Context, c *cli) error {
	to := network.DateOf(time.Now().In(governance.Shanghai))
	var err error
	if cmd.To != "" {
		if to, err = network.ParseDate(cmd.To); err != nil {
			return err
		}
	}
	from := to.AddDays(-29)
	if cmd.From != "" {
		if from, err = network.ParseDate(cmd.From); err != nil {
			return err
		}
	}
	a, err := c.open(ctx)
	if err != nil {
		return err
	}
	defer a.Close()
	train, err := governance.ResolveTrain(ctx, a.Network, cmd.Train)
	if err != nil {
		return err
	}
	started := time.Now()
	r, err := a.Governance.Report(ctx, governance.DatesWindow(from, to, train))
	if err != nil {
		return err
	}
	took := time.Since(started)
	var w io.Writer = os.Stdout
	if cmd.Output != "" {
		f, err := os.Create(cmd.Output)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	switch cmd.Format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	case "csv":
		return behaviour.WriteCSV(w, r)
	}
	scope := "whole network / 全网"
	if train != "" {
		scope = train
	}
	fmt.Fprintf(w, "Cancellation report 取消行为分析  %s … %s  %s\n", from, to, scope)
	t := r.Totals
	fmt.Fprintf(w, "%d transactions of %d passengers on %d accounts: %d paid, %d cancelled by hand, %d expired, %d pending (analysed in %s)\n\n",
		t.Transactions, t.Passengers, t.Accounts, t.Paid, t.Cancelled, t.Expired, t.Pending, took.Round(time.Millisecond))
	writeReport(w, r)
	return nil
}

// writeReport prints a behaviour report's findings, F2 and distributions.
func writeReport(w io.Writer, r behaviour.Report) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "finding\tshare\tof\tlabel")
	for _, s := range r.Shares() {
		fmt.Fprintf(tw, "%s\t%5.1f %%\t%d / %d %s\t%s / %s\n", s.Key, 100*s.Share, s.Numerator, s.Denominator, s.Of.EN, s.Label.ZH, s.Label.EN)
	}
	tw.Flush()
	cb := r.CancelsBefore
	fmt.Fprintf(w, "\n%s %s: success median %d, mean %.1f, p90 %d over %d episodes; gave up median %d, mean %.1f, p90 %d over %d episodes\n",
		cb.Key, cb.Label.EN, cb.Success.Median, cb.Success.Mean, cb.Success.P90, cb.Success.Episodes, cb.GaveUp.Median, cb.GaveUp.Mean, cb.GaveUp.P90, cb.GaveUp.Episodes)
	for _, d := range []behaviour.Distribution{r.PaidShare, r.Accounts} {
		fmt.Fprintf(w, "\n%s %s / %s (of %d %s)\n", d.Key, d.Label.ZH, d.Label.EN, d.Denominator, d.Of.EN)
		for _, b := range d.Buckets {
			fmt.Fprintf(w, "  %-10s %7d  %5.1f %%\n", b.Label.EN, b.Count, 100*b.Share)
		}
	}
}

type listsEvaluateCmd struct {
	JSON bool `name:"json" help:"Print the result as JSON."`
}

func (cmd listsEvaluateCmd) Run(ctx context.Context, c *cli) error {
	a, err := c.open(ctx)
	if err != nil {
		return err
	}
	defer a.Close()
	ev, err := a.Governance.Evaluate(ctx)
	if err != nil {
		return err
	}
	if cmd.JSON {
		return json.NewEncoder(os.Stdout).Encode(ev)
	}
	fmt.Printf("%d transactions of %d subjects from %s to %s (took %s)\n", ev.Transactions, ev.Subjects,
		ev.From.In(governance.Shanghai).Format(time.DateTime), ev.To.In(governance.Shanghai).Format(time.DateTime), ev.Took.Round(time.Millisecond))
	for _, l := range governance.Lists {
		fmt.Printf("  %-10s added %d, renewed %d, kept lifted %d\n", l, ev.Added[l], ev.Renewed[l], ev.KeptLifted[l])
	}
	return nil
}
