package sale_test

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"piao/internal/benefits"
	"piao/internal/ledger"
	"piao/internal/payment"
	"piao/internal/reconcile"
	"piao/internal/sale"
	"piao/internal/store/storetest"
)

// balance is the net of an account over all parties, as it grows (debits
// for assets and expenses, credits for the others).
func (e *env) balance(t *testing.T, code ledger.Code) int64 {
	t.Helper()
	bs, err := e.s.DB.Ledger().Balances(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, b := range bs {
		if b.Account == code {
			n += b.Net()
		}
	}
	return n
}

// wantEntry fails unless the entry of key exists with external, at and
// the net postings want.
func (e *env) wantEntry(t *testing.T, key, external string, at time.Time, want map[ledger.Code]int64) ledger.Entry {
	t.Helper()
	got, err := e.s.DB.Ledger().EntryByKey(context.Background(), key)
	if err != nil {
		t.Fatalf("entry %s: %v", key, err)
	}
	if got.External != external || !got.At.Equal(at) {
		t.Errorf("entry %s: external %q at %v, want %q at %v", key, got.External, got.At, external, at)
	}
	sums := net(got)
	if len(sums) != len(want) {
		t.Errorf("entry %s postings %+v, want %v", key, got.Postings, want)
	}
	for c, v := range want {
		if sums[c] != v {
			t.Errorf("entry %s: %s %d, want %d", key, c, sums[c], v)
		}
	}
	return got
}

// otherPayment is a second payment of amount for purchase p, paid: a
// gateway taking a payment twice for one order (the sandbox answers the
// open payment of an order reference, so it is made under another one
// and notified under p's).
func (e *env) otherPayment(t *testing.T, p sale.Purchase, tag string) payment.Notification {
	t.Helper()
	ctx := context.Background()
	pay, err := e.gw.Create(ctx, payment.CreateRequest{OrderRef: "again-" + tag, AmountFen: p.AmountFen, Subject: "again", Payer: sale.Party(p.Buyer),
		NotifyURL: "http://127.0.0.1:1/n", ExpiresAt: e.clock.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if pay, err = e.gw.Pay(ctx, pay.ID); err != nil {
		t.Fatal(err)
	}
	return payment.Notification{ID: "ntf-" + pay.ID, PaymentID: pay.ID, OrderRef: sale.OrderRef(p.ID), Status: payment.Paid, AmountFen: pay.AmountFen, PaidAt: pay.PaidAt}
}

// TestLatePaymentEntries: the purchase's own payment arriving after it
// closed is entered coming in (at the time it was paid) and going out (at
// the time the gateway returned it), so clearing and refunds payable end
// at zero; a second payment of the same closed purchase is entered under
// keys of its own.
func TestLatePaymentEntries(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		e := newEnv(t, s, 0)
		ctx := context.Background()
		c := e.campaign(t, benefits.SingleRide, 0, 100)
		o := e.offer(t, sale.OfferInput{CampaignID: c.ID, Bundle: 1, PriceFen: 300, MaxPerOrder: 1, MaxPerPassenger: 1, OnSale: true})
		p, err := e.svc.Buy(ctx, e.accounts[0], o.ID, 1)
		if err != nil {
			t.Fatal(err)
		}
		n := e.pay(t, p)
		// The purchase closed (expired) before the payment's notification
		// came: it closes as the sweep closes it, racing the payment.
		e.clock.Advance(20 * time.Minute)
		if err := s.DB.Sales().UpdatePurchase(ctx, closedAt(p, e.clock.Now())); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(time.Minute)
		for range 2 {
			if out, err := e.svc.HandleNotification(ctx, n); err != nil || out != sale.OutcomeReturned {
				t.Fatalf("late payment: %v %v", out, err)
			}
		}
		got, err := e.svc.Purchase(ctx, 0, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		r, _, ok := got.ReturnOf(n.PaymentID)
		if !ok || r.AmountFen != 300 || !r.PaidAt.Equal(n.PaidAt) || r.ReturnID != sale.ReturnID(n.PaymentID) || r.ReturnedAt.IsZero() || got.ReturnedFen != 300 || len(got.Returns) != 1 {
			t.Fatalf("purchase after the return: %+v", got)
		}
		e.wantEntry(t, sale.LateKey(p.ID, n.PaymentID), n.PaymentID, n.PaidAt, map[ledger.Code]int64{ledger.GatewayClearing: 300, ledger.RefundsPayable: -300})
		e.wantEntry(t, sale.ReturnedKey(p.ID, n.PaymentID), r.ReturnID, r.ReturnedAt, map[ledger.Code]int64{ledger.GatewayClearing: -300, ledger.RefundsPayable: 300})
		if c, rp := e.balance(t, ledger.GatewayClearing), e.balance(t, ledger.RefundsPayable); c != 0 || rp != 0 {
			t.Errorf("clearing %d, refunds payable %d: want 0 and 0", c, rp)
		}

		// Another payment of the same closed purchase.
		n2 := e.otherPayment(t, p, "late")
		if out, err := e.svc.HandleNotification(ctx, n2); err != nil || out != sale.OutcomeReturned {
			t.Fatalf("second late payment: %v %v", out, err)
		}
		got, _ = e.svc.Purchase(ctx, 0, p.ID)
		if len(got.Returns) != 2 || got.ReturnedFen != 600 || got.Returns[1].PaymentID != n2.PaymentID || got.Returns[1].ReturnedAt.IsZero() {
			t.Fatalf("purchase after the second return: %+v", got)
		}
		e.wantEntry(t, sale.LateKey(p.ID, n2.PaymentID), n2.PaymentID, n2.PaidAt, map[ledger.Code]int64{ledger.GatewayClearing: 300, ledger.RefundsPayable: -300})
		if c, rp := e.balance(t, ledger.GatewayClearing), e.balance(t, ledger.RefundsPayable); c != 0 || rp != 0 {
			t.Errorf("clearing %d, refunds payable %d: want 0 and 0", c, rp)
		}
		for _, id := range []string{n.PaymentID, n2.PaymentID} {
			pay, _ := e.gw.Query(ctx, id)
			if pay.RefundedFen != 300 {
				t.Errorf("payment %s: returned %d, want 300", id, pay.RefundedFen)
			}
		}
		e.checkBooks(t)
		e.agreesWithStatement(t, []int64{p.ID}, nil)
	})
}

func closedAt(p sale.Purchase, at time.Time) sale.Purchase {
	p.Status, p.CloseReason, p.ClosedAt, p.Version = sale.Closed, sale.ClosedExpired, at, p.Version+1
	return p
}

// TestSecondPaymentOfPaidPurchase: a second payment of a paid purchase is
// returned, recorded on the purchase (so piao's side of reconciliation
// has it) and entered in and out; the purchase stays paid and issued.
func TestSecondPaymentOfPaidPurchase(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		e := newEnv(t, s, 0)
		ctx := context.Background()
		c := e.campaign(t, benefits.MultiRide, 10, 100)
		o := e.offer(t, sale.OfferInput{CampaignID: c.ID, Bundle: 1, PriceFen: 1000, MaxPerOrder: 1, MaxPerPassenger: 1, OnSale: true})
		buyer := e.accounts[0]
		p, err := e.svc.Buy(ctx, buyer, o.ID, 1)
		if err != nil {
			t.Fatal(err)
		}
		if out, err := e.svc.HandleNotification(ctx, e.pay(t, p)); err != nil || out != sale.OutcomePaid {
			t.Fatalf("payment: %v %v", out, err)
		}
		n2 := e.otherPayment(t, p, "extra")
		// Delivered three times at once: returned once, entered once.
		var wg sync.WaitGroup
		for range 3 {
			wg.Go(func() {
				if out, err := e.svc.HandleNotification(ctx, n2); err != nil || out != sale.OutcomeReturned {
					t.Errorf("second payment: %v %v", out, err)
				}
			})
		}
		wg.Wait()
		got, _ := e.svc.Purchase(ctx, buyer, p.ID)
		if got.Status != sale.Paid || !got.Issued || got.PaymentID != p.PaymentID || len(got.Returns) != 1 || got.ReturnedFen != 1000 {
			t.Fatalf("purchase after a second payment: %+v", got)
		}
		r := got.Returns[0]
		if r.PaymentID != n2.PaymentID || r.AmountFen != 1000 || r.ReturnedAt.IsZero() {
			t.Errorf("return %+v", r)
		}
		e.wantEntry(t, sale.LateKey(p.ID, n2.PaymentID), n2.PaymentID, n2.PaidAt, map[ledger.Code]int64{ledger.GatewayClearing: 1000, ledger.RefundsPayable: -1000})
		e.wantEntry(t, sale.ReturnedKey(p.ID, n2.PaymentID), r.ReturnID, r.ReturnedAt, map[ledger.Code]int64{ledger.GatewayClearing: -1000, ledger.RefundsPayable: 1000})
		if c, rp := e.balance(t, ledger.GatewayClearing), e.balance(t, ledger.RefundsPayable); c != 1000 || rp != 0 {
			t.Errorf("clearing %d, refunds payable %d: want 1000 (the first payment) and 0", c, rp)
		}
		if got := e.prepaid(t, buyer); got != 1000 {
			t.Errorf("prepaid %d, want 1000", got)
		}
		e.checkBooks(t)
		e.agreesWithStatement(t, []int64{p.ID}, nil)
	})
}

// downOnce fails the first refund asked.
type downOnce struct {
	payment.Gateway
	mu     sync.Mutex
	failed bool
}

func (d *downOnce) Refund(ctx context.Context, r payment.RefundRequest) (payment.Refund, error) {
	d.mu.Lock()
	fail := !d.failed
	d.failed = true
	d.mu.Unlock()
	if fail {
		return payment.Refund{}, errors.New("gateway down")
	}
	return d.Gateway.Refund(ctx, r)
}

// TestRefundPaidAfterMidnight: a refund accepted at 23:59:50 (Asia/
// Shanghai) while the gateway is down, and paid by the sweep at 00:00:50,
// is owed on the first day and leaves clearing on the second, as the
// gateway's statements have it; each day's ledger agrees with them.
func TestRefundPaidAfterMidnight(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		e := newEnv(t, s, 0)
		ctx := context.Background()
		e.svc = sale.New(s.DB.Sales(), sale.Config{Now: e.clock.Now, Gateway: &downOnce{Gateway: e.gw}, Benefits: e.bn,
			NotifyURL: "http://127.0.0.1:1/n", ReturnURL: "http://127.0.0.1:1/r/"})
		c := e.campaign(t, benefits.MultiRide, 10, 100)
		o := e.offer(t, sale.OfferInput{CampaignID: c.ID, Bundle: 1, PriceFen: 1000, MaxPerOrder: 5, MaxPerPassenger: 5, OnSale: true, Refund: sale.RefundRule{FeeBP: 500, Days: 7}})
		buyer := e.accounts[0]
		p, err := e.svc.Buy(ctx, buyer, o.ID, 1)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.HandleNotification(ctx, e.pay(t, p)); err != nil {
			t.Fatal(err)
		}
		p, _ = e.svc.Purchase(ctx, buyer, p.ID)
		tid := p.TicketIDs[0]
		accepted := e.clock.Advance(5*time.Hour + 59*time.Minute + 50*time.Second) // 23:59:50 in Shanghai
		r, err := e.svc.RefundTicket(ctx, buyer, tid)
		if err != nil || r.Status != sale.RefundPending {
			t.Fatalf("refund while the gateway is down: %+v %v", r, err)
		}
		e.wantEntry(t, sale.RefundKey(tid), "", accepted, map[ledger.Code]int64{ledger.PassengerPrepaid: 1000, ledger.RefundsPayable: -950, ledger.FeeIncome: -50})
		if _, err := s.DB.Ledger().EntryByKey(ctx, sale.RefundPaidKey(tid)); err == nil {
			t.Error("a refund not paid yet is entered as paid")
		}
		if rp := e.balance(t, ledger.RefundsPayable); rp != 950 {
			t.Errorf("refunds payable %d while the refund is pending, want 950 owed", rp)
		}
		e.checkBooks(t)
		paidAt := e.clock.Advance(time.Minute)
		if _, err := e.svc.Sweep(ctx); err != nil {
			t.Fatal(err)
		}
		r, err = e.svc.Refund(ctx, buyer, tid)
		if err != nil || r.Status != sale.RefundDone || !r.DoneAt.Equal(paidAt) {
			t.Fatalf("refund after the sweep: %+v %v, want done at %v", r, err, paidAt)
		}
		e.wantEntry(t, sale.RefundPaidKey(tid), sale.RefundID(tid), paidAt, map[ledger.Code]int64{ledger.RefundsPayable: 950, ledger.GatewayClearing: -950})
		if c, rp := e.balance(t, ledger.GatewayClearing), e.balance(t, ledger.RefundsPayable); c != 50 || rp != 0 {
			t.Errorf("clearing %d, refunds payable %d: want 50 (the fee kept) and 0", c, rp)
		}
		e.checkBooks(t)
		e.agreesWithStatement(t, []int64{p.ID}, []int64{tid})
	})
}

// agreesWithStatement fails unless, on every Asia/Shanghai day something
// happened, the gateway's statement, the journal's entries naming the
// gateway and piao's records of the purchases and refunds (what
// reconciliation reads of them) hold the same payments and refunds, to
// the fen.
func (e *env) agreesWithStatement(t *testing.T, purchases, refundedTickets []int64) {
	t.Helper()
	ctx := context.Background()
	var mine []reconcile.Record
	add := func(typ payment.LineType, ext string, fen int64, at time.Time, ref string) {
		mine = append(mine, reconcile.Record{Side: reconcile.Orders, Type: typ, External: ext, AmountFen: fen, At: at, Ref: ref})
	}
	for _, id := range purchases {
		p, err := e.svc.Purchase(ctx, 0, id)
		if err != nil {
			t.Fatal(err)
		}
		if p.Status == sale.Paid {
			add(payment.LinePayment, p.PaymentID, p.AmountFen, p.PaidAt, "buy")
		}
		for _, r := range p.Returns {
			add(payment.LinePayment, r.PaymentID, r.AmountFen, r.PaidAt, "buy")
			if !r.ReturnedAt.IsZero() {
				add(payment.LineRefund, r.ReturnID, r.AmountFen, r.ReturnedAt, "buy")
			}
		}
	}
	for _, tid := range refundedTickets {
		r, err := e.svc.Refund(ctx, 0, tid)
		if err != nil {
			t.Fatal(err)
		}
		if r.Status == sale.RefundDone {
			add(payment.LineRefund, r.RefundID, r.AmountFen, r.DoneAt, "buy_refund")
		}
	}
	days := map[string]time.Time{}
	for _, r := range mine {
		from, _ := payment.DayBounds(r.At)
		days[from.In(payment.Shanghai).Format(payment.DayLayout)] = from
	}
	keys := make([]string, 0, len(days))
	for d := range days {
		keys = append(keys, d)
	}
	slices.Sort(keys)
	for _, day := range keys {
		from, until := payment.DayBounds(days[day])
		lines, err := e.gw.Statement(ctx, from)
		if err != nil {
			t.Fatal(err)
		}
		records := []reconcile.Record{}
		for _, l := range lines {
			records = append(records, reconcile.Record{Side: reconcile.Statement, Type: l.Type, External: l.External(), AmountFen: l.AmountFen, At: l.At})
		}
		books, err := e.s.DB.Reconcile().LedgerRecords(ctx, from, until)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range mine {
			if !r.At.Before(from) && r.At.Before(until) {
				records = append(records, r)
			}
		}
		for _, d := range reconcile.Match(append(records, books...)) {
			t.Errorf("%s: %s", day, d.Text("en"))
		}
	}
}

// TestCoverageChecks: the journal's checks find a payment recorded as
// owed back without its entry, payments returned beyond what was entered,
// and a refund paid by the gateway without the entry of its payment.
func TestCoverageChecks(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		e := newEnv(t, s, 0)
		ctx := context.Background()
		e.svc = sale.New(s.DB.Sales(), sale.Config{Now: e.clock.Now, Gateway: &downOnce{Gateway: e.gw}, Benefits: e.bn,
			NotifyURL: "http://127.0.0.1:1/n", ReturnURL: "http://127.0.0.1:1/r/"})
		c := e.campaign(t, benefits.MultiRide, 10, 100)
		o := e.offer(t, sale.OfferInput{CampaignID: c.ID, Bundle: 1, PriceFen: 1000, MaxPerOrder: 2, MaxPerPassenger: 2, OnSale: true, Refund: sale.RefundRule{Days: 7}})
		buyer := e.accounts[0]
		p, err := e.svc.Buy(ctx, buyer, o.ID, 1)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.HandleNotification(ctx, e.pay(t, p)); err != nil {
			t.Fatal(err)
		}
		p, _ = e.svc.Purchase(ctx, buyer, p.ID)
		r, err := e.svc.RefundTicket(ctx, buyer, p.TicketIDs[0]) // the gateway is down: pending
		if err != nil || r.Status != sale.RefundPending {
			t.Fatalf("refund: %+v %v", r, err)
		}
		e.checkBooks(t)
		problems := func() []string {
			t.Helper()
			ps, err := s.DB.Ledger().Verify(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, p := range ps {
				out = append(out, p.Subject+" "+p.Detail)
			}
			return out
		}
		// A store write that skips the entries, as a bug would.
		owed := p
		owed.Returns, owed.Version = []sale.Return{{PaymentID: "pay_x", AmountFen: 1000, PaidAt: e.clock.Now(), ReturnID: sale.ReturnID("pay_x")}}, p.Version+1
		if err := s.DB.Sales().UpdatePurchase(ctx, owed); err != nil {
			t.Fatal(err)
		}
		if got := problems(); len(got) != 1 {
			t.Errorf("payment owed back without its entry: problems %q", got)
		}
		returned := owed
		returned.Returns[0].ReturnedAt, returned.ReturnedFen, returned.Version = e.clock.Now(), 1000, owed.Version+1
		if err := s.DB.Sales().UpdatePurchase(ctx, returned); err != nil {
			t.Fatal(err)
		}
		if got := problems(); len(got) != 3 {
			t.Errorf("payment returned without its entries: problems %q", got)
		}
		done := r
		done.Status, done.DoneAt, done.Version = sale.RefundDone, e.clock.Now(), r.Version+1
		if err := s.DB.Sales().UpdateRefund(ctx, done); err != nil {
			t.Fatal(err)
		}
		want := "buy_refund:" + strconv.FormatInt(r.TicketID, 10) + " refund of a bought ticket paid by the gateway without the entry of its payment"
		if got := problems(); len(got) != 4 || !slices.Contains(got, want) {
			t.Errorf("refund paid without its entry: problems %q", got)
		}
	})
}
