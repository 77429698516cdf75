package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"piao/internal/ridemore"
)

type ridemoreCmd struct {
	Issue ridemoreIssueCmd `cmd:"" help:"Issue a month's ride-more-save-more rewards (多乘多惠) under a ningbo_count rule, once per reward ticket however often it runs."`
}

type ridemoreIssueCmd struct {
	Rule  string `name:"rule" required:"" type:"existingfile" help:"The rule as JSON (docs/RIDEMORE.md §1): kind ningbo_count, its campaign and tiers."`
	Month string `name:"month" required:"" help:"The month whose rides are counted (YYYY-MM); run it on the first days of the next month, within the rule's issue_days."`
	Feed  string `name:"feed" default:"nbmetro" help:"The metro network whose trips are counted."`
	JSON  bool   `name:"json" help:"Print the report as JSON."`
}

func (cmd ridemoreIssueCmd) Run(ctx context.Context, c *cli) error {
	b, err := os.ReadFile(cmd.Rule)
	if err != nil {
		return err
	}
	var rule ridemore.Rule
	if err := json.Unmarshal(b, &rule); err != nil {
		return fmt.Errorf("%s: %w", cmd.Rule, err)
	}
	month, err := ridemore.ParseMonth(cmd.Month)
	if err != nil {
		return err
	}
	a, err := c.open(ctx)
	if err != nil {
		return err
	}
	defer a.Close()
	start := time.Now()
	rep, err := ridemore.IssueMonthly(ctx, a.Metro, a.Benefits, rule, ridemore.IssueOptions{
		Feed: cmd.Feed, Month: month,
		Progress: func(n int) { fmt.Fprintf(os.Stderr, "ridemore: %d accounts counted\n", n) },
	}, a.Now())
	if err != nil {
		return err
	}
	if cmd.JSON {
		return json.NewEncoder(os.Stdout).Encode(rep)
	}
	fmt.Printf("rule %s, month %s, issued on %s, in %s\n", rep.RuleID, rep.Month, rep.IssuedOn, time.Since(start).Round(time.Millisecond))
	fmt.Printf("  %d settled trips of %d accounts; %d rewards of %d tickets\n", rep.Rides, rep.Accounts, rep.Rewards, rep.Tickets)
	fmt.Printf("  issued now %d, issued before %d, refused %d\n", rep.Issued, rep.Again, rep.Refused)
	for _, r := range rep.Refusals {
		fmt.Printf("  refused %s (account %d): %s — %s\n", r.Key, r.Account, r.Reason, r.Detail)
	}
	return nil
}
