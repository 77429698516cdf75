package sqlite

import (
	"context"
	"time"

	"piao/internal/booking"
	"piao/internal/fault"
	"piao/internal/network"
	"piao/internal/store/sqlrow"
)

// The waitlist half of the booking store: entries as JSON bodies beside
// the columns queries select on (migration 00006).

func (t *bookingTx) InsertWaitlist(e *booking.WaitlistEntry) error {
	err := t.tx.QueryRowContext(t.ctx, `INSERT INTO waitlist_entries (account_id, status, pay_by, deadline, refund_due, body) VALUES (?, ?, ?, ?, ?, '{}') RETURNING id`,
		e.AccountID, string(e.Status), sqlrow.At(e.PayBy), sqlrow.At(e.Deadline), e.RefundDue()).Scan(&e.ID)
	if err != nil {
		return fault.Wrap(err, "insert waitlist entry")
	}
	if err := t.SetWaitlist(*e); err != nil { // the body carries the ID
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
	body, err := t.pii.SealWaitlist(e)
	if err != nil {
		return err
	}
	res, err := t.tx.ExecContext(t.ctx, `UPDATE waitlist_entries SET status = ?, refund_due = ?, body = ? WHERE id = ?`, string(e.Status), e.RefundDue(), body, e.ID)
	if err != nil {
		return fault.Wrap(err, "save waitlist entry")
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return sqlrow.WaitlistNotFound(e.ID)
	}
	return nil
}

func (t *bookingTx) WaitlistForUpdate(id int64) (booking.WaitlistEntry, error) {
	return t.pii.OneWaitlist(t.tx.QueryRowContext(t.ctx, `SELECT body FROM waitlist_entries WHERE id = ?`, id), id)
}

func (t *bookingTx) WaitingOn(k booking.TrainKey) ([]booking.WaitlistEntry, error) {
	return waitingOn(t.ctx, t.tx, t.pii, k)
}

func (t *bookingTx) ActiveWaitlist(accountID int64) (int, error) {
	var n int
	err := t.tx.QueryRowContext(t.ctx, `SELECT count(*) FROM waitlist_entries WHERE account_id = ? AND status IN ('unpaid', 'waiting')`, accountID).Scan(&n)
	return n, fault.Wrap(err, "count waitlist entries")
}

func (t *bookingTx) AppendWaitEvents(events ...booking.WaitEvent) error {
	for _, e := range events {
		_, err := t.tx.ExecContext(t.ctx, `INSERT INTO waitlist_events (entry_id, at, actor, action, from_status, to_status, detail) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			e.EntryID, sqlrow.At(e.At), e.Actor, e.Action, string(e.From), string(e.To), e.Detail)
		if err != nil {
			return fault.Wrap(err, "append waitlist events")
		}
	}
	return nil
}

func waitingOn(ctx context.Context, q querier, pii sqlrow.PII, k booking.TrainKey) ([]booking.WaitlistEntry, error) {
	return list(ctx, q, "read waitlist entries", pii.ScanWaitlist, `SELECT e.body FROM waitlist_trains t JOIN waitlist_entries e ON e.id = t.entry_id
		WHERE t.service_id = ? AND t.service_date = ? AND e.status = 'waiting' ORDER BY e.id`, k.ServiceID, k.Date.String())
}

func (s *bookingStore) Waitlist(ctx context.Context, id int64) (booking.WaitlistEntry, error) {
	e, err := s.pii.OneWaitlist(s.read.QueryRowContext(ctx, `SELECT body FROM waitlist_entries WHERE id = ?`, id), id)
	if err != nil {
		return e, err
	}
	e.Events, err = list(ctx, s.read, "read waitlist events", sqlrow.ScanWaitEvent,
		`SELECT `+sqlrow.WaitEventColumns+` FROM waitlist_events WHERE entry_id = ? ORDER BY id`, id)
	return e, err
}

func (s *bookingStore) WaitlistOf(ctx context.Context, accountID int64, limit int) ([]booking.WaitlistEntry, error) {
	return list(ctx, s.read, "read waitlist entries", s.pii.ScanWaitlist, `SELECT body FROM waitlist_entries WHERE account_id = ? ORDER BY id DESC LIMIT ?`, accountID, limit)
}

func (s *bookingStore) WaitingOn(ctx context.Context, k booking.TrainKey) ([]booking.WaitlistEntry, error) {
	return waitingOn(ctx, s.read, s.pii, k)
}

func (s *bookingStore) DueWaitlist(ctx context.Context, now time.Time, limit int) ([]booking.WaitlistEntry, error) {
	return list(ctx, s.read, "read waitlist entries", s.pii.ScanWaitlist, `SELECT body FROM (
			SELECT id, body FROM waitlist_entries WHERE status = 'unpaid' AND pay_by <= ?1
			UNION ALL
			SELECT id, body FROM waitlist_entries WHERE status = 'waiting' AND deadline <= ?1
		) ORDER BY id LIMIT ?2`, sqlrow.At(now), limit)
}

func (s *bookingStore) WaitlistRefundsDue(ctx context.Context, limit int) ([]booking.WaitlistEntry, error) {
	return list(ctx, s.read, "read waitlist entries", s.pii.ScanWaitlist, `SELECT body FROM waitlist_entries WHERE refund_due = 1 ORDER BY id LIMIT ?`, limit)
}

func (s *bookingStore) TicketCounts(ctx context.Context, k booking.TrainKey, class network.SeatClass) (map[booking.TicketStatus]int, error) {
	return sqlrow.TicketCounts(list(ctx, s.read, "count tickets", sqlrow.ScanTally[booking.TicketStatus],
		`SELECT status, count(*) FROM tickets WHERE service_id = ? AND service_date = ? AND seat_class = ? GROUP BY status`, k.ServiceID, k.Date.String(), string(class)))
}

func (s *bookingStore) BerthCancels(ctx context.Context, docType, docNumber string, k booking.TrainKey) (int, error) {
	var n int
	err := s.read.QueryRowContext(ctx, `SELECT count(*) FROM tickets WHERE doc_type = ? AND doc_number = ? AND service_id = ? AND service_date = ?
		AND status = 'cancelled' AND berth IN ('middle', 'upper')`, docType, s.pii.DocIndex(docType, docNumber), k.ServiceID, k.Date.String()).Scan(&n)
	return n, fault.Wrap(err, "count berth cancels")
}
