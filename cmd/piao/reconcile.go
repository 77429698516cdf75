package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"piao/internal/audit"
	"piao/internal/payment"
	"piao/internal/reconcile"
)

// reconcileCmd is `piao reconcile`: one day's three-way reconciliation.
type reconcileCmd struct {
	Date      string `name:"date" required:"" placeholder:"YYYY-MM-DD" help:"The day to reconcile (Asia/Shanghai)."`
	Statement string `name:"statement" placeholder:"FILE" type:"existingfile" help:"The channel's statement of the day (CSV bill); default: the sandbox gateway's, from the database."`
	JSON      bool   `name:"json" help:"Print the run as JSON."`
	Lang      string `name:"lang" default:"en" enum:"en,zh" help:"Language of the differences (${enum})."`
}

// Run reconciles the day, stores the run, posts the day's channel fees once
// and prints the summary and every difference; it fails (exit status 1)
// when there is any difference.
func (cmd reconcileCmd) Run(ctx context.Context, c *cli) error {
	var lines []payment.StatementLine
	if cmd.Statement != "" {
		f, err := os.Open(cmd.Statement)
		if err != nil {
			return err
		}
		lines, err = payment.ParseStatement(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", cmd.Statement, err)
		}
		if lines == nil {
			lines = []payment.StatementLine{} // a file of no line is a statement, not "ask the gateway"
		}
	}
	a, err := c.open(ctx)
	if err != nil {
		return err
	}
	defer a.Close()
	ctx = audit.WithActor(ctx, audit.Actor{Username: "piao reconcile", Role: "cli"})
	run, err := a.Reconciliation().Reconcile(ctx, cmd.Date, lines, "cli")
	if err != nil {
		return err
	}
	if cmd.JSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(run); err != nil {
			return err
		}
	} else {
		printRun(run, cmd.Lang)
	}
	if !run.Clean() {
		return fmt.Errorf("reconciliation %d of %s: %d differences", run.ID, run.Day, run.DifferenceCount)
	}
	return nil
}

// printRun writes a run's summary and differences.
func printRun(run reconcile.Run, lang string) {
	s := run.Statement
	fmt.Printf("reconciliation %d of %s (statement from %s)\n", run.ID, run.Day, run.Source)
	fmt.Printf("statement: %d payments %s, %d refunds %s, fees %s yuan\n", s.Payments, payment.Yuan(s.PaymentFen), s.Refunds, payment.Yuan(s.RefundFen), payment.Yuan(s.FeeFen))
	fmt.Printf("records: statement %d, piao %d, ledger %d; matched %d\n",
		run.Records[reconcile.Statement], run.Records[reconcile.Orders], run.Records[reconcile.Ledger], run.Matched)
	if run.FeeEntry != 0 {
		fmt.Printf("fees posted: ledger entry %d (%s)\n", run.FeeEntry, reconcile.FeeKey(run.Day))
	} else if s.FeeFen != 0 {
		fmt.Println("fees not posted: they are posted by a run of a finished day with no difference")
	}
	fmt.Printf("%d differences\n", run.DifferenceCount)
	for _, d := range run.Differences {
		fmt.Printf("  - %s\n", d.Text(lang))
	}
}
