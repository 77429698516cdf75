package sqlite

import (
	"context"
	"database/sql"
	"sync"
	"time"

	"piao/internal/booking"
	"piao/internal/fault"
	"piao/internal/governance"
	"piao/internal/network"
	"piao/internal/seats"
	"piao/internal/store/sqlrow"
)

// bookingStore implements booking.Store on SQLite. The single writer
// connection with BEGIN IMMEDIATE already serialises write transactions, so
// LockTrain needs no lock of its own.
type bookingStore struct {
	*DB
	prepOnce sync.Once
	prepared map[string]*sql.Stmt
}

var _ booking.Store = (*bookingStore)(nil)

// bookingTx implements booking.Tx over one SQLite transaction.
type bookingTx struct {
	ctx  context.Context
	tx   *sql.Tx
	prep map[string]*sql.Stmt
	pii  sqlrow.PII
	inOp bool // the savepoint booking_op is set (booking_op.go)
}

// Update runs fn in one write transaction.
func (s *bookingStore) Update(ctx context.Context, fn func(booking.Tx) error) error {
	prep := s.prepare(ctx)
	return s.tx(ctx, func(tx *sql.Tx) error { return fn(&bookingTx{ctx: ctx, tx: tx, prep: prep, pii: s.pii}) })
}

// The statements of a booking transaction, prepared once on the writer
// connection (see preparedStatements): the driver would otherwise parse
// each of them again on every call, which costs more than running them.
const (
	qLockTrain    = `SELECT version FROM train_dates WHERE service_id = ? AND service_date = ?`
	qUpdateSeat   = `UPDATE seat_inventory SET sold = ? WHERE service_id = ? AND service_date = ? AND seat_no = ?`
	qSetVersion   = `UPDATE train_dates SET version = ? WHERE service_id = ? AND service_date = ?`
	qHeldOrder    = `SELECT id FROM orders WHERE account_id = ? AND status = 'held'`
	qDocTicket    = `SELECT 1 FROM tickets WHERE doc_type = ? AND doc_number = ? AND service_id = ? AND service_date = ? AND status IN ('held', 'paid')`
	qSetOrder     = `UPDATE orders SET status = ?, payment_id = ?, paid_at = ? WHERE id = ?`
	qSetTicket    = `UPDATE tickets SET status = ?, refund_fen = ?, fee_fen = ?, changed_to = ? WHERE id = ?`
	qAddEvent     = `INSERT INTO order_events (order_id, at, actor, action, from_status, to_status, ticket_id, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`
	qUpsertCounts = `INSERT INTO availability (service_id, service_date, seat_class, berth, counts) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (service_id, service_date, seat_class, berth) DO UPDATE SET counts = excluded.counts`
	qInsertOrder = `INSERT INTO orders (account_id, status, service_id, service_date, total_fen, created_at, hold_expires_at, payment_id, change_of)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`
	qInsertTicket = `INSERT INTO tickets (order_id, service_id, service_date, number, from_seq, to_seq, from_station_id, to_station_id,
		departure, arrival, seat_no, car_no, seat, seat_class, berth, passenger_name, doc_type, doc_number, doc_sealed, fare_fen, status, refund_fen, fee_fen, changed_to)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
)

var hotStatements = []string{qLockTrain, qUpdateSeat, qSetVersion, qHeldOrder, qDocTicket, qSetOrder, qSetTicket, qAddEvent, qUpsertCounts, qInsertOrder, qInsertTicket,
	qDayCounts, qAddDayCounts, // in governance.go
	qReleaseOp, qSavepoint, qRollbackOp} // in booking_op.go

// prepare prepares the hot statements on the writer connection, once. It
// runs before a transaction begins, when the single connection is free.
func (s *bookingStore) prepare(ctx context.Context) map[string]*sql.Stmt {
	s.prepOnce.Do(func() {
		m := map[string]*sql.Stmt{}
		for _, q := range hotStatements {
			st, err := s.write.PrepareContext(ctx, q)
			if err != nil {
				return // run unprepared: slower, not wrong
			}
			m[q] = st
		}
		s.prepared = m
	})
	return s.prepared
}

// stmt returns a hot statement for use inside the transaction: the one
// prepared on the connection if there is one, else prepared now.
func (t *bookingTx) stmt(q string) (*sql.Stmt, error) {
	if st := t.prep[q]; st != nil {
		return t.tx.StmtContext(t.ctx, st), nil
	}
	return t.tx.PrepareContext(t.ctx, q)
}

func (t *bookingTx) exec(q string, args ...any) (sql.Result, error) {
	if st := t.prep[q]; st != nil {
		return t.tx.StmtContext(t.ctx, st).ExecContext(t.ctx, args...)
	}
	return t.tx.ExecContext(t.ctx, q, args...)
}

func (t *bookingTx) queryRow(q string, args ...any) *sql.Row {
	if st := t.prep[q]; st != nil {
		return t.tx.StmtContext(t.ctx, st).QueryRowContext(t.ctx, args...)
	}
	return t.tx.QueryRowContext(t.ctx, q, args...)
}

func (t *bookingTx) LockTrain(k booking.TrainKey) (booking.TrainState, error) {
	var st booking.TrainState
	err := t.queryRow(qLockTrain, k.ServiceID, k.Date.String()).Scan(&st.Version)
	st.Exists = err == nil
	return st, fault.Wrap(sqlrow.NoRowsAs(err, nil), "lock train")
}

func (t *bookingTx) CreateTrain(k booking.TrainKey, stops int, rows []booking.SeatRow, counts map[seats.Kind][]int32) error {
	if _, err := t.tx.ExecContext(t.ctx, `INSERT INTO train_dates (service_id, service_date, stops, version) VALUES (?, ?, ?, 1)`, k.ServiceID, k.Date.String(), stops); err != nil {
		return fault.Wrap(err, "create train date")
	}
	stmt, err := t.tx.PrepareContext(t.ctx, `INSERT INTO seat_inventory (service_id, service_date, seat_no, car_no, label, seat_class, berth, sold) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return fault.Wrap(err, "create seats")
	}
	defer stmt.Close()
	for _, r := range rows {
		if _, err := stmt.ExecContext(t.ctx, k.ServiceID, k.Date.String(), r.SeatNo, r.Car, r.Label, string(r.Kind.Class), string(r.Kind.Berth), int64(r.Sold)); err != nil {
			return fault.Wrap(err, "create seats")
		}
	}
	return t.saveCounts(k, counts)
}

func (t *bookingTx) saveCounts(k booking.TrainKey, counts map[seats.Kind][]int32) error {
	for kind, c := range counts {
		_, err := t.exec(qUpsertCounts,
			k.ServiceID, k.Date.String(), string(kind.Class), string(kind.Berth), booking.EncodeCounts(c))
		if err != nil {
			return fault.Wrap(err, "save availability")
		}
	}
	return nil
}

func (t *bookingTx) LoadSeats(k booking.TrainKey) ([]booking.SeatRow, error) {
	return loadSeatRows(t.ctx, t.tx, k)
}

func loadSeatRows(ctx context.Context, q querier, k booking.TrainKey) ([]booking.SeatRow, error) {
	return list(ctx, q, "load seats", sqlrow.ScanInventorySeat, `SELECT `+sqlrow.InventorySeatColumns+` FROM seat_inventory
		WHERE service_id = ? AND service_date = ? ORDER BY seat_no`, k.ServiceID, k.Date.String())
}

func (t *bookingTx) SaveSeats(k booking.TrainKey, changed []booking.SeatRow, counts map[seats.Kind][]int32, version int64) error {
	stmt, err := t.stmt(qUpdateSeat)
	if err != nil {
		return fault.Wrap(err, "save seats")
	}
	defer stmt.Close()
	for _, r := range changed {
		if _, err := stmt.ExecContext(t.ctx, int64(r.Sold), k.ServiceID, k.Date.String(), r.SeatNo); err != nil {
			return fault.Wrap(err, "save seats")
		}
	}
	if err := t.saveCounts(k, counts); err != nil {
		return err
	}
	_, err = t.exec(qSetVersion, version, k.ServiceID, k.Date.String())
	return fault.Wrap(err, "save train version")
}

// LockAccount needs no lock: SQLite runs one write transaction at a time.
func (t *bookingTx) LockAccount(accountID int64) error { return nil }

func (t *bookingTx) HeldOrderOf(accountID int64) (int64, error) {
	var id int64
	err := t.queryRow(qHeldOrder, accountID).Scan(&id)
	return id, fault.Wrap(sqlrow.NoRowsAs(err, nil), "find held order")
}

func (t *bookingTx) ActiveTicketFor(docType, docNumber string, k booking.TrainKey) (bool, error) {
	var one int
	err := t.queryRow(qDocTicket, docType, t.pii.DocIndex(docType, docNumber), k.ServiceID, k.Date.String()).Scan(&one)
	return err == nil, fault.Wrap(sqlrow.NoRowsAs(err, nil), "find document's ticket")
}

func (t *bookingTx) InsertOrder(o *booking.Order) error {
	res, err := t.exec(qInsertOrder, o.AccountID, string(o.Status), o.Train.ServiceID, o.Train.Date.String(), o.TotalFen,
		sqlrow.At(o.CreatedAt), sqlrow.At(o.HoldExpiresAt), o.PaymentID, o.ChangeOf)
	if err != nil {
		return bookingConstraint(err, "insert order")
	}
	if o.ID, err = res.LastInsertId(); err != nil {
		return fault.Wrap(err, "insert order")
	}
	stmt, err := t.stmt(qInsertTicket)
	if err != nil {
		return fault.Wrap(err, "insert tickets")
	}
	defer stmt.Close()
	for i := range o.Tickets {
		tk := &o.Tickets[i]
		tk.OrderID = o.ID
		docIndex, docSealed := t.pii.TicketDoc(tk)
		// Times as text (sqlrow.Format), not sqlrow.At: a Valuer costs an
		// allocation more per argument, here per ticket.
		res, err := stmt.ExecContext(t.ctx, o.ID, tk.Train.ServiceID, tk.Train.Date.String(), tk.Number, tk.FromSeq, tk.ToSeq, tk.FromStationID, tk.ToStationID,
			sqlrow.Format(tk.Departure), sqlrow.Format(tk.Arrival), tk.SeatNo, tk.Car, tk.Seat, string(tk.SeatClass), string(tk.Berth), tk.PassengerName, tk.DocType, docIndex, docSealed,
			tk.FareFen, string(tk.Status), tk.RefundFen, tk.FeeFen, tk.ChangedTo)
		if err != nil {
			return bookingConstraint(err, "insert ticket")
		}
		if tk.ID, err = res.LastInsertId(); err != nil {
			return fault.Wrap(err, "insert ticket")
		}
	}
	return nil
}

// bookingConstraint names a unique violation of the booking rules in the
// error. It stays internal, unlike on PostgreSQL: SQLite undoes only the
// failed statement, so the committer must roll the whole batch back (and
// retries each op alone). The committer checks the rules first; this is a
// last line.
func bookingConstraint(err error, what string) error {
	if kind, _ := violation(err); kind == sqlrow.Unique {
		return fault.Wrap(err, what+": booking rule violated")
	}
	return fault.Wrap(err, what)
}

// readOrders reads orders by a where clause with their tickets (and events if asked).
func readOrders(ctx context.Context, q querier, pii sqlrow.PII, where string, events bool, args ...any) ([]booking.Order, error) {
	out, err := list(ctx, q, "read orders", sqlrow.ScanOrder, `SELECT `+sqlrow.OrderColumns+` FROM orders WHERE `+where, args...)
	for i := 0; err == nil && i < len(out); i++ {
		o := &out[i]
		o.Tickets, err = list(ctx, q, "read tickets", pii.ScanBookedTicket, `SELECT `+sqlrow.BookedTicketColumns+` FROM tickets WHERE order_id = ? ORDER BY id`, o.ID)
		if err == nil && events {
			o.Events, err = list(ctx, q, "read events", sqlrow.ScanOrderEvent, `SELECT `+sqlrow.OrderEventColumns+` FROM order_events WHERE order_id = ? ORDER BY id`, o.ID)
		}
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// qTicketOrder picks the order of the ticket that is the argument.
const qTicketOrder = `id = (SELECT order_id FROM tickets WHERE id = ?)`

func (t *bookingTx) OrderForUpdate(id int64) (booking.Order, error) {
	return sqlrow.OneOrder(readOrders(t.ctx, t.tx, t.pii, `id = ?`, false, id))
}

func (t *bookingTx) OrderOfTicket(ticketID int64) (booking.Order, error) {
	return sqlrow.OneOrder(readOrders(t.ctx, t.tx, t.pii, qTicketOrder, false, ticketID))
}

func (t *bookingTx) SetOrder(o booking.Order) error {
	var paid time.Time
	if o.PaidAt != nil {
		paid = *o.PaidAt
	}
	if _, err := t.exec(qSetOrder, string(o.Status), o.PaymentID, sqlrow.AtOrNull(paid), o.ID); err != nil {
		return fault.Wrap(err, "update order")
	}
	for _, tk := range o.Tickets {
		if _, err := t.exec(qSetTicket,
			string(tk.Status), tk.RefundFen, tk.FeeFen, tk.ChangedTo, tk.ID); err != nil {
			return bookingConstraint(err, "update ticket")
		}
	}
	return nil
}

func (t *bookingTx) AppendEvents(events ...booking.Event) error {
	for _, e := range events { // times as text, as in InsertOrder
		_, err := t.exec(qAddEvent,
			e.OrderID, sqlrow.Format(e.At), e.Actor, e.Action, string(e.From), string(e.To), e.TicketID, e.Detail)
		if err != nil {
			return fault.Wrap(err, "append event")
		}
	}
	return nil
}

func (t *bookingTx) SetSetting(name, value string) error {
	_, err := t.tx.ExecContext(t.ctx, `INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value`, name, value)
	return fault.Wrap(err, "save setting")
}

func (t *bookingTx) EnsureSetting(name, value string) (string, error) {
	if _, err := t.tx.ExecContext(t.ctx, `INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING`, name, value); err != nil {
		return "", fault.Wrap(err, "save setting")
	}
	var v string
	err := t.tx.QueryRowContext(t.ctx, `SELECT value FROM settings WHERE name = ?`, name).Scan(&v)
	return v, fault.Wrap(err, "read setting")
}

// DayCounts reads a governance subject's counts for a service day (zero if none).
func (t *bookingTx) DayCounts(subject string, day network.Date) (governance.Counts, error) {
	var c governance.Counts
	err := t.queryRow(qDayCounts, t.pii.Subject(subject), day.String()).Scan(&c.Manual, &c.Expired)
	return c, fault.Wrap(sqlrow.NoRowsAs(err, nil), "read day counts")
}

// AddDayCounts adds to a subject's counts for a service day with one upsert.
func (t *bookingTx) AddDayCounts(subject string, day network.Date, manual, expired int) (governance.Counts, error) {
	if manual == 0 && expired == 0 {
		return t.DayCounts(subject, day)
	}
	var c governance.Counts
	err := t.queryRow(qAddDayCounts, t.pii.Subject(subject), day.String(), manual, expired).Scan(&c.Manual, &c.Expired)
	return c, fault.Wrap(err, "add day counts")
}

// ---- reads ----

func (s *bookingStore) Order(ctx context.Context, id int64) (booking.Order, error) {
	return sqlrow.OneOrder(readOrders(ctx, s.read, s.pii, `id = ?`, true, id))
}

func (s *bookingStore) OrderOfTicket(ctx context.Context, ticketID int64) (booking.Order, error) {
	return sqlrow.OneOrder(readOrders(ctx, s.read, s.pii, qTicketOrder, true, ticketID))
}

func (s *bookingStore) OrdersOf(ctx context.Context, accountID int64, limit int) ([]booking.Order, error) {
	return readOrders(ctx, s.read, s.pii, `account_id = ? ORDER BY id DESC LIMIT ?`, false, accountID, limit)
}

func (s *bookingStore) DueExpiries(ctx context.Context, now time.Time, limit int) ([]booking.Order, error) {
	return list(ctx, s.read, "find expired holds", sqlrow.ScanOrderKey,
		`SELECT id, service_id, service_date FROM orders WHERE status = 'held' AND hold_expires_at <= ? ORDER BY hold_expires_at LIMIT ?`, sqlrow.At(now), limit)
}

func (s *bookingStore) TrainVersion(ctx context.Context, k booking.TrainKey) (int64, error) {
	var v int64
	err := s.read.QueryRowContext(ctx, qLockTrain, k.ServiceID, k.Date.String()).Scan(&v)
	return v, fault.Wrap(sqlrow.NoRowsAs(err, nil), "read train version")
}

func (s *bookingStore) Seats(ctx context.Context, k booking.TrainKey) ([]booking.SeatRow, int64, error) {
	inv, err := s.inventory(ctx, k, false)
	return inv.Seats, inv.Version, err
}

func (s *bookingStore) Inventory(ctx context.Context, k booking.TrainKey) (booking.Inventory, error) {
	return s.inventory(ctx, k, true)
}

// inventory reads a train date's version and seats in one read
// transaction, and if all its availability and active tickets too.
func (s *bookingStore) inventory(ctx context.Context, k booking.TrainKey, all bool) (inv booking.Inventory, err error) {
	err = s.readTx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, qLockTrain, k.ServiceID, k.Date.String()).Scan(&inv.Version)
		if err != nil { // no train date: an empty inventory
			return fault.Wrap(sqlrow.NoRowsAs(err, nil), "read train version")
		}
		if inv.Seats, err = loadSeatRows(ctx, tx, k); err != nil || !all {
			return err
		}
		inv.Counts, err = sqlrow.ByKind(list(ctx, tx, "read availability", sqlrow.ScanKindCounts,
			`SELECT seat_class, berth, counts FROM availability WHERE service_id = ? AND service_date = ?`, k.ServiceID, k.Date.String()))
		if err != nil {
			return err
		}
		inv.Tickets, err = list(ctx, tx, "read tickets", s.pii.ScanBookedTicket, `SELECT `+sqlrow.BookedTicketColumns+` FROM tickets
			WHERE service_id = ? AND service_date = ? AND status IN ('held', 'paid') ORDER BY id`, k.ServiceID, k.Date.String())
		return err
	})
	return inv, err
}

func (s *bookingStore) TrainDates(ctx context.Context) ([]booking.TrainKey, error) {
	return list(ctx, s.read, "list train dates", sqlrow.ScanTrainKey, `SELECT service_id, service_date FROM train_dates ORDER BY service_date, service_id`)
}

func (s *bookingStore) Setting(ctx context.Context, name string) (string, error) {
	var v string
	err := s.read.QueryRowContext(ctx, `SELECT value FROM settings WHERE name = ?`, name).Scan(&v)
	return v, fault.Wrap(sqlrow.NoRowsAs(err, nil), "read setting")
}
