package behaviour

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"piao/internal/network"
)

var (
	base  = time.Date(2024, 5, 1, 8, 0, 0, 0, time.UTC)
	may10 = network.MustDate("2024-05-10")
	may11 = network.MustDate("2024-05-11")
)

// history is passenger p's transactions on account 1 for travel on May 10,
// one a minute, in the order of outcomes: C cancelled, P paid, E expired,
// N pending.
func history(p, outcomes string) []Transaction {
	var txs []Transaction
	for i, o := range outcomes {
		txs = append(txs, Transaction{Passenger: p, Account: 1, Train: "cr:Z66", Date: may10,
			At: base.Add(time.Duration(i) * time.Minute), Outcome: map[rune]Outcome{'C': Cancelled, 'P': Paid, 'E': Expired, 'N': Pending}[o]})
	}
	return txs
}

func analyse(histories ...[]Transaction) Report {
	var a Analyzer
	for _, h := range histories {
		for _, t := range h {
			a.Add(t)
		}
	}
	return a.Report()
}

// checkShare checks a finding's numerator and denominator, and that its
// share is their ratio.
func checkShare(t *testing.T, s Share, num, den int64) {
	t.Helper()
	if s.Numerator != num || s.Denominator != den {
		t.Errorf("%s = %d/%d, want %d/%d", s.Key, s.Numerator, s.Denominator, num, den)
	}
	if want := float64(num) / float64(den); s.Share != want || !s.Defined {
		t.Errorf("%s share = %v (defined %v), want %v", s.Key, s.Share, s.Defined, want)
	}
}

func TestConsecutiveCancels(t *testing.T) {
	r := analyse(
		history("expiry skipped", "CCEC"),
		history("broken by payment", "CCPCC"),
		history("pending skipped", "CNCC"),
		history("run after payment", "CCPCCC"),
		history("single", "C"),
		history("payer", "PPP"), // not in the denominator
		[]Transaction{ // across dates and accounts
			{Passenger: "spread", Account: 1, Date: may10, At: base, Outcome: Cancelled},
			{Passenger: "spread", Account: 2, Date: may11, At: base.Add(time.Hour), Outcome: Cancelled},
			{Passenger: "spread", Account: 3, Date: may10, At: base.Add(2 * time.Hour), Outcome: Cancelled},
		},
	)
	checkShare(t, r.ConsecutiveCancels, 4, 6)
}

func TestCancelsBeforeOutcome(t *testing.T) {
	at := func(m int) time.Time { return base.Add(time.Duration(m) * time.Minute) }
	tx := func(p string, d network.Date, m int, o Outcome) Transaction {
		return Transaction{Passenger: p, Account: 1, Date: d, At: at(m), Outcome: o}
	}
	var mixed []Transaction // one passenger, two dates, interleaved
	for i, o := range []Outcome{Cancelled, Paid, Cancelled} {
		mixed = append(mixed, tx("p1", may11, 100+i, o)) // success after 1; cancel after payment ignored
	}
	mixed = append(mixed, tx("p1", may10, 90, Paid), tx("p1", may10, 95, Cancelled)) // success after 0
	r := analyse(
		history("p2", "CCPC"), // success after 2
		mixed,
		history("p3", "CCC"),                   // gave up after 3
		history("p4", "CN"),                    // open
		history("p5", "P"),                     // no cancel: not an episode of F2
		history("p6", strings.Repeat("C", 25)), // gave up after 25
		history("p7", "CE"),                    // gave up after 1: an expiry decides nothing
		history("p8", "E"),                     // no cancel
		history("p9", "CCCPN"),                 // success after 3, pending after it ignored
		[]Transaction{tx("p10", may10, 0, Cancelled), tx("p10", may11, 1, Cancelled), tx("p10", may10, 2, Paid),
			tx("p10", may11, 3, Cancelled), tx("p10", may11, 4, Paid)}, // success after 1 and after 2
	)
	f2 := r.CancelsBefore
	if f2.Open != 1 {
		t.Errorf("open = %d, want 1", f2.Open)
	}
	// Success: 2, 1, 0, 3, 1, 2 → sorted 0 1 1 2 2 3: median the 3rd, p90 the 6th.
	checkEpisodes(t, "success", f2.Success, 6, 1, 9.0/6, 3, map[string]int64{"0": 1, "1": 2, "2": 2, "3": 1})
	// Gave up: 3, 25, 1 → sorted 1 3 25: median the 2nd, p90 the 3rd.
	checkEpisodes(t, "gave up", f2.GaveUp, 3, 3, 29.0/3, 25, map[string]int64{"1": 1, "3": 1, ">20": 1})
}

func checkEpisodes(t *testing.T, name string, e Episodes, n, median int64, mean float64, p90 int64, hist map[string]int64) {
	t.Helper()
	if e.Episodes != n || e.Median != median || e.Mean != mean || e.P90 != p90 || !e.Defined {
		t.Errorf("%s: %d episodes, median %d, mean %v, p90 %d, defined %v; want %d, %d, %v, %d, true",
			name, e.Episodes, e.Median, e.Mean, e.P90, e.Defined, n, median, mean, p90)
	}
	if len(e.Histogram) != 22 || e.Histogram[0].Key != "0" || e.Histogram[21].Key != ">20" {
		t.Fatalf("%s: histogram buckets %v", name, e.Histogram)
	}
	for _, b := range e.Histogram {
		if b.Count != hist[b.Key] || b.Share != float64(b.Count)/float64(n) {
			t.Errorf("%s: bucket %s = %d (%v), want %d", name, b.Key, b.Count, b.Share, hist[b.Key])
		}
	}
}

func TestPersistentNoPay(t *testing.T) {
	c20, c21 := strings.Repeat("C", 20), strings.Repeat("C", 21)
	r := analyse(
		history("21", c21),
		history("20", c20),
		history("21 then paid", c21+"P"),
		history("21 and an expiry", c21+"E"),
		history("payer", "P"),
	)
	checkShare(t, r.PersistentNoPay, 2, 5)
}

func TestCancellerSuccess(t *testing.T) {
	r := analyse(
		history("a", "CP"),
		history("b", "C"),
		history("c", "CCEP"),
		history("d", "P"), // did not cancel
		history("e", "E"), // did not cancel
	)
	checkShare(t, r.CancellerSuccess, 2, 3)
}

func TestMostlyCancels(t *testing.T) {
	r := analyse(
		history("60 %", "CCCPP"),
		history("60 % with expiry and pending", "CCCEN"),
		history("100 %", "C"),
		history("50 %", "CCCPPE"),
		history("57 %", "CCCCPPP"),
		history("40 %", "CCPPE"),
		history("0 %", "P"),
	)
	checkShare(t, r.MostlyCancels, 3, 7)
}

func TestAllCancelled(t *testing.T) {
	r := analyse(
		history("a", "CC"),
		history("b", "CE"),
		history("c", "EEC"),
		history("pending", "CN"),
		history("paid", "CP"),
		history("expired only", "E"),
	)
	checkShare(t, r.AllCancelled, 3, 6)
}

func TestMalicious(t *testing.T) {
	r := analyse(
		history("101", strings.Repeat("C", 101)),
		history("100", strings.Repeat("C", 100)),
		history("150 and paid", strings.Repeat("CP", 10)+strings.Repeat("C", 140)),
	)
	checkShare(t, r.Malicious, 2, 3)
	checkShare(t, r.PersistentNoPay, 2, 3)
}

func TestPaidShare(t *testing.T) {
	r := analyse(
		history("none", "C"),
		history("none either", "E"),
		history("all", "P"),
		history("10 %", "PCCCCCCCCC"),
		history("11 %", "PCCCCCCCC"),
		history("50 %", "PE"),
		history("67 %", "PPC"),
		history("70 %", "PPPPPPPCCC"),
		history("90 %", "PPPPPPPPPC"),
	)
	want := map[string]int64{"0": 2, "0-10": 1, "10-20": 1, "40-50": 1, "60-70": 2, "80-90": 1, "90-100": 1}
	d := r.PaidShare
	if d.Denominator != 9 || len(d.Buckets) != 11 || d.Buckets[0].Key != "0" || d.Buckets[10].Key != "90-100" {
		t.Fatalf("distribution %+v", d)
	}
	for _, b := range d.Buckets {
		if b.Count != want[b.Key] || b.Share != float64(b.Count)/9 {
			t.Errorf("bucket %s = %d (%v), want %d", b.Key, b.Count, b.Share, want[b.Key])
		}
	}
}

func TestAccounts(t *testing.T) {
	var txs []Transaction
	for p, accounts := range map[string][]int64{
		"one":   {1, 1, 1},
		"two":   {1, 2, 1},
		"three": {3, 4, 5},
		"four":  {1, 2, 3, 4, 4},
		"five":  {1, 2, 3, 4, 5, 5, 5},
		"six":   {1, 2, 3, 4, 5, 6, 5, 1},
		"late":  {7, 7, 7, 7, 8, 9, 10, 11, 12}, // the twelfth account only ever seen past the fourth
	} {
		for i, a := range accounts {
			txs = append(txs, Transaction{Passenger: p, Account: a, Date: may10, At: base.Add(time.Duration(i)), Outcome: Paid})
		}
	}
	r := analyse(txs)
	want := []int64{1, 1, 1, 1, 3}
	for i, b := range r.Accounts.Buckets {
		if b.Count != want[i] || b.Share != float64(want[i])/7 {
			t.Errorf("bucket %s = %d, want %d", b.Key, b.Count, want[i])
		}
	}
	if keys := []string{r.Accounts.Buckets[0].Key, r.Accounts.Buckets[4].Key}; keys[0] != "1" || keys[1] != "5+" {
		t.Errorf("bucket keys %v", keys)
	}
	checkShare(t, r.MultiAccount, 6, 7)
	if r.Totals.Accounts != 12 {
		t.Errorf("accounts = %d, want 12", r.Totals.Accounts)
	}
}

func TestTotals(t *testing.T) {
	var a Analyzer
	late := base.Add(-time.Hour)
	for _, tx := range append(history("a", "PCCEN"), history("b", "CP")...) {
		a.Add(tx)
	}
	a.Add(Transaction{Passenger: "c", Account: 9, Date: may10, At: late, Outcome: Outcome(7)}) // unknown: pending
	a.Add(Transaction{Passenger: "c", Account: 9, Date: may10, At: base.Add(time.Hour), Outcome: Expired})
	got := a.Report().Totals
	want := Totals{Transactions: 9, Passengers: 3, Accounts: 2, Paid: 2, Cancelled: 3, Expired: 2, Pending: 2,
		FirstAt: late, LastAt: base.Add(time.Hour)}
	if got != want {
		t.Errorf("totals = %+v, want %+v", got, want)
	}
}

func TestEmpty(t *testing.T) {
	var a Analyzer
	r := a.Report()
	for _, s := range r.Shares() {
		if s.Defined || s.Share != 0 || s.Denominator != 0 || s.Of.EN == "" || s.Definition.ZH == "" {
			t.Errorf("%s = %+v", s.Key, s)
		}
	}
	for _, e := range []Episodes{r.CancelsBefore.Success, r.CancelsBefore.GaveUp} {
		if e.Defined || e.Episodes != 0 || e.Median != 0 || e.Mean != 0 || len(e.Histogram) != 22 {
			t.Errorf("episodes = %+v", e)
		}
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "first_at") {
		t.Errorf("an empty window is in the JSON: %s", b)
	}
}

// A report can be taken, more transactions added, and another taken.
func TestReportAgain(t *testing.T) {
	var a Analyzer
	for _, tx := range history("a", "CCPC") {
		a.Add(tx)
	}
	first := a.Report()
	if again := a.Report(); !reflect.DeepEqual(first, again) {
		t.Errorf("second report differs")
	}
	a.Add(Transaction{Passenger: "a", Account: 1, Date: may10, At: base.Add(90 * time.Second), Outcome: Cancelled})
	r := a.Report()
	checkShare(t, r.ConsecutiveCancels, 1, 1) // C C C(1.5 min) P C
	if got := r.CancelsBefore.Success.Median; got != 3 {
		t.Errorf("cancels before success = %d, want 3", got)
	}
}

// A transaction fed late takes its place by At in F1 and F2.
func TestOutOfOrder(t *testing.T) {
	h := history("a", "CCPC")                           // minutes 0 1 2 3
	r := analyse([]Transaction{h[0], h[1], h[3], h[2]}) // fed C C C P
	checkShare(t, r.ConsecutiveCancels, 0, 1)
	if e := r.CancelsBefore.Success; e.Episodes != 1 || e.Median != 2 {
		t.Errorf("success episodes = %+v, want one after 2 cancels", e)
	}
	if r.Totals.FirstAt != base || r.Totals.LastAt != h[3].At {
		t.Errorf("window %v – %v", r.Totals.FirstAt, r.Totals.LastAt)
	}
}

func TestJSON(t *testing.T) {
	r := analyse(history("a", "CCCP"), history("b", "P"))
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		F1 struct {
			Key         string  `json:"key"`
			Numerator   int64   `json:"numerator"`
			Denominator int64   `json:"denominator"`
			Share       float64 `json:"share"`
			Of          Text    `json:"denominator_of"`
			Definition  Text    `json:"definition"`
		} `json:"consecutive_cancels"`
		Fig1 struct {
			Buckets []Bucket `json:"buckets"`
		} `json:"paid_share"`
		Totals struct {
			FirstAt string `json:"first_at"`
		} `json:"totals"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.F1.Key != "F1" || doc.F1.Numerator != 1 || doc.F1.Denominator != 1 || doc.F1.Share != 1 ||
		doc.F1.Of.EN != "passengers who cancelled" || doc.F1.Of.ZH == "" || doc.F1.Definition.EN == "" {
		t.Errorf("F1 in JSON = %+v", doc.F1)
	}
	if len(doc.Fig1.Buckets) != 11 || doc.Fig1.Buckets[3].Label.EN != "(20 %, 30 %]" || doc.Fig1.Buckets[3].Count != 1 {
		t.Errorf("Fig. 1 in JSON = %+v", doc.Fig1.Buckets)
	}
	if doc.Totals.FirstAt != "2024-05-01T08:00:00Z" {
		t.Errorf("first_at = %q", doc.Totals.FirstAt)
	}
}
