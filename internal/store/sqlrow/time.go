package sqlrow

import (
	"database/sql/driver"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
)

// layout is fixed-width UTC RFC 3339 with nanoseconds: on SQLite, where
// times are TEXT, comparing stored text orders the times.
const layout = "2006-01-02T15:04:05.000000000Z07:00"

// stored is t as SQLite keeps it: UTC text to the nanosecond. PostgreSQL
// keeps microseconds; it gets times in binary (TimestamptzValue), cut, not
// rounded, so the last instant of a day stays in that day.
func stored(t time.Time) string { return t.UTC().Format(layout) }

// Time is a time.Time as both engines store it: TEXT in the fixed layout on
// SQLite, binary TIMESTAMPTZ on PostgreSQL. It scans either into UTC, so a
// time reads back the same way on both engines (to the microsecond on
// PostgreSQL, which keeps no more). Pass sqlrow.At(t) as a query argument;
// scan into a Time and take its .Time.
type Time struct{ time.Time }

// At wraps t for a query argument.
func At(t time.Time) Time { return Time{t} }

// Value stores the time as fixed-width UTC text.
func (t Time) Value() (driver.Value, error) { return stored(t.Time), nil }

// Scan reads a TIMESTAMPTZ or a stored text time; NULL scans as the zero time.
func (t *Time) Scan(src any) error {
	v, err := scanTime(src)
	t.Time = v
	return err
}

// NullTime is a time stored as NULL when it is zero (an optional moment:
// delivered at, valid until).
type NullTime struct{ time.Time }

// AtOrNull wraps t for a query argument; the zero time is stored as NULL.
func AtOrNull(t time.Time) NullTime { return NullTime{t} }

// Value stores the time as fixed-width UTC text, or NULL if it is zero.
func (t NullTime) Value() (driver.Value, error) {
	if t.IsZero() {
		return nil, nil
	}
	return stored(t.Time), nil
}

// Scan reads a TIMESTAMPTZ, a stored text time or NULL (the zero time).
func (t *NullTime) Scan(src any) error {
	v, err := scanTime(src)
	t.Time = v
	return err
}

// Format renders t as the SQLite engine stores it, for SQL built as text
// (a bulk insert's literal values).
func Format(t time.Time) string { return stored(t) }

// Parse reads a time stored as text.
func Parse(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("stored time %q: %w", s, err)
	}
	return t.UTC(), nil
}

func scanTime(src any) (time.Time, error) {
	switch v := src.(type) {
	case nil:
		return time.Time{}, nil
	case time.Time:
		return v.UTC(), nil
	case string:
		return Parse(v)
	case []byte:
		return Parse(string(v))
	}
	return time.Time{}, fmt.Errorf("sqlrow: cannot scan %T into a time", src)
}

// PostgreSQL's driver reads and writes TIMESTAMPTZ in binary through the
// two methods below when a type has them, before it would fall back to
// sql.Scanner and driver.Valuer (text, parsed and allocated per value):
// booking's order reads and the token check read several times a row.

// ScanTimestamptz reads a binary TIMESTAMPTZ; NULL is the zero time.
func (t *Time) ScanTimestamptz(v pgtype.Timestamptz) error {
	t.Time = pgTime(v)
	return nil
}

// TimestamptzValue writes the time as a binary TIMESTAMPTZ, cut to
// PostgreSQL's microsecond.
func (t Time) TimestamptzValue() (pgtype.Timestamptz, error) {
	return pgtype.Timestamptz{Time: t.UTC().Truncate(time.Microsecond), Valid: true}, nil
}

// ScanTimestamptz reads a binary TIMESTAMPTZ; NULL is the zero time.
func (t *NullTime) ScanTimestamptz(v pgtype.Timestamptz) error {
	t.Time = pgTime(v)
	return nil
}

// TimestamptzValue writes the time as a binary TIMESTAMPTZ, or NULL if it is zero.
func (t NullTime) TimestamptzValue() (pgtype.Timestamptz, error) {
	if t.IsZero() {
		return pgtype.Timestamptz{}, nil
	}
	return pgtype.Timestamptz{Time: t.UTC().Truncate(time.Microsecond), Valid: true}, nil
}

func pgTime(v pgtype.Timestamptz) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return v.Time.UTC()
}
