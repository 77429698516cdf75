package postgres

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"piao/internal/fault"
	"piao/internal/ledger"
	"piao/internal/reconcile"
	"piao/internal/store/sqlrow"
)

// Reconcile returns the store of reconciliation runs and of what they match.
func (db *DB) Reconcile() reconcile.Store { return &reconcileStore{db} }

// reconcileStore implements reconcile.Store on PostgreSQL.
type reconcileStore struct{ *DB }

var _ reconcile.Store = (*reconcileStore)(nil)

// gatewaySources are piao's records of money through the gateway, one
// SELECT each, all of the columns (type, external, amount_fen, at, ref).
// Parameters: $1 and $2 are the day widened by sqlrow.ReconcileSlack. Each
// selects at least the day's records; the exact day is taken afterwards.
// A new kind of money through the gateway is one more entry here (and in
// the SQLite engine's list).
var gatewaySources = []string{
	// Rail orders paid (not those a waitlist prepayment paid).
	`SELECT 'payment'::text AS type, o.payment_id AS external, o.total_fen::bigint AS amount_fen, o.paid_at AS at, 'order:' || o.id AS ref FROM orders o
	  WHERE o.payment_id <> '' AND o.paid_at >= $1 AND o.paid_at < $2
	    AND NOT EXISTS (SELECT 1 FROM order_events e WHERE e.order_id = o.id AND e.action = 'waitlist_fulfil')`,
	// Payments that arrived after an order's hold ended, and their refunds.
	`SELECT 'payment', substr(e.actor, 9), MIN(o.total_fen)::bigint, MIN(e.at), 'order:' || MIN(o.id) FROM order_events e JOIN orders o ON o.id = e.order_id
	  WHERE e.action = 'late_payment_refund' AND e.at >= $1 AND e.at < $2 GROUP BY substr(e.actor, 9)`,
	`SELECT 'refund', 'late-' || substr(e.actor, 9), MIN(o.total_fen)::bigint, MIN(e.at), 'order:' || MIN(o.id) FROM order_events e JOIN orders o ON o.id = e.order_id
	  WHERE e.action = 'late_payment_refund' AND e.at >= $1 AND e.at < $2 GROUP BY substr(e.actor, 9)`,
	// Ticket refunds and changes' refunds the gateway paid, each part at
	// the time it paid it (the event's detail starts with the amount).
	`SELECT 'refund', substr(e.actor, 8), split_part(e.detail, ' ', 1)::bigint, e.at, 'ticket:' || e.ticket_id FROM order_events e
	  WHERE e.action = 'refund_paid' AND e.at >= $1 AND e.at < $2`,
	// Waitlist prepayments, late ones and their refunds, and the refunds sent.
	`SELECT 'payment', w.body::jsonb ->> 'payment_id', (w.body::jsonb ->> 'prepaid_fen')::bigint, (w.body::jsonb ->> 'paid_at')::timestamptz, 'waitlist:' || w.id
	  FROM waitlist_entries w JOIN waitlist_events e ON e.entry_id = w.id AND e.action = 'pay' WHERE e.at >= $1 AND e.at < $2`,
	`SELECT 'payment', substr(e.actor, 9), MIN((w.body::jsonb ->> 'prepaid_fen')::bigint), MIN(e.at), 'waitlist:' || MIN(w.id)
	  FROM waitlist_events e JOIN waitlist_entries w ON w.id = e.entry_id WHERE e.action = 'late_payment_refund' AND e.at >= $1 AND e.at < $2 GROUP BY substr(e.actor, 9)`,
	`SELECT 'refund', 'late-' || substr(e.actor, 9), MIN((w.body::jsonb ->> 'prepaid_fen')::bigint), MIN(e.at), 'waitlist:' || MIN(w.id)
	  FROM waitlist_events e JOIN waitlist_entries w ON w.id = e.entry_id WHERE e.action = 'late_payment_refund' AND e.at >= $1 AND e.at < $2 GROUP BY substr(e.actor, 9)`,
	`SELECT 'refund', 'waitlist-' || w.id, (w.body::jsonb ->> 'refund_fen')::bigint, e.at, 'waitlist:' || w.id
	  FROM waitlist_entries w JOIN waitlist_events e ON e.entry_id = w.id AND e.action = 'refund_sent' WHERE e.at >= $1 AND e.at < $2`,
	// Merchants' purchases paid; payments for closed purchases and their refunds.
	`SELECT 'payment', p.body::jsonb ->> 'payment_id', (p.body::jsonb ->> 'amount_fen')::bigint, (p.body::jsonb ->> 'paid_at')::timestamptz, 'purchase:' || p.id
	  FROM purchases p WHERE p.status = 'paid' AND (p.body::jsonb ->> 'paid_at')::timestamptz >= $1 AND (p.body::jsonb ->> 'paid_at')::timestamptz < $2`,
	`SELECT 'payment', p.body::jsonb ->> 'payment_id', (p.body::jsonb ->> 'refunded_fen')::bigint, (p.body::jsonb ->> 'closed_at')::timestamptz, 'purchase:' || p.id
	  FROM purchases p WHERE p.status = 'closed' AND COALESCE(p.body::jsonb ->> 'refund_id', '') <> ''
	    AND (p.body::jsonb ->> 'closed_at')::timestamptz >= $1 AND (p.body::jsonb ->> 'closed_at')::timestamptz < $2`,
	`SELECT 'refund', p.body::jsonb ->> 'refund_id', (p.body::jsonb ->> 'refunded_fen')::bigint, (p.body::jsonb ->> 'closed_at')::timestamptz, 'purchase:' || p.id
	  FROM purchases p WHERE p.status = 'closed' AND COALESCE(p.body::jsonb ->> 'refund_id', '') <> ''
	    AND (p.body::jsonb ->> 'closed_at')::timestamptz >= $1 AND (p.body::jsonb ->> 'closed_at')::timestamptz < $2`,
	// Campaign refunds of unused value: each gateway refund done.
	`SELECT 'refund', j.value ->> 'refund_id', (j.value ->> 'amount_fen')::bigint, (j.value ->> 'at')::timestamptz, 'purchase_refund:' || r.id
	  FROM purchase_refunds r, jsonb_array_elements(COALESCE(r.body::jsonb -> 'parts', '[]'::jsonb)) AS j(value)
	  WHERE (j.value ->> 'done')::boolean AND (j.value ->> 'at')::timestamptz >= $1 AND (j.value ->> 'at')::timestamptz < $2`,
	// Passengers' purchases paid; payments that bought nothing (for a
	// closed purchase, or a second one for a paid purchase), each kept in
	// the purchase's returns with when the gateway took it and, once
	// returned, when it gave it back.
	`SELECT 'payment', p.body::jsonb ->> 'payment_id', (p.body::jsonb ->> 'amount_fen')::bigint, (p.body::jsonb ->> 'paid_at')::timestamptz, 'buy:' || p.id
	  FROM sale_purchases p WHERE p.status = 'paid' AND (p.body::jsonb ->> 'paid_at')::timestamptz >= $1 AND (p.body::jsonb ->> 'paid_at')::timestamptz < $2`,
	`SELECT 'payment', j.value ->> 'payment_id', (j.value ->> 'amount_fen')::bigint, (j.value ->> 'paid_at')::timestamptz, 'buy:' || p.id
	  FROM sale_purchases p, jsonb_array_elements(COALESCE(p.body::jsonb -> 'returns', '[]'::jsonb)) AS j(value)
	  WHERE (j.value ->> 'paid_at')::timestamptz >= $1 AND (j.value ->> 'paid_at')::timestamptz < $2`,
	`SELECT 'refund', j.value ->> 'return_id', (j.value ->> 'amount_fen')::bigint, (j.value ->> 'returned_at')::timestamptz, 'buy:' || p.id
	  FROM sale_purchases p, jsonb_array_elements(COALESCE(p.body::jsonb -> 'returns', '[]'::jsonb)) AS j(value)
	  WHERE j.value ? 'returned_at' AND (j.value ->> 'returned_at')::timestamptz >= $1 AND (j.value ->> 'returned_at')::timestamptz < $2`,
	// Employers' top-ups and monthly bills paid through the gateway.
	`SELECT 'payment', t.body::jsonb ->> 'payment_id', t.amount_fen::bigint, (t.body::jsonb ->> 'paid_at')::timestamptz, 'topup:' || t.id
	  FROM employer_topups t WHERE t.status = 'paid' AND (t.body::jsonb ->> 'paid_at')::timestamptz >= $1 AND (t.body::jsonb ->> 'paid_at')::timestamptz < $2`,
	`SELECT 'payment', b.body::jsonb ->> 'payment_id', b.amount_fen::bigint, (b.body::jsonb ->> 'paid_at')::timestamptz, 'bill:' || b.id
	  FROM employer_bills b WHERE b.status = 'paid' AND COALESCE(b.body::jsonb ->> 'payment_id', '') <> ''
	    AND (b.body::jsonb ->> 'paid_at')::timestamptz >= $1 AND (b.body::jsonb ->> 'paid_at')::timestamptz < $2`,
	// Refunds of bought tickets the gateway paid, when it paid them.
	`SELECT 'refund', r.body::jsonb ->> 'refund_id', (r.body::jsonb ->> 'amount_fen')::bigint, (r.body::jsonb ->> 'done_at')::timestamptz, 'buy_refund:' || r.ticket_id
	  FROM sale_refunds r WHERE r.status = 'done' AND (r.body::jsonb ->> 'done_at')::timestamptz >= $1 AND (r.body::jsonb ->> 'done_at')::timestamptz < $2`,
}

// GatewayRecords returns piao's records of money through the gateway in [from, until).
func (s *reconcileStore) GatewayRecords(ctx context.Context, from, until time.Time) ([]reconcile.Record, error) {
	q := `SELECT type, COALESCE(external, ''), COALESCE(amount_fen, 0), at, ref FROM (` + strings.Join(gatewaySources, "\n UNION ALL\n") + `) u`
	rs, err := list(ctx, s.pool, "list gateway records", sqlrow.ScanGatewayRecord, q,
		sqlrow.At(from.Add(-sqlrow.ReconcileSlack)), sqlrow.At(until.Add(sqlrow.ReconcileSlack)))
	if err != nil {
		return nil, err
	}
	return sqlrow.InDay(rs, from, until), nil
}

// ledgerRecordsQuery is sqlrow.LedgerRecordsQuery with PostgreSQL's placeholders.
var ledgerRecordsQuery = strings.NewReplacer("?1", "$1", "?2", "$2", "?3", "$3").Replace(sqlrow.LedgerRecordsQuery)

// LedgerRecords returns the day's entries with a channel ID and their net on gateway clearing.
func (s *reconcileStore) LedgerRecords(ctx context.Context, from, until time.Time) ([]reconcile.Record, error) {
	return list(ctx, s.pool, "list ledger records", sqlrow.ScanLedgerRecord, ledgerRecordsQuery,
		string(ledger.GatewayClearing), sqlrow.At(from), sqlrow.At(until))
}

// SaveRun stores a run and its differences.
func (s *reconcileStore) SaveRun(ctx context.Context, r reconcile.Run) (reconcile.Run, error) {
	body, err := sqlrow.RunBody(r)
	if err != nil {
		return reconcile.Run{}, err
	}
	err = s.tx(ctx, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO reconcile_runs (day, at, differences, body) VALUES ($1, $2, $3, $4) RETURNING id`,
			r.Day, sqlrow.At(r.At), len(r.Differences), body).Scan(&r.ID); err != nil {
			return fault.Wrap(err, "insert reconciliation run")
		}
		for i, d := range r.Differences {
			b, err := sqlrow.DifferenceBody(d)
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `INSERT INTO reconcile_differences (run_id, seq, kind, external, body) VALUES ($1, $2, $3, $4, $5)`,
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
	r, err := sqlrow.ScanRun(s.pool.QueryRow(ctx, `SELECT `+sqlrow.RunColumns+` FROM reconcile_runs WHERE id = $1`, id))
	if err != nil {
		return reconcile.Run{}, err
	}
	r.Differences, err = list(ctx, s.pool, "list reconciliation differences", sqlrow.ScanDifference,
		`SELECT body FROM reconcile_differences WHERE run_id = $1 ORDER BY seq`, id)
	return r, err
}

// Runs lists runs, newest first.
func (s *reconcileStore) Runs(ctx context.Context, f reconcile.RunFilter) ([]reconcile.Run, error) {
	f = f.Bounded()
	q, args := `SELECT `+sqlrow.RunColumns+` FROM reconcile_runs WHERE TRUE`, []any{}
	if f.Day != "" {
		args = append(args, f.Day)
		q += ` AND day = $` + strconv.Itoa(len(args))
	}
	if f.BeforeID > 0 {
		args = append(args, f.BeforeID)
		q += ` AND id < $` + strconv.Itoa(len(args))
	}
	args = append(args, f.Limit)
	return list(ctx, s.pool, "list reconciliation runs", sqlrow.ScanRun, q+` ORDER BY id DESC LIMIT $`+strconv.Itoa(len(args)), args...)
}

// PartyActivity returns a party's balances before from and its postings in [from, until).
func (s *reconcileStore) PartyActivity(ctx context.Context, party string, from, until time.Time) ([]ledger.Balance, []reconcile.Posting, error) {
	var opening []ledger.Balance
	var lines []reconcile.Posting
	err := s.readTx(ctx, func(tx pgx.Tx) (err error) {
		opening, err = list(ctx, tx, "party opening balances", sqlrow.ScanPartyBalance(party),
			`SELECT p.account, SUM(p.debit)::bigint, SUM(p.credit)::bigint FROM journal_postings p JOIN journal_entries j ON j.id = p.entry_id
			 WHERE p.party = $1 AND j.at < $2 GROUP BY p.account ORDER BY p.account`, party, sqlrow.At(from))
		if err != nil {
			return err
		}
		lines, err = list(ctx, tx, "party postings", sqlrow.ScanPartyPosting,
			`SELECT `+sqlrow.PartyPostingColumns+` FROM journal_postings p JOIN journal_entries j ON j.id = p.entry_id
			 WHERE p.party = $1 AND j.at >= $2 AND j.at < $3 ORDER BY j.at, j.id, p.line`, party, sqlrow.At(from), sqlrow.At(until))
		return err
	})
	return opening, lines, err
}
