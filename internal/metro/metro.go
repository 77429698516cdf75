// Package metro is the clearing side of "ride first, pay later" (SPEC M2,
// M3): gate taps paired into trips, each trip priced from the OD fare
// table, and the ledger line of a settled trip. It does no I/O.
package metro

import "time"

// Direction is which way a tap goes through the gate.
type Direction string

// Tap directions.
const (
	In  Direction = "in"
	Out Direction = "out"
)

// Tap is one reading at a gate. The gate gives it an ID unique across the
// network; taps are idempotent by it.
type Tap struct {
	ID      string    `json:"id"`
	Feed    string    `json:"feed"`
	Account int64     `json:"account"`
	Station string    `json:"station"`
	Gate    string    `json:"gate,omitempty"`
	Dir     Direction `json:"dir"`
	At      time.Time `json:"at"`
	// Code is the ride code's serial (M1) or "" when the gate did not
	// read one; it is kept for audit, pairing does not look at it.
	Code string `json:"code,omitempty"`
}

// TripStatus says how a trip's taps came out.
type TripStatus string

// Trip statuses: complete, or one of the incomplete-trip rules.
const (
	Complete    TripStatus = "complete"     // a tap-in and a tap-out at another station
	NoExit      TripStatus = "no_exit"      // a tap-in and no tap-out
	NoEntry     TripStatus = "no_entry"     // a tap-out with no tap-in before it
	SameStation TripStatus = "same_station" // left where it entered
	Overtime    TripStatus = "overtime"     // out later than the time allowed
)

// Trip is one journey cleared from taps. Its ID is derived from the tap
// that opened it (the tap-in, or the tap-out of a trip with no entry), so
// clearing the same taps again gives the same trips.
type Trip struct {
	ID string `json:"id"`
	// Seq is the store's order of trips, set when stored (0 before).
	Seq     int64      `json:"seq,omitempty"`
	Feed    string     `json:"feed"`
	Account int64      `json:"account"`
	Status  TripStatus `json:"status"`
	// From and To are the entry and exit stations; one of them is ""
	// for no_exit and no_entry.
	From     string    `json:"from,omitempty"`
	To       string    `json:"to,omitempty"`
	FromLine string    `json:"from_line,omitempty"`
	ToLine   string    `json:"to_line,omitempty"`
	InTap    string    `json:"in_tap,omitempty"`
	OutTap   string    `json:"out_tap,omitempty"`
	Entered  time.Time `json:"entered,omitzero"`
	Exited   time.Time `json:"exited,omitzero"`
	Metres   int       `json:"metres"`
	// Fare is what the trip costs before benefits, by the fare table and
	// the incomplete-trip rules, in fen.
	Fare int64 `json:"fare"`
}

// At is when the trip began: its entry, or its exit when it has none.
func (t Trip) At() time.Time {
	if t.Entered.IsZero() {
		return t.Exited
	}
	return t.Entered
}
