package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"piao/internal/booking"
	"piao/internal/fault"
	"piao/internal/network"
)

// The waitlist half of the booking store: entries as JSON bodies beside
// the columns queries select on (migration 00006).

func waitlistNotFound(id int64) error {
	return fault.Newf(fault.NotFound, "waitlist_not_found", "候补订单 %d 不存在", "waitlist entry %d does not exist", id)
}

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
	body, err := booking.EncodeWaitlist(e)
	if err != nil {
		return err
	}
	tag, err := t.tx.Exec(t.ctx, `UPDATE waitlist_entries SET status = $1, refund_due = $2, body = $3 WHERE id = $4`, string(e.Status), e.RefundDue(), body, e.ID)
	if err != nil {
		return txError(err, "save waitlist entry")
	}
	if tag.RowsAffected() != 1 {
		return waitlistNotFound(e.ID)
	}
	return nil
}

// WaitlistForUpdate locks the entry's row: an entry is changed under the
// locks of its trains, and the row lock guards the refund sender, which
// takes no train lock.
func (t *bookingTx) WaitlistForUpdate(id int64) (booking.WaitlistEntry, error) {
	return readWaitlist(t.ctx, t.tx, `SELECT body FROM waitlist_entries WHERE id = $1 FOR UPDATE`, id)
}

func (t *bookingTx) WaitingOn(k booking.TrainKey) ([]booking.WaitlistEntry, error) {
	return waitingOn(t.ctx, t.tx, k)
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

type pgQueryer interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func readWaitlist(ctx context.Context, q pgQueryer, query string, id int64) (booking.WaitlistEntry, error) {
	var body string
	err := q.QueryRow(ctx, query, id).Scan(&body)
	if errors.Is(err, pgx.ErrNoRows) {
		return booking.WaitlistEntry{}, waitlistNotFound(id)
	}
	if err != nil {
		return booking.WaitlistEntry{}, txError(err, "read waitlist entry")
	}
	return booking.DecodeWaitlist(body)
}

func readWaitlists(ctx context.Context, q pgQueryer, query string, args ...any) ([]booking.WaitlistEntry, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, txError(err, "read waitlist entries")
	}
	defer rows.Close()
	out := []booking.WaitlistEntry{}
	for rows.Next() {
		var body string
		if err := rows.Scan(&body); err != nil {
			return nil, txError(err, "read waitlist entries")
		}
		e, err := booking.DecodeWaitlist(body)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, txError(rows.Err(), "read waitlist entries")
}

func waitingOn(ctx context.Context, q pgQueryer, k booking.TrainKey) ([]booking.WaitlistEntry, error) {
	return readWaitlists(ctx, q, `SELECT e.body FROM waitlist_trains t JOIN waitlist_entries e ON e.id = t.entry_id
		WHERE t.service_id = $1 AND t.service_date = $2 AND e.status = 'waiting' ORDER BY e.id`, k.ServiceID, k.Date.String())
}

func (s *bookingStore) Waitlist(ctx context.Context, id int64) (booking.WaitlistEntry, error) {
	e, err := readWaitlist(ctx, s.pool, `SELECT body FROM waitlist_entries WHERE id = $1`, id)
	if err != nil {
		return e, err
	}
	rows, err := s.pool.Query(ctx, `SELECT at, actor, action, from_status, to_status, detail FROM waitlist_events WHERE entry_id = $1 ORDER BY id`, id)
	if err != nil {
		return e, fault.Wrap(err, "read waitlist events")
	}
	defer rows.Close()
	for rows.Next() {
		ev := booking.WaitEvent{EntryID: id}
		if err := rows.Scan(&ev.At, &ev.Actor, &ev.Action, (*string)(&ev.From), (*string)(&ev.To), &ev.Detail); err != nil {
			return e, fault.Wrap(err, "read waitlist events")
		}
		e.Events = append(e.Events, ev)
	}
	return e, fault.Wrap(rows.Err(), "read waitlist events")
}

func (s *bookingStore) WaitlistOf(ctx context.Context, accountID int64, limit int) ([]booking.WaitlistEntry, error) {
	return readWaitlists(ctx, s.pool, `SELECT body FROM waitlist_entries WHERE account_id = $1 ORDER BY id DESC LIMIT $2`, accountID, limit)
}

func (s *bookingStore) WaitingOn(ctx context.Context, k booking.TrainKey) ([]booking.WaitlistEntry, error) {
	return waitingOn(ctx, s.pool, k)
}

func (s *bookingStore) DueWaitlist(ctx context.Context, now time.Time, limit int) ([]booking.WaitlistEntry, error) {
	return readWaitlists(ctx, s.pool, `SELECT body FROM (
			SELECT id, body FROM waitlist_entries WHERE status = 'unpaid' AND pay_by <= $1
			UNION ALL
			SELECT id, body FROM waitlist_entries WHERE status = 'waiting' AND deadline <= $1
		) due ORDER BY id LIMIT $2`, now, limit)
}

func (s *bookingStore) WaitlistRefundsDue(ctx context.Context, limit int) ([]booking.WaitlistEntry, error) {
	return readWaitlists(ctx, s.pool, `SELECT body FROM waitlist_entries WHERE refund_due ORDER BY id LIMIT $1`, limit)
}

func (s *bookingStore) TicketCounts(ctx context.Context, k booking.TrainKey, class network.SeatClass) (map[booking.TicketStatus]int, error) {
	rows, err := s.pool.Query(ctx, `SELECT status, count(*) FROM tickets WHERE service_id = $1 AND service_date = $2 AND seat_class = $3 GROUP BY status`,
		k.ServiceID, k.Date.String(), string(class))
	if err != nil {
		return nil, fault.Wrap(err, "count tickets")
	}
	defer rows.Close()
	out := map[booking.TicketStatus]int{}
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, fault.Wrap(err, "count tickets")
		}
		out[booking.TicketStatus(st)] = n
	}
	return out, fault.Wrap(rows.Err(), "count tickets")
}

func (s *bookingStore) BerthCancels(ctx context.Context, docType, docNumber string, k booking.TrainKey) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM tickets WHERE doc_type = $1 AND doc_number = $2 AND service_id = $3 AND service_date = $4
		AND status = 'cancelled' AND berth IN ('middle', 'upper')`, docType, docNumber, k.ServiceID, k.Date.String()).Scan(&n)
	return n, fault.Wrap(err, "count berth cancels")
}
