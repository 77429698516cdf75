package demo_test

import (
	"context"
	"testing"
	"time"

	"piao/internal/app"
	"piao/internal/app/apptest"
	"piao/internal/benefits"
	"piao/internal/demo"
	"piao/internal/identity"
	"piao/internal/merchant"
	"piao/internal/payment"
	"piao/internal/purchase"
	"piao/internal/tenant"
)

// TestSeedMerchants: the demo app (apptest.NewDemo seeds the merchants)
// is onboarded with the mall (merchant 1,
// admin "merchant", staff "staff"), the bank (merchant 2, admin "bank",
// staff "teller") and a pending application; the demo logins work for
// their merchants; seeding again adds nothing.
func TestSeedMerchants(t *testing.T) {
	for _, engine := range []struct {
		name string
		opts []apptest.Option
	}{{"sqlite", nil}, {"postgres", []apptest.Option{apptest.OnPostgres()}}} {
		t.Run(engine.name, func(t *testing.T) { testSeedMerchants(t, apptest.NewDemo(t, engine.opts...)) })
	}
}

func testSeedMerchants(t *testing.T, a *app.App) {
	ctx := context.Background()
	ms, err := a.Merchants.Merchants(ctx, tenant.All(), "")
	if err != nil {
		t.Fatal(err)
	}
	status := map[merchant.Status]int{}
	for _, m := range ms {
		status[m.Status]++
		if _, err := merchant.CheckCreditCode(m.CreditCode); err != nil {
			t.Errorf("merchant %d's credit code %s: %v", m.ID, m.CreditCode, err)
		}
		d, err := a.Merchants.Dossier(ctx, tenant.All(), m.ID)
		if err != nil || len(d.Papers) != 2 {
			t.Errorf("merchant %d's papers: %+v %v", m.ID, d.Papers, err)
		}
	}
	if len(ms) != 3 || status[merchant.Approved] != 2 || status[merchant.Applied] != 1 {
		t.Fatalf("merchants by status %v, want 2 approved and 1 applied", status)
	}
	for _, l := range demo.Logins {
		if l.Merchant == demo.EmployerMerchant {
			continue // the employer is onboarded by SeedMoney (TestSeedMoney)
		}
		acct, err := a.Identity.Store.AccountByLogin(ctx, l.Username)
		if err != nil {
			t.Fatalf("demo login %s: %v", l.Username, err)
		}
		if acct.Merchant != l.Merchant || acct.Role != l.Role || len(acct.Grants) != len(l.Grants) {
			t.Errorf("demo login %s is %s of merchant %d with %v; want %s of %d with %v", l.Username, acct.Role, acct.Merchant, acct.Grants, l.Role, l.Merchant, l.Grants)
		}
		if _, _, err := a.Identity.Login(ctx, l.Username, l.Password, identity.APIToken); err != nil {
			t.Errorf("demo login %s: %v", l.Username, err)
		}
	}
	for id, admin := range map[int64]string{demo.MallMerchant: "merchant", demo.BankMerchant: "bank"} {
		m, err := a.Merchants.Merchant(ctx, tenant.Merchant(id), id)
		if err != nil || m.Status != merchant.Approved || m.AdminUsername != admin {
			t.Errorf("merchant %d: %+v %v; want approved with admin %s", id, m, err, admin)
		}
		staff, err := a.Merchants.Staff(ctx, tenant.Merchant(id))
		if err != nil || len(staff) != 2 {
			t.Errorf("merchant %d's accounts: %d %v; want its admin and one staff member", id, len(staff), err)
		}
	}
	again, err := demo.SeedMerchants(ctx, a.Merchants, time.Now())
	if err != nil || again != (demo.Merchants{}) {
		t.Fatalf("seeding again: %+v %v", again, err)
	}
}

func tradeDeps(a *app.App) demo.MerchantTradeDeps {
	return demo.MerchantTradeDeps{Benefits: a.Benefits, Identity: a.Identity, Metro: a.Metro, Purchases: a.PurchaseStore, Payments: a.SandboxStore, Distribution: a.DistributionStore, Audit: a.Audit}
}

// TestSeedMerchantTrade: each running merchant campaign has a paid
// purchase (paid at the sandbox) and tickets issued; one campaign waits
// for review and one is a draft; after the riders' trips each merchant is
// charged exactly what its campaigns' tickets saved in settlement; seeding
// again writes nothing.
func TestSeedMerchantTrade(t *testing.T) {
	for _, engine := range []struct {
		name string
		opts []apptest.Option
	}{{"sqlite", nil}, {"postgres", []apptest.Option{apptest.OnPostgres()}}} {
		t.Run(engine.name, func(t *testing.T) { testSeedMerchantTrade(t, apptest.NewDemo(t, engine.opts...)) })
	}
}

func testSeedMerchantTrade(t *testing.T, a *app.App) {
	ctx := context.Background()
	if _, err := demo.SeedBenefits(ctx, a.Benefits, a.Identity, time.Now()); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tr, err := demo.SeedMerchantTrade(ctx, tradeDeps(a), now)
	if err != nil {
		t.Fatal(err)
	}
	if tr.Templates != 3 || tr.Campaigns != 4 || tr.Purchases != 4 || tr.Trips == 0 || tr.Benefited == 0 || tr.MerchantFen <= 0 {
		t.Fatalf("trade: %+v", tr)
	}
	t.Logf("trade: %+v", tr)
	if problems, err := a.LedgerStore.Verify(ctx); err != nil || len(problems) > 0 {
		t.Fatalf("ledger check after the merchants' trade: %+v, %v", problems, err)
	}
	from, to := now.Add(-demo.MerchantLead), now.Add(time.Minute)
	for _, m := range []int64{demo.MallMerchant, demo.BankMerchant} {
		scope := tenant.Merchant(m)
		cs, err := a.Benefits.Campaigns(ctx, scope, benefits.CampaignFilter{})
		if err != nil {
			t.Fatal(err)
		}
		status := map[benefits.Status]int{}
		var saved int64
		for _, c := range cs {
			if c.Owner != tenant.OwnerOf(m) {
				t.Fatalf("merchant %d sees campaign %d of %s", m, c.ID, c.Owner)
			}
			st := c.Effective(now)
			status[st]++
			uses, err := a.MetroStore.UseStats(ctx, c.ID, from, to)
			if err != nil {
				t.Fatal(err)
			}
			for _, u := range uses {
				saved += u.Saving
			}
			if st != benefits.Active {
				continue
			}
			ps, err := a.PurchaseStore.Purchases(ctx, scope, purchase.Filter{CampaignID: c.ID})
			if err != nil || len(ps) == 0 {
				t.Fatalf("campaign %d's purchases: %d %v", c.ID, len(ps), err)
			}
			for _, p := range ps {
				pay, err := a.SandboxStore.Payment(ctx, p.PaymentID)
				if p.Status != purchase.Paid || err != nil || pay.Status != payment.Paid || pay.AmountFen != p.AmountFen {
					t.Errorf("purchase %+v: payment %+v %v", p, pay, err)
				}
			}
			stats, err := a.Benefits.Stats(ctx, scope, c.ID)
			if err != nil || stats.Issued == 0 || stats.Used == 0 {
				t.Errorf("running campaign %d: %+v %v; want tickets issued and used", c.ID, stats, err)
			}
		}
		if status[benefits.Active] != 1 || len(cs) != 2 {
			t.Errorf("merchant %d's campaigns by status %v, want one running of two", m, status)
		}
		charges, err := a.Benefits.Charges(ctx, scope, from, to)
		if err != nil {
			t.Fatal(err)
		}
		var charged int64
		for _, c := range charges {
			charged += c.Fen
		}
		if charged <= 0 || charged != saved {
			t.Errorf("merchant %d charged %d fen; its campaigns' tickets saved riders %d", m, charged, saved)
		}
	}
	// One of the bank's campaigns waits for review, one of the mall's is a draft.
	for m, want := range map[int64]benefits.Status{demo.MallMerchant: benefits.Draft, demo.BankMerchant: benefits.Submitted} {
		cs, _ := a.Benefits.Campaigns(ctx, tenant.Merchant(m), benefits.CampaignFilter{})
		found := false
		for _, c := range cs {
			found = found || c.Effective(now) == want
		}
		if !found {
			t.Errorf("merchant %d has no %s campaign", m, want)
		}
	}
	again, err := demo.SeedMerchantTrade(ctx, tradeDeps(a), time.Now())
	if err != nil || again != (demo.MerchantTrade{}) {
		t.Fatalf("seeding again: %+v %v", again, err)
	}
}
