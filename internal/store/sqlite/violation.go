package sqlite

import (
	"errors"

	sqlitedrv "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"piao/internal/store/sqlrow"
)

// violation tells which integrity constraint err broke, if any, and
// SQLite's message, which names the table and columns
// ("UNIQUE constraint failed: tickets.document").
func violation(err error) (sqlrow.Violation, string) {
	var se *sqlitedrv.Error
	if !errors.As(err, &se) {
		return sqlrow.NoViolation, ""
	}
	switch se.Code() {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return sqlrow.Unique, se.Error()
	case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		return sqlrow.ForeignKey, se.Error()
	case sqlite3.SQLITE_CONSTRAINT_CHECK, sqlite3.SQLITE_CONSTRAINT_NOTNULL:
		return sqlrow.Check, se.Error()
	}
	return sqlrow.NoViolation, ""
}
