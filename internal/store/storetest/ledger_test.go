package storetest_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"piao/internal/fault"
	"piao/internal/ledger"
	"piao/internal/store/storetest"
)

var ledgerT0 = time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)

// purchaseEntry is a merchant's purchase of amount fen, paid through the gateway.
func purchaseEntry(key string, merchant int64, amount int64) ledger.Entry {
	party := ledger.Party("merchant", merchant)
	return ledger.Build(key, ledger.KindPurchase, "purchase:"+key, ledgerT0, "test purchase",
		ledger.Debit(ledger.GatewayClearing, "", amount),
		ledger.Credit(ledger.MerchantPrepaid, party, amount))
}

// TestLedgerPostAndRead: an entry comes back whole with its postings, the
// balances are the sums of the postings, the trial balance balances and
// Verify finds nothing.
func TestLedgerPostAndRead(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := context.Background()
		l := s.DB.Ledger()
		a, err := l.Post(ctx, purchaseEntry("p1", 7, 10_000))
		if err != nil {
			t.Fatal(err)
		}
		if a.ID == 0 {
			t.Fatal("no ID")
		}
		redeem := ledger.Build("r1", ledger.KindRedemption, "batch:1", ledgerT0.Add(time.Hour), "",
			ledger.Debit(ledger.MerchantPrepaid, "merchant:7", 300),
			ledger.Debit(ledger.FareReceivable, "", 100),
			ledger.Credit(ledger.FareRevenue, "", 400))
		if _, err := l.Post(ctx, redeem); err != nil {
			t.Fatal(err)
		}
		got, err := l.Entry(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !ledger.Same(got, purchaseEntry("p1", 7, 10_000)) || !got.At.Equal(ledgerT0) {
			t.Fatalf("entry came back as %+v", got)
		}
		bs, err := l.Balances(ctx, "merchant:7")
		if err != nil {
			t.Fatal(err)
		}
		if len(bs) != 1 || bs[0].Net() != 9_700 {
			t.Fatalf("merchant balances %+v, want one of 9700 net", bs)
		}
		all, err := l.Balances(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		tb := ledger.TrialBalance(all)
		if !tb.Balanced() || tb.Debit != 10_400 {
			t.Fatalf("trial balance %+v", tb)
		}
		if ps, err := l.Verify(ctx); err != nil || len(ps) != 0 {
			t.Fatalf("verify: %v %+v", err, ps)
		}
		es, err := l.Entries(ctx, ledger.Filter{Party: "merchant:7"})
		if err != nil || len(es) != 2 || es[0].Key != "r1" || len(es[0].Postings) != 3 {
			t.Fatalf("entries of merchant:7: %v %+v", err, es)
		}
		if es, err := l.Entries(ctx, ledger.Filter{Account: ledger.FareReceivable}); err != nil || len(es) != 1 {
			t.Fatalf("entries of 1121: %v %+v", err, es)
		}
		if _, err := l.Entry(ctx, 999); !fault.Is(err, fault.NotFound) {
			t.Fatalf("missing entry: %v", err)
		}
	})
}

// TestLedgerRefusals: an unbalanced entry, a reused key with other postings,
// a second reversal and a reversal of a reversal are refused, and the
// database itself refuses to change a posted entry.
func TestLedgerRefusals(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := context.Background()
		l := s.DB.Ledger()
		bad := purchaseEntry("p1", 7, 100)
		bad.Postings[0].Debit = 99
		if _, err := l.Post(ctx, bad); !fault.Is(err, fault.Invalid) {
			t.Fatalf("unbalanced: %v", err)
		}
		e, err := l.Post(ctx, purchaseEntry("p1", 7, 100))
		if err != nil {
			t.Fatal(err)
		}
		again, err := l.Post(ctx, purchaseEntry("p1", 7, 100))
		if err != nil || again.ID != e.ID {
			t.Fatalf("same event again: %v, id %d want %d", err, again.ID, e.ID)
		}
		if _, err := l.Post(ctx, purchaseEntry("p1", 7, 200)); !fault.Is(err, fault.Conflict) {
			t.Fatalf("reused key: %v", err)
		}
		r, err := l.Post(ctx, ledger.Reversal(e, ledgerT0.Add(time.Hour), "wrong amount"))
		if err != nil {
			t.Fatal(err)
		}
		second := ledger.Reversal(e, ledgerT0.Add(time.Hour), "again")
		second.Key = "reverse:other"
		if _, err := l.Post(ctx, second); !fault.Is(err, fault.Conflict) {
			t.Fatalf("second reversal: %v", err)
		}
		if _, err := l.Post(ctx, ledger.Reversal(r, ledgerT0.Add(2*time.Hour), "")); !fault.Is(err, fault.Conflict) {
			t.Fatalf("reversal of a reversal: %v", err)
		}
		bs, _ := l.Balances(ctx, "merchant:7")
		if len(bs) != 1 || bs[0].Net() != 0 || bs[0].Debit != 100 {
			t.Fatalf("after reversal %+v", bs)
		}
		for _, q := range []string{
			`UPDATE journal_postings SET debit = 1 WHERE debit > 0`,
			`DELETE FROM journal_entries`,
			`UPDATE journal_entries SET memo = 'x'`,
		} {
			if err := s.Exec(ctx, q); err == nil {
				t.Fatalf("%s: the database allowed it", q)
			}
		}
		// A balance changed behind the journal's back is found.
		if err := s.Exec(ctx, `UPDATE ledger_balances SET debit = debit + 1 WHERE account = '1101'`); err != nil {
			t.Fatal(err)
		}
		ps, err := l.Verify(ctx)
		if err != nil || len(ps) != 1 || ps[0].Check != "balance_differs" {
			t.Fatalf("verify after tampering: %v %+v", err, ps)
		}
	})
}

// TestLedgerConcurrentPosts: many entries posted at once onto the same
// balances (both engines, -race) keep every balance equal to its postings,
// and the same event posted concurrently is stored once.
func TestLedgerConcurrentPosts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := context.Background()
		l := s.DB.Ledger()
		var wg sync.WaitGroup
		errs := make(chan error, 80)
		for i := range 40 {
			wg.Add(2)
			go func() {
				defer wg.Done()
				_, err := l.Post(ctx, purchaseEntry("p"+string(rune('a'+i%20)), int64(1+i%3), 100))
				if err != nil && !fault.Is(err, fault.Conflict) {
					errs <- err
				}
			}()
			go func() {
				defer wg.Done()
				_, err := l.Post(ctx, ledger.Build("fee"+string(rune('a'+i)), ledger.KindFee, "statement:x", ledgerT0, "",
					ledger.Debit(ledger.ChannelFees, "", 3), ledger.Credit(ledger.GatewayClearing, "", 3)))
				if err != nil {
					errs <- err
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		all, err := l.Balances(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		tb := ledger.TrialBalance(all)
		var clearing int64
		for _, line := range tb.Lines {
			if line.Account.Code == ledger.GatewayClearing {
				clearing = line.Net
			}
		}
		// 20 distinct purchases of 100 (a key posted again for another
		// merchant is refused), 40 fees of 3.
		if !tb.Balanced() || clearing != 20*100-40*3 {
			t.Fatalf("trial %+v clearing %d", tb, clearing)
		}
		if ps, err := l.Verify(ctx); err != nil || len(ps) != 0 {
			t.Fatalf("verify: %v %+v", err, ps)
		}
	})
}
