package demo

import (
	"context"
	crand "crypto/rand"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"piao/internal/audit"
	"piao/internal/benefits"
	"piao/internal/employer"
	"piao/internal/fault"
	"piao/internal/governance"
	"piao/internal/identity"
	"piao/internal/merchant"
	"piao/internal/payment"
	"piao/internal/payment/sandbox"
	"piao/internal/sale"
	"piao/internal/tenant"
)

// EmployerMerchant is the demo employer's ID: it applies after the three
// demo merchants (SeedMerchants), so an onboarded demo numbers it 4.
const EmployerMerchant int64 = 4

// MoneyLead is how long before the demo is seeded the money story begins:
// the shop opens and the passenger buys, the employer is onboarded, tops
// up and issues the month's allowances, all before now.
const MoneyLead = 2 * time.Hour

// The demo employer's application.
var employerApplicant = applicant{"宁波甬城智造科技有限公司", "赵人事", "13800574004", "MA2N4E6T", "hr", true, ""}

// Notification paths of the sale and employer services (as the API's).
const (
	saleNotifyPath     = "/api/v1/ticket-purchases/notify"
	employerNotifyPath = "/api/v1/employer-payments/notify"
)

// MoneyDeps are the services and stores the money half of the demo is
// seeded through.
type MoneyDeps struct {
	Benefits  *benefits.Service
	Identity  *identity.Service
	Merchants *merchant.Service
	Sales     sale.Store
	Employers employer.Store
	Payments  sandbox.Store
	Audit     *audit.Log
	// BaseURL is where this server is reached: the payments' notify and
	// return URLs.
	BaseURL string
}

// Money is what SeedMoney made.
type Money struct {
	// Offers put on sale; Purchases the passenger paid, PaidFen their
	// total, Bought the tickets they issued; RefundFen what the refund of
	// one of them gave back.
	Offers    int   `json:"offers"`
	Purchases int   `json:"purchases"`
	PaidFen   int64 `json:"paid_fen"`
	Bought    int   `json:"bought"`
	RefundFen int64 `json:"refund_fen"`
	// Employer is the onboarded employer (0: not seeded now), with its
	// roster (Linked of them linked by phone, Invited invited), the
	// top-up paid, the allowances issued and the employees offboarded.
	Employer   int64 `json:"employer,omitempty"`
	Employees  int   `json:"employees"`
	Linked     int   `json:"linked"`
	Invited    int   `json:"invited"`
	TopUpFen   int64 `json:"topup_fen"`
	Allowances int   `json:"allowances"`
	Offboarded int   `json:"offboarded"`
}

// Demo shop terms.
const (
	packPriceFen   = 2000 // ten rides for ¥20
	bundlePriceFen = 1000 // three single rides for ¥10
	demoRefundBP   = 500  // 5 % refund fee
	demoRefundDays = 7
	// EmployerTopUpFen is what the demo employer prepays: ¥1,000.
	EmployerTopUpFen = 100_000
	// AllowanceRides is the demo allowance: rides a month.
	AllowanceRides = 20
	// employeeRiders is how many demo riders are on the employer's roster
	// (linked by phone); one more employee has no account and is invited.
	employeeRiders = 6
)

// SeedMoney plays the money half of the demo, which began MoneyLead before
// now, through the services as the operator, a passenger and an employer
// would: the demo admin puts an operator ten-ride pack (¥20) and "three
// single rides for ¥10" on sale (campaigns of channel purchase, approved
// by the reviewer); the demo passenger buys one of each and pays at the
// sandbox, and refunds one of the three rides. An employer (merchant 4,
// login "hr") applies and is approved, imports a roster of demo riders
// (linked by phone) and one newcomer without an account (invited), sets
// an allowance of 20 rides a month (prepaid, unused revoked on leaving)
// that the reviewer approves, tops up ¥1,000 at the sandbox, issues the
// month's allowances and offboards one employee. Payments' notifications
// are verified and handled in this process, as SeedMerchantTrade's.
//
// Each half does nothing when it was seeded before (an offer exists; the
// "hr" login exists) or when the demo it builds on is missing (the
// passenger; the three demo merchants, and no other organisation).
func SeedMoney(ctx context.Context, d MoneyDeps, now time.Time) (Money, error) {
	var out Money
	begin, step := moneyStory(now)
	clock := &storyClock{t: begin}
	bs := d.Benefits.WithClock(clock.Now)
	pay, err := newMoneyPayments(d, bs, clock)
	if err != nil {
		return out, err
	}
	if err := seedShop(ctx, d, bs, pay, clock, step, &out); err != nil {
		return out, err
	}
	if err := seedEmployer(ctx, d, bs, pay, clock, step, &out); err != nil {
		return out, err
	}
	return out, nil
}

// moneyStory is when the money story begins and how long a step of it
// is: MoneyLead before now in steps of a minute, but the allowance is
// issued in the current month (Asia/Shanghai), so a story that would begin
// last month begins at this month's first instant, in steps short enough
// for its fewer than 100 steps to end before now.
func moneyStory(now time.Time) (time.Time, time.Duration) {
	begin := now.Add(-MoneyLead)
	if start := employer.MonthOf(now).Start(); begin.Before(start) {
		begin = start
	}
	return begin, min(time.Minute, now.Sub(begin)/100)
}

// actors are demo logins by username, as audit contexts and actor names.
type actors map[string]identity.Account

func (a actors) by(u string) string { return governance.Actor(a[u].ID, a[u].Username) }

func (a actors) as(ctx context.Context, u string) context.Context {
	acct := a[u]
	return audit.WithActor(ctx, audit.Actor{AccountID: acct.ID, Username: acct.Username, Role: string(acct.Role)})
}

// lookup finds the demo logins; missing says whether one is not there.
func lookup(ctx context.Context, ids *identity.Service, usernames ...string) (actors, bool, error) {
	out := actors{}
	for _, u := range usernames {
		a, err := ids.Store.AccountByLogin(ctx, u)
		if fault.Is(err, fault.NotFound) {
			return out, true, nil
		}
		if err != nil {
			return out, false, err
		}
		out[u] = a
	}
	return out, false, nil
}

// seedShop opens the passengers' shop and plays the passenger's purchases
// and refund; nothing when an offer exists.
func seedShop(ctx context.Context, d MoneyDeps, bs *benefits.Service, pay *moneyPayments, clock *storyClock, step time.Duration, out *Money) error {
	if os, err := d.Sales.Offers(ctx, false); err != nil || len(os) > 0 {
		return err
	}
	who, missing, err := lookup(ctx, d.Identity, "admin", "reviewer", "passenger")
	if err != nil || missing {
		return err
	}
	type plan struct {
		product benefits.Product
		name    [2]string
		stock   int
		offer   sale.OfferInput
	}
	plans := []plan{
		{benefits.Product{Kind: benefits.MultiRide, NameZH: "十次畅行卡", NameEN: "Ten-ride pack", Feed: MetroFeed, Terms: benefits.Terms{Rides: 10},
			Valid: benefits.Validity{Days: 30}, Cover: benefits.Cover{Theme: "event", Text: "十次畅行 20 元"},
			InstructionsZH: "30 天内乘坐 10 次地铁，任意站间；未用次数 7 天内可退（手续费 5%）。",
			InstructionsEN: "Ten metro rides between any stations within 30 days; unused rides refundable within 7 days (5 % fee)."},
			[2]string{"十次畅行卡 20 元", "Ten rides for ¥20"}, 500,
			sale.OfferInput{Bundle: 1, PriceFen: packPriceFen, MaxPerOrder: 5, MaxPerPassenger: 10, Refund: sale.RefundRule{FeeBP: demoRefundBP, Days: demoRefundDays}, OnSale: true}},
		{benefits.Product{Kind: benefits.SingleRide, NameZH: "单程票", NameEN: "Single ride", Feed: MetroFeed,
			Valid: benefits.Validity{Days: 30}, Cover: benefits.Cover{Theme: "festival", Text: "三次 10 元"},
			InstructionsZH: "乘坐一次地铁，任意站间；未用可在 7 天内退（手续费 5%）。",
			InstructionsEN: "One metro ride between any stations; refundable unused within 7 days (5 % fee)."},
			[2]string{"三次单程 10 元", "Three single rides for ¥10"}, 3000,
			sale.OfferInput{Bundle: 3, PriceFen: bundlePriceFen, MaxPerOrder: 30, MaxPerPassenger: 60, Refund: sale.RefundRule{FeeBP: demoRefundBP, Days: demoRefundDays}, OnSale: true}},
	}
	offers := make([]sale.Offer, len(plans))
	for i, pl := range plans {
		p, err := bs.CreateProduct(who.as(ctx, "admin"), tenant.All(), pl.product, "operator", who.by("admin"))
		if err != nil {
			return fmt.Errorf("demo shop product %s: %w", pl.product.NameZH, err)
		}
		c, err := bs.CreateCampaign(who.as(ctx, "admin"), tenant.All(), benefits.Campaign{ProductID: p.ID, NameZH: pl.name[0], NameEN: pl.name[1],
			Channels: []benefits.Channel{benefits.PurchaseChannel}, Stock: pl.stock, Starts: clock.Now().Add(-time.Minute), Ends: clock.Now().AddDate(0, 0, 90)},
			"operator", who.by("admin"))
		if err != nil {
			return fmt.Errorf("demo shop campaign %s: %w", pl.name[0], err)
		}
		if _, err := bs.Act(who.as(ctx, "admin"), tenant.All(), c.ID, benefits.Submit, who.by("admin"), ""); err != nil {
			return err
		}
		clock.advance(5 * step)
		if _, err := bs.Act(who.as(ctx, "reviewer"), tenant.All(), c.ID, benefits.Approve, who.by("reviewer"), ""); err != nil {
			return fmt.Errorf("demo shop campaign %s approved: %w", pl.name[0], err)
		}
		clock.advance(step)
		in := pl.offer
		in.CampaignID = c.ID
		if offers[i], err = pay.sales.CreateOffer(who.as(ctx, "admin"), in, who.by("admin")); err != nil {
			return fmt.Errorf("demo offer %s: %w", pl.name[0], err)
		}
		out.Offers++
		clock.advance(step)
	}

	// The passenger buys a pack and a bundle of three, paying each.
	passenger := who["passenger"].ID
	var bundle sale.Purchase
	for _, o := range offers {
		p, err := pay.sales.Buy(who.as(ctx, "passenger"), passenger, o.ID, 1)
		if err != nil {
			return fmt.Errorf("demo passenger buys %s: %w", o.NameZH, err)
		}
		clock.advance(step)
		if p, err = pay.buy(ctx, p); err != nil {
			return err
		}
		out.Purchases++
		out.PaidFen += p.AmountFen
		out.Bought += len(p.TicketIDs)
		bundle = p
		clock.advance(2 * step)
	}
	// ... and, on second thoughts, refunds one of the three rides.
	clock.advance(10 * step)
	r, err := pay.sales.RefundTicket(who.as(ctx, "passenger"), passenger, bundle.TicketIDs[0])
	if err != nil {
		return fmt.Errorf("demo passenger refunds a ticket: %w", err)
	}
	if r.Status != sale.RefundDone {
		return fault.Newf(fault.Internal, "demo_refund_pending", "演示退款 %d 未完成", "demo refund of ticket %d is not done", r.TicketID)
	}
	out.RefundFen = r.AmountFen
	clock.advance(step)
	return nil
}

// seedEmployer onboards the demo employer and plays its month: roster,
// rule, top-up, allowances, one leaver; nothing when its login exists.
func seedEmployer(ctx context.Context, d MoneyDeps, bs *benefits.Service, pay *moneyPayments, clock *storyClock, step time.Duration, out *Money) error {
	if _, err := d.Identity.Store.AccountByLogin(ctx, employerApplicant.admin); !fault.Is(err, fault.NotFound) {
		return err // seeded before (or the store failed)
	}
	// The employer is merchant 4 after the three demo merchants: with
	// other organisations (or none) it would be numbered otherwise, and
	// its demo login would not work for it.
	ms, err := d.Merchants.Store.Merchants(ctx, tenant.All(), merchant.Filter{Limit: 10})
	if err != nil || len(ms) != len(applicants) {
		return err
	}
	who, missing, err := lookup(ctx, d.Identity, "reviewer")
	if err != nil || missing {
		return err
	}
	l, _ := login(employerApplicant.admin)
	svc := *d.Merchants // the same stores, on the story's clock
	svc.Now = clock.Now
	licence, err := licenceImage()
	if err != nil {
		return err
	}
	ap := employerApplicant
	r, err := svc.Apply(ctx, merchant.Application{Kind: merchant.KindEmployer, LegalName: ap.legalName, CreditCode: CreditCode(ap.org),
		Contact: merchant.Contact{Name: ap.contact, Phone: ap.phone}, AdminUsername: l.Username, AdminPassword: l.Password,
		Papers: []merchant.Upload{
			{Kind: merchant.Licence, Name: "营业执照.png", Data: licence},
			{Kind: merchant.OtherPaper, Name: "法定代表人授权书.pdf", Data: paperPDF(ap.legalName)},
		}})
	if err != nil {
		return fmt.Errorf("demo employer applies: %w", err)
	}
	if r.Merchant.ID != EmployerMerchant {
		return fmt.Errorf("demo employer was numbered %d, its login works for %d", r.Merchant.ID, EmployerMerchant)
	}
	clock.advance(5 * step)
	if _, err := svc.Review(who.as(ctx, "reviewer"), tenant.All(), r.Merchant.ID, merchant.Approve, ""); err != nil {
		return fmt.Errorf("demo employer approved: %w", err)
	}
	out.Employer = r.Merchant.ID
	clock.advance(5 * step)
	hr, _, err := lookup(ctx, d.Identity, l.Username)
	if err != nil {
		return err
	}
	for u, a := range hr {
		who[u] = a
	}
	asHR := who.as(ctx, l.Username)
	scope := tenant.Merchant(r.Merchant.ID)
	es := employer.New(d.Employers, employer.Config{Now: clock.Now, Benefits: bs, Accounts: d.Identity.Store, Merchants: d.Merchants,
		Gateway: pay.gw, NotifyURL: pay.base + employerNotifyPath, ReturnURL: pay.base + "/merchant/top-ups", Audit: d.Audit})
	pay.employers = es

	// The roster: demo riders, linked by their phones, and a newcomer
	// without an account yet, who is invited.
	rs, err := riders(ctx, d.Identity, employeeRiders)
	if err != nil {
		return err
	}
	depts := []string{"研发部", "研发部", "市场部", "财务部", "生产部", "生产部"}
	var roster strings.Builder
	roster.WriteString("工号,姓名,手机号,部门,入职日期\n")
	for i, a := range rs {
		fmt.Fprintf(&roster, "YC%03d,演示员工%d,%s,%s,2025-0%d-01\n", i+1, i+1, a.Phone, depts[i%len(depts)], 1+i%9)
	}
	fmt.Fprintf(&roster, "YC%03d,新入职员工,13905749901,市场部,\n", len(rs)+1)
	employees, err := es.Import(asHR, scope, []byte(roster.String()))
	if err != nil {
		return fmt.Errorf("demo roster: %w", err)
	}
	out.Employees = len(employees)
	for _, e := range employees {
		if e.Account != 0 {
			out.Linked++
			continue
		}
		if _, err := es.Invite(asHR, scope, e.ID); err != nil {
			return fmt.Errorf("demo employee %s invited: %w", e.Number, err)
		}
		out.Invited++
	}
	clock.advance(3 * step)

	// The allowance: 20 rides a month, prepaid, reviewed by the operator.
	rule, err := es.CreateRule(asHR, scope, employer.AllowanceRule{Rides: AllowanceRides, Feed: MetroFeed, Offboard: employer.RevokeUnused, Paying: employer.Prepaid}, who.by(l.Username))
	if err != nil {
		return fmt.Errorf("demo allowance rule: %w", err)
	}
	clock.advance(5 * step)
	if _, err := bs.Act(who.as(ctx, "reviewer"), tenant.All(), rule.CampaignID, benefits.Approve, who.by("reviewer"), ""); err != nil {
		return fmt.Errorf("demo allowance approved: %w", err)
	}
	clock.advance(2 * step)

	// The prepayment, paid at the sandbox.
	t, err := es.CreateTopUp(asHR, scope, who[l.Username].ID, EmployerTopUpFen)
	if err != nil {
		return fmt.Errorf("demo top-up: %w", err)
	}
	clock.advance(step)
	if err := pay.settle(ctx, t.PaymentID); err != nil {
		return err
	}
	if t, err = es.TopUp(ctx, scope, t.ID); err != nil {
		return err
	}
	if t.Status != employer.Paid {
		return fault.Newf(fault.Internal, "demo_topup_unpaid", "演示充值 %d 未完成支付", "demo top-up %d was not paid", t.ID)
	}
	out.TopUpFen = t.AmountFen
	clock.advance(2 * step)

	// The month's allowances, as the hourly job issues them.
	ps, err := es.RunMonth(ctx, employer.MonthOf(clock.Now()), nil)
	if err != nil {
		return fmt.Errorf("demo allowances: %w", err)
	}
	for _, p := range ps {
		if p.Refused > 0 {
			return fmt.Errorf("demo allowances: %s", p)
		}
		out.Allowances += p.Issued
	}
	clock.advance(10 * step)

	// One employee leaves: the month's unused allowance is taken back.
	leaver := employees[len(rs)-1]
	if _, _, err := es.Offboard(asHR, scope, leaver.ID, "", "离职 left the company"); err != nil {
		return fmt.Errorf("demo employee offboarded: %w", err)
	}
	out.Offboarded++
	return nil
}

// moneyPayments pays the demo's passenger purchases and employer top-ups
// through a sandbox gateway on the story's clock whose notifications are
// delivered to the sale and employer services in this process.
type moneyPayments struct {
	gw        *sandbox.Gateway
	base      string
	sales     *sale.Service
	employers *employer.Service
}

func newMoneyPayments(d MoneyDeps, bs *benefits.Service, clock *storyClock) (*moneyPayments, error) {
	base := strings.TrimRight(d.BaseURL, "/")
	if base == "" {
		base = "http://piao.demo.invalid"
	}
	secret := make([]byte, 32)
	crand.Read(secret)
	p := &moneyPayments{base: base}
	client := &http.Client{Transport: handlerTransport{http.HandlerFunc(p.receive)}}
	var err error
	if p.gw, err = sandbox.New(d.Payments, sandbox.Config{Secret: secret, BaseURL: base, Now: clock.Now, Client: client}); err != nil {
		return nil, err
	}
	p.sales = sale.New(d.Sales, sale.Config{Now: clock.Now, Gateway: p.gw, Benefits: bs, Audit: d.Audit,
		NotifyURL: base + saleNotifyPath, ReturnURL: base + "/h5/shop/purchases/"})
	return p, nil
}

// settle pays a payment at the sandbox and has the sandbox deliver its
// notification.
func (p *moneyPayments) settle(ctx context.Context, paymentID string) error {
	if _, err := p.gw.Pay(ctx, paymentID); err != nil {
		return err
	}
	_, err := p.gw.DeliverDue(ctx)
	return err
}

// buy pays a pending purchase; it must end paid with its tickets issued.
func (p *moneyPayments) buy(ctx context.Context, pu sale.Purchase) (sale.Purchase, error) {
	if err := p.settle(ctx, pu.PaymentID); err != nil {
		return pu, err
	}
	pu, err := p.sales.Purchase(ctx, pu.Buyer, pu.ID)
	if err != nil {
		return pu, err
	}
	if pu.Status != sale.Paid || !pu.Issued {
		return pu, fault.Newf(fault.Internal, "demo_purchase_unpaid", "演示购票 %d 未完成支付", "demo passenger purchase %d was not paid and issued", pu.ID)
	}
	return pu, nil
}

// receive is the notification receiver, as the API's: verify the
// signature, apply the notification, answer "success". Another receiver's
// notification is left to the server's own gateway, which retries it.
func (p *moneyPayments) receive(w http.ResponseWriter, r *http.Request) {
	var handle func(context.Context, payment.Notification) error
	switch {
	case r.URL.Path == saleNotifyPath:
		handle = func(ctx context.Context, n payment.Notification) error {
			_, err := p.sales.HandleNotification(ctx, n)
			return err
		}
	case r.URL.Path == employerNotifyPath && p.employers != nil:
		handle = func(ctx context.Context, n payment.Notification) error {
			_, err := p.employers.HandleNotification(ctx, n)
			return err
		}
	default:
		http.Error(w, "not the demo's notification", http.StatusServiceUnavailable)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	n, err := p.gw.Verify(r.Header, body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	if err := handle(r.Context(), n); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	io.WriteString(w, "success")
}
