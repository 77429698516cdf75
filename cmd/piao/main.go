// Command piao is the piao ticketing platform: one binary that serves the
// API and consoles, migrates the database and imports network data.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
	_ "time/tzdata" // the business runs on Asia/Shanghai wherever the binary runs

	"github.com/alecthomas/kong"

	"piao/internal/app"
	"piao/internal/demo"
	"piao/internal/governance"
	"piao/internal/gtfs"
	"piao/internal/httpapi"
	"piao/internal/invoice"
	"piao/internal/network"
	"piao/internal/purchase"
	"piao/internal/ridemore"
	"piao/internal/simulate"
)

// cli is the command line: global options and one struct per command.
type cli struct {
	DataDir    string `name:"data-dir" env:"PIAO_DATA_DIR" default:"data" help:"Directory of the embedded SQLite database."`
	Database   string `name:"database" env:"PIAO_DATABASE" help:"PostgreSQL URL (postgres://user:pass@host/db); empty uses the embedded SQLite in --data-dir."`
	PIIKeyFile string `name:"pii-key-file" env:"PIAO_PII_KEY_FILE" placeholder:"FILE" help:"Key file of the personal data (ID and phone numbers are stored encrypted; default: pii-keys.json in --data-dir). PIAO_PII_KEYS may hold the file's contents instead. Create one with 'piao keys init'."`
	LogLevel   string `name:"log-level" env:"PIAO_LOG_LEVEL" default:"info" enum:"debug,info,warn,error" help:"Log level (${enum})."`

	Serve    serveCmd    `cmd:"" help:"Run the HTTP server: API under /api/v1, consoles, health and metrics."`
	Migrate  migrateCmd  `cmd:"" help:"Apply pending database migrations and exit."`
	Import   importCmd   `cmd:"" help:"Import network data."`
	OpenAPI  openapiCmd  `cmd:"" name:"openapi" help:"Print the OpenAPI 3.1 document of the HTTP API (JSON)."`
	Check    checkCmd    `cmd:"" help:"Check stored data against what it is derived from."`
	Report   reportCmd   `cmd:"" help:"Reports over stored data: cancellation behaviour."`
	Lists    listsCmd    `cmd:"" help:"Governance lists: apply the list rules."`
	Version  versionCmd  `cmd:"" help:"Print the version."`
	Bench    benchCmd    `cmd:"" help:"Measure performance against the targets of SPEC section Q: engine, query, booking (a benchmark, not a test)."`
	Gate     gateCmd     `cmd:"" help:"Metro ride codes (乘车码, SPEC M1): issuer keys, sign, verify offline."`
	Keys     keysCmd     `cmd:"" help:"Personal-data keys: create the key file, rotate keys (re-encrypts every stored ID and phone number)."`
	Ridemore ridemoreCmd `cmd:"" name:"ridemore" help:"Ride more, save more (多乘多惠, SPEC M4): issue a month's rewards."`
	Ledger   ledgerCmd   `cmd:"" help:"The double-entry ledger (SPEC B5): check the journal, print the trial balance and entries."`

	Reconcile  reconcileCmd  `cmd:"" help:"Reconcile a day three ways (the channel's statement, piao's records, the ledger) and post its channel fees; exits non-zero on any difference."`
	Allowances allowancesCmd `cmd:"" name:"allowances" help:"Employee travel allowances (SPEC B3): issue a month's allowances."`

	Simulate simulateCmd `cmd:"" help:"Simulate a month of labelled booking traffic (genuine travellers, berth seekers, switchers, scalpers) against the real booking service, then score the governance lists against the labels (SPEC G5)."`
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var c cli
	kctx := kong.Parse(&c,
		kong.Name("piao"),
		kong.Description("piao (票) — internet ticketing for rail operators. 铁路互联网售票平台。"),
		kong.UsageOnError(),
		kong.BindTo(ctx, (*context.Context)(nil)),
	)
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.LogLevel))
	slog.SetDefault(slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level})))
	if err := kctx.Run(&c); err != nil {
		fmt.Fprintln(os.Stderr, "piao:", err)
		os.Exit(1)
	}
}

// config is the app's configuration from the global options.
func (c *cli) config() app.Config {
	return app.Config{DataDir: c.DataDir, Database: c.Database, KeyFile: c.PIIKeyFile}
}

// open opens and migrates the configured database.
func (c *cli) open(ctx context.Context) (*app.App, error) {
	return c.openWith(ctx, c.config())
}

// openWith opens and migrates the database cfg names.
func (c *cli) openWith(ctx context.Context, cfg app.Config) (*app.App, error) {
	a, err := app.Open(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if _, err := a.Migrate(ctx); err != nil {
		a.Close()
		return nil, err
	}
	return a, nil
}

type versionCmd struct{}

func (versionCmd) Run() error {
	fmt.Println("piao", app.Version)
	return nil
}

type openapiCmd struct{}

func (openapiCmd) Run() error {
	// The document depends only on the route table, not on a database.
	doc, err := httpapi.New(httpapi.Deps{Version: app.Version}).OpenAPI().MarshalJSON()
	if err != nil {
		return err
	}
	_, err = os.Stdout.Write(append(doc, '\n'))
	return err
}

type migrateCmd struct{}

func (migrateCmd) Run(ctx context.Context, c *cli) error {
	a, err := app.Open(ctx, c.config())
	if err != nil {
		return err
	}
	defer a.Close()
	v, err := a.Migrate(ctx)
	if err != nil {
		return err
	}
	fmt.Printf("%s (%s): schema at version %d\n", a.Engine, a.Where, v)
	return nil
}

type importCmd struct {
	GTFS importGTFSCmd `cmd:"" name:"gtfs" help:"Import a GTFS feed (zip). Re-importing the same file changes nothing; a malformed feed is refused whole."`
}

type importGTFSCmd struct {
	File string `arg:"" type:"existingfile" help:"GTFS zip file."`
	Feed string `name:"feed" help:"Feed ID that prefixes every record ID (default: the file name without .zip)."`
}

func (cmd importGTFSCmd) Run(ctx context.Context, c *cli) error {
	feed := cmd.Feed
	if feed == "" {
		feed = feedIDFromPath(cmd.File)
	}
	a, err := c.open(ctx)
	if err != nil {
		return err
	}
	defer a.Close()
	// Two phases: reading the zip (bytes of CSV), then writing rows.
	prog := newProgress()
	show := func(phase string) func(done, total int64) {
		return func(done, total int64) { prog.set(phase, done, total) }
	}
	start := time.Now()
	res, err := gtfs.Import(ctx, a.Network, cmd.File, gtfs.Options{FeedID: feed, Progress: show("reading " + cmd.File + " (bytes)"), WriteProgress: show("writing rows")})
	prog.finish()
	if err != nil {
		return err
	}
	printImport(res, time.Since(start))
	return nil
}

func printImport(res network.ImportResult, took time.Duration) {
	if res.Unchanged {
		fmt.Printf("feed %s unchanged (same digest): nothing written\n", res.FeedID)
	} else {
		fmt.Printf("feed %s imported in %s\n", res.FeedID, took.Round(time.Millisecond))
	}
	for _, t := range []string{"agencies", "stations", "lines", "line_stations", "calendars", "calendar_exceptions", "services", "service_stops", "service_cars", "transfers", "fares", "fare_bands", "gtfs_fares", "gtfs_fare_rules"} {
		if n := res.Rows[t]; n > 0 {
			fmt.Printf("  %-20s %8d\n", t, n)
		}
	}
}

type serveCmd struct {
	Addr          string        `name:"addr" env:"PIAO_ADDR" default:"127.0.0.1:8080" help:"Address to listen on."`
	PublicURL     string        `name:"public-url" env:"PIAO_PUBLIC_URL" help:"URL this process is reached at (default http://ADDR); payment pages and notifications use it."`
	Hold          time.Duration `name:"hold" env:"PIAO_HOLD" default:"30m" help:"How long booked seats stay held for payment."`
	PaymentSecret string        `name:"payment-secret" env:"PIAO_PAYMENT_SECRET" help:"Secret signing sandbox payment notifications (default: one kept in the database)."`
	SpendRule     string        `name:"spend-rule" env:"PIAO_SPEND_RULE" type:"existingfile" help:"A spend_tiers rule as JSON (Beijing-style monthly spend discounts, docs/RIDEMORE.md §3) that every metro settlement applies; its campaign must exist."`
	MetroEvery    time.Duration `name:"metro-every" env:"PIAO_METRO_EVERY" default:"5m" help:"Clear the metro gates' taps into trips and settle them this often (0: only on demand through the API)."`
	Demo          bool          `name:"demo" help:"Seed demo data (trains Z66, T168, G488 for the next 30 days and the 29 before, with a simulated month of bookings on the past ones; a Ningbo-like metro with a day of rides; two merchants, a mall and a bank, with staff, campaigns, purchases and riders; one login per role) and print the logins."`
	Sandbox       bool          `name:"sandbox-payments" env:"PIAO_SANDBOX_PAYMENTS" help:"Run the sandbox payment gateway, whose pages take no money (implied by --demo). Never in production."`
	Production    bool          `name:"production" env:"PIAO_PRODUCTION" help:"This is a production deployment: refuse to start with --demo or --sandbox-payments."`
	DemoMonth     bool          `name:"demo-month" env:"PIAO_DEMO_MONTH" default:"true" negatable:"" help:"With --demo, also seed the simulated month of bookings that fills the behaviour report and the lists (--no-demo-month: a quicker first start without them)."`

	// Ride codes: who a gate may name as the rider of a redemption.
	RideCodeKeys    []string      `name:"ride-code-key" env:"PIAO_RIDE_CODE_KEYS" placeholder:"ID=FILE" help:"Trusted ride code issuer public key as ID=PUB.pem (piao gate keygen makes one); repeat, or comma-separate in the variable. Gates redeem rides only by codes these keys verify; with none, ride redemption answers 503 (--demo creates a demo issuer)."`
	RideCodeNetwork string        `name:"ride-code-network" env:"PIAO_RIDE_CODE_NETWORK" help:"Accept only ride codes of this network (feed ID); empty accepts every network the keys sign for."`
	RideCodeSkew    time.Duration `name:"ride-code-skew" env:"PIAO_RIDE_CODE_SKEW" default:"5s" help:"Clock skew tolerated either side of a ride code's validity window."`
	limitFlags      `embed:""`

	// Invoices: who they name as the seller, and the tax rate they show.
	InvoiceSellerName string `name:"invoice-seller-name" env:"PIAO_INVOICE_SELLER_NAME" help:"The operator's legal name on invoices (default: the demo operator 宁波票务演示运营有限公司)."`
	InvoiceSellerTax  string `name:"invoice-seller-tax" env:"PIAO_INVOICE_SELLER_TAX" help:"The operator's tax number (unified social credit code) on invoices; with --invoice-seller-name."`
	InvoiceTaxRate    string `name:"invoice-tax-rate" env:"PIAO_INVOICE_TAX_RATE" default:"6%" help:"The tax rate invoices show, included in their totals (e.g. 6%, 0%)."`
}

// errSandboxInProduction refuses a production process that would hand out
// tickets for the sandbox's pretend money.
var errSandboxInProduction = errors.New("--production refuses --demo and --sandbox-payments: the sandbox gateway takes no money / 生产模式不能启用演示数据或沙箱支付")

func (cmd serveCmd) Run(ctx context.Context, c *cli) error {
	if cmd.Production && (cmd.Demo || cmd.Sandbox) {
		return errSandboxInProduction
	}
	limits, err := cmd.limitFlags.config()
	if err != nil {
		return err
	}
	cfg := c.config()
	cfg.CreateKeys = cmd.Demo // the demo makes its own key; a real server refuses to start without one
	cfg.Limits = limits
	a, err := c.openWith(ctx, cfg)
	if err != nil {
		return err
	}
	defer a.Close()
	rideHint, err := cmd.useRideCodes(a, c.DataDir)
	if err != nil {
		return err
	}
	if cmd.Demo {
		today := network.DateOf(time.Now().In(shanghai()))
		if _, err := demo.Seed(ctx, a.Network, a.Identity, today); err != nil {
			return err
		}
		merchants, err := demo.SeedMerchants(ctx, a.Merchants, time.Now().Add(-demo.MerchantLead))
		if err != nil {
			return err
		}
		if merchants.Approved > 0 {
			fmt.Printf("demo merchants 演示商户: %d approved (the mall, merchant %d; the bank, merchant %d) with %d staff, %d application waiting for review\n",
				merchants.Approved, demo.MallMerchant, demo.BankMerchant, merchants.Staff, merchants.Pending)
		}
		if _, err := demo.SeedBenefits(ctx, a.Benefits, a.Identity, time.Now()); err != nil {
			return err
		}
		if _, err := demo.SeedSubsidy(ctx, a.Subsidy, a.Benefits, a.Identity, time.Now()); err != nil {
			return err
		}
		day, err := demo.SeedMetroDay(ctx, a.Benefits, a.Metro, a.Identity, time.Now(), demo.MetroRiders)
		if err != nil {
			return err
		}
		if day.Trips > 0 {
			fmt.Printf("demo metro day 演示地铁日: %d taps cleared into %d trips and settled, %d with a benefit (line 3 free-ride day, campaign %d)\n",
				day.Taps, day.Trips, day.Benefited, day.CampaignID)
		}
	}
	if cmd.Demo && cmd.DemoMonth {
		month, err := simulate.SeedDemoMonth(ctx, simulate.Stores{Network: a.Network, Identity: a.Identity.Store, Booking: a.BookingStore, Sandbox: a.SandboxStore, Governance: a.GovernanceStore}, time.Now())
		if err != nil {
			return err
		}
		if r := month.Result; r != nil {
			t := r.Total()
			fmt.Printf("demo booking month 演示购票月: %d simulated passengers from %s to %s: %d orders, %d cancelled, %d expired, %d paid; lists: %d restricted, %d priority, %d suspected malicious\n",
				r.Passengers, month.From, month.From.AddDays(month.Days-1), t.Bookings, t.Cancels, t.Expiries, t.Payments,
				month.Members[governance.Restricted], month.Members[governance.Priority], month.Members[governance.Malicious])
		}
	}
	if cmd.SpendRule != "" {
		b, err := os.ReadFile(cmd.SpendRule)
		if err != nil {
			return err
		}
		var rule ridemore.Rule
		if err := json.Unmarshal(b, &rule); err != nil {
			return fmt.Errorf("%s: %w", cmd.SpendRule, err)
		}
		if err := a.UseSpendRule(ctx, rule); err != nil {
			return err
		}
	}
	ln, err := net.Listen("tcp", cmd.Addr)
	if err != nil {
		return err
	}
	base := cmd.PublicURL
	if base == "" {
		base = "http://" + ln.Addr().String()
	}
	if cmd.Demo {
		// After the benefits seed (which seeds only a database without
		// campaigns) and before Start: the purchases' notifications are
		// delivered in this process, the server's own gateway not yet running.
		tr, err := demo.SeedMerchantTrade(ctx, demo.MerchantTradeDeps{Benefits: a.Benefits, Identity: a.Identity, Metro: a.Metro,
			Purchases: a.PurchaseStore, Payments: a.SandboxStore, Distribution: a.DistributionStore, Audit: a.Audit, BaseURL: base}, time.Now())
		if err != nil {
			return err
		}
		if tr.Campaigns > 0 {
			fmt.Printf("demo merchant day 演示商户日: %d templates, %d merchant campaigns, %d purchases paid (%s), %d tickets issued, %d trips settled charging the merchants %s\n",
				tr.Templates, tr.Campaigns, tr.Purchases, purchase.Yuan(tr.PaidFen), tr.Issued, tr.Trips, purchase.Yuan(tr.MerchantFen))
		}
		mo, err := demo.SeedMoney(ctx, demo.MoneyDeps{Benefits: a.Benefits, Identity: a.Identity, Merchants: a.Merchants, Sales: a.SaleStore(),
			Employers: a.EmployerStore, Payments: a.SandboxStore, Audit: a.Audit, BaseURL: base}, time.Now())
		if err != nil {
			return err
		}
		if mo.Offers > 0 || mo.Employer != 0 {
			fmt.Printf("demo money 演示资金: %d offers on sale, the passenger paid %d purchases (%s, %d tickets) and refunded one (%s back); employer %d (login hr): %d employees (%d linked, %d invited), top-up %s paid, %d allowances issued, %d offboarded\n",
				mo.Offers, mo.Purchases, purchase.Yuan(mo.PaidFen), mo.Bought, purchase.Yuan(mo.RefundFen), mo.Employer, mo.Employees, mo.Linked, mo.Invited, purchase.Yuan(mo.TopUpFen), mo.Allowances, mo.Offboarded)
		}
	}
	if err := a.Start(ctx, app.Runtime{BaseURL: base, Hold: cmd.Hold, PaymentSecret: []byte(cmd.PaymentSecret), MetroEvery: cmd.MetroEvery, SandboxPayments: cmd.Demo || cmd.Sandbox,
		InvoiceSeller: invoice.Party{Name: cmd.InvoiceSellerName, TaxNumber: cmd.InvoiceSellerTax}, InvoiceTaxRate: cmd.InvoiceTaxRate}); err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           a.Server(mountConsole(a, base)).Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
	}
	fmt.Printf("piao %s serving on %s (%s: %s)\n", app.Version, base, a.Engine, a.Where)
	fmt.Printf("  console 控制台:   %s/\n", base)
	fmt.Printf("  API docs 接口文档: %s/api/v1/docs\n", base)
	if a.Sandbox != nil {
		fmt.Printf("  sandbox payments 沙箱支付: on (no real money 不收真钱)\n")
	} else {
		fmt.Printf("  sandbox payments 沙箱支付: off (orders cannot be paid without a gateway 未配置支付渠道)\n")
	}
	if cmd.Demo {
		fmt.Println("  demo logins 演示账号 (username / password / role):")
		for _, l := range demo.Logins {
			fmt.Printf("    %-10s %-22s %s\n", l.Username, l.Password, l.Role)
		}
		if rideHint != "" {
			fmt.Printf("  demo ride codes 演示乘车码 (the gate login redeems rides with them): %s\n", rideHint)
		}
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			return err
		}
	case <-ctx.Done():
		slog.Info("shutting down")
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return srv.Shutdown(sctx)
	}
	return nil
}

func shanghai() *time.Location {
	loc, _ := time.LoadLocation("Asia/Shanghai")
	return loc
}
