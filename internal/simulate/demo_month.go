package simulate

import (
	"context"
	"fmt"
	"time"

	"piao/internal/demo"
	"piao/internal/fault"
	"piao/internal/governance"
	"piao/internal/network"
)

// The demo's month of booking behaviour: how many passengers and which
// seed. 150 passengers of the default mix give every chart of the
// behaviour report data and every list members, in a few seconds on two
// cores.
const (
	DemoMonthPassengers = 150
	DemoMonthSeed       = 4
)

// DemoMonth is what SeedDemoMonth did.
type DemoMonth struct {
	// From is the first simulated day; the month ends at midnight of the
	// seeding day, Days later.
	From network.Date
	Days int
	// Result is what the passengers did; nil when the month was seeded
	// already.
	Result *Result
	// Members counts the list memberships in force at the end.
	Members map[governance.List]int
	// Malicious is the subject the demo reviewer put on the
	// suspected-malicious list by hand.
	Malicious string
}

// SeedDemoMonth gives the demo a month of booking behaviour to analyse
// (SPEC G4, the console's behaviour report and lists): DemoMonthPassengers
// simulated passengers of the default mix — genuine travellers, berth
// seekers, train switchers and scalpers — book, cancel and pay on the
// demo's Z66 and T168 through the real booking service over st, with the
// default governance rules, on a simulated clock running the
// demo.PastDays days before now's day and ending at its midnight. They
// book only trains of those days, which Seed stores, so today and the days
// after are left whole for the tour, and the report's default window (the
// last 30 days) holds the whole month. The list rules are applied at each
// simulated midnight, as serve does every hour.
//
// The default cancel limits keep the suspected-malicious rule from ever
// firing (docs/GOVERNANCE.md), so the demo reviewer then lists by hand the
// document that cancelled most, as an operator reading the report would.
//
// It does nothing when the month's first account exists. Nothing else may
// book on st while it runs: call it before the server starts.
func SeedDemoMonth(ctx context.Context, st Stores, now time.Time) (DemoMonth, error) {
	today := network.DateOf(now.In(governance.Shanghai))
	out := DemoMonth{From: today.AddDays(-demo.PastDays), Days: demo.PastDays}
	if _, err := st.Identity.AccountByLogin(ctx, accountName(0, 0)); err == nil || !fault.Is(err, fault.NotFound) {
		return out, err
	}
	reviewer, err := st.Identity.AccountByLogin(ctx, "reviewer")
	if err != nil {
		return out, fmt.Errorf("demo month: the demo reviewer: %w", err)
	}
	d, err := NewInProcess(ctx, InProcessOptions{Stores: &st, Start: out.From, Days: out.Days, Governance: true, ListsEvery: 24 * time.Hour})
	if err != nil {
		return out, err
	}
	defer d.Close()
	res, err := Run(ctx, Config{Seed: DemoMonthSeed, Days: out.Days, Passengers: DemoMonthPassengers}, d)
	if err != nil {
		return out, fmt.Errorf("demo month: %w", err)
	}
	out.Result = res
	// Holds still running at midnight end when they would have.
	if now.After(d.Now()) {
		if err := d.Advance(ctx, now); err != nil {
			return out, err
		}
	}
	var top Agent
	for _, a := range res.Agents {
		if a.Cancels > top.Cancels {
			top = a
		}
	}
	if top.Cancels > 0 {
		reason := fmt.Sprintf("演示：人工复核，近一月取消 %d 次，疑似倒票 Demo: reviewed by hand, %d cancels in a month, suspected scalping", top.Cancels, top.Cancels)
		if _, err := d.Governance().Add(ctx, governance.Malicious, top.Document, reason, 30, governance.Actor(reviewer.ID, reviewer.Username)); err != nil {
			return out, fmt.Errorf("demo month: list by hand: %w", err)
		}
		out.Malicious = top.Document
	}
	members, _, err := d.ListMembers(ctx)
	if err != nil {
		return out, err
	}
	out.Members = map[governance.List]int{}
	for _, m := range members {
		out.Members[m.List]++
	}
	return out, nil
}
