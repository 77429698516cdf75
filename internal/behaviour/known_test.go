package behaviour

import (
	"math"
	"testing"
)

// TestKnownShares draws 100,000 passengers from the generator, whose
// behaviours have known probabilities, and checks that the report recovers
// every share the table implies within one percentage point: 3.5 standard
// errors or more at this size (F1 and F4a, shares of the 28.6 % who
// cancelled, are the loosest).
func TestKnownShares(t *testing.T) {
	// The generator's behaviours and their probabilities.
	const (
		traveller   = 0.3170 // pays 1–28 trips
		lapsed      = 0.2178 // lets 1–2 holds expire
		seeker      = 0.0500 // 6–18 cancels, an expiry, pays: 8–20 transactions
		changedPlan = 0.0900 // 1–2 cancels
		gaveUp      = 0.0300 // 6–20 cancels
		persistent  = 0.0070 // 21–60 cancels
		malicious   = 0.0030 // 101–160 cancels
		switcher    = 0.0258 // 1–3 × (cancel, pay, pay)
		hesitant    = 0.0601 // cancel, cancel, expiry
		expiryRun   = 0.0101 // 3–5 cancels with an expiry after the second
		haggler     = 0.0100 // 2 × (cancel, cancel, pay)
		slowPayer   = 0.1792 // 1–6 × (pay, pay, expiry)
	)
	cancellers := seeker + changedPlan + gaveUp + persistent + malicious + switcher + hesitant + expiryRun + haggler
	shares := map[string]float64{
		"F1":  (seeker + gaveUp + persistent + malicious + expiryRun) / cancellers, // 0.35
		"F3":  persistent + malicious,                                              // 0.01
		"F4a": (seeker + switcher + haggler) / cancellers,                          // 0.30
		// Cancels ≥ 60 %: seekers ≥ 6/8, hesitant 2/3, runs ≥ 3/4, hagglers 4/6.
		"F4b":           seeker + changedPlan + gaveUp + persistent + malicious + hesitant + expiryRun + haggler, // 0.2602
		"F5":            changedPlan + gaveUp + persistent + malicious + hesitant + expiryRun,                    // 0.2002
		"F6":            malicious,
		"multi_account": seeker*3/4 + gaveUp*3/4 + persistent + malicious, // 0.07
	}
	// Seekers pay 1 of 8–20: (10 %, 20 %] for 8 or 9 transactions (2 of 13 cancel counts), else (0, 10 %].
	paidShare := []float64{
		lapsed + changedPlan + gaveUp + persistent + malicious + hesitant + expiryRun, // 0 %: 0.418
		seeker * 11 / 13, seeker * 2 / 13, 0,
		haggler, // 2/6
		0, 0,
		switcher + slowPayer, // 2/3: 0.205
		0, 0,
		traveller,
	}
	accounts := []float64{ // seekers and gave-ups use 1–4, persistent 2–5, malicious 5–12
		1 - (seeker*3/4 + gaveUp*3/4 + persistent + malicious),
		seeker/4 + gaveUp/4 + persistent/4,
		seeker/4 + gaveUp/4 + persistent/4,
		seeker/4 + gaveUp/4 + persistent/4,
		persistent/4 + malicious,
	}
	transactions := traveller*14.5 + lapsed*1.5 + seeker*14 + changedPlan*1.5 + gaveUp*13 + persistent*40.5 +
		malicious*130.5 + switcher*6 + hesitant*3 + expiryRun*5 + haggler*6 + slowPayer*10.5 // per passenger: 9.15

	var a Analyzer
	g := newGenerator(2013, 100_000)
	for tx, ok := g.next(); ok; tx, ok = g.next() {
		a.Add(tx)
	}
	r := a.Report()

	near := func(what string, got, want float64) {
		t.Helper()
		if math.Abs(got-want) > 0.01 {
			t.Errorf("%s = %.4f, want %.4f ± 0.01", what, got, want)
		}
	}
	for _, s := range r.Shares() {
		near(s.Key, s.Share, shares[s.Key])
	}
	for i, b := range r.PaidShare.Buckets {
		near("Fig. 1 "+b.Key, b.Share, paidShare[i])
	}
	for i, b := range r.Accounts.Buckets {
		near("accounts "+b.Key, b.Share, accounts[i])
	}
	perPassenger := float64(r.Totals.Transactions) / float64(r.Totals.Passengers)
	if r.Totals.Passengers != 100_000 || math.Abs(perPassenger/transactions-1) > 0.02 {
		t.Errorf("%d passengers, %.2f transactions each; want 100,000 and %.2f", r.Totals.Passengers, perPassenger, transactions)
	}
}
