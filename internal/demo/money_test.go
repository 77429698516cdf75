package demo_test

import (
	"context"
	"testing"
	"time"

	"piao/internal/app"
	"piao/internal/app/apptest"
	"piao/internal/benefits"
	"piao/internal/demo"
	"piao/internal/employer"
	"piao/internal/identity"
	"piao/internal/ledger"
	"piao/internal/merchant"
	"piao/internal/payment"
	"piao/internal/sale"
	"piao/internal/tenant"
)

func moneyDeps(a *app.App) demo.MoneyDeps {
	return demo.MoneyDeps{Benefits: a.Benefits, Identity: a.Identity, Merchants: a.Merchants, Sales: a.SaleStore(),
		Employers: a.EmployerStore, Payments: a.SandboxStore, Audit: a.Audit}
}

// TestSeedMoney: after the demo's seeds as serve --demo runs them, the
// passenger holds the ten-ride pack and two of the three single rides
// bought, each with what it cost, the third refunded less its 5 % fee;
// the employer (merchant 4, login hr) is approved, its active linked
// employees hold this month's allowance of 20 rides, the leaver's is
// revoked and the newcomer is invited; the ledger check finds nothing and
// the ledger's prepaid balances of the passenger and the employer are
// what the business records say; every payment reconciles with the
// sandbox's statement; seeding again adds nothing.
func TestSeedMoney(t *testing.T) {
	for _, engine := range []struct {
		name string
		opts []apptest.Option
	}{{"sqlite", nil}, {"postgres", []apptest.Option{apptest.OnPostgres()}}} {
		t.Run(engine.name, func(t *testing.T) { testSeedMoney(t, apptest.NewDemo(t, engine.opts...)) })
	}
}

func testSeedMoney(t *testing.T, a *app.App) {
	ctx := context.Background()
	now := time.Now()
	if _, err := demo.SeedBenefits(ctx, a.Benefits, a.Identity, now); err != nil {
		t.Fatal(err)
	}
	if _, err := demo.SeedMerchantTrade(ctx, tradeDeps(a), now); err != nil {
		t.Fatal(err)
	}
	got, err := demo.SeedMoney(ctx, moneyDeps(a), now)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("seeded %+v", got)
	// ¥20 + ¥10; the refunded ride cost 333 fen, less 17 fen of fee.
	if got.Offers != 2 || got.Purchases != 2 || got.PaidFen != 3000 || got.Bought != 4 || got.RefundFen != 316 {
		t.Errorf("shop: %+v; want 2 offers, 2 purchases of ¥30 with 4 tickets, 316 fen refunded", got)
	}
	if got.Employer != demo.EmployerMerchant || got.Employees != 7 || got.Linked != 6 || got.Invited != 1 ||
		got.TopUpFen != demo.EmployerTopUpFen || got.Allowances != 6 || got.Offboarded != 1 {
		t.Errorf("employer: %+v; want merchant %d with 7 employees, 6 linked, 1 invited, top-up paid, 6 allowances, 1 leaver", got, demo.EmployerMerchant)
	}

	// The passenger's bought tickets and refund.
	passenger, err := a.Identity.Store.AccountByLogin(ctx, "passenger")
	if err != nil {
		t.Fatal(err)
	}
	ps, err := a.SaleStore().Purchases(ctx, sale.Filter{Buyer: passenger.ID, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	var paid, refunded int64
	var refunds []sale.Refund
	for _, p := range ps {
		if p.Status != sale.Paid || !p.Issued || !p.PaidAt.Before(now) {
			t.Errorf("purchase %d: %s, issued %v, paid at %v; want paid and issued before %v", p.ID, p.Status, p.Issued, p.PaidAt, now)
		}
		paid += p.AmountFen
		for _, id := range p.TicketIDs {
			r, err := a.SaleStore().Refund(ctx, id)
			if err == nil {
				refunds = append(refunds, r)
				refunded += r.UnusedFen
			}
		}
	}
	if len(ps) != 2 || paid != 3000 {
		t.Fatalf("the passenger's purchases: %d paying %d fen; want 2 paying 3000", len(ps), paid)
	}
	if len(refunds) != 1 || refunds[0].Status != sale.RefundDone || refunds[0].UnusedFen != 333 || refunds[0].FeeFen != 17 ||
		refunds[0].AmountFen != 316 || !refunds[0].CreatedAt.Before(now) {
		t.Fatalf("refunds %+v; want one done: 333 unused, 17 fee, 316 back, before now", refunds)
	}
	ts, err := a.Benefits.Tickets(ctx, passenger.ID)
	if err != nil {
		t.Fatal(err)
	}
	var heldValue int64
	bought := map[int64]int{} // held bought tickets by what each cost
	for _, tk := range ts {
		if tk.PaidBy != passenger.ID {
			continue
		}
		if tk.PaidFen <= 0 || tk.Channel != benefits.PurchaseChannel {
			t.Errorf("bought ticket %d: paid %d fen by channel %s", tk.ID, tk.PaidFen, tk.Channel)
		}
		if tk.State == benefits.Revoked {
			if tk.ID != refunds[0].TicketID {
				t.Errorf("ticket %d revoked, not the one refunded (%d)", tk.ID, refunds[0].TicketID)
			}
			continue
		}
		bought[tk.PaidFen]++
		heldValue += ledger.Unused(tk.PaidFen, tk.RidesTotal, tk.RidesTotal-tk.RidesLeft)
	}
	if len(bought) != 3 || bought[2000] != 1 || bought[333]+bought[334] != 2 {
		t.Errorf("the passenger holds bought tickets costing %v; want the pack of 2000 fen and rides of 333 and 334", bought)
	}

	// The employer and its employees' allowance.
	_, hr, err := a.Identity.Login(ctx, "hr", "piao-hr-2026", identity.APIToken)
	if err != nil {
		t.Fatalf("login hr: %v", err)
	}
	if hr.Merchant != demo.EmployerMerchant || hr.Role != identity.MerchantAdmin {
		t.Errorf("hr is %s of merchant %d", hr.Role, hr.Merchant)
	}
	scope := tenant.Merchant(demo.EmployerMerchant)
	org, err := a.Merchants.Merchant(ctx, scope, demo.EmployerMerchant)
	if err != nil || org.Kind != merchant.KindEmployer || org.Status != merchant.Approved {
		t.Fatalf("employer %+v %v; want an approved employer", org, err)
	}
	rule, err := a.Employers.Rule(ctx, scope)
	if err != nil {
		t.Fatal(err)
	}
	c, err := a.Benefits.Campaign(ctx, scope, rule.CampaignID)
	if err != nil || c.Status != benefits.Approved || rule.Rides != demo.AllowanceRides || rule.Paying != employer.Prepaid {
		t.Fatalf("rule %+v, campaign %s %v", rule, c.Status, err)
	}
	month := employer.MonthOf(now)
	es, err := a.Employers.Employees(ctx, scope, employer.Filter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	holding, left, unlinked := 0, 0, 0
	for _, e := range es {
		if e.Account == 0 {
			unlinked++
			continue
		}
		ts, err := a.Benefits.Tickets(ctx, e.Account)
		if err != nil {
			t.Fatal(err)
		}
		var allowance []benefits.Ticket
		for _, tk := range ts {
			if tk.CampaignID == rule.CampaignID {
				allowance = append(allowance, tk)
			}
		}
		if len(allowance) != 1 || allowance[0].RidesTotal != demo.AllowanceRides || !allowance[0].Window.Until.Equal(month.End()) {
			t.Errorf("employee %s holds %+v; want one ticket of %d rides until %v", e.Number, allowance, demo.AllowanceRides, month.End())
			continue
		}
		switch {
		case e.Status == employer.Active && allowance[0].State != benefits.Revoked:
			holding++
		case e.Status != employer.Active && allowance[0].State == benefits.Revoked:
			left++
		default:
			t.Errorf("employee %s (%s) holds an allowance %s", e.Number, e.Status, allowance[0].State)
		}
	}
	if holding != 5 || left != 1 || unlinked != 1 {
		t.Errorf("%d employees hold this month's allowance, %d left with theirs revoked, %d unlinked; want 5, 1, 1", holding, left, unlinked)
	}
	tops, err := a.EmployerStore.TopUps(ctx, scope, demo.EmployerMerchant, 10)
	if err != nil {
		t.Fatal(err)
	}
	var toppedUp int64
	for _, tu := range tops {
		if tu.Status == employer.Paid {
			toppedUp += tu.AmountFen
			if !tu.PaidAt.Before(now) {
				t.Errorf("top-up %d paid at %v, not before %v", tu.ID, tu.PaidAt, now)
			}
		}
	}
	if toppedUp != demo.EmployerTopUpFen || c.BudgetValue != toppedUp {
		t.Errorf("top-ups paid %d fen, allowance budget %d; want both %d", toppedUp, c.BudgetValue, demo.EmployerTopUpFen)
	}

	// The books: nothing wrong, and the prepaid balances are the records'.
	problems, err := a.LedgerStore.Verify(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("ledger check: %+v", p)
	}
	if b := balance(t, a, ledger.PassengerPrepaid, sale.Party(passenger.ID)); b != paid-refunded || b != heldValue {
		t.Errorf("the passenger's prepaid balance is %d fen; the purchases less refunds say %d, the tickets held %d", b, paid-refunded, heldValue)
	}
	if b := balance(t, a, ledger.EmployerPrepaid, ledger.Party("merchant", demo.EmployerMerchant)); b != toppedUp-c.Spent {
		t.Errorf("the employer's prepaid balance is %d fen; top-ups less the allowance's spending say %d", b, toppedUp-c.Spent)
	}

	// Seeding again adds nothing.
	again, err := demo.SeedMoney(ctx, moneyDeps(a), time.Now())
	if err != nil || again != (demo.Money{}) {
		t.Fatalf("seeding again: %+v %v", again, err)
	}
	if ps2, _ := a.SaleStore().Purchases(ctx, sale.Filter{Limit: 100}); len(ps2) != 2 {
		t.Errorf("%d purchases after seeding again, want 2", len(ps2))
	}

	// Every payment of the story's days reconciles three ways, the story's
	// own movements (the passenger's purchases and refund, the top-up)
	// included.
	days := map[string]bool{}
	for _, at := range []time.Time{now.Add(-demo.MerchantLead), now.Add(-demo.MoneyLead), now} {
		days[at.In(payment.Shanghai).Format(payment.DayLayout)] = true
	}
	t.Run("reconciles", func(t *testing.T) {
		for d := range days {
			run, err := a.Reconciliation().Reconcile(ctx, d, nil, "test")
			if err != nil {
				t.Fatal(err)
			}
			for _, diff := range run.Differences {
				t.Errorf("%s: %s", d, diff.Text("en"))
			}
		}
	})
}

// balance is the ledger's balance of account for party.
func balance(t *testing.T, a *app.App, account ledger.Code, party string) int64 {
	t.Helper()
	bs, err := a.LedgerStore.Balances(context.Background(), party)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range bs {
		if b.Account == account {
			return b.Net()
		}
	}
	return 0
}
