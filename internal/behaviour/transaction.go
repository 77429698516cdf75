// Package behaviour computes the booking-behaviour findings of seed 004
// (潘躍 et al., on manual cancels at 12306) from transactions: who cancelled
// how often, who paid, how many accounts a passenger used. It is pure: the
// caller streams transactions in and reads a Report out.
package behaviour

import (
	"time"

	"piao/internal/network"
)

// Outcome is how a transaction ended.
type Outcome uint8

// Outcomes. Paid covers tickets later refunded or changed: they were paid.
const (
	Pending   Outcome = iota // still held, unpaid
	Paid                     // paid (possibly refunded or changed since)
	Cancelled                // cancelled by hand before payment (手工取消)
	Expired                  // returned automatically when the hold ended (自动返库)
)

// String names the outcome.
func (o Outcome) String() string {
	switch o {
	case Paid:
		return "paid"
	case Cancelled:
		return "cancelled"
	case Expired:
		return "expired"
	}
	return "pending"
}

// Transaction is one passenger's seat on one order: the unit the paper
// counts. A passenger is a travel document, whatever account booked it.
type Transaction struct {
	// Passenger is the document key, "doc_type:doc_number".
	Passenger string
	// Account is the booking account that placed the order.
	Account int64
	// Train is the service ID (cr:Z66); Date its service date.
	Train string
	Date  network.Date
	// At is when the order was placed.
	At time.Time
	// Outcome is how the transaction ended.
	Outcome Outcome
}
