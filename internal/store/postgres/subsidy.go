package postgres

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"piao/internal/fault"
	"piao/internal/store/sqlrow"
	"piao/internal/subsidy"
)

// Subsidy returns the store of subsidy schemes and enrolments.
func (db *DB) Subsidy() subsidy.Store { return &subsidyStore{db} }

// subsidyStore implements subsidy.Store on PostgreSQL. An update names
// the history length it was decided on; a concurrent update of the same
// row waits for the first and then finds it changed, so of two operators
// deciding one application only the first decision is stored.
type subsidyStore struct{ *DB }

var _ subsidy.Store = (*subsidyStore)(nil)

// CreateScheme stores a new scheme.
func (s *subsidyStore) CreateScheme(ctx context.Context, sc subsidy.Scheme, at time.Time) error {
	body, err := sqlrow.SchemeBody(sc)
	if err != nil {
		return err
	}
	tag, err := s.pool.Exec(ctx, `INSERT INTO subsidy_schemes (id, grp, campaign_id, created_at, body) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING`,
		sc.ID, string(sc.Group), sc.CampaignID, at, body)
	if err != nil {
		return fault.Wrap(err, "store scheme")
	}
	if tag.RowsAffected() == 0 {
		return subsidy.ErrSchemeExists
	}
	return nil
}

// Scheme returns a scheme by ID.
func (s *subsidyStore) Scheme(ctx context.Context, id string) (subsidy.Scheme, error) {
	return sqlrow.ScanScheme(s.pool.QueryRow(ctx, `SELECT body FROM subsidy_schemes WHERE id = $1`, id))
}

// Schemes lists the schemes by ID.
func (s *subsidyStore) Schemes(ctx context.Context) ([]subsidy.Scheme, error) {
	return list(ctx, s.pool, "list schemes", sqlrow.ScanScheme, `SELECT body FROM subsidy_schemes ORDER BY id`)
}

// CreateEnrolment stores a new application.
func (s *subsidyStore) CreateEnrolment(ctx context.Context, e *subsidy.Enrolment) error {
	body, err := sqlrow.EnrolmentBody(*e)
	if err != nil {
		return err
	}
	err = s.pool.QueryRow(ctx, `INSERT INTO subsidy_enrolments (account_id, scheme_id, state, awaiting, valid_until, events, body)
		VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (account_id, scheme_id) WHERE state = 'applied' DO NOTHING RETURNING id`,
		e.Account, e.SchemeID, string(e.State), e.Awaiting(), sqlrow.AtOrNull(e.Until), len(e.History), body).Scan(&e.ID)
	if errors.Is(err, pgx.ErrNoRows) {
		return subsidy.ErrPending
	}
	if v, _ := violation(err); v == sqlrow.ForeignKey {
		return subsidy.ErrSchemeNotFound
	}
	return fault.Wrap(err, "store enrolment")
}

// Enrolment returns an enrolment by ID.
func (s *subsidyStore) Enrolment(ctx context.Context, id int64) (subsidy.Enrolment, error) {
	return sqlrow.ScanEnrolment(s.pool.QueryRow(ctx, `SELECT `+sqlrow.EnrolmentColumns+` FROM subsidy_enrolments WHERE id = $1`, id))
}

// AccountEnrolments lists an account's enrolments, newest first.
func (s *subsidyStore) AccountEnrolments(ctx context.Context, account int64) ([]subsidy.Enrolment, error) {
	return list(ctx, s.pool, "list enrolments", sqlrow.ScanEnrolment,
		`SELECT `+sqlrow.EnrolmentColumns+` FROM subsidy_enrolments WHERE account_id = $1 ORDER BY id DESC`, account)
}

// Enrolments lists the enrolments f selects, by ID.
func (s *subsidyStore) Enrolments(ctx context.Context, f subsidy.Filter) ([]subsidy.Enrolment, error) {
	f = f.Bounded()
	args := []any{f.AfterID}
	arg := func(v any) string { args = append(args, v); return "$" + strconv.Itoa(len(args)) }
	q := `SELECT ` + sqlrow.EnrolmentColumns + ` FROM subsidy_enrolments WHERE id > $1`
	if len(f.States) > 0 {
		states := make([]string, len(f.States))
		for i, st := range f.States {
			states[i] = string(st)
		}
		q += ` AND state = ANY(` + arg(states) + `)`
	}
	if f.Awaiting {
		q += ` AND awaiting`
	}
	if f.SchemeID != "" {
		q += ` AND scheme_id = ` + arg(f.SchemeID)
	}
	if !f.UntilBefore.IsZero() {
		q += ` AND valid_until <= ` + arg(f.UntilBefore)
	}
	q += ` ORDER BY id LIMIT ` + arg(f.Limit)
	return list(ctx, s.pool, "list enrolments", sqlrow.ScanEnrolment, q, args...)
}

// UpdateEnrolment stores e if the stored enrolment has one event less.
func (s *subsidyStore) UpdateEnrolment(ctx context.Context, e subsidy.Enrolment) error {
	body, err := sqlrow.EnrolmentBody(e)
	if err != nil {
		return err
	}
	return s.tx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE subsidy_enrolments SET state = $1, awaiting = $2, valid_until = $3, events = $4, body = $5 WHERE id = $6 AND events = $7`,
			string(e.State), e.Awaiting(), sqlrow.AtOrNull(e.Until), len(e.History), body, e.ID, len(e.History)-1)
		if err != nil {
			return fault.Wrap(err, "update enrolment")
		}
		if tag.RowsAffected() == 1 {
			return nil
		}
		var one int
		if err := tx.QueryRow(ctx, `SELECT 1 FROM subsidy_enrolments WHERE id = $1`, e.ID).Scan(&one); err != nil {
			return sqlrow.NoRowsAs(fault.Wrap(err, "update enrolment"), subsidy.ErrEnrolmentNotFound)
		}
		return subsidy.ErrStale
	})
}
