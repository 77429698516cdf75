package postgres

import (
	"errors"

	"github.com/jackc/pgx/v5/pgconn"

	"piao/internal/store/sqlrow"
)

// violation tells which integrity constraint err broke, if any, and the
// constraint's name (an index such as "orders_one_held").
func violation(err error) (sqlrow.Violation, string) {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return sqlrow.NoViolation, ""
	}
	switch pe.Code {
	case "23505": // unique_violation (a primary key too)
		return sqlrow.Unique, pe.ConstraintName
	case "23503": // foreign_key_violation
		return sqlrow.ForeignKey, pe.ConstraintName
	case "23514", "23502": // check_violation, not_null_violation
		return sqlrow.Check, pe.ConstraintName
	}
	return sqlrow.NoViolation, ""
}
