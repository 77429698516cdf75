package e2e_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"piao/internal/network"
	"piao/internal/store/postgres"
	"piao/internal/store/storetest"
)

// t168 is the demo train T168: nine stops NCG → BXP, ten hard-sleeper cars
// of 66 berths and two soft-sleeper cars of 36.
var (
	t168Stops    = []string{"NCG", "JJG", "MCN", "FYH", "SQF", "HIK", "UCK", "HSP", "BXP"}
	t168Capacity = map[string]int{"hard_sleeper": 660, "soft_sleeper": 72}
)

// TestTwoProcessesOnePostgres runs two `piao serve` processes on one
// PostgreSQL database and fires 2,000 concurrent bookings for one train
// date at them, half at each. Every booking must be held or refused as
// sold out; no seat leg may be sold twice; the stored inventory must match
// the tickets (`piao check inventory`), and both processes must then
// report the same remaining tickets.
func TestTwoProcessesOnePostgres(t *testing.T) {
	dbURL := storetest.FreshPostgresDatabase(t)
	keyFlag, keys := testKeys(t)
	global := append([]string{"--database", dbURL, "--data-dir", t.TempDir()}, keyFlag...) // the demo keeps its ride-code issuer key there
	if out, err := runPiao(t, append(global, "migrate")...); err != nil || !strings.Contains(out, "schema at version") {
		t.Fatalf("migrate: %v\n%s", err, out)
	}

	// Both processes start together; one seeds the demo network.
	a := startServeAsync(t, "A", global, "--demo", "--no-demo-month")
	b := startServeAsync(t, "B", global, "--sandbox-payments")
	a.waitReady()
	b.waitReady()

	db, err := postgres.Open(context.Background(), dbURL, keys)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	start := time.Now()
	const n = 2000
	accts := createAccounts(t, db.Identity(), "pg", n)
	t.Logf("%d accounts with tokens in %s", n, time.Since(start).Round(time.Millisecond))

	date := shanghaiToday(t).AddDays(1).String()
	reqs := make([]bookReq, n)
	for i := range reqs {
		r := rand.New(rand.NewPCG(uint64(i), 168))
		from, to := 0, len(t168Stops)-1 // half ride end to end: demand exceeds the 5,856 berth-legs
		if i%2 == 1 {
			from = r.IntN(len(t168Stops) - 1)
			to = from + 1 + r.IntN(len(t168Stops)-1-from)
		}
		class, berths := network.HardSleeper, []network.Berth{"", network.Lower, network.Middle, network.Upper}
		if r.IntN(5) == 0 {
			class, berths = network.SoftSleeper, []network.Berth{"", network.Lower, network.Upper}
		}
		reqs[i] = bookReq{Train: "T168", Date: date, From: t168Stops[from], To: t168Stops[to],
			Passengers: []passengerReq{passenger(i, class, berths[r.IntN(len(berths))])}}
	}

	clients := []*apiClient{newClient(64), newClient(64)}
	defer clients[0].close()
	defer clients[1].close()
	servers := []*server{a, b}
	type result struct {
		status int
		p      problem
		err    error
		order  order
	}
	results := make([]result, n)
	ready := make(chan struct{})
	var wg sync.WaitGroup
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-ready
			var out booked
			res := &results[i]
			res.status, res.p, res.err = clients[i%2].call(ctx, "POST", servers[i%2].base+"/api/v1/orders", accts[i].Token, reqs[i], &out)
			res.order = out.Order
		}()
	}
	start = time.Now()
	close(ready)
	wg.Wait()
	took := time.Since(start)

	var orders []order
	soldOut, unmet := 0, 0
	perProcess := [2]int{}
	legs := map[string][]int{} // class → tickets on each leg
	for c := range t168Capacity {
		legs[c] = make([]int, len(t168Stops)-1)
	}
	legsSold := 0
	for i, res := range results {
		switch {
		case res.err != nil:
			t.Errorf("booking %d via %s: no answer: %v", i, servers[i%2].name, res.err)
		case res.status == 200:
			o := res.order
			if o.Status != "held" || len(o.Tickets) != 1 || o.Train.ServiceID != "cr:T168" || o.Train.Date != date {
				t.Errorf("booking %d: unexpected order %+v", i, o)
				continue
			}
			tk := o.Tickets[0]
			if tk.From != indexOf(t168Stops, reqs[i].From) || tk.To != indexOf(t168Stops, reqs[i].To) || tk.SeatClass != reqs[i].Passengers[0].SeatClass {
				t.Errorf("booking %d: ticket %+v does not match request %+v", i, tk, reqs[i])
			}
			for l := tk.From; l < tk.To; l++ {
				legs[tk.SeatClass][l]++
			}
			legsSold += tk.To - tk.From
			orders = append(orders, o)
			perProcess[i%2]++
		case res.status == 409 && res.p.Reason == "sold_out":
			soldOut++
		case res.status == 409 && res.p.Reason == "preference_unmet" && reqs[i].Passengers[0].Berth != "":
			// The berth asked for is gone while others are left: the request
			// did not say to take any berth, so it is refused (R8).
			unmet++
		default:
			t.Errorf("booking %d via %s: %d %+v", i, servers[i%2].name, res.status, res.p)
		}
	}
	t.Logf("%d bookings in %s (%.0f/s): %d held (A %d, B %d), %d sold out, %d berth wanted not left; %d berth-legs sold of %d",
		n, took.Round(time.Millisecond), float64(n)/took.Seconds(), len(orders), perProcess[0], perProcess[1], soldOut, unmet, legsSold, 732*(len(t168Stops)-1))
	if len(orders) == 0 || soldOut == 0 {
		t.Fatalf("%d held, %d sold out: the rush should both sell and sell out", len(orders), soldOut)
	}
	if perProcess[0] == 0 || perProcess[1] == 0 {
		t.Errorf("one process sold nothing: %v", perProcess)
	}
	for class, perLeg := range legs {
		for l, c := range perLeg {
			if c > t168Capacity[class] {
				t.Errorf("%s leg %d: %d tickets on %d berths", class, l, c, t168Capacity[class])
			}
		}
	}
	if ov := overlaps(orders); len(ov) > 0 {
		t.Fatalf("%d seat legs sold twice, e.g. %s", len(ov), strings.Join(ov[:min(len(ov), 5)], "; "))
	}
	t.Logf("tickets per leg: hard %v, soft %v", legs["hard_sleeper"], legs["soft_sleeper"])

	// The stored inventory matches the tickets: the command line, on the
	// same database, while both servers run.
	reps := checkInventory(t, global...)
	found := false
	for _, r := range reps {
		if r.Train.ServiceID == "cr:T168" && r.Train.Date == date {
			found = true
			if r.Seats != 732 || r.Tickets != len(orders) {
				t.Errorf("check: %d seats, %d active tickets; want 732 and %d", r.Seats, r.Tickets, len(orders))
			}
		}
	}
	if !found {
		t.Errorf("check inventory reports no cr:T168@%s: %+v", date, reps)
	}
	if out, err := runPiao(t, append(global, "--log-level", "warn", "check", "inventory", "--train", "T168", "--date", date)...); err != nil || !strings.Contains(out, "0 with problems") {
		t.Errorf("check inventory --train T168 --date %s: %v\n%s", date, err, out)
	}

	// Both processes converge on the same remaining tickets, the ones the
	// sold tickets leave: on a journey, a berth is free only if no ticket
	// holds a leg of it within the journey.
	for _, j := range [][2]int{{0, 8}, {0, 1}, {7, 8}, {1, 3}, {2, 7}} {
		want := map[string]int{}
		for class, c := range t168Capacity {
			used := map[string]bool{}
			for _, o := range orders {
				if tk := o.Tickets[0]; tk.SeatClass == class && tk.From < j[1] && j[0] < tk.To {
					used[fmt.Sprint(tk.Car, "/", tk.Seat)] = true
				}
			}
			want[class] = c - len(used)
		}
		from, to := t168Stops[j[0]], t168Stops[j[1]]
		for i, s := range servers {
			var got map[string]int
			ok := waitFor(10*time.Second, 200*time.Millisecond, func() bool {
				got = remainingByClass(t, clients[i], s.base, from, to, date, "T168")
				return fmt.Sprint(got) == fmt.Sprint(want)
			})
			if !ok {
				t.Errorf("%s: remaining %s→%s on T168 %v, want %v", s.name, from, to, got, want)
			}
		}
		t.Logf("remaining %s→%s after the rush: %v (both processes)", from, to, want)
	}

	// Conflicting bookings sent to both processes at once: one wins, the
	// other is refused with the rule it breaks, never a server error.
	t.Run("conflicts", func(t *testing.T) {
		const trials = 50
		accts := createAccounts(t, db.Identity(), "pgc", 3*trials+2)
		other := shanghaiToday(t).AddDays(2).String()
		// The train dates exist before the races, so only the conflicts race.
		clients[0].mustCall(t, "POST", a.base+"/api/v1/orders", accts[0].Token, bookReq{Train: "Z66", Date: other, From: "NCG", To: "BXP", Passengers: []passengerReq{passenger(29000, network.HardSleeper, "")}}, nil)
		clients[0].mustCall(t, "POST", a.base+"/api/v1/orders", accts[1].Token, bookReq{Train: "G488", Date: other, From: "NXG", To: "BXP", Passengers: []passengerReq{passenger(29001, network.SecondClass, "")}}, nil)
		race := func(tokens [2]string, reqs [2]bookReq) [2]string {
			var out [2]string
			var wg sync.WaitGroup
			for j := range 2 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					status, p, err := clients[j].call(ctx, "POST", servers[j].base+"/api/v1/orders", tokens[j], reqs[j], nil)
					out[j] = fmt.Sprintf("%d %s", status, p.Reason)
					if err != nil {
						out[j] = "no answer: " + err.Error()
					}
				}()
			}
			wg.Wait()
			return out
		}
		tally := map[string]int{}
		var bad []string
		for k := range trials {
			// One document, two accounts, one train date.
			req := bookReq{Train: "Z66", Date: other, From: "NCG", To: "BXP", Passengers: []passengerReq{passenger(27000+k, network.HardSleeper, "")}}
			got := race([2]string{accts[2+3*k].Token, accts[3+3*k].Token}, [2]bookReq{req, req})
			if !(got[0] == "200 " && got[1] == "409 document_already_booked" || got[1] == "200 " && got[0] == "409 document_already_booked") {
				bad = append(bad, fmt.Sprintf("one document, two accounts: %q", got))
			}
			tally["same document: "+got[0]]++
			tally["same document: "+got[1]]++
			// One account, two trains.
			tok := accts[4+3*k].Token
			got = race([2]string{tok, tok}, [2]bookReq{
				{Train: "Z66", Date: other, From: "NCG", To: "BXP", Passengers: []passengerReq{passenger(28000+k, network.HardSleeper, "")}},
				{Train: "G488", Date: other, From: "NXG", To: "BXP", Passengers: []passengerReq{passenger(28500+k, network.SecondClass, "")}},
			})
			if !(got[0] == "200 " && got[1] == "409 unpaid_order_exists" || got[1] == "200 " && got[0] == "409 unpaid_order_exists") {
				bad = append(bad, fmt.Sprintf("one account, two trains: %q", got))
			}
			tally["same account: "+got[0]]++
			tally["same account: "+got[1]]++
		}
		t.Logf("answers to %d races of each kind: %v", trials, tally)
		if len(bad) > 0 {
			t.Errorf("%d of %d races answered other than one 200 and one 409 (document_already_booked, unpaid_order_exists), e.g. %s",
				len(bad), 2*trials, strings.Join(bad[:min(len(bad), 4)], "; "))
		}
		checkInventory(t, global...)
	})
}

func indexOf(ss []string, s string) int {
	for i, x := range ss {
		if x == s {
			return i
		}
	}
	return -1
}

// remainingByClass asks the remaining-ticket query and sums one train's
// remaining seats per class.
func remainingByClass(t *testing.T, c *apiClient, base, from, to, date, number string) map[string]int {
	t.Helper()
	offers := remaining(t, c, base, from, to, date)
	out := map[string]int{}
	for _, o := range offers {
		if o.Number == number {
			for _, s := range o.Seats {
				out[s.SeatClass] += s.Remaining
			}
		}
	}
	return out
}

type offer struct {
	ServiceID string `json:"service_id"`
	Number    string `json:"number"`
	Seats     []struct {
		SeatClass string `json:"seat_class"`
		Berth     string `json:"berth"`
		Remaining int    `json:"remaining"`
	} `json:"seats"`
}

func remaining(t *testing.T, c *apiClient, base, from, to, date string) []offer {
	t.Helper()
	var out struct {
		Offers []offer `json:"offers"`
	}
	c.mustCall(t, "GET", base+"/api/v1/remaining?from="+from+"&to="+to+"&date="+date, "", nil, &out)
	return out.Offers
}

// remainingSnapshot renders every count of the remaining-ticket query for
// several journeys and dates as comparable lines.
func remainingSnapshot(t *testing.T, c *apiClient, base string, journeys [][2]string, dates []string) string {
	t.Helper()
	var lines []string
	for _, d := range dates {
		for _, j := range journeys {
			for _, o := range remaining(t, c, base, j[0], j[1], d) {
				for _, s := range o.Seats {
					lines = append(lines, fmt.Sprintf("%s %s→%s %s %s/%s: %d", d, j[0], j[1], o.ServiceID, s.SeatClass, s.Berth, s.Remaining))
				}
			}
		}
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}
