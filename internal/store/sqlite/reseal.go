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
	{"merchants", `SELECT id, contact_phone_sealed FROM merchants WHERE id > ? ORDER BY id LIMIT ?`,
		`UPDATE merchants SET contact_phone_sealed = ? WHERE id = ?`,
		func(p sqlrow.PII, r *sql.Rows) (int64, []any, bool, error) {
			var id int64
			var s string
			if err := r.Scan(&id, &s); err != nil {
				return 0, nil, false, err
			}
			s, changed, err := p.Keys.Reseal(s)
			return id, []any{s, id}, changed, err
		}},
	{"tickets", `SELECT id, doc_type, doc_number, doc_sealed FROM tickets WHERE id > ? ORDER BY id LIMIT ?`,
		`UPDATE tickets SET doc_number = ?, doc_sealed = ? WHERE id = ?`,
		func(p sqlrow.PII, r *sql.Rows) (int64, []any, bool, error) {
			var id int64
			var typ, num, s string
			if err := r.Scan(&id, &typ, &num, &s); err != nil {
				return 0, nil, false, err
			}
			num, s, changed, err := p.ResealDoc(typ, num, s)
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
	{"account_documents", `SELECT rowid, doc_type, doc_number, doc_sealed FROM account_documents WHERE rowid > ? AND NOT (` + sqlrow.PlainDocNumbers + `) ORDER BY rowid LIMIT ?`,
		`UPDATE account_documents SET doc_sealed = ? WHERE rowid = ?`,
		func(p sqlrow.PII, r *sql.Rows) (int64, []any, bool, error) {
			var id int64
			var typ, num, s string
			if err := r.Scan(&id, &typ, &num, &s); err != nil {
				return 0, nil, false, err
			}
			_, s, changed, err := p.ResealDoc(typ, num, s)
			return id, []any{s, id}, changed, err
		}},
	{"document_claims", `SELECT id, doc_type, doc_number, doc_sealed FROM document_claims WHERE id > ? ORDER BY id LIMIT ?`,
		`UPDATE document_claims SET doc_number = ?, doc_sealed = ? WHERE id = ?`,
		func(p sqlrow.PII, r *sql.Rows) (int64, []any, bool, error) {
			var id int64
			var typ, num, s string
			if err := r.Scan(&id, &typ, &num, &s); err != nil {
				return 0, nil, false, err
			}
			num, s, changed, err := p.ResealDoc(typ, num, s)
			return id, []any{num, s, id}, changed, err
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
	// secure_delete zeroes what a change frees, so a value sealed again
	// leaves no copy under the old key (or in plain text) in the file. It
	// is set on the writer's one connection for the pass only: everywhere
	// else only sealed values are freed, and zeroing costs every write.
	if _, err := db.write.ExecContext(ctx, `PRAGMA secure_delete = 1`); err != nil {
		return 0, fault.Wrap(err, "secure_delete")
	}
	defer db.write.ExecContext(context.WithoutCancel(ctx), `PRAGMA secure_delete = 0`)
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
	for _, m := range plainMoves {
		n, err := db.movePlain(ctx, m, progress)
		total += n
		if err != nil {
			return total, err
		}
	}
	// Copy the WAL into the file and empty it: the old pages in it held
	// the values under the old key.
	if _, err := db.write.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		return total, fault.Wrap(err, "checkpoint")
	}
	return total, nil
}

// plainMove is a table whose rows stored before encryption are keyed by a
// plain document number: each such row is deleted and its values added to
// the row under the stored form (which may exist already, written since
// the upgrade). read selects a batch of plain rows, fix turns one into the
// delete's and the add's arguments.
type plainMove struct {
	table, read, del, add string
	fix                   func(sqlrow.PII, *sql.Rows) (del, add []any, err error)
}

var plainMoves = []plainMove{
	{"governance_counts", `SELECT subject, day, manual, expired FROM governance_counts WHERE ` + sqlrow.PlainCountSubjects + ` LIMIT ?`,
		`DELETE FROM governance_counts WHERE subject = ? AND day = ?`, qAddDayCounts,
		func(p sqlrow.PII, r *sql.Rows) ([]any, []any, error) {
			var subject, day string
			var manual, expired int64
			err := r.Scan(&subject, &day, &manual, &expired)
			return []any{subject, day}, []any{p.Subject(subject), day, manual, expired}, err
		}},
	{"document_counts", `SELECT doc_type, doc_number, day, account_id, manual, expired FROM document_counts WHERE ` + sqlrow.PlainDocNumbers + ` LIMIT ?`,
		`DELETE FROM document_counts WHERE doc_type = ? AND doc_number = ? AND day = ? AND account_id = ?`,
		`INSERT INTO document_counts (doc_type, doc_number, day, account_id, manual, expired) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (doc_type, doc_number, day, account_id) DO UPDATE SET manual = document_counts.manual + excluded.manual,
				expired = document_counts.expired + excluded.expired`,
		func(p sqlrow.PII, r *sql.Rows) ([]any, []any, error) {
			var typ, num, day string
			var acct, manual, expired int64
			err := r.Scan(&typ, &num, &day, &acct, &manual, &expired)
			return []any{typ, num, day, acct}, []any{typ, p.DocIndex(typ, num), day, acct, manual, expired}, err
		}},
	{"account_documents", `SELECT account_id, doc_type, doc_number, added_at, approved_at FROM account_documents WHERE ` + sqlrow.PlainDocNumbers + ` LIMIT ?`,
		`DELETE FROM account_documents WHERE account_id = ? AND doc_type = ? AND doc_number = ?`,
		`INSERT INTO account_documents (account_id, doc_type, doc_number, doc_sealed, added_at, approved_at) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (account_id, doc_type, doc_number) DO UPDATE SET added_at = MIN(account_documents.added_at, excluded.added_at),
				approved_at = COALESCE(account_documents.approved_at, excluded.approved_at)`,
		func(p sqlrow.PII, r *sql.Rows) ([]any, []any, error) {
			var acct int64
			var typ, num, added string
			var approved sql.NullString
			err := r.Scan(&acct, &typ, &num, &added, &approved)
			ix, sealedNumber := p.Doc(typ, num)
			return []any{acct, typ, num}, []any{acct, typ, ix, sealedNumber, added, approved}, err
		}},
}

// movePlain moves a table's rows stored before encryption to their stored
// form, ResealBatch rows per transaction.
func (db *DB) movePlain(ctx context.Context, m plainMove, progress func(string, int)) (int, error) {
	done := 0
	for {
		n := 0
		err := db.tx(ctx, func(tx *sql.Tx) error {
			type row struct{ del, add []any }
			var rows []row
			rs, err := tx.QueryContext(ctx, m.read, sqlrow.ResealBatch)
			if err != nil {
				return fault.Wrap(err, "read "+m.table)
			}
			for rs.Next() {
				del, add, err := m.fix(db.pii, rs)
				if err != nil {
					rs.Close()
					return fault.Wrap(err, "read "+m.table)
				}
				rows = append(rows, row{del, add})
			}
			rs.Close()
			if err := rs.Err(); err != nil {
				return fault.Wrap(err, "read "+m.table)
			}
			for _, r := range rows {
				if _, err := tx.ExecContext(ctx, m.del, r.del...); err != nil {
					return fault.Wrap(err, "reseal "+m.table)
				}
				if _, err := tx.ExecContext(ctx, m.add, r.add...); err != nil {
					return fault.Wrap(err, "reseal "+m.table)
				}
			}
			n = len(rows)
			return nil
		})
		if err != nil {
			return done, err
		}
		done += n
		if progress != nil {
			progress(m.table, done)
		}
		if n < sqlrow.ResealBatch {
			return done, nil
		}
	}
}
