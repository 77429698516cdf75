package postgres

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"piao/internal/booking"
	"piao/internal/fault"
	"piao/internal/governance"
	"piao/internal/network"
	"piao/internal/seats"
	"piao/internal/store/sqlrow"
)

// bookingStore implements booking.Store on PostgreSQL. Several processes
// may share the database: LockTrain takes a row lock on the train date, so
// their transactions touching one train date run one after the other.
type bookingStore struct{ *DB }

var _ booking.Store = (*bookingStore)(nil)

// bookingTx implements booking.Tx over one PostgreSQL transaction.
type bookingTx struct {
	ctx  context.Context
	tx   pgx.Tx
	pii  sqlrow.PII
	inOp bool // the savepoint booking_op is set (booking_op.go)
}

// Update runs fn in one transaction.
func (s *bookingStore) Update(ctx context.Context, fn func(booking.Tx) error) error {
	return s.tx(ctx, func(tx pgx.Tx) error { return fn(&bookingTx{ctx: ctx, tx: tx, pii: s.pii}) })
}

// qTrainVersion reads a train date's version.
const qTrainVersion = `SELECT version FROM train_dates WHERE service_id = $1 AND service_date = $2`

// LockTrain takes a transaction-scoped advisory lock on the train date
// before reading its row: a row lock alone cannot guard a train date whose
// row does not exist yet, which two processes would both try to create.
func (t *bookingTx) LockTrain(k booking.TrainKey) (booking.TrainState, error) {
	var st booking.TrainState
	if _, err := t.tx.Exec(t.ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 1))`, "train:"+k.String()); err != nil {
		return st, txError(err, "lock train")
	}
	err := t.tx.QueryRow(t.ctx, qTrainVersion+` FOR UPDATE`, k.ServiceID, k.Date.String()).Scan(&st.Version)
	st.Exists = err == nil
	return st, txError(sqlrow.NoRowsAs(err, nil), "lock train")
}

func (t *bookingTx) CreateTrain(k booking.TrainKey, stops int, rows []booking.SeatRow, counts map[seats.Kind][]int32) error {
	if _, err := t.tx.Exec(t.ctx, `INSERT INTO train_dates (service_id, service_date, stops, version) VALUES ($1, $2, $3, 1)`, k.ServiceID, k.Date.String(), stops); err != nil {
		return fault.Wrap(err, "create train date")
	}
	data := make([][]any, len(rows))
	for i, r := range rows {
		data[i] = []any{k.ServiceID, k.Date.String(), r.SeatNo, r.Car, r.Label, string(r.Kind.Class), string(r.Kind.Berth), int64(r.Sold)}
	}
	if _, err := t.tx.CopyFrom(t.ctx, pgx.Identifier{"seat_inventory"}, []string{"service_id", "service_date", "seat_no", "car_no", "label", "seat_class", "berth", "sold"}, pgx.CopyFromRows(data)); err != nil {
		return fault.Wrap(err, "create seats")
	}
	return t.saveCounts(k, counts)
}

func (t *bookingTx) saveCounts(k booking.TrainKey, counts map[seats.Kind][]int32) error {
	b := &pgx.Batch{}
	for kind, c := range counts {
		b.Queue(`INSERT INTO availability (service_id, service_date, seat_class, berth, counts) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (service_id, service_date, seat_class, berth) DO UPDATE SET counts = excluded.counts`,
			k.ServiceID, k.Date.String(), string(kind.Class), string(kind.Berth), booking.EncodeCounts(c))
	}
	return fault.Wrap(t.tx.SendBatch(t.ctx, b).Close(), "save availability")
}

func (t *bookingTx) LoadSeats(k booking.TrainKey) ([]booking.SeatRow, error) {
	return loadSeatRows(t.ctx, t.tx, k)
}

func loadSeatRows(ctx context.Context, q querier, k booking.TrainKey) ([]booking.SeatRow, error) {
	return list(ctx, q, "load seats", sqlrow.ScanInventorySeat, `SELECT `+sqlrow.InventorySeatColumns+` FROM seat_inventory
		WHERE service_id = $1 AND service_date = $2 ORDER BY seat_no`, k.ServiceID, k.Date.String())
}

func (t *bookingTx) SaveSeats(k booking.TrainKey, changed []booking.SeatRow, counts map[seats.Kind][]int32, version int64) error {
	b := &pgx.Batch{}
	for _, r := range changed {
		b.Queue(`UPDATE seat_inventory SET sold = $1 WHERE service_id = $2 AND service_date = $3 AND seat_no = $4`, int64(r.Sold), k.ServiceID, k.Date.String(), r.SeatNo)
	}
	for kind, c := range counts {
		b.Queue(`UPDATE availability SET counts = $1 WHERE service_id = $2 AND service_date = $3 AND seat_class = $4 AND berth = $5`,
			booking.EncodeCounts(c), k.ServiceID, k.Date.String(), string(kind.Class), string(kind.Berth))
	}
	b.Queue(`UPDATE train_dates SET version = $1 WHERE service_id = $2 AND service_date = $3`, version, k.ServiceID, k.Date.String())
	return fault.Wrap(t.tx.SendBatch(t.ctx, b).Close(), "save seats")
}

// LockAccount takes a transaction-scoped advisory lock on the account, so
// two processes cannot both pass its one-unpaid-order check.
func (t *bookingTx) LockAccount(accountID int64) error {
	_, err := t.tx.Exec(t.ctx, `SELECT pg_advisory_xact_lock(2, hashtext($1))`, strconv.FormatInt(accountID, 10))
	return txError(err, "lock account")
}

// txError marks deadlocks and serialisation failures as conflicts the
// committer retries, and the booking rules' unique indexes as conflicts.
func txError(err error, what string) error {
	if err == nil {
		return nil
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) && (pe.Code == "40P01" || pe.Code == "40001") { // deadlock, serialisation failure
		return booking.ErrTxConflict
	}
	switch kind, index := violation(err); {
	case kind == sqlrow.Unique && index == "orders_one_held":
		return fault.New(fault.Conflict, "unpaid_order_exists", "您有未支付的订单，请先支付或取消", "you have an unpaid order: pay or cancel it first")
	case kind == sqlrow.Unique && index == "tickets_one_per_document":
		return fault.New(fault.Conflict, "document_already_booked", "乘客已购买该车次当日车票", "a passenger already holds a ticket on this train that day")
	}
	return fault.Wrap(err, what)
}

func (t *bookingTx) HeldOrderOf(accountID int64) (int64, error) {
	var id int64
	err := t.tx.QueryRow(t.ctx, `SELECT id FROM orders WHERE account_id = $1 AND status = 'held'`, accountID).Scan(&id)
	return id, fault.Wrap(sqlrow.NoRowsAs(err, nil), "find held order")
}

func (t *bookingTx) ActiveTicketFor(docType, docNumber string, k booking.TrainKey) (bool, error) {
	var one int
	err := t.tx.QueryRow(t.ctx, `SELECT 1 FROM tickets WHERE doc_type = $1 AND doc_number = $2 AND service_id = $3 AND service_date = $4 AND status IN ('held', 'paid')`,
		docType, t.pii.DocIndex(docType, docNumber), k.ServiceID, k.Date.String()).Scan(&one)
	return err == nil, fault.Wrap(sqlrow.NoRowsAs(err, nil), "find document's ticket")
}

func (t *bookingTx) InsertOrder(o *booking.Order) error {
	err := t.tx.QueryRow(t.ctx, `INSERT INTO orders (account_id, status, service_id, service_date, total_fen, created_at, hold_expires_at, payment_id, change_of)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`, o.AccountID, string(o.Status), o.Train.ServiceID, o.Train.Date.String(), o.TotalFen,
		o.CreatedAt, o.HoldExpiresAt, o.PaymentID, o.ChangeOf).Scan(&o.ID)
	if err != nil {
		return txError(err, "insert order")
	}
	for i := range o.Tickets {
		tk := &o.Tickets[i]
		tk.OrderID = o.ID
		docIndex, docSealed := t.pii.TicketDoc(tk)
		err := t.tx.QueryRow(t.ctx, `INSERT INTO tickets (order_id, service_id, service_date, number, from_seq, to_seq, from_station_id, to_station_id,
			departure, arrival, seat_no, car_no, seat, seat_class, berth, passenger_name, doc_type, doc_number, doc_sealed, fare_fen, status, refund_fen, fee_fen, changed_to)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24) RETURNING id`,
			o.ID, tk.Train.ServiceID, tk.Train.Date.String(), tk.Number, tk.FromSeq, tk.ToSeq, tk.FromStationID, tk.ToStationID,
			tk.Departure, tk.Arrival, tk.SeatNo, tk.Car, tk.Seat, string(tk.SeatClass), string(tk.Berth), tk.PassengerName, tk.DocType, docIndex, docSealed,
			tk.FareFen, string(tk.Status), tk.RefundFen, tk.FeeFen, tk.ChangedTo).Scan(&tk.ID)
		if err != nil {
			return txError(err, "insert ticket")
		}
	}
	return nil
}

// readOrders reads orders by a where clause with their tickets (and events if asked).
func readOrders(ctx context.Context, q querier, pii sqlrow.PII, where string, events bool, args ...any) ([]booking.Order, error) {
	out, err := list(ctx, q, "read orders", sqlrow.ScanOrder, `SELECT `+sqlrow.OrderColumns+` FROM orders WHERE `+where, args...)
	for i := 0; err == nil && i < len(out); i++ {
		o := &out[i]
		o.Tickets, err = list(ctx, q, "read tickets", pii.ScanBookedTicket, `SELECT `+sqlrow.BookedTicketColumns+` FROM tickets WHERE order_id = $1 ORDER BY id`, o.ID)
		if err == nil && events {
			o.Events, err = list(ctx, q, "read events", sqlrow.ScanOrderEvent, `SELECT `+sqlrow.OrderEventColumns+` FROM order_events WHERE order_id = $1 ORDER BY id`, o.ID)
		}
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// qTicketOrder picks the order of the ticket that is the argument.
const qTicketOrder = `id = (SELECT order_id FROM tickets WHERE id = $1)`

func (t *bookingTx) OrderForUpdate(id int64) (booking.Order, error) {
	return sqlrow.OneOrder(readOrders(t.ctx, t.tx, t.pii, `id = $1 FOR UPDATE`, false, id))
}

func (t *bookingTx) OrderOfTicket(ticketID int64) (booking.Order, error) {
	return sqlrow.OneOrder(readOrders(t.ctx, t.tx, t.pii, qTicketOrder+` FOR UPDATE`, false, ticketID))
}

func (t *bookingTx) SetOrder(o booking.Order) error {
	b := &pgx.Batch{}
	b.Queue(`UPDATE orders SET status = $1, payment_id = $2, paid_at = $3 WHERE id = $4`, string(o.Status), o.PaymentID, o.PaidAt, o.ID)
	for _, tk := range o.Tickets {
		b.Queue(`UPDATE tickets SET status = $1, refund_fen = $2, fee_fen = $3, changed_to = $4 WHERE id = $5`, string(tk.Status), tk.RefundFen, tk.FeeFen, tk.ChangedTo, tk.ID)
	}
	return txError(t.tx.SendBatch(t.ctx, b).Close(), "update order")
}

func (t *bookingTx) AppendEvents(events ...booking.Event) error {
	b := &pgx.Batch{}
	for _, e := range events {
		b.Queue(`INSERT INTO order_events (order_id, at, actor, action, from_status, to_status, ticket_id, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			e.OrderID, e.At, e.Actor, e.Action, string(e.From), string(e.To), e.TicketID, e.Detail)
	}
	return fault.Wrap(t.tx.SendBatch(t.ctx, b).Close(), "append events")
}

func (t *bookingTx) SetSetting(name, value string) error {
	_, err := t.tx.Exec(t.ctx, `INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = excluded.value`, name, value)
	return fault.Wrap(err, "save setting")
}

func (t *bookingTx) EnsureSetting(name, value string) (string, error) {
	// A concurrent insert of the same name waits for the first to commit,
	// then does nothing: every process reads the one value that won.
	if _, err := t.tx.Exec(t.ctx, `INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`, name, value); err != nil {
		return "", fault.Wrap(err, "save setting")
	}
	var v string
	err := t.tx.QueryRow(t.ctx, `SELECT value FROM settings WHERE name = $1`, name).Scan(&v)
	return v, fault.Wrap(err, "read setting")
}

// DayCounts reads a governance subject's counts for a service day (zero if none).
func (t *bookingTx) DayCounts(subject string, day network.Date) (governance.Counts, error) {
	var c governance.Counts
	err := t.tx.QueryRow(t.ctx, `SELECT manual, expired FROM governance_counts WHERE subject = $1 AND day = $2`, t.pii.Subject(subject), day.String()).Scan(&c.Manual, &c.Expired)
	return c, txError(sqlrow.NoRowsAs(err, nil), "read day counts")
}

// AddDayCounts adds to a subject's counts for a service day with one
// upsert: concurrent adds from several processes wait for the row's lock
// in turn and all count.
func (t *bookingTx) AddDayCounts(subject string, day network.Date, manual, expired int) (governance.Counts, error) {
	if manual == 0 && expired == 0 {
		return t.DayCounts(subject, day)
	}
	var c governance.Counts
	err := t.tx.QueryRow(t.ctx, `INSERT INTO governance_counts (subject, day, manual, expired) VALUES ($1, $2, $3, $4)
		ON CONFLICT (subject, day) DO UPDATE SET manual = governance_counts.manual + excluded.manual,
			expired = governance_counts.expired + excluded.expired
		RETURNING manual, expired`, t.pii.Subject(subject), day.String(), manual, expired).Scan(&c.Manual, &c.Expired)
	return c, txError(err, "add day counts")
}

// ---- reads ----

// snapshotOrders reads orders as readOrders does, in one read snapshot.
func (s *bookingStore) snapshotOrders(ctx context.Context, where string, events bool, args ...any) (os []booking.Order, err error) {
	err = s.readTx(ctx, func(tx pgx.Tx) (err error) {
		os, err = readOrders(ctx, tx, s.pii, where, events, args...)
		return err
	})
	return os, err
}

func (s *bookingStore) Order(ctx context.Context, id int64) (booking.Order, error) {
	return sqlrow.OneOrder(s.snapshotOrders(ctx, `id = $1`, true, id))
}

func (s *bookingStore) OrderOfTicket(ctx context.Context, ticketID int64) (booking.Order, error) {
	return sqlrow.OneOrder(s.snapshotOrders(ctx, qTicketOrder, true, ticketID))
}

func (s *bookingStore) OrdersOf(ctx context.Context, accountID int64, limit int) ([]booking.Order, error) {
	return s.snapshotOrders(ctx, `account_id = $1 ORDER BY id DESC LIMIT $2`, false, accountID, limit)
}

func (s *bookingStore) DueExpiries(ctx context.Context, now time.Time, limit int) ([]booking.Order, error) {
	return list(ctx, s.pool, "find expired holds", sqlrow.ScanOrderKey,
		`SELECT id, service_id, service_date FROM orders WHERE status = 'held' AND hold_expires_at <= $1 ORDER BY hold_expires_at LIMIT $2`, now, limit)
}

func (s *bookingStore) TrainVersion(ctx context.Context, k booking.TrainKey) (int64, error) {
	var v int64
	err := s.pool.QueryRow(ctx, qTrainVersion, k.ServiceID, k.Date.String()).Scan(&v)
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
	err = s.readTx(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, qTrainVersion, k.ServiceID, k.Date.String()).Scan(&inv.Version)
		if err != nil { // no train date: an empty inventory
			return sqlrow.NoRowsAs(err, nil)
		}
		if inv.Seats, err = loadSeatRows(ctx, tx, k); err != nil || !all {
			return err
		}
		inv.Counts, err = sqlrow.ByKind(list(ctx, tx, "read availability", sqlrow.ScanKindCounts,
			`SELECT seat_class, berth, counts FROM availability WHERE service_id = $1 AND service_date = $2`, k.ServiceID, k.Date.String()))
		if err != nil {
			return err
		}
		inv.Tickets, err = list(ctx, tx, "read tickets", s.pii.ScanBookedTicket, `SELECT `+sqlrow.BookedTicketColumns+` FROM tickets
			WHERE service_id = $1 AND service_date = $2 AND status IN ('held', 'paid') ORDER BY id`, k.ServiceID, k.Date.String())
		return err
	})
	return inv, err
}

func (s *bookingStore) TrainDates(ctx context.Context) ([]booking.TrainKey, error) {
	return list(ctx, s.pool, "list train dates", sqlrow.ScanTrainKey, `SELECT service_id, service_date FROM train_dates ORDER BY service_date, service_id`)
}

func (s *bookingStore) Setting(ctx context.Context, name string) (string, error) {
	var v string
	err := s.pool.QueryRow(ctx, `SELECT value FROM settings WHERE name = $1`, name).Scan(&v)
	return v, fault.Wrap(sqlrow.NoRowsAs(err, nil), "read setting")
}
