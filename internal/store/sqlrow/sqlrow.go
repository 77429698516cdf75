// Package sqlrow is what piao's two SQL engines share: the row interfaces
// both drivers satisfy, a generic row collector, one time type that both
// engines scan and store the same way, and the kinds of constraint
// violation each engine recognises in its own errors.
//
// It holds helpers, never store bodies: each engine keeps its own SQL,
// transactions, locking and bulk paths in internal/store/sqlite and
// internal/store/postgres. It imports no engine; of the PostgreSQL driver it
// uses only pgtype, so times travel in binary there.
package sqlrow

import (
	"database/sql"
	"errors"
	"piao/internal/fault"
)

// Row is one result row: *sql.Row, *sql.Rows, pgx.Row and pgx.Rows are all Rows.
type Row interface {
	Scan(dest ...any) error
}

// Rows is a result set both *sql.Rows and pgx.Rows satisfy. Closing stays
// with the caller, as the two drivers close differently.
type Rows interface {
	Row
	Next() bool
	Err() error
}

// Collect scans every row of rows with scan and returns them in order;
// an empty result is an empty, non-nil slice (answers list [] not null).
// what names the read in a wrapped error.
func Collect[T any](rows Rows, what string, scan func(Row) (T, error)) ([]T, error) {
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, fault.Wrap(err, what)
		}
		out = append(out, v)
	}
	return out, fault.Wrap(rows.Err(), what)
}

// Each calls fn for every row of rows, stopping at the first error.
func Each(rows Rows, what string, fn func(Row) error) error {
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return fault.Wrap(rows.Err(), what)
}

// ScanOne reads a row of one column.
func ScanOne[T any](r Row) (T, error) {
	var v T
	err := r.Scan(&v)
	return v, fault.Wrap(err, "scan value")
}

// NoRowsAs is notFound when a single-row read found no row, else err. Both
// drivers' "no rows" errors are sql.ErrNoRows (pgx.ErrNoRows wraps it).
func NoRowsAs(err, notFound error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return notFound
	}
	return err
}

// Page bounds a page of a list: 100 rows by default, at most 1000.
func Page(limit, offset int) (int, int) {
	if limit <= 0 {
		limit = 100
	}
	return min(limit, 1000), max(offset, 0)
}

// Tally is one row of a GROUP BY count: a key and how many rows have it.
type Tally[K any] struct {
	Key K
	N   int
}

// ScanTally reads a (key, count) row.
func ScanTally[K any](r Row) (Tally[K], error) {
	var t Tally[K]
	err := r.Scan(&t.Key, &t.N)
	return t, fault.Wrap(err, "scan count")
}
