package metro

import (
	"time"

	"piao/internal/fault"
)

// Charge says what an incomplete trip costs, in terms of the fare table.
type Charge string

// Charges an incomplete-trip rule can make.
const (
	ChargeNone       Charge = "none"        // nothing
	ChargeBase       Charge = "base"        // the network's lowest fare
	ChargeStationMax Charge = "station_max" // the highest fare from (or to) the trip's known station
	ChargeNetworkMax Charge = "network_max" // the highest fare on the network
)

func (c Charge) valid() bool {
	switch c {
	case ChargeNone, ChargeBase, ChargeStationMax, ChargeNetworkMax:
		return true
	}
	return false
}

// amount is what the charge comes to for a trip whose known station is st
// (the entry for a trip with no exit, the exit for one with no entry).
func (c Charge) amount(ft *FareTable, st int32, from bool) int64 {
	switch c {
	case ChargeBase:
		return ft.BaseFare()
	case ChargeStationMax:
		if from {
			return ft.MaxFareFrom(st)
		}
		return ft.MaxFareTo(st)
	case ChargeNetworkMax:
		return ft.MaxFare()
	}
	return 0
}

// Rules are the incomplete-trip rules of a metro operator (SPEC M2). The
// zero value is not valid; start from DefaultRules.
type Rules struct {
	// MaxTrip is the longest a journey may last from tap-in to tap-out
	// before it is overtime.
	MaxTrip time.Duration `json:"max_trip"`
	// Grace is how long past MaxTrip a tap-out still closes the trip (as
	// overtime). A tap-in with no tap-out within MaxTrip+Grace is a trip
	// with no exit, and a later tap-out is a trip with no entry; it is
	// also how long a streaming caller waits before a lone tap-in is final.
	Grace time.Duration `json:"grace"`
	// NoExit is what a tap-in with no tap-out costs.
	NoExit Charge `json:"no_exit"`
	// NoEntry is what a tap-out with no tap-in before it costs.
	NoEntry Charge `json:"no_entry"`
	// SameStationFreeWithin is how soon a rider may leave by the station
	// they entered for nothing (0: never free).
	SameStationFreeWithin time.Duration `json:"same_station_free_within"`
	// SameStation is what leaving by the entry station costs after
	// SameStationFreeWithin (and within MaxTrip).
	SameStation Charge `json:"same_station"`
	// Overtime is the surcharge added to the fare of a journey longer
	// than MaxTrip (the OD fare, or the same-station charge).
	Overtime Charge `json:"overtime"`
}

// DefaultRules returns the rules a Chinese metro typically applies.
//
//   - MaxTrip 4 h: the in-station time limit most Chinese metros publish
//     (Beijing and Shanghai among them).
//   - Overtime: the OD fare plus the network's highest single fare, as
//     Beijing and Shanghai charge an overtime exit (补交线网单程最高票价).
//   - NoExit: the highest fare from the entry station, and NoEntry: the
//     highest fare to the exit station — the usual charge of Chinese
//     ride-code and card systems for a journey whose other end is missing
//     (check the operator's current tariff): the rider is never charged
//     less than any journey they could have made.
//   - SameStation: free within 20 minutes (a rider who entered by mistake
//     or turned back), then the base fare; most Chinese metros charge the
//     base fare for a same-station exit and several give a short free
//     window like this one.
//   - Grace 1 h: ours, not a city's; it bounds how late a tap-out still
//     closes a journey and so how long a lone tap-in stays pending.
func DefaultRules() Rules {
	return Rules{
		MaxTrip:               4 * time.Hour,
		Grace:                 time.Hour,
		NoExit:                ChargeStationMax,
		NoEntry:               ChargeStationMax,
		SameStationFreeWithin: 20 * time.Minute,
		SameStation:           ChargeBase,
		Overtime:              ChargeNetworkMax,
	}
}

// Window is how long after a tap-in a tap-out still closes its trip: MaxTrip plus Grace.
func (r Rules) Window() time.Duration { return r.MaxTrip + r.Grace }

// Validate checks that the durations are sensible and every charge is known.
func (r Rules) Validate() error {
	if r.MaxTrip <= 0 {
		return fault.New(fault.Invalid, "max_trip_not_positive", "最长乘车时间必须为正", "the longest journey time must be positive")
	}
	if r.Grace < 0 {
		return fault.New(fault.Invalid, "grace_negative", "宽限时间不能为负", "the grace period cannot be negative")
	}
	if r.SameStationFreeWithin < 0 || r.SameStationFreeWithin > r.MaxTrip {
		return fault.New(fault.Invalid, "same_station_window_invalid", "同站进出免费时间必须在零到最长乘车时间之间", "the free same-station window must be between zero and the longest journey time")
	}
	for _, c := range []struct {
		name string
		c    Charge
	}{{"no_exit", r.NoExit}, {"no_entry", r.NoEntry}, {"same_station", r.SameStation}, {"overtime", r.Overtime}} {
		if !c.c.valid() {
			return fault.Newf(fault.Invalid, "charge_unknown", "规则 %s 的收费方式 %q 未知", "rule %s has an unknown charge %q", c.name, string(c.c))
		}
	}
	return nil
}
