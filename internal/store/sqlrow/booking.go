package sqlrow

import (
	"database/sql"
	"errors"

	"piao/internal/booking"
	"piao/internal/fault"
	"piao/internal/network"
	"piao/internal/seats"
)

// The booking store's rows, scanned the same way on both engines.

// ErrOrderNotFound is what both booking stores answer for an order that is not there.
var ErrOrderNotFound = fault.New(fault.NotFound, "order_not_found", "订单不存在", "order not found")

// WaitlistNotFound is what both booking stores answer for a waitlist entry that is not there.
func WaitlistNotFound(id int64) error {
	return fault.Newf(fault.NotFound, "waitlist_not_found", "候补订单 %d 不存在", "waitlist entry %d does not exist", id)
}

// OneOrder is the order a read of one order found (readOrders' result),
// or ErrOrderNotFound if it found none.
func OneOrder(os []booking.Order, err error) (booking.Order, error) {
	if err == nil && len(os) == 0 {
		err = ErrOrderNotFound
	}
	if err != nil {
		return booking.Order{}, err
	}
	return os[0], nil
}

// OrderColumns are the columns of orders ScanOrder reads.
const OrderColumns = `id, account_id, status, service_id, service_date, total_fen, created_at, hold_expires_at, paid_at, payment_id, change_of`

// ScanOrder reads an order (OrderColumns) with an empty list of tickets.
func ScanOrder(r Row) (booking.Order, error) {
	var o booking.Order
	var date string
	var created, expires Time
	var paid NullTime
	if err := r.Scan(&o.ID, &o.AccountID, (*string)(&o.Status), &o.Train.ServiceID, &date, &o.TotalFen, &created, &expires, &paid, &o.PaymentID, &o.ChangeOf); err != nil {
		return o, err
	}
	o.CreatedAt, o.HoldExpiresAt = created.Time, expires.Time
	if !paid.IsZero() {
		o.PaidAt = &paid.Time
	}
	o.Tickets = []booking.Ticket{}
	return o, trainDate(&o.Train, date)
}

// scanBookedTicket reads a ticket (BookedTicketColumns) with its document
// number still sealed.
func scanBookedTicket(r Row) (booking.Ticket, error) {
	var tk booking.Ticket
	var date string
	var dep, arr Time
	err := r.Scan(&tk.ID, &tk.OrderID, &tk.Train.ServiceID, &date, &tk.Number, &tk.FromSeq, &tk.ToSeq, &tk.FromStationID, &tk.ToStationID, &dep, &arr,
		&tk.SeatNo, &tk.Car, &tk.Seat, (*string)(&tk.SeatClass), (*string)(&tk.Berth), &tk.PassengerName, &tk.DocType, &tk.DocNumber, &tk.FareFen,
		(*string)(&tk.Status), &tk.RefundFen, &tk.FeeFen, &tk.ChangedTo)
	if err != nil {
		return tk, err
	}
	tk.Departure, tk.Arrival = dep.Time, arr.Time
	return tk, trainDate(&tk.Train, date)
}

// OrderEventColumns are the columns of order_events ScanOrderEvent reads.
const OrderEventColumns = `order_id, at, actor, action, from_status, to_status, ticket_id, detail`

// ScanOrderEvent reads an order's event (OrderEventColumns).
func ScanOrderEvent(r Row) (booking.Event, error) {
	var e booking.Event
	var at Time
	err := r.Scan(&e.OrderID, &at, &e.Actor, &e.Action, (*string)(&e.From), (*string)(&e.To), &e.TicketID, &e.Detail)
	e.At = at.Time
	return e, err
}

// InventorySeatColumns are the columns of seat_inventory ScanInventorySeat reads.
const InventorySeatColumns = `seat_no, car_no, label, seat_class, berth, sold`

// ScanInventorySeat reads a seat of a train date (InventorySeatColumns).
func ScanInventorySeat(r Row) (booking.SeatRow, error) {
	var s booking.SeatRow
	var sold int64
	err := r.Scan(&s.SeatNo, &s.Car, &s.Label, (*string)(&s.Kind.Class), (*string)(&s.Kind.Berth), &sold)
	s.Sold = seats.Legs(sold)
	return s, err
}

// KindCounts is one seat kind's availability matrix.
type KindCounts struct {
	Kind   seats.Kind
	Counts []int32
}

// ByKind is the availability matrices read (ScanKindCounts) by seat kind.
func ByKind(rows []KindCounts, err error) (map[seats.Kind][]int32, error) {
	if err != nil {
		return nil, err
	}
	out := map[seats.Kind][]int32{}
	for _, r := range rows {
		out[r.Kind] = r.Counts
	}
	return out, nil
}

// ScanKindCounts reads seat_class, berth and counts (booking.EncodeCounts).
func ScanKindCounts(r Row) (KindCounts, error) {
	var kc KindCounts
	var b []byte
	err := r.Scan((*string)(&kc.Kind.Class), (*string)(&kc.Kind.Berth), &b)
	kc.Counts = booking.DecodeCounts(b)
	return kc, err
}

// TicketCounts is the ticket counts read (ScanTally) by status.
func TicketCounts(counts []Tally[booking.TicketStatus], err error) (map[booking.TicketStatus]int, error) {
	if err != nil {
		return nil, err
	}
	out := map[booking.TicketStatus]int{}
	for _, c := range counts {
		out[c.Key] = c.N
	}
	return out, nil
}

// ScanTrainKey reads service_id and service_date.
func ScanTrainKey(r Row) (booking.TrainKey, error) {
	var k booking.TrainKey
	var date string
	if err := r.Scan(&k.ServiceID, &date); err != nil {
		return k, err
	}
	return k, trainDate(&k, date)
}

// ScanOrderKey reads an order's id, service_id and service_date: an order
// as the expiry sweep needs it.
func ScanOrderKey(r Row) (booking.Order, error) {
	var o booking.Order
	var date string
	if err := r.Scan(&o.ID, &o.Train.ServiceID, &date); err != nil {
		return o, err
	}
	return o, trainDate(&o.Train, date)
}

// scanWaitlist reads a waitlist entry from its body column
// (booking.EncodeWaitlist), its document numbers still sealed.
func scanWaitlist(r Row) (booking.WaitlistEntry, error) {
	var body string
	if err := r.Scan(&body); err != nil {
		return booking.WaitlistEntry{}, err
	}
	return booking.DecodeWaitlist(body)
}

// oneWaitlist reads the entry a single-row query of its body returned
// (still sealed); no row is WaitlistNotFound(id).
func oneWaitlist(r Row, id int64) (booking.WaitlistEntry, error) {
	e, err := scanWaitlist(r)
	if errors.Is(err, sql.ErrNoRows) { // pgx.ErrNoRows is sql.ErrNoRows too
		return e, WaitlistNotFound(id)
	}
	return e, fault.Wrap(err, "read waitlist entry")
}

// WaitEventColumns are the columns of waitlist_events ScanWaitEvent reads.
const WaitEventColumns = `entry_id, at, actor, action, from_status, to_status, detail`

// ScanWaitEvent reads a waitlist entry's event (WaitEventColumns).
func ScanWaitEvent(r Row) (booking.WaitEvent, error) {
	var e booking.WaitEvent
	var at Time
	err := r.Scan(&e.EntryID, &at, &e.Actor, &e.Action, (*string)(&e.From), (*string)(&e.To), &e.Detail)
	e.At = at.Time
	return e, err
}

// trainDate sets k's date from its stored text.
func trainDate(k *booking.TrainKey, date string) error {
	d, err := network.ParseDate(date)
	k.Date = d
	return fault.Wrap(err, "read service date")
}
