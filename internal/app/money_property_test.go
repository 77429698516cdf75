package app_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"piao/internal/app"
	"piao/internal/app/apptest"
	"piao/internal/benefits"
	"piao/internal/demo"
	"piao/internal/employer"
	"piao/internal/fault"
	"piao/internal/identity"
	"piao/internal/ledger"
	"piao/internal/merchant"
	"piao/internal/metro"
	"piao/internal/payment"
	"piao/internal/purchase"
	"piao/internal/sale"
	"piao/internal/tenant"
	"piao/internal/testclock"
)

// TestMoneyProperty applies random sequences of money events through the
// real services of one app — merchants buying campaign stock and paying at
// the sandbox, payments arriving for closed purchases, finished campaigns
// refunded with a fee, passengers buying ride packs and refunding what is
// unused, an employer topping up its allowance and issuing it, riders'
// metro trips (on merchant tickets, bought tickets, the allowance and
// none) cleared and settled, and the operator reversing random entries —
// and after every step checks the books: the journal passes every check,
// the trial balance balances, and each business total computed from the
// business records (purchases, refunds, settlements, tickets, the
// sandbox's payments and refunds) equals its ledger balance, allowing for
// the reversals the test made.
//
// One app per engine serves every rapid check (opening and seeding an app
// takes far longer than a step), so the model carries over between
// checks: the totals are recomputed from the records each time, and the
// only thing the test remembers is what its reversals changed. Each rapid
// check runs a sequence of steps on that app until targetSteps were taken
// in all; the later checks do nothing unless a check failed, so a failure
// is replayed (on the app as it is then: shrinking is not exact here).
func TestMoneyProperty(t *testing.T) {
	for _, engine := range []struct {
		name string
		opts []apptest.Option
	}{{"sqlite", nil}, {"postgres", []apptest.Option{apptest.OnPostgres()}}} {
		t.Run(engine.name, func(t *testing.T) {
			w := newMoneyWorld(t, engine.opts...)
			rapid.Check(t, w.sequence)
			t.Logf("%d steps in %d sequences: %s", w.steps, w.sequences, w.counts())
		})
	}
}

// targetSteps is how many steps the rapid checks take on the shared app,
// in all: checks start once fewer have been taken.
const targetSteps = 200

// The refund rule of merchants' campaigns in the test: the refund opens an
// hour after the campaign ends and keeps 1.5 %.
const (
	refundGrace  = time.Hour
	refundFeeBP  = 150
	saleRefundBP = 500
)

// merchantCampaign is a campaign a merchant of the test runs.
type merchantCampaign struct {
	id       int64
	merchant int64
	refunded bool
}

// balanceKey is an account and party of the ledger.
type balanceKey struct {
	account ledger.Code
	party   string
}

type moneyWorld struct {
	tb    testing.TB
	ctx   context.Context
	a     *app.App
	ts    *httptest.Server
	clock *testclock.Clock

	merchants []int64
	templates []benefits.Template
	campaigns []*merchantCampaign
	offers    []sale.Offer
	riders    []int64
	tapSeq    int
	// employer is an employer organisation whose allowance campaign is
	// allowance.
	employer, allowance int64

	// adjust is what the test's reversals changed, by account and party,
	// on each account's normal side; reversed the entries it reversed.
	adjust   map[balanceKey]int64
	reversed map[int64]bool
	// settled caches settlement lines by trip (a trip is settled once).
	settled map[string]metro.Settlement

	sequences, steps int
	failed           bool
	// trail names the steps of the running sequence, for a failure's message.
	trail []string
	did   map[string]int
}

func newMoneyWorld(t *testing.T, opts ...apptest.Option) *moneyWorld {
	t.Helper()
	clock := testclock.New(time.Now().Truncate(time.Second))
	a := apptest.NewDemo(t, append(opts, apptest.WithClock(clock.Now))...)
	ts, _ := apptest.ServeRuntime(t, a, app.Runtime{SandboxPayments: true,
		PurchaseRefunds: purchase.RefundRules{Grace: refundGrace, FeeBasisPoints: refundFeeBP}}, nil)
	w := &moneyWorld{tb: t, ctx: context.Background(), a: a, ts: ts, clock: clock,
		merchants: []int64{demo.MallMerchant, demo.BankMerchant},
		adjust:    map[balanceKey]int64{}, reversed: map[int64]bool{}, settled: map[string]metro.Settlement{}, did: map[string]int{}}
	ctx := w.ctx
	for _, tpl := range []benefits.Template{
		{Kind: benefits.SingleRide, NameZH: "单程票", NameEN: "Single ride", UnitPrice: 400, DescriptionZH: "乘一次地铁", DescriptionEN: "One metro ride"},
		{Kind: benefits.AmountOff, NameZH: "两元抵用券", NameEN: "¥2 off", UnitPrice: 200, MaxAmountOff: 200, DescriptionZH: "每次抵扣至多 2 元", DescriptionEN: "Up to ¥2 off a ride"},
	} {
		tpl, err := a.Benefits.CreateTemplate(ctx, tpl, "admin")
		if err != nil {
			t.Fatal(err)
		}
		w.templates = append(w.templates, tpl)
	}
	for i := range 4 {
		acct, err := a.Identity.CreateAccount(ctx, identity.NewAccount{Username: fmt.Sprintf("money-rider-%d", i+1), DisplayName: "乘客", Role: identity.Passenger,
			Password: "fixture-password", Phone: fmt.Sprintf("1370574%04d", i+1)})
		if err != nil {
			t.Fatal(err)
		}
		w.riders = append(w.riders, acct.ID)
	}
	// Two ride packs on sale: ten rides for ¥25.00 a ticket, and bundles
	// of three seven-ride tickets for ¥10.01 (333, 334 and 334 fen: the
	// rides' shares do not divide evenly).
	now := clock.Now()
	for _, pack := range []struct {
		rides, bundle int
		price         int64
	}{{10, 1, 2500}, {7, 3, 1001}} {
		p, err := a.Benefits.CreateProduct(ctx, tenant.All(), benefits.Product{Kind: benefits.MultiRide, NameZH: fmt.Sprintf("%d次票", pack.rides), NameEN: fmt.Sprintf("%d rides", pack.rides),
			Feed: demo.MetroFeed, Terms: benefits.Terms{Rides: pack.rides}, Valid: benefits.Validity{Days: 60}}, "operator", "admin")
		if err != nil {
			t.Fatal(err)
		}
		c, err := a.Benefits.CreateCampaign(ctx, tenant.All(), benefits.Campaign{ProductID: p.ID, NameZH: "乘客购票", NameEN: "On sale",
			Starts: now.Add(-time.Minute), Ends: now.AddDate(0, 0, 60), Channels: []benefits.Channel{benefits.PurchaseChannel}, Stock: 100_000}, "operator", "admin")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.Benefits.Act(ctx, tenant.All(), c.ID, benefits.Submit, "admin", ""); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Benefits.Act(ctx, tenant.All(), c.ID, benefits.Approve, "reviewer", ""); err != nil {
			t.Fatal(err)
		}
		o, err := a.Sales.CreateOffer(ctx, sale.OfferInput{CampaignID: c.ID, Bundle: pack.bundle, PriceFen: pack.price, MaxPerOrder: 2 * pack.bundle,
			MaxPerPassenger: 10_000, Refund: sale.RefundRule{FeeBP: saleRefundBP, Days: 30}, OnSale: true}, "admin")
		if err != nil {
			t.Fatal(err)
		}
		w.offers = append(w.offers, o)
	}
	w.newEmployer(t)
	w.checkBooks(t)
	return w
}

// newEmployer onboards an employer whose first two riders are employees,
// with a prepaid allowance of four rides a month, approved.
func (w *moneyWorld) newEmployer(t *testing.T) {
	t.Helper()
	ctx, a := w.ctx, w.a
	r, err := a.Merchants.Apply(ctx, merchant.Application{Kind: merchant.KindEmployer, LegalName: "宁波甬港物流有限公司", CreditCode: demo.CreditCode("MA2E7P4L"),
		Contact: merchant.Contact{Name: "人事", Phone: "13900574099"}, AdminUsername: "money-employer", AdminPassword: "fixture-password",
		Papers: []merchant.Upload{{Kind: merchant.Licence, Name: "licence.png", Data: apptest.PNG(t)}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Merchants.Review(ctx, tenant.All(), r.Merchant.ID, merchant.Approve, ""); err != nil {
		t.Fatal(err)
	}
	w.employer = r.Merchant.ID
	scope := tenant.Merchant(w.employer)
	for i, rider := range w.riders[:2] {
		e, err := a.Employers.Add(ctx, scope, employer.Employee{Number: fmt.Sprintf("E%d", i+1), Name: "员工", Phone: fmt.Sprintf("1370574%04d", i+1)})
		if err != nil || e.Account != rider {
			t.Fatalf("employee %d: linked to %d, %v; want rider %d", i+1, e.Account, err, rider)
		}
	}
	rule, err := a.Employers.CreateRule(ctx, scope, employer.AllowanceRule{Rides: 4, Feed: demo.MetroFeed, Offboard: employer.RevokeUnused, Paying: employer.Prepaid}, "money-employer")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Benefits.Act(ctx, tenant.All(), rule.CampaignID, benefits.Approve, "reviewer", ""); err != nil {
		t.Fatal(err)
	}
	w.allowance = rule.CampaignID
}

// sequence is one rapid check: a sequence of steps, the books checked
// after each.
func (w *moneyWorld) sequence(t *rapid.T) {
	if w.steps >= targetSteps && !w.failed {
		return
	}
	w.sequences++
	w.trail = nil
	actions := map[string]func(*rapid.T){
		"merchant starts campaign": w.startCampaign,
		"merchant tops up":         w.topUp,
		"merchant pays too late":   w.latePurchasePayment,
		"rider claims":             w.claim,
		"campaign refunded":        w.refundCampaign,
		"passenger buys":           w.buy,
		"passenger pays too late":  w.lateSalePayment,
		"passenger refunds":        w.refundTicket,
		// Rides are the heart of it: drawn twice as often (Repeat has no weights).
		"riders ride and settle":       w.ride,
		"riders ride again and settle": w.ride,
		"operator reverses entry":      w.reverse,
		"operator reverses reversal":   w.reverseReversal,
		"employer tops up":             w.topUpAllowance,
		"employer pays too late":       w.lateTopUp,
		"employer issues allowance":    w.issueAllowance,
	}
	steps := map[string]func(*rapid.T){"": w.check}
	for name, act := range actions {
		steps[name] = func(t *rapid.T) {
			w.trail = append(w.trail, name)
			act(t)
		}
	}
	t.Repeat(steps)
}

func (w *moneyWorld) counts() string {
	var out []string
	for k, n := range w.did {
		out = append(out, fmt.Sprintf("%s %d", k, n))
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}

// fatalf marks the world failed (so later checks replay rather than
// skip) and fails the check.
func (w *moneyWorld) fatalf(t *rapid.T, format string, args ...any) {
	t.Helper()
	w.failed = true
	t.Fatalf(format, args...)
}

// until polls done, delivering the sandbox's due notifications between
// tries, until it holds; the sandbox's own notifier may deliver them
// first. Generous deadline: CI runs on two busy cores.
func (w *moneyWorld) until(t *rapid.T, what string, done func() (bool, error)) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := w.a.Sandbox.DeliverDue(w.ctx); err != nil {
			w.fatalf(t, "%s: delivering notifications: %v", what, err)
		}
		ok, err := done()
		if err != nil {
			w.fatalf(t, "%s: %v", what, err)
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			w.fatalf(t, "%s: not done after 30 s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// buyStock buys tickets of a merchant's campaign and pays them.
func (w *moneyWorld) buyStock(t *rapid.T, c *merchantCampaign, tickets int) {
	t.Helper()
	scope := tenant.Merchant(c.merchant)
	p, err := w.a.Purchases.Create(w.ctx, scope, 1, purchase.Order{CampaignID: c.id, Tickets: tickets})
	if err != nil {
		w.fatalf(t, "purchase for campaign %d: %v", c.id, err)
	}
	if _, err := w.a.Sandbox.Pay(w.ctx, p.PaymentID); err != nil {
		w.fatalf(t, "paying purchase %d: %v", p.ID, err)
	}
	w.until(t, fmt.Sprintf("purchase %d paid", p.ID), func() (bool, error) {
		p, err := w.a.Purchases.Purchase(w.ctx, scope, p.ID)
		return p.Status == purchase.Paid, err
	})
}

func (w *moneyWorld) startCampaign(t *rapid.T) {
	m := rapid.SampledFrom(w.merchants).Draw(t, "merchant")
	tpl := rapid.SampledFrom(w.templates).Draw(t, "template")
	scope := tenant.Merchant(m)
	actor := fmt.Sprintf("merchant-%d-admin", m)
	p := benefits.Product{NameZH: "商户票", NameEN: "Merchant ticket", Feed: demo.MetroFeed, Valid: benefits.Validity{Days: 30}}
	if tpl.Kind == benefits.AmountOff {
		p.Terms = benefits.Terms{AmountOff: 200}
	}
	p, err := w.a.Benefits.CreateMerchantProduct(w.ctx, scope, tpl.ID, p, actor)
	if err != nil {
		w.fatalf(t, "merchant product: %v", err)
	}
	now := w.clock.Now()
	bc, err := w.a.Benefits.CreateCampaign(w.ctx, scope, benefits.Campaign{ProductID: p.ID, NameZH: "商户活动", NameEN: "Merchant campaign",
		Starts: now.Add(-time.Minute), Ends: now.AddDate(0, 0, 30), Channels: []benefits.Channel{benefits.ClaimChannel}}, "", actor)
	if err != nil {
		w.fatalf(t, "merchant campaign: %v", err)
	}
	c := &merchantCampaign{id: bc.ID, merchant: m}
	w.buyStock(t, c, rapid.IntRange(1, 6).Draw(t, "tickets"))
	if _, err := w.a.Benefits.Act(w.ctx, scope, c.id, benefits.Submit, actor, ""); err != nil {
		w.fatalf(t, "submitting campaign %d: %v", c.id, err)
	}
	if _, err := w.a.Benefits.Act(w.ctx, tenant.All(), c.id, benefits.Approve, "reviewer", ""); err != nil {
		w.fatalf(t, "approving campaign %d: %v", c.id, err)
	}
	w.campaigns = append(w.campaigns, c)
	w.did["campaigns"]++
	// Some riders claim its tickets at once (more may later).
	for _, rider := range rapid.SliceOfNDistinct(rapid.SampledFrom(w.riders), 0, len(w.riders), rapid.ID).Draw(t, "claimers") {
		w.claimFrom(t, c, rider)
	}
}

// running draws a campaign not refunded yet; false when there is none.
func (w *moneyWorld) running(t *rapid.T) (*merchantCampaign, bool) {
	var cs []*merchantCampaign
	for _, c := range w.campaigns {
		if !c.refunded {
			cs = append(cs, c)
		}
	}
	if len(cs) == 0 {
		return nil, false
	}
	return rapid.SampledFrom(cs).Draw(t, "campaign"), true
}

func (w *moneyWorld) topUp(t *rapid.T) {
	c, ok := w.running(t)
	if !ok {
		t.Skip("no running campaign")
	}
	w.buyStock(t, c, rapid.IntRange(1, 4).Draw(t, "tickets"))
	w.did["top-ups"]++
}

// latePurchasePayment: a merchant's purchase is not paid in its window
// and closes; the payer then pays the order anyway (a new payment of the
// same order at the channel), which bought nothing and goes back in full.
func (w *moneyWorld) latePurchasePayment(t *rapid.T) {
	c, ok := w.running(t)
	if !ok {
		t.Skip("no running campaign")
	}
	scope := tenant.Merchant(c.merchant)
	p, err := w.a.Purchases.Create(w.ctx, scope, 1, purchase.Order{CampaignID: c.id, Tickets: rapid.IntRange(1, 3).Draw(t, "tickets")})
	if err != nil {
		w.fatalf(t, "purchase: %v", err)
	}
	w.clock.Advance(purchase.DefaultLimits().PayWindow + time.Minute)
	if p, err = w.a.Purchases.Purchase(w.ctx, scope, p.ID); err != nil || p.Status != purchase.Closed {
		w.fatalf(t, "purchase %d past its window: %s %v, want closed", p.ID, p.Status, err)
	}
	w.payLate(t, purchase.OrderRef(p.ID), p.AmountFen, "/api/v1/merchant-purchases/notify", func() (bool, error) {
		p, err := w.a.Purchases.Purchase(w.ctx, scope, p.ID)
		return p.RefundedFen == p.AmountFen, err
	})
	w.did["late purchase payments"]++
}

// payLate opens a new payment of a closed order at the sandbox, pays it
// and waits until returned says it went back.
func (w *moneyWorld) payLate(t *rapid.T, ref string, amount int64, notify string, returned func() (bool, error)) {
	t.Helper()
	pay, err := w.a.Sandbox.Create(w.ctx, payment.CreateRequest{OrderRef: ref, AmountFen: amount, Subject: "late", Payer: "account:1",
		NotifyURL: w.ts.URL + notify, ReturnURL: w.ts.URL + "/", ExpiresAt: w.clock.Now().Add(15 * time.Minute)})
	if err != nil {
		w.fatalf(t, "late payment of %s: %v", ref, err)
	}
	if _, err := w.a.Sandbox.Pay(w.ctx, pay.ID); err != nil {
		w.fatalf(t, "paying %s late: %v", ref, err)
	}
	w.until(t, "late payment of "+ref+" returned", returned)
}

func (w *moneyWorld) claim(t *rapid.T) {
	c, ok := w.running(t)
	if !ok {
		t.Skip("no running campaign")
	}
	w.claimFrom(t, c, rapid.SampledFrom(w.riders).Draw(t, "rider"))
}

// claimFrom has rider claim a ticket of c (refused when all are given out).
func (w *moneyWorld) claimFrom(t *rapid.T, c *merchantCampaign, rider int64) {
	t.Helper()
	if _, err := w.a.Benefits.Claim(w.ctx, c.id, rider); err != nil && fault.As(err).Reason != "sold_out" {
		w.fatalf(t, "claiming from campaign %d: %v", c.id, err)
	}
	w.did["claims"]++
}

// refundCampaign: the operator ends a campaign; after the grace its
// merchant refunds the unused value, less the fee.
func (w *moneyWorld) refundCampaign(t *rapid.T) {
	c, ok := w.running(t)
	if !ok {
		t.Skip("no running campaign")
	}
	if !rapid.Bool().Draw(t, "ends now") {
		t.Skip("the campaign goes on") // campaigns run a while, so riders use them
	}
	if _, err := w.a.Benefits.Act(w.ctx, tenant.All(), c.id, benefits.Terminate, "admin", "活动提前结束 ended early"); err != nil {
		w.fatalf(t, "terminating campaign %d: %v", c.id, err)
	}
	w.clock.Advance(refundGrace + time.Minute)
	r, err := w.a.Purchases.RefundUnused(w.ctx, tenant.Merchant(c.merchant), c.id, 1)
	if err != nil || r.Status != purchase.RefundDone {
		w.fatalf(t, "refunding campaign %d: %+v %v", c.id, r, err)
	}
	c.refunded = true
	w.did["campaign refunds"]++
}

// buyPack orders units of an offer for rider.
func (w *moneyWorld) buyPack(t *rapid.T) (sale.Purchase, int64) {
	rider := rapid.SampledFrom(w.riders).Draw(t, "rider")
	o := rapid.SampledFrom(w.offers).Draw(t, "offer")
	p, err := w.a.Sales.Buy(w.ctx, rider, o.ID, rapid.IntRange(1, 2).Draw(t, "units"))
	if err != nil {
		w.fatalf(t, "buying offer %d: %v", o.ID, err)
	}
	return p, rider
}

func (w *moneyWorld) buy(t *rapid.T) {
	p, rider := w.buyPack(t)
	if _, err := w.a.Sandbox.Pay(w.ctx, p.PaymentID); err != nil {
		w.fatalf(t, "paying %d: %v", p.ID, err)
	}
	w.until(t, fmt.Sprintf("passenger purchase %d paid", p.ID), func() (bool, error) {
		p, err := w.a.Sales.Purchase(w.ctx, rider, p.ID)
		return p.Status == sale.Paid && p.Issued, err
	})
	w.did["packs bought"]++
}

func (w *moneyWorld) lateSalePayment(t *rapid.T) {
	p, rider := w.buyPack(t)
	w.clock.Advance(16 * time.Minute) // past the 15-minute pay window
	p, err := w.a.Sales.Purchase(w.ctx, rider, p.ID)
	if err != nil || p.Status != sale.Closed {
		w.fatalf(t, "passenger purchase %d past its window: %s %v, want closed", p.ID, p.Status, err)
	}
	w.payLate(t, sale.OrderRef(p.ID), p.AmountFen, "/api/v1/ticket-purchases/notify", func() (bool, error) {
		p, err := w.a.Sales.Purchase(w.ctx, rider, p.ID)
		return p.ReturnedFen == p.AmountFen, err
	})
	w.did["late pack payments"]++
}

func (w *moneyWorld) refundTicket(t *rapid.T) {
	rider := rapid.SampledFrom(w.riders).Draw(t, "rider")
	quotes, err := w.a.Sales.Bought(w.ctx, rider)
	if err != nil {
		w.fatalf(t, "bought tickets: %v", err)
	}
	var ids []int64
	for id, q := range quotes {
		if q.Refundable {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		t.Skip("nothing refundable")
	}
	slices.Sort(ids)
	id := rapid.SampledFrom(ids).Draw(t, "ticket")
	r, err := w.a.Sales.RefundTicket(w.ctx, rider, id)
	if err != nil || r.Status != sale.RefundDone {
		w.fatalf(t, "refunding ticket %d: %+v %v", id, r, err)
	}
	w.did["ticket refunds"]++
}

// rideStations are metro stations of the demo network (lines 1 and 2).
var rideStations = []string{"GQX", "WCQ", "ZM", "DQQ", "XMK", "GL", "DMK", "JXQD", "ZMBL", "FQBL", "DHNL", "XP", "LSJC", "LS", "CCSC", "CHM", "WTDQ", "RML", "KP", "QSP"}

// ride: a few riders each make a trip in the last half hour; their taps
// are cleared and the trips settled, using whatever tickets they hold.
func (w *moneyWorld) ride(t *rapid.T) {
	now := w.clock.Advance(30 * time.Minute)
	var taps []metro.Tap
	for _, rider := range rapid.SliceOfNDistinct(rapid.SampledFrom(w.riders), 1, len(w.riders), rapid.ID).Draw(t, "riders") {
		from := rapid.SampledFrom(rideStations).Draw(t, "from")
		to := rapid.SampledFrom(rideStations).Filter(func(s string) bool { return s != from }).Draw(t, "to")
		w.tapSeq++
		id := fmt.Sprintf("money-%d", w.tapSeq)
		taps = append(taps,
			metro.Tap{ID: id + "-in", Feed: demo.MetroFeed, Account: rider, Station: demo.MetroFeed + ":" + from, Gate: "G01", Dir: metro.In, At: now.Add(-25 * time.Minute)},
			metro.Tap{ID: id + "-out", Feed: demo.MetroFeed, Account: rider, Station: demo.MetroFeed + ":" + to, Gate: "G02", Dir: metro.Out, At: now.Add(-10 * time.Minute)})
	}
	r, err := w.a.Metro.Ingest(w.ctx, taps)
	if err != nil || len(r.Refused) > 0 {
		w.fatalf(t, "taps: %+v %v", r, err)
	}
	if _, err := w.a.Metro.Clear(w.ctx, demo.MetroFeed, metro.ClearOptions{Until: now}); err != nil {
		w.fatalf(t, "clearing: %v", err)
	}
	if _, err := w.a.Metro.Settle(w.ctx, demo.MetroFeed, metro.SettleOptions{}); err != nil {
		w.fatalf(t, "settling: %v", err)
	}
	w.did["trips"] += len(taps) / 2
}

// topUpAllowance: the employer tops up its prepaid balance and pays.
func (w *moneyWorld) topUpAllowance(t *rapid.T) {
	scope := tenant.Merchant(w.employer)
	tu, err := w.a.Employers.CreateTopUp(w.ctx, scope, 1, rapid.Int64Range(employer.MinTopUp, 5000).Draw(t, "fen"))
	if err != nil {
		w.fatalf(t, "top-up: %v", err)
	}
	if _, err := w.a.Sandbox.Pay(w.ctx, tu.PaymentID); err != nil {
		w.fatalf(t, "paying top-up %d: %v", tu.ID, err)
	}
	w.until(t, fmt.Sprintf("top-up %d paid", tu.ID), func() (bool, error) {
		tu, err := w.a.Employers.TopUp(w.ctx, scope, tu.ID)
		return tu.Status == employer.Paid, err
	})
	w.did["top-ups of the allowance"]++
}

// lateTopUp: a top-up not paid in time closes; paid afterwards, the money
// goes back.
func (w *moneyWorld) lateTopUp(t *rapid.T) {
	scope := tenant.Merchant(w.employer)
	tu, err := w.a.Employers.CreateTopUp(w.ctx, scope, 1, rapid.Int64Range(employer.MinTopUp, 5000).Draw(t, "fen"))
	if err != nil {
		w.fatalf(t, "top-up: %v", err)
	}
	w.clock.Advance(employer.PayFor + time.Minute)
	if err := w.a.Employers.Sweep(w.ctx); err != nil {
		w.fatalf(t, "top-up sweep: %v", err)
	}
	if tu, err = w.a.Employers.TopUp(w.ctx, scope, tu.ID); err != nil || tu.Status != employer.Closed {
		w.fatalf(t, "top-up %d past its window: %s %v, want closed", tu.ID, tu.Status, err)
	}
	w.payLate(t, employer.PaymentRef(false, tu.ID), tu.AmountFen, "/api/v1/employer-payments/notify", func() (bool, error) {
		tu, err := w.a.Employers.TopUp(w.ctx, scope, tu.ID)
		return tu.RefundID != "", err
	})
	w.did["late top-up payments"]++
}

// issueAllowance issues this month's allowance (once per employee and
// month: later runs issue nothing more).
func (w *moneyWorld) issueAllowance(t *rapid.T) {
	if _, err := w.a.Employers.RunNow(w.ctx, tenant.Merchant(w.employer)); err != nil {
		w.fatalf(t, "allowance run: %v", err)
	}
	w.did["allowance runs"]++
}

// entries returns the journal, newest first.
func (w *moneyWorld) entries(t *rapid.T) []ledger.Entry {
	var all []ledger.Entry
	f := ledger.Filter{Limit: 500}
	for {
		es, err := w.a.LedgerStore.Entries(w.ctx, f)
		if err != nil {
			w.fatalf(t, "entries: %v", err)
		}
		all = append(all, es...)
		if len(es) < f.Limit {
			return all
		}
		f.BeforeID = es[len(es)-1].ID
	}
}

// reverse: the operator reverses a random entry that is not a reversal;
// reversing it again is refused.
func (w *moneyWorld) reverse(t *rapid.T) {
	var ids []int64
	for _, e := range w.entries(t) {
		if e.Reverses == 0 {
			ids = append(ids, e.ID)
		}
	}
	if len(ids) == 0 {
		t.Skip("nothing posted")
	}
	id := rapid.SampledFrom(ids).Draw(t, "entry")
	r, err := w.a.Ledger.Reverse(w.ctx, id, "property test")
	if w.reversed[id] {
		if !fault.Is(err, fault.Conflict) || fault.As(err).Reason != ledger.ErrReversed.Reason {
			w.fatalf(t, "reversing entry %d twice: %v, want entry_reversed", id, err)
		}
		return
	}
	if err != nil {
		w.fatalf(t, "reversing entry %d: %v", id, err)
	}
	w.reversed[id] = true
	for _, p := range r.Postings {
		w.adjust[balanceKey{p.Account, p.Party}] += net(p)
	}
	w.did["reversals"]++
}

// reverseReversal: a reversal cannot be reversed; nothing changes.
func (w *moneyWorld) reverseReversal(t *rapid.T) {
	var ids []int64
	for _, e := range w.entries(t) {
		if e.Reverses != 0 {
			ids = append(ids, e.ID)
		}
	}
	if len(ids) == 0 {
		t.Skip("no reversal yet")
	}
	id := rapid.SampledFrom(ids).Draw(t, "reversal")
	if _, err := w.a.Ledger.Reverse(w.ctx, id, "property test"); fault.As(err) == nil || fault.As(err).Reason != ledger.ErrReverseOfRev.Reason {
		w.fatalf(t, "reversing reversal %d: %v, want entry_is_reversal", id, err)
	}
}

// net is a posting's effect on its account's balance, on the account's
// normal side.
func net(p ledger.Posting) int64 {
	a, _ := ledger.Lookup(p.Account)
	if a.Kind.DebitNormal() {
		return p.Debit - p.Credit
	}
	return p.Credit - p.Debit
}

// check is the invariant, run after every step.
func (w *moneyWorld) check(t *rapid.T) {
	w.steps++
	if err := w.books(); err != nil {
		w.fatalf(t, "after %d steps (this sequence: %s): %v", w.steps, strings.Join(w.trail, ", "), err)
	}
}

// tally counts what paid for a newly seen settled trip, for the log.
func (w *moneyWorld) tally(s metro.Settlement, charged map[int64]balanceKey) {
	switch {
	case len(s.Applied) == 0:
		w.did["trips paid by the rider"]++
	case s.Applied[0].CampaignID == w.allowance:
		w.did["trips on the allowance"]++
	case charged[s.Applied[0].CampaignID].account != "":
		w.did["trips on merchant tickets"]++
	default:
		w.did["trips on bought tickets"]++
	}
}

// checkBooks is check for a plain test.
func (w *moneyWorld) checkBooks(t *testing.T) {
	t.Helper()
	if err := w.books(); err != nil {
		t.Fatal(err)
	}
}

// checked are the accounts whose balances the business records give.
var checked = []ledger.Code{ledger.GatewayClearing, ledger.FareReceivable, ledger.MerchantPrepaid, ledger.EmployerPrepaid, ledger.PassengerPrepaid,
	ledger.RefundsPayable, ledger.FareRevenue, ledger.FeeIncome}

// books checks the journal, the trial balance and every business total
// against its balance.
func (w *moneyWorld) books() error {
	ctx := w.ctx
	problems, err := w.a.LedgerStore.Verify(ctx)
	if err != nil {
		return err
	}
	if len(problems) > 0 {
		return fmt.Errorf("ledger check: %+v", problems)
	}
	balances, err := w.a.LedgerStore.Balances(ctx, "")
	if err != nil {
		return err
	}
	if tb := ledger.TrialBalance(balances); !tb.Balanced() {
		return fmt.Errorf("trial balance: debits %d, credits %d", tb.Debit, tb.Credit)
	}
	want, err := w.businessTotals()
	if err != nil {
		return err
	}
	for k, fen := range w.adjust {
		want[k] += fen
	}
	got := map[balanceKey]int64{}
	for _, b := range balances {
		got[balanceKey{b.Account, b.Party}] = b.Net()
	}
	var diffs []string
	for _, code := range checked {
		keys := map[balanceKey]bool{}
		for k := range want {
			if k.account == code {
				keys[k] = true
			}
		}
		for k := range got {
			if k.account == code {
				keys[k] = true
			}
		}
		for k := range keys {
			if got[k] != want[k] {
				diffs = append(diffs, fmt.Sprintf("%s %s: ledger %d, business records %d", k.account, k.party, got[k], want[k]))
			}
		}
	}
	if len(diffs) > 0 {
		sort.Strings(diffs)
		return fmt.Errorf("balances differ from the business totals:\n  %s", strings.Join(diffs, "\n  "))
	}
	return nil
}

// businessTotals computes what each checked balance should be from the
// business records alone (before the test's reversals):
//
//   - a merchant's prepaid value: its paid purchases, less what settled
//     trips charged its campaigns, less its campaign refunds paid back
//     and their fees;
//   - the employer's prepaid value: its paid top-ups less what settled
//     trips charged its allowance;
//   - a passenger's prepaid value: the unused value (ledger.Unused) of
//     the tickets they bought and did not refund;
//   - fare revenue and fares receivable: the settled trips' fares and
//     riders' parts;
//   - the gateway: what the sandbox was paid less what it refunded;
//   - fees: what campaign refunds and ticket refunds kept;
//   - refunds payable: nothing (every returned payment went back).
func (w *moneyWorld) businessTotals() (map[balanceKey]int64, error) {
	ctx := w.ctx
	want := map[balanceKey]int64{}
	merchant := func(m int64) balanceKey { return balanceKey{ledger.MerchantPrepaid, tenant.OwnerOf(m)} }
	employerKey := balanceKey{ledger.EmployerPrepaid, tenant.OwnerOf(w.employer)}
	charged := map[int64]balanceKey{w.allowance: employerKey} // campaign → whose prepaid value its rides draw on
	for _, c := range w.campaigns {
		charged[c.id] = merchant(c.merchant)
	}

	ps, err := w.a.Purchases.Purchases(ctx, tenant.All(), purchase.Filter{Limit: 500})
	if err != nil {
		return nil, err
	}
	if len(ps) == 500 {
		return nil, fmt.Errorf("more purchases than the test reads")
	}
	for _, p := range ps {
		if p.Status == purchase.Paid {
			want[merchant(p.Merchant)] += p.AmountFen
		}
	}
	for _, c := range w.campaigns {
		r, err := w.a.PurchaseStore.Refund(ctx, tenant.All(), c.id)
		if fault.Is(err, fault.NotFound) {
			continue
		} else if err != nil {
			return nil, err
		}
		for _, part := range r.Parts {
			if part.Done {
				want[merchant(c.merchant)] -= part.AmountFen
			}
		}
		if r.Status == purchase.RefundDone {
			want[merchant(c.merchant)] -= r.FeeFen
			want[balanceKey{ledger.FeeIncome, ""}] += r.FeeFen
		}
	}

	for _, rider := range w.riders {
		trips, err := w.a.Metro.AccountTrips(ctx, rider, time.Unix(0, 0), w.clock.Now().Add(time.Hour))
		if err != nil {
			return nil, err
		}
		for _, tr := range trips {
			s, ok := w.settled[tr.ID]
			if !ok {
				if s, err = w.a.Metro.Settlement(ctx, tr.ID); fault.Is(err, fault.NotFound) {
					continue
				} else if err != nil {
					return nil, err
				}
				w.settled[tr.ID] = s
			}
			want[balanceKey{ledger.FareRevenue, ""}] += s.Fare
			want[balanceKey{ledger.FareReceivable, ""}] += s.Passenger
			for _, ap := range s.Applied {
				if k, ok := charged[ap.CampaignID]; ok {
					want[k] -= ap.Saving
				}
			}
			if !ok {
				w.tally(s, charged)
			}
		}
		tickets, err := w.a.Benefits.Tickets(ctx, rider)
		if err != nil {
			return nil, err
		}
		for _, tk := range tickets {
			if tk.PaidFen <= 0 || tk.PaidBy != rider {
				continue
			}
			r, err := w.a.Sales.Refund(ctx, rider, tk.ID)
			switch {
			case err == nil:
				want[balanceKey{ledger.FeeIncome, ""}] += r.FeeFen
				continue
			case !fault.Is(err, fault.NotFound):
				return nil, err
			}
			want[balanceKey{ledger.PassengerPrepaid, sale.Party(rider)}] += ledger.Unused(tk.PaidFen, tk.RidesTotal, tk.RidesTotal-tk.RidesLeft)
		}
	}

	tus, err := w.a.Employers.TopUps(ctx, tenant.Merchant(w.employer))
	if err != nil {
		return nil, err
	}
	if len(tus) == 200 {
		return nil, fmt.Errorf("more top-ups than the test reads")
	}
	for _, tu := range tus {
		if tu.Status == employer.Paid {
			want[employerKey] += tu.AmountFen
		}
	}

	far := w.clock.Now().Add(24 * time.Hour)
	paid, err := w.a.SandboxStore.PaidBetween(ctx, time.Unix(0, 0), far)
	if err != nil {
		return nil, err
	}
	for _, p := range paid {
		want[balanceKey{ledger.GatewayClearing, ""}] += p.AmountFen
	}
	refunds, err := w.a.SandboxStore.RefundsBetween(ctx, time.Unix(0, 0), far)
	if err != nil {
		return nil, err
	}
	for _, r := range refunds {
		if r.Status == payment.RefundSucceeded {
			want[balanceKey{ledger.GatewayClearing, ""}] -= r.AmountFen
		}
	}
	return want, nil
}
