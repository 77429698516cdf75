package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"piao/internal/benefits"
	"piao/internal/distribution"
	"piao/internal/fault"
	"piao/internal/store/sqlrow"
	"piao/internal/tenant"
)

// distributionStore implements distribution.Store on SQLite. Its writes
// run on the single writer connection, so a revocation's reads of its
// tickets are not raced by a ride using them.
type distributionStore struct{ *DB }

var _ distribution.Store = (*distributionStore)(nil)

// Distribution returns the store of distribution lists and revocations.
func (db *DB) Distribution() distribution.Store { return &distributionStore{db} }

// jsonArray encodes values for json_each, one parameter for any number.
func jsonArray[T any](vs []T) string {
	b, _ := json.Marshal(vs) // strings and integers: cannot fail
	return string(b)
}

// Recipients finds the accounts of phones (by index) and IDs.
func (s *distributionStore) Recipients(ctx context.Context, phones []string, accounts []int64) (map[string]distribution.Recipient, map[int64]distribution.Recipient, error) {
	byPhone, byID := map[string]distribution.Recipient{}, map[int64]distribution.Recipient{}
	index := make(map[string]string, len(phones)) // stored index → phone
	for _, p := range phones {
		index[s.pii.PhoneIndex(p)] = p
	}
	keys := make([]string, 0, len(index))
	for k := range index {
		keys = append(keys, k)
	}
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		for i, q := range []string{
			`SELECT ` + sqlrow.RecipientColumns + ` FROM accounts WHERE phone IN (SELECT value FROM json_each(?))`,
			`SELECT ` + sqlrow.RecipientColumns + ` FROM accounts WHERE id IN (SELECT value FROM json_each(?))`,
		} {
			arg := jsonArray(keys)
			if i == 1 {
				arg = jsonArray(accounts)
			}
			rows, err := tx.QueryContext(ctx, q, arg)
			if err != nil {
				return fault.Wrap(err, "read recipients")
			}
			err = sqlrow.Each(rows, "read recipients", func(r sqlrow.Row) error {
				idx, rc, err := sqlrow.ScanRecipient(r)
				if err != nil {
					return err
				}
				if i == 0 {
					byPhone[index[idx]] = rc
				} else {
					byID[rc.Account] = rc
				}
				return nil
			})
			rows.Close()
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return byPhone, byID, nil
}

// CreateList stores a list and its entries.
func (s *distributionStore) CreateList(ctx context.Context, l *distribution.List, entries []distribution.Entry) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO distribution_lists (merchant_id, campaign_id, kind, uploaded_by, uploaded_at, entries) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
			l.MerchantID, l.CampaignID, l.Kind, l.UploadedBy, sqlrow.At(l.UploadedAt), len(entries)).Scan(&l.ID)
		if err != nil {
			return fault.Wrap(err, "insert list")
		}
		st, err := tx.PrepareContext(ctx, `INSERT INTO distribution_entries (list_id, line, account_id, phone_sealed, note) VALUES (?, ?, ?, ?, ?)`)
		if err != nil {
			return fault.Wrap(err, "prepare entries")
		}
		defer st.Close()
		for _, e := range entries {
			if _, err := st.ExecContext(ctx, l.ID, e.Line, e.Account, s.pii.EntryPhone(e.Phone), e.Note); err != nil {
				return fault.Wrap(err, "insert entry")
			}
		}
		return nil
	})
}

// SetOutcomes records the entries' outcomes and the list's counters. A
// line with a ticket keeps it, and the counters are counted from the
// entries, so a late or concurrent finish of the same list agrees; the
// writer connection serialises finishes.
func (s *distributionStore) SetOutcomes(ctx context.Context, listID int64, entries []distribution.Entry) (distribution.List, bool, error) {
	var l distribution.List
	finished := false
	err := s.tx(ctx, func(tx *sql.Tx) error {
		before, err := sqlrow.ScanList(tx.QueryRowContext(ctx, `SELECT `+sqlrow.ListColumns+` FROM distribution_lists WHERE id = ?`, listID))
		if err != nil {
			return err
		}
		finished = before.Pending
		st, err := tx.PrepareContext(ctx, `UPDATE distribution_entries SET ticket_id = ?, reason = ?, message = ? WHERE list_id = ? AND line = ? AND ticket_id IS NULL`)
		if err != nil {
			return fault.Wrap(err, "prepare outcomes")
		}
		defer st.Close()
		for _, e := range entries {
			var ticket any
			if e.TicketID != 0 {
				ticket = e.TicketID
			}
			if _, err := st.ExecContext(ctx, ticket, e.Reason, e.Message, listID, e.Line); err != nil {
				return fault.Wrap(err, "record outcome")
			}
		}
		issued, err := sqlrow.ScanOne[int](tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM distribution_entries WHERE list_id = ? AND ticket_id IS NOT NULL`, listID))
		if err != nil {
			return err
		}
		l, err = sqlrow.ScanList(tx.QueryRowContext(ctx, `UPDATE distribution_lists SET issued = ?, refused = entries - ? WHERE id = ? RETURNING `+sqlrow.ListColumns,
			issued, issued, listID))
		return err
	})
	return l, finished, err
}

// listScope is the condition on distribution_lists' merchant_id.
const listScope = `(? OR (merchant_id = ? AND merchant_id > 0))`

// Lists lists the scope's lists, newest first.
func (s *distributionStore) Lists(ctx context.Context, scope tenant.Scope, campaignID int64) ([]distribution.List, error) {
	all, m := sqlrow.ListScope(scope)
	return list(ctx, s.read, "list lists", sqlrow.ScanList, `SELECT `+sqlrow.ListColumns+` FROM distribution_lists
		WHERE `+listScope+` AND (? = 0 OR campaign_id = ?) ORDER BY id DESC LIMIT 1000`, all, m, campaignID, campaignID)
}

// List returns one list.
func (s *distributionStore) List(ctx context.Context, scope tenant.Scope, id int64) (distribution.List, error) {
	all, m := sqlrow.ListScope(scope)
	return sqlrow.ScanList(s.read.QueryRowContext(ctx, `SELECT `+sqlrow.ListColumns+` FROM distribution_lists WHERE id = ? AND `+listScope, id, all, m))
}

// Entries returns a list's entries in line order.
func (s *distributionStore) Entries(ctx context.Context, scope tenant.Scope, listID int64) ([]distribution.Entry, error) {
	var out []distribution.Entry
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		all, m := sqlrow.ListScope(scope)
		if _, err := sqlrow.ScanList(tx.QueryRowContext(ctx, `SELECT `+sqlrow.ListColumns+` FROM distribution_lists WHERE id = ? AND `+listScope, listID, all, m)); err != nil {
			return err
		}
		var err error
		out, err = list(ctx, tx, "list entries", s.pii.ScanEntry, `SELECT `+sqlrow.EntryColumns+` FROM distribution_entries WHERE list_id = ? ORDER BY line`, listID)
		return err
	})
	return out, err
}

// RevokeList revokes the undelivered tickets of a list (or of one line).
// The writer connection serialises it with every ride's redemption.
func (s *distributionStore) RevokeList(ctx context.Context, scope tenant.Scope, listID int64, line int, now time.Time) (distribution.Revocation, error) {
	r := distribution.Revocation{ListID: listID, Line: line}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		all, m := sqlrow.ListScope(scope)
		if _, err := sqlrow.ScanList(tx.QueryRowContext(ctx, `SELECT `+sqlrow.ListColumns+` FROM distribution_lists WHERE id = ? AND `+listScope, listID, all, m)); err != nil {
			return err
		}
		type pending struct {
			line    int
			account int64
			ticket  int64
		}
		ps, err := list(ctx, tx, "list entries", func(row sqlrow.Row) (pending, error) {
			var p pending
			return p, fault.Wrap(row.Scan(&p.line, &p.account, &p.ticket), "scan entry")
		}, `SELECT line, account_id, COALESCE(ticket_id, 0) FROM distribution_entries WHERE list_id = ? AND (? = 0 OR line = ?) AND revoked_at IS NULL ORDER BY line`, listID, line, line)
		if err != nil {
			return err
		}
		if line > 0 && len(ps) == 0 {
			if _, err := sqlrow.ScanOne[int](tx.QueryRowContext(ctx, `SELECT line FROM distribution_entries WHERE list_id = ? AND line = ?`, listID, line)); err != nil {
				return sqlrow.NoRowsAs(err, sqlrow.ErrLineNotFound)
			}
			r.Already++ // its ticket was revoked before
			return nil
		}
		for _, p := range ps {
			if p.ticket == 0 {
				r.NotIssued++
				continue
			}
			t, err := sqlrow.ScanTicket(tx.QueryRowContext(ctx, `SELECT `+ticketCols+` FROM benefit_tickets WHERE id = ?`, p.ticket))
			if err != nil {
				return err
			}
			o := distribution.Verdict(t, p.account, now)
			r.Count(o)
			if o != distribution.Revoke {
				continue
			}
			if _, err := tx.ExecContext(ctx, `UPDATE benefit_tickets SET state = ? WHERE id = ?`, benefits.Revoked, t.ID); err != nil {
				return fault.Wrap(err, "revoke ticket")
			}
			if _, err := tx.ExecContext(ctx, `UPDATE distribution_entries SET revoked_at = ? WHERE list_id = ? AND line = ?`, sqlrow.At(now), listID, p.line); err != nil {
				return fault.Wrap(err, "mark entry revoked")
			}
		}
		_, err = tx.ExecContext(ctx, `UPDATE distribution_lists SET revoked = revoked + ? WHERE id = ?`, r.Revoked, listID)
		return fault.Wrap(err, "count revoked")
	})
	return r, err
}

// batchScope joins a code batch b to its campaign c within a scope.
const batchScope = ` FROM redeem_code_batches b JOIN campaigns c ON c.id = b.campaign_id WHERE (? OR (c.owner = ? AND c.owner <> ''))`

// CodeBatches lists a campaign's code batches within the scope.
func (s *distributionStore) CodeBatches(ctx context.Context, scope tenant.Scope, campaignID int64) ([]distribution.Batch, error) {
	all, owner := sqlrow.SeenBy(scope)
	return list(ctx, s.read, "list code batches", sqlrow.ScanBatch,
		`SELECT `+sqlrow.BatchColumns+batchScope+` AND b.campaign_id = ? ORDER BY b.id DESC`, all, owner, campaignID)
}

// CodeBatch returns one batch within the scope.
func (s *distributionStore) CodeBatch(ctx context.Context, scope tenant.Scope, id int64) (distribution.Batch, error) {
	all, owner := sqlrow.SeenBy(scope)
	return sqlrow.ScanBatch(s.read.QueryRowContext(ctx, `SELECT `+sqlrow.BatchColumns+batchScope+` AND b.id = ?`, all, owner, id))
}

// RevokeCodes voids a batch's unredeemed codes. The writer connection
// serialises it with every redemption of a code.
func (s *distributionStore) RevokeCodes(ctx context.Context, scope tenant.Scope, batchID int64, now time.Time) (distribution.Batch, int, error) {
	var b distribution.Batch
	var n int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		all, owner := sqlrow.SeenBy(scope)
		q := `SELECT ` + sqlrow.BatchColumns + batchScope + ` AND b.id = ?`
		if _, err := sqlrow.ScanBatch(tx.QueryRowContext(ctx, q, all, owner, batchID)); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE redeem_codes SET revoked_at = ? WHERE batch_id = ? AND ticket_id IS NULL AND revoked_at IS NULL`, sqlrow.At(now), batchID)
		if err != nil {
			return fault.Wrap(err, "void codes")
		}
		n, _ = res.RowsAffected()
		b, err = sqlrow.ScanBatch(tx.QueryRowContext(ctx, q, all, owner, batchID))
		return err
	})
	return b, int(n), err
}
