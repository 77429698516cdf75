package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"piao/internal/benefits"
	"piao/internal/distribution"
	"piao/internal/fault"
	"piao/internal/store/sqlrow"
	"piao/internal/tenant"
)

// distributionStore implements distribution.Store on PostgreSQL. A
// revocation locks the tickets (in ID order, as a ride's redemption does)
// or the codes it takes back, so a concurrent ride or redemption either
// happens first and is counted as delivered, or finds them revoked.
type distributionStore struct{ *DB }

var _ distribution.Store = (*distributionStore)(nil)

// Distribution returns the store of distribution lists and revocations.
func (db *DB) Distribution() distribution.Store { return &distributionStore{db} }

// Recipients finds the accounts of phones (by index) and IDs.
func (s *distributionStore) Recipients(ctx context.Context, phones []string, accounts []int64) (map[string]distribution.Recipient, map[int64]distribution.Recipient, error) {
	byPhone, byID := map[string]distribution.Recipient{}, map[int64]distribution.Recipient{}
	index := make(map[string]string, len(phones)) // stored index → phone
	keys := make([]string, 0, len(phones))
	for _, p := range phones {
		k := s.pii.PhoneIndex(p)
		index[k] = p
		keys = append(keys, k)
	}
	err := s.readTx(ctx, func(tx pgx.Tx) error {
		for i, q := range []struct {
			query string
			arg   any
		}{
			{`SELECT ` + sqlrow.RecipientColumns + ` FROM accounts WHERE phone = ANY($1)`, keys},
			{`SELECT ` + sqlrow.RecipientColumns + ` FROM accounts WHERE id = ANY($1)`, accounts},
		} {
			rows, err := tx.Query(ctx, q.query, q.arg)
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
	lines, accounts := make([]int32, len(entries)), make([]int64, len(entries))
	phones, notes := make([]string, len(entries)), make([]string, len(entries))
	for i, e := range entries {
		lines[i], accounts[i], phones[i], notes[i] = int32(e.Line), e.Account, s.pii.EntryPhone(e.Phone), e.Note
	}
	return s.tx(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO distribution_lists (merchant_id, campaign_id, kind, uploaded_by, uploaded_at, entries) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
			l.MerchantID, l.CampaignID, l.Kind, l.UploadedBy, l.UploadedAt, len(entries)).Scan(&l.ID)
		if err != nil {
			return fault.Wrap(err, "insert list")
		}
		_, err = tx.Exec(ctx, `INSERT INTO distribution_entries (list_id, line, account_id, phone_sealed, note)
			SELECT $1, line, account, phone, note FROM unnest($2::int[], $3::bigint[], $4::text[], $5::text[]) AS e(line, account, phone, note)`,
			l.ID, lines, accounts, phones, notes)
		return fault.Wrap(err, "insert entries")
	})
}

// SetOutcomes records the entries' outcomes and the list's counters. A
// line with a ticket keeps it, and the counters are counted from the
// entries, so a late or concurrent finish of the same list agrees; the
// list's row lock serialises finishes.
func (s *distributionStore) SetOutcomes(ctx context.Context, listID int64, entries []distribution.Entry) (distribution.List, bool, error) {
	lines, tickets := make([]int32, len(entries)), make([]int64, len(entries))
	reasons, messages := make([]string, len(entries)), make([]string, len(entries))
	for i, e := range entries {
		lines[i], tickets[i], reasons[i], messages[i] = int32(e.Line), e.TicketID, e.Reason, e.Message
	}
	var l distribution.List
	finished := false
	err := s.tx(ctx, func(tx pgx.Tx) error {
		before, err := sqlrow.ScanList(tx.QueryRow(ctx, `SELECT `+sqlrow.ListColumns+` FROM distribution_lists WHERE id = $1 FOR UPDATE`, listID))
		if err != nil {
			return err
		}
		finished = before.Pending
		_, err = tx.Exec(ctx, `UPDATE distribution_entries d SET ticket_id = NULLIF(o.ticket, 0), reason = o.reason, message = o.message
			FROM unnest($2::int[], $3::bigint[], $4::text[], $5::text[]) AS o(line, ticket, reason, message)
			WHERE d.list_id = $1 AND d.line = o.line AND d.ticket_id IS NULL`, listID, lines, tickets, reasons, messages)
		if err != nil {
			return fault.Wrap(err, "record outcomes")
		}
		issued, err := sqlrow.ScanOne[int](tx.QueryRow(ctx, `SELECT COUNT(*) FROM distribution_entries WHERE list_id = $1 AND ticket_id IS NOT NULL`, listID))
		if err != nil {
			return err
		}
		l, err = sqlrow.ScanList(tx.QueryRow(ctx, `UPDATE distribution_lists SET issued = $1, refused = entries - $1 WHERE id = $2 RETURNING `+sqlrow.ListColumns, issued, listID))
		return err
	})
	return l, finished, err
}

// listScope is the condition on distribution_lists' merchant_id, its
// arguments at $n and $n+1 (see sqlrow.ListScope).
func listScope(n string, m string) string {
	return `($` + n + `::boolean OR (merchant_id = $` + m + ` AND merchant_id > 0))`
}

// Lists lists the scope's lists, newest first.
func (s *distributionStore) Lists(ctx context.Context, scope tenant.Scope, campaignID int64) ([]distribution.List, error) {
	all, m := sqlrow.ListScope(scope)
	return list(ctx, s.pool, "list lists", sqlrow.ScanList, `SELECT `+sqlrow.ListColumns+` FROM distribution_lists
		WHERE `+listScope("1", "2")+` AND ($3 = 0 OR campaign_id = $3) ORDER BY id DESC LIMIT 1000`, all, m, campaignID)
}

// List returns one list.
func (s *distributionStore) List(ctx context.Context, scope tenant.Scope, id int64) (distribution.List, error) {
	all, m := sqlrow.ListScope(scope)
	return sqlrow.ScanList(s.pool.QueryRow(ctx, `SELECT `+sqlrow.ListColumns+` FROM distribution_lists WHERE id = $1 AND `+listScope("2", "3"), id, all, m))
}

// Entries returns a list's entries in line order.
func (s *distributionStore) Entries(ctx context.Context, scope tenant.Scope, listID int64) ([]distribution.Entry, error) {
	var out []distribution.Entry
	err := s.readTx(ctx, func(tx pgx.Tx) error {
		all, m := sqlrow.ListScope(scope)
		if _, err := sqlrow.ScanList(tx.QueryRow(ctx, `SELECT `+sqlrow.ListColumns+` FROM distribution_lists WHERE id = $1 AND `+listScope("2", "3"), listID, all, m)); err != nil {
			return err
		}
		var err error
		out, err = list(ctx, tx, "list entries", s.pii.ScanEntry, `SELECT `+sqlrow.EntryColumns+` FROM distribution_entries WHERE list_id = $1 ORDER BY line`, listID)
		return err
	})
	return out, err
}

// RevokeList revokes the undelivered tickets of a list (or of one line),
// locking the list and then its tickets in ID order.
func (s *distributionStore) RevokeList(ctx context.Context, scope tenant.Scope, listID int64, line int, now time.Time) (distribution.Revocation, error) {
	r := distribution.Revocation{ListID: listID, Line: line}
	err := s.tx(ctx, func(tx pgx.Tx) error {
		all, m := sqlrow.ListScope(scope)
		// Locking the list serialises two revocations of it.
		if _, err := sqlrow.ScanList(tx.QueryRow(ctx, `SELECT `+sqlrow.ListColumns+` FROM distribution_lists WHERE id = $1 AND `+listScope("2", "3")+` FOR UPDATE`, listID, all, m)); err != nil {
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
		}, `SELECT line, account_id, COALESCE(ticket_id, 0) FROM distribution_entries WHERE list_id = $1 AND ($2 = 0 OR line = $2) AND revoked_at IS NULL ORDER BY line`, listID, line)
		if err != nil {
			return err
		}
		if line > 0 && len(ps) == 0 {
			if _, err := sqlrow.ScanOne[int](tx.QueryRow(ctx, `SELECT line FROM distribution_entries WHERE list_id = $1 AND line = $2`, listID, line)); err != nil {
				return sqlrow.NoRowsAs(err, sqlrow.ErrLineNotFound)
			}
			r.Already++ // its ticket was revoked before
			return nil
		}
		var ids []int64
		owner := map[int64]pending{}
		for _, p := range ps {
			if p.ticket == 0 {
				r.NotIssued++
				continue
			}
			ids, owner[p.ticket] = append(ids, p.ticket), p
		}
		tickets, err := list(ctx, tx, "lock tickets", sqlrow.ScanTicket, `SELECT `+ticketCols+` FROM benefit_tickets WHERE id = ANY($1) ORDER BY id FOR UPDATE`, ids)
		if err != nil {
			return err
		}
		var revoke []int64
		var lines []int32
		for _, t := range tickets {
			p := owner[t.ID]
			o := distribution.Verdict(t, p.account, now)
			r.Count(o)
			if o == distribution.Revoke {
				revoke, lines = append(revoke, t.ID), append(lines, int32(p.line))
			}
		}
		if len(revoke) == 0 {
			return nil
		}
		if _, err := tx.Exec(ctx, `UPDATE benefit_tickets SET state = $1 WHERE id = ANY($2)`, benefits.Revoked, revoke); err != nil {
			return fault.Wrap(err, "revoke tickets")
		}
		if _, err := tx.Exec(ctx, `UPDATE distribution_entries SET revoked_at = $1 WHERE list_id = $2 AND line = ANY($3)`, now, listID, lines); err != nil {
			return fault.Wrap(err, "mark entries revoked")
		}
		_, err = tx.Exec(ctx, `UPDATE distribution_lists SET revoked = revoked + $1 WHERE id = $2`, len(revoke), listID)
		return fault.Wrap(err, "count revoked")
	})
	return r, err
}

// batchScope joins a code batch b to its campaign c within a scope, its
// arguments at $1 and $2 (see sqlrow.SeenBy).
const batchScope = ` FROM redeem_code_batches b JOIN campaigns c ON c.id = b.campaign_id WHERE ($1::boolean OR (c.owner = $2 AND c.owner <> ''))`

// CodeBatches lists a campaign's code batches within the scope.
func (s *distributionStore) CodeBatches(ctx context.Context, scope tenant.Scope, campaignID int64) ([]distribution.Batch, error) {
	all, owner := sqlrow.SeenBy(scope)
	return list(ctx, s.pool, "list code batches", sqlrow.ScanBatch,
		`SELECT `+sqlrow.BatchColumns+batchScope+` AND b.campaign_id = $3 ORDER BY b.id DESC`, all, owner, campaignID)
}

// CodeBatch returns one batch within the scope.
func (s *distributionStore) CodeBatch(ctx context.Context, scope tenant.Scope, id int64) (distribution.Batch, error) {
	all, owner := sqlrow.SeenBy(scope)
	return sqlrow.ScanBatch(s.pool.QueryRow(ctx, `SELECT `+sqlrow.BatchColumns+batchScope+` AND b.id = $3`, all, owner, id))
}

// RevokeCodes voids a batch's unredeemed codes. The update locks each code
// it voids; a redemption holding one (FOR UPDATE) finishes first, and the
// code, redeemed by then, is left alone.
func (s *distributionStore) RevokeCodes(ctx context.Context, scope tenant.Scope, batchID int64, now time.Time) (distribution.Batch, int, error) {
	var b distribution.Batch
	var n int64
	err := s.tx(ctx, func(tx pgx.Tx) error {
		all, owner := sqlrow.SeenBy(scope)
		q := `SELECT ` + sqlrow.BatchColumns + batchScope + ` AND b.id = $3`
		if _, err := sqlrow.ScanBatch(tx.QueryRow(ctx, q, all, owner, batchID)); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `UPDATE redeem_codes SET revoked_at = $1 WHERE batch_id = $2 AND ticket_id IS NULL AND revoked_at IS NULL`, now, batchID)
		if err != nil {
			return fault.Wrap(err, "void codes")
		}
		n = tag.RowsAffected()
		b, err = sqlrow.ScanBatch(tx.QueryRow(ctx, q, all, owner, batchID))
		return err
	})
	return b, int(n), err
}
