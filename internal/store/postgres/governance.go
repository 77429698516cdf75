package postgres

import (
	"context"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"piao/internal/behaviour"
	"piao/internal/fault"
	"piao/internal/governance"
	"piao/internal/network"
	"piao/internal/store/sqlrow"
)

// governanceStore implements governance.Store on PostgreSQL. Its
// conditional updates lock the membership row, so concurrent processes
// extending or lifting one membership change it once each, in turn.
type governanceStore struct{ *DB }

var _ governance.Store = (*governanceStore)(nil)

// Setting returns a JSON setting by name ("" if unset).
func (s *governanceStore) Setting(ctx context.Context, name string) (string, error) {
	var v string
	err := s.pool.QueryRow(ctx, `SELECT value FROM settings WHERE name = $1`, name).Scan(&v)
	return v, sqlrow.NoRowsAs(fault.Wrap(err, "read setting"), nil) // unset reads as ""
}

// SetSetting stores a JSON setting.
func (s *governanceStore) SetSetting(ctx context.Context, name, value string) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = excluded.value`, name, value)
	return fault.Wrap(err, "save setting")
}

// qTransactions reads one row per ticket of the orders placed in a window.
// Ordering by the order ID after the time groups each order's tickets and
// matches the orders_created index (created_at, id).
var qTransactions = `SELECT t.doc_type || ':' || t.doc_number, t.doc_sealed, o.account_id, t.service_id, t.service_date, o.created_at, ` +
	sqlrow.OutcomeCase("t.status") + `
	FROM tickets t JOIN orders o ON o.id = t.order_id
	WHERE o.created_at >= $1 AND o.created_at < $2`

// govInternLimit bounds the strings Transactions keeps to reuse (service
// IDs and dates are few; this only guards against pathological data).
const govInternLimit = 4096

// Transactions streams the booking transactions of orders placed in
// [from, to) to fn, in order of placement. pgx reads the rows off the
// connection as they come; nothing is buffered beyond one row.
func (s *governanceStore) Transactions(ctx context.Context, from, to time.Time, train string, fn func(behaviour.Transaction) error) error {
	q, args := qTransactions, []any{from, to}
	if train != "" {
		q += ` AND t.service_id = $3`
		args = append(args, train)
	}
	q += ` ORDER BY o.created_at, o.id, t.id`
	// Stopping early cancels the query, rather than reading the rest of a
	// possibly huge result to free the connection.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return fault.Wrap(err, "read transactions")
	}
	defer rows.Close()
	var (
		tx             behaviour.Transaction
		trainB, dateB  pgtype.DriverBytes // valid until the next row: copied below
		outcome        int32
		trains         = map[string]string{}
		dates          = map[string]network.Date{}
		stored, sealed string
		docs           = sqlrow.NewDocCache(s.pii)
	)
	for rows.Next() {
		if err := rows.Scan(&stored, &sealed, &tx.Account, &trainB, &dateB, &tx.At, &outcome); err != nil {
			return fault.Wrap(err, "read transactions")
		}
		if tx.Passenger, err = docs.Passenger(stored, sealed); err != nil {
			return err
		}
		// A map lookup with string(b) does not allocate.
		var ok bool
		if tx.Train, ok = trains[string(trainB)]; !ok {
			tx.Train = string(trainB)
			if len(trains) < govInternLimit {
				trains[tx.Train] = tx.Train
			}
		}
		if tx.Date, ok = dates[string(dateB)]; !ok {
			if tx.Date, err = network.ParseDate(string(dateB)); err != nil {
				return fault.Wrap(err, "read transaction date")
			}
			if len(dates) < govInternLimit {
				dates[string(dateB)] = tx.Date
			}
		}
		tx.At, tx.Outcome = tx.At.UTC(), behaviour.Outcome(outcome)
		if err := fn(tx); err != nil {
			cancel()
			return err
		}
	}
	return fault.Wrap(rows.Err(), "read transactions")
}

// DayCounts returns the counts of subjects on a service day.
func (s *governanceStore) DayCounts(ctx context.Context, day network.Date, subjects []string) (map[string]governance.Counts, error) {
	out := make(map[string]governance.Counts, len(subjects))
	if len(subjects) == 0 {
		return out, nil
	}
	stored := s.pii.Subjects(subjects) // stored form → subject
	counts, err := list(ctx, s.pool, "read day counts", sqlrow.ScanSubjectCounts,
		`SELECT subject, manual, expired FROM governance_counts WHERE day = $1 AND subject = ANY($2)`, day.String(), slices.Collect(maps.Keys(stored)))
	if err != nil {
		return nil, err
	}
	for _, c := range counts {
		out[stored[c.Subject]] = c.Counts
	}
	return out, nil
}

// Members lists memberships newest first, without their audit trails.
func (s *governanceStore) Members(ctx context.Context, f governance.MemberFilter) ([]governance.Membership, error) {
	var where []string
	var args []any
	arg := func(v any) string { args = append(args, v); return "$" + strconv.Itoa(len(args)) }
	if f.List != "" {
		where = append(where, `list = `+arg(string(f.List)))
	}
	if f.Subject != "" {
		where = append(where, `subject = `+arg(s.pii.Subject(f.Subject)))
	}
	if !f.ActiveAt.IsZero() {
		where = append(where, `lifted_at IS NULL AND expires_at > `+arg(f.ActiveAt))
	}
	q := `SELECT ` + sqlrow.MemberColumns + ` FROM list_members`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, ` AND `)
	}
	limit, offset := sqlrow.Page(f.Limit, f.Offset)
	q += ` ORDER BY id DESC LIMIT ` + arg(limit) + ` OFFSET ` + arg(offset)
	return list(ctx, s.pool, "list memberships", s.pii.ScanMember, q, args...)
}

// Member returns one membership with its audit trail, oldest first.
func (s *governanceStore) Member(ctx context.Context, id int64) (governance.Membership, error) {
	var m governance.Membership
	err := s.readTx(ctx, func(tx pgx.Tx) error {
		var err error
		m, err = s.pii.ScanMember(tx.QueryRow(ctx, `SELECT `+sqlrow.MemberColumns+` FROM list_members WHERE id = $1`, id))
		if err != nil {
			return sqlrow.NoRowsAs(fault.Wrap(err, "read membership"), sqlrow.ErrMemberNotFound)
		}
		m.Events, err = list(ctx, tx, "read membership audit", sqlrow.ScanAudit,
			`SELECT `+sqlrow.AuditColumns+` FROM list_member_events WHERE member_id = $1 ORDER BY id`, id)
		return err
	})
	if err != nil {
		return governance.Membership{}, err
	}
	return m, nil
}

// govAudit records one audit entry.
func govAudit(ctx context.Context, tx pgx.Tx, a governance.Audit) error {
	_, err := tx.Exec(ctx, `INSERT INTO list_member_events (member_id, at, actor, action, detail) VALUES ($1, $2, $3, $4, $5)`,
		a.MemberID, a.At, a.Actor, a.Action, a.Detail)
	return fault.Wrap(err, "record membership audit")
}

// AddMember stores a membership and its first audit entry, setting m.ID.
func (s *governanceStore) AddMember(ctx context.Context, m *governance.Membership, a governance.Audit) error {
	var id int64
	err := s.tx(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO list_members (list, subject, subject_sealed, source, reason, started_at, expires_at, lifted_at, lifted_by, lift_reason)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`,
			string(m.List), s.pii.Subject(m.Subject), s.pii.SubjectSealed(m.Subject), string(m.Source), m.Reason, m.Start, m.Expires, m.LiftedAt, m.LiftedBy, m.LiftReason).Scan(&id)
		if err != nil {
			return fault.Wrap(err, "add membership")
		}
		a.MemberID = id
		return govAudit(ctx, tx, a)
	})
	if err == nil {
		m.ID = id
	}
	return fault.Wrap(err, "add membership")
}

// govUpdate runs a conditional update of membership id in a transaction
// and, when it changed the row, records a; when it did not, it tells a
// membership that is lifted (false) from one that does not exist
// (sqlrow.ErrMemberNotFound).
func (s *governanceStore) govUpdate(ctx context.Context, id int64, a governance.Audit, what, query string, args ...any) (bool, error) {
	var ok bool
	err := s.tx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, query, args...)
		if err != nil {
			return fault.Wrap(err, what)
		}
		if tag.RowsAffected() == 0 { // lifted, or not there at all
			var one int
			err = tx.QueryRow(ctx, `SELECT 1 FROM list_members WHERE id = $1`, id).Scan(&one)
			return sqlrow.NoRowsAs(fault.Wrap(err, "find membership"), sqlrow.ErrMemberNotFound)
		}
		ok, a.MemberID = true, id
		return govAudit(ctx, tx, a)
	})
	return ok && err == nil, fault.Wrap(err, what)
}

// ExtendMember moves the expiry of a membership that was not lifted.
func (s *governanceStore) ExtendMember(ctx context.Context, id int64, expires time.Time, a governance.Audit) (bool, error) {
	return s.govUpdate(ctx, id, a, "extend membership", `UPDATE list_members SET expires_at = $1 WHERE id = $2 AND lifted_at IS NULL`, expires, id)
}

// LiftMember ends a membership that was not lifted.
func (s *governanceStore) LiftMember(ctx context.Context, id int64, at time.Time, by, reason string, a governance.Audit) (bool, error) {
	return s.govUpdate(ctx, id, a, "lift membership", `UPDATE list_members SET lifted_at = $1, lifted_by = $2, lift_reason = $3 WHERE id = $4 AND lifted_at IS NULL`,
		at, by, reason, id)
}
