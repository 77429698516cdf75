package sqlite

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"piao/internal/fault"
	"piao/internal/ledger"
	"piao/internal/reconcile"
	"piao/internal/store/sqlrow"
)

// Reconcile returns the store of reconciliation runs and of what they match.
func (db *DB) Reconcile() reconcile.Store { return &reconcileStore{db} }

// reconcileStore implements reconcile.Store on SQLite.
type reconcileStore struct{ *DB }

var _ reconcile.Store = (*reconcileStore)(nil)

// gatewaySources are piao's records of money through the gateway, one
// SELECT each, all of the columns (type, external, amount_fen, at, ref).
// Parameters: ?1 and ?2 are the day widened by sqlrow.ReconcileSlack as
// stored times (for indexed time columns), ?3 and ?4 the same as
// sqlrow.JSONBound text (for times inside JSON bodies). Each selects at
// least the day's records; the exact day is taken afterwards. A new kind
// of money through the gateway is one more entry here (and in the
// PostgreSQL engine's list).
var gatewaySources = []string{
	// Rail orders paid (not those a waitlist prepayment paid).
	`SELECT 'payment' AS type, o.payment_id AS external, o.total_fen AS amount_fen, o.paid_at AS at, 'order:' || o.id AS ref FROM orders o
	  WHERE o.payment_id <> '' AND o.paid_at >= ?1 AND o.paid_at < ?2
	    AND NOT EXISTS (SELECT 1 FROM order_events e WHERE e.order_id = o.id AND e.action = 'waitlist_fulfil')`,
	// Payments that arrived after an order's hold ended, and their refunds.
	`SELECT 'payment', substr(e.actor, 9), MIN(o.total_fen), MIN(e.at), 'order:' || MIN(o.id) FROM order_events e JOIN orders o ON o.id = e.order_id
	  WHERE e.action = 'late_payment_refund' AND e.at >= ?1 AND e.at < ?2 GROUP BY substr(e.actor, 9)`,
	`SELECT 'refund', 'late-' || substr(e.actor, 9), MIN(o.total_fen), MIN(e.at), 'order:' || MIN(o.id) FROM order_events e JOIN orders o ON o.id = e.order_id
	  WHERE e.action = 'late_payment_refund' AND e.at >= ?1 AND e.at < ?2 GROUP BY substr(e.actor, 9)`,
	// Ticket refunds and changes' refunds the gateway paid, each part at
	// the time it paid it (the event's detail starts with the amount).
	`SELECT 'refund', substr(e.actor, 8), CAST(e.detail AS INTEGER), e.at, 'ticket:' || e.ticket_id FROM order_events e
	  WHERE e.action = 'refund_paid' AND e.at >= ?1 AND e.at < ?2`,
	// Waitlist prepayments, late ones and their refunds, and the refunds sent.
	`SELECT 'payment', json_extract(w.body, '$.payment_id'), json_extract(w.body, '$.prepaid_fen'), json_extract(w.body, '$.paid_at'), 'waitlist:' || w.id
	  FROM waitlist_entries w JOIN waitlist_events e ON e.entry_id = w.id AND e.action = 'pay' WHERE e.at >= ?1 AND e.at < ?2`,
	`SELECT 'payment', substr(e.actor, 9), MIN(json_extract(w.body, '$.prepaid_fen')), MIN(e.at), 'waitlist:' || MIN(w.id)
	  FROM waitlist_events e JOIN waitlist_entries w ON w.id = e.entry_id WHERE e.action = 'late_payment_refund' AND e.at >= ?1 AND e.at < ?2 GROUP BY substr(e.actor, 9)`,
	`SELECT 'refund', 'late-' || substr(e.actor, 9), MIN(json_extract(w.body, '$.prepaid_fen')), MIN(e.at), 'waitlist:' || MIN(w.id)
	  FROM waitlist_events e JOIN waitlist_entries w ON w.id = e.entry_id WHERE e.action = 'late_payment_refund' AND e.at >= ?1 AND e.at < ?2 GROUP BY substr(e.actor, 9)`,
	`SELECT 'refund', 'waitlist-' || w.id, json_extract(w.body, '$.refund_fen'), e.at, 'waitlist:' || w.id
	  FROM waitlist_entries w JOIN waitlist_events e ON e.entry_id = w.id AND e.action = 'refund_sent' WHERE e.at >= ?1 AND e.at < ?2`,
	// Merchants' purchases paid; payments for closed purchases and their refunds.
	`SELECT 'payment', json_extract(p.body, '$.payment_id'), json_extract(p.body, '$.amount_fen'), json_extract(p.body, '$.paid_at'), 'purchase:' || p.id
	  FROM purchases p WHERE p.status = 'paid' AND json_extract(p.body, '$.paid_at') >= ?3 AND json_extract(p.body, '$.paid_at') < ?4`,
	`SELECT 'payment', json_extract(p.body, '$.payment_id'), json_extract(p.body, '$.refunded_fen'), json_extract(p.body, '$.closed_at'), 'purchase:' || p.id
	  FROM purchases p WHERE p.status = 'closed' AND json_extract(p.body, '$.refund_id') <> ''
	    AND json_extract(p.body, '$.closed_at') >= ?3 AND json_extract(p.body, '$.closed_at') < ?4`,
	`SELECT 'refund', json_extract(p.body, '$.refund_id'), json_extract(p.body, '$.refunded_fen'), json_extract(p.body, '$.closed_at'), 'purchase:' || p.id
	  FROM purchases p WHERE p.status = 'closed' AND json_extract(p.body, '$.refund_id') <> ''
	    AND json_extract(p.body, '$.closed_at') >= ?3 AND json_extract(p.body, '$.closed_at') < ?4`,
	// Campaign refunds of unused value: each gateway refund done.
	`SELECT 'refund', json_extract(j.value, '$.refund_id'), json_extract(j.value, '$.amount_fen'), json_extract(j.value, '$.at'), 'purchase_refund:' || r.id
	  FROM purchase_refunds r, json_each(r.body, '$.parts') j
	  WHERE json_extract(j.value, '$.done') = 1 AND json_extract(j.value, '$.at') >= ?3 AND json_extract(j.value, '$.at') < ?4`,
	// Passengers' purchases paid; payments that bought nothing (for a
	// closed purchase, or a second one for a paid purchase), each kept in
	// the purchase's returns with when the gateway took it and, once
	// returned, when it gave it back.
	`SELECT 'payment', json_extract(p.body, '$.payment_id'), json_extract(p.body, '$.amount_fen'), json_extract(p.body, '$.paid_at'), 'buy:' || p.id
	  FROM sale_purchases p WHERE p.status = 'paid' AND json_extract(p.body, '$.paid_at') >= ?3 AND json_extract(p.body, '$.paid_at') < ?4`,
	`SELECT 'payment', json_extract(j.value, '$.payment_id'), json_extract(j.value, '$.amount_fen'), json_extract(j.value, '$.paid_at'), 'buy:' || p.id
	  FROM sale_purchases p, json_each(p.body, '$.returns') j
	  WHERE json_extract(j.value, '$.paid_at') >= ?3 AND json_extract(j.value, '$.paid_at') < ?4`,
	`SELECT 'refund', json_extract(j.value, '$.return_id'), json_extract(j.value, '$.amount_fen'), json_extract(j.value, '$.returned_at'), 'buy:' || p.id
	  FROM sale_purchases p, json_each(p.body, '$.returns') j
	  WHERE json_extract(j.value, '$.returned_at') >= ?3 AND json_extract(j.value, '$.returned_at') < ?4`,
	// Employers' top-ups and monthly bills paid through the gateway.
	`SELECT 'payment', json_extract(t.body, '$.payment_id'), t.amount_fen, json_extract(t.body, '$.paid_at'), 'topup:' || t.id
	  FROM employer_topups t WHERE t.status = 'paid' AND json_extract(t.body, '$.paid_at') >= ?3 AND json_extract(t.body, '$.paid_at') < ?4`,
	`SELECT 'payment', json_extract(b.body, '$.payment_id'), b.amount_fen, json_extract(b.body, '$.paid_at'), 'bill:' || b.id
	  FROM employer_bills b WHERE b.status = 'paid' AND json_extract(b.body, '$.payment_id') <> ''
	    AND json_extract(b.body, '$.paid_at') >= ?3 AND json_extract(b.body, '$.paid_at') < ?4`,
	// Refunds of bought tickets the gateway paid, when it paid them.
	`SELECT 'refund', json_extract(r.body, '$.refund_id'), json_extract(r.body, '$.amount_fen'), json_extract(r.body, '$.done_at'), 'buy_refund:' || r.ticket_id
	  FROM sale_refunds r WHERE r.status = 'done' AND json_extract(r.body, '$.done_at') >= ?3 AND json_extract(r.body, '$.done_at') < ?4`,
}

// GatewayRecords returns piao's records of money through the gateway in [from, until).
func (s *reconcileStore) GatewayRecords(ctx context.Context, from, until time.Time) ([]reconcile.Record, error) {
	lo, hi := from.Add(-sqlrow.ReconcileSlack), until.Add(sqlrow.ReconcileSlack)
	q := `SELECT type, COALESCE(external, ''), COALESCE(amount_fen, 0), at, ref FROM (` + strings.Join(gatewaySources, "\n UNION ALL\n") + `) u`
	rs, err := list(ctx, s.read, "list gateway records", sqlrow.ScanGatewayRecord, q,
		sqlrow.At(lo), sqlrow.At(hi), sqlrow.JSONBound(lo), sqlrow.JSONBound(hi))
	if err != nil {
		return nil, err
	}
	return sqlrow.InDay(rs, from, until), nil
}

// LedgerRecords returns the day's entries with a channel ID and their net on gateway clearing.
func (s *reconcileStore) LedgerRecords(ctx context.Context, from, until time.Time) ([]reconcile.Record, error) {
	return list(ctx, s.read, "list ledger records", sqlrow.ScanLedgerRecord, sqlrow.LedgerRecordsQuery,
		string(ledger.GatewayClearing), sqlrow.At(from), sqlrow.At(until))
}

// SaveRun stores a run and its differences.
func (s *reconcileStore) SaveRun(ctx context.Context, r reconcile.Run) (reconcile.Run, error) {
	body, err := sqlrow.RunBody(r)
	if err != nil {
		return reconcile.Run{}, err
	}
	err = s.tx(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `INSERT INTO reconcile_runs (day, at, differences, body) VALUES (?, ?, ?, ?) RETURNING id`,
			r.Day, sqlrow.At(r.At), len(r.Differences), body).Scan(&r.ID); err != nil {
			return fault.Wrap(err, "insert reconciliation run")
		}
		for i, d := range r.Differences {
			b, err := sqlrow.DifferenceBody(d)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO reconcile_differences (run_id, seq, kind, external, body) VALUES (?, ?, ?, ?, ?)`,
				r.ID, i+1, string(d.Kind), d.External, b); err != nil {
				return fault.Wrap(err, "insert reconciliation difference")
			}
		}
		return nil
	})
	if err != nil {
		return reconcile.Run{}, err
	}
	return r, nil
}

// Run returns a run with its differences.
func (s *reconcileStore) Run(ctx context.Context, id int64) (reconcile.Run, error) {
	r, err := sqlrow.ScanRun(s.read.QueryRowContext(ctx, `SELECT `+sqlrow.RunColumns+` FROM reconcile_runs WHERE id = ?`, id))
	if err != nil {
		return reconcile.Run{}, err
	}
	r.Differences, err = list(ctx, s.read, "list reconciliation differences", sqlrow.ScanDifference,
		`SELECT body FROM reconcile_differences WHERE run_id = ? ORDER BY seq`, id)
	return r, err
}

// Runs lists runs, newest first.
func (s *reconcileStore) Runs(ctx context.Context, f reconcile.RunFilter) ([]reconcile.Run, error) {
	f = f.Bounded()
	q, args := `SELECT `+sqlrow.RunColumns+` FROM reconcile_runs WHERE 1 = 1`, []any{}
	if f.Day != "" {
		q, args = q+` AND day = ?`, append(args, f.Day)
	}
	if f.BeforeID > 0 {
		q, args = q+` AND id < ?`, append(args, f.BeforeID)
	}
	return list(ctx, s.read, "list reconciliation runs", sqlrow.ScanRun, q+` ORDER BY id DESC LIMIT ?`, append(args, f.Limit)...)
}

// PartyActivity returns a party's balances before from and its postings in [from, until).
func (s *reconcileStore) PartyActivity(ctx context.Context, party string, from, until time.Time) ([]ledger.Balance, []reconcile.Posting, error) {
	var opening []ledger.Balance
	var lines []reconcile.Posting
	err := s.readTx(ctx, func(tx *sql.Tx) (err error) {
		opening, err = list(ctx, tx, "party opening balances", sqlrow.ScanPartyBalance(party),
			`SELECT p.account, SUM(p.debit), SUM(p.credit) FROM journal_postings p JOIN journal_entries j ON j.id = p.entry_id
			 WHERE p.party = ? AND j.at < ? GROUP BY p.account ORDER BY p.account`, party, sqlrow.At(from))
		if err != nil {
			return err
		}
		lines, err = list(ctx, tx, "party postings", sqlrow.ScanPartyPosting,
			`SELECT `+sqlrow.PartyPostingColumns+` FROM journal_postings p JOIN journal_entries j ON j.id = p.entry_id
			 WHERE p.party = ? AND j.at >= ? AND j.at < ? ORDER BY j.at, j.id, p.line`, party, sqlrow.At(from), sqlrow.At(until))
		return err
	})
	return opening, lines, err
}
