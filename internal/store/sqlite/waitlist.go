package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

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
	body, err := booking.EncodeWaitlist(*e)
	if err != nil {
		return err
	}
	res, err := t.tx.ExecContext(t.ctx, `INSERT INTO waitlist_entries (account_id, status, pay_by, deadline, refund_due, body) VALUES (?, ?, ?, ?, ?, ?)`,
		e.AccountID, string(e.Status), formatTime(e.PayBy), formatTime(e.Deadline), e.RefundDue(), body)
	if err != nil {
		return fault.Wrap(err, "insert waitlist entry")
	}
	if e.ID, err = res.LastInsertId(); err != nil {
		return fault.Wrap(err, "insert waitlist entry")
	}
	// The ID is part of the body too.
	if err := t.SetWaitlist(*e); err != nil {
		return err
	}
	for _, k := range e.Trains() {
		if _, err := t.tx.ExecContext(t.ctx, `INSERT INTO waitlist_trains (service_id, service_date, entry_id) VALUES (?, ?, ?)`, k.ServiceID, k.Date.String(), e.ID); err != nil {
			return fault.Wrap(err, "insert waitlist trains")
		}
	}
	return nil
}

func (t *bookingTx) SetWaitlist(e booking.WaitlistEntry) error {
	body, err := booking.EncodeWaitlist(e)
	if err != nil {
		return err
	}
	res, err := t.tx.ExecContext(t.ctx, `UPDATE waitlist_entries SET status = ?, refund_due = ?, body = ? WHERE id = ?`, string(e.Status), e.RefundDue(), body, e.ID)
	if err != nil {
		return fault.Wrap(err, "save waitlist entry")
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return waitlistNotFound(e.ID)
	}
	return nil
}

func (t *bookingTx) WaitlistForUpdate(id int64) (booking.WaitlistEntry, error) {
	return readWaitlist(t.ctx, t.tx, id)
}

func (t *bookingTx) WaitingOn(k booking.TrainKey) ([]booking.WaitlistEntry, error) {
	return waitingOn(t.ctx, t.tx, k)
}

func (t *bookingTx) ActiveWaitlist(accountID int64) (int, error) {
	var n int
	err := t.tx.QueryRowContext(t.ctx, `SELECT count(*) FROM waitlist_entries WHERE account_id = ? AND status IN ('unpaid', 'waiting')`, accountID).Scan(&n)
	return n, fault.Wrap(err, "count waitlist entries")
}

func (t *bookingTx) AppendWaitEvents(events ...booking.WaitEvent) error {
	for _, e := range events {
		_, err := t.tx.ExecContext(t.ctx, `INSERT INTO waitlist_events (entry_id, at, actor, action, from_status, to_status, detail) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			e.EntryID, formatTime(e.At), e.Actor, e.Action, string(e.From), string(e.To), e.Detail)
		if err != nil {
			return fault.Wrap(err, "append waitlist events")
		}
	}
	return nil
}

type rowQueryer interface {
	queryer
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func readWaitlist(ctx context.Context, q rowQueryer, id int64) (booking.WaitlistEntry, error) {
	var body string
	err := q.QueryRowContext(ctx, `SELECT body FROM waitlist_entries WHERE id = ?`, id).Scan(&body)
	if errors.Is(err, sql.ErrNoRows) {
		return booking.WaitlistEntry{}, waitlistNotFound(id)
	}
	if err != nil {
		return booking.WaitlistEntry{}, fault.Wrap(err, "read waitlist entry")
	}
	return booking.DecodeWaitlist(body)
}

func readWaitlists(ctx context.Context, q queryer, query string, args ...any) ([]booking.WaitlistEntry, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fault.Wrap(err, "read waitlist entries")
	}
	defer rows.Close()
	out := []booking.WaitlistEntry{}
	for rows.Next() {
		var body string
		if err := rows.Scan(&body); err != nil {
			return nil, fault.Wrap(err, "read waitlist entries")
		}
		e, err := booking.DecodeWaitlist(body)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, fault.Wrap(rows.Err(), "read waitlist entries")
}

func waitingOn(ctx context.Context, q queryer, k booking.TrainKey) ([]booking.WaitlistEntry, error) {
	return readWaitlists(ctx, q, `SELECT e.body FROM waitlist_trains t JOIN waitlist_entries e ON e.id = t.entry_id
		WHERE t.service_id = ? AND t.service_date = ? AND e.status = 'waiting' ORDER BY e.id`, k.ServiceID, k.Date.String())
}

func (s *bookingStore) Waitlist(ctx context.Context, id int64) (booking.WaitlistEntry, error) {
	e, err := readWaitlist(ctx, s.read, id)
	if err != nil {
		return e, err
	}
	rows, err := s.read.QueryContext(ctx, `SELECT at, actor, action, from_status, to_status, detail FROM waitlist_events WHERE entry_id = ? ORDER BY id`, id)
	if err != nil {
		return e, fault.Wrap(err, "read waitlist events")
	}
	defer rows.Close()
	for rows.Next() {
		ev := booking.WaitEvent{EntryID: id}
		var at string
		if err := rows.Scan(&at, &ev.Actor, &ev.Action, (*string)(&ev.From), (*string)(&ev.To), &ev.Detail); err != nil {
			return e, fault.Wrap(err, "read waitlist events")
		}
		if ev.At, err = parseTime(at); err != nil {
			return e, fault.Wrap(err, "read waitlist event time")
		}
		e.Events = append(e.Events, ev)
	}
	return e, fault.Wrap(rows.Err(), "read waitlist events")
}

func (s *bookingStore) WaitlistOf(ctx context.Context, accountID int64, limit int) ([]booking.WaitlistEntry, error) {
	return readWaitlists(ctx, s.read, `SELECT body FROM waitlist_entries WHERE account_id = ? ORDER BY id DESC LIMIT ?`, accountID, limit)
}

func (s *bookingStore) WaitingOn(ctx context.Context, k booking.TrainKey) ([]booking.WaitlistEntry, error) {
	return waitingOn(ctx, s.read, k)
}

func (s *bookingStore) DueWaitlist(ctx context.Context, now time.Time, limit int) ([]booking.WaitlistEntry, error) {
	return readWaitlists(ctx, s.read, `SELECT body FROM (
			SELECT id, body FROM waitlist_entries WHERE status = 'unpaid' AND pay_by <= ?1
			UNION ALL
			SELECT id, body FROM waitlist_entries WHERE status = 'waiting' AND deadline <= ?1
		) ORDER BY id LIMIT ?2`, formatTime(now), limit)
}

func (s *bookingStore) WaitlistRefundsDue(ctx context.Context, limit int) ([]booking.WaitlistEntry, error) {
	return readWaitlists(ctx, s.read, `SELECT body FROM waitlist_entries WHERE refund_due = 1 ORDER BY id LIMIT ?`, limit)
}

func (s *bookingStore) TicketCounts(ctx context.Context, k booking.TrainKey, class network.SeatClass) (map[booking.TicketStatus]int, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT status, count(*) FROM tickets WHERE service_id = ? AND service_date = ? AND seat_class = ? GROUP BY status`,
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
	err := s.read.QueryRowContext(ctx, `SELECT count(*) FROM tickets WHERE doc_type = ? AND doc_number = ? AND service_id = ? AND service_date = ?
		AND status = 'cancelled' AND berth IN ('middle', 'upper')`, docType, docNumber, k.ServiceID, k.Date.String()).Scan(&n)
	return n, fault.Wrap(err, "count berth cancels")
}
