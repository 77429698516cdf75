package network

import "fmt"

// SleeperLayout builds a sleeper car: compartments × the given berths × 2
// sides. Berths are numbered per side as on Chinese tickets: compartment 1
// holds numbers 01 and 02, each with its stack of berths ("01L", "01M", "01U").
func SleeperLayout(code string, class SeatClass, zh, en string, compartments int, berths []Berth) CarType {
	ct := CarType{Code: code, SeatClass: class, NameZH: zh, NameEN: en}
	for c := 1; c <= compartments; c++ {
		for side := 0; side < 2; side++ {
			n := 2*(c-1) + side + 1
			for _, b := range berths {
				ct.Seats = append(ct.Seats, Seat{Label: fmt.Sprintf("%02d%s", n, berthLetter(b)), Compartment: c, Berth: b})
			}
		}
	}
	return ct
}

func berthLetter(b Berth) string {
	switch b {
	case Lower:
		return "L"
	case Middle:
		return "M"
	case Upper:
		return "U"
	}
	return ""
}

// SeatLayout builds a seated car of rows × letters ("05A").
func SeatLayout(code string, class SeatClass, zh, en string, rows int, letters string) CarType {
	ct := CarType{Code: code, SeatClass: class, NameZH: zh, NameEN: en}
	for r := 1; r <= rows; r++ {
		for _, l := range letters {
			ct.Seats = append(ct.Seats, Seat{Label: fmt.Sprintf("%02d%c", r, l), Row: r, Letter: string(l)})
		}
	}
	return ct
}

// StandardCarTypes are the default layouts: hard sleeper 11 compartments ×
// lower/middle/upper × 2 sides (66), soft sleeper 9 × lower/upper × 2 (36),
// second class rows A B C D F, first class A C D F, business A C F.
func StandardCarTypes() []CarType {
	return []CarType{
		SleeperLayout("YW", HardSleeper, "硬卧车", "Hard sleeper", 11, []Berth{Lower, Middle, Upper}),
		SleeperLayout("RW", SoftSleeper, "软卧车", "Soft sleeper", 9, []Berth{Lower, Upper}),
		SeatLayout("ZE", SecondClass, "二等座车", "Second class", 18, "ABCDF"),
		SeatLayout("ZY", FirstClass, "一等座车", "First class", 13, "ACDF"),
		SeatLayout("SW", Business, "商务座车", "Business class", 8, "ACF"),
	}
}

// Berths returns the berth positions a seat class has ("" for seated classes).
func (c SeatClass) Berths() []Berth {
	switch c {
	case HardSleeper:
		return []Berth{Lower, Middle, Upper}
	case SoftSleeper:
		return []Berth{Lower, Upper}
	}
	return []Berth{NoBerth}
}

// Valid reports whether c is a known seat class.
func (c SeatClass) Valid() bool {
	switch c {
	case HardSleeper, SoftSleeper, SecondClass, FirstClass, Business:
		return true
	}
	return false
}
