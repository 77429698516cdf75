package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"piao/internal/abuse"
	"piao/internal/app"
	"piao/internal/identity"
	"piao/internal/network"
	"piao/internal/store/sealed"
)

// IsPostgres reports whether a database URL names PostgreSQL.
func IsPostgres(u string) bool {
	return strings.HasPrefix(u, "postgres://") || strings.HasPrefix(u, "postgresql://")
}

// cheapParams make password hashing cheap while seeding: the benchmarks
// log in with issued tokens, never with passwords.
var cheapParams = identity.Params{Memory: 1024, Time: 1, Threads: 1}

// env is a piao on a fresh, empty database of its own, served over HTTP
// on 127.0.0.1 in this process once Serve is called.
type env struct {
	App    *app.App
	Engine string // sqlite or postgres
	URL    string // base URL of the served piao
	srv    *http.Server
	stop   context.CancelFunc
	undo   []func() error
}

// openEnv opens a fresh database: SQLite in a new temporary directory, or,
// when server is a PostgreSQL URL, a new database piao_bench_<random>
// created on that server (and dropped on close). It is migrated and empty.
func openEnv(ctx context.Context, server string) (*env, error) {
	e := &env{}
	// The bench measures the engine under load from one address (this
	// process), which the per-IP and per-account rate limits would refuse
	// as abuse: its server runs without token buckets. The login lockout
	// and the hash slots keep their defaults.
	limits := abuse.Defaults()
	limits.Rules = map[abuse.Action]abuse.Rule{}
	cfg := app.Config{Limits: limits, Keys: sealed.Generate()} // a fresh database: a fresh key
	if IsPostgres(server) {
		dbURL, drop, err := createDatabase(ctx, server)
		if err != nil {
			return nil, err
		}
		e.undo = append(e.undo, drop)
		cfg.Database = dbURL
	} else {
		dir, err := os.MkdirTemp("", "piao-bench-*")
		if err != nil {
			return nil, err
		}
		e.undo = append(e.undo, func() error { return os.RemoveAll(dir) })
		cfg.DataDir = dir
	}
	a, err := app.Open(ctx, cfg)
	if err != nil {
		e.Close()
		return nil, err
	}
	e.App, e.Engine = a, a.Engine
	e.undo = append(e.undo, a.Close)
	if _, err := a.Migrate(ctx); err != nil {
		e.Close()
		return nil, err
	}
	a.Identity.Params = cheapParams
	return e, nil
}

// Serve starts booking (committer, hold sweeper, payment sandbox) and the
// full piao HTTP handler on a free 127.0.0.1 port.
func (e *env) Serve(ctx context.Context) error {
	// The URL must be known before Start, so listen first.
	var handler atomic.Pointer[http.Handler]
	u, srv, err := serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h := handler.Load(); h != nil {
			(*h).ServeHTTP(w, r)
			return
		}
		http.Error(w, "starting", http.StatusServiceUnavailable)
	}))
	if err != nil {
		return err
	}
	e.URL, e.srv = u, srv
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	e.stop = cancel
	if err := e.App.Start(rctx, app.Runtime{BaseURL: u, SandboxPayments: true}); err != nil {
		return err
	}
	h := e.App.Server(nil).Handler()
	handler.Store(&h)
	return nil
}

// Close stops serving and removes the database.
func (e *env) Close() error {
	if e.srv != nil {
		e.srv.Close()
	}
	if e.stop != nil {
		e.stop()
		time.Sleep(50 * time.Millisecond) // let the committer and sweeper see the end
	}
	var errs []error
	for i := len(e.undo) - 1; i >= 0; i-- {
		errs = append(errs, e.undo[i]())
	}
	return errors.Join(errs...)
}

// createDatabase creates a database named piao_bench_<random> on the
// server of serverURL and returns its URL and a function dropping it.
func createDatabase(ctx context.Context, serverURL string) (string, func() error, error) {
	u, err := url.Parse(serverURL)
	if err != nil {
		return "", nil, fmt.Errorf("parse database url: %w", err)
	}
	b := make([]byte, 6)
	rand.Read(b)
	name := "piao_bench_" + hex.EncodeToString(b)
	// pool_* parameters configure piao's pgxpool; a plain connection
	// would send them to the server as settings it does not know.
	admin := *u
	q := admin.Query()
	for k := range q {
		if strings.HasPrefix(k, "pool_") {
			q.Del(k)
		}
	}
	admin.RawQuery = q.Encode()
	adminURL := admin.String()
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return "", nil, fmt.Errorf("connect to postgres: %w", err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", nil, fmt.Errorf("create benchmark database: %w", err)
	}
	u.Path = "/" + name
	drop := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, adminURL)
		if err != nil {
			return fmt.Errorf("drop benchmark database %s: %w", name, err)
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			return fmt.Errorf("drop benchmark database %s: %w", name, err)
		}
		return nil
	}
	return u.String(), drop, nil
}

// shanghaiToday is the current date in Asia/Shanghai, the network's zone.
func shanghaiToday() network.Date {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		loc = time.FixedZone("CST", 8*3600)
	}
	return network.DateOf(time.Now().In(loc))
}
