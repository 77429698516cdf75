package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"piao/internal/fault"
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
	body, err := json.Marshal(sc)
	if err != nil {
		return fault.Wrap(err, "encode scheme")
	}
	tag, err := s.pool.Exec(ctx, `INSERT INTO subsidy_schemes (id, grp, campaign_id, created_at, body) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING`,
		sc.ID, string(sc.Group), sc.CampaignID, at, string(body))
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
	var body string
	err := s.pool.QueryRow(ctx, `SELECT body FROM subsidy_schemes WHERE id = $1`, id).Scan(&body)
	if errors.Is(err, pgx.ErrNoRows) {
		return subsidy.Scheme{}, subsidy.ErrSchemeNotFound
	}
	if err != nil {
		return subsidy.Scheme{}, fault.Wrap(err, "read scheme")
	}
	var sc subsidy.Scheme
	return sc, fault.Wrap(json.Unmarshal([]byte(body), &sc), "decode scheme")
}

// Schemes lists the schemes by ID.
func (s *subsidyStore) Schemes(ctx context.Context) ([]subsidy.Scheme, error) {
	rows, err := s.pool.Query(ctx, `SELECT body FROM subsidy_schemes ORDER BY id`)
	if err != nil {
		return nil, fault.Wrap(err, "list schemes")
	}
	defer rows.Close()
	out := []subsidy.Scheme{}
	for rows.Next() {
		var body string
		var sc subsidy.Scheme
		if err := rows.Scan(&body); err != nil {
			return nil, fault.Wrap(err, "list schemes")
		}
		if err := json.Unmarshal([]byte(body), &sc); err != nil {
			return nil, fault.Wrap(err, "decode scheme")
		}
		out = append(out, sc)
	}
	return out, fault.Wrap(rows.Err(), "list schemes")
}

// enrolmentRow is what the columns of an enrolment hold besides its body.
func enrolmentRow(e subsidy.Enrolment) (body string, until *time.Time, err error) {
	id := e.ID
	e.ID = 0
	b, err := json.Marshal(e)
	e.ID = id
	if err != nil {
		return "", nil, fault.Wrap(err, "encode enrolment")
	}
	if !e.Until.IsZero() {
		until = &e.Until
	}
	return string(b), until, nil
}

// CreateEnrolment stores a new application.
func (s *subsidyStore) CreateEnrolment(ctx context.Context, e *subsidy.Enrolment) error {
	body, until, err := enrolmentRow(*e)
	if err != nil {
		return err
	}
	err = s.pool.QueryRow(ctx, `INSERT INTO subsidy_enrolments (account_id, scheme_id, state, awaiting, valid_until, events, body)
		VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (account_id, scheme_id) WHERE state = 'applied' DO NOTHING RETURNING id`,
		e.Account, e.SchemeID, string(e.State), e.Awaiting(), until, len(e.History), body).Scan(&e.ID)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, pgx.ErrNoRows):
		return subsidy.ErrPending
	case identPgCode(err) == pgForeignKeyViolation:
		return subsidy.ErrSchemeNotFound
	}
	return fault.Wrap(err, "store enrolment")
}

const enrolmentCols = `id, body`

func scanEnrolment(row pgx.Row) (subsidy.Enrolment, error) {
	var e subsidy.Enrolment
	var id int64
	var body string
	if err := row.Scan(&id, &body); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return e, subsidy.ErrEnrolmentNotFound
		}
		return e, fault.Wrap(err, "read enrolment")
	}
	if err := json.Unmarshal([]byte(body), &e); err != nil {
		return e, fault.Wrap(err, "decode enrolment")
	}
	e.ID = id
	return e, nil
}

func (s *subsidyStore) enrolments(ctx context.Context, q string, args ...any) ([]subsidy.Enrolment, error) {
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fault.Wrap(err, "list enrolments")
	}
	defer rows.Close()
	out := []subsidy.Enrolment{}
	for rows.Next() {
		e, err := scanEnrolment(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, fault.Wrap(rows.Err(), "list enrolments")
}

// Enrolment returns an enrolment by ID.
func (s *subsidyStore) Enrolment(ctx context.Context, id int64) (subsidy.Enrolment, error) {
	return scanEnrolment(s.pool.QueryRow(ctx, `SELECT `+enrolmentCols+` FROM subsidy_enrolments WHERE id = $1`, id))
}

// AccountEnrolments lists an account's enrolments, newest first.
func (s *subsidyStore) AccountEnrolments(ctx context.Context, account int64) ([]subsidy.Enrolment, error) {
	return s.enrolments(ctx, `SELECT `+enrolmentCols+` FROM subsidy_enrolments WHERE account_id = $1 ORDER BY id DESC`, account)
}

// Enrolments lists the enrolments f selects, by ID.
func (s *subsidyStore) Enrolments(ctx context.Context, f subsidy.Filter) ([]subsidy.Enrolment, error) {
	f = f.Bounded()
	args := []any{f.AfterID}
	arg := func(v any) string { args = append(args, v); return "$" + strconv.Itoa(len(args)) }
	q := `SELECT ` + enrolmentCols + ` FROM subsidy_enrolments WHERE id > $1`
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
	return s.enrolments(ctx, q, args...)
}

// UpdateEnrolment stores e if the stored enrolment has one event less.
func (s *subsidyStore) UpdateEnrolment(ctx context.Context, e subsidy.Enrolment) error {
	body, until, err := enrolmentRow(e)
	if err != nil {
		return err
	}
	return s.tx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE subsidy_enrolments SET state = $1, awaiting = $2, valid_until = $3, events = $4, body = $5 WHERE id = $6 AND events = $7`,
			string(e.State), e.Awaiting(), until, len(e.History), body, e.ID, len(e.History)-1)
		if err != nil {
			return fault.Wrap(err, "update enrolment")
		}
		if tag.RowsAffected() == 1 {
			return nil
		}
		var one int
		switch err := tx.QueryRow(ctx, `SELECT 1 FROM subsidy_enrolments WHERE id = $1`, e.ID).Scan(&one); {
		case errors.Is(err, pgx.ErrNoRows):
			return subsidy.ErrEnrolmentNotFound
		case err != nil:
			return fault.Wrap(err, "update enrolment")
		}
		return subsidy.ErrStale
	})
}
