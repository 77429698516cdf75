// Package app wires piao together: it opens the configured storage engine,
// applies migrations, and builds the domain services and the HTTP server.
// It holds no business rules.
package app

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"piao/internal/httpapi"
	"piao/internal/identity"
	"piao/internal/network"
	"piao/internal/store/postgres"
	"piao/internal/store/sqlite"
)

// Version is the build's version, set with -ldflags "-X piao/internal/app.Version=…".
var Version = "0.1.0-dev"

// Config selects the storage engine and its location.
type Config struct {
	DataDir  string // directory of the embedded SQLite database
	Database string // postgres://… to use PostgreSQL instead of SQLite
}

// App is an opened piao: stores and services over one database.
type App struct {
	Engine   string
	Where    string // the database file or a redacted URL
	Network  network.Store
	Identity *identity.Service
	Catalog  *network.Catalog
	Now      func() time.Time
	ping     func(context.Context) error
	close    func() error
	migrate  func(context.Context) (int64, error)
}

// Open opens the configured database. It does not migrate; call Migrate.
func Open(ctx context.Context, cfg Config) (*App, error) {
	a := &App{Now: time.Now}
	switch {
	case strings.HasPrefix(cfg.Database, "postgres://"), strings.HasPrefix(cfg.Database, "postgresql://"):
		db, err := postgres.Open(ctx, cfg.Database)
		if err != nil {
			return nil, err
		}
		a.Engine, a.Where = "postgres", redact(cfg.Database)
		a.Network, a.ping, a.close, a.migrate = db.Network(), db.Ping, db.Close, db.Migrate
		a.Identity = identity.NewService(db.Identity(), a.Now)
	case cfg.Database == "":
		dir := cfg.DataDir
		if dir == "" {
			dir = "data"
		}
		path := filepath.Join(dir, "piao.db")
		db, err := sqlite.Open(path)
		if err != nil {
			return nil, err
		}
		a.Engine, a.Where = "sqlite", path
		a.Network, a.ping, a.close, a.migrate = db.Network(), db.Ping, db.Close, db.Migrate
		a.Identity = identity.NewService(db.Identity(), a.Now)
	default:
		return nil, fmt.Errorf("unsupported database %q: use postgres://… or leave empty for the embedded SQLite", redact(cfg.Database))
	}
	a.Catalog = &network.Catalog{Store: a.Network}
	return a, nil
}

// Migrate applies pending schema migrations and returns the schema version.
func (a *App) Migrate(ctx context.Context) (int64, error) { return a.migrate(ctx) }

// Ping checks the database.
func (a *App) Ping(ctx context.Context) error { return a.ping(ctx) }

// Close releases the database.
func (a *App) Close() error { return a.close() }

// Server builds the HTTP server; mount adds the console routes.
func (a *App) Server(mount func(*http.ServeMux)) *httpapi.Server {
	return httpapi.New(httpapi.Deps{
		Version: Version, Catalog: a.Catalog, Network: a.Network, Identity: a.Identity,
		Ready: a.Ping, Mount: mount,
	})
}

// redact hides the password in a database URL.
func redact(u string) string {
	at := strings.LastIndex(u, "@")
	scheme := strings.Index(u, "://")
	if at < 0 || scheme < 0 {
		return u
	}
	creds := u[scheme+3 : at]
	if i := strings.IndexByte(creds, ':'); i >= 0 {
		return u[:scheme+3] + creds[:i] + ":***" + u[at:]
	}
	return u
}
