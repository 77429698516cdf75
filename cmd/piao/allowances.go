package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"piao/internal/employer"
)

type allowancesCmd struct {
	Issue allowancesIssueCmd `cmd:"" help:"Issue the month's travel allowance to every active, linked employee of every employer, once per employee and month however often (or however many at once) it runs."`
}

type allowancesIssueCmd struct {
	Month string `name:"month" help:"The month to issue (YYYY-MM, Asia/Shanghai); only the current month can be issued. Default: the current month."`
	JSON  bool   `name:"json" help:"Print each employer's outcome as JSON."`
}

func (cmd allowancesIssueCmd) Run(ctx context.Context, c *cli) error {
	a, err := c.open(ctx)
	if err != nil {
		return err
	}
	defer a.Close()
	m := employer.MonthOf(a.Now())
	if cmd.Month != "" {
		if m, err = employer.ParseMonth(cmd.Month); err != nil {
			return err
		}
	}
	start := time.Now()
	ps, err := a.Employers.RunMonth(ctx, m, func(p employer.AllowanceProgress) {
		fmt.Fprintf(os.Stderr, "allowances: %s\n", p)
	})
	if err != nil {
		return err
	}
	if cmd.JSON {
		return json.NewEncoder(os.Stdout).Encode(ps)
	}
	fmt.Printf("allowances for %s: %d employers in %s\n", m, len(ps), time.Since(start).Round(time.Millisecond))
	for _, p := range ps {
		fmt.Printf("  %s\n", p)
	}
	return nil
}
