package demo

import (
	"context"
	crand "crypto/rand"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"piao/internal/audit"
	"piao/internal/benefits"
	"piao/internal/distribution"
	"piao/internal/fault"
	"piao/internal/governance"
	"piao/internal/identity"
	"piao/internal/metro"
	"piao/internal/payment/sandbox"
	"piao/internal/purchase"
	"piao/internal/tenant"
)

// MerchantLead is how long before the demo is seeded its merchants'
// story begins: they apply and are approved, buy tickets, riders claim
// them and ride, all in the hours before now, so every tap is in the past.
const MerchantLead = 4 * time.Hour

// tradeStart is when, after the story began, the merchants start trading
// (their onboarding takes the first part).
const tradeStart = 45 * time.Minute

// MerchantTradeDeps are the services and stores the merchants' trade is
// seeded through.
type MerchantTradeDeps struct {
	Benefits  *benefits.Service
	Identity  *identity.Service
	Metro     *metro.Service
	Purchases purchase.Store
	Payments  sandbox.Store
	// Distribution keeps the lists tickets are issued to.
	Distribution distribution.Store
	Audit        *audit.Log
	// BaseURL is where this server is reached (http://host:port): the
	// payments' notify and return URLs.
	BaseURL string
}

// MerchantTrade is what SeedMerchantTrade made.
type MerchantTrade struct {
	Templates int `json:"templates"`
	Campaigns int `json:"campaigns"`
	// Purchases paid and their total in fen.
	Purchases int   `json:"purchases"`
	PaidFen   int64 `json:"paid_fen"`
	Issued    int   `json:"issued"`
	Taps      int   `json:"taps"`
	Trips     int   `json:"trips"`
	Benefited int   `json:"benefited"`
	// MerchantFen is what the settled trips charged the merchants.
	MerchantFen int64 `json:"merchant_fen"`
}

// storyClock is the time of the merchants' story, moved on step by step;
// the sandbox's notifier reads it from other goroutines.
type storyClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *storyClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *storyClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// The demo riders who take part in the merchants' trade, besides the demo
// passenger: the mall's claimers, the bank's list and its code redeemers,
// passengers "rider-01" on (RiderPassword).
const (
	mallClaimers  = 24
	bankList      = 24
	codeRedeemers = 6
	bankCodes     = 50
)

// RiderPassword is the demo riders' password.
const RiderPassword = "piao-rider-2026"

// riders returns the demo riders' accounts, making those missing. They
// share one password hash: hashing is slow on purpose, and these are
// demo accounts.
func riders(ctx context.Context, ids *identity.Service, n int) ([]identity.Account, error) {
	hash := ""
	out := make([]identity.Account, 0, n)
	for i := range n {
		name := fmt.Sprintf("rider-%02d", i+1)
		a, err := ids.Store.AccountByLogin(ctx, name)
		if fault.Is(err, fault.NotFound) {
			if hash == "" {
				if hash, err = ids.HashNewPassword(ctx, RiderPassword); err != nil {
					return nil, err
				}
			}
			a, err = ids.CreateAccount(ctx, identity.NewAccount{Username: name, DisplayName: fmt.Sprintf("演示乘客 Demo rider %d", i+1),
				Phone: fmt.Sprintf("1390574%04d", i+1), Role: identity.Passenger, PasswordHash: hash, Reason: "demo rider"})
		}
		if err != nil {
			return nil, fmt.Errorf("demo rider %s: %w", name, err)
		}
		out = append(out, a)
	}
	return out, nil
}

// merchantRideStations are the stations of the merchants' riders: lines 1
// and 2 without the line 3 interchanges, so the line 3 free-ride day does
// not take their rides.
var merchantRideStations = []string{"GQX", "WCQ", "ZM", "DQQ", "XMK", "GL", "DMK", "JXQD", "ZMBL", "FQBL", "DHNL", "XP",
	"LSJC", "LS", "CCSC", "CHM", "WTDQ", "RML", "KP", "QSP"}

// SeedMerchantTrade plays the demo merchants' day, which began
// MerchantLead before now, through the services as the operator, the
// merchants and riders would: the demo admin defines the templates (a
// single ride at ¥4 a ticket, a ¥2-off voucher at ¥2, a percentage
// discount priced by value); the mall runs a single-ride campaign,
// approved by the reviewer, paid for by a purchase and a top-up at the
// sandbox gateway, claimed by the demo passenger and demo riders, and
// keeps a voucher campaign as a draft; the bank runs a ¥2-off campaign,
// bought, approved, issued to a list of demo riders' phones (one ticket
// taken back) and as a batch of codes (some redeemed), and has a discount
// campaign waiting for review.
// Then the holders ride in the hours before now; their taps are cleared
// and settled, charging the merchants what their tickets saved.
//
// Purchases are paid as a merchant would pay them: a pending purchase, its
// sandbox payment paid, and the signed notification the sandbox sends
// verified and handled by the purchase service, in this process. It does
// nothing when the mall has campaigns or the merchants were not onboarded
// (a demo database older than them); call it after SeedMerchants and
// SeedBenefits (which seeds only a database without campaigns).
func SeedMerchantTrade(ctx context.Context, d MerchantTradeDeps, now time.Time) (MerchantTrade, error) {
	var out MerchantTrade
	mall, bank := tenant.Merchant(MallMerchant), tenant.Merchant(BankMerchant)
	if cs, err := d.Benefits.Campaigns(ctx, mall, benefits.CampaignFilter{Limit: 1}); err != nil || len(cs) > 0 {
		return out, err
	}
	if _, err := d.Identity.Store.AccountByLogin(ctx, "bank"); fault.Is(err, fault.NotFound) {
		return out, nil // a demo database seeded before the merchants (see SeedMerchants)
	}
	accounts := map[string]identity.Account{}
	for _, u := range []string{"admin", "reviewer", "passenger", "merchant", "staff", "bank", "teller"} {
		a, err := d.Identity.Store.AccountByLogin(ctx, u)
		if err != nil {
			return out, fmt.Errorf("demo merchant trade: login %s (seed the merchants first): %w", u, err)
		}
		accounts[u] = a
	}
	by := func(u string) string { return governance.Actor(accounts[u].ID, accounts[u].Username) }
	as := func(u string) context.Context {
		a := accounts[u]
		return audit.WithActor(ctx, audit.Actor{AccountID: a.ID, Username: a.Username, Role: string(a.Role)})
	}

	clock := &storyClock{t: now.Add(-MerchantLead + tradeStart)}
	bs := d.Benefits.WithClock(clock.Now)
	pay, err := newDemoPayments(d, bs, clock)
	if err != nil {
		return out, err
	}

	// The operator's templates.
	templates := []benefits.Template{
		{Kind: benefits.SingleRide, NameZH: "单程票", NameEN: "Single ride", UnitPrice: 400,
			DescriptionZH: "一张票乘一次地铁，任意站间", DescriptionEN: "One metro ride between any stations"},
		{Kind: benefits.AmountOff, NameZH: "两元抵用券", NameEN: "¥2-off voucher", UnitPrice: 200, MaxAmountOff: 200,
			DescriptionZH: "每次乘车抵扣至多 2 元", DescriptionEN: "Takes up to ¥2 off a ride"},
		{Kind: benefits.Percentage, NameZH: "折扣券", NameEN: "Percentage discount", MaxPercentOff: 50, MaxCap: 500,
			DescriptionZH: "按比例优惠，按预存金额计费", DescriptionEN: "A share off the fare, drawn from a prepaid value budget"},
	}
	for i := range templates {
		if templates[i], err = bs.CreateTemplate(as("admin"), templates[i], by("admin")); err != nil {
			return out, fmt.Errorf("demo template %s: %w", templates[i].NameZH, err)
		}
		out.Templates++
	}
	single, voucher, discount := templates[0], templates[1], templates[2]
	clock.advance(5 * time.Minute)

	// campaign makes a merchant's product from a template and a campaign of it.
	campaign := func(scope tenant.Scope, admin string, t benefits.Template, p benefits.Product, c benefits.Campaign) (benefits.Campaign, error) {
		p.Feed = MetroFeed
		p, err := bs.CreateMerchantProduct(as(admin), scope, t.ID, p, by(admin))
		if err != nil {
			return c, fmt.Errorf("demo merchant product %s: %w", p.NameZH, err)
		}
		c.ProductID, c.Starts, c.Ends = p.ID, clock.Now().Add(-time.Minute), clock.Now().AddDate(0, 0, 30)
		if c, err = bs.CreateCampaign(as(admin), scope, c, scope.Owner(), by(admin)); err != nil {
			return c, fmt.Errorf("demo merchant campaign %s: %w", c.NameZH, err)
		}
		out.Campaigns++
		return c, nil
	}
	review := func(scope tenant.Scope, who string, id int64, a benefits.Action) error {
		_, err := bs.Act(as(who), scope, id, a, by(who), "")
		return err
	}
	buy := func(scope tenant.Scope, admin string, o purchase.Order) error {
		p, err := pay.buy(as(admin), scope, accounts[admin].ID, o)
		if err != nil {
			return fmt.Errorf("demo purchase for campaign %d: %w", o.CampaignID, err)
		}
		out.Purchases++
		out.PaidFen += p.AmountFen
		clock.advance(2 * time.Minute)
		return nil
	}

	// The mall: a running single-ride campaign, bought and topped up.
	mallRide, err := campaign(mall, "merchant", single, benefits.Product{NameZH: "天汇广场乘车票", NameEN: "Tianhui Plaza ride",
		Valid: benefits.Validity{Days: 30}, Cover: benefits.Cover{Theme: "festival", Text: "天汇广场购物节"},
		InstructionsZH: "凭乘车码进出站，免费乘坐一次地铁。", InstructionsEN: "Ride the metro once for free with your ride code."},
		benefits.Campaign{NameZH: "购物节坐地铁", NameEN: "Shopping festival rides", Channels: []benefits.Channel{benefits.ClaimChannel, benefits.CodeChannel}, PerUser: 1})
	if err != nil {
		return out, err
	}
	if err := buy(mall, "merchant", purchase.Order{CampaignID: mallRide.ID, Tickets: 100}); err != nil {
		return out, err
	}
	if err := review(mall, "staff", mallRide.ID, benefits.Submit); err != nil {
		return out, err
	}
	clock.advance(10 * time.Minute)
	if err := review(tenant.All(), "reviewer", mallRide.ID, benefits.Approve); err != nil {
		return out, err
	}
	clock.advance(5 * time.Minute)
	if err := buy(mall, "merchant", purchase.Order{CampaignID: mallRide.ID, Tickets: 50}); err != nil { // the top-up
		return out, err
	}
	if _, err := campaign(mall, "staff", voucher, benefits.Product{NameZH: "会员日两元券", NameEN: "Members' day ¥2 off",
		Terms: benefits.Terms{AmountOff: 200, MinFare: 300}, Valid: benefits.Validity{Days: 7}},
		benefits.Campaign{NameZH: "会员日（草稿）", NameEN: "Members' day (draft)", Channels: []benefits.Channel{benefits.ClaimChannel}, PerUser: 1}); err != nil {
		return out, err
	}

	// The bank: a running ¥2-off campaign, bought, and a discount waiting
	// for review.
	bankVoucher, err := campaign(bank, "bank", voucher, benefits.Product{NameZH: "甬江银行乘车立减", NameEN: "Yongjiang Bank ¥2 off",
		Terms: benefits.Terms{AmountOff: 200, MinFare: 300}, Valid: benefits.Validity{Days: 30}, Cover: benefits.Cover{Theme: "event", Text: "刷甬江卡，坐地铁立减"},
		InstructionsZH: "票价满 3 元的行程立减 2 元。", InstructionsEN: "¥2 off a ride of ¥3 or more."},
		benefits.Campaign{NameZH: "持卡人乘车立减", NameEN: "Cardholders ride for less", Channels: []benefits.Channel{benefits.DirectChannel, benefits.CodeChannel}, PerUser: 2})
	if err != nil {
		return out, err
	}
	if err := buy(bank, "bank", purchase.Order{CampaignID: bankVoucher.ID, Tickets: 200}); err != nil {
		return out, err
	}
	if err := review(bank, "bank", bankVoucher.ID, benefits.Submit); err != nil {
		return out, err
	}
	clock.advance(8 * time.Minute)
	if err := review(tenant.All(), "reviewer", bankVoucher.ID, benefits.Approve); err != nil {
		return out, err
	}
	bankDiscount, err := campaign(bank, "bank", discount, benefits.Product{NameZH: "周末八折乘车", NameEN: "20 % off at weekends",
		Terms: benefits.Terms{PercentOff: 20, Cap: 300}, Scope: benefits.Scope{Weekdays: []int{6, 7}}, Valid: benefits.Validity{Days: 14}},
		benefits.Campaign{NameZH: "周末出行八折", NameEN: "Weekend trips 20 % off", Channels: []benefits.Channel{benefits.ClaimChannel}, PerUser: 1})
	if err != nil {
		return out, err
	}
	// Priced by value: the tickets cost nothing, the savings draw on ¥300.
	if err := buy(bank, "bank", purchase.Order{CampaignID: bankDiscount.ID, Tickets: 100, ValueFen: 30_000}); err != nil {
		return out, err
	}
	if err := review(bank, "bank", bankDiscount.ID, benefits.Submit); err != nil {
		return out, err
	}
	clock.advance(5 * time.Minute)

	// Riders get the tickets: the passenger and mall claimers claim, the
	// bank issues to its list and makes codes, some of them redeemed.
	rs, err := riders(ctx, d.Identity, mallClaimers+bankList+codeRedeemers)
	if err != nil {
		return out, err
	}
	holders := []int64{accounts["passenger"].ID}
	if _, err := bs.Claim(ctx, mallRide.ID, accounts["passenger"].ID); err != nil {
		return out, fmt.Errorf("demo passenger claims: %w", err)
	}
	out.Issued++
	for i := range mallClaimers {
		acct := rs[i].ID
		if _, err := bs.Claim(ctx, mallRide.ID, acct); err != nil {
			return out, fmt.Errorf("demo rider %d claims: %w", acct, err)
		}
		holders = append(holders, acct)
		out.Issued++
		clock.advance(15 * time.Second)
	}
	// The bank's list names its cardholders by phone; one of them moved
	// away before riding, and the bank takes that ticket back.
	dist := distribution.NewService(d.Distribution, distribution.Config{Benefits: bs, Audit: d.Audit, Now: clock.Now})
	roster := "phone,note\n"
	for i := range bankList {
		roster += rs[mallClaimers+i].Phone + ",甬江卡持卡人 cardholder\n"
	}
	l, entries, err := dist.Upload(as("teller"), bank, bankVoucher.ID, []byte(roster), by("teller"))
	if err != nil {
		return out, fmt.Errorf("demo bank list: %w", err)
	}
	if l.Issued != bankList {
		return out, fmt.Errorf("demo bank list issued %d of %d: %+v", l.Issued, bankList, entries)
	}
	out.Issued += l.Issued
	clock.advance(20 * time.Minute)
	gone := entries[len(entries)-1]
	if _, err := dist.RevokeList(as("teller"), bank, l.ID, gone.Line, by("teller"), "持卡人已销户 the cardholder closed the account"); err != nil {
		return out, fmt.Errorf("demo bank list revocation: %w", err)
	}
	for _, e := range entries[:len(entries)-1] {
		holders = append(holders, e.Account)
	}
	batch, err := dist.GenerateCodes(as("teller"), bank, bankVoucher.ID, bankCodes, by("teller"))
	if err != nil {
		return out, err
	}
	var codes []string
	if err := dist.Codes(ctx, bank, batch.ID, func(r benefits.CodeRow) error {
		codes = append(codes, r.Code)
		return nil
	}); err != nil {
		return out, err
	}
	clock.advance(10 * time.Minute)
	// The passenger and a few riders redeem codes handed out at a branch.
	redeemers := []int64{accounts["passenger"].ID}
	for i := range codeRedeemers {
		redeemers = append(redeemers, rs[mallClaimers+bankList+i].ID)
	}
	for i, acct := range redeemers[:min(len(redeemers), len(codes))] {
		if _, err := bs.RedeemCode(ctx, codes[i], acct); err != nil {
			return out, fmt.Errorf("demo rider %d redeems a code: %w", acct, err)
		}
		if i > 0 {
			holders = append(holders, acct)
		}
		out.Issued++
		clock.advance(time.Minute)
	}

	// The holders ride between then and a few minutes ago.
	taps := merchantTaps(holders, clock.Now().Add(5*time.Minute), now.Add(-5*time.Minute))
	for i := 0; i < len(taps); i += metro.MaxTapBatch {
		r, err := d.Metro.Ingest(ctx, taps[i:min(i+metro.MaxTapBatch, len(taps))])
		if err != nil {
			return out, err
		}
		if len(r.Refused) > 0 {
			return out, fmt.Errorf("demo merchant taps refused: %+v", r.Refused[0])
		}
		out.Taps += r.Added
	}
	cl, err := d.Metro.Clear(ctx, MetroFeed, metro.ClearOptions{Until: now})
	if err != nil {
		return out, err
	}
	st, err := d.Metro.Settle(ctx, MetroFeed, metro.SettleOptions{})
	if err != nil {
		return out, err
	}
	out.Trips, out.Benefited, out.MerchantFen = cl.Trips, st.Benefited, st.Merchant
	return out, nil
}

// merchantTaps are one or two journeys of each holder between from and
// until, on lines 1 and 2, one after the other and every tap before until;
// the same every time for the same holders and times.
func merchantTaps(holders []int64, from, until time.Time) []metro.Tap {
	if until.Sub(from) < 40*time.Minute {
		return nil
	}
	r := rand.New(rand.NewPCG(2026, 23))
	pick := func() string { return merchantRideStations[r.IntN(len(merchantRideStations))] }
	var taps []metro.Tap
	for _, acct := range holders {
		earliest := from
		for j := range 1 + r.IntN(2) {
			ride := time.Duration(10+r.IntN(8)) * time.Minute
			room := until.Sub(earliest) - ride - time.Minute
			if room <= 0 {
				break
			}
			if j == 0 {
				room /= 2 // leave time for a journey back
			}
			at := earliest.Add(time.Duration(r.Int64N(int64(room))))
			in, to := pick(), pick()
			for to == in {
				to = pick()
			}
			id := fmt.Sprintf("demo-m-%d-%d", acct, j)
			taps = append(taps,
				metro.Tap{ID: id + "-in", Feed: MetroFeed, Account: acct, Station: MetroFeed + ":" + in, Gate: "G01", Dir: metro.In, At: at},
				metro.Tap{ID: id + "-out", Feed: MetroFeed, Account: acct, Station: MetroFeed + ":" + to, Gate: "G02", Dir: metro.Out, At: at.Add(ride)})
			earliest = at.Add(ride + 20*time.Minute)
		}
	}
	return taps
}

// notifyPath is where the purchase service's payment notifications go.
const notifyPath = "/api/v1/merchant-purchases/notify"

// demoPayments buys the merchants' stock through a sandbox gateway on the
// story's clock whose notifications are delivered in this process.
type demoPayments struct {
	gw  *sandbox.Gateway
	svc *purchase.Service
}

func newDemoPayments(d MerchantTradeDeps, bs *benefits.Service, clock *storyClock) (*demoPayments, error) {
	base := strings.TrimRight(d.BaseURL, "/")
	if base == "" {
		base = "http://piao.demo.invalid"
	}
	secret := make([]byte, 32)
	crand.Read(secret)
	p := &demoPayments{}
	client := &http.Client{Transport: handlerTransport{http.HandlerFunc(p.receive)}}
	var err error
	if p.gw, err = sandbox.New(d.Payments, sandbox.Config{Secret: secret, BaseURL: base, Now: clock.Now, Client: client}); err != nil {
		return nil, err
	}
	p.svc = purchase.New(d.Purchases, purchase.Config{Now: clock.Now, Gateway: p.gw, Campaigns: bs, Audit: d.Audit,
		NotifyURL: base + notifyPath, ReturnURL: base + "/merchant/purchases/"})
	return p, nil
}

// buy orders stock, pays its payment at the sandbox and has the sandbox
// deliver the notification; the purchase must end paid.
func (p *demoPayments) buy(ctx context.Context, scope tenant.Scope, account int64, o purchase.Order) (purchase.Purchase, error) {
	pu, err := p.svc.Create(ctx, scope, account, o)
	if err != nil {
		return pu, err
	}
	if _, err := p.gw.Pay(ctx, pu.PaymentID); err != nil {
		return pu, err
	}
	if _, err := p.gw.DeliverDue(ctx); err != nil {
		return pu, err
	}
	if pu, err = p.svc.Purchase(ctx, scope, pu.ID); err != nil {
		return pu, err
	}
	if pu.Status != purchase.Paid {
		return pu, fault.Newf(fault.Internal, "demo_purchase_unpaid", "演示采购 %d 未完成支付", "demo purchase %d was not paid", pu.ID)
	}
	return pu, nil
}

// receive is the notification receiver, as the API's: verify the
// signature, apply the notification, answer "success". Another receiver's
// notification (a booking's, due meanwhile) is left to the server's own
// gateway, which retries it.
func (p *demoPayments) receive(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != notifyPath {
		http.Error(w, "not the demo's purchase notification", http.StatusServiceUnavailable)
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
	if _, err := p.svc.HandleNotification(r.Context(), n); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	io.WriteString(w, "success")
}

// handlerTransport serves HTTP requests with a handler in this process.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, r)
	return rec.Result(), nil
}
