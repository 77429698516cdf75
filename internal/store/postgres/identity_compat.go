package postgres

import (
	"errors"

	"github.com/jackc/pgx/v5/pgconn"

	"piao/internal/store/sqlrow"
)

// The names below were identity.go's; benefits.go, booking.go and metro.go
// still use them. They move to violation() and sqlrow's errors in their own
// refactors; delete this file when nothing uses it.

// pgUniqueViolation is PostgreSQL's SQLSTATE for a unique violation.
const pgUniqueViolation = "23505"

// identPgCode returns the SQLSTATE of err, or "".
func identPgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// errAccountNotFound is sqlrow.ErrAccountNotFound.
var errAccountNotFound = sqlrow.ErrAccountNotFound
