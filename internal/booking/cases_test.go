package booking_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"piao/internal/booking"
	"piao/internal/fault"
	"piao/internal/governance"
	"piao/internal/network"
	"piao/internal/store/storetest"
)

// The three passengers of seed 004, replayed against the real booking
// service. 12306 did not let passengers choose a berth: it assigned one.
// The replay books the berth the paper's logs show was assigned; the
// passenger cancels until it is the one they want.

// move is one booking attempt and what the passenger does with the seat.
type move struct {
	train string
	class network.SeatClass
	berth network.Berth
	then  string // "cancel", "expire" (let the hold run out) or "pay"
}

// passengerCase is a passenger's intent per booking day.
type passengerCase struct {
	name     string
	accounts int
	days     [][]move
}

// outcome is what happened in a replay.
type outcome struct {
	cancelsPerDay []int
	expiries      int
	paid          *booking.Ticket
	accountsUsed  map[int]bool
	fired         []string // "day N: rule (account k)"
	warned        []string
}

func hs(b network.Berth, then string) move {
	return move{train: "Z66", class: network.HardSleeper, berth: b, then: then}
}

var (
	// Passenger A (表1): 3 accounts, 12 manual cancels over 3 days, 1
	// automatic return, a lower berth paid on day 3.
	caseA = passengerCase{name: "A", accounts: 3, days: [][]move{
		{hs(network.Upper, "cancel"), hs(network.Middle, "cancel"), hs(network.Upper, "cancel"), hs(network.Middle, "cancel")},
		{hs(network.Upper, "cancel"), hs(network.Upper, "cancel"), hs(network.Middle, "cancel"), hs(network.Upper, "cancel"), hs(network.Middle, "cancel"), hs(network.Upper, "expire")},
		{hs(network.Middle, "cancel"), hs(network.Upper, "cancel"), hs(network.Upper, "cancel"), hs(network.Lower, "pay")},
	}}
	// Passenger B (表2): 4 accounts, 13 manual cancels over 2 days, never paid.
	caseB = passengerCase{name: "B", accounts: 4, days: [][]move{
		{hs(network.Upper, "cancel"), hs(network.Upper, "cancel"), hs(network.Middle, "cancel"), hs(network.Upper, "cancel"), hs(network.Upper, "cancel"), hs(network.Middle, "cancel"), hs(network.Upper, "cancel")},
		{hs(network.Upper, "cancel"), hs(network.Middle, "cancel"), hs(network.Upper, "cancel"), hs(network.Upper, "cancel"), hs(network.Upper, "cancel"), hs(network.Middle, "cancel")},
	}}
	// Passenger C (表3): gives up a T168 middle berth for a Z66 upper, then
	// the T168-class hard sleeper for a Z66 soft sleeper, and pays: arrival
	// time matters more than price or berth.
	caseC = passengerCase{name: "C", accounts: 1, days: [][]move{{
		{train: "T168", class: network.HardSleeper, berth: network.Middle, then: "cancel"},
		{train: "Z66", class: network.HardSleeper, berth: network.Upper, then: "cancel"},
		{train: "Z66", class: network.SoftSleeper, berth: network.Lower, then: "pay"},
	}}}
)

// replay plays a passenger's days. Like the paper's passengers it dodges an
// account's daily limit by moving on to its next account; when the
// passenger itself is banned it waits for the next day.
func replay(t *testing.T, pe *payEnv, c passengerCase, who int) outcome {
	t.Helper()
	ctx := context.Background()
	accts := pe.accounts(t, c.accounts)
	p := passenger(who, network.HardSleeper, "")
	travel := day0.AddDays(5)
	out := outcome{accountsUsed: map[int]bool{}, cancelsPerDay: make([]int, len(c.days))}
	cur := 0 // the account in use; the passenger keeps going where they stopped
	for d, moves := range c.days {
		pe.clock.Set(time.Date(2026, 11, 23+d, 8, 0, 0, 0, shanghai))
	day:
		for _, m := range moves {
			pe.clock.Advance(5 * time.Minute)
			var o booking.Order
			for tried := 1; ; tried++ {
				req := p
				req.SeatClass, req.Berth = m.class, m.berth
				res, err := pe.svc.Book(ctx, booking.BookRequest{AccountID: accts[cur], Train: m.train, Date: travel.String(), From: "NCG", To: "BXP", Passengers: []booking.PassengerRequest{req}})
				if err == nil {
					o = res.Order
					break
				}
				reason := fault.As(err).Reason
				out.fired = append(out.fired, fmt.Sprintf("day %d: %s (account %d)", d+1, reason, cur+1))
				t.Logf("%s day %d %s: account %d books %s %s/%s → refused: %s", c.name, d+1, pe.clock.Now().In(shanghai).Format("15:04"), cur+1, m.train, m.class, m.berth, fault.As(err).ZH)
				switch {
				case reason == "account_cancel_limit" && tried < len(accts):
					cur = (cur + 1) % len(accts) // the multi-account dodge
				case reason == "account_cancel_limit" || reason == "passenger_cancel_limit":
					break day // nothing left today
				default:
					t.Fatalf("%s: unexpected refusal: %v", c.name, err)
				}
			}
			out.accountsUsed[cur] = true
			for _, w := range o.Warnings {
				out.warned = append(out.warned, fmt.Sprintf("day %d: %s", d+1, w.Code))
			}
			t.Logf("%s day %d %s: account %d books %s %s/%s → order %d, then %s", c.name, d+1, pe.clock.Now().In(shanghai).Format("15:04"), cur+1, m.train, m.class, m.berth, o.ID, m.then)
			switch m.then {
			case "cancel":
				co, err := pe.svc.Cancel(ctx, o.ID, accts[cur])
				if err != nil {
					t.Fatal(err)
				}
				out.cancelsPerDay[d]++
				for _, w := range co.Warnings {
					out.warned = append(out.warned, fmt.Sprintf("day %d: %s", d+1, w.Code))
					t.Logf("%s day %d: warning: %s", c.name, d+1, w.ZH)
				}
			case "expire":
				pe.clock.Advance(31 * time.Minute)
				if _, err := pe.svc.ExpireDue(ctx); err != nil {
					t.Fatal(err)
				}
				out.expiries++
			case "pay":
				pid := pe.payment(t, o.ID, accts[cur])
				if _, err := pe.gw.Pay(ctx, pid); err != nil {
					t.Fatal(err)
				}
				pe.deliver(t)
				paid, err := pe.svc.Order(ctx, o.ID, accts[cur])
				if err != nil || paid.Status != booking.Paid {
					t.Fatalf("%s: payment: %v %v", c.name, paid.Status, err)
				}
				out.paid = &paid.Tickets[0]
				return out
			}
		}
	}
	return out
}

func caseEnv(t *testing.T, s storetest.Stores, rules governance.Rules) (*payEnv, *governance.Service) {
	var pe *payEnv
	gov := governance.NewService(s.Governance, governance.Config{Now: func() time.Time { return pe.clock.Now() }, CacheTTL: time.Nanosecond})
	if err := gov.SetRules(context.Background(), rules, "test", ""); err != nil {
		t.Fatal(err)
	}
	pe = newPayEnv(t, s, booking.Config{Governance: gov}, 0)
	return pe, gov
}

func sum(xs []int) int {
	n := 0
	for _, x := range xs {
		n += x
	}
	return n
}

// With only 12306's per-account limit, A and B get past it by switching
// accounts: the replay matches the paper's logs. The per-passenger limit
// (G2) stops the dodge at 3 cancels a day; C, who cancelled twice, is
// warned but not stopped.
func TestPaperCases(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		accountOnly := governance.DefaultRules()
		accountOnly.DocumentWarnAt, accountOnly.DocumentCancelLimit = 0, 0
		pe, gov := caseEnv(t, s, accountOnly)
		a := replay(t, pe, caseA, 1)
		if sum(a.cancelsPerDay) != 12 || a.expiries != 1 || len(a.accountsUsed) != 3 || a.paid == nil || a.paid.Berth != network.Lower {
			t.Fatalf("A with the account limit only: %+v", a)
		}
		if !slices.Contains(a.fired, "day 1: account_cancel_limit (account 1)") || a.cancelsPerDay[0] != 4 {
			t.Fatalf("A: the account limit should fire on day 1 after 3 cancels, yet the passenger cancels a 4th time with account 2: %+v", a)
		}
		b := replay(t, pe, caseB, 2)
		if sum(b.cancelsPerDay) != 13 || len(b.accountsUsed) != 4 || b.paid != nil {
			t.Fatalf("B with the account limit only: %+v", b)
		}
		c := replay(t, pe, caseC, 3)
		if c.paid == nil || c.paid.Number != "Z66" || c.paid.SeatClass != network.SoftSleeper || len(c.fired) != 0 {
			t.Fatalf("C: %+v", c)
		}
		// The list rules, run after B's second day: B cancelled all 13 and
		// never paid → restricted. A paid and C paid: on no list.
		pe.clock.Set(time.Date(2026, 11, 25, 23, 0, 0, 0, shanghai))
		if _, err := gov.Evaluate(context.Background()); err != nil {
			t.Fatal(err)
		}
		onList := func(i int) []governance.List {
			p := passenger(i, network.HardSleeper, "")
			ms, err := gov.Members(context.Background(), governance.MemberFilter{Subject: governance.DocumentSubject(p.DocType, p.DocNumber)})
			if err != nil {
				t.Fatal(err)
			}
			var ls []governance.List
			for _, m := range ms {
				ls = append(ls, m.List)
			}
			return ls
		}
		if got := onList(2); !slices.Equal(got, []governance.List{governance.Restricted}) {
			t.Fatalf("B's lists %v, want restricted", got)
		}
		if got := onList(1); len(got) != 0 {
			t.Fatalf("A's lists %v, want none", got)
		}
		if got := onList(3); len(got) != 0 {
			t.Fatalf("C's lists %v, want none", got)
		}

		// The same passengers under the per-passenger limit (defaults:
		// warn at 2, ban at 3 a day across accounts).
		pe2, _ := caseEnv(t, storetest.OpenSQLite(t), governance.DefaultRules())
		if s.Engine == "postgres" {
			pe2, _ = caseEnv(t, storetest.OpenPostgres(t), governance.DefaultRules())
		}
		a = replay(t, pe2, caseA, 1)
		if slices.Max(a.cancelsPerDay) > 3 || !slices.Contains(a.fired, "day 1: passenger_cancel_limit (account 2)") {
			t.Fatalf("A under G2: %+v", a)
		}
		b = replay(t, pe2, caseB, 2)
		if sum(b.cancelsPerDay) != 6 || !slices.Contains(b.fired, "day 1: passenger_cancel_limit (account 2)") || !slices.Contains(b.fired, "day 2: passenger_cancel_limit (account 3)") {
			t.Fatalf("B under G2: %+v", b)
		}
		c = replay(t, pe2, caseC, 3)
		if c.paid == nil || len(c.fired) != 0 || !slices.Contains(c.warned, "day 1: passenger_cancels") {
			t.Fatalf("C under G2 should be warned, not stopped: %+v", c)
		}
	})
}
