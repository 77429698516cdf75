// Package storetest opens fresh databases on every storage engine for tests
// and holds the contract suites every engine must pass.
//
// SQLite runs always. PostgreSQL runs when PIAO_TEST_POSTGRES holds a URL
// of a server where the test may create databases; without it the
// PostgreSQL cases skip, except under CI (CI=true), where they fail.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"piao/internal/audit"
	"piao/internal/benefits"
	"piao/internal/booking"
	"piao/internal/distribution"
	"piao/internal/governance"
	"piao/internal/idempotency"
	"piao/internal/identity"
	"piao/internal/metro"
	"piao/internal/network"
	"piao/internal/payment/sandbox"
	"piao/internal/store"
	"piao/internal/store/open"
	"piao/internal/store/sealed"
	"piao/internal/subsidy"
)

// Stores is one engine's set of domain stores over one fresh database.
type Stores struct {
	// DB is the engine itself, for tests that look at the raw database.
	DB store.Engine
	// Keys seal and index the database's personal data.
	Keys     *sealed.Keyring
	Engine   string
	Network  network.Store
	Identity identity.Store
	Booking  booking.Store
	Sandbox  sandbox.Store
	Ping     func(context.Context) error

	// Idempotency keeps the idempotency keys of API calls.
	Idempotency idempotency.Store
	// Governance keeps list memberships and reads counts and transactions.
	Governance governance.Store
	// Benefits keeps value-added tickets: products, campaigns, tickets, codes, gifts.
	Benefits benefits.Store
	// Metro keeps gate taps, trips and their settlements.
	Metro metro.Store
	// Subsidy keeps subsidy schemes and enrolments.
	Subsidy subsidy.Store
	// Audit keeps the append-only audit trail.
	Audit audit.Store
	// Distribution keeps distribution lists and takes back what they delivered.
	Distribution distribution.Store
	// Exec runs one statement on the database directly, for tests that show
	// what the database itself refuses (the audit trail's triggers).
	Exec func(ctx context.Context, sql string) error
}

// openStores opens the engine database names (see open.Engine), migrated and
// closed when the test ends, and returns its stores.
func openStores(tb testing.TB, database, dataDir string) Stores {
	tb.Helper()
	keys := sealed.Generate() // a fresh key per database
	db, err := open.Engine(context.Background(), database, dataDir, keys)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(context.Background()); err != nil {
		tb.Fatal(err)
	}
	exec := func(ctx context.Context, query string) error {
		if database == "" {
			raw, err := sql.Open("sqlite", db.Where())
			if err != nil {
				return err
			}
			defer raw.Close()
			_, err = raw.ExecContext(ctx, query)
			return err
		}
		raw, err := pgx.Connect(ctx, database)
		if err != nil {
			return err
		}
		defer raw.Close(context.Background())
		_, err = raw.Exec(ctx, query)
		return err
	}
	return Stores{
		Exec: exec, DB: db, Keys: keys,
		Engine: db.Name(), Network: db.Network(), Identity: db.Identity(), Booking: db.Booking(), Sandbox: db.Sandbox(), Ping: db.Ping,
		Idempotency: db.Idempotency(), Governance: db.Governance(), Benefits: db.Benefits(), Metro: db.Metro(), Subsidy: db.Subsidy(),
		Audit: db.Audit(), Distribution: db.Distribution(),
	}
}

// Engine opens a fresh, migrated database on one storage engine.
type Engine struct {
	Name string
	Open func(tb testing.TB) Stores
}

// Engines lists the engines to test: SQLite always, PostgreSQL when configured.
func Engines() []Engine {
	return []Engine{{Name: "sqlite", Open: OpenSQLite}, {Name: "postgres", Open: OpenPostgres}}
}

// Each runs fn as a subtest on every engine.
func Each(t *testing.T, fn func(t *testing.T, s Stores)) {
	for _, e := range Engines() {
		t.Run(e.Name, func(t *testing.T) { fn(t, e.Open(t)) })
	}
}

// OpenSQLite opens a migrated SQLite database in a temporary directory.
func OpenSQLite(tb testing.TB) Stores {
	tb.Helper()
	return openStores(tb, "", tb.TempDir())
}

// PostgresURL returns the server URL for tests, skipping (or failing under
// CI) when PIAO_TEST_POSTGRES is not set.
func PostgresURL(tb testing.TB) string {
	tb.Helper()
	u := os.Getenv("PIAO_TEST_POSTGRES")
	if u == "" {
		if os.Getenv("CI") == "true" {
			tb.Fatal("PIAO_TEST_POSTGRES is not set; CI requires PostgreSQL")
		}
		tb.Skip("PostgreSQL tests skipped: set PIAO_TEST_POSTGRES=postgres://user@host/db to run them")
	}
	return u
}

// FreshPostgresDatabase creates an empty database on the test server and
// returns its URL; the database is dropped when the test ends.
func FreshPostgresDatabase(tb testing.TB) string {
	tb.Helper()
	base := PostgresURL(tb)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		tb.Fatalf("connect to PIAO_TEST_POSTGRES: %v", err)
	}
	defer admin.Close(context.Background())
	b := make([]byte, 6)
	rand.Read(b)
	name := "piao_test_" + hex.EncodeToString(b)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		tb.Fatalf("create test database: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, base)
		if err != nil {
			return
		}
		defer c.Close(context.Background())
		c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

// OpenPostgres opens a migrated fresh PostgreSQL database.
func OpenPostgres(tb testing.TB) Stores {
	tb.Helper()
	return openStores(tb, FreshPostgresDatabase(tb), "")
}
