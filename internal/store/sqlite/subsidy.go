package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"piao/internal/fault"
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
	body, err := json.Marshal(sc)
	if err != nil {
		return fault.Wrap(err, "encode scheme")
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO subsidy_schemes (id, grp, campaign_id, created_at, body) VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
			sc.ID, string(sc.Group), sc.CampaignID, formatTime(at), string(body))
		if err != nil {
			return fault.Wrap(err, "store scheme")
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return subsidy.ErrSchemeExists
		}
		return nil
	})
}

// Scheme returns a scheme by ID.
func (s *subsidyStore) Scheme(ctx context.Context, id string) (subsidy.Scheme, error) {
	var body string
	err := s.read.QueryRowContext(ctx, `SELECT body FROM subsidy_schemes WHERE id = ?`, id).Scan(&body)
	if errors.Is(err, sql.ErrNoRows) {
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
	rows, err := s.read.QueryContext(ctx, `SELECT body FROM subsidy_schemes ORDER BY id`)
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
func enrolmentRow(e subsidy.Enrolment) (body string, awaiting int, until any, err error) {
	id := e.ID
	e.ID = 0
	b, err := json.Marshal(e)
	e.ID = id
	if err != nil {
		return "", 0, nil, fault.Wrap(err, "encode enrolment")
	}
	if e.Awaiting() {
		awaiting = 1
	}
	if !e.Until.IsZero() {
		until = formatTime(e.Until)
	}
	return string(b), awaiting, until, nil
}

// CreateEnrolment stores a new application.
func (s *subsidyStore) CreateEnrolment(ctx context.Context, e *subsidy.Enrolment) error {
	body, awaiting, until, err := enrolmentRow(*e)
	if err != nil {
		return err
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO subsidy_enrolments (account_id, scheme_id, state, awaiting, valid_until, events, body)
			VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (account_id, scheme_id) WHERE state = 'applied' DO NOTHING`,
			e.Account, e.SchemeID, string(e.State), awaiting, until, len(e.History), body)
		if err != nil {
			if strings.Contains(err.Error(), "FOREIGN KEY") {
				return subsidy.ErrSchemeNotFound
			}
			return fault.Wrap(err, "store enrolment")
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return subsidy.ErrPending
		}
		id, err := res.LastInsertId()
		if err != nil {
			return fault.Wrap(err, "store enrolment")
		}
		e.ID = id
		return nil
	})
}

const enrolmentCols = `id, body`

func scanEnrolment(row interface{ Scan(...any) error }) (subsidy.Enrolment, error) {
	var e subsidy.Enrolment
	var id int64
	var body string
	if err := row.Scan(&id, &body); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
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
	rows, err := s.read.QueryContext(ctx, q, args...)
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
	return scanEnrolment(s.read.QueryRowContext(ctx, `SELECT `+enrolmentCols+` FROM subsidy_enrolments WHERE id = ?`, id))
}

// AccountEnrolments lists an account's enrolments, newest first.
func (s *subsidyStore) AccountEnrolments(ctx context.Context, account int64) ([]subsidy.Enrolment, error) {
	return s.enrolments(ctx, `SELECT `+enrolmentCols+` FROM subsidy_enrolments WHERE account_id = ? ORDER BY id DESC`, account)
}

// Enrolments lists the enrolments f selects, by ID.
func (s *subsidyStore) Enrolments(ctx context.Context, f subsidy.Filter) ([]subsidy.Enrolment, error) {
	f = f.Bounded()
	q := `SELECT ` + enrolmentCols + ` FROM subsidy_enrolments WHERE id > ?`
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
		args = append(args, formatTime(f.UntilBefore))
	}
	q += ` ORDER BY id LIMIT ?`
	args = append(args, f.Limit)
	return s.enrolments(ctx, q, args...)
}

// UpdateEnrolment stores e if the stored enrolment has one event less.
func (s *subsidyStore) UpdateEnrolment(ctx context.Context, e subsidy.Enrolment) error {
	body, awaiting, until, err := enrolmentRow(e)
	if err != nil {
		return err
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE subsidy_enrolments SET state = ?, awaiting = ?, valid_until = ?, events = ?, body = ? WHERE id = ? AND events = ?`,
			string(e.State), awaiting, until, len(e.History), body, e.ID, len(e.History)-1)
		if err != nil {
			return fault.Wrap(err, "update enrolment")
		}
		if n, _ := res.RowsAffected(); n == 1 {
			return nil
		}
		var one int
		switch err := tx.QueryRowContext(ctx, `SELECT 1 FROM subsidy_enrolments WHERE id = ?`, e.ID).Scan(&one); {
		case errors.Is(err, sql.ErrNoRows):
			return subsidy.ErrEnrolmentNotFound
		case err != nil:
			return fault.Wrap(err, "update enrolment")
		}
		return subsidy.ErrStale
	})
}
