package behaviour

import (
	"math/rand/v2"
	"reflect"
	"runtime"
	"slices"
	"testing"
	"time"

	"pgregory.net/rapid"

	"piao/internal/network"
)

// numbers are the figures of a report, without its texts.
type numbers struct {
	Totals    Totals
	Shares    map[string][2]int64 // key → numerator, denominator
	Success   episodeNumbers
	GaveUp    episodeNumbers
	Open      int64
	PaidShare []int64
	Accounts  []int64
}

type episodeNumbers struct {
	N, Median, P90 int64
	Mean           float64
	Histogram      []int64 // 0..20, >20
}

func numbersOf(r Report) numbers {
	n := numbers{Totals: r.Totals, Shares: map[string][2]int64{}, Open: r.CancelsBefore.Open,
		Success: episodeNumbersOf(r.CancelsBefore.Success), GaveUp: episodeNumbersOf(r.CancelsBefore.GaveUp)}
	for _, s := range r.Shares() {
		n.Shares[s.Key] = [2]int64{s.Numerator, s.Denominator}
	}
	for _, b := range r.PaidShare.Buckets {
		n.PaidShare = append(n.PaidShare, b.Count)
	}
	for _, b := range r.Accounts.Buckets {
		n.Accounts = append(n.Accounts, b.Count)
	}
	return n
}

func episodeNumbersOf(e Episodes) episodeNumbers {
	n := episodeNumbers{N: e.Episodes, Median: e.Median, P90: e.P90, Mean: e.Mean}
	for _, b := range e.Histogram {
		n.Histogram = append(n.Histogram, b.Count)
	}
	return n
}

// reference computes the figures the slow and obvious way: each
// passenger's transactions sorted by At, each finding by its definition.
func reference(txs []Transaction) numbers {
	var r numbers
	byPassenger := map[string][]Transaction{}
	accounts := map[int64]bool{}
	for i, t := range txs {
		if t.Outcome > Expired {
			t.Outcome = Pending
		}
		byPassenger[t.Passenger] = append(byPassenger[t.Passenger], t)
		accounts[t.Account] = true
		if i == 0 || t.At.Before(r.Totals.FirstAt) {
			r.Totals.FirstAt = t.At
		}
		if i == 0 || t.At.After(r.Totals.LastAt) {
			r.Totals.LastAt = t.At
		}
	}
	r.Totals.Transactions = int64(len(txs))
	r.Totals.Passengers = int64(len(byPassenger))
	r.Totals.Accounts = int64(len(accounts))

	var cancellers, run, persistent, cancellerPaid, mostly, allCancelled, malicious, multi int64
	r.PaidShare = make([]int64, 11)
	r.Accounts = make([]int64, 5)
	var success, gaveUp []int64
	for _, h := range byPassenger {
		slices.SortStableFunc(h, func(x, y Transaction) int { return x.At.Compare(y.At) })
		n := map[Outcome]int64{}
		longest, current := 0, 0
		used := map[int64]bool{}
		byDate := map[string][]Transaction{} // in order of At
		for _, t := range h {
			n[t.Outcome]++
			switch t.Outcome {
			case Paid:
				current = 0
			case Cancelled:
				current++
				longest = max(longest, current)
			}
			used[t.Account] = true
			byDate[t.Date.String()] = append(byDate[t.Date.String()], t)
		}
		r.Totals.Paid += n[Paid]
		r.Totals.Cancelled += n[Cancelled]
		r.Totals.Expired += n[Expired]
		r.Totals.Pending += n[Pending]
		total := int64(len(h))
		if n[Cancelled] > 0 {
			cancellers++
			if longest >= 3 {
				run++
			}
			if n[Paid] > 0 {
				cancellerPaid++
			}
		}
		if n[Cancelled] > 20 && n[Paid] == 0 {
			persistent++
		}
		if float64(n[Cancelled]) >= 0.6*float64(total)-1e-9 {
			mostly++
		}
		if n[Cancelled] > 0 && n[Cancelled]+n[Expired] == total {
			allCancelled++
		}
		if n[Cancelled] > 100 {
			malicious++
		}
		paidPercent := 100 * float64(n[Paid]) / float64(total)
		switch {
		case n[Paid] == 0:
			r.PaidShare[0]++
		default:
			for b := 1; b <= 10; b++ {
				if paidPercent <= float64(10*b)+1e-9 {
					r.PaidShare[b]++
					break
				}
			}
		}
		r.Accounts[min(len(used), 5)-1]++
		if len(used) >= 2 {
			multi++
		}
		for _, ep := range byDate {
			var before, all int64
			paid, pending := false, false
			for _, t := range ep {
				switch t.Outcome {
				case Cancelled:
					all++
					if !paid {
						before++
					}
				case Paid:
					paid = true
				case Pending:
					pending = true
				}
			}
			switch {
			case all == 0:
			case paid:
				success = append(success, before)
			case pending:
				r.Open++
			default:
				gaveUp = append(gaveUp, all)
			}
		}
	}
	passengers := r.Totals.Passengers
	r.Shares = map[string][2]int64{
		"F1": {run, cancellers}, "F3": {persistent, passengers}, "F4a": {cancellerPaid, cancellers},
		"F4b": {mostly, passengers}, "F5": {allCancelled, passengers}, "F6": {malicious, passengers},
		"multi_account": {multi, passengers},
	}
	r.Success, r.GaveUp = referenceEpisodes(success), referenceEpisodes(gaveUp)
	return r
}

func referenceEpisodes(counts []int64) episodeNumbers {
	e := episodeNumbers{N: int64(len(counts)), Histogram: make([]int64, 22)}
	if len(counts) == 0 {
		return e
	}
	slices.Sort(counts)
	var sum int64
	for _, c := range counts {
		sum += c
		e.Histogram[min(c, 21)]++
	}
	e.Mean = float64(sum) / float64(len(counts))
	rank := func(p float64) int64 { // nearest rank, from 1
		for r := 1; ; r++ {
			if float64(r) >= p*float64(len(counts)) {
				return counts[r-1]
			}
		}
	}
	e.Median, e.P90 = rank(0.5), rank(0.9)
	return e
}

// The analyzer agrees with the reference on random transactions fed in
// random order, with ties in At, unknown outcomes and a report taken
// midway.
func TestMatchesReference(t *testing.T) {
	dates := []network.Date{may10, may11, network.MustDate("2024-05-12")}
	rapid.Check(t, func(t *rapid.T) {
		passengers := rapid.IntRange(1, 4).Draw(t, "passengers")
		txs := rapid.SliceOfN(rapid.Custom(func(t *rapid.T) Transaction {
			return Transaction{
				Passenger: string(rune('a' + rapid.IntRange(0, passengers-1).Draw(t, "passenger"))),
				Account:   rapid.Int64Range(1, 7).Draw(t, "account"),
				Date:      rapid.SampledFrom(dates).Draw(t, "date"),
				At:        base.Add(time.Duration(rapid.IntRange(0, 30).Draw(t, "minute")) * time.Minute),
				// Mostly cancels, so that F3 and F6 are reached now and then.
				Outcome: Outcome(rapid.SampledFrom([]int{0, 1, 1, 2, 2, 2, 2, 2, 2, 3, 4}).Draw(t, "outcome")),
			}
		}), 0, 250).Draw(t, "transactions")
		midway := rapid.IntRange(0, len(txs)).Draw(t, "report after")

		var a Analyzer
		for i, tx := range txs {
			if i == midway {
				a.Report()
			}
			a.Add(tx)
		}
		got, want := numbersOf(a.Report()), reference(txs)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("analyzer\n%+v\nreference\n%+v", got, want)
		}
	})
}

// Feeding a stream in any order gives the same report when no passenger
// has two transactions at the same instant.
func TestOrderDoesNotMatter(t *testing.T) {
	var txs []Transaction
	g := newGenerator(7, 3000)
	for tx, ok := g.next(); ok; tx, ok = g.next() {
		txs = append(txs, tx)
	}
	inOrder := analyse(txs)
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(txs), func(i, j int) { txs[i], txs[j] = txs[j], txs[i] })
	shuffled := analyse(txs)
	if !reflect.DeepEqual(inOrder, shuffled) {
		t.Errorf("in order:\n%+v\nshuffled:\n%+v", numbersOf(inOrder), numbersOf(shuffled))
	}
	if inOrder.Totals.Passengers != 3000 || inOrder.CancelsBefore.Success.Episodes == 0 {
		t.Errorf("the sample is too thin: %+v", inOrder.Totals)
	}
}

// The report is the same whatever the number of shards, which follows
// GOMAXPROCS; accounts shared by passengers of different shards count once.
func TestShardsAgree(t *testing.T) {
	var txs []Transaction
	g := newGenerator(11, 3000)
	for tx, ok := g.next(); ok; tx, ok = g.next() {
		tx.Account %= 499 // accounts shared between passengers, all 499 used
		txs = append(txs, tx)
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	var reports []Report
	for _, procs := range []int{1, 2, maxShards} {
		runtime.GOMAXPROCS(procs)
		var a Analyzer
		for _, tx := range txs {
			a.Add(tx)
		}
		if len(a.shards) != procs {
			t.Fatalf("%d shards with GOMAXPROCS %d", len(a.shards), procs)
		}
		reports = append(reports, a.Report())
	}
	for i, r := range reports[1:] {
		if !reflect.DeepEqual(r, reports[0]) {
			t.Errorf("report %d differs from the one-shard report:\n%+v\n%+v", i+1, numbersOf(r), numbersOf(reports[0]))
		}
	}
	if reports[0].Totals.Accounts != 499 {
		t.Errorf("%d accounts, want 499", reports[0].Totals.Accounts)
	}
}
