package sqlite

import (
	"context"
	"database/sql"

	"piao/internal/fault"
	"piao/internal/store/sqlrow"
)

// resealStep is one table's part of a rotation: read pages rows after
// the last key read, fix rewrites one row (its key, the update's
// arguments, whether it changed), write updates it.
type resealStep struct {
	table, read, write string
	fix                func(sqlrow.PII, *sql.Rows) (int64, []any, bool, error)
}

var resealSteps = []resealStep{
	{"tickets", `SELECT id, doc_type, doc_number, doc_sealed FROM tickets WHERE id > ? ORDER BY id LIMIT ?`,
		`UPDATE tickets SET doc_number = ?, doc_sealed = ? WHERE id = ?`,
		func(p sqlrow.PII, r *sql.Rows) (int64, []any, bool, error) {
			var id int64
			var typ, num, s string
			if err := r.Scan(&id, &typ, &num, &s); err != nil {
				return 0, nil, false, err
			}
			num, s, changed, err := p.ResealTicket(typ, num, s)
			return id, []any{num, s, id}, changed, err
		}},
	{"accounts", `SELECT id, COALESCE(phone, ''), phone_sealed FROM accounts WHERE id > ? ORDER BY id LIMIT ?`,
		`UPDATE accounts SET phone = ?, phone_sealed = ? WHERE id = ?`,
		func(p sqlrow.PII, r *sql.Rows) (int64, []any, bool, error) {
			var id int64
			var phone, s string
			if err := r.Scan(&id, &phone, &s); err != nil {
				return 0, nil, false, err
			}
			ix, s, changed, err := p.ResealPhone(phone, s)
			return id, []any{ix, s, id}, changed, err
		}},
	{"list_members", `SELECT id, subject, subject_sealed FROM list_members WHERE id > ? ORDER BY id LIMIT ?`,
		`UPDATE list_members SET subject = ?, subject_sealed = ? WHERE id = ?`,
		func(p sqlrow.PII, r *sql.Rows) (int64, []any, bool, error) {
			var id int64
			var subject, s string
			if err := r.Scan(&id, &subject, &s); err != nil {
				return 0, nil, false, err
			}
			subject, s, changed, err := p.ResealSubject(subject, s)
			return id, []any{subject, s, id}, changed, err
		}},
	{"waitlist_entries", `SELECT id, body FROM waitlist_entries WHERE id > ? ORDER BY id LIMIT ?`,
		`UPDATE waitlist_entries SET body = ? WHERE id = ?`,
		func(p sqlrow.PII, r *sql.Rows) (int64, []any, bool, error) {
			var id int64
			var body string
			if err := r.Scan(&id, &body); err != nil {
				return 0, nil, false, err
			}
			body, changed, err := p.ResealWaitlist(body)
			return id, []any{body, id}, changed, err
		}},
	{"idempotency_keys", `SELECT rowid, resp_body FROM idempotency_keys WHERE rowid > ? ORDER BY rowid LIMIT ?`,
		`UPDATE idempotency_keys SET resp_body = ? WHERE rowid = ?`,
		func(p sqlrow.PII, r *sql.Rows) (int64, []any, bool, error) {
			var id int64
			var body []byte
			if err := r.Scan(&id, &body); err != nil {
				return 0, nil, false, err
			}
			body, changed, err := p.ResealResponse(body)
			return id, []any{body, id}, changed, err
		}},
}

// Reseal seals every stored personal value with the keyring's current key
// (and seals those stored before encryption), ResealBatch rows per write
// transaction, calling progress after each batch with the table and the
// values rewritten in it so far. It returns how many values it rewrote.
func (db *DB) Reseal(ctx context.Context, progress func(table string, done int)) (int, error) {
	total := 0
	for _, st := range resealSteps {
		done := 0
		for after := int64(0); ; {
			n, rows := 0, 0
			err := db.tx(ctx, func(tx *sql.Tx) error {
				type update struct{ args []any }
				var ups []update
				rs, err := tx.QueryContext(ctx, st.read, after, sqlrow.ResealBatch)
				if err != nil {
					return fault.Wrap(err, "read "+st.table)
				}
				for rs.Next() {
					id, args, changed, err := st.fix(db.pii, rs)
					if err != nil {
						rs.Close()
						return fault.Wrap(err, "reseal "+st.table)
					}
					after, rows = id, rows+1
					if changed {
						ups = append(ups, update{args})
					}
				}
				rs.Close()
				if err := rs.Err(); err != nil {
					return fault.Wrap(err, "read "+st.table)
				}
				for _, u := range ups {
					if _, err := tx.ExecContext(ctx, st.write, u.args...); err != nil {
						return fault.Wrap(err, "reseal "+st.table)
					}
				}
				n = len(ups)
				return nil
			})
			if err != nil {
				return total, err
			}
			done, total = done+n, total+n
			if progress != nil {
				progress(st.table, done)
			}
			if rows < sqlrow.ResealBatch {
				break
			}
		}
	}
	n, err := db.indexPlainCounts(ctx, progress)
	total += n
	if err != nil {
		return total, err
	}
	// Copy the WAL into the file and empty it: the old pages in it held
	// the values under the old key.
	if _, err := db.write.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		return total, fault.Wrap(err, "checkpoint")
	}
	return total, nil
}

// indexPlainCounts moves day counts stored before encryption, under a
// plain document subject, to the subject's stored form, adding them to
// any counts already there.
func (db *DB) indexPlainCounts(ctx context.Context, progress func(string, int)) (int, error) {
	done := 0
	for {
		n := 0
		err := db.tx(ctx, func(tx *sql.Tx) error {
			type count struct {
				subject, day    string
				manual, expired int64
			}
			var cs []count
			rs, err := tx.QueryContext(ctx, `SELECT subject, day, manual, expired FROM governance_counts WHERE `+sqlrow.PlainCountSubjects+` LIMIT ?`, sqlrow.ResealBatch)
			if err != nil {
				return fault.Wrap(err, "read governance_counts")
			}
			for rs.Next() {
				var c count
				if err := rs.Scan(&c.subject, &c.day, &c.manual, &c.expired); err != nil {
					rs.Close()
					return fault.Wrap(err, "read governance_counts")
				}
				cs = append(cs, c)
			}
			rs.Close()
			for _, c := range cs {
				if _, err := tx.ExecContext(ctx, qAddDayCounts, db.pii.Subject(c.subject), c.day, c.manual, c.expired); err != nil {
					return fault.Wrap(err, "reseal governance_counts")
				}
				if _, err := tx.ExecContext(ctx, `DELETE FROM governance_counts WHERE subject = ? AND day = ?`, c.subject, c.day); err != nil {
					return fault.Wrap(err, "reseal governance_counts")
				}
			}
			n = len(cs)
			return nil
		})
		if err != nil {
			return done, err
		}
		done += n
		if progress != nil {
			progress("governance_counts", done)
		}
		if n < sqlrow.ResealBatch {
			return done, nil
		}
	}
}
