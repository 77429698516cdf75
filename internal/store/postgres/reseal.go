package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"piao/internal/fault"
	"piao/internal/store/sqlrow"
)

// resealStep is one table's part of a rotation: read pages rows (locked)
// after the last key read, fix rewrites one row (its key, the update's
// arguments, whether it changed), write updates it. Keys are compared as
// text so the one loop pages integer IDs and idempotency keys alike.
type resealStep struct {
	table, read, write string
	fix                func(sqlrow.PII, pgx.Rows) (after []any, args []any, changed bool, err error)
}

var resealSteps = []resealStep{
	{"tickets", `SELECT id, doc_type, doc_number, doc_sealed FROM tickets WHERE id > $1 ORDER BY id LIMIT $2 FOR UPDATE`,
		`UPDATE tickets SET doc_number = $1, doc_sealed = $2 WHERE id = $3`,
		func(p sqlrow.PII, r pgx.Rows) ([]any, []any, bool, error) {
			var id int64
			var typ, num, s string
			if err := r.Scan(&id, &typ, &num, &s); err != nil {
				return nil, nil, false, err
			}
			num, s, changed, err := p.ResealTicket(typ, num, s)
			return []any{id}, []any{num, s, id}, changed, err
		}},
	{"accounts", `SELECT id, COALESCE(phone, ''), phone_sealed FROM accounts WHERE id > $1 ORDER BY id LIMIT $2 FOR UPDATE`,
		`UPDATE accounts SET phone = $1, phone_sealed = $2 WHERE id = $3`,
		func(p sqlrow.PII, r pgx.Rows) ([]any, []any, bool, error) {
			var id int64
			var phone, s string
			if err := r.Scan(&id, &phone, &s); err != nil {
				return nil, nil, false, err
			}
			ix, s, changed, err := p.ResealPhone(phone, s)
			return []any{id}, []any{ix, s, id}, changed, err
		}},
	{"list_members", `SELECT id, subject, subject_sealed FROM list_members WHERE id > $1 ORDER BY id LIMIT $2 FOR UPDATE`,
		`UPDATE list_members SET subject = $1, subject_sealed = $2 WHERE id = $3`,
		func(p sqlrow.PII, r pgx.Rows) ([]any, []any, bool, error) {
			var id int64
			var subject, s string
			if err := r.Scan(&id, &subject, &s); err != nil {
				return nil, nil, false, err
			}
			subject, s, changed, err := p.ResealSubject(subject, s)
			return []any{id}, []any{subject, s, id}, changed, err
		}},
	{"waitlist_entries", `SELECT id, body FROM waitlist_entries WHERE id > $1 ORDER BY id LIMIT $2 FOR UPDATE`,
		`UPDATE waitlist_entries SET body = $1 WHERE id = $2`,
		func(p sqlrow.PII, r pgx.Rows) ([]any, []any, bool, error) {
			var id int64
			var body string
			if err := r.Scan(&id, &body); err != nil {
				return nil, nil, false, err
			}
			body, changed, err := p.ResealWaitlist(body)
			return []any{id}, []any{body, id}, changed, err
		}},
	{"idempotency_keys", `SELECT scope, idem_key, resp_body FROM idempotency_keys WHERE (scope, idem_key) > ($1, $2) ORDER BY scope, idem_key LIMIT $3 FOR UPDATE`,
		`UPDATE idempotency_keys SET resp_body = $1 WHERE scope = $2 AND idem_key = $3`,
		func(p sqlrow.PII, r pgx.Rows) ([]any, []any, bool, error) {
			var scope, key string
			var body []byte
			if err := r.Scan(&scope, &key, &body); err != nil {
				return nil, nil, false, err
			}
			body, changed, err := p.ResealResponse(body)
			return []any{scope, key}, []any{body, scope, key}, changed, err
		}},
}

// Reseal seals every stored personal value with the keyring's current key
// (and seals those stored before encryption), ResealBatch rows per
// transaction, calling progress after each batch with the table and the
// values rewritten in it so far. It returns how many values it rewrote.
func (db *DB) Reseal(ctx context.Context, progress func(table string, done int)) (int, error) {
	total := 0
	for _, st := range resealSteps {
		done := 0
		after := []any{int64(0)}
		if st.table == "idempotency_keys" {
			after = []any{"", ""}
		}
		for {
			n, rows := 0, 0
			err := db.tx(ctx, func(tx pgx.Tx) error {
				var ups [][]any
				rs, err := tx.Query(ctx, st.read, append(append([]any{}, after...), sqlrow.ResealBatch)...)
				if err != nil {
					return fault.Wrap(err, "read "+st.table)
				}
				for rs.Next() {
					key, args, changed, err := st.fix(db.pii, rs)
					if err != nil {
						rs.Close()
						return fault.Wrap(err, "reseal "+st.table)
					}
					after, rows = key, rows+1
					if changed {
						ups = append(ups, args)
					}
				}
				rs.Close()
				if err := rs.Err(); err != nil {
					return fault.Wrap(err, "read "+st.table)
				}
				b := &pgx.Batch{}
				for _, args := range ups {
					b.Queue(st.write, args...)
				}
				n = len(ups)
				return fault.Wrap(tx.SendBatch(ctx, b).Close(), "reseal "+st.table)
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
	return total + n, err
}

// indexPlainCounts moves day counts stored before encryption, under a
// plain document subject, to the subject's stored form, adding them to
// any counts already there.
func (db *DB) indexPlainCounts(ctx context.Context, progress func(string, int)) (int, error) {
	done := 0
	for {
		n := 0
		err := db.tx(ctx, func(tx pgx.Tx) error {
			rs, err := tx.Query(ctx, `DELETE FROM governance_counts WHERE (subject, day) IN (
				SELECT subject, day FROM governance_counts WHERE `+sqlrow.PlainCountSubjects+` LIMIT $1 FOR UPDATE)
				RETURNING subject, day, manual, expired`, sqlrow.ResealBatch)
			if err != nil {
				return fault.Wrap(err, "read governance_counts")
			}
			b := &pgx.Batch{}
			for rs.Next() {
				var subject, day string
				var manual, expired int64
				if err := rs.Scan(&subject, &day, &manual, &expired); err != nil {
					rs.Close()
					return fault.Wrap(err, "read governance_counts")
				}
				b.Queue(`INSERT INTO governance_counts (subject, day, manual, expired) VALUES ($1, $2, $3, $4)
					ON CONFLICT (subject, day) DO UPDATE SET manual = governance_counts.manual + excluded.manual,
						expired = governance_counts.expired + excluded.expired`, db.pii.Subject(subject), day, manual, expired)
				n++
			}
			rs.Close()
			if err := rs.Err(); err != nil {
				return fault.Wrap(err, "read governance_counts")
			}
			return fault.Wrap(tx.SendBatch(ctx, b).Close(), "reseal governance_counts")
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
