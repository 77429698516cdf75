// Package app wires piao together: it opens the configured storage engine,
// applies migrations, and builds the domain services and the HTTP server.
// It holds no business rules.
package app

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"piao/internal/abuse"
	"piao/internal/audit"
	"piao/internal/benefits"
	"piao/internal/booking"
	"piao/internal/distribution"
	"piao/internal/employer"
	"piao/internal/fault"
	"piao/internal/governance"
	"piao/internal/httpapi"
	"piao/internal/idempotency"
	"piao/internal/identity"
	"piao/internal/invoice"
	"piao/internal/ledger"
	"piao/internal/merchant"
	"piao/internal/metro"
	"piao/internal/network"
	"piao/internal/payment"
	"piao/internal/payment/sandbox"
	"piao/internal/purchase"
	"piao/internal/ridecode"
	"piao/internal/ridemore"
	"piao/internal/sale"
	"piao/internal/store"
	"piao/internal/store/open"
	"piao/internal/store/sealed"
	"piao/internal/subsidy"
	"piao/internal/tenant"
)

// Version is the build's version, set with -ldflags "-X piao/internal/app.Version=…".
var Version = "0.1.0-dev"

// Config selects the storage engine and its location, the keys of the
// personal data stored in it, and the abuse limits.
type Config struct {
	DataDir  string // directory of the embedded SQLite database
	Database string // postgres://… to use PostgreSQL instead of SQLite
	// Keys seal and index personal data; nil: loaded as KeyFile says
	// (open.Keys: PIAO_PII_KEYS, else the key file).
	Keys *sealed.Keyring
	// KeyFile is the personal-data key file; empty: pii-keys.json in DataDir.
	KeyFile string
	// CreateKeys creates the key file when it is absent (serve --demo).
	CreateKeys bool
	// Limits are the abuse limits (SPEC S5); the zero value (no Rules)
	// stands for abuse.Defaults().
	Limits abuse.Config
	// Now is the clock every service reads (nil: time.Now); tests that
	// move time set it.
	Now func() time.Time
}

// App is an opened piao: stores and services over one database.
type App struct {
	Engine   string
	Where    string // the database file or a redacted URL
	Network  network.Store
	Identity *identity.Service
	Catalog  *network.Catalog
	// Booking and Sandbox run once Start is called.
	Booking      *booking.Service
	Sandbox      *sandbox.Gateway
	BookingStore booking.Store
	SandboxStore sandbox.Store
	// Governance keeps the cancel limits, lists and behaviour reports; it
	// works without Start (for the CLI), and Start plugs it into booking.
	Governance *governance.Service
	Now        func() time.Time
	metroCfg   metro.Config
	db         store.Engine // the stores above are its; Migrate, Ping and Close go to it

	// IdempotencyStore keeps the results of API calls made with an Idempotency-Key.
	IdempotencyStore idempotency.Store
	// Benefits runs value-added tickets (products, campaigns, wallets); it
	// works without Start, and Start runs its claim batching and gift sweeper.
	Benefits *benefits.Service
	// benefitsCfg is what Benefits was built with; UseRideCodes adds to it.
	benefitsCfg benefits.Config
	// BenefitsStore keeps products, campaigns, tickets, gifts and redemptions.
	BenefitsStore benefits.Store
	// GovernanceStore keeps the cancel counts, lists and transactions.
	GovernanceStore governance.Store
	// MetroStore keeps gate taps, cleared trips and their settlements.
	MetroStore metro.Store
	// Metro takes gates' taps, clears them into trips and settles them.
	Metro *metro.Service
	// SubsidyStore keeps subsidy schemes and enrolments.
	SubsidyStore subsidy.Store
	// Subsidy runs subsidy schemes and enrolments; Start runs its expiry sweep.
	Subsidy *subsidy.Service
	// Guard applies the abuse limits' token buckets in this process, for
	// the API and the console alike.
	Guard *abuse.Guard
	// Audit is the one audit trail every service records its changes in
	// (fee tables, rules, lists, accounts, credentials, full-ID views…).
	Audit *audit.Log
	// Merchants runs merchant onboarding: applications, review,
	// suspension, staff invitations and grants.
	Merchants *merchant.Service
	// PageBodyLimits are pages mounted beside the API that take larger
	// bodies than it (the console's upload forms), by "METHOD /path".
	PageBodyLimits map[string]int64
	// PurchaseStore keeps merchants' batch purchases and refunds.
	PurchaseStore purchase.Store
	// PurchaseCampaigns, if set before Start, stands in for the benefits
	// service as the campaigns purchases buy stock for.
	PurchaseCampaigns purchase.Campaigns
	// Purchases runs merchants' batch purchases once Start is called with
	// a payment gateway; nil otherwise.
	Purchases *purchase.Service
	// Sales runs passengers' purchases of tickets on sale once Start is
	// called with a payment gateway; nil otherwise.
	Sales *sale.Service
	// DistributionStore keeps merchants' distribution lists (Server builds
	// the service over the Benefits of that moment).
	DistributionStore distribution.Store
	// Ledger is the journal as the finance team and merchants use it:
	// trial balance, entries, reversals, write-offs and the check.
	Ledger *ledger.Service
	// LedgerStore keeps the journal (business stores post into it in
	// their own transactions).
	LedgerStore ledger.Store
	// InvoiceStore keeps invoices; Invoices issues and serves them (Start
	// runs its sweep over merchants' purchases).
	InvoiceStore invoice.Store
	Invoices     *invoice.Service
	// EmployerStore keeps rosters, allowance rules, top-ups and bills.
	EmployerStore employer.Store
	// Employers runs employee benefits (SPEC B3); Start gives it the
	// payment gateway and runs its monthly issue.
	Employers *employer.Service
	// baseURL is where Start was told this process is reachable: claim
	// links and posters point there.
	baseURL string
}

// Open opens the configured database. It does not migrate; call Migrate.
func Open(ctx context.Context, cfg Config) (*App, error) {
	if err := open.CheckDatabase(cfg.Database); err != nil {
		return nil, err // before the keys: the first thing wrong is the first told
	}
	keys := cfg.Keys
	if keys == nil {
		var err error
		if keys, _, err = open.Keys(cfg.keyConfig()); err != nil {
			return nil, err
		}
	}
	db, err := open.Engine(ctx, cfg.Database, cfg.DataDir, keys)
	if err != nil {
		return nil, err
	}
	a := &App{Now: cfg.Now, db: db}
	if a.Now == nil {
		a.Now = time.Now
	}
	a.Engine, a.Where = db.Name(), db.Where()
	a.Network = db.Network()
	a.Audit = audit.New(db.Audit(), a.Now)
	a.Identity = identity.NewService(db.Identity(), a.Now)
	a.Identity.Audit = a.Audit
	limits := cfg.Limits
	if limits.Rules == nil {
		limits = abuse.Defaults()
	}
	a.Guard = abuse.New(limits, a.Now)
	a.Identity.Lockout = limits.Lockout
	a.Identity.SetHashSlots(limits.HashSlots, limits.HashWait)
	a.BookingStore, a.SandboxStore = db.Booking(), db.Sandbox()
	a.IdempotencyStore = db.Idempotency()
	a.GovernanceStore, a.BenefitsStore = db.Governance(), db.Benefits()
	a.Governance = governance.NewService(a.GovernanceStore, governance.Config{Now: a.Now, Audit: a.Audit})
	a.MetroStore = db.Metro()
	a.benefitsCfg = benefits.Config{Now: a.Now, Network: metroNetwork(a.Network), RiderGroups: a.MetroStore.RiderGroups, Audit: a.Audit}
	a.Benefits = benefits.NewService(a.BenefitsStore, a.benefitsCfg)
	a.SubsidyStore = db.Subsidy()
	a.PurchaseStore = db.Purchases()
	a.DistributionStore = db.Distribution()
	a.Catalog = &network.Catalog{Store: a.Network, Audit: a.Audit}
	nets := metroNetwork(a.Network)
	a.metroCfg = metro.Config{
		Now: a.Now,
		Stations: func(ctx context.Context, feed string) (map[string]bool, error) {
			n, err := nets(ctx, feed)
			return n.Stations, err
		},
		FareTable: metroFareTable(a.Network),
	}
	a.Metro = metro.NewService(a.MetroStore, a.metroCfg)
	a.Subsidy = subsidy.NewService(a.SubsidyStore, subsidyConfig(a))
	a.Merchants = merchant.NewService(db.Merchant(), a.Identity, a.Audit, a.Now)
	a.LedgerStore = db.Ledger()
	a.Ledger = ledger.NewService(a.LedgerStore, a.Audit, a.Now)
	a.InvoiceStore = db.Invoices()
	if err := a.newInvoices(invoice.Party{}, ""); err != nil {
		return nil, err
	}
	a.EmployerStore = db.Employer()
	a.Employers = a.employerService("", nil)
	return a, nil
}

// Runtime configures the long-running services of one serving process.
type Runtime struct {
	// BaseURL is where this process is reachable (http://host:port): the
	// sandbox's payment pages and its notifications to us use it.
	BaseURL string
	// Hold is how long seats stay held for payment (default 30 minutes).
	Hold time.Duration
	// PaymentSecret signs sandbox notifications; empty: one kept in the
	// database, shared by every process on it.
	PaymentSecret []byte
	// ListsEvery is how often the list rules are applied (default 1 hour).
	ListsEvery time.Duration
	// MetroEvery is how often the metro feeds' taps are cleared and their
	// trips settled (0: never by itself; the API still does it on demand).
	MetroEvery time.Duration
	// SandboxPayments runs the built-in sandbox payment gateway, whose pages
	// take no money: only for demos, tests and benchmarks. Without it (and
	// without a real gateway, which piao does not have yet) orders cannot
	// be paid: asking for a payment answers 503 no_gateway.
	SandboxPayments bool
	// PurchaseLimits bound merchants' purchases (zero: purchase.DefaultLimits).
	PurchaseLimits purchase.Limits
	// PurchaseRefunds is the refund rule of campaigns' unused value (zero:
	// purchase.DefaultRefundRules).
	PurchaseRefunds purchase.RefundRules
	// InvoiceSeller is the operator as invoices name it (empty name:
	// invoice.DefaultSeller); InvoiceTaxRate the rate they show ("6%";
	// empty: 6 %).
	InvoiceSeller  invoice.Party
	InvoiceTaxRate string
	// AllowanceEvery is how often employees' monthly allowances are issued
	// and employers' bills made (default 1 hour).
	AllowanceEvery time.Duration
}

// Start builds the booking service (and the sandbox gateway when asked
// for) and runs their committer, hold sweeper and notifier until ctx ends.
func (a *App) Start(ctx context.Context, rt Runtime) error {
	a.baseURL = rt.BaseURL
	if err := a.startInvoices(ctx, rt); err != nil {
		return err
	}
	var gw *sandbox.Gateway
	if rt.SandboxPayments {
		var err error
		if gw, err = a.sandbox(ctx, rt); err != nil {
			return err
		}
		a.Sandbox = gw
		go gw.Run(ctx)
	}
	refresh := time.Second // several processes may share PostgreSQL
	if a.Engine == "sqlite" {
		refresh = time.Hour // one process owns the file: its own commits keep the cache right
	}
	var pay payment.Gateway
	if gw != nil {
		pay = gw // a nil *Gateway in the interface would not read as "none"
	}
	a.Booking = booking.New(a.BookingStore, a.Network, booking.Config{
		Hold: rt.Hold, Now: a.Now, Refresh: refresh, Gateway: pay,
		NotifyURL: rt.BaseURL + "/api/v1/payments/notify", ReturnURL: rt.BaseURL + "/h5/orders/", WaitlistReturnURL: rt.BaseURL + "/h5/waitlist/",
		Governance: a.Governance, Audit: a.Audit,
	})
	if rt.ListsEvery <= 0 {
		rt.ListsEvery = time.Hour
	}
	go a.Booking.Run(ctx)
	a.startPurchases(ctx, rt, pay)
	a.startSales(ctx, rt, pay)
	a.startEmployers(ctx, rt, pay)
	go a.Governance.Run(ctx, rt.ListsEvery)
	go a.Benefits.Run(ctx)
	go a.Subsidy.Run(ctx, time.Hour)
	if rt.MetroEvery > 0 {
		go a.Metro.Run(ctx, rt.MetroEvery, metroFeeds(a.Network))
	}
	return nil
}

// sandbox builds the sandbox payment gateway. Its payment pages open only
// for the payer's own console session, as a real provider's pages open for
// its logged-in user.
func (a *App) sandbox(ctx context.Context, rt Runtime) (*sandbox.Gateway, error) {
	secret := rt.PaymentSecret
	if len(secret) == 0 {
		var err error
		if secret, err = booking.SharedSecret(ctx, a.BookingStore, "sandbox_payment_secret"); err != nil {
			return nil, err
		}
	}
	ids := a.Identity
	payer := func(r *http.Request) (string, bool) {
		ck, err := r.Cookie(identity.SessionCookie)
		if err != nil {
			return "", false
		}
		p, err := ids.Authenticate(r.Context(), ck.Value, identity.SessionToken)
		if err != nil {
			return "", false
		}
		return booking.PayerOf(p.Account.ID), true
	}
	return sandbox.New(a.SandboxStore, sandbox.Config{Secret: secret, BaseURL: rt.BaseURL, Now: a.Now, Payer: payer, LoginURL: "/login"})
}

// metroFeeds lists the IDs of the metro feeds.
func metroFeeds(ns network.Store) func(context.Context) ([]string, error) {
	return func(ctx context.Context) ([]string, error) {
		feeds, err := ns.Feeds(ctx)
		if err != nil {
			return nil, err
		}
		var ids []string
		for _, f := range feeds {
			if f.Mode == network.ModeMetro {
				ids = append(ids, f.ID)
			}
		}
		return ids, nil
	}
}

// metroNetwork reads what product validation needs of a metro feed: its
// stations and lines.
func metroNetwork(ns network.Store) func(context.Context, string) (benefits.Network, error) {
	return func(ctx context.Context, feed string) (benefits.Network, error) {
		lines, err := ns.MetroLines(ctx, feed)
		if err != nil {
			return benefits.Network{}, err
		}
		if len(lines) == 0 {
			return benefits.Network{}, fault.Newf(fault.Invalid, "unknown_feed", "线网 %q 没有地铁线路", "feed %q has no metro lines", feed)
		}
		n := benefits.Network{Stations: map[string]bool{}, Lines: map[string]bool{}}
		for _, l := range lines {
			n.Lines[l.ID] = true
			for _, st := range l.Stations {
				n.Stations[st.StationID] = true
			}
		}
		return n, nil
	}
}

// UseSpendRule makes every metro settlement apply a spend_tiers rule
// (SPEC M4), its discounts booked to the rule's campaign, which must
// exist. Call it before Start.
func (a *App) UseSpendRule(ctx context.Context, rule ridemore.Rule) error {
	tiers, err := rule.SpendTiers()
	if err != nil {
		return err
	}
	if _, err := a.Benefits.Campaign(ctx, tenant.All(), rule.CampaignID); err != nil {
		return fmt.Errorf("spend rule %s: campaign %d: %w", rule.ID, rule.CampaignID, err)
	}
	bs := a.Benefits
	a.metroCfg.Spend = &metro.Spend{Tiers: tiers, Campaign: func(ctx context.Context) (benefits.Campaign, error) {
		return bs.Campaign(ctx, tenant.All(), rule.CampaignID)
	}}
	a.Metro = metro.NewService(a.MetroStore, a.metroCfg)
	return nil
}

// UseRideCodes makes gates redeem rides by ride codes the verifier
// accepts (without it they are refused: no issuer keys). Call it before
// Start.
func (a *App) UseRideCodes(v *ridecode.Verifier) {
	a.benefitsCfg.RideCodes = v
	a.Benefits = benefits.NewService(a.BenefitsStore, a.benefitsCfg)
}

// metroFareTable builds a feed's fare table from its metro lines and
// distance bands as stored in the network.
func metroFareTable(ns network.Store) func(context.Context, string) (*metro.FareTable, error) {
	return func(ctx context.Context, feed string) (*metro.FareTable, error) {
		lines, err := ns.MetroLines(ctx, feed)
		if err != nil {
			return nil, err
		}
		if len(lines) == 0 {
			return nil, fault.Newf(fault.NotFound, "metro_network_not_found", "没有地铁线网 %s", "there is no metro network %s", feed)
		}
		bands, err := ns.FareBands(ctx, feed)
		if err != nil {
			return nil, err
		}
		return metro.NewFareTable(lines, bands)
	}
}

// Migrate applies pending schema migrations and returns the schema version.
func (a *App) Migrate(ctx context.Context) (int64, error) { return a.db.Migrate(ctx) }

// Ping checks the database.
func (a *App) Ping(ctx context.Context) error { return a.db.Ping(ctx) }

// Close releases the database.
func (a *App) Close() error { return a.db.Close() }

// Server builds the HTTP server; mount adds the console routes.
func (a *App) Server(mount func(*http.ServeMux)) *httpapi.Server {
	var pay payment.Gateway
	if a.Sandbox != nil {
		pay = a.Sandbox
	}
	return httpapi.New(httpapi.Deps{
		Version: Version, Catalog: a.Catalog, Identity: a.Identity,
		Booking: a.Booking, Governance: a.Governance, Benefits: a.Benefits, Metro: a.Metro, Payments: pay, Ready: a.Ping, Idempotency: idempotency.NewKeeper(a.IdempotencyStore, nil),
		Subsidy: a.Subsidy, Guard: a.Guard, Audit: a.Audit, Merchants: a.Merchants, BodyLimits: a.PageBodyLimits, Purchases: a.Purchases, Reconcile: a.Reconciliation(), Sales: a.Sales, Employers: a.Employers,
		Distribution: distribution.NewService(a.DistributionStore, distribution.Config{Benefits: a.Benefits, Audit: a.Audit, Now: a.Now}), PublicURL: a.baseURL,
		Ledger: a.Ledger, Invoices: a.Invoices,
		Mount: func(mux *http.ServeMux) {
			if a.Sandbox != nil {
				// The sandbox stands for an outside payment provider: its pages
				// are its own, not piao's routes.
				mux.Handle("/sandbox/", a.Sandbox.Handler())
			}
			if mount != nil {
				mount(mux)
			}
		},
	})
}
