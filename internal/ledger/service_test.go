package ledger_test

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"piao/internal/audit"
	"piao/internal/fault"
	"piao/internal/ledger"
	"piao/internal/sheet"
	"piao/internal/store/storetest"
	"piao/internal/tenant"
	"piao/internal/testclock"
)

var t0 = time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)

// books is a service over a fresh store on one engine, with its audit log.
type books struct {
	svc   *ledger.Service
	store ledger.Store
	log   *audit.Log
	clock *testclock.Clock
}

func newBooks(t *testing.T, s storetest.Stores) books {
	clock := testclock.New(t0)
	log := audit.New(s.Audit, clock.Now)
	return books{svc: ledger.NewService(s.DB.Ledger(), log, clock.Now), store: s.DB.Ledger(), log: log, clock: clock}
}

// post posts an entry the test builds itself, as a business event would.
func (b books) post(t *testing.T, key, kind, ref string, ps ...ledger.Posting) ledger.Entry {
	t.Helper()
	e, err := b.store.Post(context.Background(), ledger.Build(key, kind, ref, t0, "", ps...))
	if err != nil {
		t.Fatalf("post %s: %v", key, err)
	}
	return e
}

// audited returns the audit entries of an action.
func (b books) audited(t *testing.T, action string) []audit.Entry {
	t.Helper()
	p, err := b.log.Entries(context.Background(), audit.Filter{Action: action})
	if err != nil {
		t.Fatal(err)
	}
	return p.Entries
}

func wantReason(t *testing.T, err error, reason string) {
	t.Helper()
	if fe := fault.As(err); err == nil || fe.Reason != reason {
		t.Fatalf("got %v, want %s", err, reason)
	}
}

// TestReverse: a reversal needs a reason, undoes the entry's postings,
// is audited, and is refused a second time and on a reversal.
func TestReverse(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := context.Background()
		b := newBooks(t, s)
		e := b.post(t, "purchase:1:paid", ledger.KindPurchase, "purchase:1",
			ledger.Debit(ledger.GatewayClearing, "", 5_000), ledger.Credit(ledger.MerchantPrepaid, "merchant:7", 5_000))
		if _, err := b.svc.Reverse(ctx, e.ID, "  "); !fault.Is(err, fault.Invalid) {
			t.Fatalf("reversal without a reason: %v", err)
		}
		if _, err := b.svc.Reverse(ctx, 9_999, "typo"); !fault.Is(err, fault.NotFound) {
			t.Fatalf("reversal of no entry: %v", err)
		}
		b.clock.Advance(time.Hour)
		r, err := b.svc.Reverse(ctx, e.ID, "paid twice by mistake")
		if err != nil {
			t.Fatal(err)
		}
		if r.Reverses != e.ID || r.Kind != ledger.KindReversal || r.Memo != "paid twice by mistake" || !r.At.Equal(t0.Add(time.Hour)) {
			t.Fatalf("reversal %+v", r)
		}
		bs, err := b.svc.Balances(ctx, "merchant:7")
		if err != nil || len(bs) != 1 || bs[0].Net() != 0 {
			t.Fatalf("merchant:7 after reversal: %v %+v", err, bs)
		}
		_, err = b.svc.Reverse(ctx, e.ID, "again")
		wantReason(t, err, "entry_reversed")
		_, err = b.svc.Reverse(ctx, r.ID, "undo the undo")
		wantReason(t, err, "entry_is_reversal")
		got := b.audited(t, "ledger.reverse")
		if len(got) != 1 || got[0].Subject != "journal_entry:"+itoa(e.ID) || got[0].Reason != "paid twice by mistake" {
			t.Fatalf("audit entries %+v", got)
		}
		rep, err := b.svc.Check(ctx)
		if err != nil || !rep.Sound || len(rep.Problems) != 0 {
			t.Fatalf("check after reversal: %v %+v", err, rep)
		}
	})
}

// TestReverseConcurrent: of reversals racing for one entry exactly one
// is posted; the others are refused as reversed already.
func TestReverseConcurrent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := context.Background()
		b := newBooks(t, s)
		e := b.post(t, "fee:1", ledger.KindFee, "statement:1", ledger.Debit(ledger.ChannelFees, "", 30), ledger.Credit(ledger.GatewayClearing, "", 30))
		var wg sync.WaitGroup
		var mu sync.Mutex
		ok, refused := 0, 0
		for i := range 6 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := b.svc.Reverse(ctx, e.ID, "race "+itoa(int64(i)))
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					ok++
				case fault.Is(err, fault.Conflict):
					refused++
				default:
					t.Errorf("reverse: %v", err)
				}
			}()
		}
		wg.Wait()
		if ok != 1 || refused != 5 {
			t.Fatalf("%d reversals posted, %d refused; want 1 and 5", ok, refused)
		}
		if n := len(b.audited(t, "ledger.reverse")); n != 1 {
			t.Fatalf("%d audit entries, want 1", n)
		}
	})
}

// TestWriteOff: bounds (account, party, amount, balance, reason), the
// entry posted, a retry by key, and the audit entry.
func TestWriteOff(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := context.Background()
		b := newBooks(t, s)
		// A redemption leaves 1,000 fen of fares and 400 of a subsidy owed.
		b.post(t, "settle:1", ledger.KindRedemption, "settlement_batch:1",
			ledger.Debit(ledger.FareReceivable, "", 1_000), ledger.Debit(ledger.SubsidyReceivable, "subsidy:students", 400),
			ledger.Credit(ledger.FareRevenue, "", 1_400))
		for _, c := range []struct {
			w      ledger.WriteOff
			reason string
		}{
			{ledger.WriteOff{Account: ledger.FareRevenue, Fen: 10, Reason: "x"}, "write_off_account"},                          // not an asset
			{ledger.WriteOff{Account: ledger.MerchantPrepaid, Party: "merchant:7", Fen: 10, Reason: "x"}, "write_off_account"}, // a liability
			{ledger.WriteOff{Account: "9999", Fen: 10, Reason: "x"}, "write_off_account"},                                      // not in the chart
			{ledger.WriteOff{Account: ledger.FareReceivable, Fen: 0, Reason: "x"}, "write_off_amount"},
			{ledger.WriteOff{Account: ledger.FareReceivable, Fen: -5, Reason: "x"}, "write_off_amount"},
			{ledger.WriteOff{Account: ledger.FareReceivable, Fen: 10}, "reason_required"},
			{ledger.WriteOff{Account: ledger.FareReceivable, Party: "account:1", Fen: 10, Reason: "x"}, "write_off_party"},
			{ledger.WriteOff{Account: ledger.SubsidyReceivable, Fen: 10, Reason: "x"}, "write_off_party"},
			{ledger.WriteOff{Account: ledger.FareReceivable, Fen: 1_001, Reason: "x"}, "write_off_exceeds_balance"},
			{ledger.WriteOff{Account: ledger.SubsidyReceivable, Party: "subsidy:students", Fen: 401, Reason: "x"}, "write_off_exceeds_balance"},
			{ledger.WriteOff{Account: ledger.SubsidyReceivable, Party: "subsidy:elderly", Fen: 1, Reason: "x"}, "write_off_exceeds_balance"},
			{ledger.WriteOff{Account: ledger.GatewayClearing, Fen: 1, Reason: "x"}, "write_off_exceeds_balance"},
		} {
			_, err := b.svc.WriteOff(ctx, c.w)
			if fe := fault.As(err); err == nil || fe.Reason != c.reason || fe.Code != fault.Invalid {
				t.Errorf("write-off %+v: %v, want %s", c.w, err, c.reason)
			}
		}
		w := ledger.WriteOff{Account: ledger.FareReceivable, Fen: 1_000, Reason: "rider unreachable", Key: "req-1"}
		e, err := b.svc.WriteOff(ctx, w)
		if err != nil {
			t.Fatal(err)
		}
		if e.Kind != ledger.KindWriteOff || e.Key != "write_off:req-1" || len(e.Postings) != 2 ||
			e.Postings[0] != ledger.Debit(ledger.WriteOffs, "", 1_000) || e.Postings[1] != ledger.Credit(ledger.FareReceivable, "", 1_000) {
			t.Fatalf("write-off entry %+v", e)
		}
		// A retry with the key is the same entry, though the balance is gone.
		again, err := b.svc.WriteOff(ctx, w)
		if err != nil || again.ID != e.ID {
			t.Fatalf("retry: %v %+v", err, again)
		}
		w.Fen = 5
		_, err = b.svc.WriteOff(ctx, w)
		wantReason(t, err, "entry_key_reused")
		// Without a key each call is its own write-off.
		for range 2 {
			if _, err := b.svc.WriteOff(ctx, ledger.WriteOff{Account: ledger.SubsidyReceivable, Party: "subsidy:students", Fen: 200, Reason: "scheme closed"}); err != nil {
				t.Fatal(err)
			}
		}
		_, err = b.svc.WriteOff(ctx, ledger.WriteOff{Account: ledger.SubsidyReceivable, Party: "subsidy:students", Fen: 1, Reason: "nothing left"})
		wantReason(t, err, "write_off_exceeds_balance")
		tb, err := b.svc.Trial(ctx)
		if err != nil || !tb.Balanced() {
			t.Fatalf("trial: %v %+v", err, tb)
		}
		for _, l := range tb.Lines {
			want := map[ledger.Code]int64{ledger.FareReceivable: 0, ledger.SubsidyReceivable: 0, ledger.WriteOffs: 1_400, ledger.FareRevenue: 1_400}
			if n, ok := want[l.Account.Code]; ok && l.Net != n {
				t.Errorf("account %s net %d, want %d", l.Account.Code, l.Net, n)
			}
		}
		got := b.audited(t, "ledger.write_off")
		if len(got) != 3 || got[2].Subject != "journal_entry:"+itoa(e.ID) || got[2].Reason != "rider unreachable" {
			t.Fatalf("audit entries %+v", got)
		}
	})
}

// TestCheckFindsTampering: a balance row changed behind the journal's back
// makes the check unsound, with the balance named.
func TestCheckFindsTampering(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := context.Background()
		b := newBooks(t, s)
		b.post(t, "p", ledger.KindPurchase, "purchase:1", ledger.Debit(ledger.GatewayClearing, "", 100), ledger.Credit(ledger.MerchantPrepaid, "merchant:3", 100))
		rep, err := b.svc.Check(ctx)
		if err != nil || !rep.Sound || !rep.Balanced || len(rep.Trial.Lines) != len(ledger.Chart) {
			t.Fatalf("sound journal: %v %+v", err, rep)
		}
		if err := s.Exec(ctx, `UPDATE ledger_balances SET credit = credit + 1 WHERE account = '2203'`); err != nil {
			t.Fatal(err)
		}
		rep, err = b.svc.Check(ctx)
		if err != nil || rep.Sound || rep.Balanced || len(rep.Problems) != 1 || rep.Problems[0].Check != "balance_differs" || rep.Problems[0].Subject != "balance:2203/merchant:3" {
			t.Fatalf("tampered journal: %v %+v", err, rep)
		}
	})
}

// TestOwnStatement: a merchant sees its balances and its own lines of the
// entries that touch it, never another merchant's, and the operator's
// scope has no statement.
func TestOwnStatement(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := context.Background()
		b := newBooks(t, s)
		b.post(t, "pa", ledger.KindPurchase, "purchase:1", ledger.Debit(ledger.GatewayClearing, "", 1_000), ledger.Credit(ledger.MerchantPrepaid, "merchant:1", 1_000))
		b.post(t, "pb", ledger.KindPurchase, "purchase:2", ledger.Debit(ledger.GatewayClearing, "", 2_000), ledger.Credit(ledger.MerchantPrepaid, "merchant:2", 2_000))
		// One settlement draws on both merchants' campaigns.
		b.post(t, "settle", ledger.KindRedemption, "settlement_batch:1",
			ledger.Debit(ledger.MerchantPrepaid, "merchant:1", 100), ledger.Debit(ledger.MerchantPrepaid, "merchant:2", 300), ledger.Credit(ledger.FareRevenue, "", 400))
		st, err := b.svc.Own(ctx, tenant.Merchant(1), ledger.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		if st.Party != "merchant:1" || len(st.Balances) != 1 || st.Balances[0].Net() != 900 || len(st.Entries) != 2 {
			t.Fatalf("merchant 1's statement %+v", st)
		}
		for _, e := range st.Entries {
			if e.Key == "pb" {
				t.Fatalf("merchant 1 sees merchant 2's purchase %+v", e)
			}
			for _, p := range e.Postings {
				if p.Party != "merchant:1" {
					t.Fatalf("merchant 1 sees a posting of %q in entry %s", p.Party, e.Key)
				}
			}
		}
		// Asking for the other's party changes nothing: the scope decides.
		st, err = b.svc.Own(ctx, tenant.Merchant(1), ledger.Filter{Party: "merchant:2"})
		if err != nil || len(st.Entries) != 2 || st.Party != "merchant:1" {
			t.Fatalf("merchant 1 asking for merchant 2: %v %+v", err, st)
		}
		if _, err := b.svc.Own(ctx, tenant.All(), ledger.Filter{}); !fault.Is(err, fault.Forbidden) {
			t.Fatalf("operator's statement: %v", err)
		}
		if _, err := b.svc.Own(ctx, tenant.Scope{}, ledger.Filter{}); !fault.Is(err, fault.Forbidden) {
			t.Fatalf("nobody's statement: %v", err)
		}
	})
}

// TestEntriesPagingAndExport: pages of entries follow one another without
// gap or repeat, an unknown account is refused, and the export holds one
// row per posting in both formats.
func TestEntriesPagingAndExport(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := context.Background()
		b := newBooks(t, s)
		for i := range 7 {
			b.post(t, "p"+itoa(int64(i)), ledger.KindPurchase, "purchase:"+itoa(int64(i)),
				ledger.Debit(ledger.GatewayClearing, "", 100), ledger.Credit(ledger.MerchantPrepaid, "merchant:1", 100))
		}
		seen := map[int64]bool{}
		f := ledger.Filter{Limit: 3}
		pages := 0
		for {
			p, err := b.svc.Entries(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			pages++
			for _, e := range p.Entries {
				if seen[e.ID] {
					t.Fatalf("entry %d twice", e.ID)
				}
				seen[e.ID] = true
			}
			if p.NextBefore == 0 {
				break
			}
			f.BeforeID = p.NextBefore
		}
		if len(seen) != 7 || pages != 3 {
			t.Fatalf("%d entries on %d pages", len(seen), pages)
		}
		_, err := b.svc.Entries(ctx, ledger.Filter{Account: "1999"})
		wantReason(t, err, "unknown_account")
		tbl, err := b.svc.EntriesTable(ctx, ledger.Filter{Kind: ledger.KindPurchase}, time.UTC)
		if err != nil || len(tbl.Rows) != 14 {
			t.Fatalf("export: %v, %d rows", err, len(tbl.Rows))
		}
		for _, f := range []sheet.Format{sheet.CSV, sheet.XLSX} {
			var out bytes.Buffer
			if err := sheet.Write(&out, f, tbl); err != nil || out.Len() == 0 {
				t.Fatalf("write %s: %v", f, err)
			}
			if f == sheet.CSV && !strings.Contains(out.String(), "Merchants' prepaid balances 商户预付余额") {
				t.Fatalf("csv lacks the account's name:\n%s", out.String())
			}
		}
	})
}

func TestParseYuan(t *testing.T) {
	for in, want := range map[string]int64{"12": 1200, "12.5": 1250, "¥12.05": 1205, "0.01": 1, " 3 ": 300} {
		if got, err := ledger.ParseYuan(in); err != nil || got != want {
			t.Errorf("ParseYuan(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "-1", "1.234", "1.", "abc", "1e3", "1,000", ".5"} {
		if _, err := ledger.ParseYuan(in); err == nil {
			t.Errorf("ParseYuan(%q) accepted", in)
		}
	}
}

func TestDayRange(t *testing.T) {
	loc := time.FixedZone("CST", 8*3600)
	from, until, err := ledger.DayRange("2026-12-01", "2026-12-01", loc)
	if err != nil || !from.Equal(time.Date(2026, 12, 1, 0, 0, 0, 0, loc)) || !until.Equal(time.Date(2026, 12, 2, 0, 0, 0, 0, loc)) {
		t.Fatalf("one day: %v %v %v", from, until, err)
	}
	if _, _, err := ledger.DayRange("2026-12-02", "2026-12-01", loc); err == nil {
		t.Fatal("to before from accepted")
	}
	if _, _, err := ledger.DayRange("12/01", "", loc); err == nil {
		t.Fatal("a bad date accepted")
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestTrialBalanceUnknownAccounts: balances of accounts no longer in the
// chart count on lines of their own, and the chart's lines keep every
// amount posted after them.
func TestTrialBalanceUnknownAccounts(t *testing.T) {
	var bs []ledger.Balance
	for i := range 40 { // enough to move the lines however append grows them
		bs = append(bs, ledger.Balance{Account: ledger.Code(fmt.Sprintf("0%03d", i)), Debit: 1})
	}
	bs = append(bs, ledger.Balance{Account: ledger.FareRevenue, Credit: 40})
	tb := ledger.TrialBalance(bs)
	if !tb.Balanced() || tb.Debit != 40 || len(tb.Lines) != len(ledger.Chart)+40 {
		t.Fatalf("trial %+v", tb)
	}
	for _, l := range tb.Lines {
		if l.Account.Code == ledger.FareRevenue && l.Net != 40 {
			t.Fatalf("fare revenue %+v", l)
		}
	}
}
