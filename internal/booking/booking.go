// Package booking is the rail booking core: remaining-ticket queries, orders
// that hold seats until paid, payment outcomes, cancels, expiries, refunds and
// changes, over the segment-aware seat inventory of package seats.
//
// Every state change goes through one committer per process that groups
// concurrent requests into one database transaction, and re-reads a train's
// seats under the database's lock whenever another process changed them, so
// a seat leg is never sold twice. The package does no I/O of its own beyond
// its Store and payment.Gateway.
package booking

import (
	"context"
	"encoding/binary"
	"time"

	"piao/internal/fault"
	"piao/internal/governance"
	"piao/internal/ledger"
	"piao/internal/network"
	"piao/internal/seats"
)

// ErrNotRunning is what the API and the console answer for booking in a
// process that does not run them.
var ErrNotRunning = fault.New(fault.Unavailable, "booking_unavailable", "售票服务未启动", "booking is not running in this process")

// TrainKey names one train on one service date.
type TrainKey struct {
	ServiceID string       `json:"service_id"`
	Date      network.Date `json:"date"`
}

// String formats the key as "cr:Z66@2026-11-22".
func (k TrainKey) String() string { return k.ServiceID + "@" + k.Date.String() }

// OrderStatus is where an order is in its life.
type OrderStatus string

// Order states: held → paid → refunded / changed; held → cancelled / expired.
const (
	Held      OrderStatus = "held"
	Paid      OrderStatus = "paid"
	Cancelled OrderStatus = "cancelled"
	Expired   OrderStatus = "expired"
	Refunded  OrderStatus = "refunded"
	Changed   OrderStatus = "changed"
)

// TicketStatus is where one passenger's ticket is.
type TicketStatus = OrderStatus

// Order is one booking account's purchase of 1–5 tickets on one train.
type Order struct {
	ID            int64       `json:"id"`
	AccountID     int64       `json:"account_id"`
	Status        OrderStatus `json:"status"`
	Train         TrainKey    `json:"train"`
	TotalFen      int64       `json:"total_fen"`
	CreatedAt     time.Time   `json:"created_at"`
	HoldExpiresAt time.Time   `json:"hold_expires_at"`
	PaidAt        *time.Time  `json:"paid_at,omitempty"`
	PaymentID     string      `json:"payment_id,omitempty"`
	// ChangeOf is the ticket this order replaces, for a change (改签) order.
	ChangeOf int64    `json:"change_of,omitempty"`
	Tickets  []Ticket `json:"tickets"`
	Events   []Event  `json:"events,omitempty"`
	// Warnings come with the answer to a booking or a cancel when an
	// account or passenger nears a cancel limit; they are not stored.
	Warnings []governance.Warning `json:"warnings,omitempty"`
}

// Ticket is one passenger's seat on legs of a train.
type Ticket struct {
	ID            int64             `json:"id"`
	OrderID       int64             `json:"order_id"`
	Train         TrainKey          `json:"train"`
	Number        string            `json:"number"`     // train number, e.g. Z66
	FromSeq       int               `json:"from_index"` // stop index (0-based) of boarding
	ToSeq         int               `json:"to_index"`   // stop index of alighting
	FromStationID string            `json:"from_station_id"`
	ToStationID   string            `json:"to_station_id"`
	Departure     time.Time         `json:"departure"`
	Arrival       time.Time         `json:"arrival"`
	SeatNo        int               `json:"-"` // index of the seat in the train's inventory
	Car           int               `json:"car"`
	Seat          string            `json:"seat"`
	SeatClass     network.SeatClass `json:"seat_class"`
	Berth         network.Berth     `json:"berth,omitempty"`
	PassengerName string            `json:"passenger_name"`
	DocType       string            `json:"doc_type"`
	DocNumber     string            `json:"doc_number"`
	FareFen       int64             `json:"fare_fen"`
	Status        TicketStatus      `json:"status"`
	RefundFen     int64             `json:"refund_fen,omitempty"`
	FeeFen        int64             `json:"fee_fen,omitempty"`
	ChangedTo     int64             `json:"changed_to,omitempty"`
}

// Legs is the inventory legs the ticket occupies.
func (t Ticket) Legs() seats.Legs { return seats.Span(t.FromSeq, t.ToSeq) }

// Event is an immutable record of a transition: who did what, when and why.
type Event struct {
	OrderID  int64       `json:"order_id"`
	At       time.Time   `json:"at"`
	Actor    string      `json:"actor"` // "account:12", "system:expiry", "payment:sandbox"
	Action   string      `json:"action"`
	From     OrderStatus `json:"from,omitempty"`
	To       OrderStatus `json:"to,omitempty"`
	TicketID int64       `json:"ticket_id,omitempty"`
	Detail   string      `json:"detail,omitempty"`
}

// SeatRow is one seat of a train date as stored.
type SeatRow struct {
	SeatNo int
	Car    int
	Label  string
	Kind   seats.Kind
	Sold   seats.Legs
}

// Inventory is everything stored about a train date's seats at one moment.
type Inventory struct {
	Version int64
	Seats   []SeatRow
	Counts  map[seats.Kind][]int32
	Tickets []Ticket // held and paid
}

// ErrTxConflict is returned by stores when a transaction lost a race with
// another process (a deadlock or a serialisation failure): the committer
// runs it again.
var ErrTxConflict = fault.New(fault.Unavailable, "transaction_conflict", "并发冲突，请重试", "the transaction collided with another; try again")

// EncodeCounts packs an availability matrix as little-endian int32s, the
// form both engines store it in.
func EncodeCounts(c []int32) []byte {
	b := make([]byte, 4*len(c))
	for i, v := range c {
		binary.LittleEndian.PutUint32(b[4*i:], uint32(v))
	}
	return b
}

// DecodeCounts unpacks EncodeCounts.
func DecodeCounts(b []byte) []int32 {
	c := make([]int32, len(b)/4)
	for i := range c {
		c[i] = int32(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return c
}

// TrainState is what a transaction sees of a train date.
type TrainState struct {
	Exists  bool
	Version int64
}

// Store keeps orders, tickets and seat inventory. Update is the only way to
// change anything; reads outside it see committed data.
type Store interface {
	// Update runs fn in one write transaction; an error from fn rolls it back.
	Update(ctx context.Context, fn func(Tx) error) error

	// Order returns an order with its tickets and events.
	Order(ctx context.Context, id int64) (Order, error)
	// OrdersOf lists an account's orders, newest first, with tickets.
	OrdersOf(ctx context.Context, accountID int64, limit int) ([]Order, error)
	// OrderOfTicket returns the order a ticket belongs to.
	OrderOfTicket(ctx context.Context, ticketID int64) (Order, error)
	// DueExpiries lists held orders whose hold ended at or before now, with
	// their IDs and trains only.
	DueExpiries(ctx context.Context, now time.Time, limit int) ([]Order, error)
	// TrainVersion returns the committed inventory version of a train date (0 if none).
	TrainVersion(ctx context.Context, k TrainKey) (int64, error)
	// Seats returns a train date's seat rows in seat order (for loading and checks).
	Seats(ctx context.Context, k TrainKey) ([]SeatRow, int64, error)
	// Inventory reads a train date's seats, stored counters and held and paid
	// tickets in one consistent snapshot, for checks.
	Inventory(ctx context.Context, k TrainKey) (Inventory, error)
	// TrainDates lists every train date that has an inventory.
	TrainDates(ctx context.Context) ([]TrainKey, error)
	// Settings returns a JSON setting by name ("" if unset).
	Setting(ctx context.Context, name string) (string, error)
	// BerthCancels counts a document's cancelled middle and upper berths
	// on a train date.
	BerthCancels(ctx context.Context, docType, docNumber string, k TrainKey) (int, error)
	// TicketCounts counts a train date's tickets of a seat class by status.
	TicketCounts(ctx context.Context, k TrainKey, class network.SeatClass) (map[TicketStatus]int, error)

	// Waitlist returns a waitlist entry with its events.
	Waitlist(ctx context.Context, id int64) (WaitlistEntry, error)
	// WaitlistOf lists an account's waitlist entries, newest first.
	WaitlistOf(ctx context.Context, accountID int64, limit int) ([]WaitlistEntry, error)
	// WaitingOn lists the waiting entries with an option on a train date, by ID.
	WaitingOn(ctx context.Context, k TrainKey) ([]WaitlistEntry, error)
	// DueWaitlist lists unpaid entries whose payment window closed and
	// waiting entries whose deadline passed, at or before now.
	DueWaitlist(ctx context.Context, now time.Time, limit int) ([]WaitlistEntry, error)
	// WaitlistRefundsDue lists entries owed a refund not yet sent.
	WaitlistRefundsDue(ctx context.Context, limit int) ([]WaitlistEntry, error)
}

// Tx is one write transaction. Train dates are locked with LockTrain before
// any of their seats are read or written.
type Tx interface {
	// LockTrain locks a train date's inventory until commit and returns its state.
	LockTrain(k TrainKey) (TrainState, error)
	// CreateTrain creates a train date's inventory: all seats free, version 1.
	CreateTrain(k TrainKey, stops int, seats []SeatRow, counts map[seats.Kind][]int32) error
	// LoadSeats reads a locked train date's seats in seat order.
	LoadSeats(k TrainKey) ([]SeatRow, error)
	// SaveSeats writes the sold legs of changed seats, the counters of the
	// kinds given, and sets the train date's version.
	SaveSeats(k TrainKey, changed []SeatRow, counts map[seats.Kind][]int32, version int64) error

	// LockAccount serialises the account's bookings across processes until
	// commit, so its one-unpaid-order rule holds.
	LockAccount(accountID int64) error
	// HeldOrderOf returns the ID of the account's held order, 0 if none.
	HeldOrderOf(accountID int64) (int64, error)
	// ActiveTicketFor reports whether a document already holds a held or paid
	// ticket on a train date.
	ActiveTicketFor(docType, docNumber string, k TrainKey) (bool, error)
	// InsertOrder stores an order with its tickets, setting their IDs.
	InsertOrder(o *Order) error
	// OrderOfTicket reads the order a ticket belongs to inside the transaction.
	OrderOfTicket(ticketID int64) (Order, error)
	// OrderForUpdate reads an order with its tickets inside the transaction.
	OrderForUpdate(id int64) (Order, error)
	// SetOrder writes an order's status, payment and paid time, and its
	// tickets' status, refund, fee and change link.
	SetOrder(o Order) error
	// AppendEvents records events.
	AppendEvents(events ...Event) error
	// EnsureSetting stores value under name unless a value is there already,
	// and returns the value that is.
	EnsureSetting(name, value string) (string, error)
	// SetSetting stores a JSON setting.
	SetSetting(name, value string) error

	// DayCounts reads a governance subject's counts for a service day
	// (zero if none).
	DayCounts(subject string, day network.Date) (governance.Counts, error)
	// AddDayCounts adds manual cancels and expiries to a subject's counts
	// for a service day, atomically (concurrent adds all count), and
	// returns the counts after the add.
	AddDayCounts(subject string, day network.Date, manual, expired int) (governance.Counts, error)

	// DocumentOwnership reads a document's verified holder and the accounts
	// the holder approved.
	DocumentOwnership(docType, docNumber string) (governance.Ownership, error)
	// LinkDocument puts a document on an account's passenger list unless it
	// is there.
	LinkDocument(accountID int64, docType, docNumber string, at time.Time) error
	// DocumentDayCounts reads a document's counts on a service day by
	// booking account.
	DocumentDayCounts(docType, docNumber string, day network.Date) (map[int64]governance.Counts, error)
	// AddDocumentDayCounts adds an account's manual cancels and expiries of
	// a document on a service day, atomically.
	AddDocumentDayCounts(docType, docNumber string, accountID int64, day network.Date, manual, expired int) error

	// InsertWaitlist stores a waitlist entry, setting its ID.
	InsertWaitlist(e *WaitlistEntry) error
	// WaitlistForUpdate reads a waitlist entry inside the transaction.
	WaitlistForUpdate(id int64) (WaitlistEntry, error)
	// SetWaitlist writes an entry's status, payment, order and refund.
	SetWaitlist(e WaitlistEntry) error
	// WaitingOn lists the waiting entries with an option on a train date,
	// by ID; the train date is locked.
	WaitingOn(k TrainKey) ([]WaitlistEntry, error)
	// ActiveWaitlist counts an account's unpaid and waiting entries.
	ActiveWaitlist(accountID int64) (int, error)
	// AppendWaitEvents records waitlist events.
	AppendWaitEvents(events ...WaitEvent) error

	// PostEntry posts a journal entry in the transaction (see
	// ledger.Store.Post for its rules), so money an op moves is recorded
	// with the change or not at all.
	PostEntry(e ledger.Entry) error
	// HasEntry reports whether the journal holds an entry with the key.
	HasEntry(key string) (bool, error)

	// BeginOp marks where the next op's writes begin (a savepoint), ending
	// the previous op's mark and keeping its writes.
	BeginOp() error
	// RollbackOp undoes every write since the last BeginOp and leaves the
	// transaction usable for the next op, even after a failed statement.
	RollbackOp() error
}
