package storetest_test

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"piao/internal/benefits"
	"piao/internal/ledger"
	"piao/internal/metro"
	"piao/internal/store/open"
	"piao/internal/store/sealed"
	"piao/internal/store/storetest"
)

// settleChildEnv names the data directory a re-executed test binary
// settles in, as the child of TestSettleKilled.
const settleChildEnv = "PIAO_TEST_SETTLE_CHILD"

// killBatch is the child's batch: small, so a run is many transactions.
const killBatch = 100

// TestSettleKilled runs settlement in a child process on a SQLite store
// and kills it (SIGKILL) after a few batches landed: the journal's checks
// then find nothing (no batch is half written, no entry without its
// settlements or the reverse), settling again settles exactly the rest,
// every trip is settled once, each batch has one entry that all its
// settlements name, and the fare revenue is the sum of the fares.
func TestSettleKilled(t *testing.T) {
	if dir := os.Getenv(settleChildEnv); dir != "" {
		settleChild(t, dir)
		return
	}
	if testing.Short() {
		t.Skip("spawns a settlement process")
	}
	ctx := context.Background()
	dir := t.TempDir()
	keys := sealed.Generate()
	if err := sealed.Save(filepath.Join(dir, "keys"), keys); err != nil {
		t.Fatal(err)
	}
	s := openSettleStores(t, dir, keys)
	acc := bnAccounts(t, s, "killed", 40)
	mc := chMerchantCampaign(t, s, 1, benefits.Product{Kind: benefits.AmountOff, Terms: benefits.Terms{AmountOff: 100}}, 10_000_000)
	op := bnCampaign(t, s, 100_000, 0)
	for i, a := range acc[:20] { // the merchant's stock is 20: two tickets each for ten riders
		for range 2 {
			r := benefits.IssueRequest{CampaignID: mc.ID, Account: a, Channel: benefits.ClaimChannel}
			if i%2 == 1 {
				r.CampaignID = op.ID
			}
			if i%4 == 2 {
				r.PaidFen, r.PaidBy = 90, a // bought: 90 of its 100 fen saving from the buyer
			}
			if res, err := s.Benefits.Issue(ctx, bnT0.Add(-30*time.Minute), []benefits.IssueRequest{r}); err != nil || res[0].Err != nil {
				t.Fatal(err, res[0].Err)
			}
		}
	}
	const total = 20_000
	var fares int64
	trips := make([]metro.Trip, 0, total)
	for i := range total {
		tr := mtTrip(fmt.Sprintf("kill-%05d", i), acc[i%len(acc)], "nbmetro:GL", "nbmetro:DMK", bnT0.Add(time.Duration(i)*time.Second), int64(300+i%7*50))
		trips = append(trips, tr)
		fares += tr.Fare
	}
	if _, err := s.Metro.AddTrips(ctx, trips, nil); err != nil {
		t.Fatal(err)
	}

	// The child settles and says after each batch how far it got; it is
	// killed once three batches have landed.
	cmd := exec.Command(os.Args[0], "-test.run=^TestSettleKilled$", "-test.v")
	cmd.Env = append(os.Environ(), settleChildEnv+"="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(out)
	landed := 0
	for landed < 3 && lines.Scan() {
		if strings.HasPrefix(lines.Text(), "settled ") {
			landed++
		}
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	if landed < 3 {
		t.Fatalf("the child stopped after %d batches", landed)
	}

	count := func(query string) int64 {
		t.Helper()
		raw, err := sql.Open("sqlite", s.DB.Where())
		if err != nil {
			t.Fatal(err)
		}
		defer raw.Close()
		var n int64
		if err := raw.QueryRowContext(ctx, query).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	settled := count(`SELECT COUNT(*) FROM metro_settlements`)
	if settled < 3*killBatch || settled >= total {
		t.Fatalf("%d of %d trips settled when the child was killed: want a run stopped half-way", settled, total)
	}
	t.Logf("killed with %d of %d trips settled", settled, total)
	if problems, err := s.DB.Ledger().Verify(ctx); err != nil || len(problems) > 0 {
		t.Fatalf("ledger check after the kill: %+v, %v", problems, err)
	}
	rep, err := metro.Settle(ctx, s.Metro, "nbmetro", metro.SettleOptions{Batch: killBatch})
	if err != nil || int64(rep.Trips) != total-settled {
		t.Fatalf("settling the rest: %+v, %v (%d settled before)", rep, err, settled)
	}
	if n := count(`SELECT COUNT(DISTINCT trip_seq) FROM metro_settlements`); n != total {
		t.Fatalf("%d trips settled, want %d", n, total)
	}
	entries := count(`SELECT COUNT(*) FROM journal_entries WHERE kind = 'redemption'`)
	linked := count(`SELECT COUNT(DISTINCT journal_entry) FROM metro_settlements`)
	if unlinked := count(`SELECT COUNT(*) FROM metro_settlements WHERE journal_entry IS NULL`); unlinked != 0 || entries != linked || entries < total/killBatch {
		t.Fatalf("%d redemption entries, %d named by settlements, %d settlements name none", entries, linked, unlinked)
	}
	bs, err := s.DB.Ledger().Balances(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range bs {
		if b.Account == ledger.FareRevenue && b.Net() != fares {
			t.Fatalf("fare revenue %d, fares %d", b.Net(), fares)
		}
	}
	if problems, err := s.DB.Ledger().Verify(ctx); err != nil || len(problems) > 0 {
		t.Fatalf("ledger check at the end: %+v, %v", problems, err)
	}
}

// settleChild is the child's side: settle the store in dir, saying after
// every batch how many trips are settled, until killed.
func settleChild(t *testing.T, dir string) {
	keys, err := sealed.Load(filepath.Join(dir, "keys"))
	if err != nil {
		t.Fatal(err)
	}
	s := openSettleStores(t, dir, keys)
	_, err = metro.Settle(context.Background(), s.Metro, "nbmetro", metro.SettleOptions{Batch: killBatch, Progress: func(n int) {
		fmt.Fprintf(os.Stdout, "settled %d\n", n)
	}})
	if err != nil {
		t.Fatal(err)
	}
}

// openSettleStores opens the SQLite store in dir with keys, migrated.
func openSettleStores(t *testing.T, dir string, keys *sealed.Keyring) storetest.Stores {
	t.Helper()
	db, err := open.Engine(context.Background(), "", dir, keys)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return storetest.Stores{DB: db, Keys: keys, Engine: db.Name(), Identity: db.Identity(), Benefits: db.Benefits(), Metro: db.Metro()}
}
