package sqlite

import (
	"context"
	"database/sql"
	"slices"

	"piao/internal/fault"
	"piao/internal/store/sqlrow"
)

// resealStep is one table's part of a rotation: read pages rows after
// the last key read (the key's values, then the limit), fix rewrites one
// row (its key, the update's arguments, whether it changed), write
// updates it. A key is one column or several (a row value, which SQLite
// seeks in the primary key's index); start is the key before the first
// (an ID of 0 if nil); batch is the rows per transaction (ResealBatch if
// 0).
type resealStep struct {
	table, read, write string
	start              []any
	batch              int
	fix                func(sqlrow.PII, *sql.Rows) (after []any, args []any, changed bool, err error)
}

var resealSteps = []resealStep{
	{"merchants", `SELECT id, contact_phone_sealed FROM merchants WHERE id > ? ORDER BY id LIMIT ?`,
		`UPDATE merchants SET contact_phone_sealed = ? WHERE id = ?`, nil, 0,
		func(p sqlrow.PII, r *sql.Rows) ([]any, []any, bool, error) {
			var id int64
			var s string
			if err := r.Scan(&id, &s); err != nil {
				return nil, nil, false, err
			}
			s, changed, err := p.Keys.Reseal(s)
			return []any{id}, []any{s, id}, changed, err
		}},
	{"merchant_papers", `SELECT id, data FROM merchant_papers WHERE id > ? ORDER BY id LIMIT ?`,
		`UPDATE merchant_papers SET data = ? WHERE id = ?`, nil, sqlrow.ResealFileBatch,
		func(p sqlrow.PII, r *sql.Rows) ([]any, []any, bool, error) {
			var id int64
			var data []byte
			if err := r.Scan(&id, &data); err != nil {
				return nil, nil, false, err
			}
			data, changed, err := p.ResealBytes(data)
			return []any{id}, []any{data, id}, changed, err
		}},
	{"distribution_entries", `SELECT list_id, line, phone_sealed FROM distribution_entries WHERE (list_id, line) > (?, ?) ORDER BY list_id, line LIMIT ?`,
		`UPDATE distribution_entries SET phone_sealed = ? WHERE list_id = ? AND line = ?`, []any{int64(0), int64(0)}, 0,
		func(p sqlrow.PII, r *sql.Rows) ([]any, []any, bool, error) {
			var list, line int64
			var s string
			if err := r.Scan(&list, &line, &s); err != nil {
				return nil, nil, false, err
			}
			s, changed, err := p.Keys.Reseal(s)
			return []any{list, line}, []any{s, list, line}, changed, err
		}},
	{"tickets", `SELECT id, doc_type, doc_number, doc_sealed FROM tickets WHERE id > ? ORDER BY id LIMIT ?`,
		`UPDATE tickets SET doc_number = ?, doc_sealed = ? WHERE id = ?`, nil, 0,
		func(p sqlrow.PII, r *sql.Rows) ([]any, []any, bool, error) {
			var id int64
			var typ, num, s string
			if err := r.Scan(&id, &typ, &num, &s); err != nil {
				return nil, nil, false, err
			}
			num, s, changed, err := p.ResealDoc(typ, num, s)
			return []any{id}, []any{num, s, id}, changed, err
		}},
	{"accounts", `SELECT id, COALESCE(phone, ''), phone_sealed FROM accounts WHERE id > ? ORDER BY id LIMIT ?`,
		`UPDATE accounts SET phone = ?, phone_sealed = ? WHERE id = ?`, nil, 0,
		func(p sqlrow.PII, r *sql.Rows) ([]any, []any, bool, error) {
			var id int64
			var phone, s string
			if err := r.Scan(&id, &phone, &s); err != nil {
				return nil, nil, false, err
			}
			ix, s, changed, err := p.ResealPhone(phone, s)
			return []any{id}, []any{ix, s, id}, changed, err
		}},
	{"list_members", `SELECT id, subject, subject_sealed FROM list_members WHERE id > ? ORDER BY id LIMIT ?`,
		`UPDATE list_members SET subject = ?, subject_sealed = ? WHERE id = ?`, nil, 0,
		func(p sqlrow.PII, r *sql.Rows) ([]any, []any, bool, error) {
			var id int64
			var subject, s string
			if err := r.Scan(&id, &subject, &s); err != nil {
				return nil, nil, false, err
			}
			subject, s, changed, err := p.ResealSubject(subject, s)
			return []any{id}, []any{subject, s, id}, changed, err
		}},
	{"account_documents", `SELECT rowid, doc_type, doc_number, doc_sealed FROM account_documents WHERE rowid > ? AND NOT (` + sqlrow.PlainDocNumbers + `) ORDER BY rowid LIMIT ?`,
		`UPDATE account_documents SET doc_sealed = ? WHERE rowid = ?`, nil, 0,
		func(p sqlrow.PII, r *sql.Rows) ([]any, []any, bool, error) {
			var id int64
			var typ, num, s string
			if err := r.Scan(&id, &typ, &num, &s); err != nil {
				return nil, nil, false, err
			}
			_, s, changed, err := p.ResealDoc(typ, num, s)
			return []any{id}, []any{s, id}, changed, err
		}},
	{"document_claims", `SELECT id, doc_type, doc_number, doc_sealed FROM document_claims WHERE id > ? ORDER BY id LIMIT ?`,
		`UPDATE document_claims SET doc_number = ?, doc_sealed = ? WHERE id = ?`, nil, 0,
		func(p sqlrow.PII, r *sql.Rows) ([]any, []any, bool, error) {
			var id int64
			var typ, num, s string
			if err := r.Scan(&id, &typ, &num, &s); err != nil {
				return nil, nil, false, err
			}
			num, s, changed, err := p.ResealDoc(typ, num, s)
			return []any{id}, []any{num, s, id}, changed, err
		}},
	{"waitlist_entries", `SELECT id, body FROM waitlist_entries WHERE id > ? ORDER BY id LIMIT ?`,
		`UPDATE waitlist_entries SET body = ? WHERE id = ?`, nil, 0,
		func(p sqlrow.PII, r *sql.Rows) ([]any, []any, bool, error) {
			var id int64
			var body string
			if err := r.Scan(&id, &body); err != nil {
				return nil, nil, false, err
			}
			body, changed, err := p.ResealWaitlist(body)
			return []any{id}, []any{body, id}, changed, err
		}},
	{"idempotency_keys", `SELECT rowid, resp_body FROM idempotency_keys WHERE rowid > ? ORDER BY rowid LIMIT ?`,
		`UPDATE idempotency_keys SET resp_body = ? WHERE rowid = ?`, nil, 0,
		func(p sqlrow.PII, r *sql.Rows) ([]any, []any, bool, error) {
			var id int64
			var body []byte
			if err := r.Scan(&id, &body); err != nil {
				return nil, nil, false, err
			}
			body, changed, err := p.ResealBytes(body)
			return []any{id}, []any{body, id}, changed, err
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
		after, batch := st.start, st.batch
		if after == nil {
			after = []any{int64(0)}
		}
		if batch == 0 {
			batch = sqlrow.ResealBatch
		}
		for {
			n, rows := 0, 0
			err := db.tx(ctx, func(tx *sql.Tx) error {
				var ups [][]any
				rs, err := tx.QueryContext(ctx, st.read, append(slices.Clone(after), batch)...)
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
				for _, args := range ups {
					if _, err := tx.ExecContext(ctx, st.write, args...); err != nil {
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
			if rows < batch {
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
