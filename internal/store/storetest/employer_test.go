package storetest_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"piao/internal/benefits"
	"piao/internal/distribution"
	"piao/internal/employer"
	"piao/internal/fault"
	"piao/internal/identity"
	"piao/internal/ledger"
	"piao/internal/merchant"
	"piao/internal/payment"
	"piao/internal/store/storetest"
	"piao/internal/tenant"
)

// emNow is inside May 2026, Asia/Shanghai.
var emNow = time.Date(2026, 5, 12, 10, 0, 0, 0, time.FixedZone("CST", 8*3600))

// emOrgs reads merchants from the store, as the merchant service does.
type emOrgs struct{ st merchant.Store }

func (o emOrgs) Merchant(ctx context.Context, scope tenant.Scope, id int64) (merchant.Merchant, error) {
	return o.st.Merchant(ctx, scope, id)
}

// emFixture is an approved employer with a rule whose campaign the
// operator approved, and a roster of n employees each linked by phone.
type emFixture struct {
	svc      *employer.Service
	ben      *benefits.Service
	employer merchant.Merchant
	scope    tenant.Scope
	rule     employer.AllowanceRule
	roster   []employer.Employee
}

func emSetup(t *testing.T, s storetest.Stores, code string, n int, gw payment.Gateway, r employer.AllowanceRule) emFixture {
	t.Helper()
	ctx := context.Background()
	now := func() time.Time { return emNow }
	m := mcMerchant(code, "hr-"+code)
	m.Kind, m.LegalName = merchant.KindEmployer, "甬江科技有限公司"
	m, err := s.DB.Merchant().CreateMerchant(ctx, m, nil, []byte("tok-"+code), merchant.Event{At: mcT0, Actor: "applicant", To: merchant.Applied})
	if err != nil {
		t.Fatal(err)
	}
	ben := benefits.NewService(s.Benefits, benefits.Config{Now: now, Network: func(context.Context, string) (benefits.Network, error) { return benefits.Network{}, nil }})
	svc := employer.New(s.DB.Employer(), employer.Config{Now: now, Benefits: ben, Accounts: s.Identity, Merchants: emOrgs{s.DB.Merchant()}, Batch: 7,
		Gateway: gw, NotifyURL: "http://piao.test/api/v1/employer-payments/notify", ReturnURL: "http://piao.test/merchant/top-ups"})
	scope := tenant.Merchant(m.ID)
	var csv strings.Builder
	csv.WriteString("number,name,phone,department\n")
	for i := range n {
		phone := fmt.Sprintf("139%04d%04d", m.ID, i)
		if _, err := s.Identity.CreateAccount(ctx, identity.Account{Username: fmt.Sprintf("em%s-%d", code, i), Phone: phone, DisplayName: "员工", Role: identity.Passenger, PasswordHash: "x", CreatedAt: bnT0}); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&csv, "E%03d,员工%d,%s,研发部\n", i, i, phone)
	}
	roster, err := svc.Import(ctx, scope, []byte(csv.String()))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range roster {
		if e.Account == 0 {
			t.Fatalf("employee %s not linked by phone", e.Number)
		}
	}
	rule, err := svc.CreateRule(ctx, scope, r, "hr")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ben.Act(ctx, tenant.All(), rule.CampaignID, benefits.Approve, "reviewer", ""); err != nil {
		t.Fatal(err)
	}
	return emFixture{svc: svc, ben: ben, employer: m, scope: scope, rule: rule, roster: roster}
}

var emRule = employer.AllowanceRule{Rides: 20, Feed: "nbmetro", Offboard: employer.RevokeUnused, Paying: employer.Prepaid}

// emTickets counts each employee's allowance tickets of the fixture's
// campaign, checking each lasts to the end of the month.
func emTickets(t *testing.T, s storetest.Stores, f emFixture) map[int64]int {
	t.Helper()
	end := employer.MonthOf(emNow).End()
	got := map[int64]int{}
	for _, e := range f.roster {
		ts, err := s.Benefits.Tickets(context.Background(), e.Account)
		if err != nil {
			t.Fatal(err)
		}
		for _, tk := range ts {
			if tk.CampaignID != f.rule.CampaignID {
				continue
			}
			got[e.ID]++
			if !tk.Window.Until.Equal(end) || tk.RidesTotal != 20 {
				t.Errorf("employee %d's ticket %+v: want 20 rides until %v", e.ID, tk, end)
			}
		}
	}
	return got
}

// TestAllowanceRunResumes stops a month's run after its first batch (the
// context cancelled mid-run, as a killed process would leave it): some
// employees hold their allowance, none twice; a second run issues the
// rest, and a third nothing: every employee holds exactly one ticket for
// the month, on every engine.
func TestAllowanceRunResumes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		f := emSetup(t, s, "91330200MA2AAAAA1X", 20, nil, emRule)
		m := employer.MonthOf(emNow)
		ctx, cancel := context.WithCancel(context.Background())
		_, err := f.svc.RunMonth(ctx, m, func(p employer.AllowanceProgress) { cancel() })
		if err == nil {
			t.Fatal("a cancelled run reported no error")
		}
		first := emTickets(t, s, f)
		if len(first) == 0 || len(first) >= 20 {
			t.Fatalf("after the stopped run %d employees hold the allowance; want some, not all", len(first))
		}
		ps, err := f.svc.RunMonth(context.Background(), m, nil)
		if err != nil {
			t.Fatal(err)
		}
		if ps[0].Issued != 20-len(first) || ps[0].Again != len(first) || ps[0].Refused != 0 {
			t.Fatalf("second run = %+v; want %d issued, %d found", ps[0], 20-len(first), len(first))
		}
		if ps, err = f.svc.RunMonth(context.Background(), m, nil); err != nil || ps[0].Issued != 0 || ps[0].Again != 20 {
			t.Fatalf("third run = %+v, %v", ps, err)
		}
		for _, e := range f.roster {
			if n := emTickets(t, s, f)[e.ID]; n != 1 {
				t.Fatalf("employee %d holds %d tickets for the month", e.ID, n)
			}
		}
	})
}

// TestAllowanceRunsConcurrently runs a month twice at once (under -race in
// CI): together they issue each employee one ticket, no more.
func TestAllowanceRunsConcurrently(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		f := emSetup(t, s, "91330200MA2AAAAB1X", 30, nil, emRule)
		m := employer.MonthOf(emNow)
		var wg sync.WaitGroup
		issued := make([]int, 2)
		errs := make([]error, 2)
		for i := range 2 {
			wg.Go(func() {
				ps, err := f.svc.RunMonth(context.Background(), m, nil)
				errs[i] = err
				if err == nil {
					issued[i] = ps[0].Issued
				}
			})
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		if issued[0]+issued[1] != 30 {
			t.Fatalf("the runs issued %v; want 30 in all", issued)
		}
		got := emTickets(t, s, f)
		for _, e := range f.roster {
			if got[e.ID] != 1 {
				t.Fatalf("employee %d holds %d tickets", e.ID, got[e.ID])
			}
		}
	})
}

// TestEmployerRoster: an import with a bad line, a duplicate in the file
// or a number already on the roster is refused whole, naming line and
// column; offboarding with the revoke policy
// takes back the month's unused allowance, and the offboarded employee
// gets no more; another employer sees none of it.
func TestEmployerRoster(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := context.Background()
		f := emSetup(t, s, "91330200MA2AAAAC1X", 3, nil, emRule)
		bad := "number,name,phone\nE100,新人,13900000001\nE000,重复,13900000002\nE101,坏号,12345\nE102,同号,13900000001\n"
		_, err := f.svc.Import(ctx, f.scope, []byte(bad))
		var re *distribution.RosterError
		if !errors.As(err, &re) {
			t.Fatalf("bad roster: %v", err)
		}
		var where []string
		for _, l := range re.Lines {
			where = append(where, fmt.Sprintf("%d:%s", l.Line, l.Column))
		}
		if got := strings.Join(where, " "); got != "3:number 4:phone 5:phone" {
			t.Fatalf("errors at %s; want 3:number 4:phone 5:phone", got)
		}
		if es, _ := f.svc.Employees(ctx, f.scope, employer.Filter{}); len(es) != 3 {
			t.Fatalf("a refused import stored something: %d employees", len(es))
		}
		if _, err := f.svc.RunMonth(ctx, employer.MonthOf(emNow), nil); err != nil {
			t.Fatal(err)
		}
		e0 := f.roster[0]
		left, revoked, err := f.svc.Offboard(ctx, f.scope, e0.ID, "", "left the company")
		if err != nil || revoked != 1 || left.Status != employer.Offboarded || left.Left.IsZero() {
			t.Fatalf("offboard = %+v, %d, %v", left, revoked, err)
		}
		ts, _ := s.Benefits.Tickets(ctx, e0.Account)
		if len(ts) != 1 || ts[0].State != benefits.Revoked {
			t.Fatalf("offboarded employee's tickets: %+v", ts)
		}
		if _, _, err := f.svc.Offboard(ctx, f.scope, e0.ID, "", ""); !fault.Is(err, fault.Conflict) {
			t.Fatalf("offboarding twice: %v", err)
		}
		if ps, err := f.svc.RunMonth(ctx, employer.MonthOf(emNow), nil); err != nil || ps[0].Issued != 0 || ps[0].Again != 2 {
			t.Fatalf("run after offboarding = %+v, %v", ps, err)
		}

		other := tenant.Merchant(f.employer.ID + 1000)
		if _, err := s.DB.Employer().Employee(ctx, other, e0.ID); !fault.Is(err, fault.NotFound) {
			t.Fatalf("another employer reads an employee: %v", err)
		}
		if _, err := s.DB.Employer().UpdateEmployee(ctx, other, e0.ID, func(*employer.Employee) error { return nil }); !fault.Is(err, fault.NotFound) {
			t.Fatalf("another employer edits an employee: %v", err)
		}
	})
}

// TestEmployerMoney: a prepaid employer's paid top-up becomes its
// campaign's budget and its prepaid balance in the ledger, exactly once
// however often the gateway notifies; an invoiced employer's bill for a
// month is what the ledger says its rides drew, posted once; paying it
// clears the receivable; the ledger's checks pass.
func TestEmployerMoney(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := context.Background()
		gw := &emGateway{}
		f := emSetup(t, s, "91330200MA2AAAAD1X", 1, gw, emRule)
		top, err := f.svc.CreateTopUp(ctx, f.scope, f.employer.ID, 50_000)
		if err != nil {
			t.Fatal(err)
		}
		n := payment.Notification{ID: "n1", PaymentID: top.PaymentID, OrderRef: employer.PaymentRef(false, top.ID), Status: payment.Paid, AmountFen: 50_000, PaidAt: emNow}
		for i, want := range []employer.Outcome{employer.OutcomePaid, employer.OutcomeDuplicate} {
			if out, err := f.svc.HandleNotification(ctx, n); err != nil || out != want {
				t.Fatalf("notification %d = %v, %v", i, out, err)
			}
		}
		c, err := f.ben.Campaign(ctx, f.scope, f.rule.CampaignID)
		if err != nil || c.BudgetValue != 50_000 {
			t.Fatalf("campaign budget = %d, %v", c.BudgetValue, err)
		}
		bal, err := s.DB.Ledger().Balances(ctx, employer.Party(f.employer.ID))
		if err != nil || len(bal) != 1 || bal[0].Account != ledger.EmployerPrepaid || bal[0].Credit != 50_000 {
			t.Fatalf("prepaid balance = %+v, %v", bal, err)
		}

		inv := emRule
		inv.Paying, inv.MonthlyCreditFen = employer.Invoiced, 100_000
		g := emSetup(t, s, "91330200MA2AAAAE1X", 1, gw, inv)
		party := employer.Party(g.employer.ID)
		april := employer.MonthOf(emNow).Prev()
		// What settlement would post for the employer's rides in April.
		ride := ledger.Build("test-redemption-april", ledger.KindRedemption, "settlement:1", april.Start().Add(48*time.Hour), "",
			ledger.Debit(ledger.EmployerPrepaid, party, 1_234), ledger.Credit(ledger.FareRevenue, "", 1_234))
		if _, err := s.DB.Ledger().Post(ctx, ride); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if _, err := g.svc.IssueBills(ctx, april); err != nil {
				t.Fatal(err)
			}
		}
		bills, err := g.svc.Bills(ctx, g.scope)
		if err != nil || len(bills) != 1 || bills[0].AmountFen != 1_234 || bills[0].Month != "2026-04" || bills[0].Status != employer.Issued {
			t.Fatalf("bills = %+v, %v", bills, err)
		}
		b, err := g.svc.PayBill(ctx, g.scope, g.employer.ID, bills[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		if out, err := g.svc.HandleNotification(ctx, payment.Notification{ID: "n2", PaymentID: b.PaymentID, OrderRef: employer.PaymentRef(true, b.ID), Status: payment.Paid, AmountFen: 1_234, PaidAt: emNow}); err != nil || out != employer.OutcomePaid {
			t.Fatalf("bill payment = %v, %v", out, err)
		}
		bal, _ = s.DB.Ledger().Balances(ctx, party)
		for _, x := range bal {
			if x.Debit != x.Credit {
				t.Errorf("after the bill is paid %s/%s stands at debit %d, credit %d", x.Account, x.Party, x.Debit, x.Credit)
			}
		}
		if probs, err := s.DB.Ledger().Verify(ctx); err != nil || len(probs) != 0 {
			t.Fatalf("ledger check: %+v, %v", probs, err)
		}
	})
}

// emGateway is a gateway that creates payments and refunds, and nothing else.
type emGateway struct {
	mu sync.Mutex
	n  int
}

func (g *emGateway) Create(_ context.Context, r payment.CreateRequest) (payment.Payment, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.n++
	return payment.Payment{ID: fmt.Sprintf("pay-%d", g.n), OrderRef: r.OrderRef, AmountFen: r.AmountFen, Status: payment.Pending, PayURL: "http://pay.test/" + r.OrderRef}, nil
}

func (g *emGateway) Query(context.Context, string) (payment.Payment, error) {
	return payment.Payment{}, fault.New(fault.NotFound, "payment_not_found", "无", "none")
}

func (g *emGateway) Refund(_ context.Context, r payment.RefundRequest) (payment.Refund, error) {
	return payment.Refund{ID: r.RefundID, PaymentID: r.PaymentID, AmountFen: r.AmountFen, Status: payment.RefundSucceeded}, nil
}

func (g *emGateway) Verify(http.Header, []byte) (payment.Notification, error) {
	return payment.Notification{}, errors.New("not used")
}

// TestEmployeePhonesSealed: an employee's phone is not in the raw
// database, reads back through the store, and a key rotation seals it
// again so that the new key alone reads it.
func TestEmployeePhonesSealed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := context.Background()
		f := emSetup(t, s, "91330200MA2AAAAF1X", 1, nil, emRule)
		phone := f.roster[0].Phone
		if raw := rawDatabase(t, s.DB); bytes.Contains(raw, []byte(phone)) {
			t.Fatalf("the raw database holds the employee's phone %s", phone)
		}
		rotated := s.Keys.Rotated()
		db := reopen(t, s.DB, rotated)
		tables := map[string]bool{}
		if _, err := db.Reseal(ctx, func(table string, _ int) { tables[table] = true }); err != nil {
			t.Fatal(err)
		}
		if !tables["employees"] {
			t.Errorf("the rotation did not reseal employees: %v", tables)
		}
		retired := reopen(t, s.DB, rotated.Retired())
		e, err := retired.Employer().Employee(ctx, f.scope, f.roster[0].ID)
		if err != nil || e.Phone != phone {
			t.Fatalf("after rotation: %+v, %v", e, err)
		}
	})
}
