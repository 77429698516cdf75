// Package sqlite is piao's embedded storage engine: one SQLite file in WAL
// mode, one writer connection and a pool of readers. It implements every
// domain's Store interface with its own SQL.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	"github.com/pressly/goose/v3"
	_ "modernc.org/sqlite" // the pure-Go SQLite driver

	"piao/internal/fault"
	"piao/internal/store/sealed"
	"piao/internal/store/sqlrow"
)

//go:embed migrations/*.sql
var migrations embed.FS

// DB is an open SQLite database.
type DB struct {
	Path  string
	write *sql.DB // a single connection: SQLite has one writer at a time
	read  *sql.DB
	// readStmts holds statements of hot reads prepared on the reader pool
	// (database/sql prepares each on a connection the first time it runs
	// there), so every API call's token check is not parsed again.
	readStmts sync.Map   // query → *sql.Stmt
	pii       sqlrow.PII // seals and indexes document and phone numbers
}

// Open opens (creating if needed) the database file at path; keys seal
// and index the personal data stored in it.
func Open(path string, keys *sealed.Keyring) (*DB, error) {
	if keys == nil {
		return nil, sqlrow.ErrNoKeys
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	dsn := func(extra string) string {
		q := url.Values{}
		q.Add("_pragma", "busy_timeout(10000)")
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "foreign_keys(1)")
		q.Add("_pragma", "synchronous(NORMAL)")
		q.Add("_time_format", "sqlite")
		return "file:" + path + "?" + q.Encode() + extra
	}
	// The writer keeps a larger page cache (64 MiB, against SQLite's 2 MiB
	// default): bulk writes — a day of metro trips, its ledger — update
	// indexes all over their B-trees, and every page missed is a read. Its
	// statement journals stay in memory (temp_store): every multi-row
	// insert keeps one, and on disk it cost a write per page changed.
	write, err := sql.Open("sqlite", dsn("&_txlock=immediate&_pragma=cache_size(-65536)&_pragma=temp_store(MEMORY)"))
	if err != nil {
		return nil, err
	}
	write.SetMaxOpenConns(1)
	read, err := sql.Open("sqlite", dsn("&_pragma=query_only(1)"))
	if err != nil {
		write.Close()
		return nil, err
	}
	read.SetMaxOpenConns(max(4, runtime.NumCPU()*2))
	db := &DB{Path: path, write: write, read: read, pii: sqlrow.PII{Keys: keys}}
	if err := write.Ping(); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return db, nil
}

// Migrate applies every pending migration and returns the schema version.
func (db *DB) Migrate(ctx context.Context) (int64, error) {
	p, err := goose.NewProvider(goose.DialectSQLite3, db.write, mustSub(migrations, "migrations"))
	if err != nil {
		return 0, err
	}
	res, err := p.Up(ctx)
	if err != nil {
		return 0, fmt.Errorf("migrate sqlite: %w", err)
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
	var one int
	if err := db.read.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fault.Wrap(err, "ping sqlite")
	}
	return nil
}

// Close closes the database.
func (db *DB) Close() error {
	db.readStmts.Range(func(_, st any) bool { st.(*sql.Stmt).Close(); return true })
	err1 := db.read.Close()
	err2 := db.write.Close()
	if err1 != nil {
		return err1
	}
	return err2
}

// queryRowHot runs a hot single-row read with a statement prepared once.
func (db *DB) queryRowHot(ctx context.Context, q string, args ...any) *sql.Row {
	st, ok := db.readStmts.Load(q)
	if !ok {
		prepared, err := db.read.PrepareContext(ctx, q)
		if err != nil {
			return db.read.QueryRowContext(ctx, q, args...) // unprepared: slower, not wrong
		}
		var loaded bool
		if st, loaded = db.readStmts.LoadOrStore(q, prepared); loaded {
			prepared.Close()
		}
	}
	return st.(*sql.Stmt).QueryRowContext(ctx, args...)
}

// tx runs fn in one write transaction, committed if fn returns nil.
func (db *DB) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fault.Wrap(err, "begin")
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return fault.Wrap(tx.Commit(), "commit")
}

// readTx runs fn in a read transaction on the reader pool, so methods that
// read several tables see one consistent state while writes commit.
func (db *DB) readTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := db.read.BeginTx(ctx, nil)
	if err != nil {
		return fault.Wrap(err, "begin read")
	}
	defer tx.Rollback()
	return fn(tx)
}

// querier is what reads run on: the reader pool, the writer or a transaction.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// list runs query on q and collects its rows with scan; what names the
// read in errors.
func list[T any](ctx context.Context, q querier, what string, scan func(sqlrow.Row) (T, error), query string, args ...any) ([]T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fault.Wrap(err, what)
	}
	defer rows.Close()
	return sqlrow.Collect(rows, what, scan)
}

// execCount runs one statement in a write transaction and returns how
// many rows it changed; what names it in errors. It is the SQLite side of
// PostgreSQL's pool.Exec.
func (db *DB) execCount(ctx context.Context, what, query string, args ...any) (int64, error) {
	var n int64
	err := db.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, query, args...)
		if err == nil {
			n, _ = res.RowsAffected()
		}
		return fault.Wrap(err, what)
	})
	return n, err
}
