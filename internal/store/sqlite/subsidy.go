package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"piao/internal/fault"
	"piao/internal/store/sqlrow"
	"piao/internal/subsidy"
)

// Subsidy returns the store of subsidy schemes and enrolments.
func (db *DB) Subsidy() subsidy.Store { return &subsidyStore{db} }

// subsidyStore implements subsidy.Store on SQLite. Writes go through the
// single writer, so each conditional update sees the last one committed.
type subsidyStore struct{ *DB }

var _ subsidy.Store = (*subsidyStore)(nil)

// CreateScheme stores a new scheme.
func (s *subsidyStore) CreateScheme(ctx context.Context, sc subsidy.Scheme, at time.Time) error {
	body, err := sqlrow.SchemeBody(sc)
	if err != nil {
		return err
	}
	n, err := s.execCount(ctx, "store scheme", `INSERT INTO subsidy_schemes (id, grp, campaign_id, created_at, body) VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
		sc.ID, string(sc.Group), sc.CampaignID, sqlrow.At(at), body)
	if err == nil && n == 0 {
		return subsidy.ErrSchemeExists
	}
	return err
}

// Scheme returns a scheme by ID.
func (s *subsidyStore) Scheme(ctx context.Context, id string) (subsidy.Scheme, error) {
	return sqlrow.ScanScheme(s.read.QueryRowContext(ctx, `SELECT body FROM subsidy_schemes WHERE id = ?`, id))
}

// Schemes lists the schemes by ID.
func (s *subsidyStore) Schemes(ctx context.Context) ([]subsidy.Scheme, error) {
	return list(ctx, s.read, "list schemes", sqlrow.ScanScheme, `SELECT body FROM subsidy_schemes ORDER BY id`)
}

// CreateEnrolment stores a new application.
func (s *subsidyStore) CreateEnrolment(ctx context.Context, e *subsidy.Enrolment) error {
	body, err := sqlrow.EnrolmentBody(*e)
	if err != nil {
		return err
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO subsidy_enrolments (account_id, scheme_id, state, awaiting, valid_until, events, body)
			VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (account_id, scheme_id) WHERE state = 'applied' DO NOTHING RETURNING id`,
			e.Account, e.SchemeID, string(e.State), e.Awaiting(), sqlrow.AtOrNull(e.Until), len(e.History), body).Scan(&e.ID)
		if errors.Is(err, sql.ErrNoRows) {
			return subsidy.ErrPending
		}
		if v, _ := violation(err); v == sqlrow.ForeignKey {
			return subsidy.ErrSchemeNotFound
		}
		return fault.Wrap(err, "store enrolment")
	})
}

// Enrolment returns an enrolment by ID.
func (s *subsidyStore) Enrolment(ctx context.Context, id int64) (subsidy.Enrolment, error) {
	return sqlrow.ScanEnrolment(s.read.QueryRowContext(ctx, `SELECT `+sqlrow.EnrolmentColumns+` FROM subsidy_enrolments WHERE id = ?`, id))
}

// AccountEnrolments lists an account's enrolments, newest first.
func (s *subsidyStore) AccountEnrolments(ctx context.Context, account int64) ([]subsidy.Enrolment, error) {
	return list(ctx, s.read, "list enrolments", sqlrow.ScanEnrolment,
		`SELECT `+sqlrow.EnrolmentColumns+` FROM subsidy_enrolments WHERE account_id = ? ORDER BY id DESC`, account)
}

// Enrolments lists the enrolments f selects, by ID.
func (s *subsidyStore) Enrolments(ctx context.Context, f subsidy.Filter) ([]subsidy.Enrolment, error) {
	f = f.Bounded()
	q := `SELECT ` + sqlrow.EnrolmentColumns + ` FROM subsidy_enrolments WHERE id > ?`
	args := []any{f.AfterID}
	if len(f.States) > 0 {
		q += ` AND state IN (?` + strings.Repeat(", ?", len(f.States)-1) + `)`
		for _, st := range f.States {
			args = append(args, string(st))
		}
	}
	if f.Awaiting {
		q += ` AND awaiting = 1`
	}
	if f.SchemeID != "" {
		q += ` AND scheme_id = ?`
		args = append(args, f.SchemeID)
	}
	if !f.UntilBefore.IsZero() {
		q += ` AND valid_until IS NOT NULL AND valid_until <= ?`
		args = append(args, sqlrow.At(f.UntilBefore))
	}
	q += ` ORDER BY id LIMIT ?`
	args = append(args, f.Limit)
	return list(ctx, s.read, "list enrolments", sqlrow.ScanEnrolment, q, args...)
}

// UpdateEnrolment stores e if the stored enrolment has one event less.
func (s *subsidyStore) UpdateEnrolment(ctx context.Context, e subsidy.Enrolment) error {
	body, err := sqlrow.EnrolmentBody(e)
	if err != nil {
		return err
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE subsidy_enrolments SET state = ?, awaiting = ?, valid_until = ?, events = ?, body = ? WHERE id = ? AND events = ?`,
			string(e.State), e.Awaiting(), sqlrow.AtOrNull(e.Until), len(e.History), body, e.ID, len(e.History)-1)
		if err != nil {
			return fault.Wrap(err, "update enrolment")
		}
		if n, _ := res.RowsAffected(); n == 1 {
			return nil
		}
		var one int
		if err := tx.QueryRowContext(ctx, `SELECT 1 FROM subsidy_enrolments WHERE id = ?`, e.ID).Scan(&one); err != nil {
			return sqlrow.NoRowsAs(fault.Wrap(err, "update enrolment"), subsidy.ErrEnrolmentNotFound)
		}
		return subsidy.ErrStale
	})
}
