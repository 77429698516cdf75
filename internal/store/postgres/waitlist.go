package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"piao/internal/booking"
	"piao/internal/fault"
	"piao/internal/network"
	"piao/internal/store/sqlrow"
)

// The waitlist half of the booking store: entries as JSON bodies beside
// the columns queries select on (migration 00006).

func (t *bookingTx) InsertWaitlist(e *booking.WaitlistEntry) error {
	err := t.tx.QueryRow(t.ctx, `INSERT INTO waitlist_entries (account_id, status, pay_by, deadline, refund_due, body) VALUES ($1, $2, $3, $4, $5, '{}') RETURNING id`,
		e.AccountID, string(e.Status), e.PayBy, e.Deadline, e.RefundDue()).Scan(&e.ID)
	if err != nil {
		return txError(err, "insert waitlist entry")
	}
	if err := t.SetWaitlist(*e); err != nil { // the body carries the ID
		return err
	}
	b := &pgx.Batch{}
	for _, k := range e.Trains() {
		b.Queue(`INSERT INTO waitlist_trains (service_id, service_date, entry_id) VALUES ($1, $2, $3)`, k.ServiceID, k.Date.String(), e.ID)
	}
	return txError(t.tx.SendBatch(t.ctx, b).Close(), "insert waitlist trains")
}

func (t *bookingTx) SetWaitlist(e booking.WaitlistEntry) error {
	body, err := t.pii.SealWaitlist(e)
	if err != nil {
		return err
	}
	tag, err := t.tx.Exec(t.ctx, `UPDATE waitlist_entries SET status = $1, refund_due = $2, body = $3 WHERE id = $4`, string(e.Status), e.RefundDue(), body, e.ID)
	if err != nil {
		return txError(err, "save waitlist entry")
	}
	if tag.RowsAffected() != 1 {
		return sqlrow.WaitlistNotFound(e.ID)
	}
	return nil
}

// WaitlistForUpdate locks the entry's row: an entry is changed under the
// locks of its trains, and the row lock guards the refund sender, which
// takes no train lock.
func (t *bookingTx) WaitlistForUpdate(id int64) (booking.WaitlistEntry, error) {
	e, err := t.pii.OneWaitlist(t.tx.QueryRow(t.ctx, `SELECT body FROM waitlist_entries WHERE id = $1 FOR UPDATE`, id), id)
	return e, txError(err, "read waitlist entry") // a deadlock is a conflict to retry
}

func (t *bookingTx) WaitingOn(k booking.TrainKey) ([]booking.WaitlistEntry, error) {
	return waitingOn(t.ctx, t.tx, t.pii, k)
}

// ActiveWaitlist counts under the account's advisory lock (LockAccount),
// so two processes cannot both pass the limit.
func (t *bookingTx) ActiveWaitlist(accountID int64) (int, error) {
	var n int
	err := t.tx.QueryRow(t.ctx, `SELECT count(*) FROM waitlist_entries WHERE account_id = $1 AND status IN ('unpaid', 'waiting')`, accountID).Scan(&n)
	return n, txError(err, "count waitlist entries")
}

func (t *bookingTx) AppendWaitEvents(events ...booking.WaitEvent) error {
	b := &pgx.Batch{}
	for _, e := range events {
		b.Queue(`INSERT INTO waitlist_events (entry_id, at, actor, action, from_status, to_status, detail) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			e.EntryID, e.At, e.Actor, e.Action, string(e.From), string(e.To), e.Detail)
	}
	return txError(t.tx.SendBatch(t.ctx, b).Close(), "append waitlist events")
}

// waitlists reads the entries a query of bodies returns; inside a
// transaction a lost race is a conflict to retry (txError).
func waitlists(ctx context.Context, q querier, pii sqlrow.PII, query string, args ...any) ([]booking.WaitlistEntry, error) {
	es, err := list(ctx, q, "read waitlist entries", pii.ScanWaitlist, query, args...)
	return es, txError(err, "read waitlist entries")
}

func waitingOn(ctx context.Context, q querier, pii sqlrow.PII, k booking.TrainKey) ([]booking.WaitlistEntry, error) {
	return waitlists(ctx, q, pii, `SELECT e.body FROM waitlist_trains t JOIN waitlist_entries e ON e.id = t.entry_id
		WHERE t.service_id = $1 AND t.service_date = $2 AND e.status = 'waiting' ORDER BY e.id`, k.ServiceID, k.Date.String())
}

func (s *bookingStore) Waitlist(ctx context.Context, id int64) (booking.WaitlistEntry, error) {
	e, err := s.pii.OneWaitlist(s.pool.QueryRow(ctx, `SELECT body FROM waitlist_entries WHERE id = $1`, id), id)
	if err != nil {
		return e, err
	}
	e.Events, err = list(ctx, s.pool, "read waitlist events", sqlrow.ScanWaitEvent,
		`SELECT `+sqlrow.WaitEventColumns+` FROM waitlist_events WHERE entry_id = $1 ORDER BY id`, id)
	return e, err
}

func (s *bookingStore) WaitlistOf(ctx context.Context, accountID int64, limit int) ([]booking.WaitlistEntry, error) {
	return waitlists(ctx, s.pool, s.pii, `SELECT body FROM waitlist_entries WHERE account_id = $1 ORDER BY id DESC LIMIT $2`, accountID, limit)
}

func (s *bookingStore) WaitingOn(ctx context.Context, k booking.TrainKey) ([]booking.WaitlistEntry, error) {
	return waitingOn(ctx, s.pool, s.pii, k)
}

func (s *bookingStore) DueWaitlist(ctx context.Context, now time.Time, limit int) ([]booking.WaitlistEntry, error) {
	return waitlists(ctx, s.pool, s.pii, `SELECT body FROM (
			SELECT id, body FROM waitlist_entries WHERE status = 'unpaid' AND pay_by <= $1
			UNION ALL
			SELECT id, body FROM waitlist_entries WHERE status = 'waiting' AND deadline <= $1
		) due ORDER BY id LIMIT $2`, now, limit)
}

func (s *bookingStore) WaitlistRefundsDue(ctx context.Context, limit int) ([]booking.WaitlistEntry, error) {
	return waitlists(ctx, s.pool, s.pii, `SELECT body FROM waitlist_entries WHERE refund_due ORDER BY id LIMIT $1`, limit)
}

func (s *bookingStore) TicketCounts(ctx context.Context, k booking.TrainKey, class network.SeatClass) (map[booking.TicketStatus]int, error) {
	return sqlrow.TicketCounts(list(ctx, s.pool, "count tickets", sqlrow.ScanTally[booking.TicketStatus],
		`SELECT status, count(*) FROM tickets WHERE service_id = $1 AND service_date = $2 AND seat_class = $3 GROUP BY status`, k.ServiceID, k.Date.String(), string(class)))
}

func (s *bookingStore) BerthCancels(ctx context.Context, docType, docNumber string, k booking.TrainKey) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM tickets WHERE doc_type = $1 AND doc_number = $2 AND service_id = $3 AND service_date = $4
		AND status = 'cancelled' AND berth IN ('middle', 'upper')`, docType, s.pii.DocIndex(docType, docNumber), k.ServiceID, k.Date.String()).Scan(&n)
	return n, fault.Wrap(err, "count berth cancels")
}
