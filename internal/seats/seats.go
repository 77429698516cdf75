// Package seats is piao's seat inventory and allocation engine for one train
// on one service date: which legs of which seat are sold, how many seats of
// each kind are free between any two stops, and which seat to sell next.
//
// A train with S stops has S-1 legs; leg i runs from stop i to stop i+1
// (0-based stop indexes), and a journey from stop a to stop b (a < b) uses
// legs a..b-1. Seats are sold per leg, so a seat sold Nanchang→Jiujiang is
// free again from Jiujiang onward.
//
// Availability between any two stops is answered in O(1) from counters that
// every sale and release keeps up to date; allocation picks the best-fitting
// seat (see Train.Allocate) in O(stops) without scanning seats.
//
// Requests may also carry seat preferences (SPEC R8): seat letters, a hard
// constraint ("AF", a window seat), and berth positions to try first, a soft
// one (a lower berth for a passenger aged 60 or more). Train.AllocateTogether
// seats a party in one compartment or row of a car, or in as few adjacent
// ones as possible. Requests with preferences take a slower path that scans
// the seats of their kinds.
//
// The package is pure, in-memory domain code: it does no I/O, reads no clock,
// keeps no globals and starts no goroutines. Persisting sold legs and counters
// is the caller's job (Mark loads sold legs back; Counts exports counters).
// A Train is not safe for concurrent use: the caller serialises access to it,
// and can use Clone to try changes on a copy.
package seats

import (
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"strconv"
	"strings"

	"piao/internal/network"
)

// MaxStops is the largest number of stops a Train may have: its legs must fit
// the bits of a Legs.
const MaxStops = 64

// Errors. Errors returned by this package wrap one of them; test with errors.Is.
var (
	// ErrSoldOut means no seat (or no set of distinct seats, for a group) is
	// free for what was asked. Allocate returns it as a SoldOutError.
	ErrSoldOut = errors.New("seats: sold out")
	// ErrBadRequest means the arguments make no sense for the train: a stop,
	// seat or kind it does not have, an empty or backwards journey, no legs.
	ErrBadRequest = errors.New("seats: bad request")
	// ErrAlreadySold means Mark was asked to sell a leg that is already sold.
	ErrAlreadySold = errors.New("seats: leg already sold")
	// ErrNotSold means Release was asked to free a leg that is not sold.
	ErrNotSold = errors.New("seats: leg not sold")
	// ErrNotTogether means AllocateTogether could seat the party, but not in
	// one car within one group or adjacent groups of seats.
	ErrNotTogether = errors.New("seats: party cannot be seated together")
)

// Legs is a set of legs of a train as a bit mask: bit i is leg i, from stop i
// to stop i+1.
type Legs uint64

// Span returns the legs of a journey from stop from to stop to (from < to):
// legs from..to-1. It returns 0 (no legs) if from >= to or either is out of
// 0..MaxStops-1.
func Span(from, to int) Legs {
	if from < 0 || from >= to || to >= MaxStops {
		return 0
	}
	return (Legs(1)<<uint(to) - 1) &^ (Legs(1)<<uint(from) - 1)
}

// Has reports whether leg i is in l.
func (l Legs) Has(i int) bool { return i >= 0 && i < 64 && l&(1<<uint(i)) != 0 }

// Count returns the number of legs in l.
func (l Legs) Count() int { return bits.OnesCount64(uint64(l)) }

// String lists the legs as runs, for messages: "{0,2-4}".
func (l Legs) String() string {
	var b strings.Builder
	b.WriteByte('{')
	for x := uint64(l); x != 0; {
		lo := bits.TrailingZeros64(x)
		hi := lo + bits.TrailingZeros64(^(x >> uint(lo))) // one past the run
		if b.Len() > 1 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(lo))
		if hi-1 > lo {
			b.WriteByte('-')
			b.WriteString(strconv.Itoa(hi - 1))
		}
		if hi >= 64 {
			break
		}
		x &^= uint64(Span(lo, hi))
	}
	b.WriteByte('}')
	return b.String()
}

// Kind is what a passenger buys: a seat class and, for sleepers, a berth
// position (network.NoBerth for seated classes).
type Kind struct {
	Class network.SeatClass `json:"seat_class"`
	Berth network.Berth     `json:"berth,omitempty"`
}

// String returns "class" or "class/berth".
func (k Kind) String() string {
	if k.Berth == network.NoBerth {
		return string(k.Class)
	}
	return string(k.Class) + "/" + string(k.Berth)
}

// Valid reports whether k is a known class with one of its berth positions.
func (k Kind) Valid() bool { return kindCode(k) != 0 }

// SeatInfo describes one seat or berth of a train: its car number, the label
// printed on the ticket, its kind and where it is in the car.
//
// Group is the compartment of a berth or the row of a seat, numbered from 1
// within the car: the unit AllocateTogether keeps a party in. Letter is the
// seat letter of a seated car ("A".."F"), "" for berths. Group 0 and Letter
// "" mean unknown: such a seat never matches a Request's Letters and is a
// group of its own, so AllocateTogether never puts it in a party of two or
// more.
type SeatInfo struct {
	Car    int    `json:"car"`
	Label  string `json:"label"`
	Kind   Kind   `json:"kind"`
	Group  int    `json:"group,omitempty"`
	Letter string `json:"letter,omitempty"`
}

// SeatID addresses a seat of a Train: its index in the slice given to NewTrain.
type SeatID int

// Train is the seat inventory of one train on one service date: the sold legs
// of every seat, the availability counters and the indexes allocation uses.
//
// A Train is not safe for concurrent use. Mark, Release and Allocate must not
// run concurrently with any other call; the other methods only read, so they
// may run concurrently with each other (a sync.RWMutex per train works).
type Train struct {
	stops int
	legs  int  // stops-1
	all   Legs // every leg

	info   []SeatInfo // immutable after NewTrain, shared by clones
	kindOf []int32    // seat → index in kinds; immutable
	local  []int32    // seat → index among its kind's seats; immutable

	sold   []Legs
	kinds  []kindState
	byCode [nkindCodes]int8 // kindCode → index in kinds, -1 if none; immutable

	cars []carGroups // seats with a Group, by car and group; immutable

	order []int    // scratch for Allocate: request order
	prev  []Legs   // scratch for Allocate: sold legs before the group
	masks []uint16 // scratch for Allocate: kinds each request accepts
}

// NewTrain returns the inventory of a train with the given number of stops
// (2..MaxStops) and seats, all free. Seats are addressed by their index in
// seats (SeatID); every seat must have a valid Kind.
func NewTrain(stops int, seats []SeatInfo) (*Train, error) {
	if stops < 2 || stops > MaxStops {
		return nil, fmt.Errorf("%w: a train needs 2 to %d stops, not %d", ErrBadRequest, MaxStops, stops)
	}
	t := &Train{
		stops:  stops,
		legs:   stops - 1,
		all:    Span(0, stops-1),
		info:   slices.Clone(seats),
		kindOf: make([]int32, len(seats)),
		local:  make([]int32, len(seats)),
		sold:   make([]Legs, len(seats)),
	}
	for i := range t.byCode {
		t.byCode[i] = -1
	}
	for i, s := range seats {
		if kindCode(s.Kind) == 0 {
			return nil, fmt.Errorf("%w: seat %d (car %d %s) has an invalid kind %q/%q", ErrBadRequest, i, s.Car, s.Label, s.Kind.Class, s.Kind.Berth)
		}
		ki := t.kindIndex(s.Kind)
		if ki < 0 {
			ki = len(t.kinds)
			t.kinds = append(t.kinds, kindState{kind: s.Kind})
			t.byCode[kindCode(s.Kind)] = int8(ki)
		}
		k := &t.kinds[ki]
		t.kindOf[i] = int32(ki)
		t.local[i] = int32(len(k.seats))
		k.seats = append(k.seats, SeatID(i))
	}
	for ki := range t.kinds {
		t.kinds[ki].init(stops)
	}
	t.cars = groupCars(t.info)
	return t, nil
}

// kindCode numbers the valid kinds 1..nkindCodes-1 and everything else 0.
func kindCode(k Kind) int {
	c := 0
	switch k.Class {
	case network.HardSleeper:
		switch k.Berth {
		case network.Lower:
			c = 1
		case network.Middle:
			c = 2
		case network.Upper:
			c = 3
		}
	case network.SoftSleeper:
		switch k.Berth {
		case network.Lower:
			c = 4
		case network.Upper:
			c = 5
		}
	case network.SecondClass:
		if k.Berth == network.NoBerth {
			c = 6
		}
	case network.FirstClass:
		if k.Berth == network.NoBerth {
			c = 7
		}
	case network.Business:
		if k.Berth == network.NoBerth {
			c = 8
		}
	}
	return c
}

// nkindCodes bounds kindCode; it is also one more than the most kinds a
// train can have.
const nkindCodes = 9

// kindIndex returns the index of kind k in t.kinds, or -1.
func (t *Train) kindIndex(k Kind) int {
	return int(t.byCode[kindCode(k)])
}

// classMask returns the kinds of a class the train has, as a bit mask over
// t.kinds.
func (t *Train) classMask(c network.SeatClass) uint16 {
	var m uint16
	for _, b := range c.Berths() {
		if ki := t.kindIndex(Kind{c, b}); ki >= 0 {
			m |= 1 << uint(ki)
		}
	}
	return m
}

// Stops returns the number of stops of the train.
func (t *Train) Stops() int { return t.stops }

// Len returns the number of seats of the train.
func (t *Train) Len() int { return len(t.info) }

// Seat returns what seat id is. It panics if id is not a seat of the train.
func (t *Train) Seat(id SeatID) SeatInfo { return t.info[id] }

// Sold returns the sold legs of seat id. It panics if id is not a seat of the
// train.
func (t *Train) Sold(id SeatID) Legs { return t.sold[id] }

// Free reports whether seat id is free on every leg from stop from to stop
// to; false for a seat or journey the train does not have.
func (t *Train) Free(id SeatID, from, to int) bool {
	span := t.span(from, to)
	return span != 0 && id >= 0 && int(id) < len(t.sold) && t.sold[id]&span == 0
}

// Kinds returns the kinds of seat the train has, in order of first appearance
// among its seats.
func (t *Train) Kinds() []Kind {
	out := make([]Kind, len(t.kinds))
	for i := range t.kinds {
		out[i] = t.kinds[i].kind
	}
	return out
}

// span returns Span(from, to) if it is a journey on this train, else 0.
func (t *Train) span(from, to int) Legs {
	if from < 0 || from >= to || to >= t.stops {
		return 0
	}
	return Span(from, to)
}

// Available returns how many seats of kind k are free on every leg from stop
// from to stop to, or 0 if the train has no such kind or journey. It is O(1).
func (t *Train) Available(k Kind, from, to int) int {
	if from < 0 || from >= to || to >= t.stops {
		return 0
	}
	ki := t.kindIndex(k)
	if ki < 0 {
		return 0
	}
	return int(t.kinds[ki].counts[from*t.stops+to])
}

// AvailableClass returns how many seats of any berth of a class are free on
// every leg from stop from to stop to.
func (t *Train) AvailableClass(class network.SeatClass, from, to int) int {
	if from < 0 || from >= to || to >= t.stops {
		return 0
	}
	n := 0
	for m := t.classMask(class); m != 0; m &= m - 1 {
		n += int(t.kinds[bits.TrailingZeros16(m)].counts[from*t.stops+to])
	}
	return n
}

// Counts returns a copy of the availability counters of kind k, for storing:
// a stops×stops matrix in row-major order whose element [from*stops+to] is
// Available(k, from, to) for from < to and 0 elsewhere. It returns nil if the
// train has no seat of kind k.
func (t *Train) Counts(k Kind) []int32 {
	ki := t.kindIndex(k)
	if ki < 0 {
		return nil
	}
	return slices.Clone(t.kinds[ki].counts)
}

// checkSeat validates a seat id and a set of legs for Mark and Release.
func (t *Train) checkSeat(id SeatID, legs Legs) error {
	if id < 0 || int(id) >= len(t.sold) {
		return fmt.Errorf("%w: seat %d: the train has seats 0..%d", ErrBadRequest, id, len(t.sold)-1)
	}
	if legs == 0 || legs&^t.all != 0 {
		return fmt.Errorf("%w: seat %d: legs %v: the train has legs 0..%d", ErrBadRequest, id, legs, t.legs-1)
	}
	return nil
}

// Mark sells the given legs of seat id. It is how sold seats are loaded back
// from storage and how Allocate sells. It fails, changing nothing, with
// ErrAlreadySold if any of those legs is already sold, and with ErrBadRequest
// for a seat or legs the train does not have or no legs at all.
func (t *Train) Mark(id SeatID, legs Legs) error {
	if err := t.checkSeat(id, legs); err != nil {
		return err
	}
	old := t.sold[id]
	if old&legs != 0 {
		s := t.info[id]
		return fmt.Errorf("%w: car %d seat %s (%d): legs %v", ErrAlreadySold, s.Car, s.Label, id, old&legs)
	}
	t.set(id, old|legs)
	return nil
}

// Release frees the given legs of seat id (a refund, a cancelled or expired
// hold). It fails, changing nothing, with ErrNotSold if any of those legs is
// not sold, and with ErrBadRequest for a seat or legs the train does not have
// or no legs at all.
func (t *Train) Release(id SeatID, legs Legs) error {
	if err := t.checkSeat(id, legs); err != nil {
		return err
	}
	old := t.sold[id]
	if legs&^old != 0 {
		s := t.info[id]
		return fmt.Errorf("%w: car %d seat %s (%d): legs %v", ErrNotSold, s.Car, s.Label, id, legs&^old)
	}
	t.set(id, old&^legs)
	return nil
}

// set changes the sold legs of seat id to now, keeping the counters and the
// free-run index of its kind up to date.
func (t *Train) set(id SeatID, now Legs) {
	old := t.sold[id]
	if old == now {
		return
	}
	t.sold[id] = now
	k := &t.kinds[t.kindOf[id]]
	changed := uint64(old ^ now)
	lo := bits.TrailingZeros64(changed)
	hi := 63 - bits.LeadingZeros64(changed)
	// Seat free on [i,j) ⇔ j ≤ nextSold(i). Only origins i whose first sold
	// leg at or after i can move are visited: from one past the last leg below
	// lo sold both before and after, up to the highest changed leg.
	below := uint64(old&now) & (1<<uint(lo) - 1)
	S := t.stops
	for i := 64 - bits.LeadingZeros64(below); i <= hi; i++ {
		nb, na := t.nextSold(old, i), t.nextSold(now, i)
		row := k.counts[i*S : i*S+S]
		if na < nb {
			for j := na + 1; j <= nb; j++ {
				row[j]--
			}
		} else {
			for j := nb + 1; j <= na; j++ {
				row[j]++
			}
		}
	}
	k.moveRuns(t.local[id], ^old&t.all, ^now&t.all, t.legs)
}

// nextSold returns the first sold leg in m at or after leg i, or t.legs if
// there is none: the stop at which a seat with sold legs m, boarded at stop
// i, must be left.
func (t *Train) nextSold(m Legs, i int) int {
	x := uint64(m) >> uint(i)
	if x == 0 {
		return t.legs
	}
	return i + bits.TrailingZeros64(x)
}

// SeatsFromCars lists the seats of a train made of the given cars, in car
// order and, within a car, in the order of its car type's layout — the
// SeatInfo slice NewTrain wants, with Group the compartment of a berth or the
// row of a seat and Letter the letter of a seat. Every car's type must be
// among types.
func SeatsFromCars(cars []network.Car, types []network.CarType) ([]SeatInfo, error) {
	var out []SeatInfo
	for _, c := range cars {
		i := slices.IndexFunc(types, func(ct network.CarType) bool { return ct.Code == c.CarType })
		if i < 0 {
			return nil, fmt.Errorf("%w: car %d has unknown car type %q", ErrBadRequest, c.No, c.CarType)
		}
		ct := types[i]
		for _, s := range ct.Seats {
			si := SeatInfo{Car: c.No, Label: s.Label, Kind: Kind{Class: ct.SeatClass, Berth: s.Berth}}
			if s.Berth != network.NoBerth {
				si.Group = s.Compartment
			} else {
				si.Group, si.Letter = s.Row, s.Letter
			}
			out = append(out, si)
		}
	}
	return out, nil
}
