package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"piao/internal/booking"
	"piao/internal/network"
)

type checkCmd struct {
	Inventory checkInventoryCmd `cmd:"" help:"Recompute seat inventories from held and paid tickets and compare with what is stored; exits non-zero on any problem."`
}

type checkInventoryCmd struct {
	Train string `name:"train" help:"Only this train: service ID (cr:T168) or train number (T168)."`
	Date  string `name:"date" help:"Only this service date (YYYY-MM-DD)."`
	JSON  bool   `name:"json" help:"Print the reports as JSON."`
}

func (cmd checkInventoryCmd) Run(ctx context.Context, c *cli) error {
	date := "" // normalised YYYY-MM-DD; empty: every date
	if cmd.Date != "" {
		d, err := network.ParseDate(cmd.Date)
		if err != nil {
			return err
		}
		date = d.String()
	}
	a, err := c.open(ctx)
	if err != nil {
		return err
	}
	defer a.Close()
	// Checks only read: the service is not Run, so nothing is committed.
	svc := booking.New(a.BookingStore, a.Network, booking.Config{})

	var services map[string]bool // nil: every train
	if cmd.Train != "" {
		services = map[string]bool{}
		if strings.Contains(cmd.Train, ":") {
			services[cmd.Train] = true
		} else {
			found, err := a.Network.ServicesByNumber(ctx, cmd.Train)
			if err != nil {
				return err
			}
			if len(found) == 0 {
				return fmt.Errorf("there is no train %s", cmd.Train)
			}
			for _, s := range found {
				services[s.ID] = true
			}
		}
	}
	all, err := a.BookingStore.TrainDates(ctx)
	if err != nil {
		return err
	}
	var keys []booking.TrainKey
	for _, k := range all {
		if services != nil && !services[k.ServiceID] {
			continue
		}
		if date != "" && k.Date.String() != date {
			continue
		}
		keys = append(keys, k)
	}

	reports := []booking.CheckReport{}
	bad := 0
	for _, k := range keys {
		r, err := svc.Check(ctx, k)
		if err != nil {
			return fmt.Errorf("check %s: %w", k, err)
		}
		if len(r.Problems) > 0 {
			bad++
		}
		reports = append(reports, r)
	}

	if cmd.JSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(reports); err != nil {
			return err
		}
	} else {
		for _, r := range reports {
			state := "ok"
			if n := len(r.Problems); n > 0 {
				state = fmt.Sprintf("%d problems", n)
			}
			fmt.Printf("%-28s seats %5d  active tickets %5d  %s\n", r.Train, r.Seats, r.Tickets, state)
			for _, p := range r.Problems {
				fmt.Printf("    - %s\n", p)
			}
		}
		if len(reports) == 0 {
			fmt.Println("no train date with an inventory matches: nothing sold yet")
		}
		fmt.Printf("checked %d train dates: %d with problems\n", len(reports), bad)
	}
	if bad > 0 {
		return fmt.Errorf("inventory check failed: %d of %d train dates have problems", bad, len(reports))
	}
	return nil
}
