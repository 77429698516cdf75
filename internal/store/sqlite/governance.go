package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"piao/internal/behaviour"
	"piao/internal/fault"
	"piao/internal/governance"
	"piao/internal/network"
	"piao/internal/store/sqlrow"
)

// governanceStore implements governance.Store on SQLite. Writes run on the
// single writer connection, so its conditional updates never race; reads
// use the reader pool.
type governanceStore struct{ *DB }

var _ governance.Store = (*governanceStore)(nil)

// The statements of booking.Tx's DayCounts and AddDayCounts, which booking
// transactions run on every booking and cancel.
const (
	qDayCounts    = `SELECT manual, expired FROM governance_counts WHERE subject = ? AND day = ?`
	qAddDayCounts = `INSERT INTO governance_counts (subject, day, manual, expired) VALUES (?, ?, ?, ?)
		ON CONFLICT (subject, day) DO UPDATE SET manual = governance_counts.manual + excluded.manual,
			expired = governance_counts.expired + excluded.expired
		RETURNING manual, expired`
)

// Setting returns a JSON setting by name ("" if unset).
func (s *governanceStore) Setting(ctx context.Context, name string) (string, error) {
	var v string
	err := s.read.QueryRowContext(ctx, `SELECT value FROM settings WHERE name = ?`, name).Scan(&v)
	return v, sqlrow.NoRowsAs(fault.Wrap(err, "read setting"), nil) // unset reads as ""
}

// SetSetting stores a JSON setting.
func (s *governanceStore) SetSetting(ctx context.Context, name, value string) error {
	_, err := s.execCount(ctx, "save setting", `INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value`, name, value)
	return err
}

// qTransactions reads one row per ticket of the orders placed in a window.
// Ordering by the order ID after the time lets the orders_created index
// (whose entries end in the rowid) and tickets_order deliver the rows in
// order, with no sort.
// The train and its date come as one column, "service_id service_date",
// that Transactions looks up in a cache of parsed pairs.
var qTransactions = `SELECT t.doc_type || ':' || t.doc_number, t.doc_sealed, o.account_id, t.service_id || ' ' || t.service_date, o.created_at, ` +
	sqlrow.OutcomeCase("t.status") + `
	FROM tickets t JOIN orders o ON o.id = t.order_id
	WHERE o.created_at >= ? AND o.created_at < ?`

// Transactions streams the booking transactions of orders placed in
// [from, to) to fn, in order of placement.
func (s *governanceStore) Transactions(ctx context.Context, from, to time.Time, train string, fn func(behaviour.Transaction) error) error {
	q, args := qTransactions, []any{sqlrow.At(from), sqlrow.At(to)}
	if train != "" {
		q += ` AND t.service_id = ?`
		args = append(args, train)
	}
	q += ` ORDER BY o.created_at, o.id, t.id`
	rows, err := s.read.QueryContext(ctx, q, args...)
	if err != nil {
		return fault.Wrap(err, "read transactions")
	}
	defer rows.Close()
	var (
		tx                 behaviour.Transaction
		trainDate, created string
		outcome            int64
		lastCreated        string
		lastAt             time.Time
		trains             = map[string]govTrainDate{}
		stored, docSealed  string
		docs               = sqlrow.NewDocCache(s.pii)
	)
	for rows.Next() {
		if err := rows.Scan(&stored, &docSealed, &tx.Account, &trainDate, &created, &outcome); err != nil {
			return fault.Wrap(err, "read transactions")
		}
		if tx.Passenger, err = docs.Passenger(stored, docSealed); err != nil {
			return err
		}
		// The tickets of one order share its time: parse it when it changes.
		if created != lastCreated || lastAt.IsZero() {
			if lastAt, err = govParseTime(created); err != nil {
				return fault.Wrap(err, "read transaction time")
			}
			lastCreated = created
		}
		td, ok := trains[trainDate]
		if !ok {
			if td, err = govSplitTrainDate(trainDate); err != nil {
				return err
			}
			if len(trains) >= govTrainCacheSize {
				clear(trains)
			}
			trains[trainDate] = td
		}
		tx.Train, tx.Date, tx.At, tx.Outcome = td.train, td.date, lastAt, behaviour.Outcome(outcome)
		if err := fn(tx); err != nil {
			return err
		}
	}
	return fault.Wrap(rows.Err(), "read transactions")
}

// govTrainDate is a train and service date read by Transactions.
type govTrainDate struct {
	train string
	date  network.Date
}

// govTrainCacheSize bounds Transactions' cache of trains and dates.
const govTrainCacheSize = 1 << 14

// govSplitTrainDate parses "service_id service_date".
func govSplitTrainDate(s string) (govTrainDate, error) {
	i := strings.LastIndexByte(s, ' ')
	if i < 0 {
		return govTrainDate{}, fault.Wrap(fmt.Errorf("bad train and date %q", s), "read transactions")
	}
	d, err := network.ParseDate(s[i+1:])
	if err != nil {
		return govTrainDate{}, fault.Wrap(err, "read transaction date")
	}
	return govTrainDate{train: strings.Clone(s[:i]), date: d}, nil
}

// govParseTime reads a time stored by sqlrow.At, decoding the fixed-width
// layout by hand (several times faster than time.Parse) and falling back
// to sqlrow.Parse for anything else.
func govParseTime(s string) (time.Time, error) {
	// 2006-01-02T15:04:05.000000000Z
	if len(s) != 30 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[19] != '.' || s[29] != 'Z' {
		return sqlrow.Parse(s)
	}
	num := func(p string) int {
		n := 0
		for i := 0; i < len(p); i++ {
			c := p[i] - '0'
			if c > 9 {
				return -1
			}
			n = n*10 + int(c)
		}
		return n
	}
	y, mo, d, h, mi, sec, ns := num(s[0:4]), num(s[5:7]), num(s[8:10]), num(s[11:13]), num(s[14:16]), num(s[17:19]), num(s[20:29])
	if y < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 59 || ns < 0 {
		return sqlrow.Parse(s)
	}
	return time.Date(y, time.Month(mo), d, h, mi, sec, ns, time.UTC), nil
}

// DayCounts returns the counts of subjects on a service day.
func (s *governanceStore) DayCounts(ctx context.Context, day network.Date, subjects []string) (map[string]governance.Counts, error) {
	out := make(map[string]governance.Counts, len(subjects))
	stored := s.pii.Subjects(subjects) // stored form → subject
	// Chunks keep each query well below SQLite's limit on parameters.
	for chunk := range slices.Chunk(slices.Collect(maps.Keys(stored)), 500) {
		args := []any{day.String()}
		for _, sub := range chunk {
			args = append(args, sub)
		}
		counts, err := list(ctx, s.read, "read day counts", sqlrow.ScanSubjectCounts, `SELECT subject, manual, expired FROM governance_counts
			WHERE day = ? AND subject IN (?`+strings.Repeat(", ?", len(chunk)-1)+`)`, args...)
		if err != nil {
			return nil, err
		}
		for _, c := range counts {
			out[stored[c.Subject]] = c.Counts
		}
	}
	return out, nil
}

// Members lists memberships newest first, without their audit trails.
func (s *governanceStore) Members(ctx context.Context, f governance.MemberFilter) ([]governance.Membership, error) {
	var where []string
	var args []any
	if f.List != "" {
		where, args = append(where, `list = ?`), append(args, string(f.List))
	}
	if f.Subject != "" {
		where, args = append(where, `subject = ?`), append(args, s.pii.Subject(f.Subject))
	}
	if !f.ActiveAt.IsZero() {
		where, args = append(where, `lifted_at IS NULL AND expires_at > ?`), append(args, sqlrow.At(f.ActiveAt))
	}
	q := `SELECT ` + sqlrow.MemberColumns + ` FROM list_members`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, ` AND `)
	}
	limit, offset := sqlrow.Page(f.Limit, f.Offset)
	return list(ctx, s.read, "list memberships", s.pii.ScanMember, q+` ORDER BY id DESC LIMIT ? OFFSET ?`, append(args, limit, offset)...)
}

// Member returns one membership with its audit trail, oldest first.
func (s *governanceStore) Member(ctx context.Context, id int64) (governance.Membership, error) {
	var m governance.Membership
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		var err error
		m, err = s.pii.ScanMember(tx.QueryRowContext(ctx, `SELECT `+sqlrow.MemberColumns+` FROM list_members WHERE id = ?`, id))
		if err != nil {
			return sqlrow.NoRowsAs(fault.Wrap(err, "read membership"), sqlrow.ErrMemberNotFound)
		}
		m.Events, err = list(ctx, tx, "read membership audit", sqlrow.ScanAudit,
			`SELECT `+sqlrow.AuditColumns+` FROM list_member_events WHERE member_id = ? ORDER BY id`, id)
		return err
	})
	if err != nil {
		return governance.Membership{}, err
	}
	return m, nil
}

// govAudit records one audit entry.
func govAudit(ctx context.Context, tx *sql.Tx, a governance.Audit) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO list_member_events (member_id, at, actor, action, detail) VALUES (?, ?, ?, ?, ?)`,
		a.MemberID, sqlrow.At(a.At), a.Actor, a.Action, a.Detail)
	return fault.Wrap(err, "record membership audit")
}

// AddMember stores a membership and its first audit entry, setting m.ID.
func (s *governanceStore) AddMember(ctx context.Context, m *governance.Membership, a governance.Audit) error {
	var id int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var lifted any
		if m.LiftedAt != nil {
			lifted = sqlrow.At(*m.LiftedAt)
		}
		err := tx.QueryRowContext(ctx, `INSERT INTO list_members (list, subject, subject_sealed, source, reason, started_at, expires_at, lifted_at, lifted_by, lift_reason)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			string(m.List), s.pii.Subject(m.Subject), s.pii.SubjectSealed(m.Subject), string(m.Source), m.Reason, sqlrow.At(m.Start), sqlrow.At(m.Expires), lifted, m.LiftedBy, m.LiftReason).Scan(&id)
		if err != nil {
			return fault.Wrap(err, "add membership")
		}
		a.MemberID = id
		return govAudit(ctx, tx, a)
	})
	if err == nil {
		m.ID = id
	}
	return err
}

// govUpdate runs a conditional update of membership id in a transaction
// and, when it changed the row, records a; when it did not, it tells a
// membership that is lifted (false) from one that does not exist
// (sqlrow.ErrMemberNotFound).
func (s *governanceStore) govUpdate(ctx context.Context, id int64, a governance.Audit, what, query string, args ...any) (bool, error) {
	var ok bool
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, query, args...)
		if err != nil {
			return fault.Wrap(err, what)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fault.Wrap(err, "update membership")
		}
		if n == 0 { // lifted, or not there at all
			var one int
			err = tx.QueryRowContext(ctx, `SELECT 1 FROM list_members WHERE id = ?`, id).Scan(&one)
			return sqlrow.NoRowsAs(fault.Wrap(err, "find membership"), sqlrow.ErrMemberNotFound)
		}
		ok, a.MemberID = true, id
		return govAudit(ctx, tx, a)
	})
	return ok && err == nil, err
}

// ExtendMember moves the expiry of a membership that was not lifted.
func (s *governanceStore) ExtendMember(ctx context.Context, id int64, expires time.Time, a governance.Audit) (bool, error) {
	return s.govUpdate(ctx, id, a, "extend membership", `UPDATE list_members SET expires_at = ? WHERE id = ? AND lifted_at IS NULL`, sqlrow.At(expires), id)
}

// LiftMember ends a membership that was not lifted.
func (s *governanceStore) LiftMember(ctx context.Context, id int64, at time.Time, by, reason string, a governance.Audit) (bool, error) {
	return s.govUpdate(ctx, id, a, "lift membership", `UPDATE list_members SET lifted_at = ?, lifted_by = ?, lift_reason = ? WHERE id = ? AND lifted_at IS NULL`,
		sqlrow.At(at), by, reason, id)
}
