// Package apptest opens a complete piao for tests: a fresh SQLite database
// in a temporary directory, migrated, seeded with the demo data, with
// password hashing made cheap so logins stay fast.
package apptest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"piao/internal/abuse"
	"piao/internal/app"
	"piao/internal/demo"
	"piao/internal/httpapi"
	"piao/internal/identity"
	"piao/internal/network"
	"piao/internal/store/sealed"
	"piao/internal/store/storetest"
)

// FastParams are argon2id parameters cheap enough for tests.
var FastParams = identity.Params{Memory: 1024, Time: 1, Threads: 1}

// Limits are the abuse limits of the demo apps: the defaults with every
// token bucket 100 times as large, since tests book and log in far faster
// than people (the tests of the limits themselves configure their own).
var Limits = abuse.Defaults().Scaled(100)

// Today is the current date in Asia/Shanghai, the day the demo is seeded from.
func Today() network.Date {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		panic(err)
	}
	return network.DateOf(time.Now().In(loc))
}

// Option changes how NewDemo opens the app.
type Option func(tb testing.TB, cfg *app.Config)

// OnPostgres opens the app on a fresh PostgreSQL database of the test
// server (PIAO_TEST_POSTGRES), dropped when the test ends, instead of
// SQLite: the test is skipped without the server, and fails under CI=true.
func OnPostgres() Option {
	return func(tb testing.TB, cfg *app.Config) { cfg.Database = storetest.FreshPostgresDatabase(tb) }
}

// WithClock runs the app on the clock now instead of time.Now (every
// service reads it): for tests that move time.
func WithClock(now func() time.Time) Option {
	return func(_ testing.TB, cfg *app.Config) { cfg.Now = now }
}

// NewDemo returns an opened, migrated app with the demo data seeded from
// Today (the networks, the logins, and the demo merchants onboarded, so
// the merchant logins work for merchants 1 and 2 that exist; not their
// campaigns and purchases, which demo.SeedMerchantTrade adds); it is
// closed when the test ends. It runs on SQLite unless an
// option says otherwise.
func NewDemo(tb testing.TB, opts ...Option) *app.App {
	tb.Helper()
	ctx := tb.Context()
	cfg := app.Config{DataDir: tb.TempDir(), Keys: sealed.Generate(), Limits: Limits}
	for _, o := range opts {
		o(tb, &cfg)
	}
	a, err := app.Open(ctx, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { a.Close() })
	if _, err := a.Migrate(ctx); err != nil {
		tb.Fatal(err)
	}
	a.Identity.Params = FastParams
	if _, err := demo.Seed(ctx, a.Network, a.Identity, Today()); err != nil {
		tb.Fatal(err)
	}
	// The merchants' demo logins are made by onboarding them: cheap, a
	// few rows and no campaigns, purchases or rides.
	if _, err := demo.SeedMerchants(ctx, a.Merchants, a.Now().Add(-demo.MerchantLead)); err != nil {
		tb.Fatal(err)
	}
	return a
}

// Serve starts the app's booking service and payment sandbox and serves the
// full HTTP server (with mount's routes) on a test server; everything stops
// when the test ends.
func Serve(tb testing.TB, a *app.App, mount func(*http.ServeMux)) (*httptest.Server, *httpapi.Server) {
	tb.Helper()
	return ServeRuntime(tb, a, app.Runtime{SandboxPayments: true}, mount)
}

// ServeRuntime is Serve with the runtime rt (its BaseURL is the test
// server's).
func ServeRuntime(tb testing.TB, a *app.App, rt app.Runtime, mount func(*http.ServeMux)) (*httptest.Server, *httpapi.Server) {
	tb.Helper()
	var handler atomic.Pointer[http.Handler]
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		(*handler.Load()).ServeHTTP(w, r)
	}))
	ctx, cancel := context.WithCancel(context.Background())
	tb.Cleanup(func() { cancel(); ts.Close() })
	rt.BaseURL = ts.URL
	if err := a.Start(ctx, rt); err != nil {
		tb.Fatal(err)
	}
	srv := a.Server(mount)
	h := srv.Handler()
	handler.Store(&h)
	return ts, srv
}
