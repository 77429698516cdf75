// Package postgres is piao's production storage engine on PostgreSQL through
// pgx. Several piao processes may share one database. It implements every
// domain's Store interface with its own SQL.
package postgres

import (
	"context"
	"embed"
	"fmt"
	"io/fs"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"piao/internal/fault"
	"piao/internal/store"
	"piao/internal/store/sealed"
	"piao/internal/store/sqlrow"
)

//go:embed migrations/*.sql
var migrations embed.FS

// DB is a pool of connections to one PostgreSQL database.
type DB struct {
	pool  *pgxpool.Pool
	where string     // the URL opened, password hidden
	pii   sqlrow.PII // seals and indexes document and phone numbers
}

// Open connects to the database at url (postgres://…); keys seal and
// index the personal data stored in it.
func Open(ctx context.Context, url string, keys *sealed.Keyring) (*DB, error) {
	if keys == nil {
		return nil, sqlrow.ErrNoKeys
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse database url: %w", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to postgres: %w", err)
	}
	return &DB{pool: pool, where: store.HidePassword(url), pii: sqlrow.PII{Keys: keys}}, nil
}

// Migrate applies every pending migration and returns the schema version.
// A PostgreSQL advisory lock keeps concurrent processes from racing.
func (db *DB) Migrate(ctx context.Context) (int64, error) {
	sqldb := stdlib.OpenDBFromPool(db.pool)
	defer sqldb.Close()
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return 0, err
	}
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Release()
	// Serialise migrations across processes starting together.
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock(7161770)"); err != nil {
		return 0, err
	}
	defer conn.Exec(context.Background(), "SELECT pg_advisory_unlock(7161770)")
	p, err := goose.NewProvider(goose.DialectPostgres, sqldb, sub)
	if err != nil {
		return 0, err
	}
	res, err := p.Up(ctx)
	if err != nil {
		return 0, fmt.Errorf("migrate postgres: %w", err)
	}
	applied := make([]int64, len(res))
	for i, r := range res {
		applied[i] = r.Source.Version
	}
	if sqlrow.CrossedSealing(applied) {
		if _, err := db.Reseal(ctx, nil); err != nil {
			return 0, fmt.Errorf("seal the personal data stored before version %d: %w", sqlrow.SealingMigration, err)
		}
	}
	return p.GetDBVersion(ctx)
}

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	return fault.Wrap(db.pool.Ping(ctx), "ping postgres")
}

// Close closes the pool.
func (db *DB) Close() error { db.pool.Close(); return nil }

// tx runs fn in one transaction, committed if fn returns nil.
func (db *DB) tx(ctx context.Context, fn func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, db.pool, fn)
}

// readTx runs fn in a read-only repeatable-read transaction, so methods that
// read several tables see one consistent state while writes commit.
func (db *DB) readTx(ctx context.Context, fn func(pgx.Tx) error) error {
	return pgx.BeginTxFunc(ctx, db.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		return fault.Wrap(fn(tx), "read snapshot")
	})
}

// querier is what reads run on: the pool or a transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// list runs query on q and collects its rows with scan; what names the
// read in errors.
func list[T any](ctx context.Context, q querier, what string, scan func(sqlrow.Row) (T, error), query string, args ...any) ([]T, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, fault.Wrap(err, what)
	}
	defer rows.Close()
	return sqlrow.Collect(rows, what, scan)
}
