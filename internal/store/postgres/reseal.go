package postgres

import (
	"context"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"piao/internal/fault"
	"piao/internal/store/sqlrow"
)

// resealStep is one table's part of a rotation: read pages rows (locked)
// after the last key read (the key's values, then the limit), fix
// rewrites one row (its key, the update's arguments, whether it changed),
// write updates it. A key is one column or several (a row value, which
// PostgreSQL seeks in the primary key's index); start is the key before
// the first (an ID of 0 if nil); batch is the rows per transaction
// (ResealBatch if 0).
type resealStep struct {
	table, read, write string
	start              []any
	batch              int
	fix                func(sqlrow.PII, pgx.Rows) (after []any, args []any, changed bool, err error)
}

var resealSteps = []resealStep{
	{"tickets", `SELECT id, doc_type, doc_number, doc_sealed FROM tickets WHERE id > $1 ORDER BY id LIMIT $2 FOR UPDATE`,
		`UPDATE tickets SET doc_number = $1, doc_sealed = $2 WHERE id = $3`, nil, 0,
		func(p sqlrow.PII, r pgx.Rows) ([]any, []any, bool, error) {
			var id int64
			var typ, num, s string
			if err := r.Scan(&id, &typ, &num, &s); err != nil {
				return nil, nil, false, err
			}
			num, s, changed, err := p.ResealDoc(typ, num, s)
			return []any{id}, []any{num, s, id}, changed, err
		}},
	{"accounts", `SELECT id, COALESCE(phone, ''), phone_sealed FROM accounts WHERE id > $1 ORDER BY id LIMIT $2 FOR UPDATE`,
		`UPDATE accounts SET phone = $1, phone_sealed = $2 WHERE id = $3`, nil, 0,
		func(p sqlrow.PII, r pgx.Rows) ([]any, []any, bool, error) {
			var id int64
			var phone, s string
			if err := r.Scan(&id, &phone, &s); err != nil {
				return nil, nil, false, err
			}
			ix, s, changed, err := p.ResealPhone(phone, s)
			return []any{id}, []any{ix, s, id}, changed, err
		}},
	{"merchants", `SELECT id, contact_phone_sealed FROM merchants WHERE id > $1 ORDER BY id LIMIT $2 FOR UPDATE`,
		`UPDATE merchants SET contact_phone_sealed = $1 WHERE id = $2`, nil, 0,
		func(p sqlrow.PII, r pgx.Rows) ([]any, []any, bool, error) {
			var id int64
			var s string
			if err := r.Scan(&id, &s); err != nil {
				return nil, nil, false, err
			}
			s, changed, err := p.Keys.Reseal(s)
			return []any{id}, []any{s, id}, changed, err
		}},
	{"merchant_papers", `SELECT id, data FROM merchant_papers WHERE id > $1 ORDER BY id LIMIT $2 FOR UPDATE`,
		`UPDATE merchant_papers SET data = $1 WHERE id = $2`, nil, sqlrow.ResealFileBatch,
		func(p sqlrow.PII, r pgx.Rows) ([]any, []any, bool, error) {
			var id int64
			var data []byte
			if err := r.Scan(&id, &data); err != nil {
				return nil, nil, false, err
			}
			data, changed, err := p.ResealBytes(data)
			return []any{id}, []any{data, id}, changed, err
		}},
	{"distribution_entries", `SELECT list_id, line, phone_sealed FROM distribution_entries WHERE (list_id, line) > ($1, $2)
			ORDER BY list_id, line LIMIT $3 FOR UPDATE`,
		`UPDATE distribution_entries SET phone_sealed = $1 WHERE list_id = $2 AND line = $3`, []any{int64(0), int32(0)}, 0,
		func(p sqlrow.PII, r pgx.Rows) ([]any, []any, bool, error) {
			var list int64
			var line int32
			var s string
			if err := r.Scan(&list, &line, &s); err != nil {
				return nil, nil, false, err
			}
			s, changed, err := p.Keys.Reseal(s)
			return []any{list, line}, []any{s, list, line}, changed, err
		}},
	{"list_members", `SELECT id, subject, subject_sealed FROM list_members WHERE id > $1 ORDER BY id LIMIT $2 FOR UPDATE`,
		`UPDATE list_members SET subject = $1, subject_sealed = $2 WHERE id = $3`, nil, 0,
		func(p sqlrow.PII, r pgx.Rows) ([]any, []any, bool, error) {
			var id int64
			var subject, s string
			if err := r.Scan(&id, &subject, &s); err != nil {
				return nil, nil, false, err
			}
			subject, s, changed, err := p.ResealSubject(subject, s)
			return []any{id}, []any{subject, s, id}, changed, err
		}},
	{"account_documents", `SELECT account_id, doc_type, doc_number, doc_sealed FROM account_documents
			WHERE (account_id, doc_type, doc_number) > ($1, $2, $3) AND NOT (` + sqlrow.PlainDocNumbers + `)
			ORDER BY account_id, doc_type, doc_number LIMIT $4 FOR UPDATE`,
		`UPDATE account_documents SET doc_sealed = $1 WHERE account_id = $2 AND doc_type = $3 AND doc_number = $4`, []any{int64(0), "", ""}, 0,
		func(p sqlrow.PII, r pgx.Rows) ([]any, []any, bool, error) {
			var acct int64
			var typ, num, s string
			if err := r.Scan(&acct, &typ, &num, &s); err != nil {
				return nil, nil, false, err
			}
			_, s, changed, err := p.ResealDoc(typ, num, s)
			return []any{acct, typ, num}, []any{s, acct, typ, num}, changed, err
		}},
	{"document_claims", `SELECT id, doc_type, doc_number, doc_sealed FROM document_claims WHERE id > $1 ORDER BY id LIMIT $2 FOR UPDATE`,
		`UPDATE document_claims SET doc_number = $1, doc_sealed = $2 WHERE id = $3`, nil, 0,
		func(p sqlrow.PII, r pgx.Rows) ([]any, []any, bool, error) {
			var id int64
			var typ, num, s string
			if err := r.Scan(&id, &typ, &num, &s); err != nil {
				return nil, nil, false, err
			}
			num, s, changed, err := p.ResealDoc(typ, num, s)
			return []any{id}, []any{num, s, id}, changed, err
		}},
	{"waitlist_entries", `SELECT id, body FROM waitlist_entries WHERE id > $1 ORDER BY id LIMIT $2 FOR UPDATE`,
		`UPDATE waitlist_entries SET body = $1 WHERE id = $2`, nil, 0,
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
		`UPDATE idempotency_keys SET resp_body = $1 WHERE scope = $2 AND idem_key = $3`, []any{"", ""}, 0,
		func(p sqlrow.PII, r pgx.Rows) ([]any, []any, bool, error) {
			var scope, key string
			var body []byte
			if err := r.Scan(&scope, &key, &body); err != nil {
				return nil, nil, false, err
			}
			body, changed, err := p.ResealBytes(body)
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
		after, batch := st.start, st.batch
		if after == nil {
			after = []any{int64(0)}
		}
		if batch == 0 {
			batch = sqlrow.ResealBatch
		}
		for {
			n, rows := 0, 0
			err := db.tx(ctx, func(tx pgx.Tx) error {
				var ups [][]any
				rs, err := tx.Query(ctx, st.read, append(slices.Clone(after), batch)...)
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
	return total, nil
}

// plainMove is a table whose rows stored before encryption are keyed by a
// plain document number: take deletes a batch of them (limit $1),
// returning each; fix turns one into the arguments of add, which adds its
// values to the row under the stored form (which may exist already,
// written since the upgrade).
type plainMove struct {
	table, take, add string
	fix              func(sqlrow.PII, pgx.Rows) ([]any, error)
}

var plainMoves = []plainMove{
	{"governance_counts", `DELETE FROM governance_counts WHERE (subject, day) IN (
			SELECT subject, day FROM governance_counts WHERE ` + sqlrow.PlainCountSubjects + ` LIMIT $1 FOR UPDATE)
			RETURNING subject, day, manual, expired`,
		`INSERT INTO governance_counts (subject, day, manual, expired) VALUES ($1, $2, $3, $4)
			ON CONFLICT (subject, day) DO UPDATE SET manual = governance_counts.manual + excluded.manual,
				expired = governance_counts.expired + excluded.expired`,
		func(p sqlrow.PII, r pgx.Rows) ([]any, error) {
			var subject, day string
			var manual, expired int64
			err := r.Scan(&subject, &day, &manual, &expired)
			return []any{p.Subject(subject), day, manual, expired}, err
		}},
	{"document_counts", `DELETE FROM document_counts WHERE (doc_type, doc_number, day, account_id) IN (
			SELECT doc_type, doc_number, day, account_id FROM document_counts WHERE ` + sqlrow.PlainDocNumbers + ` LIMIT $1 FOR UPDATE)
			RETURNING doc_type, doc_number, day, account_id, manual, expired`,
		`INSERT INTO document_counts (doc_type, doc_number, day, account_id, manual, expired) VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (doc_type, doc_number, day, account_id) DO UPDATE SET manual = document_counts.manual + excluded.manual,
				expired = document_counts.expired + excluded.expired`,
		func(p sqlrow.PII, r pgx.Rows) ([]any, error) {
			var typ, num, day string
			var acct, manual, expired int64
			err := r.Scan(&typ, &num, &day, &acct, &manual, &expired)
			return []any{typ, p.DocIndex(typ, num), day, acct, manual, expired}, err
		}},
	{"account_documents", `DELETE FROM account_documents WHERE (account_id, doc_type, doc_number) IN (
			SELECT account_id, doc_type, doc_number FROM account_documents WHERE ` + sqlrow.PlainDocNumbers + ` LIMIT $1 FOR UPDATE)
			RETURNING account_id, doc_type, doc_number, added_at, approved_at`,
		`INSERT INTO account_documents (account_id, doc_type, doc_number, doc_sealed, added_at, approved_at) VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (account_id, doc_type, doc_number) DO UPDATE SET added_at = LEAST(account_documents.added_at, excluded.added_at),
				approved_at = COALESCE(account_documents.approved_at, excluded.approved_at)`,
		func(p sqlrow.PII, r pgx.Rows) ([]any, error) {
			var acct int64
			var typ, num string
			var added time.Time
			var approved *time.Time
			err := r.Scan(&acct, &typ, &num, &added, &approved)
			ix, sealedNumber := p.Doc(typ, num)
			return []any{acct, typ, ix, sealedNumber, added, approved}, err
		}},
}

// movePlain moves a table's rows stored before encryption to their stored
// form, ResealBatch rows per transaction.
func (db *DB) movePlain(ctx context.Context, m plainMove, progress func(string, int)) (int, error) {
	done := 0
	for {
		n := 0
		err := db.tx(ctx, func(tx pgx.Tx) error {
			rs, err := tx.Query(ctx, m.take, sqlrow.ResealBatch)
			if err != nil {
				return fault.Wrap(err, "read "+m.table)
			}
			b := &pgx.Batch{}
			for rs.Next() {
				args, err := m.fix(db.pii, rs)
				if err != nil {
					rs.Close()
					return fault.Wrap(err, "read "+m.table)
				}
				b.Queue(m.add, args...)
				n++
			}
			rs.Close()
			if err := rs.Err(); err != nil {
				return fault.Wrap(err, "read "+m.table)
			}
			return fault.Wrap(tx.SendBatch(ctx, b).Close(), "reseal "+m.table)
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
