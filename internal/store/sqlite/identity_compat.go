package sqlite

import (
	"errors"

	sqlitedrv "modernc.org/sqlite"
)

// identSQLiteCode was identity.go's; booking.go still uses it and moves to
// violation() in its own refactor. Delete this file when nothing uses it.

// identSQLiteCode returns the extended SQLite result code of err, or 0.
func identSQLiteCode(err error) int {
	var se *sqlitedrv.Error
	if errors.As(err, &se) {
		return se.Code()
	}
	return 0
}
