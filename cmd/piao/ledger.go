package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"piao/internal/ledger"
)

// ledgerCmd is the double-entry ledger (SPEC B5) from the command line.
type ledgerCmd struct {
	Check   ledgerCheckCmd   `cmd:"" help:"Verify the journal: every entry balances, every balance equals the sum of its postings, every business event has its entry; print the trial balance and every problem. Exits non-zero on any problem or when debits do not equal credits."`
	Trial   ledgerTrialCmd   `cmd:"" help:"Print the trial balance: every account of the chart with its debits, credits and net."`
	Entries ledgerEntriesCmd `cmd:"" help:"Print journal entries with their postings, newest first."`
}

type ledgerCheckCmd struct {
	JSON bool `name:"json" help:"Print the report as JSON."`
}

func (cmd ledgerCheckCmd) Run(ctx context.Context, c *cli) error {
	a, err := c.open(ctx)
	if err != nil {
		return err
	}
	defer a.Close()
	rep, err := a.Ledger.Check(ctx)
	if err != nil {
		return err
	}
	if cmd.JSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		printTrial(os.Stdout, rep.Trial)
		if len(rep.Problems) == 0 {
			fmt.Println("no problems: every entry balances, every balance equals its postings, every business event has its entry")
		} else {
			fmt.Printf("%d problems:\n", len(rep.Problems))
			for _, p := range rep.Problems {
				fmt.Printf("  %-22s %-32s %s\n", p.Check, p.Subject, p.Detail)
			}
		}
	}
	switch {
	case len(rep.Problems) > 0:
		return fmt.Errorf("ledger check failed: %d problems", len(rep.Problems))
	case !rep.Balanced:
		return fmt.Errorf("ledger check failed: the trial balance does not balance (debits %d fen, credits %d fen)", rep.Trial.Debit, rep.Trial.Credit)
	}
	return nil
}

// printTrial writes the trial balance as a table, amounts in yuan.
func printTrial(w io.Writer, t ledger.Trial) {
	fmt.Fprintf(w, "%-6s %-34s %-9s %16s %16s %16s\n", "code", "account", "kind", "debit", "credit", "net")
	for _, l := range t.Lines {
		fmt.Fprintf(w, "%-6s %-34s %-9s %16s %16s %16s\n", l.Account.Code, l.Account.Name, l.Account.Kind, yuanText(l.Debit), yuanText(l.Credit), yuanText(l.Net))
	}
	verdict := "balanced"
	if !t.Balanced() {
		verdict = "NOT BALANCED: off by " + yuanText(t.Debit-t.Credit)
	}
	fmt.Fprintf(w, "%-6s %-34s %-9s %16s %16s %16s\n", "", "total", "", yuanText(t.Debit), yuanText(t.Credit), verdict)
}

// yuanText formats fen as yuan with two decimals, in integers.
func yuanText(fen int64) string {
	sign := ""
	if fen < 0 {
		sign, fen = "-", -fen
	}
	return fmt.Sprintf("%s%d.%02d", sign, fen/100, fen%100)
}

type ledgerTrialCmd struct {
	JSON bool `name:"json" help:"Print the trial balance as JSON."`
}

func (cmd ledgerTrialCmd) Run(ctx context.Context, c *cli) error {
	a, err := c.open(ctx)
	if err != nil {
		return err
	}
	defer a.Close()
	t, err := a.Ledger.Trial(ctx)
	if err != nil {
		return err
	}
	if cmd.JSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(t)
	}
	printTrial(os.Stdout, t)
	return nil
}

type ledgerEntriesCmd struct {
	Party   string `name:"party" help:"Only entries with a posting for this party (merchant:7, account:42)."`
	Account string `name:"account" help:"Only entries with a posting to this account (its code, e.g. 2203)."`
	Kind    string `name:"kind" help:"Only entries of this kind (purchase, refund, redemption, write_off, reversal, …)."`
	Ref     string `name:"ref" help:"Only entries about this business record (purchase:12)."`
	Limit   int    `name:"limit" default:"20" help:"At most this many entries (1–500)."`
	JSON    bool   `name:"json" help:"Print the entries as JSON."`
}

func (cmd ledgerEntriesCmd) Run(ctx context.Context, c *cli) error {
	if cmd.Limit < 1 || cmd.Limit > 500 {
		return fmt.Errorf("--limit must be 1–500")
	}
	a, err := c.open(ctx)
	if err != nil {
		return err
	}
	defer a.Close()
	p, err := a.Ledger.Entries(ctx, ledger.Filter{Party: cmd.Party, Account: ledger.Code(cmd.Account), Kind: cmd.Kind, Ref: cmd.Ref, Limit: cmd.Limit})
	if err != nil {
		return err
	}
	if cmd.JSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(p.Entries)
	}
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		return err
	}
	for _, e := range p.Entries {
		line := fmt.Sprintf("#%d %s %-10s %-24s %s", e.ID, e.At.In(shanghai).Format("2006-01-02 15:04:05"), e.Kind, e.Ref, e.Key)
		if e.Reverses != 0 {
			line += " reverses #" + strconv.FormatInt(e.Reverses, 10)
		}
		if e.Memo != "" {
			line += " — " + e.Memo
		}
		fmt.Println(line)
		for _, ps := range e.Postings {
			party := ""
			if ps.Party != "" {
				party = " " + ps.Party
			}
			dr, cr := "", ""
			if ps.Debit > 0 {
				dr = yuanText(ps.Debit)
			}
			if ps.Credit > 0 {
				cr = yuanText(ps.Credit)
			}
			fmt.Printf("    %-6s %-40s %14s %14s\n", ps.Account, accountLabel(ps.Account)+party, dr, cr)
		}
	}
	if len(p.Entries) == 0 {
		fmt.Println("no entries match")
	} else if p.NextBefore != 0 {
		fmt.Printf("(more: raise --limit, or narrow the filters)\n")
	}
	return nil
}

func accountLabel(c ledger.Code) string {
	if a, ok := ledger.Lookup(c); ok {
		return a.Name
	}
	return string(c)
}
